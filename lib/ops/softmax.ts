/** Softmax family over the last axis, the fused losses, and argmax. */
import { backend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { checkFloat, checkTensor, empty, record } from './record.js';

function rows(op: string, x: Tensor): [number, number] {
  if (x.rank < 1) throw new Error(`fathom.${op}: expected a tensor of rank >= 1, got a scalar`);
  const d = x.shape[x.rank - 1];
  return [d === 0 ? 0 : x.size / d, d];
}

function softmaxOp(x: Tensor, log: boolean): Tensor {
  const name = log ? 'logSoftmax' : 'softmax';
  checkFloat(name, 'x', x);
  const [n, d] = rows(name, x);
  const y = empty(x.shape);
  backend().softmax(n, d, x.f32(), y.f32(), log);
  return record(y, name, [x]);
}

/** Softmax over the last axis. */
export const softmax = (x: Tensor): Tensor => softmaxOp(x, false);
/** log(softmax(x)) over the last axis, computed stably. */
export const logSoftmax = (x: Tensor): Tensor => softmaxOp(x, true);

/**
 * Mean softmax cross-entropy from logits (n x d). `target` is either int32
 * class indices of shape [n] or float32 probabilities of shape [n, d].
 */
export function softmaxCrossEntropy(logits: Tensor, target: Tensor): Tensor {
  const op = 'softmaxCrossEntropy';
  checkFloat(op, 'logits', logits);
  checkTensor(op, 'target', target);
  if (logits.rank !== 2) throw new Error(`fathom.${op}: logits must be 2-D [n, classes], got ${fmt(logits.shape)}`);
  const [n, d] = logits.shape;
  const prob = empty(logits.shape);
  let loss: number;
  if (target.dtype === 'int32') {
    if (target.rank !== 1 || target.shape[0] !== n) {
      throw new Error(`fathom.${op}: integer labels must have shape [${n}], got ${fmt(target.shape)}`);
    }
    const labels = target.data as Int32Array;
    for (let i = 0; i < n; i++) {
      if (labels[i] < 0 || labels[i] >= d) {
        throw new Error(`fathom.${op}: label ${labels[i]} at index ${i} is outside [0, ${d})`);
      }
    }
    if (n > 0 && d === 0) throw new Error(`fathom.${op}: logits have no classes (shape ${fmt(logits.shape)})`);
    loss = n === 0 ? NaN : backend().xentLabels(n, d, logits.f32(), labels, prob.f32());
  } else {
    if (!sameShape(target.shape, logits.shape)) {
      throw new Error(`fathom.${op}: probability targets must have the logits' shape ${fmt(logits.shape)}, got ${fmt(target.shape)}`);
    }
    loss = n === 0 ? NaN : backend().xentProbs(n, d, logits.f32(), target.f32(), prob.f32());
  }
  const out = new Tensor(new Float32Array([loss]), []);
  return record(out, op, [logits], { prob, target });
}

/** Mean squared error between same-shaped tensors. */
export function mseLoss(pred: Tensor, target: Tensor): Tensor {
  checkFloat('mse', 'pred', pred);
  checkFloat('mse', 'target', target);
  if (!sameShape(pred.shape, target.shape)) {
    throw new Error(`fathom.mse: pred and target must have the same shape, got ${fmt(pred.shape)} and ${fmt(target.shape)}`);
  }
  const loss = pred.size === 0 ? NaN : backend().mse(pred.f32(), target.f32());
  return record(new Tensor(new Float32Array([loss]), []), 'mse', [pred, target]);
}

/**
 * Binary cross-entropy from logits (mean over all elements), computed stably
 * as max(z, 0) - z t + log(1 + exp(-|z|)); the gradient w.r.t. z is
 * (sigmoid(z) - t) / n. `target` holds 0/1 labels or probabilities.
 */
export function bceWithLogits(logits: Tensor, target: Tensor): Tensor {
  const op = 'binaryCrossEntropy';
  checkFloat(op, 'logits', logits);
  checkFloat(op, 'target', target);
  if (!sameShape(logits.shape, target.shape)) {
    throw new Error(`fathom.${op}: logits and target must have the same shape, got ${fmt(logits.shape)} and ${fmt(target.shape)}`);
  }
  const n = logits.size;
  const be = backend();
  let loss = NaN;
  if (n > 0) {
    // Element-wise terms with the kernels: relu(z) - z t + log(1 + exp(-|z|)).
    const z = logits.f32();
    const t = target.f32();
    const a = new Float32Array(n);
    const b = new Float32Array(n);
    be.unary('abs', z, a, 0);
    be.unary('neg', a, a, 0);
    be.unary('exp', a, a, 0);
    be.binaryBroadcast('add', [n], a, [1], new Float32Array([1]), [0], a);
    be.unary('log', a, a, 0);
    be.unary('relu', z, b, 0);
    be.binary('add', a, b, a);
    be.binary('mul', z, t, b);
    be.binary('sub', a, b, a);
    const sum = new Float32Array(1);
    be.reduce('mean', [n], a, [0], sum);
    loss = sum[0];
  }
  return record(new Tensor(new Float32Array([loss]), []), op, [logits], { target });
}

/** Index of the maximum over the last axis, as int32 (not differentiable). */
export function argmax(x: Tensor): Tensor {
  checkFloat('argmax', 'x', x);
  const [n, d] = rows('argmax', x);
  if (d === 0) throw new Error(`fathom.argmax: the last axis is empty (shape ${fmt(x.shape)})`);
  const out = new Tensor(new Int32Array(n), x.shape.slice(0, -1));
  backend().argmax(n, d, x.f32(), out.data as Int32Array);
  return out;
}
