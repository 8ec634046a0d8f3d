// --optim-grad ortho (⊥Grad, Prieto et al. 2025): one SGD step against a float64 projection of the same
// gradient, per tensor; the update is orthogonal to θ and as long as the gradient; none is unchanged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { abi, cfg, cli, tmp } from "./helpers.js";
import { prepare } from "../src/run.js";
import { Buf } from "../src/codes.js";

for (const extra of [{}, { model: "attn", d: 16, H: 24 }, { model: "tian", d: undefined }]) {
  const name = (extra as { model?: string }).model ?? "mlp";
  test(`${name}: an SGD step moves each tensor along g − (θ·g/θ·θ)θ, rescaled to ‖g‖`, () => {
    const lr = 0.05;
    const c = cfg({ ...extra, optim: "sgd", lr, wd: 0, momentum: 0, "optim-grad": "ortho" });
    const a = abi(),
      { net } = prepare(a, c);
    const w = net.params();
    a.gradient();
    const g = net.params(Buf.grad);
    assert.equal(a.advance(1), 1);
    const got = net.params();
    for (const t of Object.keys(w)) {
      const th = w[t],
        gr = g[t];
      const dot = (x: ArrayLike<number>, y: ArrayLike<number>) => Array.from(x).reduce((s, v, i) => s + v * y[i], 0);
      const tt = dot(th, th),
        gg = dot(gr, gr);
      if (tt === 0 || gg === 0) continue;
      const p = Array.from(gr, (v, i) => v - (dot(th, gr) / tt) * th[i]);
      const s = Math.sqrt(gg / dot(p, p));
      const step = Array.from(th, (v, i) => (v - got[t][i]) / lr);
      step.forEach((x, i) =>
        assert.ok(Math.abs(x - p[i] * s) <= 2e-3 * Math.sqrt(gg / th.length) + 1e-6, `${t}[${i}]`),
      );
      assert.ok(Math.abs(dot(step, th)) <= 1e-3 * Math.sqrt(dot(step, step) * tt), `${t}: the step is ⊥ θ`);
      assert.ok(Math.abs(Math.sqrt(dot(step, step) / gg) - 1) < 1e-3, `${t}: ‖step‖ = ‖g‖`);
    }
  });
}

test("optim_grad is a runs.arrow column; none is the default and bad values exit 2", () => {
  const out = tmp();
  assert.equal(
    cli(["run", "--p", "11", "--d", "8", "--H", "12", "--max-steps", "10", "--optim-grad", "ortho", "--out", out]).code,
    0,
  );
  const bad = cli(["run", "--optim-grad", "perp"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--optim-grad: expected one of none\|ortho/);
});
