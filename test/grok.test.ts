// A small configuration groks within the suite's budget; --stop-at-grok ends runs at T_grok.
import { test } from "node:test";
import assert from "node:assert/strict";
import { abi, GROKS, cfg } from "./helpers.js";
import { train } from "../src/run.js";

test("p 23, d 32, H 64, frac 0.7, lr 1e-2 memorizes, then groks; Wc is ‖W‖ at T_grok", () => {
  const r = train(abi(), cfg({ ...GROKS, "max-steps": 5000, "stop-at-grok": true }));
  process.stdout.write(
    `# small config: t_mem ${r.tMem}, t_grok ${r.tGrok}, Wc ${r.wc?.toFixed(3)}, ` +
      `${r.stepsRun} steps in ${r.wallMs.toFixed(0)} ms\n`,
  );
  assert.equal(r.status, "grokked");
  assert.ok(r.tMem !== null && r.tGrok !== null && r.tMem < r.tGrok, `t_mem ${r.tMem}, t_grok ${r.tGrok}`);
  const at = r.curves.find((c) => c.step === r.tGrok)!;
  assert.ok(at.test_acc >= 0.9);
  assert.ok(r.curves.filter((c) => c.step < r.tGrok!).every((c) => c.test_acc < 0.9));
  assert.equal(r.wc, at.weight_norm);
  // --stop-at-grok: the run ends at the logged step where it grokked
  assert.equal(r.stepsRun, r.tGrok);
  assert.equal(r.curves[r.curves.length - 1].step, r.tGrok);
});

test("without weight decay the same network does not grok within the budget (censored, t_grok null)", () => {
  const r = train(abi(), cfg({ ...GROKS, wd: 0, "max-steps": 3000 }));
  assert.equal(r.status, "censored");
  assert.equal(r.tGrok, null);
  assert.equal(r.wc, null);
  assert.equal(r.stepsRun, 3000);
});
