// Time estimates: per-model rates measured by `npm run bench` (src/cost.ts RATES), interpolated in
// log FLOPs per step, behind every --dry-run's core-hours.
import { test } from "node:test";
import assert from "node:assert/strict";
import { stepFlops, stepSeconds, RATES } from "../src/cost.js";
import { expand } from "../src/spec.js";
import { cfg, cli, specFile } from "./helpers.js";

test("a step's time is its FLOPs at the measured rate: exact at the calibration points, log-linear between", () => {
  const paper = cfg({ p: 59, d: 128, H: 256, frac: 0.4 }),
    small = cfg({ p: 23, d: 32, H: 64, frac: 0.4 });
  for (const [c, pt] of [
    [small, RATES.mlp[0]],
    [paper, RATES.mlp[1]],
  ] as const) {
    assert.ok(Math.abs(stepFlops(c) / pt[0] - 1) < 2e-3, "the calibration point is this configuration");
    assert.ok(Math.abs((stepSeconds(c) * pt[1] * 1e9) / stepFlops(c) - 1) < 3e-3);
  }
  const mid = cfg({ p: 41, d: 64, H: 128, frac: 0.4 }),
    f = stepFlops(mid);
  const [[f0, r0], [f1, r1]] = RATES.mlp;
  const want = r0 + ((r1 - r0) * Math.log(f / f0)) / Math.log(f1 / f0);
  assert.ok(Math.abs(f / stepSeconds(mid) / 1e9 - want) < 1e-9);
  assert.ok(
    stepSeconds(cfg({ optim: "muon", p: 59, d: 128, H: 256, frac: 0.4 })) > stepSeconds(paper) * 2,
    "Muon's own rate",
  );
  assert.equal(
    stepSeconds(cfg({ p: 3, d: 2, H: 4 })),
    stepFlops(cfg({ p: 3, d: 2, H: 4 })) / (RATES.mlp[0][1] * 1e9),
    "below the range: the nearest rate",
  );
});

test("sweep --dry-run prints the core-hours of the runs' budgets at those rates", () => {
  const doc = { p: 23, d: 32, H: 64, frac: 0.4, "max-steps": 100000, seeds: 36 };
  const r = cli(["sweep", specFile(doc), "--dry-run"]);
  assert.equal(r.code, 0, r.stderr);
  const hours = expand(doc).runs.reduce((s, x) => s + x.seconds, 0) / 3600;
  assert.ok(Math.abs(hours - (36 * 100000 * stepSeconds(cfg({ p: 23, d: 32, H: 64, frac: 0.4 }))) / 3600) < 1e-9);
  const line = `≈ ${hours.toFixed(2)} core-hours at the per-model rates npm run bench measured`;
  assert.match(r.stdout, new RegExp(line));
});
