// Weight-decay schedules and the init scale (knobs from the inductive-bias literature).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { cli, tmp } from "./helpers.js";

const BASE = [
  "run",
  "--p",
  "13",
  "--d",
  "8",
  "--H",
  "12",
  "--frac",
  "0.6",
  "--lr",
  "1e-2",
  "--max-steps",
  "120",
  "--log",
  "every:10",
];
function curves(extra: string[]) {
  const out = tmp();
  const r = cli([...BASE, ...extra, "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  return [...tableFromIPC(readFileSync(join(out, "curves.arrow")))].map((c) => c.toJSON());
}

test("wd schedules: step:S is λ = 0 before S and λ after; ramp:S0:S1 is λ = 0 up to S0, then its own path", () => {
  const constant = curves([]),
    off = curves(["--wd", "0"]);
  assert.deepEqual(curves(["--wd-schedule", "step:0"]), constant);
  assert.deepEqual(curves(["--wd-schedule", "step:1000"]), off);
  const step = curves(["--wd-schedule", "step:60"]);
  assert.deepEqual(
    step.filter((c) => c.step <= 60),
    off.filter((c) => c.step <= 60),
  );
  assert.notDeepEqual(step.at(-1), off.at(-1));
  const ramp = curves(["--wd-schedule", "ramp:40:100"]);
  assert.deepEqual(
    ramp.filter((c) => c.step <= 40),
    off.filter((c) => c.step <= 40),
  );
  const last = (xs: Record<string, any>[]) => xs.at(-1)!.weight_norm as number;
  assert.ok(last(constant) < last(ramp) && last(ramp) < last(off), `${last(constant)} < ${last(ramp)} < ${last(off)}`);
  const bad = cli([...BASE, "--wd-schedule", "ramp:50:10"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--wd-schedule: expected const, step:S or ramp:S0:S1 with S0 < S1, got "ramp:50:10"/);
});

test("--init-scale multiplies the initial E, W1, W2 (not the biases) and is recorded in runs.arrow", () => {
  const params = (extra: string[]) => {
    const out = tmp();
    const args = ["run", "--p", "13", "--d", "8", "--H", "12", "--max-steps", "10", "--save-params", "0"];
    assert.equal(cli([...args, ...extra, "--out", out]).code, 0);
    const rows = Object.fromEntries(
      [...tableFromIPC(readFileSync(join(out, "params.arrow")))].map((r) => [r.tensor, [...r.values] as number[]]),
    );
    return {
      rows,
      run: tableFromIPC(readFileSync(join(out, "runs.arrow")))
        .get(0)!
        .toJSON(),
    };
  };
  const a = params([]),
    b = params(["--init-scale", "3"]);
  for (const t of ["E", "W1", "W2"])
    a.rows[t].forEach((x: number, i: number) => assert.equal(b.rows[t][i], Math.fround(x * 3)));
  assert.deepEqual(b.rows.b1, a.rows.b1);
  assert.equal(a.run.init_scale, 1);
  assert.equal(b.run.init_scale, 3);
  assert.equal(b.run.wd_schedule, "const");
});
