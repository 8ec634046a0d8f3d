// The reference paper's delay-law experiment as one protocol: its published numbers (PROTOCOL.md),
// the spec of each scale, the check that a spec is this experiment, its cost, and the side-by-side
// comparison of a fit with the paper. The command (commands/reproduce.ts) runs it.
import { fileURLToPath } from "node:url";
import type { Sweep, SweepRun } from "./spec.js";
import { RunConfig, UsageError, DEFAULTS, keysOf, appliesTo } from "./options.js";
import type { FitResult } from "./fit/estimate.js";
import { ratesNote, RateKey } from "./cost.js";

/** The spec of each scale, relative to the package root (dist/src/ → ../../). */
export const SCALES = { quick: "examples/quick/delay-law.yaml", paper: "examples/paper/dense-rho.yaml" } as const;
export type Scale = keyof typeof SCALES;
export const scaleSpec = (s: Scale): string => fileURLToPath(new URL(`../../${SCALES[s]}`, import.meta.url));

/** Published numbers of the dense sustained clamp and the p-scan (../shared/PROTOCOL.md). */
export const PAPER = {
  source: "arXiv 2606.13753 via ../shared/PROTOCOL.md: dense sustained clamp, OLS of ln T_grok on ρ",
  config: {
    op: "add",
    p: 59,
    frac: 0.4,
    d: 128,
    H: 256,
    act: "gelu",
    layernorm: false,
    optim: "adamw",
    lr: 1e-3,
    wd: 1,
    momentum: 0,
    tInt: 500,
    memAcc: 0.99,
    grokAcc: 0.9,
  },
  seeds: 16,
  wc: 54.51,
  freeTGrok: 5100, // "p = 59, frac = 0.40: T_grok ≈ 5100" (free training)
  rhos: [0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2, 1.25],
  tGrok: [1495, 1781, 2470, 3999, 6380, 9433, 13030, 19407, 26929],
  alpha: 7.64,
  alphaCi: [7.47, 7.81] as [number, number],
  r2: 0.994,
  shared: { ps: [41, 53, 59, 71], alpha: 7.49, alphaCi: [7.16, 7.69] as [number, number], r2: 0.996 },
} as const;

/** The configuration fields that define the experiment: the network, its training and the thresholds
 *  of T_mem/T_grok (not the seed, the arm, ρ, Wc or budgets). */
const CONFIG_FIELDS = keysOf("config", "measure");

export interface DelayPlan {
  cfg: RunConfig; // the configuration shared by every run (seed/arm/ρ of the first clamp run)
  free: SweepRun[];
  clamp: SweepRun[];
  rhos: number[]; // the clamp grid, ascending
  seedsPerRho: number; // the smallest seed count of a ρ cell
  tInt: number;
  samePaperConfig: boolean; // absolute T_grok and Wc are comparable only then
}

/**
 * The delay-law experiment in a sweep: free controls and clamp runs at ≥ 3 ρ × the measured Wc, all of
 * one configuration. Anything else is refused (flag and file name the spec in the one-line error).
 */
export function delayLawPlan(sw: Sweep, flag: string, file: string): DelayPlan {
  const refuse = (why: string) =>
    new UsageError(
      flag,
      file,
      `a delay-law spec: free controls plus clamp runs with wc: measure at ≥ 3 ρ, all of one configuration (${why})`,
    );
  const other = sw.runs.find((r) => r.cfg.arm !== "free" && r.cfg.arm !== "clamp");
  if (other) throw refuse(`run ${other.runId} has arm ${other.cfg.arm}`);
  const free = sw.runs.filter((r) => r.cfg.arm === "free"),
    clamp = sw.runs.filter((r) => r.cfg.arm === "clamp");
  if (!free.length) throw refuse("no free controls");
  if (!clamp.length) throw refuse("no clamp runs");
  const fixed = clamp.find((r) => r.measure === null);
  if (fixed) throw refuse(`run ${fixed.runId} clamps at a given wc, not wc: measure`);
  const key = (c: RunConfig) => JSON.stringify(CONFIG_FIELDS.map((k) => c[k]));
  const odd = sw.runs.find((r) => key(r.cfg) !== key(clamp[0].cfg));
  if (odd)
    throw refuse(
      `run ${odd.runId} differs from run ${clamp[0].runId} in ` +
        CONFIG_FIELDS.filter((k) => odd.cfg[k] !== clamp[0].cfg[k]).join(", "),
    );
  const tInts = new Set(clamp.map((r) => r.cfg.tInt));
  if (tInts.size > 1) throw refuse(`several t-int: ${[...tInts].join(", ")}`);
  const rhos = [...new Set(clamp.map((r) => r.cfg.rho))].sort((a, b) => a - b);
  if (rhos.length < 3) throw refuse(`${rhos.length} ρ value(s)`);
  const cfg = clamp[0].cfg;
  const p = { ...DEFAULTS, ...PAPER.config } as Record<string, unknown>;
  return {
    cfg,
    free,
    clamp,
    rhos,
    tInt: cfg.tInt,
    seedsPerRho: Math.min(...rhos.map((rho) => clamp.filter((r) => r.cfg.rho === rho).length)),
    samePaperConfig: CONFIG_FIELDS.every((k) => cfg[k] === p[k]) && cfg.tInt === PAPER.config.tInt,
  };
}

