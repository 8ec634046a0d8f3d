// Sweep progress on stderr: a redrawn bar on a TTY, else one JSON line every few seconds.
export interface Counts {
  done: number;
  total: number;
  grokked: number;
  censored: number;
  diverged: number;
  failed: number;
}

/** No run finished yet, of `total`. */
export const noCounts = (total: number): Counts => ({
  done: 0,
  total,
  grokked: 0,
  censored: 0,
  diverged: 0,
  failed: 0,
});

/** Count one finished run (any other status counts only as done). */
export function tally(c: Counts, status: unknown): void {
  c.done++;
  if (status === "grokked" || status === "censored" || status === "diverged" || status === "failed") c[status]++;
}

export class Progress {
  private t0 = performance.now();
  private last = 0;
  private readonly tty = Boolean(process.stderr.isTTY);
  constructor(
    private readonly quiet: boolean,
    private readonly everyMs = 5000,
  ) {}

  update(c: Counts, force = false): void {
    if (this.quiet) return;
    const now = performance.now();
    if (!force && now - this.last < (this.tty ? 200 : this.everyMs)) return;
    this.last = now;
    const s = (now - this.t0) / 1000,
      rate = c.done / Math.max(s, 1e-9);
    const eta = rate > 0 ? (c.total - c.done) / rate : null;
    if (this.tty) {
      const w = 24,
        fill = Math.round((w * c.done) / Math.max(c.total, 1));
      const bar = `[${"#".repeat(fill)}${"-".repeat(w - fill)}] ${c.done}/${c.total} runs`,
        speed = `${rate.toFixed(2)} runs/s  ETA ${fmtTime(eta)}`,
        outcomes = `grokked ${c.grokked} censored ${c.censored} diverged ${c.diverged} failed ${c.failed}`;
      process.stderr.write(`\r${bar}  ${speed}  ${outcomes}\x1b[K`);
    } else {
      process.stderr.write(
        JSON.stringify({
          progress: {
            ...c,
            runs_per_s: +rate.toFixed(3),
            elapsed_s: +s.toFixed(1),
            eta_s: eta === null ? null : +eta.toFixed(0),
          },
        }) + "\n",
      );
    }
  }

  end(c: Counts): void {
    this.update(c, true);
    if (!this.quiet && this.tty) process.stderr.write("\n");
  }
}

function fmtTime(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return "?";
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}
