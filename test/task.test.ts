// Datasets, splits, the logging grid and the seeded generator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { split, allPairs, label, decode, roundHalfEven, trainCount } from "../src/task.js";
import { logGrid } from "../src/options.js";
import { Rng } from "../src/rng.js";

test("labels of add/sub/mul/div mod p", () => {
  assert.equal(label("add", 50, 20, 59), 11);
  assert.equal(label("sub", 3, 5, 7), 5);
  assert.equal(label("mul", 6, 6, 7), 1);
  for (let a = 0; a < 11; a++) for (let b = 1; b < 11; b++) assert.equal((label("div", a, b, 11) * b) % 11, a);
  assert.equal(allPairs("add", 5).length, 25);
  assert.equal(allPairs("div", 5).length, 20); // b = 0 has no inverse
});

test("the split: a seeded permutation, n_train = max(2, round(frac·N)) with Python's rounding", () => {
  const s = split("add", 59, 0.4, 0);
  assert.equal(s.train.length, 1392);
  assert.equal(s.train.length + s.test.length, 59 * 59);
  assert.deepEqual(
    [...new Set([...s.train, ...s.test])].sort((a, b) => a - b),
    [...allPairs("add", 59)],
  );
  assert.deepEqual(split("add", 59, 0.4, 0), s);
  assert.notDeepEqual(split("add", 59, 0.4, 1).train, s.train);
  assert.equal(trainCount(0.01, 10), 2);
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(3.5), 4);
  assert.equal(roundHalfEven(1392.4), 1392);
  const { a, b, y } = decode("add", 59, s.train);
  for (let i = 0; i < 10; i++) assert.equal(y[i], (a[i] + b[i]) % 59);
});

test("log grid: {0} ∪ round(max^(i/359)) like the reference, and every:K", () => {
  const g = logGrid("geom:360", 20000);
  const want = new Set([0]);
  for (let i = 0; i < 360; i++) want.add(roundHalfEven(20000 ** (i / 359)));
  assert.deepEqual(
    g,
    [...want].sort((x, y) => x - y),
  );
  assert.equal(g[g.length - 1], 20000);
  assert.deepEqual(logGrid("every:100", 250), [0, 100, 200, 250]);
  assert.throws(() => logGrid("geom:1", 10), /--log/);
});

test("xoshiro128** streams are reproducible and roughly N(0, 1)", () => {
  const a = new Rng(42, 2).normals(20000, 1),
    b = new Rng(42, 2).normals(20000, 1);
  assert.deepEqual(a, b);
  assert.notDeepEqual(new Rng(42, 3).normals(10, 1), a.slice(0, 10));
  const mean = a.reduce((s, x) => s + x, 0) / a.length,
    v = a.reduce((s, x) => s + x * x, 0) / a.length;
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(v - 1) < 0.05, `${mean} ${v}`);
  // pinned values: a change of generator must be deliberate (it changes every published number)
  assert.deepEqual(
    [...new Rng(0, 1).normals(3, 1)].map((x) => x.toFixed(6)),
    ["-1.673283", "0.151408", "-1.243551"],
  );
});
