// Activity penalties of sparse autoencoders: losses.klSparsity (Ng, CS294A "Sparse autoencoder")
// and losses.activityL1L2 (Keras's activity regulariser, divided by the batch size) — known
// answers, gradients, the clamp; the layers nn.KLSparsity / nn.ActivityRegularization — identity,
// config, save/load, refusals.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { load, losses, manualSeed, nn, save, setBackend, tensor, Tensor, zeros, ones } from '../../lib/index.js';
import { fromConfig } from '../../lib/layers/registry.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { randomArray } from '../helpers/random.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

/** KL(ρ ‖ r) of two Bernoulli means, in float64. */
const kl = (rho: number, r: number): number => rho * Math.log(rho / r) + (1 - rho) * Math.log((1 - rho) / (1 - r));

describe.each(backends)('activity penalties (%s backend)', (name) => {
  it('klSparsity: β·Σ_j KL(ρ ‖ ρ̂_j) with ρ̂ the batch mean; gradient β/N·(−ρ/ρ̂ + (1 − ρ)/(1 − ρ̂))', () => {
    setBackend(name);
    // a = [[0.1, 0.5], [0.3, 0.7]] → ρ̂ = [0.2, 0.6]; ρ = 0.1, β = 2:
    // KL_1 = 0.1·ln(0.1/0.2) + 0.9·ln(0.9/0.8) = 0.036690, KL_2 = 0.1·ln(0.1/0.6) + 0.9·ln(0.9/0.4) = 0.550661,
    // penalty = 2·(0.036690 + 0.550661) = 1.174703
    const a = tensor([[0.1, 0.5], [0.3, 0.7]], { requiresGrad: true });
    const p = losses.klSparsity(a, { rho: 0.1, beta: 2 });
    expect(p.shape).toEqual([]);
    expect(p.item()).toBeCloseTo(2 * (kl(0.1, 0.2) + kl(0.1, 0.6)), 5);
    expect(p.item()).toBeCloseTo(1.174703, 5);
    p.backward();
    // d/da_nj = β/N · (−ρ/ρ̂_j + (1 − ρ)/(1 − ρ̂_j)): unit 1: (−0.5 + 1.125) = 0.625, unit 2: (−1/6 + 2.25) = 2.0833
    const g = (r: number): number => (2 / 2) * (-0.1 / r + 0.9 / (1 - r));
    const got = Array.from(a.grad!.data);
    [g(0.2), g(0.6), g(0.2), g(0.6)].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
    // ρ̂ = ρ everywhere: exactly 0
    expect(losses.klSparsity(tensor([[0.05, 0.05], [0.05, 0.05]]), { rho: 0.05 }).item()).toBe(0);
    // defaults ρ = 0.05, β = 3; a [N, C, H, W] input has C·H·W units
    const b = tensor(randomArray(2 * 3 * 2 * 2, 4, 0.05, 0.95), [2, 3, 2, 2]);
    let want = 0;
    for (let j = 0; j < 12; j++) want += kl(0.05, (b.data[j] + b.data[12 + j]) / 2);
    expect(losses.klSparsity(b).item()).toBeCloseTo(3 * want, 4);
  });

  it('klSparsity clamps ρ̂ into [eps, 1 − eps]: dead and saturated units give a finite penalty and gradient', () => {
    setBackend(name);
    for (const a of [zeros([4, 3], { requiresGrad: true }), ones([4, 3], { requiresGrad: true })]) {
      const p = losses.klSparsity(a, { rho: 0.05, beta: 3 });
      expect(Number.isFinite(p.item())).toBe(true);
      const r = a.data[0] === 0 ? 1e-6 : 1 - 1e-6;
      expect(p.item()).toBeCloseTo(3 * 3 * kl(0.05, Math.fround(r)), 0);
      p.backward();
      expect(Array.from(a.grad!.data).every(Number.isFinite)).toBe(true);
    }
    // ReLU-like activations above 1 are clamped too, not NaN
    expect(Number.isFinite(losses.klSparsity(tensor([[3, 5], [7, 9]])).item())).toBe(true);
    expect(losses.klSparsity(zeros([0, 5])).item()).toBe(0);
  });

  it('klSparsity passes a finite-difference gradient check', () => {
    setBackend(name);
    gradcheck(`klSparsity (${name})`, (a) => losses.klSparsity(a, { rho: 0.2, beta: 1.5 }), [tensor(randomArray(12, 7, 0.1, 0.9), [4, 3])], { h: 1e-3 });
  });

  it('activityL1L2: (l1·Σ|a| + l2·Σa²) / N, Keras\'s definition; gradient (l1·sign(a) + 2·l2·a) / N', () => {
    setBackend(name);
    // a = [[1, −2], [0.5, 3]], N = 2: Σ|a| = 6.5, Σa² = 14.25; l1 = 0.1, l2 = 0.01 → (0.65 + 0.1425) / 2 = 0.39625
    const a = tensor([[1, -2], [0.5, 3]], { requiresGrad: true });
    const p = losses.activityL1L2(a, { l1: 0.1, l2: 0.01 });
    expect(p.item()).toBeCloseTo((0.1 * 6.5 + 0.01 * 14.25) / 2, 6);
    p.backward();
    const want = [1, -2, 0.5, 3].map((v) => (0.1 * Math.sign(v) + 0.02 * v) / 2);
    Array.from(a.grad!.data).forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    expect(losses.activityL1L2(a, {}).item()).toBe(0);
    expect(losses.activityL1L2(tensor(-3), { l1: 1 }).item()).toBe(3); // rank 0: not divided (Keras: ndim > 0 only)
    gradcheck(`activityL1L2 (${name})`, (t) => losses.activityL1L2(t, { l1: 0.3, l2: 0.2 }), [tensor([0.5, -0.7, 0.9, -1.1, 1.3, -0.4], [3, 2])]);
  });

  it('the layers are the identity (any mode) and keep the penalty of their last forward', () => {
    setBackend(name);
    const x = tensor([[0.1, 0.5], [0.3, 0.7]]);
    const k = new nn.KLSparsity({ rho: 0.1, beta: 2 });
    expect(k.regularizationLoss()).toBeNull(); // before any forward
    expect(k.forward(x)).toBe(x);
    expect(k.regularizationLoss()!.item()).toBeCloseTo(2 * (kl(0.1, 0.2) + kl(0.1, 0.6)), 5);
    k.forward(tensor([[0.1, 0.1]]));
    expect(k.regularizationLoss()!.item()).toBe(0); // the newest batch's, not the first
    k.eval();
    expect(k.forward(x)).toBe(x);
    expect(k.regularizationLoss()!.item()).toBeCloseTo(2 * (kl(0.1, 0.2) + kl(0.1, 0.6)), 5); // Keras: in inference too
    const r = new nn.ActivityRegularization({ l1: 0.5 });
    expect(r.forward(x)).toBe(x);
    expect(r.regularizationLoss()!.item()).toBeCloseTo(0.5 * 1.6 / 2, 6);
    expect(new nn.ActivityRegularization().forward(x)).toBe(x);
    expect(new nn.ActivityRegularization().regularizationLoss()).toBeNull();
    const off = new nn.KLSparsity({ beta: 0 });
    off.forward(x);
    expect(off.regularizationLoss()).toBeNull();
  });
});

