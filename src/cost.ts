// FLOP counts of one training step (scheduling longest first, GFLOP/s) and time estimates calibrated
// from `npm run bench` (sweep, slurm and reproduce --dry-run).
import { trainCount, pairCount } from "./task.js";
import type { RunConfig } from "./options.js";

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

/** GFLOP/s of one run on one core as `npm run bench` measured them (bench/results.json "models": fma
 *  kernels, Node 20, a 2-vCPU AMD EPYC VM, 2026-12-02), as [FLOPs per step, GFLOP/s] points per kind of
 *  run; between two points log-linear in FLOPs per step, outside them the nearest. Small steps run
 *  slower (the elementwise work and per-call overheads weigh more). Update them from a new bench run. */
export const RATES: Record<"mlp" | "attn" | "parity" | "tian" | "muon", [number, number][]> = {
  // p 23 d 32 H 64; the paper's; p 97 frac 0.3
  // prettier-ignore
  mlp: [[2.44e6, 14.1], [1.493e8, 18.5], [4.587e8, 24.4]],
  attn: [[1.182e9, 21.0]], // p 59 d 128 H 512 (24.4 without LayerNorm, 18.3 with)
  parity: [[9.83e7, 18.7]], // n 30 k 3 H 512 m 1000
  tian: [[1.27e8, 18.9]], // p 59 H 256, squared error
  muon: [[1.493e8, 6.9]], // the paper's MLP with Muon (Newton–Schulz dominates)
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

/** Seconds of one training step on one core at the calibrated rates (evaluations add ≲ 2 %). */
export function stepSeconds(c: Shape): number {
  const kind = c.task === "parity" ? "parity" : c.optim === "muon" ? "muon" : c.model;
  return stepFlops(c) / (rate(RATES[kind], stepFlops(c)) * 1e9);
}
