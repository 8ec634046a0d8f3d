// What fit needs of the free runs' curves, read batch by batch (memory does not grow with the curves): Wc at
// other test-accuracy thresholds, and the decay of V = ‖W‖² between T_mem and T_grok (src/fit/passage.ts).
import { existsSync } from "node:fs";
import { batches } from "../store.js";
import { runsSources, Run } from "./read.js";
import { usable } from "./group.js";
import { THRESHOLDS } from "../option-values.js";

/** The test-accuracy thresholds at which Wc is re-derived (the paper: Wc moves < 2 % across them). */
export { THRESHOLDS };

export interface Trace {
  /** ‖W‖ at the first logged step with test accuracy ≥ THRESHOLDS[i] (null: never reached) */
  wcAt: (number | null)[];
  /** least-squares sums of (step t, ln V(t)) over the logged steps T_mem ≤ t ≤ T_grok */
  n: number;
  st: number;
  sy: number;
  stt: number;
  sty: number;
  syy: number;
  vMem: number | null; // V at T_mem
  vStar: number | null; // V at T_grok (Wc²)
}

/** The runs whose curves the analyses read: free, not failed, grokked after memorizing. */
export const traced = (r: Run) => r.cfg.arm === "free" && usable(r) && r.t_grok !== null && r.t_mem !== null;

const empty = (): Trace & { firstAt: number[] } => ({
  wcAt: THRESHOLDS.map(() => null),
  firstAt: THRESHOLDS.map(() => Infinity),
  n: 0,
  st: 0,
  sy: 0,
  stt: 0,
  sty: 0,
  syy: 0,
  vMem: null,
  vStar: null,
});

/** The traces of the runs `traced` selects, by run, from the curves file beside each run's runs file. */
export async function readTraces(input: string, runs: readonly Run[]): Promise<Map<Run, Trace>> {
  const out = new Map<Run, Trace & { firstAt: number[] }>();
  for (const { runs: file, curves } of runsSources(input)) {
    const want = new Map(runs.filter((r) => r.file === file && traced(r)).map((r) => [r.run_id, r]));
    if (!want.size || curves === null || !existsSync(curves)) continue;
    for await (const b of batches(curves)) {
      const id = b.getChild("run_id")!.toArray() as Int32Array,
        step = b.getChild("step")!.toArray() as Int32Array,
        acc = b.getChild("test_acc")!,
        wn = b.getChild("weight_norm")!;
      for (let i = 0; i < b.numRows; i++) {
        const r = want.get(id[i]);
        if (!r) continue;
        const w = wn.get(i) as number | null,
          a = acc.get(i) as number | null,
          t = step[i];
        if (w === null) continue;
        if (!out.has(r)) out.set(r, empty());
        const tr = out.get(r)!;
        // first crossing by step, so the order of the rows does not matter
        THRESHOLDS.forEach((th, k) => {
          if (a !== null && a >= th && t < tr.firstAt[k]) [tr.firstAt[k], tr.wcAt[k]] = [t, w];
        });
        if (t < r.t_mem! || t > r.t_grok! || w <= 0) continue;
        const y = Math.log(w * w);
        tr.n++;
        tr.st += t;
        tr.sy += y;
        tr.stt += t * t;
        tr.sty += t * y;
        tr.syy += y * y;
        if (t === r.t_mem) tr.vMem = w * w;
        if (t === r.t_grok) tr.vStar = w * w;
      }
    }
  }
  return out;
}
