// Integration: `groksweep slurm` on a real single-node Slurm cluster (test/cluster/start.sh), end to
// end, with a preempted (requeued) task and a task stopped by TERM and resubmitted. Run by
// test/cluster/run.sh, which sets SLURM_CONF, or GROKSWEEP_SLURM_SKIP when the cluster cannot start.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { cli, tmp, specFile, runRows, curveRows } from "../helpers.js";
import { maxArraySize } from "../../src/slurm.js";

const SKIP =
  process.env.GROKSWEEP_SLURM_SKIP ||
  (process.env.SLURM_CONF ? false : "no cluster: SLURM_CONF is unset (run test/cluster/run.sh)");
const T = { timeout: 300_000, skip: SKIP };

// free controls + clamp at 0.9 and 1.1 × their measured Wc: 8 + 16 runs of ≤ 1 500 steps
const SPEC = {
  name: "cluster-e2e",
  p: 23,
  d: 32,
  H: 64,
  frac: 0.8,
  lr: 1e-2,
  "max-steps": 1500,
  "stop-at-grok": true,
  seeds: 8,
  blocks: [{ arm: "free" }, { arm: "clamp", rho: [0.9, 1.1], wc: "measure", "t-int": 100 }],
};
// run 16 (the dependent shard's 9th) sleeps 10 s first: the TERM finds the shard midway on any machine (a fast one
// finished all 16 runs in 3 s, between the first flush and the signal)
const STALL = { GROKSWEEP_FAULT: "stall:16" };
let spec = "",
  ref = "";
const submitted: string[] = [];

function run(cmd: string, args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout ?? "", err: r.stderr ?? "" };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, probe: () => T | null | false | undefined, ms = 180_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

/** Submit with `groksweep slurm`; the job ids by key from OUT/slurm/jobs.json. */
function submit(out: string, arraySize: number, env: Record<string, string> = {}): Record<string, string> {
  const r = cli(["slurm", spec, "--out", out, "--array-size", String(arraySize), "--cpus-per-task", "1"], env);
  assert.equal(r.code, 0, r.stderr);
  const ids = JSON.parse(readFileSync(join(out, "slurm", "jobs.json"), "utf8")).jobs as Record<string, string>;
  for (const id of Object.values(ids)) assert.match(r.stdout, new RegExp(`job ${id} `));
  submitted.push(...Object.values(ids));
  return ids;
}
/** A job as the controller shows it (no accounting needed): one line per task of an array. */
function job(id: string): string {
  const r = run("scontrol", ["-o", "show", "job", id]);
  assert.equal(r.code, 0, r.err);
  return r.out;
}
const states = (id: string) => [...job(id).matchAll(/JobState=(\S+)/g)].map((m) => m[1]);
function queued(ids: string[]): string {
  const r = run("squeue", ["-h", "-o", "%i", "-j", ids.join(",")]);
  assert.equal(r.code, 0, r.err);
  return r.out.trim();
}
const finished = (ids: Record<string, string>) =>
  until("the jobs to leave the queue", () => queued(Object.values(ids)) === "");
/** Wait until a running task has flushed finished runs (every 2 s) but not yet finished its shard. */
function midway(task: string, dir: string) {
  return until(`task ${task} to flush a part to ${dir}`, () => {
    if (existsSync(join(dir, ".parts")) && readdirSync(join(dir, ".parts")).some((f) => f.endsWith(".runs.arrow")))
      return true;
    if (existsSync(join(dir, "runs.arrow")))
      throw new Error(`task ${task} finished before it could be interrupted: the stalled run did not stall`);
    return false;
  });
}
/** run_id → wall_ms: a run computed again would get a new wall time. */
function wallMs(dir: string): Map<number, number> {
  return new Map(
    [...tableFromIPC(readFileSync(join(dir, "runs.arrow")))].map((r) => [r.run_id as number, r.wall_ms as number]),
  );
}
function assertSameAsReference(out: string) {
  assert.deepEqual(runRows(join(out, "all")), runRows(ref));
  assert.deepEqual(curveRows(join(out, "all")), curveRows(ref));
}

