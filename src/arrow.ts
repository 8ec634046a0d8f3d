// Arrow schemas (a public interface: see README "Output") and IPC file writers.
import { join } from "node:path";
import { writeFilesAtomic } from "./cli-util.js";
import {
  Schema,
  Field,
  Int32,
  Float32,
  Float64,
  Utf8,
  Bool,
  List,
  TimestampMillisecond,
  Struct,
  DataType,
  RecordBatch,
  Table,
  makeData,
  vectorFromArray,
  tableToIPC,
  compressionRegistry,
  CompressionType,
  RecordBatchWriter,
} from "apache-arrow";
import zstd from "@bokuweb/zstd-wasm";
import type { RunResult } from "./run.js";
import type { Provenance } from "./attempt.js";
import { OPTION_COLUMNS, UsageError } from "./options.js";

// ZSTD body compression (README "Output"), registered wherever this module is loaded, for reading and writing
await zstd.init();
compressionRegistry.set(CompressionType.ZSTD, {
  encode: (b) => zstd.compress(b, 3),
  decode: (b) => zstd.decompress(b),
});
// arrow-js ≤ 21.2 writes the compressed length in each buffer's 8-byte prefix where the format wants the
// uncompressed one (apache/arrow-js#470): other readers (polars, pyarrow) refuse such files. Mend the prefixes.
const writerProto = RecordBatchWriter.prototype as any,
  compressBody = writerProto._compressBodyBuffers;
if (typeof compressBody !== "function") throw new Error("apache-arrow: no RecordBatchWriter._compressBodyBuffers");
writerProto._compressBodyBuffers = function (buffers: ArrayBufferView[]) {
  const out = compressBody.call(this, buffers);
  buffers.forEach((b, i) => {
    const prefix: Uint8Array = out.buffers[2 * i],
      v = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
    if (prefix.byteLength === 8 && v.getBigInt64(0, true) !== -1n) v.setBigInt64(0, BigInt(b.byteLength), true);
  });
  return out;
};

/** --compression: of curves.arrow (and its parts); runs.arrow, params.arrow and splits.arrow are never compressed. */
export const COMPRESSION_OPTION = {
  type: "string",
  describe: "curves.arrow body compression: zstd | none (plain Arrow IPC, for readers built without zstd) [zstd]",
} as const;
let curvesCodec: CompressionType | null = CompressionType.ZSTD;
/** The compression curves files are written with, after setCompression(--compression). */
export const curvesCompression = () => curvesCodec;
export function setCompression(v: unknown): void {
  if (v === undefined) return;
  if (v !== "zstd" && v !== "none") throw new UsageError("--compression", v, "zstd or none");
  curvesCodec = v === "zstd" ? CompressionType.ZSTD : null;
}

// since: the schema revision that appended the column, for columns after the released ones (see RELEASED)
type Col<R> = [name: string, type: DataType, nullable: boolean, get: (r: R) => unknown, since?: number];

const i32 = () => new Int32(),
  f32 = () => new Float32(),
  f64 = () => new Float64(),
  utf8 = () => new Utf8(),
  utc = () => new TimestampMillisecond("UTC");

export interface RunRow {
  runId: number;
  r: RunResult;
  /** how the row was produced (src/attempt.ts); absent: unknown (null columns) */
  prov?: Provenance;
}

