// Datasets: binary operations over all operand pairs, split by a seeded permutation. Base ops work
// mod p; group ops (S_N, D_M) multiply group elements, with p = the group order.
import { Rng, STREAM } from "./rng.js";

export type BaseOp = "add" | "sub" | "mul" | "div" | "x2+xy+y2";
export type Op = BaseOp | `sym:${number}` | `dih:${number}`;
export const BASE_OPS: readonly BaseOp[] = ["add", "sub", "mul", "div", "x2+xy+y2"];
/** Kept for older callers: the base ops. */
export const OPS = BASE_OPS;

const SYM_N = [3, 6],
  DIH_M = [3, 2048];

/** The group family and parameter of a valid group op; null otherwise. */
function group(op: string): { kind: "sym" | "dih"; n: number } | null {
  const m = /^(sym|dih):([1-9][0-9]{0,5})$/.exec(op);
  if (!m) return null;
  const kind = m[1] as "sym" | "dih",
    n = Number(m[2]),
    [lo, hi] = kind === "sym" ? SYM_N : DIH_M;
  return n >= lo && n <= hi ? { kind, n } : null;
}

/** The op named by s, or null when s names none (canonical spelling only: no "sym:05"). */
export function parseOp(s: unknown): Op | null {
  if (typeof s !== "string") return null;
  if ((BASE_OPS as readonly string[]).includes(s)) return s as BaseOp;
  return group(s) ? (s as Op) : null;
}

export function isGroupOp(op: string): boolean {
  return group(op) !== null;
}

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));

/** |S_N| = N!, |D_M| = 2M. */
export function groupOrder(op: string): number {
  const g = group(op);
  if (!g) throw new Error(`not a group op: ${op}`);
  return g.kind === "sym" ? factorial(g.n) : 2 * g.n;
}

/** The permutations of 0..N−1 in lexicographic order (so index 0 is the identity). */
function permutations(N: number): Int32Array[] {
  const out: Int32Array[] = [],
    q = Int32Array.from({ length: N }, (_, i) => i);
  for (;;) {
    out.push(q.slice());
    let i = N - 2;
    while (i >= 0 && q[i] > q[i + 1]) i--;
    if (i < 0) return out;
    let j = N - 1;
    while (q[j] < q[i]) j--;
    [q[i], q[j]] = [q[j], q[i]];
    q.subarray(i + 1).reverse();
  }
}

/** Lexicographic index of a permutation (Lehmer code). */
function rank(q: Int32Array): number {
  let r = 0;
  for (let i = 0; i < q.length; i++) {
    let smaller = 0;
    for (let j = i + 1; j < q.length; j++) if (q[j] < q[i]) smaller++;
    r = r * (q.length - i) + smaller;
  }
  return r;
}

/** r^k1 s^f1 · r^k2 s^f2 = r^(k1 ± k2) s^(f1 xor f2), with element index k + M·f. */
function dihMul(M: number, x: number, y: number): number {
  const k1 = x % M,
    f1 = x >= M ? 1 : 0,
    k2 = y % M,
    f2 = y >= M ? 1 : 0;
  return ((f1 ? k1 - k2 + M : k1 + k2) % M) + M * (f1 ^ f2);
}

const tables = new Map<string, Int32Array>();

/** Cayley table t[a·p + b] = a·b (p = group order), built once per op. */
export function cayley(op: string): Int32Array {
  let t = tables.get(op);
  if (t) return t;
  const g = group(op);
  if (!g) throw new Error(`not a group op: ${op}`);
  const p = groupOrder(op);
  t = new Int32Array(p * p);
  if (g.kind === "sym") {
    const perms = permutations(g.n),
      c = new Int32Array(g.n);
    for (let a = 0; a < p; a++)
      for (let b = 0; b < p; b++) {
        const pa = perms[a],
          pb = perms[b];
        for (let i = 0; i < g.n; i++) c[i] = pa[pb[i]];
        t[a * p + b] = rank(c);
      }
  } else {
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) t[a * p + b] = dihMul(g.n, a, b);
  }
  tables.set(op, t);
  return t;
}

export function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let k = 2; k * k <= n; k++) if (n % k === 0) return false;
  return true;
}

function modInverse(b: number, p: number): number {
  let [r0, r1, t0, t1] = [p, b, 0, 1];
  while (r1 !== 0) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return ((t0 % p) + p) % p;
}

