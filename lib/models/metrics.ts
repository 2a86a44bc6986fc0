/**
 * Metrics: functions on a batch (`metrics.precision(pred, y)`) and the
 * accumulators fit() and evaluate() use to report them over a whole epoch
 * or data set (`fit({ metrics: ['accuracy', 'f1', ...] })`).
 *
 * Definitions follow scikit-learn (precision_score, recall_score, f1_score,
 * confusion_matrix, r2_score) and Keras (top-k accuracy, accuracy, mse, mae).
 * Streaming: classification metrics accumulate a confusion matrix over all
 * batches and regression metrics accumulate sums (R² with Chan's merge of
 * per-batch means), so the epoch value equals the metric of the whole epoch's
 * predictions, not a mean of per-batch values (as Keras's stateful metrics).
 * Custom functions are averaged over batches weighted by batch size (Keras's
 * MeanMetricWrapper).
 *
 * Accuracy as Keras resolves its 'accuracy' metric: it follows the form of the
 * predictions and targets.
 * - A categorical loss (crossEntropy, nll) with int32 class indices [n]: argmax(pred)
 *   == label for any number of columns, one included (sparse categorical accuracy).
 * - Otherwise one output column (pred [n, 1] or [n]), or a binary loss: binary accuracy,
 *   element-wise `(pred > threshold) == target`, averaged over each row's
 *   elements (Keras binary_accuracy). The threshold is 0 for logits (the loss
 *   is binaryCrossEntropy, which takes logits, or a margin loss: hinge,
 *   squaredHinge, perceptron, whose ±1 targets count -1 as class 0) and 0.5
 *   for probabilities.
 * - Several columns and float one-hot / probability rows of pred's shape:
 *   argmax(pred) == argmax(target) (categorical accuracy).
 */
import { Tensor } from '../tensor/tensor.js';
import { argmax } from '../ops/index.js';
import { fmt, sizeOf } from '../tensor/shape.js';
import { describe } from '../ops/record.js';
import { checkOptions, show } from '../layers/options.js';

export interface AccuracyRule {
  /** Element-wise binary accuracy even for several columns (a binary, multi-label loss). */
  binary: boolean;
  /** A categorical loss (crossEntropy): int32 class indices mean argmax even for one output column. */
  categorical?: boolean;
  /** pred > threshold counts as 1. */
  threshold: number;
  /** Margin losses (hinge, squaredHinge, perceptron): targets are ±1 (or 0/1), so a target > 0 is class 1. */
  margin?: boolean;
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
      for (let j = i * cols; j < (i + 1) * cols; j++) if ((p[j] > thr ? 1 : 0) === (rule.margin ? (t[j] > 0 ? 1 : 0) : t[j])) c++;
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

// ---------------------------------------------------------------------------
// Classification: labels, the confusion matrix and the metrics derived from it.

/** Labels of a batch: predicted and true class per sample (or per element for multi-label binary). */
interface Labels {
  pred: ArrayLike<number>;
  truth: ArrayLike<number>;
  /** Number of classes (2 for binary). */
  classes: number;
  /** One output column (or a binary loss): a threshold made the predicted labels. */
  binary: boolean;
}

function checkTensor(op: string, name: string, t: unknown): Tensor {
  if (!(t instanceof Tensor)) throw new Error(`fathom.metrics.${op}: ${name} must be a Tensor, got ${describe(t)}`);
  return t;
}

/** Integer class labels from a target tensor: int32 [N], float one-hot [N, C], or float integer labels [N] / [N, 1]. */
function trueLabels(op: string, y: Tensor, n: number, classes: number | undefined): ArrayLike<number> {
  if (y.rank === 2 && y.shape[0] === n && y.shape[1] > 1 && y.dtype === 'float32') {
    if (classes !== undefined && y.shape[1] !== classes) {
      throw new Error(`fathom.metrics.${op}: one-hot targets ${fmt(y.shape)} have ${y.shape[1]} classes, predictions ${classes}`);
    }
    return argmax(y).data as Int32Array;
  }
  if (y.size !== n || (y.rank !== 1 && !(y.rank === 2 && y.shape[1] === 1))) {
    throw new Error(`fathom.metrics.${op}: targets must be class indices [${n}] or one-hot rows [${n}, C], got ${y.dtype} ${fmt(y.shape)}`);
  }
  for (let i = 0; i < n; i++) {
    const v = y.data[i];
    if (!Number.isInteger(v) || v < 0 || (classes !== undefined && v >= classes)) {
      throw new Error(`fathom.metrics.${op}: y[${i}] is ${v}; class labels must be integers in [0, ${classes === undefined ? 'C' : `${classes - 1}] (the predictions have ${classes} classes)`}${classes === undefined ? ']' : ''}`);
    }
  }
  return y.data;
}

