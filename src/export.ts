// `export --format parquet` (#16): a sweep's runs.arrow and curves.arrow as Parquet (ZSTD) for DuckDB & co.
// Record batches are streamed from the Arrow files into parquet-wasm's streaming writer (arrow-rs'
// AsyncArrowWriter), which holds one row group per open file: memory stays flat whatever the sweep's size.
// Curves are split into files of whole runs by run_id range, at most maxRowsPerFile rows each (a single run
// longer than that gets a file of its own).
import { createWriteStream, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { RecordBatch, Schema, Table, tableToIPC, DataType, Precision } from "apache-arrow";
import * as pq from "parquet-wasm";
import { batches, readSchema } from "./store.js";
import { recordBatch } from "./arrow.js";
import { tmpPath, moveIntoPlace, makeDir } from "./cli-util.js";

/** openFiles: curve files open at once (each holds a row group); rows of other ranges wait for another pass */
export const EXPORT_DEFAULTS = { maxRowsPerFile: 4_000_000, rowGroupRows: 131_072, openFiles: 8 };
export type ExportOptions = typeof EXPORT_DEFAULTS;
export interface ExportedFile {
  path: string;
  table: "runs" | "curves";
  rows: number;
  bytes: number;
  /** curves: the half-open run_id range [lo, hi) the file covers */
  run_ids?: [number, number];
}
type Range = { lo: number; hi: number; rows: number };

/** The writer settings of one file: ZSTD, the schema metadata as key-value metadata. Float32 columns (the
 *  curves; a schema read back types them Float of SINGLE precision) are BYTE_STREAM_SPLIT without dictionary:
 *  float series then compress ~2.1× better (README "DuckDB and Parquet"); the curves' step, rising within each
 *  run, is delta-coded (1% less). */
function properties(schema: Schema, meta: Map<string, string>, o: ExportOptions): pq.WriterProperties {
  let b = new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression.ZSTD)
    .setMaxRowGroupSize(o.rowGroupRows)
    .setCreatedBy(`groksweep ${meta.get("groksweep.version") ?? ""}`.trim())
    .setKeyValueMetadata(meta);
  for (const f of schema.fields)
    if (DataType.isFloat(f.type) && f.type.precision === Precision.SINGLE)
      b = b.setColumnDictionaryEnabled(f.name, false).setColumnEncoding(f.name, pq.Encoding.BYTE_STREAM_SPLIT);
  if (schema.fields.some((f) => f.name === "step"))
    b = b.setColumnDictionaryEnabled("step", false).setColumnEncoding("step", pq.Encoding.DELTA_BINARY_PACKED);
  return b.build();
}

/** One Parquet file being written at tmpPath(path); write() waits while the writer's input queue is full. */
class ParquetSink {
  rows = 0;
  private ctl!: ReadableStreamDefaultController<pq.RecordBatch>;
  private wake: (() => void) | null = null;
  private done: Promise<void>;
  private plain: Schema;
  constructor(
    readonly path: string,
    readonly table: ExportedFile["table"],
    schema: Schema,
    meta: Map<string, string>,
    o: ExportOptions,
  ) {
    // the schema metadata goes into the key-value metadata, not a second time into ARROW:schema
    this.plain = new Schema(schema.fields);
    const input = new ReadableStream<pq.RecordBatch>(
      { start: (c) => void (this.ctl = c), pull: () => this.wake?.() },
      { highWaterMark: 1 },
    );
    const out = Writable.toWeb(createWriteStream(tmpPath(path)));
    this.done = pq.transformParquetStream(input, properties(schema, meta, o)).then((s) => s.pipeTo(out));
    this.done.catch(() => {}); // awaited in write() and close()
  }
  async write(b: RecordBatch): Promise<void> {
    const t = pq.Table.fromIPCStream(tableToIPC(new Table([new RecordBatch(this.plain, b.data)]), "stream"));
    for (const rb of t.recordBatches()) this.ctl.enqueue(rb);
    t.free();
    this.rows += b.numRows;
    while ((this.ctl.desiredSize ?? 1) <= 0) await Promise.race([new Promise<void>((r) => (this.wake = r)), this.done]);
  }
  async close(): Promise<ExportedFile> {
    if (this.rows === 0) await this.write(recordBatch(this.plain, [])); // an empty table still has its schema
    this.ctl.close();
    await this.done;
    return { path: this.path, table: this.table, rows: this.rows, bytes: statSync(tmpPath(this.path)).size };
  }
}

/** Consecutive run_ids packed into ranges of at most max rows that tile [first id, last id + 1) (counts: curve rows
 *  by run_id); no run is split, so a run longer than max gets a range of its own. */