before(() => {
  if (SKIP) return;
  spec = specFile(SPEC);
  ref = tmp();
  const r = cli(["sweep", spec, "--out", ref, "--workers", "2", "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(runRows(ref).length, 24);
});

after(() => {
  const active = SKIP ? "" : queued(submitted);
  if (active) run("scancel", active.split("\n"));
});

test(
  "groksweep slurm: control array → merge → dependent array → merge equals a single-machine sweep row for row",
  T,
  async () => {
    const out = tmp();
    const ids = submit(out, 3);
    await finished(ids);
    for (const [key, id] of Object.entries(ids)) {
      const s = states(id);
      assert.deepEqual(
        s,
        Array(key === "control" || key === "dependent" ? 3 : 1).fill("COMPLETED"),
        `${key} (job ${id})`,
      );
    }
    assertSameAsReference(out);
    // every shard ran its share: run_id mod 3 within each phase
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(
        runRows(join(out, `control-${i}`)).map((r) => r.run_id),
        [0, 1, 2, 3, 4, 5, 6, 7].filter((id) => id % 3 === i),
      );
      assert.deepEqual(
        runRows(join(out, `dependent-${i}`)).map((r) => r.run_id),
        [...Array(16).keys()].map((k) => k + 8).filter((id) => id % 3 === i),
      );
    }
  },
);

test(
  "failed runs do not stall the chain: every job completes and the final merge holds the failed rows",
  T,
  async () => {
    const out = tmp();
    // sbatch exports the environment to the tasks: control 2 throws (permanent), dependent 12's worker dies on
    // every attempt (transient, retried twice, then recorded)
    const ids = submit(out, 2, { GROKSWEEP_FAULT: "throw:2,exit:12" });
    await finished(ids);
    for (const id of Object.values(ids)) for (const s of states(id)) assert.equal(s, "COMPLETED", `job ${id}`);
    const rows = [...tableFromIPC(readFileSync(join(out, "all", "runs.arrow")))].map((r) => r.toJSON());
    assert.equal(rows.length, 24);
    const failed = rows.filter((r) => r.status === "failed").map((r) => [r.run_id, r.error_kind, r.attempts]);
    assert.deepEqual(
      failed.sort((a, b) => (a[0] as number) - (b[0] as number)),
      [
        [2, "permanent", 1],
        [12, "transient", 3],
      ],
    );
    // the others are the reference's (the measured Wc now has 7 controls, so compare the free runs only)
    const refRows = runRows(ref).filter((r) => (r.run_id as number) < 8 && r.run_id !== 2);
    assert.deepEqual(
      runRows(join(out, "all")).filter((r) => (r.run_id as number) < 8 && r.run_id !== 2),
      refRows,
    );
  },
);

test(
  "preemption: a requeued task gets TERM, leaves valid files, and resumes its shard without recomputing",
  T,
  async () => {
    const out = tmp();
    const ids = submit(out, 1, STALL); // one dependent task of 16 runs, run 16 asleep for 10 s: time to interrupt it
    const task = `${ids.dependent}_0`,
      dir = join(out, "dependent-0");
    await midway(task, dir);
    const rq = run("scontrol", ["requeue", task]);
    assert.equal(rq.code, 0, rq.err);
    // Slurm holds a requeued job back (BeginTime): the interrupted attempt's files can be read meanwhile
    await until("the requeued task to wait", () => /PENDING/.test(run("squeue", ["-h", "-o", "%T", "-j", task]).out));
    const before = wallMs(dir);
    assert.ok(before.size >= 1 && before.size < 16, `${before.size} of 16 runs finished before the requeue`);
    assert.ok(!existsSync(join(dir, ".parts")), "TERM compacted the parts into runs.arrow");
    // release it early, but not within the second of the requeue: slurmd refuses a launch credential
    // no newer than the revocation of the old one ("Job credential revoked"), which is what the hold avoids
    await sleep(2_000);
    assert.equal(run("scontrol", ["update", `JobId=${task}`, "StartTime=now"]).code, 0);
    await finished(ids);
    for (const id of Object.values(ids)) for (const s of states(id)) assert.equal(s, "COMPLETED", `job ${id}`);
    assert.match(job(task), / Restarts=1 /);
    const log = readFileSync(join(out, "logs", `gs-cluster-e2e-dependent-${ids.dependent}_0.out`), "utf8");
    assert.match(log, new RegExp(`${before.size}/16 runs[^]*16/16 runs`), "both attempts in the log");
    const afterwards = wallMs(join(out, "all"));
    for (const [id, ms] of before) assert.equal(afterwards.get(id), ms, `run ${id} kept its first result`);
    assertSameAsReference(out);
  },
);

test(
  "scancel --batch --signal=TERM: the task exits 143 with valid files, the merge after it is cancelled, " +
    "and resubmitting completes without recomputing",
  T,
  async () => {
    const out = tmp();
    const ids = submit(out, 1, STALL);
    // a second submission into the same directory while the first is queued would share shard dirs
    const twice = cli(["slurm", spec, "--out", out, "--array-size", "1", "--cpus-per-task", "1"]);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /without queued or running jobs of a previous submission/);
    const task = `${ids.dependent}_0`,
      dir = join(out, "dependent-0");
    await midway(task, dir);
    const kill = run("scancel", ["--batch", "--signal=TERM", task]);
    assert.equal(kill.code, 0, kill.err);
    await finished(ids);
    assert.match(job(task), /JobState=FAILED .* ExitCode=143:0 /);
    assert.match(job(ids.merge), /JobState=CANCELLED Reason=DependencyNeverSatisfied/);
    const before = wallMs(dir);
    assert.ok(before.size >= 1 && before.size < 16, `${before.size} of 16 runs finished before TERM`);
    assert.ok(!existsSync(join(out, "all")));

    const again = submit(out, 1);
    await finished(again);
    for (const id of Object.values(again)) for (const s of states(id)) assert.equal(s, "COMPLETED", `job ${id}`);
    const afterwards = wallMs(join(out, "all"));
    for (const [id, ms] of before) assert.equal(afterwards.get(id), ms, `run ${id} kept its first result`);
    assertSameAsReference(out);
  },
);