/**
 * The predicted and true labels of a batch.
 * - pred [N, C] (C > 1) float scores: argmax per row, C classes;
 * - pred int32 [N]: labels as given;
 * - pred float [N] or [N, 1]: binary, pred > threshold.
 * `classes` (numClasses) overrides the count; labels must lie below it.
 */
function labelsOf(op: string, pred: Tensor, y: Tensor, threshold: number, classes?: number): Labels {
  checkTensor(op, 'pred', pred);
  checkTensor(op, 'target', y);
  if (pred.rank < 1 || pred.rank > 2) throw new Error(`fathom.metrics.${op}: pred must be [N, C] scores, [N] labels or [N] / [N, 1] binary scores, got ${fmt(pred.shape)}`);
  const n = pred.shape[0];
  if (pred.rank === 2 && pred.shape[1] > 1) {
    if (classes !== undefined && classes !== pred.shape[1]) throw new Error(`fathom.metrics.${op}: numClasses is ${classes} but pred has ${pred.shape[1]} columns ${fmt(pred.shape)}`);
    const c = pred.shape[1];
    return { pred: argmax(pred).data as Int32Array, truth: trueLabels(op, y, n, c), classes: c, binary: false };
  }
  if (pred.rank === 2 && pred.shape[1] !== 1) throw new Error(`fathom.metrics.${op}: pred ${fmt(pred.shape)} has no columns`);
  if (pred.dtype === 'int32') {
    const truth = trueLabels(op, y, n, classes);
    let c = classes ?? 0;
    if (classes === undefined) for (let i = 0; i < n; i++) c = Math.max(c, pred.data[i] + 1, truth[i] + 1);
    for (let i = 0; i < n; i++) {
      const v = pred.data[i];
      if (v < 0 || v >= c) throw new Error(`fathom.metrics.${op}: predicted label ${i} is ${v}; labels must be in [0, ${c - 1}]`);
    }
    return { pred: pred.data, truth, classes: Math.max(c, 1), binary: false };
  }
  if (classes !== undefined && classes !== 2) throw new Error(`fathom.metrics.${op}: binary scores ${fmt(pred.shape)} give 2 classes, numClasses is ${classes}`);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = pred.data[i] > threshold ? 1 : 0;
  return { pred: p, truth: trueLabels(op, y, n, 2), classes: 2, binary: true };
}

/** Adds a batch's labels to a C×C count matrix (rows true, columns predicted). */
function count(cm: Float64Array, c: number, l: Labels): void {
  for (let i = 0; i < l.pred.length; i++) cm[l.truth[i] * c + l.pred[i]]++;
}

export type Average = 'macro' | 'binary';

export interface ClassificationOptions {
  /**
   * 'binary': the scores of the positive class (1) only; 'macro': the unweighted mean over the
   * classes present in the targets or the predictions (scikit-learn's labels). Default: 'binary'
   * for one output column (binary scores), 'macro' for [N, C] scores and labels.
   */
  average?: Average;
  /** A one-column pred above it counts as class 1 (default 0.5: probabilities; pass 0 for logits). */
  threshold?: number;
  /** The number of classes (default: pred's columns; for label predictions, the largest label + 1). */
  numClasses?: number;
}

