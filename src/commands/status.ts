// `groksweep status DIR…`: runs done by status, failures by kind, missing run_ids, throughput and ETA of a
// sweep directory (running or not), a merged one, or a `groksweep slurm` OUT with its jobs (src/status.ts).
import type { Argv } from "yargs";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { UsageError } from "../options.js";
import { duration, single } from "../cli-util.js";
import { sources } from "../store.js";
import { dirStatus, slurmStatus, DirStatus, SlurmStatus } from "../status.js";

export const command = "status <dirs..>";
export const describe = "what sweep directories (running or finished) or groksweep slurm OUTs hold: done, missing, ETA";

export function builder(y: Argv): Argv {
  return y
    .positional("dirs", { type: "string", array: true, describe: "sweep, merged or `groksweep slurm` directories" })
    .option("json", { type: "boolean", describe: "one JSON object: {dirs: [...], slurm: [...]}" })
    .option("watch", { type: "string", describe: "refresh every S seconds until every directory is complete" });
}

type Entry = { dir: DirStatus } | { slurm: SlurmStatus };

async function collect(dirs: string[]): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const d of dirs) {
    if (existsSync(join(d, "slurm", "jobs.json"))) out.push({ slurm: await slurmStatus(d) });
    else out.push({ dir: await dirStatus(d) });
  }
  return out;
}

function line(s: DirStatus, name = s.dir): string {
  if (s.state === "empty" && !s.counts.total) return `${name}: nothing yet`;
  const c = s.counts,
    f = s.failed;
  const kinds = c.failed
    ? ` (${f.transient} transient, ${f.permanent} permanent${f.unknown ? `, ${f.unknown} ?` : ""})`
    : "";
  const what = [s.shard && `shard ${s.shard}`, s.phase && `phase ${s.phase}`].filter(Boolean).join(", ");
  return (
    `${name}: ${c.done}/${c.total} runs${what ? ` [${what}]` : ""} — ${c.grokked} grokked, ${c.censored} censored, ` +
    `${c.diverged} diverged, ${c.failed} failed${kinds}; ${s.state}` +
    (s.missing && s.state !== "empty" ? `; missing run_id ${s.missing_ranges}` : "") +
    (s.runs_per_min !== null ? `; ${s.runs_per_min.toFixed(1)} runs/min` : s.parts ? "; no recent parts" : "") +
    (s.eta_s !== null ? `, ETA ${duration(s.eta_s)}` : "")
  );
}

function text(entries: Entry[]): string {
  const lines: string[] = [];
  for (const e of entries) {
    if ("dir" in e) {
      lines.push(line(e.dir));
      continue;
    }
    const s = e.slurm;
    lines.push(`${s.out}: groksweep slurm submission of spec ${s.spec_hash}`);
    for (const d of s.dirs) lines.push("  " + line(d, d.dir.slice(s.out.length + 1)));
    const shards = s.dirs.filter((d) => /-\d+$/.test(d.dir));
    const done = shards.reduce((a, d) => a + d.counts.done, 0),
      total = shards.reduce((a, d) => a + d.counts.total, 0);
    lines.push(`  shards: ${done}/${total} runs done`);
    lines.push(`  jobs (${s.scheduler}): ` + s.jobs.map((j) => `${j.key} ${j.id} ${j.state ?? "?"}`).join("; "));
  }
  return lines.join("\n") + "\n";
}

const complete = (entries: Entry[]) =>
  entries.every((e) => ("dir" in e ? [e.dir] : e.slurm.dirs).every((d) => d.state === "complete"));

export async function handler(argv: Record<string, unknown>): Promise<void> {
  const dirs = (argv.dirs as string[]).map((d) => resolve(d));
  for (const d of dirs) {
    const slurm = existsSync(join(d, "slurm", "jobs.json"));
    if (
      !existsSync(d) ||
      !statSync(d).isDirectory() ||
      (!slurm && !sources(d).length && !existsSync(join(d, ".parts")))
    )
      throw new UsageError("DIR", d, "a sweep output directory (runs.arrow or .parts/) or a groksweep slurm OUT");
  }
  const w = single(argv, "watch");
  const every = w === undefined ? null : Number(w);
  if (every !== null && !(Number.isFinite(every) && every > 0))
    throw new UsageError("--watch", w, "a number of seconds > 0");
  const show = (entries: Entry[]) =>
    argv.json
      ? JSON.stringify({
          dirs: entries.flatMap((e) => ("dir" in e ? [e.dir] : [])),
          slurm: entries.flatMap((e) => ("slurm" in e ? [e.slurm] : [])),
        }) + "\n"
      : text(entries);
  // --watch ends on SIGINT with exit 0: waking the wait, not killing the process
  let stop = false,
    wake = () => {};
  process.once("SIGINT", () => ((stop = true), wake()));
  for (;;) {
    const entries = await collect(dirs);
    if (every !== null && process.stdout.isTTY && !argv.json) process.stdout.write("\x1b[2J\x1b[H");
    process.stdout.write(show(entries));
    if (every === null || stop || complete(entries)) return;
    await new Promise<void>((r) => {
      const t = setTimeout(r, every * 1000);
      wake = () => (clearTimeout(t), r());
    });
    if (stop) return;
  }
}
