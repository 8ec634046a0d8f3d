// The control gate alone: when "wc: measure" runs are released, at which Wc, when they fail, and in which order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ControlGate, Release } from "../src/gate.js";
import { expand, controlKey, SweepRun } from "../src/spec.js";
import type { WcByGroup } from "../src/store.js";

// runs 0–2: free controls of key A (p 11), 3–5 of key B (p 13); 6–11 measure A (ρ 0.9, 1.1), 12 measures B;
// 13–15 clamp at a fixed wc; 16–17 free attn controls, 18 measures their embed group
const sw = expand({
  d: 8,
  H: 12,
  "max-steps": 10,
  seeds: 3,
  blocks: [
    { p: 11, arm: "free" },
    { p: 13, arm: "free" },
    { p: 11, arm: "clamp", wc: "measure", rho: [0.9, 1.1] },
    { p: 13, arm: "clamp", wc: "measure", seeds: 1 },
    { p: 11, arm: "clamp", wc: 5 },
    { model: "attn", p: 11, heads: 2, arm: "free", seeds: 2 },
    { model: "attn", p: 11, heads: 2, arm: "clamp", "clamp-group": "embed", wc: "measure", seeds: 1 },
  ],
});
const run = (id: number): SweepRun => sw.runs[id];
const KEY_A = controlKey(run(0).cfg);

const wc = (all: number | null, groups: Partial<WcByGroup> = {}): WcByGroup => ({
  all,
  embed: null,
  attn: null,
  mlp: null,
  unembed: null,
  ...groups,
});
const grokked = (all: number, groups: Partial<WcByGroup> = {}) => ({ status: "grokked", wc: wc(all, groups) });
const censored = { status: "censored", wc: wc(null) };
const ids = (rs: Release[]) => rs.map((x) => x.run.runId);
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

test("the spec's layout: the keys and dependents these tests assume", () => {
  assert.deepEqual(
    sw.runs.map((r) => [r.cfg.arm, r.measure === null ? null : r.measure === KEY_A]),
    [
      ...Array(6).fill(["free", null]),
      ...Array(6).fill(["clamp", true]),
      ["clamp", false],
      ...Array(3).fill(["clamp", null]),
      ["free", null],
      ["free", null],
      ["clamp", false],
    ],
  );
  assert.equal(run(12).measure, controlKey(run(3).cfg));
  assert.equal(run(18).measure, controlKey(run(16).cfg));
});

test("dependents wait for every control of their key, then run at the median Wc of the grokked (even count)", () => {
  const gate = new ControlGate(sw.runs);
  assert.deepEqual(gate.release(), []);
  gate.finished(run(0), grokked(10));
  gate.finished(run(13), grokked(99)); // not a control: changes nothing
  assert.deepEqual(gate.release(), []);
  gate.finished(run(1), censored);
  assert.deepEqual(gate.release(), []);
  gate.finished(run(2), grokked(14));
  const out = gate.release();
  assert.deepEqual(ids(out), range(6, 12));
  for (const r of out) {
    assert.equal(r.error, undefined);
    assert.equal(r.run.cfg.wc, 12);
    assert.equal(r.run.cfg.rho, run(r.run.runId).cfg.rho);
  }
  assert.equal(run(6).cfg.wc, null, "the sweep's own run is not changed");
  assert.deepEqual(gate.release(), [], "each dependent is released once");
});

test("several keys are independent; an odd count takes the middle value", () => {
  const gate = new ControlGate(sw.runs);
  gate.finished(run(3), grokked(30));
  gate.finished(run(0), grokked(1));
  gate.finished(run(4), grokked(10));
  assert.deepEqual(gate.release(), []);
  gate.finished(run(5), grokked(20));
  const b = gate.release();
  assert.deepEqual(ids(b), [12]);
  assert.equal(b[0].run.cfg.wc, 20);
  gate.finished(run(1), grokked(2));
  gate.finished(run(2), grokked(6));
  const a = gate.release();
  assert.deepEqual(ids(a), range(6, 12));
  assert.ok(a.every((r) => r.run.cfg.wc === 2));
});

test("no grokked control: the dependents fail with the error text; a worker failure counts as done", () => {
  const gate = new ControlGate(sw.runs);
  gate.finished(run(0), censored);
  gate.finished(run(1), null);
  gate.finished(run(2), { status: "diverged", wc: wc(null) });
  const out = gate.release();
  assert.deepEqual(ids(out), range(6, 12));
  for (const r of out) {
    assert.equal(r.error, `wc: measure: no free control with ${KEY_A} grokked, so Wc is unknown`);
    assert.equal(r.run.cfg.wc, null);
  }
});

test("a clamp group takes the median of that group's Wc, and fails when no grokked control has it", () => {
  const key = controlKey(run(16).cfg);
  const none = new ControlGate(sw.runs);
  none.finished(run(16), grokked(7));
  none.finished(run(17), grokked(9));
  assert.deepEqual(none.release(), [
    { run: run(18), error: `wc: measure: no free control with ${key} grokked, so Wc of group embed is unknown` },
  ]);
  const some = new ControlGate(sw.runs);
  some.finished(run(16), grokked(7, { embed: 3 }));
  some.finished(run(17), grokked(9, { embed: 5 }));
  assert.equal(some.release()[0].run.cfg.wc, 4);
});

test("resume: controls done in an earlier invocation (read from the store) release at once or still wait", () => {
  const done = new ControlGate(sw.runs.filter((r) => r.runId >= 6));
  for (const [id, all] of [
    [0, 4],
    [1, 8],
    [2, 6],
    [3, 1],
    [4, 3],
    [5, 2],
  ])
    done.known(controlKey(run(id).cfg), "grokked", wc(all));
  const out = done.release();
  assert.deepEqual(ids(out), range(6, 13), "the attn dependent still waits for its controls");
  assert.deepEqual(
    out.map((r) => r.run.cfg.wc),
    [...Array(6).fill(6), 2],
  );
  // two of A's controls done earlier, the third trained now
  const partly = new ControlGate(sw.runs.filter((r) => r.runId >= 2));
  partly.known(KEY_A, "grokked", wc(10));
  partly.known(KEY_A, "censored", wc(null));
  assert.deepEqual(partly.release(), []);
  partly.finished(run(2), grokked(20));
  assert.deepEqual(ids(partly.release()), range(6, 12));
});

test("release order is run_id order, keys by their first dependent, whatever the order of todo and results", () => {
  const gates = [sw.runs, [...sw.runs].reverse()].map((todo) => new ControlGate(todo));
  const order = [17, 5, 16, 4, 3, 2, 1, 0];
  for (const [i, gate] of gates.entries())
    for (const id of i ? order : [...order].reverse()) gate.finished(run(id), grokked(id + 1, { embed: id }));
  const [a, b] = gates.map((g) => g.release());
  assert.deepEqual(ids(a), [...range(6, 13), 18]);
  assert.deepEqual(a, b);
  assert.deepEqual(
    a.map((r) => r.run.cfg.wc),
    [...Array(6).fill(2), 5, 16.5],
  );
});
