// A sweep's output directory. Finished runs are appended as small complete Arrow files in
// DIR/.parts/ (curves first, then runs: a run counts as done once its runs part exists), so a
// kill -9 loses at most the runs not yet flushed. compact() streams the finished runs.arrow /
// curves.arrow plus the parts into new files, one record batch at a time (memory stays flat),
// dropping duplicates by run_id, and only then removes the parts.
import { existsSync, readdirSync, rmSync, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import {
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchReader,
  Schema,
  Field,
  Struct,
  makeData,
  vectorFromArray,
  CompressionType,
} from "apache-arrow";
import { schemaOf, recordBatch, writeTables, curvesCompression, curvesBatch } from "./arrow.js";
import { RUN_COLUMNS, CURVE_COLUMNS, LATER_DEFAULTS, CurveColumns } from "./columns.js";
import { UsageError } from "./options.js";
import { kernelsOf } from "./kernels.js";
import { tmpPath, moveIntoPlace, makeDir } from "./cli-util.js";

export const RUNS = "runs.arrow",
  CURVES = "curves.arrow";
const PARTS = ".parts";
type Rec = Record<string, unknown>;

interface Source {
  runs: string;
  curves: string;
}

/** Finished files first, then parts in the order they were written. */
export function sources(dir: string): Source[] {
  const out: Source[] = [];
  if (existsSync(join(dir, RUNS))) out.push({ runs: join(dir, RUNS), curves: join(dir, CURVES) });
  const pdir = join(dir, PARTS);
  if (existsSync(pdir)) {
    for (const f of readdirSync(pdir)
      .filter((f) => f.endsWith(".runs.arrow"))
      .sort()) {
      out.push({ runs: join(pdir, f), curves: join(pdir, f.replace(/\.runs\.arrow$/, ".curves.arrow")) });
    }
  }
  return out;
}

/** Record batches of an Arrow IPC file, read lazily; a damaged file is a clear error. */
export async function* batches(path: string): AsyncGenerator<RecordBatch> {
  if (!existsSync(path)) return;
  const fh = await open(path);
  try {
    const reader = await RecordBatchReader.from(fh);
    for await (const b of reader) yield b;
  } catch (e) {
    throw new UsageError("file", path, `a valid Arrow IPC file (${(e as Error).message.split("\n")[0]})`);
  } finally {
    await fh.close();
  }
}

export async function readSchema(path: string): Promise<Schema> {
  const fh = await open(path);
  try {
    return (await (await RecordBatchReader.from(fh)).open()).schema;
  } catch (e) {
    throw new UsageError("file", path, `a valid Arrow IPC file (${(e as Error).message.split("\n")[0]})`);
  } finally {
    await fh.close();
  }
}

/** Re-wrap a batch under the writer's schema (batches under a different schema object are dropped by
 *  arrow-js writers). Files of older versions lack only appended columns: those are filled in. */
function rewrap(schema: Schema, b: RecordBatch, path: string): RecordBatch {
  const sig = (f: Field) => `${f.name}:${f.type}`;
  const want = schema.fields.map(sig),
    got = b.schema.fields.map(sig);
  if (got.length > want.length || got.some((x, i) => x !== want[i])) {
    throw new UsageError("file", path, `the columns of this groksweep version (got ${got.join().slice(0, 120)}…)`);
  }
  if (got.length === want.length) return new RecordBatch(schema, b.data);
  const added = schema.fields
    .slice(got.length)
    .map((f) => vectorFromArray(Array(b.numRows).fill(LATER_DEFAULTS[f.name] ?? null), f.type as never).data[0]);
  return new RecordBatch(
    schema,
    makeData({
      type: new Struct(schema.fields),
      length: b.numRows,
      nullCount: 0,
      children: [...b.data.children, ...added],
    }),
  );
}

function filterBatch(schema: Schema, b: RecordBatch, keep: (runId: number) => boolean): RecordBatch | null {
  const ids = b.getChild("run_id")!.toArray() as Int32Array;
  let all = true,
    any = false;
  for (const id of ids) {
    if (keep(id)) any = true;
    else all = false;
  }
  if (all) return b;
  if (!any) return null;
  const rows: Rec[] = [];
  for (let i = 0; i < b.numRows; i++) if (keep(ids[i])) rows.push(b.get(i)!.toJSON());
  return recordBatch(schema, rows);
}

/** Stream batches into an Arrow IPC file at `path` (temporary name, renamed by the caller). Each batch's bytes are
 *  taken from the writer's queue and handed to the file before the next batch: piped, the queue grew unchecked
 *  (a merge of 10⁵ tiny runs peaked at 835 MB). */
class FileSink {
  private writer: RecordBatchFileWriter;
  private out: ReturnType<typeof createWriteStream>;
  private chunks: Uint8Array[] = [];
  private pumped: Promise<void>;
  constructor(
    readonly schema: Schema,
    readonly path: string,
    compressionType: CompressionType | null = null,
  ) {
    const writer = (this.writer = new RecordBatchFileWriter({ compressionType }));
    this.out = createWriteStream(path);
    writer.reset(undefined, schema);
    this.pumped = (async () => {
      for await (const c of writer) this.chunks.push(c);
    })();
  }
  private async flush(): Promise<void> {
    await new Promise(setImmediate); // queued chunks reach `chunks` in microtasks, before this resolves
    for (const c of this.chunks.splice(0)) this.out.write(c);
    if (this.out.writableNeedDrain) await new Promise((r) => this.out.once("drain", r));
  }
  async write(b: RecordBatch): Promise<void> {
    this.writer.write(b);
    await this.flush();
  }
  async close(): Promise<void> {
    this.writer.close();
    await this.pumped;
    await this.flush();
    this.out.end();
    await finished(this.out);
  }
}

/** A finished run as resume and measured Wc need it: wc by norm group (all = ‖W‖ at T_grok). */
export interface Completed {
  runId: number;
  status: string;
  wc: WcByGroup;
  /** null in files older than these columns */
  errorKind: string | null;
  attempts: number | null;
}
export type WcByGroup = Record<string, number | null>;
export const WC_COLUMNS: Record<string, string> = {
  all: "wc",
  embed: "wc_embed",
  attn: "wc_attn",
  mlp: "wc_mlp",
  unembed: "wc_unembed",
};

export class Store {
  readonly runsSchema: Schema;
  readonly curvesSchema: Schema;
  private seq = 0;

  constructor(
    readonly dir: string,
    readonly meta: Map<string, string>,
  ) {
    this.runsSchema = schemaOf(RUN_COLUMNS, meta);
    this.curvesSchema = schemaOf(CURVE_COLUMNS, meta);
  }

  /** Create DIR if needed, clear stale temporaries, and refuse a directory that holds another sweep. */
  async open(keys = ["groksweep.spec_hash", "groksweep.kernels"]): Promise<Completed[]> {
    makeDir(join(this.dir, PARTS), this.dir);
    for (const d of [this.dir, join(this.dir, PARTS)])
      for (const f of readdirSync(d)) if (/\.tmp-\d+$/.test(f)) rmSync(join(d, f), { force: true });
    const done: Completed[] = [];
    for (const s of sources(this.dir)) {
      const theirs = (await readSchema(s.runs)).metadata;
      for (const key of keys) {
        const kernels = key === "groksweep.kernels";
        const [a, b] = kernels ? [kernelsOf(theirs), kernelsOf(this.meta)] : [theirs.get(key), this.meta.get(key)];
        if (a !== b) {
          const want = `a directory of this sweep (it holds ${key} ${a}, this one has ${b})`;
          throw new UsageError("--out", this.dir, want);
        }
      }
      for await (const b of batches(s.runs)) {
        const ids = b.getChild("run_id")!.toArray(),
          st = b.getChild("status")!,
          kind = b.getChild("error_kind"),
          tries = b.getChild("attempts");
        // older files lack the group columns
        const cols = Object.entries(WC_COLUMNS).map(([g, c]) => [g, b.getChild(c)] as const);
        for (let i = 0; i < b.numRows; i++) {
          done.push({
            runId: ids[i],
            status: st.get(i),
            wc: Object.fromEntries(cols.map(([g, v]) => [g, v ? v.get(i) : null])),
            errorKind: kind?.get(i) ?? null,
            attempts: tries?.get(i) ?? null,
          });
        }
      }
    }
    return done;
  }

  /** Append finished runs durably: a complete curves part, then a complete runs part. */
  appendPart(runs: Rec[], curves: CurveColumns[]): void {
    if (!runs.length) return;
    const base = `${String(Date.now()).padStart(14, "0")}-${process.pid}-${String(this.seq++).padStart(6, "0")}`;
    // writeTables renames in insertion order: the curves part is in place before the runs part
    writeTables(join(this.dir, PARTS), {
      [`${base}.curves.arrow`]: {
        schema: this.curvesSchema,
        batches: [curvesBatch(this.curvesSchema, curves)],
        compression: curvesCompression(),
      },
      [`${base}.runs.arrow`]: { schema: this.runsSchema, batches: [recordBatch(this.runsSchema, runs)] },
    });
  }

  /** Rewrite runs.arrow and curves.arrow from everything finished (deduplicated), then drop the parts. */
  async compact(): Promise<{ runs: number }> {
    const srcs = sources(this.dir);
    const n = await writeMerged([{ dir: this.dir, sources: srcs }], this.dir, this.runsSchema, this.curvesSchema);
    const pdir = join(this.dir, PARTS);
    for (const s of srcs)
      if (s.runs.startsWith(pdir)) {
        rmSync(s.runs, { force: true });
        rmSync(s.curves, { force: true });
      }
    rmSync(pdir, { recursive: true, force: true });
    return { runs: n };
  }
}

/** Which copy of a run_id every reader keeps (compaction, merge, fit, status): the first, except that a failed row
 *  gives way to a later copy (a retry, on resume or in a later shard). True when `row` replaces `kept`. */
export const supersedes = (kept: { status: unknown } | undefined): boolean => !kept || kept.status === "failed";

/** Write OUT/runs.arrow and OUT/curves.arrow from several directories' sources, one copy per run_id (supersedes). */
export async function writeMerged(
  inputs: { dir: string; sources: Source[] }[],
  out: string,
  runsSchema: Schema,
  curvesSchema: Schema,
): Promise<number> {
  makeDir(out);
  const all = inputs.flatMap((i) => i.sources);
  // first pass, over run_id and status only: the runs file each row comes from
  const kept = new Map<number, { src: string; status: unknown }>();
  for (const s of all) {
    for await (const b of batches(s.runs)) {
      const ids = b.getChild("run_id")!.toArray() as Int32Array,
        st = b.getChild("status")!;
      for (let i = 0; i < b.numRows; i++)
        if (supersedes(kept.get(ids[i]))) kept.set(ids[i], { src: s.runs, status: st.get(i) });
    }
  }
  const from = (id: number) => kept.get(id)?.src;
  const runsPath = join(out, RUNS),
    curvesPath = join(out, CURVES);
  const runs = new FileSink(runsSchema, tmpPath(runsPath));
  for (const s of all) {
    for await (const b of batches(s.runs)) {
      const rows = filterBatch(runsSchema, rewrap(runsSchema, b, s.runs), (id) => from(id) === s.runs);
      if (rows) await runs.write(rows);
    }
  }
  await runs.close();
  const curves = new FileSink(curvesSchema, tmpPath(curvesPath), curvesCompression());
  for (const s of all) {
    for await (const b of batches(s.curves)) {
      const rows = filterBatch(curvesSchema, rewrap(curvesSchema, b, s.curves), (id) => from(id) === s.runs);
      if (rows) await curves.write(rows);
    }
  }
  await curves.close();
  moveIntoPlace([curvesPath, runsPath]); // runs last, as in appendPart: its curves are in place before it
  return kept.size;
}
