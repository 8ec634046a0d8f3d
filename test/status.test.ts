// `groksweep status`: finished, interrupted and running sweep directories, merged output, a `groksweep slurm`
// OUT with a stand-in squeue, --json and --watch, and bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, cli, specFile, tmp } from "./helpers.js";
import { ranges } from "../src/status.js";

const SPEC = { p: 23, d: 32, H: 64, frac: 0.8, lr: 1e-2, "max-steps": 1500, seeds: 16 };
const status = (args: string[], env: Record<string, string> = {}) => cli(["status", ...args], env);
const json = (args: string[], env: Record<string, string> = {}) => JSON.parse(status([...args, "--json"], env).stdout);

test("ranges: consecutive run_ids collapse, long lists end in …", () => {
  assert.equal(ranges([0, 1, 2, 5, 7, 8]), "0-2, 5, 7-8");
  assert.equal(ranges([]), "");
  assert.equal(ranges([1, 3, 5, 7], 2), "1, 3, …");
});

test("a finished sweep, an interrupted one and a running one (parts, throughput, ETA)", async () => {
  const spec = specFile(SPEC),
    out = tmp();
  const child = spawn(process.execPath, [BIN, "sweep", spec, "--out", out, "--workers", "1", "--quiet"], {
    stdio: "ignore",
  });
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  const parts = join(out, ".parts");
  for (let t0 = Date.now(); Date.now() - t0 < 60_000; await new Promise((r) => setTimeout(r, 50)))
    if (existsSync(parts) && readdirSync(parts).some((f) => f.endsWith(".runs.arrow"))) break;
  child.kill("SIGSTOP"); // a sweep caught mid-way, its parts not yet compacted
  const running = json([out]).dirs[0];
  child.kill("SIGCONT");
  assert.equal(running.state, "running");
  assert.ok(running.parts >= 1 && running.counts.done >= 1 && running.counts.done < 16, JSON.stringify(running));
  assert.equal(running.counts.total, 16);
  assert.equal(running.missing, 16 - running.counts.done);
  assert.ok(running.runs_per_min > 0 && running.eta_s > 0, JSON.stringify(running));
  child.kill("SIGTERM");
  assert.equal(await exited, 143);
  const partial = json([out]).dirs[0];
  assert.equal(partial.state, "partial");
  assert.equal(partial.parts, 0);
  assert.match(status([out]).stdout, new RegExp(`${partial.counts.done}/16 runs .*partial; missing run_id \\d`));
  assert.equal(cli(["sweep", spec, "--out", out, "--quiet"]).code, 0);
  const done = json([out]).dirs[0];
  assert.deepEqual([done.state, done.counts.done, done.missing, done.eta_s], ["complete", 16, 0, null]);
  // --watch on complete directories prints once and ends
  const w = status([out, "--watch", "1"]);
  assert.equal(w.code, 0);
  assert.match(w.stdout, /16\/16 runs — .* complete/);
});

test("shards, failures by kind, merged output and a groksweep slurm OUT with the jobs' state", () => {
  const out = tmp();
  const doc = { ...SPEC, "max-steps": 40, seeds: 4 };
  mkdirSync(join(out, "slurm"), { recursive: true });
  writeFileSync(join(out, "slurm", "spec.json"), JSON.stringify(doc));
  writeFileSync(join(out, "slurm", "sweep.sbatch"), "#!/bin/bash\n#SBATCH --array=0-1\n");
  writeFileSync(join(out, "slurm", "merge.sbatch"), "#!/bin/bash\n");
  writeFileSync(
    join(out, "slurm", "jobs.json"),
    JSON.stringify({ spec_hash: "x", jobs: { sweep: "41", merge: "42" } }),
  );
  const spec = join(out, "slurm", "spec.json");
  const r = cli(["sweep", spec, "--shard", "0/2", "--out", join(out, "sweep-0"), "--quiet"], {
    GROKSWEEP_FAULT: "throw:2",
  });
  assert.equal(r.code, 0, r.stderr);
  const bin = tmp();
  writeFileSync(join(bin, "squeue"), '#!/bin/sh\necho "41_1 RUNNING"\necho "42 PENDING"\n');
  chmodSync(join(bin, "squeue"), 0o755);
  const env = { PATH: `${bin}:${process.env.PATH}` };
  const s = json([out], env).slurm[0];
  const [s0, s1, all] = s.dirs;
  assert.deepEqual([s0.counts.done, s0.counts.failed, s0.failed.permanent, s0.state], [2, 1, 1, "complete"]);
  assert.deepEqual([s1.counts.total, s1.missing, s1.missing_ranges, s1.state], [2, 2, "1, 3", "empty"]);
  assert.equal(all.state, "empty");
  assert.deepEqual(
    s.jobs.map((j: any) => [j.key, j.state]),
    [
      ["sweep", "RUNNING"],
      ["merge", "PENDING"],
    ],
  );
  const t = status([out], env).stdout;
  assert.match(t, /sweep-0: 2\/2 runs \[shard 0\/2\] — .* 1 failed \(0 transient, 1 permanent\); complete/);
  assert.match(t, /shards: 2\/4 runs done/);
  assert.match(t, /jobs \(squeue\): sweep 41 RUNNING; merge 42 PENDING/);
  // without squeue or sacct on PATH: said, not fatal
  assert.match(status([out], { PATH: "/nonexistent" }).stdout, /jobs \(squeue not available\)/);
  // merged output: all runs of the spec expected
  assert.equal(cli(["sweep", spec, "--shard", "1/2", "--out", join(out, "sweep-1"), "--quiet"]).code, 0);
  assert.equal(cli(["merge", join(out, "sweep-0"), join(out, "sweep-1"), "--out", join(out, "all")]).code, 0);
  const m = json([join(out, "all")]).dirs[0];
  assert.deepEqual([m.state, m.counts.done, m.shard, m.counts.failed], ["complete", 4, null, 1]);
});

test("bad input: one line naming the field and value, exit 2", () => {
  const d = tmp();
  const a = status([join(d, "nope")]);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /DIR.*nope/);
  const out = tmp();
  assert.equal(cli(["sweep", specFile({ ...SPEC, "max-steps": 20, seeds: 1 }), "--out", out, "--quiet"]).code, 0);
  const b = status([out, "--watch", "0"]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--watch/);
});
