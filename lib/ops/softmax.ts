/** Softmax family over the last axis, the fused losses, and argmax. */
import { kernels as backend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { contiguousStrides, fmt, normAxis, sameShape, sizeOf } from '../tensor/shape.js';
import { checkFloat, checkTensor, empty, record } from './record.js';
import { optBool } from './options.js';

function rows(op: string, x: Tensor): [number, number] {
  if (x.rank < 1) throw new Error(`fathom.${op}: expected a tensor of rank >= 1, got a scalar`);
  const d = x.shape[x.rank - 1];
  return [d === 0 ? 0 : x.size / d, d];
}

function softmaxOp(x: Tensor, log: boolean, axis: unknown): Tensor {
  const name = log ? 'logSoftmax' : 'softmax';
  checkFloat(name, 'x', x);
  const [n, d] = rows(name, x);
  if (axis !== undefined) {
    const a = normAxis(name, x.rank, axis);
    if (a !== x.rank - 1) {
      throw new Error(`fathom.${name}: only the last axis is supported (axis -1 or ${x.rank - 1}), got axis ${axis} of shape ${fmt(x.shape)}; transpose the tensor first`);
    }
  }
  const y = empty(x.shape, name);
  if (y.size > 0) backend().softmax(n, d, x.f32(), y.f32(), log);
  return record(y, name, [x]);
}

/**
 * Softmax over the last axis (rank >= 1; an empty tensor gives an empty
 * result). `axis` may be given as -1 or rank − 1 (PyTorch's `dim`); another
 * axis is refused rather than silently ignored.
 */
export const softmax = (x: Tensor, axis?: number): Tensor => softmaxOp(x, false, axis);
/** log(softmax(x)) over the last axis, computed stably; `axis` as for softmax. */
export const logSoftmax = (x: Tensor, axis?: number): Tensor => softmaxOp(x, true, axis);

/**
 * Mean softmax cross-entropy from logits [n, d]. `target` is either int32
 * class indices of shape [n] (each in [0, d)) or float32 probabilities of
 * shape [n, d]. With n = 0 the mean over nothing is NaN, as in PyTorch.
 * @throws when logits are not 2-D float32, d = 0 with rows present, class
 *   indices are not int32 or are out of range, or the shapes differ.
 */
export function softmaxCrossEntropy(logits: Tensor, target: Tensor): Tensor {
  const op = 'softmaxCrossEntropy';
  checkFloat(op, 'logits', logits);
  checkTensor(op, 'target', target);
  if (logits.rank !== 2) throw new Error(`fathom.${op}: logits must be 2-D [n, classes], got ${fmt(logits.shape)}`);
  const [n, d] = logits.shape;
  if (n > 0 && d === 0) throw new Error(`fathom.${op}: logits have no classes (shape ${fmt(logits.shape)})`);
  let loss: number;
  let prob: Tensor;
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
    prob = empty(logits.shape, op);
    loss = n === 0 ? NaN : backend().xentLabels(n, d, logits.f32(), labels, prob.f32());
  } else {
    if (target.rank === 1 && target.shape[0] === n) {
      throw new Error(
        `fathom.${op}: class indices must be int32, got float32 of shape ${fmt(target.shape)} ` +
          `(use tensor(labels, { dtype: 'int32' }), or pass probabilities of shape ${fmt(logits.shape)})`,
      );
    }
    if (!sameShape(target.shape, logits.shape)) {
      throw new Error(
        `fathom.${op}: probability targets must have the logits' shape ${fmt(logits.shape)}, got ${fmt(target.shape)} ` +
          `(or pass int32 class indices of shape [${n}])`,
      );
    }
    prob = empty(logits.shape, op);
    loss = n === 0 ? NaN : backend().xentProbs(n, d, logits.f32(), target.f32(), prob.f32());
  }
  const out = new Tensor(new Float32Array([loss]), []);
  return record(out, op, [logits], { prob, target });
}

