// `groksweep fit`: per-configuration summaries of runs.arrow and the paper's fits — the critical norm
// Wc (spread, power law in p), the exponential delay law T_grok ∝ e^{αρ} of clamp runs, and the ρ-vs-lr
// lever ratios. Censored runs (no T_grok within max_steps) are handled explicitly; see docs/analysis.md.
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import {
  tableFromIPC,
  Table,
  DataType,
  Schema,
  Field,
  RecordBatch,
  Struct,
  Int32,
  Float64,
  Bool,
  Utf8,
  List,
  makeData,
  vectorFromArray,
} from "apache-arrow";
import { UsageError } from "./options.js";
import { LATER_DEFAULTS } from "./arrow.js";
import { sources } from "./store.js";
import { Rng } from "./rng.js";
import {
  Obs,
  CensoredMedian,
  censoredMedian,
  median,
  mean,
  sd,
  ols,
  sharedSlope,
  powerLaw,
  bootstrapCI,
  resample,
  tobit,
} from "./stats.js";

/** Columns that define a configuration (the default group key): runs.arrow minus seed and outcomes. */
export const CONFIG_COLUMNS = [
  "task",
  "model",
  "op",
  "p",
  "frac",
  "d",
  "H",
  "act",
  "layernorm",
  "optim",
  "lr",
  "wd",
  "momentum",
  "wd_schedule",
  "init_scale",
  "arm",
  "rho",
  "wc_ref",
  "t_int",
  "max_steps",
  "heads",
  "loss",
  "clamp_group",
  "n_bits",
  "k_bits",
] as const;
export type ConfigCol = (typeof CONFIG_COLUMNS)[number];
export type Value = string | number | boolean | null;
export type Config = Record<ConfigCol, Value>;

export interface Run {
  file: string;
  run_id: number;
  seed: number;
  cfg: Config;
  status: string;
  t_grok: number | null;
  t_mem: number | null;
  wc: number | null;
  max_steps: number;
}

// ---- reading

type Kind = "int" | "float" | "utf8" | "bool";
const KIND: Record<string, Kind> = {
  run_id: "int",
  seed: "int",
  task: "utf8",
  model: "utf8",
  op: "utf8",
  p: "int",
  frac: "float",
  d: "int",
  H: "int",
  act: "utf8",
  layernorm: "bool",
  optim: "utf8",
  lr: "float",
  wd: "float",
  momentum: "float",
  arm: "utf8",
  rho: "float",
  wc_ref: "float",
  t_int: "int",
  max_steps: "int",
  t_mem: "int",
  t_grok: "int",
  wc: "float",
  status: "utf8",
  wd_schedule: "utf8",
  init_scale: "float",
  heads: "int",
  loss: "utf8",
  clamp_group: "utf8",
  n_bits: "int",
  k_bits: "int",
};
/** Columns added after the first schema: files without them get these values. */
const LATER: Record<string, Value> = LATER_DEFAULTS;
const isKind = (t: DataType, k: Kind) =>
  k === "int"
    ? DataType.isInt(t)
    : k === "float"
      ? DataType.isFloat(t) || DataType.isInt(t)
      : k === "utf8"
        ? DataType.isUtf8(t)
        : DataType.isBool(t);

export interface Source {
  runs: string;
  curves: string | null;
}

/**
 * The runs files of the input with their curves files: a .arrow file (its curves file is the sibling
 * X-curves.arrow of X-runs.arrow, none for other names), or a sweep directory — its runs.arrow plus any
 * not yet compacted .parts/ shards, as `groksweep merge` reads them.
 */
export function runsSources(input: string): Source[] {
  const expected = "a directory holding runs.arrow (or a sweep's .parts/), or a runs .arrow file";
  if (!existsSync(input)) throw new UsageError("DIR", input, `${expected} (not found)`);
  if (!statSync(input).isDirectory()) {
    const runs = resolve(input);
    const m = /^(.*)runs(\.arrow)$/.exec(basename(runs));
    return [{ runs, curves: m ? join(dirname(runs), `${m[1]}curves${m[2]}`) : null }];
  }
  const srcs = sources(input).map((x) => ({ runs: resolve(x.runs), curves: resolve(x.curves) }));
  if (srcs.length === 0) throw new UsageError("DIR", input, `${expected} (no runs.arrow in it)`);
  return srcs;
}

