// Initial weights: std 1/√fan_in (PROTOCOL.md), biases std 1e-6, attn positions std 0.1/√d. Each
// tensor has its own random stream and depends only on (model, sizes, seed) and --init-scale: every
// lr, ρ and arm starts from the same network.
import { Rng, STREAM } from "./rng.js";
import type { Params } from "./engine.js";
import type { RunConfig } from "./options.js";

// scale multiplies the weights (not the biases); at 1 the draw is used as is
function draw(seed: number, stream: number, n: number, std: number, s = 1): Float32Array {
  const x = new Rng(seed, stream).normals(n, std);
  if (s !== 1) for (let i = 0; i < n; i++) x[i] *= s;
  return x;
}

/** The paper's MLP: E (p × d), W1 (2d × H), b1, W2 (H × p), b2. */
export function initParams(p: number, d: number, H: number, seed: number, scale = 1): Params {
  return {
    E: draw(seed, STREAM.E, p * d, 1 / Math.sqrt(d), scale),
    W1: draw(seed, STREAM.W1, 2 * d * H, 1 / Math.sqrt(2 * d), scale),
    b1: draw(seed, STREAM.b1, H, 1e-6),
    W2: draw(seed, STREAM.W2, H * p, 1 / Math.sqrt(H), scale),
    b2: draw(seed, STREAM.b2, p, 1e-6),
  };
}

/** Any model's initial parameters, named as the kernels' tensor table names them (assembly/codes.ts Tensor). */
export function initFor(c: RunConfig): Params {
  const { p, d, H, seed, initScale: s } = c;
  if (c.model === "tian") {
    // one-hot inputs: W (2p × H) and V (H × p), no biases
    const w = initParams(p, p, H, seed, s);
    return { W1: w.W1, W2: w.W2 };
  }
  if (c.task === "parity") {
    // dense ±1 inputs: W1 (n × H), W2 (H × 2)
    return {
      W1: draw(seed, STREAM.W1, d * H, 1 / Math.sqrt(d), s),
      b1: draw(seed, STREAM.b1, H, 1e-6),
      W2: draw(seed, STREAM.W2, H * p, 1 / Math.sqrt(H), s),
      b2: draw(seed, STREAM.b2, p, 1e-6),
    };
  }
  if (c.model === "attn") {
    const V = p + 1,
      sd = 1 / Math.sqrt(d);
    return {
      E: draw(seed, STREAM.E, V * d, sd, s),
      P: draw(seed, STREAM.P, 3 * d, 0.1 / Math.sqrt(d), s),
      Wq: draw(seed, STREAM.Wq, d * d, sd, s),
      Wk: draw(seed, STREAM.Wk, d * d, sd, s),
      Wv: draw(seed, STREAM.Wv, d * d, sd, s),
      Wo: draw(seed, STREAM.Wo, d * d, sd, s),
      Win: draw(seed, STREAM.Win, d * H, sd, s),
      Wout: draw(seed, STREAM.Wout, H * d, 1 / Math.sqrt(H), s),
      U: draw(seed, STREAM.U, d * V, sd, s),
    };
  }
  return initParams(p, d, H, seed, s);
}
