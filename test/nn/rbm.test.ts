/**
 * nn.RBM: CD-k / PCD known answers, free energy, learning on a toy set,
 * the persistent chain, save/load and argument refusals.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, load, nn, save, tensor } from '../../lib/index.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-rbm-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LN3 = Math.log(3);
const arr = (t: Tensor): number[] => Array.from(t.data as Float32Array);
/** A deterministic "sampler": 1 where p > 0.5. */
const threshold: nn.BernoulliSampler = (p) => tensor(arr(p).map((x) => (x > 0.5 ? 1 : 0)), [...p.shape]);

function set(rbm: nn.RBM, w: number[], b: number[], c: number[]): void {
  (rbm.weight.data as Float32Array).set(w);
  (rbm.visibleBias.data as Float32Array).set(b);
  (rbm.hiddenBias.data as Float32Array).set(c);
}

describe('nn.RBM', () => {
  it('initialises W ~ N(0, 0.01) [H, V] and zero biases, named weight/visible_bias/hidden_bias, and is seeded', () => {
    const a = new nn.RBM(50, 40, { seed: 3 });
    expect(a.weight.shape).toEqual([40, 50]);
    expect(a.visibleBias.shape).toEqual([50]);
    expect(a.hiddenBias.shape).toEqual([40]);
    expect(Object.keys(a.stateDict())).toEqual(['weight', 'visible_bias', 'hidden_bias']);
    const w = arr(a.weight);
    const mean = w.reduce((s, x) => s + x, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, x) => s + (x - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(std).toBeGreaterThan(0.009);
    expect(std).toBeLessThan(0.011);
    expect(arr(a.visibleBias).every((x) => x === 0) && arr(a.hiddenBias).every((x) => x === 0)).toBe(true);
    const b = new nn.RBM(50, 40, { seed: 3 });
    expect(arr(b.weight)).toEqual(w);
    const v = tensor(Array.from({ length: 150 }, (_, i) => i % 2), [3, 50]);
    expect(arr(a.sampleHidden(v))).toEqual(arr(b.sampleHidden(v)));
    const s = arr(a.sampleVisible(tensor(new Array(120).fill(1), [3, 40])));
    expect(s.every((x) => x === 0 || x === 1)).toBe(true);
  });

  it('hiddenProbs / visibleProbs / forward are the sigmoid conditionals', () => {
    const rbm = new nn.RBM(2, 2);
    set(rbm, [LN3, 0, 0, -LN3], [0, LN3], [0, 0]);
    // p(h|v=[1,1]) = σ([ln3, -ln3]) = [0.75, 0.25]
    expect(arr(rbm.hiddenProbs(tensor([[1, 1]])))[0]).toBeCloseTo(0.75, 6);
    expect(arr(rbm.forward(tensor([[1, 1]])))[1]).toBeCloseTo(0.25, 6);
    // p(v|h=[1,1]) = σ([ln3 + 0, -ln3 + ln3]) = [0.75, 0.5]
    const pv = arr(rbm.visibleProbs(tensor([[1, 1]])));
    expect(pv[0]).toBeCloseTo(0.75, 6);
    expect(pv[1]).toBeCloseTo(0.5, 6);
  });

  it('CD-1 known answer on a 2×2 RBM with injected samples', () => {
    const rbm = new nn.RBM(2, 2);
    // W [H, V] = [[ln3, 0], [0, -ln3]], b = c = 0, v0 = [1, 1], lr = 0.1.
    set(rbm, [LN3, 0, 0, -LN3], [0, 0], [0, 0]);
    // ph0 = σ(v0 Wᵀ) = σ([ln3, -ln3]) = [0.75, 0.25]   → h0 = [1, 0]   (threshold)
    // pv1 = σ(h0 W)  = σ([ln3, 0])    = [0.75, 0.5]    → v1 = [1, 0]
    // reconstruction error = ((1-0.75)² + (1-0.5)²) / 2 = 0.15625
    // ph1 = σ(v1 Wᵀ) = σ([ln3, 0]) = [0.75, 0.5]       (probabilities, not sampled)
    // pos = ph0ᵀ v0 = [[0.75, 0.75], [0.25, 0.25]]; neg = ph1ᵀ v1 = [[0.75, 0], [0.5, 0]]
    // ΔW = 0.1·(pos - neg) = [[0, 0.075], [-0.025, 0.025]]
    // Δb = 0.1·(v0 - v1) = [0, 0.1];  Δc = 0.1·(ph0 - ph1) = [0, -0.025]
    const r = rbm.cdStep(tensor([[1, 1]]), { lr: 0.1, sampler: threshold });
    expect(r.reconstructionError).toBeCloseTo(0.15625, 6);
    const w = arr(rbm.weight);
    [LN3, 0.075, -0.025, -LN3 + 0.025].forEach((x, i) => expect(w[i]).toBeCloseTo(x, 6));
    [0, 0.1].forEach((x, i) => expect(arr(rbm.visibleBias)[i]).toBeCloseTo(x, 6));
    [0, -0.025].forEach((x, i) => expect(arr(rbm.hiddenBias)[i]).toBeCloseTo(x, 6));
    // ‖ΔW‖ / ‖W‖ as reported
    const dw = Math.hypot(0.075, 0.025, 0.025);
    expect(r.updateRatio).toBeCloseTo(dw / Math.hypot(...w), 5);
  });

  it('CD-1 known answer with weight decay and momentum (two steps, batch of 2)', () => {
    const rbm = new nn.RBM(2, 2);
    set(rbm, [LN3, 0, 0, -LN3], [0, 0], [0, 0]);
    // Rows [1,1] and [1,1]: the statistics are those above, averaged over N = 2 (same per row).
    // Step 1: ΔW = 0.1·((pos - neg) - 0.5·W) = [[-0.05·ln3, 0.075], [-0.025, 0.025 + 0.05·ln3]]
    const v = tensor([[1, 1], [1, 1]]);
    rbm.cdStep(v, { lr: 0.1, sampler: threshold, weightDecay: 0.5, momentum: 0.5 });
    const w1 = arr(rbm.weight);
    const d1 = [-0.05 * LN3, 0.075, -0.025, 0.025 + 0.05 * LN3];
    [LN3, 0, 0, -LN3].forEach((x, i) => expect(w1[i]).toBeCloseTo(x + d1[i], 5));
    // Step 2: vel = 0.5·vel + Δ₂, so W₂ - W₁ - 0.5·(W₁ - W₀) = Δ₂ is the plain step from W₁.
    const probe = new nn.RBM(2, 2);
    set(probe, w1, arr(rbm.visibleBias), arr(rbm.hiddenBias));
    probe.cdStep(v, { lr: 0.1, sampler: threshold, weightDecay: 0.5 });
    const plain = arr(probe.weight).map((x, i) => x - w1[i]);
    rbm.cdStep(v, { lr: 0.1, sampler: threshold, weightDecay: 0.5, momentum: 0.5 });
    arr(rbm.weight).forEach((x, i) => expect(x).toBeCloseTo(w1[i] + 0.5 * d1[i] + plain[i], 5));
  });

  it('freeEnergy: known answer F(v) = -v·b - Σ softplus(c + W v)', () => {
    const rbm = new nn.RBM(2, 2);
    set(rbm, [LN3, 0, 0, 0], [1, 2], [0, 0]);
    // v = [1, 0]: -1 - softplus(ln3) - softplus(0) = -1 - ln4 - ln2 = -1 - ln8
    // v = [0, 1]: -2 - ln2 - ln2 = -2 - ln4
    const f = rbm.freeEnergy(tensor([[1, 0], [0, 1]]));
    expect(f.shape).toEqual([2]);
    expect(arr(f)[0]).toBeCloseTo(-1 - Math.log(8), 5);
    expect(arr(f)[1]).toBeCloseTo(-2 - Math.log(4), 5);
    // Stable for large pre-activations: softplus(100) = 100.
    set(rbm, [100, 0, 0, 0], [0, 0], [0, 0]);
    expect(arr(rbm.freeEnergy(tensor([[1, 0]])))[0]).toBeCloseTo(-100 - Math.log(2), 3);
  });

  it('reconstruction error falls over 200 CD-1 steps on two bar patterns (and PCD also learns)', () => {
    const rows: number[][] = [];
    for (let i = 0; i < 10; i++) rows.push([1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1]);
    const v = tensor(rows);
    for (const persistent of [false, true]) {
      const rbm = new nn.RBM(8, 4, { seed: 7 });
      const before = rbm.reconstructionError(v);
      let last = 0;
      for (let s = 0; s < 200; s++) last = rbm.cdStep(v, { lr: 0.1, momentum: 0.5, persistent }).reconstructionError;
      expect(before).toBeGreaterThan(0.2);
      expect(last).toBeLessThan(0.05);
      expect(rbm.reconstructionError(v)).toBeLessThan(0.05);
      // The data's free energy falls below that of a non-pattern.
      const f = arr(rbm.freeEnergy(tensor([[1, 1, 1, 1, 0, 0, 0, 0], [1, 0, 1, 0, 1, 0, 1, 0]])));
      expect(f[0]).toBeLessThan(f[1]);
    }
  });

  it('PCD: the chain persists across calls; a batch of another size keeps its chains', () => {
    const rbm = new nn.RBM(3, 2, { seed: 1 });
    const v = tensor([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]]);
    expect(rbm.chain).toBeNull();
    rbm.cdStep(v, { lr: 0.05, persistent: true });
    expect(rbm.chain!.shape).toEqual([4, 3]);
    const chain1 = rbm.chain!;
    // Record what the sampler is asked for: the positive hidden sample, then the chain's hidden sample.
    const calls: [string, number[]][] = [];
    const rec: nn.BernoulliSampler = (p, what) => { calls.push([what, arr(p)]); return threshold(p, what); };
    const expected = arr(rbm.hiddenProbs(chain1));
    rbm.cdStep(v, { lr: 0.05, persistent: true, sampler: rec });
    expect(calls[1][0]).toBe('hidden');
    calls[1][1].forEach((x, i) => expect(x).toBeCloseTo(expected[i], 6));
    expect(rbm.chain).not.toBe(chain1);
    rbm.cdStep(tensor([[1, 0, 1]]), { lr: 0.05, persistent: true });
    expect(rbm.chain!.shape).toEqual([4, 3]);
    // Plain CD ignores (and keeps) the chain; resetChain allows a new size.
    rbm.cdStep(tensor([[1, 0, 1]]), { lr: 0.05 });
    expect(rbm.chain!.shape).toEqual([4, 3]);
    rbm.resetChain();
    rbm.cdStep(tensor([[1, 0, 1]]), { lr: 0.05, persistent: true });
    expect(rbm.chain!.shape).toEqual([1, 3]);
  });

  it('save/load round trip', async () => {
    const rbm = new nn.RBM(6, 3, { seed: 2 });
    const v = tensor([[1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1]]);
    for (let s = 0; s < 5; s++) rbm.cdStep(v, { lr: 0.1 });
    const path = join(dir, 'rbm');
    await save(rbm, path);
    const again = await load(path);
    expect(again).toBeInstanceOf(nn.RBM);
    const r = again as nn.RBM;
    expect([r.visible, r.hidden]).toEqual([6, 3]);
    expect(arr(r.weight)).toEqual(arr(rbm.weight));
    expect(arr(r.visibleBias)).toEqual(arr(rbm.visibleBias));
    expect(arr(r.hiddenBias)).toEqual(arr(rbm.hiddenBias));
    expect(arr(r.freeEnergy(v))).toEqual(arr(rbm.freeEnergy(v)));
    // In a Sequential stack (a DBN initialiser) it gives the hidden probabilities.
    const stack = new nn.Sequential(rbm, new nn.RBM(3, 2, { seed: 4 }));
    expect(stack.forward(v).shape).toEqual([2, 2]);
  });

  it('refuses bad arguments, naming op, argument, expected and got', () => {
    expect(() => new nn.RBM(0, 2)).toThrow('fathom.RBM: visible must be a positive integer, got 0');
    expect(() => new nn.RBM(2, 1.5)).toThrow('fathom.RBM: hidden must be a positive integer, got 1.5');
    expect(() => new nn.RBM(2, 2, { sed: 1 } as never)).toThrow(/fathom\.RBM: unknown option 'sed'/);
    const rbm = new nn.RBM(2, 2);
    const v = tensor([[1, 0]]);
    expect(() => rbm.hiddenProbs(tensor([[1, 0, 1]]))).toThrow('fathom.RBM.hiddenProbs: expected v [N, 2], got [1, 3]');
    expect(() => rbm.visibleProbs(tensor([1, 0]))).toThrow('fathom.RBM.visibleProbs: expected h [N, 2], got [2]');
    expect(() => rbm.freeEnergy([[1, 0]] as never)).toThrow(/fathom\.RBM\.freeEnergy: expected v a float32 Tensor \[N, 2\], got/);
    expect(() => rbm.cdStep(v, {} as never)).toThrow('fathom.RBM.cdStep: lr must be a finite number > 0, got undefined');
    expect(() => rbm.cdStep(v, undefined as never)).toThrow(/fathom\.RBM\.cdStep: expected options \{ lr/);
    expect(() => rbm.cdStep(v, { lr: 0.1, k: 0 })).toThrow('fathom.RBM.cdStep: k must be a positive integer, got 0');
    expect(() => rbm.cdStep(v, { lr: 0.1, momentum: 1 })).toThrow('fathom.RBM.cdStep: momentum must be a number in [0, 1), got 1');
    expect(() => rbm.cdStep(v, { lr: 0.1, weightDecay: -1 })).toThrow('fathom.RBM.cdStep: weightDecay must be a finite number >= 0, got -1');
    expect(() => rbm.cdStep(v, { lr: 0.1, kk: 2 } as never)).toThrow(/fathom\.RBM\.cdStep: unknown option 'kk'/);
    expect(() => rbm.cdStep(tensor([[1, 2]]), { lr: 0.1 })).toThrow('fathom.RBM.cdStep: v must hold values in [0, 1] (binary data or probabilities), got 2 at [0, 1]');
    expect(() => rbm.cdStep(v, { lr: 0.1, sampler: () => tensor([1]) }))
      .toThrow('fathom.RBM.cdStep: sampler must return a float32 Tensor [1, 2] of hidden states, got float32 [1]');
    // Nothing changed by the refused steps.
    expect(rbm.chain).toBeNull();
  });

  it('CD-k with k = 3 runs k Gibbs steps (sampler calls: hidden, then (visible, hidden) × 2, then visible)', () => {
    const rbm = new nn.RBM(2, 2, { seed: 5 });
    const whats: string[] = [];
    rbm.cdStep(tensor([[1, 0]]), { lr: 0.1, k: 3, sampler: (p, w) => { whats.push(w); return threshold(p, w); } });
    expect(whats).toEqual(['hidden', 'visible', 'hidden', 'visible', 'hidden', 'visible']);
  });
});
