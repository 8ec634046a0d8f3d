// `groksweep reproduce delay-law`: a small real run of the whole protocol (controls → measured Wc →
// clamp grid → fit → report → comparison), resume, the dry-run plans of both scales, and bad input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { cli, specFile, tmp } from "./helpers.js";
import { expand, readSpec } from "../src/spec.js";
import { scaleSpec } from "../src/reproduce.js";
import { rateKey } from "../src/cost.js";
import { loadKernels } from "../src/kernels.js";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rawRuns = (dir: string) =>
  [...tableFromIPC(readFileSync(join(dir, "runs.arrow")))].map((r) => r.toJSON()).sort((a, b) => a.run_id - b.run_id);

/** 12 runs, seconds: 3 free controls, then clamp at ρ ∈ {0.95, 1.05, 1.15} × their median Wc
 *  (T_grok ≈ 190 → 830 here). */
const SMALL = {
  name: "reproduce-test",
  p: 23,
  d: 32,
  H: 64,
  frac: 0.8,
  lr: 1e-2,
  "max-steps": 4000,
  "stop-at-grok": true,
  seeds: 3,
  blocks: [{ arm: "free" }, { arm: "clamp", rho: [0.95, 1.05, 1.15], wc: "measure", "t-int": 100 }],
};
const PAPER_T = {
  0.85: 1495,
  0.9: 1781,
  0.95: 2470,
  1: 3999,
  1.05: 6380,
  1.1: 9433,
  1.15: 13030,
  1.2: 19407,
  1.25: 26929,
} as Record<number, number>;