/** Mean squared error between same-shaped float32 tensors (NaN for empty ones, as in PyTorch). */
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
 * (sigmoid(z) - t) / n. `target` holds 0/1 labels or probabilities, float32,
 * of the logits' shape. NaN for empty tensors, as in PyTorch.
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
    be.unary('abs', z, a, 0, 0);
    be.unary('neg', a, a, 0, 0);
    be.unary('exp', a, a, 0, 0);
    be.binaryBroadcast('add', [n], a, [1], new Float32Array([1]), [0], a);
    be.unary('log', a, a, 0, 0);
    be.unary('relu', z, b, 0, 0);
    be.binary('add', a, b, a);
    be.binary('mul', z, t, b);
    be.binary('sub', a, b, a);
    const sum = new Float32Array(1);
    be.reduce('mean', [n], a, [0], sum);
    loss = sum[0];
  }
  return record(new Tensor(new Float32Array([loss]), []), op, [logits], { target });
}

/**
 * Element-wise binary cross-entropy of probabilities, PyTorch's BCELoss with
 * reduction 'none': −[t·max(log p, −100) + (1 − t)·max(log(1 − p), −100)],
 * and PyTorch's gradient (p − t) / max(p (1 − p), 1e-12) (finite at p = 0
 * and 1, unlike the derivative of the clamped form). `probs` and `target` are
 * float32 of one shape, checked by the caller (losses.binaryCrossEntropy);
 * no gradient flows to the target.
 */
export function bceProbs(probs: Tensor, target: Tensor): Tensor {
  const op = 'binaryCrossEntropy';
  checkFloat(op, 'pred', probs);
  checkFloat(op, 'target', target);
  if (!sameShape(probs.shape, target.shape)) {
    throw new Error(`fathom.${op}: pred and target must have the same shape, got ${fmt(probs.shape)} and ${fmt(target.shape)}`);
  }
  const n = probs.size;
  const y = empty(probs.shape, op);
  if (n > 0) {
    const be = backend();
    const p = probs.f32();
    const t = target.f32();
    const lp = new Float32Array(n);
    const lq = y.f32();
    const floor = new Float32Array([-100]);
    be.unary('log', p, lp, 0, 0);
    be.binaryBroadcast('max', [n], lp, [1], floor, [0], lp); // max(log p, -100)
    be.binaryBroadcast('sub', [n], new Float32Array([1]), [0], p, [1], lq);
    be.unary('log', lq, lq, 0, 0);
    be.binaryBroadcast('max', [n], lq, [1], floor, [0], lq); // max(log(1 - p), -100)
    be.binary('sub', lp, lq, lp); // t lp + (1 - t) lq = t (lp - lq) + lq
    be.binary('mul', t, lp, lp);
    be.binary('add', lp, lq, lq);
    be.unary('neg', lq, lq, 0, 0);
  }
  return record(y, 'bceProbs', [probs], { target });
}

/**
 * Index of the first maximum along `axis` (default: the last axis; negative
 * counts from the end), as int32 (not differentiable). The axis is dropped
 * unless `keepDims` (default false). NaN handling follows the backend's
 * argmax kernel.
 * @throws when x is not a float32 Tensor of rank >= 1, the axis is out of
 *   range or has size 0.
 */
export function argmax(x: Tensor, axis?: number, keepDims?: boolean): Tensor {
  checkFloat('argmax', 'x', x);
  if (x.rank < 1) throw new Error('fathom.argmax: expected a tensor of rank >= 1, got a scalar');
  const ax = axis === undefined ? x.rank - 1 : normAxis('argmax', x.rank, axis);
  const keep = optBool('argmax', 'keepDims', keepDims, false);
  const d = x.shape[ax];
  const outShape = keep ? x.shape.map((s, i) => (i === ax ? 1 : s)) : x.shape.filter((_, i) => i !== ax);
  const rowsOut = sizeOf(outShape);
  if (d === 0) throw new Error(`fathom.argmax: cannot take the argmax over axis ${ax} of size 0 (tensor of shape ${fmt(x.shape)})`);
  const out = new Tensor(new Int32Array(rowsOut), outShape);
  if (rowsOut === 0) return out;
  const be = backend();
  const outer = sizeOf(x.shape.slice(0, ax));
  const inner = sizeOf(x.shape.slice(ax + 1));
  let rowsData = x.f32();
  if (inner > 1) {
    // Move the axis last: read x [outer, d, inner] as [outer, inner, d] with strides, one kernel call.
    const [so, sd] = contiguousStrides([outer, d, inner]);
    rowsData = new Float32Array(x.size);
    be.binaryBroadcast('mul', [outer, inner, d], x.f32(), [so, 1, sd], new Float32Array([1]), [0, 0, 0], rowsData);
  }
  be.argmax(rowsOut, d, rowsData, out.data as Int32Array);
  return out;
}
