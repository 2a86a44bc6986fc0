// BatchingPredictor (lib/serve/batching.ts): an x of rank 1 is N rows of one value each (a model of scalar
// inputs), so [D] for one sample of D features is not refused at the call; the model then answers a batch of
// N rows with something else, and the error says how x was read and what one sample should be ([1, D]).
// The rank-1 shape it set is then forgotten (no batch of it was answered: as for a batch that failed in the
// worker), so the predictor answers [1, D] afterwards (row by row as model.predict).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, randn, serve, setBackend, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);

afterEach(() => {
  expect(liveWorkers.size).toBe(0);
});

describe.each(backends)('BatchingPredictor: one sample given as [D] (%s)', (name) => {
  beforeAll(() => setBackend(name));

  it('rejects naming the rank-1 reading and [1, D]; then [1, D] is answered', async () => {
    manualSeed(9);
    const m = new nn.Sequential(new nn.Linear(4, 3));
    const bp = new serve.BatchingPredictor(m, { maxDelayMs: 0 });
    try {
      await expect(bp.predict(randn([4]))).rejects.toThrow(
        'fathom.BatchingPredictor: the model must map a batch of 4 rows to one tensor of 4 rows, got a tensor of shape [3] ' +
          "(the requests' x were rank 1, [N]: N rows of one value each; one sample of D features is [1, D])",
      );
      const x = randn([1, 4]);
      const y = await bp.predict(x);
      const want = m.predict(x);
      expect(y.shape).toEqual([1, 3]);
      y.data.forEach((v, i) => expect(Math.abs(v - want.data[i])).toBeLessThanOrEqual(1e-5));
    } finally {
      await bp.close();
    }
  });
});
