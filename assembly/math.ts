// Vectorised elementwise math, f32x4, from plain mul/add/div and bit tricks: V8 lowers f32x4.min/max
// and nearest to long NaN-safe sequences, while pmin/pmax and the magic-number round are one
// instruction each. exp is Cephes' expf polynomial (≈1 ulp); erf a float32 rational approximation.
// Constants are read from a table in memory rather than written as f32x4.splat(literal): V8
// rebuilds every v128 literal inside the loop (three instructions each), a splatting load is one
// (vbroadcastss, which V8's revectorizer widens to 256 bits; a plain 128-bit load it packs in two).

import { Act } from "./codes";

// Each constant is its own static float: kc(NAME) splats it.
const EXP_LO: usize = memory.data<f32>([-87.33654]);
const EXP_HI: usize = memory.data<f32>([88.0]);
const LOG2E: usize = memory.data<f32>([1.44269504088896341]);
const MAGIC: usize = memory.data<f32>([12582912.0]);
const LN2_HI: usize = memory.data<f32>([0.693359375]);
const LN2_LO: usize = memory.data<f32>([-2.12194440e-4]);
const E0: usize = memory.data<f32>([1.9875691500e-4]);
const E1: usize = memory.data<f32>([1.3981999507e-3]);
const E2: usize = memory.data<f32>([8.3334519073e-3]);
const E3: usize = memory.data<f32>([4.1665795894e-2]);
const E4: usize = memory.data<f32>([1.6666665459e-1]);
const E5: usize = memory.data<f32>([5.0000001201e-1]);
const ONE: usize = memory.data<f32>([1.0]);
const HALF: usize = memory.data<f32>([0.5]);
const NHALF: usize = memory.data<f32>([-0.5]);
const INV_SQRT2: usize = memory.data<f32>([0.70710678118654752]);
const INV_SQRT2PI: usize = memory.data<f32>([0.39894228040143268]);
const NFOUR: usize = memory.data<f32>([-4.0]);
const FOUR: usize = memory.data<f32>([4.0]);
const A6: usize = memory.data<f32>([-2.72614225801306e-10]);
const A5: usize = memory.data<f32>([2.77068142495902e-08]);
const A4: usize = memory.data<f32>([-2.10102402082508e-06]);
const A3: usize = memory.data<f32>([-5.69250639462346e-05]);
const A2: usize = memory.data<f32>([-7.34990630326855e-04]);
const A1: usize = memory.data<f32>([-2.95459980854025e-03]);
const A0: usize = memory.data<f32>([-1.60960333262415e-02]);
const B4: usize = memory.data<f32>([-1.45660718464996e-05]);
const B3: usize = memory.data<f32>([-2.13374055278905e-04]);
const B2: usize = memory.data<f32>([-1.68282697438203e-03]);
const B1: usize = memory.data<f32>([-7.37332916720468e-03]);
const B0: usize = memory.data<f32>([-1.42647390514189e-02]);
const INT_BIAS = 127 - 0x4B400000; // bits(k) − bits(MAGIC) + 127

// c + a·b: in the FMA build one fused multiply-add (correctly rounded: the same bits on every machine
// that fuses, which the host checks before it loads this build), else a rounded product and sum.
// @ts-ignore: decorator
@inline export function madd(c: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline function kc(c: usize): v128 { return v128.load32_splat(c); }
const KI: usize = memory.data<i32>([INT_BIAS]);

// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, kc(EXP_LO)), kc(EXP_HI));
  const k = madd(kc(MAGIC), xc, kc(LOG2E));
  const n = f32x4.sub(k, kc(MAGIC)); // round(x·log2 e) as a float
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(n, kc(LN2_HI))), f32x4.mul(n, kc(LN2_LO)));
  let y = kc(E0);
  y = madd(kc(E1), y, r);
  y = madd(kc(E2), y, r);
  y = madd(kc(E3), y, r);
  y = madd(kc(E4), y, r);
  y = madd(kc(E5), y, r);
  y = f32x4.add(madd(r, y, f32x4.mul(r, r)), kc(ONE));
  // 2^n from the integer bits of k: bits(k) − bits(MAGIC) = n
  const scale = i32x4.shl(i32x4.add(k, v128.load32_splat(KI)), 23);
  return v128.and(f32x4.mul(y, scale), f32x4.gt(x, kc(EXP_LO)));
}