describe('nn.KLSparsity / nn.ActivityRegularization: config, save/load, refusals', () => {
  it('config() round-trips, prints, and save/load keeps them inside a model (with their penalty)', async () => {
    const k = new nn.KLSparsity({ rho: 0.1, beta: 0.5 });
    expect(k.config()).toEqual({ type: 'KLSparsity', rho: 0.1, beta: 0.5, eps: 1e-6 });
    expect(String(k)).toBe('KLSparsity(rho=0.1, beta=0.5, eps=0.000001)');
    const r = new nn.ActivityRegularization({ l2: 0.25 });
    expect(r.config()).toEqual({ type: 'ActivityRegularization', l1: 0, l2: 0.25 });
    expect(fromConfig({ type: 'KLSparsity' }).config()).toEqual({ type: 'KLSparsity', rho: 0.05, beta: 3, eps: 1e-6 });
    expect(fromConfig({ type: 'ActivityRegularization', l1: 1 }).config()).toEqual({ type: 'ActivityRegularization', l1: 1, l2: 0 });
    const dir = await mkdtemp(join(tmpdir(), 'fathom-ae-act-'));
    try {
      manualSeed(2);
      const model = new nn.Sequential(new nn.Linear(4, 3), new nn.Sigmoid(), k, new nn.ActivityRegularization({ l1: 0.01, l2: 0.02 }), new nn.Linear(3, 4));
      await save(model, join(dir, 'ae.safetensors'));
      const back = (await load(join(dir, 'ae.safetensors'))) as nn.Sequential;
      expect(back.config()).toEqual(model.config());
      const x = tensor(randomArray(12, 3, 0, 1), [3, 4]);
      expect(Array.from(back.forward(x).data)).toEqual(Array.from(model.forward(x).data));
      expect(back.regularizationLoss()!.item()).toBe(model.regularizationLoss()!.item());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad settings and inputs, naming the layer or function', () => {
    for (const rho of [0, 1, -0.1, NaN, '0.1']) expect(() => new nn.KLSparsity({ rho: rho as number })).toThrow(/fathom\.KLSparsity: rho must be a finite number in \(0, 1\)/);
    expect(() => new nn.KLSparsity({ beta: -1 })).toThrow(/fathom\.KLSparsity: beta must be a finite number >= 0, got -1/);
    expect(() => new nn.KLSparsity({ eps: 0.5 })).toThrow(/fathom\.KLSparsity: eps must be a finite number in \(0, 0\.5\)/);
    expect(() => new nn.KLSparsity({ sparsity: 0.1 } as never)).toThrow(/fathom\.KLSparsity: unknown option 'sparsity'/);
    expect(() => new nn.ActivityRegularization({ l1: Infinity })).toThrow(/fathom\.ActivityRegularization: l1 must be a finite number >= 0/);
    expect(() => new nn.ActivityRegularization({ l2: -1 })).toThrow(/fathom\.ActivityRegularization: l2 must be a finite number >= 0/);
    expect(() => fromConfig({ type: 'KLSparsity', rho: 2 })).toThrow(/KLSparsity: rho must be/);
    expect(() => fromConfig({ type: 'ActivityRegularization', l3: 1 })).toThrow(/unknown key "l3"/);
    expect(() => new nn.KLSparsity().forward(tensor(0.5))).toThrow(/fathom\.KLSparsity: expected an input \[N, \.\.\.\] with a batch dimension, got shape \[\]/);
    expect(() => new nn.KLSparsity().forward(tensor([1], { dtype: 'int32' }))).toThrow(/fathom\.KLSparsity: expected a float32 input/);
    expect(() => new nn.ActivityRegularization({ l1: 1 }).forward('x' as unknown as Tensor)).toThrow(/fathom\.ActivityRegularization: expected a Tensor input/);
    expect(() => losses.klSparsity(tensor(0.5))).toThrow(/fathom\.klSparsity: activations need a batch dimension/);
    expect(() => losses.activityL1L2(tensor([1]), { l1: -1 })).toThrow(/fathom\.activityL1L2: l1 must be a finite number >= 0/);
  });
});
