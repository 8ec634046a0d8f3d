// The kernel ABI (its codes: assembly/codes.ts). One instance trains one run at a time:
//   setup(p, d, H, nTrain, nTest, input) or setupAttn(…) → the bytes it needs, the tensor table
//   (tensors(), tensor(i, field)) → write θ and data at ptr(Buf…)
//   → setOptim/setWdSchedule/setModel|setAttnLayernorm/setLoss/setClampGroup/setArm/setBatch
//   → advance(k) trains k steps inside wasm → evaluate() → metric(i), norms → … → next setup.
import { setup, ensure, top, theta, grad, mom1, mom2, trA, trB, trY, teA, teB, teY, trX, teX, nTrain, nTest,
         T, D4, model, keepForward, nTensors, nParams, tensor, groupLo, groupHi, LG, perm, nextBatch, fullRows } from "./layout";
import { Model, Arm, Buf, Metric } from "./codes";
import { forwardBackward, tables, mlpEvalSet, mlpEvalTrain, setModel, setLoss } from "./mlp";
import { setupAttn, setAttnLayernorm, attnForwardBackward, attnEvalSet, attnEvalTrain, attnLogits } from "./attn";
import { correct, resetCorrect } from "./xent";
import { optimStep, setOptim, setWdSchedule, clampNorm, weightNorm, groupNorm, setClampGroup, sumSq } from "./optim";
import { exp4, erf4, act4, actSpan, madd } from "./math";
import { gemmNN, gemmTN } from "./gemm";
export { setWide } from "./gemm";
export { setGrokfast } from "./grokfast";
export { setTau } from "./xent";
export { setOrthoGrad } from "./orthograd";
export { mlpLogits } from "./mlp";
import { mark, P_START, P_MODEL, P_OPTIM, P_CLAMP } from "./profile";

export { setup, setupAttn, setAttnLayernorm, setOptim, setWdSchedule, setModel, setLoss, setClampGroup, weightNorm, groupNorm };
export { tensor, nextBatch };
export { setBatch } from "./layout";
/** The run's tensors in θ order: tensor(i, TensorField…) for i < tensors(). */
export function tensors(): i32 { return nTensors; }
/** Group g's span of θ in floats: [groupSpan(g, 0), groupSpan(g, 1)) (empty where the model lacks it). */
export function groupSpan(g: i32, end: i32): i32 { return end ? groupHi(g) : groupLo(g); }
/** θ's length in floats (the tensors and their padding). */
export function thetaFloats(): i32 { return nParams; }
/** The row stride (floats) of the dense inputs at ptr(Buf.trainX) and ptr(Buf.testX). */
export function xStride(): i32 { return D4; }

let arm = Arm.free, tInt = 0, target: f64 = 0;
let t = 0;            // optimizer steps taken
let lastLoss: f64 = 0;

export function setArm(arm_: i32, tInt_: i32, target_: f64): void { arm = arm_; tInt = tInt_; target = target_; t = 0; }

/** Buffer addresses for the host, by Buf code. */
export function ptr(which: Buf): usize {
  keepForward(false); // the host may write what a kept forward pass was computed from
  switch (which) {
    case Buf.theta: return theta; case Buf.trainA: return trA; case Buf.trainB: return trB; case Buf.trainY: return trY;
    case Buf.testA: return teA; case Buf.testB: return teB; case Buf.testY: return teY;
    case Buf.grad: return grad; case Buf.m: return mom1; case Buf.v: return mom2;
    case Buf.trainX: return trX; case Buf.testX: return teX;
    case Buf.trainLogits: return model == Model.attn ? attnLogits() : LG; case Buf.perm: return perm;
  }
  return 0;
}

/** Train up to k steps; stops early (before updating) when the loss is not finite. Returns steps done. */
export function advance(k: i32): i32 {
  for (let s = 0; s < k; s++) {
    nextBatch(); // --batch: the step's rows
    mark(P_START);
    const loss = model == Model.attn ? attnForwardBackward() : forwardBackward();
    mark(P_MODEL);
    lastLoss = loss;
    if (!isFinite(loss)) return s;
    optimStep(++t);
    mark(P_OPTIM);
    if (arm == Arm.sphere || (arm == Arm.clamp && t >= tInt) || (arm == Arm.rescale && t == tInt)) clampNorm(target);
    mark(P_CLAMP);
  }
  return k;
}
/** Loss and gradient (into ptr(Buf.grad)) at the current parameters, without updating them. */
export function gradient(): f64 { return model == Model.attn ? attnForwardBackward() : forwardBackward(); }
export function step(): i32 { return t; }
export function loss(): f64 { return lastLoss; }

// (no managed allocations anywhere: the stub runtime's heap is reused by setup())
let trainLoss: f64 = 0, trainAcc: f64 = 0, testLoss: f64 = 0, testAcc: f64 = 0;
/** Train loss, train accuracy, test loss, test accuracy at the current parameters → metric(Metric…). */
export function evaluate(): void {
  // the train set through the training forward pass, kept for the next step (mlp.ts, attn.ts);
  // the test set in chunks (the token tables are current after the train pass)
  resetCorrect();
  fullRows();
  trainLoss = (model == Model.attn ? attnEvalTrain() : mlpEvalTrain()) / <f64>nTrain;
  trainAcc = <f64>correct / <f64>nTrain;
  resetCorrect();
  testLoss = (model == Model.attn ? attnEvalSet(teA, teB, teY, nTest) : mlpEvalSet(teA, teB, teX, teY, nTest)) / <f64>nTest;
  testAcc = <f64>correct / <f64>nTest;
}
export function metric(i: Metric): f64 {
  return i == Metric.trainLoss ? trainLoss : i == Metric.trainAcc ? trainAcc : i == Metric.testLoss ? testLoss : testAcc;
}

