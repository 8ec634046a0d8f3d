// Estimators for the analysis: medians under right-censoring, OLS (plain, shared slope, log–log),
// percentile bootstrap, and the Tobit (right-censored normal) maximum-likelihood fit.
import { Rng } from "./rng.js";

/** Standard median: the middle value, or the average of the two middle values for even counts. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b),
    m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** An outcome that may be right-censored: t observed, or only known to exceed t (the budget). */
export interface Obs {
  t: number;
  censored: boolean;
}

export interface CensoredMedian {
  value: number;
  censored: boolean;
}

/**
 * Median with censored outcomes treated as +∞. When a middle order statistic is censored the median is
 * only bounded below: value is then the median with each censored outcome at its bound, censored = true.
 * (Odd n: censored iff fewer than half grokked; even n: also when exactly half did, since the upper
 * middle value is then censored.)
 */
export function censoredMedian(obs: readonly Obs[]): CensoredMedian {
  if (obs.length === 0) return { value: NaN, censored: true };
  const inf = median(obs.map((o) => (o.censored ? Infinity : o.t)));
  if (Number.isFinite(inf)) return { value: inf, censored: false };
  return { value: median(obs.map((o) => o.t)), censored: true };
}

export const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Sample standard deviation (n − 1 denominator). */
export function sd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

export interface Line {
  slope: number;
  intercept: number;
  r2: number;
  n: number;
}

/** Ordinary least squares y = intercept + slope·x. */
export function ols(x: readonly number[], y: readonly number[]): Line {
  const s = sharedSlope([{ x, y }]);
  return { slope: s.slope, intercept: s.intercepts[0], r2: s.r2, n: x.length };
}

export interface SharedFit {
  slope: number;
  intercepts: number[];
  r2: number;
  r2Within: number;
  sse: number;
  n: number;
}

/**
 * One slope with a free intercept per group (the within / fixed-effects estimator):
 * slope = Σ(x−x̄_g)(y−ȳ_g) / Σ(x−x̄_g)², intercept_g = ȳ_g − slope·x̄_g.
 * r2 is 1 − SSE/SST about the grand mean (the paper's "collapse R²"); r2Within uses group means.
 */
export function sharedSlope(groups: readonly { x: readonly number[]; y: readonly number[] }[]): SharedFit {
  let sxy = 0,
    sxx = 0,
    n = 0,
    sy = 0,
    syyWithin = 0;
  const means = groups.map(({ x, y }) => {
    if (x.length !== y.length || x.length === 0) throw new Error("sharedSlope: empty or ragged group");
    const mx = mean(x),
      my = mean(y);
    x.forEach((xi, i) => {
      sxy += (xi - mx) * (y[i] - my);
      sxx += (xi - mx) ** 2;
      syyWithin += (y[i] - my) ** 2;
    });
    n += x.length;
    sy += y.reduce((a, b) => a + b, 0);
    return [mx, my];
  });
  if (!(sxx > 0)) throw new Error("sharedSlope: x does not vary within any group");
  const slope = sxy / sxx,
    intercepts = means.map(([mx, my]) => my - slope * mx),
    gm = sy / n;
  let sse = 0,
    sst = 0;
  groups.forEach(({ x, y }, g) =>
    x.forEach((xi, i) => {
      sse += (y[i] - intercepts[g] - slope * xi) ** 2;
      sst += (y[i] - gm) ** 2;
    }),
  );
  return { slope, intercepts, r2: 1 - sse / sst, r2Within: 1 - sse / syyWithin, sse, n };
}

export interface PowerLaw {
  beta: number;
  c: number;
  r2: number;
  n: number;
}

/** y = c·x^β by least squares in log–log; r2 is that of the log–log line. */
export function powerLaw(x: readonly number[], y: readonly number[]): PowerLaw {
  if (![...x, ...y].every((v) => v > 0)) throw new Error("powerLaw: needs positive x and y");
  const l = ols(x.map(Math.log), y.map(Math.log));
  return { beta: l.slope, c: Math.exp(l.intercept), r2: l.r2, n: l.n };
}

/** Percentile of sorted data with linear interpolation between order statistics (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q,
    lo = Math.floor(h);
  return lo + 1 < sorted.length ? sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}

export interface BootCI {
  lo: number;
  hi: number;
  nUsed: number;
  nFailed: number;
}

/**
 * Percentile bootstrap interval at `level`: `stat` is evaluated on `reps` resamples drawn with rng;
 * it returns null when the estimator is undefined on a resample (such resamples are counted, not used).
 */
