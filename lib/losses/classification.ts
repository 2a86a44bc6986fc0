/**
 * Probabilistic classification losses: crossEntropy (from logits), nll (from
 * log-probabilities), binaryCrossEntropy (from logits or probabilities) and
 * klDiv, with PyTorch's definitions and reductions.
 *
 * The defaults of crossEntropy and binaryCrossEntropy (and their 'sum', as
 * mean × count) run the fused kernels; the other reductions and losses are
 * compositions of differentiable ops (logSoftmax, mul, sum, …), so their
 * gradients come from the one gradient table. Targets are data: no gradient
 * flows to them (PyTorch's soft targets can be differentiated; fathom's
 * cannot, except crossEntropy's probability rows with 'none').
 */
import { Tensor } from '../tensor/tensor.js';
import { bceProbs, bceWithLogits, div, log, logSoftmax, mul, neg, softmaxCrossEntropy, sub, sum } from '../ops/index.js';
import { optBool } from '../ops/options.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { checkPred, checkTarget, lossOptions, reduce, reshapeHint, type LossOptions, type Reduction } from './common.js';

/** One-hot rows [n, classes] of int32 labels (a constant: labels are data). */
function oneHot(labels: Int32Array, classes: number): Tensor {
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) out[i * classes + labels[i]] = 1;
  return new Tensor(out, [labels.length, classes]);
}

/** int32 labels [n] in [0, classes) for predictions [n, classes]. */
function checkLabels(op: string, pred: Tensor, target: Tensor, what: string): Int32Array {
  const [n, classes] = pred.shape;
  if (target.rank !== 1 || target.shape[0] !== n) {
    throw new Error(`fathom.${op}: class indices must have shape [${n}] for ${what} ${fmt(pred.shape)}, got ${fmt(target.shape)}${reshapeHint([n], target)}`);
  }
  const labels = target.data as Int32Array;
  for (let i = 0; i < n; i++) {
    if (labels[i] < 0 || labels[i] >= classes) {
      throw new Error(`fathom.${op}: label ${labels[i]} at index ${i} is outside [0, ${classes})`);
    }
  }
  return labels;
}

/** −Σ_c target[i, c] · logProbs[i, c] per row: [n]. */
const rowNll = (logProbs: Tensor, rows: Tensor): Tensor => neg(sum(mul(logProbs, rows), 1));

/**
 * Softmax cross-entropy from logits [N, C] (PyTorch's CrossEntropyLoss).
 * `target` is int32 class indices [N] in [0, C), or float32 one-hot /
 * probability rows [N, C]. Per sample: −Σ_c t_c log softmax(x)_c.
 * Reduction: 'mean' over N (default; NaN for N = 0), 'sum', or 'none' → [N].
 * @throws if logits are not float32 [N, C] (or C = 0 with rows); if float32 targets are class
 *   indices ([N] or [N, 1]: "class indices must be int32"); if int32 targets are
 *   not [N] or hold a label outside [0, C); for an unknown reduction.
 */
export function crossEntropy(logits: Tensor, target: Tensor, options?: LossOptions): Tensor {
  const op = 'crossEntropy';
  const { reduction } = lossOptions(op, options);
  checkPred(op, 'logits', logits);
  checkTarget(op, target);
  if (logits.rank !== 2) throw new Error(`fathom.${op}: logits must be 2-D [n, classes], got ${fmt(logits.shape)}`);
  const [n, classes] = logits.shape;
  if (n > 0 && classes === 0) throw new Error(`fathom.${op}: logits have no classes (shape ${fmt(logits.shape)})`);
  if (target.dtype === 'int32') {
    checkLabels(op, logits, target, 'logits');
  } else if (!sameShape(target.shape, logits.shape)) {
    if ((target.rank === 1 && target.shape[0] === n) || (target.rank === 2 && target.shape[0] === n && target.shape[1] === 1)) {
      throw new Error(
        `fathom.${op}: class indices must be int32, got float32 ${fmt(target.shape)} ` +
        `(make them with tensor(labels, { dtype: 'int32' }), or pass one-hot rows [${n}, ${classes}])`,
      );
    }
    throw new Error(`fathom.${op}: target must be int32 class indices [${n}] or float32 one-hot rows ${fmt(logits.shape)}, got ${target.dtype} ${fmt(target.shape)}`);
  }
  if (reduction === 'mean') return softmaxCrossEntropy(logits, target);
  if (reduction === 'sum' && n > 0) return mul(softmaxCrossEntropy(logits, target), n);
  const rows = target.dtype === 'int32' ? oneHot(target.data as Int32Array, classes) : target;
  return reduce(rowNll(logSoftmax(logits), rows), reduction);
}

