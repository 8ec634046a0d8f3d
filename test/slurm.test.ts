// `groksweep slurm` without Slurm: the generated sbatch scripts (--dry-run), their submission order
// and dependencies (a stand-in sbatch on PATH), and the scripts themselves, run by bash as Slurm
// would run them, reproducing a single-machine sweep. The real cluster: test/cluster/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, tmp, specFile, runRows, curveRows, TINY } from "./helpers.js";
import { maxArraySize } from "../src/slurm.js";

/** The scripts printed by --dry-run, by file name. */
function scripts(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const chunk of stdout.split(/^# ---- /m).slice(1)) {
    const [head, ...body] = chunk.split("\n");
    out.set(/\/slurm\/([\w-]+\.sbatch):/.exec(head)![1], body.join("\n"));
  }
  return out;
}

/** A directory with stand-in sbatch (logs its arguments, prints ids 101, 102, …), squeue (prints $FAKE_SQUEUE)
 *  and scontrol (`show config` as a cluster with the given MaxArraySize answers; exit 1 with null: no controller). */
function fakeSlurm(maxArray: number | null = 1001): { path: string; log: string } {
  const bin = tmp(),
    log = join(bin, "sbatch.log");
  const config =
    maxArray === null
      ? "echo 'slurm_load_ctl_conf error: Unable to contact slurm controller' >&2; exit 1"
      : `printf 'Configuration data as of 2024-01-01T00:00:00\\nMaxArraySize            = ${maxArray}\\n'` +
        `'MaxJobCount             = 10000\\n'`;
  writeFileSync(join(bin, "sbatch"), `#!/bin/sh\necho "$@" >> ${log}\necho $((100 + $(wc -l < ${log})))\n`);
  writeFileSync(join(bin, "squeue"), `#!/bin/sh\nprintf '%s' "$FAKE_SQUEUE"\n`);
  writeFileSync(join(bin, "scontrol"), `#!/bin/sh\n${config}\n`);
  for (const f of ["sbatch", "squeue", "scontrol"]) chmodSync(join(bin, f), 0o755);
  return { path: `${bin}:${process.env.PATH}`, log };
}

