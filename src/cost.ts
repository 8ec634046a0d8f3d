// FLOP counts of one training step (scheduling longest first, GFLOP/s) and time estimates calibrated
// from `npm run bench` per kernels (sweep, slurm and reproduce --dry-run, at the kernels they would run).
import { trainCount, pairCount } from "./task.js";
import type { RunConfig } from "./options.js";
import type { Kernels, KernelName } from "./kernels.js";

type Shape = Pick<RunConfig, "task" | "model" | "p" | "d" | "H" | "frac" | "m"> & {
  op?: string;
  optim?: RunConfig["optim"];
  batch?: number;
};

/** Multiply–adds ×2 of one training step (forward + backward ≈ 3 × forward) over its n rows:
 *  mlp: 3 GEMMs of n·H·p and 3 of p·d·2H (lookup-table first layer); parity: n·d·H instead of the tables;
 *  attn: per pair the MLP (2·d·H) and unembedding (d·(p+1)), plus the token tables (≈ 4·p·d·d). */
export function stepFlops(c: Shape): number {
  const { p, d, H } = c,
    rows = (n: number) => (c.batch ? Math.min(c.batch, n) : n); // --batch: a step's rows
  if (c.task === "parity") return 6 * rows(c.m) * (d * H + H * p);
  const n = rows(trainCount(c.frac, pairCount(c.op ?? "add", p)));
  if (c.model === "attn") return 6 * n * (2 * d * H + d * (p + 1)) + 24 * p * d * d;
  if (c.model === "tian") return 6 * n * H * p + 2 * n * 2 * H;
  return 6 * n * H * p + 12 * p * d * H;
}

/** The kernels a rate was measured with: the build and the SIMD width it runs at (src/kernels.ts). */
export type RateKey = `${KernelName} ${128 | 256}-bit`;
export const rateKey = (k: Pick<Kernels, "name" | "wide">): RateKey => `${k.name} ${k.wide ? 256 : 128}-bit`;
/** The kinds of run with rates of their own. */
export const KINDS = ["mlp", "attn", "parity", "tian", "muon"] as const;
export type Kind = (typeof KINDS)[number];
export const kindOf = (c: Shape): Kind => (c.task === "parity" ? "parity" : c.optim === "muon" ? "muon" : c.model);
/** What a time estimate assumes, as the dry runs print it. */
export const ratesNote = (key: RateKey): string => `the rates npm run bench measured for ${key} kernels`;

/** GFLOP/s of one run on one core per kernels and kind of run, as [FLOPs per step, GFLOP/s] points: a copy of
 *  bench/results.json "rates" (BENCH_ONLY=models npm run bench). Between two points log-linear in FLOPs per
 *  step, outside them the nearest; small steps (and --batch's minibatch steps) run slower, since the
 *  elementwise work and per-call overheads weigh more. Points: mlp p 23 d 32 H 64, the paper's, p 97 frac
 *  0.3; attn p 59 d 128 H 512 (with and without LayerNorm, harmonic mean); parity n 30 k 3 H 512 m 1000;
 *  tian p 59 H 256 squared error; muon the paper's MLP (Newton–Schulz dominates). 128-bit under Node 20,
 *  256-bit under Node 24. Measured on a 2-vCPU AMD EPYC VM (Zen 5), 2026-12-07, on the quiet machine: the
 *  geometric mean of two full npm run bench runs' rates (medians of 5 each; they differed by 0.77–1.46×). */
// prettier-ignore
export const RATES: Record<RateKey, Record<Kind, [number, number][]>> = {
  "fma 128-bit": {
    mlp: [[2.438e6, 20.7], [1.493e8, 33], [4.587e8, 33.1]],
    attn: [[1.182e9, 37.9]],
    parity: [[9.83e7, 34.4]],
    tian: [[1.276e8, 38.4]],
    muon: [[1.493e8, 8.95]],
  },
  "fma 256-bit": {
    mlp: [[2.438e6, 35.4], [1.493e8, 55.6], [4.587e8, 57.3]],
    attn: [[1.182e9, 68.6]],
    parity: [[9.83e7, 49.6]],
    tian: [[1.276e8, 63.9]],
    muon: [[1.493e8, 15.5]],
  },
  "strict 128-bit": {
    mlp: [[2.438e6, 17.5], [1.493e8, 28.6], [4.587e8, 27]],
    attn: [[1.182e9, 29.8]],
    parity: [[9.83e7, 27]],
    tian: [[1.276e8, 32.3]],
    muon: [[1.493e8, 6.69]],
  },
  "strict 256-bit": {
    mlp: [[2.438e6, 30.4], [1.493e8, 46], [4.587e8, 48.4]],
    attn: [[1.182e9, 57]],
    parity: [[9.83e7, 42.8]],
    tian: [[1.276e8, 54.7]],
    muon: [[1.493e8, 13.1]],
  },
};

function rate(points: [number, number][], flops: number): number {
  if (flops <= points[0][0]) return points[0][1];
  for (let i = 1; i < points.length; i++) {
    const [f0, r0] = points[i - 1],
      [f1, r1] = points[i];
    if (flops <= f1) return r0 + ((r1 - r0) * Math.log(flops / f0)) / Math.log(f1 / f0);
  }
  return points[points.length - 1][1];
}

/** Seconds of one training step on one core at the rates of these kernels (evaluations add ≲ 2 %). */
export function stepSeconds(c: Shape, key: RateKey): number {
  const f = stepFlops(c);
  return f / (rate(RATES[key][kindOf(c)], f) * 1e9);
}
