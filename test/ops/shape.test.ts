/**
 * Shape and layout ops of issue #11 (lib/ops/shape.ts): permute, transpose of
 * any two axes, squeeze/unsqueeze, expand, flip, narrow/slice on any axis,
 * concat, stack, split, chunk. Each is checked against a naive index-by-index
 * reference at awkward sizes (0, 1, 7, 33), on float32 and int32, on both
 * backends, and for its error messages. Gradients: test/ops/gradcheck.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as fa from '../../lib/index.js';
import { Tensor, setBackend, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { EXACT, compareArrays } from '../helpers/parity.js';
import { randomArray } from '../helpers/random.js';

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const rnd = (shape: number[], seed: number): Tensor => tensor(randomArray(size(shape), seed), shape);
const ints = (shape: number[]): Tensor => new Tensor(Int32Array.from({ length: size(shape) }, (_, i) => i * 7 - 11), shape);

/** The multi-index of flat position i in shape. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}
function ravel(idx: readonly number[], shape: readonly number[]): number {
  return idx.reduce((acc, v, d) => acc * shape[d] + v, 0);
}
/** The reference: out[idx] = x[source(idx)] for every index of outShape. */
function reference(x: Tensor, outShape: number[], source: (idx: number[]) => number[]): number[] {
  return Array.from({ length: size(outShape) }, (_, i) => x.data[ravel(source(unravel(i, outShape)), x.shape)]);
}
function expectValues(label: string, y: Tensor, shape: number[], want: number[]): void {
  expect(y.shape, label).toEqual(shape);
  compareArrays(label, y.data, want, EXACT);
}

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

