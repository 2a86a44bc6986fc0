// InferencePool `timeoutMs` (lib/serve/pool.ts) around the cases its own tests leave: several workers with
// requests queued behind the stuck one (those go again, to the replacement or the other worker), setModel
// before and right after a timeout (the replacement answers with the newest snapshot; the others keep their order), a
// worker slow to start (longer than timeoutMs: not timed, its requests answered), and a BatchingPredictor
// whose setModel is still deferred when its worker is replaced. The stall layer
// (test/serve/fixtures/stall-layer.mjs) spins on a batch whose first value is 555; workers run dist/.
import { afterEach, describe, expect, it } from 'vitest';
import { randn, serve, setBackend } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { expectRows } from '../helpers/rows.js';
import { STALL_LAYER, stall, stallModel } from '../helpers/layers.js';

const SLOW_START = new URL('./fixtures/slow-start.mjs', import.meta.url);

const model = stallModel;
const TIMEOUT = /fathom\.InferencePool\.predict: no answer within timeoutMs = 1000 ms/;

afterEach(() => {
  expect(liveWorkers.size).toBe(0);
});

describe('InferencePool timeoutMs (break13)', () => {
  it('two workers: the stuck request rejects; the one queued behind it goes again; the other worker\'s are answered', async () => {
    setBackend(nativeBinding() ? 'native' : 'ts');
    const m = model(81);
    const pool = new serve.InferencePool(m, { imports: [STALL_LAYER], workers: 2, timeoutMs: 1000 });
    try {
      await pool.ready();
      // Routing: fewest outstanding, first slot on a tie: stuck → 0, x1 → 1, x2 → 0 (behind the stuck one), x3 → 1.
      const xs = [randn([2, 4]), randn([1, 4]), randn([3, 4])];
      const pStuck = pool.predict(stall());
      const ps = xs.map((x) => pool.predict(x));
      const got = await Promise.allSettled([pStuck, ...ps]);
      expect(got[0].status === 'rejected' && String(got[0].reason)).toMatch(TIMEOUT);
      for (const i of [1, 2, 3]) { // 2 was queued behind the stuck one: it never started, so it went again
        const g = got[i];
        if (g.status !== 'fulfilled') throw new Error(`request ${i} on the other worker: ${String(g.reason)}`);
        expectRows(g.value, m, xs[i - 1]);
      }
      expect(pool.replacedWorkers).toBe(1);
      expect(pool.outstanding).toBe(0);
      const again = randn([2, 4]);
      expectRows(await pool.predict(again), m, again);
    } finally {
      await pool.close();
    }
  });

  it('close() right after a timeout resolves only when the ended worker has exited too (as it says)', async () => {
    setBackend(nativeBinding() ? 'native' : 'ts');
    const m = model(88);
    const pool = new serve.InferencePool(m, { imports: [STALL_LAYER], timeoutMs: 1000 });
    await pool.ready();
    await expect(pool.predict(stall())).rejects.toThrow(TIMEOUT);
    await pool.close(); // the stuck worker was replaced (the pool was open): it is still being terminated
    expect(liveWorkers.size).toBe(0);
  });

  it('close() with a stuck request on one worker and answered ones on the other: the clock ends it, close() resolves', async () => {
    setBackend(nativeBinding() ? 'native' : 'ts');
    const m = model(89);
    const pool = new serve.InferencePool(m, { imports: [STALL_LAYER], workers: 2, timeoutMs: 1000 });
    await pool.ready();
    const pStuck = pool.predict(stall()); // worker 0
    const x = randn([2, 4]);
    const px = pool.predict(x); // worker 1
    const closing = pool.close();
    await expect(pStuck).rejects.toThrow(/no answer within timeoutMs = 1000 ms; the worker computing it was ended$/);
    expectRows(await px, m, x);
    await closing;
    expect(pool.replacedWorkers).toBe(0); // not replaced while closing
  });

  it('setModel before the stuck request and right after its timeout: the replacement answers with the newest snapshot', async () => {
    setBackend(nativeBinding() ? 'native' : 'ts');
    const [m1, m2, m3] = [model(82), model(83), model(84)];
    const pool = new serve.InferencePool(m1, { imports: [STALL_LAYER], timeoutMs: 1000 });
    try {
      await pool.ready();
      const x = randn([2, 4]);
      const p1 = pool.predict(x); // made before setModel: m1
      pool.setModel(m2);
      const pStuck = pool.predict(stall());
      const pBehind = pool.predict(x); // m2, queued behind the stuck request on the one worker: goes again to the replacement (m2)
      expectRows(await p1, m1, x);
      await expect(pStuck).rejects.toThrow(/no answer within timeoutMs = 1000 ms/);
      expectRows(await pBehind, m2, x);
      const p2 = pool.predict(x); // the replacement (starting, from m2's bytes)
      pool.setModel(m3); // while the replacement starts
      const p3 = pool.predict(x);
      expectRows(await p2, m2, x);
      expectRows(await p3, m3, x);
    } finally {
      await pool.close();
    }
  });

  it('a worker slower to start than timeoutMs is not timed: the requests made while it starts are answered', async () => {
    setBackend(nativeBinding() ? 'native' : 'ts');
    const m = model(85);
    const pool = new serve.InferencePool(m, { imports: [SLOW_START, STALL_LAYER], timeoutMs: 1000 });
    try {
      const x = randn([3, 4]);
      const ps = [pool.predict(x), pool.predict(x)]; // handed over while the worker starts (~2.5 s)
      for (const y of await Promise.all(ps)) expectRows(y, m, x);
      expect(pool.replacedWorkers).toBe(0);
    } finally {
      await pool.close();
    }
  }, 20_000);

  it('a BatchingPredictor: its deferred setModel reaches the replacement of a worker ended by the timeout', async () => {
    setBackend(nativeBinding() ? 'native' : 'ts');
    const [m1, m2] = [model(86), model(87)];
    const bp = new serve.BatchingPredictor(m1, { imports: [STALL_LAYER], timeoutMs: 1000, maxBatchSize: 2, maxDelayMs: 1 });
    try {
      await bp.ready();
      const x = randn([1, 4]);
      const pStuck = bp.predict(stall()); // [stuck, x]: a full batch of the old snapshot
      const pOld = bp.predict(x);
      const pWait = bp.predict(x); // old snapshot, waiting in the next batch
      bp.setModel(m2); // deferred: old batches still to run
      const pNew = bp.predict(x);
      await expect(pStuck).rejects.toThrow(/no answer within timeoutMs = 1000 ms/);
      await expect(pOld).rejects.toThrow(/no answer within timeoutMs = 1000 ms/);
      // [x] of the old snapshot went behind the stuck batch as soon as the new request closed its batch (two
      // in flight per worker): it never started, so it goes again, to the replacement (started from the
      // pool's snapshot, still the old one: old weights). The new request waited for room, then ran on the
      // replacement after the deferred setModel: new weights.
      expectRows(await pWait, m1, x);
      expectRows(await pNew, m2, x);
      expectRows(await bp.predict(x), m2, x);
      expect(bp.stats()).toMatchObject({ queueDepth: 0, queuedRows: 0, failed: 2, completed: 3 });
      // close() while a stuck batch runs: the clock ends it, close() resolves.
      const pLast = bp.predict(stall());
      const closing = bp.close();
      await expect(pLast).rejects.toThrow(/no answer within timeoutMs = 1000 ms; the worker computing it was ended/);
      await closing;
    } finally {
      await bp.close();
    }
  });
});