export function bootstrapCI(reps: number, rng: Rng, stat: (rng: Rng) => number | null, level = 0.95): BootCI {
  const vals: number[] = [];
  let nFailed = 0;
  for (let i = 0; i < reps; i++) {
    const v = stat(rng);
    if (v === null || !Number.isFinite(v)) nFailed++;
    else vals.push(v);
  }
  vals.sort((a, b) => a - b);
  if (vals.length === 0) return { lo: NaN, hi: NaN, nUsed: 0, nFailed };
  return { lo: quantile(vals, (1 - level) / 2), hi: quantile(vals, (1 + level) / 2), nUsed: vals.length, nFailed };
}

/** A resample with replacement of the same size. */
export function resample<T>(xs: readonly T[], rng: Rng): T[] {
  return xs.map(() => xs[rng.int(xs.length)]);
}

// ---- standard normal

const SQRT2PI = 2.5066282746310002;

/**
 * log Q(x) for x ≥ 0, Q = 1 − Φ, computed as −x²/2 + log(r) so that it never underflows: Hart's (1968)
 * rational approximation below 3 (as in West 2005, "Better approximations to cumulative normal
 * functions"; its relative error grows to 3e-9 by x = 7), Laplace's continued fraction above.
 * Both are good to ~1e-14 relative on their ranges.
 */
function logUpperTail(x: number): number {
  const e = -0.5 * x * x;
  if (x < 3) {
    let n = 3.52624965998911e-2 * x + 0.700383064443688;
    n = n * x + 6.37396220353165;
    n = n * x + 33.912866078383;
    n = n * x + 112.079291497871;
    n = n * x + 221.213596169931;
    n = n * x + 220.206867912376;
    let d = 8.83883476483184e-2 * x + 1.75566716318264;
    d = d * x + 16.064177579207;
    d = d * x + 86.7807322029461;
    d = d * x + 296.564248779674;
    d = d * x + 637.333633378831;
    d = d * x + 793.826512519948;
    d = d * x + 440.413735824752;
    return e + Math.log(n / d);
  }
  return e - Math.log(continuedFraction(x) * SQRT2PI);
}

/** φ(x)/Q(x) = x + 1/(x + 2/(x + 3/(x + …))); 60 terms reach double precision for x ≥ 2.5. */
function continuedFraction(x: number): number {
  let b = x;
  for (let k = 60; k >= 1; k--) b = x + k / b;
  return b;
}

/** log Φ(z), accurate in both tails. */
export function logPhi(z: number): number {
  return z < 0 ? logUpperTail(-z) : Math.log1p(-Math.exp(logUpperTail(z)));
}

export const Phi = (z: number): number => (z < 0 ? Math.exp(logUpperTail(-z)) : 1 - Math.exp(logUpperTail(z)));

/** φ(z)/Φ(z) (inverse Mills ratio), stable for very negative z. */
export function millsRatio(z: number): number {
  if (z <= -3) return continuedFraction(-z);
  return Math.exp(-0.5 * z * z - Math.log(SQRT2PI) - logPhi(z));
}

// ---- Tobit

export interface TobitFit {
  coef: number[];
  sigma: number;
  loglik: number;
  iterations: number;
}

/**
 * Maximum likelihood for y = X·b + ε, ε ~ N(0, σ²), where censored rows only tell y > y_i (right-
 * censoring at y_i). Newton's method in Olsen's parameters (γ = b/σ, θ = 1/σ), where the
 * log-likelihood is globally concave:
 *   observed:  log θ − ½(θy − xγ)² − ½log 2π,   censored:  log Φ(xγ − θy).
 * Returns null when the maximum does not exist or is not reached (e.g. a column of X that only
 * touches censored rows, whose coefficient runs off to +∞).
 */