/** The label function of op at vocabulary p, resolved once so decode's loop stays cheap. */
function labeller(op: Op, p: number): (a: number, b: number) => number {
  switch (op) {
    case "add":
      return (a, b) => (a + b) % p;
    case "sub":
      return (a, b) => (((a - b) % p) + p) % p;
    case "mul":
      return (a, b) => (a * b) % p;
    case "div":
      return (a, b) => (a * modInverse(b, p)) % p;
    case "x2+xy+y2":
      return (a, b) => (a * a + a * b + b * b) % p;
  }
  const g = group(op);
  if (!g) throw new Error(`unknown op: ${op}`);
  if (p !== groupOrder(op)) throw new Error(`${op} needs p = ${groupOrder(op)} (the group order), got ${p}`);
  // D_M's product is closed-form; a table for M = 2048 would take 64 MiB
  if (g.kind === "dih") return (a, b) => dihMul(g.n, a, b);
  const t = cayley(op);
  return (a, b) => t[a * p + b];
}

export function label(op: Op, a: number, b: number, p: number): number {
  return labeller(op, p)(a, b);
}

/** All pairs of the task, encoded a·p + b, in ascending order (div excludes b = 0). */
export function allPairs(op: Op, p: number): Int32Array {
  if (isGroupOp(op) && p !== groupOrder(op))
    throw new Error(`${op} needs p = ${groupOrder(op)} (the group order), got ${p}`);
  const b0 = op === "div" ? 1 : 0,
    out = new Int32Array(pairCount(op, p));
  let i = 0;
  for (let a = 0; a < p; a++) for (let b = b0; b < p; b++) out[i++] = a * p + b;
  return out;
}

/** How many operand pairs the task has: p², or p(p − 1) for div (b = 0 has no inverse). */
export function pairCount(op: string, p: number): number {
  return op === "div" ? p * (p - 1) : p * p;
}

/** Python's round(): half to even, as the reference protocol uses. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function trainCount(frac: number, nPairs: number): number {
  return Math.max(2, roundHalfEven(frac * nPairs));
}

/** The train set's size of a task: trainCount over its pairs. */
export const trainSize = (op: string, p: number, frac: number): number => trainCount(frac, pairCount(op, p));

/** Tian's sample scaling: n ≈ C·M·ln M pairs out of M², i.e. frac = C·ln(M)/M. */
export function fracAuto(C: number, M: number): number {
  return (C * Math.log(M)) / M;
}

/** A train fraction (number or numeric string), or "auto:C" (C > 0) for fracAuto; null when invalid. */
export function parseFrac(s: unknown): { auto: number } | number | null {
  if (typeof s === "number") return Number.isFinite(s) ? s : null;
  if (typeof s !== "string" || s.trim() === "") return null;
  const m = /^auto:(.+)$/.exec(s.trim());
  const x = Number(m ? m[1] : s);
  if (!Number.isFinite(x) || (m && x <= 0)) return null;
  return m ? { auto: x } : x;
}

export interface Split {
  train: Int32Array;
  test: Int32Array;
}

/** Seeded Fisher–Yates permutation of all pairs; the first max(2, round(frac·N)) are train. */
export function split(op: Op, p: number, frac: number, seed: number): Split {
  const pairs = allPairs(op, p);
  const rng = new Rng(seed, STREAM.split);
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = pairs[i];
    pairs[i] = pairs[j];
    pairs[j] = t;
  }
  const n = trainCount(frac, pairs.length);
  return { train: pairs.slice(0, n), test: pairs.slice(n) };
}

/** Operands and labels of encoded pairs. */
export function decode(op: Op, p: number, pairs: Int32Array): { a: Int32Array; b: Int32Array; y: Int32Array } {
  const n = pairs.length,
    a = new Int32Array(n),
    b = new Int32Array(n),
    y = new Int32Array(n),
    f = labeller(op, p);
  for (let i = 0; i < n; i++) {
    a[i] = Math.floor(pairs[i] / p);
    b[i] = pairs[i] % p;
    y[i] = f(a[i], b[i]);
  }
  return { a, b, y };
}

/** --label-noise K: K distinct train rows (seeded partial Fisher–Yates) get a label drawn uniformly from the
 *  classes other than the true one; y is changed in place, the rows are returned ascending. */
export function addLabelNoise(y: Int32Array, classes: number, k: number, seed: number): Int32Array {
  const rng = new Rng(seed, STREAM.labelNoise),
    idx = Int32Array.from({ length: y.length }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(y.length - i);
    [idx[i], idx[j]] = [idx[j], idx[i]];
    y[idx[i]] = (y[idx[i]] + 1 + rng.int(classes - 1)) % classes;
  }
  return idx.slice(0, k).sort();
}
