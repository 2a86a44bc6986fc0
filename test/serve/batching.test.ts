// BatchingPredictor (lib/serve/batching.ts): concurrent requests merged into batches run in a worker. Each
// caller gets its own rows (checked row by row against model.predict), requests larger than maxBatchSize are
// split, a full queue rejects at once, a signal cancels a waiting request only, setModel swaps weights
// between batches without dropping a request, close() drains, stats() counts, and no worker is left behind.
//
// A batch's rows go through one forward pass with other requests' rows; a row's result may differ from
// predict() on that row alone in the last bits (the GEMM's blocking depends on the row count), so rows are
// compared with a tight tolerance. maxDelayMs: 10_000 makes a request wait until its batch is full or
// close() runs it, so which requests share a batch is known without timing.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, randn, serve, setBackend, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { expectRows } from '../helpers/rows.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);
const WAIT = 10_000;

function mlp(seed: number): nn.Sequential {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(5, 12), new nn.Tanh(), new nn.Linear(12, 4));
}

afterEach(() => {
  expect(liveWorkers.size).toBe(0);
});

describe.each(backends)('BatchingPredictor (%s)', (name) => {
  beforeAll(() => setBackend(name));

  it('merges concurrent requests of mixed sizes (some larger than maxBatchSize) and gives each caller its rows', async () => {
    const model = mlp(1);
    const bp = new serve.BatchingPredictor(model, { maxBatchSize: 8, maxDelayMs: 1, workers: 2 });
    try {
      manualSeed(2);
      const sizes = [1, 3, 1, 20, 2, 8, 1, 9, 5, 1, 1, 17];
      const xs = sizes.map((n) => randn([n, 5]));
      const ys = await Promise.all(xs.map((x) => bp.predict(x)));
      xs.forEach((x, i) => expectRows(ys[i], model, x));
      const s = bp.stats();
      const rows = sizes.reduce((a, b) => a + b, 0);
      expect(s.completed).toBe(sizes.length);
      expect(s.batchSizes.length).toBe(9);
      expect(s.batchSizes.reduce((a, c, k) => a + c * k, 0)).toBe(rows); // every row ran once, in batches ≤ 8
      expect(s.batches).toBeGreaterThanOrEqual(Math.ceil(rows / 8));
      expect(s.batches).toBeLessThan(sizes.length + 3); // merged: fewer batches than requests + splits
      expect(s.meanBatchSize).toBeCloseTo(rows / s.batches, 10);
    } finally {
      await bp.close();
    }
  });

  it('one full batch from four waiting requests; stats count it; the inputs may be mutated or detached after the call', async () => {
    const model = mlp(3);
    const bp = new serve.BatchingPredictor(model, { maxBatchSize: 4, maxDelayMs: WAIT });
    try {
      manualSeed(4);
      const xs = Array.from({ length: 4 }, () => randn([1, 5]));
      const copies = xs.map((x) => x.clone());
      const ps = xs.map((x) => bp.predict(x)); // the fourth fills the batch: it runs at once
      xs[0].data.fill(1e6);
      structuredClone(xs[1].data.buffer, { transfer: [xs[1].data.buffer as ArrayBuffer] });
      expect(bp.stats().inFlight).toBe(1);
      const ys = await Promise.all(ps);
      ys.forEach((y, i) => expectRows(y, model, copies[i]));
      const s = bp.stats();
      expect(s).toMatchObject({ queueDepth: 0, queuedRows: 0, inFlight: 0, completed: 4, batches: 1, meanBatchSize: 4, rejected: 0, cancelled: 0, failed: 0 });
      expect(s.batchSizes).toEqual([0, 0, 0, 0, 1]);
      expect(s.latencyMs.p50).toBeGreaterThan(0);
      expect(s.latencyMs.p99).toBeGreaterThanOrEqual(s.latencyMs.p50);
      expect(s.latencyMs.max).toBeGreaterThanOrEqual(s.latencyMs.p99);
    } finally {
      await bp.close();
    }
  });

  it('backpressure: a full queue rejects at once; close() runs the waiting requests without waiting maxDelayMs', async () => {
    const model = mlp(5);
    const bp = new serve.BatchingPredictor(model, { maxBatchSize: 64, maxDelayMs: WAIT, maxQueue: 2 });
    manualSeed(6);
    const xs = [randn([1, 5]), randn([2, 5])];
    const ps = xs.map((x) => bp.predict(x));
    expect(bp.stats()).toMatchObject({ queueDepth: 2, queuedRows: 3 });
    await expect(bp.predict(randn([1, 5]))).rejects.toThrow(/^fathom\.BatchingPredictor\.predict: the queue is full \(2 requests waiting, maxQueue = 2\); retry later or raise maxQueue/);
    expect(bp.stats().rejected).toBe(1);
    const closed = bp.close();
    await expect(bp.predict(xs[0])).rejects.toThrow(/^fathom\.BatchingPredictor\.predict: the predictor is closed/);
    expect(() => bp.setModel(model)).toThrow(/^fathom\.BatchingPredictor\.setModel: the predictor is closed/);
    const ys = await Promise.all(ps);
    ys.forEach((y, i) => expectRows(y, model, xs[i]));
    await closed;
    expect(bp.stats()).toMatchObject({ completed: 2, batches: 1, queueDepth: 0 });
  });

  it('an AbortSignal cancels a waiting request (rejects with its reason), never one whose batch runs', async () => {
    const model = mlp(7);
    const bp = new serve.BatchingPredictor(model, { maxBatchSize: 3, maxDelayMs: WAIT });
    try {
      manualSeed(8);
      const waiting = new AbortController();
      const p1 = bp.predict(randn([1, 5]), { signal: waiting.signal });
      const reason = new Error('client went away');
      waiting.abort(reason);
      await expect(p1).rejects.toBe(reason);
      expect(bp.stats()).toMatchObject({ queueDepth: 0, queuedRows: 0, cancelled: 1 });
      // An already-aborted signal rejects at once with its reason (an AbortError by default).
      await expect(bp.predict(randn([1, 5]), { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
      // A request in a running batch completes: the abort comes too late.
      const running = new AbortController();
      const x = randn([1, 5]);
      const p2 = bp.predict(x, { signal: running.signal });
      const rest = bp.predict(randn([2, 5])); // fills the batch of 3: it runs now
      running.abort();
      expectRows(await p2, model, x);
      await rest;
      // A request split over batches cannot be cancelled once its first rows run.
      const split = new AbortController();
      const big = randn([5, 5]);
      const p3 = bp.predict(big, { signal: split.signal }); // 3 rows run now, 2 wait
      split.abort();
      expectRows(await bp.close().then(() => p3), model, big);
      expect(bp.stats().cancelled).toBe(1);
      await expect(bp.predict(x, { signal: {} as AbortSignal })).rejects.toThrow(/^fathom\.BatchingPredictor\.predict: (options\.signal must be an AbortSignal|the predictor is closed)/);
    } finally {
      await bp.close();
    }
  });

  it('setModel swaps between batches: requests before it get the old weights, after it the new ones, none dropped', async () => {
    const a = mlp(9);
    const b = mlp(10);
    const bp = new serve.BatchingPredictor(a, { maxBatchSize: 4, maxDelayMs: 1 });
    try {
      manualSeed(11);
      const xs = Array.from({ length: 10 }, (_, i) => randn([1 + (i % 3), 5]));
      const before = xs.slice(0, 5).map((x) => bp.predict(x));
      bp.setModel(b);
      const after = xs.slice(5).map((x) => bp.predict(x));
      const yb = await Promise.all(before);
      const ya = await Promise.all(after);
      yb.forEach((y, i) => expectRows(y, a, xs[i]));
      ya.forEach((y, i) => expectRows(y, b, xs[5 + i]));
      expect(bp.stats()).toMatchObject({ completed: 10, failed: 0, cancelled: 0 });
      // Swapping while idle applies to the next request.
      bp.setModel(a);
      expectRows(await bp.predict(xs[0]), a, xs[0]);
    } finally {
      await bp.close();
    }
  });

  it('shares an InferencePool it is given, and leaves it open at close()', async () => {
    const model = mlp(12);
    const pool = new serve.InferencePool(model);
    try {
      const bp = new serve.BatchingPredictor(pool, { maxBatchSize: 2, maxDelayMs: 0 });
      const x = randn([3, 5]);
      expectRows(await bp.predict(x), model, x);
      await bp.close();
      expect(pool.closed).toBe(false);
      expectRows(await pool.predict(x), model, x);
    } finally {
      await pool.close();
    }
  });

  it('refuses a request whose per-sample shape differs from the first one, naming both; a failing batch rejects its requests', async () => {
    const model = mlp(13);
    const bp = new serve.BatchingPredictor(model, { maxBatchSize: 4, maxDelayMs: 0 });
    try {
      const x = randn([2, 5]);
      const p = bp.predict(x);
      await expect(bp.predict(randn([1, 6]))).rejects.toThrow(/^fathom\.BatchingPredictor\.predict: x has per-sample shape \[6\] \(float32\), but requests to this predictor have \[5\] \(float32, set by the first request\)/);
      await expect(bp.predict(tensor([[1, 2, 3, 4, 5]], { dtype: 'int32' }))).rejects.toThrow(/per-sample shape \[5\] \(int32\), but requests to this predictor have \[5\] \(float32/);
      await expect(bp.predict(randn([0, 5]))).rejects.toThrow(/^fathom\.BatchingPredictor\.predict: x must have a batch dimension with at least one row/);
      expectRows(await p, model, x);
      // A first request the model refuses: the worker's error reaches its caller; the predictor goes on.
      const bad = new serve.BatchingPredictor(model, { maxDelayMs: 0 });
      await expect(bad.predict(randn([1, 7]))).rejects.toThrow(/^fathom\.Sequential: layer 0 \(Linear\): fathom\.Linear: expected input \[\*, 5\]/);
      expect(bad.stats()).toMatchObject({ failed: 1, completed: 0, queueDepth: 0, inFlight: 0 });
      await bad.close();
    } finally {
      await bp.close();
    }
  });
});

describe('BatchingPredictor: bad options', () => {
  it('refuses them naming the option, before starting a worker', () => {
    const model = mlp(14);
    expect(() => new serve.BatchingPredictor(model, { maxBatchSize: 0 })).toThrow(/^fathom\.BatchingPredictor: options\.maxBatchSize must be an integer ≥ 1, got 0/);
    expect(() => new serve.BatchingPredictor(model, { maxQueue: 1.5 })).toThrow(/^fathom\.BatchingPredictor: options\.maxQueue must be an integer ≥ 1, got 1\.5/);
    expect(() => new serve.BatchingPredictor(model, { maxDelayMs: -1 })).toThrow(/^fathom\.BatchingPredictor: options\.maxDelayMs must be a finite number ≥ 0, got -1/);
    expect(() => new serve.BatchingPredictor(model, { maxWait: 3 } as never)).toThrow(/^fathom\.BatchingPredictor: .*maxWait/);
    expect(() => new serve.BatchingPredictor(null as never)).toThrow(/^fathom\.BatchingPredictor: model must be an nn\.Module, the bytes of serialize\(model\) or a serve\.InferencePool, got null/);
    expect(liveWorkers.size).toBe(0);
  });
});
