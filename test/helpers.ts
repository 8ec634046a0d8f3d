// Shared test fixtures: a wasm instance, small configurations, and a CLI runner.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tableFromIPC } from "apache-arrow";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { instantiate, Abi } from "../src/engine.js";
import { loadKernels, Kernels, KernelName } from "../src/kernels.js";
import { parseRunConfig, RunConfig } from "../src/options.js";
import { VARYING_COLUMNS } from "../src/columns.js";
import "../src/arrow.js"; // registers the ZSTD codec that reading curves.arrow needs

export const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const BIN = join(ROOT, "bin", "groksweep.js");

/** Every kernel build this machine runs: strict always, fma where relaxed_madd is fused. Tests of
 *  kernels, determinism and trajectories loop over these. */
const fmaBuild = (): Kernels[] => {
  try {
    return [loadKernels("fma")];
  } catch {
    return [];
  }
};
export const BUILDS: Kernels[] = [loadKernels("strict"), ...fmaBuild()];
const abis = new Map<KernelName, Abi>();
/** A shared instance of a build (default: what `auto` picks here, as a user gets). */
export const abi = (k: KernelName = loadKernels("auto", () => {}).name): Abi => {
  if (!abis.has(k)) abis.set(k, instantiate(BUILDS.find((b) => b.name === k)!));
  return abis.get(k)!;
};

/** A configuration that groks in ~1–3k steps here (p 23, d 32, H 64, frac 0.7, lr 1e-2). */
export const GROKS = { p: 23, d: 32, H: 64, frac: 0.7, lr: 1e-2 };

export function cfg(raw: Record<string, unknown> = {}): RunConfig {
  return parseRunConfig({ p: 11, d: 8, H: 12, frac: 0.5, ...raw });
}

export function tmp(prefix = "groksweep-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function cli(
  args: string[],
  env: Record<string, string> = {},
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Write a spec file (JSON) into a fresh temporary directory. */
export function specFile(doc: unknown, name = "spec.json"): string {
  const path = join(tmp(), name);
  writeFileSync(path, typeof doc === "string" ? doc : JSON.stringify(doc));
  return path;
}

// the columns that may differ between two invocations of the same runs, blanked
const same = Object.fromEntries(VARYING_COLUMNS.map((c) => [c, null]));
/** A sweep's runs table as plain rows sorted by run_id, the VARYING_COLUMNS (time, place, attempts) blanked. */
export function runRows(dir: string): Record<string, unknown>[] {
  return [...tableFromIPC(readFileSync(join(dir, "runs.arrow")))]
    .map((r) => ({ ...r.toJSON(), ...same }))
    .sort((a, b) => (a.run_id as number) - (b.run_id as number));
}
export function curveRows(dir: string): Record<string, unknown>[] {
  return [...tableFromIPC(readFileSync(join(dir, "curves.arrow")))]
    .map((r) => r.toJSON())
    .sort((a, b) => (a.run_id as number) - (b.run_id as number) || (a.step as number) - (b.step as number));
}

/** The tiny example: 4 free controls, then clamp at ρ ∈ {0.9, 1.1} × measured Wc (12 runs, seconds). */
export const TINY = join(ROOT, "examples", "tiny.yaml");
