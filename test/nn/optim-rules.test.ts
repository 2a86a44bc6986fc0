/**
 * Known-answer tests from the published update rules: each optimizer runs 6
 * steps over a 3-vector with changing gradients, and after every step its
 * weights match a float64 oracle written from the algorithm boxes of the
 * PyTorch documentation (torch.optim.Adam / AdamW / Adagrad / RMSprop /
 * Adadelta / Adamax), rtol 1e-6 (+ atol 5e-7, float32 storage). Each option (weight decay, momentum,
 * centered, amsgrad, lrDecay...) is checked to change the trajectory beyond
 * that tolerance, so a kernel that ignored it would fail.
 */
import { describe, expect, it } from 'vitest';
import { optim, setBackend, tensor, type Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);

const W0 = [0.5, -1.2, 2.0];
/** Gradients that shrink and change sign, so AMSGrad's max and Adamax's norm matter. */
const grads = (t: number): number[] => [0.3 - 0.1 * t, -0.8 + 0.25 * t, 1.5 / (t + 1)];
const STEPS = 6;

type H = Record<string, number | boolean | number[]>;
/** One oracle step of the whole vector: w, g (float64 arrays), state per element, t >= 1. */
type Oracle = (w: number[], g: number[], s: Record<string, number[]>, h: H, t: number) => void;
const zeros = () => W0.map(() => 0);
const get = (s: Record<string, number[]>, k: string, init = 0) => (s[k] ??= W0.map(() => init));

// Adam / AdamW (PyTorch docs): g += λθ (Adam) or θ -= γλθ (AdamW); m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²;
// m̂ = m / (1-β1^t); amsgrad: vmax = max(vmax, v), v̂ = vmax / (1-β2^t), else v̂ = v / (1-β2^t); θ -= γ m̂ / (√v̂ + ε).
const adamOracle = (decoupled: boolean): Oracle => (w, g, s, h, t) => {
  const [b1, b2] = h.betas as number[], lr = h.lr as number, wd = h.weightDecay as number, eps = h.eps as number;
  const m = get(s, 'm'), v = get(s, 'v'), vmax = get(s, 'vmax');
  for (let i = 0; i < w.length; i++) {
    let gi = g[i];
    if (decoupled) w[i] -= lr * wd * w[i];
    else gi += wd * w[i];
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    const mhat = m[i] / (1 - b1 ** t);
    vmax[i] = Math.max(vmax[i], v[i]);
    const vhat = (h.amsgrad ? vmax[i] : v[i]) / (1 - b2 ** t);
    w[i] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
  }
};
// Adagrad: γ̃ = γ / (1 + (t-1) η); g += λθ; state_sum += g²; θ -= γ̃ g / (√state_sum + ε).
const adagradOracle: Oracle = (w, g, s, h, t) => {
  const sum = get(s, 'sum', h.initialAccumulatorValue as number);
  const clr = (h.lr as number) / (1 + (t - 1) * (h.lrDecay as number));
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] + (h.weightDecay as number) * w[i];
    sum[i] += gi * gi;
    w[i] -= (clr * gi) / (Math.sqrt(sum[i]) + (h.eps as number));
  }
};
// RMSprop: g += λθ; v = α v + (1-α) g²; ṽ = v, centered: g_ave = α g_ave + (1-α) g, ṽ = v - g_ave²;
// μ > 0: b = μ b + g / (√ṽ + ε), θ -= γ b; else θ -= γ g / (√ṽ + ε).
const rmspropOracle: Oracle = (w, g, s, h) => {
  const a = h.alpha as number, mu = h.momentum as number;
  const v = get(s, 'v'), gavg = get(s, 'gavg'), b = get(s, 'b');
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] + (h.weightDecay as number) * w[i];
    v[i] = a * v[i] + (1 - a) * gi * gi;
    let vt = v[i];
    if (h.centered) {
      gavg[i] = a * gavg[i] + (1 - a) * gi;
      vt -= gavg[i] * gavg[i];
    }
    const d = Math.sqrt(vt) + (h.eps as number);
    if (mu > 0) {
      b[i] = mu * b[i] + gi / d;
      w[i] -= (h.lr as number) * b[i];
    } else {
      w[i] -= ((h.lr as number) * gi) / d;
    }
  }
};
// Adadelta: g += λθ; v = ρ v + (1-ρ) g²; Δx = √(u + ε) / √(v + ε) · g; u = ρ u + (1-ρ) Δx²; θ -= γ Δx.
const adadeltaOracle: Oracle = (w, g, s, h) => {
  const rho = h.rho as number, eps = h.eps as number;
  const v = get(s, 'v'), u = get(s, 'u');
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] + (h.weightDecay as number) * w[i];
    v[i] = rho * v[i] + (1 - rho) * gi * gi;
    const dx = (Math.sqrt(u[i] + eps) / Math.sqrt(v[i] + eps)) * gi;
    u[i] = rho * u[i] + (1 - rho) * dx * dx;
    w[i] -= (h.lr as number) * dx;
  }
};
// Adamax: g += λθ; m = β1 m + (1-β1) g; u = max(β2 u, |g| + ε); θ -= γ m / ((1-β1^t) u).
const adamaxOracle: Oracle = (w, g, s, h, t) => {
  const [b1, b2] = h.betas as number[];
  const m = get(s, 'm'), u = get(s, 'u');
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] + (h.weightDecay as number) * w[i];
    m[i] = b1 * m[i] + (1 - b1) * gi;
    u[i] = Math.max(b2 * u[i], Math.abs(gi) + (h.eps as number));
    w[i] -= ((h.lr as number) * m[i]) / ((1 - b1 ** t) * u[i]);
  }
};

