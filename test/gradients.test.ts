// The wasm forward/backward against the float64 reference (plain x·W1 first layer), and the
// reference's analytic gradients against central finite differences.
import { test } from "node:test";
import assert from "node:assert/strict";
import { abi, cfg } from "./helpers.js";
import { prepare } from "../src/run.js";
import { decode } from "../src/task.js";
import { TENSORS } from "../src/engine.js";
import { RunConfig } from "../src/options.js";
import { lossAndGrad, relErr, to64, RefModel, P64 } from "./ref.js";
import { Rng } from "../src/rng.js";

const variants: Record<string, unknown>[] = [
  { act: "gelu" },
  { act: "gelu", layernorm: true },
  { act: "relu" },
  { act: "quad" },
  { act: "gelu", p: 13, d: 5, H: 7 }, // sizes that are not multiples of 4: padding must stay inert
];

function setupRun(raw: Record<string, unknown>) {
  const c: RunConfig = cfg(raw);
  const { net, split } = prepare(abi(), c);
  const tr = decode(c.op, c.p, split.train);
  const model: RefModel = { p: c.p, d: c.d, H: c.H, act: c.act, layernorm: c.layernorm };
  return { c, net, tr, model };
}

for (const v of variants) {
  test(`wasm loss and gradients equal the float64 reference: ${JSON.stringify(v)}`, () => {
    const { net, tr, model } = setupRun(v);
    const w = to64(net.params());
    const loss = abi().gradient();
    const g = net.params(7);
    const ref = lossAndGrad(model, w, tr.a, tr.b, tr.y);
    assert.ok(Math.abs(loss - ref.loss) / ref.loss < 1e-6, `loss ${loss} vs ${ref.loss}`);
    for (const t of TENSORS) {
      const e = relErr(g[t], ref.grad![t]);
      assert.ok(e < 2e-5, `${t}: relative gradient error ${e}`);
    }
  });
}

for (const v of [{ act: "gelu" }, { act: "gelu", layernorm: true }, { act: "quad", p: 7, d: 3, H: 5 }]) {
  test(`reference gradients equal central finite differences: ${JSON.stringify(v)}`, () => {
    const { net, tr, model } = setupRun(v);
    const w = to64(net.params());
    const an = lossAndGrad(model, w, tr.a, tr.b, tr.y).grad!;
    const rng = new Rng(5, 5);
    for (const t of TENSORS) {
      const x = w[t as keyof P64];
      for (let s = 0; s < 6; s++) {
        const i = rng.int(x.length),
          x0 = x[i],
          eps = 1e-5;
        x[i] = x0 + eps;
        const lp = lossAndGrad(model, w, tr.a, tr.b, tr.y, false).loss;
        x[i] = x0 - eps;
        const lm = lossAndGrad(model, w, tr.a, tr.b, tr.y, false).loss;
        x[i] = x0;
        const fd = (lp - lm) / (2 * eps),
          a = an[t as keyof P64][i];
        assert.ok(
          Math.abs(fd - a) <= 1e-8 + 1e-5 * Math.abs(a),
          `${t}[${i}]: finite difference ${fd} vs analytic ${a}`,
        );
      }
    }
  });
}

test("structured first layer: the lookup tables E·W1[:d], E·W1[d:] equal the plain x·W1 formulation", () => {
  const { c, net } = setupRun({ p: 13, d: 6, H: 10 });
  const w = net.params(),
    H4 = (c.H + 3) & ~3;
  const T = net.f32(abi().testTables(), c.p * 2 * H4);
  for (let a = 0; a < c.p; a++)
    for (let b = 0; b < c.p; b += 3)
      for (let k = 0; k < c.H; k++) {
        let plain = 0; // x = [E_a ; E_b], z = x·W1
        for (let j = 0; j < c.d; j++)
          plain += w.E[a * c.d + j] * w.W1[j * c.H + k] + w.E[b * c.d + j] * w.W1[(c.d + j) * c.H + k];
        const structured = T[a * 2 * H4 + k] + T[b * 2 * H4 + H4 + k];
        assert.ok(Math.abs(structured - plain) < 1e-5, `pair (${a}, ${b}) unit ${k}: ${structured} vs ${plain}`);
      }
});
