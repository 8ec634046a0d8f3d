// Tian's sample threshold (2025, Li²): for sweeps over the train size and the group order M, n_c(M) = the
// smallest n_train at which at least half the seeds grok, fitted to n_c = C·M ln M through the origin,
// with a bootstrap interval for C (seeds resampled within each cell). docs/analysis.md.
import { Rng } from "../rng.js";
import { bootstrapCI, resample } from "../stats.js";
import { trainSize } from "../task.js";
import { ConfigCol, Run } from "./read.js";
import { groupBy, without, usable, dFollowsP } from "./group.js";
import type { FitOptions, Row } from "./estimate.js";

const nTrain = (r: Run) => trainSize(r.cfg.op as string, r.cfg.p as number, r.cfg.frac as number);
/** The group family of an op: M varies within it (sym:4 and sym:5 share a family, base ops are one each). */
const family = (op: string) => /^(sym|dih):/.exec(op)?.[1] ?? op;

type Cells = { n: number; grokked: boolean[] }[]; // one per n_train, ascending

/** n_c of one M: the smallest n_train whose seeds grok at least half the time; null if none does. */
const threshold = (cells: Cells) =>
  cells.find((c) => 2 * c.grokked.filter(Boolean).length >= c.grokked.length)?.n ?? null;

/** C of n_c = C·M ln M through the origin over the Ms with a threshold; null with fewer than 2. */
function fitC(ms: number[], nc: (number | null)[]): number | null {
  let sxy = 0,
    sxx = 0,
    k = 0;
  ms.forEach((m, i) => {
    if (nc[i] === null) return;
    const x = m * Math.log(m);
    sxy += x * nc[i]!;
    sxx += x * x;
    k++;
  });
  return k >= 2 ? sxy / sxx : null;
}

export function sampleThreshold(runs: readonly Run[], K: readonly ConfigCol[], o: FitOptions, notes: string[]): Row[] {
  if (!K.includes("frac") || !K.includes("p")) return [];
  const rows: Row[] = [];
  const SK = without(K, ["frac", "p", "op", "max_steps"]);
  const ok = runs.filter((r) => usable(r) && r.cfg.task === "modular").map(dFollowsP);
  for (const { key, runs: rs } of groupBy(ok, SK)) {
    for (const fam of [...new Set(rs.map((r) => family(r.cfg.op as string)))].sort()) {
      const byM = groupBy(
        rs.filter((r) => family(r.cfg.op as string) === fam),
        ["p"],
      );
      const ms = byM.map((g) => g.key.p as number);
      const cells: Cells[] = byM.map((g) =>
        groupBy(g.runs, ["frac"])
          .map((c) => ({ n: nTrain(c.runs[0]), grokked: c.runs.map((r) => r.t_grok !== null) }))
          .sort((a, b) => a.n - b.n),
      );
      if (ms.length < 2 || cells.every((c) => c.length < 2)) continue; // not a sweep over M and n_train
      const nc = cells.map(threshold),
        C = fitC(ms, nc);
      if (C === null) {
        notes.push(`sample threshold ${fam} ${JSON.stringify(key)}: n_c known for fewer than 2 group orders`);
        continue;
      }
      const ci =
        o.boot > 0
          ? bootstrapCI(o.boot, new Rng(o.seed, 0x11c2), (g) =>
              fitC(
                ms,
                cells.map((cs) => threshold(cs.map((c) => ({ n: c.n, grokked: resample(c.grokked, g) })))),
              ),
            )
          : null;
      rows.push({
        ...key,
        family: fam,
        ms,
        n_c: nc,
        c_per_m: nc.map((n, i) => (n === null ? null : n / (ms[i] * Math.log(ms[i])))),
        c: C,
        c_ci: ci && ci.nUsed ? [ci.lo, ci.hi] : null,
        boot_failed: ci?.nFailed ?? 0,
        n_cells: cells.reduce((a, c) => a + c.length, 0),
      });
    }
  }
  return rows;
}