/** The oracle's weights after each of STEPS steps. */
function trajectory(oracle: Oracle, h: H): number[][] {
  const w = [...W0], s: Record<string, number[]> = {}, out: number[][] = [];
  for (let t = 1; t <= STEPS; t++) {
    oracle(w, grads(t), s, h, t);
    out.push([...w]);
  }
  return out;
}

// rtol 1e-6, plus a few float32 ulps of |w| <= 2 (ulp(2) = 2.4e-7): weights and state are stored
// in float32 each step, and a weight that travels from 0.5 to 0.07 keeps the absolute error of its path.
const RTOL = 1e-6, ATOL = 5e-7;
const within = (got: readonly number[], want: readonly number[]) => got.every((v, i) => Math.abs(v - want[i]) <= RTOL * Math.abs(want[i]) + ATOL);

interface Case {
  name: string;
  make: (p: Tensor[], cfg: object) => optim.Optimizer;
  cfg: object;
  oracle: Oracle;
  /** The full hyper-parameters (PyTorch defaults + cfg), as the oracle reads them. */
  h: H;
  /** A config this case differs from by one option: its trajectory must differ beyond the tolerance. */
  without?: H;
}

const ADAM = { lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false };
const ADAGRAD = { lr: 0.1, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 };
const RMSPROP = { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false };
const ADADELTA = { lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0 };
const ADAMAX = { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 };

const cases: Case[] = [];
const add = (name: string, make: Case['make'], oracle: Oracle, dflt: H, cfg: H, without?: H) =>
  cases.push({ name, make, cfg, oracle, h: { ...dflt, ...cfg }, without: without && { ...dflt, ...without } });
