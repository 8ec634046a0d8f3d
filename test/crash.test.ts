// Crash safety: kill -9 loses at most the runs in flight; SIGINT/SIGTERM leave valid files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { BIN, cli, specFile, tmp, runRows, curveRows } from "./helpers.js";

// 48 runs of ~0.1–0.4 s; runs 24 and 25 sleep 10 s first (src/attempt.ts faults), one per worker, so the signal
// finds the sweep midway however fast the machine; the first part then comes from the flush timer (2 s after a
// run finished, though none finishes meanwhile)
const N = 48;
const SPEC = { p: 23, d: 32, H: 64, frac: 0.8, lr: 1e-2, "max-steps": 700, seeds: N };
const STALLED = [24, 25];

async function startAndWaitForPart(spec: string, out: string) {
  const child = spawn(process.execPath, [BIN, "sweep", spec, "--out", out, "--workers", "2", "--quiet"], {
    stdio: "ignore",
    env: { ...process.env, GROKSWEEP_FAULT: STALLED.map((id) => `stall:${id}`).join(",") },
  });
  const exited = new Promise<number | null>((res) => child.on("exit", (code, sig) => res(code ?? (sig ? -1 : null))));
  const parts = join(out, ".parts");
  const t0 = Date.now();
  while (Date.now() - t0 < 30_000) {
    if (existsSync(parts) && readdirSync(parts).some((f) => f.endsWith(".runs.arrow"))) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, exited };
}

test("kill -9 mid-sweep: the next invocation recovers every flushed run and finishes the rest", async () => {
  const spec = specFile(SPEC),
    out = tmp(),
    ref = tmp();
  const { child, exited } = await startAndWaitForPart(spec, out);
  child.kill("SIGKILL");
  await exited;
  assert.ok(!existsSync(join(out, "runs.arrow")), "killed before the end");
  const resumed = cli(["sweep", spec, "--out", out, "--quiet"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(cli(["sweep", spec, "--out", ref, "--quiet"]).code, 0);
  assert.deepEqual(runRows(out), runRows(ref));
  assert.deepEqual(curveRows(out), curveRows(ref));
});

for (const [sig, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  test(`${sig}: stops scheduling, closes valid files, exits ${code}; re-running completes the sweep`, async () => {
    const spec = specFile(SPEC),
      out = tmp();
    const { child, exited } = await startAndWaitForPart(spec, out);
    child.kill(sig);
    assert.equal(await exited, code);
    const partial = runRows(out); // a valid Arrow file, readable now
    assert.ok(partial.length >= 1 && partial.length < N, `${partial.length} runs before the signal`);
    // the pool's destroy interrupted the sleeping workers (a run is recorded whole or not at all)
    assert.ok(!partial.some((r) => STALLED.includes(r.run_id as number)), "the stalled runs were not recorded");
    assert.ok(!existsSync(join(out, ".parts")));
    assert.equal(cli(["sweep", spec, "--out", out, "--quiet"]).code, 0);
    assert.deepEqual(
      runRows(out).map((r) => r.run_id),
      [...Array(N).keys()],
    );
  });
}

test("SIGTERM before the pool exists (a pod stopped at its start): exit 143, nothing trained; a re-run ends it", () => {
  const spec = specFile({ ...SPEC, seeds: 4 }),
    out = tmp();
  const early = cli(["sweep", spec, "--out", out, "--quiet"], { GROKSWEEP_FAULT: "sigterm:start" });
  assert.equal(early.code, 143, early.stderr);
  assert.equal(existsSync(join(out, "runs.arrow")) ? runRows(out).length : 0, 0);
  assert.ok(!existsSync(join(out, ".parts")) || !readdirSync(join(out, ".parts")).length);
  assert.equal(cli(["sweep", spec, "--out", out, "--quiet"]).code, 0);
  assert.deepEqual(
    runRows(out).map((r) => r.run_id),
    [0, 1, 2, 3],
  );
});
