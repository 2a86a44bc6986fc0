// InferencePool / BatchingPredictor `threads`: a cap on the native kernel threads of each WORKER's own
// calls (runtime/pool.cc set_thread_num_threads). With threads: 1 a worker's forward pass of a large batch
// never hands a job to the process's kernel pool (poolJobsStarted does not move), without it the same
// forward pass does; the calling thread's own setting is untouched; answers are predict()'s either way.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { info, manualSeed, nn, randn, serve, setBackend, setNumThreads } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { expectRows } from '../helpers/rows.js';

const binding = nativeBinding();
const threadsBefore = info().threads;

afterEach(() => {
  expect(liveWorkers.size).toBe(0);
});
afterAll(() => {
  if (binding) setNumThreads(threadsBefore);
});

function mlp(): nn.Sequential {
  manualSeed(51);
  return new nn.Sequential(new nn.Linear(64, 96), new nn.ReLU(), new nn.Linear(96, 96), new nn.ReLU(), new nn.Linear(96, 8)).eval();
}

describe('InferencePool threads', () => {
  it('refuses a bad threads option naming it, for the pool and the predictor', async () => {
    const m = mlp();
    for (const bad of [0, 1.5, -1, 257, Number.NaN]) {
      expect(() => new serve.InferencePool(m, { threads: bad })).toThrow(/^fathom\.InferencePool: options\.threads must be an integer in 1\.\.256 \(kernel threads per worker\), got /);
    }
    expect(() => new serve.InferencePool(m, { threads: '2' as unknown as number })).toThrow(/^fathom\.InferencePool: options\.threads must be a number, got the string "2"/);
    expect(() => new serve.BatchingPredictor(m, { threads: 0 })).toThrow(/^fathom\.BatchingPredictor: options\.threads must be an integer in 1\.\.256/);
    const pool = new serve.InferencePool(m);
    try {
      expect(() => new serve.BatchingPredictor(pool, { threads: 1 })).toThrow(/options\.workers, imports, nice, threads and timeoutMs are the pool's/);
    } finally {
      await pool.close();
    }
  });

  it.runIf(binding !== null && binding.poolJobsStarted !== undefined)('threads: 1 keeps a worker\'s forward pass off the kernel pool; without it the same pass uses the pool', async () => {
    setBackend('native');
    const n = setNumThreads(2); // the pool's size is fixed at first use: a 1-core machine keeps 1
    const m = mlp();
    const x = randn([512, 64]); // large enough to split over threads
    const jobsOf = async (opts: serve.InferencePoolOptions): Promise<number> => {
      const pool = new serve.InferencePool(m, opts);
      try {
        await pool.ready();
        const j0 = binding!.poolJobsStarted!();
        const y = await pool.predict(x);
        const jobs = binding!.poolJobsStarted!() - j0;
        expectRows(y, m, x);
        return jobs;
      } finally {
        await pool.close();
      }
    };
    expect(await jobsOf({ threads: 1 })).toBe(0);
    if (n >= 2) expect(await jobsOf({})).toBeGreaterThan(0);
    expect(info().threads).toBe(n); // only the workers' calls were capped
    const bp = new serve.BatchingPredictor(m, { workers: 2, threads: 1, maxBatchSize: 300, maxDelayMs: 0 });
    try {
      await bp.ready();
      const xs = [randn([300, 64]), randn([250, 64]), randn([1, 64])];
      const j0 = binding!.poolJobsStarted!();
      const ys = await Promise.all(xs.map((xi) => bp.predict(xi)));
      expect(binding!.poolJobsStarted!() - j0).toBe(0);
      ys.forEach((y, i) => expectRows(y, m, xs[i])); // (predict on this thread: its own jobs)
    } finally {
      await bp.close();
    }
  });
});
