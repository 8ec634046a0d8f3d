// --kernels: the fma build by default where the probe shows relaxed_madd fused, the strict build on
// request or as the fallback; fmaf (the scalar reference of every fma kernel test) against exact
// rational arithmetic; the GEMM self-test; the kernels recorded in the metadata and never mixed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { fmaf, compile, probeFused, selfTest, kernelsOf, loadKernels, wideSimd } from "../src/kernels.js";
import { BUILDS, cli, tmp, specFile } from "./helpers.js";

const fma = BUILDS.find((b) => b.name === "fma");
const skip = fma ? false : "this machine does not run fused relaxed_madd";

// An independent reference: a·b + c as an exact rational (BigInt significands), rounded to float32 once.
const f32 = new Float32Array(1),
  u32 = new Uint32Array(f32.buffer);
function parts(x: number): [bigint, number] {
  // x = m · 2^e, m an integer
  f32[0] = x;
  const u = u32[0],
    ex = (u >>> 23) & 255,
    frac = BigInt(u & 0x7fffff),
    sign = u >>> 31 ? -1n : 1n;
  return ex === 0 ? [sign * frac, -149] : [sign * (frac | 0x800000n), ex - 150];
}
function exactFma(a: number, b: number, c: number): number {
  const [ma, ea] = parts(a),
    [mb, eb] = parts(b),
    [mc, ec] = parts(c);
  const ep = ea + eb,
    e = Math.min(ep, ec);
  const S = ma * mb * (1n << BigInt(ep - e)) + mc * (1n << BigInt(ec - e)); // exact: S · 2^e
  if (S === 0n) return Object.is(a * b + c, -0) ? -0 : 0;
  const neg = S < 0n,
    A = neg ? -S : S;
  // choose the float32 exponent: 24 significant bits, or the subnormal grid 2^-149
  let q = e + A.toString(2).length - 24;
  if (q < -149) q = -149;
  let m: bigint;
  if (q >= e) {
    const sh = BigInt(q - e),
      half = 1n << (sh - 1n),
      rem = A & ((1n << sh) - 1n);
    m = A >> sh;
    if (sh > 0n && (rem > half || (rem === half && (m & 1n) === 1n))) m++; // ties to even
  } else m = A << BigInt(e - q);
  const r = Number(m) * 2 ** q;
  return Math.fround(neg ? -r : r);
}

test("fmaf rounds a·b + c once, as exact rational arithmetic does (random, cancelling and halfway cases)", () => {
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const f32r = (scale: number) => Math.fround((rnd() * 2 - 1) * 2 ** Math.floor(scale * (rnd() * 2 - 1)));
  const cases: [number, number, number][] = [
    [1 + 2 ** -23, 1 + 2 ** -23, -(1 + 2 ** -22)],
    [3, 2 ** -25, 1],
    [2 ** -75, 2 ** -75, 2 ** -149],
    [2 ** 100, 2 ** 100, 1],
    [1, 1, -1],
    [2 ** -70, 2 ** -70, 0],
  ];
  for (let i = 0; i < 40000; i++) {
    const a = f32r(20),
      kind = i % 4;
    if (kind === 3) {
      // a·b ≈ half an ulp of c: the float64 sum often lands exactly on a float32 midpoint (double rounding)
      const c = f32r(30),
        half = 2 ** (Math.floor(Math.log2(Math.abs(c))) - 24);
      cases.push([a, Math.fround(half / a), c]);
      continue;
    }
    const b = f32r(20);
    cases.push([a, b, kind === 0 ? f32r(40) : kind === 1 ? Math.fround(-a * b) : Math.fround(-a * b * (1 + 2 ** -20))]);
  }
  let doubleRounded = 0;
  for (const [a, b, c] of cases) {
    const want = exactFma(a, b, c);
    assert.ok(Object.is(fmaf(a, b, c), want), `fma(${a}, ${b}, ${c}) = ${want}, fmaf gave ${fmaf(a, b, c)}`);
    if (!Object.is(Math.fround(a * b + c), want)) doubleRounded++;
  }
  assert.ok(doubleRounded > 10, `only ${doubleRounded} cases where rounding through float64 is wrong`);
});

test("the probe tells a fused multiply-add from mul + add: the strict build never fuses", () => {
  assert.equal(probeFused(compile("strict")!), false);
  if (fma) assert.equal(probeFused(fma.module), true);
});

