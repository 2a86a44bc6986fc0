// InferencePool / BatchingPredictor `timeoutMs` (lib/serve/pool.ts): a request its worker does not answer
// in time (the custom layer test/serve/fixtures/stall-layer.mjs spins for 60 s on an input 555) ends that
// worker: the request rejects saying so (those queued behind it go again), a replacement from the current snapshot answers the next
// ones (checked against predict), and close() does not wait for the stuck one. The workers run this
// checkout's dist/ (`npx tsc -p tsconfig.json` first when running this file alone).
import { afterEach, describe, expect, it } from 'vitest';
import { randn, serve, setBackend } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { expectRows } from '../helpers/rows.js';
import { STALL_LAYER, stall, stallModel } from '../helpers/layers.js';


const model = stallModel;
const TIMEOUT = /^fathom\.InferencePool\.predict: no answer within timeoutMs = 400 ms; the worker computing it was ended/;

afterEach(() => {
  expect(liveWorkers.size).toBe(0);
});

describe('InferencePool timeoutMs', () => {
  it('a stuck request rejects, its worker is replaced, the next request is answered; close() does not wait for a stuck worker', async () => {
    setBackend(nativeBinding() ? 'native' : 'ts');
    const m = model(61);
    const pool = new serve.InferencePool(m, { imports: [STALL_LAYER], timeoutMs: 400 });
    try {
      await pool.ready();
      const x = randn([3, 4]);
      const stuckFirst = pool.predict(stall());
      const behind = pool.predict(x); // queued behind it in the same worker: goes again to the replacement
      await expect(stuckFirst).rejects.toThrow(TIMEOUT);
      expectRows(await behind, m, x);
      expect(pool.replacedWorkers).toBe(1);
      expectRows(await pool.predict(x), m, x);
      const stuck = pool.predict(stall());
      const closing = pool.close(); // waits for the outstanding request: the clock ends it
      await expect(stuck).rejects.toThrow(/no answer within timeoutMs = 400 ms; the worker computing it was ended$/);
      await closing;
      expect(pool.replacedWorkers).toBe(1);
    } finally {
      await pool.close();
    }
  });

  it('two stuck requests on one worker: the second, sent again to the replacement, is timed there too', async () => {
    const m = model(65);
    const pool = new serve.InferencePool(m, { imports: [STALL_LAYER], timeoutMs: 400 });
    try {
      await pool.ready();
      const a = pool.predict(stall());
      const b = pool.predict(stall()); // queued behind a: goes again, then stalls the replacement
      await expect(a).rejects.toThrow(TIMEOUT);
      await expect(b).rejects.toThrow(TIMEOUT);
      expect(pool.replacedWorkers).toBe(2);
      const x = randn([1, 4]);
      expectRows(await pool.predict(x), m, x);
    } finally {
      await pool.close();
    }
  });

  it('close() while a stuck request holds one of two workers: the request queued behind it runs on the other; with one worker it rejects saying it never ran', async () => {
    const m = model(66);
    const two = new serve.InferencePool(m, { imports: [STALL_LAYER], workers: 2, timeoutMs: 400 });
    await two.ready();
    const x = randn([2, 4]);
    const stuck = two.predict(stall()); // worker 0
    const other = two.predict(x); // worker 1
    const behind = two.predict(x); // worker 0, behind the stuck one
    const closing = two.close();
    await expect(stuck).rejects.toThrow(/no answer within timeoutMs = 400 ms; the worker computing it was ended$/);
    expectRows(await other, m, x);
    expectRows(await behind, m, x);
    await closing;
    const one = new serve.InferencePool(m, { imports: [STALL_LAYER], timeoutMs: 400 });
    await one.ready();
    const stuck1 = one.predict(stall());
    const behind1 = one.predict(x);
    const closing1 = one.close();
    await expect(stuck1).rejects.toThrow(/no answer within timeoutMs = 400 ms/);
    await expect(behind1).rejects.toThrow(/^fathom\.InferencePool\.predict: the worker holding this request ended before it ran it \(no answer within timeoutMs = 400 ms; the worker computing it was ended\), and no worker is left to run it$/);
    await closing1;
  });

  it('a BatchingPredictor: the batch holding the stuck row rejects, later batches are answered', async () => {
    const m = model(62);
    const bp = new serve.BatchingPredictor(m, { imports: [STALL_LAYER], timeoutMs: 400, maxBatchSize: 3, maxDelayMs: 1 });
    try {
      const xs = [stall(), randn([1, 4]), randn([1, 4])]; // one batch of 3 (the layer looks at its first value)
      const first = await Promise.allSettled(xs.map((x) => bp.predict(x)));
      for (const r of first) expect(r.status === 'rejected' && String(r.reason)).toMatch(/^Error: fathom\.BatchingPredictor: no answer within timeoutMs = 400 ms/);
      const again = [randn([2, 4]), randn([1, 4])];
      const ys = await Promise.all(again.map((x) => bp.predict(x)));
      ys.forEach((y, i) => expectRows(y, m, again[i]));
      expect(bp.stats()).toMatchObject({ failed: 3, completed: 2 });
    } finally {
      await bp.close();
    }
  });

  it('model.predictAsync timeoutMs: the stuck call and the one waiting behind it reject, the next call gets a new worker', async () => {
    const m = model(64);
    const opts = { imports: [STALL_LAYER], timeoutMs: 400 };
    const x = randn([2, 4]);
    expectRows(await m.predictAsync(x, opts), m, x);
    const stuck = m.predictAsync(stall(), opts);
    const behind = m.predictAsync(x, opts);
    const why = /^fathom\.predictAsync: no answer within timeoutMs = 400 ms; the model's worker was ended, and the requests handed to it or waiting for it are rejected/;
    await expect(stuck).rejects.toThrow(why);
    await expect(behind).rejects.toThrow(why);
    expectRows(await m.predictAsync(x, opts), m, x);
    await expect(m.predictAsync(x, { timeoutMs: 0 })).rejects.toThrow(/^fathom\.predictAsync: options\.timeoutMs must be a finite number of milliseconds > 0, got 0/);
    await serve.closeWorkers();
  });

  it('refuses a bad timeoutMs naming it', async () => {
    const m = model(63);
    for (const bad of [0, -5, Infinity, Number.NaN]) {
      expect(() => new serve.InferencePool(m, { timeoutMs: bad })).toThrow(/^fathom\.InferencePool: options\.timeoutMs must be a finite number of milliseconds > 0, got /);
      expect(() => new serve.BatchingPredictor(m, { timeoutMs: bad })).toThrow(/^fathom\.BatchingPredictor: options\.timeoutMs must be a finite number of milliseconds > 0/);
    }
    const pool = new serve.InferencePool(m);
    try {
      expect(() => new serve.BatchingPredictor(pool, { timeoutMs: 100 })).toThrow(/^fathom\.BatchingPredictor: options\.workers, imports, nice, threads and timeoutMs are the pool's/);
    } finally {
      await pool.close();
    }
  });
});
