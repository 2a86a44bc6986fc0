/** Matrix products and layout: matmul, transpose, reshape, slice. */
import { kernels as backend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { checkShape, describeValue, fmt, sizeOf } from '../tensor/shape.js';
import { checkFloat, checkTensor, empty, record } from './record.js';
import { checkOptions, optBool } from './options.js';
import { matmulBatched } from './bmm.js';
import { sliceAxis, transposeAxes } from './shape.js';

export interface MatmulOptions {
  /** Use aᵀ (a is k x m). Default false. */
  transA?: boolean;
  /** Use bᵀ (b is n x k). Default false. */
  transB?: boolean;
}

/**
 * C = alpha op(A) op(B) + beta C on the backend, except that an empty
 * product never reaches a kernel: with m or n = 0 there is nothing to write,
 * with k = 0 the product is zero (C = beta C).
 */
export function gemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (beta === 0) c.fill(0);
    else if (beta !== 1) for (let i = 0; i < m * n; i++) c[i] *= beta;
    return;
  }
  backend().gemm(transA, transB, m, n, k, alpha, a, b, beta, c);
}

/**
 * C = op(a) · op(b) for 2-D float32 a and b: op(a) is [m, k], op(b) is
 * [k, n], C is [m, n]. Empty operands give an empty (or, with k = 0, a zero) result.
 * With an operand of rank > 2 it is torch.matmul's batched product:
 * a [..., M, K] × b [..., K, N] → [batch..., M, N], the batch axes broadcast
 * (a 2-D operand is shared by every batch entry); transA/transB transpose the
 * last two axes of each entry (lib/ops/bmm.ts).
 * @throws when a or b is not a float32 Tensor of rank >= 2, the inner
 *   dimensions differ, the batch axes cannot be broadcast, or an option is
 *   unknown or not a boolean.
 */
export function matmul(a: Tensor, b: Tensor, opts?: MatmulOptions): Tensor {
  checkFloat('matmul', 'a', a);
  checkFloat('matmul', 'b', b);
  const o = checkOptions('matmul', opts, ['transA', 'transB']);
  const transA = optBool('matmul', 'transA', o.transA, false);
  const transB = optBool('matmul', 'transB', o.transB, false);
  if (a.rank < 2 || b.rank < 2) {
    throw new Error(`fathom.matmul: expected 2-D tensors, got shapes ${fmt(a.shape)} and ${fmt(b.shape)} (or batched ones of rank > 2: [..., M, K] and [..., K, N])`);
  }
  if (a.rank > 2 || b.rank > 2) return matmulBatched(a, b, transA, transB);
  const [m, ka] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (ka !== kb) {
    throw new Error(
      `fathom.matmul: inner dimensions differ: ${transA ? 'aᵀ' : 'a'} is ${m}x${ka} (shape ${fmt(a.shape)}), ` +
        `${transB ? 'bᵀ' : 'b'} is ${kb}x${n} (shape ${fmt(b.shape)})`,
    );
  }
  const c = empty([m, n], 'matmul');
  gemm(transA, transB, m, n, ka, 1, a.f32(), b.f32(), 0, c.f32());
  return record(c, 'matmul', [a, b], { transA, transB });
}

/**
 * transpose(x): the transpose of a 2-D float32 tensor, [n, d] -> [d, n].
 * transpose(x, a, b): torch.transpose for any rank and dtype, axes a and b
 * swapped (negative count from the end; lib/ops/shape.ts).
 * @throws when x is not 2-D (without axes) or an axis is out of range.
 */
export function transpose(x: Tensor, a?: number, b?: number): Tensor {
  if (a !== undefined || b !== undefined) {
    if (a === undefined || b === undefined) throw new Error(`fathom.transpose: give both axes a and b, or neither (2-D), got a = ${String(a)}, b = ${String(b)}`);
    return transposeAxes(x, a, b);
  }
  checkFloat('transpose', 'x', x);
  if (x.rank !== 2) throw new Error(`fathom.transpose: expected a 2-D tensor, got shape ${fmt(x.shape)}`);
  const [n, d] = x.shape;
  const y = empty([d, n], 'transpose');
  if (y.size > 0) backend().transpose2d(n, d, x.f32(), y.f32());
  return record(y, 'transpose', [x]);
}

/**
 * The same values under a new shape (one dimension may be -1, inferred from
 * the size; not allowed for an empty tensor, where it would be ambiguous).
 * Shares storage. Works for float32 and int32.
 * @throws when the sizes differ or the shape is not made of non-negative integers (and one -1).
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('reshape', 'x', x);
  if (!Array.isArray(shape)) throw new Error(`fathom.reshape: shape must be an array of integers, got ${describeValue(shape)}`);
  const s = [...shape];
  const infer = s.indexOf(-1);
  if (infer >= 0) {
    if (s.indexOf(-1, infer + 1) >= 0) throw new Error(`fathom.reshape: only one dimension may be -1, got ${fmt(shape)}`);
    const rest = s.filter((_, i) => i !== infer);
    checkShape('reshape', rest);
    const r = sizeOf(rest);
    if (r === 0 || x.size % r !== 0) {
      throw new Error(`fathom.reshape: cannot reshape ${fmt(x.shape)} (${x.size} values) to ${fmt(shape)}`);
    }
    s[infer] = x.size / r;
  }
  checkShape('reshape', s);
  if (sizeOf(s) !== x.size) {
    throw new Error(`fathom.reshape: cannot reshape ${fmt(x.shape)} (${x.size} values) to ${fmt(shape)} (${sizeOf(s)} values)`);
  }
  const y = new Tensor(x.data, s);
  return x.dtype === 'float32' ? record(y, 'reshape', [x], { from: x.shape }) : y;
}

/**
 * Rows [begin, end) of x along its first axis (or along `axis`, default 0,
 * negative counting from the end), as a new tensor (float32 or
 * int32), as Python's and PyTorch's x[begin:end]: negative indices count
 * from the end, and indices past either end are clamped to [0, n] (x[7552:7616]
 * of 7579 rows gives 27 rows); `end` defaults to the row count n; an end at
 * or before begin gives zero rows. (narrow stays strict, as PyTorch's.)
 * @throws when begin or end is not an integer, or the axis is out of range.
 */
export function slice(x: Tensor, begin: number, end?: number, axis = 0): Tensor {
  if (axis !== 0) return sliceAxis(x, begin, end, axis);
  checkTensor('slice', 'x', x);
  if (x.rank < 1) throw new Error('fathom.slice: cannot slice a scalar');
  const n = x.shape[0];
  const norm = (i: unknown, name: string): number => {
    if (typeof i !== 'number' || !Number.isInteger(i)) throw new Error(`fathom.slice: ${name} must be an integer, got ${describeValue(i)}`);
    // Python's slice clamping: negative counts from the end, then into [0, n].
    return Math.min(n, Math.max(0, i < 0 ? n + i : i));
  };
  const b = norm(begin, 'begin');
  // end before begin gives no rows, as Python's and PyTorch's x[b:e] do.
  const e = Math.max(b, end === undefined ? n : norm(end, 'end'));
  const per = sizeOf(x.shape.slice(1));
  const data = x.data.slice(b * per, e * per);
  const y = new Tensor(data, [e - b, ...x.shape.slice(1)]);
  return x.dtype === 'float32' ? record(y, 'slice', [x], { begin: b }) : y;
}
