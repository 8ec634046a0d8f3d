// Spectral observables: the eigen-solver, entropy/effective rank, Fourier Gini, and the curve columns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { symEigenvalues, singularValues, spectralEntropy, gini, fourierGini, OBSERVABLES } from "../src/observe.js";
import { Rng } from "../src/rng.js";
import { cli, tmp, GROKS } from "./helpers.js";

test("Jacobi eigenvalues: Q·diag(λ)·Qᵀ gives back λ; singular values of u·vᵀ are [‖u‖‖v‖, 0, …]", () => {
  const n = 6,
    lambda = [9, 4, 2.5, 1, -0.5, -3];
  // Q from Gram–Schmidt of a seeded random matrix
  const rng = new Rng(7, 7),
    Q: number[][] = [];
  for (let i = 0; i < n; i++) {
    let v = Array.from({ length: n }, () => rng.normal());
    for (const q of Q) {
      const dot = v.reduce((s, x, k) => s + x * q[k], 0);
      v = v.map((x, k) => x - dot * q[k]);
    }
    const norm = Math.hypot(...v);
    Q.push(v.map((x) => x / norm));
  }
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) A[i * n + j] = lambda.reduce((s, l, k) => s + Q[k][i] * l * Q[k][j], 0);
  const got = symEigenvalues(A, n);
  lambda.forEach((l, i) => assert.ok(Math.abs(got[i] - l) < 1e-10, `${got[i]} vs ${l}`));
  const u = [1, 2, 3, 4, 5],
    v = [2, -1, 0.5];
  const sv = singularValues(Float32Array.from(u.flatMap((a) => v.map((b) => a * b))), 5, 3);
  assert.ok(Math.abs(sv[0] - Math.hypot(...u) * Math.hypot(...v)) < 1e-5);
  assert.ok(sv[1] < 1e-5 && sv[2] < 1e-5);
  assert.ok(spectralEntropy(sv).effectiveRank < 1.0001);
  // E with orthogonal equal-norm columns: all singular values equal, effective rank = d
  const I = new Float32Array(8 * 4);
  for (let k = 0; k < 4; k++) I[k * 4 + k] = 3;
  const e = spectralEntropy(singularValues(I, 8, 4));
  assert.ok(Math.abs(e.entropy - Math.log(4)) < 1e-9 && Math.abs(e.effectiveRank - 4) < 1e-8);
});

test("Gini: 0 for equal values, (n−1)/n for one non-zero; Fourier Gini high for one frequency, low for noise", () => {
  assert.equal(gini([2, 2, 2, 2]), 0);
  assert.ok(Math.abs(gini([0, 0, 0, 5]) - 0.75) < 1e-12);
  const p = 59,
    d = 16,
    k0 = 7;
  const wave = Float32Array.from({ length: p * d }, (_, i) =>
    Math.cos((2 * Math.PI * k0 * Math.floor(i / d)) / p + (i % d)),
  );
  assert.ok(fourierGini(wave, p, d) > 0.95, `pure frequency ${fourierGini(wave, p, d)}`);
  const noise = new Rng(3, 9).normals(p * d, 1);
  assert.ok(fourierGini(noise, p, d) < 0.4, `noise ${fourierGini(noise, p, d)}`);
});

test(
  "--observe spectral,fourier fills the curve columns (null without it); " +
    "the Fourier Gini rises as the network groks",
  () => {
    const args = [
      "run",
      "--p",
      String(GROKS.p),
      "--d",
      String(GROKS.d),
      "--H",
      String(GROKS.H),
      "--frac",
      String(GROKS.frac),
      "--lr",
      String(GROKS.lr),
      "--max-steps",
      "2500",
    ];
    const a = tmp(),
      b = tmp();
    assert.equal(cli([...args, "--observe", "spectral,fourier", "--out", a]).code, 0);
    assert.equal(cli([...args, "--out", b]).code, 0);
    const on = [...tableFromIPC(readFileSync(join(a, "curves.arrow")))],
      off = [...tableFromIPC(readFileSync(join(b, "curves.arrow")))];
    assert.ok(on.every((r) => r.spectral_entropy !== null && r.effective_rank !== null && r.fourier_gini !== null));
    assert.ok(on.every((r) => r.spec_entropy_W2 > 0 && r.spec_entropy_W2 <= Math.log(GROKS.p) + 1e-6));
    assert.ok(off.every((r) => r.spectral_entropy === null && r.fourier_gini === null && r.spec_entropy_W2 === null));
    assert.deepEqual(
      on.map((r) => r.test_acc),
      off.map((r) => r.test_acc),
    ); // observing changes nothing else
    assert.ok(on.at(-1)!.fourier_gini > on[0].fourier_gini + 0.2, `${on[0].fourier_gini} → ${on.at(-1)!.fourier_gini}`);
    const bad = cli(["run", "--observe", "svd"]);
    assert.equal(bad.code, 2);
    assert.ok(
      bad.stderr.includes(`--observe: expected a comma-separated subset of ${OBSERVABLES.join(",")}, got "svd"`),
    );
  },
);

