/**
 * pretrain.layerwise: greedy layer-wise pre-training on a tiny seeded set of
 * noisy binary prototypes, on both backends: each stage's reconstruction
 * error falls (autoencoder, denoising, tied, rbm); the rbm method copies W and
 * the hidden bias exactly into the Linear; the input each stage trains on is
 * the codes of the stages below after their training; runs are reproducible
 * from the seed; the event loop keeps turning; bad input is refused by name
 * before anything trains.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Tensor, noGrad, nn, pretrain, setBackend, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { mulberry32 } from '../../lib/data/random.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

/** n rows of D = 16 binary pixels: one of 4 random prototypes with 5 % of the pixels flipped. */
function prototypes(n: number, seed = 7): Tensor {
  const r = mulberry32(seed);
  const D = 16;
  const protos = Array.from({ length: 4 }, () => Array.from({ length: D }, () => (r() < 0.5 ? 1 : 0)));
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const p = protos[i % 4];
    for (let j = 0; j < D; j++) out[i * D + j] = r() < 0.05 ? 1 - p[j] : p[j];
  }
  return new Tensor(out, [n, D]);
}

const quiet = { verbose: 0 as const };
const arr = (t: Tensor): number[] => Array.from(t.data as Float32Array);
const stack = (): nn.Linear[] => [new nn.Linear(16, 8, { seed: 1 }), new nn.Linear(8, 4, { seed: 2 })];

describe.each(backends)('pretrain.layerwise on the %s backend', (name) => {
  it('autoencoder: every layer reconstructs its input better after its training (BCE on pixels and sigmoid codes)', async () => {
    setBackend(name);
    const layers = stack();
    const r = await pretrain.layerwise(layers, prototypes(64), { ...quiet, epochs: 30, batchSize: 16, lr: 0.01, seed: 3 });
    expect(r.reports).toHaveLength(2);
    expect(r.layers).toEqual(layers);
    for (const q of r.reports) {
      expect(q.method).toBe('autoencoder');
      expect(q.loss).toBe('binaryCrossEntropy');
      expect(q.after).toBeLessThan(q.before);
      expect(q.mseAfter).toBeLessThan(q.mseBefore);
      expect(q.history).toHaveLength(30);
      expect(q.history[29]).toBeLessThan(q.history[0]);
    }
    expect([r.reports[0].inFeatures, r.reports[0].outFeatures, r.reports[1].inFeatures, r.reports[1].outFeatures]).toEqual([16, 8, 8, 4]);
    // The stacked encoder is the stages with their activations: Linear, Sigmoid, Linear, Sigmoid.
    expect(r.encoder.layers.map((m) => m.constructor.name)).toEqual(['Linear', 'Sigmoid', 'Linear', 'Sigmoid']);
    expect(r.encoder.layers[0]).toBe(layers[0]);
  });

  it('denoising (masking, Gaussian) and tied weights also lower each layer\'s clean reconstruction error', async () => {
    setBackend(name);
    for (const extra of [
      { corruption: { type: 'masking' as const, p: 0.25 } },
      { corruption: { type: 'gaussian' as const, std: 0.2 } },
      { tiedWeights: true },
    ]) {
      const r = await pretrain.layerwise(stack(), prototypes(64), { ...quiet, epochs: 30, batchSize: 16, lr: 0.01, seed: 4, ...extra });
      for (const q of r.reports) expect(q.after, JSON.stringify(extra)).toBeLessThan(q.before);
      if (extra.tiedWeights) {
        // One weight per stage: the decoder has only its bias.
        const ae = r.reports[0].autoencoder!;
        expect(ae.decoder).toBeNull();
        expect(ae.parameters().map((p) => p.shape)).toEqual([[16], [8, 16], [8]]);
      }
    }
  });

  it('ReLU stages: BCE for the pixels, squared error for the unbounded codes above', async () => {
    setBackend(name);
    const layers = [
      new nn.Sequential(new nn.Linear(16, 8, { init: 'he', seed: 1 }), new nn.ReLU()),
      new nn.Sequential(new nn.Linear(8, 4, { init: 'he', seed: 2 }), new nn.ReLU()),
    ];
    const r = await pretrain.layerwise(layers, prototypes(64), { ...quiet, epochs: 30, batchSize: 16, lr: 0.01, seed: 5 });
    expect(r.reports.map((q) => q.loss)).toEqual(['binaryCrossEntropy', 'mse']);
    for (const q of r.reports) expect(q.after).toBeLessThan(q.before);
    expect(r.reports[1].mseAfter).toBe(r.reports[1].after);
  });

  it('rbm: every layer\'s mean-field reconstruction improves, and W and the hidden bias are copied exactly into the Linear', async () => {
    setBackend(name);
    const layers = stack();
    const x = prototypes(64);
    const r = await pretrain.layerwise(layers, x, { ...quiet, method: 'rbm', epochs: 30, batchSize: 16, seed: 6 });
    for (const [k, q] of r.reports.entries()) {
      expect(q.method).toBe('rbm');
      expect(q.after).toBeLessThan(q.before);
      expect(q.mseAfter).toBeLessThan(q.mseBefore);
      const rbm = q.rbm!;
      expect(rbm.chain).toBeNull();
      expect(arr(layers[k].weight)).toEqual(arr(rbm.weight));
      expect(arr(layers[k].bias!)).toEqual(arr(rbm.hiddenBias));
      // Moved away from the RBM's N(0, 0.01²) start: training did happen.
      expect(Math.max(...arr(rbm.weight).map(Math.abs))).toBeGreaterThan(0.1);
    }
    // The stage computes the RBM's hidden probabilities.
    const h = noGrad(() => r.encoder.layers[1].forward(layers[0].forward(x)));
    const p = r.reports[0].rbm!.hiddenProbs(x);
    expect(arr(h)).toEqual(arr(p));
  });

  it('persistent CD trains too (a last partial batch is skipped) and drops its chain', async () => {
    setBackend(name);
    const r = await pretrain.layerwise(stack(), prototypes(70), { ...quiet, method: 'rbm', persistent: true, k: 2, epochs: 20, batchSize: 16, lr: 0.05, seed: 8 });
    for (const q of r.reports) {
      expect(q.after).toBeLessThan(q.before);
      expect(q.rbm!.chain).toBeNull();
    }
  });
});

