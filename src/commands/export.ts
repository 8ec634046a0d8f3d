// `groksweep export DIR --format parquet [--out DIR2]`: a sweep's Arrow files as Parquet for DuckDB & co.
import { existsSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Argv } from "yargs";
import { UsageError } from "../options.js";
import { checkOutDir, single } from "../cli-util.js";
import { readSchema } from "../store.js";
import type * as Export from "../export.js";

const FORMATS = ["parquet"];
const DEFAULT_MAX_ROWS = 4_000_000; // = EXPORT_DEFAULTS.maxRowsPerFile (export.js loads parquet-wasm: imported late)

export const command = "export <dir>";
export const describe = "write a sweep's runs and curves as Parquet (ZSTD) files for DuckDB, Spark, …";
export function builder(y: Argv): Argv {
  return y
    .positional("dir", { type: "string", describe: "sweep output directory (runs.arrow and curves.arrow)" })
    .option("format", { type: "string", describe: `output format: ${FORMATS.join("|")} [parquet]` })
    .option("out", { type: "string", describe: "output directory [DIR/parquet]" })
    .option("max-rows-per-file", {
      type: "string",
      describe: `curve rows per curves/part-NNNNN.parquet, whole runs by run_id range [${DEFAULT_MAX_ROWS}]`,
    })
    .option("json", { type: "boolean", describe: "print one JSON object (files, rows, bytes) instead" });
}

export async function handler(argv: Record<string, unknown>): Promise<void> {
  const dir = resolve(String(argv.dir));
  const format = single(argv, "format") ?? "parquet";
  if (!FORMATS.includes(format as string)) throw new UsageError("--format", format, `one of ${FORMATS.join("|")}`);
  const maxArg = single(argv, "max-rows-per-file");
  const max = maxArg === undefined ? DEFAULT_MAX_ROWS : Number(maxArg);
  if (!Number.isInteger(max) || max < 1 || max > 2 ** 31 - 1 || String(maxArg).trim() === "")
    throw new UsageError("--max-rows-per-file", maxArg, "an integer in [1, 2^31)");
  const outArg = single(argv, "out");
  if (outArg === "") throw new UsageError("--out", outArg, "a directory");
  const out = resolve(outArg === undefined ? join(dir, "parquet") : String(outArg));
  const want = "a sweep output directory with runs.arrow and curves.arrow (merge or finish an interrupted one first)";
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError("DIR", argv.dir, want);
  for (const f of ["runs.arrow", "curves.arrow"]) {
    if (!existsSync(join(dir, f))) throw new UsageError("DIR", argv.dir, want);
    if (!(await readSchema(join(dir, f))).metadata.get("groksweep.spec_hash"))
      throw new UsageError("DIR", argv.dir, `sweep output (its ${f} carries no groksweep.spec_hash)`);
  }
  checkOutDir(out);

  const { exportParquet, EXPORT_DEFAULTS }: typeof Export = await import("../export.js");
  const files = await exportParquet(dir, out, { ...EXPORT_DEFAULTS, maxRowsPerFile: max });
  const rows = (t: string) => files.filter((f) => f.table === t).reduce((s, f) => s + f.rows, 0);
  const bytes = files.reduce((s, f) => s + f.bytes, 0);
  const list = files.map((f) => ({ ...f, path: relative(out, f.path) }));
  if (argv.json) {
    const result = { format, dir, out, files: list, rows: { runs: rows("runs"), curves: rows("curves") }, bytes };
    process.stdout.write(JSON.stringify(result) + "\n");
  } else {
    process.stdout.write(
      `wrote runs.parquet (${rows("runs")} rows) and ${files.length - 1} curve file(s) (${rows("curves")} rows), ` +
        `${bytes} bytes → ${out}\n`,
    );
  }
}
