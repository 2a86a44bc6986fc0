/**
 * nn.RBM after review (#12): forward on the tape (a DBN fine-tunes with fit),
 * frozen and pruned RBMs under cdStep, PCD with M chains ≠ N rows (known
 * answer), the chain checked, NaN probabilities refused, gibbs and
 * pseudoLikelihood — on both backends.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, prune, rand, setBackend, sum, tensor, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

const LN3 = Math.log(3);
const arr = (t: Tensor): number[] => Array.from(t.data as Float32Array);
/** A deterministic "sampler": 1 where p > 0.5. */
const threshold: nn.BernoulliSampler = (p) => tensor(arr(p).map((x) => (x > 0.5 ? 1 : 0)), [...p.shape]);
function set(rbm: nn.RBM, w: number[], b: number[], c: number[]): void {
  (rbm.weight.data as Float32Array).set(w);
  (rbm.visibleBias.data as Float32Array).set(b);
  (rbm.hiddenBias.data as Float32Array).set(c);
}
const bars = (): Tensor => {
  const rows: number[][] = [];
  for (let i = 0; i < 8; i++) rows.push([1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]);
  return tensor(rows);
};

describe.each(backends)('nn.RBM review (%s backend)', (name) => {
  it('forward is on the tape: analytic gradients, and fit fine-tunes a stack', async () => {
    setBackend(name);
    const rbm = new nn.RBM(3, 2, { seed: 1 });
    set(rbm, [0.3, -0.2, 0.5, 0.1, 0.4, -0.6], [0, 0, 0], [0.1, -0.1]);
    const v = tensor([[1, 0, 1], [0.5, 1, 0]]);
    expect(arr(rbm.forward(v))).toEqual(arr(rbm.hiddenProbs(v)));
    // d/dW_ji Σ σ(c_j + W_j·v) = Σ_n σ'(pre_nj) v_ni, σ' = p(1 - p); d/dc_j = Σ_n σ'(pre_nj).
    sum(rbm.forward(v)).backward();
    const p = arr(rbm.hiddenProbs(v)), vv = arr(v);
    const gW = [0, 1].flatMap((j) => [0, 1, 2].map((i) => [0, 1].reduce((s, n) => s + p[n * 2 + j] * (1 - p[n * 2 + j]) * vv[n * 3 + i], 0)));
    arr(rbm.weight.grad!).forEach((g, i) => expect(g).toBeCloseTo(gW[i], 6));
    [0, 1].forEach((j) => expect(arr(rbm.hiddenBias.grad!)[j]).toBeCloseTo([0, 1].reduce((s, n) => s + p[n * 2 + j] * (1 - p[n * 2 + j]), 0), 6));
    // A stack fine-tuned by fit: weight and hidden_bias move, visible_bias (unused by forward) does not.
    const r = new nn.RBM(6, 3, { seed: 2 });
    const stack = new nn.Sequential(r, new nn.Linear(3, 2));
    const w0 = arr(r.weight), c0 = arr(r.hiddenBias), b0 = arr(r.visibleBias);
    const y = new Tensor(Int32Array.from({ length: 16 }, (_, i) => i % 2), [16]);
    await stack.fit(bars(), y, { loss: 'crossEntropy', optimizer: 'sgd', epochs: 2, batchSize: 4, verbose: 0 });
    expect(arr(r.weight)).not.toEqual(w0);
    expect(arr(r.hiddenBias)).not.toEqual(c0);
    expect(arr(r.visibleBias)).toEqual(b0);
    // Frozen, the RBM stays bit-identical under fit.
    r.freeze();
    const w1 = arr(r.weight);
    await stack.fit(bars(), y, { loss: 'crossEntropy', optimizer: 'adam', epochs: 1, batchSize: 4, verbose: 0 });
    expect(arr(r.weight)).toEqual(w1);
  });

  it('cdStep refuses a frozen RBM and leaves it unchanged; unfreeze() trains it again', () => {
    setBackend(name);
    const rbm = new nn.RBM(6, 3, { seed: 3 });
    rbm.freeze();
    const w = arr(rbm.weight);
    expect(() => rbm.cdStep(bars(), { lr: 0.1 })).toThrow("fathom.RBM.cdStep: the RBM is frozen ('weight', 'visible_bias', 'hidden_bias' have requiresGrad false); unfreeze() it to train it with cdStep");
    expect(arr(rbm.weight)).toEqual(w);
    rbm.unfreeze();
    rbm.cdStep(bars(), { lr: 0.1 });
    expect(arr(rbm.weight)).not.toEqual(w);
  });

  it('a pruned RBM keeps its masked weights at exactly 0 through cdStep with momentum and weight decay', () => {
    setBackend(name);
    const rbm = new nn.RBM(6, 4, { seed: 4 });
    prune.magnitude(rbm, { sparsity: 0.5, include: [''] });
    const mask = arr(rbm.buffers()[0]);
    const kept = arr(rbm.weight);
    for (let s = 0; s < 20; s++) rbm.cdStep(bars(), { lr: 0.1, momentum: 0.9, weightDecay: 0.01, persistent: s % 2 === 1 });
    const w = arr(rbm.weight);
    mask.forEach((m, i) => { if (m === 0) expect(w[i] === 0).toBe(true); });
    expect(w.filter((x, i) => mask[i] === 1 && x !== kept[i]).length).toBe(12);
    expect(prune.sparsity(rbm).zeros).toBeGreaterThanOrEqual(12);
  });

  it('PCD with M = 2 chains and a batch of N = 1: negative statistics averaged over the chains (known answer)', () => {
    setBackend(name);
    const rbm = new nn.RBM(2, 2);
    // W [H, V] = [[ln3, 0], [0, -ln3]], b = c = 0, v0 = [1, 1], lr = 0.1, chain rows [1, 0] and [0, 1].
    set(rbm, [LN3, 0, 0, -LN3], [0, 0], [0, 0]);
    rbm.chain = tensor([[1, 0], [0, 1]]);
    // Positive: ph0 = σ([ln3, -ln3]) = [0.75, 0.25]; pos / N = ph0ᵀ v0 = [[0.75, 0.75], [0.25, 0.25]].
    // Chain: p(h | [1,0]) = σ([ln3, 0]) = [0.75, 0.5] → h [1, 0]; p(h | [0,1]) = σ([0, -ln3]) = [0.5, 0.25] → h [0, 0].
    //        p(v | [1,0]) = σ([ln3, 0]) = [0.75, 0.5] → v [1, 0]; p(v | [0,0]) = [0.5, 0.5] → v [0, 0].
    // phk = p(h | v_k) = [[0.75, 0.5], [0.5, 0.5]]; neg / M = phkᵀ v_k / 2 = [[0.375, 0], [0.25, 0]].
    // ΔW = 0.1·(pos/N - neg/M) = [[0.0375, 0.075], [0, 0.025]]
    // Δb = 0.1·(mean v0 - mean v_k) = 0.1·([1, 1] - [0.5, 0]) = [0.05, 0.1]
    // Δc = 0.1·(mean ph0 - mean phk) = 0.1·([0.75, 0.25] - [0.625, 0.5]) = [0.0125, -0.025]
    rbm.cdStep(tensor([[1, 1]]), { lr: 0.1, persistent: true, sampler: threshold });
    const w = arr(rbm.weight);
    [LN3 + 0.0375, 0.075, 0, -LN3 + 0.025].forEach((x, i) => expect(w[i]).toBeCloseTo(x, 6));
    [0.05, 0.1].forEach((x, i) => expect(arr(rbm.visibleBias)[i]).toBeCloseTo(x, 6));
    [0.0125, -0.025].forEach((x, i) => expect(arr(rbm.hiddenBias)[i]).toBeCloseTo(x, 6));
    expect(arr(rbm.chain!)).toEqual([1, 0, 0, 0]);
    // Batches of other sizes keep the same two chains.
    rbm.cdStep(tensor([[1, 0], [0, 1], [1, 1]]), { lr: 0.1, persistent: true });
    expect(rbm.chain!.shape).toEqual([2, 2]);
  });

  it('refuses a bad chain, NaN probabilities, a bad seed; nothing changes', () => {
    setBackend(name);
    const rbm = new nn.RBM(2, 2, { seed: 5 });
    const w = arr(rbm.weight);
    const v = tensor([[1, 0]]);
    rbm.chain = 'x' as never;
    expect(() => rbm.cdStep(v, { lr: 0.1, persistent: true })).toThrow(/fathom\.RBM\.cdStep: rbm\.chain must be a float32 Tensor \[M, 2\] \(M >= 1\) of values in \[0, 1\], or null, got/);
    rbm.chain = tensor([[1, 0, 1]]);
    expect(() => rbm.cdStep(v, { lr: 0.1, persistent: true })).toThrow(/rbm\.chain must be .*got float32 \[1, 3\]/);
    rbm.chain = tensor([[1, 2]]);
    expect(() => rbm.cdStep(v, { lr: 0.1, persistent: true })).toThrow(/rbm\.chain must be .*got 2 at \[0, 1\]/);
    // Plain CD does not use the chain.
    rbm.resetChain();
    expect(arr(rbm.weight)).toEqual(w);
    // NaN inputs give NaN probabilities, never silent 0/1 samples.
    const bad = tensor([[NaN, 0]]);
    expect(() => rbm.sampleHidden(bad)).toThrow(/fathom\.RBM\.sampleHidden: p\(hidden \| v\) is NaN at \[0, 0\]/);
    expect(() => rbm.reconstructionError(bad)).toThrow(/fathom\.RBM\.reconstructionError: p\(hidden \| v\) is NaN/);
    expect(() => rbm.gibbs(bad)).toThrow(/fathom\.RBM\.gibbs: p\(hidden \| v\) is NaN/);
    expect(() => rbm.cdStep(bad, { lr: 0.1 })).toThrow(/v must hold values in \[0, 1\] .*got NaN at \[0, 0\]/);
    rbm.weight.data[0] = NaN;
    expect(() => rbm.sampleVisible(tensor([[1, 0]]))).toThrow(/fathom\.RBM\.sampleVisible: p\(visible \| h\) is NaN at \[0, 0\]/);
    expect(() => new nn.RBM(2, 2, { seed: 1.5 })).toThrow('fathom.RBM: options.seed must be a non-negative integer, got 1.5');
    expect(() => new nn.RBM(2, 2, { seed: -1 })).toThrow('fathom.RBM: options.seed must be a non-negative integer, got -1');
    expect(() => rbm.gibbs(v, 0)).toThrow('fathom.RBM.gibbs: k must be a positive integer, got 0');
    expect(() => rbm.pseudoLikelihood(tensor([[0.5, 1]]))).toThrow('fathom.RBM.pseudoLikelihood: v must be binary (0 or 1), got 0.5 at [0, 0]');
  });

  it('gibbs(v, k) is k seeded rounds of sampleHidden then sampleVisible', () => {
    setBackend(name);
    const a = new nn.RBM(6, 3, { seed: 6 }), b = new nn.RBM(6, 3, { seed: 6 });
    const v = bars();
    const g = a.gibbs(v, 3);
    let x = v;
    for (let s = 0; s < 3; s++) x = b.sampleVisible(b.sampleHidden(x));
    expect(g.shape).toEqual([16, 6]);
    expect(arr(g)).toEqual(arr(x));
    expect(arr(g).every((q) => q === 0 || q === 1)).toBe(true);
  });

  it('pseudoLikelihood: exact log p(v) for one visible unit; rises as CD learns', () => {
    setBackend(name);
    // With V = 1 the flipped unit is the only one: PL(v) = log σ(F(1 - v) - F(v)) = log p(v), so p(0) + p(1) = 1.
    const one = new nn.RBM(1, 3, { seed: 7 });
    set(one, [0.5, -1, 2], [0.3], [0.1, 0.2, -0.4]);
    const pl = arr(one.pseudoLikelihood(tensor([[0], [1]])));
    expect(Math.exp(pl[0]) + Math.exp(pl[1])).toBeCloseTo(1, 5);
    const fe = arr(one.freeEnergy(tensor([[0], [1]])));
    expect(pl[1]).toBeCloseTo(-Math.log1p(Math.exp(fe[1] - fe[0])), 5);
    // Learning the bars raises the mean pseudo-likelihood of the data.
    manualSeed(8);
    const rbm = new nn.RBM(6, 4, { seed: 8 });
    const v = bars();
    const mean = (t: Tensor): number => arr(t).reduce((s, x) => s + x, 0) / t.size;
    const before = mean(rbm.pseudoLikelihood(v));
    for (let s = 0; s < 100; s++) rbm.cdStep(v, { lr: 0.1, momentum: 0.5 });
    expect(mean(rbm.pseudoLikelihood(v))).toBeGreaterThan(before + 1);
    expect(rbm.pseudoLikelihood(tensor([], [0, 6])).shape).toEqual([0]);
  });

  it('toLinear(): a Linear holding copies of weight and hidden_bias; with a Sigmoid it computes forward', () => {
    setBackend(name);
    const rbm = new nn.RBM(6, 3, { seed: 9 });
    for (let s = 0; s < 5; s++) rbm.cdStep(bars(), { lr: 0.1 });
    manualSeed(3);
    const u = arr(rand([4]));
    manualSeed(3);
    const lin = rbm.toLinear();
    expect(arr(rand([4]))).toEqual(u);
    expect([lin.inFeatures, lin.outFeatures]).toEqual([6, 3]);
    const v = bars();
    const ref = arr(rbm.forward(v));
    arr(new nn.Sequential(lin, new nn.Sigmoid()).forward(v)).forEach((y, i) => expect(y).toBeCloseTo(ref[i], 6));
    lin.weight.data[0] += 1;
    expect(rbm.weight.data[0]).not.toBe(lin.weight.data[0]);
  });
});
