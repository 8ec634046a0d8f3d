// Parameter-free LayerNorm pieces shared by the MLP (on h) and the attention model (pre-LN).
import { hsum, madd } from "./math";

export const LN_EPS: f32 = 1e-5;

/** LayerNorm backward of one row in place, over n real features stored in w4 floats (padding
 *  [n, w4) ends exactly 0): g ← (1/σ)·(g − mean(g) − x̂·mean(g·x̂)). */
export function lnBack(g: usize, xh: usize, inv: f32, w4: i32, n: i32): void {
  let sg = f32x4.splat(0), sgx = f32x4.splat(0);
  for (let k = 0; k < w4; k += 4) {
    const o = <usize>k << 2;
    const gv = v128.load(g + o);
    sg = f32x4.add(sg, gv);
    sgx = madd(sgx, gv, v128.load(xh + o));
  }
  const mg = f32x4.splat(hsum(sg) / <f32>n), mgx = f32x4.splat(hsum(sgx) / <f32>n), vi = f32x4.splat(inv);
  for (let k = 0; k < w4; k += 4) {
    const o = <usize>k << 2;
    v128.store(g + o, f32x4.mul(vi, f32x4.sub(f32x4.sub(v128.load(g + o), mg), f32x4.mul(v128.load(xh + o), mgx))));
  }
  for (let k = n; k < w4; k++) store<f32>(g + (<usize>k << 2), 0);
}