test("--dry-run prints the four chained scripts of a wc: measure spec and writes nothing", () => {
  const out = join(tmp(), "out");
  const r = cli([
    "slurm",
    TINY,
    "--out",
    out,
    "--array-size",
    "3",
    "--cpus-per-task",
    "2",
    "--time",
    "1:00:00",
    "--sbatch=--account=abc",
    "--dry-run",
    "--kernels",
    "strict",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!existsSync(out));
  assert.match(r.stdout, /12 runs as 4 jobs/);
  assert.match(
    r.stdout,
    /gs-tiny-control: array of 3 tasks × 2 CPUs, 4 runs \(1–2 per task\); heaviest task ≤ 3,000 steps/,
  );
  assert.match(
    r.stdout,
    /gs-tiny-dependent: array of 3 tasks × 2 CPUs, 8 runs \(2–3 per task\), after merge-control succeeds/,
  );
  const s = scripts(r.stdout);
  assert.deepEqual([...s.keys()], ["control.sbatch", "merge-control.sbatch", "dependent.sbatch", "merge.sbatch"]);
  assert.match(r.stdout, /merge-control\.sbatch: sbatch --parsable --dependency=afterok:<control job id>/);
  assert.match(r.stdout, /dependent\.sbatch: sbatch --parsable --dependency=afterok:<merge-control job id>/);
  assert.match(r.stdout, /merge\.sbatch: sbatch --parsable --dependency=afterok:<dependent job id>/);
  for (const [name, text] of s) {
    for (const opt of ["--signal=B:TERM@60", "--requeue", "--time=1:00:00", "--account=abc", "--open-mode=append"])
      assert.match(text, new RegExp(`^#SBATCH ${opt}$`, "m"), `${name} ${opt}`);
    assert.equal(/^#SBATCH --kill-on-invalid-dep=yes$/m.test(text), name !== "control.sbatch", name);
    // the last line execs node, so the batch step's TERM reaches it
    assert.match(text.trimEnd().split("\n").pop()!, /^exec \S+node\S* \S+\/bin\/groksweep\.js (sweep|merge) /, name);
  }
  const spec = join(out, "slurm", "spec.yaml");
  assert.match(s.get("control.sbatch")!, /^#SBATCH --array=0-2$/m);
  assert.match(s.get("control.sbatch")!, /^#SBATCH --cpus-per-task=2$/m);
  const task = "--workers $SLURM_CPUS_PER_TASK --kernels strict --out";
  const shard = "--shard $SLURM_ARRAY_TASK_ID/3";
  const dir = (x: string) => `${out}/${x}-$SLURM_ARRAY_TASK_ID`;
  assert.ok(s.get("control.sbatch")!.includes(`sweep ${spec} --phase control ${shard} ${task} ${dir("control")}`));
  assert.ok(s.get("merge-control.sbatch")!.includes(`merge ${out}/control-{0..2} --out ${out}/controls`));
  const wcFrom = `--wc-from ${out}/controls/runs.arrow`;
  assert.ok(s.get("dependent.sbatch")!.includes(`--phase dependent ${shard} ${wcFrom} ${task} ${dir("dependent")}`));
  assert.ok(s.get("merge.sbatch")!.includes(`merge ${out}/controls ${out}/dependent-{0..2} --out ${out}/all`));
});

test("arrays are no larger than their phase; a spec without wc: measure is one array and a merge", () => {
  const capped = cli(["slurm", TINY, "--out", tmp(), "--array-size", "100", "--dry-run"]);
  assert.equal(capped.code, 0, capped.stderr);
  assert.match(scripts(capped.stdout).get("control.sbatch")!, /^#SBATCH --array=0-3$/m);
  assert.match(scripts(capped.stdout).get("dependent.sbatch")!, /^#SBATCH --array=0-7$/m);
  const out = tmp();
  const plain = cli([
    "slurm",
    specFile({ p: 11, d: 8, H: 12, lr: [1e-3, 2e-3], seeds: 5 }),
    "--out",
    out,
    "--array-size",
    "4",
    "--dry-run",
  ]);
  assert.equal(plain.code, 0, plain.stderr);
  const s = scripts(plain.stdout);
  assert.deepEqual([...s.keys()], ["sweep.sbatch", "merge.sbatch"]);
  assert.match(plain.stdout, /array of 4 tasks × 4 CPUs, 10 runs \(2–3 per task\)/);
  assert.ok(s.get("sweep.sbatch")!.includes(`sweep ${out}/slurm/spec.json --shard $SLURM_ARRAY_TASK_ID/4 --workers`));
  assert.ok(s.get("merge.sbatch")!.includes(`merge ${out}/sweep-{0..3} --out ${out}/all`));
});

test(
  "submission: afterok chain in order, frozen spec, job ids recorded; " +
    "the scripts run by bash reproduce the single-machine sweep",
  () => {
    const { path, log } = fakeSlurm();
    const out = join(tmp(), "out");
    // tiny.yaml cut to 2 controls and 2 clamp runs: every script runs, in seconds
    const spec = specFile({
      name: "mini",
      p: 23,
      d: 32,
      H: 64,
      frac: 0.8,
      lr: 1e-2,
      "max-steps": 1500,
      "stop-at-grok": true,
      seeds: 2,
      blocks: [{ arm: "free" }, { arm: "clamp", rho: 1.1, wc: "measure", "t-int": 100 }],
    });
    const r = cli(["slurm", spec, "--out", out, "--array-size", "2", "--cpus-per-task", "2"], { PATH: path });
    assert.equal(r.code, 0, r.stderr);
    const dir = join(out, "slurm");
    assert.deepEqual(readFileSync(log, "utf8").trim().split("\n"), [
      `--parsable ${dir}/control.sbatch`,
      `--parsable --dependency=afterok:101 ${dir}/merge-control.sbatch`,
      `--parsable --dependency=afterok:102 ${dir}/dependent.sbatch`,
      `--parsable --dependency=afterok:103 ${dir}/merge.sbatch`,
    ]);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "jobs.json"), "utf8")).jobs, {
      control: "101",
      "merge-control": "102",
      dependent: "103",
      merge: "104",
    });
    assert.match(r.stdout, /control +job 101 /);
    assert.equal(readFileSync(join(dir, "spec.json"), "utf8"), readFileSync(spec, "utf8"));

    // what Slurm would do: each array task with its index and CPU count, each job after the previous one
    const sbatch = (name: string, env: Record<string, string> = {}) => {
      const x = spawnSync("bash", [join(dir, name)], {
        encoding: "utf8",
        env: { ...process.env, SLURM_CPUS_PER_TASK: "2", ...env },
      });
      assert.equal(x.status, 0, `${name} ${JSON.stringify(env)}: ${x.stderr}`);
    };
    for (const i of ["0", "1"]) sbatch("control.sbatch", { SLURM_ARRAY_TASK_ID: i });
    sbatch("merge-control.sbatch");
    for (const i of ["0", "1"]) sbatch("dependent.sbatch", { SLURM_ARRAY_TASK_ID: i });
    sbatch("merge.sbatch");
    const single = tmp();
    assert.equal(cli(["sweep", spec, "--out", single, "--quiet"]).code, 0);
    assert.equal(runRows(single).length, 4);
    assert.deepEqual(runRows(join(out, "all")), runRows(single));
    assert.deepEqual(curveRows(join(out, "all")), curveRows(single));
  },
);

test("a second submission is refused while the first is queued, or when OUT holds another spec", () => {
  const { path } = fakeSlurm();
  const out = tmp();
  assert.equal(cli(["slurm", TINY, "--out", out, "--array-size", "2"], { PATH: path }).code, 0);
  const busy = cli(["slurm", TINY, "--out", out, "--array-size", "2"], {
    PATH: path,
    FAKE_SQUEUE: "101_1 RUNNING\n103 PENDING\n",
  });
  assert.equal(busy.code, 2);
  assert.match(
    busy.stderr,
    new RegExp(
      String.raw`without queued or running jobs of a previous submission \(squeue: 101_1 RUNNING, 103 PENDING; ` +
        String.raw`wait, or scancel 101 102 103 104\)`,
    ),
  );
  assert.equal(
    cli(["slurm", TINY, "--out", out, "--array-size", "2"], { PATH: path }).code,
    0,
    "once the queue is empty",
  );
  const other = cli(["slurm", specFile({ p: 11, d: 8, H: 12 }), "--out", out], { PATH: path });
  assert.equal(other.code, 2);
  assert.match(other.stderr, /it holds a submission of spec [0-9a-f]{16}, this spec is [0-9a-f]{16}/);
});

test("bad input: array size, CPUs, an --out sbatch cannot take, no sbatch", () => {
  const bad = (args: string[], re: RegExp, env: Record<string, string> = {}) => {
    const r = cli(["slurm", TINY, ...args], env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
  };
  bad(
    ["--out", tmp(), "--array-size", "0", "--dry-run"],
    /--array-size: expected an integer in \[1, 100000\], got "0"/,
  );
  bad(["--out", tmp(), "--cpus-per-task", "two", "--dry-run"], /--cpus-per-task: expected an integer/);
  const spaced = join(tmp(), "my out");
  mkdirSync(spaced);
  bad(["--out", spaced, "--dry-run"], /--out: expected a path without whitespace/);
  bad(["--out", tmp()], /sbatch: missing: expected Slurm's sbatch on PATH .*--dry-run prints the scripts without it/, {
    PATH: tmp(),
  });
});

test("--max-running throttles every array, not the merges; bad values are refused", () => {
  const r = cli(["slurm", TINY, "--out", tmp(), "--array-size", "3", "--max-running", "2", "--dry-run"]);
  assert.equal(r.code, 0, r.stderr);
  const s = scripts(r.stdout);
  assert.match(s.get("control.sbatch")!, /^#SBATCH --array=0-2%2$/m);
  assert.match(s.get("dependent.sbatch")!, /^#SBATCH --array=0-2%2$/m);
  for (const m of ["merge-control.sbatch", "merge.sbatch"]) assert.doesNotMatch(s.get(m)!, /--array/, m);
  assert.match(r.stdout, /gs-tiny-control: array of 3 tasks × 4 CPUs, at most 2 at once, 4 runs/);
  for (const v of ["0", "-1", "1.5", "two"]) {
    const bad = cli(["slurm", TINY, "--out", tmp(), "--max-running", v, "--dry-run"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(bad.stderr, `groksweep: --max-running: expected an integer ≥ 1, got "${v}"\n`);
  }
});

test("maxArraySize reads scontrol show config", () => {
  const config = [
    "Configuration data as of 2024-05-01T10:00:00",
    "MailProg                = /bin/mail",
    "MaxArraySize            = 1001",
    "MaxJobCount             = 10000",
    "",
  ].join("\n");
  assert.equal(maxArraySize(config), 1001);
  assert.equal(maxArraySize("MaxArraySize = 0\n"), 0); // arrays disabled: every array is refused
  assert.equal(maxArraySize("MaxJobCount             = 10000\n"), null);
  assert.equal(maxArraySize(""), null);
});

test("arrays above the cluster's MaxArraySize are refused, in a dry run too; no scontrol answer: a note", () => {
  // tiny.yaml: 4 controls and 8 dependent runs, so --array-size 8 makes an array of 8 tasks (indices 0 … 7)
  const { path, log } = fakeSlurm(7);
  const refused =
    "groksweep: --array-size: expected at most 7, this cluster's MaxArraySize " +
    '(an array of 8 tasks has indices up to 7), got "8"\n';
  for (const extra of [["--dry-run"], [], ["--json"]]) {
    const out = join(tmp(), "out");
    const r = cli(["slurm", TINY, "--out", out, "--array-size", "8", ...extra], { PATH: path });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, refused, extra.join(" "));
    assert.equal(r.stdout, "");
    assert.ok(!existsSync(out) && !existsSync(log), "nothing written, nothing submitted");
  }
  // at the limit: 7 tasks, indices 0 … 6
  const at = cli(["slurm", TINY, "--out", tmp(), "--array-size", "7", "--dry-run"], { PATH: path });
  assert.equal(at.code, 0, at.stderr);
  assert.equal(at.stderr, "");
  // a controller that does not answer: the check is skipped with one note
  const down = cli(["slurm", TINY, "--out", tmp(), "--array-size", "8", "--dry-run"], { PATH: fakeSlurm(null).path });
  assert.equal(down.code, 0, down.stderr);
  assert.equal(down.stderr, "groksweep: scontrol show config did not answer (exit 1): array sizes not checked\n");
});

test("--json: the dry-run plan with its scripts, and the submitted job ids", () => {
  const out = join(tmp(), "out");
  const args = ["slurm", TINY, "--out", out, "--array-size", "3", "--max-running", "2", "--json"];
  const dry = cli([...args, "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.ok(!existsSync(out));
  const plan = JSON.parse(dry.stdout);
  assert.match(plan.spec_hash, /^[0-9a-f]{16}$/);
  assert.equal(plan.n_runs, 12);
  assert.equal(plan.out, out);
  assert.equal(plan.result, join(out, "all"));
  assert.equal(plan.max_running, 2);
  assert.ok(["fma", "strict"].includes(plan.kernels));
  assert.deepEqual(
    plan.jobs.map((j: Record<string, unknown>) => [j.key, j.after, j.tasks, j.runs, j.min_runs, j.max_runs]),
    [
      ["control", null, 3, 4, 1, 2],
      ["merge-control", "control", null, null, null, null],
      ["dependent", "merge-control", 3, 8, 2, 3],
      ["merge", "dependent", null, null, null, null],
    ],
  );
  const human = scripts(cli([...args.slice(0, -1), "--dry-run"]).stdout);
  for (const j of plan.jobs) {
    assert.equal(j.name, `gs-tiny-${j.key}`);
    assert.equal(j.script_path, join(out, "slurm", `${j.key}.sbatch`));
    assert.equal(j.job_id, null);
    assert.equal(j.script + "\n", human.get(`${j.key}.sbatch`), j.key); // the text --dry-run prints
    if (j.tasks === null) continue;
    assert.ok(j.max_steps === 3000 || j.max_steps === 4500, j.key);
    assert.ok(j.max_flops > 0 && j.est_seconds >= 1, j.key);
  }

  const { path } = fakeSlurm();
  const sub = cli(args, { PATH: path });
  assert.equal(sub.code, 0, sub.stderr);
  const done = JSON.parse(sub.stdout); // the whole of stdout is the one object
  assert.equal(done.dry_run, false);
  assert.deepEqual(
    done.jobs.map((j: Record<string, unknown>) => [j.key, j.job_id, "script" in j]),
    [
      ["control", "101", false],
      ["merge-control", "102", false],
      ["dependent", "103", false],
      ["merge", "104", false],
    ],
  );
  for (const j of done.jobs) assert.equal(readFileSync(j.script_path, "utf8") + "\n", human.get(`${j.key}.sbatch`));
  // jobs.json went through a temporary name: no leftover beside it
  assert.deepEqual(
    readdirSync(join(out, "slurm")).filter((f) => f.includes(".tmp-")),
    [],
  );
  assert.deepEqual(JSON.parse(readFileSync(join(out, "slurm", "jobs.json"), "utf8")).jobs, {
    control: "101",
    "merge-control": "102",
    dependent: "103",
    merge: "104",
  });
});
