// `npm run bench`: throughput on this machine, side by side with the PyTorch reference. A
// benchmark, not a test: it asserts nothing. Medians of BENCH_REPS (default 5) repetitions; the
// table goes to stdout and everything to bench/results.json.
//   1. steps/s of one run on one core (small, paper and p 97 configs) and achieved GFLOP/s
//      (structured FLOPs) as a fraction of a measured wasm f32x4 mul+add peak;
//   2. ../shared/reference/paper_mlp.py bench (1 thread, 16 seeds batched) where torch exists;
//   3. the eval share of a whole run's time, from the logging grid;
//   4. a 64-run sweep on 1 and 2 workers (scaling) with the process's peak RSS;
//   5. the opt-in --fast-math (relaxed-SIMD FMA) kernels where this Node supports them;
//   6. steps/s of the attention model, sparse parity, Tian's network and Muon at PROTOCOL.md sizes.
import { writeFileSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { instantiate } from "../src/engine.js";
import { prepare } from "../src/run.js";
import { parseRunConfig, logGrid } from "../src/options.js";
import { stepFlops } from "../src/cost.js";
import { expand } from "../src/spec.js";
import { runSweep } from "../src/sweep.js";
import { median } from "../src/stats.js";

const REPS = Number(process.env.BENCH_REPS ?? 5);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const abi = instantiate();

const fastAbi = null as ReturnType<typeof instantiate> | null;

function peakGflops(): number {
  for (let i = 0; i < 300; i++) abi.peak(1e4, 1); // many short calls: V8 tiers the loop up to optimized code
  return median(Array.from({ length: REPS }, peakOnce));
}
/** One ~0.1 s measurement of the peak (after peakGflops has warmed it up). */
function peakOnce(): number { const n = 3e7, t0 = performance.now(); abi.peak(n, 1); return (n * 12 * 8) / ((performance.now() - t0) * 1e6); }

// the PyTorch reference, as test/trajectory.test.ts finds it
const PY = "/usr/bin/python3", REF = join(ROOT, "..", "shared", "reference", "paper_mlp.py");
const hasTorch = existsSync(PY) && existsSync(REF) && spawnSync(PY, ["-c", "import torch"]).status === 0;
/** One repetition of the PyTorch reference (1 thread, 16 seeds batched): seed-steps/s, or null. */
function torchOnce(p: number, d: number, H: number, frac: number, steps: number): number | null {
  if (!hasTorch) return null;
  const out = spawnSync(PY, [REF, "bench", "--p", String(p), "--d", String(d), "--H", String(H), "--frac", String(frac), "--seeds", "16", "--steps", String(steps), "--threads", "1"], { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" } });
  return out.status === 0 ? JSON.parse(out.stdout.trim().split("\n").at(-1)!).seed_steps_per_s : null;
}

const peaks = [peakGflops()];
const configs = [
  { name: "small", p: 23, d: 32, H: 64, frac: 0.4, steps: 2000, torchSteps: 200 },
  { name: "paper", p: 59, d: 128, H: 256, frac: 0.4, steps: 200, torchSteps: 30 },
  { name: "p97-frac0.3", p: 97, d: 128, H: 256, frac: 0.3, steps: 100, torchSteps: 10 },
];
const rows: Record<string, unknown>[] = [];
for (const c of configs) {
  prepare(abi, parseRunConfig({ p: c.p, d: c.d, H: c.H, frac: c.frac }));
  abi.advance(Math.ceil(c.steps / 5)); // warm-up: lets V8 tier the kernels up to optimized code
  // This VM's clock swings by up to 2× from one minute to the next, so every repetition measures
  // the peak and the PyTorch reference right beside the run, and the ratios are medians of
  // per-repetition ratios (robust to the swings); the absolute numbers are plain medians.
  const flops = stepFlops({ task: "modular", model: "mlp", p: c.p, d: c.d, H: c.H, frac: c.frac, m: 0 });
  const rates: number[] = [], fracs: number[] = [], torches: number[] = [], ratios: number[] = [], fastRates: number[] = [], gains: number[] = [];
  if (fastAbi) { prepare(fastAbi, parseRunConfig({ p: c.p, d: c.d, H: c.H, frac: c.frac })); fastAbi.advance(Math.ceil(c.steps / 5)); }
  for (let r = 0; r < REPS; r++) {
    const pk = peakOnce();
    const t0 = performance.now(); abi.advance(c.steps);
    const sps = (c.steps * 1000) / (performance.now() - t0);
    rates.push(sps); fracs.push((sps * flops) / 1e9 / pk); peaks.push(pk);
    const t = torchOnce(c.p, c.d, c.H, c.frac, c.torchSteps);
    if (t !== null) { torches.push(t); ratios.push(sps / t); }
    if (fastAbi) {
      const t1 = performance.now(); fastAbi.advance(c.steps);
      const f = (c.steps * 1000) / (performance.now() - t1);
      fastRates.push(f); gains.push(f / sps);
    }
  }
  // an evaluation's marginal cost: evaluate() leaves the train forward pass for the next step, so time
  // (evaluate + one step) − (one step)
  const evalMs = median(Array.from({ length: REPS }, () => {
    const t0 = performance.now(); abi.evaluate(); abi.advance(1);
    const t1 = performance.now(); abi.advance(1);
    return 2 * t1 - t0 - performance.now();
  }));
  const sps = median(rates), gflops = (sps * flops) / 1e9;
  // eval share over a default run (20 000 steps, geom:360 grid): evaluations / (training + evaluations)
  const nEval = logGrid("geom:360", 20000).length, trainMs = (20000 * 1000) / sps;
  const torch = torches.length ? median(torches) : null;
  const fastSps = fastRates.length ? median(fastRates) : null;
  rows.push({
    config: c.name, p: c.p, d: c.d, H: c.H, frac: c.frac, steps_per_s: +sps.toFixed(1), gflops: +gflops.toFixed(2),
    of_peak: +median(fracs).toFixed(3), eval_ms: +evalMs.toFixed(2), eval_share: +((nEval * evalMs) / (trainMs + nEval * evalMs)).toFixed(4),
    torch_seed_steps_per_s: torch === null ? null : +torch.toFixed(1), vs_torch: torch === null ? null : +median(ratios).toFixed(2),
    fast_math_steps_per_s: fastSps === null ? null : +fastSps.toFixed(1), fast_math_gain: fastSps === null ? null : +median(gains).toFixed(2),
  });
}
const peak = median(peaks);
console.log(`wasm f32x4 mul+add peak: ${peak.toFixed(1)} GFLOP/s (one core; median of ${peaks.length} measurements, ${Math.min(...peaks).toFixed(1)}–${Math.max(...peaks).toFixed(1)})`);
console.table(rows);

// the other models and Muon at PROTOCOL.md's sizes (no PyTorch counterpart): steps/s of one run
const others = [
  { name: "attn p59 (d 128, H 512)", raw: { model: "attn" }, steps: 20 },
  { name: "attn p59 layernorm", raw: { model: "attn", layernorm: true }, steps: 20 },
  { name: "parity n30 k3 (H 512)", raw: { task: "parity" }, steps: 100 },
  { name: "tian p59 (H 256) mse", raw: { model: "tian", loss: "mse" }, steps: 100 },
  { name: "paper mlp + muon", raw: { optim: "muon" }, steps: 30 },
];
const otherRows: Record<string, unknown>[] = [];
for (const o of others) {
  const cfg = parseRunConfig(o.raw);
  prepare(abi, cfg);
  abi.advance(Math.ceil(o.steps / 5));
  const sps = median(Array.from({ length: REPS }, () => { const t0 = performance.now(); abi.advance(o.steps); return (o.steps * 1000) / (performance.now() - t0); }));
  otherRows.push({ config: o.name, steps_per_s: +sps.toFixed(1), gflops: +((sps * stepFlops(cfg)) / 1e9).toFixed(2) });
}
console.table(otherRows);

// scaling: the same 64-run sweep on 1 and 2 workers, twice in alternation (the speedup is the median
// of the pairs' ratios, robust to the VM's clock swings)
const spec = { name: "bench-scaling", p: 23, d: 32, H: 64, frac: 0.4, lr: 3e-3, "max-steps": 1500, seeds: 64 };
const sweepSeconds = async (workers: number): Promise<number> => {
  const out = mkdtempSync(join(tmpdir(), "groksweep-bench-"));
  const t0 = performance.now();
  await runSweep(expand(spec), { out, workers, shard: null, phase: null, wcFrom: [], quiet: true });
  rmSync(out, { recursive: true, force: true });
  return (performance.now() - t0) / 1000;
};
const pairs: [number, number][] = [], rss: number[] = []; // rss: the process's peak after the first 1- and 2-worker sweeps
for (let r = 0; r < 2; r++) {
  const one = await sweepSeconds(1);
  if (r === 0) rss.push(process.resourceUsage().maxRSS / 1024);
  pairs.push([one, await sweepSeconds(2)]);
  if (r === 0) rss.push(process.resourceUsage().maxRSS / 1024);
}
const scaling = [1, 2].map((workers, j) => {
  const s = median(pairs.map((q) => q[j]));
  return { workers, seconds: +s.toFixed(2), runs_per_s: +(64 / s).toFixed(2), peak_rss_mb: +rss[j].toFixed(0),
           speedup: j ? +median(pairs.map((q) => q[0] / q[1])).toFixed(2) : null };
});
console.table(scaling);

writeFileSync(join(ROOT, "bench", "results.json"), JSON.stringify({ date: new Date().toISOString(), node: process.version, reps: REPS, peak_gflops: +peak.toFixed(2), single_run: rows, other_models: otherRows, scaling }, null, 2) + "\n");
