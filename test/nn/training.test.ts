import { describe, expect, it } from 'vitest';
import { data, losses, manualSeed, nn, noGrad, optim, setBackend, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);

function xorModel(seed: number): nn.Sequential {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(2, 8), new nn.Tanh(), new nn.Linear(8, 1));
}

describe.each(backends)('training on the %s backend', (name) => {
  it('a 2-layer MLP learns XOR with the PyTorch-style loop', () => {
    setBackend(name);
    const model = xorModel(3);
    const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const y = tensor([[0], [1], [1], [0]]);
    const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
    let last = Infinity;
    for (let i = 0; i < 300; i++) {
      const loss = losses.binaryCrossEntropy(model.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      last = loss.item();
    }
    expect(last).toBeLessThan(0.05);
    const p = noGrad(() => model.forward(x).sigmoid());
    expect([...p.data].map((v) => Math.round(v))).toEqual([0, 1, 1, 0]);
  });

  it('a small MLP reaches >= 90% on a 2,000-digit MNIST subset', async () => {
    setBackend(name);
    const ds = await data.mnist({ train: 2000, test: 1000 });
    manualSeed(1);
    const model = new nn.Sequential(new nn.Linear(784, 64, { init: 'he' }), new nn.ReLU(), new nn.Linear(64, 10));
    const history = await model.fit(ds.train.x, ds.train.y, {
      loss: 'crossEntropy', optimizer: new optim.Adam(model.parameters(), { lr: 2e-3 }),
      epochs: 8, batchSize: 32, seed: 1, verbose: 0,
    });
    const { accuracy } = await model.evaluate(ds.train.x, ds.train.y);
    expect(history.history.loss.at(-1)!).toBeLessThan(history.history.loss[0]);
    expect(accuracy!).toBeGreaterThanOrEqual(0.9);
    // Held-out digits: ~87.5 % is what 2,000 training samples give this model (measured).
    const test = await model.evaluate(ds.test.x, ds.test.y);
    expect(test.accuracy!).toBeGreaterThan(0.85);
  });
});

describe('fit', () => {
  it('gives the same accuracy on both backends for the same seed (within 0.5%)', async () => {
    if (!nativeBinding()) return;
    const ds = await data.mnist({ train: 2000 });
    const run = async (b: 'ts' | 'native') => {
      setBackend(b);
      manualSeed(7);
      const model = new nn.Sequential(new nn.Linear(784, 32, { init: 'he' }), new nn.ReLU(), new nn.Linear(32, 10));
      await model.fit(ds.train.x, ds.train.y, { loss: 'crossEntropy', optimizer: 'adam', lr: 2e-3, epochs: 3, batchSize: 64, seed: 7, verbose: 0 });
      return (await model.evaluate(ds.train.x, ds.train.y)).accuracy!;
    };
    const a = await run('ts');
    const b = await run('native');
    expect(Math.abs(a - b)).toBeLessThanOrEqual(0.005);
  });

  it('records history, validation metrics, callbacks and can stop early', async () => {
    const x = tensor(Float32Array.from({ length: 200 }, (_, i) => (i % 7) / 7), [100, 2]);
    const y = tensor(Int32Array.from({ length: 100 }, (_, i) => i % 2));
    manualSeed(2);
    const model = new nn.Sequential(new nn.Linear(2, 4), new nn.ReLU(), new nn.Linear(4, 2));
    const batches: number[] = [];
    const epochsSeen: number[] = [];
    const lines: string[] = [];
    const h = await model.fit(x, y, {
      loss: 'crossEntropy', optimizer: 'sgd', lr: 0.1, epochs: 5, batchSize: 16, validationSplit: 0.2,
      callbacks: {
        onBatchEnd: (b) => { batches.push(b); },
        onEpochEnd: (e, logs) => { epochsSeen.push(e); expect(logs.valLoss).toBeTypeOf('number'); return e < 2; },
      },
      progress: { batch: () => {}, epoch: (e) => { lines.push(`epoch ${e}`); } },
    });
    expect(epochsSeen).toEqual([0, 1, 2]); // stopped after the callback returned false
    expect(h.history.loss.length).toBe(3);
    expect(h.history.accuracy!.length).toBe(3);
    expect(h.history.valAccuracy!.length).toBe(3);
    expect(batches.filter((b) => b === 0).length).toBe(3);
    expect(Math.max(...batches)).toBe(Math.ceil(80 / 16) - 1); // 80 training samples after the split
    expect(lines).toEqual(['epoch 0', 'epoch 1', 'epoch 2']);
  });

  it('yields to the event loop between batches while it trains', async () => {
    const x = tensor(new Float32Array(4096 * 16).fill(0.5), [4096, 16]);
    const y = tensor(new Int32Array(4096));
    const model = new nn.Sequential(new nn.Linear(16, 16), new nn.ReLU(), new nn.Linear(16, 2));
    let batchesDone = 0;
    let timerFiredAfter = -1;
    setTimeout(() => { timerFiredAfter = batchesDone; }, 0);
    await model.fit(x, y, {
      loss: 'crossEntropy', optimizer: 'sgd', epochs: 1, batchSize: 64, verbose: 0,
      callbacks: { onBatchEnd: () => { batchesDone++; } },
    });
    expect(batchesDone).toBe(64);
    // A timer queued before fit() ran while fit() was still in progress.
    expect(timerFiredAfter).toBeGreaterThanOrEqual(0);
    expect(timerFiredAfter).toBeLessThan(64);
  });

  it('predict batches and matches forward; evaluate restores the training mode', async () => {
    manualSeed(4);
    const model = new nn.Sequential(new nn.Linear(5, 3));
    const x = tensor(Float32Array.from({ length: 50 }, (_, i) => Math.sin(i)), [10, 5]);
    const all = model.predict(x, { batchSize: 3 });
    const direct = noGrad(() => model.forward(x));
    expect([...all.data]).toEqual([...direct.data]);
    expect(all.requiresGrad).toBe(false);
    expect(model.training).toBe(true);
  });

  it('refuses mismatched data with a clear error', async () => {
    const model = new nn.Sequential(new nn.Linear(2, 2));
    await expect(model.fit(tensor(new Float32Array(6), [3, 2]), tensor(new Int32Array(4)), { loss: 'crossEntropy', optimizer: 'sgd' }))
      .rejects.toThrow(/x has 3 samples \(shape \[3, 2\]\) but y has 4/);
    expect(() => model.forward(tensor(new Float32Array(6), [2, 3]))).toThrow(/fathom.Linear: expected input \[\*, 2\] \(any rank >= 1, last axis 2\), got \[2, 3\]/);
  });
});

describe('modules', () => {
  it('list parameters, name them, freeze them', () => {
    const m = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2, { bias: false }));
    expect(m.namedParameters().map(([n, t]) => `${n}:${t.shape.join('x')}`)).toEqual(['0.weight:4x3', '0.bias:4', '2.weight:2x4']);
    m.layers[0].freeze();
    expect(m.parameters().filter((p) => p.requiresGrad).length).toBe(1);
    const loss = m.forward(tensor([[1, 2, 3]])).sum();
    loss.backward();
    expect((m.layers[0] as nn.Linear).weight.grad).toBeNull();
    expect((m.layers[2] as nn.Linear).weight.grad).not.toBeNull();
  });

  it('initialise with Glorot and He scales', () => {
    manualSeed(9);
    const g = new nn.Linear(400, 100);
    const limit = Math.sqrt(6 / 500);
    expect(Math.max(...g.weight.data.map(Math.abs))).toBeLessThanOrEqual(limit);
    const he = new nn.Linear(400, 100, { init: 'he' });
    const std = Math.sqrt(he.weight.f32().reduce((s, v) => s + v * v, 0) / he.weight.size);
    expect(Math.abs(std - Math.sqrt(2 / 400))).toBeLessThan(0.005);
    expect([...g.bias!.data].every((v) => v === 0)).toBe(true);
  });

  it('accumulate gradients across backward calls until zeroGrad', () => {
    const w = tensor([2]).requireGrad();
    w.mul(3).sum().backward();
    w.mul(3).sum().backward();
    expect(w.grad!.item()).toBe(6);
    const opt = new optim.SGD([w]);
    const buffer = w.grad!;
    opt.zeroGrad(); // keeps the buffer, zeroed: the next backward adds into it
    expect(w.grad).toBe(buffer);
    expect(w.grad!.item()).toBe(0);
    w.mul(5).sum().backward();
    expect(w.grad).toBe(buffer);
    expect(w.grad!.item()).toBe(5);
    opt.zeroGrad(true);
    expect(w.grad).toBeNull();
  });

  it('does not record in noGrad and frees the graph after backward', () => {
    const w = tensor([1, 2]).requireGrad();
    const y = noGrad(() => w.mul(2));
    expect(y.requiresGrad).toBe(false);
    const z = w.mul(2).sum();
    expect(z.node).not.toBeNull();
    z.backward();
    expect(z.node!.released).toBe(true);
    expect(z.node!.inputs).toEqual([]); // the graph is released
    expect(() => z.backward()).toThrow(/backward through the graph a second time/);
    expect(() => tensor([1]).sum().backward()).toThrow(/does not require grad/);
  });
});


