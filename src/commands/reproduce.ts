// `groksweep reproduce delay-law --scale quick|paper --out DIR`: the paper's delay-law experiment in one
// command — free controls, measured Wc, the clamp grid over ρ (one resumable sweep), the fit, the
// report, and the published numbers side by side with the measured ones.
import { join, resolve } from "node:path";
import type { Argv } from "yargs";
import { tableToIPC } from "apache-arrow";
import { readSpec, expand } from "../spec.js";
import { runSweep } from "../sweep.js";
import { poolOptions, POOL_OPTIONS } from "./sweep.js";
import { kernelChoice, loadKernels, KERNELS_OPTION, FAST_MATH_OPTION } from "../kernels.js";
import { rateKey } from "../cost.js";
import { COMPRESSION_OPTION } from "../arrow.js";
import { sources, readSchema } from "../store.js";
import { FIT_DEFAULTS } from "../fit/estimate.js";
import { fitsTable } from "../fit/output.js";
import { UsageError } from "../options.js";
import { VERSION } from "../version.js";
import { SCALES, Scale, scaleSpec, delayLawPlan, planText, costOf, compare, formatComparison } from "../reproduce.js";
import { checkOutDir, single, sweepSummary, writeAtomic, EXIT_FAILED_RUNS } from "../cli-util.js";
import { runFit } from "./fit.js";
import { writeReport, SAMPLE_RUNS } from "./report.js";

const EXPERIMENTS = ["delay-law"] as const;

async function cmdReproduce(argv: Record<string, unknown>): Promise<void> {
  const experiment = String(argv.experiment);
  if (!(EXPERIMENTS as readonly string[]).includes(experiment))
    throw new UsageError("EXPERIMENT", experiment, `one of ${EXPERIMENTS.join("|")}`);
  const scaleArg = single(argv, "scale"),
    specArg = single(argv, "spec");
  if (scaleArg !== undefined && specArg !== undefined)
    throw new UsageError("--spec", specArg, "either --scale or --spec, not both");
  if (scaleArg !== undefined && !Object.hasOwn(SCALES, String(scaleArg)))
    throw new UsageError("--scale", scaleArg, `one of ${Object.keys(SCALES).join("|")}`);
  if (specArg !== undefined && (typeof specArg !== "string" || specArg === ""))
    throw new UsageError("--spec", specArg, "a spec file");
  const scale = specArg !== undefined ? "custom" : ((scaleArg as Scale | undefined) ?? "quick");
  const specFile = resolve(specArg !== undefined ? String(specArg) : scaleSpec(scale as Scale));
  const { workers, retries } = poolOptions(argv);
  const kernels = kernelChoice(argv);
  const out = single(argv, "out");
  if (!argv["dry-run"]) {
    if (typeof out !== "string" || !out) throw new UsageError("--out", out, "an output directory");
    checkOutDir(out);
  }

  const sw = expand(readSpec(specFile));
  const plan = delayLawPlan(sw, specArg !== undefined ? "--spec" : "--scale", specFile);
  if (!argv["dry-run"]) await checkSameSweep(resolve(out as string), sw.hash);
  // the time estimates take the rates of the kernels that will run (the plan names them; a dry run adds no note
  // on stderr where auto falls back to strict)
  const rates = rateKey(loadKernels(kernels, argv["dry-run"] ? () => {} : undefined));
  const title =
    `reproduce ${experiment} ` + (specArg !== undefined ? `--spec ${specFile}` : `--scale ${scale}: ${specFile}`);
  if (argv["dry-run"] && argv.json) {
    const { free, clamp, rhos, seedsPerRho, tInt, samePaperConfig, cfg } = plan;
    const obj = { experiment, scale, spec: specFile, spec_hash: sw.hash, n_runs: sw.runs.length, workers };
    const grid = { rhos, seeds_per_rho: seedsPerRho, t_int: tInt, same_paper_config: samePaperConfig };
    const runs = { free: free.length, clamp: clamp.length };
    process.stdout.write(JSON.stringify({ ...obj, runs, ...grid, config: cfg, cost: costOf(plan, rates) }) + "\n");
    return;
  }
  process.stdout.write(planText(plan, sw, title, workers, rates));
  if (argv["dry-run"]) return;

  // 1. the sweep: controls first, their median Wc releases the clamp grid (runSweep); resumable
  const dir = resolve(out as string);
  const opts = {
    out: dir,
    workers,
    shard: null,
    phase: null,
    wcFrom: [],
    quiet: Boolean(argv.quiet),
    kernels,
    retries,
  };
  const { code, counts } = await runSweep(sw, opts);
  process.stdout.write(sweepSummary(counts, dir));
  if (code === 130 || code === 143) {
    process.stdout.write("interrupted: the same command again continues from the finished runs\n");
    process.exitCode = code;
    return;
  }

  // 2. the fit (fit's defaults: every ρ, censored medians excluded, 2000 bootstrap resamples)
  const { runs, result } = await runFit(dir, { ...FIT_DEFAULTS });
  writeAtomic(join(dir, "fits.json"), JSON.stringify(result, null, 1) + "\n");
  writeAtomic(
    join(dir, "fits.arrow"),
    tableToIPC(
      fitsTable(
        result,
        new Map([
          ["groksweep.version", VERSION],
          ["groksweep.fit", JSON.stringify(result)],
        ]),
      ),
      "file",
    ),
  );

  // 3. the comparison, then the report (which shows it above the fit tables)
  const cmp = compare(result, plan, { scale, spec: specFile, specHash: sw.hash, version: VERSION });
  const text = formatComparison(cmp);
  writeAtomic(join(dir, "comparison.json"), JSON.stringify(cmp, null, 1) + "\n");
  const html = join(dir, "report.html");
  const rep = await writeReport({
    input: dir,
    out: html,
    runs,
    result,
    sample: SAMPLE_RUNS,
    title: `groksweep reproduce ${experiment} (${scale})`,
    preface: text,
  });
  process.stdout.write(
    `\n${text}\nwrote ${join(dir, "fits.json")}, fits.arrow, comparison.json, report.html and ${rep.svgs} SVG plot(s)` +
      `${rep.omitted.length ? `; not plotted: ${rep.omitted.join("; ")}` : ""}\n`,
  );
  // failed runs are left out of the analysis (fits.json counts them); --strict makes them an exit code
  process.exitCode = argv.strict && counts.failed > 0 ? EXIT_FAILED_RUNS : code;
}

