// The columns of runs.arrow and curves.arrow (a public interface: README "Output"): name, type, nullability, how
// a row computes it and the revision that appended it; and the flat records a worker sends. Free of apache-arrow
// (src/arrow.ts gives the types and writes the files), so a worker starts without loading it.
import type { RunResult } from "./run.js";
import type { Provenance } from "./attempt.js";
import { OPTION_COLUMNS } from "./options.js";

// since: the schema revision that appended the column, for columns after the released ones (see RELEASED)
export type Col<R> = [name: string, type: ColType, nullable: boolean, get: (r: R) => unknown, since?: number];
/** A column's Arrow type (src/arrow.ts ARROW_TYPES): int32, float32, float64, utf8, bool, timestamp[ms, UTC]. */
export type ColType = "i32" | "f32" | "f64" | "utf8" | "bool" | "utc";
const i32 = "i32",
  f32 = "f32",
  f64 = "f64",
  utf8 = "utf8",
  utc = "utc";

export interface RunRow {
  runId: number;
  r: RunResult;
  /** how the row was produced (src/attempt.ts); absent: unknown (null columns) */
  prov?: Provenance;
}

/** Outcome columns of runs.arrow (the option columns come from the option table, src/option-table.ts). */
const OUTCOMES: Col<RunRow>[] = [
  ["run_id", i32, false, (x) => x.runId],
  ["n_train", i32, false, (x) => x.r.nTrain],
  ["n_test", i32, false, (x) => x.r.nTest],
  ["t_mem", i32, true, (x) => x.r.tMem],
  ["t_grok", i32, true, (x) => x.r.tGrok],
  ["wc", f64, true, (x) => x.r.wc],
  ["final_train_loss", f64, true, (x) => finite(x.r.final.train_loss)],
  ["final_test_loss", f64, true, (x) => finite(x.r.final.test_loss)],
  ["final_train_acc", f64, true, (x) => finite(x.r.final.train_acc)],
  ["final_test_acc", f64, true, (x) => finite(x.r.final.test_acc)],
  ["final_weight_norm", f64, true, (x) => finite(x.r.final.weight_norm)],
  ["status", utf8, false, (x) => x.r.status],
  ["steps_run", i32, false, (x) => x.r.stepsRun],
  ["wall_ms", f64, false, (x) => x.r.wallMs],
  ["error", utf8, true, (x) => x.r.error],
  ["parity_bits", utf8, true, (x) => (x.r.bits ? Array.from(x.r.bits).join(",") : null)],
  // per-group norms at T_grok (null when censored or the model has no such group)
  ["wc_embed", f64, true, (x) => finiteOrNull(x.r.atGrok?.norm_embed)],
  ["wc_attn", f64, true, (x) => finiteOrNull(x.r.atGrok?.norm_attn)],
  ["wc_mlp", f64, true, (x) => finiteOrNull(x.r.atGrok?.norm_mlp)],
  ["wc_unembed", f64, true, (x) => finiteOrNull(x.r.atGrok?.norm_unembed)],
  // revision 3: failures and provenance (README "Failures and retries"; null in older files)
  ["error_kind", utf8, true, (x) => x.prov?.errorKind ?? null, 3],
  ["attempts", i32, true, (x) => x.prov?.attempts ?? null, 3],
  ["host", utf8, true, (x) => x.prov?.host ?? null, 3],
  ["node_version", utf8, true, (x) => x.prov?.node ?? null, 3],
  ["kernels", utf8, true, (x) => x.prov?.kernels ?? null, 3],
  ["started_at", utc, true, (x) => x.prov?.startedAt ?? null, 3],
  ["finished_at", utc, true, (x) => x.prov?.finishedAt ?? null, 3],
];
// outcomes older files lack: revision 2's, and every one with a since
const LATER_OUTCOMES = [
  ...["parity_bits", "wc_embed", "wc_attn", "wc_mlp", "wc_unembed"],
  ...OUTCOMES.filter((c) => c[4] !== undefined).map((c) => c[0]),
];
/** The runs.arrow columns that may differ between two invocations of the same runs: time, place, Node and SIMD
 *  width, the attempts it took (all else is determined by spec, seed and the kernels' build@revision). */
export const VARYING_COLUMNS = ["wall_ms", "attempts", "host", "node_version", "kernels", "started_at", "finished_at"];

/** The column order of the schemas released so far (revisions 1 and 2): frozen, since columns are only
 *  ever appended. Columns added later (an option in the table, an outcome above) carry `since` ≥ 3
 *  and follow in order of since, outcomes before options, then declaration order. */
