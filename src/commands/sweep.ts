// `groksweep sweep SPEC --out DIR`: the main job. Expands a spec, runs it on all cores, streams
// Arrow output, resumes, and runs a deterministic shard of it for cluster job arrays.
import type { Argv } from "yargs";
import { resolve } from "node:path";
import { readSpec, expand, Sweep } from "../spec.js";
import { runSweep, defaultWorkers, select, Phase, SweepOptions } from "../sweep.js";
import { UsageError } from "../options.js";
import { checkOutDir, single, sweepSummary, sweepJson, EXIT_FAILED_RUNS } from "../cli-util.js";
import { kernelChoice, loadKernels, KERNELS_OPTION, FAST_MATH_OPTION } from "../kernels.js";
import { rateKey, ratesNote, RateKey } from "../cost.js";
import { COMPRESSION_OPTION } from "../arrow.js";

export const command = "sweep <spec>";
export const describe = "run every run of a YAML/JSON spec on a pool of workers, writing Arrow files to --out";

export function builder(y: Argv): Argv {
  return y
    .positional("spec", { type: "string", describe: "spec file (.yaml, .yml or .json)" })
    .option("out", { type: "string", describe: "output directory (resumable: finished runs are skipped)" })
    .option("shard", {
      type: "string",
      describe:
        "run slice i/n (runs with run_id mod n = i) [SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX with --shards]",
    })
    .option("shards", { type: "string", describe: "number of shards n when the index comes from the environment" })
    .option("phase", { type: "string", describe: "control (runs without wc: measure) | dependent (runs with it)" })
    .option("wc-from", {
      type: "string",
      array: true,
      describe: "runs.arrow files or dirs with the free controls' results, for wc: measure",
    })
    .option("dry-run", {
      type: "boolean",
      describe: "print the run count, a few expanded runs and the cost; run nothing",
    })
    .option("quiet", { type: "boolean", describe: "no progress output" })
    .options(POOL_OPTIONS)
    .option("json", { type: "boolean", describe: "print one JSON object (counts, paths, cost) instead of text" })
    .option("compression", COMPRESSION_OPTION)
    .option("kernels", KERNELS_OPTION)
    .option("fast-math", FAST_MATH_OPTION);
}

/** --shard i/n, else the cluster's array index with --shards n (Slurm arrays, Kubernetes indexed jobs). */
export function parseShard(argv: Record<string, unknown>, env = process.env): [number, number] | null {
  const bad = (v: unknown) => new UsageError("--shard", v, "i/n with 0 ≤ i < n");
  if (argv.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(String(argv.shard));
    if (!m || +m[1] >= +m[2]) throw bad(argv.shard);
    return [+m[1], +m[2]];
  }
  // only with --shards: a user who runs one whole spec per array task must not get 1/n of each
  if (argv.shards === undefined) return null;
  const n = Number(argv.shards);
  if (!Number.isInteger(n) || n < 1) throw new UsageError("--shards", argv.shards, "an integer ≥ 1");
  const idx = env.SLURM_ARRAY_TASK_ID ?? env.JOB_COMPLETION_INDEX;
  if (idx === undefined) {
    throw new UsageError(
      "--shards",
      argv.shards,
      "used inside a Slurm array or a Kubernetes indexed job " +
        "(SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX set), or --shard i/n instead",
    );
  }
  // the array index is the shard itself (0 … n−1), so resubmitting part of an array (--array=3) redoes shard 3
  const i = Number(idx);
  if (!Number.isInteger(i) || i < 0 || i >= n) throw bad(`${idx}/${n}`);
  return [i, n];
}

/** --workers and --retries, as sweep and reproduce take them. */
export function poolOptions(argv: Record<string, unknown>): { workers: number; retries: number } {
  const workers = single(argv, "workers") === undefined ? defaultWorkers() : Number(argv.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 1024)
    throw new UsageError("--workers", argv.workers, "an integer in [1, 1024]");
  const retries = single(argv, "retries") === undefined ? 2 : Number(argv.retries);
  if (!Number.isInteger(retries) || retries < 0 || retries > 100)
    throw new UsageError("--retries", argv.retries, "an integer in [0, 100]");
  return { workers, retries };
}

/** The options of the pool that sweep and reproduce share. */
export const POOL_OPTIONS = {
  workers: { type: "string", describe: "worker threads [SLURM_CPUS_PER_TASK or all cores]" },
  retries: {
    type: "string",
    describe: "further attempts of a run whose attempt failed transiently (dead worker, out of memory) [2]",
  },
  strict: {
    type: "boolean",
    describe: `exit ${EXIT_FAILED_RUNS} when any run failed (default: 0 once every run is attempted and recorded)`,
  },
} as const;