test("a small real run: sweep, fits, report and the comparison with the paper's numbers; re-running resumes", () => {
  const spec = specFile(SMALL),
    out = join(tmp(), "out");
  const r = cli(["reproduce", "delay-law", "--spec", spec, "--out", out, "--workers", "2", "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  for (const f of [
    "runs.arrow",
    "curves.arrow",
    "fits.json",
    "fits.arrow",
    "comparison.json",
    "report.html",
    "report-delay.svg",
    "report-accuracy.svg",
  ]) {
    assert.ok(existsSync(join(out, f)), f);
  }
  const runs = rawRuns(out);
  assert.equal(runs.length, 12);
  const free = runs.filter((x) => x.arm === "free"),
    clamp = runs.filter((x) => x.arm === "clamp");

  // the comparison: the paper's numbers next to values recomputed here from runs.arrow
  const cmp = JSON.parse(readFileSync(join(out, "comparison.json"), "utf8"));
  const row = (q: string, rho?: number) =>
    cmp.rows.find((x: any) => x.quantity === q && (rho === undefined || Math.abs(x.rho - rho) < 1e-9));
  assert.equal(cmp.experiment, "delay-law");
  assert.equal(cmp.same_config, false);
  assert.equal(row("alpha").paper, 7.64);
  assert.deepEqual(row("alpha_ci").paper, [7.47, 7.81]);
  assert.equal(row("r2").paper, 0.994);
  assert.equal(row("wc").paper, 54.51);
  assert.equal(row("shared_alpha").paper, 7.49);
  for (const [rho, t] of Object.entries(PAPER_T))
    assert.equal(row("t_grok", +rho).paper, t, `paper T_grok at ρ ${rho}`);
  const fits = JSON.parse(readFileSync(join(out, "fits.json"), "utf8"));
  const alpha = row("alpha").measured;
  assert.ok(Number.isFinite(alpha), `α = ${alpha}`);
  assert.equal(alpha, fits.delay_law.per_p[0].alpha);
  assert.ok(alpha > 0, `T_grok grows with ρ: α = ${alpha}`);
  assert.ok(row("r2").measured > 0 && row("r2").measured <= 1);
  assert.equal(row("alpha_ci").measured.length, 2);
  assert.equal(row("wc").measured, median(free.filter((x) => x.status === "grokked").map((x) => x.wc)));
  for (const rho of [0.95, 1.05, 1.15]) {
    const cell = clamp.filter((x) => Math.abs(x.rho - rho) < 1e-9);
    assert.equal(cell.length, 3);
    assert.ok(
      cell.every((x) => x.status === "grokked"),
      `ρ ${rho}`,
    );
    assert.equal(row("t_grok", rho).measured, median(cell.map((x) => x.t_grok)), `measured T_grok at ρ ${rho}`);
  }
  assert.equal(row("t_grok", 0.85).measured, null); // not in this grid

  // printed side by side, and on the report page
  const line = (label: string) => r.stdout.split("\n").find((l) => l.startsWith(label)) ?? "";
  assert.match(line("α  "), new RegExp(`^α\\s+7\\.64\\s+${alpha.toFixed(2).replace(".", "\\.")}`));
  assert.match(line("R²"), /^R²\s+0\.994\s+0\.\d{4}/);
  assert.match(
    line("T_grok ρ=1.05"),
    new RegExp(`6380 \\(1\\.60×\\)\\s+${row("t_grok", 1.05).measured}\\s+3/3 grokked`),
  );
  assert.match(line("Wc"), /^Wc\s+54\.51\s+\d+\.\d\d/);
  const page = readFileSync(join(out, "report.html"), "utf8");
  assert.match(page, /delay law: the paper vs this run/);
  assert.match(page, /<section id="delay">\s*<h2>[^<]*<\/h2>\s*<figure><svg/);
  assert.equal(
    JSON.parse(tableFromIPC(readFileSync(join(out, "fits.arrow"))).schema.metadata.get("groksweep.fit")!).delay_law
      .per_p[0].alpha,
    alpha,
  );

  // the same command again trains nothing (wall_ms would differ) and gives the same comparison
  const again = cli(["reproduce", "delay-law", "--spec", spec, "--out", out, "--workers", "2", "--quiet"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /12\/12 runs: 12 grokked/);
  assert.deepEqual(rawRuns(out), runs);
  assert.deepEqual(JSON.parse(readFileSync(join(out, "comparison.json"), "utf8")).rows, cmp.rows);

  // another scale into this directory is refused before anything is printed or written
  const other = cli(["reproduce", "delay-law", "--scale", "quick", "--out", out]);
  assert.equal(other.code, 2, other.stderr);
  assert.match(
    other.stderr,
    /--out: expected an empty directory or one of this sweep \(it holds spec [0-9a-f]{16}, this one is [0-9a-f]{16}\)/,
  );
  assert.equal(other.stdout, "");
  assert.deepEqual(rawRuns(out), runs);
});

test("--dry-run prints the plan and its cost, and runs and writes nothing", () => {
  const out = join(tmp(), "never");
  const paper = cli(["reproduce", "delay-law", "--scale", "paper", "--dry-run", "--workers", "2", "--out", out]);
  assert.equal(paper.code, 0, paper.stderr);
  assert.match(paper.stdout, /examples\/paper\/dense-rho\.yaml/);
  assert.match(paper.stdout, /runs: +160 \(16 free \+ 144 clamp\)/);
  assert.match(paper.stdout, /ρ = 0\.85, 0\.9, 0\.95, 1, 1\.05, 1\.1, 1\.15, 1\.2, 1\.25 \(16 seeds each\)/);
  // the bound at the rates of the kernels auto picks here (test/cost.test.ts pins those rates' use)
  const key = rateKey(loadKernels("auto", () => {})),
    bound = expand(readSpec(scaleSpec("paper"))).runs.reduce((s, r) => s + r.seconds(key), 0) / 3600;
  assert.ok(bound > 1 && bound < 100, `${bound}`);
  assert.match(
    paper.stdout,
    new RegExp(
      `cost: +≤ 9,696,000 steps, [\\d.]+ TFLOP ≈ ${bound.toFixed(2).replace(".", "\\.")} core-hours ` +
        `at the rates npm run bench measured for ${key} kernels`,
    ),
  );
  assert.match(paper.stdout, /expected: ≈ [\d,]+ steps ≈ [\d.]+ core-hours/);
  assert.match(paper.stdout, /\(the same configuration\)/);
  const quick = cli(["reproduce", "delay-law", "--scale", "quick", "--dry-run"]);
  assert.equal(quick.code, 0, quick.stderr);
  assert.match(quick.stdout, /examples\/quick\/delay-law\.yaml/);
  assert.match(quick.stdout, /cost: +≤ [\d,]+ steps/);
  // another configuration: the paper's medians say nothing about its cost
  assert.doesNotMatch(quick.stdout, /expected:/);
  for (const r of [paper, quick]) {
    assert.doesNotMatch(r.stdout, /\d+\/\d+ runs:|^wrote/m); // no sweep, no analysis
    assert.equal(r.stderr, "");
  }
  assert.ok(!existsSync(out));
  const json = cli(["reproduce", "delay-law", "--scale", "paper", "--dry-run", "--json", "--out", out]);
  assert.equal(json.code, 0, json.stderr);
  const o = JSON.parse(json.stdout);
  assert.deepEqual(
    [o.n_runs, o.runs.free, o.runs.clamp, o.seeds_per_rho, o.same_paper_config],
    [160, 16, 144, 16, true],
  );
  assert.equal(o.cost.boundSteps, 9_696_000);
  assert.ok(!existsSync(out));
});

test("bad input: one line naming the problem, exit 2, nothing written", () => {
  const free = specFile({ p: 11, d: 8, H: 12, "max-steps": 20, seeds: 2 });
  const twoRho = specFile({ ...SMALL, blocks: [{ arm: "free" }, { arm: "clamp", rho: [0.9, 1.1], wc: "measure" }] });
  const fixedWc = specFile({ ...SMALL, blocks: [{ arm: "free" }, { arm: "clamp", rho: [0.9, 1, 1.1], wc: 30 }] });
  const twoLr = specFile({
    ...SMALL,
    blocks: [{ arm: "free" }, { arm: "clamp", lr: [1e-2, 2e-2], rho: [0.9, 1, 1.1], wc: "measure" }],
  });
  const out = join(tmp(), "out");
  const cases: [string[], RegExp][] = [
    [["grokking", "--out", out], /EXPERIMENT: expected one of delay-law, got "grokking"/],
    [["delay-law", "--scale", "huge", "--out", out], /--scale: expected one of quick\|paper, got "huge"/],
    [
      ["delay-law", "--scale", "quick", "--spec", free, "--out", out],
      /--spec: expected either --scale or --spec, not both/,
    ],
    [["delay-law", "--scale", "quick"], /--out: missing: expected an output directory/],
    [["delay-law", "--workers", "0", "--out", out], /--workers: expected an integer in \[1, 1024\], got "0"/],
    [["delay-law", "--spec", join(tmp(), "missing.yaml"), "--out", out], /SPEC: expected a readable spec file/],
    [["delay-law", "--spec", free, "--out", out], /--spec: expected a delay-law spec: .*\(no clamp runs\)/],
    [["delay-law", "--spec", twoRho, "--out", out], /\(2 ρ value\(s\)\)/],
    [["delay-law", "--spec", fixedWc, "--out", out], /clamps at a given wc, not wc: measure/],
    [["delay-law", "--spec", twoLr, "--out", out], /differs from run \d+ in lr/],
  ];
  for (const [args, msg] of cases) {
    const r = cli(["reproduce", ...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.ok(!existsSync(out), args.join(" "));
  }
});