describe.each(backends)('shape ops on the %s backend', (name) => {
  it('permute and transpose(a, b) move every element to its permuted index', () => {
    setBackend(name);
    const cases: [number[], number[]][] = [
      [[2, 3, 4], [2, 0, 1]], [[7, 1, 33], [1, 2, 0]], [[0, 7], [1, 0]], [[1], [0]], [[], []],
      [[2, 1, 3, 7], [3, 1, 0, 2]], [[33, 7], [-1, -2]],
    ];
    for (const [shape, dims] of cases) {
      for (const x of [rnd(shape, shape.length), ints(shape)]) {
        const p = dims.map((d) => (d < 0 ? d + shape.length : d));
        const outShape = p.map((d) => shape[d]);
        const want = reference(x, outShape, (idx) => {
          const src = new Array<number>(shape.length);
          p.forEach((d, i) => (src[d] = idx[i]));
          return src;
        });
        const y = fa.permute(x, dims);
        expectValues(`permute ${JSON.stringify(shape)} by ${JSON.stringify(dims)}`, y, outShape, want);
        expect(y.dtype).toBe(x.dtype);
        expect(x.permute(...dims).toArray()).toEqual(y.toArray());
      }
    }
    const x = rnd([2, 3, 4, 5], 9);
    expect(fa.transpose(x, 1, -1).toArray()).toEqual(fa.permute(x, [0, 3, 2, 1]).toArray());
    expect(x.transpose(0, 0).toArray()).toEqual(x.toArray());
    // the 2-D transpose() is unchanged
    expect(fa.transpose(rnd([3, 7], 1)).toArray()).toEqual(fa.permute(rnd([3, 7], 1), [1, 0]).toArray());
  });

  it('squeeze and unsqueeze reshape, sharing storage', () => {
    setBackend(name);
    const x = rnd([1, 3, 1, 7], 2);
    expect(fa.squeeze(x).shape).toEqual([3, 7]);
    expect(fa.squeeze(x, 2).shape).toEqual([1, 3, 7]);
    expect(fa.squeeze(x, [0, -2]).shape).toEqual([3, 7]);
    expect(fa.squeeze(x, 1).shape).toEqual([1, 3, 1, 7]); // size 3: left as is, as PyTorch
    expect(fa.squeeze(x).data).toBe(x.data);
    expect(fa.unsqueeze(x, 0).shape).toEqual([1, 1, 3, 1, 7]);
    expect(fa.unsqueeze(x, -1).shape).toEqual([1, 3, 1, 7, 1]);
    expect(fa.unsqueeze(x, 4).shape).toEqual([1, 3, 1, 7, 1]);
    expect(fa.unsqueeze(tensor(3), 0).shape).toEqual([1]);
    expect(fa.squeeze(ints([1, 0, 1])).shape).toEqual([0]);
    expect(x.unsqueeze(1).squeeze(1).shape).toEqual(x.shape);
  });

  it('expand broadcasts with -1 and new leading axes; flip reverses the listed axes', () => {
    setBackend(name);
    for (const x of [rnd([3, 1], 3), ints([3, 1])]) {
      expectValues('expand', fa.expand(x, [2, 3, -1]), [2, 3, 1], reference(x, [2, 3, 1], ([, i, j]) => [i, j]));
      expectValues('expand 7', fa.expand(x, [3, 7]), [3, 7], reference(x, [3, 7], ([i]) => [i, 0]));
      expectValues('expand 0', x.expand(0, 3, 1), [0, 3, 1], []);
    }
    expect(fa.expand(tensor(2), [2, 2]).toArray()).toEqual([[2, 2], [2, 2]]);
    for (const shape of [[2, 3, 4], [7, 33], [0, 3], [1]]) {
      for (const x of [rnd(shape, 4), ints(shape)]) {
        const axes = shape.length > 1 ? [0, -1] : [0];
        const flipped = (idx: number[]): number[] => idx.map((v, d) => (d === 0 || d === shape.length - 1 ? shape[d] - 1 - v : v));
        expectValues(`flip ${JSON.stringify(shape)}`, fa.flip(x, axes), shape, reference(x, shape, flipped));
      }
    }
    expect(fa.flip(tensor([[1, 2, 3]]), 1).toArray()).toEqual([[3, 2, 1]]);
  });

  it('narrow and slice on any axis', () => {
    setBackend(name);
    const x = rnd([2, 7, 33], 5);
    expectValues('narrow', fa.narrow(x, 1, 2, 4), [2, 4, 33], reference(x, [2, 4, 33], ([a, b, c]) => [a, b + 2, c]));
    expectValues('narrow neg', fa.narrow(x, -1, -3, 3), [2, 7, 3], reference(x, [2, 7, 3], ([a, b, c]) => [a, b, c + 30]));
    expectValues('narrow 0', fa.narrow(x, 2, 33, 0), [2, 7, 0], []);
    expectValues('slice axis 2', fa.slice(x, 1, -1, 2), [2, 7, 31], reference(x, [2, 7, 31], ([a, b, c]) => [a, b, c + 1]));
    expectValues('slice axis -2', x.slice(-2, undefined, -2), [2, 2, 33], reference(x, [2, 2, 33], ([a, b, c]) => [a, b + 5, c]));
    expect(fa.slice(x, 5, 2, 1).shape).toEqual([2, 0, 33]);
    expect(fa.slice(ints([3, 4]), 1, 3, 1).toArray()).toEqual([[-4, 3], [24, 31], [52, 59]]);
  });

  it('concat and stack join along any axis, dtypes kept, empty pieces allowed', () => {
    setBackend(name);
    for (const mk of [rnd, (s: number[]) => ints(s)]) {
      const a = mk([2, 1, 3], 6), b = mk([2, 7, 3], 7), c = mk([2, 0, 3], 8);
      const want = reference(a, [2, 8, 3], () => [0, 0, 0]).map((_, i) => {
        const [p, q, r] = unravel(i, [2, 8, 3]);
        return q < 1 ? a.data[ravel([p, q, r], a.shape)] : b.data[ravel([p, q - 1, r], b.shape)];
      });
      expectValues('concat', fa.concat([a, c, b], 1), [2, 8, 3], want);
      const s = fa.stack([a, a, a], -1);
      expectValues('stack', s, [2, 1, 3, 3], reference(a, [2, 1, 3, 3], ([p, q, r]) => [p, q, r]));
    }
    expect(fa.concat([tensor([1, 2]), tensor([3])]).toArray()).toEqual([1, 2, 3]);
    expect(fa.stack([tensor(1), tensor(2)]).toArray()).toEqual([1, 2]);
    expect(fa.concat([rnd([0, 3], 1), rnd([0, 3], 2)]).shape).toEqual([0, 3]);
    const big = fa.concat([rnd([33, 7], 1), rnd([33, 7], 2)], 0);
    expect(big.shape).toEqual([66, 7]);
  });

  it('split and chunk cut an axis as PyTorch does', () => {
    setBackend(name);
    const x = rnd([7, 2], 10);
    const shapes = (ts: Tensor[]): number[][] => ts.map((t) => [...t.shape]);
    expect(shapes(fa.split(x, 3))).toEqual([[3, 2], [3, 2], [1, 2]]);
    expect(shapes(fa.split(x, [1, 0, 6]))).toEqual([[1, 2], [0, 2], [6, 2]]);
    expect(shapes(fa.split(x, 7))).toEqual([[7, 2]]);
    expect(shapes(fa.split(x, 1, -1))).toEqual([[7, 1], [7, 1]]);
    expect(shapes(fa.chunk(x, 3))).toEqual([[3, 2], [3, 2], [1, 2]]);
    expect(shapes(fa.chunk(rnd([6], 1), 4))).toEqual([[2], [2], [2]]); // ceil(6 / 4) = 2: three chunks
    expect(shapes(fa.chunk(rnd([2], 1), 5))).toEqual([[1], [1]]);
    expect(shapes(x.chunk(1, 1))).toEqual([[7, 2]]);
    expect(shapes(fa.split(rnd([0, 2], 1), 0))).toEqual([[0, 2]]);
    expect(fa.concat(fa.split(x, 2), 0).toArray()).toEqual(x.toArray());
    expect(fa.split(ints([5]), 2).map((t) => t.toArray())).toEqual([[-11, -4], [3, 10], [17]]);
  });
});

