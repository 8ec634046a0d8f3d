// The paper's second architecture (PROTOCOL.md "Second architecture"): tokens [a, b, =], learned
// positions, one attention layer (query from the last position only), residual stream, GELU MLP
// d→H→d, unembedding over p + 1 classes; no biases; optional parameter-free LayerNorm before
// attention, MLP and unembedding.
//
// Structure exploited: a position's normalised input x̂ depends only on (token, position), so all
// token-level quantities are tables over the NT = 2p + 1 (token, position) rows that occur — rows
// [0, p) operand a at position 0, rows [p, 2p) operand b at position 1, row 2p "=" at position 2:
//   q = x̂_2·Wq (d), κ_h = Wk[:, h cols]·q_h (heads × d), so the scores are S[t, h] = x̂_t·κ_h/√dh
//   (NT × heads: the keys are never formed); V = X̂·Wv (NT × d), VO[t, h, :] = V[t, h]·Wo[h rows, :]
//   (NT × heads × d),
// so a pair's attention output o·Wo is a softmax-weighted sum of 3·heads gathered VO rows. The dense
// per-pair work is the MLP and the unembedding, done as whole-batch GEMMs. The backward pass scatters
// into the table gradients (pairs ascending) and goes back through the small table GEMMs; the key
// side is rank one per head: with c[t, h] = dS[t, h]/√dh and y_h = Σ_t c[t, h]·x̂_t,
// dWk[:, h cols] = y_h ⊗ q_h, dq_h = y_h·Wk[:, h cols], dx̂_t += Σ_h c[t, h]·κ_h.
import { begin, alloc, allocParams, allocData, allocMuon, finish, setGroup, addTensor, thetaSize, pad4, EVAL_ROWS,
         theta, grad, trY, rA, rB, rY, nRows, keepForward, takeForward } from "./layout";
import { Model, Group, Tensor, TensorFlag, Act } from "./codes";
import { gemmNN, gemmTN, transpose } from "./gemm";
import { actSpan, hsum, madd } from "./math";
import { xentAndGrad, xentRow, tally, NEG_BIG, scaleLogits, scaleGrad } from "./xent";
import { LN_EPS, lnBack } from "./layernorm";

export let V = 0, VP = 0;               // vocabulary p + 1 ("=" is token p), padded
export let ad = 0, aH = 0, aH4 = 0, heads = 0, dh = 0, aP = 0;
export let aNTrain = 0, aNTest = 0;
export let lnOn = false;
// Parameter offsets (floats from θ), in this order: E (V × d) | P (3 × d) | Wq | Wk | Wv | Wo (d × d)
// | Win (d × H4) | Wout (H4 × d) | U (d × VP). Matrices are x·W (rows = inputs). d % (4·heads) == 0.
export let oE = 0, oP = 0, oQ = 0, oK = 0, oV = 0, oO = 0, oIn = 0, oOut = 0, oU = 0, nAll = 0;

export function setAttnLayernorm(on: bool): void { lnOn = on; keepForward(false); }

let NT = 0;                 // table rows: 2p + 1
// token tables
let tX: usize = 0, tXh: usize = 0, tInv: usize = 0, tKap: usize = 0, tV: usize = 0, tQ: usize = 0;
let tS: usize = 0, tVO: usize = 0;
let tdVO: usize = 0, tdS: usize = 0, tY: usize = 0, tdV: usize = 0, tdQ: usize = 0, tdX: usize = 0, tG2: usize = 0;
// transposed weights for the backward GEMMs
let WqT: usize = 0, WvT: usize = 0, WoT: usize = 0, WinT: usize = 0, WoutT: usize = 0, UT: usize = 0;
// training activations (n rows)
let bW: usize = 0, bR: usize = 0, bM: usize = 0, bZ: usize = 0, bD: usize = 0, bR2: usize = 0, bF: usize = 0;
let bLG: usize = 0, bInv1: usize = 0, bInv2: usize = 0, bdA: usize = 0, bdB: usize = 0;
// evaluation chunk buffers (EVAL_ROWS rows)
let eW: usize = 0, eR: usize = 0, eM: usize = 0, eZ: usize = 0, eR2: usize = 0, eF: usize = 0;
let eLG: usize = 0, eInv1: usize = 0, eInv2: usize = 0;

