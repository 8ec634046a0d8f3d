// `npm run bench`: throughput on this machine, side by side with the PyTorch rivals. A benchmark, not a
// test: it asserts nothing. Medians of BENCH_REPS (default 5) repetitions; tables to stdout, everything
// to bench/results.json. This VM's speed drifts by up to 2× between minutes, so every repetition measures
// the peaks and the rivals right beside the run and the ratios are medians of per-repetition ratios.
//   1. steps/s of one run on one core (small, paper, p 97 configs) with the default kernels (auto) and
//      the strict ones, as a fraction of the peak of the kernels it runs (128-bit FMA, or 256-bit where
//      V8 revectorizes) and of the mul+add peak, each measured by a tiny kernel;
//   2. the best PyTorch rival per repetition: ../shared/reference/paper_mlp.py bench (the authors' dense
//      first layer) and torch_table.py (our lookup-table layer), each at 1 and 16 seeds, 1 thread;
//   3. the same table under every other Node found (BENCH_NODES=path:path, else .node24/, where
//      `npm install --prefix .node24 node@24` puts Node 24), run as a child process;
//   4. the eval share of a default run; steps/s and GFLOP/s of every kind of run and MLP size with the default
//      and the strict kernels under every Node (the child measures them too), and from them `rates` in
//      src/cost.ts MEASURED's shape, the calibration of the --dry-run time estimates; a 64-run sweep on 1 and 2
//      workers (scaling by wall-clock and by training span; peak RSS).
// BENCH_ONLY=models runs only the models and rates (about 20 s a Node here) and replaces those two sections
// of bench/results.json, keeping the rest of an earlier full run.
import { writeFileSync, readFileSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { instantiate, Abi } from "../src/engine.js";
import { loadKernels, Kernels } from "../src/kernels.js";
import { prepare } from "../src/run.js";
import { parseRunConfig, logGrid } from "../src/options.js";
import { stepFlops, rateKey, KINDS, CALIBRATION, Kind, RateKey } from "../src/cost.js";
import { expand } from "../src/spec.js";
import { runSweep } from "../src/sweep.js";
import { batches } from "../src/store.js";
import { median } from "../src/stats.js";

const REPS = Number(process.env.BENCH_REPS ?? 5);
const CHILD = process.argv.includes("--child"); // under another Node: the single-run table and the models
const ONLY = process.env.BENCH_ONLY;
if (ONLY !== undefined && ONLY !== "models") throw new Error(`BENCH_ONLY=${ONLY}: only "models" is known`);
const FULL = ONLY === undefined;
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const def = loadKernels("auto"),
  strict = loadKernels("strict");
const abi = instantiate(def),
  strictAbi = instantiate(strict);

// Peaks, GFLOP/s: the default kernels' multiply-add in the shape they run (12 xmm chains, or 16 that V8
// pairs into 8 ymm chains), and mul+add: the strict build's multiply-add in the same shape (in the fma
// build it is one fused instruction).
const bufs = [abi, strictAbi].map((a) => {
  const p = a.scratch(288);
  new Float32Array(a.memory.buffer, p, 72).fill(0.5).fill(0.999999, 64, 68).fill(1e-7, 68, 72);
  return p;
});
function peakOnce(kind: "muladd" | "kernels"): number {
  const a = kind === "kernels" ? abi : strictAbi,
    p = bufs[kind === "kernels" ? 0 : 1];
  const n = 2e7,
    chains = def.wide ? 16 : 12,
    t0 = performance.now();
  if (def.wide) a.peakMadd16(n, p);
  else a.peakMadd12(n, p);
  return (n * chains * 8) / ((performance.now() - t0) * 1e6);
}
for (let i = 0; i < 300; i++) {
  for (const [j, a] of [abi, strictAbi].entries()) {
    a.peakMadd12(1e4, bufs[j]);
    a.peakMadd16(1e4, bufs[j]);
  }
}

// the PyTorch rivals, as test/trajectory.test.ts finds torch
const PY = "/usr/bin/python3",
  REF = join(ROOT, "..", "shared", "reference");
const hasTorch =
  existsSync(PY) && existsSync(join(REF, "paper_mlp.py")) && spawnSync(PY, ["-c", "import torch"]).status === 0;
const RIVALS = [
  ["paper_mlp.py", 1],
  ["paper_mlp.py", 16],
  ["torch_table.py", 1],
  ["torch_table.py", 16],
] as const;
/** One repetition of every rival (1 thread): seed-steps/s by "script seeds" (empty without torch). */
function rivals(p: number, d: number, H: number, frac: number, steps: number): Map<string, number> {
  const got = new Map<string, number>();
  if (!hasTorch) return got;
  for (const [script, seeds] of RIVALS) {
    const args = [
      join(REF, script),
      ...(script === "paper_mlp.py" ? ["bench"] : []),
      "--p",
      String(p),
      "--d",
      String(d),
      "--H",
      String(H),
      "--frac",
      String(frac),
      "--seeds",
      String(seeds),
      "--steps",
      String(Math.max(3, Math.round(steps * (seeds === 1 ? 2 : 1)))),
      "--threads",
      "1",
    ];
    const out = spawnSync(PY, args, {
      encoding: "utf8",
      env: { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" },
    });
    if (out.status !== 0) continue;
    got.set(`${script} ${seeds}`, JSON.parse(out.stdout.trim().split("\n").at(-1)!).seed_steps_per_s);
  }
  return got;
}
/** The fastest of `got` whose name starts with `prefix` (a script at its better seed count). */
function fastest(got: Map<string, number>, prefix = ""): { sps: number; name: string } | null {
  const c = [...got].filter(([n]) => n.startsWith(prefix)).sort((x, y) => y[1] - x[1])[0];
  return c ? { name: c[0], sps: c[1] } : null;
}

function stepsPerSecond(a: Abi, steps: number): number {
  const t0 = performance.now();
  a.advance(steps);
  return (steps * 1000) / (performance.now() - t0);
}

const configs = [
  { name: "small", p: 23, d: 32, H: 64, frac: 0.4, steps: 2000, torchSteps: 100 },
  { name: "paper", p: 59, d: 128, H: 256, frac: 0.4, steps: 200, torchSteps: 16 },
  { name: "p97-frac0.3", p: 97, d: 128, H: 256, frac: 0.3, steps: 100, torchSteps: 6 },
];
const rows: Record<string, unknown>[] = [];
const peaks = { muladd: [] as number[], kernels: [] as number[] };
for (const c of FULL ? configs : []) {
  const cfg = parseRunConfig({ p: c.p, d: c.d, H: c.H, frac: c.frac }),
    flops = stepFlops(cfg);
  for (const a of [abi, strictAbi]) {
    prepare(a, cfg);
    a.advance(Math.ceil(c.steps / 5));
  } // warm-up: V8 tiers up
  const r = {
    sps: [] as number[],
    strict: [] as number[],
    ofPeak: [] as number[],
    ofMulAdd: [] as number[],
    vs: [] as number[],
    vsScript: { "paper_mlp.py": [] as number[], "torch_table.py": [] as number[] },
    torch: [] as number[],
    rival: new Map<string, number>(),
  };
  for (let rep = 0; rep < REPS; rep++) {
    const pk = peakOnce("kernels"),
      pm = peakOnce("muladd");
    peaks.kernels.push(pk);
    peaks.muladd.push(pm);
    const sps = stepsPerSecond(abi, c.steps);
    r.sps.push(sps);
    r.strict.push(stepsPerSecond(strictAbi, c.steps));
    r.ofPeak.push((sps * flops) / 1e9 / pk);
    r.ofMulAdd.push((sps * flops) / 1e9 / pm);
    const got = rivals(c.p, c.d, c.H, c.frac, c.torchSteps),
      t = fastest(got);
    for (const [script, vs] of Object.entries(r.vsScript)) {
      const s = fastest(got, script);
      if (s) vs.push(sps / s.sps);
    }
    if (t) {
      r.torch.push(t.sps);
      r.vs.push(sps / t.sps);
      r.rival.set(t.name, (r.rival.get(t.name) ?? 0) + 1);
    }
  }
  const sps = median(r.sps);
  rows.push({
    node: process.version,
    config: c.name,
    kernels: rateKey(def),
    steps_per_s: +sps.toFixed(1),
    gflops: +((sps * flops) / 1e9).toFixed(2),
    of_peak: +median(r.ofPeak).toFixed(3),
    of_muladd_peak: +median(r.ofMulAdd).toFixed(3),
    strict_steps_per_s: +median(r.strict).toFixed(1),
    best_rival: r.torch.length ? [...r.rival].sort((x, y) => y[1] - x[1])[0][0] : null,
    rival_seed_steps_per_s: r.torch.length ? +median(r.torch).toFixed(1) : null,
    vs_best_rival: r.vs.length ? +median(r.vs).toFixed(2) : null,
    // each rival at its faster seed count (1 or 16), medians of the same per-repetition ratios
    vs_paper_mlp: r.vsScript["paper_mlp.py"].length ? +median(r.vsScript["paper_mlp.py"]).toFixed(2) : null,
    vs_torch_table: r.vsScript["torch_table.py"].length ? +median(r.vsScript["torch_table.py"]).toFixed(2) : null,
  });
}
const peakRow = FULL
  ? {
      node: process.version,
      kernels: rateKey(def),
      peak_gflops: +median(peaks.kernels).toFixed(1),
      muladd_peak_gflops: +median(peaks.muladd).toFixed(1),
    }
  : null;

// every calibration point of src/cost.ts (every kind of run at PROTOCOL.md's sizes, the MLP at three), with the
// default and the strict kernels in alternation: GFLOP/s, from which `rates` (src/cost.ts MEASURED's shape) is built
const models = KINDS.flatMap((kind) =>
  CALIBRATION[kind].flatMap((configs, point) => configs.map((o) => ({ ...o, kind, point }))),
);
interface ModelRow {
  node: string;
  kernels: RateKey;
  config: string;
  kind: Kind;
  point: number; // its index in CALIBRATION[kind]
  flops_per_step: number;
  steps_per_s: number;
  gflops: number;
}
const builds: [Kernels, Abi][] = [
  [def, abi],
  ...(strict.name === def.name ? [] : [[strict, strictAbi] as [Kernels, Abi]]),
];
const modelRows: ModelRow[] = [];
for (const o of models) {
  const cfg = parseRunConfig(o.raw),
    flops = stepFlops(cfg);
  for (const [, a] of builds) {
    prepare(a, cfg);
    a.advance(Math.ceil(o.steps / 5));
  }
  const sps = builds.map(() => [] as number[]);
  for (let rep = 0; rep < REPS; rep++) builds.forEach(([, a], j) => sps[j].push(stepsPerSecond(a, o.steps)));
  builds.forEach(([k], j) => {
    const s = median(sps[j]);
    modelRows.push({
      node: process.version,
      kernels: rateKey(k),
      config: o.name,
      kind: o.kind,
      point: o.point,
      flops_per_step: flops,
      steps_per_s: +s.toFixed(1),
      gflops: +((s * flops) / 1e9).toFixed(2),
    });
  });
}
if (CHILD) {
  process.stdout.write(JSON.stringify({ rows, peak: peakRow, models: modelRows }) + "\n");
  process.exit(0);
}

// the same tables under the other Node versions found
const others = (process.env.BENCH_NODES ?? join(ROOT, ".node24", "node_modules", ".bin", "node"))
  .split(":")
  .filter((p) => p && existsSync(p));
const peakRows = peakRow ? [peakRow] : [];
for (const node of others) {
  const out = spawnSync(node, [fileURLToPath(import.meta.url), "--child"], {
    encoding: "utf8",
    env: process.env,
    maxBuffer: 1 << 24,
  });
  if (out.status !== 0) {
    process.stderr.write(`bench: ${node} failed: ${out.stderr.trim().split("\n").at(-1)}\n`);
    continue;
  }
  const got = JSON.parse(out.stdout.trim().split("\n").at(-1)!);
  rows.push(...got.rows);
  if (got.peak) peakRows.push(got.peak);
  modelRows.push(...got.models);
}
if (FULL) {
  console.table(peakRows);
  console.table(rows);
}

// eval share of a default run (20 000 steps, geom:360): an evaluation's marginal cost, since evaluate()
// leaves the train forward pass for the next step: (evaluate + one step) − (one step)
const evalRows: Record<string, unknown>[] = [];
for (const c of FULL ? configs : []) {
  prepare(abi, parseRunConfig({ p: c.p, d: c.d, H: c.H, frac: c.frac }));
  abi.advance(Math.ceil(c.steps / 5));
  const sps = stepsPerSecond(abi, c.steps);
  const evalMs = median(
    Array.from({ length: REPS }, () => {
      const t0 = performance.now();
      abi.evaluate();
      abi.advance(1);
      const t1 = performance.now();
      abi.advance(1);
      return 2 * t1 - t0 - performance.now();
    }),
  );
  const nEval = logGrid("geom:360", 20000).length,
    trainMs = (20000 * 1000) / sps;
  evalRows.push({
    config: c.name,
    eval_ms: +evalMs.toFixed(2),
    eval_share: +((nEval * evalMs) / (trainMs + nEval * evalMs)).toFixed(4),
  });
}
if (FULL) console.table(evalRows);

/** MEASURED's shape from the model rows: kernels → kind → GFLOP/s at each calibration point. Rows of one point
 *  (attention with and without LayerNorm; one kernels key under two Nodes) merge by harmonic mean, the rate of as
 *  many steps of each. */
function ratesOf(rows: ModelRow[]): Record<string, Record<Kind, number[]>> {
  const out: Record<string, Record<Kind, number[]>> = {};
  for (const key of [...new Set(rows.map((r) => r.kernels))].sort()) {
    out[key] = {} as Record<Kind, number[]>;
    for (const kind of KINDS)
      out[key][kind] = CALIBRATION[kind].map((_, point) => {
        const g = rows.filter((r) => r.kernels === key && r.kind === kind && r.point === point).map((r) => r.gflops);
        return +(g.length / g.reduce((s, x) => s + 1 / x, 0)).toFixed(1);
      });
  }
  return out;
}
const rates = ratesOf(modelRows);
console.table(
  modelRows.map(({ node, kernels, config, steps_per_s, gflops }) => ({ node, kernels, config, steps_per_s, gflops })),
);
console.log(
  "rates (src/cost.ts MEASURED):\n{\n" +
    Object.entries(rates)
      .map(([key, kinds]) => `  "${key}": { ${KINDS.map((k) => `${k}: [${kinds[k].join(", ")}]`).join(", ")} },\n`)
      .join("") +
    "}",
);

// scaling: the same 64-run sweep on 1 and 2 workers, twice in alternation (the speedup is the median
// of the pairs' ratios), by the sweep's wall-clock and by its training span (the first run's start to the last
// run's end, from runs.arrow: without the pool's start and the compaction, which a 10³-run sweep amortizes)
const spec = { name: "bench-scaling", p: 23, d: 32, H: 64, frac: 0.4, lr: 3e-3, "max-steps": 1500, seeds: 64 };
const sweepSeconds = async (workers: number): Promise<[wall: number, span: number]> => {
  const out = mkdtempSync(join(tmpdir(), "groksweep-bench-"));
  const t0 = performance.now();
  await runSweep(expand(spec), { out, workers, shard: null, phase: null, wcFrom: [], quiet: true });
  const wall = (performance.now() - t0) / 1000;
  let first = Infinity,
    last = -Infinity;
  for await (const b of batches(join(out, "runs.arrow"))) {
    for (const t of Array.from(b.getChild("started_at")!.toArray() as ArrayLike<number | bigint>))
      first = Math.min(first, Number(t));
    for (const t of Array.from(b.getChild("finished_at")!.toArray() as ArrayLike<number | bigint>))
      last = Math.max(last, Number(t));
  }
  rmSync(out, { recursive: true, force: true });
  return [wall, (last - first) / 1000];
};
const pairs: [number, number][][] = [],
  rss: number[] = []; // rss: the process's peak after the first 1- and 2-worker sweeps
for (let r = 0; r < (FULL ? 2 : 0); r++) {
  const one = await sweepSeconds(1);
  if (r === 0) rss.push(process.resourceUsage().maxRSS / 1024);
  pairs.push([one, await sweepSeconds(2)]);
  if (r === 0) rss.push(process.resourceUsage().maxRSS / 1024);
}
const scaling = (FULL ? [1, 2] : []).map((workers, j) => {
  const s = median(pairs.map((q) => q[j][0]));
  return {
    workers,
    seconds: +s.toFixed(2),
    training_s: +median(pairs.map((q) => q[j][1])).toFixed(2),
    runs_per_s: +(64 / s).toFixed(2),
    peak_rss_mb: +rss[j].toFixed(0),
    speedup: j ? +median(pairs.map((q) => q[0][0] / q[1][0])).toFixed(2) : null,
    training_speedup: j ? +median(pairs.map((q) => q[0][1] / q[1][1])).toFixed(2) : null,
  };
});
if (FULL) console.table(scaling);

const file = join(ROOT, "bench", "results.json");
const measured = FULL
  ? {
      date: new Date().toISOString(),
      node: process.version,
      kernels: def.detail,
      reps: REPS,
      peaks: peakRows,
      single_run: rows,
      eval: evalRows,
      models: modelRows,
      rates,
      scaling,
    }
  : { models_date: new Date().toISOString(), models_reps: REPS, models: modelRows, rates };
const earlier = !FULL && existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
writeFileSync(file, JSON.stringify({ ...earlier, ...measured }, null, 2) + "\n");
