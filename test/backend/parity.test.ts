// One parity suite over every Backend method: the TS backend is the oracle,
// the native backend (whatever ISA it dispatched to: FATHOM_ISA=scalar forces
// the portable reference kernels) is compared against it on seeded random
// inputs at awkward sizes (test/helpers/shapes.ts), plus special values.
//
// Each backend gets its own copies of the inputs; outputs start as NaN (or
// garbage ints) so an element a kernel never writes shows up. A failure names
// the op, the size, the worst index and both values (test/helpers/parity.ts).
//
// Run both ISA paths:
//   npx vitest run test/backend/parity.test.ts
//   FATHOM_ISA=scalar npx vitest run test/backend/parity.test.ts
import { describe, expect, it } from 'vitest';
import { type Backend, type BinaryOp, type ReduceOp, type UnaryOp } from '../../lib/backend/backend.js';
import { Binary, Unary } from '../../lib/backend/backend.js';
import { UNARY_OP_NAMES, unaryEntry } from '../../lib/backend/unary_table.js';
import { getBackendByName, nativeBinding, nativeLoadError } from '../../lib/backend/index.js';
import { tsBackend as T } from '../../lib/backend/ts/index.js';
import { broadcastShapes, broadcastStrides, contiguousStrides, sizeOf } from '../../lib/tensor/shape.js';
import { EXACT, compareArrays, compareScalar, garbage, inputsAt, type Tolerance } from '../helpers/parity.js';
import { randomArray, randomInput as input, randomLabels, rng } from '../helpers/random.js';
import {
  BROADCASTS, BROADCASTS_LARGE, COLS, GEMM_DIMS, LENGTHS, REDUCTIONS, REDUCTIONS_LARGE, ROWS,
} from '../helpers/shapes.js';

// ---- tolerances: |native - ts| <= atol + rtol * |ts| ------------------------
//
// EXACT where both sides must produce the same float (moves, selects, sign
// flips, the uniform RNG). ~1e-6 relative for IEEE arithmetic (the native side
// may do a rounding or two more in float than the TS float64-then-round).
// Transcendentals get a few ulps: the AVX2 kernels use polynomial
// approximations. Accumulations (sums, GEMM, losses) scale with the length.
const R = (rtol: number, atol = 0): Tolerance => ({ atol, rtol });

// Unary ops: tolerances, input ranges and parameter sets come from THE op
// table (lib/backend/unary_table.ts, entry.test), so a new op is tested here
// without an edit.
const UNARY_TOL = (op: UnaryOp): Tolerance => unaryEntry(op).test.fwd;
const UNARY_BWD_TOL = (op: UnaryOp): Tolerance => unaryEntry(op).test.bwd;
const isExact = (t: Tolerance): boolean => t.atol === 0 && t.rtol === 0;
const BINARY_TOL: Record<BinaryOp, Tolerance> = {
  add: R(1e-6), sub: R(1e-6), mul: R(1e-6), div: R(1e-6), max: EXACT, min: EXACT, eq: EXACT,
  // --- #11 natops ---
  ne: EXACT, lt: EXACT, le: EXACT, gt: EXACT, ge: EXACT,
  // --- end #11 natops ---
};
/** Sums of `count` values in [-1, 1]: float accumulation error grows with count. */
const REDUCE_TOL = (op: ReduceOp, count: number): Tolerance =>
  op === 'max' ? EXACT : op === 'sum' ? R(1e-6, 1e-7 * count) : R(1e-6, 1e-7);
const TOL = {
  softmax: R(2e-6, 1e-7),
  logSoftmax: R(1e-6, 1e-6),
  softmaxBwd: R(2e-6, 1e-7),
  logSoftmaxBwd: R(2e-6, 1e-6),
  loss: R(1e-6, 1e-7), // xentLabels, xentProbs, mse (float64 scalars)
  lossBwd: R(1e-6, 1e-7),
  layout: EXACT, // transpose2d, argmax, fill, copy
  uniform: EXACT,
  normal: R(1e-6), // float64 libm (cos/sin/log) may differ from V8's by an ulp before rounding
};
/** GEMM: inputs in [-1, 1], so |acc| <= k; float accumulation error grows with k. */
const GEMM_TOL = (k: number, alpha: number, beta: number): Tolerance =>
  R(1e-6, 1e-6 * (k * Math.abs(alpha) + Math.abs(beta)));

// ---- setup -----------------------------------------------------------------

