// `groksweep status`: what a sweep directory (running or finished), a merged one, or a `groksweep slurm` OUT
// holds — runs done by status, failures by kind, missing run_ids, throughput and ETA from recent parts, and
// the Slurm jobs' state. Pure reading: nothing is written or locked, so it is safe beside a running sweep.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { spawnSync } from "node:child_process";
import { sources, batches, readSchema, supersedes } from "./store.js";
import { expand, readSpec, Sweep } from "./spec.js";
import { select, Phase } from "./sweep.js";
import { UsageError } from "./options.js";
import { noCounts, tally, Counts } from "./progress.js";

export interface DirStatus {
  dir: string;
  state: "complete" | "running" | "partial" | "empty";
  spec_hash: string | null;
  shard: string | null;
  phase: string | null;
  counts: Counts; // done/total of the runs this directory is for
  failed: { transient: number; permanent: number; unknown: number };
  missing: number;
  missing_ranges: string; // run_ids not done, as ranges: "3-7, 12"
  parts: number; // .parts/ files not yet compacted (a sweep writing now, or one killed)
  runs_per_min: number | null;
  eta_s: number | null;
}

const specs = new Map<string, Sweep>(); // expansions by spec hash or file, kept for --watch
const RECENT_MS = 10 * 60_000; // throughput over the parts of the last 10 minutes

/** "0-3, 7, 9-10" (the first `max` ranges, then "…"). */
export function ranges(ids: number[], max = 20): string {
  const out: string[] = [];
  for (let i = 0; i < ids.length;) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j] + 1) j++;
    out.push(i === j ? `${ids[i]}` : `${ids[i]}-${ids[j]}`);
    i = j + 1;
  }
  return out.length > max ? [...out.slice(0, max), "…"].join(", ") : out.join(", ");
}

/** The status of one directory; `expected` (run_ids) overrides what its metadata says it is for. */
export async function dirStatus(dir: string, expected?: number[]): Promise<DirStatus> {
  const srcs = existsSync(dir) ? sources(dir) : [];
  const none = { transient: 0, permanent: 0, unknown: 0 };
  const base: DirStatus = {
    dir,
    state: "empty",
    spec_hash: null,
    shard: null,
    phase: null,
    counts: noCounts(expected?.length ?? 0),
    failed: { ...none },
    missing: expected?.length ?? 0,
    missing_ranges: ranges(expected ?? []),
    parts: 0,
    runs_per_min: null,
    eta_s: null,
  };
  if (!srcs.length) return base;
  const rows = new Map<number, { status: string; kind: string | null }>();
  const recent: { at: number; rows: number; started: number }[] = [];
  let meta: Map<string, string> | null = null;
  for (const s of srcs) {
    try {
      meta ??= (await readSchema(s.runs)).metadata;
      let n = 0,
        started = Infinity;
      for await (const b of batches(s.runs)) {
        const id = b.getChild("run_id")!.toArray() as Int32Array,
          st = b.getChild("status")!,
          kind = b.getChild("error_kind"),
          t0 = b.getChild("started_at");
        for (let i = 0; i < b.numRows; i++) {
          if (supersedes(rows.get(id[i]))) rows.set(id[i], { status: st.get(i), kind: kind?.get(i) ?? null });
          started = Math.min(started, (t0?.get(i) as number | null) ?? Infinity);
        }
        n += b.numRows;
      }
      const at = Number(/^(\d{14})-/.exec(basename(s.runs))?.[1]);
      if (Number.isFinite(at)) recent.push({ at, rows: n, started });
    } catch (e) {
      if (s.runs.includes(".parts")) continue; // the newest part of a running sweep, mid-rename: next time
      throw e;
    }
  }
  if (!meta) return base;
  const shard = meta.get("groksweep.shard") || null,
    phase = (meta.get("groksweep.phase") || null) as Phase | null;
  const hash = meta.get("groksweep.spec_hash") ?? null;
  if (!hash) throw new UsageError("DIR", dir, "a sweep output directory (its files carry no groksweep.spec_hash)");
  if (!expected) {
    const sw = specs.get(hash) ?? specs.set(hash, expand(JSON.parse(meta.get("groksweep.spec")!))).get(hash)!;
    const sh = shard ? (shard.split("/").map(Number) as [number, number]) : null;
    expected = select(sw, sh, phase).map((r) => r.runId);
  }
  const counts = noCounts(expected.length),
    failed = { ...none };
  const want = new Set(expected);
  for (const [id, r] of rows) {
    if (!want.has(id)) continue;
    tally(counts, r.status);
    if (r.status === "failed") failed[(r.kind as "transient" | "permanent" | null) ?? "unknown"]++;
  }
  const missing = expected.filter((id) => !rows.has(id));
  const parts = srcs.filter((s) => s.runs.includes(".parts")).length;
  // throughput: the runs of recent parts over the time from their first start to the newest part
  const last = Math.max(...recent.map((p) => p.at)),
    win = recent.filter((p) => p.at >= last - RECENT_MS);
  const t0 = Math.min(...win.map((p) => p.started)),
    n = win.reduce((a, p) => a + p.rows, 0);
  const rate = parts && Number.isFinite(t0) && last > t0 ? (n * 60_000) / (last - t0) : null;
  return {
    ...base,
    state: missing.length === 0 ? "complete" : parts ? "running" : "partial",
    spec_hash: hash,
    shard,
    phase,
    counts,
    failed,
    missing: missing.length,
    missing_ranges: ranges(missing),
    parts,
    runs_per_min: rate,
    eta_s: rate && missing.length ? (missing.length / rate) * 60 : null,
  };
}

