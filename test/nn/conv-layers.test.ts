/**
 * nn.Conv1d / nn.Conv2d / nn.ConvTranspose2d: PyTorch's weight layouts and
 * names, its initialisation bound 1/√fanIn, output shapes, errors naming the
 * layer, save/load (the shapes are checked from the config before building),
 * and a small CNN trained by fit.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load, manualSeed, nn, randn, save, tensor } from '../../lib/index.js';

describe('convolution layers', () => {
  it('weights in PyTorch layout, initialised in ±1/√fanIn, output shapes', () => {
    manualSeed(1);
    const c = new nn.Conv2d(4, 6, 3, { padding: 1, groups: 2 });
    expect(c.weight.shape).toEqual([6, 2, 3, 3]);
    expect(c.bias!.shape).toEqual([6]);
    expect(Object.keys(c.stateDict())).toEqual(['weight', 'bias']);
    const bound = 1 / Math.sqrt(2 * 3 * 3);
    for (const v of [...c.weight.data, ...c.bias!.data]) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    expect(Math.max(...c.weight.data.map(Math.abs))).toBeGreaterThan(bound * 0.8); // spread over the range, not tiny
    expect(c.forward(randn([2, 4, 5, 7])).shape).toEqual([2, 6, 5, 7]);
    const t = new nn.ConvTranspose2d(6, 3, [3, 2], { stride: 2, padding: 1, outputPadding: 1, bias: false });
    expect(t.weight.shape).toEqual([6, 3, 3, 2]);
    expect(t.bias).toBeNull();
    expect(t.forward(randn([1, 6, 4, 4])).shape).toEqual([1, 3, 8, 7]); // (4−1)·2 − 2 + (k−1) + 1 + 1
    const d = new nn.Conv1d(2, 5, 4, { stride: 2, padding: 'valid' });
    expect(d.weight.shape).toEqual([5, 2, 4]);
    expect(d.forward(randn([3, 2, 11])).shape).toEqual([3, 5, 4]);
  });

  it('errors name the layer, the expected input and what came', () => {
    const c = new nn.Conv2d(3, 8, 5);
    expect(() => c.forward(randn([1, 2, 9, 9]))).toThrow('fathom.Conv2d: expected a float32 input [N, 3, H, W], got float32 [1, 2, 9, 9]');
    expect(() => c.forward(randn([1, 3, 4, 4]))).toThrow(/^fathom\.Conv2d: .*smaller than the kernel 5×5; the output would be empty/);
    expect(() => new nn.Conv2d(3, 8, 0)).toThrow('fathom.Conv2d: kernelSize must be a positive integer, got 0');
    expect(() => new nn.Conv2d(3, 8, 3, { groups: 2 })).toThrow('fathom.Conv2d: groups (2) must divide inChannels (3) and outChannels (8)');
    expect(() => new nn.Conv2d(3, 8, 3, { strides: 2 } as never)).toThrow(/fathom.Conv2d: unknown option 'strides'/);
    expect(() => new nn.Conv1d(3, 8, 3, { stride: [1, 2] } as never)).toThrow('fathom.Conv1d: options.stride must be a number, got');
  });

  it('save and load: the same outputs; a file whose shapes contradict the config is refused', async () => {
    manualSeed(2);
    const dir = mkdtempSync(join(tmpdir(), 'fathom-conv-'));
    const m = new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 'same' }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.ConvTranspose2d(4, 2, 2, { stride: 2 }), new nn.Flatten(), new nn.Linear(2 * 6 * 6, 3),
    );
    const x = randn([2, 1, 6, 6]);
    const path = join(dir, 'cnn.safetensors');
    await save(m, path);
    const again = await load(path);
    expect([...again.predict(x).data]).toEqual([...m.predict(x).data]);
    expect(Object.keys(again.stateDict())).toEqual(['0.weight', '0.bias', '3.weight', '3.bias', '5.weight', '5.bias']);
  });

  it('a small CNN learns to tell a bright top half from a bright bottom half (fit)', async () => {
    manualSeed(3);
    const n = 64;
    const xs = new Float32Array(n * 8 * 8);
    const ys = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      ys[i] = i % 2;
      for (let p = 0; p < 64; p++) xs[i * 64 + p] = ((p < 32) === (ys[i] === 0) ? 1 : 0) + 0.3 * Math.sin(i * 7 + p);
    }
    const x = tensor(xs, [n, 1, 8, 8]), y = tensor(ys);
    const m = new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(4 * 3 * 3, 2));
    const h = await m.fit(x, y, { loss: 'crossEntropy', epochs: 30, batchSize: 16, seed: 1, verbose: 0 });
    expect(h.history.accuracy!.at(-1)).toBe(1);
  });
});