type Kind = 'precision' | 'recall' | 'f1';

/** sklearn's precision / recall / F1 from a confusion matrix; 0/0 gives 0 (zero_division=0). */
function fromCounts(kind: Kind, cm: Float64Array, c: number, average: Average): number {
  const score = (k: number): number => {
    let col = 0; // predicted k
    let row = 0; // truly k
    for (let j = 0; j < c; j++) {
      col += cm[j * c + k];
      row += cm[k * c + j];
    }
    const tp = cm[k * c + k];
    const fp = col - tp;
    const fn = row - tp;
    const den = kind === 'precision' ? tp + fp : kind === 'recall' ? tp + fn : 2 * tp + fp + fn;
    return den === 0 ? 0 : (kind === 'f1' ? 2 * tp : tp) / den;
  };
  if (average === 'binary') return c >= 2 ? score(1) : 0;
  let total = 0;
  let present = 0;
  for (let k = 0; k < c; k++) {
    let seen = 0;
    for (let j = 0; j < c; j++) seen += cm[j * c + k] + cm[k * c + j];
    if (seen === 0) continue; // sklearn averages over the labels that occur in y_true or y_pred
    total += score(k);
    present++;
  }
  return present === 0 ? 0 : total / present;
}

function classification(kind: Kind, pred: Tensor, y: Tensor, options: ClassificationOptions | undefined): number {
  const o = checkOptions(kind, options, { average: 'string', threshold: 'number', numClasses: 'number' });
  if (o.average !== undefined && o.average !== 'macro' && o.average !== 'binary') {
    throw new Error(`fathom.metrics.${kind}: options.average must be 'macro' or 'binary', got ${show(o.average)}`);
  }
  if (o.numClasses !== undefined && (!Number.isSafeInteger(o.numClasses) || o.numClasses < 1)) {
    throw new Error(`fathom.metrics.${kind}: options.numClasses must be an integer >= 1, got ${show(o.numClasses)}`);
  }
  const l = labelsOf(kind, pred, y, o.threshold ?? 0.5, o.numClasses);
  const average = o.average ?? (l.binary ? 'binary' : 'macro');
  if (average === 'binary' && l.classes > 2) {
    throw new Error(`fathom.metrics.${kind}: average 'binary' needs 2 classes, got ${l.classes}; use average: 'macro'`);
  }
  const cm = new Float64Array(l.classes * l.classes);
  count(cm, l.classes, l);
  return fromCounts(kind, cm, l.classes, average);
}

/**
 * Precision tp / (tp + fp) (scikit-learn's precision_score), 0 when nothing
 * is predicted positive (zero_division=0). Multi-class: the macro average.
 * @param pred [N, C] scores (argmax), int32 [N] labels, or [N] / [N, 1] binary scores.
 * @param y int32 [N] class indices, one-hot [N, C], or 0/1 values [N] / [N, 1].
 */
export const precision = (pred: Tensor, y: Tensor, options?: ClassificationOptions): number => classification('precision', pred, y, options);
/** Recall tp / (tp + fn) (recall_score), 0 for a class absent from the targets; as precision otherwise. */
export const recall = (pred: Tensor, y: Tensor, options?: ClassificationOptions): number => classification('recall', pred, y, options);
/**
 * F1 = 2·tp / (2·tp + fp + fn) per class (f1_score; 0 when the class occurs
 * nowhere), macro-averaged over classes for multi-class: the mean of the
 * per-class F1, not the F1 of the mean precision and recall.
 */
export const f1 = (pred: Tensor, y: Tensor, options?: ClassificationOptions): number => classification('f1', pred, y, options);

/**
 * The confusion matrix (scikit-learn's confusion_matrix): int32 [C, C], entry
 * [i, j] the number of samples of true class i predicted as class j.
 * @param pred [N, C] scores, int32 [N] labels, or [N] / [N, 1] binary scores (> 0.5).
 * @param y int32 [N] labels, one-hot [N, C], or 0/1 values.
 * @param numClasses C (default: pred's columns; for label predictions the largest label + 1).
 * @throws for labels outside [0, C) and shapes that do not fit.
 */
