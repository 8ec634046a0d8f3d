// Failed runs are data: retried when transient (within the invocation and on resume), recorded once when
// permanent, superseded by the retry's row, and never a reason for a non-zero exit unless --strict.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { cli, specFile, tmp, runRows, curveRows } from "./helpers.js";
import { kindOf } from "../src/attempt.js";

const SPEC = { p: 11, d: 8, H: 12, "max-steps": 40, seeds: 3 };
const sweep = (spec: string, out: string, extra: string[] = [], env: Record<string, string> = {}) =>
  cli(["sweep", spec, "--out", out, "--workers", "1", "--quiet", ...extra], env);

test("kindOf: memory exhaustion is transient; the 4 GiB layout and any other error are permanent", () => {
  assert.equal(kindOf(new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded")), "transient");
  assert.equal(kindOf(new RangeError("Out of memory: Cannot allocate Wasm memory for new instance")), "transient");
  assert.equal(kindOf(new Error("a run … needs 8.0 GiB of wasm memory (wasm32 allows < 4 GiB)")), "permanent");
  assert.equal(kindOf(new RangeError("Invalid array length")), "permanent");
  assert.equal(kindOf(new TypeError("x is undefined")), "permanent");
});

test("a worker that dies on the first attempt only: retried at once, the row is the retry's", () => {
  const spec = specFile(SPEC),
    out = tmp(),
    ref = tmp();
  const r = sweep(spec, out, [], { GROKSWEEP_FAULT: "exit:1@1" });
  assert.equal(r.code, 0, r.stderr);
  const rows = runRows(out);
  assert.deepEqual(
    rows.map((x) => x.status),
    ["censored", "censored", "censored"],
  );
  const attempts = [...tableFromIPC(readFileSync(join(out, "runs.arrow")))].map((x) => [x.run_id, x.attempts]);
  assert.deepEqual(
    attempts.sort((a, b) => a[0] - b[0]),
    [
      [0, 1],
      [1, 2],
      [2, 1],
    ],
  );
  assert.equal(sweep(spec, ref).code, 0);
  assert.deepEqual(rows, runRows(ref)); // the same results as a sweep without the fault
  assert.deepEqual(curveRows(out), curveRows(ref));
});

test("transient failures are retried on resume: the failed row gives way to the new one (runs and curves)", () => {
  const spec = specFile(SPEC),
    out = tmp(),
    ref = tmp();
  const first = sweep(spec, out, ["--retries", "0"], { GROKSWEEP_FAULT: "oom:2" });
  assert.equal(first.code, 0, first.stderr);
  let rows = runRows(out);
  assert.deepEqual([rows[2].status, rows[2].error_kind], ["failed", "transient"]);
  assert.match(rows[2].error as string, /could not allocate/);
  assert.equal(sweep(spec, out, ["--retries", "0", "--strict"], { GROKSWEEP_FAULT: "oom:2" }).code, 3);
  const again = sweep(spec, out, ["--json"]);
  assert.equal(again.code, 0, again.stderr);
  const summary = JSON.parse(again.stdout);
  assert.deepEqual([summary.counts.done, summary.counts.failed, summary.exit_code], [3, 0, 0]);
  rows = runRows(out);
  assert.equal(rows.length, 3); // one row per run_id
  assert.equal(rows[2].status, "censored");
  const raw = [...tableFromIPC(readFileSync(join(out, "runs.arrow")))].find((x) => x.run_id === 2)!;
  assert.equal(raw.attempts, 3); // two failed attempts before this one
  assert.equal(sweep(spec, ref).code, 0);
  assert.deepEqual(rows, runRows(ref));
  assert.deepEqual(curveRows(out), curveRows(ref));
});

test("a permanent failure (training threw) is recorded once and not retried, on resume either", () => {
  const spec = specFile(SPEC),
    out = tmp();
  assert.equal(sweep(spec, out, [], { GROKSWEEP_FAULT: "throw:0" }).code, 0);
  const before = runRows(out);
  assert.deepEqual([before[0].status, before[0].error_kind, before[0].error], ["failed", "permanent", "injected"]);
  assert.equal([...tableFromIPC(readFileSync(join(out, "runs.arrow")))].find((x) => x.run_id === 0)!.attempts, 1);
  const r = sweep(spec, out, ["--strict"]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stdout, /3\/3 runs: .* 1 failed/);
  assert.deepEqual(runRows(out), before);
});

test("provenance: host, Node version, kernels and the attempt's start and end on every row", () => {
  const spec = specFile({ ...SPEC, seeds: 1 }),
    out = tmp();
  const t0 = Date.now();
  assert.equal(sweep(spec, out).code, 0);
  const row = [...tableFromIPC(readFileSync(join(out, "runs.arrow")))][0].toJSON();
  assert.equal(row.node_version, process.version);
  assert.ok(typeof row.host === "string" && row.host.length > 0);
  assert.match(row.kernels as string, /^(fma|strict)@\d+; (128-bit|256-bit \(V8 revectorize\)); node v/);
  const [s, e] = [row.started_at as number, row.finished_at as number];
  assert.ok(t0 - 1000 <= s && s <= e && e <= Date.now(), `${t0} ${s} ${e}`);
});

test("--retries and bad input: one line naming the flag, exit 2", () => {
  const r = sweep(specFile(SPEC), tmp(), ["--retries", "-1"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--retries.*-1/);
});

test("sweep --dry-run --json: one JSON object with counts and cost", () => {
  const r = cli(["sweep", specFile(SPEC), "--dry-run", "--json", "--shard", "1/2"]);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.deepEqual([o.n_runs, o.runs, o.shard, o.phase], [3, 1, "1/2", null]);
  assert.equal(o.runs_shown[0].run_id, 1);
  assert.ok(o.cost.steps === 40 && o.cost.flops > 0 && o.cost.core_hours > 0);
});

test("merge: shards with failed rows merge and exit 0 (--json counts them); a retried shard's row wins", () => {
  const spec = specFile({ ...SPEC, seeds: 4 }),
    a = tmp(),
    b = tmp(),
    out = join(tmp(), "m");
  assert.equal(sweep(spec, a, ["--shard", "0/2"], { GROKSWEEP_FAULT: "throw:2" }).code, 0);
  assert.equal(sweep(spec, b, ["--shard", "1/2"]).code, 0);
  const m = cli(["merge", a, b, "--out", out, "--json"]);
  assert.equal(m.code, 0, m.stderr);
  const o = JSON.parse(m.stdout);
  assert.deepEqual([o.merged, o.counts.done, o.counts.failed, o.missing, o.exit_code], [4, 4, 1, [], 0]);
  const text = cli(["merge", a, "--out", join(tmp(), "m")]); // shard 0 alone: runs 1 and 3 never attempted
  assert.equal(text.code, 1);
  assert.match(text.stdout, /2\/4 runs: .* 1 failed/);
  assert.match(text.stderr, /missing 2 of 4 runs: run_id 1, 3/);
  // the failed run 2 trained again elsewhere (a later directory): its row replaces the failed one
  const c = tmp();
  assert.equal(sweep(spec, c, ["--shard", "0/2"]).code, 0);
  assert.equal(cli(["merge", a, b, c, "--out", out]).code, 0);
  assert.deepEqual(
    runRows(out).map((x) => x.status),
    ["censored", "censored", "censored", "censored"],
  );
});
