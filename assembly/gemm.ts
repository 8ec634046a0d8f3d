// f32x4 GEMM: C[M×N] (+)= A·B with A read through strides, so one register-blocked kernel serves
// both A (row-major M×K: sai = lda, sak = 1) and Aᵀ (A stored K×M: sai = 1, sak = lda). N must be a
// multiple of 4. Every C element sums its products in ascending k (c ← madd(c, a, b), from 0 or from C),
// whatever tile or k-chunk it falls in, so the result does not depend on the blocking and matches a
// scalar loop bit for bit: Math.fround(c + Math.fround(a·b)) in the strict build, a correctly rounded
// fma(a, b, c) in the FMA build (test/kernels.test.ts).
import { madd } from "./math";

const KC = 128; // k-chunk: keeps the A and B strips of one chunk in cache (128 measured best of 64…4096)

// Tiles (rows × vectors of 4 columns), measured fastest under V8 on x64 (README "Benchmarks"):
// - wide: V8's revectorizer (Node ≥ 24, --experimental-wasm-revectorize) fuses pairs of adjacent v128
//   operations into 256-bit ones, so 5 rows × 16 columns become 10 ymm accumulators;
// - FMA, 128-bit: 6 × 8 (12 accumulators: FMA latency × throughput with room to spare; XNNPACK's shape);
// - strict mul+add, 128-bit: 3 × 12 (9 chains of mul → add).
export let wide = false;
/** Use the 256-bit tile shape (the host sets it when V8 revectorizes). Results are the same either way. */
export function setWide(on: bool): void { wide = on; }

// The operands of the GEMM in progress: set by gemm(), read once by each tile at its start.
let gC: usize = 0, gA: usize = 0, gB: usize = 0, gSa: usize = 0, gSk: usize = 0, gSb: usize = 0, gSc: usize = 0;
let gLdc = 0, gLdb = 0, gSai = 0, gK0 = 0, gK1 = 0, gAcc = false;