export function confusionMatrix(pred: Tensor, y: Tensor, numClasses?: number): Tensor {
  if (numClasses !== undefined && (typeof numClasses !== 'number' || !Number.isSafeInteger(numClasses) || numClasses < 1)) {
    throw new Error(`fathom.metrics.confusionMatrix: numClasses must be an integer >= 1, got ${show(numClasses)}`);
  }
  const l = labelsOf('confusionMatrix', pred, y, 0.5, numClasses);
  const c = l.classes;
  const out = new Int32Array(c * c);
  for (let i = 0; i < l.pred.length; i++) out[l.truth[i] * c + l.pred[i]]++;
  return new Tensor(out, [c, c]);
}

/** The number of samples whose true class is among the k highest scores: a target whose score fewer than k others beat (ties count as in, as Keras's in_top_k). */
function topKHits(op: string, pred: Tensor, y: Tensor, k: number): number {
  checkTensor(op, 'pred', pred);
  checkTensor(op, 'target', y);
  if (pred.rank !== 2 || pred.dtype !== 'float32') throw new Error(`fathom.metrics.${op}: pred must be float32 scores [N, C], got ${pred.dtype} ${fmt(pred.shape)}`);
  const [n, c] = pred.shape;
  const truth = trueLabels(op, y, n, c);
  const p = pred.data;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const t = p[i * c + truth[i]];
    if (Number.isNaN(t)) continue;
    let above = 0;
    for (let j = 0; j < c && above < k; j++) if (p[i * c + j] > t) above++;
    if (above < k) hits++;
  }
  return hits;
}

function checkK(op: string, k: unknown): number {
  if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 1) throw new Error(`fathom.metrics.${op}: k must be an integer >= 1, got ${show(k)}`);
  return k;
}

/**
 * The fraction of samples whose true class is among the k highest scores
 * (Keras's top_k_categorical_accuracy / sparse_top_k_…; ties at the k-th
 * place count as hits).
 * @param pred [N, C] scores; @param y int32 [N] labels or one-hot [N, C]; @param k default 5.
 */
export function topKAccuracy(pred: Tensor, y: Tensor, k = 5): number {
  checkK('topKAccuracy', k);
  const hits = topKHits('topKAccuracy', pred, y, k);
  return hits / pred.shape[0];
}

/**
 * Accuracy as fit() reports it (see the rules at the top of this file):
 * argmax for [N, C] scores with int32 or one-hot targets, else pred > threshold == target.
 * @param options.threshold default 0.5 (probabilities; pass 0 for logits).
 */
export function accuracy(pred: Tensor, y: Tensor, options?: { threshold?: number }): number {
  checkTensor('accuracy', 'pred', pred);
  checkTensor('accuracy', 'target', y);
  const o = checkOptions('accuracy', options, { threshold: 'number' });
  const n = pred.rank === 0 ? 1 : pred.shape[0];
  return correct('metrics.accuracy', pred, y, { binary: false, categorical: true, threshold: o.threshold ?? 0.5 }) / n;
}

// ---------------------------------------------------------------------------
// Regression.

/** Per-column streaming sums for MSE, MAE and R². */
class RegressionSums {
  count = 0;
  sq = 0;
  abs = 0;
  /** Per column: samples, mean of the targets, Σ(y − mean)², Σ(y − pred)². */
  n: Float64Array = new Float64Array(0);
  mean: Float64Array = new Float64Array(0);
  m2: Float64Array = new Float64Array(0);
  res: Float64Array = new Float64Array(0);

