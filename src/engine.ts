// Instantiates the wasm kernels (src/kernels.ts chooses and compiles them once per process) and moves one
// run's tensors in and out of wasm memory. Public tensor layout: row-major, W1 is 2d×H, W2 is H×p;
// inside wasm, sizes are padded to multiples of 4 and W1 is stored as d × 2H ([W1[:d] | W1[d:]]).
import { instantiateSync } from "@assemblyscript/loader";
import { loadKernels, Kernels } from "./kernels.js";
import { layoutOf, Layout, Dims, Tensor, tensorRows, pad4 } from "./models.js";

/** A run's tensors by name (public layout: row-major, unpadded), e.g. E, W1, b1, W2, b2 for the MLP. */
export type Params = Record<string, Float32Array>;
/** The paper MLP's tensors. */
export const TENSORS = ["E", "W1", "b1", "W2", "b2"] as const;
export type TensorName = (typeof TENSORS)[number];

/** The exported ABI (assembly/index.ts). */
export interface Abi {
  memory: WebAssembly.Memory;
  setup(p: number, d: number, H: number, nTrain: number, nTest: number, input: number): void;
  setupAttn(p: number, d: number, H: number, heads: number, nTrain: number, nTest: number): void;
  setAttnLayernorm(on: number): void;
  setLoss(kind: number): void;
  setClampGroup(g: number): void;
  setOptim(optim: number, lr: number, wd: number, beta1: number, beta2: number, eps: number, momentum: number): void;
  setModel(act: number, layernorm: number): void;
  setWdSchedule(kind: number, s0: number, s1: number): void;
  setArm(arm: number, tInt: number, target: number): void;
  ptr(which: number): number;
  advance(k: number): number;
  gradient(): number;
  step(): number;
  loss(): number;
  evaluate(): void;
  metric(i: number): number;
  weightNorm(): number;
  /** ‖group‖: 0 all decayed (‖W‖), 1 embed, 2 attn, 3 mlp, 4 unembed */
  groupNorm(g: number): number;
  scratch(bytes: number): number;
  testGemmNN(c: number, a: number, b: number, M: number, K: number, N: number, acc: number): void;
  testGemmTN(c: number, a: number, b: number, R: number, M: number, N: number, acc: number): void;
  testExp(out: number, x: number, n: number): void;
  testErf(out: number, x: number, n: number): void;
  testAct(h: number, dh: number, z: number, n: number, act: number): void;
  testActSpan(h: number, dh: number, z: number, n: number, act: number): void;
  testSumSq(x: number, n: number): number;
  testTables(): number;
  peak(iters: number, x: number): number;
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

const MAX_WASM_BYTES = 4 * 2 ** 30 - 2 ** 26;
const INPUT = { table: 0, onehot: 1, dense: 2 } as const;

/** Views and layout conversions for the run currently set up in an instance. */
export class Net {
  readonly layout: Layout;
  constructor(
    readonly abi: Abi,
    readonly dims: Dims,
  ) {
    this.layout = layoutOf(dims);
    const { model, p, d, H, heads, nTrain, nTest, dense } = dims;
    if (this.layout.bytes > MAX_WASM_BYTES) {
      throw new Error(
        `a run with model=${model}, p=${p}, d=${d}, H=${H}, ${nTrain} train examples needs ${(this.layout.bytes / 2 ** 30).toFixed(1)} GiB of wasm memory (wasm32 allows < 4 GiB)`,
      );
    }
    if (model === "attn") abi.setupAttn(p, d, H, heads, nTrain, nTest);
    else abi.setup(p, d, H, nTrain, nTest, model === "tian" ? INPUT.onehot : dense ? INPUT.dense : INPUT.table);
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.abi.memory.buffer, ptr, n);
  }
  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.abi.memory.buffer, ptr, n);
  }

  setData(which: "train" | "test", a: Int32Array, b: Int32Array, y: Int32Array): void {
    const base = which === "train" ? 1 : 4;
    this.i32(this.abi.ptr(base), a.length).set(a);
    this.i32(this.abi.ptr(base + 1), b.length).set(b);
    this.i32(this.abi.ptr(base + 2), y.length).set(y);
  }

  /** Dense inputs (rows of d floats, stored with a padded row stride) and their labels. */
  setDense(which: "train" | "test", x: Float32Array, y: Int32Array): void {
    const d = this.dims.d,
      ld = pad4(d),
      n = y.length;
    const X = this.f32(this.abi.ptr(which === "train" ? 10 : 11), n * ld);
    for (let i = 0; i < n; i++) X.set(x.subarray(i * d, i * d + d), i * ld);
    this.i32(this.abi.ptr(which === "train" ? 3 : 6), n).set(y);
  }

  setParams(w: Params): void {
    const th = this.f32(this.abi.ptr(0), this.layout.nParams);
    th.fill(0);
    for (const t of this.layout.tensors) {
      const x = w[t.name];
      if (!x || x.length !== t.shape.reduce((a, b) => a * b, 1))
        throw new Error(`setParams: tensor ${t.name} missing or of the wrong size`);
      for (let r = 0; r < tensorRows(t); r++) th.set(x.subarray(r * t.cols, (r + 1) * t.cols), t.at(r));
    }
  }

  /** The first `rows` rows of tensor t from buffer (0 θ, 7 grad, 8/9 moments), unpadded. */
  private copyOut(t: Tensor, buffer: number, rows = tensorRows(t)): Float32Array {
    const th = this.f32(this.abi.ptr(buffer), this.layout.nParams),
      x = new Float32Array(rows * t.cols);
    for (let r = 0; r < rows; r++) x.set(th.subarray(t.at(r), t.at(r) + t.cols), r * t.cols);
    return x;
  }

  /** Copies of the parameters (or, with buffer 7/8/9, of the gradient or Adam moments) in the public layout. */
  params(buffer = 0): Params {
    return Object.fromEntries(this.layout.tensors.map((t) => [t.name, this.copyOut(t, buffer)]));
  }

  /** A copy of the embedding (vocabulary × d; the p operand tokens for attn), or null when the model has none. */
  embedding(): Float32Array | null {
    const t = this.layout.tensors.find((x) => x.name === "E");
    return t ? this.copyOut(t, 0, this.dims.p) : null;
  }

  shapes(): Record<string, number[]> {
    return Object.fromEntries(this.layout.tensors.map((t) => [t.name, t.shape]));
  }
}