function readTable(path: string): Table {
  try {
    return tableFromIPC(readFileSync(path));
  } catch (e) {
    throw new UsageError("DIR", path, `an Arrow IPC file (${(e as Error).message.split("\n")[0]})`);
  }
}

/** All runs of the input by run_id; a run_id seen twice (a shard not yet compacted) keeps its first copy.
 *  Rows are stored in completion order, which varies with scheduling: sorting makes the bootstrap
 *  (which resamples seeds in cell order) independent of it. */
export function readRuns(input: string): Run[] {
  const runs: Run[] = [],
    seen = new Set<number>();
  for (const { runs: file } of runsSources(input)) {
    const t = readTable(file);
    const cols: Record<string, Value[]> = {};
    for (const [name, kind] of Object.entries(KIND)) {
      const f = t.schema.fields.find((x) => x.name === name);
      if (!f && name in LATER) {
        cols[name] = new Array(t.numRows).fill(LATER[name]);
        continue;
      }
      if (!f) throw new UsageError("DIR", file, `a runs table with column ${name}`);
      if (!isKind(f.type, kind)) throw new UsageError("DIR", file, `column ${name} of type ${kind}, not ${f.type}`);
      cols[name] = [...t.getChild(name)!] as Value[];
    }
    for (let i = 0; i < t.numRows; i++) {
      const run_id = cols.run_id[i] as number;
      if (seen.has(run_id)) continue;
      seen.add(run_id);
      const cfg = Object.fromEntries(CONFIG_COLUMNS.map((c) => [c, cols[c][i]])) as Config;
      runs.push({
        file,
        run_id,
        seed: cols.seed[i] as number,
        cfg,
        status: cols.status[i] as string,
        t_grok: cols.t_grok[i] as number | null,
        t_mem: cols.t_mem[i] as number | null,
        wc: cols.wc[i] as number | null,
        max_steps: cols.max_steps[i] as number,
      });
    }
  }
  return runs.sort((a, b) => a.run_id - b.run_id);
}

// ---- grouping

export interface Group {
  key: Partial<Config>;
  runs: Run[];
}

const cmp = (a: Value, b: Value): number =>
  a === b
    ? 0
    : a === null
      ? -1
      : b === null
        ? 1
        : typeof a === "number" && typeof b === "number"
          ? a - b
          : String(a) < String(b)
            ? -1
            : 1;

/** Runs grouped by the given columns, in key order. */
export function groupBy(runs: readonly Run[], cols: readonly ConfigCol[]): Group[] {
  const m = new Map<string, Group>();
  for (const r of runs) {
    const key = Object.fromEntries(cols.map((c) => [c, r.cfg[c]])) as Partial<Config>;
    const k = JSON.stringify(cols.map((c) => r.cfg[c]));
    (m.get(k) ?? m.set(k, { key, runs: [] }).get(k)!).runs.push(r);
  }
  return [...m.values()].sort((x, y) => {
    for (const c of cols) {
      const d = cmp(x.key[c]!, y.key[c]!);
      if (d) return d;
    }
    return 0;
  });
}

const without = (cols: readonly ConfigCol[], drop: readonly ConfigCol[]) => cols.filter((c) => !drop.includes(c));

// ---- per-run outcomes

const usable = (r: Run) => r.status !== "failed"; // an engine error says nothing about grokking
/** T_grok as a censored outcome: a run that did not grok (censored or diverged) exceeds its budget. */
const grokObs = (r: Run): Obs =>
  r.t_grok !== null ? { t: r.t_grok, censored: false } : { t: r.max_steps, censored: true };
const memObs = (r: Run): Obs =>
  r.t_mem !== null ? { t: r.t_mem, censored: false } : { t: r.max_steps, censored: true };

export type MedianConvention = "all" | "grokked";

/**
 * The cell median used by the fits. "all": censored seeds count as +∞ (value is a lower bound when
 * bound); "grokked": median of the grokked seeds only (the paper's Table 1; biased low under censoring).
 * `bound` follows the order-statistic rule in both conventions and decides exclusion from the fits.
 */
export function cellMedian(obs: readonly Obs[], conv: MedianConvention): CensoredMedian {
  const m = censoredMedian(obs);
  if (conv === "all") return m;
  return { value: median(obs.filter((o) => !o.censored).map((o) => o.t)), censored: m.censored };
}

// ---- options and result

