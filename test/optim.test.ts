// One optimizer step inside wasm against a TypeScript mirror of the same float32 operations.
import { test } from "node:test";
import assert from "node:assert/strict";
import { abi, cfg } from "./helpers.js";
import { prepare } from "../src/run.js";
import { TENSORS, Params } from "../src/engine.js";

const f = Math.fround;

function mirrorStep(
  c: { optim: string; lr: number; wd: number; momentum: number },
  w: Params,
  g: Params,
  t: number,
): Params {
  const lr = f(c.lr),
    wd = f(c.wd),
    b1 = f(0.9),
    b2 = f(0.999),
    eps = f(1e-8),
    mu = f(c.momentum);
  const bc1 = f(1 - Math.pow(b1, t)),
    bc2 = f(1 - Math.pow(b2, t));
  const out = {} as Params;
  for (const name of TENSORS) {
    const decayed = name === "E" || name === "W1" || name === "W2";
    const th = w[name].slice(),
      gr = g[name].slice();
    for (let i = 0; i < th.length; i++) {
      if (c.optim !== "adamw" && decayed) gr[i] = f(gr[i] + f(wd * th[i]));
      if (c.optim === "sgd") {
        th[i] = f(th[i] - f(lr * f(f(mu * 0) + gr[i])));
        continue;
      }
      if (c.optim === "adamw" && decayed) th[i] = f(th[i] * f(1 - f(lr * wd)));
      const m = f(f(b1 * 0) + f(f(1 - b1) * gr[i]));
      const v = f(f(b2 * 0) + f(f(1 - b2) * f(gr[i] * gr[i])));
      const den = f(f(Math.sqrt(f(v / bc2))) + eps);
      th[i] = f(th[i] + f(f(-lr) * f(f(m / bc1) / den)));
    }
    out[name] = th;
  }
  return out;
}

for (const optim of ["adamw", "adam", "sgd"]) {
  test(`${optim}: one step equals the float32 mirror bit for bit (decay on E, W1, W2 only)`, () => {
    const c = cfg({ optim, lr: 3e-3, wd: 0.5, momentum: optim === "sgd" ? 0.9 : 0 });
    const { net } = prepare(abi(), c);
    const w0 = net.params();
    abi().gradient();
    const g = net.params(7);
    assert.equal(abi().advance(1), 1);
    const got = net.params(),
      want = mirrorStep(c, w0, g, 1);
    for (const t of TENSORS) assert.deepEqual(got[t], want[t], t);
  });
}

test("clamp: after a step, E, W1, W2 are rescaled to ρ·Wc; biases and the unclamped step are untouched", () => {
  const free = cfg({}),
    clamp = cfg({ arm: "clamp", rho: 0.9, wc: 20, "t-int": 1 });
  const { net } = prepare(abi(), free);
  abi().advance(1);
  const wf = net.params(),
    nf = abi().weightNorm();
  const { net: net2 } = prepare(abi(), clamp);
  abi().advance(1);
  const wc = net2.params();
  assert.ok(Math.abs(abi().weightNorm() - 18) < 1e-5, `‖W‖ = ${abi().weightNorm()}`);
  const s = 18 / nf;
  for (const t of ["E", "W1", "W2"] as const) wc[t].forEach((x, i) => assert.ok(Math.abs(x - wf[t][i] * s) < 1e-6));
  assert.deepEqual(wc.b1, wf.b1);
  assert.deepEqual(wc.b2, wf.b2);
});

test("interventions fire at the right steps: clamp from t_int on, rescale once, sphere every step", () => {
  const norms = (raw: Record<string, unknown>, steps: number) => {
    prepare(abi(), cfg(raw));
    const out: number[] = [];
    for (let s = 0; s < steps; s++) {
      abi().advance(1);
      out.push(abi().weightNorm());
    }
    return out;
  };
  const clamp = norms({ arm: "clamp", rho: 1, wc: 12, "t-int": 3 }, 5);
  assert.ok(Math.abs(clamp[1] - 12) > 1e-3 && clamp.slice(2).every((x) => Math.abs(x - 12) < 1e-5), String(clamp));
  const rescale = norms({ arm: "rescale", rho: 1, wc: 12, "t-int": 3 }, 5);
  assert.ok(Math.abs(rescale[2] - 12) < 1e-5 && Math.abs(rescale[4] - 12) > 1e-4, String(rescale));
  prepare(abi(), cfg({}));
  const w0 = abi().weightNorm();
  const sphere = norms({ arm: "sphere" }, 3);
  assert.ok(
    sphere.every((x) => Math.abs(x - w0) < 1e-5),
    `${sphere} vs ${w0}`,
  );
});

test("clamp-group: only the chosen group is rescaled to ρ·Wc (here W2, the MLP's unembed group)", () => {
  const { net } = prepare(abi(), cfg({}));
  abi().advance(1);
  const wf = net.params();
  const { net: net2 } = prepare(abi(), cfg({ arm: "clamp", rho: 1, wc: 5, "t-int": 1, "clamp-group": "unembed" }));
  abi().advance(1);
  const wc = net2.params();
  assert.ok(Math.abs(abi().groupNorm(4) - 5) < 1e-5, `‖W2‖ = ${abi().groupNorm(4)}`);
  assert.deepEqual(wc.E, wf.E);
  assert.deepEqual(wc.W1, wf.W1);
  const s = 5 / Math.hypot(...wf.W2);
  wc.W2.forEach((x, i) => assert.ok(Math.abs(x - wf.W2[i] * s) < 1e-6));
  assert.ok(
    Math.abs(abi().weightNorm() - Math.hypot(abi().groupNorm(1), abi().groupNorm(3), abi().groupNorm(4))) < 1e-5,
  );
});

test("no subnormals: a weight decay that collapses E and W1 leaves exact zeros, not values below 2^-126", () => {
  for (const optim of ["adamw", "sgd", "muon"]) {
    const { net } = prepare(abi(), cfg({ optim, lr: 1e-2, wd: 30, momentum: optim === "sgd" ? 0.9 : undefined }));
    abi().advance(3000);
    for (const buffer of [0, 8, 9]) {
      for (const [name, x] of Object.entries(net.params(buffer))) {
        const sub = x.filter((v) => v !== 0 && Math.abs(v) < 2 ** -126).length;
        assert.equal(sub, 0, `${optim}: ${sub} subnormal values in ${name} of buffer ${buffer}`);
      }
    }
    // adamw and sgd drive E to zero (Muon's fixed-RMS updates of W1 keep it alive): exactly zero, not subnormal
    if (optim !== "muon") assert.equal(abi().groupNorm(1), 0, `${optim}: ‖E‖ = ${abi().groupNorm(1)}`);
  }
});
