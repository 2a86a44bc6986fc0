// BatchingPredictor (lib/serve/batching.ts): the first accepted request sets the per-sample shape every
// later request must have, until a batch of it is answered. A request refused at the call (its signal
// already aborted) or cancelled while it waited never reached the model, so it must not lock the predictor
// to its shape: a later request of the model's true shape is answered (row by row as model.predict).
// maxDelayMs 10_000: a batch goes only when full (or at close()), so the cancelled request is still waiting
// when its signal fires, without timing.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, randn, serve, setBackend } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { expectRows } from '../helpers/rows.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);

function mlp(): nn.Sequential {
  manualSeed(5);
  return new nn.Sequential(new nn.Linear(5, 8), new nn.Tanh(), new nn.Linear(8, 3));
}

afterEach(() => {
  expect(liveWorkers.size).toBe(0);
});

describe.each(backends)('BatchingPredictor: a cancelled first request does not set the shape (%s)', (name) => {
  beforeAll(() => setBackend(name));

  it('a first request refused because its signal was already aborted', async () => {
    const m = mlp();
    const bp = new serve.BatchingPredictor(m, { maxBatchSize: 4, maxDelayMs: 0 });
    try {
      const reason = new Error('client gone');
      await expect(bp.predict(randn([1, 7]), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      const x = randn([2, 5]);
      expectRows(await bp.predict(x), m, x);
    } finally {
      await bp.close();
    }
  });

  it('first requests of a wrong width cancelled while waiting; then the model\'s width is answered', async () => {
    const m = mlp();
    const bp = new serve.BatchingPredictor(m, { maxBatchSize: 64, maxDelayMs: 10_000 });
    try {
      const ac = new AbortController();
      const a = bp.predict(randn([1, 7]), { signal: ac.signal });
      const b = bp.predict(randn([2, 7]), { signal: ac.signal });
      ac.abort(new Error('gone'));
      await expect(a).rejects.toThrow('gone');
      await expect(b).rejects.toThrow('gone');
      expect(bp.stats().cancelled).toBe(2);
      const xs = [randn([3, 5]), randn([1, 5])];
      const ys = Promise.all(xs.map((x) => bp.predict(x)));
      await bp.close(); // sends the waiting batch
      (await ys).forEach((y, i) => expectRows(y, m, xs[i]));
    } finally {
      await bp.close();
    }
  });

  it('one of two waiting requests of the shape cancelled: the shape still holds for the other', async () => {
    const m = mlp();
    const bp = new serve.BatchingPredictor(m, { maxBatchSize: 64, maxDelayMs: 10_000 });
    try {
      const ac = new AbortController();
      const a = bp.predict(randn([1, 5]), { signal: ac.signal });
      const x = randn([2, 5]);
      const b = bp.predict(x);
      ac.abort(new Error('gone'));
      await expect(a).rejects.toThrow('gone');
      await expect(bp.predict(randn([1, 7]))).rejects.toThrow(/per-sample shape \[7\] \(float32\), but requests to this predictor have \[5\]/);
      const done = bp.close();
      expectRows(await b, m, x);
      await done;
    } finally {
      await bp.close();
    }
  });
});
