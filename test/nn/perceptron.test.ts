// nn.Perceptron and the perceptron rule: a known trace worked by hand, separable
// data, XOR (no convergence), then a 2-4-1 network that does solve XOR.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { load, losses, manualSeed, nn, optim, save, tensor } from '../../lib/index.js';
import { fromConfig } from '../../lib/layers/registry.js';
import { rng } from '../helpers/random.js';

const XOR_X = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const XOR_Y = tensor([-1, 1, 1, -1]);

/** Two Gaussian-ish blobs separated by the line x0 + 2 x1 = 0.5 with a margin of 0.3. */
function separable(n: number, seed: number): { x: ReturnType<typeof tensor>; y: ReturnType<typeof tensor> } {
  const r = rng(seed);
  const xs: number[] = [];
  const ys: number[] = [];
  while (ys.length < n) {
    const a = r() * 4 - 2;
    const b = r() * 4 - 2;
    const m = (a + 2 * b - 0.5) / Math.sqrt(5);
    if (Math.abs(m) < 0.3) continue;
    xs.push(a, b);
    ys.push(m > 0 ? 1 : -1);
  }
  return { x: tensor(xs, [n, 2]), y: tensor(ys) };
}

describe('nn.Perceptron', () => {
  it('follows the perceptron rule step by step (AND gate, worked by hand)', () => {
    // From w = (0, 0), b = 0, lr 1, samples in order; an update whenever y (w·x + b) <= 0:
    // epoch 1: (0,0) s=0 → b=−1; (1,1) s=−1 → w=(1,1), b=0                     2 errors
    // epoch 2: (0,0) s=0 → b=−1; (0,1) s=0 → w=(1,0), b=−2; (1,1) s=−1 → w=(2,1), b=−1   3
    // epoch 3: (0,1) s=0 → w=(2,0), b=−2; (1,0) s=0 → w=(1,0), b=−3; (1,1) s=−2 → w=(2,1), b=−2   3
    // epoch 4: (1,0) s=0 → w=(1,1), b=−3; (1,1) s=−1 → w=(2,2), b=−2            2
    // epoch 5: (0,1) s=0 → w=(2,1), b=−3; (1,1) s=0 → w=(3,2), b=−2             2
    // epoch 6: (0,1) s=0 → w=(3,1), b=−3; (1,0) s=0 → w=(2,1), b=−4; (1,1) s=−1 → w=(3,2), b=−3   3
    // epoch 7: (1,0) s=0 → w=(2,2), b=−4; (1,1) s=0 → w=(3,3), b=−3             2
    // epoch 8: (0,1) s=0 → w=(3,2), b=−4                                        1
    // epoch 9: s = −4, −2, −1, 1: all correct                                   0
    const p = new nn.Perceptron(2);
    const r = p.train(XOR_X, tensor([-1, -1, -1, 1]));
    expect(r).toEqual({ converged: true, epochs: 9, errors: 0, history: [2, 3, 3, 2, 2, 3, 2, 1, 0] });
    expect(Array.from(p.weight.data)).toEqual([3, 2]);
    expect(Array.from(p.bias.data)).toEqual([-4]);
    expect(Array.from(p.forward(XOR_X).data)).toEqual([-1, -1, -1, 1]);
    expect(p.weight.shape).toEqual([1, 2]);
    expect(p.bias.shape).toEqual([1]);
  });

  it('separates linearly separable data (converges, 100 % correct), shuffled or not', () => {
    const { x, y } = separable(200, 1);
    for (const opts of [{}, { shuffle: true, seed: 3 }, { lr: 0.1, shuffle: true }]) {
      const p = new nn.Perceptron(2);
      const r = p.train(x, y, opts);
      expect(r.converged, JSON.stringify(opts)).toBe(true);
      expect(r.errors).toBe(0);
      expect(r.history.length).toBe(r.epochs);
      expect(r.epochs).toBeLessThan(100);
      expect(Array.from(p.predict(x).data)).toEqual(Array.from(y.data));
    }
    // the same seed, the same run
    const a = new nn.Perceptron(2).train(x, y, { shuffle: true, seed: 5 });
    const b = new nn.Perceptron(2).train(x, y, { shuffle: true, seed: 5 });
    expect(b).toEqual(a);
  });

  it('reports no convergence on XOR', () => {
    const p = new nn.Perceptron(2);
    const r = p.train(XOR_X, XOR_Y, { epochs: 100 });
    expect(r.converged).toBe(false);
    expect(r.epochs).toBe(100);
    expect(r.history.length).toBe(100);
    expect(r.errors).toBeGreaterThan(0);
    expect(r.errors).toBe(r.history[99]);
    // no line separates XOR: whatever weights it ended with, some point is wrong
    const out = Array.from(p.forward(XOR_X).data);
    expect(out).not.toEqual(Array.from(XOR_Y.data));
  });

  it('a 2-4-1 network with tanh, trained by fit, solves XOR (100 % training accuracy)', async () => {
    manualSeed(1);
    const model = new nn.Sequential(new nn.Linear(2, 4), new nn.Tanh(), new nn.Linear(4, 1));
    const y01 = tensor([[0], [1], [1], [0]]);
    const h = await model.fit(XOR_X, y01, { loss: 'binaryCrossEntropy', optimizer: 'adam', lr: 0.05, epochs: 300, batchSize: 4, verbose: 0, seed: 1 });
    expect(h.history.accuracy![h.history.accuracy!.length - 1]).toBe(1);
    const logits = Array.from(model.predict(XOR_X).data);
    expect(logits.map((z) => (z > 0 ? 1 : 0))).toEqual([0, 1, 1, 0]);
  });

  it('sign at 0 is −1; forward is [N, 1] of ±1; decisionFunction gives the scores', () => {
    const p = new nn.Perceptron(3);
    const x = tensor([[1, 2, 3], [0, 0, 0]]);
    expect(p.forward(x).shape).toEqual([2, 1]);
    expect(Array.from(p.forward(x).data)).toEqual([-1, -1]);
    p.weight.data.set([1, 0, -1]);
    p.bias.data.set([0.5]);
    expect(Array.from(p.decisionFunction(x).data)).toEqual([-1.5, 0.5]);
    expect(Array.from(p.forward(x).data)).toEqual([-1, 1]);
  });

  it('one SGD step on losses.perceptron (sum) is the batch perceptron rule: w += lr Σ_misclassified y x', () => {
    const { x, y } = separable(20, 7);
    const p = new nn.Perceptron(2);
    p.weight.data.set([0.3, -0.2]);
    p.bias.data.set([0.1]);
    const s = Array.from(p.decisionFunction(x).data);
    const want = [0.3, -0.2];
    let wantB = 0.1;
    for (let i = 0; i < 20; i++) {
      const t = y.data[i];
      if (t * s[i] <= 0) {
        want[0] += 0.5 * t * x.data[2 * i];
        want[1] += 0.5 * t * x.data[2 * i + 1];
        wantB += 0.5 * t;
      }
    }
    const opt = new optim.SGD(p.parameters(), { lr: 0.5 });
    losses.perceptron(p.decisionFunction(x), y.reshape([20, 1]), { reduction: 'sum' }).backward();
    opt.step();
    expect(p.weight.data[0]).toBeCloseTo(want[0], 5);
    expect(p.weight.data[1]).toBeCloseTo(want[1], 5);
    expect(p.bias.data[0]).toBeCloseTo(wantB, 5);
  });

  it('train(bool) still switches the training mode', () => {
    const p = new nn.Perceptron(2);
    expect(p.train(false)).toBe(p);
    expect(p.training).toBe(false);
    expect(p.train()).toBe(p);
    expect(p.training).toBe(true);
    expect(p.eval().training).toBe(false);
  });

  it('config, fromConfig, save/load', async () => {
    const p = new nn.Perceptron(2);
    p.train(XOR_X, tensor([-1, -1, -1, 1]));
    expect(p.config()).toEqual({ type: 'Perceptron', inFeatures: 2 });
    expect(fromConfig({ type: 'Perceptron', inFeatures: 5 })).toBeInstanceOf(nn.Perceptron);
    expect(() => fromConfig({ type: 'Perceptron', inFeatures: 0 })).toThrow(/fathom\.fromConfig: Perceptron\.inFeatures must be a positive integer, got 0/);
    const dir = await mkdtemp(join(tmpdir(), 'fathom-perceptron-'));
    try {
      await save(p, join(dir, 'p.safetensors'));
      const q = await load(join(dir, 'p.safetensors'));
      expect(q).toBeInstanceOf(nn.Perceptron);
      expect(Array.from(q.predict(XOR_X).data)).toEqual([-1, -1, -1, 1]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refusals name the method, the argument, what was expected and what came', () => {
    const p = new nn.Perceptron(2);
    const cases: [() => unknown, RegExp][] = [
      [() => new nn.Perceptron(0), /^fathom\.Perceptron: inFeatures must be a positive integer, got 0$/],
      [() => new nn.Perceptron('2' as never), /^fathom\.Perceptron: inFeatures must be a positive integer, got "2"$/],
      [() => p.train(XOR_X, tensor([0, 1, 1, 0])), /^fathom\.Perceptron\.train: labels must be -1 or 1, got 0 at index 0 \(the perceptron uses labels -1\/1: map 0\/1 labels with 2y - 1\)$/],
      [() => p.train(XOR_X, tensor([1, 2, 1, 1])), /^fathom\.Perceptron\.train: labels must be -1 or 1, got 2 at index 1$/],
      [() => p.train(XOR_X, tensor([1, -1])), /^fathom\.Perceptron\.train: y must have shape \[4\] or \[4, 1\] for x \[4, 2\], got \[2\]$/],
      [() => p.train(XOR_X, [1, -1, 1, -1] as never), /^fathom\.Perceptron\.train: y must be a Tensor of labels -1\/1, got Array$/],
      [() => p.train(tensor([[1, 2, 3]]), tensor([1])), /^fathom\.Perceptron\.train: expected a float32 input \[batch, 2\], got float32 \[1, 3\]$/],
      [() => p.train(tensor([[1, NaN]]), tensor([1])), /^fathom\.Perceptron\.train: x must be finite, got NaN at row 0, column 1$/],
      [() => p.train(XOR_X, XOR_Y, { lr: 0 }), /^fathom\.Perceptron\.train: lr must be a finite number > 0, got 0$/],
      [() => p.train(XOR_X, XOR_Y, { epochs: 0 }), /^fathom\.Perceptron\.train: epochs must be an integer >= 1, got 0$/],
      [() => p.train(XOR_X, XOR_Y, { epochs: 2.5 }), /^fathom\.Perceptron\.train: epochs must be an integer >= 1, got 2.5$/],
      [() => p.train(XOR_X, XOR_Y, { seed: -1, shuffle: true }), /^fathom\.Perceptron\.train: seed must be a non-negative integer, got -1$/],
      [() => p.train(XOR_X, XOR_Y, { epoch: 5 } as never), /^fathom\.Perceptron\.train: unknown option 'epoch' \(did you mean 'epochs'\?\)/],
      [() => p.forward(tensor([1, 2])), /^fathom\.Perceptron: expected a float32 input \[batch, 2\], got float32 \[2\]$/],
      [() => p.train('yes' as never), /^fathom\.Module\.train: expected a boolean, got string$/],
      [() => new nn.Perceptron(1).train(tensor([[2]]), tensor([1]), { lr: 3e38 }), /^fathom\.Perceptron\.train: the weights overflowed float32 at epoch 1 \(lr 3e\+38\); lower lr or scale x$/],
    ];
    for (const [i, [f, re]] of cases.entries()) expect(f, `case ${i}`).toThrow(re);
  });
});
