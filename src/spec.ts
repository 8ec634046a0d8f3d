// Sweep specs (YAML or JSON): run options as scalars or lists, expanded as a cartesian product
// times seeds, block by block. Validation reports every problem with its path.
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { parseRunConfig, RunConfig, UsageError, ARMS, ACTS, OPTIMS, TASKS, MODELS, LOSSES, GROUPS } from "./options.js";
import { stepFlops, stepSeconds } from "./cost.js";
import { LATER_DEFAULTS } from "./arrow.js";

/** Spec keys in expansion order (the first varies slowest); names are `run`'s long options. */
export const KEYS = [
  "task",
  "model",
  "op",
  "p",
  "frac",
  "n",
  "k",
  "m",
  "m-test",
  "d",
  "H",
  "heads",
  "act",
  "layernorm",
  "loss",
  "optim",
  "lr",
  "wd",
  "momentum",
  "max-steps",
  "arm",
  "rho",
  "wc",
  "t-int",
  "clamp-group",
  "mem-acc",
  "grok-acc",
  "log",
  "stop-at-grok",
  "observe",
  "wd-schedule",
  "init-scale",
] as const;

const scalar = {
  task: z.enum(TASKS),
  model: z.enum(MODELS),
  op: z.string(),
  p: z.number().int(),
  frac: z.union([z.number(), z.string()]),
  n: z.number().int(),
  k: z.number().int(),
  m: z.number().int(),
  "m-test": z.number().int(),
  d: z.number().int(),
  H: z.number().int(),
  heads: z.number().int(),
  act: z.enum(ACTS),
  layernorm: z.boolean(),
  loss: z.enum(LOSSES),
  "clamp-group": z.enum(GROUPS),
  optim: z.enum(OPTIMS),
  lr: z.number(),
  wd: z.number(),
  momentum: z.number(),
  "max-steps": z.number().int(),
  arm: z.enum(ARMS),
  rho: z.number(),
  wc: z.union([z.number(), z.literal("measure")]),
  "t-int": z.number().int(),
  "mem-acc": z.number(),
  "grok-acc": z.number(),
  log: z.string(),
  "stop-at-grok": z.boolean(),
  observe: z.string(),
  "wd-schedule": z.string(),
  "init-scale": z.number(),
} as const;
const EXPECTED: Record<string, string> = {
  op: "an operation such as add, x2+xy+y2, sym:4, dih:10",
  task: `one of ${TASKS.join("|")}`,
  model: `one of ${MODELS.join("|")}`,
  loss: `one of ${LOSSES.join("|")}`,
  "clamp-group": `one of ${GROUPS.join("|")}`,
  n: "an integer",
  k: "an integer",
  m: "an integer",
  "m-test": "an integer",
  heads: "an integer",
  act: `one of ${ACTS.join("|")}`,
  optim: `one of ${OPTIMS.join("|")}`,
  arm: `one of ${ARMS.join("|")}`,
  p: "an integer",
  d: "an integer",
  H: "an integer",
  "max-steps": "an integer",
  "t-int": "an integer",
  layernorm: "true or false",
  "stop-at-grok": "true or false",
  log: "geom:N or every:K",
  observe: 'a string such as "spectral,fourier"',
  "wd-schedule": "const, step:S or ramp:S0:S1",
  "init-scale": "a number",
  wc: 'a number or "measure"',
  frac: "a number or auto:C",
  lr: "a number",
  wd: "a number",
  momentum: "a number",
  rho: "a number",
  "mem-acc": "a number",
  "grok-acc": "a number",
  seeds: "a count ≥ 1 or a list of seeds",
  seed: "an integer ≥ 0",
  name: "a string",
  blocks: "a list of blocks",
};

const optionShape = Object.fromEntries(
  Object.entries(scalar).map(([k, t]) => [k, z.union([t, z.array(t).min(1)]).optional()]),
);
const seeds = z
  .union([
    z.number().int().min(1),
    z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(2 ** 31 - 1),
      )
      .min(1),
  ])
  .optional();
const Block = z.object({ ...optionShape, seeds, seed: z.number().int().min(0).optional() }).strict();
const Spec = Block.extend({ name: z.string().optional(), blocks: z.array(Block).min(1).optional() }).strict();
export type SpecDoc = z.infer<typeof Spec>;

/** A spec problem (possibly several); the CLI prints each on its own line and exits 2. */
export class SpecError extends UsageError {
  constructor(readonly problems: string[]) {
    super("spec", undefined, "");
    this.message = problems.join("\n");
  }
}

export interface SweepRun {
  runId: number;
  block: number;
  cfg: RunConfig;
  /** wc: measure — ρ multiplies the median Wc of the free runs with this control key. */
  measure: string | null;
  cost: number; // FLOPs upper bound (max_steps full-batch steps)
  seconds: number; // time bound on one core at the rates `npm run bench` measured (src/cost.ts)
}

export interface Sweep {
  doc: SpecDoc;
  hash: string;
  runs: SweepRun[];
}

const pathOf = (path: PropertyKey[]) =>
  path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("");
const at = (doc: unknown, path: PropertyKey[]) =>
  path.reduce<any>((o, k) => (o == null ? undefined : o[k as any]), doc);