/** Outcome columns of runs.arrow (the option columns come from the option table, src/option-table.ts). */
const OUTCOMES: Col<RunRow>[] = [
  ["run_id", i32(), false, (x) => x.runId],
  ["n_train", i32(), false, (x) => x.r.nTrain],
  ["n_test", i32(), false, (x) => x.r.nTest],
  ["t_mem", i32(), true, (x) => x.r.tMem],
  ["t_grok", i32(), true, (x) => x.r.tGrok],
  ["wc", f64(), true, (x) => x.r.wc],
  ["final_train_loss", f64(), true, (x) => finite(x.r.final.train_loss)],
  ["final_test_loss", f64(), true, (x) => finite(x.r.final.test_loss)],
  ["final_train_acc", f64(), true, (x) => finite(x.r.final.train_acc)],
  ["final_test_acc", f64(), true, (x) => finite(x.r.final.test_acc)],
  ["final_weight_norm", f64(), true, (x) => finite(x.r.final.weight_norm)],
  ["status", utf8(), false, (x) => x.r.status],
  ["steps_run", i32(), false, (x) => x.r.stepsRun],
  ["wall_ms", f64(), false, (x) => x.r.wallMs],
  ["error", utf8(), true, (x) => x.r.error],
  ["parity_bits", utf8(), true, (x) => (x.r.bits ? Array.from(x.r.bits).join(",") : null)],
  // per-group norms at T_grok (null when censored or the model has no such group)
  ["wc_embed", f64(), true, (x) => finiteOrNull(x.r.atGrok?.norm_embed)],
  ["wc_attn", f64(), true, (x) => finiteOrNull(x.r.atGrok?.norm_attn)],
  ["wc_mlp", f64(), true, (x) => finiteOrNull(x.r.atGrok?.norm_mlp)],
  ["wc_unembed", f64(), true, (x) => finiteOrNull(x.r.atGrok?.norm_unembed)],
  // revision 3: failures and provenance (README "Failures and retries"; null in older files)
  ["error_kind", utf8(), true, (x) => x.prov?.errorKind ?? null, 3],
  ["attempts", i32(), true, (x) => x.prov?.attempts ?? null, 3],
  ["host", utf8(), true, (x) => x.prov?.host ?? null, 3],
  ["node_version", utf8(), true, (x) => x.prov?.node ?? null, 3],
  ["kernels", utf8(), true, (x) => x.prov?.kernels ?? null, 3],
  ["started_at", utc(), true, (x) => x.prov?.startedAt ?? null, 3],
  ["finished_at", utc(), true, (x) => x.prov?.finishedAt ?? null, 3],
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

const ARROW_TYPE = { int: i32, float: f64, bool: () => new Bool(), utf8 } as const;
const optionCols = OPTION_COLUMNS.map((o) => ({
  col: [o.name, ARROW_TYPE[o.kind](), o.nullable, (x: RunRow) => o.get(x.r.cfg)] as Col<RunRow>,
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
const curve = (k: keyof RunResult["curves"][number]): Col<CurveRowOut> => [
  k,
  f32(),
  true,
  (x) => finite(x.c[k] ?? NaN),
];
export const CURVE_COLUMNS: Col<CurveRowOut>[] = [
  ["run_id", i32(), false, (x) => x.runId],
  ["step", i32(), false, (x) => x.c.step],
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

export function schemaOf<R>(cols: Col<R>[], metadata: Map<string, string>): Schema {
  return new Schema(
    cols.map(([n, t, nullable]) => new Field(n, t, nullable)),
    metadata,
  );
}

/** One record batch of rows under a fixed schema (scalar columns). */
export function batchOf<R>(schema: Schema, cols: Col<R>[], rows: R[]): RecordBatch {
  const children = cols.map(([, type, , get], i) => {
    const v = vectorFromArray(rows.map(get) as never[], type as never);
    if (v.data.length !== 1) throw new Error(`column ${schema.fields[i].name}: expected one chunk`);
    return v.data[0];
  });
  return structBatch(schema, rows.length, children);
}

/** A record batch from flat records keyed by column name (missing → null). */
export function recordBatch(schema: Schema, rows: Record<string, unknown>[]): RecordBatch {
  return structBatch(
    schema,
    rows.length,
    schema.fields.map((f) => {
      const v = vectorFromArray(rows.map((r) => r[f.name] ?? null) as never[], f.type as never);
      if (v.data.length !== 1) throw new Error(`column ${f.name}: expected one chunk`);
      return v.data[0];
    }),
  );
}

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
      const a = DataType.isInt(type) ? new Int32Array(r.curves.length) : new Float32Array(r.curves.length);
      r.curves.forEach((c, i) => ((row.c = c), (a[i] = (get(row) as number | null) ?? NaN)));
      return [name, a];
    }),
  );
}

/** One record batch of the curves of several runs; a NaN float is a null (non-finite when measured). */
export function curvesBatch(schema: Schema, runs: CurveColumns[]): RecordBatch {
  const n = runs.reduce((k, c) => k + c.run_id.length, 0);
  const children = schema.fields.map((f) => {
    const data = DataType.isInt(f.type) ? new Int32Array(n) : new Float32Array(n);
    let at = 0;
    for (const c of runs) {
      data.set(c[f.name], at);
      at += c[f.name].length;
    }
    const valid = new Uint8Array((n + 7) >> 3);
    let nulls = 0;
    for (let i = 0; i < n; i++)
      if (Number.isNaN(data[i])) [data[i], nulls] = [0, nulls + 1];
      else valid[i >> 3] |= 1 << (i & 7);
    return makeData({
      type: f.type,
      length: n,
      data,
      nullCount: nulls,
      nullBitmap: nulls ? valid : undefined,
    } as never);
  });
  return structBatch(schema, n, children);
}

function structBatch(schema: Schema, length: number, children: any[]): RecordBatch {
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }));
}

