// Losses: known answers from PyTorch's (and Keras's) definitions worked by hand,
// finite-difference gradient checks for every loss and reduction, and refusals.
import { afterAll, describe, expect, it } from 'vitest';
import { losses, setBackend, tensor, Tensor, zeros } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { randomArray, randomLabels, rng } from '../helpers/random.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const REDUCTIONS = ['mean', 'sum', 'none'] as const;

const t = (shape: number[], seed: number, lo = -1, hi = 1): Tensor =>
  tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed, lo, hi), shape);
/** Random ±1 labels. */
const pm1 = (shape: number[], seed: number): Tensor => {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float32Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1)), shape);
};
const int = (v: number[]): Tensor => tensor(v, { dtype: 'int32' });
const vals = (x: Tensor): number[] => Array.from(x.data);
function close(got: Tensor, want: number[], digits = 5): void {
  expect(got.size).toBe(want.length);
  want.forEach((w, i) => expect(got.data[i], `element ${i}`).toBeCloseTo(w, digits));
}

afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

describe.each(backends)('known answers (%s backend)', (name) => {
  it('l1: |p − t|, PyTorch L1Loss', () => {
    setBackend(name);
    const p = tensor([1, 2, 3]);
    const y = tensor([2, 2, 5]);
    close(losses.l1(p, y), [1]); // (1 + 0 + 2) / 3
    close(losses.l1(p, y, { reduction: 'sum' }), [3]);
    close(losses.l1(p, y, { reduction: 'none' }), [1, 0, 2]);
  });

  it('mse: reductions', () => {
    setBackend(name);
    const p = tensor([[1, 2], [3, 4]]);
    const y = tensor([[0, 2], [5, 4]]);
    close(losses.mse(p, y), [1.25]); // (1 + 0 + 4 + 0) / 4
    close(losses.mse(p, y, { reduction: 'sum' }), [5]);
    const none = losses.mse(p, y, { reduction: 'none' });
    expect(none.shape).toEqual([2, 2]);
    close(none, [1, 0, 4, 0]);
  });

  it('huber: 0.5 d² below delta, delta (d − delta / 2) above (PyTorch HuberLoss)', () => {
    setBackend(name);
    const p = zeros([4]);
    const y = tensor([0.5, -2, 1, 3]);
    // delta 1: 0.125, 1·(2 − 0.5) = 1.5, at d = delta 0.5 (both branches agree), 1·(3 − 0.5) = 2.5
    close(losses.huber(p, y, { reduction: 'none' }), [0.125, 1.5, 0.5, 2.5]);
    close(losses.huber(p, y), [4.625 / 4]);
    // delta 2: 0.125, 2·(2 − 1) = 2, 0.5, 2·(3 − 1) = 4
    close(losses.huber(p, y, { delta: 2, reduction: 'sum' }), [6.625]);
    close(losses.huber(p, y, { delta: 0.25, reduction: 'none' }), [0.25 * 0.375, 0.25 * 1.875, 0.25 * 0.875, 0.25 * 2.875]);
  });

  it('hinge / squaredHinge: Keras semantics (mean over the last axis, then the batch), 0/1 labels converted', () => {
    setBackend(name);
    const s = tensor([[0.5, -2], [3, 0]]);
    const y = tensor([[1, -1], [-1, 1]]);
    // max(0, 1 − t s) = [[0.5, 0], [4, 1]] → per sample [0.25, 2.5]
    close(losses.hinge(s, y, { reduction: 'none' }), [0.25, 2.5]);
    close(losses.hinge(s, y), [1.375]);
    close(losses.hinge(s, y, { reduction: 'sum' }), [2.75]);
    // squared: [[0.25, 0], [16, 1]] → [0.125, 8.5]
    close(losses.squaredHinge(s, y, { reduction: 'none' }), [0.125, 8.5]);
    close(losses.squaredHinge(s, y), [4.3125]);
    close(losses.squaredHinge(s, y, { reduction: 'sum' }), [8.625]);
    // 0/1 labels mean the same as −1/1
    const y01 = tensor([[1, 0], [0, 1]]);
    expect(vals(losses.hinge(s, y01, { reduction: 'none' }))).toEqual(vals(losses.hinge(s, y, { reduction: 'none' })));
    // 1-D scores: each element is a sample
    expect(losses.hinge(tensor([0.5, -2]), tensor([1, 1]), { reduction: 'none' }).shape).toEqual([2]);
    close(losses.hinge(tensor([0.5, -2]), tensor([1, 1]), { reduction: 'none' }), [0.5, 3]);
    // 3-D: the last axis is averaged
    expect(losses.hinge(zeros([2, 3, 4]), pm1([2, 3, 4], 3), { reduction: 'none' }).shape).toEqual([2, 3]);
  });

  it('perceptron: max(0, −t s), the boundary t s = 0 counted as misclassified', () => {
    setBackend(name);
    const s = tensor([2, -1, 0, 0.5]);
    const y = tensor([1, 1, -1, -1]);
    // t s = 2, −1, 0, −0.5 → 0, 1, 0, 0.5
    close(losses.perceptron(s, y, { reduction: 'none' }), [0, 1, 0, 0.5]);
    close(losses.perceptron(s, y, { reduction: 'sum' }), [1.5]);
    close(losses.perceptron(s, y), [0.375]);
    // gradient of the sum: −t on the misclassified (indices 1, 2, 3), 0 on the correct one
    const sg = tensor([2, -1, 0, 0.5], { requiresGrad: true });
    losses.perceptron(sg, y, { reduction: 'sum' }).backward();
    expect(vals(sg.grad!)).toEqual([0, -1, 1, 1]);
  });

  it('nll: −logProbs[i, label_i] (PyTorch NLLLoss); crossEntropy = nll(logSoftmax)', () => {
    setBackend(name);
    const lp = tensor([[-1, -2, -3], [-0.5, -1.5, -2.5]]);
    const y = int([2, 0]);
    close(losses.nll(lp, y, { reduction: 'none' }), [3, 0.5]);
    close(losses.nll(lp, y), [1.75]);
    close(losses.nll(lp, y, { reduction: 'sum' }), [3.5]);
  });

  it('crossEntropy: reductions, labels and probability rows', () => {
    setBackend(name);
    const x = tensor([[0, 0], [Math.log(3), 0]]);
    const y = int([0, 1]);
    // row 0: −log(1/2); row 1: softmax = [3/4, 1/4], −log(1/4)
    close(losses.crossEntropy(x, y, { reduction: 'none' }), [Math.LN2, Math.log(4)]);
    close(losses.crossEntropy(x, y), [Math.log(8) / 2]);
    close(losses.crossEntropy(x, y, { reduction: 'sum' }), [Math.log(8)]);
    const rows = tensor([[1, 0], [0.5, 0.5]]);
    // row 1 with [1/2, 1/2]: −(log(3/4) + log(1/4)) / 2
    close(losses.crossEntropy(x, rows, { reduction: 'none' }), [Math.LN2, -(Math.log(0.75) + Math.log(0.25)) / 2]);
    // empty batch: mean NaN (PyTorch), sum 0, none []
    expect(losses.crossEntropy(zeros([0, 3]), int([]), { reduction: 'sum' }).item()).toBe(0);
    expect(losses.crossEntropy(zeros([0, 3]), int([]), { reduction: 'none' }).shape).toEqual([0]);
  });

  it('binaryCrossEntropy: logits (default) and probabilities with the log clamped to −100 (PyTorch BCELoss)', () => {
    setBackend(name);
    const z = tensor([0, 2, -3]);
    const y = tensor([1, 0, 0.5]);
    const want = [Math.LN2, Math.log(1 + Math.exp(2)), 1.5 + Math.log(1 + Math.exp(-3))];
    close(losses.binaryCrossEntropy(z, y, { reduction: 'none' }), want);
    close(losses.binaryCrossEntropy(z, y, { reduction: 'sum' }), [want[0] + want[1] + want[2]]);
    close(losses.binaryCrossEntropy(z, y), [(want[0] + want[1] + want[2]) / 3]);
    // probabilities: −log .5, −log .2, 0 (p = 0, t = 0), 100 (p = 1, t = 0: log 0 clamped), 100 (p = 0, t = 1)
    const p = tensor([0.5, 0.8, 0, 1, 0]);
    const yp = tensor([1, 0, 0, 0, 1]);
    const none = losses.binaryCrossEntropy(p, yp, { fromLogits: false, reduction: 'none' });
    close(none, [Math.LN2, Math.log(5), 0, 100, 100], 4);
    close(losses.binaryCrossEntropy(p, yp, { fromLogits: false }), [(Math.LN2 + Math.log(5) + 200) / 5], 4);
    // a denormal probability: log(1e-40) = −92.1 is above the clamp
    close(losses.binaryCrossEntropy(tensor([1e-40]), tensor([1]), { fromLogits: false }), [-Math.log(Math.fround(1e-40))], 3);
    // the two forms agree where both apply: p = sigmoid(z)
    const sig = tensor(vals(z).map((v) => 1 / (1 + Math.exp(-v))));
    close(losses.binaryCrossEntropy(sig, y, { fromLogits: false, reduction: 'none' }), want, 4);
    // PyTorch's BCELoss gradient (p − t) / max(p (1 − p), 1e-12) / N: finite at p = 0 and 1, and
    // large (not 0) on a confidently wrong prediction, even below the 1e-12 floor
    const pg = tensor([0, 1, 0, 1, 1e-30, 0.5], { requiresGrad: true });
    losses.binaryCrossEntropy(pg, tensor([0, 1, 1, 0, 1, 1]), { fromLogits: false }).backward();
    const g = vals(pg.grad!);
    const wantGrad = [0, 0, -1e12 / 6, 1e12 / 6, -1e12 / 6, -0.5 / 0.25 / 6];
    g.forEach((v, i) => expect(v / wantGrad[i] || v, `grad[${i}] = ${v}`).toBeCloseTo(wantGrad[i] === 0 ? 0 : 1, 5));
  });

  it('klDiv: t (log t − x), 0 where t = 0; batchmean by default; logTarget (PyTorch KLDivLoss)', () => {
    setBackend(name);
    const x = tensor([[Math.log(0.5), Math.log(0.5)], [Math.log(0.25), Math.log(0.75)]]);
    const y = tensor([[1, 0], [0.5, 0.5]]);
    const row0 = Math.LN2;
    const row1 = 0.5 * Math.LN2 + 0.5 * Math.log(2 / 3);
    close(losses.klDiv(x, y), [(row0 + row1) / 2]);
    close(losses.klDiv(x, y, { reduction: 'sum' }), [row0 + row1]);
    close(losses.klDiv(x, y, { reduction: 'mean' }), [(row0 + row1) / 4]);
    close(losses.klDiv(x, y, { reduction: 'none' }), [Math.LN2, 0, 0.5 * Math.LN2, 0.5 * Math.log(2 / 3)]);
    const logY = tensor([[0, -Infinity], [Math.log(0.5), Math.log(0.5)]]);
    close(losses.klDiv(x, logY, { logTarget: true }), [(row0 + row1) / 2]);
    // KL of a distribution with itself is 0
    close(losses.klDiv(x, tensor([[0.5, 0.5], [0.25, 0.75]])), [0]);
  });
});

