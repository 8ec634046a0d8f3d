// `npm run bench:scale`: a sweep of SCALE_RUNS (default 10⁵) runs of a tiny model (p 11, d 8, H 16, 100 steps; a
// 10 lr × 10 wd grid × seeds) on SCALE_WORKERS workers (default: every core), run as a child process whose RSS
// is sampled from /proc. A benchmark, not a test: it asserts nothing and prints the (#16) targets beside
// what it measured; everything also goes to bench/scale.json.
//   - runs/s, and the per-run overhead: (wall-clock × workers − Σ wall_ms) / runs, i.e. what a run costs beyond
//     its own training (scheduling, transfer to the main thread, Arrow encoding, parts, compaction, startup),
//     and by CPU: (CPU seconds of the process − Σ wall_ms) / runs, for a machine shared with other jobs;
//   - peak RSS (VmHWM) of the sweep process and its RSS through the sweep (flat: it should not grow with runs);
//   - bytes per run of runs.arrow and curves.arrow;
//   - a merge of SCALE_SHARDS (100) shard directories, split from the output; an export to Parquet (time, bytes
//     per run); fit and report on all the runs.
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { RecordBatch, RecordBatchFileWriter, Schema } from "apache-arrow";
import { batches } from "../src/store.js";

const RUNS = Number(process.env.SCALE_RUNS ?? 100_000),
  WORKERS = Number(process.env.SCALE_WORKERS ?? availableParallelism()),
  SHARDS = Number(process.env.SCALE_SHARDS ?? 100);
const ROOT = fileURLToPath(new URL("../..", import.meta.url)),
  BIN = join(ROOT, "bin", "groksweep.js");
const grid = (lo: number, hi: number) =>
  Array.from({ length: 10 }, (_, i) => +(lo * (hi / lo) ** (i / 9)).toPrecision(3));
const seeds = Math.ceil(RUNS / 100);
const spec = {
  name: "scale",
  p: 11,
  d: 8,
  H: 16,
  "max-steps": 100,
  lr: grid(1e-3, 3e-2),
  wd: grid(0.1, 3),
  seeds,
  blocks: [{ arm: "free" }],
};

interface Measured {
  s: number;
  peakMB: number;
  /** user + system CPU seconds of all its threads, as last sampled */
  cpuS: number;
  /** VmRSS, MB, sampled every 200 ms */
  rss: number[];
  stdout: string;
}
const MB = (kb: string | undefined) => Number(kb ?? 0) / 1024;

/** The CLI as a child process: wall-clock, and its RSS read from /proc/PID/status while it runs. */
function measured(args: string[]): Promise<Measured> {
  return new Promise((done, fail) => {
    const t0 = performance.now(),
      rss: number[] = [];
    let peakMB = 0,
      cpuS = 0,
      stdout = "",
      stderr = "";
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const sample = () => {
      try {
        const st = readFileSync(`/proc/${child.pid}/status`, "utf8");
        rss.push(MB(/VmRSS:\s+(\d+)/.exec(st)?.[1]));
        peakMB = Math.max(peakMB, MB(/VmHWM:\s+(\d+)/.exec(st)?.[1]));
        // utime and stime, fields 14 and 15 of /proc/PID/stat (after the command name in parentheses)
        const t = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1].split(" ");
        cpuS = (Number(t[11]) + Number(t[12])) / 100;
      } catch {
        // exited between samples
      }
    };
    const timer = setInterval(sample, 200);
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => {
      clearInterval(timer);
      if (code !== 0) fail(new Error(`groksweep ${args.join(" ")}: exit ${code}\n${stderr}`));
      else done({ s: (performance.now() - t0) / 1000, peakMB, cpuS, rss, stdout });
    });
  });
}

/** Batches streamed into an Arrow IPC file (re-wrapped under the writer's schema, as arrow-js writers need). */
class Sink {
  private w = new RecordBatchFileWriter();
  private out;
  constructor(
    private schema: Schema,
    path: string,
  ) {
    this.out = createWriteStream(path);
    this.w.toNodeStream().pipe(this.out);
    this.w.reset(undefined, schema);
  }
  async write(b: RecordBatch) {
    this.w.write(new RecordBatch(this.schema, b.data));
    if (this.out.writableNeedDrain) await new Promise((r) => this.out.once("drain", r));
  }
  async close() {
    this.w.close();
    await finished(this.out);
  }
}

/** Split DIR's output into n shard directories of consecutive runs (zero-copy slices of its batches). */
async function split(dir: string, into: string, n: number, total: number): Promise<string[]> {
  const shardOf = new Map<number, number>(),
    dirs = Array.from({ length: n }, (_, i) => join(into, `shard-${i}`));
  for (const d of dirs) mkdirSync(d, { recursive: true });
  let pos = 0;
  for (const file of ["runs.arrow", "curves.arrow"]) {
    let sinks: Sink[] | null = null;
    for await (const b of batches(join(dir, file))) {
      sinks ??= dirs.map((d) => new Sink(b.schema, join(d, file)));
      const ids = b.getChild("run_id")!.toArray() as Int32Array;
      const shard = (i: number) =>
        file === "runs.arrow" ? Math.min(n - 1, Math.floor(((pos + i) * n) / total)) : shardOf.get(ids[i])!;
      for (let i = 0; i < b.numRows;) {
        const s = shard(i);
        let j = i;
        while (j < b.numRows && shard(j) === s) {
          if (file === "runs.arrow") shardOf.set(ids[j], s);
          j++;
        }
        await sinks[s].write(b.slice(i, j));
        i = j;
      }
      if (file === "runs.arrow") pos += b.numRows;
    }
    for (const s of sinks ?? []) await s.close();
  }
  return dirs;
}

