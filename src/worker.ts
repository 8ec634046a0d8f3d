// A piscina worker: instantiates the wasm once (module compiled in the main thread) and trains one
// run per task. An error thrown by training comes back as a failure with its kind (src/attempt.ts);
// a worker that dies instead (exit, memory limit) rejects the task, which the sweep counts as transient.
import { workerData } from "node:worker_threads";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { instantiate } from "./engine.js";
import { train } from "./run.js";
import { runRecord, curveColumns, CurveColumns } from "./columns.js";
import { provenance, kindOf, faults, ErrorKind } from "./attempt.js";
import type { RunConfig } from "./options.js";

const abi = instantiate(workerData?.kernels);
const kernels: string = workerData?.kernels?.detail ?? "";

export interface Task {
  runId: number;
  cfg: RunConfig;
  /** attempts made before this one (earlier invocations included) */
  attempts: number;
}
export type Done =
  | { runId: number; run: Record<string, unknown>; curves: CurveColumns[] }
  | { runId: number; failure: { error: string; kind: ErrorKind; startedAt: number } };

// the failure tests' faults in a worker (src/attempt.ts faults)
function fault(runId: number, attempt: number): void {
  for (const f of faults()) {
    const m = /^(exit|oom|throw|stall):(\d+)(?:@(\d+))?$/.exec(f);
    if (!m || +m[2] !== runId || (m[3] !== undefined && +m[3] !== attempt)) continue;
    if (m[1] === "stall") {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000); // the pool's destroy() interrupts it
      continue;
    }
    if (m[1] === "exit") process.exit(3);
    throw m[1] === "oom" ? new RangeError("WebAssembly.Memory(): could not allocate memory") : new Error("injected");
  }
}

// V8 lets a worker's old generation fill with the garbage of thousands of runs before it collects (10⁵ tiny runs:
// the sweep's RSS grew by ~0.3 MB/s); a full collection every GC_EVERY tasks (a few ms) keeps it flat
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const GC_EVERY = 256;
let tasks = 0;

export default function runTask({ runId, cfg, attempts }: Task): Done {
  if (++tasks % GC_EVERY === 0) gc();
  const startedAt = Date.now();
  try {
    fault(runId, attempts + 1);
    const r = train(abi, cfg);
    const prov = provenance(kernels, attempts + 1, startedAt);
    return { runId, run: runRecord({ runId, r, prov }), curves: [curveColumns(runId, r)] };
  } catch (e) {
    return { runId, failure: { error: String((e as Error)?.message ?? e), kind: kindOf(e), startedAt } };
  }
}
