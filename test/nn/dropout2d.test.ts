/**
 * nn.Dropout2d on 3-D input: PyTorch (1.13 to 2.x) reads a 3-D input to Dropout2d as
 * [N, C, L] and drops each x[n, c, :] whole (its FutureWarning says a later release will read
 * it as an unbatched [C, H, W]); fathom does the same. The 4-D path is in pool-layers.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, manualSeed, nn, ones, rand, setBackend, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);
afterAll(() => { setBackend(nativeBinding() ? 'native' : 'ts'); });

describe('nn.Dropout2d on [N, C, L]', () => {
  for (const b of backends) {
    it(`zeroes whole rows x[n, c, :], scales the rest by 1/(1 - p), passes the gradient through the mask, is seeded (${b})`, () => {
      setBackend(b);
      const [N, C, L] = [6, 16, 7];
      const d = new nn.Dropout2d(0.25);
      const x = rand([N, C, L], { low: 1, high: 2 });
      x.requiresGrad = true;
      manualSeed(3);
      const y = d.forward(x);
      expect(y.shape).toEqual([N, C, L]);
      let kept = 0;
      for (let r = 0; r < N * C; r++) {
        const row = Array.from({ length: L }, (_, l) => [x.data[r * L + l]!, y.data[r * L + l]!] as const);
        const dropped = row[0]![1] === 0;
        for (const [xi, yi] of row) {
          if (dropped) expect(yi, `row ${r} is dropped whole`).toBe(0);
          else expect(Math.abs(yi - xi / 0.75), `row ${r} is kept whole, scaled by 1/(1 - p)`).toBeLessThan(1e-6);
        }
        if (!dropped) kept++;
      }
      expect(kept).toBeGreaterThan(50); // 96 rows, keep 3/4: 72 expected
      expect(kept).toBeLessThan(92);
      y.backward(ones(y.shape));
      for (let i = 0; i < N * C * L; i++) expect(x.grad!.data[i]).toBeCloseTo(y.data[i] === 0 ? 0 : 1 / 0.75, 6);
      // The same decisions as the 4-D path on [N, C, L, 1] under the same seed (one draw per channel).
      manualSeed(3);
      const y4 = d.forward(x.detach().reshape([N, C, L, 1]));
      expect(Array.from(y4.data)).toEqual(Array.from(y.data));
    });
  }

  it('eval() and p = 0 pass a 3-D input unchanged; other ranks and dtypes are refused, naming the layer', () => {
    const x = rand([2, 3, 4]);
    expect(new nn.Dropout2d(0.5).eval().forward(x)).toBe(x);
    expect(new nn.Dropout2d(0).forward(x)).toBe(x);
    const d = new nn.Dropout2d();
    expect(() => d.forward(rand([2, 3]))).toThrow('fathom.Dropout2d: expected input [N, C, H, W] or [N, C, L], got [2, 3]');
    expect(() => d.forward(rand([1, 2, 3, 4, 5]))).toThrow('fathom.Dropout2d: expected input [N, C, H, W] or [N, C, L], got [1, 2, 3, 4, 5]');
    expect(() => d.forward(new Tensor(new Int32Array(6), [1, 2, 3]))).toThrow('fathom.Dropout2d: expected a float32 input, got int32 [1, 2, 3]');
    expect(() => d.forward(5 as never)).toThrow(/^fathom\.Dropout2d: expected a Tensor input \[N, C, H, W\] or \[N, C, L\], got/);
    // p = 1 drops every row
    expect(Array.from(new nn.Dropout2d(1).forward(tensor([[[1, 2], [3, 4]]])).data)).toEqual([0, 0, 0, 0]);
  });

  it('works after a Conv1d in a Sequential, as in PyTorch models that use it on [N, C, L]', () => {
    const m = new nn.Sequential(new nn.Conv1d(2, 4, 3, { seed: 1 }), new nn.Dropout2d(0.5), new nn.Flatten(), new nn.Linear(4 * 5, 2, { seed: 2 }));
    const x = rand([3, 2, 7]);
    expect(m.forward(x).shape).toEqual([3, 2]);
    m.eval();
    expect(Array.from(m.forward(x).data)).toEqual(Array.from(m.predict(x).data));
  });
});
