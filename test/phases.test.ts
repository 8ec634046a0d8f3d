// Liu et al.'s phases per run and per configuration, the report's phase diagram, and Tian's sample threshold
// n_c(M) = C·M ln M (src/fit/phase.ts, src/fit/threshold.ts) on inputs with known answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { phaseOf, phaseCounts } from "../src/fit/phase.js";
import { sampleThreshold } from "../src/fit/threshold.js";
import { wcPowerLaw } from "../src/fit/wc.js";
import { delayLaw } from "../src/fit/delay.js";
import { FIT_DEFAULTS } from "../src/fit/estimate.js";
import { trainCount } from "../src/task.js";
import type { Run } from "../src/fit/read.js";
import { cli, specFile, tmp } from "./helpers.js";

const run = (t_mem: number | null, t_grok: number | null, status = t_grok === null ? "censored" : "grokked") =>
  ({ status, t_mem, t_grok, cfg: {} }) as Run;

test("phaseOf: comprehension, grokking, memorization, confusion by T_mem, T_grok and the gap", () => {
  assert.equal(phaseOf(run(100, 900), 1000), "comprehension");
  assert.equal(phaseOf(run(100, 1100), 1000), "comprehension"); // a gap of exactly 1000
  assert.equal(phaseOf(run(100, 1101), 1000), "grokking");
  assert.equal(phaseOf(run(100, 1101), 5000), "comprehension");
  assert.equal(phaseOf(run(100, null), 1000), "memorization");
  assert.equal(phaseOf(run(null, null), 1000), "confusion");
  assert.equal(phaseOf(run(null, null, "failed"), 1000), null);
  assert.equal(phaseOf(run(null, null, "diverged"), 1000), null);
  const c = phaseCounts([run(1, 5000), run(1, 6000), run(1, null), run(null, null, "failed")], 1000);
  assert.deepEqual(c, { n_comprehension: 0, n_grokking: 2, n_memorization: 1, n_confusion: 0, phase: "grokking" });
});

test("sample threshold: n_c(M) from the seeds that grok at each n_train, and C of n_c = C·M ln M", () => {
  // dihedral groups of order M = 10, 12, 16 (p = M, pairs M²); at each frac, seed s groks iff n_train ≥ its own
  // threshold: thresholds chosen so that n_c = the smallest n_train ≥ 2·M ln M reached by ≥ 2 of 3 seeds
  const runs: Run[] = [];
  let id = 0;
  const want: number[] = [];
  for (const M of [10, 12, 16]) {
    const fracs = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8].filter((f) => f * M * M >= 10);
    const ns = fracs.map((f) => trainCount(f, M * M));
    const nc = ns.find((n) => n >= 2 * M * Math.log(M))!;
    want.push(nc);
    for (const [i, frac] of fracs.entries())
      for (let seed = 0; seed < 3; seed++) {
        // seeds 0 and 1 grok from nc on, seed 2 only from the next n_train: ≥ half from nc
        const grok = ns[i] >= nc && (seed < 2 || ns[i] > nc);
        runs.push({
          file: "f",
          run_id: id++,
          seed,
          status: grok ? "grokked" : "censored",
          t_mem: 10,
          t_grok: grok ? 500 : null,
          wc: null,
          max_steps: 1000,
          cfg: { task: "modular", model: "tian", op: `dih:${M / 2}`, p: M, frac, lr: 1e-3, arm: "free" },
        } as Run);
      }
  }
  const notes: string[] = [];
  const [row] = sampleThreshold(
    runs,
    ["task", "model", "op", "p", "frac", "lr", "arm"],
    { ...FIT_DEFAULTS, boot: 200 },
    notes,
  );
  assert.deepEqual(notes, []);
  assert.deepEqual([row.family, row.ms, row.n_c], ["dih", [10, 12, 16], want]);
  const x = [10, 12, 16].map((M) => M * Math.log(M));
  const C = x.reduce((a, xi, i) => a + xi * want[i], 0) / x.reduce((a, xi) => a + xi * xi, 0);
  assert.ok(Math.abs((row.c as number) - C) < 1e-12, `${row.c} vs ${C}`);
  const [lo, hi] = row.c_ci as number[];
  assert.ok(lo <= C && C <= hi, `${lo} ${C} ${hi}`);
});

