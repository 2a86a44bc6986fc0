// #11 natops: parity of the tensor-op kernels, native vs TS (the oracle): indexSelect, its
// backward (an index-add with repeats) and cumsum (forward and reverse), at sizes 0, 1, 7, 33,
// 257 along each of outer / n / inner; then the refusals of the raw kernels (checked spec and
// the addon itself): wrong lengths and out-of-range indices fail before any memory is read.
//   npx vitest run test/backend/parity-tensorops.test.ts
//   FATHOM_ISA=scalar npx vitest run test/backend/parity-tensorops.test.ts
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../lib/backend/backend.js';
import { getBackendByName, nativeBinding } from '../../lib/backend/index.js';
import { tsBackend as T } from '../../lib/backend/ts/index.js';
import { index, cumsum } from '../../lib/ops/index_ops.js';
import { Tensor } from '../../lib/tensor/tensor.js';

const binding = nativeBinding();
const N: Backend = binding ? getBackendByName('native') : T;
const SIZES = [0, 1, 7, 33, 257];

/** Deterministic pseudo-random floats in [-2, 2) (an LCG; seeds differ per case). */
function floats(len: number, seed: number): Float32Array {
  const out = new Float32Array(len);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 4 - 2;
  }
  return out;
}
function ints(len: number, n: number, seed: number): Int32Array {
  const f = floats(len, seed);
  return Int32Array.from(f, (v) => Math.min(n - 1, Math.floor(((v + 2) / 4) * n)));
}
/** outer, n, inner cases: each size on each axis, the other two small. */
function shapes(): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const s of SIZES) out.push([s, 3, 2], [2, s, 3], [3, 2, s]);
  return out;
}

describe.skipIf(!binding)('backend parity: native vs ts, tensor-op kernels', () => {
  for (const [outer, n, inner] of shapes()) {
    for (const m of n === 0 ? [0] : [0, 1, 7, 33]) {
      it(`indexSelect and its backward: outer ${outer}, n ${n}, inner ${inner}, m ${m}`, () => {
        const seed = outer * 1000003 + n * 1009 + inner * 31 + m;
        const x = floats(outer * n * inner, seed);
        const idx = ints(m, n, seed + 7); // repeats when m > n
        const yN = new Float32Array(outer * m * inner).fill(NaN);
        const yT = new Float32Array(outer * m * inner).fill(NaN);
        N.indexSelect(outer, n, inner, x, idx, m, yN);
        T.indexSelect(outer, n, inner, x, idx, m, yT);
        expect(yN).toEqual(yT);
        // spot check against the definition
        if (yT.length) {
          const a = outer - 1, i = m - 1, b = inner - 1;
          expect(yT[(a * m + i) * inner + b]).toBe(x[(a * n + idx[i]) * inner + b]);
        }
        const dy = floats(outer * m * inner, seed + 11);
        const dxN = new Float32Array(outer * n * inner).fill(NaN);
        const dxT = new Float32Array(outer * n * inner).fill(NaN);
        N.indexSelectBackward(outer, n, inner, dy, idx, m, dxN);
        T.indexSelectBackward(outer, n, inner, dy, idx, m, dxT);
        expect(dxN).toEqual(dxT); // the same order of float32 adds: bit-identical
        let total = 0, want = 0;
        for (const v of dxT) total += v;
        for (const v of dy) want += v;
        expect(total).toBeCloseTo(want, 2);
      });
    }
    it(`cumsum forward and reverse: outer ${outer}, n ${n}, inner ${inner}`, () => {
      const x = floats(outer * n * inner, outer * 7 + n * 13 + inner);
      for (const reverse of [false, true]) {
        const yN = new Float32Array(x.length).fill(NaN);
        const yT = new Float32Array(x.length).fill(NaN);
        N.cumsum(outer, n, inner, x, reverse, yN);
        T.cumsum(outer, n, inner, x, reverse, yT);
        expect(yN).toEqual(yT); // float64 accumulation on both sides, rounded on store
        if (x.length) {
          const a = outer - 1, b = inner - 1, j = reverse ? 0 : n - 1;
          let s = 0;
          for (let k = 0; k < n; k++) s += x[(a * n + k) * inner + b];
          expect(yT[(a * n + j) * inner + b]).toBe(Math.fround(s));
        }
      }
    });
  }

  it('the ops run on the kernels: index and cumsum of a Tensor agree with the TS twin', () => {
    const x = new Tensor(floats(4 * 33 * 5, 3), [4, 33, 5]);
    const idx = new Tensor(ints(7, 33, 5), [7]);
    const y = index(x, idx, 1);
    const want = new Float32Array(4 * 7 * 5);
    T.indexSelect(4, 33, 5, x.f32(), idx.data as Int32Array, 7, want);
    expect(y.f32()).toEqual(want);
    const c = cumsum(x, 1);
    const wantC = new Float32Array(x.size);
    T.cumsum(4, 33, 5, x.f32(), false, wantC);
    expect(c.f32()).toEqual(wantC);
  });
});