const series = (rss: number[]) =>
  [0.1, 0.25, 0.5, 0.75, 0.9, 1].map((q) => rss[Math.max(0, Math.ceil(q * rss.length) - 1)]);
const f = (x: number, d = 1) => x.toFixed(d);

const root = mkdtempSync(join(tmpdir(), "groksweep-scale-")),
  out = join(root, "sweep");
writeFileSync(join(root, "spec.json"), JSON.stringify(spec));
const nRuns = seeds * 100;
console.log(`bench:scale: ${nRuns} runs (p 11, d 8, H 16, 100 steps) on ${WORKERS} workers in ${root}`);

const load = () => readFileSync("/proc/loadavg", "utf8").split(" ")[0];
const loadBefore = load();
const sweep = await measured(["sweep", join(root, "spec.json"), "--out", out, "--workers", String(WORKERS), "--quiet"]);
const loadAfter = load();
let wallMs = 0,
  rows = 0;
for await (const b of batches(join(out, "runs.arrow"))) {
  rows += b.numRows;
  for (const v of b.getChild("wall_ms")!.toArray() as Float64Array) wallMs += v;
}
const overhead = (sweep.s * 1000 * WORKERS - wallMs) / rows;
// on a shared machine the workers get less than WORKERS cores: the CPU the process got, less the runs' own time
const cpuOverhead = (sweep.cpuS * 1000 - wallMs) / rows;
const bytes = (d: string, file: string) => statSync(join(d, file)).size;

const shards = await split(out, join(root, "shards"), SHARDS, rows);
const merged = join(root, "merged");
const merge = await measured(["merge", ...shards, "--out", merged, "--json"]);
const pq = join(root, "parquet");
const exported = await measured(["export", out, "--format", "parquet", "--out", pq, "--json"]);
const fit = await measured(["fit", out, "--json"]);
const report = await measured(["report", out, "-o", join(root, "report", "report.html")]);

const result = {
  runs: rows,
  workers: WORKERS,
  sweep_s: sweep.s,
  runs_per_s: rows / sweep.s,
  own_runs_per_s: (rows * WORKERS * 1000) / wallMs,
  mean_wall_ms: wallMs / rows,
  overhead_ms_per_run: overhead,
  cpu_overhead_ms_per_run: cpuOverhead,
  sweep_cpu_s: sweep.cpuS,
  load_average_before_after: [loadBefore, loadAfter].map(Number),
  sweep_peak_rss_mb: sweep.peakMB,
  sweep_rss_mb_at_10_25_50_75_90_100_pct: series(sweep.rss),
  runs_bytes_per_run: bytes(out, "runs.arrow") / rows,
  curves_bytes_per_run: bytes(out, "curves.arrow") / rows,
  merge: { shards: SHARDS, s: merge.s, peak_rss_mb: merge.peakMB, merged: JSON.parse(merge.stdout).merged },
  export: {
    s: exported.s,
    peak_rss_mb: exported.peakMB,
    parquet_bytes_per_run: JSON.parse(exported.stdout).bytes / rows,
  },
  fit: { s: fit.s, peak_rss_mb: fit.peakMB },
  report: { s: report.s, peak_rss_mb: report.peakMB },
};
writeFileSync(join(ROOT, "bench", "scale.json"), JSON.stringify(result, null, 2) + "\n");
const table: [string, string, string][] = [
  ["runs/s (own: Σ wall_ms)", `${f(result.runs_per_s)} (${f(result.own_runs_per_s)})`, ""],
  ["sweep", `${f(sweep.s)} s, ${f(sweep.cpuS)} CPU s; load ${result.load_average_before_after.join(" → ")}`, ""],
  [
    "per-run overhead",
    `${f(overhead, 2)} ms (CPU ${f(cpuOverhead, 2)}; own ${f(result.mean_wall_ms, 2)} ms)`,
    "≤ 2 ms",
  ],
  ["sweep peak RSS", `${f(sweep.peakMB, 0)} MB`, "≤ 300 MB"],
  [
    "sweep RSS at 10…100 %",
    `${result.sweep_rss_mb_at_10_25_50_75_90_100_pct.map((x) => f(x, 0)).join(" ")} MB`,
    "flat",
  ],
  ["runs.arrow, curves.arrow", `${f(result.runs_bytes_per_run, 0)}, ${f(result.curves_bytes_per_run, 0)} B/run`, ""],
  [`merge of ${SHARDS} shards`, `${f(merge.s)} s, ${f(merge.peakMB, 0)} MB peak`, ""],
  ["export --format parquet", `${f(exported.s)} s, ${f(exported.peakMB, 0)} MB peak`, ""],
  ["Parquet (runs + curves)", `${f(result.export.parquet_bytes_per_run, 0)} B/run`, ""],
  ["fit", `${f(fit.s)} s, ${f(fit.peakMB, 0)} MB peak`, "≤ 20 s at 10⁵ runs"],
  ["report", `${f(report.s)} s, ${f(report.peakMB, 0)} MB peak`, ""],
];
for (const [what, got, target] of table) console.log(`${what.padEnd(26)} ${got.padEnd(36)} ${target}`);
if (!process.env.SCALE_KEEP) rmSync(root, { recursive: true, force: true });
