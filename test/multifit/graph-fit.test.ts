// fit / evaluate / predict of a functional nn.Model with two inputs and two outputs (Keras's
// multi-input, multi-output example): lists and name-keyed objects, per-output losses and logs,
// shared and frozen layers under a multi-output fit.
import { describe, expect, it } from 'vitest';
import { Tensor, manualSeed, nn, setBackend } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { evaluate, fit, predict } from '../../lib/models/training.js';
import { isMultiIO } from '../../lib/models/multi.js';
import { twoHeadsData } from './models.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const quiet = { verbose: 0 } as const;
const weights = (m: nn.Module): Record<string, number[]> => Object.fromEntries(m.namedParameters().map(([k, p]) => [k, [...p.data]]));

/** image [4] and meta [2] → a shared trunk → 'digit' logits [3] and 'size' [1]. */
function graphModel(seed: number): { model: nn.Model; trunk: nn.Linear; sizeHead: nn.Linear } {
  manualSeed(seed);
  const image = nn.input([4], { name: 'image' });
  const meta = nn.input([2], { name: 'meta' });
  const trunk = new nn.Linear(6, 8);
  const h = new nn.ReLU().apply(trunk.apply(new nn.Concatenate().apply([image, meta])));
  const sizeHead = new nn.Linear(8, 1);
  const digit = new nn.Linear(8, 3).apply(h, { name: 'digit' });
  const size = sizeHead.apply(h, { name: 'size' });
  return { model: new nn.Model({ inputs: [image, meta], outputs: [digit, size] }), trunk, sizeHead };
}

describe.each(backends)('fit of a functional nn.Model on the %s backend', (backend) => {
  it('is a MultiIOModule named by its inputs and output layers; lists and objects train alike', async () => {
    setBackend(backend);
    const d = twoHeadsData(40, 3);
    const a = graphModel(1).model;
    expect(isMultiIO(a)).toBe(true);
    expect(a.inputNames).toEqual(['image', 'meta']);
    expect(a.outputNames).toEqual(['digit', 'size']);
    const opts = { optimizer: 'adam' as const, lr: 0.01, epochs: 3, batchSize: 8, seed: 2, validationSplit: 0.2, ...quiet };
    const ha = await fit(a, [d.image, d.meta], [d.digit, d.size], { ...opts, loss: ['crossEntropy', 'mse'] });
    const b = graphModel(1).model;
    const hb = await fit(b, { meta: d.meta, image: d.image }, { size: d.size, digit: d.digit }, { ...opts, loss: { digit: 'crossEntropy', size: 'mse' } });
    expect(weights(b)).toEqual(weights(a));
    expect(Object.keys(ha.history).sort()).toEqual(['digitAccuracy', 'digitLoss', 'loss', 'sizeLoss', 'valDigitAccuracy', 'valDigitLoss', 'valLoss', 'valSizeLoss']);
    expect(ha.history.sizeLoss!.at(-1)!).toBeLessThan(ha.history.sizeLoss![0]);
    const [logits, size] = predict(a, { image: d.image, meta: d.meta }) as Tensor[];
    expect(logits.shape).toEqual([40, 3]);
    expect(size.shape).toEqual([40, 1]);
    const r = await evaluate(a, [d.image, d.meta], [d.digit, d.size]);
    expect(r.loss).toBeCloseTo(r.digitLoss! + r.sizeLoss!, 5);
  });

  it('lossWeights [1, 0] leaves the size head as it was; a frozen trunk stays bit-identical', async () => {
    setBackend(backend);
    const d = twoHeadsData(24, 5);
    const { model, trunk, sizeHead } = graphModel(2);
    trunk.trainable = false;
    const trunkBefore = [...trunk.weight.data];
    const headBefore = [...sizeHead.weight.data];
    await fit(model, [d.image, d.meta], [d.digit, d.size], { loss: ['crossEntropy', 'mse'], lossWeights: [1, 0], optimizer: 'sgd', lr: 0.1, epochs: 2, batchSize: 8, seed: 1, ...quiet });
    expect([...trunk.weight.data]).toEqual(trunkBefore);
    expect([...sizeHead.weight.data]).toEqual(headBefore);
  });
});

describe('the Module methods (types)', () => {
  it('model.fit / evaluate / predict take lists and objects', async () => {
    const d = twoHeadsData(8, 1);
    const { model } = graphModel(1);
    await model.fit({ image: d.image, meta: d.meta }, [d.digit, d.size], { loss: ['crossEntropy', 'mse'], ...quiet });
    const r = await model.evaluate([d.image, d.meta], { digit: d.digit, size: d.size });
    expect(r.digitLoss).toBeDefined();
    expect(Array.isArray(model.predict([d.image, d.meta]))).toBe(true);
    const single: Tensor = new nn.Linear(4, 2).predict(d.image);
    expect(single.shape).toEqual([8, 2]);
  });
});