describe('shape ops refuse bad input, naming the op, the argument, expected and got', () => {
  const x = rnd([2, 3], 1);
  it.each([
    [() => fa.permute(x, [0]), /fathom\.permute: dims \[0\] has 1 entries, expected 2 \(one per axis of x \[2, 3\]\)/],
    [() => fa.permute(x, [1, 1]), /fathom\.permute: axis 1 appears twice in dims \[1, 1\]/],
    [() => fa.permute(x, [0, 2]), /fathom\.permute: dims entry 2 is out of range for a tensor of rank 2/],
    [() => fa.permute(x, [0, 0.5]), /fathom\.permute: dims must hold integers, got 0\.5 at index 1/],
    [() => fa.transpose(x, 0, 2), /fathom\.transpose: axis b 2 is out of range/],
    [() => fa.transpose(x, 0), /fathom\.transpose: give both axes a and b, or neither/],
    [() => fa.unsqueeze(x, 3), /fathom\.unsqueeze: axis 3 is out of range for a tensor of rank 3 \(expected an integer in \[-3, 2\]\)/],
    [() => fa.squeeze(x, 2), /fathom\.squeeze: axis 2 is out of range/],
    [() => fa.expand(x, [3]), /fathom\.expand: shape \[3\] has 1 axes, expected at least 2/],
    [() => fa.expand(x, [4, 3]), /fathom\.expand: cannot expand x \[2, 3\] to \[4, 3\]: axis 0 has size 2, expected 1 or 4/],
    [() => fa.expand(x, [-1, 2, 3]), /fathom\.expand: -1 is not allowed for the new leading axis 0/],
    [() => fa.expand(tensor(1), new Array<number>(9).fill(1)), /fathom\.expand: at most 8 dimensions are supported, got 9 in the expanded shape/],
    [() => fa.flip(x, [1, -1]), /fathom\.flip: axis -1 appears twice in dims/],
    [() => fa.narrow(x, 1, 2, 2), /fathom\.narrow: length must be an integer in \[0, 1\] \(start 2 on axis 1 of size 3, x \[2, 3\]\), got 2/],
    [() => fa.narrow(x, 1, -4, 1), /fathom\.narrow: start must be an integer in \[-3, 3\]/],
    [() => fa.narrow(tensor(1), 0, 0, 1), /fathom\.narrow: cannot narrow a scalar/],
    [() => fa.slice(x, 0, 1.5, 1), /fathom\.slice: end must be an integer, got 1\.5/],
    [() => fa.slice(x, 0, 1, 2), /fathom\.slice: axis 2 is out of range/],
    [() => fa.concat([x, rnd([3, 3], 2)], 1), /fathom\.concat: tensors\[1\] has shape \[3, 3\], expected \[2, \*\] \(as tensors\[0\] \[2, 3\], joining on axis 1\)/],
    [() => fa.concat([x, rnd([2], 2)]), /fathom\.concat: tensors\[1\] has shape \[2\], expected \[\*, 3\]/],
    [() => fa.concat([x, ints([2, 3])]), /fathom\.concat: tensors\[1\] is int32, expected float32 as tensors\[0\]/],
    [() => fa.concat([]), /fathom\.concat: tensors must hold at least one Tensor, got an empty array/],
    [() => fa.concat([x, 3 as unknown as Tensor]), /fathom\.concat: tensors\[1\] must be a Tensor, got 3/],
    [() => fa.concat([tensor(1)]), /fathom\.concat: tensors\[0\] is a scalar/],
    [() => fa.stack([x, rnd([3, 2], 2)]), /fathom\.stack: tensors\[1\] has shape \[3, 2\], expected \[2, 3\] as tensors\[0\]/],
    [() => fa.stack([x], 3), /fathom\.stack: axis 3 is out of range for a tensor of rank 3/],
    [() => fa.split(x, 0), /fathom\.split: splitSize must be a positive integer, got 0 \(axis 0 of size 2\)/],
    [() => fa.split(x, [1, 1], 1), /fathom\.split: the sizes \[1, 1\] must be non-negative and sum to 3, the size of axis 1/],
    [() => fa.chunk(x, 0), /fathom\.chunk: chunks must be a positive integer, got 0/],
  ])('%#', (f, re) => {
    expect(f).toThrow(re);
  });
});
