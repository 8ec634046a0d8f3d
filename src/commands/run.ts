// `groksweep run`: one configuration for one or more seeds, trained one after another.
import { existsSync, statSync, accessSync, mkdirSync, constants } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Argv } from "yargs";
import { parseRunConfig, UsageError, RunConfig } from "../options.js";
import { instantiate } from "../engine.js";
import { loadKernels, kernelChoice, kernelsMeta, Kernels, KERNELS_OPTION, FAST_MATH_OPTION } from "../kernels.js";
import { train, RunResult } from "../run.js";
import {
  RUN_COLUMNS,
  CURVE_COLUMNS,
  schemaOf,
  batchOf,
  paramsSchema,
  paramsBatch,
  splitsSchema,
  splitsBatch,
  writeTables,
  RunRow,
  runRecord,
} from "../arrow.js";

import { VERSION } from "../version.js";

export const RUN_OPTIONS: Record<string, string> = {
  task: "modular|parity [modular]",
  model: "mlp|attn|tian [mlp]",
  p: "modulus p (vocabulary size; group ops: the group order, may be omitted) [59]",
  frac: "train fraction of all pairs, or auto:C = C·ln M / M [0.4]",
  d: "embedding width [128]",
  H: "hidden width [256; attn and parity: 512]",
  heads: "attention heads (attn) [4]",
  loss: "ce|mse (mse: squared error to the centred one-hot target) [ce]",
  n: "parity: input bits [30]",
  k: "parity: bits in the parity [3]",
  m: "parity: train points [1000]",
  "m-test": "parity: fresh test points [2000]",
  lr: "learning rate [1e-3; attn: 5e-4]",
  wd: "weight decay λ [1]",
  seed: "first seed [0]",
  "max-steps": "training budget in steps [20000; parity: 50000]",
  arm: "free|clamp|rescale|sphere [free]",
  rho: "target norm factor ρ [1]",
  wc: "reference norm Wc (required for clamp/rescale)",
  "t-int": "intervention step [500; attn: 600; parity: 1000]",
  "clamp-group": "all|embed|attn|mlp|unembed: the norm a clamp/rescale/sphere acts on [all]",
  act: "gelu|relu|quad [gelu; tian: quad]",
  optim: "adamw|adam|sgd|muon [adamw]",
  momentum: "SGD momentum [0]; Muon momentum [0.95]",
  "wd-schedule": "const | step:S | ramp:S0:S1 [const]",
  "init-scale": "multiplies the initial weights (not biases) [1]",
  "mem-acc": "train accuracy defining T_mem [0.99]",
  "grok-acc": "test accuracy defining T_grok [0.90]",
  log: "logging grid geom:N | every:K [geom:360]",
  op: "add|sub|mul|div|x2+xy+y2 (mod p), sym:N (S_N, N ≤ 6), dih:M (dihedral, order 2M) [add]",
  "save-params": "steps at which to save all parameters, e.g. 0,500",
  observe: "extra observables at logged steps: spectral,fourier (off)",
};

/** Refuse an --out that cannot be written, before anything is computed or created. */
export function checkOutDir(dir: string): void {
  let probe = resolve(dir);
  while (!existsSync(probe)) probe = dirname(probe);
  const st = statSync(probe);
  if (!st.isDirectory()) throw new UsageError("--out", dir, `a writable directory (${probe} is not a directory)`);
  try {
    accessSync(probe, constants.W_OK);
  } catch {
    throw new UsageError("--out", dir, `a writable directory (${probe} is not writable)`);
  }
}

function fmt(x: number | null, digits = 0): string {
  return x === null || x === undefined ? "-" : x.toFixed(digits);
}

