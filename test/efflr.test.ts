// --observe eff-lr: the effective learning rate of each norm group, ‖θ_G(t+1) − θ_G(t)‖ / ‖θ_G(t)‖ at
// logged steps, against the float64 formula on the parameters saved at t and t + 1; training itself is unchanged.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { effLr } from "../src/observe.js";
import { cli, tmp } from "./helpers.js";

const rows = (dir: string, file: string) => [...tableFromIPC(readFileSync(join(dir, file)))].map((r) => r.toJSON());
const rel = (a: Float32Array[], b: Float32Array[]) => {
  let dd = 0,
    nn = 0;
  a.forEach((x, k) => x.forEach((v, i) => ((dd += (b[k][i] - v) ** 2), (nn += v * v))));
  return Math.sqrt(dd / nn);
};

test("effLr: the float64 ratio over a span; NaN for an all-zero span", () => {
  const before = Float32Array.from([3, 4, 0, 1]),
    after = Float32Array.from([3, 4.5, 0.5, 1]);
  assert.equal(effLr(before, after, 0, 3), Math.sqrt(0.5) / 5);
  assert.ok(Number.isNaN(effLr(before, after, 2, 3)));
});

for (const [name, args, groups] of [
  ["mlp", ["--p", "13", "--d", "8", "--H", "12", "--frac", "0.5"], { embed: ["E"], mlp: ["W1"], unembed: ["W2"] }],
  ["attn", ["--model", "attn", "--p", "11", "--d", "16", "--H", "24"], { embed: ["E", "P"], unembed: ["U"] }],
] as const) {
  test(`${name}: eff_lr per group equals the saved parameters' update, and the run's bits are unchanged`, () => {
    const base = ["run", ...args, "--max-steps", "60", "--log", "every:20", "--lr", "3e-3"];
    const a = tmp(),
      b = tmp();
    assert.equal(cli([...base, "--observe", "eff-lr", "--save-params", "20,21,40,41", "--out", a]).code, 0);
    assert.equal(cli([...base, "--out", b]).code, 0);
    const ca = rows(a, "curves.arrow"),
      cb = rows(b, "curves.arrow");
    const eff = Object.keys(ca[0]).filter((k) => k.startsWith("eff_lr"));
    assert.deepEqual(
      ca.map((r) => ({ ...r, ...Object.fromEntries(eff.map((k) => [k, null])) })),
      cb,
    );
    assert.ok(cb.every((r) => eff.every((k) => r[k] === null)));
    const params = rows(a, "params.arrow");
    const at = (step: number, names: readonly string[]) =>
      names.map((n) => Float32Array.from(params.find((p) => p.step === step && p.tensor === n)!.values));
    for (const step of [20, 40]) {
      const row = ca.find((r) => r.step === step)!;
      for (const [g, names] of Object.entries(groups)) {
        const want = rel(at(step, names), at(step + 1, names));
        assert.ok(Math.abs(row[`eff_lr_${g}`] / want - 1) < 1e-6, `${g} at ${step}: ${row[`eff_lr_${g}`]} vs ${want}`);
      }
    }
    assert.equal(ca[ca.length - 1].eff_lr, null); // the last logged step has no step after it
  });
}

test("eff-lr also for models without an embedding; spectral there is still refused", () => {
  const tian = ["run", "--model", "tian", "--p", "11", "--H", "16", "--max-steps", "20", "--log", "every:10"];
  const out = tmp();
  assert.equal(cli([...tian, "--observe", "eff-lr", "--out", out]).code, 0);
  const c = rows(out, "curves.arrow");
  assert.ok(c[0].eff_lr_mlp > 0 && c[0].eff_lr_unembed > 0 && c[0].eff_lr_embed === null);
  const r = cli([...tian, "--observe", "spectral"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--observe.*eff-lr or logits only/);
});
