// The lever ratios of `groksweep fit`: how far median T_grok moves along ρ and along lr on a clamp grid.
import { ConfigCol, Run } from "./read.js";
import { groupBy, without, grokObs, cellMedian, uniq } from "./group.js";
import type { FitOptions, Row } from "./estimate.js";

/** For each ρ×lr grid of clamp runs: spread (max/min) of median T_grok along ρ at fixed lr and along lr at fixed ρ. */
export function levers(clamp: readonly Run[], K: readonly ConfigCol[], o: FitOptions, notes: string[]): Row[] {
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
