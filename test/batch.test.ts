// --batch B: minibatches inside wasm (assembly/layout.ts nextBatch) — a fresh SplitMix64 permutation of the
// train rows each epoch, consecutive slices of B, the remainder last; full batch (0, absent, B = n_train) keeps
// its bits; the gradient of a minibatch is the float64 reference's on the same rows; evaluation stays over the
// whole train set; a runs.arrow column and part of the control key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC, tableToIPC } from "apache-arrow";
import { abi as abiOf, BUILDS, cfg, cli, tmp } from "./helpers.js";
import { prepare, train, batchKey } from "../src/run.js";
import { parseRunConfig, controlKey, RunConfig } from "../src/options.js";
import { Buf, Metric } from "../src/codes.js";
import { TENSORS, Net } from "../src/engine.js";
import { parityTask } from "../src/parity.js";
import { stepFlops } from "../src/cost.js";
import { readRuns } from "../src/fit/read.js";
import { lossAndGrad, denseLossAndGrad, oneHotPairs, relErr, P64 } from "./ref.js";
import { attnLossAndGrad, ATTN_TENSORS, AttnParams } from "./attnref.js";

const M64 = (1n << 64n) - 1n;
/** SplitMix64 (Steele, Lea & Flood 2014) from state `key`: outputs mix(key + k·γ), k = 1, 2, … */
function splitmix64(key: bigint): () => bigint {
  let k = 0n;
  return () => {
    let z = (key + ++k * 0x9e3779b97f4a7c15n) & M64;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
    return z ^ (z >> 31n);
  };
}
/** The permutations of epochs 0 … epochs−1 as the kernels draw them (inside-out Fisher–Yates, one draw
 *  per row). */
function mirror(seed: number, n: number, epochs: number): number[][] {
  const [hi, lo] = batchKey(seed),
    next = splitmix64((BigInt(hi) << 32n) | BigInt(lo));
  return Array.from({ length: epochs }, () => {
    const perm = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const j = Number(next() % BigInt(i + 1));
      perm[i] = perm[j];
      perm[j] = i;
    }
    return perm;
  });
}

test("the mirror is SplitMix64: its first output from state 0 is the published 0xe220a8397b1dcdaf", () => {
  assert.equal(splitmix64(0n)(), 0xe220a8397b1dcdafn);
});

for (const k of BUILDS)
  test(`[${k.name}] each epoch visits every train row once, in the order of the SplitMix64 mirror`, () => {
    const abi = abiOf(k.name),
      c = cfg({ batch: 16, seed: 3 }); // n_train 60: batches of 16, 16, 16 and the remainder 12
    const { net } = prepare(abi, c);
    const perm = () => [...net.i32(abi.ptr(Buf.perm), 60)];
    const want = mirror(3, 60, 3),
      sizes: number[] = [];
    for (let e = 0; e < 3; e++) {
      for (let s = 0; s < 4; s++) sizes.push(abi.nextBatch());
      assert.deepEqual(perm(), want[e], `epoch ${e}`);
      assert.deepEqual(
        [...want[e]].sort((a, b) => a - b),
        [...Array(60).keys()],
      );
    }
    assert.deepEqual(sizes, [16, 16, 16, 12, 16, 16, 16, 12, 16, 16, 16, 12]);
    assert.notDeepEqual(want[0], want[1]);
    assert.notDeepEqual(mirror(4, 60, 1)[0], want[0]); // another seed, another order
  });

type Kind = "mlp" | "attn" | "tian" | "parity";
const KINDS: [Kind, Record<string, unknown>][] = [
  ["mlp", { p: 13, d: 5, H: 7 }], // padded sizes
  ["mlp", { layernorm: true }],
  ["attn", { model: "attn", d: 16, H: 12, heads: 2 }],
  ["tian", { model: "tian", loss: "mse", p: 11, frac: 0.5, H: 12 }],
  ["parity", { task: "parity", n: 10, k: 3, m: 150, "m-test": 50, H: 12 }],
];

/** The float64 reference's loss and gradient (public layout, by tensor) on the train rows `rows`. */
function reference(kind: Kind, c: RunConfig, net: Net, w: Record<string, Float32Array>, rows: number[]) {
  const w64 = Object.fromEntries(Object.entries(w).map(([t, x]) => [t, Float64Array.from(x)])) as any;
  const res = (r: { loss: number; grad?: unknown }) => ({ loss: r.loss, grad: r.grad as Record<string, Float64Array> });
  if (kind === "parity") {
    const data = parityTask(c.n, c.k, c.m, c.mTest, c.seed);
    const X = rows.flatMap((i) => [...data.train.x.slice(i * c.n, (i + 1) * c.n)]),
      y = Int32Array.from(rows, (i) => data.train.y[i]);
    return res(
      denseLossAndGrad(
        { inW: c.n, H: c.H, C: 2, act: c.act, layernorm: c.layernorm, loss: "ce", bias: true },
        w64,
        X,
        y,
      ),
    );
  }
  const pick = (b: Buf) => {
    const all = net.i32(net.where(b), net.dims.nTrain);
    return Int32Array.from(rows, (i) => all[i]);
  };
  const [a, b, y] = [pick(Buf.trainA), pick(Buf.trainB), pick(Buf.trainY)];
  if (kind === "attn") return res(attnLossAndGrad({ ...c, layernorm: c.layernorm }, w64 as AttnParams, a, b, y));
  if (kind === "tian") {
    const m = { inW: 2 * c.p, H: c.H, C: c.p, act: c.act, layernorm: c.layernorm, loss: c.loss, bias: false };
    return res(denseLossAndGrad(m, w64, oneHotPairs(c.p, a, b), y));
  }
  return res(lossAndGrad({ p: c.p, d: c.d, H: c.H, act: c.act, layernorm: c.layernorm }, w64 as P64, a, b, y));
}

