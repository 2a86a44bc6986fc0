/** nn pooling layers (lib/layers/pool.ts): shapes, errors naming the layer, Dropout2d, save/load. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adaptiveAvgPool2d, avgPool2d, load, manualSeed, maxPool2d, nn, ones, rand, save, tensor } from '../../lib/index.js';

describe('nn pooling layers', () => {
  it('run their ops and report shapes', () => {
    const x = rand([2, 3, 9, 8]);
    expect(new nn.MaxPool2d(2).forward(x).shape).toEqual([2, 3, 4, 4]);
    expect(Array.from(new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }).forward(x).data)).toEqual(
      Array.from(maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }).data),
    );
    expect(Array.from(new nn.AvgPool2d([3, 2], { stride: 1, countIncludePad: false, padding: [1, 1] }).forward(x).data)).toEqual(
      Array.from(avgPool2d(x, [3, 2], { stride: 1, countIncludePad: false, padding: [1, 1] }).data),
    );
    expect(new nn.AdaptiveAvgPool2d(1).forward(x).shape).toEqual([2, 3, 1, 1]);
    expect(Array.from(new nn.AdaptiveAvgPool2d([null, 3]).forward(x).data)).toEqual(Array.from(adaptiveAvgPool2d(x, [9, 3]).data));
    expect(new nn.Flatten().forward(x).shape).toEqual([2, 216]);
    expect(new nn.Flatten(0, 1).forward(x).shape).toEqual([6, 9, 8]);
  });

  it('name the layer, the expected [N, C, H, W] and what came, and say when the output would be empty', () => {
    expect(() => new nn.MaxPool2d(2).forward(rand([3, 4, 4]))).toThrow('fathom.MaxPool2d: expected input [N, C, H, W], got [3, 4, 4]');
    expect(() => new nn.MaxPool2d(5).forward(rand([1, 3, 4, 4]))).toThrow(
      'fathom.MaxPool2d: input [1, 3, 4, 4] with padding [0, 0] is smaller than the kernel 5×5; the output would be empty',
    );
    expect(() => new nn.AvgPool2d(2, { padding: 2 })).toThrow(/^fathom\.AvgPool2d: padding must be at most half the kernel size/);
    expect(() => new nn.MaxPool2d(0)).toThrow(/^fathom\.MaxPool2d: kernelSize must be a positive integer/);
    expect(() => new nn.MaxPool2d(2, { strid: 1 } as never)).toThrow(/^fathom\.MaxPool2d: unknown option 'strid'/);
    expect(() => new nn.AdaptiveAvgPool2d([0, 2])).toThrow(/^fathom\.AdaptiveAvgPool2d: outputSize must be/);
    expect(() => new nn.AdaptiveAvgPool2d(2).forward(rand([2, 5]))).toThrow('fathom.AdaptiveAvgPool2d: expected input [N, C, H, W], got [2, 5]');
    expect(() => new nn.Flatten(1.5)).toThrow('fathom.Flatten: startDim must be an integer, got 1.5');
    expect(() => new nn.Flatten(3).forward(rand([2, 3]))).toThrow(/^fathom\.Flatten: startDim must be an integer in \[-2, 1\]/);
    expect(() => new nn.Dropout2d(2)).toThrow(/^fathom\.Dropout2d: p must be a number in \[0, 1\]/);
    expect(() => new nn.Dropout2d().forward(rand([4, 3]))).toThrow('fathom.Dropout2d: expected input [N, C, H, W] or [N, C, L], got [4, 3]');
  });

  it('Dropout2d zeroes whole channels, scales the rest by 1/(1 - p), is seeded, and is the identity in eval', () => {
    const d = new nn.Dropout2d(0.5);
    const x = ones([8, 16, 3, 5]);
    x.requiresGrad = true;
    manualSeed(7);
    const y = d.forward(x);
    const v = y.data as Float32Array;
    let kept = 0;
    for (let p = 0; p < 8 * 16; p++) {
      const plane = v.subarray(p * 15, p * 15 + 15);
      expect(plane.every((a) => a === plane[0]), `plane ${p} is uniform`).toBe(true);
      expect([0, 2]).toContain(plane[0]);
      if (plane[0] === 2) kept++;
    }
    expect(kept).toBeGreaterThan(40);
    expect(kept).toBeLessThan(88);
    y.backward(ones(y.shape));
    expect(Array.from(x.grad!.data)).toEqual(Array.from(v));
    manualSeed(7);
    expect(Array.from(d.forward(ones([8, 16, 3, 5])).data)).toEqual(Array.from(v));
    d.eval();
    const z = rand([2, 3, 4, 4]);
    expect(d.forward(z)).toBe(z);
    expect(new nn.Dropout2d(0).train().forward(z)).toBe(z);
  });

  describe('save and load', () => {
    let dir = '';
    afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });
    it('round-trip a Sequential with every pooling layer', async () => {
      dir = await mkdtemp(join(tmpdir(), 'fathom-pool-'));
      const m = new nn.Sequential(
        new nn.MaxPool2d([2, 3], { stride: 1, padding: [1, 1], dilation: [1, 2], ceilMode: true }),
        new nn.Dropout2d(0.25),
        new nn.AvgPool2d(2, { countIncludePad: false, divisorOverride: 3 }),
        new nn.AdaptiveAvgPool2d([3, null]),
        new nn.Flatten(1, -1),
        new nn.Linear(3 * 3 * 5, 5), // 11×13 → 12×11 → 6×5 → 3×5
      );
      m.eval();
      const x = rand([2, 3, 11, 13]);
      const path = join(dir, 'pool.fathom');
      await save(m, path);
      const again = await load(path);
      again.eval();
      expect(again.config()).toEqual(m.config());
      expect(Array.from(again.forward(x).data)).toEqual(Array.from(m.forward(x).data));
      expect(() => nn.fromConfig({ type: 'MaxPool2d', kernelSize: 2, strides: 1 })).toThrow(/unknown key "strides" in a MaxPool2d config/);
      expect(() => nn.fromConfig({ type: 'AvgPool2d', kernelSize: -1 })).toThrow(/fathom\.AvgPool2d: kernelSize must be a positive integer/);
      expect(nn.fromConfig({ type: 'Flatten' }).forward(tensor([[[1, 2]]])).shape).toEqual([1, 2]);
    });
  });
});
