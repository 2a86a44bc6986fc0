/**
 * Accuracy as Keras resolves its 'accuracy' metric: it follows the form of the
 * predictions and targets.
 * - A categorical loss (crossEntropy) with int32 class indices [n]: argmax(pred)
 *   == label for any number of columns, one included (sparse categorical accuracy).
 * - Otherwise one output column (pred [n, 1] or [n]), or a binary loss: binary accuracy,
 *   element-wise `(pred > threshold) == target`, averaged over each row's
 *   elements (Keras binary_accuracy). The threshold is 0 for logits (the loss
 *   is binaryCrossEntropy, which takes logits) and 0.5 for probabilities.
 * - Several columns and float one-hot / probability rows of pred's shape:
 *   argmax(pred) == argmax(target) (categorical accuracy).
 */
import { Tensor } from '../tensor/tensor.js';
import { argmax } from '../ops/index.js';
import { fmt, sizeOf } from '../tensor/shape.js';

export interface AccuracyRule {
  /** Element-wise binary accuracy even for several columns (a binary, multi-label loss). */
  binary: boolean;
  /** A categorical loss (crossEntropy): int32 class indices mean argmax even for one output column. */
  categorical?: boolean;
  /** pred > threshold counts as 1. */
  threshold: number;
}

/**
 * The number of correct samples in a batch (a fraction per sample for multi-column binary accuracy).
 * @throws naming `op` when the target form fits none of the rules.
 */
export function correct(op: string, pred: Tensor, y: Tensor, rule: AccuracyRule): number {
  const n = pred.rank === 0 ? 1 : pred.shape[0];
  const cols = pred.rank <= 1 ? 1 : sizeOf(pred.shape.slice(1));
  // With crossEntropy, int32 class indices mean argmax even for one column (that model only ever predicts class 0).
  const classIndices = !!rule.categorical && y.dtype === 'int32' && y.rank === 1 && y.shape[0] === n && pred.rank === 2;
  if (!classIndices && (rule.binary || cols === 1)) {
    if (y.size !== pred.size) {
      throw new Error(`fathom.${op}: binary accuracy compares predictions ${fmt(pred.shape)} with targets of the same size, got ${fmt(y.shape)}; pass accuracy: false to skip it`);
    }
    const p = pred.data;
    const t = y.data;
    const thr = rule.threshold;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      let c = 0;
      for (let j = i * cols; j < (i + 1) * cols; j++) if ((p[j] > thr ? 1 : 0) === t[j]) c++;
      hits += cols === 1 ? c : c / cols;
    }
    return hits;
  }
  if (pred.rank !== 2) {
    throw new Error(`fathom.${op}: accuracy over classes needs predictions [n, classes], got ${fmt(pred.shape)}; pass accuracy: false to skip it`);
  }
  const p = argmax(pred).data as Int32Array;
  let t: ArrayLike<number>;
  if (y.dtype === 'int32' && y.rank === 1 && y.shape[0] === n) t = y.data;
  else if (y.dtype === 'float32' && y.rank === 2 && y.shape[0] === n && y.shape[1] === pred.shape[1]) t = argmax(y).data;
  else {
    throw new Error(
      `fathom.${op}: accuracy needs int32 class indices [${n}] or one-hot rows [${n}, ${pred.shape[1]}] for predictions ${fmt(pred.shape)}, ` +
      `got ${y.dtype} ${fmt(y.shape)}; pass accuracy: false to skip it`,
    );
  }
  let hits = 0;
  for (let i = 0; i < n; i++) if (p[i] === t[i]) hits++;
  return hits;
}
