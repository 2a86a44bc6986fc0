// BatchingPredictor (lib/serve/batching.ts): a request split over several batches whose first batch fails
// while its last rows still wait in a batch shared with other requests. The failed request's waiting rows
// must leave that batch (unqueue: the rows after them move down) and the other requests sharing it must be
// answered with their own rows; queue counts return to 0. The batch fails because its worker dies (the
// custom layer test/serve/fixtures/exit-layer.mjs ends the worker on a batch whose first value is 777; the
// workers run this checkout's dist/: `npx tsc -p tsconfig.json` first when running this file alone).
// Also: rows larger than the 8 MiB a batch buffer starts with (newBatch / grow), joined, cancelled and split.
import { afterEach, describe, expect, it } from 'vitest';
import { manualSeed, nn, randn, serve, setBackend, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { expectRows } from '../helpers/rows.js';

const EXIT_LAYER = new URL('../serve/fixtures/exit-layer.mjs', import.meta.url);

class ExitOn777 extends nn.Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
  override config() { return { type: 'ExitOn777' }; }
}
nn.registerModuleType('ExitOn777', () => new ExitOn777(), () => []);

afterEach(() => {
  expect(liveWorkers.size).toBe(0);
});

function poison(n: number): Tensor {
  const x = randn([n, 4]);
  x.data[0] = 777;
  return x;
}

describe('BatchingPredictor: a split request fails while its last rows wait with others', () => {
  it('the others in the batch it shared are answered with their own rows (1 worker)', async () => {
    setBackend(nativeBinding() ? 'native' : 'ts');
    manualSeed(71);
    const model = new nn.Sequential(new ExitOn777(), new nn.Linear(4, 3));
    const bp = new serve.BatchingPredictor(model, { imports: [EXIT_LAYER], workers: 1, maxBatchSize: 4, maxDelayMs: 60_000 });
    try {
      const first = randn([4, 4]); // a full batch: the shape is confirmed (a later failure does not reset it)
      expectRows(await bp.predict(first), model, first);
      await new Promise((r) => setImmediate(r)); // its batch leaves inFlight just after the answer
      // Batches [bad 0..3] and [bad 4..7] run (two in flight for one worker), [bad 8..9, a, b 0] waits, [b 1] is the newest.
      const bad = poison(10);
      const a = randn([1, 4]);
      const b = randn([2, 4]);
      const pBad = bp.predict(bad);
      const pa = bp.predict(a);
      const pb = bp.predict(b);
      expect(bp.stats()).toMatchObject({ queueDepth: 3, queuedRows: 5, inFlight: 2 });
      await expect(pBad).rejects.toThrow(/fathom\.InferencePool: a worker exited \(code 3\)/);
      const c = randn([3, 4]); // fills the newest batch: [b 1, c 0..2]
      const pc = bp.predict(c);
      const [ya, yb, yc] = await Promise.all([pa, pb, pc]);
      expectRows(ya, model, a);
      expectRows(yb, model, b);
      expectRows(yc, model, c);
      const s = bp.stats();
      expect(s).toMatchObject({ queueDepth: 0, queuedRows: 0, inFlight: 0, failed: 1, completed: 4 });
      // Rows run: [first], [bad 0..3], [bad 4..7] (failed), then [a, b 0] and [b 1, c 0..2]: bad's last two never.
      expect(s.batchSizes.reduce((t, k, i) => t + k * i, 0)).toBe(4 + 8 + 2 + 4);
    } finally {
      await bp.close();
    }
  });

  it('a batch answered after the split request failed in another worker gives the others their rows (2 workers)', async () => {
    setBackend(nativeBinding() ? 'native' : 'ts');
    manualSeed(73);
    const model = new nn.Sequential(new ExitOn777(), new nn.Linear(4, 3));
    const bp = new serve.BatchingPredictor(model, { imports: [EXIT_LAYER], workers: 2, maxBatchSize: 4, maxDelayMs: 60_000 });
    try {
      const first = randn([4, 4]);
      expectRows(await bp.predict(first), model, first);
      // [bad 0..3] to one worker (it dies), [bad 4..5, a 0..1] to the other (answered, before or after).
      const bad = poison(6);
      const a = randn([2, 4]);
      const pBad = bp.predict(bad);
      const pa = bp.predict(a);
      await expect(pBad).rejects.toThrow(/fathom\.InferencePool: a worker exited \(code 3\)/);
      expectRows(await pa, model, a);
      expect(bp.stats()).toMatchObject({ queueDepth: 0, queuedRows: 0, failed: 1, completed: 2 });
      const again = randn([4, 4]);
      expectRows(await bp.predict(again), model, again);
    } finally {
      await bp.close();
    }
  });
});

describe('BatchingPredictor: rows larger than a batch buffer starts with', () => {
  it('grows the batch as large rows join it, drops a cancelled one from the middle, splits one over batches', async () => {
    setBackend(nativeBinding() ? 'native' : 'ts');
    manualSeed(72);
    const width = (8 << 20) / 4 + 5; // one row: 8 MiB + 20 bytes
    const model = new nn.Sequential(new nn.ReLU());
    const bp = new serve.BatchingPredictor(model, { maxBatchSize: 5, maxDelayMs: 60_000 });
    try {
      await bp.ready();
      const ac = new AbortController();
      const xs = [randn([1, width]), randn([1, width]), randn([2, width]), randn([3, width])];
      const p0 = bp.predict(xs[0]); // a buffer of 1 row
      const p1 = bp.predict(xs[1], { signal: ac.signal }); // grown to 2
      const p2 = bp.predict(xs[2]); // grown to 4
      ac.abort(new Error('gone')); // its row leaves; the 2 rows after it move down
      const p3 = bp.predict(xs[3]); // 2 rows join (5 with the 3 left: full, sent), 1 in a new batch
      await expect(p1).rejects.toThrow('gone');
      const closing = bp.close(); // sends the last batch
      const ys = await Promise.all([p0, p2, p3]);
      for (const [i, j] of [[0, 0], [1, 2], [2, 3]]) {
        const y = ys[i];
        const x = xs[j];
        expect(y.shape).toEqual(x.shape);
        for (let k = 0; k < x.size; k++) {
          if (y.data[k] !== Math.max(0, x.data[k])) throw new Error(`request ${j}: value ${k} is ${y.data[k]}, want ${Math.max(0, x.data[k])}`);
        }
      }
      await closing;
      const s = bp.stats();
      expect(s).toMatchObject({ queueDepth: 0, queuedRows: 0, completed: 3, cancelled: 1, batches: 2 });
      expect(s.batchSizes[5]).toBe(1);
      expect(s.batchSizes[1]).toBe(1);
    } finally {
      await bp.close();
    }
  });
});