/**
 * Negative log-likelihood from log-probabilities [N, C] (e.g. logSoftmax
 * output) and int32 class indices [N] (PyTorch's NLLLoss without weights):
 * per sample −logProbs[i, label_i]. crossEntropy(x, y) = nll(logSoftmax(x), y).
 * Reduction: 'mean' over N (default; NaN for N = 0), 'sum', or 'none' → [N].
 * @throws if logProbs are not float32 [N, C] (or C = 0 with rows), labels are not int32 [N] or
 *   hold a label outside [0, C); for an unknown reduction.
 */
export function nll(logProbs: Tensor, target: Tensor, options?: LossOptions): Tensor {
  const op = 'nll';
  const { reduction } = lossOptions(op, options);
  checkPred(op, 'logProbs', logProbs);
  checkTarget(op, target);
  if (logProbs.rank !== 2) throw new Error(`fathom.${op}: logProbs must be 2-D [n, classes], got ${fmt(logProbs.shape)}`);
  if (logProbs.shape[0] > 0 && logProbs.shape[1] === 0) throw new Error(`fathom.${op}: logProbs have no classes (shape ${fmt(logProbs.shape)})`);
  if (target.dtype !== 'int32') {
    throw new Error(`fathom.${op}: class indices must be int32, got ${target.dtype} ${fmt(target.shape)} (make them with tensor(labels, { dtype: 'int32' }))`);
  }
  const labels = checkLabels(op, logProbs, target, 'logProbs');
  return reduce(rowNll(logProbs, oneHot(labels, logProbs.shape[1])), reduction);
}

export interface BceOptions extends LossOptions {
  /**
   * true (the default, PyTorch's BCEWithLogitsLoss): `pred` holds logits.
   * false (PyTorch's BCELoss): `pred` holds probabilities in [0, 1].
   * Keras's default is the other way round (from_logits=False).
   */
  fromLogits?: boolean;
}

/**
 * Element-wise binary cross-entropy from logits, max(z, 0) − z t + log(1 + e^−|z|),
 * as −[t, 1 − t]·logSoftmax([z, 0]) (exact gradient σ(z) − t everywhere, z = 0 included).
 */
function bceLogitsPerElement(z: Tensor, t: Tensor): Tensor {
  const n = z.size;
  const pair = mul(z.reshape([n, 1]), new Tensor(new Float32Array([1, 0]), [2])); // [n, 2] = [z, 0]
  const tv = t.data as Float32Array;
  const rows = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    rows[2 * i] = tv[i];
    rows[2 * i + 1] = 1 - tv[i];
  }
  return rowNll(logSoftmax(pair), new Tensor(rows, [n, 2])).reshape(z.shape);
}

/**
 * Binary cross-entropy, element-wise over tensors of any shape:
 * −[t log p + (1 − t) log(1 − p)].
 *
 * - `fromLogits: true` (default; PyTorch's BCEWithLogitsLoss): pred holds
 *   logits z, p = sigmoid(z), computed stably as max(z, 0) − z t + log(1 + e^−|z|);
 *   gradient (sigmoid(z) − t) / count, exact at z = 0. 'mean' and 'sum' use the fused kernel.
 * - `fromLogits: false` (PyTorch's BCELoss): pred holds probabilities in
 *   [0, 1]; each log is clamped to ≥ −100, as PyTorch does, so p = 0 or 1
 *   gives a finite loss (100 per wrong certain prediction). The gradient is
 *   the exact −t/p + (1 − t)/(1 − p) where p and 1 − p are ≥ 1e−12 (PyTorch:
 *   (p − t)/max(p(1 − p), 1e−12), the same there); below, the clamped side passes none.
 *   This is Keras's default form (from_logits=False).
 *
 * `target` is float32 0/1 labels or probabilities in [0, 1], of pred's shape.
 * Reduction: 'mean' over all elements (default; NaN for empty), 'sum', or
 * 'none' → pred's shape.
 * @throws if the target is int32, of another shape, or holds a value outside
 *   [0, 1] (or NaN); with fromLogits: false, if a probability is outside [0, 1];
 *   for an unknown option or reduction.
 */
