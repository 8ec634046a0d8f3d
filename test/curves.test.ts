// Compact curves (#16): ZSTD-compressed curves.arrow read back by our readers and by nodejs-polars, --curves
// full|events|none (exactly the defined rows; the outcomes never depend on it), fit and report on thinned
// curves, and resume and merge with compressed parts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC, tableToIPC, tableFromArrays, MessageReader, CompressionType } from "apache-arrow";
import { CURVE_COLUMNS } from "../src/columns.js";
import { schemaOf } from "../src/arrow.js";
import { THRESHOLDS } from "../src/option-values.js";
import { cli, specFile, tmp, runRows, curveRows } from "./helpers.js";

type Row = Record<string, any>;
// grokking in ~100–250 steps, every step logged; a clamp block (T_int) with --observe, so some optional columns
// hold values and others nulls
const SPEC = {
  p: 23,
  d: 32,
  H: 64,
  frac: 0.8,
  lr: 3e-2,
  "max-steps": 300,
  log: "every:1",
  seeds: 3,
  blocks: [{}, { arm: "clamp", wc: 20, rho: 1.1, "t-int": 60, observe: "spectral" }],
};
const sweep = (doc: object, ...args: string[]) => {
  const out = tmp();
  const r = cli(["sweep", specFile(doc), "--out", out, "--quiet", ...args]);
  assert.equal(r.code, 0, r.stderr);
  return out;
};
const cached: Record<string, string> = {};
const full = () => (cached.full ??= sweep(SPEC));
const plain = () => (cached.plain ??= sweep(SPEC, "--compression", "none"));
const size = (dir: string) => statSync(join(dir, "curves.arrow")).size;

async function polars(): Promise<any> {
  try {
    return (await import("nodejs-polars")).default;
  } catch {
    return null;
  }
}

test("the ZSTD body buffers' 8-byte prefixes hold the uncompressed length (as the format says; arrow-js#470)", () => {
  const t = tableFromArrays({ x: Int32Array.from({ length: 1000 }, (_, i) => i % 7) });
  const reader = new MessageReader(tableToIPC(t, "stream", CompressionType.ZSTD));
  reader.readSchema();
  const msg = reader.readMessage()!;
  const body = reader.readMessageBody(msg.bodyLength),
    header = msg.header() as any;
  const values = header.buffers.at(-1);
  const prefix = new DataView(body.buffer, body.byteOffset + values.offset, 8).getBigInt64(0, true);
  assert.equal(header.compression?.type, CompressionType.ZSTD);
  assert.equal(prefix, 4000n);
  assert.ok(values.length < 4000, "compressed");
  assert.deepEqual(
    [...tableFromIPC(tableToIPC(t, "file", CompressionType.ZSTD)).getChild("x")!],
    [...t.getChild("x")!],
  );
});

