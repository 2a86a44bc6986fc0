/**
 * The differentiable ops on bad and edge input (issue #8, sections 2 and 5):
 * no hang on empty shapes beside huge dimensions, results too large refused
 * by name, non-Tensor arguments named, argmax over any axis, slice without
 * clamping, PyTorch's tie-splitting gradient for max/maximum/minimum. Every
 * case runs on both backends.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as fa from '../../lib/index.js';
import { Tensor, setBackend, tensor, zeros } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { randomArray } from '../helpers/random.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const bad = <T>(v: unknown): T => v as T;
const HUGE = 2 ** 40;

/** Runs fn and checks it took less than `ms` (a loop over a huge dimension would take hours). */
function quick<T>(label: string, fn: () => T, ms = 2000): T {
  const t0 = performance.now();
  const r = fn();
  expect(performance.now() - t0, `${label} took too long`).toBeLessThan(ms);
  return r;
}

/** One op applied to empty operands: the expected result shape. */
type EmptyCase = [label: string, fn: (...xs: Tensor[]) => Tensor, inputs: () => Tensor[], shape: number[]];

const emptyCases: EmptyCase[] = [
  ...(['neg', 'exp', 'log', 'sqrt', 'abs', 'square', 'relu', 'sigmoid', 'tanh', 'sign'] as const).map(
    (op): EmptyCase => [op, (x) => fa[op](x), () => [zeros([HUGE, 0])], [HUGE, 0]],
  ),
  ['pow', (x) => fa.pow(x, 2), () => [zeros([0, HUGE])], [0, HUGE]],
  ...(['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const).map(
    (op): EmptyCase => [op, (a, b) => fa[op](a, b), () => [zeros([HUGE, 0]), zeros([1])], [HUGE, 0]],
  ),
  ['add (broadcast rows)', (a, b) => fa.add(a, b), () => [zeros([HUGE, 1, 0]), zeros([3, 1])], [HUGE, 3, 0]],
  ['matmul m=0', (a, b) => fa.matmul(a, b), () => [zeros([0, HUGE]), zeros([HUGE, 0])], [0, 0]],
  ['matmul n=0', (a, b) => fa.matmul(a, b), () => [zeros([HUGE, 0]), zeros([0, 0])], [HUGE, 0]],
  ['matmul transB', (a, b) => fa.matmul(a, b, { transB: true }), () => [zeros([HUGE, 0]), zeros([0, 0])], [HUGE, 0]],
  ['matmul transA', (a, b) => fa.matmul(a, b, { transA: true }), () => [zeros([0, HUGE]), zeros([0, 0])], [HUGE, 0]],
  ['transpose [huge, 0]', (x) => fa.transpose(x), () => [zeros([HUGE, 0])], [0, HUGE]],
  ['transpose [0, huge]', (x) => fa.transpose(x), () => [zeros([0, HUGE])], [HUGE, 0]],
  ['reshape', (x) => fa.reshape(x, [0, HUGE, 1]), () => [zeros([HUGE, 0])], [0, HUGE, 1]],
  ['slice', (x) => fa.slice(x, 1, 5), () => [zeros([HUGE, 0])], [4, 0]],
  ['linear [huge, 0]', (x, w, b) => fa.linear(x, w, b, 'relu'), () => [zeros([HUGE, 0]), zeros([0, 0]), zeros([0])], [HUGE, 0]],
  ['linear out=0', (x, w) => fa.linear(x, w, null, 'sigmoid'), () => [zeros([0, 3]), zeros([0, 3])], [0, 0]],
  ['sum over the empty axis', (x) => fa.sum(x, 0), () => [zeros([HUGE, 0])], [0]],
  ['mean keepDims', (x) => fa.mean(x, 0, true), () => [zeros([HUGE, 0])], [1, 0]],
  ['max over the non-empty axis', (x) => fa.max(x, 0), () => [zeros([HUGE, 0])], [0]],
  ['softmax [huge, 0]', (x) => fa.softmax(x), () => [zeros([HUGE, 0])], [HUGE, 0]],
  ['softmax [0, huge]', (x) => fa.softmax(x), () => [zeros([0, HUGE])], [0, HUGE]],
  ['logSoftmax', (x) => fa.logSoftmax(x), () => [zeros([HUGE, 0, 7])], [HUGE, 0, 7]],
  ['argmax', (x) => fa.argmax(x), () => [zeros([0, HUGE])], [0]],
  ['argmax axis 0', (x) => fa.argmax(x, 0), () => [zeros([HUGE, 0])], [0]],
];

describe.each(backends)('ops on the %s backend', (name) => {
  afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));
  const use = (): void => setBackend(name);

  it('every op on an empty tensor beside a huge dimension returns an empty result at once (forward and backward)', () => {
    use();
    for (const [label, fn, inputs, shape] of emptyCases) {
      const xs = inputs();
      const y = quick(label, () => fn(...xs));
      expect(y.shape, label).toEqual(shape);
      expect(y.size, label).toBe(0);
      // backward through the same op: every input's gradient is empty
      const leaves = xs.map((x) => (x.dtype === 'float32' ? x.detach().requireGrad() : x));
      const out = fn(...leaves);
      if (!out.requiresGrad) continue; // argmax: not differentiable
      quick(`${label} backward`, () => fa.sum(out).backward());
      for (const l of leaves) {
        if (l.dtype !== 'float32') continue;
        expect(l.grad, `${label}: no gradient`).not.toBeNull();
        expect(l.grad!.shape, label).toEqual(l.shape);
        expect([...l.grad!.data].every((v) => v === 0), label).toBe(true);
      }
    }
  });

  it('losses on empty batches: no hang, NaN as the mean over nothing (PyTorch), no classes refused', () => {
    use();
    const labels0 = tensor(new Int32Array(0));
    expect(quick('xent', () => fa.softmaxCrossEntropy(zeros([0, HUGE]), labels0)).item()).toBeNaN();
    expect(quick('xent probs', () => fa.softmaxCrossEntropy(zeros([0, HUGE]), zeros([0, HUGE]))).item()).toBeNaN();
    expect(() => fa.softmaxCrossEntropy(zeros([HUGE, 0]), zeros([HUGE, 0]))).toThrow(/fathom.softmaxCrossEntropy: logits have no classes \(shape \[1099511627776, 0\]\)/);
    expect(() => fa.losses.crossEntropy(zeros([3, 0]), tensor(new Int32Array(3)))).toThrow(/logits have no classes/);
    expect(quick('mse', () => fa.mseLoss(zeros([HUGE, 0]), zeros([HUGE, 0]))).item()).toBeNaN();
    expect(quick('bce', () => fa.losses.binaryCrossEntropy(zeros([0, HUGE]), zeros([0, HUGE]))).item()).toBeNaN();
    const l = zeros([0, HUGE]).requireGrad();
    quick('xent backward', () => fa.softmaxCrossEntropy(l, labels0).backward());
    expect(l.grad!.shape).toEqual([0, HUGE]);
  });

  it('empty reductions and products follow PyTorch: sum 0, mean NaN, max refused, k = 0 gives zeros', () => {
    use();
    expect(fa.sum(zeros([3, 0]), 1).toArray()).toEqual([0, 0, 0]);
    expect(fa.mean(zeros([2, 0]), 1).toArray()).toEqual([NaN, NaN]);
    expect(() => fa.max(zeros([2, 0]), 1)).toThrow(/fathom.max: cannot take the max over axis 1 of size 0 \(tensor of shape \[2, 0\]\)/);
    expect(() => fa.max(zeros([0]))).toThrow(/fathom.max: cannot take the max over axis 0 of size 0/);
    expect(fa.matmul(zeros([2, 0]), zeros([0, 3])).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    // linear with no input features: act(bias)
    expect(fa.linear(zeros([2, 0]), zeros([2, 0]), tensor([-1, 3]), 'relu').toArray()).toEqual([[0, 3], [0, 3]]);
    const w = zeros([2, 0]).requireGrad();
    const b = tensor([-1, 3]).requireGrad();
    fa.sum(fa.linear(zeros([2, 0]), w, b)).backward();
    expect(b.grad!.toArray()).toEqual([2, 2]);
    expect(w.grad!.shape).toEqual([2, 0]);
  });

  it('refuses results too large to hold, naming the op and the shape (no RangeError, no hang)', () => {
    use();
    expect(() => fa.matmul(zeros([HUGE, 0]), zeros([0, 3]))).toThrow(/fathom.matmul: result shape \[1099511627776, 3\] holds 3298534883328 values, more than the 2147483647 a tensor may hold/);
    expect(() => fa.sum(zeros([HUGE, 0]), 1)).toThrow(/fathom.sum: result shape \[1099511627776\] holds/);
    expect(() => fa.linear(zeros([HUGE, 0]), zeros([3, 0]))).toThrow(/fathom.linear: result shape \[1099511627776, 3\]/);
    expect(() => fa.add(zeros([65536, 1]), zeros([1, 65536]))).toThrow(/fathom.add: result shape \[65536, 65536\] holds 4294967296 values/);
    expect(() => zeros([HUGE, 2])).toThrow(/fathom.zeros: shape \[1099511627776, 2\] holds 2199023255552 values/);
    expect(() => zeros([2 ** 53, 0])).toThrow(/fathom.zeros: shape must hold non-negative integers, got 9007199254740992 at index 0/);
  });

  it('names the op and the argument when an argument is not a Tensor', () => {
    use();
    const x = zeros([2, 2]);
    const notTensors: unknown[] = [null, undefined, {}, [1, 2], 'x', 3n];
    for (const v of notTensors) {
      const n = bad<Tensor>(v);
      expect(() => fa.softmax(n)).toThrow(/^fathom.softmax: x must be a Tensor, got /);
      expect(() => fa.relu(n)).toThrow(/^fathom.relu: x must be a Tensor, got /);
      expect(() => fa.matmul(x, n)).toThrow(/^fathom.matmul: b must be a Tensor, got /);
      expect(() => fa.linear(n, x)).toThrow(/^fathom.linear: x must be a Tensor, got /);
      expect(() => fa.linear(x, n)).toThrow(/^fathom.linear: weight must be a Tensor, got /);
      expect(() => fa.transpose(n)).toThrow(/^fathom.transpose: x must be a Tensor/);
      expect(() => fa.reshape(n, [4])).toThrow(/^fathom.reshape: x must be a Tensor/);
      expect(() => fa.slice(n, 0)).toThrow(/^fathom.slice: x must be a Tensor/);
      expect(() => fa.sum(n)).toThrow(/^fathom.sum: x must be a Tensor/);
      expect(() => fa.argmax(n)).toThrow(/^fathom.argmax: x must be a Tensor/);
      expect(() => fa.softmaxCrossEntropy(x, n)).toThrow(/^fathom.softmaxCrossEntropy: target must be a Tensor/);
      expect(() => fa.mseLoss(n, x)).toThrow(/^fathom.mse: pred must be a Tensor/);
      expect(() => fa.losses.binaryCrossEntropy(x, n)).toThrow(/^fathom.binaryCrossEntropy: target must be a Tensor/);
      expect(() => fa.add(x, n)).toThrow(/^fathom.add: b must be a Tensor or a number, got /);
      expect(() => fa.maximum(n, x)).toThrow(/^fathom.maximum: a must be a Tensor or a number, got /);
    }
    expect(() => fa.linear(x, x, bad(5))).toThrow(/^fathom.linear: bias must be a Tensor, got 5/);
    expect(() => fa.linear(x, x, null, bad('gelu'))).toThrow(/activation must be one of none, relu, sigmoid, tanh, got "gelu"/);
    expect(() => fa.pow(x, bad('2'))).toThrow(/fathom.pow: exponent p must be a number, got "2"/);
    expect(() => fa.sum(x, bad('0'))).toThrow(/fathom.sum: axes must be an integer or an array of integers, got "0"/);
    expect(() => fa.sum(x, [0, bad('1')])).toThrow(/fathom.sum: axis must be an integer, got "1"/);
    expect(() => fa.mean(x, 0, bad('yes'))).toThrow(/fathom.mean: keepDims must be a boolean, got "yes"/);
    expect(() => x.reshape(bad('4'))).toThrow(/fathom.reshape: shape must be an array of integers, got "4"/);
    expect(() => fa.noGrad(bad(5))).toThrow(/fathom.noGrad: fn must be a function, got number/);
    expect(() => fa.setGradEnabled(bad('no'))).toThrow(/fathom.setGradEnabled: on must be a boolean, got string/);
  });

  it('crossEntropy with float class labels says class indices must be int32', () => {
    use();
    const logits = zeros([2, 3]);
    expect(() => fa.softmaxCrossEntropy(logits, tensor([0, 1]))).toThrow(/fathom.softmaxCrossEntropy: class indices must be int32, got float32 of shape \[2\]/);
    expect(() => fa.losses.crossEntropy(logits, tensor([2, 1]))).toThrow(/class indices must be int32/);
    expect(() => fa.softmaxCrossEntropy(logits, tensor([[1, 0, 0]]))).toThrow(/probability targets must have the logits' shape \[2, 3\], got \[1, 3\]/);
    expect(fa.softmaxCrossEntropy(logits, tensor([0, 1], undefined, { dtype: 'int32' })).item()).toBeCloseTo(Math.log(3), 6);
  });

  it('argmax(x, axis, keepDims) over every axis matches a brute-force reference (PyTorch semantics)', () => {
    use();
    const shape = [3, 4, 5];
    const x = tensor(randomArray(60, 7), shape);
    const at = (i: number, j: number, k: number): number => x.data[(i * 4 + j) * 5 + k];
    for (let axis = 0; axis < 3; axis++) {
      const want: number[] = [];
      const outShape = shape.filter((_, d) => d !== axis);
      for (let a = 0; a < outShape[0]; a++) {
        for (let b = 0; b < outShape[1]; b++) {
          let best = 0;
          let bestVal = -Infinity;
          for (let r = 0; r < shape[axis]; r++) {
            const idx = axis === 0 ? [r, a, b] : axis === 1 ? [a, r, b] : [a, b, r];
            const v = at(idx[0], idx[1], idx[2]);
            if (v > bestVal) { bestVal = v; best = r; }
          }
          want.push(best);
        }
      }
      for (const ax of [axis, axis - 3]) {
        const got = fa.argmax(x, ax);
        expect(got.dtype).toBe('int32');
        expect(got.shape).toEqual(outShape);
        expect([...got.data], `axis ${ax}`).toEqual(want);
        const kept = x.argmax(ax, true);
        expect(kept.shape).toEqual(shape.map((d, i) => (i === axis ? 1 : d)));
        expect([...kept.data]).toEqual(want);
      }
    }
    expect(fa.argmax(tensor([[1, 5], [3, 2]]), 0).toArray()).toEqual([1, 0]);
    expect(fa.argmax(tensor([[1, 5], [3, 2]])).toArray()).toEqual([1, 0]); // default: the last axis
    expect(fa.argmax(tensor([2, 7, 7]), 0).toArray()).toBe(1); // the first maximum
    expect(() => fa.argmax(x, 3)).toThrow(/fathom.argmax: axis 3 is out of range for a tensor of rank 3 \(expected an integer in \[-3, 2\]\)/);
    expect(() => fa.argmax(x, 0.5)).toThrow(/fathom.argmax: axis must be an integer, got 0.5/);
    expect(() => fa.argmax(x, bad('0'))).toThrow(/fathom.argmax: axis must be an integer, got "0"/);
    expect(() => fa.argmax(x, 0, bad(1))).toThrow(/fathom.argmax: keepDims must be a boolean, got 1/);
    expect(() => fa.argmax(zeros([2, 0]), 1)).toThrow(/fathom.argmax: cannot take the argmax over axis 1 of size 0/);
    expect(() => fa.argmax(tensor(3))).toThrow(/fathom.argmax: expected a tensor of rank >= 1, got a scalar/);
    expect(fa.argmax(zeros([0, 4]), 1).shape).toEqual([0]);
  });

  it('slice clamps indices past either end, as Python/PyTorch x[b:e]', () => {
    use();
    const x = tensor([[1, 2], [3, 4], [5, 6]]);
    expect(fa.slice(x, 1, 10).toArray()).toEqual([[3, 4], [5, 6]]);
    expect(fa.slice(x, 4).shape).toEqual([0, 2]);
    expect(fa.slice(x, -4).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(fa.slice(x, 2, 1).shape).toEqual([0, ...x.shape.slice(1)]); // x[2:1] is empty, as in PyTorch
    expect(() => fa.slice(x, bad('1'))).toThrow(/fathom.slice: begin must be an integer, got "1"/);
    expect(fa.slice(x, 3).shape).toEqual([0, 2]);
    expect(fa.slice(x, -3, 3).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(fa.slice(x, 1, -1).toArray()).toEqual([[3, 4]]);
    expect(fa.slice(x, 2, 2).shape).toEqual([0, 2]);
  });

  it('max splits the gradient evenly among tied maxima, as PyTorch amax does', () => {
    use();
    // max([1, 3, 3]) = 3, reached twice: d/dx = [0, 1/2, 1/2]
    const x = tensor([1, 3, 3]).requireGrad();
    fa.max(x).backward();
    expect(x.grad!.toArray()).toEqual([0, 0.5, 0.5]);
    // sum over rows of max over columns: each row's dy = 1 is shared by its ties
    const m = tensor([[2, 2, 2], [5, 1, 5], [0, 9, 1]]).requireGrad();
    fa.sum(fa.max(m, 1)).backward();
    expect(m.grad!.toArray()).toEqual([[1 / 3, 1 / 3, 1 / 3].map(Math.fround), [0.5, 0, 0.5], [0, 1, 0]]);
    // over axis 0 with keepDims and an upstream gradient of 4
    const c = tensor([[7, 1], [7, 3]]).requireGrad();
    fa.max(c, 0, true).backward(tensor([[4, 4]]));
    expect(c.grad!.toArray()).toEqual([[2, 0], [2, 4]]);
    // the rate of change of sum-of-max equals the finite difference: raising both tied entries by h raises the max by h
    const f = (v: number[]): number => fa.max(tensor(v)).item();
    const h = 0.5;
    expect((f([1, 3 + h, 3 + h]) - f([1, 3, 3])) / h).toBe([...x.grad!.data].reduce((a, b) => a + b, 0));
  });

  it('maximum and minimum split the gradient of ties evenly, as PyTorch does', () => {
    use();
    const a = tensor([1, 2, 5]).requireGrad();
    const b = tensor([1, 3, 4]).requireGrad();
    fa.sum(fa.maximum(a, b)).backward();
    expect(a.grad!.toArray()).toEqual([0.5, 0, 1]);
    expect(b.grad!.toArray()).toEqual([0.5, 1, 0]);
    const c = tensor([[2, 0]]).requireGrad();
    const d = tensor([2]).requireGrad(); // broadcast: ties with 2, larger than 0
    fa.sum(fa.minimum(c, d)).backward();
    expect(c.grad!.toArray()).toEqual([[0.5, 1]]);
    expect(d.grad!.toArray()).toEqual([0.5]);
  });

  it('backward refuses a bad upstream gradient and a graph whose buffers were transferred', () => {
    use();
    const w = tensor([1, 2]).requireGrad();
    const y = fa.mul(w, 3);
    expect(() => y.backward(bad([1, 1]))).toThrow(/fathom.backward: grad must be a Tensor, got an Array\(2\)/);
    expect(() => y.backward(tensor(new Int32Array([1, 1])))).toThrow(/fathom.backward: grad must be float32, got int32/);
    expect(() => y.backward(tensor([1, 1, 1]))).toThrow(/gradient shape \[3\] does not match the tensor's shape \[2\]/);
    const x = tensor([1, 2]);
    const z = fa.sum(fa.mul(w, x));
    structuredClone(x.data.buffer, { transfer: [x.data.buffer as ArrayBuffer] });
    expect(() => z.backward()).toThrow(/fathom.backward: input 1 of 'mul' has lost its storage/);
    expect(w.grad).toBeNull(); // refused before any gradient was written
  });
});
