// groksweep export --format parquet, read back by a real DuckDB: the same rows, values, types, nulls and metadata.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { DuckDBInstance } from "@duckdb/node-api";
import { recordBatch } from "../src/arrow.js";
import { EXPORT_DEFAULTS, exportParquet, runIdRanges } from "../src/export.js";
import { cli, specFile, tmp, curveRows } from "./helpers.js";

// free runs and clamp runs (nulls in wc_ref, t_grok, heads, error, the unobserved curve columns); a few seconds
const SWEEP = tmp();
const spec = {
  p: 11,
  d: 8,
  H: 12,
  "max-steps": 40,
  seeds: 3,
  observe: "spectral",
  blocks: [{}, { arm: "clamp", wc: 5, rho: 1.2, "t-int": 10 }],
};
const swept = cli(["sweep", specFile(spec), "--out", SWEEP, "--quiet"]);

const db = await (await DuckDBInstance.create(":memory:")).connect();
const sql = async (q: string) => (await db.runAndReadAll(q)).getRowObjectsJS() as Record<string, unknown>[];
// DuckDB's JS values as arrow-js gives them: timestamps as epoch ms, counts as numbers
const plain = (r: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.getTime() : typeof v === "bigint" ? Number(v) : v]),
  );
const arrowRows = (path: string) => [...tableFromIPC(readFileSync(path))].map((r) => r.toJSON());
const byRun = (a: any, b: any) => a.run_id - b.run_id || (a.step ?? 0) - (b.step ?? 0);

function exported(dir: string, ...args: string[]): { out: string; json: any } {
  const out = tmp();
  const r = cli(["export", dir, "--format", "parquet", "--out", out, "--json", ...args]);
  assert.equal(r.code, 0, r.stderr);
  return { out, json: JSON.parse(r.stdout) };
}

test("export: DuckDB reads runs.parquet and curves/*.parquet: the Arrow rows, values, types, nulls", async () => {
  assert.equal(swept.code, 0, swept.stderr);
  const { out, json } = exported(SWEEP);
  const runs = arrowRows(join(SWEEP, "runs.arrow")).sort(byRun);
  const got = (await sql(`select * from read_parquet('${out}/runs.parquet') order by run_id`)).map(plain);
  assert.equal(got.length, 6);
  assert.deepEqual(got, runs); // every column, same order, floats bit for bit, nulls null, timestamps to the ms
  assert.ok(runs.some((r) => r.wc_ref === null) && runs.some((r) => r.heads === null));
  const curves = (await sql(`select * from read_parquet('${out}/curves/*.parquet') order by run_id, step`)).map(plain);
  assert.deepEqual(curves, curveRows(SWEEP));
  assert.ok(curves.some((r) => r.spectral_entropy !== null) && curves.some((r) => r.eff_lr === null));

  const types = async (f: string) =>
    new Map((await sql(`describe select * from read_parquet('${f}')`)).map((r) => [r.column_name, r.column_type]));
  const rt = await types(`${out}/runs.parquet`),
    ct = await types(`${out}/curves/*.parquet`);
  assert.deepEqual(
    [rt.get("run_id"), rt.get("wc"), rt.get("layernorm"), rt.get("status")],
    ["INTEGER", "DOUBLE", "BOOLEAN", "VARCHAR"],
  );
  assert.equal(rt.get("started_at"), "TIMESTAMP WITH TIME ZONE");
  assert.deepEqual([ct.get("step"), ct.get("train_loss"), ct.get("eff_lr")], ["INTEGER", "FLOAT", "FLOAT"]);

  // the --json summary matches the files
  assert.deepEqual(json.rows, { runs: 6, curves: curves.length });
  assert.deepEqual(json.files.map((f: any) => f.path).sort(), ["curves/part-00000.parquet", "runs.parquet"]);
  assert.equal(
    json.bytes,
    json.files.reduce((s: number, f: any) => s + statSync(join(out, f.path)).size, 0),
  );
  assert.deepEqual(readdirSync(join(out, "curves")), ["part-00000.parquet"]); // no temporary left
});

test("export: the schema metadata is the Parquet key-value metadata (parquet_kv_metadata)", async () => {
  const { out } = exported(SWEEP);
  const meta = tableFromIPC(readFileSync(join(SWEEP, "runs.arrow"))).schema.metadata;
  for (const f of ["runs.parquet", "curves/part-00000.parquet"]) {
    const kv = new Map(
      (await sql(`select decode(key) k, decode(value) v from parquet_kv_metadata('${out}/${f}')`)).map((r) => [
        r.k,
        r.v,
      ]),
    );
    for (const k of ["groksweep.spec", "groksweep.spec_hash", "groksweep.version", "groksweep.kernels"]) {
      assert.ok(meta.get(k), k);
      assert.equal(kv.get(k), meta.get(k), `${f}: ${k}`);
    }
    if (f.startsWith("curves")) assert.equal(kv.get("groksweep.run_ids"), "0,6");
  }
});

