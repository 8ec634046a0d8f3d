// Readers stream (#16): fit, report and merge read batch by batch. A sweep flushed one run at a time keeps a
// batch per run through compaction, so its files hold many small batches: every reader gives what it gives
// on the same rows in one batch, and reading a curves file of 10⁶ rows does not hold it in memory.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createWriteStream, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { finished } from "node:stream/promises";
import { tableFromIPC, RecordBatch, RecordBatchFileWriter, Struct, makeData, Int32, Float32 } from "apache-arrow";
import { recordBatch, writeTables, schemaOf } from "../src/arrow.js";
import { RUN_COLUMNS, CURVE_COLUMNS } from "../src/columns.js";
import { batches } from "../src/store.js";
import { readRuns } from "../src/fit/read.js";
import { readSpec, expand } from "../src/spec.js";
import { runSweep } from "../src/sweep.js";
import { cli, tmp, runRows, curveRows, TINY, ROOT } from "./helpers.js";

const nBatches = async (path: string) => {
  let n = 0;
  for await (const _ of batches(path)) n++;
  return n;
};
const rowsOf = (path: string) => [...tableFromIPC(readFileSync(path))].map((r) => r.toJSON());

/** The tiny example swept with a part (so a batch) per run, and the same files rewritten as one batch each. */
let dirs: Promise<{ many: string; one: string }> | null = null;
const sweeps = () =>
  (dirs ??= (async () => {
    const many = tmp("groksweep-many-"),
      one = tmp("groksweep-one-");
    const opts = { out: many, workers: 2, shard: null, phase: null, wcFrom: [], quiet: true, flushRuns: 1 };
    assert.equal((await runSweep(expand(readSpec(TINY)), opts)).code, 0);
    const tables: Parameters<typeof writeTables>[1] = {};
    for (const f of ["curves.arrow", "runs.arrow"]) {
      const t = tableFromIPC(readFileSync(join(many, f)));
      tables[f] = { schema: t.schema, batches: [recordBatch(t.schema, rowsOf(join(many, f)))] };
    }
    writeTables(one, tables);
    return { many, one };
  })());

test("a sweep flushed a run at a time keeps a batch per run; the one-batch copy holds the same rows", async () => {
  const { many, one } = await sweeps();
  assert.equal(await nBatches(join(many, "runs.arrow")), 12);
  assert.equal(await nBatches(join(many, "curves.arrow")), 12);
  assert.equal(await nBatches(join(one, "runs.arrow")), 1);
  assert.deepEqual(rowsOf(join(one, "runs.arrow")), rowsOf(join(many, "runs.arrow")));
  assert.deepEqual(rowsOf(join(one, "curves.arrow")), rowsOf(join(many, "curves.arrow")));
});

