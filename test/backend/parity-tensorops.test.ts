// #11 natops: parity of the tensor-op kernels, native vs TS (the oracle): indexSelect, its
// backward (an index-add with repeats), gather and its backward (a scatter-add) and cumsum (forward and reverse), at sizes 0, 1, 7, 33,
// 257 along each of outer / n / inner; then the refusals of the raw kernels (checked spec and
// the addon itself): wrong lengths and out-of-range indices fail before any memory is read.
//   npx vitest run test/backend/parity-tensorops.test.ts
//   FATHOM_ISA=scalar npx vitest run test/backend/parity-tensorops.test.ts
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../lib/backend/backend.js';
import { getBackendByName, nativeBinding } from '../../lib/backend/index.js';
import { tsBackend as T } from '../../lib/backend/ts/index.js';
import { index, cumsum, gather, where } from '../../lib/ops/index_ops.js';
import { eq, ge, gt, le, lt, ne } from '../../lib/ops/compare.js';
import { Tensor } from '../../lib/tensor/tensor.js';
import { randomArray } from '../helpers/random.js';

const binding = nativeBinding();
const N: Backend = binding ? getBackendByName('native') : T;
const SIZES = [0, 1, 7, 33, 257];

/** Seeded uniform floats in [-2, 2) (test/helpers/random.ts). */
const floats = (len: number, seed: number): Float32Array => randomArray(len, seed, -2, 2);
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
    for (const m of n === 0 ? [0] : [0, 1, 7, 33]) {
      it(`gather and its backward: outer ${outer}, n ${n}, inner ${inner}, m ${m}`, () => {
        const seed = outer * 1000033 + n * 1013 + inner * 37 + m;
        const x = floats(outer * n * inner, seed);
        const idx = ints(outer * m * inner, n, seed + 5); // repeats along the axis
        const yN = new Float32Array(outer * m * inner).fill(NaN);
        const yT = new Float32Array(outer * m * inner).fill(NaN);
        N.gather(outer, n, inner, x, idx, m, yN);
        T.gather(outer, n, inner, x, idx, m, yT);
        expect(yN).toEqual(yT);
        if (yT.length) {
          const a = outer - 1, j = m - 1, b = inner - 1, p = (a * m + j) * inner + b;
          expect(yT[p]).toBe(x[(a * n + idx[p]) * inner + b]);
        }
        const dy = floats(outer * m * inner, seed + 13);
        const dxN = new Float32Array(outer * n * inner).fill(NaN);
        const dxT = new Float32Array(outer * n * inner).fill(NaN);
        N.gatherBackward(outer, n, inner, dy, idx, m, dxN);
        T.gatherBackward(outer, n, inner, dy, idx, m, dxT);
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
    const gi = new Tensor(ints(4 * 9 * 5, 33, 8), [4, 9, 5]);
    const g = gather(x, 1, gi);
    const wantG = new Float32Array(4 * 9 * 5);
    T.gather(4, 33, 5, x.f32(), gi.data as Int32Array, 9, wantG);
    expect(g.f32()).toEqual(wantG);
    const c = cumsum(x, 1);
    const wantC = new Float32Array(x.size);
    T.cumsum(4, 33, 5, x.f32(), false, wantC);
    expect(c.f32()).toEqual(wantC);
  });
});