describe('tensor-op kernels refuse bad arguments (checked spec, both backends)', () => {
  for (const B of binding ? [T, N] : [T]) {
    it(`${B.name}: indexSelect`, () => {
      const x = new Float32Array(12), y = new Float32Array(8);
      expect(() => B.indexSelect(2, 3, 2, new Float32Array(11), new Int32Array([0, 2]), 2, y)).toThrow(/fathom\.backend\.indexSelect: x must hold 12/);
      expect(() => B.indexSelect(2, 3, 2, x, new Int32Array([0, 2]), 2, new Float32Array(9))).toThrow(/fathom\.backend\.indexSelect: y must hold 8/);
      expect(() => B.indexSelect(2, 3, 2, x, new Int32Array([0]), 2, y)).toThrow(/idx must hold 2/);
      expect(() => B.indexSelect(2, 3, 2, x, new Int32Array([0, 3]), 2, y)).toThrow(/fathom\.backend\.indexSelect: idx\[1\] = 3 is out of range \(expected an integer in \[0, 3\)\)/);
      expect(() => B.indexSelect(2, 3, 2, x, new Int32Array([-1, 0]), 2, y)).toThrow(/idx\[0\] = -1 is out of range/);
      expect(() => B.indexSelect(2, 3, 2, x, new Int32Array([0, 1]), 2, x.subarray(0, 8))).toThrow(/y overlaps x/);
      expect(() => B.indexSelect(-1, 3, 2, x, new Int32Array([0, 1]), 2, y)).toThrow(/outer must be a non-negative integer/);
    });
    it(`${B.name}: indexSelectBackward and cumsum`, () => {
      const dy = new Float32Array(8), dx = new Float32Array(12);
      expect(() => B.indexSelectBackward(2, 3, 2, dy, new Int32Array([0, 5]), 2, dx)).toThrow(/fathom\.backend\.indexSelectBackward: idx\[1\] = 5 is out of range/);
      expect(() => B.indexSelectBackward(2, 3, 2, new Float32Array(7), new Int32Array([0, 1]), 2, dx)).toThrow(/dy must hold 8/);
      expect(() => B.cumsum(2, 3, 2, new Float32Array(12), false, new Float32Array(11))).toThrow(/fathom\.backend\.cumsum: y must hold 12/);
      expect(() => B.cumsum(2, 3, 2, dx, 1 as unknown as boolean, new Float32Array(12))).toThrow(/reverse must be a boolean/);
      expect(() => B.cumsum(2, 3, 2, dx, false, dx)).toThrow(/y overlaps x/);
    });
  }
  it.skipIf(!binding)('the addon itself refuses wrong lengths and out-of-range indices (no read past x)', () => {
    const b = binding!;
    const x = new Float32Array(12), y = new Float32Array(8);
    expect(() => b.indexSelect(2, 3, 2, x, new Int32Array([0, 3]), 2, y)).toThrow(/fathom\.indexSelect: idx\[1\] = 3 is out of range/);
    expect(() => b.indexSelect(2, 3, 2, x, new Int32Array([0, -7]), 2, y)).toThrow(/idx\[1\] = -7 is out of range/);
    expect(() => b.indexSelect(2, 3, 2, new Float32Array(6), new Int32Array([0, 1]), 2, y)).toThrow(/x must hold 12 float32 values, got 6/);
    expect(() => b.indexSelect(2, 3, 2, x, new Int32Array([0, 1]), 3, y)).toThrow(/idx must hold 3 int32 values, got 2/);
    expect(() => b.indexSelectBackward(2, 3, 2, y, new Int32Array([9, 0]), 2, x)).toThrow(/fathom\.indexSelectBackward: idx\[0\] = 9 is out of range/);
    expect(() => b.indexSelectBackward(2, 3, 2, y, new Int32Array([0, 1]), 2, new Float32Array(5))).toThrow(/dx must hold 12/);
    expect(() => b.cumsum(2, 3, 2, x, false, new Float32Array(5))).toThrow(/fathom\.cumsum: y must hold 12/);
    expect(() => b.cumsum(2, 3, 2, x, 0 as unknown as boolean, x.slice())).toThrow(/reverse must be a boolean/);
    expect(() => b.cumsum(2, 3, 2, x, false, x)).toThrow(/y overlaps x/);
  });
});
