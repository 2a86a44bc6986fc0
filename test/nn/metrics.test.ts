/**
 * metrics: known answers from scikit-learn's definitions and documentation
 * examples (precision/recall/f1 macro and binary, confusion_matrix, r2_score),
 * Keras's top-k rule, and fit/evaluate reporting them per epoch.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, metrics, nn, randn, tensor, type Tensor } from '../../lib/index.js';

/** One-hot-like scores whose argmax is each label (for label lists written by hand). */
function scores(labels: number[], classes: number): Tensor {
  return tensor(labels.map((l) => Array.from({ length: classes }, (_, c) => (c === l ? 1 : 0))));
}
const ints = (v: number[]) => tensor(v, { dtype: 'int32' });

describe('classification metrics (scikit-learn definitions)', () => {
  it('macro precision / recall / F1: the sklearn documentation example', () => {
    // y_true = [0, 1, 2, 0, 1, 2], y_pred = [0, 2, 1, 0, 0, 1]:
    // class 0: tp 2, fp 1, fn 0 → P 2/3, R 1, F1 0.8; classes 1, 2: tp 0 → 0.
    const pred = scores([0, 2, 1, 0, 0, 1], 3);
    const y = ints([0, 1, 2, 0, 1, 2]);
    expect(metrics.precision(pred, y)).toBeCloseTo(2 / 9, 12);
    expect(metrics.recall(pred, y)).toBeCloseTo(1 / 3, 12);
    expect(metrics.f1(pred, y)).toBeCloseTo(0.8 / 3, 12);
    // Same from int32 label predictions.
    expect(metrics.f1(ints([0, 2, 1, 0, 0, 1]), y)).toBeCloseTo(0.8 / 3, 12);
  });

  it('macro F1 is the mean of per-class F1, not the F1 of mean precision and recall', () => {
    // true [0,0,0,1], pred [0,0,1,1]: class 0 P 1 R 2/3 F1 0.8; class 1 P 1/2 R 1 F1 2/3.
    const pred = ints([0, 0, 1, 1]);
    const y = ints([0, 0, 0, 1]);
    expect(metrics.f1(pred, y)).toBeCloseTo((0.8 + 2 / 3) / 2, 12);
    expect(metrics.precision(pred, y)).toBeCloseTo(0.75, 12);
    expect(metrics.recall(pred, y)).toBeCloseTo((2 / 3 + 1) / 2, 12);
  });

  it('averages over the labels present in y_true or y_pred; a class never predicted has precision 0 (zero_division=0)', () => {
    // numClasses 4 but class 3 occurs nowhere: averaged over 0, 1, 2 only (sklearn's unique_labels).
    const pred = ints([0, 0, 1, 1]);
    const y = ints([0, 2, 1, 1]);
    // class 0: P 1/2 R 1; class 1: P 1 R 1; class 2: never predicted → P 0, R 0.
    expect(metrics.precision(pred, y, { numClasses: 4 })).toBeCloseTo(0.5, 12);
    expect(metrics.recall(pred, y, { numClasses: 4 })).toBeCloseTo(2 / 3, 12);
    expect(metrics.f1(pred, y, { numClasses: 4 })).toBeCloseTo((2 / 3 + 1 + 0) / 3, 12);
  });

  it("binary (one column): the positive class's scores; threshold 0.5 by default, 0 for logits", () => {
    // pred labels [0, 1, 0, 1, 1] vs true [0, 1, 1, 0, 1]: tp 2, fp 1, fn 1.
    const probs = tensor([[0.2], [0.9], [0.4], [0.6], [0.7]]);
    const y = tensor([[0], [1], [1], [0], [1]]);
    expect(metrics.precision(probs, y)).toBeCloseTo(2 / 3, 12);
    expect(metrics.recall(probs, y)).toBeCloseTo(2 / 3, 12);
    expect(metrics.f1(probs, y)).toBeCloseTo(2 / 3, 12);
    const logits = tensor([-1, 2, -0.5, 0.5, 1]);
    expect(metrics.precision(logits, tensor([0, 1, 1, 0, 1]), { threshold: 0 })).toBeCloseTo(2 / 3, 12);
    // Nothing predicted positive: precision 0/0 → 0, recall 0, F1 0.
    expect(metrics.precision(tensor([0.1, 0.2]), tensor([1, 0]))).toBe(0);
    expect(metrics.f1(tensor([0.1, 0.2]), tensor([1, 0]))).toBe(0);
    // Macro over both classes on request: class 0 P 1/2 R 1/2, class 1 P 2/3 R 2/3.
    expect(metrics.precision(probs, y, { average: 'macro' })).toBeCloseTo((0.5 + 2 / 3) / 2, 12);
  });

  it('confusionMatrix: int32 [C, C], rows true, columns predicted (sklearn example)', () => {
    // sklearn: y_true = [2, 0, 2, 2, 0, 1], y_pred = [0, 0, 2, 2, 0, 2] → [[2,0,0],[0,0,1],[1,0,2]].
    const cm = metrics.confusionMatrix(ints([0, 0, 2, 2, 0, 2]), ints([2, 0, 2, 2, 0, 1]));
    expect(cm.dtype).toBe('int32');
    expect(cm.toArray()).toEqual([[2, 0, 0], [0, 0, 1], [1, 0, 2]]);
    expect(metrics.confusionMatrix(ints([0, 1]), ints([0, 1]), 4).shape).toEqual([4, 4]);
    // Scores [N, C] (argmax) with one-hot targets; binary probabilities (> 0.5).
    expect(metrics.confusionMatrix(scores([1, 1, 0], 2), scores([1, 0, 0], 2)).toArray()).toEqual([[1, 1], [0, 1]]);
    expect(metrics.confusionMatrix(tensor([0.9, 0.1, 0.7]), tensor([1, 1, 0])).toArray()).toEqual([[0, 1], [1, 1]]);
  });

  it('topKAccuracy: the target among the k highest scores; ties at the boundary count (Keras in_top_k)', () => {
    const pred = tensor([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4]]);
    const y = ints([2, 0]);
    expect(metrics.topKAccuracy(pred, y, 1)).toBe(0);
    expect(metrics.topKAccuracy(pred, y, 2)).toBe(1);
    expect(metrics.topKAccuracy(tensor([[0.5, 0.5]]), ints([1]), 1)).toBe(1);
    expect(metrics.topKAccuracy(pred, y)).toBe(1); // k = 5 ≥ C
    expect(metrics.topKAccuracy(pred, scores([1, 2], 3), 1)).toBe(1); // one-hot targets
  });

  it('accuracy follows fit\'s rules', () => {
    expect(metrics.accuracy(scores([0, 2, 1], 3), ints([0, 1, 1]))).toBeCloseTo(2 / 3, 12);
    expect(metrics.accuracy(tensor([[0.9], [0.2]]), tensor([[1], [1]]))).toBe(0.5);
  });

  it('names bad input', () => {
    expect(() => metrics.f1(scores([0], 3), ints([3]))).toThrow(/fathom.metrics.f1: y\[0\] is 3; class labels must be integers in \[0, 2\] \(the predictions have 3 classes\)/);
    expect(() => metrics.precision(scores([0], 3), ints([0]), { average: 'micro' as never })).toThrow(/options.average must be 'macro' or 'binary', got "micro"/);
    expect(() => metrics.precision(scores([0], 3), ints([0]), { average: 'binary' })).toThrow(/average 'binary' needs 2 classes, got 3/);
    expect(() => metrics.topKAccuracy(scores([0], 3), ints([0]), 0)).toThrow(/fathom.metrics.topKAccuracy: k must be an integer >= 1, got 0/);
    expect(() => metrics.confusionMatrix(ints([0]), ints([0]), 0)).toThrow(/numClasses must be an integer >= 1, got 0/);
    expect(() => metrics.recall('x' as never, ints([0]))).toThrow(/fathom.metrics.recall: pred must be a Tensor, got/);
  });
});

