/**
 * Activity penalties at the edges (issue #12, fu1): weights beyond float32
 * (which made the penalty NaN through 0·Infinity) and empty batches (whose
 * penalty was a constant off the tape).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { losses, nn, setBackend, tensor, zeros } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

describe('penalty weights', () => {
  it('beta, l1 and l2 above float32\'s largest value are refused (they were Infinity in float32: 0·Inf = NaN)', () => {
    expect(() => new nn.KLSparsity({ beta: 1e39 })).toThrow(/fathom\.KLSparsity: beta must be at most 3\.4e38 \(float32's largest; a larger weight is Infinity in float32\), got 1e\+39/);
    expect(() => new nn.ActivityRegularization({ l1: 1e300 })).toThrow(/fathom\.ActivityRegularization: l1 must be at most 3\.4e38/);
    expect(() => losses.activityL1L2(tensor([[1]]), { l2: 4e38 })).toThrow(/fathom\.activityL1L2: l2 must be/);
    expect(() => losses.klSparsity(tensor([[0.5]]), { beta: 1e40 })).toThrow(/fathom\.klSparsity: beta must be/);
  });

  it('the largest weight gives no NaN where the penalty is 0 (both backends)', () => {
    for (const b of backends) {
      setBackend(b);
      const kl = new nn.KLSparsity({ rho: 0.5, beta: 3.4e38 });
      kl.forward(tensor([[0.5, 0.5], [0.5, 0.5]]));
      expect(kl.ownRegularizationLoss()!.item()).toBe(0);
      const act = new nn.ActivityRegularization({ l1: 3.4e38, l2: 3.4e38 });
      act.forward(zeros([2, 3]));
      expect(act.ownRegularizationLoss()!.item()).toBe(0);
    }
  });
});

describe('empty batches', () => {
  it('give a 0 penalty on the tape whose gradient is zeros of the input\'s shape (both backends)', () => {
    for (const b of backends) {
      setBackend(b);
      for (const f of [(a: ReturnType<typeof zeros>) => losses.klSparsity(a), (a: ReturnType<typeof zeros>) => losses.activityL1L2(a, { l1: 1, l2: 1 })]) {
        const a = zeros([0, 4]);
        a.requiresGrad = true;
        const p = f(a);
        expect(p.item()).toBe(0);
        p.backward();
        expect(a.grad!.shape).toEqual([0, 4]);
      }
    }
  });
});
