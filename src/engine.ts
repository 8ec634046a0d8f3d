// Instantiates the wasm kernels (src/kernels.ts chooses and compiles them once per process) and moves one
// run's tensors in and out of wasm memory. Public tensor layout: row-major, unpadded (W1 is 2d×H, W2 is
// H×p); inside wasm, sizes are padded to multiples of 4 and W1 is stored as d × 2H ([W1[:d] | W1[d:]]):
// the wasm reports where each tensor lives (assembly/layout.ts addTensor), the host only follows it.
import { instantiateSync } from "@assemblyscript/loader";
import { loadKernels, Kernels } from "./kernels.js";
import {
  Act,
  Arm,
  Buf,
  Group,
  Input,
  Loss,
  MODELS,
  Metric,
  Optim,
  Tensor,
  TensorField,
  TensorFlag,
  WdSchedule,
  Grokfast,
} from "./codes.js";

/** A run's tensors by name (public layout: row-major, unpadded), e.g. E, W1, b1, W2, b2 for the MLP. */
export type Params = Record<string, Float32Array>;
/** The paper MLP's tensors. */
export const TENSORS = ["E", "W1", "b1", "W2", "b2"] as const;
export type TensorName = (typeof TENSORS)[number];

export type Model = (typeof MODELS)[number];
/** The shape of one run as the kernels see it. p: classes/vocabulary; d: embedding (mlp, attn) or
 *  input width (parity). */
export interface Dims {
  model: Model;
  dense: boolean;
  p: number;
  d: number;
  H: number;
  heads: number;
  nTrain: number;
  nTest: number;
}

/** The exported ABI (assembly/index.ts; codes: src/codes.ts). */
export interface Abi {
  memory: WebAssembly.Memory;
  /** lay a run out; returns the bytes of memory it needs, committed only when below 4 GiB */
  setup(p: number, d: number, H: number, nTrain: number, nTest: number, input: Input): number;
  setupAttn(p: number, d: number, H: number, heads: number, nTrain: number, nTest: number): number;
  tensors(): number;
  tensor(i: number, field: TensorField): number;
  thetaFloats(): number;
  /** group g's span of θ in floats: [groupSpan(g, 0), groupSpan(g, 1)) */
  groupSpan(g: Group, end: number): number;
  xStride(): number;
  setAttnLayernorm(on: number): void;
  setLoss(kind: Loss): void;
  setClampGroup(g: Group): void;
  setOptim(optim: Optim, lr: number, wd: number, beta1: number, beta2: number, eps: number, momentum: number): void;
  setModel(act: Act, layernorm: number): void;
  setWdSchedule(kind: WdSchedule, s0: number, s1: number): void;
  /** the MLP's logits/τ for n pairs (operands at pa, pb: i32) into out (n × pad4(p) floats) */
  mlpLogits(pa: number, pb: number, n: number, out: number): void;
  /** ⊥Grad on (1) or off (0) */
  setOrthoGrad(on: number): void;
  /** the loss sees logits/τ */
  setTau(tau: number): void;
  /** after setup: the run's gradient filter; returns the bytes the run needs */
  setGrokfast(kind: Grokfast, param: number, lambda: number): number;
  setArm(arm: Arm, tInt: number, target: number): void;
  /** --batch B (0: full batch) and the key of its SplitMix64 order; restarts the epochs */
  setBatch(B: number, keyHi: number, keyLo: number): void;
  /** points the kernels at the next minibatch, as advance() does before each step; returns its rows */
  nextBatch(): number;
  ptr(which: Buf): number;
  advance(k: number): number;
  gradient(): number;
  step(): number;
  loss(): number;
  evaluate(): void;
  metric(i: Metric): number;
  weightNorm(): number;
  /** ‖group‖ (Group.all: the decayed span, ‖W‖) */
  groupNorm(g: Group): number;
  scratch(bytes: number): number;
  testGemmNN(c: number, a: number, b: number, M: number, K: number, N: number, acc: number): void;
  testGemmTN(c: number, a: number, b: number, R: number, M: number, N: number, acc: number): void;
  testExp(out: number, x: number, n: number): void;
  testErf(out: number, x: number, n: number): void;
  testAct(h: number, dh: number, z: number, n: number, act: Act): void;
  testActSpan(h: number, dh: number, z: number, n: number, act: Act): void;
  testSumSq(x: number, n: number): number;
  testTables(): number;
  peakMadd12(iters: number, buf: number): void;
  peakMadd16(iters: number, buf: number): void;
  setWide(on: number): void;
  fmaProbe(a: number, b: number, c: number): number;
}

/** An instance of the chosen kernels (src/kernels.ts), with their tile shapes set. */
export function instantiate(k: Pick<Kernels, "module" | "wide"> = loadKernels()): Abi {
  // the loader supplies env.abort/trace with AssemblyScript string decoding
  const abi = instantiateSync(k.module, {}).exports as unknown as Abi;
  abi.setWide(k.wide ? 1 : 0);
  return abi;
}

/** Where one tensor lives in θ: its public shape, and the float offset of each of its rows. */
export interface TensorView {
  name: string;
  shape: number[];
  rows: number;
  cols: number;
  at: (r: number) => number;
}
export interface Layout {
  tensors: TensorView[];
  /** θ's length in floats */
  nParams: number;
  /** the run's wasm memory */
  bytes: number;
}

