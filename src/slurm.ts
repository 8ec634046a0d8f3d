// The sbatch scripts of a sweep on Slurm (README "Running on a cluster"): one job array per phase
// and a merge after each, chained with afterok. Pure functions: `groksweep slurm` writes and submits.
import type { Sweep } from "./spec.js";
import type { Phase } from "./sweep.js";
import type { RateKey } from "./cost.js";

export interface SlurmOptions {
  out: string; // absolute output directory, on a filesystem every node sees
  spec: string; // absolute path of the spec the tasks read (the frozen copy in OUT/slurm/)
  node: string; // absolute path of node (the one running groksweep slurm)
  bin: string; // absolute path of bin/groksweep.js
  name: string; // job name prefix
  arraySize: number; // tasks per array, at most the runs of its phase
  maxRunning: number | null; // array throttle: at most this many tasks of an array run at once (--array=…%k)
  cpusPerTask: number;
  time: string | null;
  partition: string | null;
  sbatch: string[]; // extra #SBATCH options
  /** the kernels every task runs (resolved at submission: tasks on nodes that cannot run them exit 2
   *  instead of mixing builds in one sweep) */
  kernels: "fma" | "strict";
  /** the rates of those kernels at this Node's SIMD width, which the time bounds take (src/cost.ts) */
  rates: RateKey;
  /** --compression of the curves the tasks and merges write */
  compression: "zstd" | "none";
}

/** How an array divides its phase: runs and the cost bound of its heaviest task. */
export interface Load {
  tasks: number;
  runs: number;
  minRuns: number;
  maxRuns: number;
  maxFlops: number;
  maxSteps: number;
  /** time bounds on one core (src/cost.ts): the heaviest task's runs, and the longest single run */
  maxSeconds: number;
  longestSeconds: number;
}

export interface Job {
  key: "control" | "merge-control" | "dependent" | "sweep" | "merge";
  name: string;
  after: Job["key"] | null; // submitted with --dependency=afterok:<that job's id>
  load: Load | null; // null for merges
  script: string;
}

/** The array's tasks are shards i/n of one phase; a task's bound is its runs' max-steps FLOPs, and its time
 *  at the rates of the kernels the tasks run. */
export function load(sw: Sweep, phase: Phase | null, arraySize: number, rates: RateKey): Load {
  const runs = sw.runs.filter((r) => !phase || (phase === "control" ? r.measure === null : r.measure !== null));
  const tasks = Math.min(arraySize, runs.length);
  const n = new Array(tasks).fill(0),
    flops = new Array(tasks).fill(0),
    steps = new Array(tasks).fill(0);
  const secs = new Array(tasks).fill(0);
  let longestSeconds = 0;
  // the same partition as `sweep --shard i/n`: run_id mod n, within the phase
  for (const r of runs) {
    const i = r.runId % tasks;
    n[i]++;
    flops[i] += r.cost;
    steps[i] += r.cfg.maxSteps;
    const t = r.seconds(rates);
    secs[i] += t;
    longestSeconds = Math.max(longestSeconds, t);
  }
  const heaviest = secs.indexOf(Math.max(...secs));
  return {
    tasks,
    runs: runs.length,
    minRuns: Math.min(...n),
    maxRuns: Math.max(...n),
    maxFlops: flops[heaviest],
    maxSteps: steps[heaviest],
    maxSeconds: secs[heaviest],
    longestSeconds,
  };
}

/** Wall-time bound of the heaviest task: its runs spread over its workers, never less than its longest run. */
export function taskSeconds(l: Load, cpus: number): number {
  return Math.max(l.maxSeconds / cpus, l.longestSeconds);
}

/** The cluster's MaxArraySize from `scontrol show config` (a line `MaxArraySize            = 1001`), or null
 *  when the text has none. Array indices must be below it, so an array may have at most that many tasks. */
export function maxArraySize(config: string): number | null {
  const m = /^\s*MaxArraySize\s*=\s*(\d+)\s*$/m.exec(config);
  return m ? Number(m[1]) : null;
}

