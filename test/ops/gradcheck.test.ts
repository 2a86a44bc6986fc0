/**
 * A finite-difference check for every entry of the gradient table, on each
 * backend. The last test walks the table and fails for any op without a case
 * here, so a new differentiable op cannot land untested.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as fa from '../../lib/index.js';
import { Tensor, gradients, setBackend, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { UNARY_OP_NAMES, unaryEntry, type PublicUnaryOp, type UnaryOp } from '../../lib/backend/unary_table.js';
import { gradcheck, type GradcheckOptions } from '../helpers/gradcheck.js';
import { randomArray, randomLabels } from '../helpers/random.js';

const t = (shape: number[], seed: number, lo = -1, hi = 1): Tensor =>
  tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape);
/** Values in [lo, hi) pushed to at least 0.2 from 0 (kinks at 0: relu, abs, sign, leakyRelu, elu). */
const awayIn = (shape: number[], seed: number, lo: number, hi: number): Tensor => {
  const x = t(shape, seed, lo, hi);
  const d = x.data as Float32Array;
  for (let i = 0; i < d.length; i++) if (Math.abs(d[i]) < 0.2) d[i] = d[i] >= 0 ? 0.2 + d[i] : -0.2 + d[i];
  return x;
};
/** Values bounded away from 0 (for log, sqrt, div, pow, abs, sign, relu kinks). */
const away = (shape: number[], seed: number): Tensor => {
  const x = t(shape, seed);
  const d = x.data as Float32Array;
  for (let i = 0; i < d.length; i++) d[i] = (d[i] >= 0 ? 1 : -1) * (0.2 + Math.abs(d[i]));
  return x;
};

/** A permutation of 0.05·(0 … n−1) − offset, shuffled by seed: no ties, no near-ties (pooling). */
const distinct = (shape: number[], seed: number): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = randomArray(n, seed, 0, 1);
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => r[a] - r[b]);
  return tensor(Float32Array.from(idx, (k) => 0.05 * k - 0.025 * n), shape);
};

// --- #11 tensor ops ---
/** x with every value moved at least 0.05 away from each kink k (clamp's bounds). */
const awayFrom = (x: Tensor, kinks: number[]): Tensor => {
  const d = x.data as Float32Array;
  for (let i = 0; i < d.length; i++) for (const k of kinks) if (Math.abs(d[i] - k) < 0.05) d[i] = k + (d[i] >= k ? 0.05 : -0.05);
  return x;
};
// --- end #11 tensor ops ---
// --- #11 cells ---
/** rnnSequence's results as one flat tensor (output, h, c), for the probe loss. */
const rnnFlat = (r: fa.RnnSequenceResult): Tensor =>
  fa.concat([fa.reshape(r.output, [r.output.size]), fa.reshape(r.h, [r.h.size]), ...(r.c ? [fa.reshape(r.c, [r.c.size])] : [])], 0);
// --- end #11 cells ---

type Case = { f: (...xs: Tensor[]) => Tensor; inputs: () => Tensor[]; opts?: GradcheckOptions };

/**
 * Calls a unary op of the table through its public function with parameters
 * (p, q): positionally, or as the options object the entry names.
 */
function callUnary(op: UnaryOp, x: Tensor, p: number, q: number): Tensor {
  if (op === 'gelu') return fa.gelu(x);
  if (op === 'geluTanh') return fa.gelu(x, { approximate: 'tanh' });
  const e = unaryEntry(op);
  const f = fa[op as PublicUnaryOp] as (x: Tensor, ...a: unknown[]) => Tensor;
  const params = e.params ?? [];
  if (e.options) return f(x, Object.fromEntries(params.map((s, i) => [s.name, i === 0 ? p : q])));
  return params.length ? f(x, p) : f(x);
}

/** One case per entry of entry.test.grad of every op in THE unary table. */
const unaryCases: Record<string, Case[]> = Object.fromEntries(
  UNARY_OP_NAMES.map((op, k) => {
    const params = unaryEntry(op).params ?? [];
    return [op, unaryEntry(op).test.grad.map((c, j): Case => {
      const p = c.p ?? params[0]?.default ?? 0;
      const q = c.q ?? params[1]?.default ?? 0;
      const seed = 1000 + 10 * k + j;
      return { f: (x) => callUnary(op, x, p, q), inputs: () => [c.away ? awayIn([3, 5], seed, c.lo, c.hi) : t([3, 5], seed, c.lo, c.hi)] };
    })];
  }),
);

