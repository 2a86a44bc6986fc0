// InferencePool and predictAsync (lib/serve/pool.ts): inference in worker threads holding a snapshot of the
// model. Results equal predict() on this thread, under concurrent callers; the caller's input buffer can be
// mutated or detached right after the call; training the caller's model does not reach the pool; setModel
// swaps weights between requests; close() drains and ends every worker.
//
// The workers run the compiled package: from the sources (vitest) that is this checkout's dist/, which
// `npm test` builds first (`npx tsc -p tsconfig.json` when running this file alone).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, predictAsync, randn, serialize, serve, setBackend, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);

function mlp(seed: number): nn.Sequential {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 3));
}

afterEach(async () => {
  await serve.closeWorkers(); // the models' own predictAsync workers (kept warm between calls)
  expect(liveWorkers.size).toBe(0); // every pool closed its workers
});

describe.each(backends)('InferencePool (%s)', (name) => {
  beforeAll(() => setBackend(name));

  it('concurrent callers on two workers each get predict()\'s result for their rows, bit for bit', async () => {
    const model = mlp(1);
    const pool = new serve.InferencePool(model, { workers: 2 });
    try {
      manualSeed(5);
      const xs = Array.from({ length: 12 }, (_, i) => randn([1 + (i % 5) * 3, 6]));
      const ys = await Promise.all(xs.map((x) => pool.predict(x)));
      xs.forEach((x, i) => {
        const want = model.predict(x);
        expect(ys[i]).toBeInstanceOf(Tensor);
        expect(ys[i].shape).toEqual(want.shape);
        expect(Array.from(ys[i].data)).toEqual(Array.from(want.data));
      });
      // predict's batchSize option reaches the worker's predict (results unchanged).
      const big = randn([40, 6]);
      expect(Array.from((await pool.predict(big, { batchSize: 7 })).data)).toEqual(Array.from(model.predict(big).data));
      expect(pool.outstanding).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('copies x at the call: mutating or detaching the caller\'s buffer afterwards does not change the result', async () => {
    const model = mlp(2);
    const pool = new serve.InferencePool(model);
    try {
      manualSeed(6);
      const a = randn([4, 6]);
      const b = randn([3, 6]);
      const wantA = Array.from(model.predict(a).data);
      const wantB = Array.from(model.predict(b).data);
      const pa = pool.predict(a);
      a.data.fill(1e6); // mutated after the call
      const pb = pool.predict(b);
      structuredClone(b.data.buffer, { transfer: [b.data.buffer as ArrayBuffer] }); // detached after the call
      expect(b.data.length).toBe(0);
      expect(Array.from((await pa).data)).toEqual(wantA);
      expect(Array.from((await pb).data)).toEqual(wantB);
      // A tensor already detached is refused on this thread, naming the argument.
      await expect(pool.predict(b)).rejects.toThrow(/^fathom\.InferencePool\.predict: x has lost its storage/);
    } finally {
      await pool.close();
    }
  });

  it('reads a snapshot: training the caller\'s model meanwhile does not reach the pool; setModel swaps between requests', async () => {
    const model = mlp(3);
    manualSeed(7);
    const x = randn([5, 6]);
    const before = Array.from(model.predict(x).data);
    const pool = new serve.InferencePool(model, { workers: 2 });
    try {
      await model.fit(x, randn([5, 3]), { loss: 'mse', epochs: 3, lr: 0.1, verbose: 0 });
      const after = Array.from(model.predict(x).data);
      expect(after).not.toEqual(before);
      expect(Array.from((await pool.predict(x)).data)).toEqual(before);
      // Requests made before setModel get the old weights, those after it the new ones; none is dropped.
      const old = Array.from({ length: 6 }, () => pool.predict(x));
      pool.setModel(model);
      const neu = Array.from({ length: 6 }, () => pool.predict(x));
      for (const y of await Promise.all(old)) expect(Array.from(y.data)).toEqual(before);
      for (const y of await Promise.all(neu)) expect(Array.from(y.data)).toEqual(after);
      // Bytes work as a model too.
      pool.setModel(serialize(mlp(4)));
      expect(Array.from((await pool.predict(x)).data)).toEqual(Array.from(mlp(4).predict(x).data));
    } finally {
      await pool.close();
    }
  });

  it('a request the model refuses rejects with the worker\'s error; the worker keeps serving', async () => {
    const model = mlp(8);
    const pool = new serve.InferencePool(model);
    try {
      await expect(pool.predict(randn([2, 5]))).rejects.toThrow(/^fathom\.Sequential: layer 0 \(Linear\): fathom\.Linear: expected input \[\*, 6\].*got \[2, 5\]/);
      const x = randn([2, 6]);
      expect(Array.from((await pool.predict(x)).data)).toEqual(Array.from(model.predict(x).data));
      // Bytes the worker cannot rebuild: the requests after them reject with deserialize's error until the next setModel.
      pool.setModel(new Uint8Array([1, 2, 3]));
      await expect(pool.predict(x)).rejects.toThrow(/^fathom\.deserialize: /);
      pool.setModel(model);
      expect(Array.from((await pool.predict(x)).data)).toEqual(Array.from(model.predict(x).data));
    } finally {
      await pool.close();
    }
  });

  it('close() drains: requests made before it are answered, later ones refused, the workers end', async () => {
    const model = mlp(9);
    const pool = new serve.InferencePool(model, { workers: 2 });
    manualSeed(10);
    const xs = Array.from({ length: 5 }, () => randn([3, 6]));
    const pending = xs.map((x) => pool.predict(x));
    const closed = pool.close();
    expect(pool.close()).toBe(closed);
    await expect(pool.predict(xs[0])).rejects.toThrow(/^fathom\.InferencePool\.predict: the pool is closed/);
    expect(() => pool.setModel(model)).toThrow(/^fathom\.InferencePool\.setModel: the pool is closed/);
    const ys = await Promise.all(pending);
    ys.forEach((y, i) => expect(Array.from(y.data)).toEqual(Array.from(model.predict(xs[i]).data)));
    await closed;
    expect(liveWorkers.size).toBe(0);
  });

  it('predictAsync: the model\'s own worker (model.predictAsync: kept warm, closed by serve.closeWorkers), or a pool\'s predict', async () => {
    const model = mlp(11);
    const x = randn([3, 6]);
    const want = Array.from(model.predict(x).data);
    expect(Array.from((await predictAsync(model, x)).data)).toEqual(want);
    expect(Array.from((await model.predictAsync(x)).data)).toEqual(want);
    expect(liveWorkers.size).toBe(1); // one worker for the model, reused by both calls
    await serve.closeWorkers();
    expect(liveWorkers.size).toBe(0);
    const pool = new serve.InferencePool(model);
    try {
      expect(Array.from((await predictAsync(pool, x)).data)).toEqual(want);
      await expect(predictAsync(pool, x, { idleTimeoutMs: 5 })).rejects.toThrow(/^fathom\.predictAsync: options idleTimeoutMs apply to a model's own worker, not to an InferencePool/);
      await expect(predictAsync(pool, x, { signal: new AbortController().signal })).rejects.toThrow(/^fathom\.predictAsync: options\.signal applies to a model's own worker, not to an InferencePool \(a pool hands a request to its worker at once/);
    } finally {
      await pool.close();
    }
  });
});

describe('InferencePool: start-up', () => {
  it('ready() resolves once the workers can answer; a worker that cannot start rejects ready() and the requests', async () => {
    const model = mlp(13);
    const pool = new serve.InferencePool(model, { workers: 2 });
    await pool.ready();
    const x = randn([2, 6]);
    expect(Array.from((await pool.predict(x)).data)).toEqual(Array.from(model.predict(x).data));
    await pool.close();
    const broken = new serve.InferencePool(model, { imports: ['/nonexistent/fathom-layers.mjs'] });
    const p = broken.predict(x);
    await expect(broken.ready()).rejects.toThrow(/fathom-layers\.mjs/);
    await expect(p).rejects.toThrow(/fathom-layers\.mjs/);
    await expect(broken.predict(x)).rejects.toThrow(/^fathom\.InferencePool\.predict: no worker is left \(.*fathom-layers\.mjs/);
    await broken.close();
  });
});

describe('InferencePool: bad arguments', () => {
  it('refuses them on this thread, naming the argument, before starting a worker', async () => {
    const model = mlp(12);
    expect(() => new serve.InferencePool({} as nn.Module)).toThrow(/^fathom\.InferencePool: model must be an nn\.Module or the bytes of serialize\(model\), got/);
    expect(() => new serve.InferencePool(model, { workers: 0 })).toThrow(/^fathom\.InferencePool: options\.workers must be an integer in 1\.\.64, got 0/);
    expect(() => new serve.InferencePool(model, { thread: 2 } as never)).toThrow(/^fathom\.InferencePool: unknown option 'thread' \(did you mean 'threads'\?\)/);
    await expect(predictAsync(model, [1, 2] as never)).rejects.toThrow(/^fathom\.predictAsync: x must be a Tensor, got .* \(a model of several inputs: model\.predictAsync\(x\) takes a list or an object of them\)$/);
    await expect(predictAsync('m' as never, randn([1, 6]))).rejects.toThrow(/^fathom\.predictAsync: model must be an nn\.Module or a serve\.InferencePool/);
    expect(liveWorkers.size).toBe(0);
  });
});