export interface FitOptions {
  by: ConfigCol[] | null;
  median: MedianConvention;
  censored: "excluded" | "mle";
  rhoMin: number | null;
  rhoMax: number | null;
  boot: number;
  seed: number;
  wcStat: "median" | "mean";
}
export const FIT_DEFAULTS: FitOptions = {
  by: null,
  median: "all",
  censored: "excluded",
  rhoMin: null,
  rhoMax: null,
  boot: 2000,
  seed: 0,
  wcStat: "median",
};

type Row = Record<string, unknown>;
export interface FitResult {
  n_runs: number;
  median: MedianConvention;
  censoring: "excluded" | "mle";
  rho_min: number | null;
  rho_max: number | null;
  boot: number;
  seed: number;
  wc_stat: "median" | "mean";
  groups: Row[];
  wc_cv_pooled: Row[];
  wc_power_law: Row[];
  delay_law: { per_p: Row[]; shared: Row[] };
  levers: Row[];
  notes: string[];
}

const fin = (x: number | null | undefined) => (x !== null && x !== undefined && Number.isFinite(x) ? x : null);
const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
export const keyText = (key: Partial<Config>) =>
  Object.entries(key)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");

export function fit(runs: readonly Run[], o: FitOptions): FitResult {
  const K = o.by ?? [...CONFIG_COLUMNS];
  const notes: string[] = [];
  const nFailed = runs.filter((r) => !usable(r)).length;
  if (nFailed)
    notes.push(`${nFailed} failed run(s) (engine error) are counted in n_failed and left out of every statistic`);
  const free = runs.filter((r) => r.cfg.arm === "free" && usable(r));
  const clamp = runs.filter((r) => r.cfg.arm === "clamp" && usable(r));
  return {
    n_runs: runs.length,
    median: o.median,
    censoring: o.censored,
    rho_min: o.rhoMin,
    rho_max: o.rhoMax,
    boot: o.boot,
    seed: o.seed,
    wc_stat: o.wcStat,
    groups: groupBy(runs, K).map(groupRow),
    wc_cv_pooled: wcPooled(free, K),
    wc_power_law: wcPowerLaw(free, K, o, notes),
    delay_law: delayLaw(clamp, K, o, notes),
    levers: levers(clamp, K, o, notes),
    notes,
  };
}

function groupRow({ key, runs }: Group): Row {
  const ok = runs.filter(usable),
    grokked = ok.filter((r) => r.t_grok !== null);
  const tg = grokked.map((r) => r.t_grok!),
    tm = ok.filter((r) => r.t_mem !== null).map((r) => r.t_mem!);
  const wc = grokked.filter((r) => r.wc !== null).map((r) => r.wc!);
  const mg = censoredMedian(ok.map(grokObs)),
    mm = censoredMedian(ok.map(memObs));
  return {
    ...key,
    n: runs.length,
    n_grokked: grokked.length,
    n_censored: ok.length - grokked.length,
    n_diverged: ok.filter((r) => r.status === "diverged").length,
    n_failed: runs.length - ok.length,
    t_grok_median: fin(mg.value),
    t_grok_median_censored: mg.censored,
    t_grok_median_grokked: fin(median(tg)),
    t_grok_mean: fin(mean(tg)),
    t_grok_sd: fin(sd(tg)),
    t_mem_median: fin(mm.value),
    t_mem_median_censored: mm.censored,
    t_mem_mean: fin(mean(tm)),
    t_mem_sd: fin(sd(tm)),
    wc_median: fin(median(wc)),
    wc_mean: fin(mean(wc)),
    wc_sd: fin(sd(wc)),
    wc_cv: fin(sd(wc) / mean(wc)),
  };
}

// Columns a free run ignores (no intervention): they must not split the free-run pools.
const FREE_IRRELEVANT: ConfigCol[] = ["arm", "rho", "wc_ref", "t_int", "clamp_group"];
const grokkedWc = (runs: readonly Run[]) => runs.filter((r) => r.t_grok !== null && r.wc !== null).map((r) => r.wc!);

