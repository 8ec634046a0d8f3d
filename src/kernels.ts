// Which kernel build a process runs, chosen once at load time (README "Determinism"):
//   fma    — every product that is summed is one fused multiply-add (wasm relaxed SIMD's relaxed_madd).
//            An IEEE FMA is correctly rounded, so every machine where V8 fuses it gives the same bits;
//            taken only where a probe shows it fused.
//   strict — plain f32x4 mul, then add: the same bits on every machine.
// Where V8 can revectorize wasm SIMD to 256-bit AVX2 (Node ≥ 24 on x64 with AVX2) that is switched on
// before the kernels are compiled and the GEMM uses its 256-bit tile shapes; the bits stay the same,
// which a GEMM self-test checks bit for bit against a scalar reference before any run starts.
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { fileURLToPath } from "node:url";
import { instantiateSync } from "@assemblyscript/loader";
import { UsageError } from "./options.js";
import type { Abi } from "./engine.js"; // the ABI, declared once (type only: engine.ts imports this module)

export const KERNEL_CHOICES = ["auto", "fma", "strict"] as const;
export type KernelChoice = (typeof KERNEL_CHOICES)[number];
export type KernelName = Exclude<KernelChoice, "auto">;

/** The numerics revision of each build: bumped whenever a build's results change (test/digest.test.ts
 *  pins one digest per revision), so a directory is never resumed or merged across a change of numerics. */
export const REVISION: Record<KernelName, number> = { strict: 1, fma: 1 };

export interface Kernels {
  name: KernelName;
  /** `${name}@${REVISION[name]}`: what a directory's results were computed with */
  id: string;
  module: WebAssembly.Module;
  /** 256-bit tile shapes (V8 revectorizes); the results do not depend on it */
  wide: boolean;
  /** provenance for the metadata: build, SIMD width, Node version, wasm hash */
  detail: string;
}

const FILES: Record<KernelName, string> = {
  strict: fileURLToPath(new URL("../../build/groksweep.wasm", import.meta.url)),
  fma: fileURLToPath(new URL("../../build/groksweep-fma.wasm", import.meta.url)),
};
const NODE_MAJOR = Number(process.versions.node.split(".")[0]);

let wide: boolean | undefined;
/** Whether V8 will revectorize: Node ≥ 24, x64 with AVX2, and not GROKSWEEP_WIDE=0. The first call sets
 *  V8's flags, so it must come before the kernels are compiled; --no-liftoff makes even the first calls
 *  run the optimized (revectorized) code, the code the self-test then checks. */
export function wideSimd(): boolean {
  if (wide !== undefined) return wide;
  wide = NODE_MAJOR >= 24 && process.arch === "x64" && process.env.GROKSWEEP_WIDE !== "0" && cpuFlags().has("avx2");
  if (wide) {
    setFlagsFromString("--experimental-wasm-revectorize");
    setFlagsFromString("--no-liftoff");
  }
  return wide;
}

