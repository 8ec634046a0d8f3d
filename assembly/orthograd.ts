// ⊥Grad (Prieto et al., ICLR 2025, "Grokking at the Edge of Numerical Stability"): per tensor, the gradient's
// component along θ is removed and the rest rescaled to the gradient's norm, g ← (g − (θ·g / θ·θ)·θ)·‖g‖/‖g⊥‖,
// so that the update cannot just grow the weights along themselves (naive loss minimization).
import { theta, grad, nTensors, tensor } from "./layout";
import { TensorField, TensorFlag } from "./codes";

let on = false;
export function setOrthoGrad(on_: i32): void { on = on_ != 0; }

/** After the gradient filter, before the optimizer's own terms (padding floats are 0 in θ and g alike). */
export function orthoGrad(): void {
  if (!on) return;
  for (let i = 0; i < nTensors; i++) {
    const flags = tensor(i, TensorField.flags), rows = tensor(i, TensorField.rows);
    const lo = tensor(i, TensorField.offset), hi = lo + (flags & TensorFlag.split ? rows >> 1 : rows) * tensor(i, TensorField.ld);
    let tg: f64 = 0, tt: f64 = 0, gg: f64 = 0;
    for (let k = lo; k < hi; k++) {
      const t = <f64>load<f32>(theta + (<usize>k << 2)), g = <f64>load<f32>(grad + (<usize>k << 2));
      tg += t * g; tt += t * t; gg += g * g;
    }
    if (tt == 0 || gg == 0) continue; // a zero tensor has no direction to remove
    const c = tg / tt;
    let pp: f64 = 0;
    for (let k = lo; k < hi; k++) {
      const e = <f64>load<f32>(grad + (<usize>k << 2)) - c * <f64>load<f32>(theta + (<usize>k << 2));
      pp += e * e;
    }
    if (pp == 0) continue; // g ∥ θ: nothing is left of it
    const s = Math.sqrt(gg / pp);
    for (let k = lo; k < hi; k++) {
      const o = <usize>k << 2;
      store<f32>(grad + o, <f32>((<f64>load<f32>(grad + o) - c * <f64>load<f32>(theta + o)) * s));
    }
  }
}
