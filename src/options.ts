// Run configuration: PROTOCOL.md defaults and validation of user input into a typed RunConfig.
import {
  isPrime,
  Op,
  pairCount,
  parseOp,
  isGroupOp,
  groupOrder,
  parseFrac,
  fracAuto,
  trainCount,
  roundHalfEven,
  BASE_OPS,
} from "./task.js";
import { OBSERVABLES, Observable } from "./observe.js";

export const ARMS = ["free", "clamp", "rescale", "sphere"] as const;
export const ACTS = ["gelu", "relu", "quad"] as const;
export const OPTIMS = ["adamw", "adam", "sgd", "muon"] as const;
export const TASKS = ["modular", "parity"] as const;
export const MODELS = ["mlp", "attn", "tian"] as const;
export const LOSSES = ["ce", "mse"] as const;
/** Parameter groups a clamp can target (per-group norms are logged as norm_<group>). */
export const GROUPS = ["all", "embed", "attn", "mlp", "unembed"] as const;
export type Arm = (typeof ARMS)[number];
export type Group = (typeof GROUPS)[number];
export type Act = (typeof ACTS)[number];
export type Optim = (typeof OPTIMS)[number];

export interface RunConfig {
  task: (typeof TASKS)[number];
  model: (typeof MODELS)[number];
  /** modular tasks: op and p (for group ops p is the group order); parity: p = 2 classes, d = n */
  op: Op;
  p: number;
  frac: number;
  d: number;
  H: number;
  /** attention heads (model attn) */
  heads: number;
  act: Act;
  layernorm: boolean;
  loss: (typeof LOSSES)[number];
  /** sparse parity: n bits, parity of k of them, m train and mTest test points */
  n: number;
  k: number;
  m: number;
  mTest: number;
  optim: Optim;
  lr: number;
  wd: number;
  momentum: number;
  /** const | step:S | ramp:S0:S1 (λ switched on at S, or raised linearly from 0 at S0 to λ at S1) */
  wdSchedule: string;
  /** multiplies the initial E, W1, W2 (lazy vs rich regimes, Omnigrok's init-norm sweeps) */
  initScale: number;
  seed: number;
  maxSteps: number;
  arm: Arm;
  rho: number;
  wc: number | null;
  tInt: number;
  clampGroup: Group;
  memAcc: number;
  grokAcc: number;
  log: string;
  stopAtGrok: boolean;
  saveParams: number[];
  observe: Observable[];
}

export const DEFAULTS: RunConfig = {
  task: "modular",
  model: "mlp",
  op: "add",
  p: 59,
  frac: 0.4,
  d: 128,
  H: 256,
  heads: 4,
  act: "gelu",
  layernorm: false,
  loss: "ce",
  n: 30,
  k: 3,
  m: 1000,
  mTest: 2000,
  optim: "adamw",
  lr: 1e-3,
  wd: 1,
  momentum: 0,
  wdSchedule: "const",
  initScale: 1,
  seed: 0,
  maxSteps: 20000,
  arm: "free",
  rho: 1,
  wc: null,
  tInt: 500,
  clampGroup: "all",
  memAcc: 0.99,
  grokAcc: 0.9,
  log: "geom:360",
  stopAtGrok: false,
  saveParams: [],
  observe: [],
};

/** A user error: one line naming the field and value; the CLI exits with code 2. */
export class UsageError extends Error {
  constructor(field: string, value: unknown, expected: string) {
    super(
      value === undefined
        ? `${field}: missing: expected ${expected}`
        : `${field}: expected ${expected}, got ${JSON.stringify(value)}`,
    );
  }
}

const MAX_INT = 2 ** 31 - 1;
type Raw = Record<string, unknown>;

function num(
  raw: Raw,
  key: string,
  flag: string,
  test: (x: number) => boolean,
  expected: string,
  dflt: number,
): number {
  const v = raw[key];
  if (v === undefined) return dflt;
  const x = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  if (!Number.isFinite(x) || !test(x)) throw new UsageError(flag, v, expected);
  return x;
}
const int =
  (lo: number, hi = MAX_INT) =>
  (x: number) =>
    Number.isInteger(x) && x >= lo && x <= hi;

