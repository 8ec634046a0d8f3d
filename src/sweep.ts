// Runs a sweep's runs on a piscina pool: longest first, measured-Wc runs released by the control gate
// (src/gate.ts), results flushed to the store as they come, resumable and interruptible.
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { loadKernels, kernelsMeta, KernelChoice, Kernels } from "./kernels.js";
import { Store, batches, readSchema, RUNS, sources, WC_COLUMNS, WcByGroup, Completed } from "./store.js";
import { Sweep, SweepRun, controlKey } from "./spec.js";
import { runRecord, CurveColumns } from "./columns.js";
import { Progress, Counts, noCounts, tally } from "./progress.js";
import { ControlGate } from "./gate.js";
import { UsageError } from "./options.js";
import { VERSION } from "./version.js";
import type { Done, Task } from "./worker.js";
import type { RunResult } from "./run.js";
import { provenance, faults, Provenance, ErrorKind } from "./attempt.js";

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
  /** --retries: further attempts of a run whose attempt failed transiently, per invocation (default 2) */
  retries?: number;
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

/** A run that could not produce a result: its configuration, status 'failed', the error and its kind. */
function failedRecord(run: SweepRun, error: string, prov: Provenance): Record<string, unknown> {
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
  return runRecord({ runId: run.runId, r, prov });
}

/** A failed row to train again: every failure but a permanent one (rows older than error_kind included). */
const retryable = (c: Completed) => c.status === "failed" && c.errorKind !== "permanent";

export async function runSweep(sw: Sweep, opts: SweepOptions): Promise<{ code: number; counts: Counts }> {
  // SIGINT/SIGTERM are held from here, before the store and the pool exist (a pod told to stop as it starts)
  const stop = new Stop();
  if (faults().includes("sigterm:start")) process.kill(process.pid, "SIGTERM"); // the failure tests' (attempt.ts)
  try {
    return await sweepUntil(sw, opts, stop);
  } finally {
    stop.release(); // only now: compaction finishes and the files stay whole
  }
}

