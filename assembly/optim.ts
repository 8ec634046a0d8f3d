// Optimizers over the flat parameter span, norms, and norm interventions.
import { theta, grad, mom1, mom2, nTrained, nDecay, nTensors, tensor, groupLo, groupHi, pad4, msX, msA, msB, msT } from "./layout";
import { Optim, WdSchedule, Group, TensorField, TensorFlag } from "./codes";
import { newtonSchulz } from "./muon";
import { filterGrad } from "./grokfast";
import { orthoGrad } from "./orthograd";

// Optim.adamw: decoupled decay (the paper); adam: L2 added to the gradient; sgd: L2 added to the
// gradient, heavy-ball momentum; muon: Muon on the 2-D weight matrices, AdamW on the rest (embeddings, biases).
export let optim = Optim.adamw;
export let lr: f32 = 1e-3, wd: f32 = 1, beta1: f32 = 0.9, beta2: f32 = 0.999, eps: f32 = 1e-8, momentum: f32 = 0;

export function setOptim(optim_: i32, lr_: f32, wd_: f32, beta1_: f32, beta2_: f32, eps_: f32, momentum_: f32): void {
  optim = optim_; lr = lr_; wd = wd_; beta1 = beta1_; beta2 = beta2_; eps = eps_; momentum = momentum_;
  wdKind = WdSchedule.constant;
}

// Weight-decay schedule: const; step (λ from step s1 on, 0 before); ramp (0 before s0, linear to λ at s1).
let wdKind = WdSchedule.constant, wdS0 = 0, wdS1 = 0;
export function setWdSchedule(kind: i32, s0: i32, s1: i32): void { wdKind = kind; wdS0 = s0; wdS1 = s1; }

/** λ used by the update from step s to s + 1. */
// @ts-ignore: decorator
@inline function wdAt(s: i32): f32 {
  if (wdKind == WdSchedule.constant) return wd;
  if (wdKind == WdSchedule.step) return s >= wdS1 ? wd : 0;
  if (s < wdS0) return 0;
  if (s >= wdS1) return wd;
  return <f32>(<f64>wd * <f64>(s - wdS0) / <f64>(wdS1 - wdS0));
}

// Flush to zero below float32's smallest normal (2⁻¹²⁶), as a CPU in FTZ mode would: once weights
// collapse (an underfitting weight decay drives E and W1 to ~1e-40) subnormal arithmetic makes every
// GEMM several times slower; in any other regime nothing is that small and results are unchanged.
const FLT_MIN: f32 = 1.17549435e-38;
// the exponent mask, read from memory: a v128 literal would be rebuilt by V8 at every use in the loop
const EXP_BITS: usize = memory.data<i32>([0x7F800000, 0x7F800000, 0x7F800000, 0x7F800000]);
// @ts-ignore: decorator
// |x| < 2⁻¹²⁶ exactly when x's exponent bits are all zero (zeros and subnormals): three integer-unit
// instructions (V8 builds f32x4.abs's mask anew each time); expMask = v128.load(EXP_BITS).
@inline function ftz4(x: v128, expMask: v128): v128 { return v128.andnot(x, i32x4.eq(v128.and(x, expMask), i32x4.splat(0))); }
// @ts-ignore: decorator
@inline function ftz(x: f32): f32 { return abs<f32>(x) < FLT_MIN ? 0 : x; }

/** Update θ from grad for step t (1-based). Only θ[0, nDecay) is decayed; θ[nTrained, …) is frozen. */
export function optimStep(t: i32): void {
  filterGrad(); // --grokfast, on the loss's gradient before any L2 term (the authors filter p.grad)
  orthoGrad(); // --optim-grad ortho, on the filtered gradient
  const wd = wdAt(t - 1);
  if (optim == Optim.adam || optim == Optim.sgd) {
    // coupled L2: g ← g + λθ on the decayed span
    const vwd = f32x4.splat(wd);
    for (let i = 0; i < nDecay; i += 4) {
      const o = <usize>i << 2;
      v128.store(grad + o, f32x4.add(v128.load(grad + o), f32x4.mul(vwd, v128.load(theta + o))));
    }
  }
  if (optim == Optim.sgd) {
    const vmu = f32x4.splat(momentum), vlr = f32x4.splat(lr), expMask = v128.load(EXP_BITS);
    for (let i = 0; i < nTrained; i += 4) {
      const o = <usize>i << 2;
      const b = ftz4(f32x4.add(f32x4.mul(vmu, v128.load(mom1 + o)), v128.load(grad + o)), expMask);
      v128.store(mom1 + o, b);
      v128.store(theta + o, ftz4(f32x4.sub(v128.load(theta + o), f32x4.mul(vlr, b)), expMask));
    }
    return;
  }
  if (optim != Optim.muon) { adamRange(0, nTrained, t, wd); return; }
  // Muon: each matrix by Newton–Schulz, AdamW on the spans between them
  let lo = 0;
  for (let i = 0; i < nTensors; i++) {
    const flags = tensor(i, TensorField.flags), rows = tensor(i, TensorField.rows);
    if (!(flags & TensorFlag.muon)) continue;
    const off = tensor(i, TensorField.offset), end = off + (flags & TensorFlag.split ? rows >> 1 : rows) * tensor(i, TensorField.ld);
    if (off > lo) adamRange(lo, off, t, wd);
    muonMatrix(i, wd);
    lo = end;
  }
  if (nTrained > lo) adamRange(lo, nTrained, t, wd);
}

