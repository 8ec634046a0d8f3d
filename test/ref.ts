// A plain float64 reference of the paper's MLP, written from PROTOCOL.md with the first layer in its
// plain form x·W1 (x = [E_a ; E_b]) — an independent check of the wasm kernels' structured version.
import type { Params } from "../src/engine.js";

export interface RefModel {
  p: number;
  d: number;
  H: number;
  act: "gelu" | "relu" | "quad";
  layernorm: boolean;
}
export type P64 = { E: Float64Array; W1: Float64Array; b1: Float64Array; W2: Float64Array; b2: Float64Array };

export const to64 = (w: Params): P64 => ({
  E: Float64Array.from(w.E),
  W1: Float64Array.from(w.W1),
  b1: Float64Array.from(w.b1),
  W2: Float64Array.from(w.W2),
  b2: Float64Array.from(w.b2),
});

/** erf in float64: Taylor series for |x| ≤ 2.5, continued fraction for erfc beyond (≈1e-15). */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax <= 2.5) {
    let term = ax,
      sum = ax;
    for (let n = 1; n < 80; n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let t = ax;
  for (let k = 80; k >= 1; k--) t = ax + k / 2 / t;
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / t);
}

export const gelu64 = (z: number) => 0.5 * z * (1 + erf64(z / Math.SQRT2));
export const geluGrad64 = (z: number) =>
  0.5 * (1 + erf64(z / Math.SQRT2)) + (z * Math.exp(-0.5 * z * z)) / Math.sqrt(2 * Math.PI);

function act(m: RefModel, z: number): [number, number] {
  if (m.act === "gelu") return [gelu64(z), geluGrad64(z)];
  if (m.act === "relu") return [Math.max(z, 0), z > 0 ? 1 : 0];
  return [z * z, 2 * z];
}

/** Mean cross-entropy over pairs (a[i], b[i]) → labels y[i], with its gradient when wanted. */
export function lossAndGrad(
  m: RefModel,
  w: P64,
  a: Int32Array,
  b: Int32Array,
  y: Int32Array,
  wantGrad = true,
): { loss: number; acc: number; grad?: P64 } {
  const { p, d, H } = m,
    n = a.length;
  const g: P64 = {
    E: new Float64Array(p * d),
    W1: new Float64Array(2 * d * H),
    b1: new Float64Array(H),
    W2: new Float64Array(H * p),
    b2: new Float64Array(p),
  };
  let loss = 0,
    correct = 0;
  const z = new Float64Array(H),
    h = new Float64Array(H),
    da = new Float64Array(H),
    u = new Float64Array(H);
  const lg = new Float64Array(p),
    dh = new Float64Array(H),
    x = new Float64Array(2 * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      x[j] = w.E[a[i] * d + j];
      x[d + j] = w.E[b[i] * d + j];
    }
    for (let k = 0; k < H; k++) {
      let s = w.b1[k];
      for (let j = 0; j < 2 * d; j++) s += x[j] * w.W1[j * H + k];
      z[k] = s;
      [h[k], da[k]] = act(m, s);
    }
    let inv = 1;
    if (m.layernorm) {
      const mu = h.reduce((s, v) => s + v, 0) / H;
      const vr = h.reduce((s, v) => s + (v - mu) ** 2, 0) / H;
      inv = 1 / Math.sqrt(vr + 1e-5);
      for (let k = 0; k < H; k++) u[k] = (h[k] - mu) * inv;
    } else u.set(h);
    let mx = -Infinity,
      best = 0;
    for (let c = 0; c < p; c++) {
      let s = w.b2[c];
      for (let k = 0; k < H; k++) s += u[k] * w.W2[k * p + c];
      lg[c] = s;
      if (s > mx) {
        mx = s;
        best = c;
      }
    }
    const se = lg.reduce((s, v) => s + Math.exp(v - mx), 0);
    loss += Math.log(se) + mx - lg[y[i]];
    if (best === y[i]) correct++;
    if (!wantGrad) continue;
    // backward
    for (let c = 0; c < p; c++) {
      const dl = (Math.exp(lg[c] - mx) / se - (c === y[i] ? 1 : 0)) / n;
      g.b2[c] += dl;
      for (let k = 0; k < H; k++) g.W2[k * p + c] += u[k] * dl;
      lg[c] = dl;
    }
    for (let k = 0; k < H; k++) {
      let s = 0;
      for (let c = 0; c < p; c++) s += lg[c] * w.W2[k * p + c];
      dh[k] = s;
    }
    if (m.layernorm) {
      const mg = dh.reduce((s, v) => s + v, 0) / H;
      const mgu = dh.reduce((s, v, k) => s + v * u[k], 0) / H;
      for (let k = 0; k < H; k++) dh[k] = inv * (dh[k] - mg - u[k] * mgu);
    }
    for (let k = 0; k < H; k++) {
      const dz = dh[k] * da[k];
      g.b1[k] += dz;
      for (let j = 0; j < 2 * d; j++) g.W1[j * H + k] += x[j] * dz;
      for (let j = 0; j < d; j++) {
        g.E[a[i] * d + j] += w.W1[j * H + k] * dz;
        g.E[b[i] * d + j] += w.W1[(d + j) * H + k] * dz;
      }
    }
  }
  return { loss: loss / n, acc: correct / n, grad: wantGrad ? g : undefined };
}