describe.skipIf(!binding)('backend parity: native vs ts, comparison op codes of binaryBroadcast', () => {
  const OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
  /** Values with ties, NaN, ±0 and ±Inf, so every predicate sees each case. */
  function special(len: number, seed: number): Float32Array {
    const pool = [NaN, 0, -0, 1, -1, Infinity, -Infinity, 0.5, 2];
    const f = floats(len, seed);
    return Float32Array.from(f, (v, i) => (i % 3 === 0 ? pool[Math.floor((v + 2) * 2.25) % pool.length] : Math.round(v * 2) / 2));
  }
  for (const s of SIZES) {
    for (const op of OPS) {
      it(`${op}: [${s}, 3] with [3] (broadcast) and [${s}, 3] with itself`, () => {
        const a = special(s * 3, s + 1), b = special(3, s + 2), c = special(s * 3, s + 3);
        const cases: [Float32Array, number[], Float32Array, number[]][] = [[a, [3, 1], b, [0, 1]], [a, [3, 1], c, [3, 1]]];
        for (const [x, xs, y, ys] of cases) {
          const oN = new Float32Array(s * 3).fill(7), oT = new Float32Array(s * 3).fill(7);
          N.binaryBroadcast(op, [s, 3], x, xs, y, ys, oN);
          T.binaryBroadcast(op, [s, 3], x, xs, y, ys, oT);
          expect(oN).toEqual(oT);
          for (let i = 0; i < oT.length; i++) {
            const u = x[i], v = y[ys[0] ? i : i % 3];
            const want = op === 'ne' ? u !== v : Number.isNaN(u) || Number.isNaN(v) ? false
              : op === 'eq' ? u === v : op === 'lt' ? u < v : op === 'le' ? u <= v : op === 'gt' ? u > v : u >= v;
            expect(oT[i]).toBe(want ? 1 : 0);
          }
          N.binary(op, x, x.length === y.length ? y : x, oN);
          T.binary(op, x, x.length === y.length ? y : x, oT);
          expect(oN).toEqual(oT);
        }
      });
    }
  }
  it('the comparison ops keep their semantics on the kernel path (NaN, numbers exact in float64)', () => {
    const x = new Tensor(new Float32Array([NaN, 1, Math.fround(0.1), -0]), [4]);
    expect(Array.from(eq(x, x).f32())).toEqual([0, 1, 1, 1]);
    expect(Array.from(ne(x, x).f32())).toEqual([1, 0, 0, 0]);
    expect(Array.from(le(x, 0).f32())).toEqual([0, 0, 0, 1]);
    expect(Array.from(gt(x, 0.1).f32())).toEqual([0, 1, 1, 0]); // fround(0.1) > 0.1 in float64 (the TS path)
    expect(Array.from(lt(0.5, x).f32())).toEqual([0, 1, 0, 0]);
    expect(Array.from(ge(x, new Tensor(new Float32Array([1]), [1, 1])).f32())).toEqual([0, 1, 0, 0]);
    expect(ge(x, new Tensor(new Float32Array([1]), [1, 1])).shape).toEqual([1, 4]);
  });
});

