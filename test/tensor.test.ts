import { describe, expect, it } from 'vitest';
import { Tensor, info, ones, rand, randn, tensor, zeros, full, matmul, add, manualSeed } from '../lib/index.js';

describe('Tensor', () => {
  it('builds from nested arrays, flat arrays with a shape, and typed arrays', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(a.shape).toEqual([2, 3]);
    expect(a.dtype).toBe('float32');
    expect(a.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    const b = tensor([1, 2, 3, 4], [2, 2]);
    expect(b.toArray()).toEqual([[1, 2], [3, 4]]);
    const data = new Float32Array([1, 2]);
    const c = tensor(data);
    expect(c.data).toBe(data); // no copy
    const l = tensor(new Int32Array([3, 1]));
    expect(l.dtype).toBe('int32');
    expect(tensor(7).shape).toEqual([]);
    expect(tensor(7).item()).toBe(7);
  });

  it('creates constants and seeded random tensors', () => {
    expect(zeros([2, 2]).toArray()).toEqual([[0, 0], [0, 0]]);
    expect(ones([3]).toArray()).toEqual([1, 1, 1]);
    expect(full([2], 2.5).toArray()).toEqual([2.5, 2.5]);
    const r1 = rand([5, 7], { seed: 42 });
    const r2 = rand([5, 7], { seed: 42 });
    expect(r1.data).toEqual(r2.data);
    for (const v of r1.data) expect(v >= 0 && v < 1).toBe(true);
    expect(rand([5], { seed: 43 }).data).not.toEqual(rand([5], { seed: 42 }).data);
    const n = randn([10_000], { seed: 7 });
    const mean = n.f32().reduce((s, v) => s + v, 0) / n.size;
    const variance = n.f32().reduce((s, v) => s + (v - mean) ** 2, 0) / n.size;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it('advances the global random stream and resets it with manualSeed', () => {
    manualSeed(5);
    const a = rand([6]);
    const b = rand([6]);
    expect(a.data).not.toEqual(b.data);
    manualSeed(5);
    expect(rand([6]).data).toEqual(a.data);
  });

  it('offers every op as a method too', () => {
    const a = tensor([[1, 2], [3, 4]]);
    const b = tensor([[5, 6], [7, 8]]);
    expect(a.matmul(b).toArray()).toEqual(matmul(a, b).toArray());
    expect(a.matmul(b).toArray()).toEqual([[19, 22], [43, 50]]);
    expect(a.add(1).toArray()).toEqual(add(a, 1).toArray());
    expect(a.sum().item()).toBe(10);
    expect(a.sum(0).toArray()).toEqual([4, 6]);
    expect(a.mean(1, true).toArray()).toEqual([[1.5], [3.5]]);
    expect(a.max(1).toArray()).toEqual([2, 4]);
    expect(a.transpose().toArray()).toEqual([[1, 3], [2, 4]]);
    expect(a.reshape([4]).toArray()).toEqual([1, 2, 3, 4]);
    expect(a.slice(1).toArray()).toEqual([[3, 4]]);
    expect(a.slice(0, -1).toArray()).toEqual([[1, 2]]);
    expect(a.slice(2).shape).toEqual([0, 2]);
    expect(a.slice(5).shape).toEqual([0, 2]); // clamped, as x[5:] in PyTorch
    expect(tensor(new Int32Array([7, 8, 9])).slice(1, 2).toArray()).toEqual([8]);
    expect(a.argmax().toArray()).toEqual([1, 1]);
    expect(tensor([-1, 0, 2]).relu().toArray()).toEqual([0, 0, 2]);
    expect(tensor([-2, 0, 3]).sign().toArray()).toEqual([-1, 0, 1]);
    expect(tensor([1, 4]).sqrt().toArray()).toEqual([1, 2]);
    expect(tensor([2, 3]).pow(2).toArray()).toEqual([4, 9]);
    const s = tensor([[1, 2, 3]]).softmax();
    expect(s.sum().item()).toBeCloseTo(1, 6);
    expect(tensor([[0, 0]]).logSoftmax().toArray()).toEqual([[-Math.LN2, -Math.LN2].map(Math.fround)]);
  });

  it('broadcasts like NumPy', () => {
    const a = tensor([[1], [2], [3]]); // [3, 1]
    const b = tensor([10, 20]); // [2]
    expect(a.add(b).toArray()).toEqual([[11, 21], [12, 22], [13, 23]]);
    expect(a.mul(2).toArray()).toEqual([[2], [4], [6]]);
  });

  it('reports the backend, ISA, threads and version', () => {
    const i = info();
    expect(['native', 'ts']).toContain(i.backend);
    expect(typeof i.isa).toBe('string');
    expect(i.threads).toBeGreaterThanOrEqual(1);
    expect(i.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses bad shapes and data with errors naming the op and the shapes', () => {
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(/fathom.tensor: shape \[2, 2\] needs 4 values, got 3/);
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => zeros([2, -1])).toThrow(/non-negative integers/);
    expect(() => new Tensor(new Float32Array(3), [2])).toThrow(/needs 2 values, got 3/);
    expect(() => tensor([1, 2]).item()).toThrow(/one element/);
    expect(() => matmul(zeros([2, 3]), zeros([4, 5]))).toThrow(/fathom.matmul: inner dimensions differ: a is 2x3 \(shape \[2, 3\]\), b is 4x5/);
    expect(() => matmul(zeros([2]), zeros([2, 2]))).toThrow(/expected 2-D tensors, got shapes \[2\] and \[2, 2\]/);
    expect(() => add(zeros([2, 3]), zeros([4]))).toThrow(/fathom.add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
    expect(() => zeros([2, 3]).sum(2)).toThrow(/axis 2 is out of range for a tensor of rank 2/);
    expect(() => zeros([2, 3]).reshape([4, 2])).toThrow(/cannot reshape \[2, 3\]/);
    expect(() => rand([2], { seed: -1 })).toThrow(/seed must be a non-negative integer/);
    expect(() => add(zeros([2]), 'x' as unknown as number)).toThrow(/fathom.add: b must be a Tensor or a number, got "x"/);
  });
});