/** Relative L2 distance ‖x − y‖ / ‖y‖. */
export function relErr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < y.length; i++) {
    num += (x[i] - y[i]) ** 2;
    den += y[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

/** The MLP family without an embedding, in float64: z = X·W1 (+ b1), act, optional LayerNorm,
 *  o = h·W2 (+ b2); loss: cross-entropy, or squared error to the centred one-hot target
 *  (Σ over classes, mean over rows). Tian's network: X = [onehot(a) ; onehot(b)], no biases;
 *  sparse parity: X = the ±1 bits. */
export interface DenseModel {
  inW: number;
  H: number;
  C: number;
  act: "gelu" | "relu" | "quad";
  layernorm: boolean;
  loss: "ce" | "mse" | "stablemax";
  bias: boolean;
}
export type D64 = { W1: Float64Array; W2: Float64Array; b1?: Float64Array; b2?: Float64Array };

export function denseLossAndGrad(
  m: DenseModel,
  w: D64,
  X: ArrayLike<number>,
  y: Int32Array,
): { loss: number; acc: number; grad: D64 } {
  const { inW, H, C } = m,
    n = y.length;
  const g: D64 = {
    W1: new Float64Array(inW * H),
    W2: new Float64Array(H * C),
    ...(m.bias ? { b1: new Float64Array(H), b2: new Float64Array(C) } : {}),
  };
  const z = new Float64Array(H),
    h = new Float64Array(H),
    da = new Float64Array(H),
    u = new Float64Array(H),
    o = new Float64Array(C),
    dh = new Float64Array(H);
  let loss = 0,
    correct = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < H; k++) {
      let s = m.bias ? w.b1![k] : 0;
      for (let j = 0; j < inW; j++) s += X[i * inW + j] * w.W1[j * H + k];
      z[k] = s;
      [h[k], da[k]] = act({ p: 0, d: 0, H, act: m.act, layernorm: false }, s);
    }
    let inv = 1;
    if (m.layernorm) {
      const mu = h.reduce((s, v) => s + v, 0) / H,
        vr = h.reduce((s, v) => s + (v - mu) ** 2, 0) / H;
      inv = 1 / Math.sqrt(vr + 1e-5);
      for (let k = 0; k < H; k++) u[k] = (h[k] - mu) * inv;
    } else u.set(h);
    let best = 0;
    for (let c = 0; c < C; c++) {
      let s = m.bias ? w.b2![c] : 0;
      for (let k = 0; k < H; k++) s += u[k] * w.W2[k * C + c];
      o[c] = s;
      if (s > o[best]) best = c;
    }
    if (best === y[i]) correct++;
    if (m.loss === "mse") {
      for (let c = 0; c < C; c++) {
        const e = o[c] - ((c === y[i] ? 1 : 0) - 1 / C);
        loss += e * e;
        o[c] = (2 * e) / n;
      }
    } else if (m.loss === "stablemax") {
      // s(x) = x + 1 (x ≥ 0), 1/(1 − x) (x < 0); L = ln Σ s(o) − ln s(o_y) (Prieto et al. 2025)
      const sm = (x: number) => (x >= 0 ? x + 1 : 1 / (1 - x)),
        ds = (x: number) => (x >= 0 ? 1 : 1 / (1 - x) ** 2);
      const S = o.reduce((t, v) => t + sm(v), 0),
        yv = o[y[i]];
      loss += Math.log(S) - Math.log(sm(yv));
      for (let c = 0; c < C; c++) o[c] = (ds(o[c]) / S - (c === y[i] ? ds(yv) / sm(yv) : 0)) / n;
    } else {
      const mx = Math.max(...o),
        se = o.reduce((s, v) => s + Math.exp(v - mx), 0);
      loss += Math.log(se) + mx - o[y[i]];
      for (let c = 0; c < C; c++) o[c] = (Math.exp(o[c] - mx) / se - (c === y[i] ? 1 : 0)) / n;
    }
    for (let c = 0; c < C; c++) {
      if (g.b2) g.b2[c] += o[c];
      for (let k = 0; k < H; k++) g.W2[k * C + c] += u[k] * o[c];
    }
    for (let k = 0; k < H; k++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += o[c] * w.W2[k * C + c];
      dh[k] = s;
    }
    if (m.layernorm) {
      const mg = dh.reduce((s, v) => s + v, 0) / H,
        mgu = dh.reduce((s, v, k) => s + v * u[k], 0) / H;
      for (let k = 0; k < H; k++) dh[k] = inv * (dh[k] - mg - u[k] * mgu);
    }
    for (let k = 0; k < H; k++) {
      const dz = dh[k] * da[k];
      if (g.b1) g.b1[k] += dz;
      for (let j = 0; j < inW; j++) g.W1[j * H + k] += X[i * inW + j] * dz;
    }
  }
  return { loss: loss / n, acc: correct / n, grad: g };
}

