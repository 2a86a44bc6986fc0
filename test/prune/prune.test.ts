// Magnitude pruning (lib/prune, PyTorch's torch.nn.utils.prune): exact sparsity,
// masks that hold through fit with every optimizer, save/load, remove.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, manualSeed, nn, optim, prune, randn, save, Tensor } from '../../lib/index.js';
import type { Optimizer } from '../../lib/optimizers/optimizer.js';

function mlp(): nn.Sequential {
  manualSeed(7);
  return new nn.Sequential(new nn.Linear(6, 10), new nn.ReLU(), new nn.Linear(10, 3));
}

const zerosOf = (t: Tensor): number => Array.from(t.data as Float32Array).filter((v) => v === 0).length;
const data = () => {
  manualSeed(3);
  const x = randn([40, 6]);
  const y = new Tensor(Int32Array.from({ length: 40 }, (_, i) => i % 3), [40]);
  return { x, y };
};

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'fathom-prune-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('prune.magnitude', () => {
  it('global: zeroes exactly round(s·n) weights, the smallest |w| over all layers, biases untouched', () => {
    const m = mlp();
    const [w0, b0, w1] = m.parameters();
    b0.data.fill(0.001);
    const before = [...w0.data, ...w1.data].map(Math.abs).sort((a, b) => a - b);
    const r = prune.magnitude(m, { sparsity: 0.5 });
    const n = 60 + 30;
    expect(zerosOf(w0) + zerosOf(w1)).toBe(45);
    expect(r.zeros).toBe(45);
    expect(r.total).toBe(n);
    expect(r.global).toBeCloseTo(0.5, 12);
    // Every survivor is at least the 45th smallest magnitude; every pruned one at most it.
    const cut = before[44];
    for (const v of [...w0.data, ...w1.data]) if (v !== 0) expect(Math.abs(v)).toBeGreaterThanOrEqual(cut);
    expect(Array.from(b0.data).every((v) => Math.abs(v - 0.001) < 1e-9)).toBe(true);
    // The masks are buffers in the state dict, shaped as the weights.
    const sd = m.stateDict();
    expect(Object.keys(sd)).toEqual(['0.weight', '0.bias', '0.weight_mask', '2.weight', '2.bias', '2.weight_mask']);
    expect(sd['0.weight_mask'].shape).toEqual([10, 6]);
    expect(m.parameters()).toHaveLength(4);
  });

  it("layer: each weight gets the same sparsity; include picks modules; repruning only adds zeros", () => {
    const m = mlp();
    const r = prune.magnitude(m, { sparsity: 0.3, scope: 'layer' });
    expect(r.layers.map((l) => [l.name, l.zeros, l.total])).toEqual([['0.weight', 18, 60], ['2.weight', 9, 30]]);
    const r2 = prune.magnitude(m, { sparsity: 0.8, scope: 'layer', include: ['2'] });
    expect(r2.layers.map((l) => l.zeros)).toEqual([18, 24]);
    // The earlier zeros of layer 2 are still among the 24.
    expect(() => prune.magnitude(m, { sparsity: 0.1, scope: 'layer', include: ['2'] })).toThrow(/sparsity 0\.1 asks for 3 zeros in '2\.weight', but 24 are already masked/);
  });

  it('refuses bad arguments, naming the op, the argument, what was expected and what came', () => {
    const m = mlp();
    expect(() => prune.magnitude(m, { sparsity: 1.5 })).toThrow(/fathom\.prune\.magnitude: options\.sparsity must be a number from 0 to 1 .*got 1\.5/);
    expect(() => prune.magnitude(m, { sparsity: 0.5, scope: 'row' as 'layer' })).toThrow(/options\.scope must be 'global' or 'layer', got/);
    expect(() => prune.magnitude(m, { sparsity: 0.5, include: ['1'] })).toThrow(/options\.include names '1', which is not a module with a float32 parameter 'weight'; the model's are '0', '2'/);
    expect(() => prune.magnitude(m, { sparsity: 0.5, amount: 1 } as never)).toThrow(/unknown option 'amount'/);
    expect(() => prune.magnitude({} as nn.Module, { sparsity: 0.5 })).toThrow(/fathom\.prune\.magnitude: expected a Module, got/);
    expect(() => prune.magnitude(new nn.Sequential(new nn.ReLU()), { sparsity: 0.5 })).toThrow(/no weights to prune/);
    expect(prune.isPruned(m)).toBe(false);
  });
});

