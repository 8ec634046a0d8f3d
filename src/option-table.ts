// Every run option, once: its flag, value check, default and per-model defaults, help, Arrow column,
// role and membership of the measured-Wc control key. The CLI, the spec schema, runs.arrow's
// configuration columns, fit's configuration columns and reproduce are derived from this table
// (src/options.ts). Order: the spec's expansion order (the first varies slowest) — append new options.
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
  trainSize,
} from "./task.js";
import { BASE_OPS } from "./task.js";
import type { Observable } from "./observe.js";
import { Value, Bad, UsageError, number, integer, choice, flag, text, MAX_INT } from "./validate.js";
import { ARMS, ACTS, OPTIMS, MODELS, LOSSES, GROUPS } from "./codes.js";
import { wdSchedule, grokfast, logGrid, parseObserve, parseSteps, parseFreqs, curvesMode } from "./option-values.js";

export { ARMS, ACTS, OPTIMS, MODELS, LOSSES, GROUPS, wdSchedule, grokfast, logGrid, curvesMode };

export const TASKS = ["modular", "parity"] as const;
export type Arm = (typeof ARMS)[number];
export type Group = (typeof GROUPS)[number];

/** What an option is to the analysis: config defines the network and its training (fit's default group
 *  key; the control key unless control: false), intervention and budget the arm and its length, measure
 *  the thresholds of T_mem/T_grok, output what is logged, seed the seed. */
export type Role = "config" | "intervention" | "budget" | "measure" | "output" | "seed";
/** Per-model defaults (PROTOCOL.md), by task, then model, then optimizer. */
export type By<T> = Partial<Record<"parity" | "attn" | "tian" | "muon", T>>;
type Cfg = Record<string, any>;

export interface Option<T> {
  help: string;
  value: Value<T>;
  dflt: NoInfer<T>;
  by?: By<NoInfer<T>>;
  /** the option means something only where this holds; elsewhere it keeps its default, unchecked */
  applies?: (c: Cfg) => boolean;
  /** a value the configuration forces (the user may not give one): [why, value from the whole config] */
  fixed?: (c: Cfg) => [why: string, value: (c: Cfg) => T] | null;
  /** runs.arrow column: a name, or a name with a getter (nullable), the value older files read as and
   *  `since` (the schema revision that appended it; columns after the first schemas sort by it) */
  col?: string | { name: string; get?: (c: Cfg) => unknown; later?: unknown; since?: number };
  /** the runs.arrow column a control key reads this option from when it is not a column itself */
  rowName?: string;
  role: Role;
  /** part of the measured-Wc control key (default: every config option that applies) */
  control?: false;
  /** not a spec key (the seed comes from `seeds`/`seed`) */
  spec?: false;
}
const opt = <T>(o: Option<T>): Option<T> => o;

const parity = (c: Cfg) => c.task === "parity";
const PARITY = "--task parity (its sizes are --n, --k, --m, --m-test)";
const forParity =
  <T>(value: (c: Cfg) => T) =>
  (c: Cfg) =>
    parity(c) ? ([PARITY, value] as [string, (c: Cfg) => T]) : null;
const positive = (x: number) => x > 0;
/** A value in one of the small languages of option-values.ts: kept as written, checked by its parser. */
const language = (expected: string, parse: (s: string) => unknown) =>
  text<string>(expected, (v, _c, d) => {
    const s = v === undefined ? d : String(v);
    parse(s);
    return s;
  });

/** The train set's size of a configuration (frac and p, or m, already parsed). */
const nTrainOf = (c: Cfg) => (parity(c) ? c.m : trainSize(c.op, c.p, c.frac));

/** The parameter groups a model has (besides all). mlp: embed = E, mlp = W1, unembed = W2. */
export function modelGroups(c: { task: string; model: string }): Group[] {
  if (c.model === "attn") return ["embed", "attn", "mlp", "unembed"];
  if (c.model === "tian" || c.task === "parity") return ["mlp", "unembed"];
  return ["embed", "mlp", "unembed"];
}