const RELEASED = [
  "run_id",
  "seed",
  "task",
  "model",
  "op",
  "p",
  "frac",
  "d",
  "H",
  "act",
  "layernorm",
  "optim",
  "lr",
  "wd",
  "momentum",
  "wd_schedule",
  "init_scale",
  "arm",
  "rho",
  "wc_ref",
  "t_int",
  "max_steps",
  "mem_acc",
  "grok_acc",
  "n_train",
  "n_test",
  "t_mem",
  "t_grok",
  "wc",
  "final_train_loss",
  "final_test_loss",
  "final_train_acc",
  "final_test_acc",
  "final_weight_norm",
  "status",
  "steps_run",
  "wall_ms",
  "error",
  // revision 2: the attention model, parity and parameter groups
  "clamp_group",
  "heads",
  "loss",
  "n_bits",
  "k_bits",
  "parity_bits",
  "wc_embed",
  "wc_attn",
  "wc_mlp",
  "wc_unembed",
];

const OPTION_TYPE = { int: i32, float: f64, bool: "bool", utf8 } as const;
const optionCols = OPTION_COLUMNS.map((o) => ({
  col: [o.name, OPTION_TYPE[o.kind], o.nullable, (x: RunRow) => o.get(x.r.cfg)] as Col<RunRow>,
  since: o.since,
}));
const outcomeCols = OUTCOMES.map((col) => ({ col, since: col[4] ?? 0 }));
const byName = new Map([...outcomeCols, ...optionCols].map((x) => [x.col[0], x]));
const appended = [...outcomeCols, ...optionCols]
  .filter((x) => !RELEASED.includes(x.col[0]))
  .map((x) => {
    if (x.since < 3) throw new Error(`runs.arrow column ${x.col[0]}: a new column needs since ≥ 3`);
    return x;
  })
  .sort((a, b) => a.since - b.since); // stable: outcomes before options, then declaration order

export const RUN_COLUMNS: Col<RunRow>[] = [
  ...RELEASED.map((name) => {
    const c = byName.get(name);
    if (!c) throw new Error(`runs.arrow column ${name}: released, so it may not be removed`);
    return c.col;
  }),
  ...appended.map((x) => x.col),
];

/** What rows of files written before a column existed read as (missing nullable columns: null). */
export const LATER_DEFAULTS: Record<string, string | number | null> = Object.fromEntries([
  ...OPTION_COLUMNS.filter((o) => o.later !== undefined).map((o) => [o.name, o.later]),
  ...LATER_OUTCOMES.map((name) => [name, null]),
]);

const finite = (x: number) => (Number.isFinite(x) ? x : null);
const finiteOrNull = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : null);

export interface CurveRowOut {
  runId: number;
  c: RunResult["curves"][number];
}
const curve = (k: keyof RunResult["curves"][number]): Col<CurveRowOut> => [k, f32, true, (x) => finite(x.c[k] ?? NaN)];
export const CURVE_COLUMNS: Col<CurveRowOut>[] = [
  ["run_id", i32, false, (x) => x.runId],
  ["step", i32, false, (x) => x.c.step],
  curve("train_loss"),
  curve("train_acc"),
  curve("test_loss"),
  curve("test_acc"),
  curve("weight_norm"),
  curve("norm_E"),
  curve("norm_W1"),
  curve("norm_W2"),
  // --observe spectral,fourier (null when not observed)
  curve("spectral_entropy"),
  curve("effective_rank"),
  curve("fourier_gini"),
  // per-group norms (null where the model has no such group)
  curve("norm_embed"),
  curve("norm_attn"),
  curve("norm_mlp"),
  curve("norm_unembed"),
  // --observe spectral (version 0.2): the spectral entropy of the readout W2 (attn: U)
  curve("spec_entropy_W2"),
  // --observe eff-lr (version 0.3): ‖θ_G(t+1) − θ_G(t)‖ / ‖θ_G(t)‖ for ‖W‖'s span and each norm group
  curve("eff_lr"),
  curve("eff_lr_embed"),
  curve("eff_lr_attn"),
  curve("eff_lr_mlp"),
  curve("eff_lr_unembed"),
  // --observe logits (version 0.3): the train rows' logits/τ
  curve("logit_scale"),
  curve("frac_saturated"),
  curve("softmax_collapse"),
  curve("zero_loss_frac"),
  // --observe nanda (version 0.3): Nanda et al.'s restricted and excluded train loss
  curve("restricted_loss"),
  curve("excluded_loss"),
];

/** Flat records of a run's row and of its curve rows, as recordBatch() takes them. */
export function runRecord(row: RunRow): Record<string, unknown> {
  return Object.fromEntries(RUN_COLUMNS.map(([name, , , get]) => [name, get(row)]));
}

/** A run's curve rows as columns, NaN for null: what a worker sends, since typed arrays are cloned in one copy
 *  where row objects are cloned, and then encoded, field by field (~3 ms a run of 100 logged steps). */
export type CurveColumns = Record<string, Int32Array | Float32Array>;
export function curveColumns(runId: number, r: RunResult): CurveColumns {
  const row = { runId, c: r.curves[0] }; // reused for every cell: no allocation per cell
  return Object.fromEntries(
    CURVE_COLUMNS.map(([name, type, , get]) => {
      const a = type === "i32" ? new Int32Array(r.curves.length) : new Float32Array(r.curves.length);
      r.curves.forEach((c, i) => ((row.c = c), (a[i] = (get(row) as number | null) ?? NaN)));
      return [name, a];
    }),
  );
}
