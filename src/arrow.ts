// Arrow IPC: the column types of src/columns.ts as Arrow types, record batches, schemas and file writers.
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
import { UsageError } from "./options.js";
import { Col, ColType, RunRow, CurveColumns } from "./columns.js";

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

const i32 = () => new Int32(),
  f32 = () => new Float32(),
  utf8 = () => new Utf8();
/** The Arrow type of each column type (src/columns.ts). */
const ARROW_TYPES: Record<ColType, () => DataType> = {
  i32,
  f32,
  f64: () => new Float64(),
  utf8,
  bool: () => new Bool(),
  utc: () => new TimestampMillisecond("UTC"),
};

export function schemaOf<R>(cols: Col<R>[], metadata: Map<string, string>): Schema {
  return new Schema(
    cols.map(([n, t, nullable]) => new Field(n, ARROW_TYPES[t](), nullable)),
    metadata,
  );
}

/** One record batch of rows under a fixed schema (scalar columns). */
export function batchOf<R>(schema: Schema, cols: Col<R>[], rows: R[]): RecordBatch {
  const children = cols.map(([, , , get], i) => {
    const v = vectorFromArray(rows.map(get) as never[], schema.fields[i].type as never);
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