const binding = nativeBinding();
const N: Backend = binding ? getBackendByName('native') : T;

const UNARY_OPS = UNARY_OP_NAMES;
const BINARY_OPS = Object.keys(Binary) as BinaryOp[];
const REDUCE_OPS: ReduceOp[] = ['sum', 'mean', 'max'];

/** Special values: zeros of both signs, infinities, NaN, denormals, overflow edges. */
const SPECIAL = [
  0, -0, Infinity, -Infinity, NaN, 1, -1, 0.5, -0.5, 2, 1e-45, -1e-45, 1e-40, 1.2e-38, 3e38, -3e38,
  88.7, 89, -87, -104, -200, 200, 20, -20, 9.5, 1e-8, -1e-8, 0.1, 4,
];
/** SPECIAL laid out over `n` elements so each value lands in vector bodies and tails. */
function specialArray(n: number, shift = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => SPECIAL[(i * 7 + shift) % SPECIAL.length]);
}


/** The entry's parameters' defaults (p, q), 0 where it has none. */
function defaults(op: UnaryOp): [number, number] {
  const ps = unaryEntry(op).params ?? [];
  return [ps[0]?.default ?? 0, ps[1]?.default ?? 0];
}
function unaryCases(op: UnaryOp): { p: number; q: number; lo: number; hi: number; zeros: boolean }[] {
  const [p0, q0] = defaults(op);
  return unaryEntry(op).test.parity.map((c) => ({ p: c.p ?? p0, q: c.q ?? q0, lo: c.lo, hi: c.hi, zeros: c.zeros ?? false }));
}
function specialParams(op: UnaryOp): readonly (readonly [number, number])[] {
  return unaryEntry(op).test.specials ?? [defaults(op)];
}

// CI builds the addon, so there the suite must run rather than skip (a bad
// FATHOM_ISA, or a build that did not load, would otherwise pass silently).
it.runIf(process.env.CI)('the native addon loads in CI', () => {
  expect(nativeLoadError()).toBe('');
});

