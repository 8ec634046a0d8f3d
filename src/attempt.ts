// How a run's row was produced: the attempts it took, what kind of failure ended it, and where and when
// (the runs.arrow columns error_kind, attempts, host, node_version, kernels, started_at, finished_at).
import { hostname } from "node:os";

/** transient: the attempt died around a run that may succeed (a dead worker, memory exhaustion), retried;
 *  permanent: the run cannot succeed (no grokked control for wc: measure, too large for wasm), recorded once. */
export type ErrorKind = "transient" | "permanent";

export interface Provenance {
  attempts: number;
  errorKind: ErrorKind | null;
  host: string;
  node: string;
  kernels: string;
  startedAt: number; // ms since the epoch, of the attempt that produced the row
  finishedAt: number;
}

export const provenance = (
  kernels: string,
  attempts: number,
  startedAt: number,
  errorKind: ErrorKind | null = null,
): Provenance => ({
  attempts,
  errorKind,
  host: hostname(),
  node: process.version,
  kernels,
  startedAt,
  finishedAt: Date.now(),
});

/** An error thrown by training itself. Training is deterministic, so it would throw again (permanent, as is a
 *  layout over wasm32's 4 GiB: engine.ts fitsWasm32, a plain Error), except when V8 ran out of memory for a
 *  layout that fits ("Out of memory", "Cannot allocate", "could not allocate memory", "Memory.grow()"). */
export function kindOf(e: unknown): ErrorKind {
  const msg = String((e as Error)?.message ?? e);
  return e instanceof RangeError && /out of memory|c(annot|ould not) allocate|memory\.grow|allocation failed/i.test(msg)
    ? "transient"
    : "permanent";
}

/** Fault injection for the failure tests, GROKSWEEP_FAULT=fault,…: in a worker (src/worker.ts) how:run_id[@n] with
 *  how = exit (the thread dies), oom (a RangeError as V8 throws when memory runs out), throw (a plain error) or
 *  stall (10 s asleep first: a signal meanwhile finds the sweep midway however fast the machine), @n: the n-th
 *  attempt only; in the sweep's process (src/sweep.ts) sigterm:start, a SIGTERM before anything else. */
export const faults = (): string[] => (process.env.GROKSWEEP_FAULT ?? "").split(",");