test(
  "the GEMM self-test passes for every build here and catches a build checked against the other's rounding",
  { skip },
  () => {
    for (const b of BUILDS) assert.equal(selfTest(b), null, b.name);
    assert.match(selfTest({ ...fma!, name: "strict" }) ?? "", /expected/);
    assert.match(selfTest({ ...BUILDS[0], name: "fma" }) ?? "", /expected/);
  },
);

test(
  "auto takes the fma build where it is fused; --kernels strict and fma train the same trajectory to float32 rounding",
  { skip },
  () => {
    assert.equal(loadKernels("auto").name, "fma");
    const args = ["run", "--p", "23", "--d", "32", "--H", "64", "--max-steps", "200", "--log", "every:1"];
    const a = tmp(),
      b = tmp(),
      c = tmp();
    assert.equal(cli([...args, "--kernels", "strict", "--out", a]).code, 0);
    assert.equal(cli([...args, "--out", b]).code, 0);
    assert.equal(cli([...args, "--fast-math", "--out", c]).code, 0);
    const ca = [...tableFromIPC(readFileSync(join(a, "curves.arrow")))],
      cb = tableFromIPC(readFileSync(join(b, "curves.arrow")));
    let differs = false;
    [...cb].forEach((r, i) => {
      assert.ok(Math.abs(r.weight_norm - ca[i].weight_norm) / ca[i].weight_norm < 1e-4, `step ${r.step}`);
      assert.ok(Math.abs(r.train_loss - ca[i].train_loss) / ca[i].train_loss < 1e-3, `step ${r.step}`);
      differs ||= r.train_loss !== ca[i].train_loss;
    });
    assert.ok(differs, "the fma build rounds differently somewhere");
    const meta = (d: string) => tableFromIPC(readFileSync(join(d, "runs.arrow"))).schema.metadata;
    assert.equal(meta(a).get("groksweep.kernels"), "strict");
    assert.equal(meta(b).get("groksweep.kernels"), "fma");
    assert.match(
      meta(b).get("groksweep.kernels_detail")!,
      new RegExp(`^fma@1; ${wideSimd() ? "256" : "128"}-bit.*node v\\d+`),
    );
    assert.deepEqual(
      readFileSync(join(b, "curves.arrow")),
      readFileSync(join(c, "curves.arrow")),
      "--fast-math is --kernels fma",
    );
  },
);

test("where relaxed_madd is not fused, auto says so and uses strict; --kernels fma is refused", () => {
  const env = { GROKSWEEP_TEST_UNFUSED: "1" },
    args = ["run", "--p", "11", "--d", "8", "--H", "12", "--max-steps", "20"];
  const out = tmp(),
    r = cli([...args, "--out", out], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /strict kernels \(mul\+add\): relaxed_madd is not fused/);
  assert.equal(tableFromIPC(readFileSync(join(out, "runs.arrow"))).schema.metadata.get("groksweep.kernels"), "strict");
  const bad = cli([...args, "--kernels", "fma"], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--kernels: expected auto or strict here \(relaxed_madd is not fused/);
  assert.equal(cli([...args, "--kernels", "fast"]).code, 2);
});

test("a sweep directory is never resumed with the other kernels; older 'simd' directories are strict", { skip }, () => {
  const spec = specFile({ p: 11, d: 8, H: 12, "max-steps": 20, seeds: 2 }),
    out = tmp();
  assert.equal(cli(["sweep", spec, "--out", out, "--quiet", "--kernels", "strict"]).code, 0);
  const r = cli(["sweep", spec, "--out", out, "--quiet"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /groksweep\.kernels strict@1, this one has fma@1/);
  assert.equal(cli(["sweep", spec, "--out", out, "--quiet", "--kernels", "strict"]).code, 0);
  assert.equal(kernelsOf(new Map([["groksweep.kernels", "simd"]])), "strict@1");
  assert.equal(kernelsOf(new Map()), "strict@1");
  assert.equal(kernelsOf(new Map([["groksweep.kernels", "relaxed-simd"]])), "relaxed-simd@1");
  assert.equal(
    kernelsOf(
      new Map([
        ["groksweep.kernels", "fma"],
        ["groksweep.kernels_rev", "2"],
      ]),
    ),
    "fma@2",
  );
});