describe.each(backends)('gradient checks, every loss and reduction (%s backend)', (name) => {
  const cases: [string, (r: (typeof REDUCTIONS)[number]) => [(...xs: Tensor[]) => Tensor, Tensor[], number[]]][] = [
    ['l1', (r) => [(a, b) => losses.l1(a, b, { reduction: r }), [t([3, 4], 1), t([3, 4], 2)], []]],
    ['mse', (r) => [(a, b) => losses.mse(a, b, { reduction: r }), [t([3, 4], 3), t([3, 4], 4)], []]],
    ['huber', (r) => [(a, b) => losses.huber(a, b, { reduction: r, delta: 0.7 }), [t([4, 3], 5, -2, 2), t([4, 3], 6, -2, 2)], []]],
    ['hinge', (r) => [(a, b) => losses.hinge(a, b, { reduction: r }), [t([4, 3], 7, -2, 2), pm1([4, 3], 8)], [1]]],
    ['squaredHinge', (r) => [(a, b) => losses.squaredHinge(a, b, { reduction: r }), [t([4, 3], 9, -2, 2), pm1([4, 3], 10)], [1]]],
    ['perceptron', (r) => [(a, b) => losses.perceptron(a, b, { reduction: r }), [t([6, 1], 11, -2, 2), pm1([6, 1], 12)], [1]]],
    ['nll', (r) => [(a, b) => losses.nll(a, b, { reduction: r }), [t([5, 4], 13, -3, 0), int(Array.from(randomLabels(5, 4, 14)))], [1]]],
    ['crossEntropy (labels)', (r) => [(a, b) => losses.crossEntropy(a, b, { reduction: r }), [t([5, 4], 15, -3, 3), int(Array.from(randomLabels(5, 4, 16)))], [1]]],
    ['crossEntropy (rows)', (r) => [(a, b) => losses.crossEntropy(a, b, { reduction: r }), [t([3, 4], 17, -3, 3), t([3, 4], 18, 0, 0.5)], [1]]],
    ['binaryCrossEntropy (logits)', (r) => [(a, b) => losses.binaryCrossEntropy(a, b, { reduction: r }), [t([3, 4], 19, -3, 3), t([3, 4], 20, 0, 1)], [1]]],
    // exactly at z = 0: the gradient is sigmoid(0) − t = 0.5 − t (not −t, as relu/abs kinks would give)
    ['binaryCrossEntropy (logits at 0)', (r) => [(a, b) => losses.binaryCrossEntropy(a, b, { reduction: r }), [zeros([2, 2]), tensor([[1, 0], [0.25, 1]])], [1]]],
    ['binaryCrossEntropy (probabilities)', (r) => [(a, b) => losses.binaryCrossEntropy(a, b, { reduction: r, fromLogits: false }), [t([3, 4], 21, 0.1, 0.9), t([3, 4], 22, 0, 1)], [1]]],
    ['klDiv', (r) => [(a, b) => losses.klDiv(a, b, { reduction: r }), [t([3, 4], 23, -3, 0), t([3, 4], 24, 0, 1)], [1]]],
    ['klDiv (logTarget)', (r) => [(a, b) => losses.klDiv(a, b, { reduction: r, logTarget: true }), [t([3, 4], 25, -3, 0), t([3, 4], 26, -3, 0)], [1]]],
  ];
  for (const [label, make] of cases) {
    it(label, () => {
      setBackend(name);
      for (const r of REDUCTIONS) {
        const [f, inputs, skip] = make(r);
        gradcheck(`${label} ${r} (${name})`, f, inputs, { skip, h: 1e-3 });
      }
    });
  }
  it('klDiv batchmean', () => {
    setBackend(name);
    gradcheck(`klDiv batchmean (${name})`, (a, b) => losses.klDiv(a, b), [t([3, 4], 27, -3, 0), t([3, 4], 28, 0, 1)], { skip: [1], h: 1e-3 });
  });
});

