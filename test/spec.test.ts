// Sweep specs: expansion and validation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expand, readSpec, SpecError } from "../src/spec.js";
import { cli, specFile, tmp, TINY, ROOT } from "./helpers.js";

test("expansion: the cartesian product of list-valued options times seeds, blocks concatenated", () => {
  const sw = expand({ p: [41, 59], lr: [1e-3, 2e-3], "max-steps": 8000, seeds: 16 });
  assert.equal(sw.runs.length, 64);
  assert.deepEqual(
    sw.runs.map((r) => r.runId),
    [...Array(64).keys()],
  );
  assert.deepEqual([sw.runs[0].cfg.p, sw.runs[0].cfg.lr, sw.runs[0].cfg.seed], [41, 1e-3, 0]);
  // seeds vary fastest, then the last key
  assert.deepEqual([sw.runs[16].cfg.p, sw.runs[16].cfg.lr, sw.runs[16].cfg.seed], [41, 2e-3, 0]);
  assert.equal(sw.runs[63].cfg.maxSteps, 8000);
  const b = expand({ p: 23, seeds: [5, 9], blocks: [{ arm: "free" }, { arm: "clamp", rho: [0.9, 1, 1.1], wc: 50 }] });
  assert.equal(b.runs.length, 2 + 6);
  assert.deepEqual(
    b.runs.map((r) => r.cfg.seed),
    [5, 9, 5, 9, 5, 9, 5, 9],
  );
  assert.deepEqual(
    b.runs.slice(2).map((r) => r.cfg.rho),
    [0.9, 0.9, 1, 1, 1.1, 1.1],
  );
  assert.equal(expand({ p: 23 }).hash, expand({ p: 23 }).hash);
  assert.notEqual(expand({ p: 23 }).hash, expand({ p: 29 }).hash);
});

test("wc: measure marks runs that depend on the free controls with the same configuration", () => {
  const sw = expand({
    p: 23,
    blocks: [
      { arm: "free", lr: [1e-3, 2e-3] },
      { arm: "clamp", wc: "measure", lr: 1e-3 },
    ],
  });
  const dep = sw.runs[2];
  assert.equal(dep.cfg.wc, null);
  assert.match(dep.measure!, /p=23/);
  assert.equal(sw.runs[0].measure, null);
  assert.throws(
    () =>
      expand({
        blocks: [
          { arm: "free", p: 23 },
          { arm: "clamp", wc: "measure", p: 29 },
        ],
      }),
    /blocks\[1\]\.wc: "measure" needs free runs/,
  );
});

test("validation reports every problem with its path", () => {
  try {
    expand({
      p: "big",
      blocks: [{ arm: "free" }, { arm: "clamp", rho: "high", color: 1 }, { arm: "clamp" }],
      seeds: 0,
    });
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof SpecError);
    const msg = (e as Error).message;
    assert.match(msg, /^p: expected an integer or a list of them, got "big"$/m);
    assert.match(msg, /^blocks\[1\]\.rho: expected a number or a list of them, got "high"$/m);
    assert.match(msg, /^blocks\[1\]: unknown key "color"$/m);
    assert.match(msg, /^seeds: expected a count ≥ 1 or a list of seeds, got 0$/m);
  }
  assert.throws(() => expand({ blocks: [{ arm: "clamp" }] }), /blocks\[0\]\.wc: missing/);
  assert.throws(() => expand({ p: 1 }), /spec\.p: expected an integer in \[2, 4096\], got 1/);
});

