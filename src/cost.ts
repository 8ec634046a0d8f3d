// FLOP counts of one training step (scheduling longest first, GFLOP/s) and time estimates calibrated
// from `npm run bench` per kernels (sweep, slurm and reproduce --dry-run, at the kernels they would run).
import { trainCount, pairCount } from "./task.js";
import { parseRunConfig, RunConfig } from "./options.js";
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
const kindOf = (c: Shape): Kind => (c.task === "parity" ? "parity" : c.optim === "muon" ? "muon" : c.model);
/** What a time estimate assumes, as the dry runs print it. */
export const ratesNote = (key: RateKey): string => `the rates npm run bench measured for ${key} kernels`;

/** The runs `npm run bench` measures the rates at (bench/bench.ts), by kind: each point one or more configurations
 *  of one step size (several: their harmonic mean), ascending in FLOPs; `steps` is a repetition's length there. */
export const CALIBRATION: Record<Kind, { name: string; raw: Record<string, unknown>; steps: number }[][]> = {
  mlp: [
    [{ name: "mlp small (p 23, d 32, H 64)", raw: { p: 23, d: 32, H: 64, frac: 0.4 }, steps: 1000 }],
    [{ name: "mlp paper (p 59, d 128, H 256)", raw: {}, steps: 100 }],
    [{ name: "mlp p97 frac 0.3 (d 128, H 256)", raw: { p: 97, frac: 0.3 }, steps: 40 }],
  ],
  attn: [
    [
      { name: "attn p59 (d 128, H 512)", raw: { model: "attn" }, steps: 20 },
      { name: "attn p59 layernorm", raw: { model: "attn", layernorm: true }, steps: 20 },
    ],
  ],
  parity: [[{ name: "parity n30 k3 (H 512)", raw: { task: "parity" }, steps: 100 }]],
  tian: [[{ name: "tian p59 (H 256) mse", raw: { model: "tian", loss: "mse" }, steps: 100 }]],
  muon: [[{ name: "paper mlp + muon", raw: { optim: "muon" }, steps: 30 }]],
};

/** GFLOP/s of one run on one core per kernels and kind of run, at CALIBRATION's points in their order: a copy of
 *  bench/results.json "rates" (BENCH_ONLY=models npm run bench). 128-bit under Node 20, 256-bit under Node 24.
 *  Measured on a 2-vCPU AMD EPYC VM (Zen 5), 2026-12-07, on the quiet machine: the geometric mean of two full
 *  npm run bench runs' rates (medians of 5 each; they differed by 0.77–1.46×). */
// prettier-ignore
const MEASURED: Record<RateKey, Record<Kind, number[]>> = {
  "fma 128-bit": { mlp: [20.7, 33, 33.1], attn: [37.9], parity: [34.4], tian: [38.4], muon: [8.95] },
  "fma 256-bit": { mlp: [35.4, 55.6, 57.3], attn: [68.6], parity: [49.6], tian: [63.9], muon: [15.5] },
  "strict 128-bit": { mlp: [17.5, 28.6, 27], attn: [29.8], parity: [27], tian: [32.3], muon: [6.69] },
  "strict 256-bit": { mlp: [30.4, 46, 48.4], attn: [57], parity: [42.8], tian: [54.7], muon: [13.1] },
};

/** A calibration point's FLOPs per step, checked: its configurations are of their kind and of one step size. */
function pointFlops(kind: Kind, point: (typeof CALIBRATION)[Kind][number]): number {
  const cfgs = point.map((o) => parseRunConfig(o.raw)),
    f = stepFlops(cfgs[0]);
  if (cfgs.some((c) => kindOf(c) !== kind || stepFlops(c) !== f))
    throw new Error(`CALIBRATION ${kind}: a point's configurations are of its kind and one step size`);
  return f;
}
const AT = Object.fromEntries(KINDS.map((kind) => [kind, CALIBRATION[kind].map((pt) => pointFlops(kind, pt))]));

/** MEASURED as [FLOPs per step, GFLOP/s] points per kernels and kind. Between two points log-linear in FLOPs per
 *  step, outside them the nearest; small steps (and --batch's minibatch steps) run slower, since the elementwise
 *  work and per-call overheads weigh more. */
export const RATES = Object.fromEntries(
  Object.entries(MEASURED).map(([key, byKind]) => [
    key,
    Object.fromEntries(
      KINDS.map((kind) => {
        if (AT[kind].length !== byKind[kind].length) throw new Error(`MEASURED ${key} ${kind}: a rate per point`);
        return [kind, AT[kind].map((f, i) => [f, byKind[kind][i]])];
      }),
    ),
  ]),
) as Record<RateKey, Record<Kind, [number, number][]>>;

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
