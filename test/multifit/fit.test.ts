// fit / evaluate / predict of models with several inputs and outputs (Keras's multi-input,
// multi-output fit): list and name-keyed forms, per-output losses, weights, metrics and log keys.
import { describe, expect, it } from 'vitest';
import { Tensor, callbacks, losses, nn, optim, setBackend, type MultiIOModule } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { evaluate, fit, predict } from '../../lib/models/training.js';
import { isMultiIO } from '../../lib/models/multi.js';
import { OneInOneOut, TwoHeads, twoHeads, twoHeadsData } from './models.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const quiet = { verbose: 0 } as const;

/** Every parameter's values, by name. */
const weights = (m: nn.Module): Record<string, number[]> => Object.fromEntries(m.namedParameters().map(([k, p]) => [k, [...p.data]]));

describe.each(backends)('multi-input / multi-output fit on the %s backend', (backend) => {
  it('recognises the interface', () => {
    setBackend(backend);
    expect(isMultiIO(twoHeads(1))).toBe(true);
    expect(isMultiIO(new nn.Linear(2, 1))).toBe(false);
    expect(isMultiIO(null)).toBe(false);
  });

  it('trains the same from lists and from name-keyed objects (same seed: bit-identical weights)', async () => {
    setBackend(backend);
    const d = twoHeadsData(40, 2);
    const opts = { loss: { digit: 'crossEntropy', size: 'mse' } as const, optimizer: 'adam' as const, lr: 0.01, epochs: 3, batchSize: 8, seed: 5, validationSplit: 0.25, ...quiet };
    const a = twoHeads(3);
    const ha = await fit(a, [d.image, d.meta], [d.digit, d.size], { ...opts, loss: ['crossEntropy', 'mse'] });
    const b = twoHeads(3);
    const hb = await fit(b, { meta: d.meta, image: d.image }, { size: d.size, digit: d.digit }, opts);
    expect(weights(b)).toEqual(weights(a));
    expect(hb.history).toEqual(ha.history);
    expect(weights(a)).not.toEqual(weights(twoHeads(3))); // it trained
    // The loss went down on both heads.
    expect(ha.history.digitLoss!.at(-1)!).toBeLessThan(ha.history.digitLoss![0]);
    expect(ha.history.sizeLoss!.at(-1)!).toBeLessThan(ha.history.sizeLoss![0]);
  });

  it('logs loss, <output>Loss and <output><Metric>, training and validation; loss = Σ wᵢ·lossᵢ', async () => {
    setBackend(backend);
    const d = twoHeadsData(32, 4);
    const m = twoHeads(1);
    const h = await fit(m, [d.image, d.meta], [d.digit, d.size], {
      loss: ['crossEntropy', 'mse'], lossWeights: { size: 0.5 }, metrics: { size: ['mae', 'r2'] },
      epochs: 2, batchSize: 8, seed: 1, validationSplit: 0.25, ...quiet,
    });
    expect(Object.keys(h.history).sort()).toEqual([
      'digitAccuracy', 'digitLoss', 'loss', 'sizeLoss', 'sizeMae', 'sizeR2',
      'valDigitAccuracy', 'valDigitLoss', 'valLoss', 'valSizeLoss', 'valSizeMae', 'valSizeR2',
    ]);
    for (let e = 0; e < 2; e++) {
      // Keras: the per-output losses are unweighted, the total weighs them (digit's weight defaults to 1).
      expect(h.history.loss[e]).toBeCloseTo(h.history.digitLoss![e] + 0.5 * h.history.sizeLoss![e], 5);
      expect(h.history.valLoss![e]).toBeCloseTo(h.history.valDigitLoss![e] + 0.5 * h.history.valSizeLoss![e], 5);
    }
    // evaluate reports the same keys (the last fit's losses, weights and metrics by default) …
    const r = await evaluate(m, { image: d.image, meta: d.meta }, { digit: d.digit, size: d.size });
    expect(Object.keys(r).sort()).toEqual(['digitAccuracy', 'digitLoss', 'loss', 'sizeLoss', 'sizeMae', 'sizeR2']);
    // … and its per-output losses are the losses of predict()'s outputs (known answer).
    const [logits, size] = predict(m, [d.image, d.meta]) as Tensor[];
    expect(r.digitLoss!).toBeCloseTo(losses.crossEntropy(logits, d.digit).item(), 5);
    expect(r.sizeLoss!).toBeCloseTo(losses.mse(size, d.size).item(), 5);
    expect(r.loss).toBeCloseTo(r.digitLoss! + 0.5 * r.sizeLoss!, 5);
    const w = await evaluate(m, [d.image, d.meta], [d.digit, d.size], { lossWeights: [2, 3] });
    expect(w.loss).toBeCloseTo(2 * r.digitLoss! + 3 * r.sizeLoss!, 4);
  });

  it('metrics per output: a flat list for every output, a list of lists, single metrics by name', async () => {
    setBackend(backend);
    const d = twoHeadsData(16, 4);
    const meanPred = (p: Tensor): number => { let s = 0; for (const v of p.data) s += v; return s / p.size; };
    const keys = async (metrics: unknown): Promise<string[]> => Object.keys(
      (await fit(twoHeads(1), [d.image, d.meta], [d.digit, d.size], { loss: ['crossEntropy', 'mse'], metrics: metrics as never, batchSize: 8, ...quiet })).history,
    ).sort();
    expect(await keys([meanPred])).toEqual(['digitAccuracy', 'digitLoss', 'digitMeanPred', 'loss', 'sizeLoss', 'sizeMeanPred']);
    expect(await keys([[{ name: 'topK', k: 2 }], ['mae']])).toEqual(['digitAccuracy', 'digitLoss', 'digitTopK', 'loss', 'sizeLoss', 'sizeMae']);
    expect(await keys({ size: 'mse' })).toEqual(['digitAccuracy', 'digitLoss', 'loss', 'sizeLoss', 'sizeMse']);
    // accuracy: false turns the default off for every output.
    const h = await fit(twoHeads(1), [d.image, d.meta], [d.digit, d.size], { loss: ['crossEntropy', 'mse'], accuracy: false, batchSize: 8, ...quiet });
    expect(Object.keys(h.history).sort()).toEqual(['digitLoss', 'loss', 'sizeLoss']);
  });

  it('lossWeights [1, 0]: the second head gets zero gradient from the loss (its weights stay bit-identical)', async () => {
    setBackend(backend);
    const d = twoHeadsData(24, 6);
    const run = async (lossWeights: number[] | Record<string, number>) => {
      const m = twoHeads(2);
      const before = weights(m);
      const grads: number[] = [];
      await fit(m, [d.image, d.meta], [d.digit, d.size], {
        loss: ['crossEntropy', 'mse'], lossWeights, optimizer: new optim.SGD(m.parameters(), { lr: 0.1 }), epochs: 2, batchSize: 8, seed: 3, ...quiet,
        callbacks: { onBatchEnd: () => { for (const p of m.reg.parameters()) grads.push(...p.grad!.data); } },
      });
      return { m, before, grads };
    };
    const { m, before, grads } = await run([1, 0]);
    // d(w·loss)/dθ = w·dloss/dθ = 0 for the size head's θ (the shared trunk still learns from digit).
    expect(grads.length).toBe(6 * 9);
    expect(grads.every((g) => g === 0)).toBe(true);
    const after = weights(m);
    expect(after['reg.weight']).toEqual(before['reg.weight']);
    expect(after['reg.bias']).toEqual(before['reg.bias']);
    expect(after['cls.weight']).not.toEqual(before['cls.weight']);
    // The same through an object with a missing name (weight 1).
    expect(weights((await run({ size: 0 })).m)).toEqual(after);
    // With weight 1 the size head does learn.
    expect(weights((await run([1, 1])).m)['reg.weight']).not.toEqual(before['reg.weight']);
  });

  it('validationData in any form, and validationSplit, give the same validation', async () => {
    setBackend(backend);
    const d = twoHeadsData(40, 8);
    const opts = { loss: ['crossEntropy', 'mse'] as ('crossEntropy' | 'mse')[], epochs: 2, batchSize: 10, seed: 2, ...quiet };
    const first = (t: Tensor, a: number, b: number): Tensor => new Tensor(t.data.slice(a * (t.size / t.shape[0]), b * (t.size / t.shape[0])), [b - a, ...t.shape.slice(1)]);
    const split = await fit(twoHeads(4), [d.image, d.meta], [d.digit, d.size], { ...opts, validationSplit: 0.25 });
    const tr = [d.image, d.meta, d.digit, d.size].map((t) => first(t, 0, 30));
    const va = [d.image, d.meta, d.digit, d.size].map((t) => first(t, 30, 40));
    const asList = await fit(twoHeads(4), [tr[0], tr[1]], [tr[2], tr[3]], { ...opts, validationData: [[va[0], va[1]], [va[2], va[3]]] });
    const asRecord = await fit(twoHeads(4), { image: tr[0], meta: tr[1] }, { digit: tr[2], size: tr[3] }, {
      ...opts, validationData: [{ image: va[0], meta: va[1] }, { digit: va[2], size: va[3] }],
    });
    expect(asList.history).toEqual(split.history);
    expect(asRecord.history).toEqual(split.history);
    expect(split.history.valSizeLoss!.length).toBe(2);
  });

  it('shuffles every input and target with the same permutation (rows stay aligned)', async () => {
    setBackend(backend);
    const n = 23;
    // Row i carries its id in every tensor: a = i, b = 2i, p's target 3i, q's target -i.
    const col = (f: (i: number) => number): Tensor => new Tensor(Float32Array.from({ length: n }, (_, i) => f(i)), [n, 1]);
    const seen: number[][] = [];
    class Aligned extends nn.Module implements MultiIOModule {
      readonly inputNames = ['a', 'b'];
      readonly outputNames = ['p', 'q'];
      fc = new nn.Linear(1, 1);
      ids: number[] = [];
      override forward(): Tensor { throw new Error('two inputs'); }
      forwardAll([a, b]: Tensor[]): Tensor[] {
        this.ids = [...a.data];
        for (let i = 0; i < a.size; i++) if (b.data[i] !== 2 * a.data[i]) throw new Error(`inputs misaligned at row ${i}: a ${a.data[i]}, b ${b.data[i]}`);
        seen.push(this.ids);
        return [this.fc.forward(a), this.fc.forward(b)];
      }
    }
    const m = new Aligned();
    const target = (k: number) => function aligned(pred: Tensor, y: Tensor): Tensor {
      for (let i = 0; i < y.size; i++) if (y.data[i] !== k * m.ids[i]) throw new Error(`target misaligned at row ${i}: ${y.data[i]} for id ${m.ids[i]}`);
      return losses.mse(pred, y);
    };
    await fit(m, { a: col((i) => i), b: col((i) => 2 * i) }, [col((i) => 3 * i), col((i) => -i)], {
      loss: { p: target(3), q: target(-1) }, optimizer: 'sgd', lr: 1e-4, epochs: 3, batchSize: 5, seed: 9, ...quiet,
    });
    // 3 epochs of 5 batches; each epoch sees every row once, in a shuffled order that changes.
    expect(seen.length).toBe(15);
    const epochs = [0, 1, 2].map((e) => seen.slice(e * 5, e * 5 + 5).flat());
    for (const ids of epochs) expect([...ids].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(epochs[0]).not.toEqual(Array.from({ length: n }, (_, i) => i));
    expect(epochs[1]).not.toEqual(epochs[0]);
  });

  it('predict: Tensor[] for several outputs from either form, batched like one pass; a Tensor for one output', async () => {
    setBackend(backend);
    const d = twoHeadsData(11, 3);
    const m = twoHeads(5);
    const all = predict(m, [d.image, d.meta]) as Tensor[];
    expect(all.map((t) => t.shape)).toEqual([[11, 3], [11, 1]]);
    const byName = predict(m, { meta: d.meta, image: d.image }) as Tensor[];
    expect(byName.map((t) => [...t.data])).toEqual(all.map((t) => [...t.data]));
    const batched = predict(m, [d.image, d.meta], { batchSize: 4 }) as Tensor[];
    for (const [i, t] of batched.entries()) {
      expect(t.shape).toEqual(all[i].shape);
      for (let j = 0; j < t.size; j++) expect(t.data[j]).toBeCloseTo(all[i].data[j], 5);
    }
    const one = new OneInOneOut();
    const x = new Tensor(Float32Array.from({ length: 12 }, (_, i) => i / 12), [4, 3]);
    const p = predict(one, x);
    expect(p).toBeInstanceOf(Tensor);
    expect([...(predict(one, { features: x }) as Tensor).data]).toEqual([...(p as Tensor).data]);
    expect([...(predict(one, [x], { batchSize: 1 }) as Tensor).data].map((v) => Math.fround(v))).toEqual([...(p as Tensor).data]);
  });

  it('a model with one named output logs like a plain model (no <output>Loss) and remembers its loss', async () => {
    setBackend(backend);
    const m = new OneInOneOut();
    const x = new Tensor(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [8, 3]);
    const y = new Tensor(Int32Array.from({ length: 8 }, (_, i) => i % 2), [8]);
    const h = await fit(m, { features: x }, { score: y }, { loss: 'crossEntropy', batchSize: 4, ...quiet });
    expect(Object.keys(h.history).sort()).toEqual(['accuracy', 'loss']);
    const again = await fit(m, [x], [y], { batchSize: 4, ...quiet }); // no loss: the previous one
    expect(Object.keys(again.history).sort()).toEqual(['accuracy', 'loss']);
    expect(Object.keys(await evaluate(m, x, y)).sort()).toEqual(['accuracy', 'loss']);
  });

  it('a later fit without loss keeps every output\'s loss, weight and metrics', async () => {
    setBackend(backend);
    const d = twoHeadsData(16, 1);
    const m = twoHeads(6);
    await fit(m, [d.image, d.meta], [d.digit, d.size], { loss: ['crossEntropy', 'l1'], lossWeights: [1, 0], metrics: { size: 'r2' }, batchSize: 8, ...quiet });
    const before = weights(m);
    const h = await fit(m, [d.image, d.meta], [d.digit, d.size], { optimizer: 'sgd', batchSize: 8, ...quiet });
    expect(Object.keys(h.history).sort()).toEqual(['digitAccuracy', 'digitLoss', 'loss', 'sizeLoss', 'sizeR2']);
    expect(weights(m)['reg.weight']).toEqual(before['reg.weight']); // still weighted 0
    expect(h.history.loss[0]).toBeCloseTo(h.history.digitLoss![0], 5);
  });

  it('callbacks, schedulers and clipping watch the new keys', async () => {
    setBackend(backend);
    const d = twoHeadsData(32, 2);
    const m = twoHeads(7);
    // mode 'auto' reads 'valDigitAccuracy' as higher-is-better; no accuracy can improve by 2.
    const stop = new callbacks.EarlyStopping({ monitor: 'valDigitAccuracy', patience: 0, minDelta: 2 });
    const opt = new optim.SGD(m.parameters(), { lr: 0.05 });
    const plateau = new optim.lrScheduler.ReduceLROnPlateau(opt, { patience: 0, factor: 0.5 });
    const h = await fit(m, [d.image, d.meta], [d.digit, d.size], {
      loss: ['crossEntropy', 'mse'], optimizer: opt, epochs: 5, batchSize: 8, seed: 1, validationSplit: 0.25, clipGradNorm: 1,
      callbacks: [stop], lrScheduler: plateau, lrSchedulerMonitor: 'valSizeLoss', ...quiet,
    });
    expect(h.epochs).toEqual([0, 1]);
    expect(h.stopReason).toMatch(/EarlyStopping: valDigitAccuracy did not improve/);
    expect(h.history.lr!.length).toBe(2);
  });

  it('keeps the fit-concurrency rules: no second fit, no outside evaluate while a fit runs', async () => {
    setBackend(backend);
    const d = twoHeadsData(16, 2);
    const m = twoHeads(8);
    const opts = { loss: ['crossEntropy', 'mse'] as ('crossEntropy' | 'mse')[], batchSize: 4, epochs: 2, ...quiet };
    const running = fit(m, [d.image, d.meta], [d.digit, d.size], opts);
    await expect(fit(m, [d.image, d.meta], [d.digit, d.size], opts)).rejects.toThrow(/fathom.fit: TwoHeads is already being trained by another fit\(\) call/);
    await expect(evaluate(m, [d.image, d.meta], [d.digit, d.size])).rejects.toThrow(/fathom.evaluate: TwoHeads is being trained by fit\(\)/);
    // A second model sharing the trunk's parameters cannot train at once either.
    const other = twoHeads(8);
    other.image = m.image;
    await expect(fit(other, [d.image, d.meta], [d.digit, d.size], opts)).rejects.toThrow(/shares parameters with a TwoHeads that another fit\(\) is training/);
    expect(Array.isArray(predict(m, [d.image, d.meta]))).toBe(true); // predict is allowed at any time
    await running;
  });
});
