/**
 * Indexing and selection ops of issue #11 (lib/ops/index_ops.ts): index,
 * oneHot, where, clamp (native-vs-TS parity: it runs on the max/min kernels),
 * cumsum, min/argmin. Known answers with the calculus in comments, awkward
 * sizes, and the error messages. Finite-difference checks: gradcheck.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as fa from '../../lib/index.js';
import { Tensor, setBackend, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { EXACT, compareArrays } from '../helpers/parity.js';
import { randomArray, randomLabels } from '../helpers/random.js';

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const rnd = (shape: number[], seed: number, lo = -1, hi = 1): Tensor => tensor(randomArray(size(shape), seed, lo, hi), shape);
const i32 = (v: number[], shape = [v.length]): Tensor => new Tensor(Int32Array.from(v), shape);

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

describe.each(backends)('index ops on the %s backend', (name) => {
  it('index selects slices along any axis with int32 indices of any shape', () => {
    setBackend(name);
    for (const [shape, axis, n] of [[[7, 33], 0, 7], [[2, 7, 3], 1, 7], [[33, 1], -1, 1], [[0, 5], 1, 5]] as [number[], number, number][]) {
      const x = rnd(shape, 1);
      const a = axis < 0 ? axis + shape.length : axis;
      const idx = i32([...randomLabels(6, n, 2)], [2, 3]);
      const y = fa.index(x, idx, axis);
      const outer = size(shape.slice(0, a)), inner = size(shape.slice(a + 1));
      expect(y.shape).toEqual([...shape.slice(0, a), 2, 3, ...shape.slice(a + 1)]);
      const want: number[] = [];
      for (let o = 0; o < outer; o++) for (const k of idx.data) for (let i = 0; i < inner; i++) want.push(x.data[(o * n + k) * inner + i]);
      compareArrays(`index ${JSON.stringify(shape)} axis ${axis}`, y.data, want, EXACT);
    }
    expect(fa.index(i32([5, 6, 7]), i32([2, 2, 0])).toArray()).toEqual([7, 7, 5]);
    expect(fa.index(rnd([3, 2], 1), i32([], [0])).shape).toEqual([0, 2]);
    expect(rnd([3, 4], 2).index(i32([1]), 1).shape).toEqual([3, 1]);
  });

  it('index: repeated indices add their gradients, unselected rows get 0', () => {
    setBackend(name);
    // y = x[[0, 0, 2]] summed: d/dx0 = 2 (selected twice), d/dx1 = 0, d/dx2 = 1
    const x = tensor([[1, 2], [3, 4], [5, 6]]).requireGrad();
    fa.sum(fa.index(x, i32([0, 0, 2]))).backward();
    expect(x.grad!.toArray()).toEqual([[2, 2], [0, 0], [1, 1]]);
  });

  it('gather reads x at index along an axis (torch.gather), the gradient adding back', () => {
    setBackend(name);
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    // axis 1: y[i][j] = x[i][index[i][j]]; axis 0: y[i][j] = x[index[i][j]][j]
    expect(fa.gather(x, 1, i32([2, 0, 0, 1, 1, 2], [2, 3])).toArray()).toEqual([[3, 1, 1], [5, 5, 6]]);
    expect(fa.gather(x, 0, i32([1, 0], [1, 2])).toArray()).toEqual([[4, 2]]);
    expect(x.gather(-1, i32([2, 0], [2, 1])).toArray()).toEqual([[3], [4]]);
    expect(fa.gather(i32([7, 8, 9]), 0, i32([2, 2])).toArray()).toEqual([9, 9]);
    expect(fa.gather(x, 1, i32([], [2, 0])).shape).toEqual([2, 0]);
    for (const [rows, d] of [[1, 1], [7, 33], [33, 7]]) {
      const r = rnd([rows, d], rows), lab = i32([...randomLabels(rows, d, d)], [rows, 1]);
      compareArrays(`gather ${rows}x${d}`, fa.gather(r, 1, lab).data, Array.from(lab.data, (k, i) => r.data[i * d + k]), EXACT);
    }
    const g = tensor([[1, 2], [3, 4]]).requireGrad();
    fa.sum(fa.gather(g, 1, i32([1, 1, 0, 0], [2, 2]))).backward();
    expect(g.grad!.toArray()).toEqual([[0, 2], [2, 0]]);
  });

  it('oneHot gives float32 rows, inferring the class count from the maximum', () => {
    expect(fa.oneHot(i32([2, 0])).toArray()).toEqual([[0, 0, 1], [1, 0, 0]]);
    const y = fa.oneHot(i32([1, 3, 0, 6], [2, 2]), 7);
    expect(y.shape).toEqual([2, 2, 7]);
    expect(y.dtype).toBe('float32');
    expect(fa.sum(y, -1).toArray()).toEqual([[1, 1], [1, 1]]);
    expect(fa.argmax(y).toArray()).toEqual([[1, 3], [0, 6]]);
    expect(fa.oneHot(i32([], [0]), 4).shape).toEqual([0, 4]);
  });

  it('where broadcasts cond, a and b; int32 in gives int32 out; gradients go to the chosen side', () => {
    setBackend(name);
    const cond = tensor([1, 0, NaN]); // NaN is non-zero, so true (as bool(NaN) in PyTorch)
    expect(fa.where(cond, tensor([[1], [2]]), -1).toArray()).toEqual([[1, -1, 1], [2, -1, 2]]);
    const yi = fa.where(i32([0, 1]), i32([5, 6]), 0);
    expect(yi.dtype).toBe('int32');
    expect(yi.toArray()).toEqual([0, 6]);
    expect(fa.where(i32([0, 1]), i32([5, 6]), 0.5).dtype).toBe('float32');
    expect(fa.where(fa.zeros([0, 2]), 1, 2).shape).toEqual([0, 2]);
    // y = where(c, a, b) with a [3] broadcast over 2 rows: da_j = Σ_rows c, db = 1 - c
    const a = tensor([1, 2, 3]).requireGrad(), b = tensor([[0, 0, 0], [0, 0, 0]]).requireGrad();
    fa.sum(fa.where(tensor([[1, 0, 1], [1, 1, 0]]), a, b)).backward();
    expect(a.grad!.toArray()).toEqual([2, 1, 1]);
    expect(b.grad!.toArray()).toEqual([[0, 1, 0], [0, 0, 1]]);
    expect(x2(fa.where(tensor([1, 0]), tensor([1, 2]), 0)).toArray()).toEqual([2, 0]);
  });

  it('clamp: min(max(x, min), max), NaN kept, the gradient passes at the bounds', () => {
    setBackend(name);
    const x = tensor([-Infinity, -2, -1, 0, 1, 2, Infinity, NaN]);
    compareArrays('clamp', fa.clamp(x, -1, 1).data, [-1, -1, -1, 0, 1, 1, 1, NaN], EXACT);
    compareArrays('clamp min', x.clamp(0).data, [0, 0, 0, 0, 1, 2, Infinity, NaN], EXACT);
    compareArrays('clamp max', fa.clamp(x, null, -1).data, [-Infinity, -2, -1, -1, -1, -1, -1, NaN], EXACT);
    compareArrays('clamp min > max', fa.clamp(x, 2, 1).data, [1, 1, 1, 1, 1, 1, 1, NaN], EXACT);
    // d clamp / dx = 1 on [min, max] (bounds included, PyTorch), 0 outside and at NaN
    const g = tensor([-2, -1, 0, 1, 2, NaN]).requireGrad();
    fa.sum(fa.clamp(g, -1, 1)).backward();
    expect(g.grad!.toArray()).toEqual([0, 1, 1, 1, 0, 0]);
    for (const n of [0, 1, 7, 33, 40_003]) {
      const r = rnd([n], n, -3, 3);
      const want = Array.from(r.data, (v) => Math.min(Math.max(v, -0.5), 1.25));
      compareArrays(`clamp n=${n}`, fa.clamp(r, -0.5, 1.25).data, want, EXACT);
    }
  });

  it('cumsum along any axis, accumulated in float64, int32 kept', () => {
    setBackend(name);
    for (const [shape, axis] of [[[7], 0], [[2, 7, 3], 1], [[33, 2], -2], [[3, 0], 1], [[1, 33], -1]] as [number[], number][]) {
      const x = rnd(shape, 3);
      const a = axis < 0 ? axis + shape.length : axis;
      const n = shape[a], inner = size(shape.slice(a + 1)), outer = size(shape.slice(0, a));
      const want = new Float32Array(x.size);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let acc = 0;
          for (let j = 0; j < n; j++) want[(o * n + j) * inner + i] = acc += x.data[(o * n + j) * inner + i];
        }
      }
      compareArrays(`cumsum ${JSON.stringify(shape)} axis ${axis}`, fa.cumsum(x, axis).data, want, EXACT);
    }
    // float64 accumulation: 1e8 + 1 - 1e8 = 1 (a float32 accumulator would give 0)
    expect(fa.cumsum(tensor([1e8, 1, -1e8]), 0).toArray()).toEqual([1e8, 1e8, 1]);
    const yi = i32([1, 2, 3, 4], [2, 2]).cumsum(0);
    expect(yi.dtype).toBe('int32');
    expect(yi.toArray()).toEqual([[1, 2], [4, 6]]);
    // y = cumsum(x): dx_j = Σ_{i >= j} w_i; with w = [1, 2, 3]: [6, 5, 3]
    const x = tensor([1, 1, 1]).requireGrad();
    fa.cumsum(x, 0).backward(tensor([1, 2, 3]));
    expect(x.grad!.toArray()).toEqual([6, 5, 3]);
  });

  it('min and argmin mirror max and argmax', () => {
    setBackend(name);
    const x = tensor([[3, -1, 2], [0, 5, -4]]);
    expect(fa.min(x).item()).toBe(-4);
    expect(fa.min(x, 1).toArray()).toEqual([-1, -4]);
    expect(x.min(0, true).toArray()).toEqual([[0, -1, -4]]);
    expect(fa.argmin(x).toArray()).toEqual([1, 2]);
    expect(x.argmin(0).toArray()).toEqual([1, 0, 1]);
    expect(fa.argmin(tensor([1, NaN, -1])).item()).toBe(1); // NaN counts as the minimum
    // tie: the gradient of a min is split evenly, as max's
    const t = tensor([1, 1, 2]).requireGrad();
    fa.min(t).backward();
    expect(t.grad!.toArray()).toEqual([0.5, 0.5, 0]);
  });
});

const x2 = (t: Tensor): Tensor => fa.mul(t, 2);

describe('index ops refuse bad input, naming the op, the argument, expected and got', () => {
  const x = rnd([2, 3], 1);
  it.each([
    [() => fa.index(x, tensor([0, 1])), /fathom\.index: indices must be an int32 Tensor, got float32 of shape \[2\]/],
    [() => fa.index(x, i32([0, 3]), 1), /fathom\.index: indices\[1\] = 3 is out of range for axis 1 of x \[2, 3\] \(expected an integer in \[0, 2\]\)/],
    [() => fa.index(x, i32([-1])), /fathom\.index: indices\[0\] = -1 is out of range for axis 0/],
    [() => fa.index(x, i32([0]), 2), /fathom\.index: axis 2 is out of range/],
    [() => fa.index(fa.zeros([0]), i32([0])), /fathom\.index: indices\[0\] = 0 is out of range .*the axis is empty/],
    [() => fa.gather(x, 1, i32([0, 3], [1, 2])), /fathom\.gather: index\[1\] = 3 is out of range for axis 1 of x \[2, 3\] \(expected an integer in \[0, 2\]\)/],
    [() => fa.gather(x, 1, i32([0, 1])), /fathom\.gather: index has shape \[2\], expected rank 2 as x \[2, 3\]/],
    [() => fa.gather(x, 1, i32([0, 0, 0], [3, 1])), /fathom\.gather: index has shape \[3, 1\], larger than x \[2, 3\] on axis 0/],
    [() => fa.gather(x, 1, tensor([[0]])), /fathom\.gather: index must be an int32 Tensor, got float32/],
    [() => fa.oneHot(i32([0, 3]), 3), /fathom\.oneHot: indices\[1\] = 3 is out of range for 3 classes \(expected an integer in \[0, 2\]\)/],
    [() => fa.oneHot(i32([], [0])), /fathom\.oneHot: cannot infer numClasses from empty indices/],
    [() => fa.oneHot(tensor([1])), /fathom\.oneHot: indices must be an int32 Tensor, got float32/],
    [() => fa.oneHot(i32([1]), -2), /fathom\.oneHot: numClasses must be -1 \(inferred\) or a non-negative integer, got -2/],
    [() => fa.where(tensor([1, 0]), rnd([3], 2), 0), /fathom\.where: shapes \[2\] and \[3\] cannot be broadcast together/],
    [() => fa.where(tensor([1]), 'a' as unknown as number, 0), /fathom\.where: a must be a Tensor or a number, got "a"/],
    [() => fa.clamp(x), /fathom\.clamp: at least one of min and max must be given/],
    [() => fa.clamp(x, NaN), /fathom\.clamp: min must be a number, null or undefined, got NaN/],
    [() => fa.clamp(i32([1]), 0), /fathom\.clamp: x must be float32, got int32/],
    [() => fa.cumsum(x, 2), /fathom\.cumsum: axis 2 is out of range for a tensor of rank 2/],
    [() => fa.min(fa.zeros([0, 2]), 0), /fathom\.min: cannot take the min over axis 0 of size 0/],
    [() => fa.argmin(fa.zeros([2, 0])), /fathom\.argmin: cannot take the argmin over axis 1 of size 0/],
  ])('%#', (f, re) => {
    expect(f).toThrow(re);
  });
});
