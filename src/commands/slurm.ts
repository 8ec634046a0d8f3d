// `groksweep slurm SPEC --out DIR`: submit a sweep to Slurm as job arrays chained with merges
// (src/slurm.ts); --dry-run prints the sbatch scripts and the cost of each array's heaviest task; --json prints
// either as one JSON object.
import type { Argv } from "yargs";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readSpec, expand, Sweep } from "../spec.js";
import { jobs, Job, maxArraySize, SlurmOptions, taskSeconds } from "../slurm.js";
import { UsageError } from "../options.js";
import { checkOutDir, duration, makeDir, writeAtomic } from "../cli-util.js";
import { loadKernels, kernelChoice, KERNELS_OPTION, FAST_MATH_OPTION } from "../kernels.js";
import { COMPRESSION_OPTION, curvesCompression } from "../arrow.js";
import { rateKey, ratesNote } from "../cost.js";

export const command = "slurm <spec>";
export const describe =
  "submit a sweep to Slurm: a job array per phase (free controls, then wc: measure runs) and merges, " +
  "chained with afterok";

export function builder(y: Argv): Argv {
  return y
    .positional("spec", { type: "string", describe: "spec file (.yaml, .yml or .json)" })
    .option("out", {
      type: "string",
      demandOption: true,
      describe: "output directory on a filesystem all nodes see; the result is OUT/all",
    })
    .option("array-size", {
      type: "string",
      default: "8",
      describe: "tasks per job array (at most the runs of its phase)",
    })
    .option("cpus-per-task", { type: "string", default: "4", describe: "CPUs, and so workers, per task" })
    .option("max-running", {
      type: "string",
      describe: "at most this many tasks of each array run at once (the array throttle, --array=0-N%k)",
    })
    .option("time", {
      type: "string",
      describe: "sbatch --time of every job (e.g. 4:00:00); tasks get TERM 60 s before it",
    })
    .option("partition", { type: "string", describe: "sbatch --partition" })
    .option("sbatch", {
      type: "string",
      array: true,
      describe: "extra #SBATCH option for every job, e.g. --sbatch=--account=abc (repeatable)",
    })
    .option("dry-run", {
      type: "boolean",
      describe: "print the sbatch scripts and the cost per task; submit nothing, write nothing",
    })
    .option("json", {
      type: "boolean",
      describe: "print the jobs (with their ids, or with --dry-run their scripts) as one JSON object",
    })
    .option("kernels", {
      ...KERNELS_OPTION,
      describe: `${KERNELS_OPTION.describe}; auto is resolved here, and every task runs that build`,
    })
    .option("compression", COMPRESSION_OPTION)
    .option("fast-math", FAST_MATH_OPTION);
}

const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const JOBS = "jobs.json";

function posInt(argv: Record<string, unknown>, key: string, max = Infinity): number {
  const v = Number(argv[key]);
  if (!Number.isInteger(v) || v < 1 || v > max)
    throw new UsageError(`--${key}`, argv[key], max === Infinity ? "an integer ≥ 1" : `an integer in [1, ${max}]`);
  return v;
}

const scriptPath = (o: SlurmOptions, j: Job) => join(o.out, "slurm", `${j.key}.sbatch`);

function describeJob(j: Job, o: SlurmOptions): string {
  const after = j.after ? `, after ${j.after} succeeds` : "";
  if (!j.load) return `${j.name}: 1 task${after}`;
  const l = j.load,
    runs = l.minRuns === l.maxRuns ? `${l.maxRuns}` : `${l.minRuns}–${l.maxRuns}`;
  const cpus = `${o.cpusPerTask} CPU${o.cpusPerTask > 1 ? "s" : ""}`;
  const throttle = o.maxRunning ? `, at most ${o.maxRunning} at once` : "";
  return (
    `${j.name}: array of ${l.tasks} tasks × ${cpus}${throttle}, ${l.runs} runs (${runs} per task)${after}; ` +
    `heaviest task ≤ ${l.maxSteps.toLocaleString("en-US")} steps (${(l.maxFlops / 1e12).toFixed(2)} TFLOP), ` +
    `≈ ${duration(taskSeconds(l, o.cpusPerTask))} on ${cpus} at ${ratesNote(o.rates)} (src/cost.ts)`
  );
}

/** The --json record: the job ids once submitted (null in a dry run, and for the jobs after a failed submission),
 *  and in a dry run the scripts' text (a submission has written them to script_path). */