test("sweep CLI: a bad spec exits 2 listing its problems and writes nothing; --dry-run counts runs and cost", () => {
  const out = join(tmp(), "never");
  const bad = cli(["sweep", specFile({ blocks: [{ arm: "free" }, { arm: "clamp", rho: "high" }] }), "--out", out]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /blocks\[1\]\.rho: expected a number or a list of them, got "high"/);
  assert.ok(!existsSync(out));
  const yamlErr = cli(["sweep", specFile("p: [1, 2\n", "s.yaml"), "--out", out]);
  assert.equal(yamlErr.code, 2);
  assert.match(yamlErr.stderr, /SPEC: expected valid YAML/);
  const dry = cli(["sweep", TINY, "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^12 runs of 12/);
  assert.match(dry.stdout, /cost ≤ 18,000 steps/);
  assert.match(dry.stdout, /wc measure/);
});

test("specs reach the other models, tasks and groups; their problems are reported with paths", () => {
  const sw = expand({
    model: "tian",
    H: 32,
    frac: "auto:3",
    blocks: [{ op: "sym:4" }, { op: "x2+xy+y2", p: 23 }, { op: "dih:12", optim: ["adamw", "muon"] }],
  });
  assert.deepEqual(
    sw.runs.map((r) => [r.cfg.op, r.cfg.p, r.cfg.optim]),
    [
      ["sym:4", 24, "adamw"],
      ["x2+xy+y2", 23, "adamw"],
      ["dih:12", 24, "adamw"],
      ["dih:12", 24, "muon"],
    ],
  );
  assert.ok(Math.abs(sw.runs[0].cfg.frac - (3 * Math.log(24)) / 24) < 1e-15);
  assert.equal(sw.runs[0].cfg.act, "quad"); // tian's default activation
  const par = expand({ task: "parity", n: 20, k: [2, 3], seeds: 2 });
  assert.deepEqual(
    par.runs.map((r) => [r.cfg.k, r.cfg.seed, r.cfg.H, r.cfg.maxSteps]),
    [
      [2, 0, 512, 50000],
      [2, 1, 512, 50000],
      [3, 0, 512, 50000],
      [3, 1, 512, 50000],
    ],
  );
  // controls of different models, heads or loss never stand in for each other
  const keys = new Set(
    [
      { model: "attn", d: 16 },
      { model: "attn", d: 16, heads: 2 },
      { model: "mlp", d: 16 },
      { model: "tian", loss: "mse" },
      { model: "tian" },
    ].map(
      (x) =>
        expand(x).runs[0].measure ??
        expand({ ...x, blocks: [{ arm: "free" }, { arm: "clamp", wc: "measure" }] }).runs[1].measure,
    ),
  );
  assert.equal(keys.size, 5);
  assert.throws(() => expand({ blocks: [{ op: "sym:9" }] }), /blocks\[0\]\.op: expected one of .*sym:N.*, got "sym:9"/);
  assert.throws(
    () => expand({ model: "attn", d: 20 }),
    /spec\.d: expected a multiple of 4·heads = 16 for --model attn with --heads 4, got 20/,
  );
  assert.throws(() => expand({ task: "parity", k: 40 }), /spec\.k: expected an integer in \[1, --n=30\], got 40/);
  assert.throws(() => expand({ model: "tian", d: 16 }), /spec\.d: expected omitted for --model tian/);
  assert.throws(() => expand({ "clamp-group": "attn" }), /spec\.clamp-group: expected one of all\|embed\|mlp\|unembed/);
});

test("huge specs: refused from the sizes of their lists before any run is built, one line each, exit 2", () => {
  const problems = (doc: unknown) => {
    try {
      expand(doc);
    } catch (e) {
      if (e instanceof SpecError) return e.problems;
      throw e;
    }
    return [];
  };
  assert.deepEqual(problems({ seeds: 1e12 }), [
    "spec.seeds: expected seeds up to 2147483647 (seed + seeds − 1), got 1000000000000",
    "spec: expands to 1,000,000,000,000 runs (1000000000000 seeds); at most 2,000,000 runs per spec — " +
      "split it into several specs",
  ]);
  const lr = Array.from({ length: 10 }, (_, i) => 1e-3 * (i + 1));
  assert.deepEqual(problems({ lr, blocks: [{ seeds: 150_000 }, { seeds: 60_000, wd: [0.1, 1] }] }), [
    "spec: its blocks expand to 2,700,000 runs; at most 2,000,000 runs per spec — split it into several specs",
  ]);
  assert.match(
    problems({ blocks: [{ lr, wd: lr, seeds: 30_000 }] })[0],
    /^blocks\[0\]: expands to 3,000,000 runs \(10 lr × 10 wd × 30000 seeds\)/,
  );
  assert.equal(expand({ p: 11, lr, seeds: 1000 }).runs.length, 10_000); // below the limit: expanded
  const r = cli(["sweep", specFile({ seeds: 1e12 }), "--dry-run"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split("\n").length, 2);
  assert.doesNotMatch(r.stderr, /RangeError|\n\s+at /); // no stack trace
});

test("every example spec expands, with the runs and the step bound the README's table gives it", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8"),
    table = new Map(
      [...readme.matchAll(/^\| `(examples\/[^`]+\.yaml)` \| ([\d ]+) \| ([\d. ]+M?) \|/gm)].map((m) => [m[1], m]),
    );
  const specs = ["examples", "examples/quick", "examples/paper"].flatMap((d) =>
    readdirSync(join(ROOT, d))
      .filter((f) => f.endsWith(".yaml") && f !== "k8s-indexed-job.yaml") // a Kubernetes manifest
      .map((f) => `${d}/${f}`),
  );
  assert.ok(specs.length >= 20, `${specs.length} specs`);
  for (const spec of specs) {
    const s = expand(readSpec(join(ROOT, spec))),
      steps = s.runs.reduce((a, r) => a + r.cfg.maxSteps, 0);
    if (spec === "examples/start.yaml") continue; // npm start's, described in the Quick start
    const row = table.get(spec);
    assert.ok(row, `${spec}: not in the README's table of example specs`);
    assert.equal(s.runs.length, Number(row[2].replace(/ /g, "")), `${spec}: runs`);
    const bound = row[3].trim();
    if (bound.endsWith("M")) assert.equal((steps / 1e6).toFixed(1), bound.slice(0, -1).trim(), `${spec}: steps`);
    else assert.equal(steps, Number(bound.replace(/ /g, "")), `${spec}: steps`);
  }
});
