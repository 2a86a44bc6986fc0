// Dropout (inverted, PyTorch's) and GaussianNoise (Keras's): statistics, seeding,
// eval() identity, gradients with a fixed mask, save/load, refusals.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dropout, load, manualSeed, mean, nn, ones, save, setBackend, sum, tensor, Tensor, zeros } from '../../lib/index.js';
import { fromConfig } from '../../lib/layers/registry.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { randomArray } from '../helpers/random.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

describe.each(backends)('dropout (%s backend)', (name) => {
  it('keeps 1 − p of the elements, scaled by 1/(1 − p): the mean is preserved', () => {
    setBackend(name);
    manualSeed(1);
    const n = 200_000;
    for (const p of [0.1, 0.5, 0.8]) {
      const y = dropout(ones([n]), p).data as Float32Array;
      const kept = y.filter((v) => v !== 0);
      // each kept value is exactly the scale; the kept fraction is binomial(n, 1 − p): 6 sigma bounds
      expect(kept.every((v) => v === Math.fround(1 / (1 - p)))).toBe(true);
      const sigma = Math.sqrt(p * (1 - p) / n);
      expect(Math.abs(kept.length / n - (1 - p))).toBeLessThan(6 * sigma);
      // mean of y: (kept / n) / (1 − p), 6 sigma = 6 sqrt(p / ((1 − p) n))
      expect(Math.abs(mean(tensor(y)).item() - 1)).toBeLessThan(6 * Math.sqrt(p / ((1 - p) * n)));
    }
  });

  it('is reproducible under manualSeed and draws a new mask each call', () => {
    setBackend(name);
    const x = tensor(randomArray(1000, 5), [10, 100]);
    manualSeed(42);
    const a = Array.from(dropout(x, 0.5).data);
    const b = Array.from(dropout(x, 0.5).data);
    manualSeed(42);
    expect(Array.from(dropout(x, 0.5).data)).toEqual(a);
    expect(b).not.toEqual(a);
  });

  it('p = 0 and training = false return x; p = 1 gives zeros', () => {
    setBackend(name);
    const x = tensor([[1, -2], [3, 4]]);
    expect(dropout(x, 0)).toBe(x);
    expect(dropout(x, 0.5, false)).toBe(x);
    expect(Array.from(dropout(x, 1).data).every((v) => v === 0)).toBe(true); // −2 · 0 is −0, as in PyTorch
    expect(dropout(zeros([0, 3]), 0.5).shape).toEqual([0, 3]);
  });

  it('gradient: mask · 1/(1 − p), finite differences with a fixed mask', () => {
    setBackend(name);
    // re-seeding inside f draws the same mask on every evaluation
    const f = (x: Tensor): Tensor => { manualSeed(3); return dropout(x, 0.4); };
    gradcheck(`dropout (${name})`, f, [tensor(randomArray(24, 9), [4, 6])]);
    const x = tensor(randomArray(50, 10, 0.5, 1), { requiresGrad: true });
    manualSeed(4);
    const y = dropout(x, 0.3);
    sum(y).backward();
    const g = x.grad!.data;
    for (let i = 0; i < 50; i++) expect(g[i]).toBe(y.data[i] === 0 ? 0 : Math.fround(1 / 0.7));
  });
});

describe('the same masks on both backends', () => {
  it.skipIf(!nativeBinding())('ts and native draw identical masks from one seed', () => {
    const x = ones([7, 33]);
    setBackend('ts');
    manualSeed(9);
    const a = Array.from(dropout(x, 0.25).data);
    setBackend('native');
    manualSeed(9);
    expect(Array.from(dropout(x, 0.25).data)).toEqual(a);
  });
});