describe('gradient buffers', () => {
  it('are never shared between leaves (add passes dy to both inputs)', () => {
    const a = tensor([1, 2]).requireGrad();
    const b = tensor([3, 4]).requireGrad();
    a.add(b).sum().backward();
    expect(a.grad!.data).not.toBe(b.grad!.data);
    a.mul(2).sum().backward(); // accumulates into a.grad in place
    expect([...a.grad!.data]).toEqual([3, 3]);
    expect([...b.grad!.data]).toEqual([1, 1]);
  });
});

describe('zeroGrad without zero-filling', () => {
  it('overwrites stale buffers, also when a weight is used twice in one op', () => {
    const w = tensor([[1, 2], [3, 4]]).requireGrad();
    const opt = new optim.SGD([w], { lr: 0 });
    const grad = () => {
      opt.zeroGrad();
      w.matmul(w).sum().backward();
      return [...w.grad!.data];
    };
    const first = grad();
    expect(grad()).toEqual(first); // stale values are not added in
    // L = sum(W W): dL/dW = 1 Wᵀ (row sums 3, 7 across) + Wᵀ 1 (column sums 4, 6 down)
    expect(first).toEqual([3 + 4, 7 + 4, 3 + 6, 7 + 6]);
    opt.zeroGrad();
    expect([...w.grad!.data]).toEqual([0, 0, 0, 0]); // reads as zeros
  });
});