const cases: Record<string, Case[]> = {
  ...unaryCases,
  add: [
    { f: (a, b) => fa.add(a, b), inputs: () => [t([3, 4], 13), t([3, 4], 14)] },
    { f: (a, b) => fa.add(a, b), inputs: () => [t([2, 3, 4], 15), t([3, 1], 16)] },
  ],
  sub: [{ f: (a, b) => fa.sub(a, b), inputs: () => [t([4], 17), t([3, 1], 18)] }],
  mul: [
    { f: (a, b) => fa.mul(a, b), inputs: () => [t([3, 4], 19), t([4], 20)] },
    { f: (a, b) => fa.mul(a, b), inputs: () => [t([], 21), t([2, 5], 22)] },
  ],
  div: [{ f: (a, b) => fa.div(a, b), inputs: () => [t([3, 4], 23), away([3, 1], 24)] }],
  maximum: [
    { f: (a, b) => fa.maximum(a, b), inputs: () => [t([9], 25), t([9], 26)] },
    // ties (a == b): the central difference is 1/2 for each input, as the split gradient
    { f: (a, b) => fa.maximum(a, b), inputs: () => [tensor([1, -2, 0.5]), tensor([1, 0, 0.5])] },
  ],
  minimum: [
    { f: (a, b) => fa.minimum(a, b), inputs: () => [t([3, 3], 27), t([3], 28)] },
    { f: (a, b) => fa.minimum(a, b), inputs: () => [tensor([[2, 3], [0, 1]]), tensor([2, 1])] },
  ],
  sum: [
    { f: (x) => fa.sum(x), inputs: () => [t([3, 5], 29)] },
    { f: (x) => fa.sum(x, [0, 2], true), inputs: () => [t([2, 3, 4], 30)] },
  ],
  mean: [
    { f: (x) => fa.mean(x, 1), inputs: () => [t([4, 7], 31)] },
    { f: (x) => fa.mean(x), inputs: () => [t([33], 32)] },
  ],
  max: [
    { f: (x) => fa.max(x, 1), inputs: () => [t([4, 7], 33)] },
    { f: (x) => fa.max(x), inputs: () => [t([2, 3, 2], 34)] },
    // two-way ties: raising one tied entry by h raises the max by h, lowering it leaves the
    // max alone, so the central difference is 1/2 — the evenly split gradient
    { f: (x) => fa.max(x, 1), inputs: () => [tensor([[1, 3, 3], [2, -1, 2]])] },
  ],
  maxout: [
    { f: (x) => fa.maxout(x, 3), inputs: () => [t([4, 6], 70, -2, 2)] },
    { f: (x) => fa.maxout(x, 2), inputs: () => [t([2, 3, 4], 71, -2, 2)] },
    { f: (x) => fa.maxout(x, 4), inputs: () => [t([3, 8], 72, -2, 2)] },
    // With a tie the central difference is 1/2 for each tied entry while the gradient goes to
    // the first (a subgradient): test/ops/activations.test.ts checks ties exactly.
  ],
  // ---- pooling ----
  // maxPool2d: distinct values (a permutation, spaced 0.05 > 2h apart) so no window holds a tie
  // or a near-tie the finite difference would cross; ties are checked exactly in test/ops/pool.test.ts.
  maxPool2d: [
    { f: (x) => fa.maxPool2d(x, 2), inputs: () => [distinct([2, 3, 5, 7], 200)] },
    { f: (x) => fa.maxPool2d(x, 3, { stride: 2, padding: 1 }), inputs: () => [distinct([1, 2, 7, 6], 201)] },
    { f: (x) => fa.maxPool2d(x, [2, 3], { stride: [3, 4], padding: [1, 1] }), inputs: () => [distinct([1, 2, 9, 7], 202)] },
    { f: (x) => fa.maxPool2d(x, 2, { dilation: [2, 3], stride: 1 }), inputs: () => [distinct([1, 1, 6, 7], 203)] },
    { f: (x) => fa.maxPool2d(x, 3, { stride: 2, ceilMode: true }), inputs: () => [distinct([2, 1, 6, 8], 204)] },
    { f: (x) => fa.maxPool2d(x, 1), inputs: () => [distinct([1, 2, 3, 3], 205)] },
  ],
  avgPool2d: [
    { f: (x) => fa.avgPool2d(x, 2), inputs: () => [t([2, 3, 5, 7], 210)] },
    { f: (x) => fa.avgPool2d(x, 3, { stride: 2, padding: 1 }), inputs: () => [t([1, 2, 7, 6], 211)] },
    { f: (x) => fa.avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }), inputs: () => [t([1, 2, 7, 6], 212)] },
    { f: (x) => fa.avgPool2d(x, [2, 3], { stride: [3, 4], padding: [1, 1], ceilMode: true }), inputs: () => [t([1, 2, 9, 7], 213)] },
    { f: (x) => fa.avgPool2d(x, 3, { padding: 1, ceilMode: true, countIncludePad: false, stride: 2 }), inputs: () => [t([2, 1, 6, 8], 214)] },
    { f: (x) => fa.avgPool2d(x, 3, { padding: 1, divisorOverride: 4 }), inputs: () => [t([1, 2, 5, 5], 215)] },
    { f: (x) => fa.avgPool2d(x, 1), inputs: () => [t([1, 2, 3, 3], 216)] },
  ],
  adaptiveAvgPool2d: [
    { f: (x) => fa.adaptiveAvgPool2d(x, 1), inputs: () => [t([2, 3, 5, 4], 220)] },
    { f: (x) => fa.adaptiveAvgPool2d(x, [3, 4]), inputs: () => [t([1, 2, 7, 9], 221)] },
    { f: (x) => fa.adaptiveAvgPool2d(x, [7, 2]), inputs: () => [t([1, 2, 5, 5], 222)] },
    { f: (x) => fa.adaptiveAvgPool2d(x, [null, 2]), inputs: () => [t([1, 1, 3, 6], 223)] },
  ],
  // ---- end pooling ----
  matmul: [
    { f: (a, b) => fa.matmul(a, b), inputs: () => [t([3, 5], 35), t([5, 4], 36)] },
    { f: (a, b) => fa.matmul(a, b, { transA: true }), inputs: () => [t([5, 3], 37), t([5, 4], 38)] },
    { f: (a, b) => fa.matmul(a, b, { transB: true }), inputs: () => [t([3, 5], 39), t([4, 5], 40)] },
    { f: (a, b) => fa.matmul(a, b, { transA: true, transB: true }), inputs: () => [t([5, 3], 41), t([4, 5], 42)] },
  ],
  linear: [
    { f: (x, w, b) => fa.linear(x, w, b), inputs: () => [t([4, 5], 53), t([3, 5], 54), t([3], 55)] },
    { f: (x, w, b) => fa.linear(x, w, b, 'relu'), inputs: () => [t([4, 5], 56), t([7, 5], 57), t([7], 58)] },
    { f: (x, w, b) => fa.linear(x, w, b, 'sigmoid'), inputs: () => [t([3, 9], 59), t([8, 9], 60), t([8], 61)] },
    { f: (x, w) => fa.linear(x, w, null, 'tanh'), inputs: () => [t([3, 6], 62), t([9, 6], 63)] },
  ],
  transpose: [{ f: (x) => fa.transpose(x), inputs: () => [t([3, 7], 43)] }],
  slice: [
    { f: (x) => fa.slice(x, 1, 3), inputs: () => [t([4, 3], 66)] },
    { f: (x) => fa.slice(x, -2), inputs: () => [t([5], 67)] },
  ],
  reshape: [{ f: (x) => fa.reshape(x, [6, -1]), inputs: () => [t([3, 4], 44)] }],
  softmax: [{ f: (x) => fa.softmax(x), inputs: () => [t([3, 7], 45, -3, 3)] }],
  logSoftmax: [{ f: (x) => fa.logSoftmax(x), inputs: () => [t([3, 7], 46, -3, 3)] }],
  softmaxCrossEntropy: [
    { f: (x, y) => fa.softmaxCrossEntropy(x, y), inputs: () => [t([5, 7], 47, -3, 3), tensor(randomLabels(5, 7, 48), [5])], opts: { skip: [1] } },
    {
      f: (x, y) => fa.softmaxCrossEntropy(x, y),
      inputs: () => [t([4, 6], 49, -3, 3), fa.softmax(t([4, 6], 50))],
      opts: { skip: [1] },
    },
  ],
  binaryCrossEntropy: [
    { f: (z, t) => fa.losses.binaryCrossEntropy(z, t), inputs: () => [t([3, 4], 64, -3, 3), t([3, 4], 65, 0, 1)], opts: { skip: [1] } },
    // exactly at z = 0 (zero-initialised logits): the gradient is (0.5 - t) / n
    { f: (z, t) => fa.losses.binaryCrossEntropy(z, t), inputs: () => [fa.zeros([2, 2]), fa.tensor([[1, 0], [0.25, 1]])], opts: { skip: [1] } },
  ],
  mse: [{ f: (a, b) => fa.mseLoss(a, b), inputs: () => [t([4, 3], 51), t([4, 3], 52)] }],
  // probabilities away from 0 and 1 (the clamp at -100 and the 1e-12 floor are checked exactly in test/nn/losses.test.ts)
  bceProbs: [{ f: (p, t) => fa.losses.binaryCrossEntropy(p, t, { fromLogits: false, reduction: 'sum' }), inputs: () => [t([3, 5], 66, 0.1, 0.9), t([3, 5], 67, 0, 1)], opts: { skip: [1] } }],
  // ---- normalisation: training (through the batch statistics) and eval ----
  batchNorm: [
    { f: (x, w, b) => fa.batchNorm(x, null, null, w, b, { training: true }), inputs: () => [t([4, 3], 1001, -2, 2), t([3], 1002, 0.5, 1.5), t([3], 1003)] },
    { f: (x) => fa.batchNorm(x, null, null, null, null, { training: true, eps: 1e-3 }), inputs: () => [t([2, 3, 3, 1], 1004, -2, 2)] },
    { f: (x, w) => fa.batchNorm(x, null, null, w, null, { training: true }), inputs: () => [t([3, 1, 5], 1005, -2, 2), t([1], 1006, 0.5, 1.5)] },
    // two values per channel (the smallest training batch)
    { f: (x, b) => fa.batchNorm(x, null, null, null, b, { training: true, eps: 0.1 }), inputs: () => [t([2, 2], 1007, -2, 2), t([2], 1008)] },
    { f: (x, w, b) => fa.batchNorm(x, t([2], 1009), t([2], 1010, 0.5, 2), w, b), inputs: () => [t([1, 2, 3], 1011, -2, 2), t([2], 1012), t([2], 1013)] },
    { f: (x, b) => fa.batchNorm(x, t([3], 1014), t([3], 1015, 0.5, 2), null, b, { eps: 0.01 }), inputs: () => [t([2, 3], 1016, -2, 2), t([3], 1017)] },
  ],
  layerNorm: [
    { f: (x, w, b) => fa.layerNorm(x, [4, 5], w, b), inputs: () => [t([3, 4, 5], 1020, -2, 2), t([4, 5], 1021, 0.5, 1.5), t([4, 5], 1022)] },
    { f: (x) => fa.layerNorm(x, 7), inputs: () => [t([2, 7], 1023, -2, 2)] },
    { f: (x, b) => fa.layerNorm(x, [3], null, b, { eps: 1e-3 }), inputs: () => [t([4, 3], 1024, -2, 2), t([3], 1025)] },
    { f: (x, w) => fa.layerNorm(x, 2, w), inputs: () => [t([1, 3, 2], 1026, -2, 2), t([2], 1027, 0.5, 1.5)] },
  ],
  // ---- conv: every option of conv2d / conv1d (recorded as conv2d) and convTranspose2d ----
  conv2d: [
    { f: (x, w, b) => fa.conv2d(x, w, b), inputs: () => [t([2, 3, 5, 6], 200), t([4, 3, 3, 2], 201), t([4], 202)] },
    { f: (x, w) => fa.conv2d(x, w, null, { stride: 2, padding: 1 }), inputs: () => [t([1, 2, 7, 5], 203), t([3, 2, 3, 3], 204)] },
    { f: (x, w) => fa.conv2d(x, w, null, { stride: [3, 1], padding: [0, 2] }), inputs: () => [t([2, 1, 7, 4], 205), t([2, 1, 2, 3], 206)] },
    { f: (x, w) => fa.conv2d(x, w, null, { dilation: 2, padding: 2 }), inputs: () => [t([1, 2, 5, 6], 207), t([2, 2, 3, 3], 208)] },
    { f: (x, w, b) => fa.conv2d(x, w, b, { groups: 2, padding: 'same' }), inputs: () => [t([2, 4, 4, 5], 209), t([6, 2, 2, 3], 210), t([6], 211)] },
    { f: (x, w) => fa.conv2d(x, w, null, { groups: 3, padding: 1 }), inputs: () => [t([1, 3, 4, 4], 212), t([3, 1, 3, 3], 213)] }, // depthwise
    { f: (x, w) => fa.conv2d(x, w, null, { padding: 'valid', stride: 4 }), inputs: () => [t([2, 2, 6, 5], 214), t([2, 2, 2, 2], 215)] }, // stride > kernel
    { f: (x, w, b) => fa.conv2d(x, w, b), inputs: () => [t([2, 3, 3, 2], 216), t([4, 3, 1, 1], 217), t([4], 218)] }, // 1×1
    { f: (x, w, b) => fa.conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2 }), inputs: () => [t([2, 2, 9], 219), t([3, 2, 3], 220), t([3], 221)] },
    { f: (x, w) => fa.conv1d(x, w, null, { padding: 'same', groups: 2 }), inputs: () => [t([1, 4, 6], 222), t([2, 2, 4], 223)] },
    // the fused epilogue: relu (inputs away from its kink), sigmoid, tanh
    // (relu: |conv| <= 18 · 0.3² = 1.62 and the bias ±3 or 2.5 keeps every pre-activation >= 0.88 from the kink)
    { f: (x, w, b) => fa.conv2d(x, w, b, { activation: 'relu', padding: 1 }), inputs: () => [t([2, 2, 4, 3], 224, -0.3, 0.3), t([3, 2, 3, 3], 225, -0.3, 0.3), tensor([3, -3, 2.5])] },
    { f: (x, w, b) => fa.conv2d(x, w, b, { activation: 'sigmoid', stride: 2 }), inputs: () => [t([1, 3, 5, 5], 227), t([2, 3, 2, 2], 228), t([2], 229)] },
    { f: (x, w, b) => fa.conv1d(x, w, b, { activation: 'tanh' }), inputs: () => [t([2, 2, 6], 240), t([3, 2, 3], 241), t([3], 242)] },
  ],
  convTranspose2d: [
    { f: (x, w, b) => fa.convTranspose2d(x, w, b), inputs: () => [t([2, 3, 3, 4], 230), t([3, 2, 3, 2], 231), t([2], 232)] },
    { f: (x, w) => fa.convTranspose2d(x, w, null, { stride: 2, padding: 1, outputPadding: 1 }), inputs: () => [t([1, 2, 3, 3], 233), t([2, 3, 3, 3], 234)] },
    { f: (x, w) => fa.convTranspose2d(x, w, null, { stride: [1, 3], dilation: 2, outputPadding: [1, 0] }), inputs: () => [t([2, 1, 3, 2], 235), t([1, 2, 2, 2], 236)] },
    { f: (x, w, b) => fa.convTranspose2d(x, w, b, { groups: 2, padding: [1, 0] }), inputs: () => [t([1, 4, 3, 3], 237), t([4, 3, 3, 2], 238), t([6], 239)] },
  ],
  // --- #11 tensor ops: every option, awkward sizes (1, 7), negative axes ---
  permute: [
    { f: (x) => fa.permute(x, [2, 0, 1]), inputs: () => [t([2, 3, 4], 1100)] },
    { f: (x) => fa.transpose(x, -1, 1), inputs: () => [t([2, 3, 1, 4], 1101)] },
    { f: (x) => fa.permute(x, [1, 0]), inputs: () => [t([7, 1], 1102)] },
  ],
  expand: [
    { f: (x) => fa.expand(x, [2, 3, -1]), inputs: () => [t([3, 1], 1103)] },
    { f: (x) => fa.expand(x, [4, 5]), inputs: () => [t([1, 1], 1104)] },
  ],
  flip: [
    { f: (x) => fa.flip(x, [0, -1]), inputs: () => [t([2, 3, 4], 1105)] },
    { f: (x) => fa.flip(x, 1), inputs: () => [t([3, 7], 1106)] },
  ],
  narrow: [
    { f: (x) => fa.narrow(x, 1, 1, 2), inputs: () => [t([2, 4, 3], 1107)] },
    { f: (x) => fa.narrow(x, -1, -3, 3), inputs: () => [t([3, 7], 1108)] },
    { f: (x) => fa.slice(x, 1, -1, 2), inputs: () => [t([2, 2, 5], 1109)] },
    // split and chunk are narrows: every piece feeds the loss
    { f: (x) => fa.concat(fa.split(x, [1, 3, 3], 1).map((p, i) => fa.mul(p, i + 1)), 1), inputs: () => [t([2, 7], 1110)] },
    { f: (x) => fa.stack(fa.chunk(x, 3, 0).map((p) => fa.sum(fa.square(p), 0)), 0), inputs: () => [t([7, 2], 1111)] },
  ],
  concat: [
    { f: (a, b, c) => fa.concat([a, b, c], 1), inputs: () => [t([2, 1, 3], 1112), t([2, 4, 3], 1113), t([2, 2, 3], 1114)] },
    { f: (a, b) => fa.concat([a, b], -1), inputs: () => [t([3, 2], 1115), t([3, 5], 1116)] },
    { f: (a, b) => fa.stack([a, b], 1), inputs: () => [t([3, 2], 1117), t([3, 2], 1118)] },
    { f: (a, b) => fa.concat([a, b], 0), inputs: () => [t([0, 3], 1119), t([2, 3], 1120)] },
  ],
  index: [
    { f: (x) => fa.index(x, tensor([2, 0, 2, 1], { dtype: 'int32' }), 0), inputs: () => [t([3, 4], 1121)] },
    { f: (x) => fa.index(x, tensor([[1, 1], [0, 2]], { dtype: 'int32' }), 1), inputs: () => [t([2, 3, 2], 1122)] },
    { f: (x) => fa.index(x, tensor([6, 0], { dtype: 'int32' }), -1), inputs: () => [t([2, 7], 1123)] },
  ],
  gather: [
    { f: (x) => fa.gather(x, 1, tensor([[0, 0, 2], [1, 2, 1]], { dtype: 'int32' })), inputs: () => [t([2, 3], 1150)] },
    { f: (x) => fa.gather(x, 0, tensor([[[1], [0]], [[1], [1]]], { dtype: 'int32' })), inputs: () => [t([2, 3, 2], 1151)] },
  ],
  where: [
    { f: (a, b) => fa.where(fa.gt(t([3, 4], 1124), 0), a, b), inputs: () => [t([3, 4], 1125), t([3, 4], 1126)] },
    // broadcast a and b: each sums the gradient of the elements it filled
    { f: (a, b) => fa.where(tensor([1, 0, 1], { dtype: 'int32' }), a, b), inputs: () => [t([2, 1], 1127), t([3], 1128)] },
    { f: (a) => fa.where(fa.lt(t([4], 1129), 0), a, 0.5), inputs: () => [t([4], 1130)] },
  ],
  clamp: [
    { f: (x) => fa.clamp(x, -0.5, 0.5), inputs: () => [awayFrom(t([4, 5], 1131), [-0.5, 0.5])] },
    { f: (x) => fa.clamp(x, null, 0.2), inputs: () => [awayFrom(t([7], 1132), [0.2])] },
    { f: (x) => fa.clamp(x, -0.1), inputs: () => [awayFrom(t([3, 3], 1133), [-0.1])] },
  ],
  cumsum: [
    { f: (x) => fa.cumsum(x, 1), inputs: () => [t([2, 7, 3], 1134)] },
    { f: (x) => fa.cumsum(x, -1), inputs: () => [t([3, 5], 1135)] },
    { f: (x) => fa.cumsum(x, 0), inputs: () => [t([1], 1136)] },
  ],
  matmulBatched: [
    { f: (a, b) => fa.matmul(a, b), inputs: () => [t([2, 3, 4], 1137), t([2, 4, 5], 1138)] },
    // one GEMM over the batch (b shared), and its transposed-b form
    { f: (a, b) => fa.matmul(a, b), inputs: () => [t([2, 3, 4], 1139), t([4, 5], 1140)] },
    { f: (a, b) => fa.matmul(a, b, { transB: true }), inputs: () => [t([3, 1, 2, 4], 1141), t([5, 4], 1142)] },
    // broadcast batch axes, transposed a
    { f: (a, b) => fa.matmul(a, b, { transA: true }), inputs: () => [t([2, 1, 4, 3], 1143), t([3, 4, 2], 1144)] },
    { f: (a, b) => fa.matmul(a, b, { transA: true, transB: true }), inputs: () => [t([4, 3], 1145), t([2, 5, 4], 1146)] },
    { f: (a, b) => fa.matmul(a, b), inputs: () => [t([1, 1, 7], 1147), t([3, 7, 1], 1148)] },
  ],
  // --- end #11 tensor ops ---
  // --- #11 cells: every mode; lengths with a 0 and a T, reverse (more in test/ops/rnn-grad.test.ts) ---
  rnnSequence: [
    { f: (xp, h0, w, b, c0) => rnnFlat(fa.rnnSequence('lstm', xp, h0, c0, w, b, { lengths: Int32Array.from([3, 0]) })),
      inputs: () => [t([2, 3, 8], 1201, -0.6, 0.6), t([2, 2], 1202), t([8, 2], 1203, -0.6, 0.6), t([8], 1204), t([2, 2], 1205)] },
    { f: (xp, h0, w, b) => rnnFlat(fa.rnnSequence('gru', xp, h0, null, w, b, { reverse: true, lengths: Int32Array.from([1, 3]) })),
      inputs: () => [t([2, 3, 9], 1206, -0.6, 0.6), t([2, 3], 1207), t([9, 3], 1208, -0.6, 0.6), t([9], 1209)] },
    { f: (xp, h0, w) => rnnFlat(fa.rnnSequence('rnnTanh', xp, h0, null, w, null)),
      inputs: () => [t([1, 2, 7], 1210), t([1, 7], 1211), t([7, 7], 1212, -0.4, 0.4)] },
    { f: (xp, h0, w, b) => rnnFlat(fa.rnnSequence('rnnRelu', xp, h0, null, w, b, { reverse: true })),
      inputs: () => [t([2, 3, 1], 1213), t([2, 1], 1214), t([1, 1], 1215), t([1], 1216)] },
  ],
  // --- end #11 cells ---
  // --- #11 rnn ---
  embedding: [
    // repeated rows add up; row 3 is never used (its gradient stays 0)
    { f: (w) => fa.embedding(tensor([[2, 0, 2], [1, 0, 4]], { dtype: 'int32' }), w), inputs: () => [t([5, 3], 1251)] },
    // paddingIdx: row 1 gets no gradient (the finite difference sees it in the output, the rule does not)
    { f: (w) => fa.mul(fa.embedding(tensor([1, 0, 1, 6], { dtype: 'int32' }), w, { paddingIdx: -6 }), fa.tensor([[0], [1], [0], [1]])), inputs: () => [t([7, 1], 1252)] },
  ],
  // --- end #11 rnn ---
};

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);

describe.each(backends)('gradient check on the %s backend', (name) => {
  afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));
  for (const [op, list] of Object.entries(cases)) {
    it(op, () => {
      setBackend(name);
      list.forEach((c, i) => gradcheck(`${op}#${i} (${name})`, c.f, c.inputs(), c.opts));
    });
  }
});

describe('the gradient table', () => {
  it('has a finite-difference case for every entry', () => {
    const missing = Object.keys(gradients).filter((op) => !(op in cases));
    expect(missing, `ops in the gradient table without a gradient check: ${missing.join(', ')}`).toEqual([]);
  });
  it('has no case for an op that is not in the table', () => {
    const stale = Object.keys(cases).filter((op) => !(op in gradients));
    expect(stale).toEqual([]);
  });
});