/** Quote for bash unless plainly safe. */
export const sh = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function jobs(sw: Sweep, o: SlurmOptions): Job[] {
  const gs = `exec ${sh(o.node)} ${sh(o.bin)}`,
    z = o.compression === "none" ? " --compression none" : "";
  const dir = (sub: string) => sh(`${o.out}/${sub}`);
  const shard = (n: number) => `--shard $SLURM_ARRAY_TASK_ID/${n}`;
  // bash brace expansion: exactly this array's dirs
  const all = (sub: string, n: number) => `${dir(`${sub}-`)}{0..${n - 1}}`;
  const array = (
    key: Job["key"],
    phase: Phase | null,
    after: Job["key"] | null,
    args: (n: number) => string,
    why: string,
  ): Job => {
    const l = load(sw, phase, o.arraySize, o.rates);
    return {
      key,
      after,
      load: l,
      name: `${o.name}-${key}`,
      script: script(o, `${o.name}-${key}`, after !== null, l.tasks, [
        `# groksweep slurm: ${why} of spec ${sw.hash}, ${l.runs} runs as ${l.tasks} shards (run_id mod ${l.tasks});`,
        `# this task runs shard $SLURM_ARRAY_TASK_ID with $SLURM_CPUS_PER_TASK workers. exec: node is the batch step`,
        `# itself, so the TERM of --signal=B:TERM, of preemption or of \`scancel --batch --signal=TERM\` reaches it:`,
        `# it writes valid files and exits 143, and the requeued or resubmitted task skips the finished runs.`,
        `${gs} sweep ${sh(o.spec)} ${args(l.tasks)} --workers $SLURM_CPUS_PER_TASK --kernels ${o.kernels} ` +
          `--out ${dir(key)}-$SLURM_ARRAY_TASK_ID${z}`,
      ]),
    };
  };
  const merge = (key: Job["key"], after: Job["key"], inputs: string, to: string, why: string): Job => ({
    key,
    after,
    load: null,
    name: `${o.name}-${key}`,
    script: script(o, `${o.name}-${key}`, true, null, [
      `# groksweep slurm: ${why}; exits 1 (and so holds back what depends on it) if any run is missing.`,
      `${gs} merge ${inputs} --out ${dir(to)}${z}`,
    ]),
  });
  if (!sw.runs.some((r) => r.measure !== null)) {
    const a = array("sweep", null, null, (n) => shard(n), "every run");
    return [a, merge("merge", "sweep", all("sweep", a.load!.tasks), "all", "merge the shards into OUT/all")];
  }
  // wc: measure needs the controls of every shard, so the dependent array waits for their merge
  const c = array("control", "control", null, (n) => `--phase control ${shard(n)}`, "the free controls");
  const d = array(
    "dependent",
    "dependent",
    "merge-control",
    (n) => `--phase dependent ${shard(n)} --wc-from ${dir("controls/runs.arrow")}`,
    "the runs with wc: measure",
  );
  return [
    c,
    merge(
      "merge-control",
      "control",
      all("control", c.load!.tasks),
      "controls",
      "merge the controls into OUT/controls, whose Wc the dependent array reads",
    ),
    d,
    merge(
      "merge",
      "dependent",
      `${dir("controls")} ${all("dependent", d.load!.tasks)}`,
      "all",
      "merge controls and dependent runs into OUT/all",
    ),
  ];
}

function script(o: SlurmOptions, name: string, dependent: boolean, tasks: number | null, body: string[]): string {
  const opts = [
    `--job-name=${name}`,
    ...(tasks !== null
      ? [`--array=0-${tasks - 1}${o.maxRunning ? `%${o.maxRunning}` : ""}`, `--cpus-per-task=${o.cpusPerTask}`]
      : ["--cpus-per-task=1"]),
    `--output=${o.out}/logs/${tasks !== null ? "%x-%A_%a" : "%x-%j"}.out`,
    "--open-mode=append", // a requeued task's log keeps the interrupted attempt
    ...(o.time ? [`--time=${o.time}`] : []),
    ...(o.partition ? [`--partition=${o.partition}`] : []),
    // before a time limit, TERM to node itself (B: the batch step, which exec makes node)
    "--signal=B:TERM@60",
    // preempted or failed-node tasks go back to the queue and resume their shard
    "--requeue",
    // a failed upstream task cancels this job instead of leaving it pending forever, so resubmitting is clean
    ...(dependent ? ["--kill-on-invalid-dep=yes"] : []),
    ...o.sbatch,
  ];
  return ["#!/bin/bash", ...opts.map((x) => `#SBATCH ${x}`), ...body, ""].join("\n");
}
