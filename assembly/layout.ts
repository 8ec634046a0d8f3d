// One run's memory: a bump layout from __heap_base, rebuilt by a setup function for every run (no
// GC, no allocator). Sizes are padded to multiples of 4 floats; padding stays exactly zero.
// Shared by every model: θ and its tensor table, grad, Adam moments, data, norm groups.
import { Model, Input, Group, Tensor, TensorField, TensorFlag } from "./codes";

// The model family (the kernels tell Model.attn from the MLP) and how the MLP's first layer sees its
// input: lookup tables T = E·W1 (the paper), fixed one-hot operands (Tian's network: T is W1 itself),
// or a dense input matrix X (sparse parity).
export let model = Model.mlp, input = Input.table;

export let p = 0, d = 0, H = 0;          // real sizes: classes (vocabulary), embedding/input, hidden
export let P4 = 0, D4 = 0, H4 = 0;       // padded to f32x4 lanes
export let nTrain = 0, nTest = 0;
export const EVAL_ROWS = 128;            // rows per evaluation chunk

// Parameters, contiguous. MLP: [E | W1 | W2 | b1 | b2]; the decayed, normed part is [E | W1 | W2].
// W1 is stored as D4 × 2H4, row k = [W1[k, :] | W1[d + k, :]], so E·W1 gives both lookup tables
// (Input.onehot: no E, W1 is the table; Input.dense: no E, W1 is D4 × H4 with d = input width).
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
// Data: pair operands and labels (i32); Input.dense: input rows X (n × D4 floats) and labels.
export let trA: usize = 0, trB: usize = 0, trY: usize = 0, teA: usize = 0, teB: usize = 0, teY: usize = 0;
export let trX: usize = 0, teX: usize = 0;
// The rows a training step sees: the train set, or with --batch a minibatch gathered into mbA, mbB, mbY, mbX.
export let rA: usize = 0, rB: usize = 0, rY: usize = 0, rX: usize = 0, nRows = 0;
export let perm: usize = 0; let mbA: usize = 0, mbB: usize = 0, mbY: usize = 0, mbX: usize = 0;
// Evaluation chunk buffers.
export let evH: usize = 0, evLG: usize = 0, evInv: usize = 0;
// Muon scratch (a padded matrix, its Gram matrix and two temporaries).
export let msX: usize = 0, msA: usize = 0, msB: usize = 0, msT: usize = 0;

// The layout's end in bytes: 64 bits, so that a run too large for wasm32 is measured, not wrapped
// (its addresses are meaningless, and finish() does not commit it).
export let top: u64 = 0;
const WASM32_BYTES: u64 = 0x100000000;

// @ts-ignore: decorator
@inline export function pad4(x: i32): i32 { return (x + 3) & ~3; }

/** A buffer of rows × cols floats, 64-byte aligned (the product in 64 bits: see top). */
export function alloc(rows: i64, cols: i64 = 1): usize {
  const ptr = <usize>top;
  top += (<u64>rows * <u64>cols * 4 + 63) & ~<u64>63;
  return ptr;
}

export function ensure(bytes: usize): void {
  const pages = <i32>((<u64>bytes + 0xffff) >> 16);
  const have = memory.size();
  if (pages > have) {
    if (memory.grow(pages - have) < 0) unreachable();
  }
}

// Norm groups (offsets in floats from θ, [lo, hi)), by Group code.
const GROUPS = memory.data(5 * 8);
export function setGroup(g: i32, lo: i32, hi: i32): void {
  store<i32>(GROUPS + (<usize>g << 3), lo); store<i32>(GROUPS + (<usize>g << 3) + 4, hi);
}
export function groupLo(g: i32): i32 { return load<i32>(GROUPS + (<usize>g << 3)); }
export function groupHi(g: i32): i32 { return load<i32>(GROUPS + (<usize>g << 3) + 4); }

// θ's tensor table, in θ order: what the host reads to move tensors in and out (src/engine.ts) and
// the 2-D matrices Muon orthogonalises (TensorFlag.muon; ascending, disjoint). One entry per
// tensor, its TensorField values as i32s (assembly/codes.ts).
const MAX_TENSORS = 16, FIELDS = 6;
const TENSORS = memory.data(MAX_TENSORS * FIELDS * 4);
export let nTensors = 0;
let thetaEnd: i64 = 0; // floats of θ laid out so far (64 bits, as top)

/** Append a tensor of rows × cols at row stride ld, stored over `stored` rows (≥ its memory rows: zero
 *  padding rows); returns its offset in floats from θ. */