export function summaryTable(rows: RunRow[]): string {
  const head = ["run", "seed", "status", "t_mem", "t_grok", "wc", "train_acc", "test_acc", "|W|", "steps", "ms"];
  const body = rows.map(({ runId, r }) => [
    String(runId),
    String(r.cfg.seed),
    r.status,
    fmt(r.tMem),
    fmt(r.tGrok),
    fmt(r.wc, 2),
    fmt(r.final.train_acc, 3),
    fmt(r.final.test_acc, 3),
    fmt(r.final.weight_norm, 2),
    String(r.stepsRun),
    fmt(r.wallMs, 0),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [head, ...body].map((r) => r.map((c, i) => c.padStart(w[i])).join("  ")).join("\n");
}

async function cmdRun(argv: Record<string, unknown>): Promise<void> {
  const raw: Record<string, unknown> = {};
  for (const k of [...Object.keys(RUN_OPTIONS), "layernorm", "stop-at-grok"]) {
    const v = argv[k];
    if (Array.isArray(v)) throw new UsageError(`--${k}`, v, "a single value (given more than once)");
    if (v !== undefined) raw[k] = v;
  }
  const cfg = parseRunConfig(raw);
  const nSeeds = Number(argv.seeds ?? 1);
  if (!Number.isInteger(nSeeds) || nSeeds < 1 || cfg.seed + nSeeds - 1 > 2 ** 31 - 1)
    throw new UsageError("--seeds", argv.seeds, "an integer ≥ 1");
  const choice = kernelChoice(argv);
  const out = argv.out as string | undefined;
  if (out !== undefined) {
    if (typeof out !== "string" || out === "") throw new UsageError("--out", out, "a directory path");
    checkOutDir(out);
  }
  const kernels = loadKernels(choice);
  const abi = instantiate(kernels);
  const rows: RunRow[] = [];
  for (let i = 0; i < nSeeds; i++) {
    const r: RunResult = train(abi, { ...cfg, seed: cfg.seed + i });
    rows.push({ runId: i, r });
    if (nSeeds > 1)
      process.stderr.write(
        `[${i + 1}/${nSeeds}] seed ${r.cfg.seed}: ${r.status} t_grok=${fmt(r.tGrok)} (${fmt(r.wallMs)} ms)\n`,
      );
  }
  if (out !== undefined) writeRunOutputs(out, cfg, nSeeds, rows, kernels);
  if (argv.json) process.stdout.write(JSON.stringify(rows.map(runRecord)) + "\n");
  else if (out === undefined) process.stdout.write(summaryTable(rows) + "\n");
  else process.stdout.write(summaryTable(rows) + `\nwrote ${resolve(out)}\n`);
}

function writeRunOutputs(out: string, cfg: RunConfig, nSeeds: number, rows: RunRow[], kernels: Kernels): void {
  mkdirSync(out, { recursive: true });
  const meta = new Map([
    ["groksweep.version", VERSION],
    ...kernelsMeta(kernels),
    ["groksweep.config", JSON.stringify({ ...cfg, seeds: nSeeds })],
  ]);
  const runs = schemaOf(RUN_COLUMNS, meta),
    curves = schemaOf(CURVE_COLUMNS, meta);
  const tables: Parameters<typeof writeTables>[1] = {
    "runs.arrow": { schema: runs, batches: [batchOf(runs, RUN_COLUMNS, rows)] },
    "curves.arrow": {
      schema: curves,
      batches: [
        batchOf(
          curves,
          CURVE_COLUMNS,
          rows.flatMap(({ runId, r }) => r.curves.map((c) => ({ runId, c }))),
        ),
      ],
    },
  };
  if (cfg.saveParams.length) {
    const ps = paramsSchema(meta),
      ss = splitsSchema(meta);
    tables["params.arrow"] = { schema: ps, batches: [paramsBatch(ps, rows)] };
    tables["splits.arrow"] = { schema: ss, batches: [splitsBatch(ss, rows)] };
  }
  writeTables(out, tables);
}

export const command = "run";
export const describe = "train one configuration (PROTOCOL.md defaults) for one or more seeds";
export function builder(y: Argv): Argv {
  for (const [k, desc] of Object.entries(RUN_OPTIONS)) y.option(k, { type: "string", describe: desc });
  return y
    .option("seeds", { type: "string", describe: "number of seeds: seed, seed+1, … [1]" })
    .option("layernorm", {
      type: "boolean",
      describe: "parameter-free LayerNorm (mlp: on h before W2; attn: before attention, MLP and unembedding)",
    })
    .option("stop-at-grok", { type: "boolean", describe: "end each run at its T_grok (once T_mem is known)" })
    .option("out", { type: "string", describe: "write runs/curves(/params/splits).arrow to this directory" })
    .option("json", { type: "boolean", describe: "print the runs as JSON" })
    .option("kernels", KERNELS_OPTION)
    .option("fast-math", FAST_MATH_OPTION);
}
export const handler = cmdRun;
