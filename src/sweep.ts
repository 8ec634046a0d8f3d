// Runs a sweep's runs on a piscina pool: longest first, measured-Wc runs released once their
// free controls are done, results flushed to the store as they come, resumable and interruptible.
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { loadKernels, kernelsMeta, KernelChoice, Kernels } from "./kernels.js";
import { Store, batches, readSchema, RUNS, sources, WC_COLUMNS, WcByGroup } from "./store.js";
import { Sweep, SweepRun, controlKey } from "./spec.js";
import { runRecord } from "./arrow.js";
import { Progress, Counts } from "./progress.js";
import { UsageError } from "./options.js";
import { VERSION } from "./version.js";
import { median } from "./stats.js";
import type { Done } from "./worker.js";
import type { RunResult } from "./run.js";

export type Phase = "control" | "dependent";
export interface SweepOptions {
  out: string;
  workers: number;
  shard: [number, number] | null;
  phase: Phase | null;
  wcFrom: string[];
  quiet: boolean;
  flushRuns?: number;
  flushMs?: number;
  /** --kernels (src/kernels.ts); the build used is recorded as groksweep.kernels */
  kernels?: KernelChoice;
}

/** Workers: --workers, else SLURM_CPUS_PER_TASK, else every core. */
export function defaultWorkers(): number {
  const slurm = Number(process.env.SLURM_CPUS_PER_TASK);
  return Number.isInteger(slurm) && slurm > 0 ? slurm : availableParallelism();
}

/** The runs this invocation is responsible for: a shard (run_id mod n) of a phase. */
export function select(sw: Sweep, shard: [number, number] | null, phase: Phase | null): SweepRun[] {
  return sw.runs.filter(
    (r) =>
      (!shard || r.runId % shard[1] === shard[0]) &&
      (!phase || (phase === "control" ? r.measure === null : r.measure !== null)),
  );
}

export function sweepMeta(
  sw: Sweep,
  opts: Pick<SweepOptions, "shard" | "phase">,
  kernels: Pick<Kernels, "name" | "detail">,
): Map<string, string> {
  return new Map([
    ["groksweep.version", VERSION],
    ...kernelsMeta(kernels),
    ["groksweep.spec", JSON.stringify(sw.doc)],
    ["groksweep.spec_hash", sw.hash],
    ["groksweep.n_runs", String(sw.runs.length)],
    ["groksweep.shard", opts.shard ? `${opts.shard[0]}/${opts.shard[1]}` : ""],
    ["groksweep.phase", opts.phase ?? ""],
  ]);
}

/** A run that could not produce a result: its configuration, status 'failed', and the error text. */
function failedRecord(run: SweepRun, error: string): Record<string, unknown> {
  const nan = NaN,
    final = {
      step: 0,
      train_loss: nan,
      train_acc: nan,
      test_loss: nan,
      test_acc: nan,
      weight_norm: nan,
      norm_E: nan,
      norm_W1: nan,
      norm_W2: nan,
    };
  const r = {
    cfg: run.cfg,
    nTrain: 0,
    nTest: 0,
    tMem: null,
    tGrok: null,
    wc: null,
    atGrok: null,
    bits: null,
    status: "failed",
    stepsRun: 0,
    wallMs: 0,
    error,
    final,
    curves: [],
    snapshots: [],
    shapes: {},
  } as unknown as RunResult;
  return runRecord({ runId: run.runId, r });
}