/** Lays the attention model out; returns the bytes of memory the run needs (layout.ts finish()). */
export function setupAttn(p: i32, d: i32, H: i32, heads_: i32, nTrain: i32, nTest: i32): f64 {
  begin(Model.attn);
  aP = p; V = p + 1; VP = pad4(V); ad = d; aH = H; aH4 = pad4(H); heads = heads_; dh = d / heads;
  aNTrain = nTrain; aNTest = nTest;
  const M = TensorFlag.muon; //    name         rows cols ld   stored flags
  oE   = addTensor(Tensor.E,    V, d, d,   V,   0);
  oP   = addTensor(Tensor.P,    3, d, d,   3,   0);
  oQ   = addTensor(Tensor.Wq,   d, d, d,   d,   M);
  oK   = addTensor(Tensor.Wk,   d, d, d,   d,   M);
  oV   = addTensor(Tensor.Wv,   d, d, d,   d,   M);
  oO   = addTensor(Tensor.Wo,   d, d, d,   d,   M);
  oIn  = addTensor(Tensor.Win,  d, H, aH4, d,   M);
  oOut = addTensor(Tensor.Wout, H, d, d,   aH4, M);
  oU   = addTensor(Tensor.U,    d, V, VP,  d,   M);
  nAll = thetaSize();
  allocParams(nAll, nAll);
  setGroup(Group.embed, oE, oQ); setGroup(Group.attn, oQ, oIn); setGroup(Group.mlp, oIn, oU); setGroup(Group.unembed, oU, nAll);
  allocData(nTrain, nTest, 0);
  allocMuon();
  // activations
  NT = 2 * p + 1;
  const hd = heads * d, ws = heads * 4;
  tX = alloc(NT, d); tXh = alloc(NT, d); tInv = alloc(NT); tKap = alloc(hd); tV = alloc(NT, d); tQ = alloc(d);
  tS = alloc(NT, heads); tVO = alloc(NT, hd);
  tdVO = alloc(NT, hd); tdS = alloc(NT, heads); tY = alloc(hd); tdV = alloc(NT, d); tdQ = alloc(d);
  tdX = alloc(NT, d); tG2 = alloc(d);
  WqT = alloc(d, d); WvT = alloc(d, d); WoT = alloc(d, d);
  WinT = alloc(aH4, d); WoutT = alloc(d, aH4); UT = alloc(VP, d);
  const n = max(nTrain, 1);
  bW = alloc(n, ws); bR = alloc(n, d); bM = alloc(n, d); bZ = alloc(n, aH4); bD = alloc(n, aH4);
  bR2 = alloc(n, d); bF = alloc(n, d); bLG = alloc(n, VP); bInv1 = alloc(n); bInv2 = alloc(n);
  bdA = alloc(n, d); bdB = alloc(n, d);
  const e = EVAL_ROWS;
  eW = alloc(e, ws); eR = alloc(e, d); eM = alloc(e, d); eZ = alloc(e, aH4); eR2 = alloc(e, d); eF = alloc(e, d);
  eLG = alloc(e, VP); eInv1 = alloc(e); eInv2 = alloc(e);
  return finish();
}