describe('autograd edge cases', () => {
  it('refuses a second backward through a freed graph without touching any gradient', () => {
    const W = tensor([[1, 1], [1, 1]]).requireGrad();
    const h = tensor([[1, 1]]).matmul(W);
    h.sum().backward();
    expect([...W.grad!.data]).toEqual([1, 1, 1, 1]);
    expect(() => h.mul(2).sum().backward()).toThrow(/second time/);
    expect([...W.grad!.data]).toEqual([1, 1, 1, 1]);
  });

  it('noGrad in one async context does not switch recording off in another', async () => {
    const w = tensor([1, 2]).requireGrad();
    let inside = true;
    const pending = noGrad(async () => {
      await new Promise((r) => setTimeout(r, 20));
      inside = w.mul(2).requiresGrad;
    });
    await new Promise((r) => setTimeout(r, 5)); // noGrad's body is suspended here
    expect(w.mul(2).requiresGrad).toBe(true);
    await pending;
    expect(inside).toBe(false);
  });
});

describe('fit and evaluate details', () => {
  it('shuffles differently on each fit() call unless seeded, and restores the mode', async () => {
    const order = async (seed?: number) => {
      const seen: number[] = [];
      const x = tensor(Float32Array.from({ length: 8 }, (_, i) => i), [8, 1]);
      const y = tensor(new Int32Array(8));
      const model = new nn.Sequential(new nn.Linear(1, 2));
      model.eval();
      const probe = { forward: (t: import('../../lib/index.js').Tensor) => { seen.push(...t.data); return model.forward(t); } };
      const wrapped = Object.assign(Object.create(Object.getPrototypeOf(model)), model, probe);
      await wrapped.fit(x, y, { loss: 'crossEntropy', optimizer: 'sgd', epochs: 1, batchSize: 8, seed, verbose: 0 });
      expect(wrapped.training).toBe(false); // restored
      return seen.join(',');
    };
    manualSeed(3);
    const a = await order();
    const b = await order();
    expect(a).not.toBe(b);
    expect(await order(5)).toBe(await order(5));
  });

  it('evaluate() defaults to the loss the model was fitted with', async () => {
    manualSeed(1);
    const model = new nn.Sequential(new nn.Linear(3, 2));
    const x = tensor(Float32Array.from({ length: 12 }, (_, i) => (i % 5) / 5), [4, 3]);
    const oneHot = tensor([[1, 0], [0, 1], [1, 0], [0, 1]]);
    await model.fit(x, oneHot, { loss: 'crossEntropy', optimizer: 'sgd', epochs: 1, verbose: 0 });
    const r = await model.evaluate(x, oneHot);
    const explicit = await model.evaluate(x, oneHot, { loss: 'crossEntropy' });
    expect(r.loss).toBeCloseTo(explicit.loss, 6);
    expect(r.accuracy).toBe(explicit.accuracy);
  });

  it('optimizers skip parameters a step did not use (as with a None grad)', () => {
    const used = tensor([1]).requireGrad();
    const unused = tensor([1]).requireGrad();
    const opt = new optim.SGD([used, unused], { lr: 0.1, momentum: 0.9, weightDecay: 0.5 });
    used.mul(unused).sum().backward(); // both get gradients once
    opt.step();
    const before = unused.data[0];
    opt.zeroGrad();
    used.mul(2).sum().backward(); // only `used` this time
    opt.step();
    expect(unused.data[0]).toBe(before);
  });

  it('save keeps tied weights tied: load gives back one shared layer (test/io/tied.test.ts tests it fully)', async () => {
    const shared = new nn.Linear(2, 2);
    const model = new nn.Sequential(shared, new nn.Tanh(), shared);
    expect(model.parameters().length).toBe(2);
    const { save, load } = await import('../../lib/index.js');
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'fathom-tied-'));
    try {
      await save(model, join(dir, 'tied.safetensors'));
      const back = await load(join(dir, 'tied.safetensors')) as nn.Sequential;
      expect(back.layers[2]).toBe(back.layers[0]);
      expect(back.parameters().length).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('predict never returns the input tensor itself', () => {
    const model = new nn.Sequential();
    const x = tensor([[1, 2]]);
    const y = model.predict(x);
    expect(y).not.toBe(x);
    expect(y.data).not.toBe(x.data);
  });
});
