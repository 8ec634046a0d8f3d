// Muon's Newton–Schulz orthogonalisation (assembly/muon.ts) against a float64 reference.
import { test } from "node:test";
import assert from "node:assert/strict";
import { abi } from "./helpers.js";
import { Rng } from "../src/rng.js";
import { singularValues } from "../src/observe.js";
import { nsRef } from "./ref.js";
import { prepare } from "../src/run.js";
import { cfg } from "./helpers.js";

type NS = { newtonSchulz(x: number, R: number, C: number, A: number, B: number, T: number, steps: number): void };
const ns = () => abi() as unknown as NS;
/** Run the wasm kernel on X (R × C), returning a copy of the result. */
function nsWasm(X: Float32Array, R: number, C: number, steps: number): Float32Array {
  const w = abi();
  w.setup(2, 4, 4, 2, 2, 0);
  const floats = R * C + 2 * R * R + R * C;
  const ptr = w.scratch(floats * 4 + 64);
  const px = ptr,
    pA = px + 4 * R * C,
    pB = pA + 4 * R * R,
    pT = pB + 4 * R * R;
  new Float32Array(w.memory.buffer, px, R * C).set(X);
  // poison the scratch so the kernel must not rely on it being zero
  new Float32Array(w.memory.buffer, pA, 2 * R * R + R * C).fill(NaN);
  ns().newtonSchulz(px, R, C, pA, pB, pT, steps);
  return new Float32Array(w.memory.buffer, px, R * C).slice();
}

/** An R × C matrix whose top-left r × c block is Gaussian and the rest zero padding. */
function padded(rng: Rng, R: number, C: number, r: number, cc: number, scale = 1): Float32Array {
  const X = new Float32Array(R * C),
    v = rng.normals(r * cc, scale);
  for (let i = 0; i < r; i++) for (let j = 0; j < cc; j++) X[i * C + j] = v[i * cc + j];
  return X;
}

const block = (X: ArrayLike<number>, C: number, r: number, cc: number) =>
  Float64Array.from({ length: r * cc }, (_, k) => X[Math.floor(k / cc) * C + (k % cc)]);

function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num / den);
}

test("newtonSchulz matches a float64 reference (≤ 1e-4 relative) and keeps padding exactly 0", () => {
  const rng = new Rng(7, 3);
  // [R, C, live rows, live cols, scale]
  for (const [R, C, r, cc, scale] of [
    [4, 8, 4, 8, 1],
    [8, 8, 8, 8, 0.01],
    [12, 20, 10, 17, 3],
    [60, 256, 57, 250, 0.05],
    [16, 16, 13, 13, 1],
  ]) {
    const X = padded(rng, R, C, r, cc, scale);
    for (const steps of [0, 1, 5]) {
      const got = nsWasm(X, R, C, steps),
        want = nsRef(X, R, C, steps);
      const e = relErr(got, want);
      assert.ok(e <= 1e-4, `R=${R} C=${C} steps=${steps}: relative error ${e}`);
      for (let i = 0; i < R; i++)
        for (let j = 0; j < C; j++) {
          if (i >= r || j >= cc)
            assert.ok(Object.is(got[i * C + j], 0), `R=${R} C=${C} padding (${i}, ${j}) = ${got[i * C + j]}`);
        }
    }
  }
});

test("after 5 steps the singular values lie in [0.6, 1.25]; zero singular values stay ≈ 0", () => {
  const rng = new Rng(11, 5);
  // well conditioned: Gaussian with rows ≤ cols/4 (σmax/σmin ≈ 3)
  for (const [R, C, r, cc] of [
    [16, 64, 16, 64],
    [60, 256, 57, 250],
    [8, 32, 6, 29],
  ]) {
    const X = padded(rng, R, C, r, cc);
    const sv = singularValues(block(nsWasm(X, R, C, 5), C, r, cc), r, cc);
    for (const s of sv)
      assert.ok(s >= 0.6 && s <= 1.25, `R=${R} C=${C}: σ = ${s} (all: ${[...sv].map((v) => v.toFixed(3))})`);
  }
  // rank 5 in a 20 × 48 block (padded to 24 × 52): 5 σ near 1, 15 stay near 0
  const R = 24,
    C = 52,
    r = 20,
    cc = 48,
    k = 5;
  const U = rng.normals(r * k, 1),
    V = rng.normals(k * cc, 1),
    X = new Float32Array(R * C);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < cc; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += U[i * k + t] * V[t * cc + j];
      X[i * C + j] = s;
    }
  const sv = singularValues(block(nsWasm(X, R, C, 5), C, r, cc), r, cc);
  for (let i = 0; i < k; i++) assert.ok(sv[i] >= 0.6 && sv[i] <= 1.25, `rank-deficient: σ${i} = ${sv[i]}`);
  for (let i = k; i < r; i++) assert.ok(sv[i] < 1e-3, `rank-deficient: σ${i} = ${sv[i]} should stay ≈ 0`);
});