describe('pretrain.layerwise: what each stage trains on', () => {
  for (const method of ['autoencoder', 'rbm'] as const) {
    it(`${method}: layer 1 trains on the codes of layer 0 after layer 0's training, every row of them`, async () => {
      const x = prototypes(32);
      const layers = [new nn.Sequential(new nn.Linear(16, 8, { seed: 1 }), new nn.Sigmoid()), new nn.Sequential(new nn.Linear(8, 4, { seed: 2 }), new nn.Sigmoid())];
      const before = noGrad(() => layers[0].forward(x));
      const seen: number[][] = [];
      // What the second stage is given: its forward (autoencoder) or each CD step on 8 visible units (rbm).
      const fwd = vi.spyOn(layers[1], 'forward');
      const cd = vi.spyOn(nn.RBM.prototype, 'cdStep');
      try {
        await pretrain.layerwise(layers, x, { ...quiet, method, epochs: 3, batchSize: 8, seed: 9, ...(method === 'autoencoder' ? { lr: 0.01 } : {}) });
        const calls = method === 'autoencoder'
          ? fwd.mock.calls.map((c) => c[0])
          : cd.mock.calls.filter((c, i) => (cd.mock.contexts[i] as nn.RBM).visible === 8).map((c) => c[0]);
        for (const t of calls) for (let i = 0; i < t.shape[0]; i++) seen.push(arr(t).slice(i * 8, (i + 1) * 8));
      } finally {
        fwd.mockRestore();
        cd.mockRestore();
      }
      const after = noGrad(() => layers[0].forward(x));
      const rows = (t: Tensor) => Array.from({ length: 32 }, (_, i) => arr(t).slice(i * 8, (i + 1) * 8));
      const near = (a: number[], b: number[]) => a.every((v, j) => Math.abs(v - b[j]) < 1e-6);
      // 3 epochs of all 32 rows (the autoencoder's reconstruction figures add forward calls of the same rows).
      expect(seen.length).toBeGreaterThanOrEqual(3 * 32);
      for (const s of seen) expect(rows(after).some((a) => near(a, s))).toBe(true);
      for (const a of rows(after)) expect(seen.some((s) => near(a, s))).toBe(true);
      // ... and not those of layer 0 before its training.
      expect(rows(before).filter((b) => seen.some((s) => near(b, s)))).toHaveLength(0);
    });
  }
});

