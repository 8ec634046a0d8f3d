// One training run: options → split + init → wasm → logged rows and events.
import { Abi, Net, Params, fitsWasm32 } from "./engine.js";
import { initFor } from "./init.js";
import { split, decode, allPairs, addLabelNoise, Split } from "./task.js";
import { parityTask } from "./parity.js";
import { RunConfig, logGrid, wdSchedule, grokfast, modelGroups, curvesMode } from "./options.js";
import { THRESHOLDS } from "./option-values.js";
import { Act, Arm, Buf, Group, Loss, Metric, Optim } from "./codes.js";
import { observe, Observed, effLr, logitMeasures } from "./observe.js";
import { keyFrequencies, progressMeasures } from "./nanda.js";
import { Rng, STREAM } from "./rng.js";

export type Status = "grokked" | "censored" | "diverged" | "failed";

export interface CurveRow extends Observed {
  step: number;
  train_loss: number;
  train_acc: number;
  test_loss: number;
  test_acc: number;
  weight_norm: number;
  norm_E: number;
  norm_W1: number;
  norm_W2: number;
  /** per-group norms (NaN → null where the model has no such group) */
  norm_embed?: number;
  norm_attn?: number;
  norm_mlp?: number;
  norm_unembed?: number;
}
export interface RunResult {
  cfg: RunConfig;
  nTrain: number;
  nTest: number;
  tMem: number | null;
  tGrok: number | null;
  wc: number | null;
  /** the curve row at T_grok (per-group norms there), null when censored */
  atGrok: CurveRow | null;
  /** sparse parity: the k coordinates whose parity is the label */
  bits: Int32Array | null;
  status: Status;
  stepsRun: number;
  wallMs: number;
  error: string | null;
  final: CurveRow;
  curves: CurveRow[];
  snapshots: { step: number; params: Params }[];
  /** tensor shapes of the saved parameters (public layout) */
  shapes: Record<string, number[]>;
  split: Split;
}

const NO_SPLIT: Split = { train: new Int32Array(0), test: new Int32Array(0) };

/** Sets up a run in the wasm instance, starting from the seed's split and init (or given ones). */
export function prepare(
  abi: Abi,
  cfg: RunConfig,
  init?: { split: Split; params: Params },
): { net: Net; split: Split; bits: Int32Array | null } {
  const dims = { model: cfg.model, dense: cfg.task === "parity", p: cfg.p, d: cfg.d, H: cfg.H, heads: cfg.heads };
  let net: Net,
    sp = NO_SPLIT,
    bits: Int32Array | null = null;
  if (cfg.task === "parity") {
    const data = parityTask(cfg.n, cfg.k, cfg.m, cfg.mTest, cfg.seed);
    bits = data.bits;
    if (cfg.labelNoise) addLabelNoise(data.train.y, 2, cfg.labelNoise, cfg.seed);
    net = new Net(abi, { ...dims, nTrain: cfg.m, nTest: cfg.mTest });
    net.setDense("train", data.train.x, data.train.y);
    net.setDense("test", data.test.x, data.test.y);
  } else {
    sp = init?.split ?? split(cfg.op, cfg.p, cfg.frac, cfg.seed);
    net = new Net(abi, { ...dims, nTrain: sp.train.length, nTest: sp.test.length });
    const tr = decode(cfg.op, cfg.p, sp.train),
      te = decode(cfg.op, cfg.p, sp.test);
    if (cfg.labelNoise) addLabelNoise(tr.y, cfg.p, cfg.labelNoise, cfg.seed); // the test labels stay true
    net.setData("train", tr.a, tr.b, tr.y);
    net.setData("test", te.a, te.b, te.y);
  }
  net.setParams(init?.params ?? initFor(cfg));
  if (cfg.model === "attn") abi.setAttnLayernorm(cfg.layernorm ? 1 : 0);
  else abi.setModel(Act[cfg.act], cfg.layernorm ? 1 : 0);
  abi.setLoss(Loss[cfg.loss]);
  abi.setOptim(Optim[cfg.optim], cfg.lr, cfg.wd, 0.9, 0.999, 1e-8, cfg.momentum);
  abi.setWdSchedule(...wdSchedule(cfg.wdSchedule));
  abi.setTau(cfg.tau);
  abi.setOrthoGrad(cfg.optimGrad === "ortho" ? 1 : 0);
  fitsWasm32(abi.setGrokfast(...grokfast(cfg.grokfast)), `--grokfast ${cfg.grokfast}`);
  abi.setClampGroup(Group[cfg.clampGroup]);
  abi.setBatch(cfg.batch, ...batchKey(cfg.seed));
  // sphere: the reference norm is wc when given, else the initial norm (of the clamp group)
  const ref = cfg.arm === "sphere" && cfg.wc === null ? abi.groupNorm(Group[cfg.clampGroup]) : (cfg.wc ?? 0);
  abi.setArm(Arm[cfg.arm], cfg.tInt, cfg.rho * ref);
  return { net, split: sp, bits };
}