async function sweepUntil(sw: Sweep, opts: SweepOptions, stop: Stop): Promise<{ code: number; counts: Counts }> {
  const chosen = select(sw, opts.shard, opts.phase);
  const kernels = loadKernels(opts.kernels ?? "auto");
  const store = new Store(opts.out, sweepMeta(sw, opts, kernels));
  const done = new Map((await store.open()).map((c) => [c.runId, c]));
  // attempts so far of the failed runs tried again here; their old rows give way to the new ones (store.ts)
  const tries = new Map<number, number>();
  for (const c of done.values())
    if (retryable(c)) {
      tries.set(c.runId, c.attempts ?? 1);
      done.delete(c.runId);
    }
  const todo = chosen.filter((r) => !done.has(r.runId));
  const gate = await openGate(sw, todo, done, opts);
  const results = new Results(store, opts, chosen, done);
  const ready = todo.filter((r) => !r.measure).sort(byCost);
  const admit = () => {
    const before = ready.length;
    for (const { run, error } of gate.release())
      if (error === undefined) ready.push(run);
      else results.add(failedRecord(run, error, provenance(kernels.detail, 0, Date.now(), "permanent")), []);
    if (ready.length > before) ready.sort(byCost);
  };
  admit();
  const pool = new Workers(kernels, opts.workers, stop);
  const retries = new Map<number, number>(); // retries used in this invocation
  const record = (r: SweepRun, run: Record<string, unknown>, curves: CurveColumns[], ok: boolean) => {
    results.add(run, curves);
    gate.finished(r, ok ? { status: run.status, wc: wcOf(run) } : null);
    admit();
  };
  const failed = (r: SweepRun, error: string, kind: ErrorKind, startedAt: number) => {
    if (stop.signal) return; // killed by the signal, not failed: the next invocation trains it
    const attempts = (tries.get(r.runId) ?? 0) + 1;
    tries.set(r.runId, attempts);
    const used = retries.get(r.runId) ?? 0;
    if (kind === "transient" && used < (opts.retries ?? 2)) {
      retries.set(r.runId, used + 1);
      ready.unshift(r); // next: a retry should not wait behind the rest of the sweep
      return;
    }
    record(r, failedRecord(r, error, provenance(kernels.detail, attempts, startedAt, kind)), [], false);
  };
  try {
    const inFlight = new Set<Promise<void>>();
    while (!stop.signal && (ready.length || inFlight.size)) {
      while (!stop.signal && ready.length && inFlight.size < opts.workers * 2) {
        const r = ready.shift()!,
          queuedAt = Date.now();
        const p: Promise<void> = pool
          .run(r, tries.get(r.runId) ?? 0)
          .then(
            (d) =>
              "failure" in d
                ? failed(r, d.failure.error, d.failure.kind, d.failure.startedAt) // when the worker began it
                : record(r, d.run, d.curves, true),
            // the worker died under the task (exit, memory limit): transient; its start died with it, so the time
            // the task went to the pool
            (e: Error) => failed(r, String(e?.message ?? e), "transient", queuedAt),
          )
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      if (inFlight.size) await Promise.race(inFlight);
    }
  } finally {
    await pool.close();
    results.flush();
    await store.compact();
    results.end();
  }
  // failed runs are results, recorded: the exit code says only whether every run was attempted (--strict: 3)
  const code = stop.signal ? (stop.signal === "SIGINT" ? 130 : 143) : 0;
  return { code, counts: results.counts };
}

/** Longest first (the pool's tail is shortest), ties by run_id. */
const byCost = (a: SweepRun, b: SweepRun) => b.cost - a.cost || a.runId - b.runId;

/** The gate of this invocation, told the controls finished earlier: in this directory and in --wc-from. */
async function openGate(
  sw: Sweep,
  todo: SweepRun[],
  done: Map<number, Completed>,
  opts: Pick<SweepOptions, "wcFrom" | "shard">,
): Promise<ControlGate> {
  const gate = new ControlGate(todo);
  for (const c of done.values()) {
    const r = sw.runs[c.runId];
    if (r && r.base.arm === "free") gate.known(controlKey(r.base), c.status, c.wc);
  }
  const given = await readControls(opts.wcFrom, sw.hash);
  for (const [key, wcs] of given) for (const wc of wcs) gate.known(key, "grokked", wc);
  checkSlice(sw, todo, done, given, opts.shard);
  return gate;
}

/** A "wc: measure" run's free controls must be done, trained here, or given by --wc-from: otherwise its gate
 *  would wait for runs of another slice (--shard). */
function checkSlice(
  sw: Sweep,
  todo: SweepRun[],
  done: Map<number, Completed>,
  given: Map<string, unknown>,
  shard: [number, number] | null,
): void {
  const here = new Set(todo.map((r) => r.runId));
  const elsewhere = new Set(
    sw.runs
      .filter((c) => c.base.arm === "free" && !done.has(c.runId) && !here.has(c.runId))
      .map((c) => controlKey(c.base)),
  );
  if (todo.some((r) => r.measure && !given.has(r.measure) && elsewhere.has(r.measure))) {
    throw new UsageError(
      "--shard",
      shard?.join("/"),
      'a slice that holds the free controls of its "wc: measure" runs — run --phase control, merge, ' +
        "then --phase dependent --wc-from MERGED/runs.arrow (README: Running on a cluster)",
    );
  }
}

/** Finished runs on their way to the store: buffered and flushed as parts, so that at most flushRuns runs
 *  or flushMs of work are at risk (a timer flushes the last ones while no more finish), and counted on the
 *  progress line. */
class Results {
  readonly counts: Counts;
  private runs: Record<string, unknown>[] = [];
  private curves: CurveColumns[] = [];
  private lastFlush = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private timerError: unknown; // a timer's flush failed (disk full): thrown by the next add or flush, as theirs are
  private readonly progress: Progress;

  /** `chosen`: the runs of this invocation; those in `done` count as finished from the start. */
  constructor(
    private readonly store: Store,
    private readonly opts: Pick<SweepOptions, "quiet" | "flushRuns" | "flushMs">,
    chosen: SweepRun[],
    done: Map<number, Completed>,
  ) {
    this.counts = noCounts(chosen.length);
    for (const r of chosen) if (done.has(r.runId)) tally(this.counts, done.get(r.runId)!.status);
    this.progress = new Progress(opts.quiet);
  }

  add(run: Record<string, unknown>, curves: CurveColumns[]): void {
    if (this.timerError) throw this.timerError;
    this.runs.push(run);
    this.curves.push(...curves);
    tally(this.counts, run.status);
    const { flushRuns = 256, flushMs = 2000 } = this.opts;
    const due = flushMs - (performance.now() - this.lastFlush);
    if (this.runs.length >= flushRuns || due <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flushOrKeep(), due).unref();
    this.progress.update(this.counts);
  }

  private flushOrKeep(): void {
    try {
      this.flush();
    } catch (e) {
      this.timerError = e;
    }
  }

  flush(): void {
    if (this.timerError) throw this.timerError;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.store.appendPart(this.runs, this.curves);
    this.runs = [];
    this.curves = [];
    this.lastFlush = performance.now();
  }

  end(): void {
    this.progress.end(this.counts);
  }
}

/** SIGINT and SIGTERM, held from the start of a sweep and kept for the exit code: a signal stops the pool
 *  (runs in flight are dropped, not failed) or, before it exists, keeps it from starting. */
class Stop {
  signal: NodeJS.Signals | null = null;
  /** every run is recorded: a signal now only waits for compaction */
  complete = false;
  onSignal: () => void = () => {};
  private readonly handler = (sig: NodeJS.Signals) => {
    if (!this.signal && !this.complete) {
      this.signal = sig;
      this.onSignal();
    }
  };
  constructor() {
    process.on("SIGINT", this.handler);
    process.on("SIGTERM", this.handler);
  }
  /** Hand the signals back: only once the store is compacted (the default action would kill it mid-way). */
  release(): void {
    process.off("SIGINT", this.handler);
    process.off("SIGTERM", this.handler);
  }
}

/** The piscina pool, destroyed by a Stop's signal. */
class Workers {
  private readonly pool: Piscina;

  constructor(
    kernels: Kernels,
    workers: number,
    private readonly stop: Stop,
  ) {
    this.pool = new Piscina({
      filename: new URL("./worker-entry.cjs", import.meta.url).href,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 3_600_000,
      // a run allocates little outside wasm: a 4 MB young generation (V8: 16 or more) saves ~10 MB a worker
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
      workerData: { kernels },
    });
    stop.onSignal = () => void this.destroy(); // a signal before this: no run is submitted, close() destroys it
  }

  private destroyed: Promise<void> | null = null;
  private destroy(): Promise<void> {
    return (this.destroyed ??= this.pool.destroy());
  }

  run(r: SweepRun, attempts: number): Promise<Done> {
    return this.pool.run({ runId: r.runId, cfg: r.cfg, attempts } satisfies Task);
  }

  async close(): Promise<void> {
    this.stop.complete = true;
    await this.destroy();
  }
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
