/** Matrix products and layout: matmul, transpose, reshape. */
import { backend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { checkShape, fmt, sizeOf } from '../tensor/shape.js';
import { checkFloat, checkTensor, empty, record } from './record.js';

export interface MatmulOptions {
  /** Use aᵀ (a is k x m). */
  transA?: boolean;
  /** Use bᵀ (b is n x k). */
  transB?: boolean;
}

/** C = op(a) · op(b) for 2-D a and b. */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  checkFloat('matmul', 'a', a);
  checkFloat('matmul', 'b', b);
  const transA = !!opts.transA;
  const transB = !!opts.transB;
  if (a.rank !== 2 || b.rank !== 2) {
    throw new Error(`fathom.matmul: expected 2-D tensors, got shapes ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
  const [m, ka] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [kb, n] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (ka !== kb) {
    throw new Error(
      `fathom.matmul: inner dimensions differ: ${transA ? 'aᵀ' : 'a'} is ${m}x${ka} (shape ${fmt(a.shape)}), ` +
        `${transB ? 'bᵀ' : 'b'} is ${kb}x${n} (shape ${fmt(b.shape)})`,
    );
  }
  const c = empty([m, n]);
  backend().gemm(transA, transB, m, n, ka, 1, a.f32(), b.f32(), 0, c.f32());
  return record(c, 'matmul', [a, b], { transA, transB });
}

/** The transpose of a 2-D tensor. */
export function transpose(x: Tensor): Tensor {
  checkFloat('transpose', 'x', x);
  if (x.rank !== 2) throw new Error(`fathom.transpose: expected a 2-D tensor, got shape ${fmt(x.shape)}`);
  const [n, d] = x.shape;
  const y = empty([d, n]);
  backend().transpose2d(n, d, x.f32(), y.f32());
  return record(y, 'transpose', [x]);
}

/** The same values under a new shape (one dimension may be -1). Shares storage. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor('reshape', 'x', x);
  const s = [...shape];
  const infer = s.indexOf(-1);
  if (infer >= 0) {
    if (s.indexOf(-1, infer + 1) >= 0) throw new Error(`fathom.reshape: only one dimension may be -1, got ${fmt(shape)}`);
    const rest = sizeOf(s.filter((_, i) => i !== infer));
    if (rest === 0 || x.size % rest !== 0) {
      throw new Error(`fathom.reshape: cannot reshape ${fmt(x.shape)} (${x.size} values) to ${fmt(shape)}`);
    }
    s[infer] = x.size / rest;
  }
  checkShape('reshape', s);
  if (sizeOf(s) !== x.size) {
    throw new Error(`fathom.reshape: cannot reshape ${fmt(x.shape)} (${x.size} values) to ${fmt(shape)} (${sizeOf(s)} values)`);
  }
  const y = new Tensor(x.data, s);
  return x.dtype === 'float32' ? record(y, 'reshape', [x], { from: x.shape }) : y;
}

/**
 * Rows [begin, end) of x along its first axis (negative indices count from
 * the end, like Array.prototype.slice), as a new tensor.
 */
export function slice(x: Tensor, begin: number, end?: number): Tensor {
  checkTensor('slice', 'x', x);
  if (x.rank < 1) throw new Error('fathom.slice: cannot slice a scalar');
  const n = x.shape[0];
  const norm = (i: number, name: string): number => {
    if (!Number.isInteger(i)) throw new Error(`fathom.slice: ${name} must be an integer, got ${i}`);
    return Math.min(n, Math.max(0, i < 0 ? n + i : i));
  };
  const b = norm(begin, 'begin');
  const e = Math.max(b, end === undefined ? n : norm(end, 'end'));
  const per = sizeOf(x.shape.slice(1));
  const data = x.data.slice(b * per, e * per);
  const y = new Tensor(data, [e - b, ...x.shape.slice(1)]);
  return x.dtype === 'float32' ? record(y, 'slice', [x], { begin: b }) : y;
}