describe('pretrain.layerwise: seeds, the event loop, bare Linear activations', () => {
  it('the same seed gives the same weights; another seed others (both methods)', async () => {
    for (const method of ['autoencoder', 'rbm'] as const) {
      const run = async (seed: number) => {
        const layers = stack();
        await pretrain.layerwise(layers, prototypes(32), { ...quiet, method, epochs: 2, batchSize: 8, seed, ...(method === 'autoencoder' ? { corruption: { type: 'masking', p: 0.3 } } : {}) });
        return layers.flatMap((l) => arr(l.weight));
      };
      const a = await run(1);
      expect(await run(1)).toEqual(a);
      expect(await run(2)).not.toEqual(a);
    }
  });

  it('yields to the event loop between batches', async () => {
    let ticks = 0;
    let on = true;
    const spin = (): void => {
      ticks++;
      if (on) setImmediate(spin);
    };
    for (const method of ['autoencoder', 'rbm'] as const) {
      ticks = 0;
      on = true;
      setImmediate(spin);
      await pretrain.layerwise(stack(), prototypes(64), { ...quiet, method, epochs: 2, batchSize: 8, seed: 1 });
      on = false;
      // 2 stages × 2 epochs × 8 batches: the loop turned at least once per batch.
      expect(ticks, method).toBeGreaterThanOrEqual(32);
    }
  });

  it('bare Linear stages take options.activation; progress lines name each layer and epoch', async () => {
    const lines: string[] = [];
    const r = await pretrain.layerwise(stack(), prototypes(32), {
      activation: 'tanh', loss: ['binaryCrossEntropy', 'mse'], epochs: 2, batchSize: 8, seed: 1, progress: { write: (s: string) => lines.push(s) },
    });
    expect(r.encoder.layers.map((m) => m.constructor.name)).toEqual(['Linear', 'Tanh', 'Linear', 'Tanh']);
    expect(r.reports.map((q) => q.loss)).toEqual(['binaryCrossEntropy', 'mse']);
    expect(lines.join('')).toMatch(/^pretrain autoencoder layer 1\/2 \(Linear\(16→8\) \+ tanh\): epoch 1\/2 · loss \d/);
    expect(lines.filter((l) => /reconstruction/.test(l))).toHaveLength(2);
    expect(lines).toHaveLength(6);
  });
});

