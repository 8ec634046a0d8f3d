// Cluster recipe: deterministic shards in two phases (controls, then measured-Wc runs) and a merge
// reproduce the single-machine sweep row for row.
import { parseShard } from "../src/commands/sweep.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { cli, tmp, runRows, curveRows, specFile, TINY } from "./helpers.js";

test("3 shards × 2 phases + merge give exactly the rows of a single-machine sweep", () => {
  const single = tmp();
  assert.equal(cli(["sweep", TINY, "--out", single, "--quiet"]).code, 0);
  const base = tmp();
  const dir = (phase: string, i: number) => join(base, `${phase}-${i}`);
  for (let i = 0; i < 3; i++) {
    const r = cli(["sweep", TINY, "--phase", "control", "--shard", `${i}/3`, "--out", dir("control", i), "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
  }
  const controls = join(base, "controls");
  const m1 = cli(["merge", dir("control", 0), dir("control", 1), dir("control", 2), "--out", controls]);
  assert.equal(m1.code, 0, m1.stderr);
  assert.match(m1.stdout, /merged 4 runs/);
  for (let i = 0; i < 3; i++) {
    // the array index may come from the scheduler's environment instead of --shard
    const r = cli(
      [
        "sweep",
        TINY,
        "--phase",
        "dependent",
        "--shards",
        "3",
        "--wc-from",
        join(controls, "runs.arrow"),
        "--out",
        dir("dependent", i),
        "--quiet",
      ],
      { JOB_COMPLETION_INDEX: String(i) },
    );
    assert.equal(r.code, 0, r.stderr);
  }
  const all = join(base, "all");
  const m2 = cli(["merge", controls, dir("dependent", 0), dir("dependent", 1), dir("dependent", 2), "--out", all]);
  assert.equal(m2.code, 0, m2.stderr);
  assert.deepEqual(runRows(all), runRows(single));
  assert.deepEqual(curveRows(all), curveRows(single));
});

test("merge reports missing runs, refuses other specs and damaged files", () => {
  const a = tmp();
  assert.equal(cli(["sweep", TINY, "--phase", "control", "--shard", "0/2", "--out", a, "--quiet"]).code, 0);
  const partial = cli(["merge", a, "--out", join(tmp(), "m")]);
  assert.equal(partial.code, 1);
  assert.match(partial.stderr, /missing 2 of 4 runs: run_id 1, 3/);
  const other = tmp();
  assert.equal(cli(["sweep", specFile({ p: 11, d: 8, H: 12, "max-steps": 20 }), "--out", other, "--quiet"]).code, 0);
  const mismatch = cli(["merge", a, other, "--out", join(tmp(), "m")]);
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.stderr, /output of the same spec/);
  writeFileSync(join(other, "runs.arrow"), "not arrow at all");
  const corrupt = cli(["merge", other, "--out", join(tmp(), "m")]);
  assert.equal(corrupt.code, 2);
  assert.match(corrupt.stderr, /valid Arrow IPC file.*runs\.arrow/);
});

test("a shard that would need controls from other shards is refused with the recipe", () => {
  const r = cli(["sweep", TINY, "--shard", "1/3", "--out", tmp()]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--phase control, merge, then --phase dependent --wc-from/);
});

test("--wc-from refuses the controls of another spec", () => {
  const other = tmp();
  assert.equal(cli(["sweep", specFile({ p: 11, d: 8, H: 12, "max-steps": 20 }), "--out", other, "--quiet"]).code, 0);
  const r = cli(["sweep", TINY, "--phase", "dependent", "--wc-from", join(other, "runs.arrow"), "--out", tmp()]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--wc-from: expected the controls of this spec/);
});

test("the environment shards a sweep only with --shards n (a spec per array task runs whole)", () => {
  const slurm = { SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_COUNT: "4" };
  assert.equal(parseShard({}, slurm), null);
  assert.deepEqual(parseShard({ shards: "4" }, slurm), [2, 4]);
  assert.deepEqual(parseShard({ shards: "3" }, { JOB_COMPLETION_INDEX: "1" }), [1, 3]);
  assert.deepEqual(parseShard({ shard: "0/5" }, slurm), [0, 5]);
  assert.throws(() => parseShard({ shards: "4" }, {}), /--shards: expected used inside a Slurm array/);
  assert.throws(() => parseShard({ shards: "2" }, slurm), /--shard: expected i\/n with 0 ≤ i < n, got "2\/2"/);
  assert.throws(() => parseShard({ shards: "0" }, slurm), /--shards: expected an integer ≥ 1/);
});