function cpuFlags(): Set<string> {
  try {
    const line = /^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    return new Set(line ? line[1].trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

const compiled = new Map<KernelName, WebAssembly.Module | null>();
const hashes = new Map<KernelName, string>(); // of the wasm bytes compiled, for the metadata
/** A build, compiled once per process; null where this V8 cannot run it (relaxed SIMD). */
export function compile(name: KernelName): WebAssembly.Module | null {
  if (!compiled.has(name)) {
    wideSimd();
    // Node 20's V8 validates relaxed SIMD only behind a flag (on by default from Node 22, and unknown to 24)
    if (name === "fma" && NODE_MAJOR < 22) setFlagsFromString("--experimental-wasm-relaxed-simd");
    let m: WebAssembly.Module | null = null;
    try {
      const bytes = new Uint8Array(readFileSync(FILES[name]));
      m = new WebAssembly.Module(bytes);
      hashes.set(name, createHash("sha256").update(bytes).digest("hex").slice(0, 12));
    } catch {
      m = null;
    }
    compiled.set(name, m);
  }
  return compiled.get(name)!;
}

/** a·b + c, fused: 2⁻⁴⁶ for a = b = 1 + 2⁻²³, c = −(1 + 2⁻²²); unfused the product rounds to 1 + 2⁻²², giving 0. */
export function probeFused(module: WebAssembly.Module): boolean {
  const abi = instantiateSync(module, {}).exports as unknown as Abi;
  const a = 1 + 2 ** -23,
    c = -(1 + 2 ** -22);
  return abi.fmaProbe(a, a, c) === 2 ** -46;
}

const f32 = new Float32Array(1),
  u32 = new Uint32Array(f32.buffer);
/** The float32 neighbour of float32 x towards +∞ (up) or −∞. */
function next32(x: number, up: boolean): number {
  if (x === 0) return up ? 2 ** -149 : -(2 ** -149);
  f32[0] = x;
  u32[0] += x > 0 === up ? 1 : -1;
  return f32[0];
}

/** fma(a, b, c) rounded once to float32, for float32 a, b, c: the product is exact in float64 (48 bits),
 *  the float64 sum s and its error e (TwoSum) are exact together, and rounding s to float32 is right
 *  unless s lies exactly halfway between two floats, where e's sign decides. */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b,
    s = p + c,
    r = Math.fround(s);
  const bv = s - p,
    e = p - (s - bv) + (c - bv);
  if (e === 0 || r === s || !Number.isFinite(r)) return r;
  const o = next32(r, s > r),
    lo = Math.min(r, o),
    hi = Math.max(r, o);
  return s === (lo + hi) / 2 ? (e > 0 ? hi : lo) : r;
}

/** C = A·B (or Aᵀ·B with A stored K×M) as the kernels compute it: ascending k, from 0 or from C0. */
export function gemmRef(
  A: Float32Array,
  B: Float32Array,
  M: number,
  K: number,
  N: number,
  fused: boolean,
  at = false,
  C0: Float32Array | null = null, // accumulate onto C0
): Float32Array {
  const C = new Float32Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let c = C0 ? C0[i * N + j] : 0;
      for (let k = 0; k < K; k++) {
        const a = at ? A[k * M + i] : A[i * K + k],
          b = B[k * N + j];
        c = fused ? fmaf(a, b, c) : Math.fround(c + Math.fround(a * b));
      }
      C[i * N + j] = c;
    }
  }
  return C;
}

/** The GEMM of a build, on shapes that reach every tile and leftover path of every tile choice (M mod 5,
 *  6, 3; N mod 16, 8, 12; two k-chunks), against gemmRef bit for bit. Returns the first mismatch or null. */