// AdamW (or Adam: decay = 1, L2 already in g) on θ[lo, hi), lo and hi multiples of 4.
function adamRange(lo: i32, hi: i32, t: i32, wd: f32): void {
  // bias corrections in float64, then used as float32 like torch does with a Python scalar
  const bc1 = <f32>(1.0 - Math.pow(<f64>beta1, <f64>t));
  const bc2 = <f32>(1.0 - Math.pow(<f64>beta2, <f64>t));
  const vb1 = f32x4.splat(beta1), vc1 = f32x4.splat(1.0 - beta1);
  const vb2 = f32x4.splat(beta2), vc2 = f32x4.splat(1.0 - beta2);
  const vbc1 = f32x4.splat(bc1), vbc2 = f32x4.splat(bc2), veps = f32x4.splat(eps), vnlr = f32x4.splat(-lr);
  const decay = f32x4.splat(optim != Optim.adam ? <f32>1.0 - lr * wd : <f32>1.0), expMask = v128.load(EXP_BITS);
  // two vectors a step, loaded before either is stored, the upper one first: V8's revectorizer makes
  // one 256-bit operation of each pair (mlp.ts hidden()). θ·1 = θ exactly, so the undecayed tail of a
  // pair that straddles nDecay multiplies by 1.
  const one = f32x4.splat(1);
  let i = lo;
  for (; i + 8 <= hi; i += 8) {
    const o = <usize>i << 2, pg = grad + o, pt = theta + o, pm = mom1 + o, pv = mom2 + o;
    const g1 = v128.load(pg, 16), g0 = v128.load(pg);
    const th1 = f32x4.mul(v128.load(pt, 16), i + 4 < nDecay ? decay : one), th0 = f32x4.mul(v128.load(pt), i < nDecay ? decay : one);
    const m1 = ftz4(f32x4.add(f32x4.mul(vb1, v128.load(pm, 16)), f32x4.mul(vc1, g1)), expMask);
    const m0 = ftz4(f32x4.add(f32x4.mul(vb1, v128.load(pm)), f32x4.mul(vc1, g0)), expMask);
    const v1 = ftz4(f32x4.add(f32x4.mul(vb2, v128.load(pv, 16)), f32x4.mul(vc2, f32x4.mul(g1, g1))), expMask);
    const v0 = ftz4(f32x4.add(f32x4.mul(vb2, v128.load(pv)), f32x4.mul(vc2, f32x4.mul(g0, g0))), expMask);
    v128.store(pm, m1, 16); v128.store(pm, m0);
    v128.store(pv, v1, 16); v128.store(pv, v0);
    const u1 = f32x4.div(f32x4.div(m1, vbc1), f32x4.add(f32x4.sqrt(f32x4.div(v1, vbc2)), veps));
    const u0 = f32x4.div(f32x4.div(m0, vbc1), f32x4.add(f32x4.sqrt(f32x4.div(v0, vbc2)), veps));
    v128.store(pt, ftz4(f32x4.add(th1, f32x4.mul(vnlr, u1)), expMask), 16);
    v128.store(pt, ftz4(f32x4.add(th0, f32x4.mul(vnlr, u0)), expMask));
  }
  for (; i < hi; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(grad + o);
    let th = v128.load(theta + o);
    if (i < nDecay) th = f32x4.mul(th, decay);
    const m = ftz4(f32x4.add(f32x4.mul(vb1, v128.load(mom1 + o)), f32x4.mul(vc1, g)), expMask);
    const v = ftz4(f32x4.add(f32x4.mul(vb2, v128.load(mom2 + o)), f32x4.mul(vc2, f32x4.mul(g, g))), expMask);
    v128.store(mom1 + o, m);
    v128.store(mom2 + o, v);
    const den = f32x4.add(f32x4.sqrt(f32x4.div(v, vbc2)), veps);
    th = f32x4.add(th, f32x4.mul(vnlr, f32x4.div(f32x4.div(m, vbc1), den)));
    v128.store(theta + o, ftz4(th, expMask));
  }
}

