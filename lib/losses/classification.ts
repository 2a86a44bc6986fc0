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
import { bceProbs, bceWithLogits, div, log, logSoftmax, mul, neg, permute, reshape, softmaxCrossEntropy, sub, sum } from '../ops/index.js';
import { optBool } from '../ops/options.js';
import { describeValue, fmt, sameShape } from '../tensor/shape.js';
import { checkPred, checkTarget, lossOptions, reduce, reshapeHint, type LossOptions, type Reduction } from './common.js';

/**
 * int32 labels [n] in [0, classes) for predictions [n, classes]; a label
 * equal to `ignore` (PyTorch's ignore_index) is allowed and left to the caller.
 * @returns the labels and how many of them equal `ignore`.
 */
function checkLabels(op: string, pred: Tensor, target: Tensor, what: string, ignore: number | null = null, shown: readonly number[] = pred.shape, shownTarget: readonly number[] = target.shape): { labels: Int32Array; ignored: number } {
  const [n, classes] = pred.shape;
  if (target.rank !== 1 || target.shape[0] !== n) {
    throw new Error(`fathom.${op}: class indices must have shape [${n}] for ${what} ${fmt(pred.shape)}, got ${fmt(target.shape)}${reshapeHint([n], target)}`);
  }
  const labels = target.data as Int32Array;
  let ignored = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] === ignore) {
      ignored++;
    } else if (labels[i] < 0 || labels[i] >= classes) {
      const at = shownTarget.length > 1 ? `flat index ${i} of target ${fmt(shownTarget)}` : `index ${i}`;
      const ig = ignore === null ? '' : ` (and is not ignoreIndex ${ignore})`;
      throw new Error(`fathom.${op}: label ${labels[i]} at ${at} is outside [0, ${classes})${ig}${shown.length > 2 ? ` for ${what} ${fmt(shown)}` : ''}`);
    }
  }
  return { labels, ignored };
}

/** Options of crossEntropy and nll: the reduction and PyTorch's ignore_index. */
export interface ClassLossOptions extends LossOptions {
  /**
   * A class-index target equal to this contributes nothing: its 'none' entry
   * is 0 and 'mean' divides by the count of the other targets (NaN when all
   * are ignored, as PyTorch). Default −100, as PyTorch. Applies to int32
   * targets only. An integer.
   */
  ignoreIndex?: number;
}

function classOptions(op: string, options: ClassLossOptions | undefined): { reduction: Reduction; ignoreIndex: number } {
  const o = lossOptions<ClassLossOptions>(op, options, ['ignoreIndex']);
  const ig = o.ignoreIndex ?? -100;
  if (typeof ig !== 'number' || !Number.isInteger(ig)) throw new Error(`fathom.${op}: options.ignoreIndex must be an integer, got ${describeValue(ig)}`);
  return { reduction: o.reduction, ignoreIndex: ig };
}

/**
 * PyTorch's K-dimensional form: x [N, C, d1, …, dk] (class axis 1) and its
 * target ([N, d1, …] indices, or float rows of x's shape) as 2-D [M, C] and
 * [M] (or [M, C]), M = N·d1·…·dk; `out` is the 'none' result's shape. An
 * unbatched x [C] becomes [1, C] (target []).
 */
