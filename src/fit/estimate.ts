// Estimation for `groksweep fit`: the options, the result every output shape is written from, and
// fit() — per-configuration summaries, then the Wc statistics, the delay law and the lever ratios.
import { censoredMedian, median, mean, sd } from "../stats.js";
import { CONFIG_COLUMNS, ConfigCol, Run } from "./read.js";
import { Group, MedianConvention, groupBy, usable, grokObs, memObs, fin } from "./group.js";
import { wcPooled, wcPowerLaw } from "./wc.js";
import { delayLaw } from "./delay.js";
import { levers } from "./levers.js";
import { knees } from "./knee.js";
import { wcThreshold, firstPassage } from "./passage.js";
import type { Trace } from "./traces.js";
import { phaseCounts, PHASE_GAP } from "./phase.js";
import { sampleThreshold } from "./threshold.js";

export interface FitOptions {
  by: ConfigCol[] | null;
  median: MedianConvention;
  censored: "excluded" | "mle";
  rhoMin: number | null;
  rhoMax: number | null;
  boot: number;
  seed: number;
  wcStat: "median" | "mean";
  /** --phase-gap: T_grok − T_mem above which a run groks rather than comprehends (src/fit/phase.ts) */
  phaseGap: number;
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
  phaseGap: PHASE_GAP,
};

export type Row = Record<string, unknown>;
export interface FitResult {
  n_runs: number;
  median: MedianConvention;
  censoring: "excluded" | "mle";
  rho_min: number | null;
  rho_max: number | null;
  boot: number;
  seed: number;
  wc_stat: "median" | "mean";
  phase_gap: number;
  groups: Row[];
  wc_cv_pooled: Row[];
  wc_power_law: Row[];
  delay_law: { per_p: Row[]; shared: Row[] };
  levers: Row[];
  /** the delay law's log-linear low-ρ window and the cells above it (src/fit/knee.ts) */
  delay_knee: Row[];
  /** from the free runs' curves (src/fit/passage.ts; empty without curves) */
  wc_threshold: Row[];
  first_passage: Row[];
  /** Tian's n_c(M) = C·M ln M over sweeps of frac and the group order (src/fit/threshold.ts) */
  sample_threshold: Row[];
  notes: string[];
}

/** `traces`: what the analyses of curves need of each free run (src/fit/traces.ts readTraces). */
export function fit(runs: readonly Run[], o: FitOptions, traces = new Map<Run, Trace>()): FitResult {
  const K = o.by ?? [...CONFIG_COLUMNS];
  const notes: string[] = [];
  const nFailed = runs.filter((r) => !usable(r)).length;
  if (nFailed)
    notes.push(`${nFailed} failed run(s) (engine error) are counted in n_failed and left out of every statistic`);
  const free = runs.filter((r) => r.cfg.arm === "free" && usable(r));
  const clamp = runs.filter((r) => r.cfg.arm === "clamp" && usable(r));
  const delay_law = delayLaw(clamp, K, o, notes);
  return {
    n_runs: runs.length,
    median: o.median,
    censoring: o.censored,
    rho_min: o.rhoMin,
    rho_max: o.rhoMax,
    boot: o.boot,
    seed: o.seed,
    wc_stat: o.wcStat,
    phase_gap: o.phaseGap,
    groups: groupBy(runs, K).map((g) => groupRow(g, o.phaseGap)),
    wc_cv_pooled: wcPooled(free, K),
    wc_power_law: wcPowerLaw(free, K, o, notes),
    delay_law,
    levers: levers(clamp, K, o, notes),
    delay_knee: knees(delay_law.per_p, notes),
    wc_threshold: wcThreshold(free, K, traces),
    first_passage: firstPassage(free, K, traces, notes),
    sample_threshold: sampleThreshold(runs, K, o, notes),
    notes,
  };
}

function groupRow({ key, runs }: Group, gap: number): Row {
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
    ...phaseCounts(ok, gap),
  };
}
