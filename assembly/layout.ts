// One run's memory: a bump layout from __heap_base, rebuilt by a setup function for every run (no
// GC, no allocator). Sizes are padded to multiples of 4 floats; padding stays exactly zero.
// Shared by every model: θ, grad, Adam moments, data, norm groups, the matrix list for Muon.

export const MODEL_MLP = 0, MODEL_ATTN = 1;
// How the MLP's first layer sees its input: lookup tables T = E·W1 (the paper), fixed one-hot
// operands (Tian's network: T is W1 itself), or a dense input matrix X (sparse parity).
export const IN_TABLE = 0, IN_ONEHOT = 1, IN_DENSE = 2;
export let model = MODEL_MLP, input = IN_TABLE;

export let p = 0, d = 0, H = 0;          // real sizes: classes (vocabulary), embedding/input, hidden
export let P4 = 0, D4 = 0, H4 = 0;       // padded to f32x4 lanes
export let nTrain = 0, nTest = 0;
export const EVAL_ROWS = 128;            // rows per evaluation chunk

// Parameters, contiguous. MLP: [E | W1 | W2 | b1 | b2]; the decayed, normed part is [E | W1 | W2].
// W1 is stored as D4 × 2H4, row k = [W1[k, :] | W1[d + k, :]], so E·W1 gives both lookup tables
// (IN_ONEHOT: no E, W1 is the table; IN_DENSE: no E, W1 is D4 × H4 with d = input width).
export let theta: usize = 0, grad: usize = 0, mom1: usize = 0, mom2: usize = 0;
export let nParams = 0, nDecay = 0, nTrained = 0;  // θ[0, nTrained) is trained, θ[0, nDecay) decayed
export let E: usize = 0, W1: usize = 0, W2: usize = 0, b1: usize = 0, b2: usize = 0;
export let nE = 0, nW1 = 0, nW2 = 0;
// Training activations.
export let T: usize = 0, dT: usize = 0;          // p × 2H4 lookup tables and their gradient
export let Hh: usize = 0, Dact: usize = 0;      // n × H4 hidden (after LN if on), act'(z)
export let lnInv: usize = 0;                    // n: 1/σ of each row's LayerNorm
export let LG: usize = 0, DH: usize = 0;        // n × P4 logits → dlogits; n × H4 dh → dz
export let W1T: usize = 0, W2T: usize = 0;      // transposes for the backward GEMMs
// Data: pair operands and labels (i32); IN_DENSE: input rows X (n × D4 floats) and labels.
export let trA: usize = 0, trB: usize = 0, trY: usize = 0, teA: usize = 0, teB: usize = 0, teY: usize = 0;
export let trX: usize = 0, teX: usize = 0;
// Evaluation chunk buffers.
export let evH: usize = 0, evLG: usize = 0, evInv: usize = 0;
// Muon scratch (a padded matrix, its Gram matrix and two temporaries).
export let msX: usize = 0, msA: usize = 0, msB: usize = 0, msT: usize = 0;
export let top: usize = 0;

// @ts-ignore: decorator
@inline export function pad4(x: i32): i32 { return (x + 3) & ~3; }

export function alloc(floats: i32): usize {
  const ptr = top;
  const bytes = (<u64>floats * 4 + 63) & ~<u64>63;
  if (<u64>top + bytes >= 0xFFFF0000) unreachable(); // past wasm32's 4 GiB: the host checks first
  top += <usize>bytes;
  return ptr;
}

export function ensure(bytes: usize): void {
  const pages = <i32>((bytes + 0xffff) >>> 16);
  const have = memory.size();
  if (pages > have) {
    if (memory.grow(pages - have) < 0) unreachable();
  }
}

// Norm groups (offsets in floats from θ, [lo, hi)): 0 all decayed, 1 embed, 2 attn, 3 mlp, 4 unembed.
export const G_ALL = 0, G_EMBED = 1, G_ATTN = 2, G_MLP = 3, G_UNEMBED = 4;
const GROUPS = memory.data(5 * 8);
export function setGroup(g: i32, lo: i32, hi: i32): void {
  store<i32>(GROUPS + (<usize>g << 3), lo); store<i32>(GROUPS + (<usize>g << 3) + 4, hi);
}
export function groupLo(g: i32): i32 { return load<i32>(GROUPS + (<usize>g << 3)); }
export function groupHi(g: i32): i32 { return load<i32>(GROUPS + (<usize>g << 3) + 4); }

// The 2-D weight matrices Muon orthogonalises, by offset (ascending, disjoint): logical rows × cols,
// row stride ld; split = the MLP's W1 storage (logical row r < rows/2 at r·ld, else at (r − rows/2)·ld + ld/2).
export const MAX_MATS = 8;
const MATS = memory.data(MAX_MATS * 20);
export let nMats = 0;
export function addMat(off: i32, rows: i32, cols: i32, ld: i32, split: bool): void {
  const m = MATS + <usize>nMats * 20;
  store<i32>(m, off); store<i32>(m, rows, 4); store<i32>(m, cols, 8); store<i32>(m, ld, 12); store<i32>(m, split ? 1 : 0, 16);
  nMats++;
}
export function mat(i: i32, field: i32): i32 { return load<i32>(MATS + <usize>i * 20 + (<usize>field << 2)); }