describe('refusals name the loss, the argument, what was expected and what came', () => {
  const p = zeros([4, 2]);
  it('shape mismatches name both shapes', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => losses.l1(p, zeros([2, 4])), /^fathom\.l1: target must have the predictions' shape \[4, 2\], got \[2, 4\] \(same number of values: reshape the target to \[4, 2\]\)$/],
      [() => losses.huber(p, zeros([4])), /^fathom\.huber: target must have the predictions' shape \[4, 2\], got \[4\]$/],
      [() => losses.mse(p, zeros([4, 3])), /^fathom\.mse: target must have the predictions' shape \[4, 2\], got \[4, 3\]$/],
      [() => losses.hinge(p, zeros([4])), /^fathom\.hinge: target must have the scores' shape \[4, 2\], got \[4\]$/],
      [() => losses.squaredHinge(p, zeros([8])), /^fathom\.squaredHinge: target must have the scores' shape \[4, 2\], got \[8\] \(same number/],
      [() => losses.perceptron(zeros([4, 1]), zeros([4])), /^fathom\.perceptron: target must have the scores' shape \[4, 1\], got \[4\] \(same number of values: reshape the target to \[4, 1\]\)$/],
      [() => losses.nll(p, int([0, 1])), /^fathom\.nll: class indices must have shape \[4\] for logProbs \[4, 2\], got \[2\]$/],
      [() => losses.klDiv(p, zeros([4, 3])), /^fathom\.klDiv: target must have the logProbs' shape \[4, 2\], got \[4, 3\]$/],
      [() => losses.binaryCrossEntropy(p, zeros([2, 4]), { fromLogits: false }), /^fathom\.binaryCrossEntropy: target must have the probabilities' shape \[4, 2\], got \[2, 4\]/],
      [() => losses.crossEntropy(p, zeros([4, 3]), { reduction: 'none' }), /^fathom\.crossEntropy: target must be int32 class indices \[4\] or float32 one-hot rows \[4, 2\], got float32 \[4, 3\]$/],
    ];
    for (const [f, re] of cases) expect(f).toThrow(re);
  });

  it('a bad reduction, options and option values', () => {
    const y = zeros([4, 2]);
    for (const [n, f] of Object.entries({
      l1: losses.l1, mse: losses.mse, huber: losses.huber, hinge: losses.hinge, squaredHinge: losses.squaredHinge,
      perceptron: losses.perceptron, binaryCrossEntropy: losses.binaryCrossEntropy,
    })) {
      expect(() => f(p, y, { reduction: 'avg' } as never)).toThrow(new RegExp(`^fathom\\.${n}: reduction must be 'mean', 'sum' or 'none', got "avg"$`));
      expect(() => f(p, y, { reduction: 5 } as never)).toThrow(new RegExp(`^fathom\\.${n}: reduction must be 'mean', 'sum' or 'none', got 5$`));
      expect(() => f(p, y, { reduce: 'sum' } as never)).toThrow(new RegExp(`^fathom\\.${n}: unknown option 'reduce' in options \\(known: reduction`));
      expect(() => f(p, y, 'sum' as never)).toThrow(new RegExp(`^fathom\\.${n}: options must be an object, got`));
    }
    expect(() => losses.crossEntropy(p, int([0, 1, 0, 1]), { reduction: 'batchmean' } as never)).toThrow(/^fathom\.crossEntropy: reduction must be 'mean', 'sum' or 'none', got "batchmean"$/);
    expect(() => losses.nll(p, int([0, 1, 0, 1]), { reduction: 'Mean' } as never)).toThrow(/^fathom\.nll: reduction must be/);
    expect(() => losses.klDiv(p, y, { reduction: 'avg' } as never)).toThrow(/^fathom\.klDiv: reduction must be 'batchmean', 'sum', 'mean' or 'none', got "avg"$/);
    expect(() => losses.huber(p, y, { delta: 0 })).toThrow(/^fathom\.huber: delta must be > 0, got 0$/);
    expect(() => losses.huber(p, y, { delta: NaN })).toThrow(/^fathom\.huber: delta must be a finite number/);
    expect(() => losses.binaryCrossEntropy(p, y, { fromLogits: 'no' } as never)).toThrow(/^fathom\.binaryCrossEntropy: fromLogits must be a boolean, got "no"$/);
    expect(() => losses.klDiv(p, y, { logTarget: 1 } as never)).toThrow(/^fathom\.klDiv: logTarget must be a boolean, got 1$/);
  });

  it('targets in the wrong form', () => {
    expect(() => losses.hinge(p, tensor([[1, 0], [-1, 1], [1, 1], [0, 1]]))).toThrow(/^fathom\.hinge: target labels must be all -1\/1 or all 0\/1, got -1 at flat index 2$/);
    expect(() => losses.perceptron(zeros([2]), tensor([1, 0.5]))).toThrow(/^fathom\.perceptron: target labels must be all -1\/1 or all 0\/1, got 0.5 at flat index 1$/);
    expect(() => losses.squaredHinge(zeros([2]), int([1, 0]))).toThrow(/^fathom\.squaredHinge: target must be float32 labels -1\/1 \(or 0\/1\), got int32 \[2\]$/);
    expect(() => losses.hinge(zeros([]), zeros([]))).toThrow(/^fathom\.hinge: scores need a batch axis/);
    expect(() => losses.nll(p, tensor([0, 1, 0, 1]))).toThrow(/^fathom\.nll: class indices must be int32, got float32 \[4\]/);
    expect(() => losses.nll(p, int([0, 1, 2, 0]))).toThrow(/^fathom\.nll: label 2 at index 2 is outside \[0, 2\) \(and is not ignoreIndex -100\)$/);
    expect(() => losses.nll(zeros([2, 0]), int([0, 0]))).toThrow(/^fathom\.nll: logProbs have no classes \(shape \[2, 0\]\)$/);
    expect(() => losses.crossEntropy(zeros([2, 0]), int([0, 0]), { reduction: 'none' })).toThrow(/^fathom\.crossEntropy: logits have no classes \(shape \[2, 0\]\)$/);
    expect(() => losses.nll(zeros([4]), int([0, 1, 0, 1]))).toThrow(/^fathom\.nll: for unbatched logProbs \[4\] the target must be a scalar int32 class index \[\], got int32 \[4\]$/);
    expect(() => losses.klDiv(p, tensor([[0.5, 0.5], [1, 0], [0, -0.1], [1, 0]]))).toThrow(/^fathom\.klDiv: target probabilities must be >= 0, got -0.1\d* at flat index 5 \(pass logTarget: true/);
    expect(() => losses.klDiv(zeros([]), zeros([]))).toThrow(/^fathom\.klDiv: reduction 'batchmean' divides by the batch size/);
    expect(() => losses.binaryCrossEntropy(tensor([0.5, 1.5]), tensor([1, 0]), { fromLogits: false }))
      .toThrow(/^fathom\.binaryCrossEntropy: probabilities must lie in \[0, 1\] \(fromLogits: false\), got 1.5 at flat index 1; pass logits with fromLogits: true$/);
    expect(() => losses.l1(p, int([0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/^fathom\.l1: target must be float32, got int32 \[8\]$/);
    expect(() => losses.l1('p' as never, p)).toThrow(/^fathom\.l1: pred must be a Tensor, got string$/);
  });

  it('lossByName knows every loss', () => {
    for (const n of losses.LOSS_NAMES) expect(losses.lossByName(n)).toBe((losses as unknown as Record<string, unknown>)[n]);
    expect([...losses.LOSS_NAMES].sort()).toEqual(['binaryCrossEntropy', 'crossEntropy', 'hinge', 'huber', 'klDiv', 'l1', 'mse', 'nll', 'perceptron', 'squaredHinge']);
    expect(() => losses.lossByName('cosine' as never)).toThrow(/^fathom: unknown loss 'cosine' \(expected crossEntropy, mse, binaryCrossEntropy, l1, huber, hinge, squaredHinge, perceptron, nll, klDiv or a function\)$/);
    expect(() => losses.lossByName('toString' as never)).toThrow(/unknown loss 'toString'/);
  });
});