function planJson(sw: Sweep, o: SlurmOptions, plan: Job[], ids: Record<string, string> | null) {
  return {
    spec_hash: sw.hash,
    n_runs: sw.runs.length,
    out: o.out,
    result: join(o.out, "all"),
    spec: o.spec,
    logs: join(o.out, "logs"),
    kernels: o.kernels,
    rates: o.rates, // the kernels whose measured rates est_seconds takes
    cpus_per_task: o.cpusPerTask,
    max_running: o.maxRunning,
    dry_run: ids === null,
    jobs: plan.map((j) => ({
      key: j.key,
      name: j.name,
      after: j.after,
      // null for the merges, which are single tasks
      tasks: j.load?.tasks ?? null,
      runs: j.load?.runs ?? null,
      min_runs: j.load?.minRuns ?? null,
      max_runs: j.load?.maxRuns ?? null,
      max_steps: j.load?.maxSteps ?? null,
      max_flops: j.load?.maxFlops ?? null,
      est_seconds: j.load ? Math.ceil(taskSeconds(j.load, o.cpusPerTask)) : null, // the heaviest task's
      script_path: scriptPath(o, j),
      job_id: ids?.[j.key] ?? null,
      ...(ids === null ? { script: j.script } : {}),
    })),
  };
}

/** Refuse arrays the cluster rejects: indices 0 … tasks − 1 must be below its MaxArraySize. Checked where
 *  scontrol answers; without scontrol on PATH (a dry run away from the cluster) there is nothing to ask. */