// @ts-ignore: decorator
@inline function at(base: usize, i: i32): usize { return base + (<usize>i << 2); }
// @ts-ignore: decorator
@inline function row(base: usize, i: i32, width: i32): usize { return base + ((<usize>i * <usize>width) << 2); }
// @ts-ignore: decorator
@inline function ld32(base: usize, i: i32): i32 { return load<i32>(base + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function p32(o: usize, k: i32): usize { return o + (<usize>k << 2); }
// θ and grad at a parameter offset (floats)
// @ts-ignore: decorator
@inline function W(o: i32): usize { return theta + (<usize>o << 2); }
// @ts-ignore: decorator
@inline function G(o: i32): usize { return grad + (<usize>o << 2); }

/** Parameter-free LayerNorm of one row of w floats (w % 4 == 0): out = (x − μ)/√(var + ε), 1/σ at inv. */
function lnRow(x: usize, out: usize, inv: usize, w: i32): void {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0);
  let k = 0;
  for (; k + 8 <= w; k += 8) { s0 = f32x4.add(s0, v128.load(p32(x, k))); s1 = f32x4.add(s1, v128.load(p32(x, k), 16)); }
  if (k < w) s0 = f32x4.add(s0, v128.load(p32(x, k)));
  const mu: f32 = hsum(f32x4.add(s0, s1)) / <f32>w;
  const vmu = f32x4.splat(mu);
  let q = f32x4.splat(0);
  for (k = 0; k < w; k += 4) {
    const c = f32x4.sub(v128.load(p32(x, k)), vmu);
    q = madd(q, c, c);
  }
  const is: f32 = <f32>1.0 / Mathf.sqrt(hsum(q) / <f32>w + LN_EPS);
  store<f32>(inv, is);
  const vis = f32x4.splat(is);
  for (k = 0; k < w; k += 4) v128.store(p32(out, k), f32x4.mul(f32x4.sub(v128.load(p32(x, k)), vmu), vis));
}

// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, w: i32): f32 {
  let s = f32x4.splat(0);
  for (let k = 0; k < w; k += 4) s = madd(s, v128.load(p32(a, k)), v128.load(p32(b, k)));
  return hsum(s);
}

/** The token tables: X, X̂, K, V, q, scores S and VO (see the header). */
function tables(): void {
  const d = ad, p = aP, hd = heads * d;
  const E = W(oE), P = W(oP);
  const P0 = P, P1 = row(P, 1, d), P2 = row(P, 2, d);
  for (let t = 0; t < p; t++) {
    const e = row(E, t, d), x0 = row(tX, t, d), x1 = row(tX, p + t, d);
    for (let k = 0; k < d; k += 4) {
      const ev = v128.load(p32(e, k));
      v128.store(p32(x0, k), f32x4.add(ev, v128.load(p32(P0, k))));
      v128.store(p32(x1, k), f32x4.add(ev, v128.load(p32(P1, k))));
    }
  }
  { const e = row(E, p, d), x2 = row(tX, 2 * p, d);
    for (let k = 0; k < d; k += 4) v128.store(p32(x2, k), f32x4.add(v128.load(p32(e, k)), v128.load(p32(P2, k)))); }
  const xh = lnOn ? tXh : tX;
  if (lnOn) for (let t = 0; t < NT; t++) lnRow(row(tX, t, d), row(tXh, t, d), at(tInv, t), d);
  gemmNN(tV, xh, W(oV), NT, d, d, d, d, d, false);
  gemmNN(tQ, row(xh, 2 * p, d), W(oQ), 1, d, d, d, d, d, false);
  const Wk = W(oK);
  for (let r = 0; r < d; r++) {
    const wr = row(Wk, r, d);
    for (let h = 0; h < heads; h++) store<f32>(at(row(tKap, h, d), r), dot(at(wr, h * dh), at(tQ, h * dh), dh));
  }
  const scale: f32 = <f32>(1.0 / Math.sqrt(<f64>dh));
  for (let t = 0; t < NT; t++) {
    const xr = row(xh, t, d);
    for (let h = 0; h < heads; h++) store<f32>(at(tS, t * heads + h), dot(row(tKap, h, d), xr, d) * scale);
  }
  const Wo = W(oO);
  for (let h = 0; h < heads; h++) gemmNN(at(tVO, h * d), at(tV, h * dh), row(Wo, h * dh, d), NT, dh, d, d, d, hd, false);
}

