// fit's analyses beyond the delay law (docs/analysis.md): the knee of the delay law, Wc at other test-accuracy
// thresholds and the first-passage law, on synthetic inputs with known answers and on a real sweep's curves
// against a float64 recomputation from curves.arrow.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { knees } from "../src/fit/knee.js";
import { kappaOf, firstPassage, wcThreshold } from "../src/fit/passage.js";
import { fit, FIT_DEFAULTS } from "../src/fit/estimate.js";
import { fitsTable } from "../src/fit/output.js";
import { THRESHOLDS, Trace } from "../src/fit/traces.js";
import type { Run } from "../src/fit/read.js";
import { cli, specFile, tmp } from "./helpers.js";

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.abs(b), `${a} vs ${b}`);

/** A trace of V(t) = V_mem·exp(−2κηλ(t − t_mem)) on every `every` steps from t_mem to t_grok. */
function trace(vMem: number, kappa: number, lr: number, wd: number, tMem: number, tGrok: number, every = 10): Trace {
  const t: Trace = { wcAt: THRESHOLDS.map(() => null), n: 0, st: 0, sy: 0, stt: 0, sty: 0, syy: 0, vMem, vStar: 0 };
  for (let s = tMem; s <= tGrok; s += every) {
    const y = Math.log(vMem) - 2 * kappa * lr * wd * (s - tMem);
    Object.assign(t, { n: t.n + 1, st: t.st + s, sy: t.sy + y, stt: t.stt + s * s, sty: t.sty + s * y });
    t.syy += y * y;
    t.vStar = Math.exp(y);
  }
  return t;
}
const run = (id: number, cfg: Record<string, unknown>, tMem: number, tGrok: number, wc: number): Run =>
  ({ file: "f", run_id: id, seed: id, cfg: { arm: "free", ...cfg }, status: "grokked", t_mem: tMem, t_grok: tGrok, wc,
     max_steps: 1e5 }) as Run; // prettier-ignore

test("kappaOf recovers κ of an exact exponential decay of V; too few points or no weight decay: null", () => {
  const k = kappaOf(trace(3000, 0.37, 1e-3, 1, 150, 5150), 1e-3, 1)!;
  close(k.kappa, 0.37, 1e-9);
  close(k.r2, 1, 1e-12);
  assert.equal(kappaOf(trace(3000, 0.37, 1e-3, 1, 150, 160), 1e-3, 1), null);
  assert.equal(kappaOf(trace(3000, 0.37, 1e-3, 1, 150, 5150), 1e-3, 0), null);
});

test("first passage: runs that follow the law with one κ and V* are predicted exactly, per configuration", () => {
  const kappa = 0.5,
    vStar = 2500;
  const runs: Run[] = [],
    traces = new Map<Run, Trace>();
  [2e-3, 1e-3].forEach((lr, j) =>
    [1000, 1150, 1300].forEach((d, i) => {
      const delay = d / (lr / 1e-3); // T_grok − T_mem = ln(V_mem/V*)/(2κηλ) with λ = 1
      const vMem = vStar * Math.exp(2 * kappa * lr * delay),
        tMem = 100 + 10 * i;
      const r = run(3 * j + i, { lr, wd: 1 }, tMem, tMem + delay, Math.sqrt(vStar));
      runs.push(r);
      traces.set(r, trace(vMem, kappa, lr, 1, tMem, tMem + delay));
    }),
  );
  const rows = firstPassage(runs, ["lr"], traces);
  assert.equal(rows.length, 2);
  for (const r of rows) {
    close(r.kappa as number, kappa, 1e-9);
    assert.equal(r.n, 3);
    close(r.delay_predicted as number, r.delay_observed as number, 1e-9);
    close(r.v_star as number, vStar, 1e-9);
  }
  close(rows.find((r) => r.lr === 1e-3)!.delay_observed as number, 1150, 1e-12);
});