  add(op: string, pred: Tensor, y: Tensor): void {
    checkTensor(op, 'pred', pred);
    checkTensor(op, 'target', y);
    if (pred.size !== y.size || pred.rank < 1 || y.rank < 1 || pred.shape[0] !== y.shape[0]) {
      throw new Error(`fathom.metrics.${op}: pred ${fmt(pred.shape)} and target ${fmt(y.shape)} must hold the same values per sample`);
    }
    const rowsN = pred.shape[0];
    if (rowsN === 0) return;
    const cols = pred.size / rowsN;
    if (this.n.length === 0) {
      this.n = new Float64Array(cols);
      this.mean = new Float64Array(cols);
      this.m2 = new Float64Array(cols);
      this.res = new Float64Array(cols);
    } else if (this.n.length !== cols) {
      throw new Error(`fathom.metrics.${op}: a batch of ${cols} outputs per sample after batches of ${this.n.length}`);
    }
    const p = pred.data;
    const t = y.data;
    for (let j = 0; j < cols; j++) {
      // Chan et al.'s merge of this batch's mean and M2 into the running ones.
      let bm = 0;
      for (let i = 0; i < rowsN; i++) bm += t[i * cols + j];
      bm /= rowsN;
      let bm2 = 0;
      let res = 0;
      let ab = 0;
      for (let i = 0; i < rowsN; i++) {
        const v = t[i * cols + j];
        const e = v - p[i * cols + j];
        bm2 += (v - bm) * (v - bm);
        res += e * e;
        ab += Math.abs(e);
      }
      const na = this.n[j];
      const nt = na + rowsN;
      const d = bm - this.mean[j];
      this.mean[j] += (d * rowsN) / nt;
      this.m2[j] += bm2 + (d * d * na * rowsN) / nt;
      this.n[j] = nt;
      this.res[j] += res;
      this.sq += res;
      this.abs += ab;
    }
    this.count += pred.size;
  }

  mse(): number { return this.sq / this.count; }
  mae(): number { return this.abs / this.count; }
  /** sklearn's r2_score, multioutput 'uniform_average', force_finite: a constant column scores 1 if predicted exactly, else 0; NaN for fewer than 2 samples. */
  r2(): number {
    const cols = this.n.length;
    if (cols === 0 || this.n[0] < 2) return NaN;
    let total = 0;
    for (let j = 0; j < cols; j++) {
      total += this.m2[j] === 0 ? (this.res[j] === 0 ? 1 : 0) : 1 - this.res[j] / this.m2[j];
    }
    return total / cols;
  }
}

/** Mean squared error over every element (Keras's mean_squared_error, averaged over the batch too). */
export function mse(pred: Tensor, y: Tensor): number {
  const s = new RegressionSums();
  s.add('mse', pred, y);
  return s.mse();
}
/** Mean absolute error over every element. */
export function mae(pred: Tensor, y: Tensor): number {
  const s = new RegressionSums();
  s.add('mae', pred, y);
  return s.mae();
}
/**
 * The coefficient of determination R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² (scikit-learn's
 * r2_score): per output column, then the uniform average. A constant target
 * column scores 1 when predicted exactly, else 0 (force_finite); fewer than 2
 * samples give NaN (sklearn: undefined).
 * @param pred, y same number of values per sample: [N] or [N, D].
 */
export function r2(pred: Tensor, y: Tensor): number {
  const s = new RegressionSums();
  s.add('r2', pred, y);
  return s.r2();
}

// ---------------------------------------------------------------------------
// Accumulators for fit() and evaluate().

/** A custom metric: (predictions, targets) → a number for the batch; fit averages it over batches weighted by their size. */
export type MetricFn = (pred: Tensor, target: Tensor) => number;

export type MetricName = 'accuracy' | 'topK' | 'precision' | 'recall' | 'f1' | 'mse' | 'mae' | 'r2';
/**
 * What `fit({ metrics })` accepts: a name, `{ name: 'topK', k }`, a function
 * (logged under its `name`), or `{ name, fn }`.
 */
export type MetricSpec = MetricName | MetricFn | { name: 'topK'; k?: number } | { name: string; fn: MetricFn };

export const METRIC_NAMES: readonly MetricName[] = ['accuracy', 'topK', 'precision', 'recall', 'f1', 'mse', 'mae', 'r2'];