/** Wc spread over grokked free seeds pooled across learning rates (and budgets). */
function wcPooled(free: readonly Run[], K: readonly ConfigCol[]): Row[] {
  return groupBy(free, without(K, [...FREE_IRRELEVANT, "lr", "max_steps"])).flatMap(({ key, runs }) => {
    const wc = grokkedWc(runs);
    if (wc.length < 2) return [];
    const lrs = uniq(runs.filter((r) => r.t_grok !== null).map((r) => r.cfg.lr as number));
    return [
      { ...key, lrs, n: wc.length, wc_median: median(wc), wc_mean: mean(wc), wc_sd: sd(wc), wc_cv: sd(wc) / mean(wc) },
    ];
  });
}

/** Wc = c·p^β through per-p Wc (median or mean over grokked seeds) of free runs, one fit per rest-of-key. */
function wcPowerLaw(free: readonly Run[], K: readonly ConfigCol[], o: FitOptions, notes: string[]): Row[] {
  if (!K.includes("p")) {
    if (free.length) notes.push("Wc power law: p is not in the group key (--by)");
    return [];
  }
  const PK = without(K, [...FREE_IRRELEVANT, "p", "max_steps"]);
  return groupBy(free, PK).flatMap(({ key, runs }) => {
    const pts: { p: number; wc: number; n: number }[] = [],
      excluded: number[] = [];
    for (const cell of groupBy(runs, ["p"])) {
      const wc = grokkedWc(cell.runs),
        p = cell.key.p as number;
      if (censoredMedian(cell.runs.map(grokObs)).censored || wc.length === 0) excluded.push(p);
      else pts.push({ p, wc: o.wcStat === "mean" ? mean(wc) : median(wc), n: wc.length });
    }
    if (pts.length < 3) {
      if (pts.length + excluded.length >= 3)
        notes.push(
          `Wc power law ${keyText(key)}: ${pts.length} usable p value(s), need 3` +
            (excluded.length ? ` (median T_grok censored at p=${excluded.join(",")})` : ""),
        );
      return [];
    }
    const f = powerLaw(
      pts.map((x) => x.p),
      pts.map((x) => x.wc),
    );
    return [
      {
        ...key,
        stat: o.wcStat,
        ps: pts.map((x) => x.p),
        wc_per_p: pts.map((x) => x.wc),
        n_per_p: pts.map((x) => x.n),
        excluded_ps: excluded,
        beta: f.beta,
        c: f.c,
        r2: f.r2,
      },
    ];
  });
}

// ---- delay law

interface Cell {
  rho: number;
  obs: Obs[];
}
interface Unit {
  key: Partial<Config>;
  cells: Cell[];
}
interface LineFit {
  alpha: number;
  intercepts: number[];
  r2: number | null;
  sigma?: number;
  loglik?: number;
}

/** The ρ of a unit that enter its fit: OLS takes cells whose median is not censored, MLE every cell. */
const fittedRhos = (u: Unit, o: FitOptions) =>
  uniq(u.cells.filter((c) => o.censored === "mle" || !cellMedian(c.obs, o.median).censored).map((c) => c.rho));
/** A unit is fitted when 3 distinct ρ inform the slope: uncensored medians (OLS), cells with a grokked seed (MLE). */
const informativeRhos = (u: Unit, o: FitOptions) =>
  o.censored === "mle"
    ? uniq(u.cells.filter((c) => c.obs.some((x) => !x.censored)).map((c) => c.rho))
    : fittedRhos(u, o);

/** The estimator: one slope α over ln T_grok vs ρ with an intercept per unit (one unit = per-p fit).
 *  Units with fewer than 3 informative ρ are left out; null when fewer than minUnits remain. */
function estimate(units: readonly Unit[], o: FitOptions, minUnits: number): (LineFit & { used: Unit[] }) | null {
  const used = units.filter((u) => informativeRhos(u, o).length >= 3);
  if (used.length < minUnits || used.length === 0) return null;
  if (o.censored === "excluded") {
    const groups = used.map((u) => {
      const cs = u.cells.filter((c) => !cellMedian(c.obs, o.median).censored);
      return { x: cs.map((c) => c.rho), y: cs.map((c) => Math.log(cellMedian(c.obs, o.median).value)) };
    });
    const f = sharedSlope(groups);
    return { alpha: f.slope, intercepts: f.intercepts, r2: f.r2, used };
  }
  const X: number[][] = [],
    y: number[] = [],
    cens: boolean[] = [];
  used.forEach((u, j) =>
    u.cells.forEach((c) =>
      c.obs.forEach((x) => {
        X.push([c.rho, ...used.map((_, i) => (i === j ? 1 : 0))]);
        y.push(Math.log(x.t));
        cens.push(x.censored);
      }),
    ),
  );
  const t = tobit(X, y, cens);
  return t && { alpha: t.coef[0], intercepts: t.coef.slice(1), r2: null, sigma: t.sigma, loglik: t.loglik, used };
}

