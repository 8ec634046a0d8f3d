// `groksweep report`: one self-contained HTML page (inline SVG, no scripts, no network) with the
// training curves of a sample of runs, the delay law, the Wc power law and the Wc histogram, plus the
// fit tables. Plots are vega-lite specs compiled and rendered to SVG in Node.
import { existsSync } from "node:fs";
import { compile, TopLevelSpec } from "vega-lite";
import * as vega from "vega";
import { Run, CONFIG_COLUMNS, runsSources } from "./fit/read.js";
import type { FitResult } from "./fit/estimate.js";
import { PHASES } from "./fit/phase.js";
import { batches } from "./store.js";

export interface Plot {
  name: string;
  title: string;
  caption: string;
  svg: string | null;
  note: string | null;
}
interface CurvePoint {
  step: number;
  train_acc: number | null;
  test_acc: number | null;
  weight_norm: number | null;
}

/** Up to k runs evenly spaced through the runs in configuration/seed order (so that different configurations show). */
export function sampleRuns(runs: readonly Run[], k: number): Run[] {
  const order = [...runs].sort((a, b) => {
    for (const c of CONFIG_COLUMNS) {
      const x = a.cfg[c],
        y = b.cfg[c];
      if (x !== y) return x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
    }
    return a.seed - b.seed || a.run_id - b.run_id;
  });
  if (order.length <= k) return order;
  return Array.from({ length: k }, (_, i) => order[Math.round((i * (order.length - 1)) / (k - 1))]);
}

/** Curves of the given runs, from the curves file next to each runs file (absent file: no curves), read batch by
 *  batch: only the sampled runs' rows are kept. */
export async function readCurves(input: string, runs: readonly Run[]): Promise<Map<Run, CurvePoint[]>> {
  const out = new Map<Run, CurvePoint[]>();
  for (const { runs: file, curves } of runsSources(input)) {
    const want = new Map(runs.filter((r) => r.file === file).map((r) => [r.run_id, r]));
    if (!want.size || curves === null || !existsSync(curves)) continue;
    for await (const b of batches(curves)) {
      const col = (n: string) => b.getChild(n) ?? { get: () => null };
      // run_id is never null: scan it as a typed array, box values only for the sampled runs' rows
      const id = b.getChild("run_id")!.toArray() as Int32Array,
        step = col("step"),
        tr = col("train_acc"),
        te = col("test_acc"),
        w = col("weight_norm");
      for (let i = 0; i < id.length; i++) {
        const r = want.get(id[i]);
        if (!r) continue;
        if (!out.has(r)) out.set(r, []);
        out
          .get(r)!
          .push({ step: step.get(i) as number, train_acc: tr.get(i), test_acc: te.get(i), weight_norm: w.get(i) });
      }
    }
  }
  return out;
}

/** Config columns that tell the given keys apart in a legend, skipping any column that the columns
 *  already chosen determine (wc_ref follows p in a p-scan). */
function labeller(keys: readonly Record<string, unknown>[]): (k: Record<string, unknown>) => string {
  const v = (k: Record<string, unknown>, cols: readonly string[]) => JSON.stringify(cols.map((c) => k[c] ?? null));
  const chosen: string[] = [];
  for (const c of CONFIG_COLUMNS) {
    const seen = new Map<string, string>(); // value of the chosen columns → value of c
    const splits = keys.some((k) => {
      const a = v(k, chosen),
        b = v(k, [c]);
      if (!seen.has(a)) seen.set(a, b);
      return seen.get(a) !== b;
    });
    if (splits) chosen.push(c);
  }
  // nothing varies: name the p (or nothing) rather than print an empty label
  return (k) => chosen.map((c) => `${c}=${k[c]}`).join(" ") || (k.p !== undefined ? `p=${k.p}` : "all");
}

const runLabel = (runs: readonly Run[]) => {
  const lab = labeller(runs.map((r) => r.cfg));
  const many = new Set(runs.map((r) => JSON.stringify(r.cfg))).size > 1;
  return (r: Run) => `run ${r.run_id}${many ? ` (${lab(r.cfg)})` : ""} seed ${r.seed}`;
};

const X_STEP = { field: "step", type: "quantitative", scale: { type: "log", nice: false }, title: "step" } as const;
const SIZE = { width: 560, height: 320, config: { legend: { labelLimit: 360 } } };

