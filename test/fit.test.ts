// `groksweep fit` on the paper's released per-seed results (written as runs.arrow with the engine's
// schema) reproduces its published fits; on synthetic sweeps it handles censoring as documented.
import test, { before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { readRuns, Run, Config, CONFIG_COLUMNS } from "../src/fit/read.js";
import { fit, FIT_DEFAULTS, FitOptions, FitResult } from "../src/fit/estimate.js";
import { configText, fitsTable, formatFit, fx } from "../src/fit/output.js";
import { median, ols } from "../src/stats.js";
import { Rng } from "../src/rng.js";
import { DEFAULTS } from "../src/options.js";
import { cli, tmp } from "./helpers.js";
import { fitOptions } from "../src/commands/fit.js";
import { UsageError } from "../src/options.js";
import { havePaperData, PAPER_DATA, paperConfigs, paperRows, writeRuns, writePaperFixtures } from "./paperdata.js";

const skip = havePaperData ? false : `paper data not found at ${PAPER_DATA}`;
let fixtures: ReturnType<typeof writePaperFixtures> | null = null;
const paper = () => (fixtures ??= writePaperFixtures(tmp("groksweep-paper-")));
type Exp = keyof ReturnType<typeof writePaperFixtures>;
// readRuns streams (async): the fixtures' runs are read once, before the tests
const loaded = new Map<Exp, Run[]>();
before(async () => {
  if (havePaperData) for (const [exp, dir] of Object.entries(paper())) loaded.set(exp as Exp, await readRuns(dir));
});
const run = (exp: Exp, o: Partial<FitOptions> = {}): FitResult => fit(loaded.get(exp)!, { ...FIT_DEFAULTS, ...o });
const near = (got: number, want: number, tol: number, what: string) =>
  assert.ok(Math.abs(got - want) <= tol, `${what}: ${got} vs ${want} ± ${tol}`);
type Row = Record<string, any>;

test("dense ρ sweep, through the CLI: α = 7.638, R² = 0.9944 by OLS of ln(median T_grok) on ρ ≤ 1.25", { skip }, () => {
  const r = cli(["fit", paper().denserho, "--json", "--rho-max", "1.25"]);
  assert.equal(r.code, 0, r.stderr);
  const f = JSON.parse(r.stdout);
  assert.equal(f.censoring, "excluded");
  assert.equal(f.delay_law.per_p.length, 1);
  const d = f.delay_law.per_p[0];
  assert.equal(d.alpha.toFixed(3), "7.638");
  assert.equal(d.r2.toFixed(4), "0.9944");
  assert.deepEqual(d.rhos, [0.85, 0.9, 0.95, 1, 1.05, 1.1, 1.15, 1.2, 1.25]);
  assert.deepEqual([d.p, d.lr, d.wc_ref], [59, 0.001, 54.5133]);
  // seeds resampled within each ρ: the paper's bootstrap CI is [7.47, 7.81]
  near(d.alpha_ci[0], 7.47, 0.06, "CI lo");
  near(d.alpha_ci[1], 7.81, 0.06, "CI hi");
  assert.equal(f.delay_law.shared.length, 0); // one p only
});

test(
  "the fit does not depend on the row order of runs.arrow (sweeps store runs in completion order)",
  { skip },
  async () => {
    const rows = paperRows(paperConfigs().filter((c) => c.experiment === "denserho"));
    const a = fit(await readRuns(writeRuns(tmp(), rows)), { ...FIT_DEFAULTS, boot: 500 });
    const b = fit(await readRuns(writeRuns(tmp(), [...rows].reverse())), { ...FIT_DEFAULTS, boot: 500 });
    assert.ok((a.delay_law.per_p[0] as Row).alpha_ci);
    assert.deepEqual(b, a);
  },
);

test(
  "the standard median (average of the two middle values) is the paper's; lower/upper medians are not",
  { skip },
  () => {
    const cells = paperConfigs().filter((c) => c.experiment === "denserho" && c.arm === "clamp" && c.rho <= 1.25);
    assert.ok(
      cells.every((c) => c.t_grok.every((t) => t !== null)),
      "no censored seed in the fitted cells",
    );
    const slope = (m: (ts: number[]) => number) =>
      ols(
        cells.map((c) => c.rho),
        cells.map((c) => Math.log(m(c.t_grok as number[]))),
      ).slope;
    const sorted = (ts: number[]) => [...ts].sort((a, b) => a - b);
    assert.equal(slope(median).toFixed(3), "7.638");
    assert.equal(slope((ts) => sorted(ts)[(ts.length - 1) >> 1]).toFixed(3), "7.655");
    assert.equal(slope((ts) => sorted(ts)[ts.length >> 1]).toFixed(3), "7.621");
  },
);

test(
  "p-scan, p ∈ {41, 53, 59, 71}, ρ ≤ 1.15: one shared α = 7.490 with an intercept per p, R² = 0.9955",
  { skip },
  () => {
    const f = run("pscan", { rhoMax: 1.15 });
    assert.equal(f.delay_law.shared.length, 1);
    const s = f.delay_law.shared[0] as Row;
    assert.equal(s.alpha.toFixed(3), "7.490");
    assert.equal(s.r2.toFixed(4), "0.9955");
    assert.deepEqual(s.ps, [41, 53, 59, 71]);
    // p = 31 never groks at ρ = 0.85 (the paper's "floor"): its censored cell leaves only 2 ρ, so it is left out
    assert.deepEqual(s.excluded_ps, [31]);
    assert.ok(
      f.notes.some((n) => /p=31 .*2 usable ρ .*censored median at ρ=0.85/.test(n)),
      f.notes.join("\n"),
    );
    assert.deepEqual(
      f.delay_law.per_p.map((d: Row) => d.alpha.toFixed(2)),
      ["7.92", "7.56", "7.42", "7.07"],
    ); // the paper's per-p α
    near(s.alpha_ci[0], 7.16, 0.06, "CI lo");
    near(s.alpha_ci[1], 7.69, 0.06, "CI hi"); // paper: [7.16, 7.69]
    // the free controls' Wc scale as p^0.44 in the paper
    assert.equal((f.wc_power_law[0] as Row).beta.toFixed(2), "0.44");
  },
);

test("bootstrap intervals are reproducible from --seed and change with it", { skip }, () => {
  const a = run("denserho", { rhoMax: 1.25, boot: 300, seed: 7 }).delay_law.per_p[0].alpha_ci;
  const b = run("denserho", { rhoMax: 1.25, boot: 300, seed: 7 }).delay_law.per_p[0].alpha_ci;
  const c = run("denserho", { rhoMax: 1.25, boot: 300, seed: 8 }).delay_law.per_p[0].alpha_ci;
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test("clamp matrix levers: 18.7× along ρ vs 1.65× along lr with the paper's grokked-only medians", { skip }, () => {
  const lever = (f: FitResult, along: string, at: Row) =>
    f.levers.find((l: Row) => l.along === along && Object.entries(at).every(([k, v]) => l[k] === v)) as Row;
  const g = run("efflr", { median: "grokked", boot: 0 });
  const rho = lever(g, "rho", { lr: 0.001 });
  assert.deepEqual([rho.min, rho.max, rho.rho_at_min, rho.rho_at_max], [1492.5, 27925, 0.85, 1.3]);
  assert.equal(rho.ratio.toFixed(2), "18.71");
  assert.equal(rho.n_censored_max, 4); // the paper's 27925*
  const lr = lever(g, "lr", { rho: 1.3 });
  assert.deepEqual([lr.min, lr.max, lr.lr_at_min, lr.lr_at_max], [16893, 27925, 0.008, 0.001]);
  assert.equal(lr.ratio.toFixed(2), "1.65");
  assert.equal(lever(g, "lr", { rho: 0.85 }).ratio.toFixed(2), "2.54"); // the paper's other "≈2×" (reproduce_all.py)
  // censored seeds as +∞: 4 of the 16 seeds at (ρ 1.3, lr 1e-3) passed the budget, 4 grokked exactly at it,
  // so the true median is (29151 + 30000)/2 — not a bound — and the levers are 19.8× and 1.75×
  const a = run("efflr", { boot: 0 });
  assert.equal(lever(a, "rho", { lr: 0.001 }).max, 29575.5);
  assert.equal(lever(a, "rho", { lr: 0.001 }).ratio.toFixed(2), "19.82");
  assert.equal(lever(a, "lr", { rho: 1.3 }).ratio.toFixed(2), "1.75");
  assert.ok(a.levers.every((l: Row) => l.bound === false));
  const cell = a.groups.find((r: Row) => r.arm === "clamp" && r.rho === 1.3 && r.lr === 0.001) as Row;
  assert.deepEqual(
    [
      cell.n,
      cell.n_grokked,
      cell.n_censored,
      cell.t_grok_median,
      cell.t_grok_median_censored,
      cell.t_grok_median_grokked,
    ],
    [16, 12, 4, 29575.5, false, 27925],
  );
});

test("free runs: Wc ∝ p^β with β ≈ 0.4; the paper's p^0.38 is the per-p mean pooled over fractions", { skip }, () => {
  const f = run("grokfss");
  const beta = (frac: number) => (f.wc_power_law.find((w: Row) => w.frac === frac) as Row).beta;
  for (const frac of [0.4, 0.5, 0.65]) near(beta(frac), 0.4, 0.07, `β at frac ${frac}`);
  assert.ok(
    f.notes.some((n) => /frac=0.15 .*censored at p=59,79,97/.test(n)),
    "all-censored fractions are noted",
  );
  const pooled = run("grokfss", { by: ["p", "d", "H", "lr", "wd", "arm"], wcStat: "mean" });
  const w = pooled.wc_power_law.find((x: Row) => x.lr === 0.001 && x.wd === 1) as Row;
  assert.deepEqual(w.ps, [29, 41, 59, 79, 97]);
  assert.equal(w.beta.toFixed(2), "0.38");
  assert.deepEqual(w.wc_per_p.map(Math.round), [42, 48, 55, 61, 67]); // the paper's Wc(p)
  // Wc across a ten-fold lr range at λ = 3: CV < 1% (paper: 48.9, 48.7, 49.1)
  const cv = f.wc_cv_pooled.find((r: Row) => r.p === 59 && r.frac === 0.5 && r.wd === 3) as Row;
  assert.deepEqual(cv.lrs, [0.0003, 0.001, 0.003]);
  assert.equal(cv.n, 60);
  assert.ok(cv.wc_cv < 0.01, `CV ${cv.wc_cv}`);
  const perLr = f.groups
    .filter((r: Row) => r.p === 59 && r.frac === 0.5 && r.wd === 3)
    .map((r: Row) => r.wc_mean.toFixed(1));
  assert.deepEqual(perLr, ["49.1", "48.9", "48.7"]); // lr 3e-4, 1e-3, 3e-3
});

test("MLE (Tobit) on the paper data: without censoring it is OLS on each seed's ln T_grok", { skip }, () => {
  const f = run("denserho", { rhoMax: 1.25, censored: "mle", boot: 50 });
  assert.equal(f.censoring, "mle");
  const d = f.delay_law.per_p[0] as Row;
  assert.equal(d.method, "mle");
  assert.equal(d.r2, null);
  assert.ok(d.sigma > 0);
  const cells = paperConfigs().filter((c) => c.experiment === "denserho" && c.arm === "clamp" && c.rho <= 1.25);
  const x = cells.flatMap((c) => c.t_grok.map(() => c.rho)),
    y = cells.flatMap((c) => c.t_grok.map((t) => Math.log(t!)));
  near(d.alpha, ols(x, y).slope, 1e-7, "α");
  near(d.intercept, ols(x, y).intercept, 1e-7, "intercept");
  const e = run("efflr", { censored: "mle", boot: 50 });
  assert.equal(e.delay_law.per_p.length, 4);
  assert.equal((e.delay_law.per_p[0] as Row).n_censored, 4); // ρ 1.3, lr 1e-3 enters as 4 right-censored seeds
});

// ---- synthetic sweeps

const CFG: Config = Object.fromEntries(CONFIG_COLUMNS.map((c) => [c, null])) as Config;
function synthRuns(o: {
  alpha: number;
  a: number;
  sigma: number;
  budget: number;
  rhos: number[];
  seeds: number;
  seed: number;
}): Run[] {
  const rng = new Rng(o.seed, 3),
    runs: Run[] = [];
  for (const rho of o.rhos) {
    for (let s = 0; s < o.seeds; s++) {
      const t = Math.round(Math.exp(o.a + o.alpha * rho + o.sigma * rng.normal()));
      const cfg = {
        ...CFG,
        task: "modular",
        model: "mlp",
        op: "add",
        p: 59,
        frac: 0.4,
        d: 128,
        H: 256,
        act: "gelu",
        layernorm: false,
        optim: "adamw",
        lr: 0.001,
        wd: 1,
        momentum: 0,
        arm: "clamp",
        rho,
        wc_ref: 54.6,
        t_int: DEFAULTS.tInt,
        max_steps: o.budget,
      } as Config;
      const ok = t <= o.budget;
      runs.push({
        file: "synthetic",
        run_id: runs.length,
        seed: s,
        cfg,
        status: ok ? "grokked" : "censored",
        t_grok: ok ? t : null,
        t_mem: 100,
        wc: ok ? 54.6 * rho : null,
        max_steps: o.budget,
      });
    }
  }
  return runs;
}

test("censoring: cells with a censored median are excluded and noted; Tobit uses them and recovers α", (t) => {
  const truth = { alpha: 7.5, a: 0.7, sigma: 0.3 };
  const runs = synthRuns({ ...truth, budget: 15000, rhos: [0.85, 0.95, 1.05, 1.15, 1.25, 1.35], seeds: 24, seed: 1 });
  const ex = fit(runs, { ...FIT_DEFAULTS, boot: 200 });
  const d = ex.delay_law.per_p[0] as Row;
  assert.deepEqual(d.excluded_rhos, [1.25, 1.35]); // e^(0.7 + 7.5·1.25) ≈ 23700 > 15000: most seeds censored
  assert.deepEqual(d.t_grok_medians_censored, [false, false, false, false, true, true]);
  const group = ex.groups.find((g: Row) => g.rho === 1.35) as Row;
  assert.equal(group.t_grok_median_censored, true);
  assert.equal(group.t_grok_median, 15000); // a lower bound
  near(d.alpha, truth.alpha, 0.3, "OLS on the uncensored medians");
  const mle = fit(runs, { ...FIT_DEFAULTS, censored: "mle", boot: 200 }).delay_law.per_p[0] as Row;
  assert.deepEqual(mle.rhos, [0.85, 0.95, 1.05, 1.15, 1.25, 1.35]);
  near(mle.alpha, truth.alpha, 0.25, "Tobit α");
  near(mle.sigma, truth.sigma, 0.05, "Tobit σ");
  assert.ok(mle.alpha_ci[0] < truth.alpha && truth.alpha < mle.alpha_ci[1], `CI ${mle.alpha_ci}`);
  // the paper's grokked-only medians, fitted over every ρ that has a grokked seed, are biased low
  const trunc = fit(runs, { ...FIT_DEFAULTS, median: "grokked", boot: 0 });
  const rhos = [0.85, 0.95, 1.05, 1.15, 1.25, 1.35].filter((r) =>
    runs.some((x) => x.cfg.rho === r && x.t_grok !== null),
  );
  const tm = rhos.map((r) =>
    Math.log(median(runs.filter((x) => x.cfg.rho === r && x.t_grok !== null).map((x) => x.t_grok!))),
  );
  t.diagnostic(
    `α = 7.5: OLS on uncensored medians ${d.alpha.toFixed(3)}, Tobit ${mle.alpha.toFixed(3)}, ` +
      `OLS on truncated medians ${ols(rhos, tm).slope.toFixed(3)}`,
  );
  assert.ok(ols(rhos, tm).slope < truth.alpha - 0.5, `truncated: ${ols(rhos, tm).slope}`);
  // exclusion does not depend on --median
  assert.deepEqual((trunc.delay_law.per_p[0] as Row).excluded_rhos, [1.25, 1.35]);
});

test("text tables never print a negative zero (a Wc change of −1e-17 is 0.00 %, not -0.00 %)", () => {
  assert.deepEqual(
    [-1e-17, -0.004, 0, -0.006, -3, -0.5].map((x) => fx(x, 2)),
    ["0.00", "0.00", "0.00", "-0.01", "-3.00", "-0.50"],
  );
  assert.equal(fx(-0.4, 0), "0");
  assert.equal(fx(NaN, 2), "-");
});

test("text tables print configuration numbers to 4 significant digits, more only to tell rows apart", () => {
  const auto = (c: number, m: number) => (c * Math.log(m)) / m; // frac auto:C at M
  const fracs = [auto(3, 17), auto(2.5, 17), 0.75]; // 0.49997882542168526, 0.41664901…
  const runs: Run[] = fracs.flatMap((frac, i) =>
    [0, 1].map((s) => ({
      file: "synthetic",
      run_id: 2 * i + s,
      seed: s,
      cfg: { ...CFG, task: "modular", model: "mlp", op: "add", p: 17, frac, lr: 0.003, wd: 1, arm: "free" } as Config,
      status: "grokked",
      t_grok: 1000 + 100 * i + s,
      t_mem: 50,
      wc: 20 + i + s / 10,
      max_steps: 5000,
    })),
  );
  const f = fit(runs, { ...FIT_DEFAULTS, boot: 0 });
  const text = formatFit(f);
  const fracCol = text
    .split("\n")
    .filter((l) => /^\s*\d\.\d+\s+2\s/.test(l)) // the groups table: frac, then n = 2
    .map((l) => l.trim().split(/\s+/)[0]);
  assert.deepEqual(fracCol, ["0.4166", "0.5000", "0.75"]); // trailing zeros: rounded
  assert.doesNotMatch(text, /4999788/);
  assert.match(text, /all rows: .*\bp=17 .*\blr=0\.003 wd=1\b/);
  // the JSON and fits.arrow keep every digit
  assert.deepEqual(
    f.groups.map((g) => g.frac),
    [...fracs].sort((a, b) => a - b),
  );
  assert.ok([...fitsTable(f, new Map()).getChild("frac")!].includes(auto(3, 17)));
  // values that 4 digits would print alike get as many more as they need; integers and short values stay
  const at = configText([0.412351, 0.412356, 0.5, 123456, 1e-7, null]);
  assert.deepEqual([0.412351, 0.412356, 0.5, 123456, 1e-7, null].map(at), [
    "0.41235",
    "0.41236",
    "0.5",
    "123456",
    "1e-7",
    "null",
  ]);
  assert.deepEqual([49.5451234, 12345.678].map(configText([49.5451234, 12345.678])), ["49.55", "12346"]);
});

test("--rho-min/--rho-max restrict the fitted ρ, while every cell is still reported", () => {
  const runs = synthRuns({
    alpha: 7,
    a: 1,
    sigma: 0.01,
    budget: 1e9,
    rhos: [0.8, 0.9, 1, 1.1, 1.2, 1.3],
    seeds: 8,
    seed: 2,
  });
  const f = fit(runs, { ...FIT_DEFAULTS, rhoMin: 0.85, rhoMax: 1.25, boot: 0 }).delay_law.per_p[0] as Row;
  assert.deepEqual(f.rhos, [0.9, 1, 1.1, 1.2]);
  assert.deepEqual(f.all_rhos, [0.8, 0.9, 1, 1.1, 1.2, 1.3]);
  assert.equal(f.alpha_ci, null); // --boot 0
  near(f.alpha, 7, 0.1, "α");
});

test(
  "fits.arrow: one tidy table (section column), the full JSON in its metadata; no partial files",
  { skip },
  async () => {
    const dir = tmp(),
      out = join(dir, "sub", "fits.arrow");
    const r = cli(["fit", paper().efflr, "--json", "--boot", "100", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout),
      t = tableFromIPC(readFileSync(out));
    assert.deepEqual(JSON.parse(t.schema.metadata.get("groksweep.fit")!), json);
    const sections = [...t.getChild("section")!] as string[],
      count = (s: string) => sections.filter((x) => x === s).length;
    assert.equal(count("group"), json.groups.length);
    assert.equal(count("delay_per_p"), json.delay_law.per_p.length);
    assert.equal(count("lever"), json.levers.length);
    assert.equal(count("wc_cv_pooled"), json.wc_cv_pooled.length);
    const type = (n: string) => String(t.schema.fields.find((f) => f.name === n)!.type);
    assert.equal(type("p"), "Int32");
    assert.equal(type("alpha"), "Float64");
    assert.equal(type("n_grokked"), "Int32");
    assert.equal(type("rhos"), "List<Float64>");
    assert.equal(type("t_grok_median_censored"), "Bool");
    const i = sections.indexOf("delay_per_p");
    assert.equal(t.get(i)!.toJSON().alpha, json.delay_law.per_p[0].alpha);
    assert.deepEqual(readdirSync(join(dir, "sub")), ["fits.arrow"]);
    // the schema does not depend on the data: a p-scan fit (power law, shared α, no levers) has the same columns
    const other = fitsTable(run("pscan", { rhoMax: 1.15, boot: 20 }), new Map());
    assert.deepEqual(
      other.schema.fields.map((f) => `${f.name}:${f.type}`),
      t.schema.fields.map((f) => `${f.name}:${f.type}`),
    );
    const shared = [...other].find((r) => r!.section === "delay_shared")!.toJSON();
    assert.deepEqual([...shared.ps!.toArray()], [41, 53, 59, 71]);
    assert.equal(shared.alpha.toFixed(3), "7.490");
    // an independent reader (nodejs-polars, when installed) sees the same values
    const pl = await import("nodejs-polars").then((m) => m.default).catch(() => null);
    if (pl) {
      const df = pl.readIPC(readFileSync(out)); // (0.24's readIPC(path) mis-detects the format: hand it the bytes)
      assert.equal(df.height, t.numRows);
      const pp = df.filter(pl.col("section").eq(pl.lit("delay_per_p"))).toRecords();
      assert.deepEqual(
        pp.map((r: Row) => [r.lr, r.alpha, r.rhos]),
        json.delay_law.per_p.map((r: Row) => [r.lr, r.alpha, r.rhos]),
      );
    }
    // human-readable by default
    const h = cli(["fit", paper().efflr, "--boot", "0"]);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /levers: max\/min of median T_grok/);
    assert.match(h.stdout, /29575\.5/);
  },
);

test("option errors name the option and the value", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ by: "p,bogus" }, /^--by: expected distinct comma-separated config columns from task,model,.*, got "p,bogus"$/],
    [{ by: "p,p" }, /^--by: /],
    [{ "rho-min": "abc" }, /^--rho-min: expected a number > 0, got "abc"$/],
    [{ "rho-min": "1.2", "rho-max": "1.1" }, /^--rho-max: expected a number ≥ --rho-min \(1.2\), got "1.1"$/],
    [{ median: "mean" }, /^--median: expected one of all\|grokked, got "mean"$/],
    [{ censored: "tobit" }, /^--censored: expected one of excluded\|mle, got "tobit"$/],
    [{ boot: "-1" }, /^--boot: /],
    [{ seed: "1.5" }, /^--seed: /],
    [{ "wc-stat": "max" }, /^--wc-stat: /],
    [{ median: ["all", "grokked"] }, /^--median: expected a single value/],
  ];
  for (const [argv, msg] of cases)
    assert.throws(
      () => fitOptions(argv),
      (e: Error) => e instanceof UsageError && msg.test(e.message),
      JSON.stringify(argv),
    );
  assert.deepEqual(fitOptions({ by: "p, rho ,lr", "rho-max": "1.25", boot: "0" }), {
    ...FIT_DEFAULTS,
    by: ["p", "rho", "lr"],
    rhoMax: 1.25,
    boot: 0,
  });
});

test("bad input through the CLI: one line naming the field and value, exit 2, no output file", { skip }, () => {
  const dir = tmp(),
    out = join(dir, "fits.arrow"),
    notArrow = join(dir, "x.arrow");
  writeFileSync(notArrow, "not arrow");
  mkdirSync(join(dir, "empty"));
  const cases: [string[], RegExp][] = [
    [[paper().denserho, "--by", "p,bogus"], /^groksweep: --by: expected .*got "p,bogus"$/],
    [[join(dir, "nope")], /^groksweep: DIR: expected .*not found/],
    [[notArrow], /^groksweep: DIR: expected an Arrow IPC file/],
    [[join(dir, "empty")], /^groksweep: DIR: expected .*no runs.arrow/],
    [[paper().denserho, "--out", dir], /^groksweep: --out: expected a file path \(not a directory\)/],
  ];
  for (const [args, msg] of cases) {
    const r = cli(["fit", ...args, ...(args.includes("--out") ? [] : ["--out", out])]);
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    assert.match(r.stderr.trim(), msg);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  assert.deepEqual(readdirSync(dir).sort(), ["empty", "x.arrow"]);
});
