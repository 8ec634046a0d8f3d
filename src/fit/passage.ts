// Two analyses of the free runs' curves (docs/analysis.md): how much Wc moves when T_grok is defined at
// another test-accuracy threshold, and the first-passage law of the decay of V = ‖W‖² after memorization,
// T_grok − T_mem ≈ ln(V_mem / V*) / (2κηλ), with κ from a log-linear fit of V between T_mem and T_grok.
import { median } from "../stats.js";
import { ConfigCol, Run } from "./read.js";
import { groupBy, fin } from "./group.js";
import { THRESHOLDS, Trace, traced } from "./traces.js";
import type { Row } from "./estimate.js";

/** Per configuration: the median Wc at each threshold over the grokked free seeds that reach it, and its
 *  relative change from the median Wc at the runs' own threshold (grok_acc). */
export function wcThreshold(free: readonly Run[], K: readonly ConfigCol[], traces: Map<Run, Trace>): Row[] {
  const rows: Row[] = [];
  for (const { key, runs } of groupBy(free.filter(traced), K)) {
    const ts = runs.map((r) => traces.get(r)).filter((t) => t !== undefined);
    if (!ts.length) continue;
    const own = median(runs.filter((r) => r.wc !== null).map((r) => r.wc!));
    const at = THRESHOLDS.map((_, k) => ts.map((t) => t.wcAt[k]).filter((x) => x !== null));
    const wc = at.map((xs) => (xs.length ? median(xs) : NaN));
    rows.push({
      ...key,
      n: runs.length,
      thresholds: THRESHOLDS,
      wc_at: wc.map(fin),
      n_at: at.map((xs) => xs.length),
      wc_rel_change: wc.map((x) => fin(x / own - 1)),
    });
  }
  return rows;
}

/** κ of one run: the slope s of ln V on t over T_mem … T_grok is −2κηλ. null with < 3 points or without
 *  weight decay; κ ≤ 0 when V does not fall. */
export function kappaOf(t: Trace, lr: number, wd: number): { kappa: number; r2: number } | null {
  const den = t.n * t.stt - t.st * t.st;
  if (t.n < 3 || den <= 0 || !(lr > 0) || !(wd > 0)) return null;
  const s = (t.n * t.sty - t.st * t.sy) / den;
  const syy = t.n * t.syy - t.sy * t.sy;
  const r2 = syy > 0 ? (t.n * t.sty - t.st * t.sy) ** 2 / (den * syy) : 1;
  return { kappa: -s / (2 * lr * wd), r2 };
}

/** Per configuration: median κ, V_mem and V*, and the median delay T_grok − T_mem observed and predicted from
 *  each run's V_mem and η, λ with the configuration's median κ and V*, over the runs whose V decays (V* < V_mem
 *  and κ > 0). Runs where V does not decay are left out of every median (`n_no_decay`; the law does not apply,
 *  its prediction would be ≤ 0 or undefined), with a note; a configuration with none left has null medians. */
export function firstPassage(
  free: readonly Run[],
  K: readonly ConfigCol[],
  traces: Map<Run, Trace>,
  notes: string[] = [],
): Row[] {
  const rows: Row[] = [];
  const ratios: number[] = []; // V*/V_mem of the runs left out
  let all = 0,
    configs = 0;
  for (const { key, runs } of groupBy(free.filter(traced), K)) {
    const measured = runs.flatMap((r) => {
      const t = traces.get(r),
        k = t && kappaOf(t, r.cfg.lr as number, r.cfg.wd as number);
      return t && k && t.vMem !== null && t.vStar !== null ? [{ r, t, ...k }] : [];
    });
    if (!measured.length) continue;
    const decays = (f: (typeof measured)[number]) => f.kappa > 0 && f.t.vMem! > f.t.vStar!;
    const fits = measured.filter(decays);
    const kappa = median(fits.map((f) => f.kappa)),
      vStar = median(fits.map((f) => f.t.vStar!));
    const predicted = fits.map(
      (f) => Math.log(f.t.vMem! / vStar) / (2 * kappa * (f.r.cfg.lr as number) * (f.r.cfg.wd as number)),
    );
    rows.push({
      ...key,
      n: fits.length,
      kappa: fin(kappa),
      v_mem: fin(median(fits.map((f) => f.t.vMem!))),
      v_star: fin(vStar),
      passage_r2: fin(median(fits.map((f) => f.r2))),
      delay_observed: fin(median(fits.map((f) => f.r.t_grok! - f.r.t_mem!))),
      delay_predicted: fin(median(predicted)),
      n_no_decay: measured.length - fits.length,
    });
    all += measured.length;
    for (const f of measured) if (!decays(f)) ratios.push(f.t.vStar! / f.t.vMem!);
    if (fits.length < measured.length) configs++;
  }
  if (ratios.length)
    notes.push(
      `first passage: ${ratios.length} of ${all} run(s) in ${configs} configuration(s) left out (n_no_decay): ` +
        "‖W‖² does not decay from T_mem to T_grok (V* ≥ V_mem, or ln V rises; their median V*/V_mem is " +
        `${median(ratios).toFixed(2)}), so the decay law does not apply; a configuration without other runs has ` +
        "null medians",
    );
  return rows;
}
