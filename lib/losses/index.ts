/**
 * Loss functions (mean reduction). Each checks the form of its target first
 * and names itself in the error (`fathom.crossEntropy: …`), so a target in the
 * wrong form (float class labels, int32 binary labels, a [n] target for [n, 1]
 * predictions) is refused with what was expected, not a shape mismatch deep in an op.
 */
import { Tensor } from '../tensor/tensor.js';
import { bceWithLogits, mseLoss, softmaxCrossEntropy } from '../ops/index.js';
import { describe } from '../ops/record.js';
import { fmt, sameShape } from '../tensor/shape.js';

function checkPred(op: string, name: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`fathom.${op}: ${name} must be a Tensor, got ${describe(x)}`);
  if (x.dtype !== 'float32') throw new Error(`fathom.${op}: ${name} must be float32, got ${x.dtype} ${fmt(x.shape)}`);
  return x;
}

function checkTarget(op: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`fathom.${op}: target must be a Tensor, got ${describe(x)}`);
  return x;
}

/** A hint when two shapes hold the same number of values ([n] against [n, 1]). */
function reshapeHint(want: readonly number[], got: Tensor): string {
  let size = 1;
  for (const d of want) size *= d;
  return size === got.size ? ` (same number of values: reshape the target to ${fmt(want)})` : '';
}

/**
 * Softmax cross-entropy from logits [n, classes], mean over the n rows
 * (PyTorch's CrossEntropyLoss). `target` is int32 class indices [n] in
 * [0, classes), or float32 one-hot / probability rows [n, classes].
 * @throws if logits are not float32 [n, classes]; if float32 targets are class
 *   indices ([n] or [n, 1]: "class indices must be int32"); if int32 targets are
 *   not [n] or hold a label outside [0, classes).
 */
export function crossEntropy(logits: Tensor, target: Tensor): Tensor {
  const op = 'crossEntropy';
  checkPred(op, 'logits', logits);
  checkTarget(op, target);
  if (logits.rank !== 2) throw new Error(`fathom.${op}: logits must be 2-D [n, classes], got ${fmt(logits.shape)}`);
  const [n, classes] = logits.shape;
  if (target.dtype === 'int32') {
    if (target.rank !== 1 || target.shape[0] !== n) {
      throw new Error(`fathom.${op}: class indices must have shape [${n}] for logits ${fmt(logits.shape)}, got ${fmt(target.shape)}${reshapeHint([n], target)}`);
    }
  } else if (!sameShape(target.shape, logits.shape)) {
    if ((target.rank === 1 && target.shape[0] === n) || (target.rank === 2 && target.shape[0] === n && target.shape[1] === 1)) {
      throw new Error(
        `fathom.${op}: class indices must be int32, got float32 ${fmt(target.shape)} ` +
        `(make them with tensor(labels, { dtype: 'int32' }), or pass one-hot rows [${n}, ${classes}])`,
      );
    }
    throw new Error(`fathom.${op}: target must be int32 class indices [${n}] or float32 one-hot rows ${fmt(logits.shape)}, got ${target.dtype} ${fmt(target.shape)}`);
  }
  return softmaxCrossEntropy(logits, target);
}

/**
 * Mean squared error between pred and a target of the same shape (both float32).
 * @throws if either is not a float32 Tensor or the shapes differ.
 */
export function mse(pred: Tensor, target: Tensor): Tensor {
  const op = 'mse';
  checkPred(op, 'pred', pred);
  checkPred(op, 'target', checkTarget(op, target));
  if (!sameShape(pred.shape, target.shape)) {
    throw new Error(`fathom.${op}: target must have the predictions' shape ${fmt(pred.shape)}, got ${fmt(target.shape)}${reshapeHint(pred.shape, target)}`);
  }
  return mseLoss(pred, target);
}

/**
 * Binary cross-entropy from logits, mean over all elements (PyTorch's
 * BCEWithLogitsLoss): mean(max(z, 0) - z t + log(1 + exp(-|z|))), gradient
 * (sigmoid(z) - t) / n (one op in the gradient table, so it is exact at z = 0 too).
 * `target` is float32 0/1 labels or probabilities in [0, 1], of the logits' shape.
 * @throws if the target is int32, of another shape, or holds a value outside [0, 1] (or NaN).
 */
export function binaryCrossEntropy(logits: Tensor, target: Tensor): Tensor {
  const op = 'binaryCrossEntropy';
  checkPred(op, 'logits', logits);
  checkTarget(op, target);
  if (target.dtype !== 'float32') {
    throw new Error(`fathom.${op}: target must be float32 0/1 labels or probabilities, got ${target.dtype} ${fmt(target.shape)} (make it with tensor(values) or { dtype: 'float32' })`);
  }
  if (!sameShape(logits.shape, target.shape)) {
    throw new Error(`fathom.${op}: target must have the logits' shape ${fmt(logits.shape)}, got ${fmt(target.shape)}${reshapeHint(logits.shape, target)}`);
  }
  const t = target.data;
  for (let i = 0; i < t.length; i++) {
    if (!(t[i] >= 0 && t[i] <= 1)) throw new Error(`fathom.${op}: targets must lie in [0, 1], got ${t[i]} at flat index ${i}`);
  }
  return bceWithLogits(logits, target);
}

export type LossName = 'crossEntropy' | 'mse' | 'binaryCrossEntropy';
export type LossFn = (pred: Tensor, target: Tensor) => Tensor;

/**
 * The loss function for a name, or `name` itself when it is a function.
 * @throws for any other value, listing the names.
 */
export function lossByName(name: LossName | LossFn): LossFn {
  if (typeof name === 'function') return name;
  switch (name) {
    case 'crossEntropy': return crossEntropy;
    case 'mse': return mse;
    case 'binaryCrossEntropy': return binaryCrossEntropy;
    default:
      throw new Error(`fathom: unknown loss ${typeof name === 'string' ? `'${name}'` : describe(name)} (expected crossEntropy, mse, binaryCrossEntropy or a function)`);
  }
}
