// Muon's orthogonalisation (Keller Jordan, 2024): replace an update matrix G = U·S·Vᵀ by ≈ U·Vᵀ, so
// every direction the update moves in gets a similar step size instead of a few dominant singular
// directions taking it all. An odd quintic p(X) = a·X + b·(XXᵀ)X + c·(XXᵀ)²X acts on each singular
// value alone (p(σ) = aσ + bσ³ + cσ⁵); its coefficients are tuned for speed, not exactness: from the
// Frobenius-normalised start (all σ ≤ 1) 5 iterations push every σ not too near 0 into ≈ [0.7, 1.2].
// Only GEMMs from gemm.ts (bit-deterministic, ascending-k sums) and f32x4 mul/add elementwise passes:
// the result is bit-identical from call to call and machine to machine (except in the --fast-math
// build, where gemm's madd fuses). Zero rows/columns of X give zero rows/columns of XXᵀ, B and B·X,
// so padding stays exactly +0.

import { gemmNN, transpose } from "./gemm";
import { madd } from "./math";

const NS_A: f32 = 3.4445, NS_B: f32 = -4.7750, NS_C: f32 = 2.0315;

/** Σx² of n floats (n % 4 == 0) in float64. */
function sumSq64(p: usize, n: i32): f64 {
  let a = f64x2.splat(0), b = f64x2.splat(0);
  for (let i = 0; i < n; i += 4) {
    const v = v128.load(p + (<usize>i << 2));
    const lo = f64x2.promote_low_f32x4(v), hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1));
    a = f64x2.add(a, f64x2.mul(lo, lo));
    b = f64x2.add(b, f64x2.mul(hi, hi));
  }
  const s = f64x2.add(a, b);
  return f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
}

/**
 * In place on X (R × C, row-major, row stride C; R % 4 == 0, C % 4 == 0, R ≤ C):
 * X ← X / (‖X‖_F + 1e-7), then `steps` times A = X·Xᵀ, B = b·A + c·A·A, X = a·X + B·X.
 * Scratch: A and B R × R, T R × C floats (none may overlap X or each other).
 */
export function newtonSchulz(x: usize, R: i32, C: i32, A: usize, B: usize, T: usize, steps: i32): void {
  const n = R * C, nRR = R * R;
  const inv = f32x4.splat(<f32>(Math.sqrt(sumSq64(x, n)) + 1e-7));
  for (let i = 0; i < n; i += 4) {
    const o = <usize>i << 2;
    v128.store(x + o, f32x4.div(v128.load(x + o), inv));
  }
  const va = f32x4.splat(NS_A), vb = f32x4.splat(NS_B), vc = f32x4.splat(NS_C);
  for (let s = 0; s < steps; s++) {
    transpose(T, x, R, C);                         // T = Xᵀ (C × R)
    gemmNN(A, x, T, R, C, R, C, R, R, false);      // A = X·Xᵀ (exactly symmetric: same products, same order)
    gemmNN(B, A, A, R, R, R, R, R, R, false);      // B = A·A
    for (let i = 0; i < nRR; i += 4) {             // B = b·A + c·A·A
      const o = <usize>i << 2;
      v128.store(B + o, madd(f32x4.mul(vc, v128.load(B + o)), vb, v128.load(A + o)));
    }
    gemmNN(T, B, x, R, R, C, R, C, C, false);      // T = B·X (R × C)
    for (let i = 0; i < n; i += 4) {               // X = a·X + B·X
      const o = <usize>i << 2;
      v128.store(x + o, madd(v128.load(T + o), va, v128.load(x + o)));
    }
  }
}
