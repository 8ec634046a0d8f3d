// Same arguments → identical results; every arm and lr starts from the same network and split.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { cli, tmp, abi as abiOf, BUILDS, runRows } from "./helpers.js";
import { parseRunConfig } from "../src/options.js";
import { prepare } from "../src/run.js";

for (const build of BUILDS) {
  const abi = () => abiOf(build.name),
    k = ` [${build.name}]`;
  const ARGS = [
    "--kernels",
    build.name,
    "--p",
    "13",
    "--d",
    "8",
    "--H",
    "12",
    "--max-steps",
    "300",
    "--seeds",
    "2",
    "--save-params",
    "0,300",
  ];

  function runTo(extra: string[]): string {
    const dir = tmp();
    const base = ARGS.filter((x, i) => !extra.includes(x) && !extra.includes(ARGS[i - 1])); // extra overrides
    // "--flag -": drop the base flag
    const r = cli(["run", ...base, ...extra.filter((x, i) => x !== "-" && extra[i + 1] !== "-"), "--out", dir]);
    assert.equal(r.code, 0, r.stderr);
    return dir;
  }

  test(
    "two runs with the same arguments give same run tables (but time, place) and identical curve, params files" + k,
    () => {
      const a = runTo([]),
        b = runTo([]);
      const rows = runRows;
      assert.deepEqual(rows(a), rows(b));
      for (const f of ["curves.arrow", "params.arrow", "splits.arrow"])
        assert.deepEqual(readFileSync(join(a, f)), readFileSync(join(b, f)), f);
    },
  );

  test("matched counterfactual: lr, rho and the arm change the trajectory but never the init or the split" + k, () => {
    const base = runTo([]);
    const other = runTo(["--lr", "3e-3", "--arm", "clamp", "--wc", "10", "--rho", "0.8", "--t-int", "50"]);
    const params = (d: string, step: number) =>
      [...tableFromIPC(readFileSync(join(d, "params.arrow")))].filter((r) => r.step === step).map((r) => [...r.values]);
    assert.deepEqual(params(base, 0), params(other, 0));
    assert.notDeepEqual(params(base, 300), params(other, 300));
    const pairs = (d: string) => [...tableFromIPC(readFileSync(join(d, "splits.arrow")))].map((r) => [...r.pairs]);
    assert.deepEqual(pairs(base), pairs(other));
  });

  for (const extra of [
    ["--model", "attn", "--d", "16", "--layernorm"],
    ["--model", "tian", "--op", "dih:5", "--p", "10", "--d", "-", "--optim", "muon", "--loss", "mse"],
    ["--task", "parity", "--p", "-", "--d", "-", "--n", "10", "--m", "200", "--m-test", "100"],
  ]) {
    test(`same arguments, identical bytes for the other models too: ${extra.join(" ")}` + k, () => {
      const a = runTo(extra),
        b = runTo(extra);
      const rows = runRows;
      assert.deepEqual(rows(a), rows(b));
      for (const f of ["curves.arrow", "params.arrow"])
        assert.deepEqual(readFileSync(join(a, f)), readFileSync(join(b, f)), f);
    });
  }

  test(
    "evaluate() keeps the train forward pass for the next step (MLP family and attention): trajectories equal " +
      "those without evaluations, and a host write in between is seen" +
      k,
    () => {
      const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));
      const small = { p: 11, d: 8, H: 12, frac: 0.5 };
      for (const raw of [
        small,
        { ...small, layernorm: true, act: "relu" },
        { task: "parity", n: 10, m: 200, "m-test": 100, H: 12 },
        { model: "tian", p: 11, H: 12, loss: "mse" },
        { model: "attn", p: 11, d: 16, H: 24, frac: 0.6 },
        { model: "attn", p: 11, d: 16, H: 24, frac: 0.6, layernorm: true },
      ]) {
        const c = parseRunConfig(raw);
        const { net } = prepare(abi(), c);
        abi().advance(7);
        abi().evaluate();
        const m0 = abi().metric(0);
        abi().advance(5);
        abi().evaluate();
        abi().advance(3);
        const withEval = net.params();
        prepare(abi(), c);
        abi().advance(7);
        assert.equal(
          abi().gradient(),
          m0,
          `${JSON.stringify(raw)}: the evaluated train loss is the training step's loss`,
        );
        const g = prepare(abi(), c).net;
        abi().advance(15);
        for (const [k, x] of Object.entries(g.params()))
          assert.deepEqual(bits(withEval[k]), bits(x), `${JSON.stringify(raw)}: ${k}`);
        // evaluate, then the host changes θ: the next step must start from the new θ
        const halve = (net: typeof g) => {
          const w = net.params();
          for (const x of Object.values(w)) x.forEach((v, i) => (x[i] = v * 0.5));
          net.setParams(w);
        };
        abi().evaluate();
        halve(g);
        abi().advance(1);
        const after = g.params();
        const h = prepare(abi(), c).net;
        abi().advance(15);
        halve(h);
        abi().advance(1);
        for (const [k, x] of Object.entries(h.params()))
          assert.deepEqual(bits(after[k]), bits(x), `${JSON.stringify(raw)} after a host write: ${k}`);
      }
    },
  );
}