describe('pretrain.layerwise: refusals (all but the last checked before any training)', () => {
  const x = prototypes(8);
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['no layers', () => pretrain.layerwise([], x), /layers must be a non-empty array of encoder stages .*got an empty array/],
    ['not an array', () => pretrain.layerwise(new nn.Linear(16, 8) as never, x), /layers must be a non-empty array .*got Linear/],
    ['a stage that is no Linear', () => pretrain.layerwise([new nn.ReLU()], x), /layers\[0\] must be an nn\.Linear or an nn\.Sequential starting with an nn\.Linear, got ReLU/],
    ['a Sequential not starting with a Linear', () => pretrain.layerwise([new nn.Sequential(new nn.ReLU())], x), /layers\[0\] .* got an nn\.Sequential starting with ReLU/],
    ['stages that do not chain', () => pretrain.layerwise([new nn.Linear(16, 8), new nn.Linear(6, 4)], x), /layers\[1\] takes 6 features but layers\[0\] gives 8/],
    ['one Linear twice', () => { const l = new nn.Linear(16, 16); return pretrain.layerwise([l, l], x); }, /layers\[1\] uses the same nn\.Linear as an earlier stage/],
    ['x of the wrong width', () => pretrain.layerwise(stack(), tensor([[1, 0]])), /x must be a float32 Tensor \[N, 16\] with N >= 1 .*got float32 \[1, 2\]/],
    ['x not a tensor', () => pretrain.layerwise(stack(), [[1]] as never), /x must be a float32 Tensor \[N, 16\], got Array/],
    ['NaN in x', () => { const y = prototypes(2); (y.data as Float32Array)[5] = NaN; return pretrain.layerwise(stack(), y); }, /x must hold finite values, got NaN at \[0, 5\]/],
    ['rbm on x outside [0, 1]', () => { const y = prototypes(2); (y.data as Float32Array)[17] = 2; return pretrain.layerwise(stack(), y, { method: 'rbm' }); }, /method 'rbm' needs x in \[0, 1\] .*got 2 at \[1, 1\]/],
    ['rbm on ReLU stages', () => pretrain.layerwise(stack(), x, { method: 'rbm', activation: 'relu' }), /method 'rbm' needs sigmoid stages .*layers\[0\] is Linear\(16→8\) \+ relu/],
    ['rbm without a bias', () => pretrain.layerwise([new nn.Linear(16, 8, { bias: false })], x, { method: 'rbm' }), /copies the RBM's hidden bias .*layers\[0\] has bias: false/],
    ['an unknown method', () => pretrain.layerwise(stack(), x, { method: 'rmb' as never }), /options\.method must be 'autoencoder' or 'rbm', got "rmb" \(did you mean 'rbm'\?\)/],
    ['an unknown option', () => pretrain.layerwise(stack(), x, { epoch: 3 } as never), /unknown option 'epoch' \(did you mean 'epochs'\?\)/],
    ['an option of the other method', () => pretrain.layerwise(stack(), x, { method: 'rbm', tiedWeights: true }), /options\.tiedWeights applies to method 'autoencoder' only, got method 'rbm'/],
    ['an rbm option with the autoencoder', () => pretrain.layerwise(stack(), x, { k: 2 }), /options\.k applies to method 'rbm' only, got method 'autoencoder'/],
    ['epochs 0', () => pretrain.layerwise(stack(), x, { epochs: 0 }), /options\.epochs must be a positive integer, got 0/],
    ['batchSize 1.5', () => pretrain.layerwise(stack(), x, { batchSize: 1.5 }), /options\.batchSize must be a positive integer, got 1\.5/],
    ['lr -1', () => pretrain.layerwise(stack(), x, { lr: -1 }), /options\.lr must be a finite number > 0, got -1/],
    ['lr with an optimizer function', () => pretrain.layerwise(stack(), x, { lr: 0.1, optimizer: () => null as never }), /options\.lr applies to a named optimizer/],
    ['an unknown optimizer', () => pretrain.layerwise(stack(), x, { optimizer: 'adma' as never }), /options\.optimizer must be one of .*got "adma" \(did you mean 'adam'\?\)/],
    ['a bad activation', () => pretrain.layerwise(stack(), x, { activation: 'gelu' as never }), /options\.activation must be one of 'sigmoid', 'relu', 'tanh', got "gelu"/],
    ['activation for Sequential stages', () => pretrain.layerwise([new nn.Sequential(new nn.Linear(16, 8), new nn.Sigmoid())], x, { activation: 'relu' }), /options\.activation applies to bare nn\.Linear stages/],
    ['a bad corruption', () => pretrain.layerwise(stack(), x, { corruption: { type: 'masking', p: 1 } }), /options\.corruption must be \{ type: 'masking', p \} with 0 <= p < 1 .*got \{ type: 'masking', p: 1 \}/],
    ['an unknown corruption', () => pretrain.layerwise(stack(), x, { corruption: { type: 'salt' } as never }), /options\.corruption\.type must be 'masking' or 'gaussian', got "salt"/],
    ['a loss list of the wrong length', () => pretrain.layerwise(stack(), x, { loss: ['mse'] }), /options\.loss must be one loss or a list of 2 .*got a list of 1/],
    ['an unknown loss', () => pretrain.layerwise(stack(), x, { loss: 'bce' as never }), /options\.loss must be 'binaryCrossEntropy' or 'mse', got "bce"/],
    ['BCE on codes outside [0, 1]', () => pretrain.layerwise(stack(), x, { activation: 'tanh', loss: 'binaryCrossEntropy', epochs: 1, ...quiet }), /the binaryCrossEntropy reconstruction of layers\[1\] needs its input in \[0, 1\], but the codes of layers\[0\] .* leave it; use loss 'mse'/],
    ['momentum 1', () => pretrain.layerwise(stack(), x, { method: 'rbm', momentum: 1 }), /options\.momentum must be a number in \[0, 1\), got 1/],
    ['a negative seed', () => pretrain.layerwise(stack(), x, { seed: -1 }), /options\.seed must be an integer >= 0, got -1/],
    ['verbose 2', () => pretrain.layerwise(stack(), x, { verbose: 2 as never }), /options\.verbose must be 0 or 1, got 2/],
  ];
  it.each(cases)('%s', async (_what, f, message) => {
    await expect(f()).rejects.toThrow(message);
    await expect(f()).rejects.toThrow(/^fathom\.pretrain\.layerwise: /);
  });

  it('nothing is trained when a later stage is refused', async () => {
    const layers = [new nn.Linear(16, 8, { seed: 1 }), new nn.Linear(8, 4, { bias: false, seed: 2 })];
    const w = arr(layers[0].weight);
    await expect(pretrain.layerwise(layers, x, { method: 'rbm', ...quiet })).rejects.toThrow(/layers\[1\] has bias: false/);
    expect(arr(layers[0].weight)).toEqual(w);
  });
});

describe('pretrain.layerwise: the stages keep their mode', () => {
  it('a stage in eval mode is in eval mode afterwards', async () => {
    const layers = [new nn.Sequential(new nn.Linear(16, 8, { seed: 1 }), new nn.Dropout(0.5)).eval()];
    await pretrain.layerwise(layers, prototypes(16), { ...quiet, epochs: 1, batchSize: 8, seed: 1, loss: 'mse' });
    expect(layers[0].training).toBe(false);
    expect((layers[0].layers[1] as nn.Dropout).training).toBe(false);
  });
});
