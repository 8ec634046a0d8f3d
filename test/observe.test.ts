// Spectral observables: the eigen-solver, entropy/effective rank, Fourier Gini, and the curve columns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { symEigenvalues, singularValues, spectralEntropy, gini, fourierGini } from "../src/observe.js";
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
    assert.ok(off.every((r) => r.spectral_entropy === null && r.fourier_gini === null));
    assert.deepEqual(
      on.map((r) => r.test_acc),
      off.map((r) => r.test_acc),
    ); // observing changes nothing else
    assert.ok(on.at(-1)!.fourier_gini > on[0].fourier_gini + 0.2, `${on[0].fourier_gini} → ${on.at(-1)!.fourier_gini}`);
    const bad = cli(["run", "--observe", "svd"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--observe: expected a comma-separated subset of spectral,fourier, got "svd"/);
  },
);
