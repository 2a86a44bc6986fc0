// nn.MaskingNoise (Vincent et al. 2008's masking corruption): statistics, no rescaling,
// eval() identity, seeding, gradient through the kept elements, save/load, refusals.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { load, manualSeed, nn, ones, save, setBackend, sum, tensor, Tensor, zeros } from '../../lib/index.js';
import { fromConfig } from '../../lib/layers/registry.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { randomArray } from '../helpers/random.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

describe.each(backends)('nn.MaskingNoise (%s backend)', (name) => {
  it('zeroes a fraction p of the elements and keeps the others unscaled (unlike Dropout)', () => {
    setBackend(name);
    manualSeed(1);
    const n = 100_000;
    const x = tensor(randomArray(n, 3, 0.5, 1), [100, 1000]);
    for (const p of [0.1, 0.25, 0.5, 0.9]) {
      const y = new nn.MaskingNoise(p).forward(x).data as Float32Array;
      let zeroed = 0;
      for (let i = 0; i < n; i++) {
        if (y[i] === 0) zeroed++;
        else if (y[i] !== x.data[i]) expect.fail(`p = ${p}: element ${i} is ${y[i]}, neither 0 nor x = ${x.data[i]}`);
      }
      // the number zeroed is binomial(n, p): 6 sigma bounds
      expect(Math.abs(zeroed / n - p)).toBeLessThan(6 * Math.sqrt(p * (1 - p) / n));
    }
  });

  it('is the identity in eval() mode and for p = 0; p = 1 gives zeros; NaN and Inf are masked to 0', () => {
    setBackend(name);
    const x = tensor([[1, -2], [3, 4]]);
    const m = new nn.MaskingNoise(0.5);
    expect(m.eval().forward(x)).toBe(x);
    expect(new nn.MaskingNoise(0).forward(x)).toBe(x);
    expect(Array.from(new nn.MaskingNoise(1).forward(x).data)).toEqual([0, 0, 0, 0]);
    manualSeed(5);
    const y = new nn.MaskingNoise(0.5).forward(tensor(new Float32Array(400).fill(NaN).map((v, i) => (i % 2 ? Infinity : v)), [20, 20])).data;
    let masked = 0;
    for (const v of y) if (v === 0) masked++; else expect(Number.isNaN(v) || v === Infinity).toBe(true);
    expect(masked).toBeGreaterThan(100); // ~200 of 400 (binomial, sd 10)
    expect(new nn.MaskingNoise(0.5).forward(zeros([0, 3])).shape).toEqual([0, 3]);
  });

  it('draws a new mask each call, the same one after manualSeed', () => {
    setBackend(name);
    const x = ones([10, 100]);
    const m = new nn.MaskingNoise(0.3);
    manualSeed(42);
    const a = Array.from(m.forward(x).data);
    const b = Array.from(m.forward(x).data);
    manualSeed(42);
    expect(Array.from(m.forward(x).data)).toEqual(a);
    expect(b).not.toEqual(a);
  });

  it('gradient: 1 where kept, 0 where masked; finite differences with a fixed mask', () => {
    setBackend(name);
    const m = new nn.MaskingNoise(0.4);
    gradcheck(`MaskingNoise (${name})`, (x) => { manualSeed(3); return m.forward(x); }, [tensor(randomArray(24, 9), [4, 6])]);
    const x = tensor(randomArray(60, 10, 0.5, 1), [6, 10], { requiresGrad: true });
    manualSeed(4);
    const y = m.forward(x);
    sum(y).backward();
    for (let i = 0; i < 60; i++) expect(x.grad!.data[i]).toBe(y.data[i] === 0 ? 0 : 1);
  });
});

describe('nn.MaskingNoise: one mask for both backends, config, save/load, refusals', () => {
  it.skipIf(!nativeBinding())('ts and native draw identical masks from one seed', () => {
    const x = ones([7, 33]);
    setBackend('ts');
    manualSeed(9);
    const a = Array.from(new nn.MaskingNoise(0.25).forward(x).data);
    setBackend('native');
    manualSeed(9);
    expect(Array.from(new nn.MaskingNoise(0.25).forward(x).data)).toEqual(a);
  });

  it('config() round-trips through fromConfig, and save/load keeps it inside a model', async () => {
    const m = new nn.MaskingNoise(0.3);
    expect(m.config()).toEqual({ type: 'MaskingNoise', p: 0.3 });
    expect((fromConfig(m.config()) as nn.MaskingNoise).p).toBe(0.3);
    expect(String(m)).toBe('MaskingNoise(p=0.3)');
    const dir = await mkdtemp(join(tmpdir(), 'fathom-ae-mask-'));
    try {
      manualSeed(1);
      const model = new nn.Sequential(new nn.MaskingNoise(0.2), new nn.Linear(4, 3), new nn.Sigmoid());
      await save(model, join(dir, 'm.safetensors'));
      const back = (await load(join(dir, 'm.safetensors'))) as nn.Sequential;
      expect(back.config()).toEqual(model.config());
      const x = tensor(randomArray(8, 2), [2, 4]);
      expect(Array.from(back.predict(x).data)).toEqual(Array.from(model.predict(x).data));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad p and a bad input, naming the layer', () => {
    for (const p of [-0.1, 1.5, NaN, '0.5', undefined]) expect(() => new nn.MaskingNoise(p as number)).toThrow(/fathom\.MaskingNoise: p must be a number in \[0, 1\]/);
    expect(() => fromConfig({ type: 'MaskingNoise', p: 2 })).toThrow(/MaskingNoise\.p must be a number in \[0, 1\]/);
    expect(() => fromConfig({ type: 'MaskingNoise', p: 0.1, rate: 1 })).toThrow(/unknown key "rate"/);
    const m = new nn.MaskingNoise(0.5);
    expect(() => m.forward(tensor([1, 2], { dtype: 'int32' }))).toThrow(/fathom\.MaskingNoise: expected a float32 input, got int32/);
    expect(() => m.forward([1, 2] as unknown as Tensor)).toThrow(/fathom\.MaskingNoise: expected a Tensor input/);
  });
});
