// `groksweep report`: a self-contained HTML page with SVG plots (and the same SVGs beside it), checked
// as text and, when Debian's chromium is installed, in a real headless browser.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { schemaOf, batchOf, writeTables } from "../src/arrow.js";
import { CURVE_COLUMNS, RUN_COLUMNS, CurveRowOut } from "../src/columns.js";
import { sampleRuns } from "../src/report.js";
import { Run } from "../src/fit/read.js";
import { cli, tmp, GROKS } from "./helpers.js";
import { havePaperData, PAPER_DATA, paperConfigs, paperRows } from "./paperdata.js";

const CHROMIUM = "/usr/bin/chromium";
const PLOTS = ["accuracy", "norm", "delay", "wc-power", "wc-hist", "phases"];
const svgs = (html: string) => html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];

/** The paper's p-scan as runs.arrow plus made-up curves (logistic accuracy, a norm bump) for every run. */
function pscanWithCurves(): string {
  const dir = tmp("groksweep-report-");
  const rows = paperRows(paperConfigs().filter((c) => c.experiment === "pscan"));
  const curves: CurveRowOut[] = rows.flatMap(({ runId, r }) =>
    Array.from({ length: 40 }, (_, i) => {
      const step = Math.round(r.cfg.maxSteps ** (i / 39)),
        tg = r.tGrok ?? 10 * r.cfg.maxSteps,
        tm = r.tMem ?? 100;
      const sig = (t: number) => 1 / (1 + (t / Math.max(step, 1)) ** 4);
      return {
        runId,
        c: {
          step,
          train_loss: 1 - sig(tm),
          train_acc: sig(tm),
          test_loss: 1,
          test_acc: sig(tg),
          weight_norm: 40 + 20 * Math.exp(-((Math.log(step + 1) - 5) ** 2)),
          norm_E: 1,
          norm_W1: 1,
          norm_W2: 1,
        },
      };
    }),
  );
  const meta = new Map([["groksweep.version", "test"]]);
  const rs = schemaOf(RUN_COLUMNS, meta),
    cs = schemaOf(CURVE_COLUMNS, meta);
  writeTables(dir, {
    "runs.arrow": { schema: rs, batches: [batchOf(rs, RUN_COLUMNS, rows)] },
    "curves.arrow": { schema: cs, batches: [batchOf(cs, CURVE_COLUMNS, curves)] },
  });
  return dir;
}

let full: { dir: string; html: string } | null = null;
/** One report with all six plots, shared by the tests below. */
function fullReport(): { dir: string; html: string } {
  if (full) return full;
  const dir = pscanWithCurves(),
    html = join(dir, "out", "report.html");
  const r = cli(["report", dir, "-o", html, "--rho-max", "1.15", "--boot", "200"]);
  assert.equal(r.code, 0, r.stderr);
  return (full = { dir, html });
}

test("sampleRuns: up to k runs, evenly spaced over configurations and seeds, always first and last", () => {
  const run = (i: number) => ({ run_id: i, seed: i % 4, cfg: { p: 10 + (i >> 2) } }) as unknown as Run;
  const runs = Array.from({ length: 40 }, (_, i) => run(39 - i));
  const s = sampleRuns(runs, 8);
  assert.equal(s.length, 8);
  assert.deepEqual(
    s.map((r) => r.run_id),
    [0, 6, 11, 17, 22, 28, 33, 39],
  );
  assert.equal(sampleRuns(runs.slice(0, 5), 8).length, 5);
});