function checkMaxArraySize(plan: Job[], argv: Record<string, unknown>): void {
  const r = spawnSync("scontrol", ["show", "config"], { encoding: "utf8", timeout: 5000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") return;
  const max = r.status === 0 ? maxArraySize(r.stdout) : null;
  if (max === null) {
    const why = r.error ? r.error.message : r.status !== 0 ? `exit ${r.status}` : "no MaxArraySize line";
    process.stderr.write(`groksweep: scontrol show config did not answer (${why}): array sizes not checked\n`);
    return;
  }
  const tasks = Math.max(...plan.map((j) => j.load?.tasks ?? 0));
  if (tasks > max)
    throw new UsageError(
      "--array-size",
      argv["array-size"],
      `at most ${max}, this cluster's MaxArraySize (an array of ${tasks} tasks has indices up to ${tasks - 1})`,
    );
}

/** Refuse a second submission into OUT while the first is still queued or running: two tasks would write one
 *  shard directory. */
function checkPrevious(out: string, sw: Sweep): void {
  const prev = join(out, "slurm", JOBS);
  if (!existsSync(prev)) return;
  const p = JSON.parse(readFileSync(prev, "utf8")) as { spec_hash: string; jobs: Record<string, string> };
  if (p.spec_hash !== sw.hash)
    throw new UsageError(
      "--out",
      out,
      `a directory of this sweep (it holds a submission of spec ${p.spec_hash}, this spec is ${sw.hash})`,
    );
  const ids = Object.values(p.jobs);
  const q = spawnSync("squeue", ["-h", "-o", "%i %T", "-j", ids.join(",")], { encoding: "utf8" });
  const active = q.status === 0 ? q.stdout.trim() : ""; // unknown ids (long gone) make squeue fail: nothing active
  if (active)
    throw new UsageError(
      "--out",
      out,
      "a directory without queued or running jobs of a previous submission " +
        `(squeue: ${active.split("\n").join(", ")}; wait, or scancel ${ids.join(" ")})`,
    );
}

/** The job id, or null after printing why sbatch refused (a site limit, an impossible request). */
function submit(file: string, dependency: string | null): string | null {
  const r = spawnSync("sbatch", ["--parsable", ...(dependency ? [`--dependency=afterok:${dependency}`] : []), file], {
    encoding: "utf8",
  });
  if (r.error)
    throw new UsageError(
      "sbatch",
      undefined,
      `Slurm's sbatch on PATH (${r.error.message}); --dry-run prints the scripts without it`,
    );
  const id = /^(\d+)/.exec(r.stdout.trim()); // --parsable prints "id" or "id;cluster"
  if (r.status === 0 && id) return id[1];
  process.stderr.write(`groksweep: sbatch ${file} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}\n`);
  return null;
}

export async function handler(argv: Record<string, unknown>): Promise<void> {
  const specPath = resolve(String(argv.spec));
  const sw = expand(readSpec(specPath));
  const out = resolve(String(argv.out));
  // #SBATCH lines split on whitespace and --output expands %: keep the paths plain
  if (/[\s%'"\\]/.test(out))
    throw new UsageError(
      "--out",
      argv.out,
      "a path without whitespace, quotes, backslashes or % (it goes into #SBATCH lines)",
    );
  const choice = kernelChoice(argv);
  checkOutDir(out);
  const kernels = loadKernels(choice);
  const o: SlurmOptions = {
    out,
    spec: join(out, "slurm", `spec${extname(specPath) || ".yaml"}`),
    node: process.execPath,
    bin: join(ROOT, "bin", "groksweep.js"),
    name: `gs-${(typeof sw.doc.name === "string" ? sw.doc.name : sw.hash.slice(0, 8)).replace(/[^\w.-]+/g, "_")}`,
    arraySize: posInt(argv, "array-size", 100_000),
    maxRunning: argv["max-running"] === undefined ? null : posInt(argv, "max-running"),
    cpusPerTask: posInt(argv, "cpus-per-task", 1024),
    time: typeof argv.time === "string" ? argv.time : null,
    partition: typeof argv.partition === "string" ? argv.partition : null,
    sbatch: ((argv.sbatch as string[] | undefined) ?? []).map(String),
    kernels: kernels.name,
    rates: rateKey(kernels), // the tasks run this node (o.node), so at its SIMD width
    compression: curvesCompression() === null ? "none" : "zstd",
  };
  const plan = jobs(sw, o);
  checkMaxArraySize(plan, argv);
  const json = argv.json === true;
  const head = `spec ${sw.hash}: ${sw.runs.length} runs as ${plan.length} jobs → ${join(out, "all")}`;
  if (argv["dry-run"]) {
    if (json) {
      process.stdout.write(JSON.stringify(planJson(sw, o, plan, null)) + "\n");
      return;
    }
    const lines = [
      head,
      ...plan.map((j) => "  " + describeJob(j, o)),
      `the tasks read ${o.spec}, a copy of ${specPath} made at submission`,
      "",
    ];
    for (const j of plan) {
      lines.push(
        `# ---- ${scriptPath(o, j)}: sbatch --parsable` +
          `${j.after ? ` --dependency=afterok:<${j.after} job id>` : ""} ${j.key}.sbatch`,
        j.script,
      );
    }
    process.stdout.write(lines.join("\n") + "\n");
    return;
  }
  checkPrevious(out, sw);
  makeDir(join(out, "slurm"), out);
  makeDir(join(out, "logs"), out);
  // the tasks read a frozen copy: editing SPEC while jobs wait cannot split the sweep between two specs
  if (specPath !== o.spec) copyFileSync(specPath, o.spec);
  const ids: Record<string, string> = {};
  const say = (s: string): void => void (json || process.stdout.write(s)); // --json: the one object at the end
  say(head + "\n");
  let failed = false;
  for (const j of plan) {
    const file = scriptPath(o, j);
    writeFileSync(file, j.script, { mode: 0o755 });
    const id = submit(file, j.after ? ids[j.after] : null);
    if (id === null) {
      if (Object.keys(ids).length)
        process.stderr.write(
          `groksweep: submitted before the failure: ${Object.values(ids).join(" ")} ` +
            "(scancel them, or let them finish and resubmit)\n",
        );
      process.exitCode = 1;
      failed = true;
      break;
    }
    ids[j.key] = id;
    // recorded after every submission, so a partial submission is known to the next one; through a temporary
    // name, so an interrupted write cannot leave a jobs.json that the next submission fails to parse
    writeAtomic(
      join(out, "slurm", JOBS),
      JSON.stringify({ spec_hash: sw.hash, submitted: new Date().toISOString(), jobs: ids }, null, 2) + "\n",
    );
    say(`  ${j.key.padEnd(13)} job ${ids[j.key]}  ${describeJob(j, o)}\n`);
  }
  // with --json also after a failure: the ids of what was submitted (exit 1 says the chain is incomplete)
  if (json) process.stdout.write(JSON.stringify(planJson(sw, o, plan, ids)) + "\n");
  else if (!failed)
    say(`logs in ${join(out, "logs")}; resubmit the same command after a failure: finished runs are skipped\n`);
}
