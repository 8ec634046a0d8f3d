// A plain float64 reference of the attention model (PROTOCOL.md "Second architecture"; assembly/attn.ts),
// written per pair from the direct formulas — no token tables — with hand-derived analytic gradients,
// and a float64 AdamW step. Tensors are row-major and unpadded (x·W convention: rows are inputs).
import { erf64 } from "./ref.js";

export interface AttnModel {
  p: number;
  d: number;
  H: number;
  heads: number;
  layernorm: boolean;
}
export const ATTN_TENSORS = ["E", "P", "Wq", "Wk", "Wv", "Wo", "Win", "Wout", "U"] as const;
export type AttnName = (typeof ATTN_TENSORS)[number];
export type AttnParams = Record<AttnName, Float64Array>;

/** Shapes (rows × cols) of the tensors; V = p + 1. */
export function attnShapes(m: AttnModel): Record<AttnName, [number, number]> {
  const { p, d, H } = m,
    V = p + 1;
  return { E: [V, d], P: [3, d], Wq: [d, d], Wk: [d, d], Wv: [d, d], Wo: [d, d], Win: [d, H], Wout: [H, d], U: [d, V] };
}

export function zerosLike(m: AttnModel): AttnParams {
  const s = attnShapes(m),
    out = {} as AttnParams;
  for (const t of ATTN_TENSORS) out[t] = new Float64Array(s[t][0] * s[t][1]);
  return out;
}

const gelu = (z: number) => 0.5 * z * (1 + erf64(z / Math.SQRT2));
const geluGrad = (z: number) =>
  0.5 * (1 + erf64(z / Math.SQRT2)) + (z * Math.exp(-0.5 * z * z)) / Math.sqrt(2 * Math.PI);

/** y = x·W for x (length r) and W (r × c). */
function vecMat(x: Float64Array, W: Float64Array, r: number, c: number): Float64Array {
  const y = new Float64Array(c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) y[j] += x[i] * W[i * c + j];
  return y;
}
/** y = W·g for W (r × c) and g (length c): the backward of x·W with respect to x. */
function matVec(W: Float64Array, g: Float64Array, r: number, c: number): Float64Array {
  const y = new Float64Array(r);
  for (let i = 0; i < r; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += W[i * c + j] * g[j];
    y[i] = s;
  }
  return y;
}
/** G += x ⊗ g. */
function outer(G: Float64Array, x: Float64Array, g: Float64Array): void {
  const c = g.length;
  for (let i = 0; i < x.length; i++) for (let j = 0; j < c; j++) G[i * c + j] += x[i] * g[j];
}
function ln(x: Float64Array): { y: Float64Array; inv: number } {
  const n = x.length,
    mu = x.reduce((s, v) => s + v, 0) / n;
  const vr = x.reduce((s, v) => s + (v - mu) ** 2, 0) / n,
    inv = 1 / Math.sqrt(vr + 1e-5);
  return { y: x.map((v) => (v - mu) * inv), inv };
}
function lnBack(g: Float64Array, y: Float64Array, inv: number): Float64Array {
  const n = g.length,
    mg = g.reduce((s, v) => s + v, 0) / n,
    mgy = g.reduce((s, v, k) => s + v * y[k], 0) / n;
  return g.map((v, k) => inv * (v - mg - y[k] * mgy));
}

