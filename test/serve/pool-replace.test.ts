// InferencePool (lib/serve/pool.ts): a worker that dies is replaced by a new one holding the current
// snapshot (the model of the last setModel); the request it was computing rejects with the reason, those
// queued behind it go again (unless a setModel came after them), later ones are
// answered. A worker that never started is not replaced (its replacement would fail alike), and after
// close() nothing is. The `nice` option (lib/serve/priority.ts) lowers the computing threads' priority.
//
// The workers run the compiled package: this checkout's dist/ (`npx tsc -p tsconfig.json` first when running
// this file alone). The custom layer test/serve/fixtures/exit-layer.mjs ends its worker on an input 777.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, randn, serve, setBackend, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { lowerThreadPriority, threadId } from '../../lib/serve/priority.js';
import { nices } from '../helpers/threads.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);
const EXIT_LAYER = new URL('./fixtures/exit-layer.mjs', import.meta.url);

class ExitOn777 extends nn.Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
  override config() { return { type: 'ExitOn777' }; }
}
nn.registerModuleType('ExitOn777', () => new ExitOn777(), () => []);

/** Linear(4, 3) then the layer that ends its worker on an input whose first value is 777. */
function model(seed: number): nn.Sequential {
  manualSeed(seed);
  return new nn.Sequential(new ExitOn777(), new nn.Linear(4, 3));
}
const poison = (): Tensor => new Tensor(new Float32Array([777, 0, 0, 0]), [1, 4]);
const same = (a: Tensor, b: Tensor): void => expect(Array.from(a.data)).toEqual(Array.from(b.data));
/** Row by row within 1e-5: a batch's GEMM blocks by its row count, so rows may differ from predict() alone in the last bits. */
const near = (a: Tensor, b: Tensor): void => {
  expect(a.shape).toEqual(b.shape);
  a.data.forEach((v, i) => { if (!(Math.abs(v - b.data[i]) <= 1e-5)) throw new Error(`value ${i}: got ${v}, want ${b.data[i]}`); });
};

afterEach(() => {
  expect(liveWorkers.size).toBe(0); // every pool closed its workers, replacements included
});

describe.each(backends)('InferencePool: a dead worker is replaced (%s)', (name) => {
  beforeAll(() => setBackend(name));

  it('its requests reject with the reason; the replacement holds the last setModel snapshot and answers', async () => {
    const m1 = model(1), m2 = model(2);
    const pool = new serve.InferencePool(m1, { imports: [EXIT_LAYER] });
    try {
      const x = randn([5, 4]);
      same(await pool.predict(x), m1.predict(x));
      pool.setModel(m2);
      await expect(pool.predict(poison())).rejects.toThrow(/^fathom\.InferencePool: a worker exited \(code 3\) with 1 request outstanding/);
      expect(pool.replacedWorkers).toBe(1);
      same(await pool.predict(x), m2.predict(x)); // the new worker, from the current snapshot
      await pool.ready();
      // Again, with other requests around it on two workers: only the dead worker's requests fail.
      const two = new serve.InferencePool(m1, { workers: 2, imports: [EXIT_LAYER] });
      try {
        await two.ready();
        const xs = Array.from({ length: 6 }, () => randn([2, 4]));
        const ok = xs.map((xi) => two.predict(xi));
        const dead = two.predict(poison());
        await expect(dead).rejects.toThrow(/a worker exited \(code 3\)/);
        // The requests queued behind the poison in the dead worker never started: they are sent again.
        const results = await Promise.all(ok);
        results.forEach((y, i) => same(y, m1.predict(xs[i])));
        expect(two.replacedWorkers).toBe(1);
        for (const xi of xs) same(await two.predict(xi), m1.predict(xi));
      } finally {
        await two.close();
      }
    } finally {
      await pool.close();
    }
  });

  it('the requests queued behind the one that killed the worker go again; one posted before a later setModel rejects', async () => {
    const m1 = model(11), m2 = model(12);
    const pool = new serve.InferencePool(m1, { imports: [EXIT_LAYER] });
    try {
      await pool.ready();
      const xs = [randn([2, 4]), randn([1, 4])];
      const dead = pool.predict(poison());
      const behind = xs.map((x) => pool.predict(x)); // queued in the same worker, behind the poison
      await expect(dead).rejects.toThrow(/a worker exited \(code 3\) with 3 requests outstanding/);
      (await Promise.all(behind)).forEach((y, i) => same(y, m1.predict(xs[i])));
      expect(pool.replacedWorkers).toBe(1);
      // A request made before setModel cannot go again: the replacement holds the newer weights.
      await pool.ready();
      const dead2 = pool.predict(poison());
      const old = pool.predict(xs[0]);
      pool.setModel(m2);
      const fresh = pool.predict(xs[1]);
      await expect(dead2).rejects.toThrow(/a worker exited \(code 3\)/);
      await expect(old).rejects.toThrow(/^fathom\.InferencePool\.predict: the worker holding this request ended before it ran it \(a worker exited \(code 3\).*\), and a setModel came after it/);
      same(await fresh, m2.predict(xs[1]));
      expect(pool.replacedWorkers).toBe(2);
    } finally {
      await pool.close();
    }
  });

  it('a BatchingPredictor on it: the batch with the poison rejects, the next batches are answered', async () => {
    const m = model(3);
    const bp = new serve.BatchingPredictor(m, { imports: [EXIT_LAYER], maxBatchSize: 4, maxDelayMs: 20 });
    try {
      const xs = [poison(), randn([1, 4]), randn([1, 4]), randn([1, 4])]; // the layer looks at the batch's first value
      const first = await Promise.allSettled(xs.map((x) => bp.predict(x))); // one batch of 4: it dies
      expect(first.map((r) => (r.status === 'rejected' ? String(r.reason) : 'answered'))).toEqual(xs.map(() => expect.stringMatching(/a worker exited \(code 3\)/)));
      const again = [randn([2, 4]), randn([1, 4])];
      const ys = await Promise.all(again.map((x) => bp.predict(x)));
      ys.forEach((y, i) => near(y, m.predict(again[i])));
      expect(bp.stats()).toMatchObject({ failed: 4, completed: 2 });
    } finally {
      await bp.close();
    }
  });
});