/** A List<T> column from typed arrays without per-element boxing. */
function listData(itemType: Int32 | Float32, parts: (Int32Array | Float32Array)[]): any {
  const offsets = new Int32Array(parts.length + 1);
  parts.forEach((x, i) => (offsets[i + 1] = offsets[i] + x.length));
  const values =
    itemType instanceof Int32 ? new Int32Array(offsets[parts.length]) : new Float32Array(offsets[parts.length]);
  parts.forEach((x, i) => values.set(x, offsets[i]));
  const child = makeData({ type: itemType, length: values.length, nullCount: 0, data: values } as any);
  return makeData({
    type: new List(new Field("item", itemType, false)),
    length: parts.length,
    nullCount: 0,
    valueOffsets: offsets,
    child,
  } as any);
}

export function paramsSchema(metadata: Map<string, string>): Schema {
  return new Schema(
    [
      new Field("run_id", i32(), false),
      new Field("step", i32(), false),
      new Field("tensor", utf8(), false),
      new Field("shape", new List(new Field("item", i32(), false)), false),
      new Field("values", new List(new Field("item", f32(), false)), false),
    ],
    metadata,
  );
}

export function paramsBatch(schema: Schema, runs: RunRow[]): RecordBatch {
  const rid: number[] = [],
    step: number[] = [],
    name: string[] = [],
    shape: Int32Array[] = [],
    vals: Float32Array[] = [];
  for (const { runId, r } of runs) {
    for (const s of r.snapshots) {
      for (const [t, x] of Object.entries(s.params)) {
        rid.push(runId);
        step.push(s.step);
        name.push(t);
        shape.push(Int32Array.from(r.shapes[t]));
        vals.push(x);
      }
    }
  }
  return structBatch(schema, rid.length, [
    vectorFromArray(rid, i32()).data[0],
    vectorFromArray(step, i32()).data[0],
    vectorFromArray(name, utf8()).data[0],
    listData(i32(), shape),
    listData(f32(), vals),
  ]);
}

export function splitsSchema(metadata: Map<string, string>): Schema {
  return new Schema(
    [
      new Field("run_id", i32(), false),
      new Field("split", utf8(), false),
      new Field("pairs", new List(new Field("item", i32(), false)), false),
    ],
    metadata,
  );
}

export function splitsBatch(schema: Schema, runs: RunRow[]): RecordBatch {
  const rid = runs.flatMap(({ runId }) => [runId, runId]);
  const which = runs.flatMap(() => ["train", "test"]);
  const pairs = runs.flatMap(({ r }) => [r.split.train, r.split.test]);
  return structBatch(schema, rid.length, [
    vectorFromArray(rid, i32()).data[0],
    vectorFromArray(which, utf8()).data[0],
    listData(i32(), pairs),
  ]);
}

type Tables = Record<string, { schema: Schema; batches: RecordBatch[]; compression?: CompressionType | null }>;
/** Writes whole tables as Arrow IPC files: each to a temporary name, all renamed at the end. */
export function writeTables(dir: string, tables: Tables): void {
  // serialized one at a time, as each is written
  const files = function* (): Generator<[string, Uint8Array]> {
    for (const [name, { schema, batches, compression }] of Object.entries(tables))
      yield [join(dir, name), tableToIPC(new Table(schema, batches), "file", compression ?? null)];
  };
  writeFilesAtomic(files());
}