// erf(x) = x·α(x²)/β(x²) on x clamped to [−4, 4] (erf(±4) rounds to ±1 in float32): the rational
// approximation Eigen and XLA use for float32, a few ulp from the true erf (measured in the tests).
// @ts-ignore: decorator
@inline export function erf4(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, kc(NFOUR)), kc(FOUR));
  const x2 = f32x4.mul(xc, xc);
  let a = kc(A6);
  a = madd(kc(A5), a, x2);
  a = madd(kc(A4), a, x2);
  a = madd(kc(A3), a, x2);
  a = madd(kc(A2), a, x2);
  a = madd(kc(A1), a, x2);
  a = madd(kc(A0), a, x2);
  let b = kc(B4);
  b = madd(kc(B3), b, x2);
  b = madd(kc(B2), b, x2);
  b = madd(kc(B1), b, x2);
  b = madd(kc(B0), b, x2);
  return f32x4.pmin(f32x4.div(f32x4.mul(xc, a), b), kc(ONE));
}

// h = act(z) stored at ph; act'(z) stored at pd when pd != 0.
// @ts-ignore: decorator
@inline export function act4(z: v128, act: i32, ph: usize, pd: usize): void {
  if (act == Act.gelu) {
    // the exact form 0.5·z·(1 + erf(z/√2)), as torch computes it; GELU'(z) = Φ(z) + z·φ(z)
    const phi = f32x4.mul(kc(HALF), f32x4.add(kc(ONE), erf4(f32x4.mul(z, kc(INV_SQRT2)))));
    v128.store(ph, f32x4.mul(z, phi));
    if (pd) {
      const pdf = f32x4.mul(exp4(f32x4.mul(f32x4.mul(z, z), kc(NHALF))), kc(INV_SQRT2PI));
      v128.store(pd, madd(phi, z, pdf));
    }
  } else if (act == Act.relu) {
    const pos = f32x4.gt(z, f32x4.splat(0.0));
    v128.store(ph, v128.and(z, pos));
    if (pd) v128.store(pd, v128.and(kc(ONE), pos));
  } else {
    v128.store(ph, f32x4.mul(z, z));
    if (pd) v128.store(pd, f32x4.add(z, z));
  }
}

// Horner step a·x + c (c one of the constants above), fused in the FMA build.
// @ts-ignore: decorator
@inline function hs(a: v128, x: v128, c: usize): v128 { return madd(kc(c), a, x); }

