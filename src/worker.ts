// A piscina worker: instantiates the wasm once (module compiled in the main thread) and trains one
// run per task.
import { workerData } from "node:worker_threads";
import { instantiate } from "./engine.js";
import { train } from "./run.js";
import { runRecord, curveRecords } from "./arrow.js";
import type { RunConfig } from "./options.js";

const abi = instantiate(workerData?.kernels);

export interface Task {
  runId: number;
  cfg: RunConfig;
}
export interface Done {
  runId: number;
  run: Record<string, unknown>;
  curves: Record<string, unknown>[];
}

export default function runTask({ runId, cfg }: Task): Done {
  // fault injection for the failure-isolation tests: this worker thread dies mid-task
  if (process.env.GROKSWEEP_FAULT === `exit:${runId}`) process.exit(3);
  const r = train(abi, cfg);
  return { runId, run: runRecord({ runId, r }), curves: curveRecords(runId, r) };
}
