// Group ops (S_N, D_M) and x²+xy+y², op and frac parsing.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cayley,
  label,
  allPairs,
  split,
  decode,
  parseOp,
  parseFrac,
  fracAuto,
  isGroupOp,
  groupOrder,
  BASE_OPS,
  OPS,
} from "../src/task.js";
import { Rng } from "../src/rng.js";

const mul = (t: Int32Array, p: number) => (a: number, b: number) => t[a * p + b];

function assertGroup(op: string, triples: "all" | number) {
  const p = groupOrder(op),
    t = cayley(op),
    m = mul(t, p);
  assert.equal(t.length, p * p);
  for (const v of t) assert.ok(v >= 0 && v < p, `${op}: closure`);
  for (let a = 0; a < p; a++) {
    assert.equal(m(0, a), a);
    assert.equal(m(a, 0), a);
    const inv = t.subarray(a * p, a * p + p).indexOf(0);
    assert.ok(inv >= 0 && m(inv, a) === 0, `${op}: ${a} has an inverse`);
  }
  const assoc = (a: number, b: number, c: number) =>
    assert.equal(m(m(a, b), c), m(a, m(b, c)), `${op}: (${a}${b})${c}`);
  if (triples === "all") {
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) for (let c = 0; c < p; c++) assoc(a, b, c);
  } else {
    const r = new Rng(1, 0);
    for (let i = 0; i < triples; i++) assoc(r.int(p), r.int(p), r.int(p));
  }
}

/** Sorted multiset of element orders. */
function orders(op: string): number[] {
  const p = groupOrder(op),
    m = mul(cayley(op), p),
    out: number[] = [];
  for (let a = 0; a < p; a++) {
    let x = a,
      k = 1;
    while (x !== 0) {
      x = m(x, a);
      k++;
    }
    out.push(k);
  }
  return out.sort((x, y) => x - y);
}

const involutions = (op: string) => orders(op).filter((k) => k === 2).length;

const abelian = (op: string) => {
  const p = groupOrder(op),
    m = mul(cayley(op), p);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) if (m(a, b) !== m(b, a)) return false;
  return true;
};

test("Cayley tables satisfy the group axioms", () => {
  for (const op of ["sym:3", "sym:4", "dih:3", "dih:5", "dih:6"]) assertGroup(op, "all");
  for (const op of ["sym:5", "sym:6", "dih:100"]) assertGroup(op, 20000);
});

test("S_N: lexicographic permutations composed as (a∘b)(i) = a[b[i]]", () => {
  // S_3 in order: 012 021 102 120 201 210
  assert.equal(label("sym:3", 1, 2, 6), 4); // 021∘102 = 201
  assert.equal(label("sym:3", 2, 1, 6), 3); // 102∘021 = 120
  assert.equal(groupOrder("sym:5"), 120);
  assert.equal(groupOrder("sym:6"), 720);
  assert.ok(!abelian("sym:3"));
  assert.equal(involutions("sym:3"), 3);
  assert.equal(involutions("sym:4"), 9); // 6 transpositions + 3 double transpositions
  assert.deepEqual(orders("sym:3"), orders("dih:3")); // S_3 ≅ D_3
});

test("D_M: r^k s^f at k + M·f, s r s = r⁻¹, M reflections (+ r^(M/2) when M is even)", () => {
  assert.equal(label("dih:5", 1, 5, 10), 6); // r·s = r s
  assert.equal(label("dih:5", 5, 1, 10), 9); // s·r = r⁴ s
  assert.equal(groupOrder("dih:7"), 14);
  for (let M = 3; M <= 12; M++) {
    const op = `dih:${M}`;
    assert.ok(!abelian(op), op);
    assert.equal(involutions(op), M + (M % 2 === 0 ? 1 : 0), op);
    assert.equal(orders(op)[2 * M - 1], M); // the rotation r has order M
  }
  assert.equal(label("dih:2048", 2048, 2048, 4096), 0); // big D_M without a table
});

test("x²+xy+y² mod p", () => {
  assert.equal(label("x2+xy+y2", 2, 3, 7), 5); // 19 mod 7
  assert.equal(label("x2+xy+y2", 5, 6, 11), 3); // 91 mod 11
  assert.equal(label("x2+xy+y2", 1, 1, 2), 1);
  assert.equal(label("x2+xy+y2", 0, 0, 5), 0);
  assert.equal(allPairs("x2+xy+y2", 6).length, 36);
});

test("group splits: all p² pairs, deterministic per seed, labels from the table", () => {
  const s = split("sym:4", 24, 0.3, 7);
  assert.equal(s.train.length + s.test.length, 24 * 24);
  assert.deepEqual(
    [...s.train, ...s.test].sort((a, b) => a - b),
    [...allPairs("sym:4", 24)],
  );
  assert.deepEqual(split("sym:4", 24, 0.3, 7), s);
  assert.notDeepEqual(split("sym:4", 24, 0.3, 8).train, s.train);
  const { a, b, y } = decode("sym:4", 24, s.test),
    t = cayley("sym:4");
  for (let i = 0; i < y.length; i++) assert.equal(y[i], t[a[i] * 24 + b[i]]);
  assert.equal(decode("sym:6", 720, allPairs("sym:6", 720)).y.length, 518400);
  assert.throws(() => allPairs("sym:4", 23), /p = 24/);
  assert.throws(() => label("dih:5", 1, 1, 11), /p = 10/);
});

test("parseOp, isGroupOp, groupOrder", () => {
  assert.deepEqual(OPS, BASE_OPS);
  for (const s of [...BASE_OPS, "sym:3", "sym:6", "dih:3", "dih:2048"]) assert.equal(parseOp(s), s);
  for (const s of [
    "sym:2",
    "sym:7",
    "dih:2",
    "dih:2049",
    "sym:x",
    "sym:",
    "sym:03",
    "SYM:3",
    "foo",
    "",
    3,
    null,
    undefined,
  ])
    assert.equal(parseOp(s), null, String(s));
  assert.ok(isGroupOp("sym:5") && isGroupOp("dih:9"));
  assert.ok(!isGroupOp("add") && !isGroupOp("sym:9"));
  assert.throws(() => groupOrder("add"), /not a group op/);
});

test("parseFrac and Tian's fracAuto = C·ln M / M", () => {
  assert.equal(parseFrac(0.4), 0.4);
  assert.equal(parseFrac("0.25"), 0.25);
  assert.equal(parseFrac(1.5), 1.5); // not clamped: the caller validates
  assert.deepEqual(parseFrac("auto:2"), { auto: 2 });
  assert.deepEqual(parseFrac("auto:0.5"), { auto: 0.5 });
  for (const s of ["auto:0", "auto:-1", "auto:", "auto:x", "x", "", " ", NaN, Infinity, null, undefined, {}])
    assert.equal(parseFrac(s), null, String(s));
  assert.equal(fracAuto(2, 24), (2 * Math.log(24)) / 24);
});
