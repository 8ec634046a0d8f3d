// Each wasm kernel against a plain scalar TypeScript implementation, for every kernel build (strict and,
// where this machine fuses relaxed_madd, fma).
import { test } from "node:test";
import assert from "node:assert/strict";
import { abi as abiOf, BUILDS } from "./helpers.js";
import { gemmRef } from "../src/kernels.js";
import { Rng } from "../src/rng.js";
import { erf64, gelu64, geluGrad64 } from "./ref.js";

const f = Math.fround;

for (const build of BUILDS) {
  const abi = () => abiOf(build.name),
    fused = build.name === "fma",
    k = ` [${build.name}]`;

  function scratch(floats: number): { ptr: number; view: () => Float32Array } {
    const a = abi();
    a.setup(2, 4, 4, 2, 2, 0);
    const ptr = a.scratch(floats * 4 + 64);
    return { ptr, view: () => new Float32Array(a.memory.buffer, ptr, floats) };
  }

  test("gemm (A·B and Aᵀ·B, all block tails, accumulate) equals the scalar float32 reference bit for bit" + k, () => {
    const rng = new Rng(1, 99);
    for (const [M, K, N] of [
      [1, 1, 4],
      [3, 5, 12],
      [7, 300, 20],
      [2, 17, 16],
      [33, 260, 60],
      [5, 0, 8],
      [61, 131, 44],
      [13, 7, 28],
    ]) {
      for (const transA of [false, true]) {
        for (const acc of [false, true]) {
          const { ptr, view } = scratch(M * K + K * N + M * N);
          const A = rng.normals(M * K, 1),
            B = rng.normals(K * N, 1),
            C0 = rng.normals(M * N, 1);
          const v = view();
          v.set(A, 0);
          v.set(B, M * K);
          v.set(C0, M * K + K * N);
          const pa = ptr,
            pb = ptr + 4 * M * K,
            pc = ptr + 4 * (M * K + K * N);
          if (transA) abi().testGemmTN(pc, pa, pb, K, M, N, acc ? 1 : 0);
          else abi().testGemmNN(pc, pa, pb, M, K, N, acc ? 1 : 0);
          const got = view().slice(M * K + K * N);
          assert.deepEqual(
            got,
            gemmRef(A, B, M, K, N, fused, transA, acc ? C0 : null),
            `M=${M} K=${K} N=${N} transA=${transA} acc=${acc}`,
          );
        }
      }
    }
  });

  function elementwise(
    xs: number[],
    run: (out: number, aux: number, x: number, n: number) => void,
  ): [Float32Array, Float32Array] {
    const n = (xs.length + 3) & ~3;
    const { ptr, view } = scratch(3 * n);
    view().set(xs, 2 * n);
    run(ptr, ptr + 4 * n, ptr + 8 * n, n);
    const v = view();
    return [v.slice(0, xs.length), v.slice(n, n + xs.length)];
  }

  const grid = (lo: number, hi: number, n: number) =>
    Array.from({ length: n }, (_, i) => f(lo + ((hi - lo) * i) / (n - 1)));

  test("exp4 matches Math.exp to 2 ulp, is 0 below the normal range and exact at 0" + k, () => {
    const xs = [...grid(-87, 88, 4001), 0, -100, -1e30];
    const [got] = elementwise(xs, (o, _a, x, n) => abi().testExp(o, x, n));
    for (let i = 0; i < xs.length; i++) {
      const want = xs[i] < -87.33654 ? 0 : Math.exp(xs[i]);
      if (want === 0) {
        assert.equal(got[i], 0);
        continue;
      }
      assert.ok(Math.abs(got[i] - want) / want < 2.5e-7, `exp(${xs[i]}) = ${got[i]}, want ${want}`);
    }
    assert.equal(got[xs.length - 3], 1);
  });

  test("erf4: within 4.5e-7 of float64 erf (≤ 7 ulp near ±1), exactly ±1 beyond ±4, odd" + k, () => {
    const xs = [...grid(-6, 6, 24001), 0, 1e-20, -1e-20];
    const [got] = elementwise(xs, (o, _a, x, n) => abi().testErf(o, x, n));
    let worst = 0;
    xs.forEach((x, i) => {
      worst = Math.max(worst, Math.abs(got[i] - erf64(x)));
    });
    assert.ok(worst < 4.5e-7, `max |erf error| ${worst}`);
    xs.forEach((x, i) => {
      if (Math.abs(x) >= 4) assert.equal(got[i], Math.sign(x));
    });
    assert.equal(got[xs.length - 3], 0);
    assert.equal(got[xs.length - 2], -got[xs.length - 1]);
  });

  test("GELU: GELU and GELU' against float64" + k, () => {
    const xs = [...grid(-12, 12, 6001), 0, -0.5, 1e-3, -30, 30];
    const [h, dh] = elementwise(xs, (o, a, x, n) => abi().testAct(o, a, x, n, 0));
    let maxErfErr = 0;
    for (let i = 0; i < xs.length; i++) {
      const z = xs[i];
      // recover erf(z/√2) = 2h/z − 1 where it is well conditioned
      if (Math.abs(z) > 0.5 && Math.abs(z) < 5)
        maxErfErr = Math.max(maxErfErr, Math.abs((2 * h[i]) / z - 1 - erf64(z / Math.SQRT2)));
      assert.ok(
        Math.abs(h[i] - gelu64(z)) <= 4e-7 * Math.max(1, Math.abs(z)),
        `GELU(${z}) = ${h[i]}, want ${gelu64(z)}`,
      );
      assert.ok(
        Math.abs(dh[i] - geluGrad64(z)) <= 1e-6 * Math.max(1, Math.abs(z)),
        `GELU'(${z}) = ${dh[i]}, want ${geluGrad64(z)}`,
      );
    }
    assert.ok(maxErfErr < 5e-7, `max |erf error| ${maxErfErr}`);
    assert.equal(h[xs.length - 5], 0);
  });

  test("ReLU and x² activations and their derivatives are exact" + k, () => {
    const xs = grid(-3, 3, 101);
    const [r, dr] = elementwise(xs, (o, a, x, n) => abi().testAct(o, a, x, n, 1));
    const [q, dq] = elementwise(xs, (o, a, x, n) => abi().testAct(o, a, x, n, 2));
    xs.forEach((z, i) => {
      assert.equal(r[i], Math.max(z, 0));
      assert.equal(dr[i], z > 0 ? 1 : 0);
      assert.equal(q[i], f(z * z));
      assert.equal(dq[i], f(z + z));
    });
  });

  test("activation spans (four vectors in lockstep) equal act4 one vector at a time, bit for bit" + k, () => {
    const rng = new Rng(3, 5);
    for (const n of [4, 12, 16, 28, 64, 260]) {
      const xs = Array.from({ length: n }, (_, i) =>
        i % 7 == 0 ? [0, -0, 40, -40, 1e-30, NaN, 9][i % 6] : rng.normal() * 3,
      );
      for (const act of [0, 1, 2]) {
        const s = scratch(5 * n),
          v = () => new Uint32Array(s.view().buffer, s.ptr, 5 * n);
        const z = s.ptr,
          h = z + 4 * n,
          d = h + 4 * n,
          h2 = d + 4 * n,
          d2 = h2 + 4 * n;
        s.view().set(xs);
        abi().testAct(h, d, z, n, act);
        abi().testActSpan(h2, d2, z, n, act);
        const u = v();
        assert.deepEqual(u.slice(3 * n, 4 * n), u.slice(n, 2 * n), `h, act ${act}, n ${n}`);
        assert.deepEqual(u.slice(4 * n, 5 * n), u.slice(2 * n, 3 * n), `act', act ${act}, n ${n}`);
        abi().testActSpan(z, 0, z, n, act); // in place, no derivative
        assert.deepEqual(v().slice(0, n), u.slice(n, 2 * n), `in place, act ${act}, n ${n}`);
      }
    }
  });

  test("sum of squares accumulates in float64" + k, () => {
    const xs = new Rng(3, 3).normals(4096, 2);
    const { ptr, view } = scratch(xs.length);
    view().set(xs);
    const want = xs.reduce((s, x) => s + x * x, 0);
    assert.ok(Math.abs(abi().testSumSq(ptr, xs.length) - want) / want < 1e-13);
  });
}