/** @internal A stateful metric: reset per epoch, updated per batch. */
export interface Metric {
  readonly name: string;
  reset(): void;
  update(pred: Tensor, y: Tensor, rule: AccuracyRule): void;
  result(): number;
}

/** The batch's labels the way fit's accuracy rule reads them: multi-label binary is element-wise. */
function ruleLabels(op: string, pred: Tensor, y: Tensor, rule: AccuracyRule): Labels {
  const n = pred.rank === 0 ? 1 : pred.shape[0];
  const cols = pred.rank <= 1 ? 1 : sizeOf(pred.shape.slice(1));
  const classIndices = !!rule.categorical && y.dtype === 'int32' && y.rank === 1 && y.shape[0] === n && pred.rank === 2;
  if (!classIndices && (rule.binary || cols === 1)) {
    if (y.size !== pred.size) throw new Error(`fathom.${op}: binary metrics compare predictions ${fmt(pred.shape)} with targets of the same size, got ${fmt(y.shape)}`);
    const p = new Int32Array(pred.size);
    for (let i = 0; i < p.length; i++) p[i] = pred.data[i] > rule.threshold ? 1 : 0;
    const t = new Int32Array(y.size);
    for (let i = 0; i < t.length; i++) {
      const v = rule.margin && y.data[i] === -1 ? 0 : y.data[i];
      if (v !== 0 && v !== 1) throw new Error(`fathom.${op}: binary metrics need 0/1 targets, got ${v} at element ${i}`);
      t[i] = v;
    }
    return { pred: p, truth: t, classes: 2, binary: true };
  }
  return labelsOf(op, pred, y, rule.threshold);
}

class ConfusionMetric implements Metric {
  private cm: Float64Array = new Float64Array(0);
  private c = 0;
  private binary = false;
  constructor(readonly name: Kind, private readonly op: string) {}
  reset(): void {
    this.cm = new Float64Array(0);
    this.c = 0;
  }
  update(pred: Tensor, y: Tensor, rule: AccuracyRule): void {
    const l = ruleLabels(`${this.op} (metric ${this.name})`, pred, y, rule);
    if (l.classes > this.c) {
      // Grows when int32 label predictions reveal a larger class (kept as a C×C block).
      const next = new Float64Array(l.classes * l.classes);
      for (let i = 0; i < this.c; i++) for (let j = 0; j < this.c; j++) next[i * l.classes + j] = this.cm[i * this.c + j];
      this.cm = next;
      this.c = l.classes;
    }
    this.binary = l.binary;
    count(this.cm, this.c, l);
  }
  result(): number {
    return this.c === 0 ? 0 : fromCounts(this.name, this.cm, this.c, this.binary ? 'binary' : 'macro');
  }
}

class MeanMetric implements Metric {
  private sum = 0;
  private n = 0;
  constructor(readonly name: string, private readonly f: (pred: Tensor, y: Tensor, rule: AccuracyRule) => number, private readonly perSample: boolean) {}
  reset(): void {
    this.sum = 0;
    this.n = 0;
  }
  update(pred: Tensor, y: Tensor, rule: AccuracyRule): void {
    const rows = pred.rank === 0 ? 1 : pred.shape[0];
    const v = this.f(pred, y, rule);
    // perSample: f returns a count over the batch; else a batch mean weighted by the batch's size.
    this.sum += this.perSample ? v : v * rows;
    this.n += rows;
  }
  result(): number {
    return this.sum / this.n;
  }
}

class RegressionMetric implements Metric {
  private s = new RegressionSums();
  constructor(readonly name: 'mse' | 'mae' | 'r2', private readonly op: string) {}
  reset(): void {
    this.s = new RegressionSums();
  }
  update(pred: Tensor, y: Tensor): void {
    this.s.add(`${this.op} (metric ${this.name})`, pred, y);
  }
  result(): number {
    return this.name === 'mse' ? this.s.mse() : this.name === 'mae' ? this.s.mae() : this.s.r2();
  }
}

