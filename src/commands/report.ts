// `groksweep report DIR -o report.html`: the fits and plots of a sweep as one offline HTML page, with
// each plot also written as an .svg beside it (report-accuracy.svg, …).
import { existsSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Argv } from "yargs";
import { UsageError } from "../options.js";
import { VERSION } from "../version.js";
import { checkOutDir, makeDir, single, writeFilesAtomic } from "../cli-util.js";
import { fitOptions, fitOptionsBuilder, runFit, FitOutput } from "./fit.js";
import { CONFIG_COLUMNS, type Run } from "../fit/read.js";
import { formatFit } from "../fit/output.js";
import type * as Report from "../report.js";

export const SAMPLE_RUNS = 8; // report.ts is imported lazily: vega takes ~0.5 s to load

const PLOT_NAMES = ["accuracy", "norm", "delay", "wc-power", "wc-hist", "phases"];

/** report.html → report-<plot>.svg beside it. */
export const svgPath = (html: string, name: string) => `${html.replace(/\.html?$/i, "")}-${name}.svg`;

async function cmdReport(argv: Record<string, unknown>): Promise<void> {
  const o = fitOptions(argv);
  const input = String(argv.input);
  const outArg = single(argv, "out");
  const dflt =
    existsSync(input) && statSync(input).isDirectory()
      ? join(input, "report.html")
      : join(dirname(input), "report.html");
  const out = resolve(outArg === undefined ? dflt : String(outArg));
  if (outArg === "" || out.endsWith("/") || (existsSync(out) && statSync(out).isDirectory()))
    throw new UsageError("--out", outArg, "an .html file path");
  checkOutDir(dirname(out));
  const k = argv.sample === undefined ? SAMPLE_RUNS : Number(argv.sample);
  if (!Number.isInteger(k) || k < 1 || k > 100) throw new UsageError("--sample", argv.sample, "an integer in [1, 100]");

  const axesArg = single(argv, "phase-axes");
  const axes = axesArg === undefined ? null : String(axesArg).split(",");
  if (axes && (axes.length !== 2 || !axes.every((c) => (CONFIG_COLUMNS as readonly string[]).includes(c))))
    throw new UsageError("--phase-axes", axesArg, `two config columns a,b from ${CONFIG_COLUMNS.join(",")}`);
  const { runs, result } = await runFit(input, o);
  const w = await writeReport({ input, out, runs, result, sample: k, axes });
  process.stdout.write(
    `wrote ${out} and ${w.svgs} SVG plot(s)${w.omitted.length ? `; not plotted: ${w.omitted.join("; ")}` : ""}\n`,
  );
}

/** Writes the page and its SVGs (all or nothing) for a fit already computed; `preface` goes above the fit tables. */
export async function writeReport(o: {
  input: string;
  out: string;
  runs: Run[];
  result: FitOutput;
  sample: number;
  title?: string;
  preface?: string;
  axes?: string[] | null;
}): Promise<{ svgs: number; omitted: string[] }> {
  const { buildPlots, readCurves, reportHtml, sampleRuns }: typeof Report = await import("../report.js");
  const { out, runs, result } = o;
  const sample = sampleRuns(runs, o.sample);
  const plots = await buildPlots(runs, await readCurves(o.input, sample), sample, result, o.sample, o.axes ?? null);
  const html = reportHtml({
    title: o.title ?? "groksweep report",
    input: result.input,
    version: VERSION,
    nRuns: runs.length,
    plots,
    fitText: (o.preface ? o.preface + "\n" : "") + formatFit(result),
  });

  // every file to a temporary name first, renamed together at the end: no partial report on failure
  makeDir(dirname(out), out);
  const files: [string, string][] = [
    [out, html],
    ...plots.filter((p) => p.svg).map((p): [string, string] => [svgPath(out, p.name), p.svg!]),
  ];
  writeFilesAtomic(files);
  // a plot omitted this time must not leave last time's SVG behind
  for (const name of PLOT_NAMES)
    if (!plots.some((p) => p.name === name && p.svg)) rmSync(svgPath(out, name), { force: true });
  return { svgs: files.length - 1, omitted: plots.filter((p) => !p.svg).map((p) => `${p.name} (${p.note})`) };
}

export const command = "report <input>";
export const describe = "an offline HTML report (SVG plots by vega-lite, fit tables) of a sweep";
export function builder(y: Argv): Argv {
  return fitOptionsBuilder(
    y.positional("input", {
      type: "string",
      describe: "DIR holding runs.arrow (and curves.arrow), or a runs .arrow file",
    }),
  )
    .option("out", {
      alias: "o",
      type: "string",
      describe: "the HTML file; plots go beside it as <name>-<plot>.svg [DIR/report.html]",
    })
    .option("phase-axes", { type: "string", describe: "the phase diagram's two config columns a,b [lr,wd if swept]" })
    .option("sample", {
      type: "string",
      describe: `runs whose curves are drawn, evenly spaced over configurations and seeds [${SAMPLE_RUNS}]`,
    });
}
export const handler = cmdReport;