export const OPTIONS = {
  task: opt({ help: "modular|parity", value: choice(TASKS), dflt: "modular", col: "task", role: "config" }),
  model: opt({
    help: "mlp|attn|tian",
    value: text<(typeof MODELS)[number]>(
      `one of ${MODELS.join("|")}`,
      (v, c, d) => {
        const model = choice(MODELS).check(v, c, d);
        if (parity(c) && model !== "mlp") throw new Bad("mlp for --task parity");
        return model;
      },
      (z) => z.enum(MODELS),
    ),
    dflt: "mlp",
    col: "model",
    role: "config",
  }),
  op: opt<Op>({
    help: "add|sub|mul|div|x2+xy+y2 (mod p), sym:N (S_N, N ≤ 6), dih:M (dihedral, order 2M)",
    value: text<Op>("an operation such as add, x2+xy+y2, sym:4, dih:10", (v, _c, d) => {
      const op = parseOp(v ?? d);
      if (op === null) throw new Bad(`one of ${BASE_OPS.join("|")}, sym:N (N in 3..6) or dih:M (M in 3..2048)`);
      return op;
    }),
    dflt: "add",
    fixed: forParity(() => "add"),
    col: "op",
    role: "config",
  }),
  p: opt({
    help: "modulus p (vocabulary size; group ops: the group order, may be omitted)",
    value: text<number>(
      "an integer",
      (v, c, d) => {
        if (isGroupOp(c.op)) {
          const order = groupOrder(c.op);
          return integer(order, order, `omitted or ${order} (the order of ${c.op})`).check(v, c, order);
        }
        const p = integer(2, 4096).check(v, c, d);
        if (c.op === "div" && !isPrime(p)) throw new Bad("a prime (--op div needs inverses mod p)");
        return p;
      },
      (z) => z.number().int(),
      "int",
    ),
    dflt: 59,
    fixed: forParity(() => 2),
    col: "p",
    role: "config",
  }),
  frac: opt({
    help: "train fraction of all pairs, or auto:C = C·ln M / M",
    value: text<number>(
      "a number or auto:C",
      (v, c, d) => {
        const f = v === undefined ? d : parseFrac(v);
        if (f === null) throw new Bad("a number in (0, 1) or auto:C (C·ln M / M, M the group order)");
        const frac = typeof f === "number" ? f : fracAuto(f.auto, c.p);
        if (!(frac > 0 && frac < 1))
          throw new Bad(`a fraction in (0, 1)${typeof f === "number" ? "" : `; auto gives ${frac}`}`);
        const nPairs = pairCount(c.op, c.p);
        if (trainCount(frac, nPairs) >= nPairs) {
          throw new Bad(`a fraction leaving test pairs (p=${c.p} has ${nPairs} pairs)`);
        }
        return frac;
      },
      (z) => z.union([z.number(), z.string()]),
      "float",
    ),
    dflt: 0.4,
    fixed: forParity((c) => c.m / (c.m + c.mTest)),
    col: "frac",
    role: "config",
  }),
  n: opt({
    help: "parity: input bits",
    value: integer(1, 4096),
    dflt: 30,
    applies: parity,
    col: { name: "n_bits", get: (c) => (parity(c) ? c.n : null), later: null },
    role: "config",
  }),
  k: opt({
    help: "parity: bits in the parity",
    value: integer(
      1,
      (c) => c.n,
      (c) => `an integer in [1, --n=${c.n}]`,
    ),
    dflt: 3,
    applies: parity,
    col: { name: "k_bits", get: (c) => (parity(c) ? c.k : null), later: null },
    role: "config",
  }),
  m: opt({
    help: "parity: train points",
    value: integer(1, 1e7, "an integer in [1, 1e7]"),
    dflt: 1000,
    applies: parity,
    rowName: "n_train",
    role: "config",
  }),
  mTest: opt({
    help: "parity: fresh test points",
    value: integer(1, 1e7, "an integer in [1, 1e7]"),
    dflt: 2000,
    applies: parity,
    role: "config",
    control: false,
  }),
  d: opt({
    help: "embedding width",
    value: integer(1, 65536, "an integer ≥ 1"),
    dflt: 128,
    fixed: (c) =>
      parity(c)
        ? [PARITY, (c) => c.n]
        : c.model === "tian"
          ? ["--model tian (its input is one-hot: width 2p)", (c) => c.p]
          : null,
    col: "d",
    role: "config",
  }),
  H: opt({
    help: "hidden width",
    value: integer(1, 65536, "an integer ≥ 1"),
    dflt: 256,
    by: { parity: 512, attn: 512 },
    col: "H",
    role: "config",
  }),
  heads: opt({
    help: "attention heads (attn)",
    value: text<number>(
      "an integer",
      (v, c, d, raw) => {
        const h = integer(1, 64).check(v, c, d);
        if (c.d % (4 * h) !== 0) {
          throw new UsageError(
            "--d",
            raw?.d ?? c.d,
            `a multiple of 4·heads = ${4 * h} for --model attn with --heads ${h}`,
          );
        }
        return h;
      },
      (z) => z.number().int(),
      "int",
    ),
    dflt: 4,
    applies: (c) => c.model === "attn",
    col: { name: "heads", get: (c) => (c.model === "attn" ? c.heads : null), later: null },
    role: "config",
  }),
  act: opt({
    help: "gelu|relu|quad",
    value: text<(typeof ACTS)[number]>(
      `one of ${ACTS.join("|")}`,
      (v, c, d) => {
        const act = choice(ACTS).check(v, c, d);
        if (c.model === "attn" && act !== "gelu") throw new Bad("gelu for --model attn");
        return act;
      },
      (z) => z.enum(ACTS),
    ),
    dflt: "gelu",
    by: { tian: "quad" },
    col: "act",
    role: "config",
  }),
  layernorm: opt({
    help: "parameter-free LayerNorm (mlp: on h before W2; attn: before attention, MLP and unembedding)",
    value: flag(),
    dflt: false,
    col: "layernorm",
    role: "config",
  }),
  loss: opt({
    help: "ce|mse|stablemax (mse: squared error to the centred one-hot target; stablemax: Prieto et al.)",
    value: text<(typeof LOSSES)[number]>(
      `one of ${LOSSES.join("|")}`,
      (v, c, d) => {
        const loss = choice(LOSSES).check(v, c, d);
        if (loss !== "ce" && c.model === "attn") throw new Bad("ce for --model attn");
        return loss;
      },
      (z) => z.enum(LOSSES),
    ),
    dflt: "ce",
    col: { name: "loss", later: "ce" },
    role: "config",
  }),
  optim: opt({ help: "adamw|adam|sgd|muon", value: choice(OPTIMS), dflt: "adamw", col: "optim", role: "config" }),
  lr: opt({
    help: "learning rate",
    value: number(positive, "a number > 0"),
    dflt: 1e-3,
    by: { attn: 5e-4 },
    col: "lr",
    role: "config",
    control: false,
  }),
  wd: opt({
    help: "weight decay λ",
    value: number((x) => x >= 0, "a number ≥ 0"),
    dflt: 1,
    col: "wd",
    role: "config",
  }),
  momentum: opt({
    help: "SGD momentum; Muon momentum",
    value: number((x) => x >= 0 && x < 1, "a number in [0, 1)"),
    dflt: 0,
    by: { muon: 0.95 },
    col: "momentum",
    role: "config",
    control: false,
  }),
  maxSteps: opt({
    help: "training budget in steps",
    value: integer(1, 1e9, "an integer in [1, 1e9]"),
    dflt: 20000,
    by: { parity: 50000 },
    col: "max_steps",
    role: "budget",
  }),
  arm: opt({ help: "free|clamp|rescale|sphere", value: choice(ARMS), dflt: "free", col: "arm", role: "intervention" }),
  rho: opt({
    help: "target norm factor ρ",
    value: number(positive, "a number > 0"),
    dflt: 1,
    col: "rho",
    role: "intervention",
  }),
  wc: opt<number | null>({
    help: "reference norm Wc (required for clamp/rescale)",
    value: text<number | null>(
      'a number or "measure"',
      (v, c) => {
        const wc = v === undefined ? null : number(positive, "a number > 0").check(v, c, 0);
        if ((c.arm === "clamp" || c.arm === "rescale") && wc === null) {
          throw new Bad(`a target norm reference (required by --arm ${c.arm})`);
        }
        return wc;
      },
      (z) => z.union([z.number(), z.literal("measure")]),
      "float",
    ),
    dflt: null,
    col: { name: "wc_ref", get: (c) => c.wc },
    role: "intervention",
  }),
  tInt: opt({
    help: "intervention step",
    value: integer(0, MAX_INT, "an integer ≥ 0"),
    dflt: 500,
    by: { parity: 1000, attn: 600 },
    col: "t_int",
    role: "intervention",
  }),
  clampGroup: opt({
    help: "all|embed|attn|mlp|unembed: the norm a clamp/rescale/sphere acts on",
    value: text<Group>(
      `one of ${GROUPS.join("|")}`,
      (v, c, d) => {
        const g = choice(GROUPS).check(v, c, d);
        const groups = modelGroups(c as { task: string; model: string });
        if (g !== "all" && !groups.includes(g)) throw new Bad(`one of all|${groups.join("|")} for this model`);
        return g;
      },
      (z) => z.enum(GROUPS),
    ),
    dflt: "all",
    col: { name: "clamp_group", later: "all" },
    role: "intervention",
  }),
  memAcc: opt({
    help: "train accuracy defining T_mem",
    value: number((x) => x > 0 && x <= 1, "a number in (0, 1]"),
    dflt: 0.99,
    col: "mem_acc",
    role: "measure",
  }),
  grokAcc: opt({
    help: "test accuracy defining T_grok",
    value: number((x) => x > 0 && x <= 1, "a number in (0, 1]"),
    dflt: 0.9,
    col: "grok_acc",
    role: "measure",
  }),
  log: opt({
    help: "logging grid geom:N | every:K",
    value: text<string>("geom:N or every:K", (v, c, d) => {
      const log = v === undefined ? d : String(v);
      logGrid(log, c.maxSteps); // validates
      return log;
    }),
    dflt: "geom:360",
    role: "output",
  }),
  stopAtGrok: opt({
    help: "end each run at its T_grok (once T_mem is known)",
    value: flag(),
    dflt: false,
    role: "output",
  }),
  observe: opt<Observable[]>({
    help: "extra observables at logged steps: spectral,fourier (of E), eff-lr (per norm group), logits",
    value: text<Observable[]>('a string such as "spectral,fourier"', (v, c) => {
      const obs = parseObserve(v);
      if (obs.some((o) => o === "spectral" || o === "fourier") && (parity(c) || c.model === "tian"))
        throw new Bad("eff-lr or logits only, for models without an embedding E (tian, parity)");
      if (obs.includes("nanda") && (parity(c) || c.model !== "mlp" || c.op !== "add"))
        throw new Bad("nanda only for --model mlp on --op add (modular addition)");
      return obs;
    }),
    dflt: [],
    role: "output",
  }),
  wdSchedule: opt({
    help: "const | step:S | ramp:S0:S1",
    value: language("const, step:S or ramp:S0:S1", wdSchedule),
    dflt: "const",
    col: { name: "wd_schedule", later: "const" },
    role: "config",
  }),
  initScale: opt({
    help: "multiplies the initial weights (not biases)",
    value: number(positive, "a number > 0"),
    dflt: 1,
    col: { name: "init_scale", later: 1 },
    role: "config",
  }),
  grokfast: opt({
    help: "gradient filter before the optimizer: none | ema:α:λ (paper: ema:0.98:2) | ma:w:λ (Lee et al. 2024)",
    value: language("none, ema:α:λ or ma:w:λ", grokfast),
    dflt: "none",
    col: { name: "grokfast", later: "none", since: 3 },
    role: "config",
  }),
  tau: opt({
    help: "logit temperature τ: the loss sees logits/τ (τ outside ‖W‖)",
    value: number(positive, "a number > 0"),
    dflt: 1,
    col: { name: "tau", later: 1, since: 3 },
    role: "config",
  }),
  optimGrad: opt({
    help: "none | ortho: ⊥Grad, each tensor's gradient without its component along θ, at its own norm",
    value: choice(["none", "ortho"] as const),
    dflt: "none",
    col: { name: "optim_grad", later: "none", since: 3 },
    role: "config",
  }),
  labelNoise: opt({
    help: "K train labels replaced by seeded random other labels (test labels stay true; Doshi et al.)",
    value: integer(0, nTrainOf, (c) => `an integer in [0, ${nTrainOf(c)}] (the train set's size)`),
    dflt: 0,
    col: { name: "label_noise", later: 0, since: 3 },
    role: "config",
  }),
  batch: opt({
    help: "minibatch size B: a seeded reshuffle of the train set each epoch [0: full batch; B = n_train: the same]",
    value: integer(0, nTrainOf, (c) => `an integer in [0, ${nTrainOf(c)}] (0: full batch; at most n_train)`),
    dflt: 0,
    col: { name: "batch", later: 0, since: 3 },
    role: "config",
  }),
  keyFreqs: opt<number[]>({
    help: "--observe nanda's key frequencies, e.g. 4,11,14 [the top 5 of E's Fourier power at each logged step]",
    value: text<number[]>("comma-separated frequencies in [1, ⌊p/2⌋]", (v, c) => parseFreqs(v, c.p)),
    dflt: [],
    role: "output",
  }),
  seed: opt({
    help: "first seed",
    value: integer(0, MAX_INT, "an integer in [0, 2^31)"),
    dflt: 0,
    col: "seed",
    role: "seed",
    spec: false,
  }),
  saveParams: opt<number[]>({
    help: "steps at which to save all parameters, e.g. 0,500",
    value: text<number[]>("steps", (v, c) => parseSteps(v, c.maxSteps)),
    dflt: [],
    role: "output",
    spec: false,
  }),
  curves: opt({
    help:
      "curve rows written: full | none | events[:K[:M]] (the rows within K logged steps of T_mem, T_grok, T_int " +
      "and fit's test-accuracy crossings, every M-th, the first and last; events = events:3:10)",
    value: language("full, none or events[:K[:M]]", curvesMode),
    dflt: "full",
    role: "output",
  }),
};