// GELU (and GELU′ at pd when pd != 0) of the four vectors at z, z + 16, z + 32, z + 48: exactly
// act4's operations per lane, but the four vectors go through each step together. One vector at a
// time is latency-bound (erf's and exp's Horner chains: ~70 cycles a vector); four independent
// chains side by side let the core overlap them (~40). z may equal ph.
// @ts-ignore: decorator
@inline function gelu16(z: usize, ph: usize, pd: usize): void {
  const z0 = v128.load(z), z1 = v128.load(z, 16), z2 = v128.load(z, 32), z3 = v128.load(z, 48);
  // erf(z/√2), as erf4
  const u0 = f32x4.mul(z0, kc(INV_SQRT2)), u1 = f32x4.mul(z1, kc(INV_SQRT2)), u2 = f32x4.mul(z2, kc(INV_SQRT2)), u3 = f32x4.mul(z3, kc(INV_SQRT2));
  const c0 = f32x4.pmin(f32x4.pmax(u0, kc(NFOUR)), kc(FOUR)), c1 = f32x4.pmin(f32x4.pmax(u1, kc(NFOUR)), kc(FOUR));
  const c2 = f32x4.pmin(f32x4.pmax(u2, kc(NFOUR)), kc(FOUR)), c3 = f32x4.pmin(f32x4.pmax(u3, kc(NFOUR)), kc(FOUR));
  const q0 = f32x4.mul(c0, c0), q1 = f32x4.mul(c1, c1), q2 = f32x4.mul(c2, c2), q3 = f32x4.mul(c3, c3);
  let a0 = kc(A6), a1 = a0, a2 = a0, a3 = a0, b0 = kc(B4), b1 = b0, b2 = b0, b3 = b0;
  a0 = hs(a0, q0, A5); a1 = hs(a1, q1, A5); a2 = hs(a2, q2, A5); a3 = hs(a3, q3, A5);
  b0 = hs(b0, q0, B3); b1 = hs(b1, q1, B3); b2 = hs(b2, q2, B3); b3 = hs(b3, q3, B3);
  a0 = hs(a0, q0, A4); a1 = hs(a1, q1, A4); a2 = hs(a2, q2, A4); a3 = hs(a3, q3, A4);
  b0 = hs(b0, q0, B2); b1 = hs(b1, q1, B2); b2 = hs(b2, q2, B2); b3 = hs(b3, q3, B2);
  a0 = hs(a0, q0, A3); a1 = hs(a1, q1, A3); a2 = hs(a2, q2, A3); a3 = hs(a3, q3, A3);
  b0 = hs(b0, q0, B1); b1 = hs(b1, q1, B1); b2 = hs(b2, q2, B1); b3 = hs(b3, q3, B1);
  a0 = hs(a0, q0, A2); a1 = hs(a1, q1, A2); a2 = hs(a2, q2, A2); a3 = hs(a3, q3, A2);
  b0 = hs(b0, q0, B0); b1 = hs(b1, q1, B0); b2 = hs(b2, q2, B0); b3 = hs(b3, q3, B0);
  a0 = hs(a0, q0, A1); a1 = hs(a1, q1, A1); a2 = hs(a2, q2, A1); a3 = hs(a3, q3, A1);
  a0 = hs(a0, q0, A0); a1 = hs(a1, q1, A0); a2 = hs(a2, q2, A0); a3 = hs(a3, q3, A0);
  const e0 = f32x4.pmin(f32x4.div(f32x4.mul(c0, a0), b0), kc(ONE)), e1 = f32x4.pmin(f32x4.div(f32x4.mul(c1, a1), b1), kc(ONE));
  const e2 = f32x4.pmin(f32x4.div(f32x4.mul(c2, a2), b2), kc(ONE)), e3 = f32x4.pmin(f32x4.div(f32x4.mul(c3, a3), b3), kc(ONE));
  // Φ(z) and h = z·Φ(z)
  const f0 = f32x4.mul(kc(HALF), f32x4.add(kc(ONE), e0)), f1 = f32x4.mul(kc(HALF), f32x4.add(kc(ONE), e1));
  const f2 = f32x4.mul(kc(HALF), f32x4.add(kc(ONE), e2)), f3 = f32x4.mul(kc(HALF), f32x4.add(kc(ONE), e3));
  // (each upper half stored first, the order V8's revectorizer pairs; z was read in full above)
  v128.store(ph, f32x4.mul(z1, f1), 16); v128.store(ph, f32x4.mul(z0, f0));
  v128.store(ph, f32x4.mul(z3, f3), 48); v128.store(ph, f32x4.mul(z2, f2), 32);
  if (!pd) return;
  // φ(z) = exp(−z²/2)/√(2π), as exp4
  const w0 = f32x4.mul(f32x4.mul(z0, z0), kc(NHALF)), w1 = f32x4.mul(f32x4.mul(z1, z1), kc(NHALF));
  const w2 = f32x4.mul(f32x4.mul(z2, z2), kc(NHALF)), w3 = f32x4.mul(f32x4.mul(z3, z3), kc(NHALF));
  const x0 = f32x4.pmin(f32x4.pmax(w0, kc(EXP_LO)), kc(EXP_HI)), x1 = f32x4.pmin(f32x4.pmax(w1, kc(EXP_LO)), kc(EXP_HI));
  const x2 = f32x4.pmin(f32x4.pmax(w2, kc(EXP_LO)), kc(EXP_HI)), x3 = f32x4.pmin(f32x4.pmax(w3, kc(EXP_LO)), kc(EXP_HI));
  const k0 = hs(x0, kc(LOG2E), MAGIC), k1 = hs(x1, kc(LOG2E), MAGIC), k2 = hs(x2, kc(LOG2E), MAGIC), k3 = hs(x3, kc(LOG2E), MAGIC);
  const n0 = f32x4.sub(k0, kc(MAGIC)), n1 = f32x4.sub(k1, kc(MAGIC)), n2 = f32x4.sub(k2, kc(MAGIC)), n3 = f32x4.sub(k3, kc(MAGIC));
  const r0 = f32x4.sub(f32x4.sub(x0, f32x4.mul(n0, kc(LN2_HI))), f32x4.mul(n0, kc(LN2_LO)));
  const r1 = f32x4.sub(f32x4.sub(x1, f32x4.mul(n1, kc(LN2_HI))), f32x4.mul(n1, kc(LN2_LO)));
  const r2 = f32x4.sub(f32x4.sub(x2, f32x4.mul(n2, kc(LN2_HI))), f32x4.mul(n2, kc(LN2_LO)));
  const r3 = f32x4.sub(f32x4.sub(x3, f32x4.mul(n3, kc(LN2_HI))), f32x4.mul(n3, kc(LN2_LO)));
  let y0 = kc(E0), y1 = y0, y2 = y0, y3 = y0;
  y0 = hs(y0, r0, E1); y1 = hs(y1, r1, E1); y2 = hs(y2, r2, E1); y3 = hs(y3, r3, E1);
  y0 = hs(y0, r0, E2); y1 = hs(y1, r1, E2); y2 = hs(y2, r2, E2); y3 = hs(y3, r3, E2);
  y0 = hs(y0, r0, E3); y1 = hs(y1, r1, E3); y2 = hs(y2, r2, E3); y3 = hs(y3, r3, E3);
  y0 = hs(y0, r0, E4); y1 = hs(y1, r1, E4); y2 = hs(y2, r2, E4); y3 = hs(y3, r3, E4);
  y0 = hs(y0, r0, E5); y1 = hs(y1, r1, E5); y2 = hs(y2, r2, E5); y3 = hs(y3, r3, E5);
  y0 = f32x4.add(madd(r0, y0, f32x4.mul(r0, r0)), kc(ONE));
  y1 = f32x4.add(madd(r1, y1, f32x4.mul(r1, r1)), kc(ONE));
  y2 = f32x4.add(madd(r2, y2, f32x4.mul(r2, r2)), kc(ONE));
  y3 = f32x4.add(madd(r3, y3, f32x4.mul(r3, r3)), kc(ONE));
  const bias = v128.load32_splat(KI);
  const s0 = i32x4.shl(i32x4.add(k0, bias), 23), s1 = i32x4.shl(i32x4.add(k1, bias), 23);
  const s2 = i32x4.shl(i32x4.add(k2, bias), 23), s3 = i32x4.shl(i32x4.add(k3, bias), 23);
  const p0 = f32x4.mul(v128.and(f32x4.mul(y0, s0), f32x4.gt(w0, kc(EXP_LO))), kc(INV_SQRT2PI));
  const p1 = f32x4.mul(v128.and(f32x4.mul(y1, s1), f32x4.gt(w1, kc(EXP_LO))), kc(INV_SQRT2PI));
  const p2 = f32x4.mul(v128.and(f32x4.mul(y2, s2), f32x4.gt(w2, kc(EXP_LO))), kc(INV_SQRT2PI));
  const p3 = f32x4.mul(v128.and(f32x4.mul(y3, s3), f32x4.gt(w3, kc(EXP_LO))), kc(INV_SQRT2PI));
  // GELU′ = Φ(z) + z·φ(z)
  v128.store(pd, madd(f1, z1, p1), 16); v128.store(pd, madd(f0, z0, p0));
  v128.store(pd, madd(f3, z3, p3), 48); v128.store(pd, madd(f2, z2, p2), 32);
}

/** h = act(z) over n floats (n % 4 == 0; h may equal z), act′(z) at d when d != 0. */
export function actSpan(z: usize, h: usize, d: usize, n: i32, act: i32): void {
  let k = 0;
  if (act == Act.gelu) {
    if (d) for (; k + 16 <= n; k += 16) { const o = <usize>k << 2; gelu16(z + o, h + o, d + o); }
    else for (; k + 16 <= n; k += 16) { const o = <usize>k << 2; gelu16(z + o, h + o, 0); }
  }
  for (; k < n; k += 4) { const o = <usize>k << 2; act4(v128.load(z + o), act, h + o, d ? d + o : 0); }
}

// Horizontal reductions.
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}