function choice<T extends string>(raw: Raw, key: string, flag: string, options: readonly T[], dflt: T): T {
  const v = raw[key];
  if (v === undefined) return dflt;
  if (typeof v !== "string" || !options.includes(v as T)) throw new UsageError(flag, v, `one of ${options.join("|")}`);
  return v as T;
}

function bool(raw: Raw, key: string, flag: string, dflt: boolean): boolean {
  const v = raw[key];
  if (v === undefined) return dflt;
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new UsageError(flag, v, "true or false");
}

/** PROTOCOL.md's values for the other architectures, used where the user gives none. */
function protocolDefaults(c: Pick<RunConfig, "task" | "model" | "optim">): Partial<Record<string, number | string>> {
  if (c.task === "parity") return { H: 512, "t-int": 1000, "max-steps": 50000 };
  if (c.model === "attn") return { H: 512, lr: 5e-4, "t-int": 600 };
  if (c.model === "tian") return { act: "quad" };
  return {};
}

/** Validate raw options (CLI strings or spec values, keyed by long option name) into a RunConfig. */
export function parseRunConfig(raw0: Raw): RunConfig {
  const c: RunConfig = { ...DEFAULTS };
  c.task = choice(raw0, "task", "--task", TASKS, DEFAULTS.task);
  c.model = choice(raw0, "model", "--model", MODELS, DEFAULTS.model);
  c.optim = choice(raw0, "optim", "--optim", OPTIMS, DEFAULTS.optim);
  const raw: Raw = { ...protocolDefaults(c), ...(c.optim === "muon" ? { momentum: 0.95 } : {}), ...raw0 };
  if (c.task === "parity") {
    if (c.model !== "mlp") throw new UsageError("--model", raw.model, "mlp for --task parity");
    for (const k of ["op", "p", "frac", "d"]) {
      // meaningless here: refuse rather than run duplicates
      if (raw0[k] !== undefined)
        throw new UsageError(`--${k}`, raw0[k], "omitted for --task parity (its sizes are --n, --k, --m, --m-test)");
    }
    c.n = num(raw, "n", "--n", int(1, 4096), "an integer in [1, 4096]", DEFAULTS.n);
    c.k = num(raw, "k", "--k", int(1, c.n), `an integer in [1, --n=${c.n}]`, DEFAULTS.k);
    c.m = num(raw, "m", "--m", int(1, 1e7), "an integer in [1, 1e7]", DEFAULTS.m);
    c.mTest = num(raw, "m-test", "--m-test", int(1, 1e7), "an integer in [1, 1e7]", DEFAULTS.mTest);
    c.op = "add";
    c.p = 2;
    c.d = c.n;
    c.frac = c.m / (c.m + c.mTest);
  } else {
    const op = parseOp(raw.op ?? DEFAULTS.op);
    if (op === null)
      throw new UsageError("--op", raw.op, `one of ${BASE_OPS.join("|")}, sym:N (N in 3..6) or dih:M (M in 3..2048)`);
    c.op = op;
    if (isGroupOp(op)) {
      const order = groupOrder(op);
      c.p = num(raw, "p", "--p", (x) => x === order, `omitted or ${order} (the order of ${op})`, order);
    } else c.p = num(raw, "p", "--p", int(2, 4096), "an integer in [2, 4096]", DEFAULTS.p);
    if (c.op === "div" && !isPrime(c.p)) throw new UsageError("--p", raw.p, "a prime (--op div needs inverses mod p)");
    const f = raw.frac === undefined ? DEFAULTS.frac : parseFrac(raw.frac);
    if (f === null)
      throw new UsageError("--frac", raw.frac, "a number in (0, 1) or auto:C (C·ln M / M, M the group order)");
    c.frac = typeof f === "number" ? f : fracAuto(f.auto, c.p);
    if (!(c.frac > 0 && c.frac < 1))
      throw new UsageError(
        "--frac",
        raw.frac,
        `a fraction in (0, 1)${typeof f === "number" ? "" : `; auto gives ${c.frac}`}`,
      );
    const nPairs = pairCount(c.op, c.p);
    if (trainCount(c.frac, nPairs) >= nPairs)
      throw new UsageError("--frac", raw.frac, `a fraction leaving test pairs (p=${c.p} has ${nPairs} pairs)`);
    if (c.model === "tian" && raw0.d !== undefined)
      throw new UsageError("--d", raw0.d, "omitted for --model tian (its input is one-hot: width 2p)");
    c.d = c.model === "tian" ? c.p : num(raw, "d", "--d", int(1, 65536), "an integer ≥ 1", DEFAULTS.d);
  }
  c.H = num(raw, "H", "--H", int(1, 65536), "an integer ≥ 1", DEFAULTS.H);
  if (c.model === "attn") {
    c.heads = num(raw, "heads", "--heads", int(1, 64), "an integer in [1, 64]", DEFAULTS.heads);
    if (c.d % (4 * c.heads) !== 0)
      throw new UsageError(
        "--d",
        raw.d ?? c.d,
        `a multiple of 4·heads = ${4 * c.heads} for --model attn with --heads ${c.heads}`,
      );
  }
  c.act = choice(raw, "act", "--act", ACTS, DEFAULTS.act);
  c.layernorm = bool(raw, "layernorm", "--layernorm", DEFAULTS.layernorm);
  c.loss = choice(raw, "loss", "--loss", LOSSES, DEFAULTS.loss);
  if (c.loss === "mse" && c.model === "attn") throw new UsageError("--loss", raw.loss, "ce for --model attn");
  if (c.model === "attn" && c.act !== "gelu") throw new UsageError("--act", raw.act, "gelu for --model attn");
  c.lr = num(raw, "lr", "--lr", (x) => x > 0, "a number > 0", DEFAULTS.lr);
  c.wd = num(raw, "wd", "--wd", (x) => x >= 0, "a number ≥ 0", DEFAULTS.wd);
  c.momentum = num(raw, "momentum", "--momentum", (x) => x >= 0 && x < 1, "a number in [0, 1)", DEFAULTS.momentum);
  c.initScale = num(raw, "init-scale", "--init-scale", (x) => x > 0, "a number > 0", DEFAULTS.initScale);
  c.wdSchedule = raw["wd-schedule"] === undefined ? DEFAULTS.wdSchedule : String(raw["wd-schedule"]);
  wdSchedule(c.wdSchedule); // validates
  c.seed = num(raw, "seed", "--seed", int(0), "an integer in [0, 2^31)", DEFAULTS.seed);
  c.maxSteps = num(raw, "max-steps", "--max-steps", int(1, 1e9), "an integer in [1, 1e9]", DEFAULTS.maxSteps);
  c.arm = choice(raw, "arm", "--arm", ARMS, DEFAULTS.arm);
  c.rho = num(raw, "rho", "--rho", (x) => x > 0, "a number > 0", DEFAULTS.rho);
  c.wc = raw.wc === undefined ? null : num(raw, "wc", "--wc", (x) => x > 0, "a number > 0", 0);
  if ((c.arm === "clamp" || c.arm === "rescale") && c.wc === null)
    throw new UsageError("--wc", raw.wc, `a target norm reference (required by --arm ${c.arm})`);
  c.tInt = num(raw, "t-int", "--t-int", int(0), "an integer ≥ 0", DEFAULTS.tInt);
  c.clampGroup = choice(raw, "clamp-group", "--clamp-group", GROUPS, DEFAULTS.clampGroup);
  const groups = modelGroups(c);
  if (c.clampGroup !== "all" && !groups.includes(c.clampGroup))
    throw new UsageError("--clamp-group", raw["clamp-group"], `one of all|${groups.join("|")} for this model`);
  c.memAcc = num(raw, "mem-acc", "--mem-acc", (x) => x > 0 && x <= 1, "a number in (0, 1]", DEFAULTS.memAcc);
  c.grokAcc = num(raw, "grok-acc", "--grok-acc", (x) => x > 0 && x <= 1, "a number in (0, 1]", DEFAULTS.grokAcc);
  c.log = raw.log === undefined ? DEFAULTS.log : String(raw.log);
  logGrid(c.log, c.maxSteps); // validates
  c.stopAtGrok = bool(raw, "stop-at-grok", "--stop-at-grok", DEFAULTS.stopAtGrok);
  c.saveParams = parseSteps(raw["save-params"], c.maxSteps);
  c.observe = parseObserve(raw.observe);
  if (c.observe.length && (c.task === "parity" || c.model === "tian"))
    throw new UsageError("--observe", raw.observe, "none for models without an embedding E (tian, parity)");
  return c;
}

