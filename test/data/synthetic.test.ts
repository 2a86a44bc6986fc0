import { describe, expect, it } from 'vitest';
import { circles, moons, spirals } from '../../lib/data/synthetic.js';
import { manualSeed } from '../../lib/ops/create.js';

const rowsOf = (x: Float32Array): [number, number][] => Array.from({ length: x.length / 2 }, (_, i) => [x[2 * i], x[2 * i + 1]]);

describe('data.moons / circles / spirals', () => {
  it('moons without noise lie exactly on sklearn\'s two half circles, ⌊n/2⌋ outer', () => {
    const { x, y } = moons({ n: 101, seed: 4 });
    expect(x.shape).toEqual([101, 2]);
    expect(x.dtype).toBe('float32');
    expect(y.shape).toEqual([101]);
    expect(y.dtype).toBe('int32');
    const pts = rowsOf(x.f32());
    let outer = 0;
    pts.forEach(([a, b], i) => {
      if (y.data[i] === 0) {
        outer++;
        expect(Math.hypot(a, b)).toBeCloseTo(1, 5); // (cos t, sin t)
        expect(b).toBeGreaterThanOrEqual(-1e-6);
      } else {
        expect(Math.hypot(1 - a, 0.5 - b)).toBeCloseTo(1, 5); // (1 - cos t, 0.5 - sin t)
        expect(b).toBeLessThanOrEqual(0.5 + 1e-6);
      }
    });
    expect(outer).toBe(50);
    // sklearn's endpoints: t = 0 and t = π on each moon.
    const has = (p: [number, number]) => pts.some(([a, b]) => Math.abs(a - p[0]) < 1e-6 && Math.abs(b - p[1]) < 1e-6);
    expect(has([1, 0]) && has([-1, 0]) && has([0, 0.5]) && has([2, 0.5])).toBe(true);
    // Shuffled: the labels are not in two blocks.
    expect(Array.from(y.data.slice(0, 50)).every((v) => v === 0)).toBe(false);
  });

  it('noise is Gaussian with the given std around the noiseless points', () => {
    const clean = circles({ n: 4000, factor: 0.5, seed: 9 });
    const noisy = circles({ n: 4000, factor: 0.5, seed: 9, noise: 0.1 });
    // Same seed: same shuffle, so rows correspond.
    expect(Array.from(noisy.y.data)).toEqual(Array.from(clean.y.data));
    const d = noisy.x.f32().map((v, i) => v - clean.x.f32()[i]);
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
    expect(Math.abs(mean)).toBeLessThan(0.005);
    expect(std).toBeGreaterThan(0.095);
    expect(std).toBeLessThan(0.105);
    rowsOf(clean.x.f32()).forEach(([a, b], i) => expect(Math.hypot(a, b)).toBeCloseTo(clean.y.data[i] === 0 ? 1 : 0.5, 5));
  });

  it('is reproducible: the same seed gives the same set, another seed another; manualSeed drives the default', () => {
    const a = spirals({ classes: 3, seed: 1 });
    const b = spirals({ classes: 3, seed: 1 });
    const c = spirals({ classes: 3, seed: 2 });
    expect(Array.from(a.x.data)).toEqual(Array.from(b.x.data));
    expect(Array.from(a.x.data)).not.toEqual(Array.from(c.x.data));
    manualSeed(5);
    const d = moons({ noise: 0.1 });
    manualSeed(5);
    const e = moons({ noise: 0.1 });
    expect(Array.from(d.x.data)).toEqual(Array.from(e.x.data));
  });

  it('spirals: n split over the classes (first classes get the extra), radii in [0, 1]', () => {
    const { x, y } = spirals({ n: 301, classes: 3, noise: 0, seed: 0 });
    const counts = [0, 0, 0];
    for (const v of y.data) counts[v]++;
    expect(counts).toEqual([101, 100, 100]);
    const radii = rowsOf(x.f32()).map(([a, b]) => Math.hypot(a, b));
    expect(Math.max(...radii)).toBeCloseTo(1, 5);
    expect(Math.min(...radii)).toBeCloseTo(0, 5);
    expect(spirals().x.shape).toEqual([200, 2]);
  });

  it('refuses bad options with the op and the option named', () => {
    expect(() => moons({ n: 0 })).toThrow('fathom.data.moons: options.n must be an integer from 1 to 10000000, got 0');
    expect(() => moons({ noise: -1 })).toThrow('fathom.data.moons: options.noise must be a finite number >= 0, got -1');
    expect(() => circles({ factor: 1 })).toThrow('fathom.data.circles: options.factor must be in [0, 1), got 1');
    expect(() => spirals({ classes: 4 })).toThrow('fathom.data.spirals: options.classes must be 2 or 3, got 4');
    expect(() => spirals({ seed: -2 })).toThrow('fathom.data.spirals: options.seed must be a non-negative integer, got -2');
    expect(() => moons({ sample: 3 } as never)).toThrow("fathom.data.moons: unknown option 'sample'");
  });
});
