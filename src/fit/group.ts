// Configurations and their cells for `groksweep fit`: runs grouped by config columns, each run's
// outcome as a censored observation, and the cell median every estimator shares.
import { Obs, CensoredMedian, censoredMedian, median } from "../stats.js";
import { Run, Config, ConfigCol, Value } from "./read.js";

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

/** A tian run's d is its one-hot width, p itself (option-table.ts), so the sections that pool over p (the Wc power
 *  law, the shared delay law, the sample threshold) must pool over it too: a configuration (or a group key) with
 *  d null there, for their keys; dFollowsP: the run with that configuration. */
export const poolD = <C extends Partial<Config>>(c: C): C => (c.model === "tian" ? { ...c, d: null } : c);
export const dFollowsP = (r: Run): Run => (r.cfg.model === "tian" ? { ...r, cfg: poolD(r.cfg) } : r);

/** The group key less the columns an estimator pools over or fits along. */
export const without = (cols: readonly ConfigCol[], drop: readonly ConfigCol[]) =>
  cols.filter((c) => !drop.includes(c));

// ---- per-run outcomes

export const usable = (r: Run) => r.status !== "failed"; // an engine error says nothing about grokking
/** T_grok as a censored outcome: a run that did not grok (censored or diverged) exceeds its budget. */
export const grokObs = (r: Run): Obs =>
  r.t_grok !== null ? { t: r.t_grok, censored: false } : { t: r.max_steps, censored: true };
export const memObs = (r: Run): Obs =>
  r.t_mem !== null ? { t: r.t_mem, censored: false } : { t: r.max_steps, censored: true };

export type MedianConvention = "all" | "grokked";

/**
 * The cell median used by the fits. "all": censored seeds count as +∞ (value is a lower bound when
 * censored); "grokked": median of the grokked seeds only (the paper's Table 1; biased low under
 * censoring). `censored` follows the order-statistic rule in both conventions and decides exclusion
 * from the fits.
 */
export function cellMedian(obs: readonly Obs[], conv: MedianConvention): CensoredMedian {
  const m = censoredMedian(obs);
  if (conv === "all") return m;
  return { value: median(obs.filter((o) => !o.censored).map((o) => o.t)), censored: m.censored };
}

// ---- small helpers

/** null for a statistic that is not finite (an empty or single-seed cell): JSON has no NaN or ∞. */
export const fin = (x: number | null | undefined) => (x !== null && x !== undefined && Number.isFinite(x) ? x : null);
/** The distinct values, ascending. */
export const uniq = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
/** A group key as `col=value …`, for notes. */
export const keyText = (key: Partial<Config>) =>
  Object.entries(key)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
