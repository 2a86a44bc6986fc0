/**
 * Bad input to the native binding is a JS Error naming the operation and
 * what was expected versus given — never a crash, never a silent NaN.
 */
import { describe, expect, it } from 'vitest';
import { nativeBinding } from '../../lib/backend/index.js';
import { softmaxCrossEntropy, tensor, zeros } from '../../lib/index.js';

const b = nativeBinding()!;
const f = (n: number) => new Float32Array(n);

describe.skipIf(!nativeBinding())('native binding argument checks', () => {
  it('wrong types', () => {
    expect(() => b.unary(0, [1, 2] as unknown as Float32Array, f(2), 0, 0)).toThrow(/fathom.unary: x must be a Float32Array, got Array/);
    expect(() => b.unary(0, new Float64Array(2) as unknown as Float32Array, f(2), 0, 0)).toThrow(/x must be a Float32Array, got Float64Array/);
    expect(() => b.gemm('no' as unknown as boolean, false, 1, 1, 1, 1, f(1), f(1), 0, f(1))).toThrow(/fathom.gemm: transA must be a boolean, got string/);
    expect(() => b.randUniform(f(4), 1 as unknown as bigint, 0n, 0, 1)).toThrow(/fathom.randUniform: seed must be a bigint, got number/);
    expect(() => b.argmax(1, 2, f(2), f(1) as unknown as Int32Array)).toThrow(/out must be an Int32Array, got Float32Array/);
  });

  it('too few arguments and bad enums', () => {
    expect(() => (b.gemm as unknown as () => void)()).toThrow(/fathom.gemm: expected 10 arguments, got 0/);
    expect(() => b.unary(99, f(1), f(1), 0, 0)).toThrow(/fathom.unary: op out of range: 99/);
    expect(() => b.binary(-1, f(1), f(1), f(1))).toThrow(/op must be a non-negative integer/);
    expect(() => (b.unary as unknown as (...a: unknown[]) => void)(0, f(1), f(1), 0)).toThrow(/fathom.unary: expected 5 arguments, got 4/);
    expect(() => b.unary(0, f(1), f(1), 0, NaN)).toThrow(/fathom.unary: q must be finite in float32/);
    expect(() => b.unaryBackward(0, f(1), f(1), f(1), f(1), 0, Infinity)).toThrow(/fathom.unaryBackward: q must be finite in float32/);
  });

  it('arrays too short or too long for the shapes', () => {
    expect(() => b.gemm(false, false, 4, 4, 4, 1, f(15), f(16), 0, f(16))).toThrow(/fathom.gemm: a must hold 16 float32 values, got 15/);
    expect(() => b.gemm(false, false, 4, 4, 4, 1, f(16), f(16), 0, f(17))).toThrow(/c must hold 16 float32 values, got 17/);
    expect(() => b.unary(0, f(8), f(7), 0, 0)).toThrow(/y must hold 8 float32 values, got 7/);
    expect(() => b.softmax(3, 4, f(12), f(11), false)).toThrow(/fathom.softmax: y must hold 12/);
    expect(() => b.binaryBroadcast(0, [2, 3], f(6), [3, 1], f(2), [0, 2], f(6))).toThrow(/strides reach past the operands: a needs 6 values \(has 6\), b needs 5 \(has 2\)/);
    expect(() => b.reduce(0, [2, 3], f(6), [1, 1], f(2))).toThrow(/outStrides reach index 3, so out must hold 4 values, got 2/);
    expect(() => b.reduce(0, [2, 3], f(6), [1], f(2))).toThrow(/outStrides must have 2 entries, got 1/);
    expect(() => b.gemm(false, false, 2 ** 31, 2 ** 31, 2 ** 31, 1, f(1), f(1), 0, f(1))).toThrow(/matrix too large|must hold/);
    expect(() => b.gemm(false, false, -1, 1, 1, 1, f(1), f(1), 0, f(1))).toThrow(/m must be a non-negative integer, got -1/);
    expect(() => b.gemm(false, false, 1.5, 1, 1, 1, f(1), f(1), 0, f(1))).toThrow(/m must be a non-negative integer/);
  });

  it('strides that would overflow are refused, not wrapped', () => {
    expect(() => b.binaryBroadcast(0, [2049], f(1), [2 ** 53 - 1], f(1), [0], f(2049))).toThrow(/aStrides reach past any addressable index/);
    expect(() => b.reduce(0, [2049], f(2049), [2 ** 53 - 1], f(1))).toThrow(/outStrides reach past any addressable index/);
  });

  it('gemmAsync works on copies: detaching c while it runs rejects, nothing crashes', async () => {
    const n = 256;
    const a = new Float32Array(n * n).fill(1);
    const c = new Float32Array(n * n);
    const p = b.gemmAsync(false, false, n, n, n, 1, a, a, 0, c);
    structuredClone(a.buffer, { transfer: [a.buffer] }); // detach an input mid-flight
    structuredClone(c.buffer, { transfer: [c.buffer] }); // and the output
    await expect(p).rejects.toThrow(/fathom.gemmAsync: c was detached/);
    const c2 = new Float32Array(4);
    await b.gemmAsync(false, false, 2, 2, 2, 1, new Float32Array([1, 2, 3, 4]), new Float32Array([1, 2, 3, 4]), 0, c2);
    expect([...c2]).toEqual([7, 10, 15, 22]);
  });

  it('detached buffers', () => {
    const x = f(16);
    structuredClone(x.buffer, { transfer: [x.buffer] }); // detaches x
    expect(() => b.unary(0, x, f(16), 0, 0)).toThrow(/x .*(detached|must hold 16)/);
    expect(() => b.fill(x, 1)).toThrow(/fathom.fill: y is backed by a detached ArrayBuffer/);
  });

  it('out-of-range labels and non-finite hyper-parameters', () => {
    expect(() => b.xentLabels(2, 3, f(6), new Int32Array([0, 3]), f(6))).toThrow(/fathom.xentLabels: labels\[1\] = 3 is outside \[0, 3\)/);
    expect(() => b.xentLabels(1, 3, f(3), new Int32Array([-1]), f(3))).toThrow(/labels\[0\] = -1/);
    expect(() => b.sgdStep(f(2), f(2), f(2), NaN, 0, 0, 0, false, true)).toThrow(/fathom.sgdStep: lr must be finite in float32 .*got nan/);
    expect(() => b.optimStep(0, f(2), f(2), f(2), f(2), null, 0, 0.1, 0, 1e-8, 0.9, 0.999, 0, 0, 0, 0, false, false, false)).toThrow(/step \(the step count\) must be >= 1/);
    expect(() => b.randNormal(f(2), 1n, 0n, 0, Infinity)).toThrow(/std must be finite/);
    expect(() => b.setNumThreads(0)).toThrow(/threads must be >= 1/);
  });

  it('the library layer refuses the same before reaching native code', () => {
    expect(() => softmaxCrossEntropy(zeros([2, 3]), tensor(new Int32Array([0, 5])))).toThrow(/fathom.softmaxCrossEntropy: label 5 at index 1 is outside \[0, 3\)/);
    expect(() => softmaxCrossEntropy(zeros([2, 3]), tensor(new Int32Array([0])))).toThrow(/integer labels must have shape \[2\], got \[1\]/);
    expect(() => softmaxCrossEntropy(zeros([2, 3]), zeros([2, 4]))).toThrow(/probability targets must have the logits' shape \[2, 3\], got \[2, 4\]/);
  });

  it('survives a storm of bad calls (no crash, still computes)', () => {
    const bad: unknown[] = [undefined, null, 1, 'x', {}, [], f(0), new Int32Array(3), -1, NaN, 2 ** 53];
    const fns = ['unary', 'binary', 'gemm', 'reduce', 'softmax', 'xentLabels', 'argmax', 'fill', 'randUniform', 'optimStep'] as const;
    let thrown = 0;
    for (const name of fns) {
      for (const v of bad) {
        try {
          (b[name] as (...a: unknown[]) => unknown)(v, v, v, v, v, v, v, v, v, v, v);
        } catch (e) {
          expect((e as Error).message).toMatch(/^fathom\./);
          thrown++;
        }
      }
    }
    expect(thrown).toBe(fns.length * bad.length);
    const c = f(1);
    b.gemm(false, false, 1, 1, 1, 1, new Float32Array([3]), new Float32Array([4]), 0, c);
    expect(c[0]).toBe(12);
  });
});