/** The parameter groups a model has (besides all). mlp: embed = E, mlp = W1, unembed = W2. */
export function modelGroups(c: Pick<RunConfig, "task" | "model">): Group[] {
  if (c.model === "attn") return ["embed", "attn", "mlp", "unembed"];
  if (c.model === "tian" || c.task === "parity") return ["mlp", "unembed"];
  return ["embed", "mlp", "unembed"];
}

/** [kind, s0, s1] for the kernels: const → 0; step:S → 1, S, S; ramp:S0:S1 → 2, S0, S1 (S0 < S1). */
export function wdSchedule(spec: string): [number, number, number] {
  if (spec === "const") return [0, 0, 0];
  let m = /^step:(\d+)$/.exec(spec);
  if (m && +m[1] <= MAX_INT) return [1, +m[1], +m[1]];
  m = /^ramp:(\d+):(\d+)$/.exec(spec);
  if (m && +m[1] < +m[2] && +m[2] <= MAX_INT) return [2, +m[1], +m[2]];
  throw new UsageError("--wd-schedule", spec, "const, step:S or ramp:S0:S1 with S0 < S1");
}

function parseObserve(v: unknown): Observable[] {
  if (v === undefined || v === "" || v === "none") return [];
  const parts = Array.isArray(v)
    ? v.map(String)
    : String(v)
        .split(",")
        .map((x) => x.trim());
  if (!parts.every((x) => (OBSERVABLES as readonly string[]).includes(x)))
    throw new UsageError("--observe", v, `a comma-separated subset of ${OBSERVABLES.join(",")}`);
  return OBSERVABLES.filter((o) => parts.includes(o));
}