// One tile: rows [i, i + R) × columns [j, j + 4V), k in [k0, k1). R ≤ 6 and V ≤ 4 are constants after
// inlining, so every test on them folds away. The accumulators start as zero or as C through an `if`
// (not a select), and each row's upper half is stored first: only then does V8's revectorizer pair them.
// @ts-ignore: decorator
@inline function tile(i: i32, j: i32, R: i32, V: i32): void {
  const sa = gSa, sk = gSk, sb = gSb, sc = gSc, k0 = gK0, k1 = gK1, z = f32x4.splat(0);
  const c0 = gC + ((<usize>i * <usize>gLdc + <usize>j) << 2), c1 = c0 + sc, c2 = c1 + sc, c3 = c2 + sc, c4 = c3 + sc, c5 = c4 + sc;
  let x00 = z, x01 = z, x02 = z, x03 = z, x10 = z, x11 = z, x12 = z, x13 = z, x20 = z, x21 = z, x22 = z, x23 = z;
  let x30 = z, x31 = z, x32 = z, x33 = z, x40 = z, x41 = z, x42 = z, x43 = z, x50 = z, x51 = z, x52 = z, x53 = z;
  if (gAcc) {
    x00 = v128.load(c0); if (V > 1) x01 = v128.load(c0, 16); if (V > 2) x02 = v128.load(c0, 32); if (V > 3) x03 = v128.load(c0, 48);
    if (R > 1) { x10 = v128.load(c1); if (V > 1) x11 = v128.load(c1, 16); if (V > 2) x12 = v128.load(c1, 32); if (V > 3) x13 = v128.load(c1, 48); }
    if (R > 2) { x20 = v128.load(c2); if (V > 1) x21 = v128.load(c2, 16); if (V > 2) x22 = v128.load(c2, 32); if (V > 3) x23 = v128.load(c2, 48); }
    if (R > 3) { x30 = v128.load(c3); if (V > 1) x31 = v128.load(c3, 16); if (V > 2) x32 = v128.load(c3, 32); if (V > 3) x33 = v128.load(c3, 48); }
    if (R > 4) { x40 = v128.load(c4); if (V > 1) x41 = v128.load(c4, 16); if (V > 2) x42 = v128.load(c4, 32); if (V > 3) x43 = v128.load(c4, 48); }
    if (R > 5) { x50 = v128.load(c5); if (V > 1) x51 = v128.load(c5, 16); if (V > 2) x52 = v128.load(c5, 32); if (V > 3) x53 = v128.load(c5, 48); }
  }
  let pa = gA + ((<usize>i * <usize>gSai) << 2) + <usize>k0 * sk, pb = gB + ((<usize>k0 * <usize>gLdb + <usize>j) << 2);
  for (let k = k0; k < k1; k++) {
    const b0 = v128.load(pb), b1 = V > 1 ? v128.load(pb, 16) : z, b2 = V > 2 ? v128.load(pb, 32) : z, b3 = V > 3 ? v128.load(pb, 48) : z;
    { const s = v128.load32_splat(pa);
      x00 = madd(x00, s, b0); if (V > 1) x01 = madd(x01, s, b1); if (V > 2) x02 = madd(x02, s, b2); if (V > 3) x03 = madd(x03, s, b3); }
    if (R > 1) { const s = v128.load32_splat(pa + sa);
      x10 = madd(x10, s, b0); if (V > 1) x11 = madd(x11, s, b1); if (V > 2) x12 = madd(x12, s, b2); if (V > 3) x13 = madd(x13, s, b3); }
    if (R > 2) { const s = v128.load32_splat(pa + 2 * sa);
      x20 = madd(x20, s, b0); if (V > 1) x21 = madd(x21, s, b1); if (V > 2) x22 = madd(x22, s, b2); if (V > 3) x23 = madd(x23, s, b3); }
    if (R > 3) { const s = v128.load32_splat(pa + 3 * sa);
      x30 = madd(x30, s, b0); if (V > 1) x31 = madd(x31, s, b1); if (V > 2) x32 = madd(x32, s, b2); if (V > 3) x33 = madd(x33, s, b3); }
    if (R > 4) { const s = v128.load32_splat(pa + 4 * sa);
      x40 = madd(x40, s, b0); if (V > 1) x41 = madd(x41, s, b1); if (V > 2) x42 = madd(x42, s, b2); if (V > 3) x43 = madd(x43, s, b3); }
    if (R > 5) { const s = v128.load32_splat(pa + 5 * sa);
      x50 = madd(x50, s, b0); if (V > 1) x51 = madd(x51, s, b1); if (V > 2) x52 = madd(x52, s, b2); if (V > 3) x53 = madd(x53, s, b3); }
    pa += sk; pb += sb;
  }
  if (V > 1) v128.store(c0, x01, 16); v128.store(c0, x00); if (V > 3) v128.store(c0, x03, 48); if (V > 2) v128.store(c0, x02, 32);
  if (R > 1) { if (V > 1) v128.store(c1, x11, 16); v128.store(c1, x10); if (V > 3) v128.store(c1, x13, 48); if (V > 2) v128.store(c1, x12, 32); }
  if (R > 2) { if (V > 1) v128.store(c2, x21, 16); v128.store(c2, x20); if (V > 3) v128.store(c2, x23, 48); if (V > 2) v128.store(c2, x22, 32); }
  if (R > 3) { if (V > 1) v128.store(c3, x31, 16); v128.store(c3, x30); if (V > 3) v128.store(c3, x33, 48); if (V > 2) v128.store(c3, x32, 32); }
  if (R > 4) { if (V > 1) v128.store(c4, x41, 16); v128.store(c4, x40); if (V > 3) v128.store(c4, x43, 48); if (V > 2) v128.store(c4, x42, 32); }
  if (R > 5) { if (V > 1) v128.store(c5, x51, 16); v128.store(c5, x50); if (V > 3) v128.store(c5, x53, 48); if (V > 2) v128.store(c5, x52, 32); }
}

// Each tile shape in use is a function of its own: inlined into the loops around it, V8 hoisted the
// row broadcasts and spilled an accumulator (measured: 3 × 12 tiles at 16 instead of 28 GFLOP/s).
function t5x4(i: i32, j: i32): void { tile(i, j, 5, 4); }
function t4x4(i: i32, j: i32): void { tile(i, j, 4, 4); }
function t3x4(i: i32, j: i32): void { tile(i, j, 3, 4); }
function t2x4(i: i32, j: i32): void { tile(i, j, 2, 4); } function t1x4(i: i32, j: i32): void { tile(i, j, 1, 4); }
function t5x3(i: i32, j: i32): void { tile(i, j, 5, 3); }
function t4x3(i: i32, j: i32): void { tile(i, j, 4, 3); }
function t3x3(i: i32, j: i32): void { tile(i, j, 3, 3); }
function t2x3(i: i32, j: i32): void { tile(i, j, 2, 3); } function t1x3(i: i32, j: i32): void { tile(i, j, 1, 3); }
function t6x2(i: i32, j: i32): void { tile(i, j, 6, 2); }
function t5x2(i: i32, j: i32): void { tile(i, j, 5, 2); }
function t4x2(i: i32, j: i32): void { tile(i, j, 4, 2); }
function t3x2(i: i32, j: i32): void { tile(i, j, 3, 2); }
function t2x2(i: i32, j: i32): void { tile(i, j, 2, 2); }
function t1x2(i: i32, j: i32): void { tile(i, j, 1, 2); }
function t6x1(i: i32, j: i32): void { tile(i, j, 6, 1); }
function t5x1(i: i32, j: i32): void { tile(i, j, 5, 1); }
function t4x1(i: i32, j: i32): void { tile(i, j, 4, 1); }
function t3x1(i: i32, j: i32): void { tile(i, j, 3, 1); }
function t2x1(i: i32, j: i32): void { tile(i, j, 2, 1); }
function t1x1(i: i32, j: i32): void { tile(i, j, 1, 1); }

