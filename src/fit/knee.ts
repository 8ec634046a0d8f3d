// The knee of the delay law (docs/analysis.md): the largest contiguous window of ρ over which ln T_grok is
// linear in ρ (R² ≥ KNEE_R2; of equal ones the lowest), and how far the cells above it fall from that line.
import { ols } from "../stats.js";
import { fin } from "./group.js";
import { CONFIG_COLUMNS } from "./read.js";
import type { Row } from "./estimate.js";

export const KNEE_R2 = 0.995;

/** One row per per-p delay-law row, from its cell medians over every ρ (censored medians end the window). */
export function knees(perP: readonly Row[], notes: string[]): Row[] {
  const rows: Row[] = [];
  for (const f of perP) {
    const rhos = f.all_rhos as number[],
      meds = f.t_grok_medians as (number | null)[],
      cens = f.t_grok_medians_censored as boolean[];
    // cells in ρ order; a window holds only observed (uncensored) medians
    const cells = rhos.map((rho, i) => ({ rho, t: meds[i], c: cens[i] })).sort((a, b) => a.rho - b.rho);
    const ok = (c: (typeof cells)[number]) => c.t !== null && !c.c;
    let best: ReturnType<typeof ols> | null = null,
      lo = 0,
      n = 0;
    for (let a = 0; a < cells.length; a++) {
      for (let m = 3; a + m <= cells.length && cells.slice(a, a + m).every(ok); m++) {
        const w = cells.slice(a, a + m);
        const line = ols(
          w.map((c) => c.rho),
          w.map((c) => Math.log(c.t!)),
        );
        if (line.r2 >= KNEE_R2 && m > n) [best, lo, n] = [line, a, m];
      }
    }
    const base = Object.fromEntries(CONFIG_COLUMNS.filter((c) => c in f).map((c) => [c, f[c]]));
    if (!best) {
      notes.push(`delay-law knee ${JSON.stringify(base)}: no window of ≥ 3 ρ with R² ≥ ${KNEE_R2}`);
      continue;
    }
    const line = best,
      above = cells.slice(lo + n);
    rows.push({
      ...base,
      knee_window: cells.slice(lo, lo + n).map((c) => c.rho),
      knee_alpha: line.slope,
      knee_r2: line.r2,
      knee_rho: above.length ? above[0].rho : null,
      knee_above: above.map((c) => c.rho),
      // observed / extrapolated T_grok above the window (a censored median: a lower bound)
      knee_ratio: above.map((c) => (c.t === null ? null : fin(c.t / Math.exp(line.intercept + line.slope * c.rho)))),
    });
  }
  return rows;
}