function customMetric(op: string, name: string, fn: MetricFn): Metric {
  return new MeanMetric(name, (pred, y) => {
    const v = fn(pred, y);
    if (typeof v !== 'number') throw new Error(`fathom.${op}: metric '${name}' must return a number, got ${describe(v)}`);
    return v;
  }, false);
}

/**
 * Builds the accumulators for `specs` (in order; 'accuracy' first when `withAccuracy`).
 * @throws `fathom.<op>: ...` for unknown names (with the list), bad k, a nameless
 *   function, and two metrics under one name.
 */
export function resolveMetrics(op: string, specs: readonly MetricSpec[] | undefined, withAccuracy: boolean): Metric[] {
  const out: Metric[] = [];
  if (withAccuracy) out.push(new MeanMetric('accuracy', (p, y, rule) => correct(op, p, y, rule), true));
  if (specs !== undefined && !Array.isArray(specs)) throw new Error(`fathom.${op}: metrics must be an array, got ${show(specs)}`);
  for (const [i, s] of (specs ?? []).entries()) {
    let m: Metric;
    if (s === 'accuracy') continue; // on through withAccuracy
    if (typeof s === 'string') {
      if (s === 'topK') m = new MeanMetric('topK', (p, y) => topKHits(`${op} (metric topK)`, p, y, 5), true);
      else if (s === 'precision' || s === 'recall' || s === 'f1') m = new ConfusionMetric(s, op);
      else if (s === 'mse' || s === 'mae' || s === 'r2') m = new RegressionMetric(s, op);
      else throw new Error(`fathom.${op}: unknown metric ${show(s)} at metrics[${i}]; known: ${METRIC_NAMES.join(', ')}, a function (pred, target) => number, or { name, fn }`);
    } else if (typeof s === 'function') {
      if (!s.name) throw new Error(`fathom.${op}: metrics[${i}] is a function without a name; pass { name: 'myMetric', fn } instead`);
      m = customMetric(op, s.name, s);
    } else if (s !== null && typeof s === 'object' && !Array.isArray(s)) {
      const o = s as { name?: unknown; k?: unknown; fn?: unknown };
      if (o.name === 'topK' && o.fn === undefined) {
        const extra = Object.keys(o).filter((key) => key !== 'name' && key !== 'k');
        if (extra.length) throw new Error(`fathom.${op}: metrics[${i}] { name: 'topK' } takes k, got ${extra.join(', ')}`);
        const k = o.k === undefined ? 5 : checkK(`${op} (metrics[${i}])`, o.k);
        m = new MeanMetric('topK', (p, y) => topKHits(`${op} (metric topK)`, p, y, k), true);
      } else if (typeof o.name === 'string' && o.name !== '' && typeof o.fn === 'function') {
        m = customMetric(op, o.name, o.fn as MetricFn);
      } else {
        throw new Error(`fathom.${op}: metrics[${i}] must be { name: 'topK', k } or { name: string, fn: (pred, target) => number }, got ${show(s)}`);
      }
    } else {
      throw new Error(`fathom.${op}: metrics[${i}] must be a metric name, a function or { name, fn }, got ${show(s)}`);
    }
    if (RESERVED.test(m.name) || out.some((x) => x.name === m.name)) {
      throw new Error(`fathom.${op}: metrics[${i}] is named '${m.name}', ${RESERVED.test(m.name) ? 'a name fit uses itself' : 'as an earlier metric'}; give it another name with { name, fn }`);
    }
    out.push(m);
  }
  return out;
}

/** Names fit writes itself: loss, lr and the validation keys (valLoss, valF1…). */
const RESERVED = /^(loss|lr|val[A-Z0-9_].*)$/;

/** 'f1' → 'valF1': the validation key of a metric (Keras's val_ prefix, camelCase). */
export function valKey(name: string): string {
  return `val${name[0].toUpperCase()}${name.slice(1)}`;
}