function flattenClasses(op: string, name: string, x: Tensor, target: Tensor): { x2: Tensor; t2: Tensor; out: number[] } {
  if (x.rank === 2) return { x2: x, t2: target, out: [x.shape[0]] };
  if (x.rank === 0) throw new Error(`fathom.${op}: ${name} must be [N, C] or [N, C, d1, …] (class axis 1, as PyTorch), got a scalar []`);
  if (x.rank === 1) {
    const want = target.dtype === 'int32' ? [] : x.shape;
    if (!sameShape(target.shape, want)) throw new Error(`fathom.${op}: for unbatched ${name} ${fmt(x.shape)} the target must be ${target.dtype === 'int32' ? 'a scalar int32 class index []' : `float32 ${fmt(x.shape)}`}, got ${target.dtype} ${fmt(target.shape)}`);
    return { x2: reshape(x, [1, x.shape[0]]), t2: reshape(target, target.dtype === 'int32' ? [1] : [1, x.shape[0]]), out: [] };
  }
  const [n, c, ...d] = x.shape;
  const perm = [0, ...d.map((_, i) => i + 2), 1];
  const x2 = reshape(permute(x, perm), [-1, c]);
  if (target.dtype === 'int32') {
    const want = [n, ...d];
    if (!sameShape(target.shape, want)) {
      throw new Error(`fathom.${op}: class indices must have shape ${fmt(want)} for ${name} ${fmt(x.shape)} (class axis 1, as PyTorch), got ${fmt(target.shape)}${reshapeHint(want, target)}`);
    }
    return { x2, t2: reshape(target, [-1]), out: want };
  }
  if (!sameShape(target.shape, x.shape)) {
    throw new Error(`fathom.${op}: target must be int32 class indices ${fmt([n, ...d])} or float32 probabilities ${fmt(x.shape)} for ${name} ${fmt(x.shape)}, got ${target.dtype} ${fmt(target.shape)}`);
  }
  return { x2, t2: reshape(permute(target, perm), [-1, c]), out: [n, ...d] };
}

/** Per-row losses [m] with ignored rows 0, reduced: 'mean' over the kept rows (NaN for none). */
function reduceKept(per: Tensor, reduction: Reduction, kept: number, out: readonly number[]): Tensor {
  if (reduction === 'none') return sameShape(per.shape, out) ? per : reshape(per, [...out]);
  if (reduction === 'sum') return sum(per);
  return div(sum(per), kept);
}

/** One-hot rows with the ignored labels' rows left 0. */
function oneHotKept(labels: Int32Array, classes: number, ignore: number): Tensor {
  const out = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) if (labels[i] !== ignore) out[i * classes + labels[i]] = 1;
  return new Tensor(out, [labels.length, classes]);
}

/** −Σ_c target[i, c] · logProbs[i, c] per row: [n]. */
const rowNll = (logProbs: Tensor, rows: Tensor): Tensor => neg(sum(mul(logProbs, rows), 1));

/**
 * Softmax cross-entropy from logits (PyTorch's CrossEntropyLoss): logits
 * [N, C], or PyTorch's K-dimensional form [N, C, d1, …, dk] (class axis 1),
 * or unbatched [C]. `target` is int32 class indices [N] ([N, d1, …, dk]; []
 * unbatched) in [0, C), or float32 one-hot / probability rows of the logits'
 * shape. Per sample: −Σ_c t_c log softmax(x)_c.
 * Options: `reduction` 'mean' (default; over the non-ignored targets, NaN
 * for none), 'sum', or 'none' → [N] ([N, d1, …]); `ignoreIndex` (default
 * −100, as PyTorch): int32 targets equal to it contribute 0 and are not
 * counted by 'mean'.
 * The plain 2-D case with nothing ignored runs the fused kernel.
 * @throws if logits are not float32 of those ranks (or C = 0 with rows); if float32 targets are class
 *   indices ([N] or [N, 1]: "class indices must be int32"); if int32 targets are
 *   not of the shape above or hold a label outside [0, C) other than ignoreIndex;
 *   for an unknown reduction or option, or a non-integer ignoreIndex.
 */
export function crossEntropy(logits: Tensor, target: Tensor, options?: ClassLossOptions): Tensor {
  const op = 'crossEntropy';
  const { reduction, ignoreIndex } = classOptions(op, options);
  checkPred(op, 'logits', logits);
  checkTarget(op, target);
  if (logits.rank !== 2) {
    if (logits.rank >= 2 && logits.shape[1] === 0 && logits.size > 0) throw new Error(`fathom.${op}: logits have no classes (shape ${fmt(logits.shape)})`);
    if (logits.rank === 1 && logits.shape[0] === 0) throw new Error(`fathom.${op}: logits have no classes (shape ${fmt(logits.shape)})`);
    const { x2, t2, out } = flattenClasses(op, 'logits', logits, target);
    return classLoss(op, x2, t2, reduction, ignoreIndex, out, logits.shape, target.shape, true);
  }
  const [n, classes] = logits.shape;
  if (n > 0 && classes === 0) throw new Error(`fathom.${op}: logits have no classes (shape ${fmt(logits.shape)})`);
  return classLoss(op, logits, target, reduction, ignoreIndex, [n], logits.shape, target.shape, true);
}