export function selfTest(k: Pick<Kernels, "name" | "module" | "wide">): string | null {
  const abi = instantiateSync(k.module, {}).exports as unknown as Abi;
  abi.setWide(k.wide ? 1 : 0);
  let seed = 12345;
  const rand = () => Math.fround(((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1);
  for (const [M, K, N, at] of [
    [17, 130, 60, false],
    [14, 37, 44, false],
    [23, 131, 28, true],
    [5, 3, 4, false],
  ] as const) {
    const A = Float32Array.from({ length: M * K }, rand),
      B = Float32Array.from({ length: K * N }, rand);
    const base = abi.scratch(4 * (M * K + K * N + M * N));
    const view = (o: number, n: number) => new Float32Array(abi.memory.buffer, base + 4 * o, n);
    view(0, M * K).set(A);
    view(M * K, K * N).set(B);
    const pc = base + 4 * (M * K + K * N);
    if (at) abi.testGemmTN(pc, base, base + 4 * M * K, K, M, N, 0);
    else abi.testGemmNN(pc, base, base + 4 * M * K, M, K, N, 0);
    const got = view(M * K + K * N, M * N),
      want = gemmRef(A, B, M, K, N, k.name === "fma", at);
    for (let i = 0; i < M * N; i++) {
      if (!Object.is(got[i], want[i]))
        return `${at ? "Aᵀ·B" : "A·B"} ${M}×${K}×${N}: C[${i}] = ${got[i]}, expected ${want[i]}`;
    }
  }
  return null;
}

const loaded = new Map<KernelChoice, Kernels>();
/** The kernels for --kernels: auto takes fma where relaxed SIMD runs and is fused, else strict (with one
 *  line on stderr saying why); fma where it is not fused is a usage error (it would give other bits). */
export function loadKernels(
  choice: KernelChoice = "auto",
  warn = (s: string): unknown => process.stderr.write(s),
): Kernels {
  const have = loaded.get(choice);
  if (have) return have;
  let name: KernelName = "strict";
  if (choice !== "strict") {
    const fma = compile("fma");
    const why = !fma
      ? "this Node's V8 cannot run wasm relaxed SIMD"
      : process.env.GROKSWEEP_TEST_UNFUSED || !probeFused(fma)
        ? "relaxed_madd is not fused on this machine"
        : null;
    if (why && choice === "fma") throw new UsageError("--kernels", choice, `auto or strict here (${why})`);
    if (why) warn(`groksweep: strict kernels (mul+add): ${why}; results differ from fma kernels by float32 rounding\n`);
    else name = "fma";
  }
  const k = ready.get(name) ?? checked(name);
  loaded.set(choice, k);
  return k;
}

const ready = new Map<KernelName, Kernels>();
/** A build, compiled and self-tested once per process (auto and fma share it). */
function checked(name: KernelName): Kernels {
  const module = compile(name)!,
    w = wideSimd();
  const failed = selfTest({ name, module, wide: w });
  if (failed) {
    throw new Error(
      `groksweep: the ${name} kernels' GEMM${w ? " (256-bit, revectorized by V8)" : ""} ` +
        `failed its bit-exact self-test: ` +
        `${failed}${w ? "; GROKSWEEP_WIDE=0 turns 256-bit code off" : ""}`,
    );
  }
  const k = {
    name,
    id: `${name}@${REVISION[name]}`,
    module,
    wide: w,
    detail:
      `${name}@${REVISION[name]}; ${w ? "256-bit (V8 revectorize)" : "128-bit"}; ` +
      `node ${process.version}; wasm ${hashes.get(name)}`,
  };
  ready.set(name, k);
  return k;
}

/** The kernels a directory was computed with, as name@revision. Older directories name the strict build
 *  "simd" (the same kernels, bit for bit) and carry no revision (1); "relaxed-simd" was an earlier FMA
 *  build whose results the fma kernels do not reproduce. */
export function kernelsOf(meta: Map<string, string>): string {
  const k = meta.get("groksweep.kernels") ?? "simd";
  return `${k === "simd" ? "strict" : k}@${meta.get("groksweep.kernels_rev") ?? 1}`;
}

/** The metadata entries that record a build. */
export function kernelsMeta(k: Pick<Kernels, "name" | "detail">): [string, string][] {
  return [
    ["groksweep.kernels", k.name],
    ["groksweep.kernels_rev", String(REVISION[k.name])],
    ["groksweep.kernels_detail", k.detail],
  ];
}

/** --kernels auto|fma|strict (--fast-math: the old name of --kernels fma). */
export function kernelChoice(argv: Record<string, unknown>): KernelChoice {
  const v = argv.kernels ?? (argv["fast-math"] ? "fma" : "auto");
  if (!KERNEL_CHOICES.includes(v as KernelChoice)) throw new UsageError("--kernels", v, KERNEL_CHOICES.join(" | "));
  if (argv["fast-math"] && v !== "fma")
    throw new UsageError("--fast-math", true, `no other --kernels than fma (got ${v})`);
  return v as KernelChoice;
}
export const KERNELS_OPTION = {
  type: "string",
  describe: "auto (fma where this machine fuses relaxed_madd, else strict) | fma | strict (mul+add) [auto]",
} as const;
export const FAST_MATH_OPTION = { type: "boolean", describe: "the old name of --kernels fma" } as const;