test("ZSTD curves.arrow (the default) reads back as --compression none does, in our readers and polars", async () => {
  const z = full(),
    n = plain();
  assert.deepEqual(curveRows(z), curveRows(n));
  assert.deepEqual(runRows(z), runRows(n));
  assert.ok(size(z) < size(n) / 2, `${size(z)} vs ${size(n)} bytes`);
  // ZSTD frames in curves.arrow, none in runs.arrow (never compressed) nor in the plain curves
  const frames = (dir: string, f: string) => readFileSync(join(dir, f)).includes(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
  assert.deepEqual(
    [frames(z, "curves.arrow"), frames(z, "runs.arrow"), frames(n, "curves.arrow")],
    [true, false, false],
  );
  const rows = curveRows(z);
  assert.ok(rows.some((r) => r.spectral_entropy === null) && rows.some((r) => r.spectral_entropy !== null));
  const pl = await polars();
  if (!pl) return;
  // (nodejs-polars 0.24's readIPC(path) mis-detects the format: hand it the bytes)
  const df = pl.readIPC(readFileSync(join(z, "curves.arrow"))).sort(["run_id", "step"]);
  assert.deepEqual(
    df.columns,
    CURVE_COLUMNS.map(([name]) => name),
  );
  for (const [col] of CURVE_COLUMNS)
    assert.deepEqual(
      df
        .getColumn(col)
        .toArray()
        .map((v: unknown) => v ?? null),
      rows.map((r) => r[col]),
      col,
    );
  assert.equal(pl.scanIPC(join(z, "curves.arrow")).collectSync().height, rows.length);
});

/** The rows --curves events:K:M keeps of a run's full curves, as README "curves.arrow" defines them. */
function eventRows(run: Row, rows: Row[], k: number, m: number): Row[] {
  const first = (f: (r: Row) => boolean) => rows.findIndex(f);
  const events = [
    rows.findIndex((r) => r.step === run.t_mem),
    rows.findIndex((r) => r.step === run.t_grok),
    ...THRESHOLDS.map((th) => first((r) => r.test_acc >= th)),
    run.arm === "free" ? -1 : first((r) => r.step >= run.t_int),
  ].filter((e) => e >= 0);
  return rows.filter(
    (_, i) => i === 0 || i === rows.length - 1 || i % m === 0 || events.some((e) => Math.abs(i - e) <= k),
  );
}

test("--curves events keeps exactly the defined rows, none no rows; the outcomes never depend on it", async () => {
  const z = full();
  const runs = runRows(z),
    curves = curveRows(z);
  assert.ok(runs.filter((r) => r.status === "grokked").length >= 2, "some runs grok");
  const e = sweep({ ...SPEC, curves: "events:2:7" });
  const kept = curveRows(e);
  const want = runs.flatMap((r) =>
    eventRows(
      r,
      curves.filter((c) => c.run_id === r.run_id),
      2,
      7,
    ),
  );
  assert.deepEqual(kept, want);
  assert.ok(kept.length < curves.length / 3, `${kept.length} of ${curves.length} rows`);
  for (const r of runs.filter((r) => r.t_grok !== null))
    assert.ok(kept.some((c) => c.run_id === r.run_id && c.step === r.t_grok));
  const none = sweep({ ...SPEC, curves: "none" });
  for (const dir of [e, none]) assert.deepEqual(runRows(dir), runs);
  // none: an empty curves.arrow with the full schema, which polars opens too
  const t = tableFromIPC(readFileSync(join(none, "curves.arrow")));
  assert.equal(t.numRows, 0);
  assert.deepEqual(
    t.schema.fields.map((f) => `${f.name}:${f.type}`),
    schemaOf(CURVE_COLUMNS, new Map()).fields.map((f) => `${f.name}:${f.type}`),
  );
  const pl = await polars();
  const empty = { height: 0, width: CURVE_COLUMNS.length };
  if (pl) assert.deepEqual(pl.readIPC(readFileSync(join(none, "curves.arrow"))).shape, empty);
  // groksweep run: events (events:3:10) and none, with the outcomes of full
  const args = ["run", "--p", "23", "--d", "32", "--H", "64", "--frac", "0.8", "--lr", "3e-2", "--max-steps", "300"];
  const dirs = ["full", "events", "none"].map((c) => {
    const out = tmp();
    const r = cli([...args, "--log", "every:1", "--curves", c, "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    return out;
  });
  for (const d of dirs) assert.deepEqual(runRows(d), runRows(dirs[0]));
  const [run] = runRows(dirs[0]);
  assert.deepEqual(curveRows(dirs[1]), eventRows(run, curveRows(dirs[0]), 3, 10));
  assert.equal(curveRows(dirs[2]).length, 0);
  assert.match(cli([...args, "--curves", "events:1:0"]).stderr, /--curves: expected full, none or events\[:K\[:M\]\]/);
});

test("fit and report on events curves: Wc at the thresholds and V at T_mem, T_grok as with full curves", () => {
  const free = { ...SPEC, blocks: undefined };
  const fits = [free, { ...free, curves: "events" }].map((doc) => {
    const out = sweep(doc);
    const f = cli(["fit", out, "--json", "--boot", "0"]);
    assert.equal(f.code, 0, f.stderr);
    return { out, res: JSON.parse(f.stdout) };
  });
  const [a, b] = fits.map((f) => f.res);
  assert.ok(a.first_passage.length && a.wc_threshold.length, "the analyses ran");
  assert.deepEqual(b.wc_threshold, a.wc_threshold);
  for (const k of ["n", "v_mem", "v_star", "delay_observed"])
    assert.equal(b.first_passage[0][k], a.first_passage[0][k], k);
  // κ: OLS over fewer points between T_mem and T_grok, most of them in the windows at either end (here −23 %)
  const [ka, kb] = [a.first_passage[0].kappa, b.first_passage[0].kappa];
  assert.ok(kb > 0 && Math.abs(kb / ka - 1) < 0.5 && kb !== ka, `κ ${kb} vs ${ka}`);
  const r = cli(["report", fits[1].out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(readFileSync(join(fits[1].out, "report-accuracy.svg"), "utf8"), /<svg/);
});

test("resume and merge with compressed curves (and a plain shard) give the rows of one sweep", () => {
  const z = full();
  // resume: half the runs, then the whole spec into the same directory (finished files + compressed parts)
  const out = sweep(SPEC, "--shard", "0/2");
  assert.equal(cli(["sweep", specFile(SPEC), "--out", out, "--quiet"]).code, 0);
  assert.deepEqual(runRows(out), runRows(z));
  assert.deepEqual(curveRows(out), curveRows(z));
  // merge: a plain shard and a compressed one, into compressed and into plain output
  const s0 = sweep(SPEC, "--shard", "0/2", "--compression", "none"),
    s1 = sweep(SPEC, "--shard", "1/2");
  const [mz, mn] = ["zstd", "none"].map((how) => {
    const m = tmp();
    const r = cli(["merge", s0, s1, "--out", m, "--compression", how]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(runRows(m), runRows(z));
    assert.deepEqual(curveRows(m), curveRows(z));
    return size(m);
  });
  assert.ok(mz < mn / 2, `${mz}, ${mn} bytes`);
  assert.match(cli(["merge", s0, s1, "--out", tmp(), "--compression", "lz4"]).stderr, /--compression: expected zstd/);
  // slurm hands --compression none on to its tasks and merges
  const plan = cli(["slurm", specFile(SPEC), "--out", tmp(), "--dry-run", "--compression", "none"]).stdout;
  const execs = plan.split("\n").filter((l) => l.startsWith("exec "));
  assert.ok(execs.length >= 2 && execs.every((l) => l.endsWith(" --compression none")), execs.join("\n"));
});
