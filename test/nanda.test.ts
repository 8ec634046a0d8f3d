// --observe nanda (Nanda et al. 2023): restricted and excluded loss over the key frequencies, on logits built
// from known frequencies, and on a real network that groks (restricted falls, excluded rises towards ln p).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { keyFrequencies, progressMeasures } from "../src/nanda.js";
import { cli, tmp, ROOT } from "./helpers.js";

const p = 23,
  stride = 24;
/** Logits L_c(a, b) = Σ_k A·cos(ωₖ(a + b − c)) over every pair (row a·p + b). */
function synthetic(K: number[], A: number, extra = 0): Float64Array {
  const L = new Float64Array(p * p * stride);
  for (let a = 0; a < p; a++)
    for (let b = 0; b < p; b++)
      for (let c = 0; c < p; c++) {
        let v = extra * Math.sin(7 * a + 3 * b + c); // not of the form trig(ω(a + b))
        for (const k of K) v += A * Math.cos((2 * Math.PI * k * (a + b - c)) / p);
        L[(a * p + b) * stride + c] = v;
      }
  return L;
}
const train = Int32Array.from({ length: 200 }, (_, i) => (i * 37) % (p * p));
const y = train.map((i) => (Math.floor(i / p) + (i % p)) % p);
const xent = (L: Float64Array) =>
  [...train].reduce((s, r, i) => {
    const row = Array.from({ length: p }, (_, c) => L[r * stride + c]),
      mx = Math.max(...row);
    return s + Math.log(row.reduce((t, v) => t + Math.exp(v - mx), 0)) + mx - row[y[i]];
  }, 0) / train.length;

test("logits made of the key frequencies: restricted loss = the full loss, excluded loss = ln p", () => {
  const K = [3, 8];
  const L = synthetic(K, 4);
  const m = progressMeasures(L, p, stride, K, train, y);
  assert.ok(Math.abs(m.restricted_loss - xent(L)) < 1e-9, `${m.restricted_loss} vs ${xent(L)}`);
  assert.ok(Math.abs(m.excluded_loss - Math.log(p)) < 1e-9, `${m.excluded_loss}`);
  // with another component, excluded keeps (nearly) only it: the extra part's small overlap with the basis aside
  const noisy = synthetic(K, 4, 0.5),
    other = synthetic([], 0, 0.5);
  const n = progressMeasures(noisy, p, stride, K, train, y);
  assert.ok(Math.abs(n.excluded_loss - xent(other)) < 1e-3, `${n.excluded_loss} vs ${xent(other)}`);
  // the wrong frequencies leave the logits in excluded
  const w = progressMeasures(L, p, stride, [1, 2], train, y);
  assert.ok(Math.abs(w.excluded_loss - xent(L)) < 1e-9 && Math.abs(w.restricted_loss - Math.log(p)) < 1e-9);
});

test("keyFrequencies: the bins of largest power of E", () => {
  const d = 4,
    E = new Float64Array(p * d);
  for (let a = 0; a < p; a++) {
    E[a * d] = Math.cos((2 * Math.PI * 5 * a) / p);
    E[a * d + 1] = 0.5 * Math.sin((2 * Math.PI * 9 * a) / p);
    E[a * d + 2] = 0.1 * Math.cos((2 * Math.PI * 2 * a) / p);
  }
  assert.deepEqual(keyFrequencies(E, p, d, 2), [5, 9]);
  assert.deepEqual(keyFrequencies(E, p, d, 3), [2, 5, 9]);
});

test("a real network that groks: restricted loss falls below the train loss's order, excluded rises", () => {
  const out = tmp();
  const args = ["run", "--p", "23", "--d", "32", "--H", "64", "--frac", "0.7", "--lr", "5e-3", "--max-steps", "1500"];
  assert.equal(cli([...args, "--log", "every:750", "--observe", "nanda", "--out", out]).code, 0);
  const c = [...tableFromIPC(readFileSync(join(out, "curves.arrow")))].map((r) => r.toJSON());
  const [first, , last] = c;
  assert.ok(last.test_acc > 0.9, "it grokked");
  assert.ok(Math.abs(first.restricted_loss - Math.log(23)) < 0.1 && Math.abs(first.excluded_loss - Math.log(23)) < 0.1);
  assert.ok(last.restricted_loss < 0.1 && last.excluded_loss > 1.5, JSON.stringify(last));
  // the README's reader of these curves (examples/quick/nanda-curves.mjs): one line per run, its values from them
  const script = join(ROOT, "examples", "quick", "nanda-curves.mjs");
  const [head, line] = execFileSync(process.execPath, [script, out], { encoding: "utf8" }).trim().split("\n");
  assert.match(head, /seed +T_mem +T_grok +restricted<0.5 +test<0.5 +excluded at 0/);
  const ex = (r: { excluded_loss: number }) => r.excluded_loss.toFixed(2);
  assert.deepEqual(line.trim().split(/ +/).slice(3), [
    "750",
    "1500",
    ex(first),
    ex(c[1]),
    "(750)",
    ex(last),
    ex(last),
    "(1500)",
  ]);
  const fixed = tmp();
  assert.equal(
    cli([...args, "--log", "every:1500", "--observe", "nanda", "--key-freqs", "1,2", "--out", fixed]).code,
    0,
  );
  const bad = cli(["run", "--model", "attn", "--observe", "nanda"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /nanda only for --model mlp on --op add/);
  assert.match(
    cli(["run", "--p", "23", "--key-freqs", "12"]).stderr,
    /--key-freqs: expected comma-separated frequencies in \[1, 11\]/,
  );
});
