// The control gate of a sweep: a run with "wc: measure" waits until every free run with its control
// key is done, then trains at the median Wc of those that grokked (of its clamp group), or fails when
// none grokked. Pure and synchronous: the sweep says what finished, the gate answers what may start.
import { median } from "./stats.js";
import { controlKey, SweepRun } from "./spec.js";
import type { WcByGroup } from "./store.js";

/** A dependent run let through the gate: with its measured wc in cfg.wc, or the reason it cannot run. */
export type Release = { run: SweepRun; error?: undefined } | { run: SweepRun; error: string };

export class ControlGate {
  private readonly grokked = new Map<string, WcByGroup[]>(); // control key → Wc of its grokked free runs
  private readonly pending = new Map<string, number>(); // control key → its free runs still to finish here
  private readonly waiting = new Map<string, SweepRun[]>(); // control key → dependent runs not yet released

  /** `todo`: the runs this invocation trains. Its free runs are the controls to wait for, its "wc: measure"
   *  runs the dependents; taken in run_id order, which fixes the order of release. */
  constructor(todo: readonly SweepRun[]) {
    for (const r of [...todo].sort((a, b) => a.runId - b.runId)) {
      if (r.base.arm === "free") {
        const key = controlKey(r.base);
        this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
      }
      if (r.measure) {
        if (!this.waiting.has(r.measure)) this.waiting.set(r.measure, []);
        this.waiting.get(r.measure)!.push(r);
      }
    }
  }

  /** A control's result from before this invocation (this directory, --wc-from): nothing to wait for. */
  known(key: string, status: unknown, wc: WcByGroup): void {
    if (status !== "grokked" || typeof wc.all !== "number") return;
    if (!this.grokked.has(key)) this.grokked.set(key, []);
    this.grokked.get(key)!.push(wc);
  }

  /** A run of `todo` is done; `result` is null when it failed in its worker. Only free runs matter here. */
  finished(run: SweepRun, result: { status: unknown; wc: WcByGroup } | null): void {
    if (run.base.arm !== "free") return;
    const key = controlKey(run.base);
    if (result) this.known(key, result.status, result.wc);
    this.pending.set(key, (this.pending.get(key) ?? 1) - 1);
  }

  /** The dependents whose controls are now all done, each released once: keys in the order of their first
   *  dependent, runs in run_id order. */
  release(): Release[] {
    const out: Release[] = [];
    for (const [key, deps] of this.waiting) {
      if ((this.pending.get(key) ?? 0) > 0) continue;
      this.waiting.delete(key);
      const wcs = this.grokked.get(key) ?? [];
      for (const run of deps) {
        const g = run.cfg.clampGroup,
          vals = wcs.map((w) => w[g]).filter((x): x is number => typeof x === "number");
        if (vals.length) out.push({ run: run.at(median(vals)) });
        else {
          const of = g === "all" ? "" : ` of group ${g}`;
          out.push({ run, error: `wc: measure: no free control with ${key} grokked, so Wc${of} is unknown` });
        }
      }
    }
    return out;
  }
}