/** --batch's key for the kernels' SplitMix64 (high and low word): the seed's own stream, apart from split and init. */
export function batchKey(seed: number): [number, number] {
  const rng = new Rng(seed, STREAM.batch);
  return [rng.u32(), rng.u32()];
}

function measure(abi: Abi, net: Net, cfg: RunConfig, step: number, sp: Split): CurveRow {
  // E is read first: reading wasm memory goes through ptr(), which drops the forward pass that
  // evaluate() keeps for the next step
  const E = cfg.observe.length ? net.embedding() : null;
  const W2 = cfg.observe.includes("spectral") ? (net.readout() ?? undefined) : undefined;
  abi.evaluate();
  const logits = cfg.observe.includes("logits") ? trainLogits(abi, net, cfg) : {};
  const nanda = E && cfg.observe.includes("nanda") ? allPairsMeasures(abi, net, cfg, E, sp) : {};
  const train_loss = abi.metric(Metric.trainLoss),
    train_acc = abi.metric(Metric.trainAcc),
    test_loss = abi.metric(Metric.testLoss),
    test_acc = abi.metric(Metric.testAcc);
  const has = modelGroups(cfg),
    norm = (g: keyof typeof Group) => (has.includes(g) ? abi.groupNorm(Group[g]) : NaN);
  const embed = norm("embed"),
    attn = norm("attn"),
    mlp = norm("mlp"),
    unembed = norm("unembed");
  const mlpFamily = cfg.model !== "attn"; // norm_E/W1/W2 are the MLP family's names for its groups
  return {
    step,
    train_loss,
    train_acc,
    test_loss,
    test_acc,
    weight_norm: abi.weightNorm(),
    norm_E: mlpFamily ? embed : NaN,
    norm_W1: mlpFamily ? mlp : NaN,
    norm_W2: mlpFamily ? unembed : NaN,
    norm_embed: embed,
    norm_attn: attn,
    norm_mlp: mlp,
    norm_unembed: unembed,
    ...(E ? observe(E, cfg.p, cfg.d, cfg.observe, W2) : {}),
    ...logits,
    ...nanda,
  };
}

/** The kernels' logit rows hold the classes padded to a multiple of 4 floats. */
const logitStride = (classes: number) => (classes + 3) & ~3;

/** --observe nanda: the restricted and excluded loss from the logits of all p² pairs (src/nanda.ts). */
function allPairsMeasures(abi: Abi, net: Net, cfg: RunConfig, E: Float32Array, sp: Split): Observed {
  const p = cfg.p,
    n = p * p,
    stride = logitStride(p);
  const all = decode(cfg.op, p, allPairs(cfg.op, p)); // pair a·p + b at row a·p + b (op add: no pair left out)
  const base = abi.scratch(4 * n * (2 + stride));
  net.i32(base, n).set(all.a);
  net.i32(base + 4 * n, n).set(all.b);
  abi.mlpLogits(base, base + 4 * n, n, base + 8 * n);
  const L = net.f32(base + 8 * n, n * stride).slice();
  const K = cfg.keyFreqs.length ? cfg.keyFreqs : keyFrequencies(E, p, cfg.d);
  // the true train labels (--label-noise changes only the copy the kernels train on)
  return progressMeasures(L, p, stride, K, sp.train, decode(cfg.op, p, sp.train).y);
}

/** --observe logits: the train rows' logits/τ as evaluate() left them. */
function trainLogits(abi: Abi, net: Net, cfg: RunConfig): Observed {
  const n = net.dims.nTrain,
    stride = logitStride(cfg.p);
  const lg = net.f32(net.where(Buf.trainLogits), n * stride),
    y = net.i32(net.where(Buf.trainY), n);
  return logitMeasures(lg, n, stride, cfg.p, y);
}

