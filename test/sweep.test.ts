// groksweep sweep on one machine: measured Wc, resume, failure isolation, and independent readers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC, tableToIPC, Table } from "apache-arrow";
import { recordBatch } from "../src/arrow.js";
import { cli, specFile, tmp, runRows, curveRows, TINY } from "./helpers.js";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const TINY_TITLE =
  "tiny sweep: controls first, clamp runs at ρ × the median Wc of the grokked controls; " +
  "re-running skips finished runs";
test(TINY_TITLE, () => {
  const out = tmp();
  const r = cli(["sweep", TINY, "--out", out, "--workers", "2"]);
  assert.equal(r.code, 0, r.stderr);
  const rows = runRows(out);
  assert.equal(rows.length, 12);
  assert.ok(!existsSync(join(out, ".parts")));
  const free = rows.filter((x) => x.arm === "free"),
    clamp = rows.filter((x) => x.arm === "clamp");
  const wc = median(free.filter((x) => x.status === "grokked").map((x) => x.wc as number));
  for (const c of clamp) {
    assert.equal(c.wc_ref, wc);
    if (c.status === "grokked")
      assert.ok(
        Math.abs((c.wc as number) - (c.rho as number) * wc) < 1e-3 * wc,
        `clamped ‖W‖ ${c.wc} vs ${c.rho}·${wc}`,
      );
  }
  const meta = tableFromIPC(readFileSync(join(out, "runs.arrow"))).schema.metadata;
  assert.equal(JSON.parse(meta.get("groksweep.spec")!).name, "tiny");
  assert.equal(meta.get("groksweep.n_runs"), "12");
  // each run's curves are all there
  const curves = curveRows(out);
  for (const row of rows) assert.equal(curves.filter((c) => c.run_id === row.run_id).at(-1)!.step, row.steps_run);
  // the same command again: nothing to do, nothing duplicated
  const again = cli(["sweep", TINY, "--out", out, "--workers", "1"]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(runRows(out), rows);
  assert.equal(curveRows(out).length, curves.length);
  // worker count does not change results
  const one = tmp();
  assert.equal(cli(["sweep", TINY, "--out", one, "--workers", "1", "--quiet"]).code, 0);
  assert.deepEqual(runRows(one), rows);
  assert.deepEqual(curveRows(one), curves);
  // another spec into the same directory is refused
  const other = cli(["sweep", specFile({ p: 13, "max-steps": 10 }), "--out", out]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--out: expected a directory of this sweep/);
});

test("progress: one JSON line on stderr when not a TTY, nothing with --quiet", () => {
  const spec = specFile({ p: 11, d: 8, H: 12, "max-steps": 20, seeds: 2 });
  const r = cli(["sweep", spec, "--out", tmp()]);
  assert.equal(r.code, 0, r.stderr);
  const line = JSON.parse(r.stderr.trim().split("\n").at(-1)!);
  assert.deepEqual(
    { ...line.progress, runs_per_s: 0, elapsed_s: 0 },
    { done: 2, total: 2, grokked: 0, censored: 2, diverged: 0, failed: 0, runs_per_s: 0, elapsed_s: 0, eta_s: 0 },
  );
  assert.equal(cli(["sweep", spec, "--out", tmp(), "--quiet"]).stderr, "");
});

/** runs.arrow rows as written (attempts and provenance kept), by run_id. */
const rawRows = (dir: string) =>
  [...tableFromIPC(readFileSync(join(dir, "runs.arrow")))].map((r) => r.toJSON()).sort((a, b) => a.run_id - b.run_id);

test("a control that never groks fails its dependent runs (permanent) with a clear error; the sweep exits 0", () => {
  const out = tmp();
  const spec = specFile({
    p: 11,
    d: 8,
    H: 12,
    "max-steps": 30,
    seeds: 2,
    blocks: [{ arm: "free" }, { arm: "clamp", wc: "measure", rho: 1 }],
  });
  const r = cli(["sweep", spec, "--out", out, "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  const rows = rawRows(out);
  assert.deepEqual(
    rows.map((x) => x.status),
    ["censored", "censored", "failed", "failed"],
  );
  assert.match(rows[2].error as string, /no free control .* grokked/);
  assert.deepEqual(
    [rows[2].error_kind, rows[2].attempts, rows[0].error_kind, rows[0].attempts],
    ["permanent", 0, null, 1],
  );
  assert.equal(cli(["sweep", spec, "--out", out, "--quiet", "--strict"]).code, 3); // not retried: still failed
  assert.equal(rows[2].t_grok, null);
  assert.equal(rows[2].final_train_acc, null);
});

test("failures stay local: a dying worker (retried, transient) and a run too large for wasm (permanent)", () => {
  const out = tmp();
  const spec = specFile({
    p: 11,
    d: 8,
    H: 12,
    "max-steps": 50,
    seeds: 4,
    blocks: [{}, { d: 65536, H: 65536, seeds: 1 }],
  });
  const r = cli(["sweep", spec, "--out", out, "--workers", "2", "--quiet"], { GROKSWEEP_FAULT: "exit:1" });
  assert.equal(r.code, 0, r.stderr);
  const rows = rawRows(out);
  assert.deepEqual(
    rows.map((x) => x.status),
    ["censored", "failed", "censored", "censored", "failed"],
  );
  assert.match(rows[1].error as string, /exit|terminated|stopped/i);
  assert.deepEqual([rows[1].error_kind, rows[1].attempts], ["transient", 3]); // the first attempt and 2 retries
  assert.match(rows[4].error as string, /needs .* GiB of wasm memory/); // 2·65536² floats cannot be allocated
  assert.deepEqual([rows[4].error_kind, rows[4].attempts], ["permanent", 1]);
});

test("the output opens in an independent Arrow reader (nodejs-polars) with the same values and nulls", async () => {
  let pl: any;
  try {
    pl = (await import("nodejs-polars")).default;
  } catch {
    return;
  }
  const out = tmp();
  const spec = specFile({
    p: 11,
    d: 8,
    H: 12,
    "max-steps": 40,
    seeds: 3,
    blocks: [{}, { arm: "clamp", wc: 5, rho: 1.2, "t-int": 10 }],
  });
  assert.equal(cli(["sweep", spec, "--out", out, "--quiet"]).code, 0);
  // (nodejs-polars 0.24's readIPC(path) mis-detects the format: hand it the bytes, or use scanIPC)
  const df = pl.readIPC(readFileSync(join(out, "runs.arrow"))).sort("run_id");
  const rows = [...tableFromIPC(readFileSync(join(out, "runs.arrow")))]
    .map((r) => r.toJSON())
    .sort((a, b) => a.run_id - b.run_id);
  assert.equal(df.height, rows.length);
  const cols = tableFromIPC(readFileSync(join(out, "runs.arrow"))).schema.fields.map((f) => f.name);
  assert.deepEqual(df.columns, cols);
  for (const col of cols) {
    if (col === "wall_ms") continue;
    assert.deepEqual(
      df
        .getColumn(col)
        .toArray()
        .map((v: unknown) => (v instanceof Date ? v.getTime() : (v ?? null))), // timestamps: Date in polars
      rows.map((r) => r[col]),
      col,
    );
  }
  assert.ok(rows.some((r) => r.wc_ref === null) && rows.some((r) => r.wc_ref === 5)); // nulls survive
  const curves = pl.scanIPC(join(out, "curves.arrow")).collectSync();
  assert.equal(curves.height, curveRows(out).length);
});

test("a directory written before the appended columns existed resumes: old rows get their defaults", () => {
  const out = tmp();
  assert.equal(cli(["sweep", TINY, "--out", out, "--quiet"]).code, 0);
  const full = runRows(out);
  // rewrite as an older version would have: runs 0…3 only (the controls), without the columns appended since
  for (const [f, last] of [
    ["runs.arrow", "error"],
    ["curves.arrow", "fourier_gini"],
  ] as const) {
    const t = tableFromIPC(readFileSync(join(out, f))),
      names = t.schema.fields.map((x) => x.name);
    const old = t.select(names.slice(0, names.indexOf(last) + 1));
    const rows = [...old].map((x) => x.toJSON()).filter((x) => (x.run_id as number) < 4);
    writeFileSync(join(out, f), tableToIPC(new Table(old.schema, [recordBatch(old.schema, rows)]), "file"));
  }
  const r = cli(["sweep", TINY, "--out", out, "--quiet"]);
  assert.equal(r.code, 0, r.stderr);
  const again = runRows(out);
  assert.deepEqual(
    again.map((x) => [x.run_id, x.clamp_group, x.loss, x.t_grok]),
    full.map((x) => [x.run_id, "all", "ce", x.t_grok]),
  );
  assert.equal(again[0].wc_mlp, null); // unknown for the old rows
  assert.equal(again[11].wc_mlp, full[11].wc_mlp);
});
