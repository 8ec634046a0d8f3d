// The option table (src/option-table.ts) and what is derived from it: defaults, per-model defaults,
// forced values, the spec's keys and hash, runs.arrow's columns and the control key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OPTIONS } from "../src/option-table.js";
import { DEFAULTS, parseRunConfig, flagOf, cliOptions, SPEC_KEYS, controlKey, UsageError } from "../src/options.js";
import { RUN_COLUMNS, runRecord } from "../src/columns.js";
import { expand } from "../src/spec.js";
import type { RunResult } from "../src/run.js";

test("every option's default passes its own check, and flags are distinct long options", () => {
  assert.deepEqual(parseRunConfig({}), DEFAULTS);
  const flags = Object.keys(OPTIONS).map(flagOf);
  assert.equal(new Set(flags).size, flags.length);
  assert.deepEqual(flags.slice(0, 5), ["task", "model", "op", "p", "frac"]);
  assert.ok(flags.includes("init-scale") && flags.includes("m-test") && flags.includes("H"));
  assert.deepEqual(
    cliOptions()
      .filter(([, o]) => o.type === "boolean")
      .map(([f]) => f),
    ["layernorm", "stop-at-grok"],
  );
  assert.match(cliOptions().find(([f]) => f === "H")![1].describe, /\[256; parity: 512; attn: 512\]$/);
});

test("per-model defaults (PROTOCOL.md) apply where the user gives none; a given value wins", () => {
  const parity = parseRunConfig({ task: "parity" });
  assert.deepEqual([parity.H, parity.tInt, parity.maxSteps, parity.p, parity.d], [512, 1000, 50000, 2, 30]);
  assert.equal(parity.frac, 1000 / 3000);
  const attn = parseRunConfig({ model: "attn" });
  assert.deepEqual([attn.H, attn.lr, attn.tInt], [512, 5e-4, 600]);
  assert.equal(parseRunConfig({ model: "tian", p: 11 }).act, "quad");
  assert.equal(parseRunConfig({ model: "tian", p: 11 }).d, 11);
  assert.equal(parseRunConfig({ optim: "muon" }).momentum, 0.95);
  assert.equal(parseRunConfig({ optim: "muon", momentum: "0.5" }).momentum, 0.5);
  assert.equal(parseRunConfig({ model: "attn", H: 64 }).H, 64);
  assert.equal(parseRunConfig({ n: 7 }).n, 30, "a parity size means nothing to a modular task");
});

test("values a model forces are refused when given, naming the field; checks see earlier options", () => {
  const err = (raw: Record<string, unknown>) => {
    try {
      parseRunConfig(raw);
    } catch (e) {
      assert.ok(e instanceof UsageError);
      return (e as Error).message;
    }
    return "";
  };
  assert.match(err({ task: "parity", p: 7 }), /^--p: expected omitted for --task parity/);
  assert.match(err({ model: "tian", d: 8 }), /^--d: expected omitted for --model tian/);
  assert.equal(err({ op: "div", p: 12 }), "--p: expected a prime (--op div needs inverses mod p), got 12");
  assert.equal(err({ op: "sym:4", p: 23 }), "--p: expected omitted or 24 (the order of sym:4), got 23");
  assert.equal(err({ task: "parity", n: 5, k: 6 }), "--k: expected an integer in [1, --n=5], got 6");
  assert.equal(err({ arm: "clamp" }), "--wc: missing: expected a target norm reference (required by --arm clamp)");
  assert.equal(err({ task: "parity", model: "attn" }), '--model: expected mlp for --task parity, got "attn"');
});

test("spec keys in expansion order, and the spec hash as every earlier version computed it", () => {
  assert.deepEqual(SPEC_KEYS.slice(-11), [
    "stop-at-grok", "observe", "wd-schedule", "init-scale", "grokfast", "tau", "optim-grad", "label-noise", "batch",
    "key-freqs", "curves",
  ]); // prettier-ignore
  assert.ok(!SPEC_KEYS.includes("seed") && !SPEC_KEYS.includes("save-params"));
  const sw = expand({
    name: "before-after",
    "max-steps": 60,
    seeds: 2,
    blocks: [
      { arm: "free", p: 11, H: 12, d: 8, frac: 0.5, lr: [1e-3, 3e-3] },
      { model: "attn", p: 11, H: 12, frac: 0.5, d: 16, layernorm: true, "clamp-group": "unembed", arm: "sphere" },
      { model: "tian", p: 11, H: 12, frac: 0.5, optim: ["adam", "muon"], loss: "mse", "init-scale": 2 },
    ],
  });
  assert.equal(sw.hash, "e1d2bd85bc8223c1"); // computed by the code before the option table
  assert.deepEqual(
    sw.runs.map((r) => r.cfg.lr),
    [1e-3, 1e-3, 3e-3, 3e-3, 5e-4, 5e-4, 1e-3, 1e-3, 1e-3, 1e-3],
  );
});

test("runs.arrow: the released columns in their released order; option columns come from the table", () => {
  const names = RUN_COLUMNS.map(([n]) => n);
  assert.deepEqual(names.slice(0, 24), [
    "run_id", "seed", "task", "model", "op", "p", "frac", "d", "H", "act", "layernorm", "optim", "lr", "wd",
    "momentum", "wd_schedule", "init_scale", "arm", "rho", "wc_ref", "t_int", "max_steps", "mem_acc", "grok_acc",
  ]); // prettier-ignore
  assert.deepEqual(names.slice(38, 48), [
    "clamp_group", "heads", "loss", "n_bits", "k_bits", "parity_bits", "wc_embed", "wc_attn", "wc_mlp", "wc_unembed",
  ]); // prettier-ignore
  // revision 3 (0.3.0): failures and provenance, appended
  assert.deepEqual(names.slice(48), [
    "error_kind", "attempts", "host", "node_version", "kernels", "started_at", "finished_at", "grokfast", "tau",
    "optim_grad", "label_noise", "batch",
  ]); // prettier-ignore
});

test("the control key of a RunConfig equals that of its runs.arrow row; lr, momentum and seed are pooled", () => {
  for (const raw of [
    {},
    { task: "parity", n: 12, k: 3, m: 300 },
    { model: "attn", heads: 2, d: 16 },
    { "init-scale": 2 },
  ]) {
    const cfg = parseRunConfig(raw);
    const r = { cfg, nTrain: cfg.task === "parity" ? cfg.m : 0, final: {}, curves: [] } as unknown as RunResult;
    assert.equal(controlKey(runRecord({ runId: 0, r })), controlKey(cfg), JSON.stringify(raw));
    assert.equal(controlKey({ ...cfg, lr: 0.5, momentum: 0.3, seed: 9 }), controlKey(cfg));
  }
  assert.notEqual(controlKey(parseRunConfig({ "init-scale": 2 })), controlKey(DEFAULTS));
  assert.match(controlKey(parseRunConfig({ task: "parity" })), /n=30 k=3 m=1000/);
  assert.doesNotMatch(controlKey(parseRunConfig({ task: "parity" })), /op=|m-test/);
});
