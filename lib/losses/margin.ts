/**
 * Margin losses on scores (not probabilities) with labels ±1: hinge and
 * squaredHinge (Keras's), and the perceptron criterion. Targets are float32,
 * of the scores' shape, all in {−1, 1} or all in {0, 1} (converted to −1/1
 * as Keras does; see signLabels). A score s > 0 predicts +1.
 */
import { Tensor } from '../tensor/tensor.js';
import { mean, mul, relu, square, sub } from '../ops/index.js';
import { checkPred, checkTarget, lossOptions, reduce, reshapeHint, signLabels, type LossOptions, type Reduction } from './common.js';
import { fmt, sameShape } from '../tensor/shape.js';

function checkScores(op: string, scores: Tensor, target: Tensor): Tensor {
  checkPred(op, 'scores', scores);
  checkTarget(op, target);
  if (!sameShape(scores.shape, target.shape)) {
    throw new Error(`fathom.${op}: target must have the scores' shape ${fmt(scores.shape)}, got ${fmt(target.shape)}${reshapeHint(scores.shape, target)}`);
  }
  if (scores.rank === 0) throw new Error(`fathom.${op}: scores need a batch axis ([N] or [N, …]), got a 0-d tensor`);
  return signLabels(op, target);
}

/**
 * Keras's reduction of element-wise margin losses m [N, …, D]: the per-sample
 * loss is the mean over the last axis (for 1-D scores [N], each element is a
 * sample); 'mean' averages those over the batch, 'sum' adds them, 'none'
 * returns them ([N, …] without D; [N] for 1-D scores).
 */
function keras(m: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'mean') return mean(m);
  return reduce(m.rank >= 2 ? mean(m, -1) : m, reduction);
}

/**
 * Hinge loss (Keras's hinge): mean over the last axis of max(0, 1 − t·s),
 * then the batch reduction (see `keras` above). The gradient at the hinge
 * (t·s = 1) is 0.
 * @throws for non-float32 scores, a target of another shape (both named), labels
 *   not all −1/1 or all 0/1, 0-d scores, an unknown reduction.
 */
export function hinge(scores: Tensor, target: Tensor, options?: LossOptions): Tensor {
  const op = 'hinge';
  const { reduction } = lossOptions(op, options);
  const t = checkScores(op, scores, target);
  return keras(relu(sub(1, mul(t, scores))), reduction);
}

/**
 * Squared hinge loss (Keras's squared_hinge): mean over the last axis of
 * max(0, 1 − t·s)², then the batch reduction; differentiable everywhere.
 * @throws as hinge.
 */
export function squaredHinge(scores: Tensor, target: Tensor, options?: LossOptions): Tensor {
  const op = 'squaredHinge';
  const { reduction } = lossOptions(op, options);
  const t = checkScores(op, scores, target);
  return keras(square(relu(sub(1, mul(t, scores)))), reduction);
}

/**
 * The perceptron criterion (Rosenblatt; Bishop, PRML §4.1.7): per element
 * max(0, −t·s), i.e. −t·s on the misclassified samples (t·s ≤ 0, the
 * boundary included, as the perceptron rule counts it) and 0 elsewhere.
 * 'sum' is the textbook criterion −Σ_{misclassified} t·(w·x + b); 'mean'
 * (default) divides it by the number of elements (N for scores [N] or
 * [N, 1]); 'none' keeps the scores' shape. The gradient w.r.t. s is −t on
 * every misclassified element (also at t·s = 0, so training from zero
 * weights moves), 0 elsewhere: gradient descent with 'sum' and lr η is the
 * perceptron rule w += η t x, b += η t over the misclassified samples (batch form).
 * @throws as hinge.
 */
export function perceptron(scores: Tensor, target: Tensor, options?: LossOptions): Tensor {
  const op = 'perceptron';
  const { reduction } = lossOptions(op, options);
  const t = checkScores(op, scores, target);
  const s = scores.data as Float32Array;
  const tv = t.data as Float32Array;
  // −t·s masked to the misclassified elements; the mask is piecewise constant (no gradient).
  const mask = new Float32Array(s.length);
  for (let i = 0; i < s.length; i++) mask[i] = tv[i] * s[i] <= 0 ? -tv[i] : 0;
  return reduce(mul(new Tensor(mask, scores.shape), scores), reduction);
}
