// Found by trying multi-output fit as a breaker (helper fu2, issue #12): a callback that throws while
// an evaluate() it started still runs; NaN / overflowing losses named per output; lossWeights < 0 or
// all 0; Keras's sampleWeight / classWeight refused by name. Both backends.
import { describe, expect, it } from 'vitest';
import { Tensor, optim, setBackend } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { evaluate, fit } from '../../lib/models/training.js';
import { twoHeads, twoHeadsData } from '../multifit/models.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const quiet = { verbose: 0 } as const;
const loss = ['crossEntropy', 'mse'] as ('crossEntropy' | 'mse')[];

describe.each(backends)('multi-output fit, breaker cases, on the %s backend', (backend) => {
  const d = twoHeadsData(40, 3);
  const x = { image: d.image, meta: d.meta };
  const y = { digit: d.digit, size: d.size };

  it('a callback that throws: fit rejects only after the evaluate() it started is over, and restores the mode', async () => {
    setBackend(backend);
    const m = twoHeads(1);
    m.eval();
    let evaluated = false;
    let pending: Promise<unknown> | undefined;
    await expect(fit(m, x, y, {
      loss, batchSize: 8, ...quiet,
      callbacks: {
        onEpochEnd: () => {
          // Batches of 4: the evaluation yields 10 times before it is over.
          pending = evaluate(m, x, y, { batchSize: 4 }).then(() => { evaluated = true; });
          throw new Error('hook failed');
        },
      },
    })).rejects.toThrow(/^hook failed$/);
    expect(evaluated).toBe(true);
    expect(m.training).toBe(false);
    await pending;
    expect(m.training).toBe(false);
    // The model is free again: a new fit runs.
    const h = await fit(m, x, y, { loss, epochs: 1, ...quiet });
    expect(h.epochs).toEqual([0]);
  });

  it('a non-finite loss names the output whose loss it is', async () => {
    setBackend(backend);
    const size = d.size.clone();
    size.data[5] = NaN;
    await expect(fit(twoHeads(1), x, { digit: d.digit, size }, { loss, batchSize: 40, ...quiet }))
      .rejects.toThrow(/^fathom.fit: the loss became NaN at epoch 1, batch 1 \(digitLoss [0-9.]+, sizeLoss NaN: the output 'size'\); lower the learning rate/);
    const image = d.image.clone();
    image.data[0] = Infinity;
    await expect(fit(twoHeads(1), { image, meta: d.meta }, y, { loss, batchSize: 40, ...quiet }))
      .rejects.toThrow(/\(digitLoss NaN, sizeLoss NaN: the outputs 'digit', 'size'\)/);
  });

  it('finite losses whose weighted sum overflows float32: says so (lower lossWeights)', async () => {
    setBackend(backend);
    await expect(fit(twoHeads(1), x, y, { loss, lossWeights: [1e38, 1e38], batchSize: 40, ...quiet }))
      .rejects.toThrow(/^fathom.fit: the loss became Infinity at epoch 1, batch 1 \(every output's loss is finite: digitLoss [0-9.]+ × 1e\+38, sizeLoss [0-9.]+ × 1e\+38; the weighted sum overflows float32: lower lossWeights\)/);
  });

  it('lossWeights: negative refused (fit and evaluate), all 0 refused by fit, one 0 trains the other output only', async () => {
    setBackend(backend);
    const m = twoHeads(1);
    await expect(fit(m, x, y, { loss, lossWeights: { size: -0.5 }, ...quiet }))
      .rejects.toThrow(/^fathom.fit: options.lossWeights for output 'size' must be >= 0, got -0.5 \(a negative weight maximises that loss/);
    await expect(fit(m, x, y, { loss, lossWeights: -1, ...quiet })).rejects.toThrow(/for output 'digit' must be >= 0, got -1/);
    await expect(fit(m, x, y, { loss, lossWeights: [0, 0], ...quiet }))
      .rejects.toThrow(/^fathom.fit: options.lossWeights are 0 for every output \('digit', 'size'\): the total loss would be 0 and nothing would train/);
    await expect(fit(m, x, y, { loss, lossWeights: 0, ...quiet })).rejects.toThrow(/are 0 for every output/);
    await expect(evaluate(m, x, y, { loss, lossWeights: [1, -2] })).rejects.toThrow(/^fathom.evaluate: options.lossWeights for output 'size' must be >= 0, got -2/);
    // evaluate may weigh every output 0: it reports each output's own loss.
    const r = await evaluate(m, x, y, { loss, lossWeights: [0, 0] });
    expect(r.loss).toBe(0);
    expect(r.sizeLoss).toBeGreaterThan(0);
    // Weight 0 on 'size': its head (reg) gets no gradient, the classifier head trains.
    const reg = m.reg.weight.clone();
    const cls = m.cls.weight.clone();
    const h = await fit(m, x, y, { loss, lossWeights: { size: 0 }, optimizer: 'sgd', lr: 0.1, batchSize: 8, ...quiet });
    expect(Array.from(m.reg.weight.data)).toEqual(Array.from(reg.data));
    expect(Array.from(m.cls.weight.data)).not.toEqual(Array.from(cls.data));
    expect(h.history.sizeLoss![0]).toBeGreaterThan(0);
    expect(h.history.loss[0]).toBeCloseTo(h.history.digitLoss![0], 5);
  });

  it('lrSchedulerMonitor naming no key of the fit: refused before the first batch, not after an epoch', async () => {
    setBackend(backend);
    const m = twoHeads(1);
    const opt = new optim.SGD(m.parameters(), { lr: 0.01 });
    let batches = 0;
    const go = (monitor: string, validationSplit?: number) => fit(m, x, y, {
      loss, optimizer: opt, lrScheduler: new optim.lrScheduler.ReduceLROnPlateau(opt), lrSchedulerMonitor: monitor, validationSplit,
      callbacks: { onBatchBegin: () => { batches++; } }, ...quiet,
    });
    await expect(go('valSizeLos', 0.25))
      .rejects.toThrow(/^fathom.fit: lrSchedulerMonitor 'valSizeLos' is not in the logs; available: loss, digitLoss, digitAccuracy, sizeLoss, valLoss, valDigitLoss, valDigitAccuracy, valSizeLoss, lr \(did you mean 'valSizeLoss'\?\)$/);
    await expect(go('valSizeLoss')).rejects.toThrow(/is not in the logs; available: loss, digitLoss, digitAccuracy, sizeLoss, lr \(did you mean 'sizeLoss'\?\) \(validation keys need validationData or validationSplit\)$/);
    expect(batches).toBe(0);
    const h = await go('valSizeLoss', 0.25);
    expect(h.history.valSizeLoss).toHaveLength(1);
    expect(batches).toBeGreaterThan(0);
  });

  it("Keras's sampleWeight / classWeight: refused by name with what to do instead", async () => {
    setBackend(backend);
    const m = twoHeads(1);
    const w = new Tensor(new Float32Array(40).fill(1), [40]);
    for (const key of ['sampleWeight', 'classWeight', 'sample_weight']) {
      await expect(fit(m, x, y, { loss, [key]: w, ...quiet } as never))
        .rejects.toThrow(new RegExp(`^fathom.fit: options.${key} is not supported: fathom has no per-sample or per-class weights .*lossWeights`));
    }
    await expect(evaluate(m, x, y, { sampleWeight: w } as never)).rejects.toThrow(/^fathom.evaluate: options.sampleWeight is not supported/);
  });
});
