// The attention model's wasm kernels (assembly/attn.ts: token tables, whole-batch GEMMs) against the
// plain per-pair float64 reference (test/attnref.ts), whose analytic gradients are checked against
// central finite differences; then ~100 AdamW steps of both from the same init.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { abi, cli, tmp, specFile, runRows, curveRows } from "./helpers.js";
import { median } from "../src/stats.js";
import { relErr } from "./ref.js";
import { Rng } from "../src/rng.js";
import { Net } from "../src/engine.js";
import { Arm, Buf, Group, Metric, Optim, WdSchedule } from "../src/codes.js";
import {
  ATTN_TENSORS,
  AttnModel,
  AttnParams,
  attnLossAndGrad,
  attnShapes,
  adamState,
  adamwStep,
  attnNorm,
  zerosLike,
} from "./attnref.js";

const W = () => abi() as any;

/** evaluate()'s results by name. */
const metrics = () =>
  Object.fromEntries(
    (["trainLoss", "trainAcc", "testLoss", "testAcc"] as const).map((k) => [k, W().metric(Metric[k]) as number]),
  ) as Record<keyof typeof Metric, number>;

/** Buffer θ (Buf.theta) or its gradient (Buf.grad) in the public layout, the tensors placed where the
 *  wasm's tensor table says; the entries no tensor covers (padding) listed separately. */
function readParams(net: Net, which: Buf): { w: AttnParams; padding: number[] } {
  const n = net.layout.nParams,
    th = net.f32(W().ptr(which), n),
    used = new Uint8Array(n),
    got = net.params(which),
    w = {} as AttnParams;
  for (const t of net.layout.tensors)
    for (let r = 0; r < t.rows; r++)
      for (let c = 0; c < t.cols; c++) {
        const o = t.at(r) + c;
        assert.ok(o < n && !used[o], `${t.name}[${r}, ${c}] at ${o}: outside θ or overlapping another tensor`);
        used[o] = 1;
      }
  for (const t of ATTN_TENSORS) w[t] = Float64Array.from(got[t]);
  const padding: number[] = [];
  for (let o = 0; o < n; o++) if (!used[o]) padding.push(th[o]);
  return { w, padding };
}

/** float32-representable init: E ~ N(0, 1), P ~ N(0, 0.5²), matrices ~ N(0, gain²/fan_in). */
function init(m: AttnModel, seed: number, gain = 1): AttnParams {
  const rng = new Rng(seed, 11),
    w = zerosLike(m),
    s = attnShapes(m);
  for (const t of ATTN_TENSORS) {
    const std = t === "E" ? 1 : t === "P" ? 0.5 : (t === "Wq" || t === "Wk" ? 2 * gain : gain) / Math.sqrt(s[t][0]);
    for (let i = 0; i < w[t].length; i++) w[t][i] = Math.fround(std * rng.normal());
  }
  return w;
}

/** All p² pairs, shuffled, labels (a·b + a + 1) mod p; the first nTrain train. */
function pairs(p: number, nTrain: number, seed: number) {
  const rng = new Rng(seed, 12),
    all: number[] = [];
  for (let i = 0; i < p * p; i++) all.push(i);
  for (let i = all.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [all[i], all[j]] = [all[j], all[i]];
  }
  const make = (ids: number[]) => ({
    a: Int32Array.from(ids, (x) => Math.floor(x / p)),
    b: Int32Array.from(ids, (x) => x % p),
    y: Int32Array.from(ids, (x) => (Math.floor(x / p) * (x % p) + Math.floor(x / p) + 1) % p),
  });
  return { tr: make(all.slice(0, nTrain)), te: make(all.slice(nTrain)) };
}