test("first passage: runs whose V grows are left out of κ, R², V* and both delays, counted and noted", () => {
  const kappa = 0.5,
    vStar = 2500,
    lr = 1e-3;
  const runs: Run[] = [],
    traces = new Map<Run, Trace>();
  const add = (p: number, t: Trace, tMem: number, tGrok: number) => {
    const r = run(runs.length, { p, lr, wd: 1 }, tMem, tGrok, Math.sqrt(t.vStar!));
    runs.push(r);
    traces.set(r, t);
  };
  // p 23: three runs on the law, two where V grows (κ < 0: V* > V_mem), one whose ln V rises though V* < V_mem
  for (const d of [1000, 1150, 1300])
    add(23, trace(vStar * Math.exp(2 * kappa * lr * d), kappa, lr, 1, 100, 100 + d), 100, 100 + d);
  for (const k of [-0.3, -0.1]) add(23, trace(1000, k, lr, 1, 100, 2100), 100, 2100);
  add(23, { ...trace(1000, -0.2, lr, 1, 100, 2100), vStar: 900 }, 100, 2100);
  // p 31: V grows in every run
  for (const k of [-0.3, -0.2]) add(31, trace(1000, k, lr, 1, 100, 2100), 100, 2100);
  const notes: string[] = [];
  const [a, b] = firstPassage(runs, ["p"], traces, notes);
  assert.equal(a.n, 3);
  assert.equal(a.n_no_decay, 3);
  close(a.kappa as number, kappa, 1e-9);
  close(a.passage_r2 as number, 1, 1e-12);
  close(a.v_star as number, vStar, 1e-9);
  assert.equal(a.delay_observed, 1150);
  close(a.delay_predicted as number, 1150, 1e-9);
  assert.deepEqual(
    [b.p, b.n, b.n_no_decay, b.kappa, b.passage_r2, b.v_mem, b.v_star, b.delay_observed, b.delay_predicted],
    [31, 0, 2, null, null, null, null, null, null],
  );
  assert.equal(notes.length, 1);
  assert.match(
    notes[0],
    /^first passage: 5 of 8 run\(s\) in 2 configuration\(s\) left out \(n_no_decay\): ‖W‖² does not/,
  );
  // through fit(): the note, and the count in fits.arrow's appended column
  const f = fit(runs, { ...FIT_DEFAULTS, by: ["p"] }, traces);
  assert.ok(f.notes.some((n) => n.startsWith("first passage: 5 of 8")));
  const t = fitsTable(f, new Map());
  const rows = [...t].map((r) => r.toJSON()).filter((r) => r.section === "first_passage");
  assert.deepEqual(
    rows.map((r) => [r.n, r.n_no_decay]),
    [
      [3, 3],
      [0, 2],
    ],
  );
  assert.equal(t.schema.fields.at(-1)!.name, "n_no_decay");
});

test("Wc at other thresholds: medians over the seeds that reach each, and the change from the runs' own Wc", () => {
  const runs = [0, 1, 2].map((i) => run(i, { p: 59 }, 100, 5000, 50 + i)); // own Wc median 51
  const traces = new Map<Run, Trace>(
    runs.map((r, i) => [r, { ...trace(1, 0, 1, 1, 0, 0), wcAt: [45 + i, 51, i < 2 ? 52 + i : null] }]),
  );
  const [row] = wcThreshold(runs, ["p"], traces);
  assert.deepEqual(row.thresholds, [0.8, 0.9, 0.95]);
  assert.deepEqual(row.wc_at, [46, 51, 52.5]);
  assert.deepEqual(row.n_at, [3, 3, 2]);
  close((row.wc_rel_change as number[])[0], 46 / 51 - 1);
  assert.equal((row.wc_rel_change as number[])[1], 0);
});