test(
  "the controller's MaxArraySize bounds the arrays; --max-running reaches Slurm; --json has the job ids",
  T,
  async () => {
    const max = maxArraySize(run("scontrol", ["show", "config"]).out);
    assert.ok(max !== null && max >= 2, `MaxArraySize ${max}`);
    const many = specFile({ p: 11, d: 8, H: 12, "max-steps": 10, seeds: max + 1 }); // expanded only: a dry run
    const over = cli(["slurm", many, "--out", tmp(), "--array-size", String(max + 1), "--dry-run"]);
    assert.equal(over.code, 2, over.stderr);
    assert.match(over.stderr, new RegExp(`--array-size: expected at most ${max}, this cluster's MaxArraySize`));
    assert.equal(cli(["slurm", many, "--out", tmp(), "--array-size", String(max), "--dry-run"]).code, 0);

    const out = tmp();
    const small = specFile({ name: "throttled", p: 11, d: 8, H: 12, "max-steps": 200, seeds: 4 });
    const args = ["--array-size", "4", "--cpus-per-task", "1", "--max-running", "1", "--json"];
    const r = cli(["slurm", small, "--out", out, ...args]);
    assert.equal(r.code, 0, r.stderr);
    const ids = Object.fromEntries(
      JSON.parse(r.stdout).jobs.map((j: { key: string; job_id: string }) => [j.key, j.job_id]),
    );
    submitted.push(...Object.values(ids));
    assert.deepEqual(ids, JSON.parse(readFileSync(join(out, "slurm", "jobs.json"), "utf8")).jobs);
    assert.match(job(ids.sweep), /ArrayTaskThrottle=1 /);
    await finished(ids);
    for (const id of Object.values(ids)) for (const s of states(id)) assert.equal(s, "COMPLETED", `job ${id}`);
    assert.equal(runRows(join(out, "all")).length, 4);
  },
);
