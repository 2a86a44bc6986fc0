// BatchingPredictor copies each request's rows straight into the shared buffer of the batch it joins, at
// the call (lib/serve/batching.ts enqueue). These tests check what that design must get right: a request
// cancelled out of the middle of a batch, or out of two batches not sent yet (the rows after it move
// down), rows wider than a batch buffer's fixed size (the buffer grows), and int32 rows. Everything up to
// the abort happens in one synchronous block, so which batches are sent (the first two: a one-worker
// pool takes two) does not depend on timing; each answer is checked row by row against model.predict.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, randn, serve, setBackend, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { expectRows } from '../helpers/rows.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);
const WAIT = 10_000; // a batch goes when full, when a later one exists, or at close(): never by the clock here

afterEach(() => {
  expect(liveWorkers.size).toBe(0);
});

describe.each(backends)('BatchingPredictor: rows copied into batches at the call (%s)', (name) => {
  beforeAll(() => setBackend(name));

  it('a request cancelled out of the middle of a waiting batch: the rows after it move down', async () => {
    manualSeed(41);
    const model = new nn.Sequential(new nn.Linear(5, 7), new nn.ReLU(), new nn.Linear(7, 3));
    const bp = new serve.BatchingPredictor(model, { maxBatchSize: 8, maxDelayMs: WAIT });
    try {
      const a = randn([2, 5]);
      const c = randn([1, 5]);
      const d = randn([2, 5]);
      const ac = new AbortController();
      const pa = bp.predict(a);
      const pb = bp.predict(randn([3, 5]), { signal: ac.signal });
      const pc = bp.predict(c);
      expect(bp.stats()).toMatchObject({ queueDepth: 3, queuedRows: 6 });
      ac.abort(new Error('gone'));
      await expect(pb).rejects.toThrow('gone');
      expect(bp.stats()).toMatchObject({ queueDepth: 2, queuedRows: 3, cancelled: 1 });
      const pd = bp.predict(d); // joins the same batch after c
      await bp.close();
      expectRows(await pa, model, a);
      expectRows(await pc, model, c);
      expectRows(await pd, model, d);
      const s = bp.stats();
      expect(s.batches).toBe(1);
      expect(s.batchSizes[5]).toBe(1);
    } finally {
      await bp.close();
    }
  });

  it('a request cancelled out of two batches not sent yet (the pool already holds two): the first is sent without its rows, the second is dropped', async () => {
    manualSeed(42);
    const model = new nn.Sequential(new nn.Linear(4, 6), new nn.Tanh(), new nn.Linear(6, 2));
    const bp = new serve.BatchingPredictor(model, { maxBatchSize: 4, maxDelayMs: WAIT });
    try {
      const full = [randn([4, 4]), randn([4, 4])]; // two full batches: sent at once (the pool's two slots)
      const pf = full.map((x) => bp.predict(x));
      const x = randn([2, 4]);
      const px = bp.predict(x); // batch 3: 2 of 4 rows
      const ac = new AbortController();
      const pb = bp.predict(randn([5, 4]), { signal: ac.signal }); // 2 rows fill batch 3 (full, but no slot), 3 rows open batch 4
      expect(bp.stats()).toMatchObject({ inFlight: 2, queueDepth: 2, queuedRows: 7 });
      ac.abort(new Error('client gone'));
      expect(bp.stats()).toMatchObject({ queueDepth: 1, queuedRows: 2, cancelled: 1 });
      const y = randn([1, 4]);
      const py = bp.predict(y); // joins batch 3 (the newest again), after x
      await expect(pb).rejects.toThrow('client gone');
      await bp.close();
      (await Promise.all(pf)).forEach((out, i) => expectRows(out, model, full[i]));
      expectRows(await px, model, x);
      expectRows(await py, model, y);
      const s = bp.stats();
      expect(s.batchSizes[4]).toBe(2);
      expect(s.batchSizes[3]).toBe(1);
      expect(s.batches).toBe(3);
      expect(s.completed).toBe(4);
    } finally {
      await bp.close();
    }
  });

  it('rows too wide for a full-size buffer (maxBatchSize · row > 8 MiB): the batch buffer grows as rows come', async () => {
    manualSeed(43);
    const D = 600; // 2,400 bytes a row: 4,096 rows would take 9.8 MB, so a batch starts smaller and grows
    const model = new nn.Sequential(new nn.Linear(D, 3));
    const bp = new serve.BatchingPredictor(model, { maxBatchSize: 4096, maxDelayMs: WAIT });
    try {
      const xs = [randn([3600, D]), randn([400, D]), randn([200, D])]; // 3600 + 400 + 96 fill one batch; 104 rows go in the next
      const ps = xs.map((x) => bp.predict(x));
      await bp.close();
      const ys = await Promise.all(ps);
      ys.forEach((y, i) => expectRows(y, model, xs[i]));
      const s = bp.stats();
      expect(s.batchSizes[4096]).toBe(1);
      expect(s.batchSizes[104]).toBe(1);
      expect(s.batches).toBe(2);
    } finally {
      await bp.close();
    }
  });

  it('one sample given as [D] instead of [1, D] is refused saying so', async () => {
    manualSeed(45);
    const model = new nn.Sequential(new nn.Linear(8, 2));
    const bp = new serve.BatchingPredictor(model, { maxBatchSize: 4, maxDelayMs: 0 });
    try {
      const x = randn([1, 8]);
      expectRows(await bp.predict(x), model, x);
      await expect(bp.predict(randn([8]))).rejects.toThrow(/^fathom\.BatchingPredictor\.predict: x has shape \[8\]: 8 rows of one value each, but requests to this predictor have 8 values a row; one sample is \[1, 8\]$/);
    } finally {
      await bp.close();
    }
  });

  it('int32 rows (an Embedding): batched and answered as predict gives them', async () => {
    manualSeed(44);
    const model = new nn.Sequential(new nn.Embedding(20, 3), new nn.Flatten());
    const bp = new serve.BatchingPredictor(model, { maxBatchSize: 5, maxDelayMs: WAIT });
    try {
      const xs = [tensor([[1, 2, 3, 4]], { dtype: 'int32' }), tensor([[5, 6, 7, 8], [19, 0, 0, 1]], { dtype: 'int32' }), tensor([[9, 9, 9, 9], [3, 2, 1, 0], [11, 12, 13, 14]], { dtype: 'int32' })];
      const ps = xs.map((x) => bp.predict(x));
      await bp.close();
      const ys = await Promise.all(ps);
      ys.forEach((y, i) => expectRows(y, model, xs[i]));
      expect(bp.stats().batchSizes[5]).toBe(1);
      expect(bp.stats().batchSizes[1]).toBe(1);
    } finally {
      await bp.close();
    }
  });
});
