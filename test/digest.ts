// A digest of the outputs of a fixed set of runs (every model, arm, optimizer and loss): the curves,
// saved parameters and run results, hashed bit for bit. A kernel change that is meant to keep results
// must keep it (test/digest.test.ts pins the value per kernel build).
import { createHash } from "node:crypto";
import { Abi } from "../src/engine.js";
import { parseRunConfig } from "../src/options.js";
import { train } from "../src/run.js";

const common = { "max-steps": 120, log: "every:20", "save-params": "0,120", "t-int": 40 };
export const DIGEST_RUNS: Record<string, unknown>[] = [
  { p: 13, d: 8, H: 12, frac: 0.5, arm: "clamp", wc: 6, rho: 0.9 },
  { p: 13, d: 8, H: 12, frac: 0.5, layernorm: true, act: "relu", observe: "spectral,fourier" },
  { model: "attn", p: 11, d: 16, H: 24, frac: 0.6 },
  { model: "attn", p: 11, d: 16, H: 24, frac: 0.6, layernorm: true, arm: "clamp", "clamp-group": "unembed", wc: 3 },
  { model: "tian", op: "dih:5", p: 10, H: 16, optim: "muon", loss: "mse", lr: 3e-3 },
  { model: "tian", p: 11, H: 16, optim: "adam", wd: 0.1 },
  { task: "parity", n: 10, k: 3, m: 200, "m-test": 100, H: 16 },
  { p: 13, d: 8, H: 12, frac: 0.5, optim: "sgd", lr: 0.1, momentum: 0.9, wd: 30 },
  { p: 13, d: 8, H: 12, frac: 0.5, arm: "rescale", wc: 6, rho: 1.1, "wd-schedule": "ramp:20:60", "init-scale": 2 },
  {
    p: 13,
    d: 8,
    H: 12,
    frac: 0.5,
    op: "x2+xy+y2",
    arm: "sphere",
    wc: 5,
    "clamp-group": "embed",
    "wd-schedule": "step:50",
  },
];

/** The knobs 0.3 added (issue 17), in runs of their own so that the digest above keeps its history. */
export const KNOB_RUNS: Record<string, unknown>[] = [
  { p: 13, d: 8, H: 12, frac: 0.5, batch: 16, "label-noise": 4 },
  { p: 13, d: 8, H: 12, frac: 0.5, grokfast: "ema:0.9:2", tau: 0.5, "optim-grad": "ortho" },
  { p: 13, d: 8, H: 12, frac: 0.5, grokfast: "ma:10:1", loss: "stablemax", batch: 24 },
  { model: "attn", p: 11, d: 16, H: 24, frac: 0.6, batch: 20, tau: 2 },
];

export function digest(abi: Abi, runs = DIGEST_RUNS): string {
  const h = createHash("sha256");
  const f64 = new Float64Array(1);
  const num = (x: number | null | undefined) => {
    f64[0] = x ?? NaN;
    h.update(new Uint8Array(f64.buffer));
  };
  for (const raw of runs) {
    const r = train(abi, parseRunConfig({ ...common, ...raw }));
    h.update(JSON.stringify([r.status, r.stepsRun, r.tMem, r.tGrok]));
    num(r.wc);
    for (const row of r.curves)
      for (const k of Object.keys(row).sort()) num((row as unknown as Record<string, number>)[k]);
    for (const s of r.snapshots)
      for (const k of Object.keys(s.params).sort()) h.update(new Uint8Array(s.params[k].buffer));
  }
  return h.digest("hex").slice(0, 16);
}