test("tian's d is its p (the one-hot width): the threshold, Wc power law and shared delay law pool over it", () => {
  // runs as runs.arrow holds them for --model tian, d = p = M; each fit pooled over p found one M per key before
  const K = ["task", "model", "op", "p", "frac", "d", "H", "lr", "arm", "rho", "wc_ref", "max_steps"];
  const runs: Run[] = [];
  const add = (M: number, cfg: object, t_grok: number | null) =>
    runs.push({
      file: "f",
      run_id: runs.length,
      seed: runs.length % 2,
      status: t_grok === null ? "censored" : "grokked",
      t_mem: 10,
      t_grok,
      wc: t_grok === null ? null : 10 + M,
      max_steps: 5000,
      cfg: { task: "modular", model: "tian", op: "add", p: M, d: M, H: 32, lr: 1e-3, max_steps: 5000, ...cfg },
    } as Run);
  const free = { arm: "free", rho: 1, wc_ref: null };
  for (const M of [11, 13, 17])
    for (const frac of [0.3, 0.5, 0.7]) for (let s = 0; s < 2; s++) add(M, { ...free, frac }, frac >= 0.5 ? 500 : null);
  for (const M of [11, 13])
    for (const rho of [0.9, 1, 1.1])
      for (let s = 0; s < 2; s++)
        add(M, { arm: "clamp", rho, wc_ref: 10 + M, frac: 0.5 }, Math.round(Math.exp(2 + 5 * rho + 0.1 * M + s / 10)));
  const o = { ...FIT_DEFAULTS, boot: 0 },
    notes: string[] = [];
  const [th, ...more] = sampleThreshold(runs, K, o, notes);
  assert.deepEqual([th?.ms, th?.n_c, more.length], [[11, 13, 17], [11, 13, 17].map((M) => trainCount(0.5, M * M)), 0]);
  const pl = wcPowerLaw(
    runs.filter((r) => r.cfg.arm === "free"),
    K,
    o,
    notes,
  );
  assert.deepEqual(
    pl.map((r) => [r.frac, r.ps]),
    [
      [0.5, [11, 13, 17]],
      [0.7, [11, 13, 17]],
    ],
  );
  const { per_p, shared } = delayLaw(
    runs.filter((r) => r.cfg.arm === "clamp"),
    K,
    o,
    notes,
  );
  assert.deepEqual([per_p.length, shared.length, shared[0]?.ps], [2, 1, [11, 13]]);
  assert.ok(Math.abs((shared[0].alpha as number) - 5) < 0.05, `${shared[0].alpha}`);
});

test("fit and report: phase counts per configuration, a phase diagram over the swept lr × wd", () => {
  const out = tmp();
  const spec = specFile({ p: 11, d: 8, H: 12, frac: 0.6, "max-steps": 300, lr: [1e-3, 1e-2], wd: [0, 1], seeds: 2 });
  assert.equal(cli(["sweep", spec, "--out", out, "--quiet"]).code, 0);
  const f = JSON.parse(cli(["fit", out, "--json", "--boot", "0", "--phase-gap", "100"]).stdout);
  assert.equal(f.phase_gap, 100);
  for (const g of f.groups) {
    const n = g.n_comprehension + g.n_grokking + g.n_memorization + g.n_confusion;
    assert.equal(n, g.n - g.n_failed - g.n_diverged);
    assert.ok(["comprehension", "grokking", "memorization", "confusion"].includes(g.phase));
  }
  const html = join(out, "r.html");
  const r = cli(["report", out, "--out", html, "--boot", "0"]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(out, "r-phases.svg")));
  assert.match(readFileSync(html, "utf8"), /Phases \(Liu et al\.; gap 1000 steps\) over lr × wd/);
  const bad = cli(["report", out, "--out", html, "--phase-axes", "lr"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--phase-axes/);
});