/** Tian's input rows [onehot(a) ; onehot(b)] (n × 2p). */
export function oneHotPairs(p: number, a: Int32Array, b: Int32Array): Float64Array {
  const X = new Float64Array(a.length * 2 * p);
  for (let i = 0; i < a.length; i++) {
    X[i * 2 * p + a[i]] = 1;
    X[i * 2 * p + p + b[i]] = 1;
  }
  return X;
}

/** Muon's Newton–Schulz map in float64 (R ≤ C): X ← X/(‖X‖_F + 1e-7); steps × (A = XXᵀ, B = bA + cA², X = aX + BX). */
const [a, b, c] = [3.4445, -4.775, 2.0315];

/** The same map in float64: X ← X/(‖X‖_F + 1e-7); steps × (A = XXᵀ, B = bA + cA², X = aX + BX). */
export function nsRef(X0: ArrayLike<number>, R: number, C: number, steps: number): Float64Array {
  let X = Float64Array.from(X0);
  const norm = Math.sqrt(X.reduce((s, v) => s + v * v, 0)) + 1e-7;
  X = X.map((v) => v / norm);
  for (let s = 0; s < steps; s++) {
    const A = new Float64Array(R * R),
      B = new Float64Array(R * R),
      Y = new Float64Array(R * C);
    for (let i = 0; i < R; i++)
      for (let j = 0; j < R; j++) {
        let t = 0;
        for (let k = 0; k < C; k++) t += X[i * C + k] * X[j * C + k];
        A[i * R + j] = t;
      }
    for (let i = 0; i < R; i++)
      for (let j = 0; j < R; j++) {
        let t = 0;
        for (let k = 0; k < R; k++) t += A[i * R + k] * A[k * R + j];
        B[i * R + j] = b * A[i * R + j] + c * t;
      }
    for (let i = 0; i < R; i++)
      for (let j = 0; j < C; j++) {
        let t = 0;
        for (let k = 0; k < R; k++) t += B[i * R + k] * X[k * C + j];
        Y[i * C + j] = a * X[i * C + j] + t;
      }
    X = Y;
  }
  return X;
}