function setupWasm(m: AttnModel, w: AttnParams, nTrain: number, seed = 1) {
  const { tr, te } = pairs(m.p, nTrain, seed);
  const net = new Net(W(), { model: "attn", dense: false, ...m, nTrain: tr.a.length, nTest: te.a.length });
  // the wasm's layout has the reference's tensors, with the same shapes
  assert.deepEqual(net.shapes(), attnShapes(m));
  W().setAttnLayernorm(m.layernorm ? 1 : 0);
  net.setParams(Object.fromEntries(ATTN_TENSORS.map((t) => [t, Float32Array.from(w[t])])));
  net.setData("train", tr.a, tr.b, tr.y);
  net.setData("test", te.a, te.b, te.y);
  return { tr, te, net };
}

const SIZES: (AttnModel & { n: number })[] = [
  { p: 7, d: 8, H: 12, heads: 2, layernorm: false, n: 30 },
  { p: 7, d: 8, H: 12, heads: 2, layernorm: true, n: 30 },
  { p: 6, d: 8, H: 10, heads: 1, layernorm: false, n: 20 }, // V = 7, H = 10: padded classes and units
  { p: 6, d: 8, H: 10, heads: 1, layernorm: true, n: 20 },
  { p: 10, d: 24, H: 7, heads: 2, layernorm: true, n: 57 }, // dh = 12: GEMM tails; V = 11
  { p: 13, d: 32, H: 37, heads: 4, layernorm: false, n: 100 },
];

for (const ln of [false, true]) {
  test(`attention reference: analytic gradients equal central finite differences (layernorm ${ln})`, () => {
    const m: AttnModel = { p: 5, d: 8, H: 6, heads: 2, layernorm: ln };
    const w = init(m, 3),
      { tr } = pairs(m.p, 15, 4);
    const an = attnLossAndGrad(m, w, tr.a, tr.b, tr.y).grad!;
    const rng = new Rng(7, 7);
    let worst = 0;
    for (const t of ATTN_TENSORS) {
      const x = w[t];
      for (let s = 0; s < 8; s++) {
        const i = rng.int(x.length),
          x0 = x[i],
          eps = 1e-5;
        x[i] = x0 + eps;
        const lp = attnLossAndGrad(m, w, tr.a, tr.b, tr.y, false).loss;
        x[i] = x0 - eps;
        const lm = attnLossAndGrad(m, w, tr.a, tr.b, tr.y, false).loss;
        x[i] = x0;
        const fd = (lp - lm) / (2 * eps),
          a = an[t][i];
        worst = Math.max(worst, Math.abs(fd - a) / (1e-6 + Math.abs(a)));
        assert.ok(
          Math.abs(fd - a) <= 1e-8 + 1e-5 * Math.abs(a),
          `${t}[${i}]: finite difference ${fd} vs analytic ${a}`,
        );
      }
    }
  });
}

for (const c of SIZES) {
  test(`attention wasm loss and gradients equal the float64 reference: ${JSON.stringify(c)}`, () => {
    const m: AttnModel = c,
      w = init(m, 5 + c.p);
    const { tr, net } = setupWasm(m, w, c.n);
    const loss = W().gradient();
    const { w: g, padding } = readParams(net, Buf.grad);
    const ref = attnLossAndGrad(m, w, tr.a, tr.b, tr.y);
    assert.ok(Math.abs(loss - ref.loss) / ref.loss < 1e-6, `loss ${loss} vs ${ref.loss}`);
    const errs: string[] = [];
    for (const t of ATTN_TENSORS) {
      const e = relErr(g[t], ref.grad![t]);
      errs.push(`${t} ${e.toExponential(1)}`);
      assert.ok(e < 2e-5, `${t}: relative gradient error ${e}`);
    }
    assert.ok(
      padding.every((x) => Object.is(x, 0)),
      "gradient padding is not exactly +0",
    );
    process.stdout.write(
      `# ${JSON.stringify(c)}: loss rel ${(Math.abs(loss - ref.loss) / ref.loss).toExponential(1)}; ` +
        `${errs.join(", ")}\n`,
    );
  });
}