/** Attention for pairs i < n: softmax weights (heads × 4 per pair) into w, residual r = x_2 + o·Wo into r. */
function attend(pa: usize, pb: usize, n: i32, w: usize, r: usize): void {
  const d = ad, p = aP, hd = heads * d, ws = heads * 4;
  const x2 = row(tX, 2 * p, d), t2 = 2 * p;
  for (let i = 0; i < n; i++) {
    const t0 = ld32(pa, i), t1 = p + ld32(pb, i);
    const ri = row(r, i, d), wi = row(w, i, ws);
    memory.copy(ri, x2, <usize>d << 2);
    for (let h = 0; h < heads; h++) {
      const s0 = load<f32>(at(tS, t0 * heads + h)), s1 = load<f32>(at(tS, t1 * heads + h)), s2 = load<f32>(at(tS, t2 * heads + h));
      const mx = max(max(s0, s1), s2);
      const e0 = Mathf.exp(s0 - mx), e1 = Mathf.exp(s1 - mx), e2 = Mathf.exp(s2 - mx);
      const is: f32 = <f32>1.0 / (e0 + e1 + e2);
      const w0 = e0 * is, w1 = e1 * is, w2 = e2 * is;
      const wh = at(wi, h * 4);
      store<f32>(wh, w0); store<f32>(wh, w1, 4); store<f32>(wh, w2, 8);
      const v0 = at(row(tVO, t0, hd), h * d), v1 = at(row(tVO, t1, hd), h * d), v2 = at(row(tVO, t2, hd), h * d);
      const a0 = f32x4.splat(w0), a1 = f32x4.splat(w1), a2 = f32x4.splat(w2);
      for (let k = 0; k < d; k += 4) {
        const o = p32(ri, k);
        const s = madd(madd(f32x4.mul(a0, v128.load(p32(v0, k))), a1, v128.load(p32(v1, k))), a2, v128.load(p32(v2, k)));
        v128.store(o, f32x4.add(v128.load(o), s));
      }
    }
  }
}

/** From the residual rows r: m = LN(r), z = m·Win, u = GELU(z) (into z; GELU' into dz when dz != 0),
 *  r2 = r + u·Wout, f = LN(r2), logits = f·U (padded classes NEG_BIG). */
function dense(n: i32, r: usize, m: usize, z: usize, dz: usize, r2: usize, f: usize, lg: usize, inv1: usize, inv2: usize): void {
  const d = ad, H4 = aH4;
  const mp = lnOn ? m : r, fp = lnOn ? f : r2;
  if (lnOn) for (let i = 0; i < n; i++) lnRow(row(r, i, d), row(m, i, d), at(inv1, i), d);
  gemmNN(z, mp, W(oIn), n, d, H4, d, H4, H4, false);
  actSpan(z, z, dz, n * H4, Act.gelu);
  memory.copy(r2, r, (<usize>n * <usize>d) << 2);
  gemmNN(r2, z, W(oOut), n, H4, d, H4, d, d, true);
  if (lnOn) for (let i = 0; i < n; i++) lnRow(row(r2, i, d), row(f, i, d), at(inv2, i), d);
  gemmNN(lg, fp, W(oU), n, d, VP, d, VP, VP, false);
  for (let i = 0; i < n; i++) {
    const lr = row(lg, i, VP);
    for (let c = V; c < VP; c++) store<f32>(at(lr, c), NEG_BIG);
  }
  scaleLogits(lg, n, VP, V);
}

/** The train set's logit rows (VP floats each). */
export function attnLogits(): usize { return bLG; }

/** The forward pass of the step's rows (layout.ts nextBatch) at the current θ: token tables, attention, MLP, logits. */
function forward(): void {
  tables();
  attend(rA, rB, nRows, bW, bR);
  dense(nRows, bR, bM, bZ, bD, bR2, bF, bLG, bInv1, bInv2);
}

/** evaluate()'s train half: the training forward pass, kept for the next step; summed cross-entropy
 *  (rows ascending, as attnEvalSet sums them), correct predictions tallied. */
export function attnEvalTrain(): f64 {
  forward();
  keepForward(true);
  return scoreRows(0, bLG, trY, aNTrain);
}