describe('InferencePool: what is not replaced', () => {
  it('a worker that never started, and none after close()', async () => {
    const broken = new serve.InferencePool(model(4), { imports: ['/nonexistent/fathom-layers.mjs'] });
    await expect(broken.ready()).rejects.toThrow(/fathom-layers\.mjs/);
    await expect(broken.predict(randn([1, 4]))).rejects.toThrow(/^fathom\.InferencePool\.predict: no worker is left/);
    expect(broken.replacedWorkers).toBe(0);
    await broken.close();
    const pool = new serve.InferencePool(model(5), { imports: [EXIT_LAYER] });
    await pool.ready();
    const dead = pool.predict(poison());
    const closing = pool.close(); // waits for the outstanding request: the worker dies meanwhile
    await expect(dead).rejects.toThrow(/a worker exited/);
    await closing;
    expect(pool.replacedWorkers).toBe(0);
  });
});


describe.runIf(process.platform === 'linux')('InferencePool { nice } (Linux)', () => {
  it('lowers the worker thread and the kernel pool threads to that nice value; this thread keeps its own', async () => {
    setBackend(backends[0]);
    const mine = nices().get(threadId()!)!;
    const target = Math.max(17, Math.min(19, mine + 1)); // a run under `nice` starts above 0
    const before = [...nices()].filter(([, n]) => n === target).length;
    manualSeed(6);
    const m = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
    const pool = new serve.InferencePool(m, { nice: target });
    try {
      const x = randn([3, 4]);
      same(await pool.predict(x), m.predict(x));
      const kernelThreads = backends[0] === 'native' ? nativeBinding()!.poolThreadIds!().length : 0;
      if (mine < target) expect([...nices()].filter(([, n]) => n === target).length - before).toBe(1 + kernelThreads);
      expect(nices().get(threadId()!)).toBe(mine);
    } finally {
      await pool.close();
    }
  });

  it('lowerThreadPriority only lowers: a thread keeps a higher nice value; bad values are refused', async () => {
    const { Worker } = await import('node:worker_threads');
    const url = new URL('../../dist/serve/priority.js', import.meta.url).href;
    // In a worker thread of its own (this thread's priority stays as it is).
    // Relative to the thread's starting nice value n0 (a test run under `nice` starts above 0).
    const w = new Worker(`import(${JSON.stringify(url)}).then(({ lowerThreadPriority: low, threadId }) => {
      const { parentPort } = require('node:worker_threads');
      const n0 = require('node:os').getPriority(threadId());
      parentPort.postMessage(n0 > 14 ? [n0] : [n0, low(n0 + 3), low(n0 + 1), low(n0 + 5)]);
    });`, { eval: true });
    const got = await new Promise<number[]>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    await w.terminate();
    const n0 = got[0];
    if (n0 <= 14) expect(got).toEqual([n0, n0 + 3, n0 + 3, n0 + 5]);
    expect(lowerThreadPriority(5, -1)).toBeUndefined();
    const m = model(7);
    expect(() => new serve.InferencePool(m, { nice: 20 })).toThrow(/^fathom\.InferencePool: options\.nice must be an integer in 0\.\.19 \(a higher value is a lower priority\), got 20/);
    expect(() => new serve.InferencePool(m, { nice: -1 })).toThrow(/options\.nice must be an integer in 0\.\.19/);
    expect(() => new serve.BatchingPredictor(m, { nice: 2.5 })).toThrow(/^fathom\.BatchingPredictor: options\.nice must be an integer in 0\.\.19/);
  });
});