for (const ln of [false, true]) {
  test(`attention AdamW trajectory: 100 wasm steps follow the float64 reference (layernorm ${ln})`, () => {
    const m: AttnModel = { p: 11, d: 16, H: 24, heads: 4, layernorm: ln };
    // With LayerNorm, lr 1e-2 drives this small model into loss spikes near step 95 that amplify any
    // float32-vs-float64 difference chaotically (the gradient itself agrees to ~1e-7); 5e-3 is stable.
    const lr = ln ? 5e-3 : 1e-2,
      wd = 1,
      steps = 100;
    const w = init(m, 21, 0.7);
    const { tr, te, net } = setupWasm(m, w, 60, 9);
    W().setOptim(Optim.adamw, lr, wd, 0.9, 0.999, 1e-8, 0);
    W().setWdSchedule(WdSchedule.constant, 0, 0);
    W().setClampGroup(Group.all);
    W().setArm(Arm.free, 0, 0);
    const st = adamState(m);
    let worstNorm = 0,
      worstLoss = 0;
    for (let s = 0; s < steps; s++) {
      const ref = attnLossAndGrad(m, w, tr.a, tr.b, tr.y);
      adamwStep(w, ref.grad!, st, lr, wd);
      assert.equal(W().advance(1), 1);
      worstLoss = Math.max(worstLoss, Math.abs(W().loss() - ref.loss) / ref.loss);
      const nr = attnNorm(w);
      worstNorm = Math.max(worstNorm, Math.abs(W().weightNorm() - nr) / nr);
    }
    process.stdout.write(
      `# trajectory (layernorm ${ln}): max rel ‖W‖ error ${worstNorm.toExponential(2)}, ` +
        `train loss ${worstLoss.toExponential(2)}\n`,
    );
    assert.ok(worstNorm <= 1e-4, `‖W‖ relative error ${worstNorm}`);
    assert.ok(worstLoss <= 1e-3, `train loss relative error ${worstLoss}`);
    // group norms partition ‖W‖
    const gs = [Group.embed, Group.attn, Group.mlp, Group.unembed].map((g) => W().groupNorm(g));
    assert.ok(Math.abs(Math.hypot(...gs) - W().weightNorm()) < 1e-4 * W().weightNorm());
    // padding stays exactly 0 in θ
    const { w: got, padding } = readParams(net, Buf.theta);
    assert.ok(
      padding.every((x) => Object.is(x, 0)),
      "θ padding is not exactly +0 after training",
    );
    // evaluate() at the trained parameters vs the reference
    W().evaluate();
    const rTr = attnLossAndGrad(m, got, tr.a, tr.b, tr.y, false),
      rTe = attnLossAndGrad(m, got, te.a, te.b, te.y, false);
    const e = metrics(),
      errs = [Math.abs(e.trainLoss - rTr.loss) / rTr.loss, Math.abs(e.testLoss - rTe.loss) / rTe.loss];
    process.stdout.write(
      `# evaluate (layernorm ${ln}): train loss ${e.trainLoss.toFixed(4)} acc ${e.trainAcc.toFixed(3)}, ` +
        `test loss ${e.testLoss.toFixed(4)} acc ${e.testAcc.toFixed(3)}; ` +
        `rel loss errors ${errs.map((x) => x.toExponential(1)).join(", ")}\n`,
    );
    assert.ok(
      errs.every((e) => e < 1e-5),
      `evaluate losses: ${errs}`,
    );
    assert.equal(e.trainAcc, rTr.acc);
    assert.equal(e.testAcc, rTe.acc);
  });
}

