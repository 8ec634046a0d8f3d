// `groksweep merge DIR… --out OUT`: combine shards of one sweep, de-duplicated by run_id.
import type { Argv } from "yargs";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { sources, readSchema, batches, writeMerged } from "../store.js";
import { schemaOf, COMPRESSION_OPTION } from "../arrow.js";
import { RUN_COLUMNS, CURVE_COLUMNS } from "../columns.js";
import { UsageError } from "../options.js";
import { VERSION } from "../version.js";
import { expand } from "../spec.js";
import { select } from "../sweep.js";
import { kernelsOf } from "../kernels.js";
import { noCounts, tally } from "../progress.js";
import { sweepSummary } from "../cli-util.js";

export const command = "merge <dirs..>";
export const describe =
  "merge shard directories of one sweep into --out, de-duplicated by run_id; reports missing runs";

export function builder(y: Argv): Argv {
  return y
    .positional("dirs", { type: "string", array: true, describe: "shard output directories" })
    .option("out", {
      type: "string",
      demandOption: true,
      describe: "directory for the merged runs.arrow and curves.arrow",
    })
    .option("json", { type: "boolean", describe: "print one JSON object (counts, paths, missing runs) instead" })
    .option("compression", COMPRESSION_OPTION);
}

export async function handler(argv: Record<string, unknown>): Promise<void> {
  const dirs = (argv.dirs as string[]).map((d) => resolve(d));
  const out = resolve(String(argv.out));
  let meta: Map<string, string> | null = null,
    from = "";
  const inputs = [],
    phases = new Set<string>();
  for (const dir of dirs) {
    const srcs = sources(dir);
    if (!existsSync(dir) || !srcs.length)
      throw new UsageError("DIR", dir, "a sweep output directory (runs.arrow or .parts/)");
    for (const s of srcs) {
      const m = (await readSchema(s.runs)).metadata;
      if (!m.get("groksweep.spec_hash"))
        throw new UsageError("DIR", dir, "sweep output (its files carry no groksweep.spec_hash)");
      if (meta && m.get("groksweep.spec_hash") !== meta.get("groksweep.spec_hash")) {
        throw new UsageError(
          "DIR",
          dir,
          `output of the same spec as ${from} ` +
            `(spec ${m.get("groksweep.spec_hash")} ≠ ${meta.get("groksweep.spec_hash")})`,
        );
      }
      if (meta && kernelsOf(m) !== kernelsOf(meta)) {
        throw new UsageError(
          "DIR",
          dir,
          `output of the same kernels as ${from} ` +
            `(${kernelsOf(m)} ≠ ${kernelsOf(meta)}: the builds differ by float32 rounding)`,
        );
      }
      if (!meta) {
        meta = m;
        from = dir;
      }
      phases.add(m.get("groksweep.phase") ?? "");
    }
    inputs.push({ dir, sources: srcs });
  }
  const merged = new Map(meta!);
  merged.set("groksweep.version", VERSION);
  merged.set("groksweep.shard", "");
  merged.set("groksweep.phase", phases.size === 1 ? [...phases][0] : "");
  const n = await writeMerged(inputs, out, schemaOf(RUN_COLUMNS, merged), schemaOf(CURVE_COLUMNS, merged));
  // which runs of the spec (of the merged phase) are missing?
  const sw = expand(JSON.parse(merged.get("groksweep.spec")!));
  const phase = merged.get("groksweep.phase") as "control" | "dependent" | "";
  const expected = select(sw, null, phase || null).map((r) => r.runId);
  const have = new Set<number>(),
    counts = noCounts(expected.length);
  for await (const b of batches(resolve(out, "runs.arrow"))) {
    const ids = b.getChild("run_id")!.toArray(),
      st = b.getChild("status")!;
    for (let i = 0; i < b.numRows; i++) {
      if (have.has(ids[i])) continue;
      have.add(ids[i]);
      tally(counts, st.get(i));
    }
  }
  // failed runs were attempted and recorded: only runs never attempted make the merge incomplete (exit 1)
  const missing = expected.filter((id) => !have.has(id));
  if (missing.length) process.exitCode = 1;
  if (argv.json) {
    const obj = { spec_hash: merged.get("groksweep.spec_hash"), dirs, out, merged: n, counts, missing, phase };
    process.stdout.write(JSON.stringify({ ...obj, phase: phase || null, exit_code: missing.length ? 1 : 0 }) + "\n");
    return;
  }
  process.stdout.write(`merged ${n} runs from ${dirs.length} director${dirs.length === 1 ? "y" : "ies"} → ${out}\n`);
  process.stdout.write(sweepSummary(counts, out));
  if (missing.length) {
    process.stderr.write(
      `missing ${missing.length} of ${expected.length} runs: ` +
        `run_id ${missing.slice(0, 20).join(", ")}${missing.length > 20 ? ", …" : ""}\n`,
    );
  }
}
