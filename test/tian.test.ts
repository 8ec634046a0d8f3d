// Tian's two-layer network (--model tian: one-hot operands, W (2p × H), x², V (H × p), no biases)
// with cross-entropy or squared-error loss, against the float64 dense reference.
import { test } from "node:test";
import assert from "node:assert/strict";
import { abi } from "./helpers.js";
import { parseRunConfig, RunConfig } from "../src/options.js";
import { prepare } from "../src/run.js";
import { decode, split } from "../src/task.js";
import { Rng } from "../src/rng.js";
import { denseLossAndGrad, oneHotPairs, relErr, DenseModel, D64 } from "./ref.js";

function setup(raw: Record<string, unknown>) {
  const c = parseRunConfig({ model: "tian", p: 11, H: 12, frac: 0.5, ...raw });
  const { net, split } = prepare(abi(), c);
  const tr = decode(c.op, c.p, split.train);
  const m: DenseModel = { inW: 2 * c.p, H: c.H, C: c.p, act: c.act, layernorm: c.layernorm, loss: c.loss, bias: false };
  const w = net.params();
  return {
    c,
    net,
    X: oneHotPairs(c.p, tr.a, tr.b),
    y: tr.y,
    m,
    w: { W1: Float64Array.from(w.W1), W2: Float64Array.from(w.W2) } as D64,
  };
}

for (const v of [
  { loss: "ce" },
  { loss: "mse" },
  { loss: "mse", layernorm: true },
  { loss: "mse", p: 13, H: 7 },
  { loss: "ce", op: "sym:3", p: 6, frac: 0.5 },
  { loss: "stablemax" },
  { loss: "stablemax", layernorm: true, p: 13, H: 7 },
]) {
  test(`tian: wasm loss and gradients equal the float64 reference: ${JSON.stringify(v)}`, () => {
    const { net, X, y, m, w } = setup(v);
    assert.deepEqual(Object.keys(net.params()).sort(), ["W1", "W2"]);
    const loss = abi().gradient(),
      g = net.params(7),
      ref = denseLossAndGrad(m, w, X, y);
    assert.ok(Math.abs(loss - ref.loss) / ref.loss < 1e-6, `loss ${loss} vs ${ref.loss}`);
    for (const t of ["W1", "W2"] as const)
      assert.ok(relErr(g[t], ref.grad[t]!) < 2e-5, `${t}: ${relErr(g[t], ref.grad[t]!)}`);
  });
}

for (const loss of ["mse", "stablemax"])
  test(`${loss} reference gradients equal central finite differences`, () => {
    const { X, y, m, w } = setup({ loss, p: 7, H: 5 });
    const an = denseLossAndGrad(m, w, X, y).grad,
      rng = new Rng(3, 3);
    for (const t of ["W1", "W2"] as const) {
      for (let s = 0; s < 8; s++) {
        const x = w[t]!,
          i = rng.int(x.length),
          x0 = x[i],
          eps = 1e-6;
        x[i] = x0 + eps;
        const lp = denseLossAndGrad(m, w, X, y).loss;
        x[i] = x0 - eps;
        const lm = denseLossAndGrad(m, w, X, y).loss;
        x[i] = x0;
        const fd = (lp - lm) / (2 * eps);
        assert.ok(Math.abs(fd - an[t]![i]) <= 1e-8 + 1e-5 * Math.abs(an[t]![i]), `${t}[${i}]: ${fd} vs ${an[t]![i]}`);
      }
    }
  });

test("tian: biases stay exactly 0 and ‖W‖ covers W and V only; evaluation matches the reference", () => {
  const { c, net } = setup({ loss: "mse", lr: 1e-2 });
  abi().advance(20);
  const w = net.params();
  const n2 = (x: Float32Array) => x.reduce((s, v) => s + v * v, 0);
  assert.ok(Math.abs(abi().weightNorm() - Math.sqrt(n2(w.W1) + n2(w.W2))) < 1e-4);
  const th = net.f32(abi().ptr(0), net.layout.nParams);
  const H4 = (c.H + 3) & ~3,
    P4 = (c.p + 3) & ~3;
  assert.ok(
    th.subarray(net.layout.nParams - H4 - P4).every((x) => x === 0),
    "biases moved",
  );
  abi().evaluate();
  const te = decode(c.op, c.p, split(c.op, c.p, c.frac, c.seed).test);
  const ref = denseLossAndGrad(
    { inW: 2 * c.p, H: c.H, C: c.p, act: c.act, layernorm: false, loss: "mse", bias: false },
    { W1: Float64Array.from(w.W1), W2: Float64Array.from(w.W2) },
    oneHotPairs(c.p, te.a, te.b),
    te.y,
  );
  assert.ok(Math.abs(abi().metric(2) - ref.loss) / ref.loss < 1e-5, `test loss ${abi().metric(2)} vs ${ref.loss}`);
  assert.equal(abi().metric(3), ref.acc);
});