// Offset (floats) of logical element (r, c) of matrix i.
// @ts-ignore: decorator
@inline function matAt(off: i32, rows: i32, ld: i32, split: bool, r: i32, c: i32): i32 {
  const h = rows >> 1;
  return split && r >= h ? off + (r - h) * ld + (ld >> 1) + c : off + r * ld + c;
}

/** Muon on tensor i (Jordan's update with Nesterov momentum μ = `momentum`; scaled by 0.2·√max(rows,
 *  cols) so its RMS matches AdamW's and one --lr serves both, as in Moonlight): m ← μm + (1 − μ)g,
 *  u = NS5((1 − μ)g + μm), θ ← θ(1 − ηλ) − η·0.2·√max(rows, cols)·u. */
function muonMatrix(i: i32, wd: f32): void {
  const off = tensor(i, TensorField.offset), rows = tensor(i, TensorField.rows), cols = tensor(i, TensorField.cols);
  const ld = tensor(i, TensorField.ld), split = (tensor(i, TensorField.flags) & TensorFlag.split) != 0;
  const tr = rows > cols, R = tr ? cols : rows, C = tr ? rows : cols, R4 = pad4(R), C4 = pad4(C);
  memory.fill(msX, 0, (<usize>R4 * <usize>C4) << 2);
  const mu = momentum;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const o = <usize>matAt(off, rows, ld, split, r, c) << 2;
      const g = load<f32>(grad + o);
      const m = mu * load<f32>(mom1 + o) + (<f32>1.0 - mu) * g;
      store<f32>(mom1 + o, ftz(m));
      const x = tr ? msX + ((<usize>c * <usize>C4 + <usize>r) << 2) : msX + ((<usize>r * <usize>C4 + <usize>c) << 2);
      store<f32>(x, (<f32>1.0 - mu) * g + mu * m);
    }
  }
  newtonSchulz(msX, R4, C4, msA, msB, msT, 5);
  const decay: f32 = <f32>1.0 - lr * wd, step: f32 = <f32>(<f64>lr * 0.2 * Math.sqrt(<f64>max(rows, cols)));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const o = <usize>matAt(off, rows, ld, split, r, c) << 2;
      const u = load<f32>(tr ? msX + ((<usize>c * <usize>C4 + <usize>r) << 2) : msX + ((<usize>r * <usize>C4 + <usize>c) << 2));
      store<f32>(theta + o, ftz(load<f32>(theta + o) * decay - step * u));
    }
  }
}

/** Σx² of n floats (n % 4 == 0), accumulated in float64 pairs for accuracy and order-stability. */
export function sumSq(ptr: usize, n: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  for (let i = 0; i < n; i += 4) {
    const v = v128.load(ptr + (<usize>i << 2));
    const lo = f64x2.promote_low_f32x4(v);
    const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    a = f64x2.add(a, f64x2.mul(lo, lo));
    b = f64x2.add(b, f64x2.mul(hi, hi));
  }
  const s = f64x2.add(a, b);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/** ‖group g‖ (Group.all: the decayed span, i.e. ‖W‖). */
export function groupNorm(g: i32): f64 { return Math.sqrt(sumSq(theta + (<usize>groupLo(g) << 2), groupHi(g) - groupLo(g))); }
export function weightNorm(): f64 { return groupNorm(Group.all); }

let clampGroup = Group.all;
export function setClampGroup(g: i32): void { clampGroup = g; }

/** Scale the clamp group (default: all of E, W1, W2) so that its norm = target (biases and moments untouched). */
export function clampNorm(target: f64): void {
  const s = f32x4.splat(<f32>(target / (groupNorm(clampGroup) + 1e-30)));
  for (let i = groupLo(clampGroup); i < groupHi(clampGroup); i += 4) {
    const o = <usize>i << 2;
    v128.store(theta + o, f32x4.mul(v128.load(theta + o), s));
  }
}
