// BatchingPredictor reuses the shared buffer of an answered batch for a later batch of the same byte size
// (lib/serve/batching.ts batchBuffer/recycle: allocating one per batch made V8 collect for the external
// memory). Every answer must still be its caller's own rows: waves of two full batches in flight together
// (maxDelayMs 10_000: a batch goes only when full) with fresh inputs each wave, from requests of varying
// rows, then batches of another size — each answer checked row by row against model.predict.
import { afterEach, describe, expect, it } from 'vitest';
import { manualSeed, nn, randn, serve, setBackend } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { expectRows } from '../helpers/rows.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);

afterEach(() => {
  expect(liveWorkers.size).toBe(0);
});

describe.each(backends)('BatchingPredictor batch buffers (%s)', (backend) => {
  it('answers every caller its own rows while batch buffers are reused across waves and sizes', async () => {
    setBackend(backend);
    manualSeed(31);
    const model = new nn.Sequential(new nn.Linear(6, 9), new nn.ReLU(), new nn.Linear(9, 3));
    const bp = new serve.BatchingPredictor(model, { maxBatchSize: 4, maxDelayMs: 10_000 });
    try {
      for (let wave = 0; wave < 12; wave++) {
        // Each wave fills two batches of 4 rows at once (both in flight together: a buffer handed out while
        // another batch still runs must not be one of the running batch's), from requests of varying rows.
        const sizes = wave % 3 === 0 ? [1, 1, 1, 1, 1, 1, 1, 1] : wave % 3 === 1 ? [3, 1, 2, 2] : [2, 2, 4];
        const xs = sizes.map((n) => randn([n, 6]));
        const ys = await Promise.all(xs.map((x) => bp.predict(x)));
        ys.forEach((y, i) => expectRows(y, model, xs[i]));
      }
      // One request of 10 rows: batches of 4, 4 and 2 rows (a size no buffer was kept for), then 4 again.
      const big = randn([10, 6]);
      const tail = randn([2, 6]);
      const [yb, yt] = await Promise.all([bp.predict(big), bp.predict(tail)]);
      expectRows(yb, model, big);
      expectRows(yt, model, tail);
      const x = randn([4, 6]);
      expectRows(await bp.predict(x), model, x);
      expect(bp.stats().failed).toBe(0);
    } finally {
      await bp.close();
    }
  });
});
