// Sparse parity data.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parityTask } from "../src/parity.js";

test("parity data: deterministic per seed, distinct sorted support, labels = parity of x[bits]", () => {
  const d = parityTask(30, 3, 2000, 500, 5);
  assert.deepEqual(parityTask(30, 3, 2000, 500, 5), d);
  const e = parityTask(30, 3, 2000, 500, 6);
  assert.notDeepEqual(e.train.x, d.train.x);
  assert.notDeepEqual(e.test.x, d.test.x);
  assert.equal(d.bits.length, 3);
  for (let i = 0; i < 3; i++) assert.ok(d.bits[i] >= 0 && d.bits[i] < 30 && (i === 0 || d.bits[i] > d.bits[i - 1]));
  for (const { x, y } of [d.train, d.test]) {
    assert.equal(x.length, 30 * y.length);
    assert.ok(x.every((v) => v === 1 || v === -1));
    for (let r = 0; r < y.length; r++) {
      const prod = [...d.bits].reduce((s, c) => s * x[r * 30 + c], 1);
      assert.equal(y[r], prod < 0 ? 1 : 0);
    }
  }
  const ones = d.train.y.reduce((s, v) => s + v, 0) / 2000;
  assert.ok(ones > 0.4 && ones < 0.6, `${ones}`);
  assert.notDeepEqual(d.train.x.slice(0, 500 * 30), d.test.x); // train and test are independent draws
});

test("the support varies with the seed; k = n takes every coordinate", () => {
  const sets = new Set(Array.from({ length: 20 }, (_, s) => parityTask(20, 4, 0, 0, s).bits.join()));
  assert.ok(sets.size > 10);
  assert.deepEqual([...parityTask(5, 5, 1, 1, 0).bits], [0, 1, 2, 3, 4]);
});

test("train rows are a prefix of a larger train set; the test set ignores m", () => {
  const a = parityTask(17, 2, 100, 50, 3),
    b = parityTask(17, 2, 200, 50, 3);
  assert.deepEqual(b.train.x.slice(0, 100 * 17), a.train.x);
  assert.deepEqual(b.train.y.slice(0, 100), a.train.y);
  assert.deepEqual(b.test, a.test);
  assert.deepEqual(b.bits, a.bits);
});

test("invalid sizes throw", () => {
  for (const [n, k, m, t] of [
    [0, 1, 1, 1],
    [5, 0, 1, 1],
    [5, 6, 1, 1],
    [5, 2, -1, 1],
    [5, 2, 1, 1.5],
  ])
    assert.throws(() => parityTask(n, k, m, t, 0), RangeError);
});

// The model side: MLP n → H → 2 on the ±1 inputs (dense first layer, biases), against the float64
// reference, and a small instance that groks.
import { abi } from "./helpers.js";
import { prepare, train } from "../src/run.js";
import { parseRunConfig } from "../src/options.js";
import { denseLossAndGrad, relErr } from "./ref.js";

for (const v of [{}, { layernorm: true }, { n: 13, H: 7, act: "relu" }]) {
  test(`parity MLP: wasm loss and gradients equal the float64 reference: ${JSON.stringify(v)}`, () => {
    const c = parseRunConfig({ task: "parity", n: 10, k: 3, m: 150, "m-test": 50, H: 12, ...v });
    const { net } = prepare(abi(), c);
    const data = parityTask(c.n, c.k, c.m, c.mTest, c.seed);
    const w = net.params(),
      w64 = Object.fromEntries(Object.entries(w).map(([k, x]) => [k, Float64Array.from(x)]));
    const m = { inW: c.n, H: c.H, C: 2, act: c.act, layernorm: c.layernorm, loss: "ce" as const, bias: true };
    const loss = abi().gradient(),
      g = net.params(7);
    const ref = denseLossAndGrad(m, w64 as any, data.train.x, data.train.y);
    assert.ok(Math.abs(loss - ref.loss) / ref.loss < 1e-6, `loss ${loss} vs ${ref.loss}`);
    for (const t of ["W1", "b1", "W2", "b2"] as const)
      assert.ok(relErr(g[t], (ref.grad as any)[t]) < 2e-5, `${t}: ${relErr(g[t], (ref.grad as any)[t])}`);
    abi().evaluate();
    const te = denseLossAndGrad(m, w64 as any, data.test.x, data.test.y);
    assert.ok(Math.abs(abi().metric(2) - te.loss) / te.loss < 1e-5);
    assert.equal(abi().metric(3), te.acc);
  });
}

test("parity n 12, k 3 groks (memorises first, generalises later); the run records its bits", () => {
  const c = parseRunConfig({
    task: "parity",
    n: 12,
    k: 3,
    m: 300,
    H: 64,
    lr: 3e-3,
    "max-steps": 4000,
    "stop-at-grok": true,
  });
  const r = train(abi(), c);
  assert.equal(r.status, "grokked");
  assert.ok(r.tMem! < r.tGrok!, `T_mem ${r.tMem}, T_grok ${r.tGrok}`);
  assert.deepEqual([...r.bits!], [...parityTask(12, 3, 300, 2000, 0).bits]);
  assert.equal(r.final.norm_E, NaN);
});