// Whether Hh/act′/LG (or the attention buffers) hold the train set's forward pass at the current θ,
// as evaluate() leaves them for the next training step (same θ, same bits). Per-run state: begin()
// drops it, and so does anything that could change its inputs (another activation, loss or LayerNorm
// setting, any host access to memory through ptr()).
let fwdKept = false;
export function keepForward(on: bool): void { fwdKept = on; }
/** True once if a kept forward pass is there to start from; the step consumes it. */
export function takeForward(): bool { const k = fwdKept; fwdKept = false; return k; }

/** Start a layout: everything above __heap_base is the run's. */
export function begin(model_: i32): void {
  model = model_;
  fwdKept = false;
  top = (__heap_base + 63) & ~<usize>63;
  nMats = 0;
  trX = 0; teX = 0; T = 0; dT = 0; // no stale addresses from another model's layout
  for (let g = 0; g < 5; g++) setGroup(g, 0, 0);
}

/** θ, grad and both moment buffers: nParams floats, of which [0, nDecay) is decayed and normed. */
export function allocParams(nParams_: i32, nDecay_: i32, nTrained_: i32): void {
  nParams = nParams_; nDecay = nDecay_; nTrained = nTrained_;
  theta = alloc(nParams); grad = alloc(nParams); mom1 = alloc(nParams); mom2 = alloc(nParams);
  setGroup(G_ALL, 0, nDecay);
}

/** Operand/label buffers for nTrain and nTest pairs (dense inputs: rows of `width` floats). */
export function allocData(nTrain_: i32, nTest_: i32, width: i32): void {
  nTrain = nTrain_; nTest = nTest_;
  const n = max(nTrain, 1), m = max(nTest, 1);
  if (width > 0) { trX = alloc(n * width); teX = alloc(m * width); }
  trA = alloc(n); trB = alloc(n); trY = alloc(n);
  teA = alloc(m); teB = alloc(m); teY = alloc(m);
}

/** Muon scratch for the largest matrix of the layout's list (mat(i, 1) × mat(i, 2)), padded, with the
 *  shorter side as rows (Newton–Schulz works on X or Xᵀ, whichever is wide). */
export function allocMuon(): void {
  let r = 0, c = 0;
  for (let i = 0; i < nMats; i++) {
    const a = mat(i, 1), b = mat(i, 2);
    r = max(r, pad4(min(a, b))); c = max(c, pad4(max(a, b)));
  }
  msX = alloc(r * c); msT = alloc(r * c); msA = alloc(r * r); msB = alloc(r * r);
}

/** Commit the layout: grow memory and zero it. */
export function finish(): void {
  ensure(top);
  memory.fill(__heap_base, 0, top - __heap_base);
}

/** The MLP family. input: IN_TABLE (p vocabulary, E p × d), IN_ONEHOT (Tian: d is ignored, W1 is
 *  2p × H), IN_DENSE (d = input width, p = classes). IN_ONEHOT trains no biases (they stay 0). */
export function setup(p_: i32, d_: i32, H_: i32, nTrain_: i32, nTest_: i32, input_: i32): void {
  begin(MODEL_MLP);
  input = input_;
  p = p_; d = input == IN_ONEHOT ? p_ : d_; H = H_;
  P4 = pad4(p); D4 = pad4(d); H4 = pad4(H);
  nE = input == IN_TABLE ? p * D4 : 0;
  nW1 = input == IN_DENSE ? D4 * H4 : D4 * 2 * H4;
  nW2 = H4 * P4;
  const decay = nE + nW1 + nW2, all = decay + H4 + P4;
  allocParams(all, decay, input == IN_ONEHOT ? decay : all);
  E = theta; W1 = E + (<usize>nE << 2); W2 = W1 + (<usize>nW1 << 2);
  b1 = W2 + (<usize>nW2 << 2); b2 = b1 + (<usize>H4 << 2);
  setGroup(G_EMBED, 0, nE); setGroup(G_MLP, nE, nE + nW1); setGroup(G_UNEMBED, nE + nW1, decay);
  addMat(nE, input == IN_DENSE ? d : 2 * d, H, input == IN_DENSE ? H4 : 2 * H4, input != IN_DENSE);
  addMat(nE + nW1, H, p, P4, false);
  const n = max(nTrain_, 1);
  if (input == IN_TABLE) { T = alloc(p * 2 * H4); dT = alloc(p * 2 * H4); }
  else if (input == IN_ONEHOT) { T = W1; dT = grad + (<usize>nE << 2); } // the table is W1; its gradient is gW1
  Hh = alloc(n * H4); Dact = alloc(n * H4); DH = alloc(n * H4);
  lnInv = alloc(n); LG = alloc(n * P4);
  W1T = alloc(input == IN_DENSE ? H4 * D4 : 2 * H4 * D4); W2T = alloc(P4 * H4);
  allocData(nTrain_, nTest_, input == IN_DENSE ? D4 : 0);
  evH = alloc(EVAL_ROWS * H4); evLG = alloc(EVAL_ROWS * P4); evInv = alloc(EVAL_ROWS);
  allocMuon();
  finish();
}
