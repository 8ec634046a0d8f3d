// The delay law of `groksweep fit`: ln T_grok = intercept + α·ρ over the clamp runs, per p and with
// one α shared across p, by OLS on cell medians or a Tobit MLE on seeds, with bootstrap intervals.
import { Rng } from "../rng.js";
import { Obs, sharedSlope, bootstrapCI, resample, tobit } from "../stats.js";
import { Config, ConfigCol, Run } from "./read.js";
import { groupBy, without, grokObs, cellMedian, fin, uniq, keyText, dFollowsP, poolD } from "./group.js";
import type { FitOptions, FitResult } from "./estimate.js";

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

export function delayLaw(
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
  const pooled = units.map((u) => poolD(u.key));
  for (const { key } of groupBy(clamp.map(dFollowsP), SK)) {
    const members = units.filter((u, i) => SK.every((c) => pooled[i][c] === key[c]));
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
