/**
 * Training graphs: a shared layer's gradient is the sum over its uses (a
 * known answer worked by hand), and fit() leaves a frozen branch bit-identical
 * while the trainable one learns, with every built-in optimizer, on both backends.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, optim, randn, setBackend, sum, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

describe('shared layers', () => {
  for (const b of backends) {
    it(`one Linear applied to two inputs: its gradient is the sum over both uses (${b})`, () => {
      setBackend(b);
      const shared = new nn.Linear(2, 1);
      shared.weight.data.set([1, 2]);
      shared.bias!.data.set([0.5]);
      const a = nn.input([2], { name: 'a' }), c = nn.input([2], { name: 'c' });
      const model = new nn.Model({ inputs: [a, c], outputs: new nn.Multiply().apply([shared.apply(a), shared.apply(c)]) });
      expect(model.parameters()).toEqual([shared.weight, shared.bias]);
      // loss = Σₙ L(aₙ)·L(cₙ), L(x) = w·x + b. With a = [[1, 0], [0, 1]], c = [[2, 1], [1, -1]]:
      // L(a) = [1.5, 2.5], L(c) = [4.5, -0.5];
      // ∂loss/∂w = Σₙ L(cₙ)·aₙ + L(aₙ)·cₙ = 4.5·[1, 0] + 1.5·[2, 1] − 0.5·[0, 1] + 2.5·[1, −1] = [10, −1.5]
      // ∂loss/∂b = Σₙ L(cₙ) + L(aₙ) = 6 + 2 = 8
      const loss = sum(model.forward([tensor([[1, 0], [0, 1]]), tensor([[2, 1], [1, -1]])]));
      expect(loss.item()).toBeCloseTo(1.5 * 4.5 - 2.5 * 0.5, 6);
      loss.backward();
      expect([...shared.weight.grad!.data]).toEqual([10, -1.5]);
      expect([...shared.bias!.grad!.data]).toEqual([8]);
    });
  }
});

describe('frozen layers in fit', () => {
  const optimizers = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adadelta', 'adamax'] as const;
  for (const b of backends) {
    it(`a frozen branch stays bit-identical, the trainable one learns: every named optimizer and SGD with momentum + weight decay (${b})`, async () => {
      setBackend(b);
      for (const opt of [...optimizers, 'sgd+momentum'] as const) {
        manualSeed(5);
        const x = nn.input([4]);
        const frozen = new nn.Linear(4, 3, { weightRegularizer: { l2: 0.1 } });
        const live = new nn.Linear(4, 3);
        const h = new nn.Concatenate().apply([new nn.Tanh().apply(frozen.apply(x, { name: 'pretrained' })), new nn.Tanh().apply(live.apply(x))]);
        const model = new nn.Model({ inputs: x, outputs: new nn.Linear(6, 1).apply(h, { name: 'head' }) });
        frozen.trainable = false;
        const before = frozen.parameters().map((p) => Float32Array.from(p.data));
        const liveBefore = Float32Array.from(live.weight.data);
        const xs = randn([32, 4]), ys = randn([32, 1]);
        const optimizer = opt === 'sgd+momentum' ? new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 0.01 }) : opt;
        await model.fit(xs, ys, { loss: 'mse', optimizer, epochs: 3, batchSize: 8, verbose: 0, seed: 1 });
        frozen.parameters().forEach((p, i) => expect(p.data, `${opt}: ${b}`).toEqual(before[i]));
        expect(live.weight.data, opt).not.toEqual(liveBefore);
        expect(model.trainable).toBe(true);
        expect(frozen.trainable).toBe(false);
      }
    });
  }

  it('model.trainable = false freezes every layer, nested models included; fit then refuses', async () => {
    const i = nn.input([2]);
    const inner = new nn.Model({ inputs: i, outputs: new nn.Linear(2, 2).apply(i) });
    const j = nn.input([2]);
    const outer = new nn.Model({ inputs: j, outputs: new nn.Linear(2, 1).apply(inner.apply(j)) });
    outer.trainable = false;
    expect(inner.trainable).toBe(false);
    expect(outer.parameters().some((p) => p.requiresGrad)).toBe(false);
    await expect(outer.fit(randn([4, 2]), randn([4, 1]), { loss: 'mse', verbose: 0 })).rejects.toThrow(/all 4 are frozen/);
    inner.trainable = true;
    expect(outer.trainable).toBe(true);
  });
});

describe('fit / predict on a single-input single-output graph', () => {
  for (const b of backends) {
    it(`trains like the same Sequential: equal losses and weights step by step (${b})`, async () => {
      setBackend(b);
      const make = () => {
        manualSeed(8);
        return [new nn.Linear(3, 6), new nn.ReLU(), new nn.Linear(6, 2)] as const;
      };
      const [a1, r, a2] = make();
      const x = nn.input([3]);
      const graph = new nn.Model({ inputs: x, outputs: a2.apply(r.apply(a1.apply(x))) });
      const seq = new nn.Sequential(...make());
      manualSeed(2);
      const xs = randn([20, 3]);
      const ys = tensor(Int32Array.from({ length: 20 }, (_, k) => k % 2), [20]);
      const h1 = await graph.fit(xs, ys, { loss: 'crossEntropy', epochs: 2, batchSize: 5, verbose: 0, seed: 3 });
      const h2 = await seq.fit(xs, ys, { loss: 'crossEntropy', epochs: 2, batchSize: 5, verbose: 0, seed: 3 });
      expect(h1.history.loss).toEqual(h2.history.loss);
      expect([...graph.predict(xs).data]).toEqual([...seq.predict(xs).data]);
    });
  }
});
