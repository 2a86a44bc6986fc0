/**
 * Element-wise kernels (the TS mirror of native/kernels/ref/elementwise.cc).
 *
 *   unary          y[i]  = f(x[i])                 x, y: (n)    x === y allowed
 *   unaryBackward  dx[i] = dy[i] * f'(x[i])        x, y = f(x), dy, dx: (n)   (writes dx)
 *   binary         out[i] = a[i] op b[i]           a, b, out: (n)
 *   binaryBroadcast out[idx] = a[idx·aStrides] op b[idx·bStrides]
 *                                                  out: contiguous `shape`; strides 0 on broadcast dims
 *
 * n is the length of the output. Arithmetic is done in float64 and rounded
 * once on the store into the Float32Array; for + - * / that is bit-identical
 * to float32 arithmetic.
 *
 * Unary ops: f and df of each op come from THE op table, lib/backend/unary_table.ts,
 * which pins their semantics (p, q: the op's scalar parameters).
 *   max/min propagate NaN; eq gives 1 where a == b else 0 (NaN != NaN, -0 == +0).
 */
import type { BinaryOp, UnaryOp } from '../../backend.js';
import { unaryEntry } from '../../unary_table.js';

export { sigmoid } from './special.js';

// p and q are rounded to float32 first: the native kernels receive them as float.
export function unary(op: UnaryOp, x: Float32Array, y: Float32Array, p: number, q: number): void {
  const n = y.length;
  const { f } = unaryEntry(op);
  const pf = Math.fround(p);
  const qf = Math.fround(q);
  for (let i = 0; i < n; i++) y[i] = f(x[i], pf, qf);
}

export function unaryBackward(
  op: UnaryOp, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, p: number, q: number,
): void {
  const n = dx.length;
  const { df } = unaryEntry(op);
  const pf = Math.fround(p);
  const qf = Math.fround(q);
  for (let i = 0; i < n; i++) dx[i] = df(x[i], y[i], dy[i], pf, qf);
}

/**
 * out[o + i] = a[ao + i*as] op b[bo + i*bs] for i in [0, len): one strided
 * row. The contiguous `binary` is the case as = bs = 1 and offsets 0.
 */
function binaryRow(
  op: BinaryOp, len: number,
  a: Float32Array, ao: number, as: number,
  b: Float32Array, bo: number, bs: number,
  out: Float32Array, o: number,
): void {
  switch (op) {
    case 'add': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] + b[bo + i * bs]; break;
    case 'sub': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] - b[bo + i * bs]; break;
    case 'mul': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] * b[bo + i * bs]; break;
    case 'div': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] / b[bo + i * bs]; break;
    // Math.max/min return NaN when either argument is NaN.
    case 'max': for (let i = 0; i < len; i++) out[o + i] = Math.max(a[ao + i * as], b[bo + i * bs]); break;
    case 'min': for (let i = 0; i < len; i++) out[o + i] = Math.min(a[ao + i * as], b[bo + i * bs]); break;
    case 'eq': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] === b[bo + i * bs] ? 1 : 0; break;
    // #11 natops: comparisons (NaN compares false except ne)
    case 'ne': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] !== b[bo + i * bs] ? 1 : 0; break;
    case 'lt': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] < b[bo + i * bs] ? 1 : 0; break;
    case 'le': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] <= b[bo + i * bs] ? 1 : 0; break;
    case 'gt': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] > b[bo + i * bs] ? 1 : 0; break;
    case 'ge': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] >= b[bo + i * bs] ? 1 : 0; break;
  }
}

export function binary(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array): void {
  binaryRow(op, out.length, a, 0, 1, b, 0, 1, out, 0);
}

export function binaryBroadcast(
  op: BinaryOp, shape: readonly number[],
  a: Float32Array, aStrides: readonly number[],
  b: Float32Array, bStrides: readonly number[],
  out: Float32Array,
): void {
  const ndim = shape.length;
  if (ndim === 0) { binaryRow(op, 1, a, 0, 0, b, 0, 0, out, 0); return; }
  for (let d = 0; d < ndim; d++) if (shape[d] === 0) return;

  // Walk the outer dims with an odometer; the last dim is one strided row.
  const last = ndim - 1;
  const len = shape[last];
  const rows = out.length / len;
  const idx = new Array<number>(last).fill(0);
  let ao = 0;
  let bo = 0;
  for (let r = 0; r < rows; r++) {
    binaryRow(op, len, a, ao, aStrides[last], b, bo, bStrides[last], out, r * len);
    // Advance the odometer over dims [0, last).
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      ao += aStrides[d];
      bo += bStrides[d];
      if (idx[d] < shape[d]) break;
      ao -= idx[d] * aStrides[d];
      bo -= idx[d] * bStrides[d];
      idx[d] = 0;
    }
  }
}