export function addTensor(name: Tensor, rows: i32, cols: i32, ld: i32, stored: i32, flags: i32): i32 {
  const off = reserve(<i64>stored * ld), e = TENSORS + <usize>nTensors * FIELDS * 4;
  store<i32>(e + (TensorField.name << 2), name); store<i32>(e + (TensorField.offset << 2), off);
  store<i32>(e + (TensorField.rows << 2), rows); store<i32>(e + (TensorField.cols << 2), cols);
  store<i32>(e + (TensorField.ld << 2), ld); store<i32>(e + (TensorField.flags << 2), flags);
  nTensors++;
  return off;
}
/** Floats of θ that belong to no tensor (Tian's untrained biases); returns their offset. */
export function reserve(floats: i64): i32 { const off = <i32>thetaEnd; thetaEnd += floats; return off; }
/** θ's floats so far. */
export function thetaSize(): i32 { return <i32>thetaEnd; }
export function tensor(i: i32, field: TensorField): i32 { return load<i32>(TENSORS + (<usize>(i * FIELDS + field) << 2)); }

// Whether Hh/act′/LG (or the attention buffers) hold the train set's forward pass at the current θ,
// as evaluate() leaves them for the next training step (same θ, same bits). Per-run state: begin()
// drops it, and so does anything that could change its inputs (another activation, loss or LayerNorm
// setting, any host access to memory through ptr()).
let fwdKept = false;
export function keepForward(on: bool): void { fwdKept = on; }
/** True once if a kept forward pass is there to start from; the step consumes it. */
export function takeForward(): bool { const k = fwdKept; fwdKept = false; return k; }

/** Start a layout: everything above __heap_base is the run's. */
export function begin(model_: Model): void {
  model = model_;
  fwdKept = false;
  top = (__heap_base + 63) & ~<usize>63;
  nTensors = 0; thetaEnd = 0;
  trX = 0; teX = 0; T = 0; dT = 0; // no stale addresses from another model's layout
  for (let g = 0; g < 5; g++) setGroup(g, 0, 0);
}

/** θ (the tensors laid out so far), grad and both moment buffers; θ[0, nDecay) is decayed and normed. */
export function allocParams(nDecay_: i32, nTrained_: i32): void {
  nParams = <i32>thetaEnd; nDecay = nDecay_; nTrained = nTrained_;
  theta = alloc(thetaEnd); grad = alloc(thetaEnd); mom1 = alloc(thetaEnd); mom2 = alloc(thetaEnd);
  setGroup(Group.all, 0, nDecay);
}

/** Operand/label buffers for nTrain and nTest pairs (dense inputs: rows of `width` floats). */
export function allocData(nTrain_: i32, nTest_: i32, width: i32): void {
  nTrain = nTrain_; nTest = nTest_;
  const n = max(nTrain, 1), m = max(nTest, 1);
  if (width > 0) { trX = alloc(n, width); teX = alloc(m, width); }
  trA = alloc(n); trB = alloc(n); trY = alloc(n);
  teA = alloc(m); teB = alloc(m); teY = alloc(m);
  perm = alloc(n); mbA = alloc(n); mbB = alloc(n); mbY = alloc(n); mbX = width > 0 ? alloc(n, width) : 0;
  setBatch(0, 0, 0);
}

// --batch B: each step trains on the next B rows of a permutation of the train set, drawn afresh (inside-out
// Fisher–Yates) at the start of every epoch; an epoch's last batch holds what remains (fewer rows, its own mean).
// The draws are SplitMix64's outputs mix(key + k·γ), k = 1, 2, … (key: from the host's stream 11 of the seed),
// nTrain an epoch: the order depends on (seed, step) alone. B = 0 or ≥ nTrain: the full batch in its natural order.
let batch = 0, pos = 0, key: u64 = 0, ctr: u64 = 0;
export function setBatch(B: i32, hi: u32, lo: u32): void {
  batch = B < nTrain ? B : 0; pos = 0; key = (<u64>hi << 32) | lo; ctr = 0;
  fullRows();
}
/** Points the step at the whole train set (full batch; evaluate()). */
export function fullRows(): void { rA = trA; rB = trB; rY = trY; rX = trX; nRows = nTrain; }
function splitmix64(): u64 {
  let z = key + ++ctr * 0x9e3779b97f4a7c15;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9; z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}