test("delay-law knee: the largest log-linear window, the first ρ above it and observed/extrapolated there", () => {
  const rhos = [0.85, 0.9, 0.95, 1, 1.05, 1.1, 1.15, 1.2];
  const t = rhos.map((r) => Math.exp(1 + 8 * r) * (r > 1.12 ? 0.5 : 1)); // bends down above 1.1
  const notes: string[] = [];
  const [k] = knees(
    [{ p: 59, all_rhos: rhos, t_grok_medians: t, t_grok_medians_censored: rhos.map(() => false) }],
    notes,
  );
  assert.deepEqual(k.knee_window, [0.85, 0.9, 0.95, 1, 1.05, 1.1]);
  close(k.knee_alpha as number, 8, 1e-9);
  assert.equal(k.knee_rho, 1.15);
  (k.knee_ratio as number[]).forEach((x) => close(x, 0.5, 1e-9));
  assert.equal(k.p, 59);
  // a censored median ends a window; no window of 3: a note instead of a row
  const none = knees(
    [{ p: 59, all_rhos: [1, 1.1], t_grok_medians: [10, 20], t_grok_medians_censored: [false, true] }],
    notes,
  );
  assert.deepEqual(none, []);
  assert.match(notes[0], /no window of ≥ 3 ρ/);
});

test("fit on a real sweep: wc_threshold and first_passage equal a float64 recomputation from curves.arrow", () => {
  const out = tmp();
  const spec = specFile({ p: 23, d: 32, H: 64, frac: 0.8, lr: 1e-2, "max-steps": 1500, seeds: 3, log: "every:10" });
  assert.equal(cli(["sweep", spec, "--out", out, "--quiet"]).code, 0);
  const f = cli(["fit", out, "--json", "--boot", "0"]);
  assert.equal(f.code, 0, f.stderr);
  const res = JSON.parse(f.stdout);
  const runs = [...tableFromIPC(readFileSync(join(out, "runs.arrow")))].map((r) => r.toJSON());
  const curves = [...tableFromIPC(readFileSync(join(out, "curves.arrow")))].map((r) => r.toJSON());
  const grokked = runs.filter((r) => r.status === "grokked" && r.t_mem !== null);
  assert.ok(grokked.length >= 2, "the runs grok");
  const med = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const of = (r: any) => curves.filter((c) => c.run_id === r.run_id).sort((a, b) => a.step - b.step);
  const wcAt = (th: number) => med(grokked.map((r) => of(r).find((c) => c.test_acc >= th)!.weight_norm));
  assert.deepEqual(res.wc_threshold[0].wc_at, THRESHOLDS.map(wcAt));
  // κ per run by OLS of ln V on t over [t_mem, t_grok], in float64; the law's runs are those where V decays
  const fits = grokked.map((r) => {
    const pts = of(r).filter((c) => c.step >= r.t_mem && c.step <= r.t_grok);
    const x = pts.map((c) => c.step),
      y = pts.map((c) => Math.log(c.weight_norm ** 2));
    const mx = x.reduce((a, b) => a + b) / x.length,
      my = y.reduce((a, b) => a + b) / y.length;
    const s = x.reduce((a, xi, i) => a + (xi - mx) * (y[i] - my), 0) / x.reduce((a, xi) => a + (xi - mx) ** 2, 0);
    return { r, kappa: -s / (2 * 1e-2 * 1), decays: s < 0 && y[0] > y.at(-1)! };
  });
  const law = fits.filter((f) => f.decays);
  assert.ok(law.length >= 1, "V decays in some run");
  assert.deepEqual([res.first_passage[0].n, res.first_passage[0].n_no_decay], [law.length, fits.length - law.length]);
  close(res.first_passage[0].kappa, med(law.map((f) => f.kappa)), 1e-6);
  assert.equal(res.first_passage[0].delay_observed, med(law.map((f) => f.r.t_grok - f.r.t_mem)));
  assert.ok(res.first_passage[0].delay_predicted > 0);
  assert.match(cli(["fit", out, "--boot", "0"]).stdout, /first passage: .*\n[^]*kappa/);
});
