// `groksweep fit DIR|runs.arrow`: summaries and fits of a sweep, as tables, JSON or fits.arrow.
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Argv } from "yargs";
import { tableToIPC } from "apache-arrow";
import { UsageError } from "../options.js";
import { VERSION } from "../version.js";
import { checkOutDir } from "./run.js";
import {
  CONFIG_COLUMNS,
  ConfigCol,
  FIT_DEFAULTS,
  FitOptions,
  FitResult,
  fit,
  fitsTable,
  readRuns,
  runsSources,
  Run,
} from "../fit.js";

const single = (argv: Record<string, unknown>, k: string) => {
  const v = argv[k];
  if (Array.isArray(v)) throw new UsageError(`--${k}`, v, "a single value (given more than once)");
  return v;
};

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
        "T_grok median of a cell in fits and levers: all (censored seeds = +∞) | grokked (grokked seeds only, the paper's tables) [all]",
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
    .option("wc-stat", {
      type: "string",
      describe: "per-p Wc in the power law: median | mean over grokked seeds [median]",
    });
}

export type FitOutput = FitResult & { input: string[]; version: string };

/** The runs of one input and their fit, with the provenance added to the public JSON. */
export function runFit(input: string, o: FitOptions): { runs: Run[]; result: FitOutput } {
  const files = runsSources(input).map((x) => x.runs),
    runs = readRuns(input);
  return { runs, result: { version: VERSION, input: files, ...fit(runs, o) } };
}

/** Writes through a temporary name so that a failure leaves no partial file. */
export function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
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
  const { result } = runFit(String(argv.input), o);
  if (out !== undefined) {
    mkdirSync(dirname(resolve(out)), { recursive: true });
    const meta = new Map([
      ["groksweep.version", VERSION],
      ["groksweep.fit", JSON.stringify(result)],
    ]);
    writeAtomic(out, tableToIPC(fitsTable(result, meta), "file"));
  }
  if (argv.json) process.stdout.write(JSON.stringify(result) + "\n");
  else process.stdout.write(formatFit(result) + (out !== undefined ? `\nwrote ${resolve(out)}\n` : ""));
}

// ---- human-readable tables

type Row = Record<string, unknown>;
const fx = (x: unknown, d: number) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "-");
const steps = (x: unknown) =>
  typeof x === "number" && Number.isFinite(x) ? (Number.isInteger(x) ? String(x) : x.toFixed(1)) : "-";
const pct = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : "-");
const ci = (x: unknown) => (Array.isArray(x) ? `[${fx(x[0], 3)}, ${fx(x[1], 3)}]` : "-");
const list = (x: unknown) =>
  Array.isArray(x) ? x.map((v) => (typeof v === "number" ? +v.toPrecision(6) : v)).join(",") : "-";

