// Sparse parity: x uniform on {±1}^n, y = parity of k fixed hidden coordinates. The support, the
// train draws and the test draws use separate streams, so each depends on the seed alone:
// the test set ignores m, and the m train rows are a prefix of any larger train set.
import { Rng, STREAM } from "./rng.js";

export interface ParityData {
  x: Float32Array;
  y: Int32Array;
}

/** k distinct coordinates of 0..n−1 (partial Fisher–Yates), ascending. */
function support(n: number, k: number, seed: number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i),
    rng = new Rng(seed, STREAM.parityBits);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.slice(0, k).sort();
}

/**
 * m rows of n signs, one random bit each (32 per generator word, consumed in order); y = 1 iff an odd
 * number of x[bits] are −1.
 */
function draw(rng: Rng, m: number, n: number, bits: Int32Array): ParityData {
  const x = new Float32Array(m * n),
    y = new Int32Array(m);
  let word = 0,
    left = 0;
  for (let i = 0; i < x.length; i++) {
    if (left === 0) {
      word = rng.u32();
      left = 32;
    }
    x[i] = word & 1 ? -1 : 1;
    word >>>= 1;
    left--;
  }
  for (let r = 0; r < m; r++) {
    let odd = 0;
    for (const c of bits) if (x[r * n + c] < 0) odd ^= 1;
    y[r] = odd;
  }
  return { x, y };
}

export function parityTask(
  n: number,
  k: number,
  m: number,
  mTest: number,
  seed: number,
): { bits: Int32Array; train: ParityData; test: ParityData } {
  const int = (v: number, lo: number) => Number.isInteger(v) && v >= lo;
  if (!int(n, 1) || !int(k, 1) || k > n || !int(m, 0) || !int(mTest, 0))
    throw new RangeError(
      `parityTask needs integers n ≥ 1, 1 ≤ k ≤ n, m, mTest ≥ 0; got n=${n} k=${k} m=${m} mTest=${mTest}`,
    );
  const bits = support(n, k, seed);
  return {
    bits,
    train: draw(new Rng(seed, STREAM.parityTrain), m, n, bits),
    test: draw(new Rng(seed, STREAM.parityTest), mTest, n, bits),
  };
}
