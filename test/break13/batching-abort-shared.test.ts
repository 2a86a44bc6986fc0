// BatchingPredictor cancellation with one signal shared by several waiting requests (lib/serve/batching.ts
// watch/cancel): aborting the signal must reject EVERY request of it that is still waiting, even when the
// batch they share is already due (its maxDelayMs passed while this thread was busy, before the timer
// could fire). Cancelling the first request used to send the batch at once, so the others sharing the
// signal — aborted while they waited — were answered instead of rejected.
import { afterEach, describe, expect, it } from 'vitest';
import { manualSeed, nn, randn, serve, setBackend } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { expectRows } from '../helpers/rows.js';

afterEach(() => {
  expect(liveWorkers.size).toBe(0);
});

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end); // this thread busy: no timer can fire
}

describe('BatchingPredictor: a shared signal aborted while its batch is due', () => {
  it('rejects every waiting request of the signal, answers the others', async () => {
    setBackend(nativeBinding() ? 'native' : 'ts');
    manualSeed(5);
    const model = new nn.Sequential(new nn.Linear(3, 2));
    const bp = new serve.BatchingPredictor(model, { maxBatchSize: 16, maxDelayMs: 1 });
    try {
      await bp.ready();
      const ac = new AbortController();
      const xs = [randn([2, 3]), randn([1, 3]), randn([3, 3])];
      const other = randn([2, 3]);
      const ps = xs.map((x) => bp.predict(x, { signal: ac.signal }));
      const po = bp.predict(other); // shares their batch, no signal
      busy(5); // the batch is now due, but its timer has not run
      const reason = new Error('client gone');
      ac.abort(reason);
      const got = await Promise.allSettled(ps);
      for (const [i, g] of got.entries()) {
        expect(g.status, `request ${i}`).toBe('rejected');
        expect(g.status === 'rejected' && g.reason).toBe(reason);
      }
      expectRows(await po, model, other);
      expect(bp.stats()).toMatchObject({ cancelled: 3, completed: 1, failed: 0, queueDepth: 0, queuedRows: 0 });
    } finally {
      await bp.close();
    }
  });
});