/** One step's loss and gradient: the forward pass (or the one evaluate() kept), then back through each
 *  section in reverse. Mean cross-entropy over the step's rows; dLoss/dθ into grad (padding stays 0). */
export function attnForwardBackward(): f64 {
  if (!takeForward()) forward();                      // tables, attend, dense (evaluate() may have left it: keepForward)
  const loss = xentAndGrad(bLG, rY, nRows, VP, 0);    // bLG becomes dLoss/dlogits
  scaleGrad(bLG, nRows, VP, 0);                       // --tau
  unembedBack();                                      // gU; dLoss/dr2
  mlpBack();                                          // gWout, gWin; dLoss/dr
  attendBack();                                       // dVO, dS; the residual's dx_2
  valueBack();                                        // gWo, gWv; dX̂ along the values
  scoresBack();                                       // gWk, gWq; dX̂ along the scores and the query
  embedBack();                                        // gE, gP
  return loss;
}

/** The unembedding and the final LayerNorm: gU = fᵀ·dlogits, bdA = dLoss/dr2. */
function unembedBack(): void {
  const n = nRows, d = ad, fp = lnOn ? bF : bR2;
  gemmTN(G(oU), fp, bLG, n, d, VP, d, VP, VP, false);
  transpose(UT, W(oU), d, VP);
  gemmNN(bdA, bLG, UT, n, VP, d, VP, d, d, false);
  if (lnOn) for (let i = 0; i < n; i++) lnBack(row(bdA, i, d), row(bF, i, d), load<f32>(at(bInv2, i)), d, d);
}

/** The MLP: gWout, then du into bZ (u is no longer needed), dz = du ⊙ GELU'(z), gWin, dm into bdB;
 *  then bdB = dLoss/dr = dr2 + LN'(dm). */
function mlpBack(): void {
  const n = nRows, d = ad, H4 = aH4, mp = lnOn ? bM : bR;
  gemmTN(G(oOut), bZ, bdA, n, H4, d, H4, d, d, false);
  transpose(WoutT, W(oOut), H4, d);
  gemmNN(bZ, bdA, WoutT, n, d, H4, d, H4, H4, false);
  const total = n * H4;
  for (let k = 0; k < total; k += 4) {
    const o = <usize>k << 2;
    v128.store(bZ + o, f32x4.mul(v128.load(bZ + o), v128.load(bD + o)));
  }
  gemmTN(G(oIn), mp, bZ, n, d, H4, d, H4, H4, false);
  transpose(WinT, W(oIn), d, H4);
  gemmNN(bdB, bZ, WinT, n, H4, d, H4, d, d, false);
  for (let i = 0; i < n; i++) {
    const g = row(bdB, i, d), g2 = row(bdA, i, d);
    if (lnOn) lnBack(g, row(bM, i, d), load<f32>(at(bInv1, i)), d, d);
    for (let k = 0; k < d; k += 4) v128.store(p32(g, k), f32x4.add(v128.load(p32(g, k)), v128.load(p32(g2, k))));
  }
}

/** Attention, per pair (ascending), from dr: the residual's dx_2 summed into tG2; dVO rows += w·dr;
 *  dS via the softmax Jacobian (tdS). */