for (const k of BUILDS)
  for (const [kind, raw] of KINDS)
    test(`[${k.name}] ${kind}: a minibatch's loss, gradient = float64 on its rows ${JSON.stringify(raw)}`, () => {
      const abi = abiOf(k.name),
        c = kind === "mlp" || kind === "attn" ? cfg({ ...raw, batch: 16 }) : parseRunConfig({ ...raw, batch: 16 });
      const { net } = prepare(abi, c),
        nTrain = net.dims.nTrain;
      const w = net.params(),
        names = kind === "attn" ? ATTN_TENSORS : kind === "mlp" ? TENSORS : (Object.keys(w) as string[]);
      const last = Math.ceil(nTrain / 16); // the first batch and the epoch's last, smaller one
      let pos = 0;
      for (let s = 1; s <= last; s++) {
        const m = abi.nextBatch();
        assert.equal(m, Math.min(16, nTrain - pos));
        if (s === 1 || s === last) {
          const rows = [...net.i32(abi.ptr(Buf.perm), nTrain)].slice(pos, pos + m);
          const loss = abi.gradient(),
            g = net.params(Buf.grad),
            ref = reference(kind, c, net, w, rows);
          assert.ok(Math.abs(loss - ref.loss) / ref.loss < 1e-6, `step ${s}: loss ${loss} vs ${ref.loss}`);
          for (const t of names) {
            const e = relErr(g[t], ref.grad[t]);
            assert.ok(e < 2e-5, `step ${s}, ${t}: relative gradient error ${e}`);
          }
        }
        pos += m;
      }
      // evaluation: over the whole train set, whatever the batch
      abi.evaluate();
      const whole = reference(kind, c, net, w, [...Array(nTrain).keys()]);
      assert.ok(Math.abs(abi.metric(Metric.trainLoss) - whole.loss) / whole.loss < 1e-6);
    });

const small = { p: 11, d: 8, H: 12, frac: 0.5, "max-steps": 200, log: "every:20" };
const curvesOf = (raw: Record<string, unknown>, k?: string) => {
  const r = train(abiOf(k as any), parseRunConfig({ ...small, ...raw }));
  return { curves: r.curves, final: r.final };
};

for (const k of BUILDS)
  test(`[${k.name}] full batch: --batch 0, absent and n_train train the same bits; a batch of 16 others`, () => {
    const none = curvesOf({}, k.name);
    assert.deepEqual(curvesOf({ batch: 0 }, k.name), none);
    assert.deepEqual(curvesOf({ batch: 60 }, k.name), none);
    const b = curvesOf({ batch: 16 }, k.name);
    assert.notDeepEqual(b.curves, none.curves);
    assert.deepEqual(curvesOf({ batch: 16 }, k.name), b, "the same seed, the same bits");
    assert.notDeepEqual(curvesOf({ batch: 16, seed: 1 }, k.name).curves[5], b.curves[5]);
  });

test("an evaluation between steps changes nothing: the step after it trains its minibatch, not the kept pass", () => {
  // every:1 evaluates before every step (evaluate() keeps the whole train set's forward pass); every:40 rarely
  for (const model of [{}, { model: "attn", d: 16, H: 12, heads: 2 }]) {
    const every = train(abiOf(), parseRunConfig({ ...small, ...model, batch: 16, "max-steps": 40, log: "every:1" }));
    const rare = train(abiOf(), parseRunConfig({ ...small, ...model, batch: 16, "max-steps": 40, log: "every:40" }));
    assert.deepEqual(every.final, rare.final);
    assert.deepEqual(every.curves.at(-1), rare.curves.at(-1));
  }
});

test("--batch: bounds, the runs.arrow column (0 in older files), the control key, the step's FLOPs", () => {
  const bad = cli(["run", "--p", "11", "--frac", "0.5", "--batch", "61"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--batch: expected an integer in \[0, 60\] \(0: full batch; at most n_train\), got "61"/);
  assert.equal(cli(["run", "--p", "11", "--frac", "0.5", "--batch", "-1"]).code, 2);
  const out = tmp();
  const r = cli(["run", "--p", "11", "--d", "8", "--H", "12", "--max-steps", "20", "--batch", "8", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  const file = join(out, "runs.arrow"),
    t = tableFromIPC(readFileSync(file));
  assert.equal([...t][0].batch, 8);
  assert.notEqual(controlKey(cfg({ batch: 8 })), controlKey(cfg()));
  assert.match(controlKey(cfg({ batch: 8 })), /batch=8/);
  assert.equal(stepFlops(cfg({ batch: 8 })) < stepFlops(cfg()), true);
  assert.equal(stepFlops(cfg({ batch: 60 })), stepFlops(cfg()));
  // a file written before the column: fit reads its runs as full batch
  const names = t.schema.fields.map((f) => f.name).filter((n) => n !== "batch");
  writeFileSync(file, tableToIPC(t.select(names), "file"));
  return readRuns(out).then((runs) => assert.equal(runs[0].cfg.batch, 0));
});
