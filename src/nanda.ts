// Nanda et al.'s progress measures (ICLR 2023, "Progress measures for grokking via mechanistic
// interpretability") for modular addition: over all p² pairs, each class's logits as a function of (a, b)
// split into their projection onto cos/sin ωₖ(a + b), k in the key frequencies K, and the rest; the
// restricted loss is the train loss of the projection alone, the excluded loss that of the rest.
import { fourierPower } from "./observe.js";

/** The |K| = n bins k (1 … ⌊p/2⌋) of largest Fourier power of E, ascending. */
export function keyFrequencies(E: ArrayLike<number>, p: number, d: number, n = 5): number[] {
  const P = fourierPower(E, p, d);
  return [...P.keys()]
    .sort((i, j) => P[j] - P[i] || i - j)
    .slice(0, n)
    .map((i) => i + 1)
    .sort((a, b) => a - b);
}

/** Mean cross-entropy (float64) of the rows `rows` of logits Z (row r at r·stride, `classes` real ones). */
function xent(Z: Float64Array, stride: number, classes: number, rows: Int32Array, y: Int32Array): number {
  let total = 0;
  rows.forEach((r, i) => {
    let mx = -Infinity,
      s = 0;
    for (let c = 0; c < classes; c++) mx = Math.max(mx, Z[r * stride + c]);
    for (let c = 0; c < classes; c++) s += Math.exp(Z[r * stride + c] - mx);
    total += Math.log(s) + mx - Z[r * stride + y[i]];
  });
  return total / rows.length;
}

/** L: the logits of every pair, row a·p + b (stride floats, p classes); train: the train pairs' indices a·p + b,
 *  y their labels. Restricted and excluded train loss for the key frequencies K. */
export function progressMeasures(
  L: ArrayLike<number>,
  p: number,
  stride: number,
  K: readonly number[],
  train: Int32Array,
  y: Int32Array,
): { restricted_loss: number; excluded_loss: number } {
  const n = p * p,
    R = new Float64Array(n * stride),
    X = Float64Array.from(L);
  for (const k of K) {
    for (const trig of [Math.cos, Math.sin]) {
      // the basis function u(a, b) = trig(ωₖ(a + b)) on the grid, and its squared norm (p²/2 for odd p)
      const u = Float64Array.from({ length: n }, (_, i) => trig((2 * Math.PI * k * (Math.floor(i / p) + (i % p))) / p));
      const uu = u.reduce((s, v) => s + v * v, 0);
      if (uu < 1e-9) continue;
      for (let c = 0; c < p; c++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += L[i * stride + c] * u[i];
        const a = dot / uu;
        for (let i = 0; i < n; i++) R[i * stride + c] += a * u[i];
      }
    }
  }
  for (let i = 0; i < R.length; i++) X[i] -= R[i];
  return { restricted_loss: xent(R, stride, p, train, y), excluded_loss: xent(X, stride, p, train, y) };
}