test("newtonSchulz is deterministic: two calls give bit-identical output", () => {
  const rng = new Rng(13, 1);
  for (const [R, C] of [
    [12, 20],
    [60, 256],
    [64, 64],
  ]) {
    const X = padded(rng, R, C, R - 2, C - 3);
    const x1 = nsWasm(X, R, C, 5),
      x2 = nsWasm(X, R, C, 5);
    assert.deepEqual(new Uint32Array(x1.buffer), new Uint32Array(x2.buffer), `R=${R} C=${C}`);
  }
});

// The optimizer: Muon on the 2-D matrices (the MLP's W1 as its logical 2d × H, W2 as H × p),
// AdamW on E and the biases; one step from zero momentum against a float64 mirror.
test(
  "muon optimizer: one step = NS5 of the Nesterov-mixed gradient, RMS-matched, decoupled decay; " + "AdamW elsewhere",
  () => {
    const mu = 0.95,
      lr = 3e-3,
      wd = 0.5;
    const c0 = cfg({ optim: "muon", lr, wd, p: 11, d: 6, H: 10 });
    assert.equal(c0.momentum, 0.95); // Muon's default momentum
    const { net } = prepare(abi(), c0);
    const w0 = net.params();
    abi().gradient();
    const g = net.params(7);
    abi().advance(1);
    const w1 = net.params();
    for (const [name, rows, cols] of [
      ["W1", 12, 10],
      ["W2", 10, 11],
    ] as const) {
      const tr = rows > cols,
        R = tr ? cols : rows,
        C = tr ? rows : cols;
      const u = new Float64Array(R * C); // (1 − μ)g + μ·m with m = (1 − μ)g after one step
      for (let r = 0; r < rows; r++)
        for (let q = 0; q < cols; q++) {
          const x = g[name][r * cols + q] * (1 - mu) * (1 + mu);
          u[tr ? q * C + r : r * C + q] = x;
        }
      const o = nsRef(u, R, C, 5),
        scale = lr * 0.2 * Math.sqrt(Math.max(rows, cols));
      let num = 0,
        den = 0;
      for (let r = 0; r < rows; r++)
        for (let q = 0; q < cols; q++) {
          const want = w0[name][r * cols + q] * (1 - lr * wd) - scale * o[tr ? q * C + r : r * C + q];
          const stepGot = w1[name][r * cols + q] - w0[name][r * cols + q] * (1 - lr * wd),
            stepWant = want - w0[name][r * cols + q] * (1 - lr * wd);
          num += (stepGot - stepWant) ** 2;
          den += stepWant ** 2;
        }
      assert.ok(Math.sqrt(num / den) < 1e-4, `${name}: relative step error ${Math.sqrt(num / den)}`);
    }
    // E and the biases: AdamW's first step is −lr·g/(|g| + ε) per coordinate (plus decay on E)
    for (const name of ["E", "b1", "b2"]) {
      const decay = name === "E" ? 1 - lr * wd : 1;
      w1[name].forEach((x, i) => {
        const step = x - w0[name][i] * decay,
          want = (-lr * g[name][i]) / (Math.abs(g[name][i]) + 1e-8);
        assert.ok(Math.abs(step - want) < 1e-3 * lr, `${name}[${i}]: step ${step} vs ${want}`);
      });
    }
  },
);
