// Liu et al.'s phases (2022, "Towards Understanding Grokking: An Effective Theory of Representation
// Learning"), each run's from its own T_mem and T_grok (docs/analysis.md): comprehension, grokking,
// memorization, confusion; counted per configuration, and the majority phase the report's diagram shows.
import type { Run } from "./read.js";
import type { Row } from "./estimate.js";

export const PHASES = ["comprehension", "grokking", "memorization", "confusion"] as const;
export type Phase = (typeof PHASES)[number];
/** --phase-gap's default: Liu et al.'s 10³ steps between fitting the train set and generalizing. */
export const PHASE_GAP = 1000;

/** A run's phase, or null when it has none (failed, diverged). Budgets censor: a run that does not reach
 *  T_mem within max_steps is confused, one that reaches T_mem but not T_grok memorizes. */
export function phaseOf(r: Run, gap: number): Phase | null {
  if (r.status === "failed" || r.status === "diverged") return null;
  if (r.t_mem === null) return r.t_grok === null ? "confusion" : "comprehension";
  if (r.t_grok === null) return "memorization";
  return r.t_grok - r.t_mem > gap ? "grokking" : "comprehension";
}

/** Counts by phase of a group's runs, and its majority phase (ties: the earlier in PHASES). */
export function phaseCounts(runs: readonly Run[], gap: number): Row {
  const n = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  for (const r of runs) {
    const p = phaseOf(r, gap);
    if (p) n[p]++;
  }
  const top = PHASES.reduce((a, b) => (n[b] > n[a] ? b : a));
  return { ...Object.fromEntries(PHASES.map((p) => [`n_${p}`, n[p]])), phase: n[top] > 0 ? top : null };
}