test("export: a small --max-rows-per-file splits the curves by run_id range; DuckDB reads them all", async () => {
  const perRun = curveRows(SWEEP).filter((r) => r.run_id === 0).length;
  const { out, json } = exported(SWEEP, "--max-rows-per-file", String(2 * perRun + 1));
  const parts = json.files.filter((f: any) => f.table === "curves");
  assert.ok(parts.length >= 3, JSON.stringify(parts));
  for (const f of parts) assert.ok(f.rows <= 2 * perRun + 1 || f.run_ids[1] - f.run_ids[0] === 1);
  assert.deepEqual(
    parts.map((f: any) => f.run_ids),
    parts.map((_: unknown, i: number) => [parts[i].run_ids[0], parts[i + 1]?.run_ids[0] ?? 6]),
  ); // the ranges tile [0, 6)
  const curves = (await sql(`select * from read_parquet('${out}/curves/*.parquet') order by run_id, step`)).map(plain);
  assert.deepEqual(curves, curveRows(SWEEP));
  // exporting again with larger files leaves no stale part behind
  assert.equal(cli(["export", SWEEP, "--out", out]).code, 0);
  assert.deepEqual(readdirSync(join(out, "curves")), ["part-00000.parquet"]);
});

test("export: curves out of run_id order take several passes (2 files open at a time) and lose no row", async () => {
  // 6 one-run files, the rows of each run in two batches far apart (halves interleaved, run_ids descending):
  // the first pass cannot hold them all open
  const dir = tmp();
  copyFileSync(join(SWEEP, "runs.arrow"), join(dir, "runs.arrow"));
  const t = tableFromIPC(readFileSync(join(SWEEP, "curves.arrow")));
  const rows = [...t].map((r) => r.toJSON());
  const half = (k: 0 | 1) =>
    [5, 4, 3, 2, 1, 0].map((id) => {
      const mine = rows.filter((r) => r.run_id === id);
      const cut = mine.length >> 1;
      return recordBatch(t.schema, k ? mine.slice(cut) : mine.slice(0, cut));
    });
  writeFileSync(join(dir, "curves.arrow"), tableToIPC(new Table([...half(0), ...half(1)]), "file"));
  const perRun = rows.filter((r) => r.run_id === 0).length;
  const out = tmp();
  const files = await exportParquet(dir, out, { ...EXPORT_DEFAULTS, maxRowsPerFile: perRun, openFiles: 2 });
  assert.ok(files.length >= 5, JSON.stringify(files)); // one run a file, as a rule
  const curves = (await sql(`select * from read_parquet('${out}/curves/*.parquet') order by run_id, step`)).map(plain);
  assert.deepEqual(curves, curveRows(SWEEP));
});

test("export: polars (when installed) reads the Parquet files with the same values", async () => {
  const pl: any = await import("nodejs-polars").then((m) => m.default).catch(() => null);
  if (!pl) return;
  const { out } = exported(SWEEP, "--max-rows-per-file", "50");
  const rows = (df: any) => df.toRecords().map(plain).sort(byRun);
  assert.deepEqual(rows(pl.scanParquet(`${out}/curves/*.parquet`).collectSync()), curveRows(SWEEP));
  assert.deepEqual(rows(pl.readParquet(`${out}/runs.parquet`)), arrowRows(join(SWEEP, "runs.arrow")).sort(byRun));
});

test("runIdRanges packs whole runs into ranges that tile the run_ids", () => {
  const counts = new Map([
    [3, 10],
    [0, 5],
    [1, 5],
    [7, 30],
    [8, 1],
  ]);
  assert.deepEqual(runIdRanges(counts, 12), [
    { lo: 0, hi: 3, rows: 10 },
    { lo: 3, hi: 7, rows: 10 },
    { lo: 7, hi: 8, rows: 30 },
    { lo: 8, hi: 9, rows: 1 },
  ]);
  assert.deepEqual(runIdRanges(new Map(), 12), [{ lo: 0, hi: 0, rows: 0 }]);
});

test("export: bad input is one line naming the field and value, exit 2, nothing written", () => {
  const empty = tmp();
  const cases: [string[], RegExp][] = [
    [["export", empty], /^groksweep: DIR: expected a sweep output directory .*got ".*"\n$/],
    [
      ["export", SWEEP, "--format", "csv", "--out", join(empty, "o")],
      /^groksweep: --format: expected one of parquet, got "csv"\n$/,
    ],
    [
      ["export", SWEEP, "--max-rows-per-file", "0", "--out", join(empty, "o")],
      /^groksweep: --max-rows-per-file: .*"0"\n$/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stdout, "");
  }
  assert.deepEqual(readdirSync(empty), []);
  assert.ok(!existsSync(join(SWEEP, "parquet")));
});