export function binaryCrossEntropy(pred: Tensor, target: Tensor, options?: BceOptions): Tensor {
  const op = 'binaryCrossEntropy';
  const o = lossOptions(op, options, ['fromLogits']);
  const fromLogits = optBool(op, 'fromLogits', o.fromLogits, true);
  const what = fromLogits ? 'logits' : 'probabilities';
  checkPred(op, what, pred);
  checkTarget(op, target);
  if (target.dtype !== 'float32') {
    throw new Error(`fathom.${op}: target must be float32 0/1 labels or probabilities, got ${target.dtype} ${fmt(target.shape)} (make it with tensor(values) or { dtype: 'float32' })`);
  }
  if (!sameShape(pred.shape, target.shape)) {
    throw new Error(`fathom.${op}: target must have the ${what}' shape ${fmt(pred.shape)}, got ${fmt(target.shape)}${reshapeHint(pred.shape, target)}`);
  }
  const t = target.data as Float32Array;
  for (let i = 0; i < t.length; i++) {
    if (!(t[i] >= 0 && t[i] <= 1)) throw new Error(`fathom.${op}: targets must lie in [0, 1], got ${t[i]} at flat index ${i}`);
  }
  const reduction: Reduction = o.reduction;
  if (fromLogits) {
    if (reduction === 'mean') return bceWithLogits(pred, target);
    if (pred.size === 0) return reduce(mul(pred, 0), reduction);
    if (reduction === 'sum') return mul(bceWithLogits(pred, target), pred.size);
    return bceLogitsPerElement(pred, target.detach());
  }
  const p = pred.data as Float32Array;
  for (let i = 0; i < p.length; i++) {
    if (!(p[i] >= 0 && p[i] <= 1)) {
      throw new Error(`fathom.${op}: probabilities must lie in [0, 1] (fromLogits: false), got ${p[i]} at flat index ${i}; pass logits with fromLogits: true`);
    }
  }
  const per = bceProbs(pred, target);
  return reduce(per, reduction);
}

export interface KlDivOptions {
  /** 'batchmean' (default: the sum divided by N = shape[0]), 'sum', 'mean' (over every element) or 'none'. */
  reduction?: 'batchmean' | Reduction;
  /** Whether `target` holds log-probabilities (default false: probabilities). */
  logTarget?: boolean;
}

/**
 * Kullback–Leibler divergence KL(target ‖ exp(logProbs)) (PyTorch's
 * KLDivLoss): per element t (log t − x), taken as 0 where t = 0; with
 * `logTarget: true`, e^t (t − x). `logProbs` (x) and `target` (t) are
 * float32 of the same shape [N, …]. The reduction defaults to 'batchmean',
 * Σ / N, the mathematical KL per sample (PyTorch's recommended setting;
 * its own default 'mean' divides by every element); 'none' keeps the shape.
 * No gradient flows to the target.
 * @throws for shapes that differ (both named), a negative or NaN probability
 *   target (logTarget false) or a NaN log target, 'batchmean' on a 0-d tensor,
 *   an unknown option or reduction.
 */
export function klDiv(logProbs: Tensor, target: Tensor, options?: KlDivOptions): Tensor {
  const op = 'klDiv';
  const o = lossOptions(op, options, ['logTarget'], ['batchmean', 'sum', 'mean', 'none'] as const);
  const logTarget = optBool(op, 'logTarget', o.logTarget, false);
  checkPred(op, 'logProbs', logProbs);
  checkTarget(op, target);
  if (target.dtype !== 'float32') throw new Error(`fathom.${op}: target must be float32 ${logTarget ? 'log-' : ''}probabilities, got ${target.dtype} ${fmt(target.shape)}`);
  if (!sameShape(logProbs.shape, target.shape)) {
    throw new Error(`fathom.${op}: target must have the logProbs' shape ${fmt(logProbs.shape)}, got ${fmt(target.shape)}${reshapeHint(logProbs.shape, target)}`);
  }
  if (o.reduction === 'batchmean' && logProbs.rank === 0) {
    throw new Error(`fathom.${op}: reduction 'batchmean' divides by the batch size shape[0]; got a 0-d tensor (use 'sum')`);
  }
  const t = target.data as Float32Array;
  const k = new Float32Array(t.length);
  for (let i = 0; i < t.length; i++) {
    const v = t[i];
    if (logTarget) {
      if (Number.isNaN(v)) throw new Error(`fathom.${op}: target log-probabilities must not be NaN, got NaN at flat index ${i}`);
      k[i] = v === -Infinity ? 0 : Math.exp(v) * v; // a zero probability contributes 0, as xlogy does
    } else {
      if (!(v >= 0)) throw new Error(`fathom.${op}: target probabilities must be >= 0, got ${v} at flat index ${i} (pass logTarget: true for log-probabilities)`);
      k[i] = v > 0 ? v * Math.log(v) : 0; // xlogy(t, t)
    }
  }
  // t log t − t x (or e^t t − e^t x): the first term is a constant of the target.
  const weight = logTarget ? new Tensor(Float32Array.from(t, Math.exp), target.shape) : target.detach();
  const per = sub(new Tensor(k, target.shape), mul(weight, logProbs));
  if (o.reduction === 'batchmean') return div(sum(per), logProbs.shape[0]);
  return reduce(per, o.reduction);
}
