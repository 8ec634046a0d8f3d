// Seeded randomness. Generator: xoshiro128** (Blackman & Vigna), 32-bit state words seeded by
// SplitMix32 from (seed, stream); uniforms take 53 bits from two outputs; normals by Box–Muller in
// float64 (V8's Math.log/sin/cos are fdlibm ports: the same bits on every machine).
// Each consumer uses its own stream, so e.g. the init never depends on the split.

export const STREAM = {
  split: 1,
  E: 2,
  W1: 3,
  b1: 4,
  W2: 5,
  b2: 6,
  parityBits: 7,
  parityTrain: 8,
  parityTest: 9,
  labelNoise: 10,
  batch: 11, // --batch: the key of the kernels' minibatch order (assembly/layout.ts nextBatch)
  P: 20,
  Wq: 21,
  Wk: 22,
  Wv: 23,
  Wo: 24,
  Win: 25,
  Wout: 26,
  U: 27, // the attention model's other tensors
} as const;

function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) | 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

export class Rng {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed: number, stream: number) {
    const st = { x: (seed ^ Math.imul(stream + 1, 0x632be5ab)) | 0 };
    st.x = splitmix32(st) ^ Math.imul(Math.floor(seed / 2 ** 32), 0x27d4eb2f);
    for (let i = 0; i < 4; i++) this.s[i] = splitmix32(st);
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  u32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6)) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased (rejection), n ≤ 2^32. */
  int(n: number): number {
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.u32();
      if (x < limit) return x % n;
    }
  }

  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    const u1 = 1 - this.uniform(),
      u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1)),
      th = 2 * Math.PI * u2;
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }

  /** n float32 samples of N(0, std²). */
  normals(n: number, std: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }
}
