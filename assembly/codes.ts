// The codes the host and the kernels exchange, declared once: assembly/ compiles them to constants,
// src/ imports the same enums (src/codes.ts: name ↔ code, and the option values in code order, so a
// member's name is the value the CLI and the Arrow files use). Plain enums only: this file is
// compiled by both asc and tsc.

/** --model. The kernels tell attn from the MLP family; tian is the MLP on one-hot inputs (Input.onehot). */
export enum Model { mlp, attn, tian }
/** How the MLP's first layer sees its input (assembly/layout.ts setup()). */
export enum Input { table, onehot, dense }
/** --act */
export enum Act { gelu, relu, quad }
/** --loss */
export enum Loss { ce, mse, stablemax }
/** --optim */
export enum Optim { adamw, adam, sgd, muon }
/** --wd-schedule's kinds (const, step:S, ramp:S0:S1; asc takes no member named const). */
export enum WdSchedule { constant, step, ramp }
/** --grokfast's filters (assembly/grokfast.ts). */
export enum Grokfast { none, ema, ma }
/** --arm */
export enum Arm { free, clamp, rescale, sphere }
/** --clamp-group: the norm groups (all = the decayed span, ‖W‖). */
export enum Group { all, embed, attn, mlp, unembed }
/** metric(i) after evaluate(). */
export enum Metric { trainLoss, trainAcc, testLoss, testAcc }
/** ptr(which): the run's buffers (train/test operands a, b, labels y, dense inputs X; Adam moments m, v; the
 *  train set's logits/τ as evaluate() leaves them, rows padded to a multiple of 4 classes; --batch's permutation). */
export enum Buf { theta, trainA, trainB, trainY, testA, testB, testY, grad, m, v, trainX, testX, trainLogits, perm }

/** The tensors of every model by name (params.arrow's tensor column), as the layout reports them. */
export enum Tensor { E, W1, b1, W2, b2, P, Wq, Wk, Wv, Wo, Win, Wout, U }
/** tensor(i, field): one entry of the layout's tensor table. rows × cols is the public (unpadded) shape;
 *  row r is stored at offset + r·ld floats from θ, or, Split, at offset + (r − rows/2)·ld + ld/2 for
 *  r ≥ rows/2 (the MLP's W1 = [W1[:d] | W1[d:]]). */
export enum TensorField { name, offset, rows, cols, ld, flags }
/** TensorField.flags bits. */
export enum TensorFlag { vector = 1, split = 2, muon = 4 }