/** A table whose config columns that vary across rows come first; constant ones go into a header line. */
function table(title: string, rows: Row[], cols: [string, (r: Row) => string][]): string {
  if (!rows.length) return "";
  const cfg = CONFIG_COLUMNS.filter((c) => rows.some((r) => c in r));
  const varying = cfg.filter((c) => new Set(rows.map((r) => JSON.stringify(r[c]))).size > 1);
  const constant = cfg.filter((c) => !varying.includes(c)).map((c) => `${c}=${rows[0][c]}`);
  const all: [string, (r: Row) => string][] = [
    ...varying.map((c): [string, (r: Row) => string] => [c, (r) => String(r[c])]),
    ...cols,
  ];
  const body = rows.map((r) => all.map(([, f]) => f(r)));
  const w = all.map(([h], i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const lines = [all.map(([h]) => h), ...body].map((r) => r.map((c, i) => c.padStart(w[i])).join("  "));
  return [`${title}${constant.length ? `\n  (all rows: ${constant.join(" ")})` : ""}`, ...lines].join("\n") + "\n\n";
}

export function formatFit(f: FitResult): string {
  if (f.n_runs === 0) return "no runs in the input\n";
  const bound = (v: unknown, c: unknown) => (c ? `≥${steps(v)}` : steps(v));
  const censorNote =
    f.censoring === "mle"
      ? "Tobit MLE on seeds, censored at max_steps"
      : "OLS of ln(median T_grok) on ρ; cells with a censored median excluded";
  const range = f.rho_min !== null || f.rho_max !== null ? `, ρ in [${f.rho_min ?? "-"}, ${f.rho_max ?? "-"}]` : "";
  return [
    table(
      `groups (${f.groups.length}; ≥x: median censored, only a lower bound; t_grok(gr): median over grokked seeds, * some censored)`,
      f.groups,
      [
        ["n", (r) => String(r.n)],
        ["grokked", (r) => String(r.n_grokked)],
        ["censored", (r) => String(r.n_censored)],
        ["t_grok", (r) => bound(r.t_grok_median, r.t_grok_median_censored)],
        [
          "t_grok(gr)",
          (r) => steps(r.t_grok_median_grokked) + ((r.n_censored as number) > 0 && r.n_grokked ? "*" : ""),
        ],
        ["t_mem", (r) => bound(r.t_mem_median, r.t_mem_median_censored)],
        ["wc_med", (r) => fx(r.wc_median, 2)],
        ["wc_mean", (r) => fx(r.wc_mean, 2)],
        ["wc_sd", (r) => fx(r.wc_sd, 2)],
        ["wc_cv", (r) => pct(r.wc_cv)],
      ],
    ),
    table("Wc over grokked free seeds pooled across learning rates", f.wc_cv_pooled, [
      ["lrs", (r) => list(r.lrs)],
      ["n", (r) => String(r.n)],
      ["wc_mean", (r) => fx(r.wc_mean, 2)],
      ["wc_sd", (r) => fx(r.wc_sd, 2)],
      ["wc_cv", (r) => pct(r.wc_cv)],
    ]),
    table(`Wc power law Wc = c·p^β (per-p ${f.wc_stat} of free runs)`, f.wc_power_law, [
      ["ps", (r) => list(r.ps)],
      ["wc", (r) => (r.wc_per_p as number[]).map((x) => x.toFixed(2)).join(",")],
      ["beta", (r) => fx(r.beta, 4)],
      ["c", (r) => fx(r.c, 3)],
      ["R²", (r) => fx(r.r2, 4)],
    ]),
    table(
      `delay law per p: ln T_grok = intercept + α·ρ (${censorNote}; median: ${f.median}${range})`,
      f.delay_law.per_p,
      [
        ["alpha", (r) => fx(r.alpha, 3)],
        ["95% CI", (r) => ci(r.alpha_ci)],
        ["intercept", (r) => fx(r.intercept, 3)],
        [f.censoring === "mle" ? "sigma" : "R²", (r) => (f.censoring === "mle" ? fx(r.sigma, 3) : fx(r.r2, 4))],
        ["rhos", (r) => list(r.rhos)],
        ["excluded", (r) => list(r.excluded_rhos) || "-"],
      ],
    ),
    table(`delay law, one shared α with an intercept per p (${censorNote})`, f.delay_law.shared, [
      ["ps", (r) => list(r.ps)],
      ["alpha", (r) => fx(r.alpha, 3)],
      ["95% CI", (r) => ci(r.alpha_ci)],
      [f.censoring === "mle" ? "sigma" : "R²", (r) => (f.censoring === "mle" ? fx(r.sigma, 3) : fx(r.r2, 4))],
      ["excluded ps", (r) => list(r.excluded_ps) || "-"],
    ]),
    table(`levers: max/min of median T_grok (median: ${f.median}; ≥x: censored median)`, f.levers, [
      ["along", (r) => String(r.along)],
      ["at", (r) => (r.along === "rho" ? `lr=${r.lr}` : `rho=${r.rho}`)],
      ["min", (r) => steps(r.min)],
      ["max", (r) => steps(r.max)],
      ["ratio", (r) => `${fx(r.ratio, 2)}×${r.bound ? " (bound)" : ""}`],
      ["censored seeds min/max", (r) => `${r.n_censored_min}/${r.n_censored_max}`],
    ]),
    f.notes.length ? "notes:\n" + f.notes.map((n) => `  - ${n}`).join("\n") + "\n" : "",
  ].join("");
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
