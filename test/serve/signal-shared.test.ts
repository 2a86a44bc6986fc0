// One AbortSignal shared by the waiting requests of many BatchingPredictors and predictAsync calls (a
// server's one shutdown signal): lib/serve/share.ts SignalWatchers keeps ONE 'abort' listener per signal for
// the whole process (with a listener per predictor, a dozen predictors made Node warn
// MaxListenersExceededWarning: a fresh user's finding). Aborting cancels every waiting request of every
// predictor, with the signal's reason; the listener is gone once no request waits on it.
import { afterEach, describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { manualSeed, nn, randn, serve } from '../../lib/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';

afterEach(async () => {
  await serve.closeWorkers();
  expect(liveWorkers.size).toBe(0);
});

describe('a signal shared by many predictors', () => {
  it('12 BatchingPredictors and predictAsync calls: one listener, every waiting request cancelled, no warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => { warnings.push(w.name); };
    process.on('warning', onWarning);
    manualSeed(91);
    const model = new nn.Sequential(new nn.Linear(4, 3));
    const bps = Array.from({ length: 12 }, () => new serve.BatchingPredictor(model, { maxBatchSize: 8, maxDelayMs: 10_000 }));
    try {
      const ac = new AbortController();
      const ps = bps.flatMap((bp) => [bp.predict(randn([1, 4]), { signal: ac.signal }), bp.predict(randn([2, 4]), { signal: ac.signal })]);
      const other = new nn.Sequential(new nn.Linear(4, 2));
      ps.push(other.predictAsync(randn([1, 4]), { signal: ac.signal })); // waits for its worker to start
      expect(getEventListeners(ac.signal, 'abort').length).toBe(1);
      const reason = new Error('shutting down');
      ac.abort(reason);
      const got = await Promise.allSettled(ps);
      expect(got.every((r) => r.status === 'rejected' && r.reason === reason)).toBe(true);
      for (const bp of bps) expect(bp.stats()).toMatchObject({ cancelled: 2, queueDepth: 0, queuedRows: 0 });
      expect(getEventListeners(ac.signal, 'abort').length).toBe(0);
      // A signal that never fires: its listener leaves with the last request on it.
      const idle = new AbortController();
      const xs = [randn([8, 4]), randn([8, 4])];
      const ys = await Promise.all([bps[0].predict(xs[0], { signal: idle.signal }), bps[1].predict(xs[1], { signal: idle.signal })]); // full batches: sent at once
      expect(ys.map((y) => y.shape)).toEqual([[8, 3], [8, 3]]);
      expect(getEventListeners(idle.signal, 'abort').length).toBe(0);
      await new Promise((r) => setImmediate(r));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await Promise.all(bps.map((bp) => bp.close()));
    }
  });
});