export interface SlurmStatus {
  out: string;
  spec_hash: string;
  jobs: { key: string; id: string; state: string | null }[];
  scheduler: string; // where the states came from
  dirs: DirStatus[];
}

/** A `groksweep slurm` OUT: every shard directory its arrays will write (started or not), the merges, the jobs. */
export async function slurmStatus(out: string): Promise<SlurmStatus> {
  const sub = JSON.parse(readFileSync(join(out, "slurm", "jobs.json"), "utf8"));
  const specFile = readdirSync(join(out, "slurm")).find((f) => f.startsWith("spec."));
  const dirs: DirStatus[] = [];
  for (const key of Object.keys(sub.jobs)) {
    const script = join(out, "slurm", `${key}.sbatch`);
    const tasks = existsSync(script) ? /--array=0-(\d+)/.exec(readFileSync(script, "utf8")) : null;
    if (tasks) for (let i = 0; i <= +tasks[1]; i++) dirs.push(await shardStatus(out, key, i, +tasks[1] + 1, specFile));
    else dirs.push(await dirStatus(join(out, key === "merge-control" ? "controls" : "all")));
  }
  const { states, from } = jobStates(Object.values(sub.jobs) as string[]);
  const jobs = Object.entries(sub.jobs as Record<string, string>).map(([key, id]) => ({
    key,
    id,
    state: states.get(id) ?? null,
  }));
  return { out, spec_hash: sub.spec_hash, jobs, scheduler: from, dirs };
}

/** A shard directory of an array, with the run_ids it is for even before its task has written anything. */
async function shardStatus(out: string, key: string, i: number, n: number, specFile?: string): Promise<DirStatus> {
  const dir = join(out, `${key}-${i}`);
  if (existsSync(dir) && sources(dir).length) return dirStatus(dir);
  if (!specFile) return dirStatus(dir, []);
  const path = join(out, "slurm", specFile);
  const sw = specs.get(path) ?? specs.set(path, expand(readSpec(path))).get(path)!;
  const phase = key === "sweep" ? null : (key as Phase);
  return dirStatus(
    dir,
    select(sw, [i, n], phase).map((r) => r.runId),
  );
}

/** Job states from squeue (queued, running) then sacct (finished), when those are on PATH. */
function jobStates(ids: string[]): { states: Map<string, string>; from: string } {
  const states = new Map<string, string>(),
    used: string[] = [];
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 10_000 });
    if (r.error || r.status !== 0) return null;
    used.push(cmd);
    return r.stdout;
  };
  const add = (text: string | null) => {
    for (const line of (text ?? "").trim().split("\n")) {
      const [jid, st] = line.trim().split(/\s+/);
      const id = jid?.split("_")[0].split(".")[0];
      if (id && st && ids.includes(id)) states.set(id, states.has(id) ? `${states.get(id)},${st}` : st);
    }
  };
  add(run("squeue", ["-h", "-o", "%i %T", "-j", ids.join(",")]));
  const queued = new Set(states.keys());
  const acct = run("sacct", ["-n", "-X", "-P", "--delimiter= ", "-o", "JobID,State", "-j", ids.join(",")]);
  if (acct !== null)
    add(
      acct
        .split("\n")
        .filter((l) => !queued.has(l.split(/[_ .]/)[0]))
        .join("\n"),
    );
  return { states, from: used.length ? used.join("+") : "squeue not available" };
}