// PROTOCOL.md's definitions in float64, written out directly: the references for the tests below
function entropyRef(sv: number[]): number {
  const s2 = sv.map((s) => s * s),
    total = s2.reduce((a, b) => a + b, 0);
  return -s2.reduce((h, x) => (x > 0 ? h + (x / total) * Math.log(x / total) : h), 0);
}
function fourierGiniRef(E: ArrayLike<number>, p: number, d: number): number {
  const P: number[] = [];
  for (let k = 1; k <= Math.floor(p / 2); k++) {
    let pk = 0;
    for (let j = 0; j < d; j++) {
      let re = 0,
        im = 0;
      for (let a = 0; a < p; a++) {
        re += E[a * d + j] * Math.cos((2 * Math.PI * k * a) / p);
        im -= E[a * d + j] * Math.sin((2 * Math.PI * k * a) / p);
      }
      pk += re * re + im * im;
    }
    P.push(pk);
  }
  const x = P.sort((a, b) => a - b),
    n = x.length,
    total = x.reduce((a, b) => a + b, 0);
  return (2 * x.reduce((acc, v, i) => acc + (i + 1) * v, 0)) / (n * total) - (n + 1) / n;
}

test("spectral entropy uses pᵢ = σᵢ²/Σσ²: known singular values, and an isotropic random E near ln d", () => {
  const s = [5, 3, 1, 0.5],
    p = 7,
    d = 4;
  const D = new Float32Array(p * d);
  s.forEach((x, i) => (D[i * d + i] = x));
  const e = spectralEntropy(singularValues(D, p, d));
  assert.ok(Math.abs(e.entropy - entropyRef(s)) < 1e-9, `${e.entropy} vs ${entropyRef(s)}`);
  assert.ok(Math.abs(e.entropy - entropyRef(s.map(Math.sqrt))) > 0.1, "σ-weighted entropy would differ");
  assert.ok(Math.abs(e.effectiveRank - Math.exp(entropyRef(s))) < 1e-8);
  const iso = new Rng(11, 2).normals(4000 * 8, 1);
  const h = spectralEntropy(singularValues(iso, 4000, 8)).entropy;
  assert.ok(h > Math.log(8) - 0.01 && h <= Math.log(8) + 1e-12, `isotropic: ${h} vs ln 8 = ${Math.log(8)}`);
});

test("Fourier Gini over the rfft bins k = 1 … ⌊p/2⌋ equals the float64 formula; one frequency gives (n−1)/n", () => {
  for (const [p, d, seed] of [
    [59, 16, 1],
    [23, 5, 2],
    [24, 3, 3],
  ]) {
    const E = new Rng(seed, 4).normals(p * d, 1);
    const got = fourierGini(E, p, d),
      ref = fourierGiniRef(E, p, d);
    assert.ok(Math.abs(got - ref) < 1e-9, `p ${p}: ${got} vs ${ref}`);
  }
  // a pure frequency k0 plus a constant (dropped with k = 0): all power in one of ⌊p/2⌋ bins
  const p = 59,
    d = 6,
    k0 = 11,
    n = Math.floor(p / 2);
  const wave = Float32Array.from(
    { length: p * d },
    (_, i) => 3 + Math.cos((2 * Math.PI * k0 * Math.floor(i / d)) / p + (i % d)),
  );
  assert.ok(Math.abs(fourierGini(wave, p, d) - (n - 1) / n) < 1e-6, `${fourierGini(wave, p, d)}`);
});