function attendBack(): void {
  const n = nRows, d = ad, p = aP, hd = heads * d, ws = heads * 4, t2 = 2 * p;
  memory.fill(tdVO, 0, (<usize>NT * <usize>hd) << 2);
  memory.fill(tdS, 0, (<usize>NT * <usize>heads) << 2);
  memory.fill(tG2, 0, <usize>d << 2);
  for (let i = 0; i < n; i++) {
    const t0 = ld32(rA, i), t1 = p + ld32(rB, i);
    const g = row(bdB, i, d), wi = row(bW, i, ws);
    for (let k = 0; k < d; k += 4) v128.store(p32(tG2, k), f32x4.add(v128.load(p32(tG2, k)), v128.load(p32(g, k))));
    for (let h = 0; h < heads; h++) {
      const wh = at(wi, h * 4);
      const w0 = load<f32>(wh), w1 = load<f32>(wh, 4), w2 = load<f32>(wh, 8);
      const v0 = at(row(tVO, t0, hd), h * d), v1 = at(row(tVO, t1, hd), h * d), v2 = at(row(tVO, t2, hd), h * d);
      const u0 = at(row(tdVO, t0, hd), h * d), u1 = at(row(tdVO, t1, hd), h * d), u2 = at(row(tdVO, t2, hd), h * d);
      const a0 = f32x4.splat(w0), a1 = f32x4.splat(w1), a2 = f32x4.splat(w2);
      let q0 = f32x4.splat(0), q1 = f32x4.splat(0), q2 = f32x4.splat(0);
      for (let k = 0; k < d; k += 4) {
        const gv = v128.load(p32(g, k));
        q0 = madd(q0, gv, v128.load(p32(v0, k)));
        q1 = madd(q1, gv, v128.load(p32(v1, k)));
        q2 = madd(q2, gv, v128.load(p32(v2, k)));
        v128.store(p32(u0, k), madd(v128.load(p32(u0, k)), a0, gv));
        v128.store(p32(u1, k), madd(v128.load(p32(u1, k)), a1, gv));
        v128.store(p32(u2, k), madd(v128.load(p32(u2, k)), a2, gv));
      }
      const dw0 = hsum(q0), dw1 = hsum(q1), dw2 = hsum(q2);
      const sw = w0 * dw0 + w1 * dw1 + w2 * dw2;
      const s0 = at(tdS, t0 * heads + h), s1 = at(tdS, t1 * heads + h), s2 = at(tdS, t2 * heads + h);
      store<f32>(s0, load<f32>(s0) + w0 * (dw0 - sw));
      store<f32>(s1, load<f32>(s1) + w1 * (dw1 - sw));
      store<f32>(s2, load<f32>(s2) + w2 * (dw2 - sw));
    }
  }
}

/** The value path back through the tables: VO → dV and gWo per head, then gWv = X̂ᵀ·dV and tdX = dX̂ = dV·Wvᵀ. */
function valueBack(): void {
  const d = ad, hd = heads * d, xh = lnOn ? tXh : tX;
  transpose(WoT, W(oO), d, d);
  for (let h = 0; h < heads; h++) {
    gemmNN(at(tdV, h * dh), at(tdVO, h * d), at(WoT, h * dh), NT, d, dh, hd, d, d, false);
    gemmTN(row(G(oO), h * dh, d), at(tV, h * dh), at(tdVO, h * d), NT, dh, d, d, hd, d, false);
  }
  gemmTN(G(oV), xh, tdV, NT, d, d, d, d, d, false);
  transpose(WvT, W(oV), d, d);
  gemmNN(tdX, tdV, WvT, NT, d, d, d, d, d, false);
}

/** The score path (rank one per head, see the header): y_h = Σ_t c[t, h]·x̂_t (t ascending) and
 *  dx̂_t += Σ_h c[t, h]·κ_h; then the key and query side: gWk[r, h cols] = y_h[r]·q_h, dq_h = y_h·Wk[:, h cols]
 *  (r ascending), gWq = x̂_2ᵀ·dq, dx̂_2 += dq·Wqᵀ. */
