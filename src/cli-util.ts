// Helpers the commands share: argument checks, the sweep summary line, and writing files through
// temporary names (arrow.ts and store.ts write their tables the same way).
import { existsSync, statSync, accessSync, constants, writeFileSync, renameSync, rmSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { UsageError } from "./options.js";
import type { Counts } from "./progress.js";

// ---- arguments

/** The value of --k; yargs makes an array of an option given twice, which no command accepts. */
export function single(argv: Record<string, unknown>, k: string): unknown {
  const v = argv[k];
  if (Array.isArray(v)) throw new UsageError(`--${k}`, v, "a single value (given more than once)");
  return v;
}

/** Refuse an --out that cannot be written, before anything is computed or created. */
export function checkOutDir(dir: string): void {
  const missing = missingDirs(dir),
    probe = missing.length ? dirname(missing[0]) : resolve(dir); // the nearest level that exists
  const st = statSync(probe);
  if (!st.isDirectory()) throw new UsageError("--out", dir, `a writable directory (${probe} is not a directory)`);
  try {
    accessSync(probe, constants.W_OK);
  } catch {
    throw new UsageError("--out", dir, `a writable directory (${probe} is not writable)`);
  }
}

/** The levels of `dir` that do not exist yet, outermost first (empty when it exists). */
function missingDirs(dir: string): string[] {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
  return missing;
}

/** `mkdir -p` one level at a time: Node's recursive mkdirSync never returns where a level cannot be made under
 *  /proc (it retries the ENOENT forever); here that is a usage error naming --out (`given`: its value). */
export function makeDir(dir: string, given: unknown = dir): void {
  for (const d of missingDirs(dir)) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") continue; // made meanwhile (another task of the array)
      throw new UsageError("--out", given, `a directory that can be created (${(e as Error).message})`);
    }
  }
}

/** The exit code of sweep (and reproduce) --strict when runs failed; 2 is bad input, 130/143 a signal. */
export const EXIT_FAILED_RUNS = 3;

/** The fields every --json of sweep shares: which spec, which slice of it. */
export const sweepJson = (
  sw: { hash: string; runs: unknown[] },
  shard: [number, number] | null,
  phase: string | null,
  runs: number,
) => ({ spec_hash: sw.hash, n_runs: sw.runs.length, runs, shard: shard ? shard.join("/") : null, phase });

/** The last line of `sweep` and `reproduce`: what became of the runs, and where they are. */
export const sweepSummary = (c: Counts, dir: string): string =>
  `${c.done}/${c.total} runs: ${c.grokked} grokked, ${c.censored} censored, ${c.diverged} diverged, ` +
  `${c.failed} failed → ${dir}\n`;

/** A time span for people: "42 s", "3.5 min", "1.2 h". */
export const duration = (s: number): string =>
  s < 60 ? `${Math.ceil(s)} s` : s < 3600 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`;

// ---- atomic writes

/** Where a file is written until it is complete (a sweep store clears leftovers of this form when it opens). */
export const tmpPath = (path: string): string => `${path}.tmp-${process.pid}`;

/** Renames the finished temporary files into place, in the given order. */
export function moveIntoPlace(paths: readonly string[]): void {
  for (const path of paths) renameSync(tmpPath(path), path);
}

/**
 * Writes every file to its temporary name first, then renames them in the given order (a reader that
 * sees the last one sees all), so that a failure leaves no partial file. The data of each file is
 * asked for only when it is written: a generator keeps one serialized table in memory at a time.
 */
export function writeFilesAtomic(files: Iterable<[path: string, data: Uint8Array | string]>): void {
  const paths: string[] = [];
  try {
    for (const [path, data] of files) {
      paths.push(path); // before the write: a write that fails halfway leaves a partial file to remove
      writeFileSync(tmpPath(path), data);
    }
    moveIntoPlace(paths);
  } catch (e) {
    for (const path of paths) rmSync(tmpPath(path), { force: true });
    throw e;
  }
}

/** One file through a temporary name. */
export const writeAtomic = (path: string, data: Uint8Array | string): void => writeFilesAtomic([[path, data]]);
