// Faults found by trying lib/serve as a new user and a breaker (issue #13, fu3), each fixed and pinned here:
// - BatchingPredictor fixed the per-sample shape at the first request for its whole life: one bad first
//   request (a width the model refuses) made every later, correct request fail, and after setModel with a
//   model of another input width no request could ever reach the new model.
// - every waiting request added its own 'abort' listener to its signal: 11 requests sharing one signal (a
//   server's shutdown signal) made Node print MaxListenersExceededWarning; now one listener per signal.
// - maxBatchSize had no upper bound: a huge one threw a bare RangeError ('Invalid array length').
// - a module in `imports` that failed to load rejected with its bare message, naming neither the option
//   nor fathom; an InferencePool closed before its workers were up made ready() reject with 'a worker
//   exited (code 0) with requests outstanding' (there were none); serialize(non-Module) said only 'expected a Module'.
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { fitInWorker, manualSeed, nn, randn, serialize, serve, setBackend, tensor, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);
const THROWS = new URL('./fixtures/throws-on-import.mjs', import.meta.url);

function mlp(seed: number, inputs: number): nn.Sequential {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(inputs, 6), new nn.Tanh(), new nn.Linear(6, 3));
}

function expectClose(y: Tensor, want: Tensor): void {
  expect(y.shape).toEqual(want.shape);
  for (let i = 0; i < want.size; i++) expect(Math.abs(y.data[i] - want.data[i])).toBeLessThan(1e-5);
}

afterEach(() => {
  expect(liveWorkers.size).toBe(0);
});

describe.each(backends)('BatchingPredictor shapes (%s)', (name) => {
  it('a bad first request fails alone: the next request with the model\'s width is answered', async () => {
    setBackend(name);
    const m = mlp(1, 4);
    const bp = new serve.BatchingPredictor(m, { maxDelayMs: 0 });
    try {
      await expect(bp.predict(randn([2, 5]))).rejects.toThrow(/expected input \[\*, 4\]/);
      const x = randn([3, 4]);
      expectClose(await bp.predict(x), m.predict(x));
      // Once answered, the shape is fixed: another width is refused at once, naming both.
      await expect(bp.predict(randn([1, 5]))).rejects.toThrow(/per-sample shape \[5\].*have \[4\]/);
    } finally {
      await bp.close();
    }
  });

  it('setModel with another input width: requests of the new width reach the new model; the old width is refused', async () => {
    setBackend(name);
    const a = mlp(2, 4);
    const b = mlp(3, 7);
    const bp = new serve.BatchingPredictor(a, { maxDelayMs: 0 });
    try {
      const xa = randn([2, 4]);
      const before = bp.predict(xa); // queued before the swap: answered by a
      bp.setModel(b);
      const xb = randn([3, 7]);
      expectClose(await bp.predict(xb), b.predict(xb));
      expectClose(await before, a.predict(xa));
      await expect(bp.predict(randn([1, 4]))).rejects.toThrow(/per-sample shape \[4\].*have \[7\]/);
    } finally {
      await bp.close();
    }
  });
});

describe.each(backends)('BatchingPredictor: one signal shared by many requests (%s)', (name) => {
  it('adds one abort listener, removes it when they have started, and cancels every waiting one on abort', async () => {
    setBackend(name);
    const m = mlp(6, 4);
    const WAIT = 10_000; // requests wait until close() or a full batch: which ones wait is known without timing
    const bp = new serve.BatchingPredictor(m, { maxDelayMs: WAIT, maxBatchSize: 64 });
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const shared = new AbortController();
      const xs = Array.from({ length: 20 }, () => randn([1, 4]));
      const answered = xs.map((x) => bp.predict(x, { signal: shared.signal }));
      expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
      await bp.close(); // runs them all: none is cancellable any more, the listener is gone
      const ys = await Promise.all(answered);
      ys.forEach((y, i) => expectClose(y, m.predict(xs[i])));
      expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);

      const bp2 = new serve.BatchingPredictor(m, { maxDelayMs: WAIT, maxBatchSize: 64 });
      const stop = new AbortController();
      const waiting = Array.from({ length: 15 }, () => bp2.predict(randn([1, 4]), { signal: stop.signal }));
      stop.abort(new Error('shutting down'));
      for (const p of waiting) await expect(p).rejects.toThrow('shutting down');
      expect(bp2.stats().cancelled).toBe(15);
      await bp2.close();
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => w === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('serve: refusals name the op and the option', () => {
  it('BatchingPredictor refuses a maxBatchSize beyond 2^20 before starting a worker', () => {
    const m = mlp(4, 4);
    expect(() => new serve.BatchingPredictor(m, { maxBatchSize: 1e12 })).toThrow(/fathom\.BatchingPredictor: options\.maxBatchSize must be at most 1048576 rows, got 1000000000000/);
  });

  it('a module in imports that fails to load is named (fitInWorker, InferencePool)', async () => {
    const m = mlp(5, 4);
    const x = randn([4, 4]);
    const y = tensor([0, 1, 2, 0], { dtype: 'int32' });
    await expect(fitInWorker(m, x, y, { loss: 'crossEntropy', epochs: 1, imports: [THROWS] })).rejects.toThrow(
      /fathom\.fitInWorker: options\.imports\[0\] \(file:.*throws-on-import\.mjs\) failed to load in the worker: this module refuses to load/,
    );
    const pool = new serve.InferencePool(m, { imports: [THROWS] });
    await expect(pool.ready()).rejects.toThrow(/fathom\.InferencePool: options\.imports\[0\] .* failed to load in the worker: this module refuses to load/);
    await expect(pool.predict(x)).rejects.toThrow(/no worker is left|failed to load/);
    await pool.close();
  });

  it('ready() on a pool closed before its workers were up says so (no request was outstanding)', async () => {
    const pool = new serve.InferencePool(mlp(7, 4), { workers: 2 });
    // The handler is attached before close(): the workers' exit may reject ready() before close() resolves.
    const up = expect(pool.ready()).rejects.toThrow(/^fathom\.InferencePool: the pool was closed \(close\(\)\) before this worker was ready$/);
    await pool.close();
    await up;
    await expect(pool.predict(randn([1, 4]))).rejects.toThrow(/fathom\.InferencePool\.predict: the pool is closed/);
  });

  it('serialize(non-Module) names what it got', () => {
    expect(() => serialize({} as nn.Module)).toThrow(/fathom\.serialize: expected a Module \(the model to serialize, an nn\.Module\), got an object/);
  });
});