describe.skipIf(!binding)('backend parity: native vs ts', () => {
  it('reports the ISA it dispatched to', () => {
    const info = binding!.info();
    const want = (process.env.FATHOM_ISA ?? '').trim();
    if (want !== '' && want !== 'auto') {
      expect(info.isa).toBe(want);
    } else {
      const best = ['avx512', 'avx2', 'neon', 'scalar'].find((isa) => info.isas.includes(isa));
      expect(info.isa).toBe(best);
    }
    expect(info.isas).toContain('scalar');
    expect(info.isaError).toBe('');
  });

  // ---- element-wise --------------------------------------------------------

  describe('unary', () => {
    it('the TS op table and the native op list agree, in id order', () => {
      expect(binding!.unaryOpNames()).toEqual(UNARY_OP_NAMES);
      expect(Object.values(Unary)).toEqual(UNARY_OP_NAMES.map((_, i) => i));
    });

    for (const op of UNARY_OPS) {
      it(`${op} forward`, () => {
        for (const { p, q, lo, hi, zeros } of unaryCases(op)) {
          for (const n of LENGTHS) {
            const x = input(n, 100 + n, lo, hi, zeros);
            const yn = garbage(n), yt = garbage(n);
            N.unary(op, x.slice(), yn, p, q);
            T.unary(op, x.slice(), yt, p, q);
            compareArrays(`unary ${op} p=${p} q=${q} n=${n}`, yn, yt, UNARY_TOL(op), inputsAt({ x }));
          }
        }
      });

      it(`${op} forward in place`, () => {
        for (const { p, q, lo, hi, zeros } of unaryCases(op)) {
          for (const n of [17, 1000]) {
            const x = input(n, 200 + n, lo, hi, zeros);
            const xn = x.slice();
            const yt = garbage(n);
            N.unary(op, xn, xn, p, q);
            T.unary(op, x, yt, p, q);
            compareArrays(`unary ${op} in place p=${p} q=${q} n=${n}`, xn, yt, UNARY_TOL(op));
          }
        }
      });

      it(`${op} forward on special values`, () => {
        for (const [p, q] of specialParams(op)) {
          for (const n of [SPECIAL.length, 67]) {
            const x = specialArray(n, p === 0 ? 0 : 3);
            const yn = garbage(n), yt = garbage(n);
            N.unary(op, x.slice(), yn, p, q);
            T.unary(op, x.slice(), yt, p, q);
            // Exact ops must also agree on the sign of zero (both sides pin it).
            const tol = { ...UNARY_TOL(op), signedZeros: isExact(UNARY_TOL(op)) };
            compareArrays(`unary ${op} p=${p} q=${q} specials n=${n}`, yn, yt, tol, inputsAt({ x }));
          }
        }
      });

      it(`${op} backward`, () => {
        for (const { p, q, lo, hi, zeros } of unaryCases(op)) {
          for (const n of LENGTHS) {
            const x = input(n, 300 + n, lo, hi, zeros);
            const y = new Float32Array(n);
            T.unary(op, x, y, p, q);
            const dy = randomArray(n, 400 + n, -2, 2);
            const dxn = garbage(n), dxt = garbage(n);
            N.unaryBackward(op, x.slice(), y.slice(), dy.slice(), dxn, p, q);
            T.unaryBackward(op, x.slice(), y.slice(), dy.slice(), dxt, p, q);
            compareArrays(`unaryBackward ${op} p=${p} q=${q} n=${n}`, dxn, dxt, UNARY_BWD_TOL(op), inputsAt({ x, y, dy }));
          }
        }
      });

      it(`${op} backward on special values`, () => {
        for (const [p, q] of specialParams(op)) {
          const n = 67;
          const x = specialArray(n);
          const y = new Float32Array(n);
          T.unary(op, x, y, p, q);
          const dy = randomArray(n, 500, -2, 2);
          const dxn = garbage(n), dxt = garbage(n);
          N.unaryBackward(op, x.slice(), y.slice(), dy.slice(), dxn, p, q);
          T.unaryBackward(op, x.slice(), y.slice(), dy.slice(), dxt, p, q);
          compareArrays(`unaryBackward ${op} p=${p} q=${q} specials`, dxn, dxt, UNARY_BWD_TOL(op), inputsAt({ x, y, dy }));
        }
      });
    }
  });

  describe('binary', () => {
    /** a, b in [-2, 2) with every third b equal to a (so eq/max/min see ties). */
    function operands(n: number, seed: number): [Float32Array, Float32Array] {
      const a = input(n, seed, -2, 2, true);
      const b = randomArray(n, seed + 1, -2, 2);
      for (let i = 0; i < n; i += 3) b[i] = a[i];
      return [a, b];
    }

    for (const op of BINARY_OPS) {
      it(`${op}`, () => {
        for (const n of LENGTHS) {
          const [a, b] = operands(n, 600 + n);
          const on = garbage(n), ot = garbage(n);
          N.binary(op, a.slice(), b.slice(), on);
          T.binary(op, a.slice(), b.slice(), ot);
          compareArrays(`binary ${op} n=${n}`, on, ot, BINARY_TOL[op], inputsAt({ a, b }));
        }
      });

      it(`${op} on special values`, () => {
        // Every (a, b) pair of specials, laid out in one long array.
        const s = SPECIAL.length;
        const a = Float32Array.from({ length: s * s }, (_, i) => SPECIAL[Math.floor(i / s)]);
        const b = Float32Array.from({ length: s * s }, (_, i) => SPECIAL[i % s]);
        const on = garbage(s * s), ot = garbage(s * s);
        N.binary(op, a.slice(), b.slice(), on);
        T.binary(op, a.slice(), b.slice(), ot);
        // The sign of a zero result (max(+0, -0)) is not pinned on the TS side: not checked.
        compareArrays(`binary ${op} specials`, on, ot, BINARY_TOL[op], inputsAt({ a, b }));
      });

      it(`${op} broadcast`, () => {
        for (const [sa, sb] of [...BROADCASTS, ...BROADCASTS_LARGE]) {
          for (const [as, bs] of [[sa, sb], [sb, sa]]) {
            const shape = broadcastShapes(op, as, bs);
            const a = input(sizeOf(as), 700 + sizeOf(as), -2, 2, true);
            const b = randomArray(sizeOf(bs), 800 + sizeOf(bs), -2, 2);
            if (b.length > 0 && a.length > 0) b[0] = a[0]; // one tie for eq
            const aStr = broadcastStrides(as, shape), bStr = broadcastStrides(bs, shape);
            const n = sizeOf(shape);
            const on = garbage(n), ot = garbage(n);
            N.binaryBroadcast(op, shape, a.slice(), aStr, b.slice(), bStr, on);
            T.binaryBroadcast(op, shape, a.slice(), aStr, b.slice(), bStr, ot);
            compareArrays(`binaryBroadcast ${op} [${as}] with [${bs}] -> [${shape}]`, on, ot, BINARY_TOL[op]);
          }
        }
      });
    }
  });

  describe('reduce', () => {
    /** out strides: contiguous strides of the keep-dims shape, 0 on reduced axes. */
    function plan(shape: number[], axes: number[] | undefined) {
      const red = axes ?? shape.map((_, i) => i);
      const keep = shape.map((d, i) => (red.includes(i) ? 1 : d));
      const outStrides = contiguousStrides(keep).map((s, i) => (red.includes(i) ? 0 : s));
      const outN = sizeOf(keep);
      const count = red.reduce((c, i) => c * shape[i], 1);
      return { outStrides, outN, count };
    }

    for (const op of REDUCE_OPS) {
      it(`${op}`, () => {
        for (const [shape, axes] of [...REDUCTIONS, ...REDUCTIONS_LARGE]) {
          const { outStrides, outN, count } = plan(shape, axes);
          const x = randomArray(sizeOf(shape), 900 + sizeOf(shape), -1, 1);
          const on = garbage(outN), ot = garbage(outN);
          N.reduce(op, shape, x.slice(), outStrides, on);
          T.reduce(op, shape, x.slice(), outStrides, ot);
          compareArrays(`reduce ${op} [${shape}] axes ${axes ? `[${axes}]` : 'all'}`, on, ot, REDUCE_TOL(op, count));
        }
      });

      it(`${op} with NaN and infinities`, () => {
        const shape = [6, 37];
        const x = randomArray(sizeOf(shape), 950, -1, 1);
        x[5] = NaN; // row 0
        x[37 + 2] = Infinity; // row 1
        x[2 * 37 + 30] = -Infinity; // row 2
        x[3 * 37 + 1] = Infinity; x[3 * 37 + 9] = -Infinity; // row 3: Inf - Inf
        x[4 * 37 + 36] = NaN; // row 4, last element (a vector tail)
        for (const axes of [[1], [0]]) {
          const { outStrides, outN, count } = plan(shape, axes);
          const on = garbage(outN), ot = garbage(outN);
          N.reduce(op, shape, x.slice(), outStrides, on);
          T.reduce(op, shape, x.slice(), outStrides, ot);
          compareArrays(`reduce ${op} specials axes [${axes}]`, on, ot, REDUCE_TOL(op, count));
        }
      });
    }
  });

  // ---- rows ----------------------------------------------------------------

  /** (n, d) logits in [-5, 5); row 0 shifted by +80 (exp overflows without the max shift). */
  function logits(n: number, d: number, seed: number): Float32Array {
    const x = randomArray(n * d, seed, -5, 5);
    for (let j = 0; j < d; j++) x[j] += 80;
    return x;
  }

  describe('softmax', () => {
    for (const log of [false, true]) {
      const name = log ? 'log-softmax' : 'softmax';
      it(`${name} forward and backward`, () => {
        for (const n of ROWS) {
          for (const d of COLS) {
            const x = logits(n, d, 1000 + n * d);
            const yn = garbage(n * d), yt = garbage(n * d);
            N.softmax(n, d, x.slice(), yn, log);
            T.softmax(n, d, x.slice(), yt, log);
            compareArrays(`${name} ${n}x${d}`, yn, yt, log ? TOL.logSoftmax : TOL.softmax);

            const dy = randomArray(n * d, 1100 + n * d, -1, 1);
            const dxn = garbage(n * d), dxt = garbage(n * d);
            N.softmaxBackward(n, d, yt.slice(), dy.slice(), dxn, log);
            T.softmaxBackward(n, d, yt.slice(), dy.slice(), dxt, log);
            compareArrays(`${name} backward ${n}x${d}`, dxn, dxt, log ? TOL.logSoftmaxBwd : TOL.softmaxBwd);
          }
        }
      });

      it(`${name} rows with NaN and infinities`, () => {
        const d = 9;
        const x = randomArray(4 * d, 1200, -5, 5);
        x[3] = NaN; // row 0: all NaN
        x[d + 8] = Infinity; // row 1: one +Inf -> NaN (Inf - Inf)
        for (let j = 0; j < d; j++) x[2 * d + j] = -Infinity; // row 2: all -Inf -> NaN
        x[3 * d + 4] = -Infinity; // row 3: one -Inf -> probability 0 / log -Inf
        const yn = garbage(4 * d), yt = garbage(4 * d);
        N.softmax(4, d, x.slice(), yn, log);
        T.softmax(4, d, x.slice(), yt, log);
        compareArrays(`${name} specials`, yn, yt, log ? TOL.logSoftmax : TOL.softmax);
      });
    }
  });

  describe('losses', () => {
    it('xentLabels forward and backward', () => {
      for (const n of ROWS) {
        for (const d of COLS) {
          const x = logits(n, d, 1300 + n * d);
          const labels = randomLabels(n, d, 1400 + n * d);
          const pn = garbage(n * d), pt = garbage(n * d);
          const ln = N.xentLabels(n, d, x.slice(), labels.slice(), pn);
          const lt = T.xentLabels(n, d, x.slice(), labels.slice(), pt);
          compareScalar(`xentLabels loss ${n}x${d}`, ln, lt, TOL.loss);
          compareArrays(`xentLabels prob ${n}x${d}`, pn, pt, TOL.softmax);

          for (const g of [1, 0.37]) {
            const dn = garbage(n * d), dt = garbage(n * d);
            N.xentLabelsBackward(n, d, pt.slice(), labels.slice(), g, dn);
            T.xentLabelsBackward(n, d, pt.slice(), labels.slice(), g, dt);
            compareArrays(`xentLabels backward g=${g} ${n}x${d}`, dn, dt, TOL.lossBwd);
          }
        }
      }
    });

    it('xentProbs forward and backward', () => {
      for (const n of ROWS) {
        for (const d of COLS) {
          const x = logits(n, d, 1500 + n * d);
          // Targets: rows that sum to 1, except the last row (sums to ~d/2: the Σt factor matters).
          const t = randomArray(n * d, 1600 + n * d, 0, 1);
          for (let r = 0; r < n - 1; r++) {
            let s = 0;
            for (let j = 0; j < d; j++) s += t[r * d + j];
            for (let j = 0; j < d; j++) t[r * d + j] /= s;
          }
          const pn = garbage(n * d), pt = garbage(n * d);
          const ln = N.xentProbs(n, d, x.slice(), t.slice(), pn);
          const lt = T.xentProbs(n, d, x.slice(), t.slice(), pt);
          compareScalar(`xentProbs loss ${n}x${d}`, ln, lt, TOL.loss);
          compareArrays(`xentProbs prob ${n}x${d}`, pn, pt, TOL.softmax);

          for (const g of [1, -2.5]) {
            const dn = garbage(n * d), dt = garbage(n * d);
            N.xentProbsBackward(n, d, pt.slice(), t.slice(), g, dn);
            T.xentProbsBackward(n, d, pt.slice(), t.slice(), g, dt);
            compareArrays(`xentProbs backward g=${g} ${n}x${d}`, dn, dt, TOL.lossBwd);
          }
        }
      }
    });

    it('mse forward and backward', () => {
      for (const n of LENGTHS) {
        const a = randomArray(n, 1700 + n, -3, 3);
        const b = randomArray(n, 1800 + n, -3, 3);
        compareScalar(`mse n=${n}`, N.mse(a.slice(), b.slice()), T.mse(a.slice(), b.slice()), TOL.loss);
        for (const g of [1, 0.25]) {
          const dn = garbage(n), dt = garbage(n);
          N.mseBackward(a.slice(), b.slice(), g, dn);
          T.mseBackward(a.slice(), b.slice(), g, dt);
          compareArrays(`mse backward g=${g} n=${n}`, dn, dt, TOL.lossBwd);
        }
      }
    });
  });

  // ---- layout --------------------------------------------------------------

  describe('layout', () => {
    const SHAPES2D: [number, number][] = [
      ...ROWS.flatMap((n) => COLS.map((d): [number, number] => [n, d])),
      [0, 5], [5, 0], [64, 64], [257, 33], [33, 257], [100, 129],
    ];

    it('transpose2d', () => {
      for (const [n, d] of SHAPES2D) {
        const x = randomArray(n * d, 1900 + n * d);
        const yn = garbage(n * d), yt = garbage(n * d);
        N.transpose2d(n, d, x.slice(), yn);
        T.transpose2d(n, d, x.slice(), yt);
        compareArrays(`transpose2d ${n}x${d}`, yn, yt, TOL.layout);
      }
    });

    it('argmax (ties, NaN, -Inf, all-NaN rows)', () => {
      for (const [n, d] of SHAPES2D.filter(([n, d]) => d > 0 || n === 0)) {
        // Few distinct values, so rows have ties; the first maximum must win.
        const r = rng(2000 + n * d);
        const x = Float32Array.from({ length: n * d }, () => Math.floor(r() * 5) - 2);
        for (let i = 4; i < n * d; i += 9) x[i] = NaN;
        if (n > 1 && d > 0) {
          x.fill(NaN, d, 2 * d); // row 1: all NaN -> 0
          x.fill(-Infinity, 0, d); // row 0: all -Inf -> 0
        }
        const on = new Int32Array(n).fill(-7), ot = new Int32Array(n).fill(-7);
        N.argmax(n, d, x.slice(), on);
        T.argmax(n, d, x.slice(), ot);
        compareArrays(`argmax ${n}x${d}`, on, ot, TOL.layout);
      }
    });

    it('argmax of empty rows (D = 0, N > 0) is refused on both backends', () => {
      // An empty row has no maximum (PyTorch refuses it too); n == 0 stays legal.
      for (const B of [N, T]) {
        expect(() => B.argmax(5, 0, new Float32Array(0), new Int32Array(5))).toThrow(
          /^fathom\.backend\.argmax: d must be > 0 when n > 0/,
        );
        B.argmax(0, 0, new Float32Array(0), new Int32Array(0));
      }
    });

    it('fill', () => {
      for (const n of LENGTHS) {
        for (const v of [0, -0, 1.1, -3.5, 1e-45, 3.4028235e38, Infinity, -Infinity, NaN]) {
          const yn = garbage(n), yt = garbage(n);
          N.fill(yn, v);
          T.fill(yt, v);
          compareArrays(`fill ${v} n=${n}`, yn, yt, { ...TOL.layout, signedZeros: true });
        }
      }
    });

    it('copy', () => {
      for (const n of LENGTHS) {
        const x = specialArray(n);
        const yn = garbage(n), yt = garbage(n);
        N.copy(x.slice(), yn);
        T.copy(x.slice(), yt);
        compareArrays(`copy n=${n}`, yn, yt, { ...TOL.layout, signedZeros: true }, inputsAt({ x }));
      }
    });
  });

  // ---- random --------------------------------------------------------------

  describe('random', () => {
    const MAX64 = (1n << 64n) - 1n;
    /** (seed, offset) pairs, including the 64-bit edges and a counter that wraps. */
    const STREAMS: [bigint, bigint][] = [[0n, 0n], [42n, 0n], [42n, 7n], [MAX64, MAX64 - 2n], [0x1234_5678_9abc_def0n, 1n << 32n]];

    it('randUniform is bit-identical', () => {
      for (const [seed, offset] of STREAMS) {
        for (const [lo, hi] of [[0, 1], [-1, 1], [2.5, 7.3]]) {
          for (const n of LENGTHS) {
            const yn = garbage(n), yt = garbage(n);
            N.randUniform(yn, seed, offset, lo, hi);
            T.randUniform(yt, seed, offset, lo, hi);
            compareArrays(`randUniform seed=${seed} offset=${offset} [${lo}, ${hi}) n=${n}`, yn, yt, TOL.uniform);
          }
        }
      }
    });

    it('randNormal matches', () => {
      for (const [seed, offset] of STREAMS) {
        for (const [mean, std] of [[0, 1], [3, 0.5]]) {
          for (const n of LENGTHS) {
            const yn = garbage(n), yt = garbage(n);
            N.randNormal(yn, seed, offset, mean, std);
            T.randNormal(yt, seed, offset, mean, std);
            compareArrays(`randNormal seed=${seed} offset=${offset} N(${mean}, ${std}) n=${n}`, yn, yt, TOL.normal);
          }
        }
      }
    });
  });

  // ---- dropout -----------------------------------------

  describe('dropout', () => {
    const MAX64 = (1n << 64n) - 1n;
    const STREAMS: [bigint, bigint][] = [[0n, 0n], [42n, 7n], [MAX64, MAX64 - 2n], [0x1234_5678_9abc_def0n, (1n << 32n) - 3n]];
    const PS = [0, 0.2, 1 / 3, 0.5, 0.9, 1];
    const scaleOf = (p: number): number => (p === 1 ? 0 : Math.fround(1 / (1 - p)));

    it('y and the mask are bit-identical, and the mask is randUniform(...) >= p', () => {
      for (const [seed, offset] of STREAMS) {
        for (const p of PS) {
          for (const n of LENGTHS) {
            const x = randomArray(n, 3300 + n, -2, 2);
            const [yn, mn, yt, mt] = [garbage(n), garbage(n), garbage(n), garbage(n)];
            N.dropout(x.slice(), yn, mn, seed, offset, p, scaleOf(p));
            T.dropout(x.slice(), yt, mt, seed, offset, p, scaleOf(p));
            const what = `dropout seed=${seed} offset=${offset} p=${p} n=${n}`;
            compareArrays(`${what} y`, yn, yt, EXACT);
            compareArrays(`${what} mask`, mn, mt, EXACT);
            const u = new Float32Array(n);
            T.randUniform(u, seed, offset, 0, 1);
            compareArrays(`${what} mask vs randUniform`, mt, u.map((v) => (v >= p ? scaleOf(p) : 0)), EXACT);
          }
        }
      }
    });

    it('in place (y = x) and on special values', () => {
      for (const n of [1, 7, 33, 257, 40_003]) {
        const x = specialArray(n);
        const [xn, xt, mn, mt] = [x.slice(), x.slice(), garbage(n), garbage(n)];
        N.dropout(xn, xn, mn, 9n, 3n, 0.25, scaleOf(0.25));
        T.dropout(xt, xt, mt, 9n, 3n, 0.25, scaleOf(0.25));
        compareArrays(`dropout in place, special values n=${n} y`, xn, xt, EXACT);
        compareArrays(`dropout in place, special values n=${n} mask`, mn, mt, EXACT);
      }
    });

    it('refuses what the kernel cannot take (both backends, one message)', () => {
      for (const B of [N, T]) {
        const a = new Float32Array(4);
        expect(() => B.dropout(a, new Float32Array(4), new Float32Array(4), 0n, 0n, 1.5, 1)).toThrow(/fathom\.backend\.dropout: p must be in \[0, 1\], got 1.5/);
        expect(() => B.dropout(a, new Float32Array(3), new Float32Array(4), 0n, 0n, 0.5, 2)).toThrow(/fathom\.backend\.dropout: y must hold 4 float32 values, got 3/);
        expect(() => B.dropout(a, new Float32Array(4), a, 0n, 0n, 0.5, 2)).toThrow(/fathom\.backend\.dropout: mask/);
        expect(() => B.dropout(a, new Float32Array(4), new Float32Array(4), -1n, 0n, 0.5, 2)).toThrow(/fathom\.backend\.dropout: seed must be a bigint/);
        expect(() => B.dropout(a, new Float32Array(4), new Float32Array(4), 0n, 0n, 0.5, Infinity)).toThrow(/fathom\.backend\.dropout: scale must be a number that is finite in float32/);
      }
    });
  });

  // ---- GEMM ----------------------------------------------------------------

  describe('gemm', () => {
    const SCALARS: [number, number][] = [[1, 0], [0.5, 1], [-1.5, 0.25], [0, 0.5], [1, -1]];
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`gemm transA=${transA} transB=${transB}`, () => {
          for (const [m, n, k] of GEMM_DIMS) {
            const a = randomArray(m * k, 2100 + m * k);
            const b = randomArray(k * n, 2200 + k * n);
            for (const [alpha, beta] of SCALARS) {
              // beta == 0 must not read C: prefill it with NaN.
              const c0 = beta === 0 ? garbage(m * n) : randomArray(m * n, 2300 + m * n);
              const cn = c0.slice(), ct = c0.slice();
              N.gemm(transA, transB, m, n, k, alpha, a.slice(), b.slice(), beta, cn);
              T.gemm(transA, transB, m, n, k, alpha, a.slice(), b.slice(), beta, ct);
              compareArrays(
                `gemm tA=${transA} tB=${transB} m=${m} n=${n} k=${k} alpha=${alpha} beta=${beta}`,
                cn, ct, GEMM_TOL(k, alpha, beta),
              );
            }
          }
        });
      }
    }

    it('gemm propagates NaN and Inf from A and B', () => {
      const [m, n, k] = [7, 17, 9];
      const a = randomArray(m * k, 2400), b = randomArray(k * n, 2500);
      a[2 * k + 3] = NaN; // row 2 of C: NaN
      a[5 * k + 1] = Infinity; // row 5: ±Inf
      b[4] = -Infinity; // column 4: ±Inf, and NaN where it meets rows 2 and 5
      const cn = garbage(m * n), ct = garbage(m * n);
      N.gemm(false, false, m, n, k, 1, a.slice(), b.slice(), 0, cn);
      T.gemm(false, false, m, n, k, 1, a.slice(), b.slice(), 0, ct);
      compareArrays('gemm with NaN/Inf inputs', cn, ct, GEMM_TOL(k, 1, 0));
    });
  });

  // ---- fused layer epilogue ------------------------------------------------

  describe('maxout', () => {
    // n groups (the sizes of the element-wise suite, 0, 1, 7, 33, 257 among them) of k pieces,
    // values on a half-integer grid so groups hold ties, plus NaN and ±Inf.
    const groups = [0, 1, 7, 33, 257, 20_000];
    function values(len: number, seed: number): Float32Array {
      const x = randomArray(len, seed, -3, 3).map((v) => Math.round(v * 2) / 2);
      for (let i = 5; i < len; i += 41) x[i] = [NaN, Infinity, -Infinity, -0][i % 4];
      return x;
    }
    it('forward and backward, ties and NaN included', () => {
      for (const k of [1, 2, 3, 4, 5, 8, 9]) {
        for (const n of groups) {
          const x = values(n * k, 900 + n + k);
          const dy = randomArray(n, 950 + n, -2, 2);
          const yn = garbage(n), yt = garbage(n);
          N.maxout(n, k, x.slice(), yn);
          T.maxout(n, k, x.slice(), yt);
          compareArrays(`maxout n=${n} k=${k}`, yn, yt, { ...EXACT, signedZeros: true }, inputsAt({ y: yt }));
          const dn = garbage(n * k), dt = garbage(n * k);
          N.maxoutBackward(n, k, x.slice(), dy.slice(), dn);
          T.maxoutBackward(n, k, x.slice(), dy.slice(), dt);
          compareArrays(`maxoutBackward n=${n} k=${k}`, dn, dt, { ...EXACT, signedZeros: true }, inputsAt({ x }));
        }
      }
    });
  });

  describe('biasAct', () => {
    const ACTS = ['none', 'relu', 'sigmoid', 'tanh'] as const;
    // Exact for none/relu; sigmoid/tanh as the unary ops (AVX2 approximations, <= 2 ulp).
    const TOL_ACT = { none: EXACT, relu: EXACT, sigmoid: { rtol: 2e-6, atol: 1e-7 }, tanh: { rtol: 5e-6, atol: 1e-7 } };
    for (const act of ACTS) {
      it(`biasAct and biasActBackward (${act})`, () => {
        for (const n of ROWS) {
          for (const d of COLS) {
            const y0 = randomArray(n * d, 2600 + n * d, -4, 4);
            const bias = randomArray(d, 2700 + d);
            for (const withBias of [true, false]) {
              const yn = y0.slice(), yt = y0.slice();
              N.biasAct(n, d, yn, withBias ? bias.slice() : null, act);
              T.biasAct(n, d, yt, withBias ? bias.slice() : null, act);
              compareArrays(`biasAct ${act} ${n}x${d} bias=${withBias}`, yn, yt, TOL_ACT[act]);
              const dy = randomArray(n * d, 2800 + n * d);
              const dzn = garbage(n * d), dzt = garbage(n * d);
              const dbn = withBias ? garbage(d) : null, dbt = withBias ? garbage(d) : null;
              N.biasActBackward(n, d, yt, dy.slice(), dzn, dbn, act);
              T.biasActBackward(n, d, yt, dy.slice(), dzt, dbt, act);
              compareArrays(`biasActBackward dz ${act} ${n}x${d}`, dzn, dzt, { rtol: 1e-6, atol: 0 });
              if (dbn && dbt) compareArrays(`biasActBackward dbias ${act} ${n}x${d}`, dbn, dbt, { rtol: 1e-6, atol: 1e-7 });
            }
          }
        }
      });
    }
    it('biasActBackward in place (dz === dy) and on a large threaded batch', () => {
      const [n, d] = [1100, 257]; // > 256K elements: per-thread bias partials
      const y = randomArray(n * d, 2900, -2, 2);
      N.biasAct(n, d, y, null, 'relu');
      const dy = randomArray(n * d, 2901);
      const dn = dy.slice(), dt = dy.slice();
      const bn = garbage(d), bt = garbage(d);
      N.biasActBackward(n, d, y, dn, dn, bn, 'relu');
      T.biasActBackward(n, d, y, dt, dt, bt, 'relu');
      compareArrays('biasActBackward in place dz', dn, dt, EXACT);
      compareArrays('biasActBackward threaded dbias', bn, bt, { rtol: 1e-5, atol: 1e-6 });
    });
  });

});
