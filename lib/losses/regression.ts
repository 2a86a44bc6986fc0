/**
 * Regression losses: mse, l1, huber (PyTorch's MSELoss, L1Loss, HuberLoss).
 * pred and target are float32 of the same shape (any rank); 'none' returns
 * the element-wise losses in that shape, 'mean' averages over every element
 * (NaN for empty tensors, as PyTorch), 'sum' adds them.
 */
import { Tensor } from '../tensor/tensor.js';
import { abs, minimum, mseLoss, mul, square, sub } from '../ops/index.js';
import { checkF32 } from '../ops/options.js';
import { checkFloatTarget, checkPred, lossOptions, reduce, type LossOptions } from './common.js';

/**
 * Mean squared error, (pred − target)² per element (PyTorch's MSELoss).
 * The default 'mean' (and 'sum', as mean × count) use the fused kernel.
 * @throws if either is not a float32 Tensor, the shapes differ (both named),
 *   or the reduction is not 'mean', 'sum' or 'none'.
 */
export function mse(pred: Tensor, target: Tensor, options?: LossOptions): Tensor {
  const op = 'mse';
  const { reduction } = lossOptions(op, options);
  checkPred(op, 'pred', pred);
  checkFloatTarget(op, pred, target, "the predictions'");
  if (reduction === 'none') return square(sub(pred, target));
  if (reduction === 'sum') return pred.size === 0 ? reduce(square(sub(pred, target)), 'sum') : mul(mseLoss(pred, target), pred.size);
  return mseLoss(pred, target);
}

/**
 * Mean absolute error, |pred − target| per element (PyTorch's L1Loss); the
 * gradient at pred = target is 0 (sign(0)), as in PyTorch.
 * @throws as mse.
 */
export function l1(pred: Tensor, target: Tensor, options?: LossOptions): Tensor {
  const op = 'l1';
  const { reduction } = lossOptions(op, options);
  checkPred(op, 'pred', pred);
  checkFloatTarget(op, pred, target, "the predictions'");
  return reduce(abs(sub(pred, target)), reduction);
}

export interface HuberOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear; > 0 (default 1). */
  delta?: number;
}

/**
 * Huber loss (PyTorch's HuberLoss): with d = |pred − target|,
 * 0.5 d² where d < delta, else delta (d − 0.5 delta).
 * Computed as q (d − q / 2) with q = min(d, delta), whose gradient is
 * (pred − target) inside and ±delta outside.
 * @throws as mse, and unless delta is a finite number > 0.
 */
export function huber(pred: Tensor, target: Tensor, options?: HuberOptions): Tensor {
  const op = 'huber';
  const o = lossOptions(op, options, ['delta']);
  const delta = o.delta === undefined ? 1 : checkF32(op, 'delta', o.delta);
  if (!(delta > 0)) throw new Error(`fathom.${op}: delta must be > 0, got ${delta}`);
  checkPred(op, 'pred', pred);
  checkFloatTarget(op, pred, target, "the predictions'");
  const d = abs(sub(pred, target));
  const q = minimum(d, delta);
  return reduce(mul(q, sub(d, mul(q, 0.5))), o.reduction);
}
