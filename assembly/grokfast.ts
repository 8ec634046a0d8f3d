// Grokfast (Lee et al. 2024, "Grokfast: Accelerated Grokking by Amplifying Slow Gradients"): before the
// optimizer step the gradient gets λ times its slow component, g ← g + λ·μ, over every trained float:
//   ema:α:λ  μ ← α·μ + (1 − α)·g, μ₀ = g₀ (the authors' gradfilter_ema);
//   ma:w:λ   μ = the mean of the last w gradients, the current one included, from the step that fills the
//            window on (the authors' gradfilter_ma with warmup: no amplification before that).
import { grad, nTrained, alloc, ensure, top } from "./layout";
import { Grokfast } from "./codes";

let kind = Grokfast.none, a: f32 = 0, lambda: f32 = 0, w = 0, seen = 0;
let mu: usize = 0, ring: usize = 0, sum: usize = 0;

/** After setup(): the filter of this run and its buffers; returns the bytes the run now needs (≥ 4 GiB:
 *  nothing is committed, the host refuses the run). */
export function setGrokfast(kind_: i32, param: f64, lambda_: f32): f64 {
  kind = kind_; lambda = lambda_; seen = 0;
  if (kind == Grokfast.none) return <f64>top;
  const start = <usize>top;
  if (kind == Grokfast.ema) { a = <f32>param; mu = alloc(nTrained); }
  else { w = <i32>param; ring = alloc(<i64>w, nTrained); sum = alloc(nTrained, 2); } // the window's sum in f64
  if (top >= 0x100000000) return <f64>top;
  ensure(<usize>top);
  memory.fill(start, 0, <usize>top - start);
  return <f64>top;
}

/** g ← g + λ·μ (the first statement of every optimizer step). */
export function filterGrad(): void {
  if (kind == Grokfast.none) return;
  const n = nTrained, vl = f32x4.splat(lambda);
  if (kind == Grokfast.ema) {
    const va = f32x4.splat(a), vb = f32x4.splat(<f32>1.0 - a);
    for (let i = 0; i < n; i += 4) {
      const o = <usize>i << 2, g = v128.load(grad + o);
      const m = seen == 0 ? g : f32x4.add(f32x4.mul(va, v128.load(mu + o)), f32x4.mul(vb, g));
      v128.store(mu + o, m);
      v128.store(grad + o, f32x4.add(g, f32x4.mul(vl, m)));
    }
  } else {
    const slot = ring + ((<usize>(seen % w) * <usize>n) << 2), full = seen + 1 >= w, inv = 1.0 / <f64>w;
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 2, g = load<f32>(grad + o);
      const s = load<f64>(sum + (<usize>i << 3)) + <f64>g - <f64>load<f32>(slot + o);
      store<f64>(sum + (<usize>i << 3), s);
      store<f32>(slot + o, g);
      if (full) store<f32>(grad + o, g + lambda * <f32>(s * inv));
    }
  }
  seen++;
}