const paperTGrok = (rho: number): number | null => {
  const i = PAPER.rhos.findIndex((r) => Math.abs(r - rho) < 1e-9);
  return i < 0 ? null : PAPER.tGrok[i];
};

export interface Cost {
  boundSteps: number;
  boundFlops: number;
  boundSeconds: number;
  expectedSteps: number | null;
  expectedFlops: number | null;
  expectedSeconds: number | null;
  rates: RateKey; // the kernels whose measured rates the seconds take (src/cost.ts)
}

/** The budget bound, and at the paper's configuration the expected cost: runs stop at T_grok, taken as the
 *  paper's medians. */
export function costOf(plan: DelayPlan, rates: RateKey): Cost {
  const runs = [...plan.free, ...plan.clamp];
  const flopsPerStep = (r: SweepRun) => r.cost / r.cfg.maxSteps;
  const boundSteps = runs.reduce((s, r) => s + r.cfg.maxSteps, 0),
    boundFlops = runs.reduce((s, r) => s + r.cost, 0);
  const boundSeconds = runs.reduce((s, r) => s + r.seconds(rates), 0);
  if (!plan.samePaperConfig) {
    const none = { expectedSteps: null, expectedFlops: null, expectedSeconds: null };
    return { boundSteps, boundFlops, boundSeconds, ...none, rates };
  }
  const expect = (r: SweepRun) =>
    !r.cfg.stopAtGrok
      ? r.cfg.maxSteps
      : Math.min(r.cfg.maxSteps, (r.cfg.arm === "free" ? PAPER.freeTGrok : paperTGrok(r.cfg.rho)) ?? r.cfg.maxSteps);
  return {
    boundSteps,
    boundFlops,
    boundSeconds,
    expectedSteps: runs.reduce((s, r) => s + expect(r), 0),
    expectedFlops: runs.reduce((s, r) => s + expect(r) * flopsPerStep(r), 0),
    expectedSeconds: runs.reduce((s, r) => s + (expect(r) * r.seconds(rates)) / r.cfg.maxSteps, 0),
    rates,
  };
}

const list = (xs: readonly number[]) => xs.join(", ");
const hours = (h: number) => (h < 1 ? `${(h * 60).toFixed(h * 60 < 10 ? 1 : 0)} min` : `${h.toFixed(1)} h`);
export const describeConfig = (c: RunConfig) =>
  `p ${c.p}, d ${c.d}, H ${c.H}, frac ${c.frac}, ${c.op}, ${c.act}${c.layernorm ? " + LayerNorm" : ""}, ` +
  `${c.optim} lr ${c.lr} wd ${c.wd}`;

/** What will run and what it costs: printed before the sweep, and alone with --dry-run. */
export function planText(plan: DelayPlan, sw: Sweep, title: string, workers: number, rates: RateKey): string {
  const c = costOf(plan, rates),
    budgets = (rs: SweepRun[]) => list([...new Set(rs.map((r) => r.cfg.maxSteps))]);
  const stop = plan.clamp.every((r) => r.cfg.stopAtGrok) ? " (each run stops at T_grok)" : "";
  const lines = [
    `${title} (spec ${sw.hash})`,
    `  protocol: ${plan.free.length} free controls → Wc = median ‖W‖ at T_grok of the grokked controls → ` +
      `clamp ‖W‖ at ρ·Wc from step ${plan.tInt}`,
    `            for ρ = ${list(plan.rhos)} (${plan.seedsPerRho} seeds each) → fit ln T_grok = a + α·ρ → ` +
      "report → comparison with the paper",
    `  model:    ${describeConfig(plan.cfg)}; budgets: free ${budgets(plan.free)}, ` +
      `clamp ${budgets(plan.clamp)} steps${stop}`,
    `  paper:    ${describeConfig({ ...plan.cfg, ...PAPER.config } as RunConfig)}, ${PAPER.seeds} seeds, ` +
      `t_int ${PAPER.config.tInt}` +
      (plan.samePaperConfig
        ? " (the same configuration)"
        : " (another configuration: α, R² and T_grok/T_grok(ρ=1) compare; absolute T_grok and Wc do not)"),
    `  runs:     ${sw.runs.length} (${plan.free.length} free + ${plan.clamp.length} clamp)`,
    `  cost:     ≤ ${c.boundSteps.toLocaleString("en-US")} steps, ${(c.boundFlops / 1e12).toFixed(2)} TFLOP ` +
      `≈ ${(c.boundSeconds / 3600).toFixed(2)} core-hours at ${ratesNote(rates)} ` +
      `(≤ ${hours(c.boundSeconds / 3600 / workers)} on ${workers} worker${workers > 1 ? "s" : ""}) ` +
      "if every run used its whole budget",
  ];
  if (c.expectedSteps !== null) {
    lines.push(
      `  expected: ≈ ${c.expectedSteps.toLocaleString("en-US")} steps ` +
        `≈ ${(c.expectedSeconds! / 3600).toFixed(1)} core-hours (≈ ${hours(c.expectedSeconds! / 3600 / workers)} ` +
        `on ${workers} worker${workers > 1 ? "s" : ""}), runs stopping at the paper's median T_grok`,
    );
  }
  return lines.join("\n") + "\n";
}

