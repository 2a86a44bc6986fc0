/** Loss functions (mean reduction). */
import { Tensor } from '../tensor/tensor.js';
import { abs, add, exp, log, mean, mseLoss, mul, relu, softmaxCrossEntropy, sub } from '../ops/index.js';
import { fmt, sameShape } from '../tensor/shape.js';

/**
 * Softmax cross-entropy from logits [n, classes]. `target` is int32 class
 * indices [n], or float32 one-hot / probability rows [n, classes].
 */
export function crossEntropy(logits: Tensor, target: Tensor): Tensor {
  return softmaxCrossEntropy(logits, target);
}

/** Mean squared error. */
export function mse(pred: Tensor, target: Tensor): Tensor {
  return mseLoss(pred, target);
}

/**
 * Binary cross-entropy from logits, computed stably as
 * mean(max(z, 0) - z t + log(1 + exp(-|z|))).
 */
export function binaryCrossEntropy(logits: Tensor, target: Tensor): Tensor {
  if (!sameShape(logits.shape, target.shape)) {
    throw new Error(`fathom.binaryCrossEntropy: logits and target must have the same shape, got ${fmt(logits.shape)} and ${fmt(target.shape)}`);
  }
  if (target.dtype !== 'float32') throw new Error('fathom.binaryCrossEntropy: target must be float32 (0/1 or probabilities)');
  const softplusNeg = log(add(exp(abs(logits).neg()), 1));
  return mean(add(sub(relu(logits), mul(logits, target)), softplusNeg));
}

export type LossName = 'crossEntropy' | 'mse' | 'binaryCrossEntropy';
export type LossFn = (pred: Tensor, target: Tensor) => Tensor;

export function lossByName(name: LossName | LossFn): LossFn {
  if (typeof name === 'function') return name;
  switch (name) {
    case 'crossEntropy': return crossEntropy;
    case 'mse': return mse;
    case 'binaryCrossEntropy': return binaryCrossEntropy;
    default:
      throw new Error(`fathom: unknown loss '${String(name)}' (expected crossEntropy, mse, binaryCrossEntropy or a function)`);
  }
}