test("attention evaluate(): chunked evaluation (> 128 rows) equals the reference at init", () => {
  const m: AttnModel = { p: 17, d: 16, H: 20, heads: 2, layernorm: true };
  const w = init(m, 31);
  const { tr, te } = setupWasm(m, w, 140, 3);
  W().evaluate();
  const rTr = attnLossAndGrad(m, w, tr.a, tr.b, tr.y, false),
    rTe = attnLossAndGrad(m, w, te.a, te.b, te.y, false);
  const e = metrics();
  assert.ok(Math.abs(e.trainLoss - rTr.loss) / rTr.loss < 1e-6, `${e.trainLoss} vs ${rTr.loss}`);
  assert.ok(Math.abs(e.testLoss - rTe.loss) / rTe.loss < 1e-6, `${e.testLoss} vs ${rTe.loss}`);
  assert.equal(e.trainAcc, rTr.acc);
  assert.equal(e.testAcc, rTe.acc);
  // evaluation does not disturb training: the gradient afterwards equals a fresh one
  const g0 = W().gradient();
  W().evaluate();
  assert.equal(W().gradient(), g0);
});

// End to end through the sweep: per-group norms in the tables, and wc: measure for a clamp of one
// group takes the controls' norm of that group at T_grok.
test("attn sweep: --clamp-group unembed holds ‖U‖ at ρ × the controls' median ‖U‖ at T_grok", () => {
  const spec = specFile({
    model: "attn",
    p: 23,
    d: 32,
    H: 64,
    frac: 0.7,
    lr: 3e-3,
    "max-steps": 2000,
    "stop-at-grok": true,
    seeds: 2,
    layernorm: true,
    blocks: [{ arm: "free" }, { arm: "clamp", rho: 0.9, wc: "measure", "t-int": 50, "clamp-group": "unembed" }],
  });
  const out = join(tmp(), "sweep");
  const r = cli(["sweep", spec, "--out", out, "--quiet", "--workers", "1"]);
  assert.equal(r.code, 0, r.stderr);
  const runs = runRows(out),
    free = runs.filter((x) => x.arm === "free"),
    clamp = runs.filter((x) => x.arm === "clamp");
  assert.ok(free.every((x) => x.status === "grokked" && x.heads === 4 && x.model === "attn"));
  const ref = median(free.map((x) => x.wc_unembed as number));
  for (const x of clamp) {
    assert.equal(x.clamp_group, "unembed");
    assert.ok(Math.abs((x.wc_ref as number) - ref) < 1e-9, `wc_ref ${x.wc_ref} vs ${ref}`);
    if (x.status === "grokked")
      assert.ok(Math.abs((x.wc_unembed as number) - 0.9 * ref) < 1e-4, `‖U‖ at T_grok ${x.wc_unembed}`);
  }
  const c = curveRows(out).filter((x) => x.run_id === clamp[0].run_id && (x.step as number) > 50);
  assert.ok(c.length > 0 && c.every((x) => Math.abs((x.norm_unembed as number) - 0.9 * ref) < 1e-4));
  const last = c[c.length - 1];
  assert.ok(
    Math.abs(
      Math.hypot(
        last.norm_embed as number,
        last.norm_attn as number,
        last.norm_mlp as number,
        last.norm_unembed as number,
      ) - (last.weight_norm as number),
    ) < 1e-3,
  );
  assert.equal(last.norm_E, null);
});

test("attn run --save-params: params.arrow holds every tensor in the public layout", () => {
  const out = join(tmp(), "run");
  const r = cli([
    "run",
    "--model",
    "attn",
    "--p",
    "7",
    "--d",
    "16",
    "--H",
    "10",
    "--frac",
    "0.6",
    "--max-steps",
    "3",
    "--save-params",
    "0,3",
    "--out",
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const shapes = Object.fromEntries(
    [...tableFromIPC(readFileSync(join(out, "params.arrow")))]
      .filter((x) => x.step === 0)
      .map((x) => [x.tensor, [...x.shape]]),
  );
  assert.deepEqual(shapes, {
    E: [8, 16],
    P: [3, 16],
    Wq: [16, 16],
    Wk: [16, 16],
    Wv: [16, 16],
    Wo: [16, 16],
    Win: [16, 10],
    Wout: [10, 16],
    U: [16, 8],
  });
});
