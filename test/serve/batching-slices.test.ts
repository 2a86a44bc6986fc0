// BatchingPredictor's answersPerTurn (lib/serve/batching.ts): a batch's answers are handed out at most
// answersPerTurn requests per event-loop turn (the rest follow via setImmediate), each still the caller's
// own rows (checked row by row against model.predict); close() waits for the last slice. maxDelayMs 10_000
// makes a batch go only when full, so which requests share one is known without timing.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, randn, serve, setBackend, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { expectRows } from '../helpers/rows.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);

function mlp(seed: number): nn.Sequential {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(5, 12), new nn.Tanh(), new nn.Linear(12, 4));
}

/**
 * Sends `sizes.length` requests that fill exactly one batch and records, for each, the event-loop turn it
 * was answered in (a setImmediate chain counts turns meanwhile).
 */
async function turnsOf(bp: serve.BatchingPredictor, model: nn.Module, sizes: number[]): Promise<number[]> {
  const xs = sizes.map((n) => randn([n, 5]));
  let turn = 0, counting = true;
  const tick = (): void => { turn++; if (counting) setImmediate(tick); };
  setImmediate(tick);
  const turns: number[] = [];
  await Promise.all(xs.map((x, i) => bp.predict(x).then((y) => { expectRows(y, model, xs[i]); turns[i] = turn; })));
  counting = false;
  return turns;
}

afterEach(() => {
  expect(liveWorkers.size).toBe(0);
});

describe.each(backends)('BatchingPredictor answersPerTurn (%s)', (name) => {
  beforeAll(() => setBackend(name));

  it('hands out a batch\'s answers at most answersPerTurn per turn, in order, each the caller\'s rows', async () => {
    const model = mlp(1);
    const sizes = [1, 2, 1, 1, 3, 1, 1, 2]; // 12 rows, 8 requests: one batch
    for (const [per, slices] of [[3, 3], [1, 8], [Infinity, 1]] as const) {
      const bp = new serve.BatchingPredictor(model, { maxBatchSize: 12, maxDelayMs: 10_000, answersPerTurn: per });
      try {
        expect(bp.answersPerTurn).toBe(per);
        const turns = await turnsOf(bp, model, sizes);
        const distinct = [...new Set(turns)];
        expect(distinct.length).toBe(slices);
        for (const t of distinct) expect(turns.filter((u) => u === t).length).toBeLessThanOrEqual(per);
        expect([...turns].sort((a, b) => a - b)).toEqual(turns); // queue order
        expect(bp.stats()).toMatchObject({ completed: 8, batches: 1, inFlight: 0 });
      } finally {
        await bp.close();
      }
    }
  });

  it('a request split over two batches gets its rows from both; close() waits for the last slice', async () => {
    const model = mlp(2);
    const bp = new serve.BatchingPredictor(model, { maxBatchSize: 4, maxDelayMs: 10_000, answersPerTurn: 1 });
    const xs = [randn([1, 5]), randn([1, 5]), randn([5, 5]), randn([1, 5]), randn([1, 5])]; // 9 rows: 4 + 4 + 1
    const ys: (Tensor | undefined)[] = [];
    const ps = xs.map((x, i) => bp.predict(x).then((y) => { ys[i] = y; }));
    await bp.close(); // runs the last, partial batch; resolves when every answer is out
    expect(ys.every((y) => y !== undefined)).toBe(true);
    await Promise.all(ps);
    ys.forEach((y, i) => expectRows(y!, model, xs[i]));
    expect(bp.stats()).toMatchObject({ completed: 5, batches: 3 });
  });

  it('refuses a bad answersPerTurn, naming it', () => {
    const model = mlp(3);
    for (const bad of [0, 1.5, -Infinity, NaN]) {
      expect(() => new serve.BatchingPredictor(model, { answersPerTurn: bad as number })).toThrow(/^fathom\.BatchingPredictor: options\.answersPerTurn must be an integer ≥ 1 or Infinity, got/);
    }
  });
});