/** rates: the kernels this process would run, whose measured rates the time estimate takes (src/cost.ts) */
function dryRun(sw: Sweep, shard: [number, number] | null, phase: Phase | null, json: boolean, rates: RateKey): void {
  const runs = select(sw, shard, phase);
  const steps = runs.reduce((s, r) => s + r.cfg.maxSteps, 0),
    flops = runs.reduce((s, r) => s + r.cost, 0);
  const seconds = runs.reduce((s, r) => s + r.seconds(rates), 0);
  if (json) {
    const shown = runs.length > 6 ? [...runs.slice(0, 5), runs[runs.length - 1]] : runs;
    const obj = {
      ...sweepJson(sw, shard, phase, runs.length),
      cost: { steps, flops, core_hours: seconds / 3600, rates },
      runs_shown: shown.map((r) => ({ run_id: r.runId, measure: r.measure, ...r.cfg })),
    };
    process.stdout.write(JSON.stringify(obj) + "\n");
    return;
  }
  const show = (r: (typeof runs)[number]) => {
    const c = r.cfg;
    const task =
      c.task === "parity" ? `parity n ${c.n} k ${c.k} m ${c.m}` : `op ${c.op} p ${c.p} frac ${+c.frac.toPrecision(6)}`;
    const model = c.model === "mlp" ? "" : ` model ${c.model}${c.model === "attn" ? ` heads ${c.heads}` : ""}`;
    return (
      `  run ${r.runId}: seed ${c.seed} ${task}${model} d ${c.d} H ${c.H}${c.layernorm ? " layernorm" : ""} ` +
      `${c.optim} lr ${c.lr} wd ${c.wd} arm ${c.arm}` +
      (c.arm !== "free"
        ? ` rho ${c.rho} wc ${r.measure ? "measure" : c.wc} t_int ${c.tInt}` +
          (c.clampGroup !== "all" ? ` group ${c.clampGroup}` : "")
        : "") +
      ` max_steps ${c.maxSteps}`
    );
  };
  const lines = [
    `${runs.length} runs${shard ? ` in shard ${shard[0]}/${shard[1]}` : ""}${phase ? ` (phase ${phase})` : ""} ` +
      `of ${sw.runs.length} (spec ${sw.hash})`,
  ];
  lines.push(...runs.slice(0, 5).map(show));
  if (runs.length > 6) lines.push("  …");
  if (runs.length > 5) lines.push(show(runs[runs.length - 1]));
  lines.push(
    `cost ≤ ${steps.toLocaleString("en-US")} steps, ${(flops / 1e12).toFixed(2)} TFLOP ` +
      `(≈ ${(seconds / 3600).toFixed(2)} core-hours at ${ratesNote(rates)}, src/cost.ts; ` +
      "--stop-at-grok ends runs early)",
  );
  process.stdout.write(lines.join("\n") + "\n");
}

export async function handler(argv: Record<string, unknown>): Promise<void> {
  const sw = expand(readSpec(String(argv.spec)));
  const shard = parseShard(argv);
  const phase =
    argv.phase === undefined
      ? null
      : argv.phase === "control" || argv.phase === "dependent"
        ? argv.phase
        : (() => {
            throw new UsageError("--phase", argv.phase, "control or dependent");
          })();
  const kernels = kernelChoice(argv);
  const json = Boolean(argv.json);
  // a dry run's line names the kernels its estimate assumes: no note on stderr where auto falls back to strict
  if (argv["dry-run"]) return dryRun(sw, shard, phase, json, rateKey(loadKernels(kernels, () => {})));
  if (typeof argv.out !== "string" || !argv.out) throw new UsageError("--out", argv.out, "an output directory");
  checkOutDir(argv.out);
  const { workers, retries } = poolOptions(argv);
  const wcFrom = ((argv["wc-from"] as string[] | undefined) ?? []).map((p) => resolve(p));
  const quiet = Boolean(argv.quiet),
    out = resolve(argv.out);
  const opts: SweepOptions = { out, workers, shard, phase, wcFrom, quiet, kernels, retries };
  const { code, counts } = await runSweep(sw, opts);
  const exit = code === 0 && argv.strict && counts.failed > 0 ? EXIT_FAILED_RUNS : code;
  if (json) {
    const obj = { ...sweepJson(sw, shard, phase, counts.total), out, counts, exit_code: exit };
    process.stdout.write(JSON.stringify(obj) + "\n");
  } else process.stdout.write(sweepSummary(counts, out));
  process.exitCode = exit;
}