function parseSteps(v: unknown, maxSteps: number): number[] {
  if (v === undefined || v === "") return [];
  const parts = Array.isArray(v) ? v : String(v).split(",");
  const steps = parts.map((s) => (typeof s === "number" ? s : String(s).trim() === "" ? NaN : Number(s)));
  if (!steps.every((s) => Number.isInteger(s) && s >= 0 && s <= maxSteps)) {
    throw new UsageError("--save-params", v, `comma-separated steps in [0, --max-steps=${maxSteps}]`);
  }
  return [...new Set(steps)].sort((a, b) => a - b);
}

/** Logged steps: geom:N = {0} ∪ round(max^(i/(N−1))), i < N (the reference grid); every:K = 0, K, 2K, …, max. */
export function logGrid(spec: string, maxSteps: number): number[] {
  const m = /^(geom|every):(\d+)$/.exec(spec);
  const n = m ? Number(m[2]) : NaN;
  if (!m || (m[1] === "geom" && n < 2) || (m[1] === "every" && n < 1)) {
    throw new UsageError("--log", spec, "geom:N (N ≥ 2) or every:K (K ≥ 1)");
  }
  const steps = new Set<number>([0, maxSteps]);
  if (m[1] === "geom") {
    for (let i = 0; i < n; i++) steps.add(roundHalfEven(maxSteps ** (i / (n - 1))));
  } else {
    for (let s = 0; s <= maxSteps; s += n) steps.add(s);
  }
  return [...steps].filter((s) => s <= maxSteps).sort((a, b) => a - b);
}
