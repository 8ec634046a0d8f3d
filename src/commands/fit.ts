// `groksweep fit DIR|runs.arrow`: summaries and fits of a sweep, as tables, JSON or fits.arrow.
import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Argv } from "yargs";
import { tableToIPC } from "apache-arrow";
import { UsageError } from "../options.js";
import { VERSION } from "../version.js";
import { checkOutDir, makeDir, single, writeAtomic } from "../cli-util.js";
import { CONFIG_COLUMNS, ConfigCol, readRuns, runsSources, Run } from "../fit/read.js";
import { FIT_DEFAULTS, FitOptions, FitResult, fit } from "../fit/estimate.js";
import { fitsTable, formatFit } from "../fit/output.js";
import { readTraces } from "../fit/traces.js";
import { PHASE_GAP } from "../fit/phase.js";

function choice<T extends string>(argv: Record<string, unknown>, k: string, options: readonly T[], dflt: T): T {
  const v = single(argv, k);
  if (v === undefined) return dflt;
  if (!options.includes(v as T)) throw new UsageError(`--${k}`, v, `one of ${options.join("|")}`);
  return v as T;
}

function number(
  argv: Record<string, unknown>,
  k: string,
  ok: (x: number) => boolean,
  expected: string,
): number | undefined {
  const v = single(argv, k);
  if (v === undefined) return undefined;
  const x = typeof v === "string" && v.trim() !== "" ? Number(v) : typeof v === "number" ? v : NaN;
  if (!Number.isFinite(x) || !ok(x)) throw new UsageError(`--${k}`, v, expected);
  return x;
}

/** The analysis options shared by `fit` and `report`, validated. */
export function fitOptions(argv: Record<string, unknown>): FitOptions {
  const o: FitOptions = { ...FIT_DEFAULTS };
  const by = single(argv, "by");
  if (by !== undefined) {
    const cols = String(by)
      .split(",")
      .map((s) => s.trim());
    if (
      String(by).trim() === "" ||
      !cols.every((c) => (CONFIG_COLUMNS as readonly string[]).includes(c)) ||
      new Set(cols).size !== cols.length
    ) {
      throw new UsageError("--by", by, `distinct comma-separated config columns from ${CONFIG_COLUMNS.join(",")}`);
    }
    o.by = cols as ConfigCol[];
  }
  o.median = choice(argv, "median", ["all", "grokked"] as const, o.median);
  o.censored = choice(argv, "censored", ["excluded", "mle"] as const, o.censored);
  o.wcStat = choice(argv, "wc-stat", ["median", "mean"] as const, o.wcStat);
  o.rhoMin = number(argv, "rho-min", (x) => x > 0, "a number > 0") ?? null;
  o.rhoMax = number(argv, "rho-max", (x) => x > 0, "a number > 0") ?? null;
  if (o.rhoMin !== null && o.rhoMax !== null && o.rhoMax < o.rhoMin) {
    throw new UsageError("--rho-max", single(argv, "rho-max"), `a number ≥ --rho-min (${o.rhoMin})`);
  }
  const steps = (x: number) => Number.isInteger(x) && x >= 0;
  o.phaseGap = number(argv, "phase-gap", steps, "an integer ≥ 0 (steps)") ?? o.phaseGap;
  o.boot = number(argv, "boot", (x) => Number.isInteger(x) && x >= 0 && x <= 1e6, "an integer in [0, 1e6]") ?? o.boot;
  o.seed =
    number(argv, "seed", (x) => Number.isInteger(x) && x >= 0 && x < 2 ** 31, "an integer in [0, 2^31)") ?? o.seed;
  return o;
}

export function fitOptionsBuilder(y: Argv): Argv {
  return y
    .option("by", { type: "string", describe: "group key: comma-separated config columns [all config columns]" })
    .option("median", {
      type: "string",
      describe:
        "T_grok median of a cell in fits and levers: all (censored seeds = +∞) | " +
        "grokked (grokked seeds only, the paper's tables) [all]",
    })
    .option("censored", {
      type: "string",
      describe:
        "delay law under censoring: excluded (drop cells whose median is censored) | mle (Tobit on seeds) [excluded]",
    })
    .option("rho-min", { type: "string", describe: "lowest ρ entering the delay-law fits" })
    .option("rho-max", { type: "string", describe: "highest ρ entering the delay-law fits" })
    .option("boot", { type: "string", describe: "bootstrap resamples for the α intervals (0: none) [2000]" })
    .option("seed", { type: "string", describe: "bootstrap seed [0]" })
    .option("phase-gap", {
      type: "string",
      describe: `T_grok − T_mem (steps) above which a run groks rather than comprehends (Liu et al.) [${PHASE_GAP}]`,
    })
    .option("wc-stat", {
      type: "string",
      describe: "per-p Wc in the power law: median | mean over grokked seeds [median]",
    });
}

export type FitOutput = FitResult & { input: string[]; version: string };

/** The runs of one input and their fit (the free runs' curves read batch by batch), with the provenance added to
 *  the public JSON. */
export async function runFit(input: string, o: FitOptions): Promise<{ runs: Run[]; result: FitOutput }> {
  const files = runsSources(input).map((x) => x.runs),
    runs = await readRuns(input);
  const traces = await readTraces(input, runs);
  return { runs, result: { version: VERSION, input: files, ...fit(runs, o, traces) } };
}

function checkOutFile(flag: string, path: unknown): string {
  if (
    typeof path !== "string" ||
    path === "" ||
    path.endsWith("/") ||
    (existsSync(path) && statSync(path).isDirectory())
  ) {
    throw new UsageError(flag, path, "a file path (not a directory)");
  }
  checkOutDir(resolve(path, ".."));
  return path;
}

async function cmdFit(argv: Record<string, unknown>): Promise<void> {
  const o = fitOptions(argv);
  const out = single(argv, "out") === undefined ? undefined : checkOutFile("--out", argv.out);
  const { result } = await runFit(String(argv.input), o);
  if (out !== undefined) {
    makeDir(dirname(resolve(out)), out);
    const meta = new Map([
      ["groksweep.version", VERSION],
      ["groksweep.fit", JSON.stringify(result)],
    ]);
    writeAtomic(out, tableToIPC(fitsTable(result, meta), "file"));
  }
  if (argv.json) process.stdout.write(JSON.stringify(result) + "\n");
  else process.stdout.write(formatFit(result) + (out !== undefined ? `\nwrote ${resolve(out)}\n` : ""));
}

export const command = "fit <input>";
export const describe = "per-configuration summaries, the Wc power law, the delay law and lever ratios of a sweep";
export function builder(y: Argv): Argv {
  return fitOptionsBuilder(
    y.positional("input", { type: "string", describe: "DIR holding runs.arrow, or a runs .arrow file" }),
  )
    .option("json", { type: "boolean", describe: "print the result as JSON (docs/analysis.md)" })
    .option("out", { type: "string", describe: "also write the result as an Arrow table (e.g. fits.arrow)" });
}
export const handler = cmdFit;
