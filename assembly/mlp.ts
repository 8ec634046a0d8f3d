// The paper's MLP: logits = act(E_a·W1[:d] + E_b·W1[d:] + b1)·W2 + b2, first layer through the
// lookup tables T = E·W1 (p × 2H4), so a pair's pre-activation is two row lookups and an add.
import { p, H, P4, D4, H4, nTrain, grad, E, W1, W2, b1, b2, nE, nW1, nW2,
         T, dT, Hh, Dact, lnInv, LG, DH, W1T, W2T, trY, rA, rB, rY, rX, nRows, input,
         EVAL_ROWS, evH, evLG, evInv, keepForward, takeForward } from "./layout";
import { gemmNN, gemmTN, transpose } from "./gemm";
import { actSpan, hsum, madd } from "./math";
import { xentAndGrad, xentRow, tally, NEG_BIG, scaleLogits, scaleGrad, stablemaxAndGrad, stablemaxRow } from "./xent";
import { LN_EPS, lnBack } from "./layernorm";
import { Act, Input, Loss } from "./codes";
import { mark, P_TABLES, P_HIDDEN, P_LOGITS, P_LOSS, P_DW2, P_DH, P_BACK_ACT, P_DW1, P_DE } from "./profile";

export let act = Act.gelu;
export let layernorm = false;
export function setModel(act_: i32, layernorm_: bool): void { act = act_; layernorm = layernorm_; keepForward(false); }
export let lossKind = Loss.ce;
export function setLoss(kind: i32): void { lossKind = kind; keepForward(false); }

// @ts-ignore: decorator
@inline function row(base: usize, i: i32, width: i32): usize { return base + ((<usize>i * <usize>width) << 2); }
// @ts-ignore: decorator
@inline function ld32(base: usize, i: i32): i32 { return load<i32>(base + (<usize>i << 2)); }

/** T = E·W1: both first-layer lookup tables at once (Input.onehot: T is W1 itself). */
export function tables(): void {
  if (input == Input.table) gemmNN(T, E, W1, p, D4, 2 * H4, D4, 2 * H4, 2 * H4, false);
}

// Parameter-free LayerNorm of one row of H real units (padding stays 0); stores 1/σ at inv.
function lnRow(h: usize, inv: usize): void {
  let s = f32x4.splat(0);
  for (let k = 0; k < H4; k += 4) s = f32x4.add(s, v128.load(h + (<usize>k << 2)));
  const mu: f32 = hsum(s) / <f32>H;
  const vmu = f32x4.splat(mu);
  let q = f32x4.splat(0);
  for (let k = 0; k < H4; k += 4) {
    const c = f32x4.sub(v128.load(h + (<usize>k << 2)), vmu);
    q = madd(q, c, c);
  }
  const vr: f32 = max<f32>(0, (hsum(q) - <f32>(H4 - H) * mu * mu) / <f32>H);
  const is: f32 = 1.0 / Mathf.sqrt(vr + LN_EPS);
  store<f32>(inv, is);
  const vis = f32x4.splat(is);
  for (let k = 0; k < H4; k += 4) {
    const o = h + (<usize>k << 2);
    v128.store(o, f32x4.mul(f32x4.sub(v128.load(o), vmu), vis));
  }
  for (let k = H; k < H4; k++) store<f32>(h + (<usize>k << 2), 0);
}

/** Hidden rows for pairs i < n: h = act(T[a, :H] + T[b, H:] + b1) (then LayerNorm); act' at dOut. */
export function hidden(pa: usize, pb: usize, n: i32, hOut: usize, dOut: usize, inv: usize): void {
  const w = 2 * H4;
  for (let i = 0; i < n; i++) {
    const ta = row(T, ld32(pa, i), w), tb = row(T, ld32(pb, i), w) + (<usize>H4 << 2);
    const ho = row(hOut, i, H4);
    // z, then the activation in place (the row stays in L1); two vectors a step, both loaded before
    // either is stored and the upper one stored first: the pattern V8's revectorizer turns into one
    // 256-bit operation (no memory access may sit between the two halves of a pair)
    let k = 0;
    for (; k + 8 <= H4; k += 8) {
      const o = <usize>k << 2, qa = ta + o, qb = tb + o, qc = b1 + o, qh = ho + o;
      const z1 = f32x4.add(f32x4.add(v128.load(qa, 16), v128.load(qb, 16)), v128.load(qc, 16));
      const z0 = f32x4.add(f32x4.add(v128.load(qa), v128.load(qb)), v128.load(qc));
      v128.store(qh, z1, 16); v128.store(qh, z0);
    }
    if (k < H4) {
      const o = <usize>k << 2;
      v128.store(ho + o, f32x4.add(f32x4.add(v128.load(ta + o), v128.load(tb + o)), v128.load(b1 + o)));
    }
    actSpan(ho, ho, dOut ? row(dOut, i, H4) : 0, H4, act);
    if (layernorm) lnRow(ho, inv + (<usize>i << 2));
  }
}

