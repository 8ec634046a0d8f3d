// f32x4 GEMM: C[M×N] (+)= A·B with A read through strides, so one register-blocked kernel serves
// both A (row-major M×K: sai = lda, sak = 1) and Aᵀ (A stored K×M: sai = 1, sak = lda).
// Blocks of 2 rows × 16 columns (8 accumulators) measured fastest under V8 (see README/bench).
// Every C element sums its products in ascending k, whatever block or k-chunk it falls in, so the
// result does not depend on blocking and matches a scalar Math.fround loop bit for bit (wasm SIMD
// mul/add round like scalar f32; no FMA). N must be a multiple of 4.

const KC = 128; // k-chunk: keeps the A and B strips of one chunk in cache (128 measured best of 64…4096)

// c + a·b. The default build rounds the product and the sum (bit-stable everywhere); the opt-in
// fast-math build (--fast-math) uses relaxed SIMD's fused multiply-add where the machine has one.
// @ts-ignore: decorator
@inline function madd(c: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline function cp(c: usize, i: i32, ldc: i32, j: i32): usize { return c + ((<usize>i * <usize>ldc + <usize>j) << 2); }

export function gemm(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32,
                     sai: i32, sak: i32, ldb: i32, ldc: i32, accumulate: bool): void {
  const z = f32x4.splat(0);
  const sk = <usize>sak << 2, sb = <usize>ldb << 2;
  const j16 = N & ~15, V = (N - j16) >> 2;
  for (let k0 = 0; k0 < K || k0 == 0; k0 += KC) {
    const k1 = min(K, k0 + KC), acc = accumulate || k0 > 0;
    // columns [0, j16): blocks of 2 rows × 16 columns
    let i = 0;
    for (; i + 2 <= M; i += 2) {
      const a0 = a + ((<usize>i * <usize>sai + <usize>k0 * <usize>sak) << 2), a1 = a0 + (<usize>sai << 2);
      for (let j = 0; j < j16; j += 16) {
        const c0 = cp(c, i, ldc, j), c1 = cp(c, i + 1, ldc, j);
        let c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        if (acc) {
          c00 = v128.load(c0); c01 = v128.load(c0, 16); c02 = v128.load(c0, 32); c03 = v128.load(c0, 48);
          c10 = v128.load(c1); c11 = v128.load(c1, 16); c12 = v128.load(c1, 32); c13 = v128.load(c1, 48);
        }
        let pa0 = a0, pa1 = a1, pb = b + ((<usize>k0 * <usize>ldb + <usize>j) << 2);
        for (let k = k0; k < k1; k++) {
          const b0 = v128.load(pb), b1 = v128.load(pb, 16), b2 = v128.load(pb, 32), b3 = v128.load(pb, 48);
          const x0 = v128.load32_splat(pa0), x1 = v128.load32_splat(pa1);
          c00 = madd(c00, x0, b0); c01 = madd(c01, x0, b1);
          c02 = madd(c02, x0, b2); c03 = madd(c03, x0, b3);
          c10 = madd(c10, x1, b0); c11 = madd(c11, x1, b1);
          c12 = madd(c12, x1, b2); c13 = madd(c13, x1, b3);
          pa0 += sk; pa1 += sk; pb += sb;
        }
        v128.store(c0, c00); v128.store(c0, c01, 16); v128.store(c0, c02, 32); v128.store(c0, c03, 48);
        v128.store(c1, c10); v128.store(c1, c11, 16); v128.store(c1, c12, 32); v128.store(c1, c13, 48);
      }
    }
    if (i < M) row1(c, a, b, i, 0, j16, k0, k1, sai, sk, sb, ldb, ldc, acc);
    // the last N mod 16 columns (4, 8 or 12): 4-row blocks keep 4–12 accumulators in flight
    if (V) {
      let r = 0;
      for (; r + 4 <= M; r += 4) {
        if (V == 3) tail4(c, a, b, r, j16, k0, k1, sai, sk, sb, ldb, ldc, acc, 3);
        else if (V == 2) tail4(c, a, b, r, j16, k0, k1, sai, sk, sb, ldb, ldc, acc, 2);
        else tail4(c, a, b, r, j16, k0, k1, sai, sk, sb, ldb, ldc, acc, 1);
      }
      for (; r < M; r++) row1(c, a, b, r, j16, N, k0, k1, sai, sk, sb, ldb, ldc, acc);
    }
    if (K == 0) break;
  }
}

// 4 rows × V vectors (V = 1, 2, 3; a constant after inlining) of columns [j, j + 4V), k in [k0, k1).
// @ts-ignore: decorator
@inline function tail4(c: usize, a: usize, b: usize, i: i32, j: i32, k0: i32, k1: i32, sai: i32, sk: usize, sb: usize,
                       ldb: i32, ldc: i32, acc: bool, V: i32): void {
  const z = f32x4.splat(0);
  const c0 = cp(c, i, ldc, j), c1 = cp(c, i + 1, ldc, j), c2 = cp(c, i + 2, ldc, j), c3 = cp(c, i + 3, ldc, j);
  let r00 = z, r01 = z, r02 = z, r10 = z, r11 = z, r12 = z, r20 = z, r21 = z, r22 = z, r30 = z, r31 = z, r32 = z;
  if (acc) {
    r00 = v128.load(c0); r10 = v128.load(c1); r20 = v128.load(c2); r30 = v128.load(c3);
    if (V > 1) { r01 = v128.load(c0, 16); r11 = v128.load(c1, 16); r21 = v128.load(c2, 16); r31 = v128.load(c3, 16); }
    if (V > 2) { r02 = v128.load(c0, 32); r12 = v128.load(c1, 32); r22 = v128.load(c2, 32); r32 = v128.load(c3, 32); }
  }
  const sa = <usize>sai << 2;
  let pa = a + ((<usize>i * <usize>sai) << 2) + <usize>k0 * sk, pb = b + ((<usize>k0 * <usize>ldb + <usize>j) << 2);
  for (let k = k0; k < k1; k++) {
    const x0 = v128.load32_splat(pa), x1 = v128.load32_splat(pa + sa);
    const x2 = v128.load32_splat(pa + 2 * sa), x3 = v128.load32_splat(pa + 3 * sa);
    const b0 = v128.load(pb);
    r00 = madd(r00, x0, b0); r10 = madd(r10, x1, b0);
    r20 = madd(r20, x2, b0); r30 = madd(r30, x3, b0);
    if (V > 1) {
      const b1 = v128.load(pb, 16);
      r01 = madd(r01, x0, b1); r11 = madd(r11, x1, b1);
      r21 = madd(r21, x2, b1); r31 = madd(r31, x3, b1);
    }
    if (V > 2) {
      const b2 = v128.load(pb, 32);
      r02 = madd(r02, x0, b2); r12 = madd(r12, x1, b2);
      r22 = madd(r22, x2, b2); r32 = madd(r32, x3, b2);
    }
    pa += sk; pb += sb;
  }
  v128.store(c0, r00); v128.store(c1, r10); v128.store(c2, r20); v128.store(c3, r30);
  if (V > 1) { v128.store(c0, r01, 16); v128.store(c1, r11, 16); v128.store(c2, r21, 16); v128.store(c3, r31, 16); }
  if (V > 2) { v128.store(c0, r02, 32); v128.store(c1, r12, 32); v128.store(c2, r22, 32); v128.store(c3, r32, 32); }
}

// One row i, columns [j0, j1) (what the blocked kernels leave over: an odd M's last row, and the
// last rows of the N mod 16 columns): four vectors at a time, so four accumulator chains are in
// flight instead of one, then one vector at a time.
function row1(c: usize, a: usize, b: usize, i: i32, j0: i32, j1: i32, k0: i32, k1: i32, sai: i32, sk: usize, sb: usize,
              ldb: i32, ldc: i32, acc: bool): void {
  const a0 = a + ((<usize>i * <usize>sai) << 2) + <usize>k0 * sk, z = f32x4.splat(0);
  let j = j0;
  for (; j + 16 <= j1; j += 16) {
    const c0 = cp(c, i, ldc, j);
    let r0 = z, r1 = z, r2 = z, r3 = z;
    if (acc) { r0 = v128.load(c0); r1 = v128.load(c0, 16); r2 = v128.load(c0, 32); r3 = v128.load(c0, 48); }
    let pa0 = a0, pb = b + ((<usize>k0 * <usize>ldb + <usize>j) << 2);
    for (let k = k0; k < k1; k++) {
      const x = v128.load32_splat(pa0);
      r0 = madd(r0, x, v128.load(pb)); r1 = madd(r1, x, v128.load(pb, 16));
      r2 = madd(r2, x, v128.load(pb, 32)); r3 = madd(r3, x, v128.load(pb, 48));
      pa0 += sk; pb += sb;
    }
    v128.store(c0, r0); v128.store(c0, r1, 16); v128.store(c0, r2, 32); v128.store(c0, r3, 48);
  }
  for (; j < j1; j += 4) {
    const c0 = cp(c, i, ldc, j);
    let r0 = acc ? v128.load(c0) : z;
    let pa0 = a0, pb = b + ((<usize>k0 * <usize>ldb + <usize>j) << 2);
    for (let k = k0; k < k1; k++) {
      r0 = madd(r0, v128.load32_splat(pa0), v128.load(pb));
      pa0 += sk; pb += sb;
    }
    v128.store(c0, r0);
  }
}

/** C[M×N] (+)= A[M×K]·B[K×N], row-major with leading dimensions lda, ldb, ldc (in floats). */
// @ts-ignore: decorator
@inline export function gemmNN(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, lda: i32, ldb: i32, ldc: i32, acc: bool): void {
  gemm(c, a, b, M, K, N, lda, 1, ldb, ldc, acc);
}

/** C[M×N] (+)= Aᵀ·B for A[R×M], B[R×N]: a reduction over the R rows. */
// @ts-ignore: decorator
@inline export function gemmTN(c: usize, a: usize, b: usize, R: i32, M: i32, N: i32, lda: i32, ldb: i32, ldc: i32, acc: bool): void {
  gemm(c, a, b, M, R, N, 1, lda, ldb, ldc, acc);
}

/** B[N×M] = Aᵀ for A[M×N] (both dense): 4 × 4 blocks through shuffles when M and N are multiples of 4. */
export function transpose(b: usize, a: usize, M: i32, N: i32): void {
  if ((M | N) & 3) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) store<f32>(b + ((<usize>j * <usize>M + <usize>i) << 2), load<f32>(a + ((<usize>i * <usize>N + <usize>j) << 2)));
    }
    return;
  }
  const sa = <usize>N << 2, sb = <usize>M << 2;
  for (let i = 0; i < M; i += 4) {
    for (let j = 0; j < N; j += 4) {
      const pa = a + ((<usize>i * <usize>N + <usize>j) << 2), pb = b + ((<usize>j * <usize>M + <usize>i) << 2);
      const r0 = v128.load(pa), r1 = v128.load(pa + sa), r2 = v128.load(pa + 2 * sa), r3 = v128.load(pa + 3 * sa);
      const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      v128.store(pb, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
      v128.store(pb + sb, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
      v128.store(pb + 2 * sb, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
      v128.store(pb + 3 * sb, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
    }
  }
}