/** crossEntropy (fromLogits) or nll on 2-D [m, C] with its target; `out` is the 'none' shape. */
function classLoss(op: string, x: Tensor, target: Tensor, reduction: Reduction, ignore: number, out: readonly number[], shown: readonly number[], shownTarget: readonly number[], fromLogits: boolean): Tensor {
  const what = fromLogits ? 'logits' : 'logProbs';
  const [n, classes] = x.shape;
  if (target.dtype === 'int32') {
    const { labels, ignored } = checkLabels(op, x, target, what, ignore, shown, shownTarget);
    if (ignored === 0 && fromLogits) {
      if (reduction === 'mean') return softmaxCrossEntropy(x, target);
      if (reduction === 'sum' && n > 0) return mul(softmaxCrossEntropy(x, target), n);
    }
    const lp = fromLogits ? logSoftmax(x) : x;
    return reduceKept(rowNll(lp, oneHotKept(labels, classes, ignore)), reduction, n - ignored, out);
  }
  if (!fromLogits) {
    throw new Error(`fathom.${op}: class indices must be int32, got ${target.dtype} ${fmt(shownTarget)} (make them with tensor(labels, { dtype: 'int32' }))`);
  }
  if (!sameShape(target.shape, x.shape)) {
    if ((target.rank === 1 && target.shape[0] === n) || (target.rank === 2 && target.shape[0] === n && target.shape[1] === 1)) {
      throw new Error(
        `fathom.${op}: class indices must be int32, got float32 ${fmt(target.shape)} ` +
        `(make them with tensor(labels, { dtype: 'int32' }), or pass one-hot rows [${n}, ${classes}])`,
      );
    }
    throw new Error(`fathom.${op}: target must be int32 class indices [${n}] or float32 one-hot rows ${fmt(x.shape)}, got ${target.dtype} ${fmt(target.shape)}`);
  }
  if (reduction === 'mean') return softmaxCrossEntropy(x, target);
  if (reduction === 'sum' && n > 0) return mul(softmaxCrossEntropy(x, target), n);
  return reduceKept(rowNll(logSoftmax(x), target), reduction, n, out);
}

/**
 * Negative log-likelihood from log-probabilities (e.g. logSoftmax output;
 * PyTorch's NLLLoss without weights): logProbs [N, C], [N, C, d1, …, dk]
 * (class axis 1) or unbatched [C], with int32 class indices [N]
 * ([N, d1, …]; []): per sample −logProbs[i, label_i].
 * crossEntropy(x, y) = nll(logSoftmax(x, 1), y).
 * Options: `reduction` 'mean' (default; over the non-ignored targets, NaN
 * for none), 'sum', or 'none' → [N] ([N, d1, …]); `ignoreIndex` (default
 * −100, as PyTorch) as crossEntropy's.
 * @throws if logProbs are not float32 of those ranks (or C = 0 with rows), labels are not int32 of
 *   that shape or hold a label outside [0, C) other than ignoreIndex; for an unknown reduction or option.
 */
export function nll(logProbs: Tensor, target: Tensor, options?: ClassLossOptions): Tensor {
  const op = 'nll';
  const { reduction, ignoreIndex } = classOptions(op, options);
  checkPred(op, 'logProbs', logProbs);
  checkTarget(op, target);
  if (logProbs.rank >= 2 && logProbs.shape[0] > 0 && logProbs.shape[1] === 0) throw new Error(`fathom.${op}: logProbs have no classes (shape ${fmt(logProbs.shape)})`);
  if (logProbs.rank === 1 && logProbs.shape[0] === 0) throw new Error(`fathom.${op}: logProbs have no classes (shape ${fmt(logProbs.shape)})`);
  if (target.dtype !== 'int32') {
    throw new Error(`fathom.${op}: class indices must be int32, got ${target.dtype} ${fmt(target.shape)} (make them with tensor(labels, { dtype: 'int32' }))`);
  }
  const { x2, t2, out } = flattenClasses(op, 'logProbs', logProbs, target);
  return classLoss(op, x2, t2, reduction, ignoreIndex, out, logProbs.shape, target.shape, false);
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
