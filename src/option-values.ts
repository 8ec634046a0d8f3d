// The option values that are small languages (schedules, filters, step lists), parsed into what the kernels
// and the training loop take; each throws the UsageError that names its flag.
import { roundHalfEven } from "./task.js";
import { OBSERVABLES, Observable } from "./observe.js";
import { UsageError, MAX_INT } from "./validate.js";
import { WdSchedule, Grokfast } from "./codes.js";

/** [kind, s0, s1] for the kernels: const → constant; step:S → step, S, S; ramp:S0:S1 → ramp, S0, S1 (S0 < S1). */
export function wdSchedule(spec: string): [WdSchedule, number, number] {
  if (spec === "const") return [WdSchedule.constant, 0, 0];
  let m = /^step:(\d+)$/.exec(spec);
  if (m && +m[1] <= MAX_INT) return [WdSchedule.step, +m[1], +m[1]];
  m = /^ramp:(\d+):(\d+)$/.exec(spec);
  if (m && +m[1] < +m[2] && +m[2] <= MAX_INT) return [WdSchedule.ramp, +m[1], +m[2]];
  throw new UsageError("--wd-schedule", spec, "const, step:S or ramp:S0:S1 with S0 < S1");
}

/** --grokfast: none, ema:α:λ (0 ≤ α < 1) or ma:w:λ (1 ≤ w ≤ 1000), λ ≥ 0 (assembly/grokfast.ts). */
export function grokfast(spec: string): [Grokfast, number, number] {
  if (spec === "none") return [Grokfast.none, 0, 0];
  const m = /^(ema|ma):([^:]+):([^:]+)$/.exec(spec);
  const x = m ? Number(m[2]) : NaN,
    l = m ? Number(m[3]) : NaN;
  if (m && l >= 0 && Number.isFinite(l)) {
    if (m[1] === "ema" && x >= 0 && x < 1) return [Grokfast.ema, x, l];
    if (m[1] === "ma" && Number.isInteger(x) && x >= 1 && x <= 1000) return [Grokfast.ma, x, l];
  }
  const want = "none, ema:α:λ (0 ≤ α < 1, λ ≥ 0) or ma:w:λ (w in [1, 1000], λ ≥ 0)";
  throw new UsageError("--grokfast", spec, want);
}

/** Logged steps: geom:N = {0} ∪ round(max^(i/(N−1))), i < N (the reference grid); every:K = 0, K, 2K, …, max. */
export function logGrid(spec: string, maxSteps: number): number[] {
  const m = /^(geom|every):(\d+)$/.exec(spec);
  const n = m ? Number(m[2]) : NaN;
  if (!m || (m[1] === "geom" && n < 2) || (m[1] === "every" && n < 1)) {
    throw new UsageError("--log", spec, "geom:N (N ≥ 2) or every:K (K ≥ 1)");
  }
  const steps = new Set<number>([0, maxSteps]);
  if (m[1] === "geom") {
    for (let i = 0; i < n; i++) steps.add(roundHalfEven(maxSteps ** (i / (n - 1))));
  } else {
    for (let s = 0; s <= maxSteps; s += n) steps.add(s);
  }
  return [...steps].filter((s) => s <= maxSteps).sort((a, b) => a - b);
}

export function parseObserve(v: unknown): Observable[] {
  if (v === undefined || v === "" || v === "none") return [];
  const parts = Array.isArray(v)
    ? v.map(String)
    : String(v)
        .split(",")
        .map((x) => x.trim());
  if (!parts.every((x) => (OBSERVABLES as readonly string[]).includes(x)))
    throw new UsageError("--observe", v, `a comma-separated subset of ${OBSERVABLES.join(",")}`);
  return OBSERVABLES.filter((o) => parts.includes(o));
}

export function parseSteps(v: unknown, maxSteps: number): number[] {
  if (v === undefined || v === "") return [];
  const parts = Array.isArray(v) ? v : String(v).split(",");
  const steps = parts.map((s) => (typeof s === "number" ? s : String(s).trim() === "" ? NaN : Number(s)));
  if (!steps.every((s) => Number.isInteger(s) && s >= 0 && s <= maxSteps)) {
    throw new UsageError("--save-params", v, `comma-separated steps in [0, --max-steps=${maxSteps}]`);
  }
  return [...new Set(steps)].sort((a, b) => a - b);
}

/** --key-freqs: distinct integers in [1, ⌊p/2⌋], ascending. */
export function parseFreqs(v: unknown, p: number): number[] {
  if (v === undefined || v === "") return [];
  const ks = (Array.isArray(v) ? v : String(v).split(",")).map((x) => Number(x));
  if (!ks.every((k) => Number.isInteger(k) && k >= 1 && k <= Math.floor(p / 2)))
    throw new UsageError("--key-freqs", v, `comma-separated frequencies in [1, ${Math.floor(p / 2)}]`);
  return [...new Set(ks)].sort((a, b) => a - b);
}

/** Fit's test-accuracy thresholds for Wc (src/fit/traces.ts): --curves events keeps the rows where they are crossed. */
export const THRESHOLDS = [0.8, 0.9, 0.95];

/** --curves: full | none | events[:K[:M]] (K rows either side of each event, every M-th row; src/run.ts). */
export function curvesMode(spec: string): "full" | "none" | { k: number; m: number } {
  if (spec === "full" || spec === "none") return spec;
  const m = /^events(?::(\d+)(?::(\d+))?)?$/.exec(spec);
  const [k, every] = [Number(m?.[1] ?? 3), Number(m?.[2] ?? 10)];
  if (!m || !(every >= 1) || k > MAX_INT || every > MAX_INT)
    throw new UsageError("--curves", spec, "full, none or events[:K[:M]] (K ≥ 0, M ≥ 1)");
  return { k, m: every };
}