// ---- the comparison

type Num = number | null;
export interface ComparisonRow {
  quantity: string; // alpha | alpha_ci | r2 | wc | t_grok_free | t_grok | shared_alpha
  rho: Num; // t_grok rows
  paper: Num | [number, number];
  measured: Num | [number, number];
  measured_censored?: boolean; // t_grok rows: the median is only a lower bound
  paper_rel?: Num; // t_grok rows: T_grok / T_grok(ρ = 1), comparable across configurations
  measured_rel?: Num;
  n?: number;
  n_grokked?: number;
  comparable: boolean; // false: absolute value of another configuration
  note: string | null;
}
export interface Comparison {
  experiment: "delay-law";
  scale: string;
  spec: string;
  spec_hash: string;
  version: string;
  paper_source: string;
  paper_config: Record<string, unknown>;
  measured_config: Record<string, unknown>;
  same_config: boolean;
  rows: ComparisonRow[];
  notes: string[];
}

const configRecord = (c: RunConfig, tInt: number, seeds: number) => ({
  ...Object.fromEntries(CONFIG_FIELDS.filter((k) => appliesTo(k, c)).map((k) => [k, c[k]])),
  t_int: tInt,
  seeds_per_rho: seeds,
});
const num = (x: unknown): Num => (typeof x === "number" && Number.isFinite(x) ? x : null);
const near = (a: unknown, b: number) => typeof a === "number" && Math.abs(a - b) < 1e-9;

/** The paper's numbers next to the fit of this run of the experiment. */
export function compare(
  f: FitResult,
  plan: DelayPlan,
  meta: { scale: string; spec: string; specHash: string; version: string },
): Comparison {
  const unit = f.delay_law.per_p[0] as Record<string, unknown> | undefined; // the plan guarantees one configuration
  const clampGroups = f.groups.filter((g) => g.arm === "clamp"),
    freeGroup = f.groups.find((g) => g.arm === "free");
  const same = plan.samePaperConfig; // when false, `comparable` marks the absolute values of another configuration
  const rows: ComparisonRow[] = [
    { quantity: "alpha", rho: null, paper: PAPER.alpha, measured: num(unit?.alpha), comparable: true, note: null },
    {
      quantity: "alpha_ci",
      rho: null,
      paper: PAPER.alphaCi,
      measured: (unit?.alpha_ci as [number, number] | null) ?? null,
      comparable: true,
      note: "95 %; bootstrap over seeds within each ρ",
    },
    { quantity: "r2", rho: null, paper: PAPER.r2, measured: num(unit?.r2), comparable: true, note: null },
    {
      quantity: "wc",
      rho: null,
      paper: PAPER.wc,
      measured: num(clampGroups[0]?.wc_ref),
      comparable: same,
      note: "median over the grokked free controls",
    },
    {
      quantity: "t_grok_free",
      rho: null,
      paper: PAPER.freeTGrok,
      measured: num(freeGroup?.t_grok_median),
      measured_censored: Boolean(freeGroup?.t_grok_median_censored),
      n: freeGroup?.n as number,
      n_grokked: freeGroup?.n_grokked as number,
      comparable: same,
      note: null,
    },
  ];
  const one = clampGroups.find((g) => near(g.rho, 1));
  const oneT = one && !one.t_grok_median_censored ? num(one.t_grok_median) : null;
  const rhos = [...new Set([...PAPER.rhos, ...plan.rhos])].sort((a, b) => a - b);
  for (const rho of rhos) {
    const g = clampGroups.find((x) => near(x.rho, rho)),
      pt = paperTGrok(rho),
      mt = num(g?.t_grok_median);
    rows.push({
      quantity: "t_grok",
      rho,
      paper: pt,
      measured: mt,
      measured_censored: Boolean(g?.t_grok_median_censored),
      paper_rel: pt === null ? null : pt / PAPER.tGrok[PAPER.rhos.indexOf(1.0)],
      measured_rel: mt === null || oneT === null ? null : mt / oneT,
      ...(g ? { n: g.n as number, n_grokked: g.n_grokked as number } : {}),
      comparable: same,
      note: plan.rhos.some((r) => near(r, rho)) ? null : "ρ not in this grid",
    });
  }
  const shared = f.delay_law.shared[0] as Record<string, unknown> | undefined;
  rows.push({
    quantity: "shared_alpha",
    rho: null,
    paper: PAPER.shared.alpha,
    measured: num(shared?.alpha),
    comparable: true,
    note: shared
      ? null
      : `p-scan (p ${list(PAPER.shared.ps)}; CI ${PAPER.shared.alphaCi.join("–")}, R² ${PAPER.shared.r2}): ` +
        "not part of this experiment — examples/*/p-scan.yaml",
  });
  return {
    experiment: "delay-law",
    scale: meta.scale,
    spec: meta.spec,
    spec_hash: meta.specHash,
    version: meta.version,
    paper_source: PAPER.source,
    paper_config: configRecord({ ...plan.cfg, ...PAPER.config } as RunConfig, PAPER.config.tInt, PAPER.seeds),
    measured_config: configRecord(plan.cfg, plan.tInt, plan.seedsPerRho),
    same_config: same,
    rows,
    notes: [
      ...(unit ? [] : ["no delay-law fit: see the notes of fits.json"]),
      ...f.notes.filter((n) => n.startsWith("delay law") || n.includes("failed")),
    ],
  };
}

