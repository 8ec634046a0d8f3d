// Spectral observables of the embedding E (p × d) at logged steps, behind --observe (off by
// default: they cost milliseconds per logged step, in float64 JS):
//   spectral entropy H = −Σ pᵢ ln pᵢ of E's singular values (pᵢ = σᵢ / Σσ), effective rank exp(H);
//   Fourier Gini: the Gini coefficient of E's power over the p frequencies of the token axis
//   (0 = spread evenly, → 1 = concentrated on a few frequencies, as in grokked modular addition).

export const OBSERVABLES = ["spectral", "fourier", "eff-lr", "logits", "nanda"] as const;
export type Observable = (typeof OBSERVABLES)[number];

/** Eigenvalues of a symmetric n × n matrix (row-major, float64) by cyclic Jacobi rotations. */
export function symEigenvalues(a: Float64Array, n: number, tol = 1e-13): Float64Array {
  const A = Float64Array.from(a);
  const off = () => {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += A[i * n + j] ** 2;
    return s;
  };
  const scale = Math.max(
    1e-300,
    A.reduce((s, x) => s + x * x, 0),
  );
  for (let sweep = 0; sweep < 100 && off() > tol * tol * scale; sweep++) {
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        const theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < n; k++) {
          // A ← Jᵀ A J, columns then rows
          const akp = A[k * n + p],
            akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k],
            aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Float64Array.from({ length: n }, (_, i) => A[i * n + i]).sort((x, y) => y - x);
}

/** Singular values of E (p × d, row-major), largest first, from the smaller Gram matrix. */
export function singularValues(E: ArrayLike<number>, p: number, d: number): Float64Array {
  const rows = p <= d,
    n = rows ? p : d,
    G = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      if (rows) for (let k = 0; k < d; k++) s += E[i * d + k] * E[j * d + k];
      else for (let k = 0; k < p; k++) s += E[k * d + i] * E[k * d + j];
      G[i * n + j] = G[j * n + i] = s;
    }
  }
  return symEigenvalues(G, n).map((l) => Math.sqrt(Math.max(l, 0)));
}

/** H = −Σ pᵢ ln pᵢ with pᵢ = σᵢ² / Σσ² (the paper's runners, PROTOCOL.md), effective rank exp(H). */
export function spectralEntropy(sv: ArrayLike<number>): { entropy: number; effectiveRank: number } {
  let total = 0;
  for (let i = 0; i < sv.length; i++) total += sv[i] * sv[i];
  let h = 0;
  for (let i = 0; i < sv.length; i++) {
    const q = (sv[i] * sv[i]) / total;
    if (q > 0) h -= q * Math.log(q);
  }
  return { entropy: h, effectiveRank: Math.exp(h) };
}

/** Gini coefficient of non-negative values: Σ(2i − n − 1)·x₍ᵢ₎ / (n·Σx), x sorted ascending. */
export function gini(xs: ArrayLike<number>): number {
  const s = Array.from(xs).sort((a, b) => a - b),
    n = s.length,
    total = s.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return 0;
  return s.reduce((acc, x, i) => acc + (2 * (i + 1) - n - 1) * x, 0) / (n * total);
}

/** Gini of P_k = Σ_j |Σ_a E[a, j]·e^{−2πi·k·a/p}|² over the rfft bins k = 1 … ⌊p/2⌋ (PROTOCOL.md: the
 *  constant k = 0 dropped, each mirrored pair counted once). */
export function fourierGini(E: ArrayLike<number>, p: number, d: number): number {
  return gini(fourierPower(E, p, d));
}

/** E's Fourier power per rfft bin, P_k for k = 1 … ⌊p/2⌋ (index k − 1). */
export function fourierPower(E: ArrayLike<number>, p: number, d: number): Float64Array {
  const power = new Float64Array(Math.floor(p / 2)),
    cos = new Float64Array(p),
    sin = new Float64Array(p);
  for (let m = 0; m < p; m++) {
    cos[m] = Math.cos((2 * Math.PI * m) / p);
    sin[m] = Math.sin((2 * Math.PI * m) / p);
  }
  for (let k = 1; k <= power.length; k++) {
    for (let j = 0; j < d; j++) {
      let re = 0,
        im = 0;
      for (let a = 0; a < p; a++) {
        const m = (k * a) % p,
          x = E[a * d + j];
        re += x * cos[m];
        im -= x * sin[m];
      }
      power[k - 1] += re * re + im * im;
    }
  }
  return power;
}

