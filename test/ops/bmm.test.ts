/**
 * Batched matmul of issue #11 (lib/ops/bmm.ts): matmul with operands of rank
 * > 2, batch axes broadcast, against a float64 triple loop, and native vs TS
 * (both run the packed GEMM of their backend) at awkward sizes (0, 1, 7, 33),
 * both transposes, the one-GEMM fold (b shared) and the per-entry loop, and
 * the error messages. Gradients: gradcheck.test.ts (matmulBatched).
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as fa from '../../lib/index.js';
import { Tensor, setBackend, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { compareArrays, type Tolerance } from '../helpers/parity.js';
import { randomArray } from '../helpers/random.js';

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const rnd = (shape: number[], seed: number): Tensor => tensor(randomArray(size(shape), seed), shape);
const TOL: Tolerance = { atol: 1e-5, rtol: 1e-5 };

/** Σ_k op(a)[.., i, k] op(b)[.., k, j] in float64, batch broadcast by hand. */
function reference(a: Tensor, b: Tensor, transA: boolean, transB: boolean): { shape: number[]; data: Float64Array } {
  const ra = a.rank, rb = b.rank;
  const m = transA ? a.shape[ra - 1] : a.shape[ra - 2], k = transA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = transB ? b.shape[rb - 2] : b.shape[rb - 1];
  const ab = a.shape.slice(0, -2), bb = b.shape.slice(0, -2);
  const r = Math.max(ab.length, bb.length);
  const pad = (s: number[]): number[] => [...new Array<number>(r - s.length).fill(1), ...s];
  const pa = pad(ab), pb = pad(bb);
  const batch = pa.map((d, i) => Math.max(d, pb[i]) * (d === 0 || pb[i] === 0 ? 0 : 1));
  const out = new Float64Array(size(batch) * m * n);
  for (let e = 0; e < size(batch); e++) {
    // the batch index of e, then each operand's entry (axis of size 1 → 0)
    let rem = e, ea = 0, eb = 0, sa = 1, sb = 1;
    for (let d = r - 1; d >= 0; d--) {
      const i = rem % batch[d];
      rem = Math.floor(rem / batch[d]);
      ea += (pa[d] === 1 ? 0 : i) * sa;
      eb += (pb[d] === 1 ? 0 : i) * sb;
      sa *= pa[d];
      sb *= pb[d];
    }
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const av = a.data[ea * m * k + (transA ? q * m + i : i * k + q)];
          const bv = b.data[eb * k * n + (transB ? j * k + q : q * n + j)];
          s += av * bv;
        }
        out[(e * m + i) * n + j] = s;
      }
    }
  }
  return { shape: [...batch, m, n], data: out };
}

const CASES: [number[], number[], boolean, boolean][] = [
  [[2, 3, 4], [2, 4, 5], false, false],
  [[7, 33, 7], [7, 5], false, false], // b shared: one GEMM of (7·33) × 7 by 7 × 5
  [[3, 1, 7, 33], [33, 1], false, false],
  [[2, 7, 33], [1, 5, 33], false, true],
  [[33, 7], [4, 33, 7], true, false], // a shared
  [[2, 1, 7, 3], [1, 4, 3, 7], false, false], // both broadcast
  [[2, 7, 3], [2, 5, 7], true, true],
  [[1, 1, 1], [1, 1, 1], false, false],
  [[0, 3, 4], [4, 5], false, false], // empty batch
  [[2, 0, 4], [2, 4, 5], false, false], // M = 0
  [[2, 3, 0], [2, 0, 5], false, false], // K = 0: zeros
  [[5, 33, 33], [5, 33, 33], false, false],
];

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

describe.each(backends)('batched matmul on the %s backend', (name) => {
  it.each(CASES)('%j × %j (transA %s, transB %s) matches the float64 loop', (sa, sb, transA, transB) => {
    setBackend(name);
    const a = rnd(sa, size(sa) + 1), b = rnd(sb, size(sb) + 2);
    const want = reference(a, b, transA, transB);
    const y = fa.matmul(a, b, { transA, transB });
    expect(y.shape).toEqual(want.shape);
    compareArrays(`matmul ${JSON.stringify(sa)} x ${JSON.stringify(sb)}`, y.data, want.data, TOL);
  });

  it('the folded and per-entry paths agree, forward and backward', () => {
    setBackend(name);
    const a = rnd([3, 7, 5], 1), w = rnd([5, 4], 2);
    const a1 = a.clone().requireGrad(), w1 = w.clone().requireGrad();
    const a2 = a.clone().requireGrad(), w2 = fa.reshape(w.clone(), [1, 5, 4]).requireGrad();
    // y1 is folded (b 2-D, a not transposed: one GEMM); y2 computes the same product per batch
    // entry (transA on a pre-transposed a is never folded), with b as [1, 5, 4] broadcast
    const aT = fa.transpose(a2, 1, 2);
    const y1 = fa.matmul(a1, w1), y2 = fa.matmul(aT, w2, { transA: true });
    compareArrays('forward', y2.data, y1.data, TOL);
    const g = rnd([3, 7, 4], 3);
    y1.backward(g);
    y2.backward(g);
    compareArrays('da', a2.grad!.data, a1.grad!.data, TOL);
    compareArrays('dw', w2.grad!.data, w1.grad!.data, TOL);
    expect(w2.grad!.shape).toEqual([1, 5, 4]);
  });
});

if (nativeBinding()) {
  it('native and TS agree on a batched product (parity)', () => {
    const a = rnd([4, 33, 65], 7), b = rnd([4, 65, 17], 8);
    setBackend('ts');
    const ts = fa.matmul(a, b);
    setBackend('native');
    const nat = fa.matmul(a, b);
    compareArrays('native vs ts', nat.data, ts.data, { atol: 1e-5, rtol: 1e-4 });
  });
}

describe('batched matmul refuses bad shapes, naming them', () => {
  it.each([
    [() => fa.matmul(rnd([2, 3, 4], 1), rnd([2, 5, 5], 2)), /fathom\.matmul: inner dimensions differ: a is 3x4 \(a \[2, 3, 4\]\), b is 5x5 \(b \[2, 5, 5\]\)/],
    [() => fa.matmul(rnd([2, 3, 4], 1), rnd([3, 4, 5], 2)), /fathom\.matmul: the batch axes \[2\] of a \[2, 3, 4\] and \[3\] of b \[3, 4, 5\] cannot be broadcast together/],
    [() => fa.matmul(rnd([4], 1), rnd([2, 4, 5], 2)), /fathom\.matmul: expected 2-D tensors, got shapes \[4\] and \[2, 4, 5\]/],
  ])('%#', (f, re) => {
    expect(f).toThrow(re);
  });
});