function curvePlots(
  sample: readonly Run[],
  curves: Map<Run, CurvePoint[]>,
): [TopLevelSpec | string, TopLevelSpec | string] {
  const withCurves = sample.filter((r) => curves.get(r)?.length);
  if (!withCurves.length) {
    const why = sample.length ? "no curves.arrow rows for the sampled runs" : "no runs";
    return [why, why];
  }
  const label = runLabel(withCurves);
  const acc = withCurves.flatMap((r) =>
    curves
      .get(r)!
      .filter((c) => c.step >= 1)
      .flatMap((c) => [
        { run: label(r), step: c.step, split: "train", acc: c.train_acc },
        { run: label(r), step: c.step, split: "test", acc: c.test_acc },
      ]),
  );
  const events = withCurves.flatMap((r) => [
    ...(r.t_mem
      ? [{ run: label(r), step: r.t_mem, event: "T_mem", acc: accAt(curves.get(r)!, r.t_mem, "train_acc") }]
      : []),
    ...(r.t_grok
      ? [{ run: label(r), step: r.t_grok, event: "T_grok", acc: accAt(curves.get(r)!, r.t_grok, "test_acc") }]
      : []),
  ]);
  const color = { field: "run", type: "nominal", title: "run", sort: withCurves.map(label) } as const;
  const accuracy: TopLevelSpec = {
    ...SIZE,
    title: "train / test accuracy",
    layer: [
      {
        data: { values: acc },
        mark: { type: "line", strokeWidth: 1.5 },
        encoding: {
          x: X_STEP,
          y: { field: "acc", type: "quantitative", title: "accuracy", scale: { domain: [0, 1] } },
          color,
          strokeDash: { field: "split", type: "nominal", title: "split", sort: ["train", "test"] },
        },
      },
      {
        data: { values: events },
        mark: { type: "point", filled: true, size: 70 },
        encoding: {
          x: X_STEP,
          y: { field: "acc", type: "quantitative" },
          color,
          shape: { field: "event", type: "nominal", title: "event" },
        },
      },
    ],
  } as TopLevelSpec;
  const norms = withCurves.flatMap((r) =>
    curves
      .get(r)!
      .filter((c) => c.step >= 1 && c.weight_norm !== null)
      .map((c) => ({ run: label(r), step: c.step, norm: c.weight_norm })),
  );
  const wc = withCurves
    .filter((r) => r.t_grok && r.wc !== null)
    .map((r) => ({ run: label(r), step: r.t_grok, norm: r.wc, mark: "Wc = ‖W‖ at T_grok" }));
  const norm: TopLevelSpec = {
    ...SIZE,
    title: "weight norm ‖W‖",
    layer: [
      {
        data: { values: norms },
        mark: { type: "line", strokeWidth: 1.5 },
        encoding: {
          x: X_STEP,
          y: { field: "norm", type: "quantitative", title: "‖W‖", scale: { zero: false } },
          color,
        },
      },
      {
        data: { values: wc },
        mark: { type: "point", filled: true, size: 80 },
        encoding: {
          x: X_STEP,
          y: { field: "norm", type: "quantitative" },
          color,
          shape: { field: "mark", type: "nominal", title: "" },
        },
      },
    ],
  } as TopLevelSpec;
  return [accuracy, norm];
}

/**
 * The value logged at a step, or at the first logged step after it (the engine detects T_mem/T_grok on
 * logged steps).
 */
function accAt(c: readonly CurvePoint[], step: number, k: "train_acc" | "test_acc"): number | null {
  return c.find((x) => x.step >= step)?.[k] ?? null;
}

function delayPlot(f: FitResult): TopLevelSpec | string {
  const fits = f.delay_law.per_p;
  if (!fits.length) return "no delay-law fit (needs clamp runs at ≥ 3 ρ values per configuration; see the fit notes)";
  const lab = labeller(fits);
  const name = (r: Record<string, unknown>) => `${lab(r)}: α=${(r.alpha as number).toFixed(2)}`;
  const pts = fits
    .flatMap((r) =>
      (r.all_rhos as number[]).map((rho, i) => ({
        fit: name(r),
        rho,
        ln_t: (r.t_grok_medians as (number | null)[])[i] === null ? null : Math.log((r.t_grok_medians as number[])[i]),
        cell: (r.rhos as number[]).includes(rho)
          ? "fitted"
          : (r.excluded_rhos as number[]).includes(rho)
            ? "censored median (excluded)"
            : (r.t_grok_medians_censored as boolean[])[i]
              ? "outside the ρ range, censored"
              : "outside the ρ range",
      })),
    )
    .filter((p) => p.ln_t !== null);
  // the fitted line over the fitted ρ, dashed where it is extrapolated to the other cells
  const lines = fits.flatMap((r) => {
    const rh = r.rhos as number[],
      all = r.all_rhos as number[],
      lo = Math.min(...rh),
      hi = Math.max(...rh);
    const at = (rho: number, part: string, seg: string) => ({
      fit: name(r),
      seg: `${name(r)} ${seg}`,
      part,
      rho,
      ln_t: (r.intercept as number) + (r.alpha as number) * rho,
    });
    return [
      at(lo, "fit", "fit"),
      at(hi, "fit", "fit"),
      ...(Math.min(...all) < lo
        ? [at(Math.min(...all), "extrapolated", "below"), at(lo, "extrapolated", "below")]
        : []),
      ...(Math.max(...all) > hi
        ? [at(hi, "extrapolated", "above"), at(Math.max(...all), "extrapolated", "above")]
        : []),
    ];
  });
  const color = {
    field: "fit",
    type: "nominal",
    title: `fit (${f.censoring === "mle" ? "Tobit MLE" : "OLS on medians"})`,
  } as const;
  return {
    ...SIZE,
    title: "ln T_grok vs ρ (clamp runs; points: cell medians)",
    layer: [
      {
        data: { values: lines },
        mark: { type: "line", strokeWidth: 1.5 },
        encoding: {
          x: { field: "rho", type: "quantitative", title: "ρ", scale: { zero: false, padding: 12 } },
          y: { field: "ln_t", type: "quantitative", title: "ln T_grok", scale: { zero: false, padding: 12 } },
          color,
          detail: { field: "seg" },
          strokeDash: { field: "part", type: "nominal", title: "line", sort: ["fit", "extrapolated"] },
        },
      },
      {
        data: { values: pts },
        mark: { type: "point", size: 60 },
        encoding: {
          x: { field: "rho", type: "quantitative" },
          y: { field: "ln_t", type: "quantitative" },
          color,
          shape: { field: "cell", type: "nominal", title: "cell" },
        },
      },
    ],
  } as TopLevelSpec;
}

