// Faults found in pretrain.layerwise by a new user and a breaker (fu3), each fixed and pinned here, on both backends:
// - the work outside fit (the before/after figures on up to evalRows rows, the codes of all N rows for the
//   next stage) ran as one synchronous call each, blocking the caller's event loop for hundreds of ms at
//   N = 10,000 (README: "yields to the event loop after every batch"): now in chunks with a yield after each;
// - an x whose buffer was transferred away was reported by `fathom.slice` deep inside a stage;
// - a frozen stage was silently left untrained (autoencoder: only the decoder trained) or overwritten (rbm);
// - an optimizer function returning a non-Optimizer was reported as fit's `options.optimizer`.
import { afterAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, pretrain, rand, setBackend, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { codesOf, MEASURE_BATCH } from '../../lib/pretrain/stages.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

/** Counts event-loop turns (setImmediate callbacks) while `work` runs. */
async function turnsDuring<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let on = true;
  const spin = (): void => { if (on) { turns++; setImmediate(spin); } };
  setImmediate(spin);
  try {
    return { value: await work(), turns };
  } finally {
    on = false;
  }
}

describe.each(backends)('pretrain faults (%s)', (name) => {
  it('codesOf computes predict()\'s codes in chunks, letting the event loop turn between them', async () => {
    setBackend(name);
    manualSeed(1);
    const enc = new nn.Sequential(new nn.Linear(6, 5), new nn.Sigmoid());
    const n = 3 * MEASURE_BATCH + 7;
    const x = rand([n, 6]);
    const { value: codes, turns } = await turnsDuring(() => codesOf(enc, x));
    const want = enc.predict(x);
    expect(codes.shape).toEqual([n, 5]);
    for (let i = 0; i < want.size; i++) expect(Math.abs(codes.data[i] - want.data[i])).toBeLessThan(1e-6);
    expect(turns).toBeGreaterThanOrEqual(3); // one turn per chunk: 4 chunks
  });

  it('layerwise lets the event loop turn while it measures (more turns than training batches alone give)', async () => {
    setBackend(name);
    manualSeed(2);
    const x = rand([4 * MEASURE_BATCH, 8]);
    // One training batch per stage (batchSize = N): fit yields once or twice per epoch; the measurements
    // (4 chunks before, 4 after) and the codes (4 chunks) must add their own turns.
    const { value: r, turns } = await turnsDuring(() =>
      pretrain.layerwise([new nn.Linear(8, 4), new nn.Linear(4, 3)], x, { epochs: 1, batchSize: 4 * MEASURE_BATCH, seed: 1, verbose: 0 }),
    );
    expect(r.reports).toHaveLength(2);
    expect(turns).toBeGreaterThanOrEqual(2 * 8 + 4);
  });

  it('refuses a detached x, a frozen stage and an optimizer function that returns no Optimizer, naming layerwise', async () => {
    setBackend(name);
    const buf = new ArrayBuffer(2 * 8 * 4);
    const gone = new Tensor(new Float32Array(buf), [2, 8]);
    structuredClone(buf, { transfer: [buf] });
    await expect(pretrain.layerwise([new nn.Linear(8, 4)], gone, { epochs: 1, verbose: 0 })).rejects.toThrow(/^fathom\.pretrain\.layerwise: x has lost its storage/);

    const x = rand([16, 8]);
    for (const method of ['autoencoder', 'rbm'] as const) {
      const frozen = new nn.Linear(4, 3);
      frozen.trainable = false;
      const w0 = Float32Array.from(frozen.weight.data);
      await expect(pretrain.layerwise([new nn.Linear(8, 4), frozen], x, { method, epochs: 1, verbose: 0 })).rejects.toThrow(
        new RegExp(`fathom\\.pretrain\\.layerwise: layers\\[1\\] \\(Linear\\(4→3\\) \\+ sigmoid\\) has frozen parameters \\(trainable = false\\), which pre-training would ${method === 'rbm' ? 'overwrite' : 'leave untrained'}`),
      );
      expect(Array.from(frozen.weight.data)).toEqual(Array.from(w0)); // refused before anything trained
    }
    await expect(
      pretrain.layerwise([new nn.Linear(8, 4)], x, { epochs: 1, verbose: 0, optimizer: (() => 5) as never }),
    ).rejects.toThrow(/fathom\.pretrain\.layerwise: options\.optimizer, a function, must return an Optimizer .* got 5/);
  });
});