const adam = (p: Tensor[], c: object) => new optim.Adam(p, c);
const adamw = (p: Tensor[], c: object) => new optim.AdamW(p, c);
add('Adam', adam, adamOracle(false), ADAM, { lr: 0.05 });
add('Adam + L2 weight decay', adam, adamOracle(false), ADAM, { lr: 0.05, weightDecay: 0.1 }, { lr: 0.05 });
add('Adam + amsgrad', adam, adamOracle(false), ADAM, { lr: 0.05, amsgrad: true }, { lr: 0.05 });
add('Adam + amsgrad + weight decay, betas (0.8, 0.99)', adam, adamOracle(false), ADAM, { lr: 0.05, amsgrad: true, weightDecay: 0.05, betas: [0.8, 0.99] }, { lr: 0.05, weightDecay: 0.05, betas: [0.8, 0.99] });
add('AdamW (decoupled weight decay 0.1)', adamw, adamOracle(true), ADAM, { lr: 0.05, weightDecay: 0.1 }, { lr: 0.05, weightDecay: 0 });
add('AdamW + amsgrad', adamw, adamOracle(true), ADAM, { lr: 0.05, weightDecay: 0.01, amsgrad: true }, { lr: 0.05, weightDecay: 0.01 });
const adagrad = (p: Tensor[], c: object) => new optim.Adagrad(p, c);
add('Adagrad', adagrad, adagradOracle, ADAGRAD, { lr: 0.1 });
add('Adagrad + lrDecay', adagrad, adagradOracle, ADAGRAD, { lr: 0.1, lrDecay: 0.5 }, { lr: 0.1 });
add('Adagrad + weight decay + initial accumulator', adagrad, adagradOracle, ADAGRAD, { lr: 0.1, lrDecay: 0.1, weightDecay: 0.1, initialAccumulatorValue: 0.2 }, { lr: 0.1, lrDecay: 0.1, weightDecay: 0.1 });
const rmsprop = (p: Tensor[], c: object) => new optim.RMSprop(p, c);
add('RMSprop', rmsprop, rmspropOracle, RMSPROP, {});
add('RMSprop + momentum', rmsprop, rmspropOracle, RMSPROP, { momentum: 0.9 }, {});
add('RMSprop centered', rmsprop, rmspropOracle, RMSPROP, { centered: true }, {});
add('RMSprop centered + momentum + weight decay, alpha 0.9', rmsprop, rmspropOracle, RMSPROP, { centered: true, momentum: 0.5, weightDecay: 0.1, alpha: 0.9 }, { momentum: 0.5, weightDecay: 0.1, alpha: 0.9 });
const adadelta = (p: Tensor[], c: object) => new optim.Adadelta(p, c);
add('Adadelta', adadelta, adadeltaOracle, ADADELTA, {});
add('Adadelta + weight decay, rho 0.5, lr 0.5', adadelta, adadeltaOracle, ADADELTA, { rho: 0.5, weightDecay: 0.1, lr: 0.5 }, { rho: 0.5, lr: 0.5 });
const adamax = (p: Tensor[], c: object) => new optim.Adamax(p, c);
add('Adamax', adamax, adamaxOracle, ADAMAX, {});
add('Adamax + weight decay, betas (0.8, 0.9)', adamax, adamaxOracle, ADAMAX, { weightDecay: 0.1, betas: [0.8, 0.9] }, { betas: [0.8, 0.9] });

describe('the oracles exercise each option', () => {
  it.each(cases.filter((c) => c.without).map((c) => [c.name, c] as const))('%s: the option moves the trajectory beyond the tolerance', (_, c) => {
    const a = trajectory(c.oracle, c.h), b = trajectory(c.oracle, c.without!);
    expect(a.every((w, t) => within(w, b[t]))).toBe(false);
  });
});

describe.each(backends)('known answers on the %s backend', (name) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    setBackend(name);
    const p = tensor(W0).requireGrad();
    const opt = c.make([p], c.cfg);
    const want = trajectory(c.oracle, c.h);
    for (let t = 1; t <= STEPS; t++) {
      p.grad = tensor(grads(t));
      opt.step();
      const got = [...p.data];
      if (!within(got, want[t - 1])) {
        throw new Error(`${c.name} step ${t}: got [${got.join(', ')}], want [${want[t - 1].join(', ')}] (rtol ${RTOL})`);
      }
    }
  });
});

describe.each(backends)('RMSprop centered with alpha 0 on the %s backend', (name) => {
  it('sq − gavg² is g² − g² = 0 up to rounding: clamped at 0, never a NaN weight', () => {
    setBackend(name);
    const n = 1000;
    const w = tensor(Array.from({ length: n }, (_, i) => Math.sin(i) * 3), { requiresGrad: true });
    w.grad = tensor(Array.from({ length: n }, (_, i) => Math.cos(i * 1.7) * 0.37 + 1e-3 * i));
    const opt = new optim.RMSprop([w], { lr: 0.01, alpha: 0, centered: true, eps: 1e-8 });
    opt.step();
    const bad = [...w.data].filter((v) => !Number.isFinite(v)).length;
    expect(bad).toBe(0);
  });
});