export interface Observed {
  spectral_entropy?: number;
  effective_rank?: number;
  fourier_gini?: number;
  spec_entropy_W2?: number;
  /** --observe eff-lr: effLr of ‖W‖'s span and of each norm group, over the step after the logged one */
  eff_lr?: number;
  eff_lr_embed?: number;
  eff_lr_attn?: number;
  eff_lr_mlp?: number;
  eff_lr_unembed?: number;
  /** --observe logits: over the train rows' logits s = z/τ (logitMeasures) */
  logit_scale?: number;
  frac_saturated?: number;
  softmax_collapse?: number;
  zero_loss_frac?: number;
  /** --observe nanda (src/nanda.ts) */
  restricted_loss?: number;
  excluded_loss?: number;
}

/** Measures of the train rows' logits s = z/τ (n rows of `stride` floats, `classes` real ones, labels y):
 *  logit_scale = mean ‖s‖₂; frac_saturated = the fraction with max softmax > 0.999 (float64); and, in
 *  float32 as the loss is computed (Prieto et al. 2025), softmax_collapse = the fraction whose
 *  Σⱼ exp(sⱼ − max s) == 1, zero_loss_frac = the fraction whose cross-entropy ln Σ + max − s_y == 0. */
export function logitMeasures(lg: Float32Array, n: number, stride: number, classes: number, y: Int32Array): Observed {
  const f = Math.fround;
  let scale = 0,
    sat = 0,
    sc = 0,
    zero = 0;
  for (let i = 0; i < n; i++) {
    const r = lg.subarray(i * stride, i * stride + classes);
    let mx = -Infinity,
      ss = 0;
    for (const x of r) ((mx = Math.max(mx, x)), (ss += x * x));
    let s64 = 0,
      s32 = 0;
    for (const x of r) ((s64 += Math.exp(x - mx)), (s32 = f(s32 + f(Math.exp(f(x - mx))))));
    scale += Math.sqrt(ss);
    if (1 / s64 > 0.999) sat++;
    if (s32 === 1) sc++;
    if (f(f(f(Math.log(s32)) + mx) - r[y[i]]) === 0) zero++;
  }
  return { logit_scale: scale / n, frac_saturated: sat / n, softmax_collapse: sc / n, zero_loss_frac: zero / n };
}

/** The effective learning rate of one parameter span (the paper's dissociation analysis), in float64:
 *  ‖θ(t+1) − θ(t)‖ / ‖θ(t)‖ over [lo, hi); NaN for an empty or all-zero span. */
export function effLr(before: Float32Array, after: Float32Array, lo: number, hi: number): number {
  let dd = 0,
    nn = 0;
  for (let i = lo; i < hi; i++) {
    const b = before[i],
      e = after[i] - b;
    dd += e * e;
    nn += b * b;
  }
  return nn > 0 ? Math.sqrt(dd / nn) : NaN;
}

/** The --observe measures of E (p × d) and, for spectral, of the readout W2 (rows × cols: H × p). */
export function observe(
  E: Float32Array,
  p: number,
  d: number,
  what: readonly Observable[],
  W2?: { x: Float32Array; rows: number; cols: number },
): Observed {
  const out: Observed = {};
  if (what.includes("spectral")) {
    const { entropy, effectiveRank } = spectralEntropy(singularValues(E, p, d));
    out.spectral_entropy = entropy;
    out.effective_rank = effectiveRank;
    if (W2) out.spec_entropy_W2 = spectralEntropy(singularValues(W2.x, W2.rows, W2.cols)).entropy;
  }
  if (what.includes("fourier")) out.fourier_gini = fourierGini(E, p, d);
  return out;
}