test("fit and report on many small batches give what they give on one batch", async () => {
  const { many, one } = await sweeps();
  const fit = (d: string) => {
    const r = cli(["fit", d, "--json", "--boot", "50"]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.replaceAll(d, "DIR");
  };
  const a = fit(many);
  assert.equal(a, fit(one));
  assert.ok(JSON.parse(a).wc_threshold.length, "the curves were read (Wc at other thresholds)");
  const report = (d: string) => {
    const r = cli(["report", d, "-o", join(d, "r", "report.html"), "--boot", "50"]);
    assert.equal(r.code, 0, r.stderr);
    return readFileSync(join(d, "r", "report.html"), "utf8").replaceAll(d, "DIR");
  };
  const html = report(many);
  assert.equal(html, report(one));
  assert.match(html, /<svg/);
});

test("merge streams many small batches: duplicates resolved as with one batch, batches kept as they come", async () => {
  const { many, one } = await sweeps();
  const merge = (...ds: string[]) => {
    const out = tmp("groksweep-merged-");
    const r = cli(["merge", ...ds, "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    return out;
  };
  const [ab, ba, a] = [merge(many, one), merge(one, many), merge(many)];
  for (const m of [ab, ba, a]) {
    assert.deepEqual(runRows(m), runRows(one));
    assert.deepEqual(curveRows(m), curveRows(one));
  }
  assert.equal(await nBatches(join(a, "curves.arrow")), 12);
});

test("readRuns across batches: the first copy of a run_id wins unless it failed and a later one exists", async () => {
  const { many } = await sweeps();
  const t = tableFromIPC(readFileSync(join(many, "runs.arrow")));
  const rows = rowsOf(join(many, "runs.arrow")).sort((x, y) => x.run_id - y.run_id);
  const r0 = rows[0];
  const copies = [
    { ...r0, status: "failed", t_grok: null },
    { ...r0, t_grok: 111 },
    { ...r0, t_grok: 222 },
  ];
  const dir = tmp("groksweep-dups-");
  // newest rows first, one batch each, run 0's copies spread over the file
  const order = [...rows.slice(1).reverse(), ...copies];
  writeTables(dir, { "runs.arrow": { schema: t.schema, batches: order.map((r) => recordBatch(t.schema, [r])) } });
  const runs = await readRuns(dir);
  assert.deepEqual(
    runs.map((r) => r.run_id),
    rows.map((r) => r.run_id),
  );
  assert.equal(runs[0].t_grok, 111);
  assert.deepEqual(
    runs.slice(1).map((r) => r.t_grok),
    rows.slice(1).map((r) => r.t_grok),
  );
});

test("report reads a curves file of 2·10⁶ rows in 200 batches in far less memory than the file", async () => {
  const dir = tmp("groksweep-big-"),
    meta = new Map([["groksweep.version", "test"]]);
  const rs = schemaOf(RUN_COLUMNS, meta),
    cs = schemaOf(CURVE_COLUMNS, meta);
  writeTables(dir, { "runs.arrow": { schema: rs, batches: [recordBatch(rs, [])] } });
  // 200 batches of 10 runs × 1000 steps: the float columns shared, run_id and step per batch
  const n = 10_000,
    vals = makeData({ type: new Float32(), length: n, data: new Float32Array(n).fill(0.5) });
  const w = new RecordBatchFileWriter();
  const out = createWriteStream(join(dir, "curves.arrow"));
  w.toNodeStream().pipe(out);
  w.reset(undefined, cs);
  for (let b = 0; b < 200; b++) {
    const id = Int32Array.from({ length: n }, (_, i) => b * 10 + Math.floor(i / 1000)),
      step = Int32Array.from({ length: n }, (_, i) => i % 1000);
    const children = cs.fields.map((f, i) =>
      i < 2 ? makeData({ type: new Int32(), length: n, data: i ? step : id }) : vals,
    );
    w.write(new RecordBatch(cs, makeData({ type: new Struct(cs.fields), length: n, nullCount: 0, children })));
    if (out.writableNeedDrain) await new Promise((r) => out.once("drain", r));
  }
  w.close();
  await finished(out);
  const size = statSync(join(dir, "curves.arrow")).size;
  // a child process reads it, so that its peak RSS is the reading's alone. Read whole, the file costs more
  // than its size; read by batch, the uncollected batches level off near V8's 64 MB external-memory trigger
  const script = `
    import { readCurves } from ${JSON.stringify(resolve(ROOT, "dist/src/report.js"))};
    const file = ${JSON.stringify(resolve(dir, "runs.arrow"))};
    const before = process.memoryUsage().rss;
    const curves = await readCurves(${JSON.stringify(dir)}, [3, 1024, 1999].map((run_id) => ({ file, run_id })));
    const points = [...curves.values()].map((c) => c.length);
    console.log(JSON.stringify({ points, grew: process.resourceUsage().maxRSS * 1024 - before }));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 0, r.stderr);
  const { points, grew } = JSON.parse(r.stdout);
  assert.deepEqual(points, [1000, 1000, 1000]);
  assert.ok(grew < size / 2, `peak RSS grew by ${(grew / 1e6).toFixed(1)} MB reading ${(size / 1e6).toFixed(1)} MB`);
});