export function runIdRanges(counts: Map<number, number>, max: number): Range[] {
  const out: Range[] = [];
  for (const id of [...counts.keys()].sort((a, b) => a - b)) {
    const n = counts.get(id)!,
      last = out.at(-1);
    if (last && last.rows + n <= max) Object.assign(last, { hi: id + 1, rows: last.rows + n });
    else {
      if (last) last.hi = id;
      out.push({ lo: id, hi: id + 1, rows: n });
    }
  }
  return out.length ? out : [{ lo: 0, hi: 0, rows: 0 }]; // no curves: one empty file, so that a glob finds one
}

/** The index of the last range whose lo ≤ id. */
function rangeOf(ranges: Range[], id: number): number {
  let a = 0,
    z = ranges.length - 1;
  while (a < z) {
    const m = (a + z + 1) >> 1;
    if (ranges[m].lo <= id) a = m;
    else z = m - 1;
  }
  return a;
}

/** Writes OUT/curves/part-NNNNN.parquet. curves.arrow is in order of completion, not of run_id: a pass writes the
 *  ranges it meets first (at most o.openFiles open at a time, each closed once its rows are all in), and another
 *  pass follows for the ranges it had to skip; runs finish nearly in run_id order, so one pass is the rule. */
async function writeCurves(src: string, out: string, o: ExportOptions): Promise<ExportedFile[]> {
  const schema = await readSchema(src);
  const counts = new Map<number, number>();
  for await (const b of batches(src))
    for (const id of b.getChild("run_id")!.toArray() as Int32Array) counts.set(id, (counts.get(id) ?? 0) + 1);
  const ranges = runIdRanges(counts, o.maxRowsPerFile);
  const files: ExportedFile[] = [],
    left = ranges.map((r) => r.rows);
  const sink = (r: number) =>
    new ParquetSink(
      join(out, "curves", `part-${String(r).padStart(5, "0")}.parquet`),
      "curves",
      schema,
      new Map([...schema.metadata, ["groksweep.run_ids", `${ranges[r].lo},${ranges[r].hi}`]]),
      o,
    );
  const finish = async (r: number, s: ParquetSink) =>
    (files[r] = { ...(await s.close()), run_ids: [ranges[r].lo, ranges[r].hi] });
  if (ranges[0].rows === 0) await finish(0, sink(0));
  for (let done = 0, was = -1; done < ranges.length; was = done, done = files.filter(Boolean).length) {
    if (done === was) throw new Error(`${src} changed while it was being exported`);
    const open = new Map<number, ParquetSink>(),
      skipped = new Set<number>();
    for await (const b of batches(src)) {
      const ids = b.getChild("run_id")!.toArray() as Int32Array;
      for (let i = 0, j = 1; i < ids.length; i = j, j = i + 1) {
        const r = rangeOf(ranges, ids[i]);
        while (j < ids.length && rangeOf(ranges, ids[j]) === r) j++; // the rows [i, j) of range r
        if (files[r] || skipped.has(r)) continue;
        if (!open.has(r) && open.size < o.openFiles) open.set(r, sink(r));
        const s = open.get(r);
        if (!s) {
          skipped.add(r);
          continue;
        }
        await s.write(i === 0 && j === ids.length ? b : b.slice(i, j));
        if ((left[r] -= j - i) > 0) continue;
        await finish(r, s);
        open.delete(r);
      }
    }
    if (open.size) throw new Error(`${src} changed while it was being exported`);
  }
  return files;
}

/** Writes OUT/runs.parquet and OUT/curves/part-*.parquet from the sweep directory dir (all through temporary
 *  names, renamed at the end, runs.parquet last), and removes curve files an earlier export left beyond them. */
export async function exportParquet(dir: string, out: string, o: ExportOptions): Promise<ExportedFile[]> {
  const curvesDir = join(out, "curves"),
    runsPath = join(out, "runs.parquet");
  makeDir(curvesDir, out);
  const files: ExportedFile[] = [];
  try {
    const src = join(dir, "runs.arrow"),
      schema = await readSchema(src);
    const runs = new ParquetSink(runsPath, "runs", schema, schema.metadata, o);
    for await (const b of batches(src)) await runs.write(b);
    const r = await runs.close();
    files.push(...(await writeCurves(join(dir, "curves.arrow"), out, o)), r);
    moveIntoPlace(files.map((f) => f.path));
  } catch (e) {
    for (const f of readdirSync(curvesDir))
      if (f.endsWith(`.tmp-${process.pid}`)) rmSync(join(curvesDir, f), { force: true });
    rmSync(tmpPath(runsPath), { force: true });
    throw e;
  }
  const keep = new Set(files.map((f) => f.path));
  for (const f of readdirSync(curvesDir))
    if (/^part-\d+\.parquet$/.test(f) && !keep.has(join(curvesDir, f))) rmSync(join(curvesDir, f));
  return files;
}