/** The tensor table of the run just laid out (assembly/layout.ts addTensor). */
function layoutOf(abi: Abi, bytes: number): Layout {
  const tensors: TensorView[] = [];
  for (let i = 0; i < abi.tensors(); i++) {
    const f = (field: TensorField) => abi.tensor(i, field);
    const [off, rows, cols, ld, flags] = [
      f(TensorField.offset),
      f(TensorField.rows),
      f(TensorField.cols),
      f(TensorField.ld),
      f(TensorField.flags),
    ];
    const half = rows / 2;
    tensors.push({
      name: Tensor[f(TensorField.name)],
      shape: flags & TensorFlag.vector ? [cols] : [rows, cols],
      rows,
      cols,
      // split: rows [half, rows) are stored beside rows [0, half)
      at: flags & TensorFlag.split ? (r) => off + (r < half ? r * ld : (r - half) * ld + ld / 2) : (r) => off + r * ld,
    });
  }
  return { tensors, nParams: abi.thetaFloats(), bytes };
}

/** Refuse a layout the kernels reported as too large for wasm32 (they commit nothing then). */
export function fitsWasm32(bytes: number, what: string): void {
  if (bytes >= 2 ** 32)
    throw new Error(`${what} needs ${(bytes / 2 ** 30).toFixed(1)} GiB of wasm memory (wasm32 allows < 4 GiB)`);
}

/** Views and layout conversions for the run currently set up in an instance. */
export class Net {
  readonly layout: Layout;
  constructor(
    readonly abi: Abi,
    readonly dims: Dims,
  ) {
    const { model, p, d, H, heads, nTrain, nTest, dense } = dims;
    const input = model === "tian" ? Input.onehot : dense ? Input.dense : Input.table;
    const bytes =
      model === "attn" ? abi.setupAttn(p, d, H, heads, nTrain, nTest) : abi.setup(p, d, H, nTrain, nTest, input);
    fitsWasm32(bytes, `a run with model=${model}, p=${p}, d=${d}, H=${H}, ${nTrain} train examples`);
    this.layout = layoutOf(abi, bytes);
  }

  private readonly at = new Map<Buf, number>();
  /** A buffer's address for reading: ptr() once per run (the layout is fixed), so that a read does not also
   *  forget the forward pass evaluate() kept for the next step, as ptr() must before the host writes. */
  where(which: Buf): number {
    if (!this.at.has(which)) this.at.set(which, this.abi.ptr(which));
    return this.at.get(which)!;
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.abi.memory.buffer, ptr, n);
  }
  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.abi.memory.buffer, ptr, n);
  }

  setData(which: "train" | "test", a: Int32Array, b: Int32Array, y: Int32Array): void {
    const train = which === "train";
    this.i32(this.abi.ptr(train ? Buf.trainA : Buf.testA), a.length).set(a);
    this.i32(this.abi.ptr(train ? Buf.trainB : Buf.testB), b.length).set(b);
    this.i32(this.abi.ptr(train ? Buf.trainY : Buf.testY), y.length).set(y);
  }

  /** Dense inputs (rows of d floats, stored with a padded row stride) and their labels. */
  setDense(which: "train" | "test", x: Float32Array, y: Int32Array): void {
    const train = which === "train",
      d = this.dims.d,
      ld = this.abi.xStride(),
      n = y.length;
    const X = this.f32(this.abi.ptr(train ? Buf.trainX : Buf.testX), n * ld);
    for (let i = 0; i < n; i++) X.set(x.subarray(i * d, i * d + d), i * ld);
    this.i32(this.abi.ptr(train ? Buf.trainY : Buf.testY), n).set(y);
  }

  setParams(w: Params): void {
    const th = this.f32(this.abi.ptr(Buf.theta), this.layout.nParams);
    th.fill(0);
    for (const t of this.layout.tensors) {
      const x = w[t.name];
      if (!x || x.length !== t.rows * t.cols)
        throw new Error(`setParams: tensor ${t.name} missing or of the wrong size`);
      for (let r = 0; r < t.rows; r++) th.set(x.subarray(r * t.cols, (r + 1) * t.cols), t.at(r));
    }
  }

  /** The first `rows` rows of tensor t from a buffer of θ's shape (θ, grad, Adam moments), unpadded. */
  private copyOut(t: TensorView, buffer: Buf, rows = t.rows): Float32Array {
    const th = this.f32(this.abi.ptr(buffer), this.layout.nParams),
      x = new Float32Array(rows * t.cols);
    for (let r = 0; r < rows; r++) x.set(th.subarray(t.at(r), t.at(r) + t.cols), r * t.cols);
    return x;
  }

  /** Copies of the parameters (or of the gradient or Adam moments: Buf.grad, m, v) in the public layout. */
  params(buffer = Buf.theta): Params {
    return Object.fromEntries(this.layout.tensors.map((t) => [t.name, this.copyOut(t, buffer)]));
  }

  /** A copy of the embedding (vocabulary × d; the p operand tokens for attn), or null when the model has none. */
  embedding(): Float32Array | null {
    const t = this.layout.tensors.find((x) => x.name === "E");
    return t ? this.copyOut(t, Buf.theta, this.dims.p) : null;
  }

  /** A copy of the readout (the MLP family's W2, H × classes; attn's unembedding U) with its shape. */
  readout(): { x: Float32Array; rows: number; cols: number } | null {
    const t = this.layout.tensors.find((x) => x.name === "W2" || x.name === "U");
    return t ? { x: this.copyOut(t, Buf.theta), rows: t.shape[0], cols: t.shape[1] } : null;
  }

  shapes(): Record<string, number[]> {
    return Object.fromEntries(this.layout.tensors.map((t) => [t.name, t.shape]));
  }
}
