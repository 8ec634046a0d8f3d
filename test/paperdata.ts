// Fixtures from the paper's released per-seed results (../shared/paper-data/released-runs.json):
// one runs.arrow per experiment, one row per seed, written with the engine's own schema.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { schemaOf, batchOf, writeTables } from "../src/arrow.js";
import { RUN_COLUMNS, RunRow } from "../src/columns.js";
import { DEFAULTS } from "../src/options.js";
import type { RunResult } from "../src/run.js";
import { ROOT } from "./helpers.js";

export const PAPER_DATA = resolve(ROOT, "..", "shared", "paper-data", "released-runs.json");
export const havePaperData = existsSync(PAPER_DATA);

export interface PaperConfig {
  experiment: "grokfss" | "efflr" | "denserho" | "pscan";
  p: number;
  frac: number;
  d: number;
  H: number;
  lr: number;
  wd: number;
  arm: "free" | "clamp";
  rho: number;
  wc_ref: number | null;
  t_int: number | null;
  max_steps: number;
  t_grok: (number | null)[];
  t_mem: (number | null)[];
  wc: (number | null)[];
}

export const paperConfigs = (): PaperConfig[] => JSON.parse(readFileSync(PAPER_DATA, "utf8"));

/** RunRows for configurations: seeds 0..n−1, fields the file lacks at the engine's defaults. */
export function paperRows(cfgs: readonly PaperConfig[]): RunRow[] {
  const rows: RunRow[] = [];
  for (const c of cfgs) {
    c.t_grok.forEach((tGrok, seed) => {
      const r = {
        cfg: {
          ...DEFAULTS,
          p: c.p,
          frac: c.frac,
          d: c.d,
          H: c.H,
          lr: c.lr,
          wd: c.wd,
          arm: c.arm,
          rho: c.rho,
          wc: c.wc_ref,
          tInt: c.t_int ?? DEFAULTS.tInt,
          maxSteps: c.max_steps,
          seed,
        },
        nTrain: 0,
        nTest: 0,
        tMem: c.t_mem[seed],
        tGrok,
        wc: c.wc[seed],
        status: tGrok === null ? "censored" : "grokked",
        stepsRun: c.max_steps,
        wallMs: 0,
        error: null,
        final: {
          step: c.max_steps,
          train_loss: NaN,
          train_acc: 1,
          test_loss: NaN,
          test_acc: tGrok === null ? 0 : 1,
          weight_norm: NaN,
          norm_E: NaN,
          norm_W1: NaN,
          norm_W2: NaN,
        },
      } as unknown as RunResult;
      rows.push({ runId: rows.length, r });
    });
  }
  return rows;
}

/** Writes DIR/runs.arrow for the given configurations. */
export function writeRuns(dir: string, rows: RunRow[]): string {
  mkdirSync(dir, { recursive: true });
  const schema = schemaOf(
    RUN_COLUMNS,
    new Map([
      ["groksweep.version", "test"],
      ["groksweep.config", "{}"],
    ]),
  );
  writeTables(dir, { "runs.arrow": { schema, batches: [batchOf(schema, RUN_COLUMNS, rows)] } });
  return dir;
}

/** One directory per experiment under root. */
export function writePaperFixtures(root: string): Record<PaperConfig["experiment"], string> {
  const all = paperConfigs();
  const out = {} as Record<PaperConfig["experiment"], string>;
  for (const e of ["grokfss", "efflr", "denserho", "pscan"] as const) {
    out[e] = writeRuns(join(root, e), paperRows(all.filter((c) => c.experiment === e)));
  }
  return out;
}
