/** Loss functions (mean reduction). */
import { Tensor } from '../tensor/tensor.js';
import { bceWithLogits, mseLoss, softmaxCrossEntropy } from '../ops/index.js';

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
 * Binary cross-entropy from logits, mean over all elements:
 * mean(max(z, 0) - z t + log(1 + exp(-|z|))), gradient (sigmoid(z) - t) / n
 * (one op in the gradient table, so it is exact at z = 0 too).
 */
export function binaryCrossEntropy(logits: Tensor, target: Tensor): Tensor {
  return bceWithLogits(logits, target);
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
