/**
 * nn.utils.clipGradNorm / clipGradValue: known answers from PyTorch's rule
 * (clip_grad_norm_: total = ‖concat(grads)‖_p, g ← g · min(1, maxNorm / (total + 1e-6));
 * clip_grad_value_: clamp to [-v, v]), on both backends, and fit({ clipGradNorm }).
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, optim, randn, setBackend, tensor, type Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);

/** Parameters with the given gradients. */
function withGrads(...grads: number[][]): Tensor[] {
  return grads.map((g) => {
    const p = nn.parameter(tensor(g.map(() => 0)));
    p.grad = tensor(g);
    return p;
  });
}
const grads = (ps: Tensor[]) => ps.map((p) => [...p.grad!.data]);

describe.each(backends)('nn.utils on the %s backend', (name) => {
  it('clipGradNorm: 2-norm over all gradients; scales by maxNorm / (total + 1e-6)', () => {
    setBackend(name);
    // ‖[3, 4, 12]‖ = 13.
    const ps = withGrads([3, 4], [12]);
    expect(nn.utils.clipGradNorm(ps, 6.5)).toBeCloseTo(13, 5);
    const c = 6.5 / (13 + 1e-6);
    const got = grads(ps);
    expect(got[0][0]).toBeCloseTo(3 * c, 6);
    expect(got[0][1]).toBeCloseTo(4 * c, 6);
    expect(got[1][0]).toBeCloseTo(12 * c, 5);
    // The clipped norm is maxNorm (up to the 1e-6 guard).
    expect(Math.hypot(...got.flat())).toBeCloseTo(6.5, 5);
  });

  it('clipGradNorm: finite gradients whose squares overflow float32 (|g| = 1e20) still give the norm', () => {
    setBackend(name);
    for (const p of [2, 3]) {
      const ps = withGrads([1e20, 1e20], [1]);
      const want = (2 * 1e20 ** p + 1) ** (1 / p);
      expect(nn.utils.clipGradNorm(ps, 1, p) / want, `p = ${p}`).toBeCloseTo(1, 5);
      expect(grads(ps)[0][0], `p = ${p}`).toBeCloseTo(1e20 / want, 5);
    }
  });

  it('clipGradNorm: below maxNorm the gradients are left exactly as they were', () => {
    setBackend(name);
    const ps = withGrads([0.1, -0.2], [0.3]);
    const before = grads(ps);
    expect(nn.utils.clipGradNorm(ps, 1)).toBeCloseTo(Math.hypot(0.1, 0.2, 0.3), 6);
    expect(grads(ps)).toEqual(before);
  });

  it("clipGradNorm: 'inf', 1 and 3 norms", () => {
    setBackend(name);
    let ps = withGrads([3, -4], [-12]);
    expect(nn.utils.clipGradNorm(ps, 6, 'inf')).toBe(12);
    expect(grads(ps)[1][0]).toBeCloseTo(-12 * (6 / (12 + 1e-6)), 5);
    ps = withGrads([3, -4], [-12]);
    expect(nn.utils.clipGradNorm(ps, 100, Infinity)).toBe(12);
    ps = withGrads([3, -4], [-12]);
    expect(nn.utils.clipGradNorm(ps, 1.9, 1)).toBeCloseTo(19, 5);
    expect(grads(ps)[0][1]).toBeCloseTo(-4 * (1.9 / (19 + 1e-6)), 6);
    ps = withGrads([3, -4], [-12]);
    expect(nn.utils.clipGradNorm(ps, 1, 3)).toBeCloseTo(Math.cbrt(27 + 64 + 1728), 4);
  });

  it('clipGradNorm: a long gradient (several GEMM tiles) and a single Tensor', () => {
    setBackend(name);
    manualSeed(3);
    const p = nn.parameter(randn([257, 33]));
    p.grad = randn([257, 33]);
    let s = 0;
    for (const v of p.grad.data) s += v * v;
    const total = nn.utils.clipGradNorm(p, 1);
    expect(total).toBeCloseTo(Math.sqrt(s), 2);
    let after = 0;
    for (const v of p.grad.data) after += v * v;
    expect(Math.sqrt(after)).toBeCloseTo(1, 4);
  });

  it('clipGradValue clamps every element into [-v, v]', () => {
    setBackend(name);
    const ps = withGrads([-3, 0.5, 7], [-0.25]);
    nn.utils.clipGradValue(ps, 1);
    expect(grads(ps)).toEqual([[-1, 0.5, 1], [-0.25]]);
    nn.utils.clipGradValue(ps, 0);
    expect(grads(ps).flat().map(Math.abs)).toEqual([0, 0, 0, 0]);
  });
});

