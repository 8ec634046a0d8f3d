// The shapes `groksweep fit` writes from a FitResult besides its JSON: fits.arrow, one tidy table, and
// the human-readable tables.
import { Table, DataType, Schema, Field, RecordBatch, Struct, Int32, Float64, Bool, Utf8, List } from "apache-arrow";
import { makeData, vectorFromArray } from "apache-arrow";
import { CONFIG_COLUMNS, KIND, Kind } from "./read.js";
import type { FitResult, Row } from "./estimate.js";
import { THRESHOLDS } from "./traces.js";
import { KNEE_R2 } from "./knee.js";

// ---- fits.arrow: one tidy table, one row per entry of every JSON list, tagged by `section`

export const SECTIONS = {
  group: (f: FitResult) => f.groups,
  wc_cv_pooled: (f: FitResult) => f.wc_cv_pooled,
  wc_power_law: (f: FitResult) => f.wc_power_law,
  delay_per_p: (f: FitResult) => f.delay_law.per_p,
  delay_shared: (f: FitResult) => f.delay_law.shared,
  lever: (f: FitResult) => f.levers,
  delay_knee: (f: FitResult) => f.delay_knee,
  wc_threshold: (f: FitResult) => f.wc_threshold,
  first_passage: (f: FitResult) => f.first_passage,
  sample_threshold: (f: FitResult) => f.sample_threshold,
} as const;
const f64 = () => new Float64(),
  i32 = () => new Int32(),
  bool = () => new Bool(),
  utf8 = () => new Utf8();
const listOf = (t: () => DataType) => () => new List(new Field("item", t(), true));
const CONFIG_TYPE: Record<Kind, () => DataType> = { int: i32, float: f64, utf8, bool };
/** Every field a section row can have, with its column type: the schema does not depend on the data. */
const FIELDS: [string, () => DataType][] = [
  ["n", i32],
  ["n_grokked", i32],
  ["n_censored", i32],
  ["n_diverged", i32],
  ["n_failed", i32],
  ["t_grok_median", f64],
  ["t_grok_median_censored", bool],
  ["t_grok_median_grokked", f64],
  ["t_grok_mean", f64],
  ["t_grok_sd", f64],
  ["t_mem_median", f64],
  ["t_mem_median_censored", bool],
  ["t_mem_mean", f64],
  ["t_mem_sd", f64],
  ["wc_median", f64],
  ["wc_mean", f64],
  ["wc_sd", f64],
  ["wc_cv", f64],
  ["lrs", listOf(f64)],
  ["stat", utf8],
  ["ps", listOf(f64)],
  ["wc_per_p", listOf(f64)],
  ["n_per_p", listOf(i32)],
  ["excluded_ps", listOf(f64)],
  ["beta", f64],
  ["c", f64],
  ["method", utf8],
  ["alpha", f64],
  ["intercept", f64],
  ["intercepts", listOf(f64)],
  ["r2", f64],
  ["alpha_ci", listOf(f64)],
  ["boot_failed", i32],
  ["rhos", listOf(f64)],
  ["excluded_rhos", listOf(f64)],
  ["all_rhos", listOf(f64)],
  ["t_grok_medians", listOf(f64)],
  ["t_grok_medians_censored", listOf(bool)],
  ["n_units", i32],
  ["n_seeds", i32],
  ["sigma", f64],
  ["loglik", f64],
  ["along", utf8],
  ["min", f64],
  ["max", f64],
  ["ratio", f64],
  ["rho_at_min", f64],
  ["rho_at_max", f64],
  ["lr_at_min", f64],
  ["lr_at_max", f64],
  ["bound", bool],
  ["n_censored_min", i32],
  ["n_censored_max", i32],
  ["n_cells", i32],
  // appended in 0.3: the knee, Wc at other thresholds, the first-passage law
  ["knee_window", listOf(f64)],
  ["knee_alpha", f64],
  ["knee_r2", f64],
  ["knee_rho", f64],
  ["knee_above", listOf(f64)],
  ["knee_ratio", listOf(f64)],
  ["thresholds", listOf(f64)],
  ["wc_at", listOf(f64)],
  ["n_at", listOf(i32)],
  ["wc_rel_change", listOf(f64)],
  ["kappa", f64],
  ["v_mem", f64],
  ["v_star", f64],
  ["passage_r2", f64],
  ["delay_observed", f64],
  ["delay_predicted", f64],
  ["n_comprehension", i32],
  ["n_grokking", i32],
  ["n_memorization", i32],
  ["n_confusion", i32],
  ["phase", utf8],
  ["family", utf8],
  ["ms", listOf(f64)],
  ["n_c", listOf(f64)],
  ["c_per_m", listOf(f64)],
  ["c_ci", listOf(f64)],
  // appended after 0.3.0: the first-passage runs whose V does not decay (left out of the law)
  ["n_no_decay", i32],
];

