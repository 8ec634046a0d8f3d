// --label-noise K: K train labels replaced by seeded random other labels (Doshi et al. 2024); test labels
// stay true; the setting is a runs.arrow column and part of the measured-Wc control key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { abi, cfg, cli, tmp } from "./helpers.js";
import { prepare } from "../src/run.js";
import { addLabelNoise, decode, split } from "../src/task.js";
import { Buf } from "../src/codes.js";
import { controlKey } from "../src/options.js";

test("addLabelNoise: exactly K distinct rows get another class, the same for the same seed", () => {
  const y = Int32Array.from({ length: 50 }, (_, i) => i % 7);
  const a = y.slice(),
    b = y.slice();
  const rows = addLabelNoise(a, 7, 12, 3);
  assert.deepEqual(addLabelNoise(b, 7, 12, 3), rows);
  assert.deepEqual(a, b);
  assert.equal(new Set(rows).size, 12);
  assert.deepEqual(
    [...rows],
    [...rows].sort((u, v) => u - v),
  );
  for (let i = 0; i < 50; i++) assert.equal(a[i] !== y[i], rows.includes(i), `row ${i}`);
  assert.ok([...a].every((v) => v >= 0 && v < 7));
  assert.notDeepEqual(addLabelNoise(y.slice(), 7, 12, 4), rows); // another seed, other rows
  const none = y.slice();
  assert.equal(addLabelNoise(none, 7, 0, 3).length, 0);
  assert.deepEqual(none, y);
});

test("the kernels see K wrong train labels and the true test labels; the row and control key record it", () => {
  const c = cfg({ "label-noise": 9 });
  const { net, split: sp } = prepare(abi(), c);
  const tr = decode(c.op, c.p, sp.train),
    te = decode(c.op, c.p, sp.test);
  const y = net.i32(abi().ptr(Buf.trainY), sp.train.length),
    yt = net.i32(abi().ptr(Buf.testY), sp.test.length);
  assert.equal(y.filter((v, i) => v !== tr.y[i]).length, 9);
  assert.deepEqual([...yt], [...te.y]);
  assert.deepEqual(sp.train, split(c.op, c.p, c.frac, c.seed).train); // the split itself is unchanged
  assert.notEqual(controlKey(c), controlKey(cfg()));
  const out = tmp();
  assert.equal(
    cli(["run", "--p", "11", "--d", "8", "--H", "12", "--max-steps", "20", "--label-noise", "3", "--out", out]).code,
    0,
  );
  assert.equal([...tableFromIPC(readFileSync(join(out, "runs.arrow")))][0].label_noise, 3);
  const bad = cli(["run", "--p", "11", "--frac", "0.5", "--label-noise", "100"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--label-noise: expected an integer in \[0, 60\] \(the train set's size\), got "100"/);
});
