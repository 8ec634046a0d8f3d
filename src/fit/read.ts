// Reading for `groksweep fit`: the runs files of an input (a sweep directory, its shards, or one runs
// .arrow file) and their rows as typed runs, each with its configuration.
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { DataType, RecordBatch, Schema } from "apache-arrow";
import { UsageError, OPTION_COLUMNS } from "../options.js";
import type { Kind } from "../validate.js";
import { LATER_DEFAULTS, RUN_COLUMNS, ColType } from "../columns.js";
import { sources, batches, readSchema, supersedes } from "../store.js";

/** Columns that define a configuration (the default group key): the option columns of the network, its
 *  training, the intervention and the budget (src/option-table.ts roles), in runs.arrow's order. */
const GROUPING = new Set(
  OPTION_COLUMNS.filter((o) => ["config", "intervention", "budget"].includes(o.role)).map((o) => o.name),
);
export const CONFIG_COLUMNS: readonly string[] = RUN_COLUMNS.map(([name]) => name).filter((n) => GROUPING.has(n));
export type ConfigCol = string;

export type { Kind }; // the option table's value kinds (src/validate.ts)
const KIND_OF: Record<ColType, Kind> = {
  i32: "int",
  f32: "float",
  f64: "float",
  utf8: "utf8",
  bool: "bool",
  utc: "int",
};
/** The columns fit reads, with their kinds as runs.arrow is written. */
const READ = new Set(["run_id", "seed", ...CONFIG_COLUMNS, "t_mem", "t_grok", "wc", "status"]);
export const KIND: Record<string, Kind> = Object.fromEntries(
  RUN_COLUMNS.filter(([name]) => READ.has(name)).map(([name, type]) => [name, KIND_OF[type]]),
);
/** Columns added after the first schema: files without them get these values. */
const LATER: Record<string, Value> = LATER_DEFAULTS;

export type Value = string | number | boolean | null;
export type Config = Record<ConfigCol, Value>;

export interface Run {
  file: string;
  run_id: number;
  seed: number;
  cfg: Config;
  status: string;
  t_grok: number | null;
  t_mem: number | null;
  wc: number | null;
  max_steps: number;
}

const isKind = (t: DataType, k: Kind) =>
  k === "int"
    ? DataType.isInt(t)
    : k === "float"
      ? DataType.isFloat(t) || DataType.isInt(t)
      : k === "utf8"
        ? DataType.isUtf8(t)
        : DataType.isBool(t);

export interface Source {
  runs: string;
  curves: string | null;
}

/**
 * The runs files of the input with their curves files: a .arrow file (its curves file is the sibling
 * X-curves.arrow of X-runs.arrow, none for other names), or a sweep directory — its runs.arrow plus any
 * not yet compacted .parts/ shards, as `groksweep merge` reads them.
 */
export function runsSources(input: string): Source[] {
  const expected = "a directory holding runs.arrow (or a sweep's .parts/), or a runs .arrow file";
  if (!existsSync(input)) throw new UsageError("DIR", input, `${expected} (not found)`);
  if (!statSync(input).isDirectory()) {
    const runs = resolve(input);
    const m = /^(.*)runs(\.arrow)$/.exec(basename(runs));
    return [{ runs, curves: m ? join(dirname(runs), `${m[1]}curves${m[2]}`) : null }];
  }
  const srcs = sources(input).map((x) => ({ runs: resolve(x.runs), curves: resolve(x.curves) }));
  if (srcs.length === 0) throw new UsageError("DIR", input, `${expected} (no runs.arrow in it)`);
  return srcs;
}

/** The batches of a runs file, read lazily after its columns are checked by kind; a file that is not Arrow
 *  names fit's input (DIR), as fit reports it. */
async function* runsBatches(file: string): AsyncGenerator<RecordBatch> {
  let schema: Schema;
  try {
    schema = await readSchema(file);
  } catch (e) {
    throw new UsageError("DIR", file, `an Arrow IPC file (${(e as Error).message.split("\n")[0]})`);
  }
  for (const [name, kind] of Object.entries(KIND)) {
    const f = schema.fields.find((x) => x.name === name);
    if (!f && !(name in LATER)) throw new UsageError("DIR", file, `a runs table with column ${name}`);
    if (f && !isKind(f.type, kind)) throw new UsageError("DIR", file, `column ${name} of type ${kind}, not ${f.type}`);
  }
  yield* batches(file);
}

/** All runs of the input by run_id, read batch by batch; a run_id seen twice (a shard not yet compacted) keeps the
 *  copy the store keeps (store.ts supersedes).
 *  Rows are stored in completion order, which varies with scheduling: sorting makes the bootstrap
 *  (which resamples seeds in cell order) independent of it. */
export async function readRuns(input: string): Promise<Run[]> {
  const byId = new Map<number, Run>();
  for (const { runs: file } of runsSources(input)) {
    for await (const b of runsBatches(file)) {
      const cols: Record<string, Value[]> = {};
      for (const name of Object.keys(KIND)) {
        const v = b.getChild(name);
        // files older than a column get its later default
        cols[name] = v ? ([...v] as Value[]) : new Array(b.numRows).fill(LATER[name]);
      }
      for (let i = 0; i < b.numRows; i++) {
        const run_id = cols.run_id[i] as number;
        if (!supersedes(byId.get(run_id))) continue;
        const cfg = Object.fromEntries(CONFIG_COLUMNS.map((c) => [c, cols[c][i]])) as Config;
        byId.set(run_id, {
          file,
          run_id,
          seed: cols.seed[i] as number,
          cfg,
          status: cols.status[i] as string,
          t_grok: cols.t_grok[i] as number | null,
          t_mem: cols.t_mem[i] as number | null,
          wc: cols.wc[i] as number | null,
          max_steps: cols.max_steps[i] as number,
        });
      }
    }
  }
  return [...byId.values()].sort((a, b) => a.run_id - b.run_id);
}
