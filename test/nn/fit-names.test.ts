/**
 * fit's names as a Keras user writes them: every optimizer by its string,
 * Keras/PyTorch loss names answered with fathom's, margin losses scored with
 * ±1 targets, and a model fitted with any named loss saved and loaded.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load, losses, manualSeed, nn, optim, randn, save, tensor } from '../../lib/index.js';

const quiet = { verbose: 0 } as const;

describe('fit: optimizer names', () => {
  it('builds each optimizer class from its string with its defaults, or with lr', async () => {
    const cases = { adam: optim.Adam, adamw: optim.AdamW, sgd: optim.SGD, rmsprop: optim.RMSprop, adagrad: optim.Adagrad, adadelta: optim.Adadelta, adamax: optim.Adamax };
    for (const [name, cls] of Object.entries(cases)) {
      const m = new nn.Linear(2, 1);
      let seen: optim.Optimizer | undefined;
      await m.fit(randn([8, 2]), randn([8, 1]), {
        loss: 'mse', optimizer: name as 'adam', lr: 0.05, epochs: 1, ...quiet,
        callbacks: { setModel: (_m: unknown, c: { optimizer: optim.Optimizer }) => { seen = c.optimizer; } } as never,
      });
      expect(seen, name).toBeInstanceOf(cls);
      expect(seen!.lr, name).toBe(0.05);
    }
  });

  it('names the closest optimizer for a wrong one', async () => {
    const m = new nn.Linear(2, 1);
    await expect(m.fit(randn([4, 2]), randn([4, 1]), { loss: 'mse', optimizer: 'Adam' as never, ...quiet }))
      .rejects.toThrow(/optimizer must be an Optimizer or one of 'adam', 'adamw', 'sgd', 'rmsprop', 'adagrad', 'adadelta', 'adamax', got "Adam" \(did you mean 'adam'\?\)/);
    await expect(m.fit(randn([4, 2]), randn([4, 1]), { loss: 'mse', optimizer: 'lbfgs' as never, ...quiet })).rejects.toThrow(/got "lbfgs"$/);
  });
});

describe('fit: loss names', () => {
  it("answers a Keras or PyTorch loss name with fathom's", async () => {
    const m = new nn.Linear(2, 1);
    const cases: [string, string][] = [['mae', 'l1'], ['categorical_crossentropy', 'crossEntropy'], ['sparseCategoricalCrossentropy', 'crossEntropy'], ['kl_div', 'klDiv'], ['MSELoss', 'mse'], ['Huber', 'huber']];
    for (const [name, ours] of cases) {
      await expect(m.fit(randn([4, 2]), randn([4, 1]), { loss: name as never, ...quiet }), name).rejects.toThrow(new RegExp(`unknown loss '${name}' .*; fathom calls it '${ours}'\\)`));
    }
  });

  it('a model fitted with any named loss saves and loads with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fathom-fitnames-'));
    manualSeed(3);
    for (const loss of ['l1', 'huber'] as const) {
      const m = new nn.Sequential(new nn.Linear(2, 4), new nn.Tanh(), new nn.Linear(4, 1));
      const x = randn([16, 2]), y = randn([16, 1]);
      await m.fit(x, y, { loss, epochs: 1, ...quiet });
      const path = join(dir, `${loss}.safetensors`);
      await save(m, path);
      const again = await load(path);
      const a = await m.evaluate(x, y), b = await again.evaluate(x, y);
      expect(b.loss, loss).toBeCloseTo(a.loss, 6);
    }
  });
});

describe('fit: accuracy of margin losses', () => {
  it('hinge with ±1 targets counts -1 as the negative class (threshold 0 on the scores)', async () => {
    const m = new nn.Linear(1, 1);
    m.weight.data[0] = 1;
    m.bias!.data[0] = 0;
    const x = tensor([[-2], [-1], [1], [2]]);
    const y = tensor([[-1], [-1], [1], [-1]]);   // the last one is wrong: score 2 > 0 but label -1
    const r = await m.evaluate(x, y, { loss: 'hinge' } as never);
    expect(r.accuracy).toBe(0.75);
    expect(r.loss).toBeCloseTo(losses.hinge(m.forward(x), y).item(), 6);
  });
});

describe('fit: why training stopped', () => {
  it("a hook returning false is named in history.stopReason", async () => {
    const m = new nn.Linear(2, 1);
    const h = await m.fit(randn([8, 2]), randn([8, 1]), { loss: 'mse', epochs: 9, batchSize: 4, ...quiet, callbacks: { onEpochEnd: (e: number) => e < 2 } });
    expect(h.epochs).toEqual([0, 1, 2]);
    expect(h.stopReason).toBe("a callback's onEpochEnd returned false at epoch 3");
    const b = await m.fit(randn([8, 2]), randn([8, 1]), { epochs: 9, batchSize: 4, ...quiet, callbacks: { onBatchEnd: (i: number) => i < 1 } });
    expect(b.stopReason).toBe("a callback's onBatchEnd returned false at epoch 1, batch 2");
  });

  it("did-you-mean ignores case, '_' and '-' ('adam_w' → 'adamw')", async () => {
    const m = new nn.Linear(2, 1);
    await expect(m.fit(randn([4, 2]), randn([4, 1]), { loss: 'mse', optimizer: 'adam_w' as never, ...quiet })).rejects.toThrow(/got "adam_w" \(did you mean 'adamw'\?\)/);
    await expect(m.fit(randn([4, 2]), randn([4, 1]), { loss: 'mse', optimizer: '' as never, ...quiet })).rejects.toThrow(/got ""$/);
  });
});