// The tile function of shape R × V (constants after inlining: the chain folds to one call).
// @ts-ignore: decorator
@inline function tileRV(i: i32, j: i32, R: i32, V: i32): void {
  if (V == 4) {
    if (R == 5) t5x4(i, j);
    else if (R == 4) t4x4(i, j);
    else if (R == 3) t3x4(i, j);
    else if (R == 2) t2x4(i, j);
    else if (R == 1) t1x4(i, j);
  } else if (V == 3) {
    if (R == 5) t5x3(i, j);
    else if (R == 4) t4x3(i, j);
    else if (R == 3) t3x3(i, j);
    else if (R == 2) t2x3(i, j);
    else if (R == 1) t1x3(i, j);
  } else if (V == 2) {
    if (R == 6) t6x2(i, j);
    else if (R == 5) t5x2(i, j);
    else if (R == 4) t4x2(i, j);
    else if (R == 3) t3x2(i, j);
    else if (R == 2) t2x2(i, j);
    else if (R == 1) t1x2(i, j);
  } else if (V == 1) {
    if (R == 6) t6x1(i, j);
    else if (R == 5) t5x1(i, j);
    else if (R == 4) t4x1(i, j);
    else if (R == 3) t3x1(i, j);
    else if (R == 2) t2x1(i, j);
    else if (R == 1) t1x1(i, j);
  }
}

// Rows [i, i + R) across all N columns: tiles of V vectors, then one tile of the N mod 4V columns left.
// @ts-ignore: decorator
@inline function band(i: i32, N: i32, R: i32, V: i32): void {
  const jV = N - N % (4 * V), rest = (N - jV) >> 2;
  for (let j = 0; j < jV; j += 4 * V) tileRV(i, j, R, V);
  if (V > 1 && rest == 1) tileRV(i, jV, R, 1);
  if (V > 2 && rest == 2) tileRV(i, jV, R, 2);
  if (V > 3 && rest == 3) tileRV(i, jV, R, 3);
}

// One k-chunk over all of C in bands of R rows; the M mod R rows left go in one narrower band.
// @ts-ignore: decorator
@inline function chunk(M: i32, N: i32, R: i32, V: i32): void {
  let i = 0;
  for (; i + R <= M; i += R) band(i, N, R, V);
  const rest = M - i;
  if (R > 1 && rest == 1) band(i, N, 1, V);
  if (R > 2 && rest == 2) band(i, N, 2, V);
  if (R > 3 && rest == 3) band(i, N, 3, V);
  if (R > 4 && rest == 4) band(i, N, 4, V);
  if (R > 5 && rest == 5) band(i, N, 5, V);
}

export function gemm(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32,
                     sai: i32, sak: i32, ldb: i32, ldc: i32, accumulate: bool): void {
  gC = c; gA = a; gB = b; gSai = sai; gLdb = ldb; gLdc = ldc;
  gSa = <usize>sai << 2; gSk = <usize>sak << 2; gSb = <usize>ldb << 2; gSc = <usize>ldc << 2;
  for (let k0 = 0; k0 < K || k0 == 0; k0 += KC) { // K = 0 still zeroes C (or leaves it, accumulating)
    gK0 = k0; gK1 = min(K, k0 + KC); gAcc = accumulate || k0 > 0;
    if (wide) chunk(M, N, 5, 4);
    else if (ASC_FEATURE_RELAXED_SIMD) chunk(M, N, 6, 2);
    else chunk(M, N, 3, 3);
    if (K == 0) break;
  }
}

/** C[M×N] (+)= A[M×K]·B[K×N], row-major with leading dimensions lda, ldb, ldc (in floats). */
// @ts-ignore: decorator
@inline export function gemmNN(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, lda: i32, ldb: i32, ldc: i32,
                               acc: bool): void {
  gemm(c, a, b, M, K, N, lda, 1, ldb, ldc, acc);
}

/** C[M×N] (+)= Aᵀ·B for A[R×M], B[R×N]: a reduction over the R rows. */
// @ts-ignore: decorator
@inline export function gemmTN(c: usize, a: usize, b: usize, R: i32, M: i32, N: i32, lda: i32, ldb: i32, ldc: i32,
                               acc: bool): void {
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