describe('masks hold during fine-tuning', () => {
  const cases: [string, (p: Tensor[]) => Optimizer][] = [
    ['SGD momentum + Nesterov + weight decay', (p) => new optim.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
    ['Adam with weight decay', (p) => new optim.Adam(p, { lr: 0.05, weightDecay: 0.1 })],
    ['AdamW', (p) => new optim.AdamW(p, { lr: 0.05 })],
    ['Adagrad', (p) => new optim.Adagrad(p, { lr: 0.1 })],
    ['RMSprop', (p) => new optim.RMSprop(p, { lr: 0.01, momentum: 0.5 })],
  ];
  for (const [name, make] of cases) {
    it(`${name}: the pruned weights are exactly 0 after fit, the others moved`, async () => {
      const m = mlp();
      prune.magnitude(m, { sparsity: 0.7 });
      const masks = m.buffers().map((b) => Float32Array.from(b.data as Float32Array));
      const [w0, , w1] = m.parameters();
      const kept0 = Float32Array.from(w0.data as Float32Array);
      const { x, y } = data();
      const h = await m.fit(x, y, { loss: 'crossEntropy', optimizer: make(m.parameters()), epochs: 3, batchSize: 8, verbose: 0 });
      expect(h.history.loss.every(Number.isFinite)).toBe(true);
      [w0, w1].forEach((w, j) => {
        const d = w.data as Float32Array;
        for (let i = 0; i < d.length; i++) if (masks[j][i] === 0) expect(Object.is(d[i], 0) || Object.is(d[i], -0)).toBe(true);
      });
      expect(zerosOf(w0) + zerosOf(w1)).toBe(Math.round(0.7 * 90));
      // Training did change the surviving weights.
      expect(Array.from(w0.data as Float32Array).some((v, i) => v !== 0 && v !== kept0[i])).toBe(true);
    });
  }

  it('a pruned entry that became NaN or Inf is reset to exactly 0 at the next step; an unpruned NaN stays', () => {
    const m = new nn.Linear(2, 2, { bias: false });
    m.weight.data.set([0.1, 0.2, 0.3, 0.4]);
    prune.magnitude(m, { sparsity: 0.5 });
    m.weight.data.set([NaN, Infinity, NaN, 0.4]);
    const opt = new optim.SGD([m.weight], { lr: 0.1 });
    m.weight.grad = new Tensor(new Float32Array([NaN, 1, 1, 1]), [2, 2]);
    opt.step();
    expect(Array.from(m.weight.data).map((v) => Object.is(v, -0) ? 0 : v)).toEqual([0, 0, NaN, Math.fround(0.4 - 0.1)]);
  });

  it('without pruning the same fit moves those weights (the test can fail)', async () => {
    const m = mlp();
    const { x, y } = data();
    await m.fit(x, y, { loss: 'crossEntropy', optimizer: new optim.Adam(m.parameters(), { lr: 0.05, weightDecay: 0.1 }), epochs: 1, batchSize: 8, verbose: 0 });
    expect(prune.sparsity(m).zeros).toBe(0);
  });
});

describe('save/load, sparsity, remove', () => {
  it('save/load keeps the masks, which keep holding in the loaded model', async () => {
    const m = mlp();
    prune.magnitude(m, { sparsity: 0.6, scope: 'layer' });
    const p = join(dir, 'pruned.safetensors');
    await save(m, p);
    const back = await load(p);
    expect(Object.keys(back.stateDict())).toEqual(Object.keys(m.stateDict()));
    for (const [k, t] of Object.entries(m.stateDict())) expect(Array.from(back.stateDict()[k].data)).toEqual(Array.from(t.data));
    expect(prune.isPruned(back)).toBe(true);
    const { x, y } = data();
    await back.fit(x, y, { loss: 'crossEntropy', optimizer: new optim.SGD(back.parameters(), { lr: 0.5, momentum: 0.9 }), epochs: 2, batchSize: 8, verbose: 0 });
    expect(prune.sparsity(back).layers.map((l) => l.zeros)).toEqual([36, 18]);
  });

  it('sparsity() reports per layer and global; remove() keeps the zeros and drops the masks', async () => {
    const m = mlp();
    expect(prune.sparsity(m)).toEqual({ layers: [
      { name: '0.weight', zeros: 0, total: 60, sparsity: 0, masked: false },
      { name: '2.weight', zeros: 0, total: 30, sparsity: 0, masked: false },
    ], global: 0, zeros: 0, total: 90 });
    prune.magnitude(m, { sparsity: 0.9 });
    const r = prune.sparsity(m);
    expect(r.zeros).toBe(81);
    expect(r.layers[0].zeros + r.layers[1].zeros).toBe(81);
    expect(r.layers.every((l) => l.masked && l.sparsity === l.zeros / l.total)).toBe(true);
    expect(prune.remove(m)).toEqual(['0.weight', '2.weight']);
    expect(m.buffers()).toHaveLength(0);
    expect(Object.keys(m.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(prune.sparsity(m).zeros).toBe(81);
    // No longer masked: training moves the zeros again.
    const { x, y } = data();
    await m.fit(x, y, { loss: 'crossEntropy', optimizer: new optim.SGD(m.parameters(), { lr: 0.5 }), epochs: 1, batchSize: 8, verbose: 0 });
    expect(prune.sparsity(m).zeros).toBeLessThan(81);
    // And a removed model saves as a plain one.
    const p = join(dir, 'removed.safetensors');
    await save(m, p);
    expect(prune.isPruned(await load(p))).toBe(false);
  });

  it('prunes Conv2d weights by default', () => {
    manualSeed(1);
    const m = new nn.Sequential(new nn.Conv2d(2, 4, 3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(4 * 4 * 4, 2));
    const r = prune.magnitude(m, { sparsity: 0.25, scope: 'layer' });
    expect(r.layers.map((l) => [l.name, l.zeros, l.total])).toEqual([['0.weight', 18, 72], ['3.weight', 32, 128]]);
    expect(m.stateDict()['0.weight_mask'].shape).toEqual([4, 2, 3, 3]);
  });
});
