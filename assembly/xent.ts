// Softmax cross-entropy over rows of `w` logits (w % 4 == 0; padded classes hold NEG_BIG so exp()
// gives exactly 0), shared by every model: the fused loss-and-gradient of a training step and the
// per-row loss and argmax of evaluation.
import { exp4, hsum, hmax } from "./math";

export const NEG_BIG: f32 = -1e30; // logit of a padded class

// --tau: the loss sees logits/τ (τ outside ‖W‖). τ = 1 multiplies by nothing, so its bits are the old ones.
export let invTau: f32 = 1;
export function setTau(tau: f32): void { invTau = <f32>1.0 / tau; }
/** The real classes of n rows of stride w, divided by τ (after the logits are formed). */
export function scaleLogits(lg: usize, n: i32, w: i32, classes: i32): void {
  if (invTau == 1) return;
  for (let i = 0; i < n; i++)
    for (let k = 0; k < classes; k++) { const o = lg + ((<usize>i * <usize>w + <usize>k) << 2); store<f32>(o, load<f32>(o) * invTau); }
}
/** dLoss/dz = dLoss/d(z/τ) / τ over n rows of stride w (and the bias sum gb over w, when gb != 0). */
export function scaleGrad(lg: usize, n: i32, w: i32, gb: usize): void {
  if (invTau == 1) return;
  const v = f32x4.splat(invTau);
  for (let i = 0; i < n * w; i += 4) { const o = lg + (<usize>i << 2); v128.store(o, f32x4.mul(v128.load(o), v)); }
  if (gb) for (let k = 0; k < w; k += 4) { const o = gb + (<usize>k << 2); v128.store(o, f32x4.mul(v128.load(o), v)); }
}

// The row's largest logit. pmax is one instruction where V8 expands f32x4.max into a NaN-safe
// sequence that made this loop a long latency chain; a maximum is exact in any order, and a row
// holding a NaN ends up all NaN either way (its sum of exps is NaN).
// @ts-ignore: decorator
@inline function rowMax(r: usize, w: i32): f32 {
  let m = v128.load(r);
  for (let k = 4; k < w; k += 4) m = f32x4.pmax(m, v128.load(r + (<usize>k << 2)));
  return hmax(m);
}
// Σ exp(x − max), summed in ascending order; with keep, exp(x − max) overwrites the row, two vectors a step,
// both loaded before either is stored, the upper one first: the exps become 256-bit where V8 revectorizes.
// @ts-ignore: decorator
@inline function rowSumExp(r: usize, w: i32, mx: f32, keep: bool): f32 {
  const vm = f32x4.splat(mx);
  let s = f32x4.splat(0), k = 0;
  for (; k + 8 <= w; k += 8) {
    const o = r + (<usize>k << 2);
    const e1 = exp4(f32x4.sub(v128.load(o, 16), vm)), e0 = exp4(f32x4.sub(v128.load(o), vm));
    if (keep) { v128.store(o, e1, 16); v128.store(o, e0); }
    s = f32x4.add(f32x4.add(s, e0), e1);
  }
  if (k < w) { const o = r + (<usize>k << 2), e = exp4(f32x4.sub(v128.load(o), vm)); if (keep) v128.store(o, e); s = f32x4.add(s, e); }
  return hsum(s);
}
const LANES: usize = memory.data<i32>([0, 1, 2, 3]);

/** Mean cross-entropy of n rows with labels at py; the rows become dLoss/dlogits = (softmax − onehot)/n,
 *  and when gb != 0, gb = Σ_rows dlogits (rows ascending) in the same pass over the row. */