/** Stable per-fit stream so that a fit's bootstrap does not depend on which other fits exist. */
function streamOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** alpha_ci, and boot_failed: resamples on which the estimator was undefined (not part of the interval). */
function bootAlpha(
  units: readonly Unit[],
  o: FitOptions,
  minUnits: number,
  tag: string,
): { alpha_ci: [number, number] | null; boot_failed?: number } {
  if (o.boot <= 0) return { alpha_ci: null };
  const rng = new Rng(o.seed, streamOf(tag));
  // seeds are resampled within each ρ cell; the whole estimator (exclusions included) is rerun
  const ci = bootstrapCI(
    o.boot,
    rng,
    (g) =>
      estimate(
        units.map((u) => ({ key: u.key, cells: u.cells.map((c) => ({ rho: c.rho, obs: resample(c.obs, g) })) })),
        o,
        minUnits,
      )?.alpha ?? null,
  );
  return { alpha_ci: ci.nUsed ? [ci.lo, ci.hi] : null, boot_failed: ci.nFailed };
}

const counts = (us: readonly Unit[]) => {
  const obs = us.flatMap((u) => u.cells.flatMap((c) => c.obs));
  return { n_seeds: obs.length, n_censored: obs.filter((x) => x.censored).length };
};

function delayLaw(
  clamp: readonly Run[],
  K: readonly ConfigCol[],
  o: FitOptions,
  notes: string[],
): FitResult["delay_law"] {
  const out: FitResult["delay_law"] = { per_p: [], shared: [] };
  if (!clamp.length) return out;
  if (!K.includes("rho")) {
    notes.push("delay law: rho is not in the group key (--by)");
    return out;
  }
  const inRange = (rho: number) => (o.rhoMin === null || rho >= o.rhoMin) && (o.rhoMax === null || rho <= o.rhoMax);
  const FK = without(K, ["arm", "rho", "max_steps"]);
  // a unit's cells over every ρ (reported, plotted) and the ones in --rho-min/--rho-max (fitted)
  const all: Unit[] = groupBy(clamp, FK).map(({ key, runs }) => ({
    key,
    cells: groupBy(runs, ["rho"]).map((c) => ({ rho: c.key.rho as number, obs: c.runs.map(grokObs) })),
  }));
  const units = all
    .map((u) => ({ key: u.key, cells: u.cells.filter((c) => inRange(c.rho)) }))
    .filter((u) => u.cells.length);
  const method = o.censored === "mle" ? "mle" : "ols";
  for (const u of units) {
    const f = estimate([u], o, 1),
      rhos = uniq(u.cells.map((c) => c.rho)),
      used = fittedRhos(u, o);
    const excluded = rhos.filter((r) => !used.includes(r));
    if (!f) {
      const inf = informativeRhos(u, o),
        missing = rhos.filter((r) => !inf.includes(r));
      notes.push(
        `delay law ${keyText(u.key)}: ${inf.length} usable ρ value(s), need 3` +
          (missing.length
            ? ` (${o.censored === "mle" ? "no grokked seed" : "censored median"} at ρ=${missing.join(",")})`
            : ""),
      );
      continue;
    }
    const cells = all.find((x) => x.key === u.key)!.cells,
      meds = cells.map((c) => cellMedian(c.obs, o.median)); // one cell per ρ
    out.per_p.push({
      ...u.key,
      method,
      alpha: f.alpha,
      intercept: f.intercepts[0],
      r2: f.r2,
      ...bootAlpha([u], o, 1, `per_p ${JSON.stringify(u.key)}`),
      rhos: used,
      excluded_rhos: excluded,
      all_rhos: cells.map((c) => c.rho),
      t_grok_medians: meds.map((m) => fin(m.value)),
      t_grok_medians_censored: meds.map((m) => m.censored),
      ...counts([u]),
      ...(f.sigma !== undefined ? { sigma: f.sigma, loglik: f.loglik } : {}),
    });
  }
  if (!K.includes("p")) return out;
  const SK = without(FK, ["p", "wc_ref"]);
  for (const { key } of groupBy(clamp, SK)) {
    const members = units.filter((u) => SK.every((c) => u.key[c] === key[c]));
    const f = estimate(members, o, 2);
    if (!f) continue;
    out.shared.push({
      ...key,
      method,
      ps: f.used.map((u) => u.key.p as number),
      alpha: f.alpha,
      r2: f.r2,
      ...bootAlpha(members, o, 2, `shared ${JSON.stringify(key)}`),
      intercepts: f.intercepts,
      excluded_ps: members.filter((u) => !f.used.includes(u)).map((u) => u.key.p as number),
      n_units: f.used.length,
      ...counts(f.used),
      ...(f.sigma !== undefined ? { sigma: f.sigma, loglik: f.loglik } : {}),
    });
  }
  return out;
}