describe('regression metrics', () => {
  it('mse, mae, r2: the sklearn documentation examples', () => {
    const pred = tensor([2.5, 0.0, 2, 8]);
    const y = tensor([3, -0.5, 2, 7]);
    expect(metrics.mse(pred, y)).toBeCloseTo(0.375, 12);
    expect(metrics.mae(pred, y)).toBeCloseTo(0.5, 12);
    expect(metrics.r2(pred, y)).toBeCloseTo(0.9486081370449679, 12);
    // Multi-output: r2 per column, then the uniform average (sklearn default).
    const p2 = tensor([[0, 2], [-1, 2], [8, -5]]);
    const y2 = tensor([[0.5, 1], [-1, 1], [7, -6]]);
    expect(metrics.r2(p2, y2)).toBeCloseTo(0.9368005266622779, 12);
    expect(metrics.mse(p2, y2)).toBeCloseTo(0.7083333333333334, 12);
    expect(metrics.mae(p2, y2)).toBeCloseTo(0.75, 12);
  });

  it('r2 of a constant target: 1 when predicted exactly, else 0 (force_finite); NaN below 2 samples', () => {
    expect(metrics.r2(tensor([2, 2]), tensor([2, 2]))).toBe(1);
    expect(metrics.r2(tensor([2, 3]), tensor([2, 2]))).toBe(0);
    expect(metrics.r2(tensor([1]), tensor([2]))).toBeNaN();
    expect(() => metrics.mse(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(/fathom.metrics.mse: pred \[2\] and target \[3\] must hold the same values per sample/);
  });
});

describe('fit({ metrics }) and evaluate({ metrics })', () => {
  it('reports each metric for training and validation; epoch values equal the metric of the whole set (streamed, not averaged per batch)', async () => {
    manualSeed(11);
    const x = randn([60, 4]);
    const y = tensor(Array.from({ length: 60 }, (_, i) => (x.data[i * 4] + x.data[i * 4 + 1] > 0 ? 1 : 0) + (x.data[i * 4 + 2] > 0.5 ? 1 : 0)), { dtype: 'int32' });
    const model = new nn.Sequential(new nn.Linear(4, 8), new nn.Tanh(), new nn.Linear(8, 3));
    const h = await model.fit(x, y, {
      loss: 'crossEntropy', epochs: 3, batchSize: 7, verbose: 0, validationData: [x, y], lr: 0.05,
      metrics: ['precision', 'recall', 'f1', { name: 'topK', k: 2 }, function meanScore(p: Tensor) { return p.mean().item(); }],
    });
    expect(Object.keys(h.history).sort()).toEqual(['accuracy', 'f1', 'loss', 'meanScore', 'precision', 'recall', 'topK', 'valAccuracy', 'valF1', 'valLoss', 'valMeanScore', 'valPrecision', 'valRecall', 'valTopK']);
    // The validation values are the metrics of the final weights over the whole set.
    const pred = model.predict(x);
    expect(h.history.valF1!.at(-1)).toBeCloseTo(metrics.f1(pred, y), 12);
    expect(h.history.valPrecision!.at(-1)).toBeCloseTo(metrics.precision(pred, y), 12);
    expect(h.history.valTopK!.at(-1)).toBeCloseTo(metrics.topKAccuracy(pred, y, 2), 12);
    expect(h.history.valMeanScore!.at(-1)).toBeCloseTo(pred.mean().item(), 5);
    // evaluate in batches of 7 gives the whole-set values too, and defaults to the fit's metrics.
    const r = await model.evaluate(x, y, { batchSize: 7 });
    expect(r.f1).toBeCloseTo(metrics.f1(pred, y), 12);
    expect(r.recall).toBeCloseTo(metrics.recall(pred, y), 12);
    expect(r.accuracy).toBeCloseTo(metrics.accuracy(pred, y), 12);
  });

  it('regression metrics stream exactly over batches (R² via merged means)', async () => {
    manualSeed(12);
    const x = randn([50, 3]);
    const y = x.matmul(randn([3, 2])).add(randn([50, 2]).mul(0.1));
    const model = new nn.Linear(3, 2);
    const h = await model.fit(x, y, { loss: 'mse', epochs: 2, batchSize: 8, verbose: 0, validationSplit: 0.2, metrics: ['mse', 'mae', 'r2'] });
    expect(Object.keys(h.history).sort()).toEqual(['loss', 'mae', 'mse', 'r2', 'valLoss', 'valMae', 'valMse', 'valR2']);
    const r = await model.evaluate(x, y, { batchSize: 7 });
    const pred = model.predict(x);
    expect(r.r2).toBeCloseTo(metrics.r2(pred, y), 10);
    expect(r.mae).toBeCloseTo(metrics.mae(pred, y), 10);
    expect(r.mse).toBeCloseTo(r.loss, 5); // the mse metric is the mse loss
  });

  it('binary classification: metrics use the logits threshold of binaryCrossEntropy', async () => {
    manualSeed(13);
    const x = randn([40, 2]);
    const y = tensor(Array.from({ length: 40 }, (_, i) => [x.data[2 * i] > 0 ? 1 : 0]));
    const model = new nn.Linear(2, 1);
    await model.fit(x, y, { loss: 'binaryCrossEntropy', epochs: 5, lr: 0.1, verbose: 0, metrics: ['precision', 'recall', 'f1'] });
    const r = await model.evaluate(x, y);
    const logits = model.predict(x);
    expect(r.f1).toBeCloseTo(metrics.f1(logits, y, { threshold: 0 }), 12);
    expect(r.precision).toBeCloseTo(metrics.precision(logits, y, { threshold: 0 }), 12);
  });

  it('names bad metric specs', async () => {
    const m = new nn.Linear(2, 2);
    const x = randn([4, 2]);
    const y = ints([0, 1, 0, 1]);
    const fit = (metricsOpt: unknown, extra = {}) => m.fit(x, y, { loss: 'crossEntropy', verbose: 0, metrics: metricsOpt as never, ...extra });
    await expect(fit(['f2'])).rejects.toThrow(/fathom.fit: unknown metric "f2" at metrics\[0\]; known: accuracy, topK, precision, recall, f1, mse, mae, r2/);
    await expect(fit([(p: Tensor) => p.size])).rejects.toThrow(/metrics\[0\] is a function without a name; pass \{ name: 'myMetric', fn \} instead/);
    await expect(fit(['f1', { name: 'f1', fn: () => 1 }])).rejects.toThrow(/metrics\[1\] is named 'f1', as an earlier metric/);
    await expect(fit([{ name: 'valX', fn: () => 1 }])).rejects.toThrow(/is named 'valX', a name fit uses itself/);
    await expect(fit([{ name: 'topK', k: 0 }])).rejects.toThrow(/k must be an integer >= 1, got 0/);
    await expect(fit(['accuracy'], { accuracy: false })).rejects.toThrow(/metrics lists 'accuracy' but options.accuracy is false/);
    await expect(fit([{ name: 'bad', fn: () => 'x' }])).rejects.toThrow(/metric 'bad' must return a number, got/);
    await expect(fit('f1')).rejects.toThrow(/options.metrics must be an array/);
  });
});
