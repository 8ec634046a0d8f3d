// FLOP counts of one training step, for scheduling (longest first), cost estimates and GFLOP/s.
import { trainCount, pairCount } from "./task.js";
import type { RunConfig } from "./options.js";

/** Multiply–adds ×2 of one training step (forward + backward ≈ 3 × forward):
 *  mlp: 3 GEMMs of n·H·p and 3 of p·d·2H (lookup-table first layer); parity: n·d·H instead of the tables;
 *  attn: per pair the MLP (2·d·H) and unembedding (d·(p+1)), plus the token tables (≈ 4·p·d·d). */
export function stepFlops(c: Pick<RunConfig, "task" | "model" | "p" | "d" | "H" | "frac" | "m"> & { op?: string }): number {
  const { p, d, H } = c;
  if (c.task === "parity") return 6 * c.m * (d * H + H * p);
  const n = trainCount(c.frac, pairCount(c.op ?? "add", p));
  if (c.model === "attn") return 6 * n * (2 * d * H + d * (p + 1)) + 24 * p * d * d;
  if (c.model === "tian") return 6 * n * H * p + 2 * n * 2 * H;
  return 6 * n * H * p + 12 * p * d * H;
}
