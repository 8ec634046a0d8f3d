// Sweep specs (YAML or JSON): run options as scalars or lists, expanded as a cartesian product
// times seeds, block by block. Validation reports every problem with its path.
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { parseRunConfig, RunConfig, UsageError, SPEC_KEYS, SPEC_TYPES, controlKey } from "./options.js";
import { stepFlops, stepSeconds, RateKey } from "./cost.js";

/** Spec keys in expansion order (the first varies slowest); names are `run`'s long options. */
export const KEYS = SPEC_KEYS;

// The parsed document's key order is the zod shape's, and the spec hash serialises that document: the shape
// keeps the order the hash has always had (clamp-group after loss, the rest in expansion order).
const SHAPE_ORDER = KEYS.filter((k) => k !== "clamp-group").flatMap((k) => (k === "loss" ? [k, "clamp-group"] : [k]));
const scalar = Object.fromEntries(SHAPE_ORDER.map((k) => [k, SPEC_TYPES[k].zod(z)]));
const EXPECTED: Record<string, string> = {
  ...Object.fromEntries(Object.entries(SPEC_TYPES).map(([k, v]) => [k, v.typeText])),
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

/** One run of a sweep. The runs of one combination of options share its configuration, control key and
 *  costs; a run holds only its id and seed, so a 10⁶-run spec is 10⁶ small objects, not 10⁶ copies of every
 *  option (README `sweep`). */
export class SweepRun {
  constructor(
    readonly runId: number,
    readonly block: number,
    /** the combination's configuration, with the seed of its first run */
    readonly base: RunConfig,
    readonly seed: number,
    /** wc: measure — ρ multiplies the median Wc of the free runs with this control key. */
    readonly measure: string | null,
    readonly cost: number, // FLOPs upper bound (max_steps steps of its rows: the train set, or --batch's)
  ) {}

  /** Time bound on one core at the rates `npm run bench` measured for these kernels (src/cost.ts). */
  seconds(rates: RateKey): number {
    return this.base.maxSteps * stepSeconds(this.base, rates);
  }

  /** The run's configuration: a new object each time (the combination's, with this run's seed). */
  get cfg(): RunConfig {
    return { ...this.base, seed: this.seed };
  }

  /** The run at a measured wc (a "wc: measure" run released by the control gate). */
  at(wc: number): SweepRun {
    const { runId, block, base, seed, measure, cost } = this;
    return new SweepRun(runId, block, { ...base, wc }, seed, measure, cost);
  }
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
        const where = pathOf(path) || "spec";
        if (iss.code === "unrecognized_keys") {
          const keys = iss.keys.map((k) => JSON.stringify(k)).join(", ");
          return `${where}: unknown key${iss.keys.length > 1 ? "s" : ""} ${keys}`;
        }
        const key = [...path].reverse().find((p) => typeof p === "string") as string | undefined;
        const value = at(raw, path);
        const expected = (key && EXPECTED[key]) ?? (iss.code === "invalid_type" ? String(iss.expected) : iss.message);
        const list = key !== undefined && key in scalar && path[path.length - 1] === key ? " or a list of them" : "";
        return `${where}: expected ${expected}${list}, got ${value === undefined ? "nothing" : JSON.stringify(value)}`;
      }),
    );
  }
  const doc = res.data;
  checkSize(doc);
  const runs: SweepRun[] = [];
  const problems: string[] = [];
  const controls = new Set<string>(),
    dependents: [number, string][] = []; // control keys of free, measure runs
  blocksOf(doc).forEach(({ merged, where }, b) => {
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
      const key = controlKey(cfg),
        cost = cfg.maxSteps * stepFlops(cfg);
      if (cfg.arm === "free") controls.add(key);
      else if (measure) dependents.push([b, key]);
      for (const seed of seedList) runs.push(new SweepRun(runs.length, b, cfg, seed, measure ? key : null, cost));
    }
  });
  for (const [b, key] of dependents) {
    if (!controls.has(key)) {
      const msg = `blocks[${b}].wc: "measure" needs free runs with the same ${key} in this sweep`;
      if (!problems.includes(msg)) problems.push(msg);
    }
  }
  if (problems.length) throw new SpecError(problems);
  return { doc, hash: createHash("sha256").update(JSON.stringify(doc)).digest("hex").slice(0, 16), runs };
}

export { controlKey };

/** Each block's options with the top level's under them, and its path for messages ("spec" without blocks). */
function blocksOf(doc: SpecDoc): { merged: Record<string, unknown>; where: string }[] {
  const { blocks, name: _n, ...top } = doc;
  return (blocks ?? [{}]).map((blk, b) => ({ merged: { ...top, ...blk }, where: blocks ? `blocks[${b}]` : "spec" }));
}

/** Runs per spec at most: every expanded run is held in memory (`sweep --dry-run` of 2·10⁶ runs: 426 MB, README). */
export const MAX_RUNS = 2_000_000;

/** Refuse a spec whose expansion would not fit, from the sizes of its lists alone (before building any run). */
function checkSize(doc: SpecDoc): void {
  let total = 0;
  const problems: string[] = [];
  for (const { merged, where } of blocksOf(doc)) {
    const nSeeds = Array.isArray(merged.seeds) ? merged.seeds.length : ((merged.seeds as number | undefined) ?? 1);
    const first = (merged.seed as number | undefined) ?? 0;
    if (!Array.isArray(merged.seeds) && first + nSeeds - 1 > 2 ** 31 - 1)
      problems.push(`${where}.seeds: expected seeds up to 2147483647 (seed + seeds − 1), got ${nSeeds}`);
    const lists = KEYS.filter((k) => Array.isArray(merged[k])).map((k) => [k, (merged[k] as unknown[]).length]);
    const n = lists.reduce((a, [, len]) => a * (len as number), nSeeds);
    total += n;
    if (n > MAX_RUNS) {
      const factors = [...lists.map(([k, len]) => `${len} ${k}`), `${nSeeds} seeds`].join(" × ");
      problems.push(
        `${where}: expands to ${n.toLocaleString("en-US")} runs (${factors}); ` +
          `at most ${MAX_RUNS.toLocaleString("en-US")} runs per spec — split it into several specs`,
      );
    }
  }
  if (!problems.length && total > MAX_RUNS) {
    problems.push(
      `spec: its blocks expand to ${total.toLocaleString("en-US")} runs; ` +
        `at most ${MAX_RUNS.toLocaleString("en-US")} runs per spec — split it into several specs`,
    );
  }
  if (problems.length) throw new SpecError(problems);
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
