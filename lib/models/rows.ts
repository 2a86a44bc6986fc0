/**
 * The data side of fit / evaluate / predict: checking x and y, slicing and
 * gathering rows into batches, and Keras's validation-split point.
 */
import { Tensor, checkStorage } from '../tensor/tensor.js';
import { describe } from '../ops/record.js';
import { fmt, sizeOf } from '../tensor/shape.js';
import { checkRows, multiHint, tensorList, type IONames, type Tensors } from './multi.js';

/** Rows [start, end) of t (a view: shares storage). */
export function rows(t: Tensor, start: number, end: number): Tensor {
  const per = t.rank === 0 ? 1 : sizeOf(t.shape.slice(1));
  const data = t.data.subarray(start * per, end * per);
  return new Tensor(data, [end - start, ...t.shape.slice(1)]);
}

/** Gathers rows idx[start..end) of t into a new tensor. */
export function gatherRows(t: Tensor, idx: Int32Array, start: number, end: number): Tensor {
  const per = sizeOf(t.shape.slice(1));
  const out = t.dtype === 'int32' ? new Int32Array((end - start) * per) : new Float32Array((end - start) * per);
  for (let i = start; i < end; i++) out.set(t.data.subarray(idx[i] * per, (idx[i] + 1) * per), (i - start) * per);
  return new Tensor(out, [end - start, ...t.shape.slice(1)]);
}

/** Samples are indexed with int32 (the shuffle order). */
export const MAX_SAMPLES = 2 ** 31 - 1;

export function checkData(op: string, x: Tensors, y: Tensors): number {
  if (!(x instanceof Tensor)) throw new Error(`fathom.${op}: x must be a Tensor, got ${describe(x)}${multiHint(x)}`);
  if (!(y instanceof Tensor)) throw new Error(`fathom.${op}: y must be a Tensor, got ${describe(y)}${multiHint(y)}`);
  if (x.rank < 1 || y.rank < 1) throw new Error(`fathom.${op}: x and y need a batch dimension, got ${fmt(x.shape)} and ${fmt(y.shape)}`);
  if (x.shape[0] !== y.shape[0]) {
    throw new Error(`fathom.${op}: x has ${x.shape[0]} samples (shape ${fmt(x.shape)}) but y has ${y.shape[0]} (shape ${fmt(y.shape)})`);
  }
  if (x.shape[0] === 0) throw new Error(`fathom.${op}: x and y have no samples (shapes ${fmt(x.shape)} and ${fmt(y.shape)})`);
  checkStorage(op, 'x', x);
  checkStorage(op, 'y', y);
  // Samples without values ([n, 0]) would make the batch loop walk n empty rows for nothing.
  if (x.size === 0 || y.size === 0) {
    throw new Error(`fathom.${op}: the samples hold no values (x ${fmt(x.shape)}, y ${fmt(y.shape)}); every sample needs at least one feature and one target value`);
  }
  if (x.shape[0] > MAX_SAMPLES) throw new Error(`fathom.${op}: x has ${x.shape[0]} samples; at most ${MAX_SAMPLES}`);
  return x.shape[0];
}

/**
 * x and y as lists (one entry each for a plain Module; inputNames / outputNames
 * order for a multi-IO model), checked row-aligned; and their number of rows.
 */
export function dataOf(op: string, io: IONames | null, x: Tensors, y: Tensors): [Tensor[], Tensor[], number] {
  if (io === null) {
    const n = checkData(op, x, y);
    return [[x as Tensor], [y as Tensor], n];
  }
  const xs = tensorList(op, 'x', x, io.inputs, 'input');
  const ys = tensorList(op, 'y', y, io.outputs, 'output');
  return [xs, ys, checkRows(op, [{ what: 'x', ts: xs, names: io.inputs }, { what: 'y', ts: ys, names: io.outputs }], MAX_SAMPLES)];
}

/**
 * The split point ⌊n·(1 − split)⌋ training rows (Keras's rule), computed on the
 * fraction as written: 100·(1 − 0.07) is 92.99999999999999 in binary floating
 * point, so a product within a relative 1e-12 of an integer is taken as that
 * integer. Keras floors the float product itself, so it differs where the
 * product lands just below an integer (0.9 of 100 rows: Keras trains on 9,
 * fathom on 10; 57 of 1,287 tested (n, split) pairs).
 * @internal (exported for tests)
 */
export function validationSplitPoint(n: number, split: number): number {
  const v = n * (1 - split);
  const r = Math.round(v);
  return Math.abs(v - r) <= 1e-12 * Math.max(1, v) ? r : Math.floor(v);
}

