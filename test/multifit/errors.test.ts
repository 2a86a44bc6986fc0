// Bad data and options for multi-input / multi-output fit, evaluate and predict: refused by name,
// listing the names expected.
import { describe, expect, it } from 'vitest';
import { Tensor, nn, randn, setBackend, type MultiIOModule } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { evaluate, fit, predict } from '../../lib/models/training.js';
import { twoHeads, twoHeadsData } from './models.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const quiet = { verbose: 0 } as const;
const rowsOf = (t: Tensor, k: number): Tensor => new Tensor(t.data.slice(0, k * (t.size / t.shape[0])), [k, ...t.shape.slice(1)]);

/** A module whose names and forwardAll are whatever a test gives it. */
class Custom extends nn.Module implements MultiIOModule {
  fc = new nn.Linear(4, 3);
  constructor(readonly inputNames: string[], readonly outputNames: string[], private readonly f: (xs: Tensor[]) => Tensor[]) {
    super();
  }
  override forward(): Tensor { throw new Error('forwardAll only'); }
  forwardAll(xs: Tensor[]): Tensor[] { return this.f(xs); }
}

describe.each(backends)('multi-IO fit refuses bad input on the %s backend', (backend) => {
  const d = twoHeadsData(12, 1);
  const x = [d.image, d.meta];
  const y = [d.digit, d.size];
  const loss = ['crossEntropy', 'mse'] as ('crossEntropy' | 'mse')[];

  it('inputs and targets: unknown, missing and miscounted names, list lengths, non-tensors', async () => {
    setBackend(backend);
    const m = twoHeads(1);
    const cases: [unknown, unknown, RegExp][] = [
      [{ image: d.image, meta: d.meta, extra: d.meta }, y, /^fathom.fit: x has an unknown input name 'extra'; the inputs are 'image', 'meta'$/],
      [{ image: d.image }, y, /^fathom.fit: x has no input 'meta'; it needs 2 Tensors, one per input \('image', 'meta'\)$/],
      [[d.image], y, /^fathom.fit: x must hold 2 Tensors, one per input \('image', 'meta'\), got a list of 1$/],
      [d.image, y, /^fathom.fit: x must be a list or an object of 2 Tensors, one per input \('image', 'meta'\), got one Tensor \[12, 4\]$/],
      [[d.image, [1, 2]], y, /^fathom.fit: x\[1\] \(input 'meta'\) must be a Tensor, got Array$/],
      [x, { digits: d.digit, size: d.size }, /^fathom.fit: y has an unknown output name 'digits' \(did you mean 'digit'\?\); the outputs are 'digit', 'size'$/],
      [x, 'y', /^fathom.fit: y must be a Tensor, a list or an object \{name: Tensor\} of 2 Tensors, one per output \('digit', 'size'\), got string$/],
    ];
    for (const [xx, yy, re] of cases) await expect(fit(m, xx as never, yy as never, { loss, ...quiet })).rejects.toThrow(re);
    await expect(evaluate(m, { image: d.image }, y)).rejects.toThrow(/^fathom.evaluate: x has no input 'meta'/);
    expect(() => predict(m, { image: d.image, metadata: d.meta })).toThrow(/^fathom.predict: x has an unknown input name 'metadata' \(did you mean 'meta'\?\); the inputs are 'image', 'meta'$/);
  });

  it('rows: every input and target needs the same N; a batch dimension; some samples', async () => {
    setBackend(backend);
    const m = twoHeads(1);
    await expect(fit(m, [d.image, rowsOf(d.meta, 11)], y, { loss, ...quiet }))
      .rejects.toThrow(/^fathom.fit: every input and target needs the same number of samples \(rows\), but x.image has 12 \(shape \[12, 4\]\) and x.meta has 11 \(shape \[11, 2\]\)$/);
    await expect(fit(m, x, [d.digit, rowsOf(d.size, 10)], { loss, ...quiet })).rejects.toThrow(/x.image has 12 .* and y.size has 10/);
    await expect(fit(m, x, y, { loss, validationData: [x, [d.digit, rowsOf(d.size, 3)]], ...quiet }))
      .rejects.toThrow(/^fathom.fit \(validationData\): every input and target needs the same number of samples/);
    await expect(fit(m, x, y, { loss, validationData: [{ image: d.image, meta: d.meta, other: d.meta }, y], ...quiet }))
      .rejects.toThrow(/^fathom.fit \(validationData\): x has an unknown input name 'other'/);
    await expect(fit(m, [rowsOf(d.image, 0), rowsOf(d.meta, 0)], [rowsOf(d.digit, 0), rowsOf(d.size, 0)], { loss, ...quiet }))
      .rejects.toThrow(/^fathom.fit: the data has no samples/);
    await expect(evaluate(m, [new Tensor(new Float32Array([1]), []), d.meta], y)).rejects.toThrow(/^fathom.evaluate: x.image needs a batch dimension/);
    expect(() => predict(m, [d.image, rowsOf(d.meta, 5)])).toThrow(/^fathom.predict: every input and target needs the same number of samples/);
  });

  it('shapes that do not fit the model name the data and the losses', async () => {
    setBackend(backend);
    const m = twoHeads(1);
    await expect(fit(m, [randn([12, 5]), d.meta], y, { loss, ...quiet }))
      .rejects.toThrow(/^fathom.fit: the training data \(x \{image: \[12, 5\], meta: \[12, 2\]\}, y \{digit: \[12\], size: \[12, 1\]\}\) does not fit TwoHeads and its losses \(digit: crossEntropy loss, size: mse loss\): fathom\./);
    await expect(fit(m, x, [d.digit, randn([12, 2])], { loss, ...quiet })).rejects.toThrow(/does not fit TwoHeads and its losses .*mse/);
  });

  it('losses, weights and metrics per output: names and counts', async () => {
    setBackend(backend);
    const m = twoHeads(1);
    const cases: [object, RegExp][] = [
      [{}, /^fathom.fit: options.loss is required on a model's first fit\(\).*one for every output, a list or an object by output name: digit, size\)$/],
      [{ loss: { digit: 'crossEntropy' } }, /^fathom.fit: options.loss has no entry for output 'size'; give one for each of 'digit', 'size'$/],
      [{ loss: ['crossEntropy', 'mse', 'mse'] }, /^fathom.fit: options.loss as a list needs one entry per output \('digit', 'size'\), got 3$/],
      [{ loss: { digit: 'crossEntropy', size: 'mse', sise: 'mse' } }, /^fathom.fit: options.loss has an unknown output name 'sise' \(did you mean 'size'\?\); the outputs are 'digit', 'size'$/],
      [{ loss: ['crossEntropy', 'mae'] }, /^fathom.fit: options.loss for output 'size': unknown loss 'mae' .*fathom calls it 'l1'\)$/],
      [{ loss, lossWeights: [1, NaN] }, /^fathom.fit: options.lossWeights for output 'size' must be a finite number, got NaN$/],
      [{ loss, lossWeights: { siz: 1 } }, /^fathom.fit: options.lossWeights has an unknown output name 'siz'/],
      [{ loss, lossWeights: [1] }, /^fathom.fit: options.lossWeights as a list needs one entry per output \('digit', 'size'\), got 1$/],
      [{ loss, metrics: [['mae']] }, /^fathom.fit: options.metrics as a list needs one entry per output/],
      [{ loss, metrics: { size: ['maee'] } }, /^fathom.fit \(output 'size'\): unknown metric "maee"/],
      [{ loss, metrics: { digit: 'accuracy' }, accuracy: false }, /^fathom.fit \(output 'digit'\): metrics lists 'accuracy' but options.accuracy is false/],
      [{ loss: 7 }, /^fathom.fit: options.loss must be a string or a function or an array or an object, got number 7$/],
    ];
    for (const [o, re] of cases) await expect(fit(m, x, y, { ...o, ...quiet })).rejects.toThrow(re);
    await expect(evaluate(m, x, y, { loss: { digit: 'crossEntropy' } })).rejects.toThrow(/^fathom.evaluate: options.loss has no entry for output 'size'/);
  });

  it('a plain Module refuses lists, objects and per-output options with a hint', async () => {
    setBackend(backend);
    const lin = new nn.Linear(4, 3);
    await expect(fit(lin, x, d.digit, { loss: 'crossEntropy', ...quiet })).rejects.toThrow(/^fathom.fit: x must be a Tensor, got Array; a list or an object of tensors needs a model with several inputs or outputs/);
    await expect(fit(lin, d.image, { digit: d.digit }, { loss: 'crossEntropy', ...quiet })).rejects.toThrow(/^fathom.fit: y must be a Tensor, got Object; a list/);
    await expect(fit(lin, d.image, d.digit, { loss: ['crossEntropy'] as never, ...quiet })).rejects.toThrow(/^fathom.fit: options.loss must be a string or a function, got array/);
    await expect(fit(lin, d.image, d.digit, { loss: 'crossEntropy', lossWeights: [2], ...quiet })).rejects.toThrow(/^fathom.fit: options.lossWeights weighs the losses of a model's outputs; this model has one output/);
    expect(() => predict(lin, [d.image] as never)).toThrow(/^fathom.predict: x must be a Tensor, got Array; a list/);
  });

  it('a custom module with bad names or a forwardAll that breaks its promise', async () => {
    setBackend(backend);
    const one = (xs: Tensor[]): Tensor[] => [xs[0]];
    await expect(fit(new Custom(['a', 'a'], ['p'], one), [d.image, d.image], d.digit, { loss: 'crossEntropy', ...quiet }))
      .rejects.toThrow(/^fathom.fit: Custom.inputNames names 'a' twice \(a, a\); the names must be unique$/);
    await expect(fit(new Custom([], ['p'], one), [], d.digit, { loss: 'crossEntropy', ...quiet })).rejects.toThrow(/^fathom.fit: Custom.inputNames is empty/);
    await expect(fit(new Custom(['a'], ['p', ''], one), d.image, [d.digit, d.digit], { loss: 'crossEntropy', ...quiet })).rejects.toThrow(/^fathom.fit: Custom.outputNames\[1\] must be a non-empty string, got ""/);
    const short = new Custom(['a'], ['p', 'q'], (xs) => [xs[0]]);
    await expect(fit(short, d.image, [d.digit, d.size], { loss: ['crossEntropy', 'mse'], ...quiet }))
      .rejects.toThrow(/fathom.fit: Custom.forwardAll returned \[\[12, 4\]\], expected a list of 2 Tensors \(outputs p, q\)/);
    expect(() => predict(new Custom(['a'], ['p'], () => 3 as never), d.image)).toThrow(/^fathom.predict: Custom.forwardAll returned number, expected a list of 1 Tensors \(outputs p\)$/);
    // Keys that two outputs would both log are refused before training.
    const clash = new Custom(['a'], ['x', 'xAccuracy'], (xs) => { const p = (xs[0] as Tensor); return [p, p]; });
    const accuracyLoss = { name: 'accuracyLoss', fn: () => 0 };
    await expect(fit(clash, d.image, [d.size, d.size], { loss: 'mse', metrics: { x: [accuracyLoss] }, ...quiet }))
      .rejects.toThrow(/^fathom.fit: output 'xAccuracy' would log 'xAccuracyLoss', a key already taken by another output or by fit; rename the output or the metric$/);
  });
});