/** Mean cross-entropy over pairs (a[i], b[i]) → y[i]; accuracy (argmax, ties → lowest); gradient when wanted. */
export function attnLossAndGrad(
  m: AttnModel,
  w: AttnParams,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  y: ArrayLike<number>,
  wantGrad = true,
): { loss: number; acc: number; grad?: AttnParams } {
  const { p, d, H, heads } = m,
    V = p + 1,
    dh = d / heads,
    sc = 1 / Math.sqrt(dh),
    n = a.length;
  const g = zerosLike(m);
  let loss = 0,
    correct = 0;
  for (let i = 0; i < n; i++) {
    const tok = [a[i], b[i], p];
    const x = tok.map((t, j) => {
      const v = new Float64Array(d);
      for (let k = 0; k < d; k++) v[k] = w.E[t * d + k] + w.P[j * d + k];
      return v;
    });
    const lx = x.map((v) => (m.layernorm ? ln(v) : { y: v, inv: 1 }));
    const xh = lx.map((l) => l.y);
    const q = vecMat(xh[2], w.Wq, d, d);
    const k = xh.map((v) => vecMat(v, w.Wk, d, d)),
      v = xh.map((u) => vecMat(u, w.Wv, d, d));
    const att: number[][] = [],
      o = new Float64Array(d);
    for (let h = 0; h < heads; h++) {
      const s = [0, 1, 2].map((j) => {
        let t = 0;
        for (let c = h * dh; c < (h + 1) * dh; c++) t += q[c] * k[j][c];
        return t * sc;
      });
      const mx = Math.max(...s),
        e = s.map((t) => Math.exp(t - mx)),
        se = e[0] + e[1] + e[2];
      const wh = e.map((t) => t / se);
      att.push(wh);
      for (let c = h * dh; c < (h + 1) * dh; c++) o[c] = wh[0] * v[0][c] + wh[1] * v[1][c] + wh[2] * v[2][c];
    }
    const ow = vecMat(o, w.Wo, d, d),
      r = x[2].map((t, c) => t + ow[c]);
    const lm = m.layernorm ? ln(r) : { y: r, inv: 1 },
      mm = lm.y;
    const z = vecMat(mm, w.Win, d, H),
      u = z.map(gelu);
    const uw = vecMat(u, w.Wout, H, d),
      r2 = r.map((t, c) => t + uw[c]);
    const lf = m.layernorm ? ln(r2) : { y: r2, inv: 1 },
      f = lf.y;
    const lg = vecMat(f, w.U, d, V);
    let mx = -Infinity,
      best = 0;
    for (let c = 0; c < V; c++)
      if (lg[c] > mx) {
        mx = lg[c];
        best = c;
      }
    const se = lg.reduce((s, t) => s + Math.exp(t - mx), 0);
    loss += Math.log(se) + mx - lg[y[i]];
    if (best === y[i]) correct++;
    if (!wantGrad) continue;
    // backward
    const dl = lg.map((t, c) => (Math.exp(t - mx) / se - (c === y[i] ? 1 : 0)) / n);
    outer(g.U, f, dl);
    const df = matVec(w.U, dl, d, V);
    const dr2 = m.layernorm ? lnBack(df, f, lf.inv) : df;
    outer(g.Wout, u, dr2);
    const du = matVec(w.Wout, dr2, H, d),
      dz = du.map((t, c) => t * geluGrad(z[c]));
    outer(g.Win, mm, dz);
    const dm = matVec(w.Win, dz, d, H),
      dmr = m.layernorm ? lnBack(dm, mm, lm.inv) : dm;
    const dr = dr2.map((t, c) => t + dmr[c]);
    outer(g.Wo, o, dr);
    const dO = matVec(w.Wo, dr, d, d);
    const dq = new Float64Array(d),
      dk = [0, 1, 2].map(() => new Float64Array(d)),
      dv = [0, 1, 2].map(() => new Float64Array(d));
    for (let h = 0; h < heads; h++) {
      const wh = att[h];
      const dw = [0, 1, 2].map((j) => {
        let t = 0;
        for (let c = h * dh; c < (h + 1) * dh; c++) t += dO[c] * v[j][c];
        return t;
      });
      const sw = wh[0] * dw[0] + wh[1] * dw[1] + wh[2] * dw[2];
      for (let j = 0; j < 3; j++) {
        const ds = wh[j] * (dw[j] - sw) * sc;
        for (let c = h * dh; c < (h + 1) * dh; c++) {
          dv[j][c] = wh[j] * dO[c];
          dq[c] += ds * k[j][c];
          dk[j][c] = ds * q[c];
        }
      }
    }
    outer(g.Wq, xh[2], dq);
    for (let j = 0; j < 3; j++) {
      outer(g.Wk, xh[j], dk[j]);
      outer(g.Wv, xh[j], dv[j]);
      const dkx = matVec(w.Wk, dk[j], d, d),
        dvx = matVec(w.Wv, dv[j], d, d);
      let dxh = dkx.map((t, c) => t + dvx[c]);
      if (j === 2) {
        const dqx = matVec(w.Wq, dq, d, d);
        dxh = dxh.map((t, c) => t + dqx[c]);
      }
      const dx = m.layernorm ? lnBack(dxh, xh[j], lx[j].inv) : dxh;
      for (let c = 0; c < d; c++) {
        const t = dx[c] + (j === 2 ? dr[c] : 0);
        g.E[tok[j] * d + c] += t;
        g.P[j * d + c] += t;
      }
    }
  }
  return { loss: loss / n, acc: correct / n, grad: wantGrad ? g : undefined };
}

export interface AdamState {
  m: AttnParams;
  v: AttnParams;
  t: number;
}
export function adamState(m: AttnModel): AdamState {
  return { m: zerosLike(m), v: zerosLike(m), t: 0 };
}

/** One AdamW step in float64 (decoupled decay θ ← θ(1 − ηλ) on every tensor, then Adam with bias
 *  corrections). */
export function adamwStep(
  w: AttnParams,
  g: AttnParams,
  s: AdamState,
  lr: number,
  wd: number,
  b1 = 0.9,
  b2 = 0.999,
  eps = 1e-8,
): void {
  s.t++;
  const bc1 = 1 - Math.pow(b1, s.t),
    bc2 = 1 - Math.pow(b2, s.t);
  for (const name of ATTN_TENSORS) {
    const th = w[name],
      gr = g[name],
      m = s.m[name],
      v = s.v[name];
    for (let i = 0; i < th.length; i++) {
      th[i] *= 1 - lr * wd;
      m[i] = b1 * m[i] + (1 - b1) * gr[i];
      v[i] = b2 * v[i] + (1 - b2) * gr[i] * gr[i];
      th[i] -= (lr * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + eps);
    }
  }
}

/** ‖θ‖ over all tensors. */
export function attnNorm(w: AttnParams): number {
  let s = 0;
  for (const t of ATTN_TENSORS) for (const x of w[t]) s += x * x;
  return Math.sqrt(s);
}
