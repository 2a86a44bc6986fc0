/**
 * Comparison ops and int32 arithmetic of issue #11 (lib/ops/compare.ts):
 * broadcasting, float32 0/1 results, NaN, int32 wrapping and promotion,
 * floorDivide/remainder signs, casts, and the error messages.
 */
import { describe, expect, it } from 'vitest';
import * as fa from '../../lib/index.js';
import { Tensor, tensor } from '../../lib/index.js';
import { EXACT, compareArrays } from '../helpers/parity.js';
import { randomArray } from '../helpers/random.js';
import { BROADCASTS } from '../helpers/shapes.js';

const i32 = (v: number[], shape = [v.length]): Tensor => new Tensor(Int32Array.from(v), shape);
const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

const OPS = {
  eq: (a: number, b: number) => a === b, ne: (a: number, b: number) => a !== b,
  lt: (a: number, b: number) => a < b, le: (a: number, b: number) => a <= b,
  gt: (a: number, b: number) => a > b, ge: (a: number, b: number) => a >= b,
} as const;

describe('comparisons', () => {
  it('broadcast as PyTorch and give float32 0/1, at every broadcast pair', () => {
    for (const [sa, sb] of BROADCASTS) {
      // small integers so that ties occur
      const a = tensor(Float32Array.from(randomArray(size(sa), 1, 0, 3), Math.floor), sa);
      const b = tensor(Float32Array.from(randomArray(size(sb), 2, 0, 3), Math.floor), sb);
      const want = fa.add(a, fa.mul(b, 0)).shape; // the broadcast shape
      const ea = fa.add(a, fa.zeros(want)), eb = fa.add(b, fa.zeros(want));
      for (const [op, f] of Object.entries(OPS)) {
        const y = (fa[op as keyof typeof OPS] as (a: Tensor, b: Tensor) => Tensor)(a, b);
        expect(y.dtype).toBe('float32');
        expect(y.shape).toEqual(want);
        compareArrays(`${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, y.data, Array.from(ea.data, (v, i) => (f(v, eb.data[i]) ? 1 : 0)), EXACT);
      }
    }
  });

  it('NaN is unequal to everything; numbers and int32 operands compare by value', () => {
    const x = tensor([NaN, 1, -0]);
    expect(fa.eq(x, x).toArray()).toEqual([0, 1, 1]);
    expect(fa.ne(x, x).toArray()).toEqual([1, 0, 0]);
    expect(fa.lt(x, 2).toArray()).toEqual([0, 1, 1]);
    expect(fa.ge(x, 0).toArray()).toEqual([0, 1, 1]); // -0 >= 0
    expect(fa.gt(i32([1, 2, 3]), 2).toArray()).toEqual([0, 0, 1]);
    expect(fa.le(2, i32([1, 2, 3])).toArray()).toEqual([0, 1, 1]);
    expect(fa.eq(i32([16777217]), 16777217).toArray()).toEqual([1]); // exact, not via float32
    expect(i32([1, 5]).lt(tensor([[2], [6]])).toArray()).toEqual([[1, 0], [1, 1]]);
    expect(fa.eq(fa.zeros([0, 3]), 0).shape).toEqual([0, 3]);
    // masks multiply straight into float tensors
    const v = tensor([-2, 3, -1, 4]);
    compareArrays('mask', fa.mul(v, v.gt(0)).data, [0, 3, 0, 4], EXACT);
  });

  it('refuse what cannot be compared', () => {
    expect(() => fa.lt(tensor([1, 2]), tensor([1, 2, 3]))).toThrow(/fathom\.lt: shapes \[2\] and \[3\] cannot be broadcast together/);
    expect(() => fa.eq('x' as unknown as number, 1)).toThrow(/fathom\.eq: a must be a Tensor or a number, got "x"/);
    expect(() => fa.ge(tensor([1]), null as unknown as number)).toThrow(/fathom\.ge: b must be a Tensor or a number, got null/);
  });
});

describe('int32 arithmetic', () => {
  it('add, sub, mul, maximum, minimum of int32 give int32, wrapping as int32 does', () => {
    const a = i32([2 ** 31 - 1, -7, 5]);
    const y = fa.add(a, 1);
    expect(y.dtype).toBe('int32');
    expect(y.toArray()).toEqual([-(2 ** 31), -6, 6]);
    expect(fa.sub(a, i32([1, 1, 10])).toArray()).toEqual([2 ** 31 - 2, -8, -5]);
    expect(fa.mul(i32([65536, 3]), i32([65536, -4])).toArray()).toEqual([0, -12]);
    expect(fa.maximum(i32([1, 9], [1, 2]), i32([4, 2], [2, 1])).toArray()).toEqual([[4, 9], [2, 9]]);
    expect(fa.minimum(3, i32([1, 9])).toArray()).toEqual([1, 3]);
    expect(i32([1, 2]).add(i32([10, 20])).dtype).toBe('int32');
    // row, column of flat indices in a [n, 7] grid: i = 7 r + c
    const i = i32([0, 6, 7, 33]);
    expect(fa.add(fa.mul(fa.floorDivide(i, 7), 7), fa.remainder(i, 7)).toArray()).toEqual([0, 6, 7, 33]);
  });

  it('promotes to float32 with a float tensor, a fractional number, or div', () => {
    expect(fa.add(i32([1, 2]), tensor([0.5, 0.5])).toArray()).toEqual([1.5, 2.5]);
    expect(fa.add(i32([1, 2]), 0.5).dtype).toBe('float32');
    const d = fa.div(i32([7, -7]), 2);
    expect(d.dtype).toBe('float32');
    expect(d.toArray()).toEqual([3.5, -3.5]);
    // gradients still flow to the float operand
    const w = tensor([1, 2]).requireGrad();
    fa.sum(fa.mul(w, i32([3, 4]))).backward();
    expect(w.grad!.toArray()).toEqual([3, 4]);
  });

  it('floorDivide rounds toward -inf and remainder takes the sign of the divisor (PyTorch)', () => {
    const a = i32([7, -7, 7, -7, 0]);
    const b = i32([2, 2, -2, -2, 3]);
    expect(fa.floorDivide(a, b).toArray()).toEqual([3, -4, -4, 3, 0]);
    expect(fa.remainder(a, b).toArray()).toEqual([1, 1, -1, -1, 0]);
    expect(fa.remainder(-1, i32([5])).toArray()).toEqual([4]);
    expect(() => fa.floorDivide(a, 0)).toThrow(/fathom\.floorDivide: integer division by zero \(element 0 of the broadcast shape \[5\]\)/);
    expect(() => fa.remainder(tensor([1.5]), 2)).toThrow(/fathom\.remainder: a must be an int32 Tensor or an integer, got a float32 tensor of shape \[1\]/);
    expect(() => fa.remainder(i32([1]), 0.5)).toThrow(/fathom\.remainder: b must be an int32 Tensor or an integer, got 0\.5/);
    expect(() => fa.remainder(3, 2)).toThrow(/fathom\.remainder: a or b must be an int32 Tensor, got two numbers/);
  });

  it('float() and int() convert, int() truncating toward zero', () => {
    expect(tensor([1.7, -1.7, 0]).int().toArray()).toEqual([1, -1, 0]);
    expect(tensor([1.7]).int().dtype).toBe('int32');
    expect(i32([3]).float().dtype).toBe('float32');
    const f = tensor([1]);
    expect(f.float()).toBe(f);
    compareArrays('int of -0.5', tensor([-0.5]).int().data, [0], EXACT);
    expect(() => tensor([1, NaN]).int()).toThrow(/fathom\.int: x\[1\] = NaN has no int32 value/);
    expect(() => tensor([3e9]).int()).toThrow(/fathom\.int: x\[0\] = 3000000000 has no int32 value/);
  });
});
