// crossEntropy / nll: PyTorch's ignoreIndex and K-dimensional form [N, C, d1, …].
// Expected numbers from torch 1.13: scripts/torch-ce-expected.py (run it to regenerate).
import { describe, expect, it } from 'vitest';
import { losses, logSoftmax, setBackend, softmax, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const seq = (n: number, scale = 0.1): Float32Array => Float32Array.from({ length: n }, (_, i) => ((i * 7) % 11 - 5) * scale);
const int = (v: number[], shape: number[]) => tensor(Int32Array.from(v), shape);
function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 2e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i])));
}

describe.each(backends)('crossEntropy ignoreIndex and [N, C, d…] (%s)', (name) => {
  const t3 = () => int([0, 2, -100, 1, 1, -100, 0, 2], [2, 4]);
  it('[N, C, d] with the default ignoreIndex −100: mean, sum, none and the gradient match PyTorch', () => {
    setBackend(name);
    const x = tensor(seq(24), [2, 3, 4]).requireGrad();
    const m = losses.crossEntropy(x, t3());
    expect(m.shape).toEqual([]);
    expect(m.item()).toBeCloseTo(1.08687, 5);
    expect(losses.crossEntropy(x, t3(), { reduction: 'sum' }).item()).toBeCloseTo(6.521218, 4);
    const none = losses.crossEntropy(x, t3(), { reduction: 'none' });
    expect(none.shape).toEqual([2, 4]);
    close(none.data, [1.36795, 0.897576, 0, 1.18027, 1.497576, 0, 0.68027, 0.897576]);
    m.backward();
    close(x.grad!.data, [-0.124229, 0.061462, 0.0, 0.084413, 0.077327, 0.037279, 0.0, -0.115467, 0.046901, -0.098741, 0.0, 0.031054,
      0.061462, 0.0, -0.082253, 0.061462, -0.129388, 0.0, 0.051199, 0.037279, 0.067926, 0.0, 0.031054, -0.098741], 1e-4);
    expect(losses.nll(logSoftmax(tensor(seq(24), [2, 3, 4]).permute(0, 2, 1), -1).permute(0, 2, 1), t3()).item()).toBeCloseTo(1.08687, 5);
  });

  it('2-D with ignoreIndex, all ignored (NaN mean, 0 sum), 4-D, probabilities [N, C, d], unbatched [C]', () => {
    setBackend(name);
    const x2 = tensor(seq(12), [4, 3]);
    expect(losses.crossEntropy(x2, int([2, 5, 0, 5], [4]), { ignoreIndex: 5 }).item()).toBeCloseTo(0.962275, 5);
    // Without ignoreIndex 5 the label is out of range.
    expect(() => losses.crossEntropy(x2, int([2, 5, 0, 5], [4]))).toThrow(/^fathom\.crossEntropy: label 5 at index 1 is outside \[0, 3\) \(and is not ignoreIndex -100\)$/);
    expect(Number.isNaN(losses.crossEntropy(x2, int([-100, -100, -100, -100], [4])).item())).toBe(true);
    expect(losses.crossEntropy(x2, int([-100, -100, -100, -100], [4]), { reduction: 'sum' }).item()).toBe(0);
    const x4 = tensor(seq(24, 0.3), [2, 3, 2, 2]);
    expect(losses.crossEntropy(x4, int([0, 1, 2, 0, 1, 1, -100, 2], [2, 2, 2])).item()).toBeCloseTo(1.437291, 5);
    const p = softmax(tensor(seq(24, 0.2), [2, 3, 4]).permute(0, 2, 1), -1).permute(0, 2, 1);
    expect(losses.crossEntropy(tensor(seq(24), [2, 3, 4]), p).item()).toBeCloseTo(0.976118, 5);
    expect(losses.crossEntropy(tensor(seq(3), [3]), int([1], [])).item()).toBeCloseTo(0.7733, 4);
  });

  it('refuses wrong target shapes, labels and options by name', () => {
    setBackend(name);
    const x = tensor(seq(24), [2, 3, 4]);
    expect(() => losses.crossEntropy(x, int([0, 1], [2]))).toThrow(/^fathom\.crossEntropy: class indices must have shape \[2, 4\] for logits \[2, 3, 4\] \(class axis 1, as PyTorch\), got \[2\]$/);
    expect(() => losses.crossEntropy(x, int([0, 1, 2, 3, 0, 0, 0, 0], [2, 4]))).toThrow(/label 3 at flat index 3 of target \[2, 4\] is outside \[0, 3\).*for logits \[2, 3, 4\]/);
    expect(() => losses.crossEntropy(x, tensor(seq(8), [2, 4]))).toThrow(/fathom\.crossEntropy: target must be int32 class indices \[2, 4\] or float32 probabilities \[2, 3, 4\]/);
    expect(() => losses.crossEntropy(x, t3(), { ignoreIndex: 1.5 })).toThrow(/^fathom\.crossEntropy: options\.ignoreIndex must be an integer, got 1\.5$/);
    expect(() => losses.crossEntropy(x, t3(), { ignoreindex: 1 } as never)).toThrow(/fathom\.crossEntropy: unknown option 'ignoreindex'/);
    expect(() => losses.crossEntropy(tensor(2), int([0], [1]))).toThrow(/fathom\.crossEntropy: logits must be \[N, C\] or \[N, C, d1, …\].*got a scalar/);
    expect(() => losses.nll(x, t3(), { ignoreIndex: 'x' } as never)).toThrow(/fathom\.nll: options\.ignoreIndex must be an integer/);
  });
});