/** DIR must be empty or hold this very sweep: said before the plan is printed (runSweep would refuse it later). */
async function checkSameSweep(dir: string, hash: string): Promise<void> {
  for (const s of sources(dir)) {
    const theirs = (await readSchema(s.runs)).metadata.get("groksweep.spec_hash");
    if (theirs !== hash)
      throw new UsageError(
        "--out",
        dir,
        `an empty directory or one of this sweep (it holds spec ${theirs}, this one is ${hash})`,
      );
  }
}

export const command = "reproduce <experiment>";
export const describe =
  "run a paper experiment end to end (controls → measured Wc → clamp grid → fit → report) " +
  "and compare with the published numbers";
export function builder(y: Argv): Argv {
  return y
    .positional("experiment", { type: "string", describe: `the experiment: ${EXPERIMENTS.join("|")}` })
    .option("scale", {
      type: "string",
      describe: `quick (${SCALES.quick}, minutes) | paper (${SCALES.paper}, core-hours) [quick]`,
    })
    .option("spec", {
      type: "string",
      describe: "run this spec instead of a scale's (the same shape: free controls + clamp at ≥ 3 ρ with wc: measure)",
    })
    .option("out", {
      type: "string",
      describe: "output directory: the sweep (resumable), fits.json/.arrow, report.html + SVGs, comparison.json",
    })
    .options(POOL_OPTIONS)
    .option("dry-run", { type: "boolean", describe: "print the plan and its cost; run nothing" })
    .option("json", { type: "boolean", describe: "with --dry-run: the plan as one JSON object" })
    .option("quiet", { type: "boolean", describe: "no sweep progress on stderr" })
    .option("compression", COMPRESSION_OPTION)
    .option("kernels", KERNELS_OPTION)
    .option("fast-math", FAST_MATH_OPTION);
}
export const handler = cmdReproduce;