export function xentAndGrad(lg: usize, py: usize, n: i32, w: i32, gb: usize): f64 {
  if (gb) memory.fill(gb, 0, <usize>w << 2);
  const invN: f32 = 1.0 / <f32>n;
  const vinvN = f32x4.splat(invN), lanes = v128.load(LANES), four = i32x4.splat(4);
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const r = lg + ((<usize>i * <usize>w) << 2);
    const y = load<i32>(py + (<usize>i << 2));
    const xy = load<f32>(r + (<usize>y << 2));
    const mx = rowMax(r, w);
    const s = rowSumExp(r, w, mx, true);
    total += <f64>(<f32>Math.log(<f64>s) + mx - xy);
    const invS: f32 = 1.0 / s;
    const vinvS = f32x4.splat(invS), vy = i32x4.splat(y), hot = f32x4.splat((load<f32>(r + (<usize>y << 2)) * invS - 1.0) * invN);
    // exp·(1/S)·(1/n), and (exp_y·(1/S) − 1)·(1/n) in class y's lane; two vectors a step as above
    let k = 0, idx = lanes;
    for (; k + 8 <= w; k += 8) {
      const o = r + (<usize>k << 2), q = gb + (<usize>k << 2), idx1 = i32x4.add(idx, four);
      const v1 = v128.bitselect(hot, f32x4.mul(f32x4.mul(v128.load(o, 16), vinvS), vinvN), i32x4.eq(idx1, vy));
      const v0 = v128.bitselect(hot, f32x4.mul(f32x4.mul(v128.load(o), vinvS), vinvN), i32x4.eq(idx, vy));
      v128.store(o, v1, 16); v128.store(o, v0);
      if (gb) { const g1 = f32x4.add(v128.load(q, 16), v1), g0 = f32x4.add(v128.load(q), v0); v128.store(q, g1, 16); v128.store(q, g0); }
      idx = i32x4.add(idx1, four);
    }
    if (k < w) {
      const o = r + (<usize>k << 2), q = gb + (<usize>k << 2);
      const v = v128.bitselect(hot, f32x4.mul(f32x4.mul(v128.load(o), vinvS), vinvN), i32x4.eq(idx, vy));
      v128.store(o, v);
      if (gb) v128.store(q, f32x4.add(v128.load(q), v));
    }
  }
  return total / <f64>n;
}

/** Cross-entropy of one row of w logits against label y (the row is left as it is). */
// @ts-ignore: decorator
@inline export function xentRow(r: usize, w: i32, y: i32): f32 {
  const mx = rowMax(r, w);
  const s = rowSumExp(r, w, mx, false);
  return <f32>Math.log(<f64>s) + mx - load<f32>(r + (<usize>y << 2));
}

/** The first index of the largest of the row's `classes` real logits. */
// @ts-ignore: decorator
@inline function argmax(r: usize, classes: i32): i32 {
  let best = 0, bv = load<f32>(r);
  for (let k = 1; k < classes; k++) {
    const v = load<f32>(r + (<usize>k << 2));
    if (v > bv) { bv = v; best = k; }
  }
  return best;
}

/** Correct argmax predictions of the set being evaluated (every model's evaluation counts here). */
export let correct = 0;
export function resetCorrect(): void { correct = 0; }
// @ts-ignore: decorator
@inline export function tally(r: usize, classes: i32, y: i32): void { if (argmax(r, classes) == y) correct++; }

// StableMax (Prieto et al. 2025): s(x) = x + 1 for x ≥ 0, 1/(1 − x) for x < 0, pᵢ = s(zᵢ)/Σⱼ s(zⱼ) over the
// real classes; it has no exponential to saturate. s′(x) = 1 for x ≥ 0, s(x)² for x < 0.
// @ts-ignore: decorator
@inline function sm(x: f32): f32 { return x >= 0 ? x + <f32>1.0 : <f32>1.0 / (<f32>1.0 - x); }

/** Mean StableMax cross-entropy −ln p_y of n rows (stride w, `classes` real ones; the padding gets 0); the rows
 *  become dLoss/dz = (s′(zᵢ)/S − [i = y]·s′(z_y)/s(z_y))/n, and gb = Σ_rows of it when gb != 0. */
export function stablemaxAndGrad(lg: usize, py: usize, n: i32, w: i32, classes: i32, gb: usize): f64 {
  if (gb) memory.fill(gb, 0, <usize>w << 2);
  const invN: f32 = 1.0 / <f32>n;
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const r = lg + ((<usize>i * <usize>w) << 2), y = load<i32>(py + (<usize>i << 2));
    let S: f32 = 0;
    for (let k = 0; k < classes; k++) S += sm(load<f32>(r + (<usize>k << 2)));
    const sy = sm(load<f32>(r + (<usize>y << 2)));
    total += Math.log(<f64>S) - Math.log(<f64>sy);
    for (let k = 0; k < w; k++) {
      const o = r + (<usize>k << 2);
      let g: f32 = 0;
      if (k < classes) {
        const z = load<f32>(o), s = sm(z), ds: f32 = z >= 0 ? 1 : s * s;
        g = (ds / S - (k == y ? ds / s : 0)) * invN;
      }
      store<f32>(o, g);
      if (gb) store<f32>(gb + (<usize>k << 2), load<f32>(gb + (<usize>k << 2)) + g);
    }
  }
  return total / <f64>n;
}

/** StableMax cross-entropy of one row (left as it is). */
export function stablemaxRow(r: usize, classes: i32, y: i32): f64 {
  let S: f32 = 0;
  for (let k = 0; k < classes; k++) S += sm(load<f32>(r + (<usize>k << 2)));
  return Math.log(<f64>S) - Math.log(<f64>sm(load<f32>(r + (<usize>y << 2))));
}