const fx = (x: unknown, d: number) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "–");
const steps = (x: Num) => (x === null ? "–" : Number.isInteger(x) ? String(x) : x.toFixed(1));
const rel = (x: Num | undefined) => (x === null || x === undefined ? "" : ` (${x.toFixed(2)}×)`);
const LABEL: Record<string, string> = {
  alpha: "α",
  alpha_ci: "α 95% CI",
  r2: "R²",
  wc: "Wc",
  t_grok_free: "T_grok, free control",
  shared_alpha: "shared α across p",
};

/** The comparison as a text table: quantity, paper, measured, note. */
export function formatComparison(c: Comparison): string {
  const cell = (r: ComparisonRow, side: "paper" | "measured"): string => {
    const v = r[side];
    if (Array.isArray(v)) return `[${fx(v[0], 2)}, ${fx(v[1], 2)}]`;
    switch (r.quantity) {
      case "alpha":
      case "shared_alpha":
        return fx(v, 2);
      case "r2":
        return fx(v, side === "paper" ? 3 : 4);
      case "wc":
        return fx(v, 2);
      case "t_grok_free":
        return v === null ? "–" : `${side === "paper" ? "≈" : r.measured_censored ? "≥" : ""}${steps(v)}`;
      default:
        return v === null
          ? "–"
          : (side === "measured" && r.measured_censored ? "≥" : "") +
              steps(v) +
              rel(side === "paper" ? r.paper_rel : r.measured_rel);
    }
  };
  const note = (r: ComparisonRow) =>
    [r.n !== undefined ? `${r.n_grokked}/${r.n} grokked` : "", r.note ?? ""].filter(Boolean).join("; ");
  const body = c.rows.map((r) => [
    r.quantity === "t_grok" ? `T_grok ρ=${r.rho}` : LABEL[r.quantity],
    cell(r, "paper"),
    cell(r, "measured"),
    note(r),
  ]);
  const head = ["quantity", "paper", "measured", ""];
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (r: string[]) =>
    r
      .map((x, i) => (i === 3 ? x : x.padEnd(w[i])))
      .join("  ")
      .trimEnd();
  const cfg = (x: Record<string, unknown>) =>
    `p ${x.p}, d ${x.d}, H ${x.H}, frac ${x.frac}, lr ${x.lr}, wd ${x.wd}, t_int ${x.t_int}, ` +
    `${x.seeds_per_rho} seeds per ρ`;
  return (
    [
      `delay law: the paper vs this run (${c.scale}); (x×) = T_grok / T_grok(ρ=1); ` +
        "≥: censored median, a lower bound",
      `  paper:    ${cfg(c.paper_config)} — ${c.paper_source}`,
      `  measured: ${cfg(c.measured_config)}` +
        (c.same_config ? "" : " — another configuration: compare α, R² and the (x×) ratios"),
      fmt(head),
      ...body.map(fmt),
      ...c.notes.map((n) => `note: ${n}`),
    ].join("\n") + "\n"
  );
}
