// The Wc statistics of `groksweep fit`: its spread over grokked free seeds, and its power law in p.
import { median, mean, sd, powerLaw, censoredMedian } from "../stats.js";
import { ConfigCol, Run } from "./read.js";
import { groupBy, without, grokObs, uniq, keyText, dFollowsP } from "./group.js";
import type { FitOptions, Row } from "./estimate.js";

// Columns a free run ignores (no intervention): they must not split the free-run pools.
const FREE_IRRELEVANT: ConfigCol[] = ["arm", "rho", "wc_ref", "t_int", "clamp_group"];
const grokkedWc = (runs: readonly Run[]) => runs.filter((r) => r.t_grok !== null && r.wc !== null).map((r) => r.wc!);

/** Wc spread over grokked free seeds pooled across learning rates (and budgets). */
export function wcPooled(free: readonly Run[], K: readonly ConfigCol[]): Row[] {
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
export function wcPowerLaw(free: readonly Run[], K: readonly ConfigCol[], o: FitOptions, notes: string[]): Row[] {
  if (!K.includes("p")) {
    if (free.length) notes.push("Wc power law: p is not in the group key (--by)");
    return [];
  }
  const PK = without(K, [...FREE_IRRELEVANT, "p", "max_steps"]);
  return groupBy(free.map(dFollowsP), PK).flatMap(({ key, runs }) => {
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