// ---- levers

/** For each ρ×lr grid of clamp runs: spread (max/min) of median T_grok along ρ at fixed lr and along lr at fixed ρ. */
function levers(clamp: readonly Run[], K: readonly ConfigCol[], o: FitOptions, notes: string[]): Row[] {
  if (!clamp.length) return [];
  if (!K.includes("rho") || !K.includes("lr")) {
    notes.push("levers: rho and lr must both be in the group key (--by)");
    return [];
  }
  const GK = without(K, ["arm", "rho", "lr", "max_steps"]);
  const rows: Row[] = [];
  for (const { key, runs } of groupBy(clamp, GK)) {
    const cells = groupBy(runs, ["rho", "lr"])
      .map((c) => {
        const obs = c.runs.map(grokObs),
          m = cellMedian(obs, o.median);
        return {
          rho: c.key.rho as number,
          lr: c.key.lr as number,
          value: m.value,
          bound: m.censored,
          nc: obs.filter((x) => x.censored).length,
        };
      })
      .filter((c) => Number.isFinite(c.value));
    if (uniq(cells.map((c) => c.rho)).length < 2 || uniq(cells.map((c) => c.lr)).length < 2) continue;
    for (const [along, fixed] of [
      ["rho", "lr"],
      ["lr", "rho"],
    ] as const) {
      for (const v of uniq(cells.map((c) => c[fixed]))) {
        const line = cells.filter((c) => c[fixed] === v);
        if (line.length < 2) continue;
        const lo = line.reduce((a, c) => (c.value < a.value ? c : a)),
          hi = line.reduce((a, c) => (c.value > a.value ? c : a));
        rows.push({
          ...key,
          along,
          [fixed]: v,
          min: lo.value,
          max: hi.value,
          ratio: hi.value / lo.value,
          [`${along}_at_min`]: lo[along],
          [`${along}_at_max`]: hi[along],
          bound: lo.bound || hi.bound,
          n_censored_min: lo.nc,
          n_censored_max: hi.nc,
          n_cells: line.length,
        });
      }
    }
  }
  if (!rows.length) notes.push("levers: no clamp grid with ≥ 2 ρ and ≥ 2 learning rates");
  return rows;
}

// ---- fits.arrow: one tidy table, one row per entry of every JSON list, tagged by `section`

export const SECTIONS = {
  group: (f: FitResult) => f.groups,
  wc_cv_pooled: (f: FitResult) => f.wc_cv_pooled,
  wc_power_law: (f: FitResult) => f.wc_power_law,
  delay_per_p: (f: FitResult) => f.delay_law.per_p,
  delay_shared: (f: FitResult) => f.delay_law.shared,
  lever: (f: FitResult) => f.levers,
} as const;
const f64 = () => new Float64(),
  i32 = () => new Int32(),
  bool = () => new Bool(),
  utf8 = () => new Utf8();
const list = (t: () => DataType) => () => new List(new Field("item", t(), true));
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
  ["lrs", list(f64)],
  ["stat", utf8],
  ["ps", list(f64)],
  ["wc_per_p", list(f64)],
  ["n_per_p", list(i32)],
  ["excluded_ps", list(f64)],
  ["beta", f64],
  ["c", f64],
  ["method", utf8],
  ["alpha", f64],
  ["intercept", f64],
  ["intercepts", list(f64)],
  ["r2", f64],
  ["alpha_ci", list(f64)],
  ["boot_failed", i32],
  ["rhos", list(f64)],
  ["excluded_rhos", list(f64)],
  ["all_rhos", list(f64)],
  ["t_grok_medians", list(f64)],
  ["t_grok_medians_censored", list(bool)],
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