/** The fit as one table: `section`, every config column (runs.arrow types), then FIELDS; null where a row lacks one. */
export function fitsTable(f: FitResult, metadata: Map<string, string>): Table {
  const rows: Row[] = Object.entries(SECTIONS).flatMap(([section, get]) => get(f).map((r) => ({ section, ...r })));
  const cols: [string, () => DataType][] = [
    ["section", utf8],
    ...CONFIG_COLUMNS.map((c): [string, () => DataType] => [c, CONFIG_TYPE[KIND[c]]]),
    ...FIELDS,
  ];
  for (const r of rows)
    for (const k of Object.keys(r))
      if (!cols.some(([n]) => n === k)) throw new Error(`fits table: no column for field ${k}`);
  const fields = cols.map(([name, type]) => new Field(name, type(), name !== "section"));
  const children = fields.map((field) => {
    const v = vectorFromArray(rows.map((r) => r[field.name] ?? null) as never[], field.type as never);
    if (v.data.length !== 1) throw new Error(`fits table: column ${field.name}: expected one chunk`);
    return v.data[0];
  });
  const schema = new Schema(fields, metadata);
  return new Table(
    schema,
    new RecordBatch(schema, makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children })),
  );
}

// ---- human-readable tables

// a value that rounds to zero prints without its sign ("0.00", not "-0.00": -0.004.toFixed(2) keeps it)
export const fx = (x: unknown, d: number) =>
  typeof x === "number" && Number.isFinite(x) ? x.toFixed(d).replace(/^-(0\.?0*)$/, "$1") : "-";
const steps = (x: unknown) =>
  typeof x === "number" && Number.isFinite(x) ? (Number.isInteger(x) ? String(x) : x.toFixed(1)) : "-";
const pct = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? `${fx(100 * x, 2)}%` : "-");
const ci = (x: unknown) => (Array.isArray(x) ? `[${fx(x[0], 3)}, ${fx(x[1], 3)}]` : "-");
const list = (x: unknown) =>
  Array.isArray(x) ? x.map((v) => (typeof v === "number" ? +v.toPrecision(6) : v)).join(",") : "-";

/** A configuration column's values as text: numbers with at most 4 significant digits as they are (0.003, 23),
 *  others rounded to 4 — more where 4 would print two of `values` alike — keeping the trailing zeros that say
 *  so (frac auto:3 at M 17, 0.49997882542168526, prints 0.5000). The JSON and fits.arrow keep every digit. */
export function configText(values: readonly unknown[]): (v: unknown) => string {
  const nums = [...new Set(values.filter((v): v is number => typeof v === "number"))];
  const at = (x: number, d: number) => {
    const s = x.toPrecision(d);
    return Number.isInteger(x) || +s === x ? String(x) : s.includes("e+") ? x.toFixed(0) : s;
  };
  let d = 4;
  while (d < 17 && new Set(nums.map((x) => at(x, d))).size < nums.length) d++;
  return (v) => (typeof v === "number" ? at(v, d) : String(v));
}