export async function runSweep(sw: Sweep, opts: SweepOptions): Promise<{ code: number; counts: Counts }> {
  const chosen = select(sw, opts.shard, opts.phase);
  const kernels = loadKernels(opts.kernels ?? "auto");
  const store = new Store(opts.out, sweepMeta(sw, opts, kernels));
  const done = new Map((await store.open()).map((c) => [c.runId, c]));
  const counts: Counts = { done: 0, total: chosen.length, grokked: 0, censored: 0, diverged: 0, failed: 0 };
  const tally = (status: unknown) => {
    counts.done++;
    if (status === "grokked" || status === "censored" || status === "diverged" || status === "failed") counts[status]++;
  };
  for (const r of chosen) if (done.has(r.runId)) tally(done.get(r.runId)!.status);

  // measured Wc: the grokked free runs of each control key, from this directory, --wc-from, and this
  // invocation; kept per norm group, since a clamp of one group (--clamp-group) targets that group's norm
  const controlWc = new Map<string, WcByGroup[]>();
  const addControl = (key: string, status: unknown, wc: WcByGroup) => {
    if (!controlWc.has(key)) controlWc.set(key, []);
    if (status === "grokked" && typeof wc.all === "number") controlWc.get(key)!.push(wc);
  };
  for (const c of done.values()) {
    const r = sw.runs[c.runId];
    if (r && r.cfg.arm === "free") addControl(controlKey(r.cfg), c.status, c.wc);
  }
  const fromFile = await readControls(opts.wcFrom, sw.hash);
  for (const [key, wcs] of fromFile) for (const wc of wcs) addControl(key, "grokked", wc);

  const todo = chosen.filter((r) => !done.has(r.runId));
  const waiting = new Map<string, SweepRun[]>(); // control key → dependent runs not yet released
  const pendingControls = new Map<string, number>(); // control key → its free runs still to finish here
  for (const r of todo)
    if (r.cfg.arm === "free") pendingControls.set(controlKey(r.cfg), (pendingControls.get(controlKey(r.cfg)) ?? 0) + 1);
  const todoIds = new Set(todo.map((r) => r.runId)),
    freeOf = new Map<string, number[]>();
  for (const c of sw.runs)
    if (c.cfg.arm === "free") {
      const k = controlKey(c.cfg);
      if (!freeOf.has(k)) freeOf.set(k, []);
      freeOf.get(k)!.push(c.runId);
    }
  for (const r of todo.filter((r) => r.measure)) {
    const key = r.measure!;
    if (!fromFile.has(key) && (freeOf.get(key) ?? []).some((id) => !done.has(id) && !todoIds.has(id))) {
      throw new UsageError(
        "--shard",
        opts.shard?.join("/"),
        `a slice that holds the free controls of its "wc: measure" runs — run --phase control, merge, then --phase dependent --wc-from MERGED/runs.arrow (README: Running on a cluster)`,
      );
    }
    if (!waiting.has(key)) waiting.set(key, []);
    waiting.get(key)!.push(r);
  }
  const byCost = (a: SweepRun, b: SweepRun) => b.cost - a.cost || a.runId - b.runId;
  const ready = todo.filter((r) => !r.measure).sort(byCost);
  const failedNow: Record<string, unknown>[] = [];
  const release = (key: string) => {
    const deps = waiting.get(key);
    if (!deps || (pendingControls.get(key) ?? 0) > 0) return;
    waiting.delete(key);
    const wcs = controlWc.get(key) ?? [];
    for (const r of deps) {
      const g = r.cfg.clampGroup,
        vals = wcs.map((w) => w[g]).filter((x): x is number => typeof x === "number");
      if (!vals.length)
        failedNow.push(
          failedRecord(
            r,
            `wc: measure: no free control with ${key} grokked, so Wc${g === "all" ? "" : ` of group ${g}`} is unknown`,
          ),
        );
      else ready.push({ ...r, cfg: { ...r.cfg, wc: median(vals) } });
    }
    ready.sort(byCost);
  };
  for (const key of [...waiting.keys()]) release(key);

  // results are buffered and flushed as parts: at most flushRuns runs or flushMs of work are at risk
  const progress = new Progress(opts.quiet);
  let runsBuf: Record<string, unknown>[] = [],
    curvesBuf: Record<string, unknown>[] = [],
    lastFlush = performance.now();
  const flush = () => {
    store.appendPart(runsBuf, curvesBuf);
    runsBuf = [];
    curvesBuf = [];
    lastFlush = performance.now();
  };
  const finish = (run: Record<string, unknown>, curves: Record<string, unknown>[]) => {
    runsBuf.push(run);
    curvesBuf.push(...curves);
    tally(run.status);
    if (runsBuf.length >= (opts.flushRuns ?? 256) || performance.now() - lastFlush >= (opts.flushMs ?? 2000)) flush();
    progress.update(counts);
  };
  const drainFailed = () => {
    while (failedNow.length) finish(failedNow.shift()!, []);
  };
  drainFailed();

  let stopping: NodeJS.Signals | null = null;
  const pool = new Piscina({
    filename: new URL("./worker-entry.cjs", import.meta.url).href,
    minThreads: opts.workers,
    maxThreads: opts.workers,
    idleTimeout: 3_600_000,
    workerData: { kernels },
  });
  const onSignal = (sig: NodeJS.Signals) => {
    if (!stopping) {
      stopping = sig;
      void pool.destroy();
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const inFlight = new Set<Promise<void>>();
    const launch = (r: SweepRun) => {
      const p: Promise<void> = pool
        .run({ runId: r.runId, cfg: r.cfg })
        .then(
          (d: Done) => {
            finish(d.run, d.curves);
            if (r.cfg.arm === "free") {
              addControl(controlKey(r.cfg), d.run.status, wcOf(d.run));
              onControlDone(r);
            }
          },
          (e: Error) => {
            if (stopping) return;
            finish(failedRecord(r, String(e?.message ?? e)), []);
            if (r.cfg.arm === "free") onControlDone(r);
          },
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    const onControlDone = (r: SweepRun) => {
      const key = controlKey(r.cfg);
      pendingControls.set(key, (pendingControls.get(key) ?? 1) - 1);
      release(key);
      drainFailed();
    };
    while (!stopping && (ready.length || inFlight.size)) {
      while (!stopping && ready.length && inFlight.size < opts.workers * 2) launch(ready.shift()!);
      if (inFlight.size) await Promise.race(inFlight);
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (!stopping) await pool.destroy();
    flush();
    await store.compact();
    progress.end(counts);
  }
  if (stopping) return { code: stopping === "SIGINT" ? 130 : 143, counts };
  return { code: counts.failed > 0 ? 1 : 0, counts };
}

const wcOf = (row: Record<string, any>): WcByGroup =>
  Object.fromEntries(Object.entries(WC_COLUMNS).map(([g, c]) => [g, row[c] ?? null]));

/** Grokked free-run Wc (by group) per control key from merged control output (--wc-from FILE|DIR ...). */
async function readControls(paths: string[], hash: string): Promise<Map<string, WcByGroup[]>> {
  const out = new Map<string, WcByGroup[]>();
  for (const path of paths) {
    const files = path.endsWith(".arrow") ? [path] : sources(path).map((s) => s.runs);
    if (!files.length) throw new UsageError("--wc-from", path, `a runs.arrow file or a directory holding ${RUNS}`);
    for (const f of files) {
      const theirs = (await readSchema(f)).metadata.get("groksweep.spec_hash");
      if (theirs !== hash)
        throw new UsageError("--wc-from", f, `the controls of this spec (it holds spec ${theirs}, this is ${hash})`);
      for await (const b of batches(f)) {
        for (let i = 0; i < b.numRows; i++) {
          const row = b.get(i)!.toJSON() as any;
          if (row.arm !== "free") continue;
          const key = controlKey(row);
          if (!out.has(key)) out.set(key, []);
          if (row.status === "grokked" && row.wc !== null) out.get(key)!.push(wcOf(row));
        }
      }
    }
  }
  return out;
}