describe.skipIf(!binding)('backend parity: native vs ts, whereBroadcast', () => {
  for (const s of SIZES) {
    it(`where: cond [${s}, 1, 3] (with NaN and ±0), a [4, 1], b [${s}, 4, 3]`, () => {
      const c = Float32Array.from(floats(s * 3, s + 5), (v, i) => (i % 5 === 0 ? NaN : i % 7 === 0 ? -0 : v > 0 ? 1 : 0));
      const a = floats(4, s + 6), b = floats(s * 12, s + 7);
      const shape = [s, 4, 3], cs = [3, 0, 1], as = [0, 1, 0], bs = [12, 3, 1];
      const oN = new Float32Array(s * 12).fill(7), oT = new Float32Array(s * 12).fill(7);
      N.whereBroadcast(shape, c, cs, a, as, b, bs, oN);
      T.whereBroadcast(shape, c, cs, a, as, b, bs, oT);
      expect(oN).toEqual(oT);
      for (let i = 0; i < s; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 3; k++) {
        const cv = c[i * 3 + k];
        expect(oT[(i * 4 + j) * 3 + k]).toBe(cv !== 0 ? a[j] : b[(i * 4 + j) * 3 + k]); // NaN selects a
      }
      const yt = where(new Tensor(c, [s, 1, 3]), new Tensor(a, [4, 1]), new Tensor(b, [s, 4, 3]));
      expect(yt.shape).toEqual(shape);
      expect(yt.f32()).toEqual(oT);
    });
  }
  it('scalar shape and a number operand', () => {
    const oN = new Float32Array(1), oT = new Float32Array(1);
    N.whereBroadcast([], new Float32Array([0]), [], new Float32Array([1]), [], new Float32Array([2]), [], oN);
    T.whereBroadcast([], new Float32Array([0]), [], new Float32Array([1]), [], new Float32Array([2]), [], oT);
    expect([oN[0], oT[0]]).toEqual([2, 2]);
    expect(Array.from(where(new Tensor(new Float32Array([1, 0]), [2]), 5, new Tensor(new Float32Array([3, 4]), [2])).f32())).toEqual([5, 4]);
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
    it(`${B.name}: gather and gatherBackward`, () => {
      const x = new Float32Array(12), y = new Float32Array(8), idx = new Int32Array([0, 2, 1, 0, 2, 2, 1, 1]);
      expect(() => B.gather(2, 3, 2, new Float32Array(11), idx, 2, y)).toThrow(/fathom\.backend\.gather: x must hold 12/);
      expect(() => B.gather(2, 3, 2, x, idx, 2, new Float32Array(9))).toThrow(/fathom\.backend\.gather: y must hold 8/);
      expect(() => B.gather(2, 3, 2, x, new Int32Array([0, 1]), 2, y)).toThrow(/idx must hold 8/);
      expect(() => B.gather(2, 3, 2, x, new Int32Array([0, 2, 1, 0, 2, 3, 1, 1]), 2, y)).toThrow(/fathom\.backend\.gather: idx\[5\] = 3 is out of range \(expected an integer in \[0, 3\)\)/);
      expect(() => B.gather(2, 3, 2, x, new Int32Array([-1, 2, 1, 0, 2, 2, 1, 1]), 2, y)).toThrow(/idx\[0\] = -1 is out of range/);
      expect(() => B.gather(2, 3, 2, x, idx, 2, x.subarray(0, 8))).toThrow(/y overlaps x/);
      expect(() => B.gather(-1, 3, 2, x, idx, 2, y)).toThrow(/outer must be a non-negative integer/);
      expect(() => B.gatherBackward(2, 3, 2, y, new Int32Array([0, 2, 1, 0, 2, 2, 1, 7]), 2, x)).toThrow(/fathom\.backend\.gatherBackward: idx\[7\] = 7 is out of range/);
      expect(() => B.gatherBackward(2, 3, 2, new Float32Array(7), idx, 2, x)).toThrow(/dy must hold 8/);
      expect(() => B.gatherBackward(2, 3, 2, y, idx, 2, new Float32Array(11))).toThrow(/dx must hold 12/);
    });
    it(`${B.name}: whereBroadcast`, () => {
      const c = new Float32Array(6), a = new Float32Array(6), out = new Float32Array(6);
      expect(() => B.whereBroadcast([2, 3], c, [3, 1], a, [3, 1], new Float32Array(5), [3, 1], out)).toThrow(/fathom\.backend\.whereBroadcast: strides reach past the operands: .*b needs 6 \(has 5\)/);
      expect(() => B.whereBroadcast([2, 3], c, [3, 1], a, [3, 1], a, [3, 1], new Float32Array(5))).toThrow(/out must hold 6/);
      expect(() => B.whereBroadcast([2, 3], c, [3], a, [3, 1], a, [3, 1], out)).toThrow(/must have the same length/);
      expect(() => B.whereBroadcast([2, 3], c, [3, 1], a, [3, 1], a, [3, 1], a)).toThrow(/out overlaps a/);
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
    const gi = new Int32Array([0, 2, 1, 0, 2, 2, 1, 1]);
    expect(() => b.gather(2, 3, 2, x, new Int32Array([0, 2, 1, 0, 2, 3, 1, 1]), 2, y)).toThrow(/fathom\.gather: idx\[5\] = 3 is out of range/);
    expect(() => b.gather(2, 3, 2, x, new Int32Array([0, 2, 1, -4, 2, 2, 1, 1]), 2, y)).toThrow(/idx\[3\] = -4 is out of range/);
    expect(() => b.gather(2, 3, 2, new Float32Array(6), gi, 2, y)).toThrow(/x must hold 12 float32 values, got 6/);
    expect(() => b.gather(2, 3, 2, x, gi.subarray(0, 4), 2, y)).toThrow(/idx must hold 8 int32 values, got 4/);
    expect(() => b.gather(2, 3, 2, x, gi, 2, new Float32Array(7))).toThrow(/y must hold 8/);
    expect(() => b.gatherBackward(2, 3, 2, y, new Int32Array([9, 0, 0, 0, 0, 0, 0, 0]), 2, x)).toThrow(/fathom\.gatherBackward: idx\[0\] = 9 is out of range/);
    expect(() => b.gatherBackward(2, 3, 2, y, gi, 2, new Float32Array(5))).toThrow(/dx must hold 12/);
    expect(() => b.gatherBackward(2, 3, 2, new Float32Array(7), gi, 2, x)).toThrow(/dy must hold 8/);
    expect(() => b.cumsum(2, 3, 2, x, false, new Float32Array(5))).toThrow(/fathom\.cumsum: y must hold 12/);
    expect(() => b.cumsum(2, 3, 2, x, 0 as unknown as boolean, x.slice())).toThrow(/reverse must be a boolean/);
    expect(() => b.cumsum(2, 3, 2, x, false, x)).toThrow(/y overlaps x/);
    expect(() => b.whereBroadcast([2, 3], x, [3, 1], x, [3, 1], new Float32Array(5), [3, 1], y.subarray(0, 6))).toThrow(/fathom\.whereBroadcast: strides reach past the operands/);
    expect(() => b.whereBroadcast([2, 3], x, [12, 1], x, [3, 1], x, [3, 1], new Float32Array(6))).toThrow(/cond needs 15 values \(has 12\)/);
  });
});