function powerPlot(f: FitResult): TopLevelSpec | string {
  const fits = f.wc_power_law;
  if (!fits.length) return "no Wc power law (needs grokked free runs at ≥ 3 values of p; see the fit notes)";
  const lab = labeller(fits);
  const name = (r: Record<string, unknown>) => `${lab(r)}: β=${(r.beta as number).toFixed(3)}`;
  const pts = fits.flatMap((r) =>
    (r.ps as number[]).map((p, i) => ({ fit: name(r), p, wc: (r.wc_per_p as number[])[i] })),
  );
  const lines = fits.flatMap((r) => {
    const ps = r.ps as number[];
    return [Math.min(...ps), Math.max(...ps)].map((p) => ({
      fit: name(r),
      p,
      wc: (r.c as number) * p ** (r.beta as number),
    }));
  });
  const color = { field: "fit", type: "nominal", title: "Wc = c·p^β" } as const;
  const x = { field: "p", type: "quantitative", title: "p", scale: { type: "log", nice: false, padding: 12 } } as const;
  const y = {
    field: "wc",
    type: "quantitative",
    title: `Wc (${f.wc_stat} over grokked seeds)`,
    scale: { type: "log", nice: false, padding: 12 },
  } as const;
  return {
    ...SIZE,
    title: "Wc vs p (free runs, log–log)",
    layer: [
      { data: { values: lines }, mark: { type: "line", strokeWidth: 1.5 }, encoding: { x, y, color } },
      { data: { values: pts }, mark: { type: "point", filled: true, size: 60 }, encoding: { x, y, color } },
    ],
  } as TopLevelSpec;
}

function histPlot(runs: readonly Run[]): TopLevelSpec | string {
  const v = runs
    .filter((r) => r.cfg.arm === "free" && r.t_grok !== null && r.wc !== null)
    .map((r) => ({ wc: r.wc, p: String(r.cfg.p) }));
  if (!v.length) return "no grokked free runs (a clamp run's Wc is its held norm)";
  return {
    ...SIZE,
    title: "Wc across grokked seeds (free runs)",
    data: { values: v },
    mark: "bar",
    encoding: {
      x: { field: "wc", type: "quantitative", bin: { maxbins: 40 }, title: "Wc = ‖W‖ at T_grok" },
      y: { aggregate: "count", type: "quantitative", title: "seeds" },
      color: { field: "p", type: "nominal", title: "p", sort: [...new Set(v.map((x) => x.p))].sort((a, b) => +a - +b) },
    },
  } as TopLevelSpec;
}

/** Liu et al.'s phase diagram: the majority phase of each cell of two swept configuration columns (`axes`, or
 *  lr × wd, or the first two that vary), pooling every other column. */