describe('nn.Dropout and nn.GaussianNoise', () => {
  it('Dropout: active in training mode, identity in eval()', () => {
    const d = new nn.Dropout(0.5);
    const x = ones([4, 50]);
    manualSeed(1);
    const y = d.forward(x);
    expect(Array.from(y.data).some((v) => v === 0)).toBe(true);
    expect(Array.from(y.data).every((v) => v === 0 || v === 2)).toBe(true);
    d.eval();
    expect(d.forward(x)).toBe(x);
    expect(new nn.Dropout().p).toBe(0.5);
  });

  it('GaussianNoise: adds N(0, std²) in training mode only; the gradient passes through', () => {
    const g = new nn.GaussianNoise(0.5);
    const x = ones([100_000], { requiresGrad: true });
    manualSeed(2);
    const y = g.forward(x);
    const noise = Array.from(y.data, (v) => v - 1);
    const m = noise.reduce((a, b) => a + b, 0) / noise.length;
    const sd = Math.sqrt(noise.reduce((a, b) => a + (b - m) ** 2, 0) / noise.length);
    expect(Math.abs(m)).toBeLessThan(6 * 0.5 / Math.sqrt(noise.length));
    expect(Math.abs(sd - 0.5)).toBeLessThan(0.01);
    sum(y).backward();
    expect(Array.from(x.grad!.data).every((v) => v === 1)).toBe(true);
    g.eval();
    expect(g.forward(x)).toBe(x);
    expect(new nn.GaussianNoise(0).train().forward(x)).toBe(x);
  });

  it('in a Sequential: fit trains through them, predict() is deterministic (eval mode)', async () => {
    manualSeed(5);
    const model = new nn.Sequential(new nn.Linear(4, 16), new nn.ReLU(), new nn.Dropout(0.3), new nn.GaussianNoise(0.1), new nn.Linear(16, 2));
    const x = tensor(randomArray(64 * 4, 11), [64, 4]);
    const y = tensor(Array.from({ length: 64 }, (_, i) => (x.data[i * 4] > 0 ? 1 : 0)), { dtype: 'int32' });
    const h = await model.fit(x, y, { loss: 'crossEntropy', epochs: 30, batchSize: 16, verbose: 0, seed: 1, lr: 0.01 });
    expect(h.history.loss[29]).toBeLessThan(h.history.loss[0]);
    expect(Array.from(model.predict(x).data)).toEqual(Array.from(model.predict(x).data));
    expect(model.training).toBe(true);
  });

  it('config, fromConfig and save/load', async () => {
    const m = new nn.Sequential(new nn.Linear(3, 4), new nn.Dropout(0.25), new nn.GaussianNoise(0.5), new nn.Linear(4, 1));
    expect(m.config()).toMatchObject({ layers: [{}, { type: 'Dropout', p: 0.25 }, { type: 'GaussianNoise', std: 0.5 }, {}] });
    const again = fromConfig({ type: 'Dropout', p: 0.1 }) as InstanceType<typeof nn.Dropout>;
    expect(again).toBeInstanceOf(nn.Dropout);
    expect(again.p).toBe(0.1);
    expect(() => fromConfig({ type: 'Dropout', p: 2 })).toThrow(/^fathom\.fromConfig: Dropout\.p must be a number in \[0, 1\], got 2$/);
    expect(() => fromConfig({ type: 'GaussianNoise', std: -1 })).toThrow(/^fathom\.fromConfig: GaussianNoise\.std must be a number in \[0, 1e\+37\], got -1$/);
    expect(() => fromConfig({ type: 'Dropout', p: 0.1, rate: 0.1 })).toThrow(/unknown key "rate" in a Dropout config \(known: type, p\)/);
    const dir = await mkdtemp(join(tmpdir(), 'fathom-dropout-'));
    try {
      const path = join(dir, 'm.safetensors');
      await save(m, path);
      const loaded = await load(path);
      expect(loaded.config()).toEqual(m.config());
      const x = tensor(randomArray(6, 3), [2, 3]);
      expect(Array.from(loaded.predict(x).data)).toEqual(Array.from(m.predict(x).data));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refusals', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => dropout(ones([2]), 1.5), /^fathom\.dropout: p must be a number in \[0, 1\], got 1.5$/],
      [() => dropout(ones([2]), -0.1), /^fathom\.dropout: p must be a number in \[0, 1\], got -0.1$/],
      [() => dropout(ones([2]), NaN), /^fathom\.dropout: p must be a number in \[0, 1\], got NaN$/],
      [() => dropout(ones([2]), '0.5' as never), /^fathom\.dropout: p must be a number in \[0, 1\], got/],
      [() => dropout(ones([2]), 0.5, 'yes' as never), /^fathom\.dropout: training must be a boolean, got/],
      [() => dropout(tensor([1], { dtype: 'int32' }), 0.5), /^fathom\.dropout: x must be float32, got int32$/],
      [() => dropout([1, 2] as never, 0.5), /^fathom\.dropout: x must be a Tensor, got/],
      [() => new nn.Dropout(2), /^fathom\.Dropout: p must be a number in \[0, 1\], got 2$/],
      [() => new nn.Dropout(0.5).forward(tensor([1], { dtype: 'int32' })), /^fathom\.Dropout: expected a float32 input, got int32 \[1\]$/],
      [() => new nn.GaussianNoise(-1), /^fathom\.GaussianNoise: std must be a number in \[0, 1e37\], got -1$/],
      [() => new nn.GaussianNoise(Infinity), /^fathom\.GaussianNoise: std must be a number in \[0, 1e37\], got Infinity$/],
      [() => new nn.GaussianNoise(undefined as never), /^fathom\.GaussianNoise: std must be a number in \[0, 1e37\], got undefined$/],
      [() => new nn.GaussianNoise(1).forward('x' as never), /^fathom\.GaussianNoise: expected a Tensor input, got string$/],
    ];
    for (const [f, re] of cases) expect(f).toThrow(re);
  });
});