/** Points the step at its minibatch (nothing at full batch); returns the rows it holds. */
export function nextBatch(): i32 {
  if (!batch) return nRows;
  if (pos == 0) for (let i = 0; i < nTrain; i++) { // perm[i] = perm[j], perm[j] = i, j uniform in [0, i]
    const pj = perm + (<usize>(splitmix64() % <u64>(i + 1)) << 2);
    store<i32>(perm + (<usize>i << 2), load<i32>(pj)); store<i32>(pj, i);
  }
  const m = min(batch, nTrain - pos);
  for (let k = 0; k < m; k++) {
    const i = <usize>load<i32>(perm + (<usize>(pos + k) << 2)) << 2, o = <usize>k << 2;
    store<i32>(mbA + o, load<i32>(trA + i)); store<i32>(mbB + o, load<i32>(trB + i)); store<i32>(mbY + o, load<i32>(trY + i));
    if (mbX) memory.copy(mbX + o * <usize>D4, trX + i * <usize>D4, <usize>D4 << 2);
  }
  pos = (pos + m) % nTrain;
  rA = mbA; rB = mbB; rY = mbY; rX = mbX; nRows = m;
  fwdKept = false; // a kept forward pass is the whole train set's
  return m;
}

/** Muon scratch for the largest of the layout's matrices (rows × cols), padded, with the shorter side
 *  as rows (Newton–Schulz works on X or Xᵀ, whichever is wide). */
export function allocMuon(): void {
  let r = 0, c = 0;
  for (let i = 0; i < nTensors; i++) {
    if (!(tensor(i, TensorField.flags) & TensorFlag.muon)) continue;
    const a = tensor(i, TensorField.rows), b = tensor(i, TensorField.cols);
    r = max(r, pad4(min(a, b))); c = max(c, pad4(max(a, b)));
  }
  msX = alloc(r, c); msT = alloc(r, c); msA = alloc(r, r); msB = alloc(r, r);
}

/** Commit the layout if it fits wasm32 (grow memory and zero it); returns the bytes it needs either
 *  way, for the host to refuse a run that does not fit (src/engine.ts). */
export function finish(): f64 {
  if (top < WASM32_BYTES) {
    ensure(<usize>top);
    memory.fill(__heap_base, 0, <usize>top - __heap_base);
  }
  return <f64>top;
}

/** The MLP family; returns the bytes of memory the run needs (finish()). input: Input.table (p
 *  vocabulary, E p × d), Input.onehot (Tian: d is ignored, W1 is 2p × H), Input.dense (d = input
 *  width, p = classes). Input.onehot trains no biases (they stay 0). */
export function setup(p_: i32, d_: i32, H_: i32, nTrain_: i32, nTest_: i32, input_: Input): f64 {
  begin(Model.mlp);
  input = input_;
  p = p_; d = input == Input.onehot ? p_ : d_; H = H_;
  P4 = pad4(p); D4 = pad4(d); H4 = pad4(H);
  // θ = [E | W1 | W2 | b1 | b2]       name       rows   cols ld      stored flags
  const dense = input == Input.dense, M = TensorFlag.muon, vec = TensorFlag.vector;
  if (input == Input.table) addTensor(Tensor.E,  p,     d, D4,     p,  0);
  const oW1 = dense ?        addTensor(Tensor.W1, d,     H, H4,     D4, M)
                    :        addTensor(Tensor.W1, 2 * d, H, 2 * H4, D4, M | TensorFlag.split);
  const oW2 =                addTensor(Tensor.W2, H,     p, P4,     H4, M);
  const decay = thetaSize();
  if (input == Input.onehot) reserve(H4 + P4); // biases in memory, never trained
  else {                     addTensor(Tensor.b1, 1,     H, H4,     1,  vec);
                             addTensor(Tensor.b2, 1,     p, P4,     1,  vec); }
  nE = oW1; nW1 = oW2 - oW1; nW2 = decay - oW2;
  allocParams(decay, input == Input.onehot ? decay : thetaSize());
  E = theta; W1 = E + (<usize>nE << 2); W2 = W1 + (<usize>nW1 << 2);
  b1 = W2 + (<usize>nW2 << 2); b2 = b1 + (<usize>H4 << 2);
  setGroup(Group.embed, 0, nE); setGroup(Group.mlp, nE, nE + nW1); setGroup(Group.unembed, nE + nW1, decay);
  const n = max(nTrain_, 1);
  if (input == Input.table) { T = alloc(p, 2 * H4); dT = alloc(p, 2 * H4); }
  else if (input == Input.onehot) { T = W1; dT = grad + (<usize>nE << 2); } // the table is W1; its gradient is gW1
  Hh = alloc(n, H4); Dact = alloc(n, H4); DH = alloc(n, H4);
  lnInv = alloc(n); LG = alloc(n, P4);
  W1T = alloc(dense ? H4 : 2 * H4, D4); W2T = alloc(P4, H4);
  allocData(nTrain_, nTest_, dense ? D4 : 0);
  evH = alloc(EVAL_ROWS, H4); evLG = alloc(EVAL_ROWS, P4); evInv = alloc(EVAL_ROWS);
  allocMuon();
  return finish();
}
