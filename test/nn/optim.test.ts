/** One optimizer step against values computed by hand (PyTorch semantics). */
import { describe, expect, it } from 'vitest';
import { optim, setBackend, tensor, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);

function param(values: number[], grad: number[]): Tensor {
  const p = tensor(values).requireGrad();
  p.grad = tensor(grad);
  return p;
}
const close = (t: Tensor, want: number[]) => [...t.data].forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));

describe.each(backends)('optimizers on the %s backend', (name) => {
  it('SGD: w -= lr * g', () => {
    setBackend(name);
    const p = param([1, -2], [0.5, -1]);
    new optim.SGD([p], { lr: 0.1 }).step();
    close(p, [1 - 0.05, -2 + 0.1]);
  });

  it('SGD with momentum: v = g on the first step, then v = m v + g', () => {
    setBackend(name);
    const p = param([1], [0.5]);
    const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
    opt.step(); // v = 0.5, w = 1 - 0.05 = 0.95
    close(p, [0.95]);
    p.grad = tensor([0.25]);
    opt.step(); // v = 0.9 * 0.5 + 0.25 = 0.7, w = 0.95 - 0.07 = 0.88
    close(p, [0.88]);
  });

  it('SGD with Nesterov momentum and weight decay', () => {
    setBackend(name);
    const p = param([2], [1]);
    const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.5, nesterov: true, weightDecay: 0.1 });
    // g' = 1 + 0.1 * 2 = 1.2; v = 1.2; d = g' + 0.5 v = 1.8; w = 2 - 0.18 = 1.82
    opt.step();
    close(p, [1.82]);
    // g' = 1 + 0.182 = 1.182; v = 0.5 * 1.2 + 1.182 = 1.782; d = 1.182 + 0.891 = 2.073; w = 1.82 - 0.2073
    opt.step();
    close(p, [1.82 - 0.2073]);
  });

  it('Adam: the first step moves each weight by lr against the gradient sign', () => {
    setBackend(name);
    const p = param([1, 1], [0.3, -4]);
    const opt = new optim.Adam([p], { lr: 0.01 });
    // m = 0.1 g, v = 0.001 g^2; mhat = g, vhat = g^2: step = lr * g / (|g| + eps)
    opt.step();
    close(p, [1 - 0.01 * (0.3 / (0.3 + 1e-8)), 1 + 0.01 * (4 / (4 + 1e-8))]);
    // second step with g = 0.1: m = 0.9*0.03 + 0.01 = 0.037; v = 0.999*0.00009 + 0.001*0.01 = 0.00009991
    p.grad = tensor([0.1, -4]);
    opt.step();
    const mhat = 0.037 / (1 - 0.81);
    const vhat = 0.00009991 / (1 - 0.998001);
    expect(p.data[0]).toBeCloseTo(0.99 - (0.01 * mhat) / (Math.sqrt(vhat) + 1e-8), 5);
  });

  it('AdamW decays weights decoupled from the gradient', () => {
    setBackend(name);
    const p = param([2], [0.5]);
    new optim.AdamW([p], { lr: 0.1, weightDecay: 0.1 }).step();
    // w = 2 - 0.1*0.1*2 = 1.98; then w -= 0.1 * 0.5/0.5 = 1.88
    close(p, [1.88]);
  });

  it('skips parameters without a gradient and frozen ones', () => {
    setBackend(name);
    const a = param([1], [1]);
    const b = tensor([1]).requireGrad();
    const c = param([1], [1]);
    c.requiresGrad = false;
    new optim.SGD([a, b, c], { lr: 0.5 }).step();
    close(a, [0.5]);
    close(b, [1]);
    close(c, [1]);
  });

  it('rejects bad hyper-parameters', () => {
    const w = [tensor([1]).requireGrad()];
    expect(() => new optim.SGD(w, { lr: -1 })).toThrow(/fathom.SGD: lr must be a finite number >= 0 \(at most 3.4e38, float32's limit\), got -1/);
    expect(() => new optim.Adam(w, { betas: [1, 0.9] })).toThrow(/betas\[0\] must be a finite number in \[0, 1\), got 1/);
    expect(() => new optim.SGD(w, { nesterov: true })).toThrow(/nesterov needs momentum > 0/);
  });
});