/** Hidden rows for dense inputs X (n × D4): h = act(X·W1 + b1) (then LayerNorm); act' at dOut. */
export function hiddenDense(x: usize, n: i32, hOut: usize, dOut: usize, inv: usize): void {
  gemmNN(hOut, x, W1, n, D4, H4, D4, H4, H4, false);
  for (let i = 0; i < n; i++) {
    const ho = row(hOut, i, H4);
    for (let k = 0; k < H4; k += 4) {
      const o = <usize>k << 2;
      v128.store(ho + o, f32x4.add(v128.load(ho + o), v128.load(b1 + o)));
    }
    actSpan(ho, ho, dOut ? row(dOut, i, H4) : 0, H4, act);
    if (layernorm) lnRow(ho, inv + (<usize>i << 2));
  }
}

/** logits = h·W2 + b2 for n rows; padded classes get NEG_BIG (cross-entropy) or 0 (squared error). */
export function logits(h: usize, n: i32, out: usize): void {
  gemmNN(out, h, W2, n, H4, P4, H4, P4, P4, false);
  for (let i = 0; i < n; i++) {
    const r = row(out, i, P4);
    for (let k = 0; k < P4; k += 4) {
      const o = <usize>k << 2;
      v128.store(r + o, f32x4.add(v128.load(r + o), v128.load(b2 + o)));
    }
    for (let k = p; k < P4; k++) store<f32>(r + (<usize>k << 2), lossKind == Loss.mse ? 0 : NEG_BIG);
  }
  scaleLogits(out, n, P4, p);
}

/** Mean cross-entropy over the step's rows; LG becomes dLoss/dlogits, gb2 = Σ_rows dlogits. */
export function lossAndGrad(gb2: usize): f64 { return xentAndGrad(LG, rY, nRows, P4, gb2); }

/** Squared error against the centred one-hot target t = onehot(y) − 1/p, summed over classes and
 *  averaged over rows (Tian's --loss mse); LG becomes 2(o − t)/n, gb2 = Σ_rows of it. */
function mseAndGrad(gb2: usize): f64 {
  memory.fill(gb2, 0, <usize>P4 << 2);
  const c: f32 = 1.0 / <f32>p, s2: f32 = 2.0 / <f32>nRows;
  let total: f64 = 0;
  for (let i = 0; i < nRows; i++) { // scalar: Tian's networks are small, and p need not be a multiple of 4
    const r = row(LG, i, P4), y = ld32(rY, i);
    let q: f32 = 0;
    for (let k = 0; k < p; k++) {
      const o = r + (<usize>k << 2);
      const e = load<f32>(o) - (k == y ? <f32>1.0 - c : -c);
      q += e * e;
      const g = e * s2;
      store<f32>(o, g);
      store<f32>(gb2 + (<usize>k << 2), load<f32>(gb2 + (<usize>k << 2)) + g);
    }
    total += <f64>q;
  }
  return total / <f64>nRows;
}

/** Summed loss over n evaluated rows; correct argmax predictions are tallied (xent.ts). */
export function lossAndAccuracy(lg: usize, py: usize, n: i32): f64 {
  let total: f64 = 0;
  for (let i = 0; i < n; i++) {
    const r = row(lg, i, P4);
    const y = ld32(py, i);
    if (lossKind == Loss.mse) {
      const c: f32 = 1.0 / <f32>p;
      let q: f32 = 0;
      for (let k = 0; k < p; k++) { const e = load<f32>(r + (<usize>k << 2)) - (k == y ? <f32>1.0 - c : -c); q += e * e; }
      total += <f64>q;
    } else if (lossKind == Loss.stablemax) total += stablemaxRow(r, p, y);
    else total += <f64>xentRow(r, P4, y);
    tally(r, p, y);
  }
  return total;
}

/** Summed loss of n pairs (or dense rows at px), in chunks of EVAL_ROWS rows (the tables T must be current). */
export function mlpEvalSet(pa: usize, pb: usize, px: usize, py: usize, n: i32): f64 {
  let total: f64 = 0;
  for (let i0 = 0; i0 < n; i0 += EVAL_ROWS) {
    const m = min(EVAL_ROWS, n - i0), o = <usize>i0 << 2;
    if (input == Input.dense) hiddenDense(px + ((<usize>i0 * <usize>D4) << 2), m, evH, 0, evInv);
    else hidden(pa + o, pb + o, m, evH, 0, evInv);
    logits(evH, m, evLG);
    total += lossAndAccuracy(evLG, py + o, m);
  }
  return total;
}

/** logits/τ of n pairs (operands at pa, pb) into out (n × P4), in chunks of EVAL_ROWS (--observe nanda). */
export function mlpLogits(pa: usize, pb: usize, n: i32, out: usize): void {
  tables();
  for (let i0 = 0; i0 < n; i0 += EVAL_ROWS) {
    const m = min(EVAL_ROWS, n - i0), o = <usize>i0 << 2;
    hidden(pa + o, pb + o, m, evH, 0, evInv);
    logits(evH, m, out + ((<usize>i0 * <usize>P4) << 2));
  }
}

