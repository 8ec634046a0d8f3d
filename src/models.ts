// Where each model's tensors live in wasm memory: a mirror of assembly/layout.ts setup() and
// assembly/attn.ts setupAttn(), so the host can move tensors in and out in the public layout
// (row-major, unpadded; W1 of the paper's MLP is 2d × H).

export type Model = "mlp" | "attn" | "tian";
/** The shape of one run as the kernels see it. p: classes/vocabulary; d: embedding (mlp, attn) or input width (parity). */
export interface Dims {
  model: Model;
  dense: boolean;
  p: number;
  d: number;
  H: number;
  heads: number;
  nTrain: number;
  nTest: number;
}

export interface Tensor {
  name: string;
  shape: number[];
  cols: number;
  at: (r: number) => number;
}
export interface Layout {
  tensors: Tensor[];
  nParams: number;
  bytes: number;
}

export const pad4 = (x: number) => (x + 3) & ~3;
const rows = (t: Tensor) => (t.shape.length === 2 ? t.shape[0] : 1);
export const tensorRows = rows;

/** Tensors in θ order with their offsets (floats); bytes: an upper bound of the run's wasm memory. */
export function layoutOf(m: Dims): Layout {
  const n = Math.max(m.nTrain, 1),
    nt = Math.max(m.nTest, 1),
    H4 = pad4(m.H);
  const T: Tensor[] = [];
  let o = 0,
    act = 0;
  // a matrix r × c stored with row stride ld over `stored` rows (≥ r: zero padding rows)
  const mat = (name: string, r: number, c: number, ld: number, stored = r) => {
    const base = o;
    T.push({ name, shape: [r, c], cols: c, at: (i) => base + i * ld });
    o += stored * ld;
  };
  const vec = (name: string, c: number, len: number) => {
    const base = o;
    T.push({ name, shape: [c], cols: c, at: () => base });
    o += len;
  };
  if (m.model === "attn") {
    const V = m.p + 1,
      VP = pad4(V),
      d = m.d;
    mat("E", V, d, d);
    mat("P", 3, d, d);
    for (const w of ["Wq", "Wk", "Wv", "Wo"]) mat(w, d, d, d);
    mat("Win", d, m.H, H4);
    mat("Wout", m.H, d, d, H4);
    mat("U", d, V, VP);
    act = n * (12 * d + 4 * H4 + 2 * VP + 32) + 16 * m.p * d * (m.heads + 4) + 6 * d * d + 128 * (8 * d + 2 * H4 + VP);
  } else {
    const tian = m.model === "tian",
      P4 = pad4(m.p),
      d = tian ? m.p : m.d,
      D4 = pad4(d);
    if (!tian && !m.dense) mat("E", m.p, d, D4);
    if (m.dense) mat("W1", d, m.H, H4, D4);
    else {
      // stored D4 × 2H4: row k = [W1[k, :] | W1[d + k, :]]
      const base = o;
      T.push({
        name: "W1",
        shape: [2 * d, m.H],
        cols: m.H,
        at: (i) => base + (i < d ? i * 2 * H4 : (i - d) * 2 * H4 + H4),
      });
      o += D4 * 2 * H4;
    }
    mat("W2", m.H, m.p, P4, H4);
    if (tian)
      o += H4 + P4; // biases exist in memory, stay 0 and are not trained
    else {
      vec("b1", m.H, H4);
      vec("b2", m.p, P4);
    }
    act =
      (m.dense ? 0 : 2 * m.p * 2 * H4) +
      3 * n * H4 +
      n +
      n * P4 +
      2 * H4 * D4 +
      P4 * H4 +
      (m.dense ? (n + nt) * D4 : 0) +
      128 * (H4 + P4 + 1);
  }
  const nParams = o,
    big = Math.max(...T.filter((t) => t.shape.length === 2).map((t) => pad4(t.shape[0]) * pad4(t.shape[1])));
  const floats = 4 * nParams + act + 3 * n + 3 * nt + 4 * big;
  return { tensors: T, nParams, bytes: floats * 4 + 64 * 48 + (1 << 20) };
}