function phasePlot(f: FitResult, axes: string[] | null): TopLevelSpec | string {
  const varying = CONFIG_COLUMNS.filter((c) => new Set(f.groups.map((g) => JSON.stringify(g[c]))).size > 1);
  const [a, b] = axes ?? (varying.includes("lr") && varying.includes("wd") ? ["lr", "wd"] : varying.slice(0, 2));
  if (b === undefined) return "no phase diagram (needs two swept configuration columns; --phase-axes)";
  const cells = new Map<string, Record<string, number>>();
  for (const g of f.groups) {
    const k = JSON.stringify([g[a], g[b]]),
      c = cells.get(k) ?? cells.set(k, Object.fromEntries(PHASES.map((p) => [p, 0]))).get(k)!;
    for (const p of PHASES) c[p] += (g[`n_${p}`] as number) ?? 0;
  }
  const values = [...cells].flatMap(([k, c]) => {
    const [x, y] = JSON.parse(k),
      n = PHASES.reduce((s, p) => s + c[p], 0);
    const top = PHASES.reduce((m, p) => (c[p] > c[m] ? p : m));
    return n ? [{ x: String(x), y: String(y), phase: top, share: c[top] / n, n }] : [];
  });
  const order = (col: string) =>
    [...new Set(f.groups.map((g) => g[col]))].sort((u, v) => (u! < v! ? -1 : 1)).map(String);
  return {
    ...SIZE,
    title: `Phases (Liu et al.; gap ${f.phase_gap} steps) over ${a} × ${b}`,
    data: { values },
    mark: "rect",
    encoding: {
      x: { field: "x", type: "ordinal", title: a, sort: order(a) },
      y: { field: "y", type: "ordinal", title: b, sort: order(b).reverse() },
      color: { field: "phase", type: "nominal", title: "majority phase", scale: { domain: [...PHASES] } },
      opacity: { field: "share", type: "quantitative", title: "its share", scale: { domain: [0, 1] } },
      tooltip: [{ field: "n", type: "quantitative" }],
    },
  } as TopLevelSpec;
}

/** SVG text of a vega-lite spec, ids prefixed so that several SVGs can share one page. */
export async function renderSvg(spec: TopLevelSpec, prefix: string): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none", logLevel: vega.Error });
  const svg = await view.toSVG();
  view.finalize();
  return svg
    .replace(/id="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

export async function buildPlots(
  runs: readonly Run[],
  curves: Map<Run, CurvePoint[]>,
  sample: readonly Run[],
  f: FitResult,
  k: number,
  axes: string[] | null = null,
): Promise<Plot[]> {
  const [acc, norm] = curvePlots(sample, curves);
  const specs: [string, string, string, TopLevelSpec | string][] = [
    [
      "accuracy",
      "Accuracy vs step",
      `Train (solid) and test (dashed) accuracy of ${
        sample.length < runs.length
          ? `${sample.length} runs sampled evenly over configurations and seeds (--sample ${k})`
          : "every run"
      }, log step axis; points mark T_mem and T_grok.`,
      acc,
    ],
    ["norm", "Weight norm vs step", "‖W‖ of the same runs; the point marks Wc, the norm at T_grok.", norm],
    [
      "delay",
      "Delay law",
      "ln of the median T_grok per ρ with the fitted lines ln T_grok = intercept + α·ρ of each configuration.",
      delayPlot(f),
    ],
    ["wc-power", "Wc power law", "Per-p Wc of free runs on log–log axes with the fitted Wc = c·p^β.", powerPlot(f)],
    ["wc-hist", "Wc histogram", "Wc of every grokked free-run seed, stacked by p.", histPlot(runs)],
    [
      "phases",
      "Phase diagram",
      "Majority phase of each cell (comprehension, grokking, memorization, confusion), its share as opacity.",
      phasePlot(f, axes),
    ],
  ];
  const out: Plot[] = [];
  for (const [name, title, caption, spec] of specs) {
    out.push(
      typeof spec === "string"
        ? { name, title, caption, svg: null, note: spec }
        : { name, title, caption, svg: await renderSvg(spec, name), note: null },
    );
  }
  return out;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function reportHtml(o: {
  title: string;
  input: string[];
  version: string;
  nRuns: number;
  plots: Plot[];
  fitText: string;
}): string {
  const sections = o.plots
    .map(
      (p) => `<section id="${p.name}">
<h2>${esc(p.title)}</h2>
${
  p.svg
    ? `<figure>${p.svg}<figcaption>${esc(p.caption)}</figcaption></figure>`
    : `<p class="note">Not plotted: ${esc(p.note!)}.</p>`
}
</section>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(o.title)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
figure { margin: 0 0 1.5em; } figcaption { color: #555; font-size: 13px; }
.note { color: #8a5a00; background: #fff6e0; padding: .4em .7em; border-radius: 4px; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 12px; }
</style>
</head>
<body>
<h1>${esc(o.title)}</h1>
<p>${o.nRuns} runs from ${o.input.map((f) => `<code>${esc(f)}</code>`).join(", ")} · groksweep ${esc(o.version)}</p>
${sections}
<section id="fits">
<h2>Fits</h2>
<pre>${esc(o.fitText)}</pre>
</section>
</body>
</html>
`;
}
