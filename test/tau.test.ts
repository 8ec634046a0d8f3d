// --tau (the loss sees logits/τ, τ outside ‖W‖) and --observe logits (logit scale, saturation, softmax
// collapse and exactly-zero losses of the train rows): τ = 1 bit-identical, the chain rule of z/τ against a
// network whose readout is divided by τ, and the measures on constructed logits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { abi, cfg, cli, tmp } from "./helpers.js";
import { prepare } from "../src/run.js";
import { Buf } from "../src/codes.js";
import { logitMeasures } from "../src/observe.js";

const rows = (dir: string, f: string) => [...tableFromIPC(readFileSync(join(dir, f)))].map((r) => r.toJSON());
const base = ["run", "--p", "13", "--d", "8", "--H", "12", "--frac", "0.5", "--max-steps", "40", "--log", "every:20"];

test("τ = 1 is bit-identical to no --tau (curves and parameters), and tau is a runs.arrow column", () => {
  const [a, b] = [tmp(), tmp()];
  assert.equal(cli([...base, "--save-params", "40", "--out", a]).code, 0);
  assert.equal(cli([...base, "--tau", "1", "--save-params", "40", "--out", b]).code, 0);
  assert.deepEqual(rows(a, "curves.arrow"), rows(b, "curves.arrow"));
  assert.deepEqual(
    rows(a, "params.arrow").map((r) => [...r.values]),
    rows(b, "params.arrow").map((r) => [...r.values]),
  );
  assert.equal(rows(b, "runs.arrow")[0].tau, 1);
});

for (const [model, readout] of [
  ["mlp", ["W2", "b2"]],
  ["attn", ["U"]],
] as const) {
  test(`${model}: loss, gradient at τ = 2 equal τ = 1's with the readout halved (∂/∂readout halved too)`, () => {
    const extra = model === "attn" ? { model: "attn", d: 16, H: 24 } : {};
    const a = abi();
    const A = prepare(a, cfg({ ...extra, tau: 2 }));
    const w = A.net.params(),
      split = A.split;
    const lossA = a.gradient(),
      gA = A.net.params(Buf.grad);
    const half = { ...w };
    for (const t of readout) half[t] = w[t].map((x) => x / 2);
    const B = prepare(a, cfg({ ...extra, tau: 1 }), { split, params: half });
    const lossB = a.gradient(),
      gB = B.net.params(Buf.grad);
    assert.ok(Math.abs(lossA - lossB) < 1e-6 * Math.abs(lossB), `${lossA} vs ${lossB}`);
    for (const t of Object.keys(gA)) {
      const scale = (readout as readonly string[]).includes(t) ? 0.5 : 1;
      gA[t].forEach((x, i) => {
        const want = scale * gB[t][i];
        assert.ok(Math.abs(x - want) <= 1e-5 * (Math.abs(want) + 1e-4), `${t}[${i}]: ${x} vs ${want}`);
      });
    }
  });
}

test("logitMeasures on constructed rows: a saturated, collapsed, zero-loss row and an ordinary one", () => {
  // stride 4, 3 classes; row 0 = [100, 0, 0] (exp(−100) vanishes next to 1 in float32), row 1 = [1, 0, 0]
  const lg = Float32Array.from([100, 0, 0, 0, 1, 0, 0, 0]);
  const m = logitMeasures(lg, 2, 4, 3, Int32Array.from([0, 0]));
  assert.equal(m.logit_scale, (100 + 1) / 2);
  assert.deepEqual([m.frac_saturated, m.softmax_collapse, m.zero_loss_frac], [0.5, 0.5, 0.5]);
  const none = logitMeasures(lg, 2, 4, 3, Int32Array.from([1, 1])); // a wrong label: never zero loss
  assert.equal(none.zero_loss_frac, 0);
});

test("--observe logits: the scale halves at τ = 2 at init, and a low τ saturates the train rows", () => {
  const run = (tau: string, args = base) => {
    const out = tmp();
    const r = cli([...args, "--tau", tau, "--observe", "logits", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    return rows(out, "curves.arrow");
  };
  const [one, two] = [run("1"), run("2")];
  assert.ok(Math.abs(two[0].logit_scale / one[0].logit_scale - 0.5) < 1e-6);
  assert.equal(one[0].frac_saturated, 0);
  // without weight decay and at τ 0.1 the memorized train rows saturate and some collapse (Prieto et al.)
  const hot = run("0.1", ["run", "--p", "23", "--d", "32", "--H", "64", "--frac", "0.8", "--lr", "1e-2", "--wd", "0",
    "--max-steps", "300", "--log", "every:300"]); // prettier-ignore
  const h = hot[1];
  assert.ok(h.frac_saturated > 0.9 && h.softmax_collapse > 0 && h.zero_loss_frac > 0, JSON.stringify(h));
});