function scoresBack(): void {
  const d = ad, hd = heads * d, t2 = 2 * aP, xh = lnOn ? tXh : tX;
  const scale: f32 = <f32>(1.0 / Math.sqrt(<f64>dh));
  memory.fill(tY, 0, <usize>hd << 2);
  for (let t = 0; t < NT; t++) {
    const xr = row(xh, t, d), dx = row(tdX, t, d);
    for (let h = 0; h < heads; h++) {
      const c = f32x4.splat(load<f32>(at(tdS, t * heads + h)) * scale);
      const y = row(tY, h, d), kap = row(tKap, h, d);
      for (let k = 0; k < d; k += 4) {
        v128.store(p32(y, k), madd(v128.load(p32(y, k)), c, v128.load(p32(xr, k))));
        v128.store(p32(dx, k), madd(v128.load(p32(dx, k)), c, v128.load(p32(kap, k))));
      }
    }
  }
  const Wk = W(oK), gK = G(oK);
  memory.fill(tdQ, 0, <usize>d << 2);
  for (let r = 0; r < d; r++) {
    const gr = row(gK, r, d), wr = row(Wk, r, d);
    for (let h = 0; h < heads; h++) {
      const yv = f32x4.splat(load<f32>(at(row(tY, h, d), r)));
      for (let k = h * dh; k < (h + 1) * dh; k += 4) {
        v128.store(p32(gr, k), f32x4.mul(yv, v128.load(p32(tQ, k))));
        v128.store(p32(tdQ, k), madd(v128.load(p32(tdQ, k)), yv, v128.load(p32(wr, k))));
      }
    }
  }
  gemmTN(G(oQ), row(xh, t2, d), tdQ, 1, d, d, d, d, d, false);
  transpose(WqT, W(oQ), d, d);
  gemmNN(row(tdX, t2, d), tdQ, WqT, 1, d, d, d, d, d, true);
}

/** The token rows' inputs: dX = LN'(dX̂), plus the residual's dx_2 (tG2); then the embeddings and
 *  positions, gE[t] = dX[a row t] + dX[b row t] (gE[p] = dx_2) and gP[pos] = the sum of its rows. */
function embedBack(): void {
  const d = ad, p = aP, t2 = 2 * p;
  if (lnOn) for (let t = 0; t < NT; t++) lnBack(row(tdX, t, d), row(tXh, t, d), load<f32>(at(tInv, t)), d, d);
  { const x2 = row(tdX, t2, d);
    for (let k = 0; k < d; k += 4) v128.store(p32(x2, k), f32x4.add(v128.load(p32(x2, k)), v128.load(p32(tG2, k)))); }
  const gE = G(oE), gP = G(oP);
  const gP0 = gP, gP1 = row(gP, 1, d), gP2 = row(gP, 2, d);
  memory.fill(gP0, 0, (<usize>2 * <usize>d) << 2);
  for (let t = 0; t < p; t++) {
    const x0 = row(tdX, t, d), x1 = row(tdX, p + t, d), e = row(gE, t, d);
    for (let k = 0; k < d; k += 4) {
      const a = v128.load(p32(x0, k)), b = v128.load(p32(x1, k));
      v128.store(p32(e, k), f32x4.add(a, b));
      v128.store(p32(gP0, k), f32x4.add(v128.load(p32(gP0, k)), a));
      v128.store(p32(gP1, k), f32x4.add(v128.load(p32(gP1, k)), b));
    }
  }
  memory.copy(row(gE, p, d), row(tdX, t2, d), <usize>d << 2);
  memory.copy(gP2, row(tdX, t2, d), <usize>d << 2);
}

/** Summed cross-entropy of n pairs; correct argmax predictions are tallied (xent.ts). */
export function attnEvalSet(pa: usize, pb: usize, py: usize, n: i32): f64 {
  let total: f64 = 0;
  for (let i0 = 0; i0 < n; i0 += EVAL_ROWS) {
    const m = min(EVAL_ROWS, n - i0), o = <usize>i0 << 2;
    attend(pa + o, pb + o, m, eW, eR);
    dense(m, eR, eM, eZ, 0, eR2, eF, eLG, eInv1, eInv2);
    total = scoreRows(total, eLG, py + o, m);
  }
  return total;
}

// total + the cross-entropy of n logit rows (rows ascending, one running sum), correct predictions tallied.
function scoreRows(total: f64, lg: usize, py: usize, n: i32): f64 {
  for (let i = 0; i < n; i++) {
    const r = row(lg, i, VP), y = ld32(py, i);
    total += <f64>xentRow(r, VP, y);
    tally(r, V, y);
  }
  return total;
}