test(
  "a report with every plot: inline SVGs, the same SVG files beside the page, nothing external",
  { skip: havePaperData ? false : `no ${PAPER_DATA}` },
  () => {
    const { html } = fullReport();
    const page = readFileSync(html, "utf8");
    assert.equal(svgs(page).length, 6);
    assert.doesNotMatch(page, /Not plotted/);
    for (const name of PLOTS) {
      const file = html.replace(/\.html$/, `-${name}.svg`);
      assert.ok(existsSync(file), file);
      assert.ok(page.includes(readFileSync(file, "utf8")), `${name}.svg is inlined`);
    }
    assert.deepEqual(
      readdirSync(join(html, "..")).sort(),
      ["report.html", ...PLOTS.map((n) => `report-${n}.svg`)].sort(),
    );
    // self-contained: no scripts, no fetched resources
    assert.doesNotMatch(page, /<script|<link|<img|@import|\s(src|href)="(?!#)/i);
    // the delay plot shows the four fitted p and the saturating ρ = 1.3 cells outside the fitted range
    const delay = readFileSync(html.replace(/\.html$/, "-delay.svg"), "utf8");
    for (const lab of ["p=41: α=7.92", "p=71: α=7.07", "outside the ρ range", "extrapolated"])
      assert.ok(delay.includes(lab), lab);
    assert.match(page, /one shared α/); // the fit tables
  },
);

test("a real run's report: curves plotted, plots without data omitted with a note, stale SVGs removed", () => {
  const dir = tmp();
  const g = cli([
    "run",
    "--p",
    String(GROKS.p),
    "--d",
    String(GROKS.d),
    "--H",
    String(GROKS.H),
    "--frac",
    String(GROKS.frac),
    "--lr",
    String(GROKS.lr),
    "--max-steps",
    "2500",
    "--seeds",
    "2",
    "--out",
    dir,
  ]);
  assert.equal(g.code, 0, g.stderr);
  const html = join(dir, "report.html");
  writeFileSync(html.replace(/\.html$/, "-delay.svg"), "<svg>stale</svg>");
  const r = cli(["report", dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /not plotted: delay \(no delay-law fit/);
  const page = readFileSync(html, "utf8");
  assert.equal(svgs(page).length, 3);
  assert.match(page, /Not plotted: no delay-law fit/);
  assert.match(page, /Not plotted: no Wc power law/);
  assert.ok(!existsSync(join(dir, "report-delay.svg")), "stale SVG removed");
  for (const n of ["accuracy", "norm", "wc-hist"]) assert.ok(existsSync(join(dir, `report-${n}.svg`)), n);
  assert.match(readFileSync(join(dir, "report-accuracy.svg"), "utf8"), /run 0 seed 0/);
});

test(
  "report: bad options exit 2 with one line and write nothing",
  { skip: havePaperData ? false : `no ${PAPER_DATA}` },
  () => {
    const { dir } = fullReport(),
      out = join(tmp(), "r.html");
    for (const [args, msg] of [
      [["--sample", "0"], /--sample: expected an integer in \[1, 100\], got "0"/],
      [["--median", "x"], /--median/],
    ] as const) {
      const r = cli(["report", dir, "-o", out, ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    }
    assert.deepEqual(readdirSync(join(out, "..")), []);
  },
);

/** Loads a page in headless chromium: its DOM after load and the console lines chromium logged. */
function browse(file: string): { dom: string; console: string[] } {
  const r = spawnSync(
    CHROMIUM,
    [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--user-data-dir=${tmp("groksweep-chromium-")}`,
      "--enable-logging=stderr",
      "--v=0",
      "--dump-dom",
      `file://${file}`,
    ],
    { encoding: "utf8", timeout: 60000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return { dom: r.stdout, console: r.stderr.split("\n").filter((l) => /CONSOLE/.test(l)) };
}

test(
  "headless chromium renders the report: six SVG plots, no console messages",
  {
    skip: !existsSync(CHROMIUM)
      ? `${CHROMIUM} missing (apt-get install -y --no-install-recommends chromium)`
      : !havePaperData
        ? `no ${PAPER_DATA}`
        : false,
  },
  () => {
    // the check itself: a page with console errors is caught
    const bad = join(tmp(), "bad.html");
    writeFileSync(
      bad,
      `<!doctype html><html><body><svg></svg><script>console.error("boom"); undefinedFn();</script></body></html>`,
    );
    const b = browse(bad);
    assert.ok(
      b.console.some((l) => l.includes("boom")) && b.console.some((l) => l.includes("undefinedFn")),
      b.console.join("\n"),
    );

    const { html } = fullReport(),
      page = browse(html);
    assert.deepEqual(page.console, []);
    for (const name of PLOTS)
      assert.match(page.dom, new RegExp(`<section id="${name}">\\s*<h2>[^<]*</h2>\\s*<figure><svg[^>]*class="marks"`));
    assert.equal((page.dom.match(/<svg/g) ?? []).length, 6);
  },
);