describe('nn.utils: parameters without gradients, errors', () => {
  it('skips parameters with no gradient or none since zeroGrad(); returns 0 when none has one', () => {
    const a = nn.parameter(tensor([1, 2]));
    expect(nn.utils.clipGradNorm([a], 1)).toBe(0);
    const [b] = withGrads([30, 40]);
    const opt = new optim.SGD([a, b], { lr: 0.1 });
    a.grad = tensor([100, 100]);
    opt.zeroGrad(); // a's buffer is stale but reads as zeros: it must not count
    b.grad = tensor([30, 40]);
    expect(nn.utils.clipGradNorm([a, b], 5)).toBeCloseTo(50, 4);
  });

  it('names bad arguments', () => {
    const ps = withGrads([1]);
    expect(() => nn.utils.clipGradNorm(ps, -1)).toThrow(/fathom.nn.utils.clipGradNorm: maxNorm must be a finite number >= 0, got -1/);
    expect(() => nn.utils.clipGradNorm(ps, NaN)).toThrow(/maxNorm must be a finite number >= 0, got NaN/);
    expect(() => nn.utils.clipGradNorm(ps, 1, 0)).toThrow(/normType must be a number > 0 or 'inf', got 0/);
    expect(() => nn.utils.clipGradNorm(ps, 1, 'two' as never)).toThrow(/normType must be a number > 0 or 'inf', got "two"/);
    expect(() => nn.utils.clipGradNorm(3 as never, 1)).toThrow(/params must be a Tensor or an iterable of Tensors/);
    expect(() => nn.utils.clipGradNorm([ps[0], 'w' as never], 1)).toThrow(/params\[1\] must be a Tensor/);
    expect(() => nn.utils.clipGradValue(ps, Infinity)).toThrow(/fathom.nn.utils.clipGradValue: clipValue must be a finite number >= 0, got Infinity/);
    const bad = withGrads([Infinity, 1]);
    expect(() => nn.utils.clipGradNorm(bad, 1, 2, { errorIfNonfinite: true })).toThrow(/total 2-norm of the gradients is Infinity/);
  });
});

describe('fit({ clipGradNorm, clipGradValue })', () => {
  it('one SGD step with clipGradNorm moves the weights by exactly lr · the clipped gradient', async () => {
    const run = async (clip: { clipGradNorm?: number; clipGradValue?: number }) => {
      manualSeed(5);
      const model = new nn.Linear(3, 2);
      const x = randn([8, 3]);
      const y = randn([8, 2]).mul(10);
      const before = model.weight.clone();
      const opt = new optim.SGD(model.parameters(), { lr: 1 });
      await model.fit(x, y, { loss: 'mse', optimizer: opt, epochs: 1, batchSize: 8, verbose: 0, shuffle: false, ...clip });
      return { model, x, y, before };
    };
    const { model, before } = await run({ clipGradNorm: 0.01 });
    // The manual loop: same gradient, clipped by the utility, then stepped.
    manualSeed(5);
    const ref = new nn.Linear(3, 2);
    const x = randn([8, 3]);
    const y = randn([8, 2]).mul(10);
    const opt = new optim.SGD(ref.parameters(), { lr: 1 });
    const loss = ref.forward(x).sub(y).square().mean();
    opt.zeroGrad();
    loss.backward();
    const total = nn.utils.clipGradNorm(ref.parameters(), 0.01);
    expect(total).toBeGreaterThan(0.01);
    opt.step();
    expect([...model.weight.data]).toEqual([...ref.weight.data]);
    let moved = 0;
    for (let i = 0; i < before.size; i++) moved += (model.weight.data[i] - before.data[i]) ** 2;
    expect(Math.sqrt(moved)).toBeLessThanOrEqual(0.01 + 1e-6);
    const byValue = await run({ clipGradValue: 0.001 });
    for (let i = 0; i < byValue.before.size; i++) expect(Math.abs(byValue.model.weight.data[i] - byValue.before.data[i])).toBeLessThanOrEqual(0.001 + 1e-7);
  });

  it('refuses bad clip values', async () => {
    const m = new nn.Linear(1, 1);
    await expect(m.fit(randn([2, 1]), randn([2, 1]), { loss: 'mse', verbose: 0, clipGradNorm: -1 })).rejects.toThrow(/fathom.fit: clipGradNorm must be a finite number >= 0, got -1/);
    await expect(m.fit(randn([2, 1]), randn([2, 1]), { loss: 'mse', verbose: 0, clipGradValue: NaN })).rejects.toThrow(/fathom.fit: clipGradValue must be a finite number >= 0, got NaN/);
  });
});