/** One optimizer step, and the effective learning rate of each norm group over it into the row. */
function stepRates(abi: Abi, net: Net, cfg: RunConfig, row: CurveRow): number {
  const theta = () => net.f32(net.where(Buf.theta), net.layout.nParams).slice();
  const before = theta();
  const done = abi.advance(1);
  if (done < 1) return 0; // diverged: the next chunk stops at once and logs it
  const after = theta();
  const rate = (g: keyof typeof Group) => effLr(before, after, abi.groupSpan(Group[g], 0), abi.groupSpan(Group[g], 1));
  const has = modelGroups(cfg);
  row.eff_lr = rate("all");
  for (const g of ["embed", "attn", "mlp", "unembed"] as const) row[`eff_lr_${g}`] = has.includes(g) ? rate(g) : NaN;
  return done;
}

/** The logged rows --curves writes (README "curves.arrow"). events: row i of the n logged rows when i is 0, n − 1
 *  or a multiple of M, or within K rows of an event: T_mem, T_grok, the first row at or after T_int (arms other
 *  than free) and the first rows with test accuracy ≥ each of fit's THRESHOLDS. */
export function keptCurves(cfg: RunConfig, rows: CurveRow[]): CurveRow[] {
  const mode = curvesMode(cfg.curves);
  if (typeof mode === "string") return mode === "full" ? rows : [];
  const first = (f: (r: CurveRow) => boolean) => rows.findIndex(f);
  const events = [
    first((r) => r.train_acc >= cfg.memAcc),
    ...[cfg.grokAcc, ...THRESHOLDS].map((th) => first((r) => r.test_acc >= th)),
    cfg.arm === "free" ? -1 : first((r) => r.step >= cfg.tInt),
  ].filter((e) => e >= 0);
  const n = rows.length;
  return rows.filter(
    (_, i) => i === 0 || i === n - 1 || i % mode.m === 0 || events.some((e) => Math.abs(i - e) <= mode.k),
  );
}

export function train(abi: Abi, cfg: RunConfig): RunResult {
  const t0 = performance.now();
  const { net, split: sp, bits } = prepare(abi, cfg);
  const grid = logGrid(cfg.log, cfg.maxSteps);
  const logged = new Set(grid),
    saves = new Set(cfg.saveParams);
  const stops = [...new Set([...grid, ...cfg.saveParams])].sort((a, b) => a - b);
  const curves: CurveRow[] = [],
    snapshots: RunResult["snapshots"] = [];
  let tMem: number | null = null,
    tGrok: number | null = null,
    wc: number | null = null,
    atGrok: CurveRow | null = null;
  let step = 0,
    diverged = false;
  const effLr = cfg.observe.includes("eff-lr"),
    last = stops[stops.length - 1];
  for (const s of stops) {
    if (s > step) {
      const want = s - step;
      const done = abi.advance(want); // the hot loop: `want` steps inside wasm
      step += done;
      diverged = done < want;
    }
    if (logged.has(s) || diverged) {
      const row = measure(abi, net, cfg, step, sp);
      curves.push(row);
      if (!Number.isFinite(row.train_loss)) diverged = true;
      if (tMem === null && row.train_acc >= cfg.memAcc) tMem = step;
      if (tGrok === null && row.test_acc >= cfg.grokAcc) {
        tGrok = step;
        wc = row.weight_norm;
        atGrok = row;
      }
    }
    if (saves.has(s) && !diverged) snapshots.push({ step, params: net.params() });
    if (diverged || (cfg.stopAtGrok && tGrok !== null && tMem !== null)) break;
    // eff-lr: the next step is taken here, on its own (the same bits as inside the next chunk)
    if (effLr && logged.has(s) && s < last) step += stepRates(abi, net, cfg, curves[curves.length - 1]);
  }
  return {
    cfg,
    nTrain: cfg.task === "parity" ? cfg.m : sp.train.length,
    nTest: cfg.task === "parity" ? cfg.mTest : sp.test.length,
    tMem,
    tGrok,
    wc,
    atGrok,
    bits,
    status: tGrok !== null ? "grokked" : diverged ? "diverged" : "censored",
    stepsRun: step,
    wallMs: performance.now() - t0,
    error: null,
    final: curves[curves.length - 1],
    curves: keptCurves(cfg, curves),
    snapshots,
    shapes: net.shapes(),
    split: sp,
  };
}
