// `groksweep run`: one configuration for one or more seeds, trained one after another.
import { resolve } from "node:path";
import type { Argv } from "yargs";
import { parseRunConfig, UsageError, RunConfig, cliOptions } from "../options.js";
import { instantiate } from "../engine.js";
import { loadKernels, kernelChoice, kernelsMeta, Kernels, KERNELS_OPTION, FAST_MATH_OPTION } from "../kernels.js";
import { train, RunResult } from "../run.js";
import {
  schemaOf,
  batchOf,
  paramsSchema,
  paramsBatch,
  splitsSchema,
  splitsBatch,
  writeTables,
  curvesCompression,
  COMPRESSION_OPTION,
} from "../arrow.js";
import { RUN_COLUMNS, CURVE_COLUMNS, RunRow, runRecord } from "../columns.js";

import { VERSION } from "../version.js";
import { checkOutDir, makeDir } from "../cli-util.js";
import { provenance } from "../attempt.js";

/** run's options: every option of the table (src/option-table.ts), with its help and defaults. */
export const RUN_OPTIONS = cliOptions();

function fmt(x: number | null, digits = 0): string {
  return x === null || x === undefined ? "-" : x.toFixed(digits);
}

export function summaryTable(rows: RunRow[]): string {
  const head = ["run", "seed", "status", "t_mem", "t_grok", "wc", "train_acc", "test_acc", "|W|", "steps", "ms"];
  const body = rows.map(({ runId, r }) => [
    String(runId),
    String(r.cfg.seed),
    r.status,
    fmt(r.tMem),
    fmt(r.tGrok),
    fmt(r.wc, 2),
    fmt(r.final.train_acc, 3),
    fmt(r.final.test_acc, 3),
    fmt(r.final.weight_norm, 2),
    String(r.stepsRun),
    fmt(r.wallMs, 0),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [head, ...body].map((r) => r.map((c, i) => c.padStart(w[i])).join("  ")).join("\n");
}

async function cmdRun(argv: Record<string, unknown>): Promise<void> {
  const raw: Record<string, unknown> = {};
  for (const [k] of RUN_OPTIONS) {
    const v = argv[k];
    if (Array.isArray(v)) throw new UsageError(`--${k}`, v, "a single value (given more than once)");
    if (v !== undefined) raw[k] = v;
  }
  const cfg = parseRunConfig(raw);
  const nSeeds = Number(argv.seeds ?? 1);
  if (!Number.isInteger(nSeeds) || nSeeds < 1 || cfg.seed + nSeeds - 1 > 2 ** 31 - 1)
    throw new UsageError("--seeds", argv.seeds, "an integer ≥ 1");
  const choice = kernelChoice(argv);
  const out = argv.out as string | undefined;
  if (out !== undefined) {
    if (typeof out !== "string" || out === "") throw new UsageError("--out", out, "a directory path");
    checkOutDir(out);
  }
  const kernels = loadKernels(choice);
  const abi = instantiate(kernels);
  const rows: RunRow[] = [];
  for (let i = 0; i < nSeeds; i++) {
    const startedAt = Date.now();
    const r: RunResult = train(abi, { ...cfg, seed: cfg.seed + i });
    rows.push({ runId: i, r, prov: provenance(kernels.detail, 1, startedAt) });
    if (nSeeds > 1)
      process.stderr.write(
        `[${i + 1}/${nSeeds}] seed ${r.cfg.seed}: ${r.status} t_grok=${fmt(r.tGrok)} (${fmt(r.wallMs)} ms)\n`,
      );
  }
  if (out !== undefined) writeRunOutputs(out, cfg, nSeeds, rows, kernels);
  if (argv.json) process.stdout.write(JSON.stringify(rows.map(runRecord)) + "\n");
  else if (out === undefined) process.stdout.write(summaryTable(rows) + "\n");
  else process.stdout.write(summaryTable(rows) + `\nwrote ${resolve(out)}\n`);
}

function writeRunOutputs(out: string, cfg: RunConfig, nSeeds: number, rows: RunRow[], kernels: Kernels): void {
  makeDir(out);
  const meta = new Map([
    ["groksweep.version", VERSION],
    ...kernelsMeta(kernels),
    ["groksweep.config", JSON.stringify({ ...cfg, seeds: nSeeds })],
  ]);
  const runs = schemaOf(RUN_COLUMNS, meta),
    curves = schemaOf(CURVE_COLUMNS, meta);
  const tables: Parameters<typeof writeTables>[1] = {
    "runs.arrow": { schema: runs, batches: [batchOf(runs, RUN_COLUMNS, rows)] },
    "curves.arrow": {
      schema: curves,
      batches: [
        batchOf(
          curves,
          CURVE_COLUMNS,
          rows.flatMap(({ runId, r }) => r.curves.map((c) => ({ runId, c }))),
        ),
      ],
      compression: curvesCompression(),
    },
  };
  if (cfg.saveParams.length) {
    const ps = paramsSchema(meta),
      ss = splitsSchema(meta);
    tables["params.arrow"] = { schema: ps, batches: [paramsBatch(ps, rows)] };
    tables["splits.arrow"] = { schema: ss, batches: [splitsBatch(ss, rows)] };
  }
  writeTables(out, tables);
}

export const command = "run";
export const describe = "train one configuration (PROTOCOL.md defaults) for one or more seeds";
export function builder(y: Argv): Argv {
  for (const [k, spec] of RUN_OPTIONS) y.option(k, spec);
  return y
    .option("seeds", { type: "string", describe: "number of seeds: seed, seed+1, … [1]" })
    .option("out", { type: "string", describe: "write runs/curves(/params/splits).arrow to this directory" })
    .option("json", { type: "boolean", describe: "print the runs as JSON" })
    .option("compression", COMPRESSION_OPTION)
    .option("kernels", KERNELS_OPTION)
    .option("fast-math", FAST_MATH_OPTION);
}
export const handler = cmdRun;