/** A table whose config columns that vary across rows come first; constant ones go into a header line. */
function table(title: string, rows: Row[], cols: [string, (r: Row) => string][]): string {
  if (!rows.length) return "";
  const cfg = CONFIG_COLUMNS.filter((c) => rows.some((r) => c in r));
  const text = new Map(cfg.map((c) => [c, configText(rows.map((r) => r[c]))]));
  const varying = cfg.filter((c) => new Set(rows.map((r) => JSON.stringify(r[c]))).size > 1);
  const constant = cfg.filter((c) => !varying.includes(c)).map((c) => `${c}=${text.get(c)!(rows[0][c])}`);
  const all: [string, (r: Row) => string][] = [
    ...varying.map((c): [string, (r: Row) => string] => [c, (r) => text.get(c)!(r[c])]),
    ...cols,
  ];
  const body = rows.map((r) => all.map(([, f]) => f(r)));
  const w = all.map(([h], i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const lines = [all.map(([h]) => h), ...body].map((r) => r.map((c, i) => c.padStart(w[i])).join("  "));
  return [`${title}${constant.length ? `\n  (all rows: ${constant.join(" ")})` : ""}`, ...lines].join("\n") + "\n\n";
}

export function formatFit(f: FitResult): string {
  if (f.n_runs === 0) return "no runs in the input\n";
  const bound = (v: unknown, c: unknown) => (c ? `≥${steps(v)}` : steps(v));
  const censorNote =
    f.censoring === "mle"
      ? "Tobit MLE on seeds, censored at max_steps"
      : "OLS of ln(median T_grok) on ρ; cells with a censored median excluded";
  const range = f.rho_min !== null || f.rho_max !== null ? `, ρ in [${f.rho_min ?? "-"}, ${f.rho_max ?? "-"}]` : "";
  const [lrText, rhoText] = ["lr", "rho"].map((c) => configText(f.levers.map((r) => r[c])));
  return [
    table(
      `groups (${f.groups.length}; ≥x: median censored, only a lower bound; ` +
        "t_grok(gr): median over grokked seeds, * some censored)",
      f.groups,
      [
        ["n", (r) => String(r.n)],
        ["grokked", (r) => String(r.n_grokked)],
        ["censored", (r) => String(r.n_censored)],
        ["t_grok", (r) => bound(r.t_grok_median, r.t_grok_median_censored)],
        [
          "t_grok(gr)",
          (r) => steps(r.t_grok_median_grokked) + ((r.n_censored as number) > 0 && r.n_grokked ? "*" : ""),
        ],
        ["t_mem", (r) => bound(r.t_mem_median, r.t_mem_median_censored)],
        ["wc_med", (r) => fx(r.wc_median, 2)],
        ["wc_mean", (r) => fx(r.wc_mean, 2)],
        ["wc_sd", (r) => fx(r.wc_sd, 2)],
        ["wc_cv", (r) => pct(r.wc_cv)],
        ["phase", (r) => String(r.phase ?? "-")],
      ],
    ),
    table("Wc over grokked free seeds pooled across learning rates", f.wc_cv_pooled, [
      ["lrs", (r) => list(r.lrs)],
      ["n", (r) => String(r.n)],
      ["wc_mean", (r) => fx(r.wc_mean, 2)],
      ["wc_sd", (r) => fx(r.wc_sd, 2)],
      ["wc_cv", (r) => pct(r.wc_cv)],
    ]),
    table(`Wc power law Wc = c·p^β (per-p ${f.wc_stat} of free runs)`, f.wc_power_law, [
      ["ps", (r) => list(r.ps)],
      ["wc", (r) => (r.wc_per_p as number[]).map((x) => x.toFixed(2)).join(",")],
      ["beta", (r) => fx(r.beta, 4)],
      ["c", (r) => fx(r.c, 3)],
      ["R²", (r) => fx(r.r2, 4)],
    ]),
    table(
      `delay law per p: ln T_grok = intercept + α·ρ (${censorNote}; median: ${f.median}${range})`,
      f.delay_law.per_p,
      [
        ["alpha", (r) => fx(r.alpha, 3)],
        ["95% CI", (r) => ci(r.alpha_ci)],
        ["intercept", (r) => fx(r.intercept, 3)],
        [f.censoring === "mle" ? "sigma" : "R²", (r) => (f.censoring === "mle" ? fx(r.sigma, 3) : fx(r.r2, 4))],
        ["rhos", (r) => list(r.rhos)],
        ["excluded", (r) => list(r.excluded_rhos) || "-"],
      ],
    ),
    table(`delay law, one shared α with an intercept per p (${censorNote})`, f.delay_law.shared, [
      ["ps", (r) => list(r.ps)],
      ["alpha", (r) => fx(r.alpha, 3)],
      ["95% CI", (r) => ci(r.alpha_ci)],
      [f.censoring === "mle" ? "sigma" : "R²", (r) => (f.censoring === "mle" ? fx(r.sigma, 3) : fx(r.r2, 4))],
      ["excluded ps", (r) => list(r.excluded_ps) || "-"],
    ]),
    table(`levers: max/min of median T_grok (median: ${f.median}; ≥x: censored median)`, f.levers, [
      ["along", (r) => String(r.along)],
      ["at", (r) => (r.along === "rho" ? `lr=${lrText(r.lr)}` : `rho=${rhoText(r.rho)}`)],
      ["min", (r) => steps(r.min)],
      ["max", (r) => steps(r.max)],
      ["ratio", (r) => `${fx(r.ratio, 2)}×${r.bound ? " (bound)" : ""}`],
      ["censored seeds min/max", (r) => `${r.n_censored_min}/${r.n_censored_max}`],
    ]),
    table(
      `delay-law knee: the largest ρ window with log-linear R² ≥ ${KNEE_R2}; observed/extrapolated T_grok above it`,
      f.delay_knee,
      [
        ["window", (r) => list(r.knee_window)],
        ["alpha", (r) => fx(r.knee_alpha, 3)],
        ["R²", (r) => fx(r.knee_r2, 4)],
        ["knee ρ", (r) => fx(r.knee_rho, 3)],
        ["above", (r) => list(r.knee_above) || "-"],
        ["obs/extrap", (r) => (r.knee_ratio as (number | null)[]).map((x) => fx(x, 2)).join(",") || "-"],
      ],
    ),
    table(
      `Wc at other test-accuracy thresholds (free grokked seeds; change vs the runs' own threshold)`,
      f.wc_threshold,
      [
        ["n", (r) => String(r.n)],
        ...THRESHOLDS.map((th, k): [string, (r: Row) => string] => [
          `wc@${th}`,
          (r) => `${fx((r.wc_at as (number | null)[])[k], 2)} (${pct((r.wc_rel_change as (number | null)[])[k])})`,
        ]),
      ],
    ),
    table(
      "first passage: T_grok − T_mem ≈ ln(V_mem/V*)/(2κηλ), V = ‖W‖², κ from ln V on t, T_mem…T_grok " +
        "(no decay: runs where V does not fall, left out)",
      f.first_passage,
      [
        ["n", (r) => String(r.n)],
        ["no decay", (r) => String(r.n_no_decay)],
        ["kappa", (r) => fx(r.kappa, 4)],
        ["R²", (r) => fx(r.passage_r2, 4)],
        ["V_mem", (r) => fx(r.v_mem, 1)],
        ["V*", (r) => fx(r.v_star, 1)],
        ["delay obs", (r) => steps(r.delay_observed)],
        ["delay pred", (r) => steps(r.delay_predicted)],
      ],
    ),
    table(
      "sample threshold (Li²): n_c(M), the smallest n_train where ≥ half the seeds grok, = C·M ln M",
      f.sample_threshold,
      [
        ["family", (r) => String(r.family)],
        ["M", (r) => list(r.ms)],
        ["n_c", (r) => (r.n_c as (number | null)[]).map((x) => (x === null ? "-" : String(x))).join(",")],
        ["C", (r) => fx(r.c, 3)],
        ["95% CI", (r) => ci(r.c_ci)],
      ],
    ),
    f.notes.length ? "notes:\n" + f.notes.map((n) => `  - ${n}`).join("\n") + "\n" : "",
  ].join("");
}