// Kernel entry points for tests (scratch memory above the run's layout).
export function scratch(bytes: usize): usize { ensure(<usize>top + bytes); return <usize>top; }
export function testGemmNN(c: usize, a: usize, b: usize, M: i32, K: i32, N: i32, acc: bool): void { gemmNN(c, a, b, M, K, N, K, N, N, acc); }
export function testGemmTN(c: usize, a: usize, b: usize, R: i32, M: i32, N: i32, acc: bool): void { gemmTN(c, a, b, R, M, N, M, N, N, acc); }
export function testExp(out: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(out + (<usize>i << 2), exp4(v128.load(x + (<usize>i << 2))));
}
export function testErf(out: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i += 4) v128.store(out + (<usize>i << 2), erf4(v128.load(x + (<usize>i << 2))));
}
export function testAct(h: usize, dh: usize, z: usize, n: i32, act: i32): void {
  for (let i = 0; i < n; i += 4) { const o = <usize>i << 2; act4(v128.load(z + o), act, h + o, dh + o); }
}
/** actSpan (four vectors in lockstep) over n floats; h may equal z, dh = 0 skips the derivative. */
export function testActSpan(h: usize, dh: usize, z: usize, n: i32, act: i32): void { actSpan(z, h, dh, n, act); }
export function testSumSq(x: usize, n: i32): f64 { return sumSq(x, n); }
export function testTables(): usize { tables(); return T; }

// The ceiling of this build's multiply-add (fused in the FMA build), in the shape V8's revectorizer
// pairs: N chains (12 or 16, a constant after inlining) that start from memory and end in adjacent
// stores (the +16 half first, which its cost model wants). 12 chains stay in xmm registers; 16 make
// 8 ymm chains when revectorized (and spill when not). N madds of 4 lanes per iteration.
// @ts-ignore: decorator
@inline function peakChains(iters: i32, buf: usize, N: i32): void {
  let a0 = v128.load(buf), a1 = v128.load(buf, 16), a2 = v128.load(buf, 32), a3 = v128.load(buf, 48);
  let a4 = v128.load(buf, 64), a5 = v128.load(buf, 80), a6 = v128.load(buf, 96), a7 = v128.load(buf, 112);
  let a8 = v128.load(buf, 128), a9 = v128.load(buf, 144), a10 = v128.load(buf, 160), a11 = v128.load(buf, 176);
  let a12 = a0, a13 = a0, a14 = a0, a15 = a0;
  if (N > 12) { a12 = v128.load(buf, 192); a13 = v128.load(buf, 208); a14 = v128.load(buf, 224); a15 = v128.load(buf, 240); }
  const m = v128.load(buf, 256), c = v128.load(buf, 272);
  for (let i = 0; i < iters; i++) {
    a0 = madd(c, a0, m); a1 = madd(c, a1, m); a2 = madd(c, a2, m); a3 = madd(c, a3, m);
    a4 = madd(c, a4, m); a5 = madd(c, a5, m); a6 = madd(c, a6, m); a7 = madd(c, a7, m);
    a8 = madd(c, a8, m); a9 = madd(c, a9, m); a10 = madd(c, a10, m); a11 = madd(c, a11, m);
    if (N > 12) { a12 = madd(c, a12, m); a13 = madd(c, a13, m); a14 = madd(c, a14, m); a15 = madd(c, a15, m); }
  }
  v128.store(buf, a1, 16); v128.store(buf, a0); v128.store(buf, a3, 48); v128.store(buf, a2, 32);
  v128.store(buf, a5, 80); v128.store(buf, a4, 64); v128.store(buf, a7, 112); v128.store(buf, a6, 96);
  v128.store(buf, a9, 144); v128.store(buf, a8, 128); v128.store(buf, a11, 176); v128.store(buf, a10, 160);
  if (N > 12) { v128.store(buf, a13, 208); v128.store(buf, a12, 192); v128.store(buf, a15, 240); v128.store(buf, a14, 224); }
}
/** 128-bit multiply-add ceiling: 12 madds of 4 lanes per iteration (buf: 288 bytes). */
export function peakMadd12(iters: i32, buf: usize): void { peakChains(iters, buf, 12); }
/** 256-bit ceiling where V8 revectorizes: 16 madds of 4 lanes per iteration (buf: 288 bytes). */
export function peakMadd16(iters: i32, buf: usize): void { peakChains(iters, buf, 16); }

export { newtonSchulz } from "./muon";

/** lane 0 of madd(c, a, b): the load-time probe of whether this build's multiply-add is fused (src/kernels.ts). */
export function fmaProbe(a: f32, b: f32, c: f32): f32 {
  return f32x4.extract_lane(madd(f32x4.splat(c), f32x4.splat(a), f32x4.splat(b)), 0);
}