// the step's rows (layout.ts nextBatch; evaluate() points them at the whole train set)
function forward(): void {
  tables(); mark(P_TABLES);
  if (input == Input.dense) hiddenDense(rX, nRows, Hh, Dact, lnInv);
  else hidden(rA, rB, nRows, Hh, Dact, lnInv);
  mark(P_HIDDEN);
  logits(Hh, nRows, LG); mark(P_LOGITS);
}

/** evaluate()'s train half: the training forward pass, kept for the next step; summed loss, with the
 *  correct predictions tallied, in chunks of EVAL_ROWS rows as mlpEvalSet sums them. */
export function mlpEvalTrain(): f64 {
  forward();
  keepForward(true);
  let total: f64 = 0;
  for (let i0 = 0; i0 < nTrain; i0 += EVAL_ROWS) {
    const m = min(EVAL_ROWS, nTrain - i0);
    total += lossAndAccuracy(LG + ((<usize>i0 * <usize>P4) << 2), trY + (<usize>i0 << 2), m);
  }
  return total;
}

/** One forward and backward pass over the step's rows at the current parameters; returns their mean loss. */
export function forwardBackward(): f64 {
  const n = nRows;
  const gE = grad, gW1 = gE + (<usize>nE << 2), gW2 = gW1 + (<usize>nW1 << 2);
  const gb1 = gW2 + (<usize>nW2 << 2), gb2 = gb1 + (<usize>H4 << 2);
  if (!takeForward()) forward(); // evaluate() may have left it (layout.ts keepForward)
  const loss = lossKind == Loss.mse ? mseAndGrad(gb2)
    : lossKind == Loss.stablemax ? stablemaxAndGrad(LG, rY, n, P4, p, gb2) : lossAndGrad(gb2);
  scaleGrad(LG, n, P4, gb2);
  mark(P_LOSS);
  // backward: output layer
  gemmTN(gW2, Hh, LG, n, H4, P4, H4, P4, P4, false); mark(P_DW2);
  transpose(W2T, W2, H4, P4);
  gemmNN(DH, LG, W2T, n, P4, H4, P4, H4, H4, false); mark(P_DH);
  // one pass over the rows: through LayerNorm and the activation (DH becomes dz), db1 += dz, and dz
  // scattered into the table gradients dT[a, :H] and dT[b, H:] (rows ascending, as a column sum would)
  const w = 2 * H4, dense = input == Input.dense;
  if (!dense) memory.fill(dT, 0, (<usize>p * <usize>w) << 2);
  memory.fill(gb1, 0, <usize>H4 << 2);
  for (let i = 0; i < n; i++) {
    const g = row(DH, i, H4), u = row(Hh, i, H4), da = row(Dact, i, H4);
    if (layernorm) lnBack(g, u, load<f32>(lnInv + (<usize>i << 2)), H4, H);
    if (dense) { // dz stays in DH for the dW1 GEMM
      for (let k = 0; k < H4; k += 4) {
        const o = <usize>k << 2;
        const dz = f32x4.mul(v128.load(g + o), v128.load(da + o));
        v128.store(g + o, dz);
        v128.store(gb1 + o, f32x4.add(v128.load(gb1 + o), dz));
      }
      continue;
    }
    const ta = row(dT, ld32(rA, i), w), tb = row(dT, ld32(rB, i), w) + (<usize>H4 << 2);
    let k = 0;
    for (; k + 8 <= H4; k += 8) { // two vectors a step, as in hidden()
      const o = <usize>k << 2, qg = g + o, qd = da + o, qb1 = gb1 + o, qa = ta + o, qb = tb + o;
      const dz1 = f32x4.mul(v128.load(qg, 16), v128.load(qd, 16)), dz0 = f32x4.mul(v128.load(qg), v128.load(qd));
      const c1 = f32x4.add(v128.load(qb1, 16), dz1), c0 = f32x4.add(v128.load(qb1), dz0);
      v128.store(qb1, c1, 16); v128.store(qb1, c0);
      const a1 = f32x4.add(v128.load(qa, 16), dz1), a0 = f32x4.add(v128.load(qa), dz0);
      v128.store(qa, a1, 16); v128.store(qa, a0);
      const e1 = f32x4.add(v128.load(qb, 16), dz1), e0 = f32x4.add(v128.load(qb), dz0);
      v128.store(qb, e1, 16); v128.store(qb, e0);
    }
    if (k < H4) {
      const o = <usize>k << 2;
      const dz = f32x4.mul(v128.load(g + o), v128.load(da + o));
      v128.store(gb1 + o, f32x4.add(v128.load(gb1 + o), dz));
      v128.store(ta + o, f32x4.add(v128.load(ta + o), dz));
      v128.store(tb + o, f32x4.add(v128.load(tb + o), dz));
    }
  }
  mark(P_BACK_ACT);
  if (dense) gemmTN(gW1, rX, DH, n, D4, H4, D4, H4, H4, false);
  else if (input == Input.table) { // Input.onehot: dT is gW1 already
    gemmTN(gW1, E, dT, p, D4, w, D4, w, w, false); mark(P_DW1);
    transpose(W1T, W1, D4, w);
    gemmNN(gE, dT, W1T, p, w, D4, w, D4, D4, false);
  }
  mark(P_DE);
  return loss;
}