export function tobit(X: readonly number[][], y: readonly number[], censored: readonly boolean[]): TobitFit | null {
  const n = y.length,
    k = X[0]?.length ?? 0,
    m = k + 1;
  const obs = censored.map((c, i) => (c ? -1 : i)).filter((i) => i >= 0);
  // X restricted to the observed rows must have full rank, with residual left over: then the maximum exists
  if (obs.length <= k) return null;
  const start = leastSquares(
    obs.map((i) => X[i]),
    obs.map((i) => y[i]),
  );
  if (start === null) return null;
  const res = obs.map((i) => y[i] - dot(X[i], start));
  const s0 = Math.sqrt(res.reduce((a, r) => a + r * r, 0) / obs.length);
  if (!(s0 > 0)) return null; // an exact fit: σ → 0, no maximum
  let psi = [...start.map((b) => b / s0), 1 / s0];

  const evaluate = (p: number[], withDerivs: boolean) => {
    const g = p.slice(0, k),
      th = p[k];
    if (!(th > 0)) return { ll: -Infinity, grad: [], hess: [] };
    let ll = 0;
    const grad = new Array(m).fill(0),
      hess = Array.from({ length: m }, () => new Array(m).fill(0));
    for (let i = 0; i < n; i++) {
      const xg = dot(X[i], g);
      // d = ∂(argument)/∂ψ; term curvature c: hess += c·d dᵀ
      let w: number, c: number;
      const d = [...X[i], 0];
      if (censored[i]) {
        const z = xg - th * y[i];
        ll += logPhi(z);
        if (!withDerivs) continue;
        const lam = millsRatio(z);
        d[k] = -y[i];
        w = lam;
        c = -lam * (z + lam);
      } else {
        const r = th * y[i] - xg;
        ll += Math.log(th) - 0.5 * r * r - 0.5 * Math.log(2 * Math.PI);
        if (!withDerivs) continue;
        // −½r² with r = θy − xγ: gradient r·(x, −y), curvature −1; log θ is added directly
        d[k] = -y[i];
        w = r;
        c = -1;
        grad[k] += 1 / th;
        hess[k][k] -= 1 / (th * th);
      }
      for (let a = 0; a < m; a++) {
        grad[a] += w * d[a];
        for (let b = 0; b < m; b++) hess[a][b] += c * d[a] * d[b];
      }
    }
    return { ll, grad, hess };
  };

  let cur = evaluate(psi, true);
  for (let it = 1; it <= 100; it++) {
    const step = solve(
      cur.hess.map((row) => row.map((v) => -v)),
      cur.grad,
    );
    if (step === null) return null;
    let t = 1,
      next = psi.map((v, i) => v + step[i]),
      trial = evaluate(next, false);
    while (!(trial.ll >= cur.ll - 1e-12) && t > 1e-10) {
      t /= 2;
      next = psi.map((v, i) => v + t * step[i]);
      trial = evaluate(next, false);
    }
    if (!(trial.ll >= cur.ll - 1e-12)) return null;
    const decrement = step.reduce((a, s, i) => a + s * cur.grad[i], 0); // Newton decrement²
    psi = next;
    cur = evaluate(psi, true);
    if (decrement < 1e-12 * Math.max(1, Math.abs(cur.ll))) {
      const th = psi[k];
      if (!psi.every(Number.isFinite) || Math.abs(th) < 1e-12) return null;
      return { coef: psi.slice(0, k).map((v) => v / th), sigma: 1 / th, loglik: cur.ll, iterations: it };
    }
  }
  return null;
}

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

/** Least squares via the normal equations (small, well-conditioned designs only). */
export function leastSquares(X: readonly number[][], y: readonly number[]): number[] | null {
  const k = X[0]?.length ?? 0;
  const A = Array.from({ length: k }, (_, a) =>
    Array.from({ length: k }, (_, b) => X.reduce((s, r) => s + r[a] * r[b], 0)),
  );
  const v = Array.from({ length: k }, (_, a) => X.reduce((s, r, i) => s + r[a] * y[i], 0));
  return solve(A, v);
}

/** Solves A·x = b by Gaussian elimination with partial pivoting; null if A is singular. */
export function solve(A: readonly number[][], b: readonly number[]): number[] | null {
  const n = b.length,
    M = A.map((r, i) => [...r, b[i]]);
  const scale = Math.max(...A.map((r) => Math.max(...r.map(Math.abs))));
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    if (!(Math.abs(M[p][c]) > 1e-13 * scale)) return null;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let j = c; j <= n; j++) M[r][j] -= f * M[c][j];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let j = r + 1; j < n; j++) s -= M[r][j] * x[j];
    x[r] = s / M[r][r];
  }
  return x;
}