export function readSpec(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError("SPEC", file, `a readable spec file (${(e as Error).message})`);
  }
  try {
    return /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new UsageError(
      "SPEC",
      file,
      `valid ${/\.json$/i.test(file) ? "JSON" : "YAML"} (${(e as Error).message.split("\n")[0]})`,
    );
  }
}

/** Validate and expand a parsed spec document. */
export function expand(raw: unknown): Sweep {
  const res = Spec.safeParse(raw);
  if (!res.success) {
    throw new SpecError(
      res.error.issues.map((iss) => {
        const path = iss.path as PropertyKey[];
        if (iss.code === "unrecognized_keys")
          return `${pathOf(path) || "spec"}: unknown key${iss.keys.length > 1 ? "s" : ""} ${iss.keys.map((k) => JSON.stringify(k)).join(", ")}`;
        const key = [...path].reverse().find((p) => typeof p === "string") as string | undefined;
        const value = at(raw, path);
        const expected = (key && EXPECTED[key]) ?? (iss.code === "invalid_type" ? String(iss.expected) : iss.message);
        const list = key !== undefined && key in scalar && path[path.length - 1] === key ? " or a list of them" : "";
        return `${pathOf(path) || "spec"}: expected ${expected}${list}, got ${value === undefined ? "nothing" : JSON.stringify(value)}`;
      }),
    );
  }
  const doc = res.data;
  const { blocks, name: _n, ...top } = doc;
  const runs: SweepRun[] = [];
  const problems: string[] = [];
  (blocks ?? [{}]).forEach((blk, b) => {
    const merged: Record<string, unknown> = { ...top, ...blk };
    const where = blocks ? `blocks[${b}]` : "spec";
    const first = (merged.seed as number | undefined) ?? 0;
    const seedList = Array.isArray(merged.seeds)
      ? (merged.seeds as number[])
      : Array.from({ length: (merged.seeds as number | undefined) ?? 1 }, (_, i) => first + i);
    const lists = KEYS.filter((k) => merged[k] !== undefined).map(
      (k) => [k, Array.isArray(merged[k]) ? (merged[k] as unknown[]) : [merged[k]]] as const,
    );
    for (const combo of product(lists)) {
      const measure = combo.wc === "measure";
      let cfg: RunConfig;
      try {
        cfg = parseRunConfig({ ...combo, wc: measure ? 1 : combo.wc, seed: seedList[0] });
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        const msg = `${where}.${e.message.replace(/^--/, "")}`;
        if (!problems.includes(msg)) problems.push(msg);
        continue;
      }
      if (measure && cfg.arm === "free") {
        problems.push(`${where}.wc: "measure" applies to clamp, rescale or sphere arms, not free`);
        continue;
      }
      if (measure) cfg.wc = null;
      for (const seed of seedList) {
        const c = { ...cfg, seed };
        runs.push({
          runId: runs.length,
          block: b,
          cfg: c,
          measure: measure ? controlKey(c) : null,
          cost: c.maxSteps * stepFlops(c),
          seconds: c.maxSteps * stepSeconds(c),
        });
      }
    }
  });
  const controls = new Set(runs.filter((r) => r.cfg.arm === "free").map((r) => controlKey(r.cfg)));
  for (const r of runs) {
    if (r.measure && !controls.has(r.measure)) {
      const msg = `blocks[${r.block}].wc: "measure" needs free runs with the same ${r.measure} in this sweep`;
      if (!problems.includes(msg)) problems.push(msg);
    }
  }
  if (problems.length) throw new SpecError(problems);
  return { doc, hash: createHash("sha256").update(JSON.stringify(doc)).digest("hex").slice(0, 16), runs };
}

/** The configuration a measured Wc is taken from: the free control of the same task, model and
 *  sizes (task, model, op, p, frac, parity n/k/m, d, H, heads, wd, wd schedule, init scale, act,
 *  layernorm, loss, optim). Takes a RunConfig or a runs.arrow row (older files lack the newer keys). */
export function controlKey(c: Record<string, any>): string {
  const v = (camel: string, snake: string) => c[camel] ?? c[snake] ?? LATER_DEFAULTS[snake];
  const parts = [`task=${c.task}`, `model=${c.model}`];
  if (c.task === "parity") parts.push(`n=${v("n", "n_bits")} k=${v("k", "k_bits")} m=${v("m", "n_train")}`);
  else parts.push(`op=${c.op} p=${c.p} frac=${c.frac}`);
  if (c.model === "attn") parts.push(`heads=${c.heads}`);
  parts.push(
    `d=${c.d} H=${c.H} wd=${c.wd} wd_schedule=${v("wdSchedule", "wd_schedule")} init_scale=${v("initScale", "init_scale")}`,
    `act=${c.act} layernorm=${c.layernorm} loss=${v("loss", "loss")} optim=${c.optim}`,
  );
  return parts.join(" ");
}

function* product(
  lists: (readonly [string, readonly unknown[]])[],
  i = 0,
  acc: Record<string, unknown> = {},
): Generator<Record<string, unknown>> {
  if (i === lists.length) {
    yield { ...acc };
    return;
  }
  const [k, vs] = lists[i];
  for (const v of vs) {
    acc[k] = v;
    yield* product(lists, i + 1, acc);
  }
}
