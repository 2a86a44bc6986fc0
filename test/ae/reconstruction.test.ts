// The four autoencoders of issue #12 on tiny seeded data (8×8 images of one horizontal and one
// vertical bar): the held-out reconstruction error falls with fit() for a dense, a denoising
// (masking and Gaussian noise on the input only), a sparse (KL and L1) and a convolutional
// (Conv2d encoder, ConvTranspose2d decoder) autoencoder, on both backends.
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, setBackend, sigmoid, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { rng } from '../helpers/random.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

/** n images [n, 64] in [0, 1]: row r and column c lit at intensities in [0.5, 1]. */
function bars(n: number, seed: number): Tensor {
  const r = rng(seed);
  const out = new Float32Array(n * 64);
  for (let i = 0; i < n; i++) {
    const row = Math.floor(r() * 8), col = Math.floor(r() * 8);
    const a = 0.5 + 0.5 * r(), b = 0.5 + 0.5 * r();
    for (let k = 0; k < 8; k++) {
      out[i * 64 + row * 8 + k] = a;
      out[i * 64 + k * 8 + col] = Math.max(out[i * 64 + k * 8 + col], b);
    }
  }
  return new Tensor(out, [n, 64]);
}

/** Per-pixel mean squared error between sigmoid(logits) and the clean images. */
function mse(logits: Tensor, clean: Tensor): number {
  const p = sigmoid(logits).data;
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i] - clean.data[i]) ** 2;
  return s / p.length;
}

const train = bars(128, 1);
const test = bars(64, 2);
const as4d = (t: Tensor): Tensor => t.reshape([t.shape[0], 1, 8, 8]);

function dense(code = 8): nn.Module[] {
  return [new nn.Linear(64, 32), new nn.ReLU(), new nn.Linear(32, code), new nn.ReLU(), new nn.Linear(code, 32), new nn.ReLU(), new nn.Linear(32, 64)];
}

async function fitAE(model: nn.Module, x: Tensor, epochs = 25): Promise<void> {
  await model.fit(x, x, { loss: 'binaryCrossEntropy', optimizer: 'adam', lr: 1e-2, epochs, batchSize: 16, seed: 1, verbose: 0 });
}

describe.each(backends)('autoencoders reconstruct better after fit (%s backend)', (name) => {
  it('dense 64-32-8-32-64', async () => {
    setBackend(name);
    manualSeed(1);
    const model = new nn.Sequential(...dense());
    const before = mse(model.predict(test), test);
    await fitAE(model, train);
    const after = mse(model.predict(test), test);
    expect(after).toBeLessThan(0.5 * before);
  });

  for (const noise of ['masking', 'gaussian'] as const) {
    it(`denoising (${noise} noise on the input): clean digits from corrupted ones, better than the identity`, async () => {
      setBackend(name);
      manualSeed(2);
      const corrupt = noise === 'masking' ? new nn.MaskingNoise(0.25) : new nn.GaussianNoise(0.3);
      const model = new nn.Sequential(corrupt, ...dense(16));
      // a fixed corrupted copy of the test images (the layer in training mode, seeded)
      manualSeed(99);
      const noisy = corrupt.train().forward(test);
      let identity = 0;
      for (let i = 0; i < test.size; i++) identity += (Math.min(1, Math.max(0, noisy.data[i])) - test.data[i]) ** 2;
      identity /= test.size;
      const before = mse(model.predict(noisy), test);
      await fitAE(model, train, 50);
      expect(model.training).toBe(true);
      const after = mse(model.predict(noisy), test); // predict runs in eval mode: no second corruption
      expect(after).toBeLessThan(0.5 * before);
      expect(after).toBeLessThan(identity);
    });
  }

  it('sparse (KL, ρ = 0.1): reconstruction falls and the mean hidden activation moves to ρ', async () => {
    setBackend(name);
    manualSeed(3);
    const enc = new nn.Sequential(new nn.Linear(64, 24), new nn.Sigmoid());
    const model = new nn.Sequential(enc, new nn.KLSparsity({ rho: 0.1, beta: 0.05 }), new nn.Linear(24, 64));
    const meanAct = (): number => { const h = enc.predict(test).data as Float32Array; return h.reduce((s, v) => s + v, 0) / h.length; };
    const before = mse(model.predict(test), test), actBefore = meanAct();
    await fitAE(model, train);
    expect(mse(model.predict(test), test)).toBeLessThan(0.5 * before);
    expect(actBefore).toBeGreaterThan(0.3);
    expect(Math.abs(meanAct() - 0.1)).toBeLessThan(0.06);
  });

  it('sparse (L1 activity regulariser on ReLU codes): reconstruction falls and fewer codes are active', async () => {
    setBackend(name);
    const run = async (l1: number): Promise<{ err: number; before: number; active: number }> => {
      manualSeed(4);
      const enc = new nn.Sequential(new nn.Linear(64, 24), new nn.ReLU());
      const model = new nn.Sequential(enc, new nn.ActivityRegularization({ l1 }), new nn.Linear(24, 64));
      const before = mse(model.predict(test), test);
      await fitAE(model, train);
      const h = enc.predict(test).data;
      return { err: mse(model.predict(test), test), before, active: h.filter((v) => v > 0).length / h.length };
    };
    const sparse = await run(0.01), plain = await run(0);
    expect(sparse.err).toBeLessThan(0.5 * sparse.before);
    expect(sparse.active).toBeLessThan(plain.active);
  });

  it('convolutional: Conv2d encoder, ConvTranspose2d decoder', async () => {
    setBackend(name);
    manualSeed(5);
    const model = new nn.Sequential(
      new nn.Conv2d(1, 8, 3, { stride: 2, padding: 1 }), new nn.ReLU(),           // [N, 8, 4, 4]
      new nn.Conv2d(8, 16, 3, { stride: 2, padding: 1 }), new nn.ReLU(),          // [N, 16, 2, 2]
      new nn.ConvTranspose2d(16, 8, 3, { stride: 2, padding: 1, outputPadding: 1 }), new nn.ReLU(), // [N, 8, 4, 4]
      new nn.ConvTranspose2d(8, 1, 3, { stride: 2, padding: 1, outputPadding: 1 }),                 // [N, 1, 8, 8]
    );
    const x = as4d(train), t = as4d(test);
    const before = mse(model.predict(t), t);
    await fitAE(model, x);
    expect(model.predict(t).shape).toEqual([64, 1, 8, 8]);
    expect(mse(model.predict(t), t)).toBeLessThan(0.5 * before);
  });
});
