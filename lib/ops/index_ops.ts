/**
 * Indexing and selection ops (issue #11): index (index_select / take along an
 * axis with int32 indices of any shape), oneHot, where, clamp, cumsum, and the
 * min/argmin companions of max/argmax. PyTorch semantics and names.
 *
 * index (float32) and its backward, gather (float32, index of x's size on the
 * other axes) and its backward, and cumsum (float32) forward and backward run on
 * the backend's indexSelect / indexSelectBackward / gather / gatherBackward /
 * cumsum kernels, float32 where on whereBroadcast (native C++ on the native
 * backend, their TS twins on ts); int32 index/cumsum/where, the rest of gather
 * and oneHot are TypeScript loops on both backends. clamp runs on the backend's
 * broadcasting max/min kernels.
 */
import { kernels as backend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, contiguousStrides, describeValue, fmt, normAxis, sizeOf, type Shape } from '../tensor/shape.js';
import { asTensor, checkFloat, checkTensor, empty, record } from './record.js';
import { alloc, gatherStrided } from './strided.js';
import { argmax } from './softmax.js';
import { max } from './reduce.js';
import { neg } from './elementwise.js';

/** x read as the larger broadcast shape `to` (a copy; x itself when the shape is already `to`). */
export function broadcastData(op: string, x: Tensor, to: Shape): Tensor {
  if (x.rank === to.length && x.shape.every((d, i) => d === to[i])) return x;
  return gatherStrided(op, x, to, broadcastStrides(x.shape, to));
}

/** Checks int32 indices: all in [0, n); names the op, the first bad position and value. */
function checkIndices(op: string, name: string, indices: Int32Array, n: number, what: string): void {
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    if (v < 0 || v >= n) {
      throw new Error(`fathom.${op}: ${name}[${i}] = ${v} is out of range for ${what} (expected an integer in [0, ${n - 1}])`.replace('[0, -1]', '[0, 0): the axis is empty'));
    }
  }
}

/**
 * index(x, indices, axis = 0): the slices of x at `indices` along `axis`, as
 * torch.index_select for 1-D indices and numpy's take for any shape: with x
 * [A..., n, B...] and int32 indices of shape I, the result is [A..., I..., B...]
 * with y[a, i, b] = x[a, indices[i], b]. Indices may repeat; the gradient adds
 * up over repeats (only the selected slices receive any).
 * @throws when indices is not an int32 Tensor, an index is outside [0, n), or
 *   the axis is out of range.
 */
export function index(x: Tensor, indices: Tensor, axis = 0): Tensor {
  const op = 'index';
  checkTensor(op, 'x', x);
  checkTensor(op, 'indices', indices);
  if (indices.dtype !== 'int32') throw new Error(`fathom.${op}: indices must be an int32 Tensor, got ${indices.dtype} of shape ${fmt(indices.shape)}`);
  if (x.rank === 0) throw new Error(`fathom.${op}: x must have rank >= 1, got a scalar`);
  const a = normAxis(op, x.rank, axis);
  const n = x.shape[a];
  const idx = indices.data as Int32Array;
  checkIndices(op, 'indices', idx, n, `axis ${a} of x ${fmt(x.shape)}`);
  const outer = sizeOf(x.shape.slice(0, a));
  const inner = sizeOf(x.shape.slice(a + 1));
  const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  const out = alloc(op, x.data, shape);
  const k = idx.length;
  if (out instanceof Float32Array) {
    backend().indexSelect(outer, n, inner, x.data as Float32Array, idx, k, out);
    return record(new Tensor(out, shape), 'index', [x], { axis: a, indices: idx.slice() });
  }
  const src = x.data;
  if (inner > 0) {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < k; j++) {
        const from = (o * n + idx[j]) * inner;
        out.set(src.subarray(from, from + inner), (o * k + j) * inner);
      }
    }
  }
  return record(new Tensor(out, shape), 'index', [x], { axis: a, indices: idx.slice() });
}

/** The gradient of index: dy's slices added into zeros of x's shape at the indices. */
export function indexBackward(xShape: Shape, dy: Tensor, axis: number, idx: Int32Array): Tensor {
  const dx = empty(xShape, 'backward');
  const n = xShape[axis];
  const outer = sizeOf(xShape.slice(0, axis));
  const inner = sizeOf(xShape.slice(axis + 1));
  const k = idx.length;
  const g = dy.f32();
  const d = dx.f32();
  backend().indexSelectBackward(outer, n, inner, g, idx, k, d);
  return dx;
}

/** The source offset in x of every element of `index` (torch.gather's addressing), checked. */
function gatherOffsets(op: string, x: Tensor, axis: number, index: Tensor): Int32Array {
  const xs = contiguousStrides(x.shape);
  const shape = index.shape;
  const nd = shape.length;
  const idx = index.data as Int32Array;
  const n = x.shape[axis];
  const out = new Int32Array(idx.length);
  const pos = new Array<number>(nd).fill(0);
  for (let p = 0; p < idx.length; p++) {
    const v = idx[p];
    if (v < 0 || v >= n) {
      throw new Error(`fathom.${op}: index[${p}] = ${v} is out of range for axis ${axis} of x ${fmt(x.shape)} (expected an integer in [0, ${n - 1}])`.replace('[0, -1]', '[0, 0): the axis is empty'));
    }
    let o = v * xs[axis];
    for (let d = 0; d < nd; d++) if (d !== axis) o += pos[d] * xs[d];
    out[p] = o;
    for (let d = nd - 1; d >= 0; d--) {
      if (++pos[d] < shape[d]) break;
      pos[d] = 0;
    }
  }
  return out;
}

/**
 * torch.gather(x, axis, index): y has index's shape and
 * y[i][j][k] = x[i][index[i][j][k]][k] (for axis 1; likewise on any axis).
 * index is int32 of x's rank, no larger than x on the other axes. The
 * gradient adds dy back at the gathered positions (repeats add up).
 * @throws when index is not int32 of x's rank, is larger than x on an axis
 *   other than `axis`, or holds a value outside [0, x.shape[axis]).
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  const op = 'gather';
  checkTensor(op, 'x', x);
  checkTensor(op, 'index', index);
  if (index.dtype !== 'int32') throw new Error(`fathom.${op}: index must be an int32 Tensor, got ${index.dtype} of shape ${fmt(index.shape)}`);
  const a = normAxis(op, Math.max(x.rank, 1), axis);
  if (index.rank !== x.rank) {
    throw new Error(`fathom.${op}: index has shape ${fmt(index.shape)}, expected rank ${x.rank} as x ${fmt(x.shape)}`);
  }
  for (let d = 0; d < x.rank; d++) {
    if (d !== a && index.shape[d] > x.shape[d]) {
      throw new Error(`fathom.${op}: index has shape ${fmt(index.shape)}, larger than x ${fmt(x.shape)} on axis ${d} (expected at most ${x.shape[d]} on every axis but ${a})`);
    }
  }
  if (x.rank === 0) return record(new Tensor(x.data.slice(), []), 'gather', [x], { offsets: new Int32Array(1) });
  if (x.dtype === 'float32' && index.shape.every((d, i) => i === a || d === x.shape[i])) {
    // index matches x off the axis: the backend's gather kernel over (outer, n, inner) -> (outer, m, inner)
    const idx = index.data as Int32Array;
    const n = x.shape[a];
    for (let p = 0; p < idx.length; p++) {
      const v = idx[p];
      if (v < 0 || v >= n) {
        throw new Error(`fathom.${op}: index[${p}] = ${v} is out of range for axis ${a} of x ${fmt(x.shape)} (expected an integer in [0, ${n - 1}])`.replace('[0, -1]', '[0, 0): the axis is empty'));
      }
    }
    const outer = sizeOf(x.shape.slice(0, a)), inner = sizeOf(x.shape.slice(a + 1)), m = index.shape[a];
    const out = alloc(op, x.data, index.shape) as Float32Array;
    backend().gather(outer, n, inner, x.data as Float32Array, idx, m, out);
    return record(new Tensor(out, index.shape), 'gather', [x], { axis: a, index: idx.slice() });
  }
  const offsets = gatherOffsets(op, x, a, index);
  const out = alloc(op, x.data, index.shape);
  const src = x.data;
  for (let p = 0; p < offsets.length; p++) out[p] = src[offsets[p]];
  return record(new Tensor(out, index.shape), 'gather', [x], { offsets });
}

/**
 * The gradient of gather: dy added into zeros of x's shape at the gathered positions — by the
 * backend's gatherBackward kernel when the forward ran on it (saved `axis` and `index`), else at
 * the saved flat `offsets`.
 */
export function gatherBackward(xShape: Shape, dy: Tensor, saved: { offsets?: Int32Array; axis?: number; index?: Int32Array }): Tensor {
  const dx = empty(xShape, 'backward');
  const d = dx.f32(), g = dy.f32();
  if (saved.index !== undefined) {
    const a = saved.axis as number;
    const outer = sizeOf(xShape.slice(0, a)), inner = sizeOf(xShape.slice(a + 1)), n = xShape[a];
    backend().gatherBackward(outer, n, inner, g, saved.index, dy.shape[a], d);
    return dx;
  }
  const offsets = saved.offsets as Int32Array;
  for (let p = 0; p < offsets.length; p++) d[offsets[p]] += g[p];
  return dx;
}

/**
 * F.one_hot: float32 [..., numClasses] with 1 at each int32 index, 0 elsewhere
 * (PyTorch returns int64; fathom's float32 feeds matmul and the losses
 * directly). numClasses = -1 (default) uses max(indices) + 1.
 * @throws when indices is not int32, a value is outside [0, numClasses), or
 *   numClasses is -1 for empty indices.
 */
export function oneHot(indices: Tensor, numClasses = -1): Tensor {
  const op = 'oneHot';
  checkTensor(op, 'indices', indices);
  if (indices.dtype !== 'int32') throw new Error(`fathom.${op}: indices must be an int32 Tensor, got ${indices.dtype} of shape ${fmt(indices.shape)}`);
  if (typeof numClasses !== 'number' || !Number.isInteger(numClasses) || numClasses < -1) {
    throw new Error(`fathom.${op}: numClasses must be -1 (inferred) or a non-negative integer, got ${describeValue(numClasses)}`);
  }
  const idx = indices.data as Int32Array;
  let c = numClasses;
  if (c === -1) {
    if (idx.length === 0) throw new Error(`fathom.${op}: cannot infer numClasses from empty indices (shape ${fmt(indices.shape)}); pass numClasses`);
    c = idx.reduce((m, v) => Math.max(m, v), 0) + 1;
  }
  checkIndices(op, 'indices', idx, c, `${c} classes`);
  const shape = [...indices.shape, c];
  const out = alloc(op, 'float32', shape);
  for (let i = 0; i < idx.length; i++) out[i * c + idx[i]] = 1;
  return new Tensor(out, shape);
}

/**
 * torch.where(cond, a, b): a where cond is non-zero, b elsewhere, with the
 * three broadcast together. cond is a float32 or int32 tensor (e.g. from
 * gt/lt, which give float32 0/1); a and b are tensors or numbers, the result
 * is int32 when both are int32 (or one is int32 and the other an integer
 * number) and float32 otherwise. Gradients flow to float32 a and b (zero
 * where not selected).
 * @throws when the shapes cannot be broadcast.
 */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const op = 'where';
  checkTensor(op, 'cond', cond);
  const intOut = (a instanceof Tensor ? a.dtype === 'int32' : Number.isInteger(a)) &&
    (b instanceof Tensor ? b.dtype === 'int32' : Number.isInteger(b)) &&
    (a instanceof Tensor || b instanceof Tensor);
  const operand = (v: Tensor | number, name: string): Tensor => {
    if (typeof v === 'number' && intOut) return new Tensor(new Int32Array([v]), []);
    const t = asTensor(op, v, name);
    return !intOut && t.dtype === 'int32' ? new Tensor(Float32Array.from(t.data), t.shape) : t;
  };
  const ta = operand(a, 'a');
  const tb = operand(b, 'b');
  const shape = broadcastShapes(op, broadcastShapes(op, cond.shape, ta.shape), tb.shape);
  if (!intOut && cond.dtype === 'float32') { // the backend's whereBroadcast (native / its TS twin)
    const out = alloc(op, 'float32', shape) as Float32Array;
    if (out.length > 0) {
      backend().whereBroadcast(shape, cond.f32(), broadcastStrides(cond.shape, shape), ta.f32(), broadcastStrides(ta.shape, shape),
        tb.f32(), broadcastStrides(tb.shape, shape), out);
    }
    const mask = needMask(ta, tb) ? Float32Array.from(broadcastData(op, cond, shape).data, (v) => (v !== 0 ? 1 : 0)) : null;
    return record(new Tensor(out, shape), 'where', [ta, tb], { mask });
  }
  const c = broadcastData(op, cond, shape).data;
  const da = broadcastData(op, ta, shape).data;
  const db = broadcastData(op, tb, shape).data;
  const out = alloc(op, intOut ? 'int32' : 'float32', shape);
  for (let i = 0; i < out.length; i++) out[i] = c[i] !== 0 ? da[i] : db[i];
  const mask = needMask(ta, tb) ? Float32Array.from(c, (v) => (v !== 0 ? 1 : 0)) : null;
  return record(new Tensor(out, shape), 'where', [ta, tb], { mask });
}

function needMask(a: Tensor, b: Tensor): boolean {
  return a.requiresGrad || b.requiresGrad;
}

export interface ClampOptions {
  /** Lower bound (default: none). */
  min?: number;
  /** Upper bound (default: none). */
  max?: number;
}

/**
 * torch.clamp: min(max(x, min), max) element-wise (a bound left out is not
 * applied; with min > max every element becomes max, as PyTorch). NaN stays
 * NaN. The gradient is dy where min <= x <= max, else 0 (PyTorch's rule).
 * Bounds are numbers (use maximum/minimum for tensor bounds).
 * @throws when both bounds are missing or one is not a number.
 */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const op = 'clamp';
  checkFloat(op, 'x', x);
  const bound = (v: unknown, name: string): number | null => {
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`fathom.${op}: ${name} must be a number, null or undefined, got ${describeValue(v)}`);
    return v;
  };
  const lo = bound(min, 'min');
  const hi = bound(max, 'max');
  if (lo === null && hi === null) throw new Error(`fathom.${op}: at least one of min and max must be given`);
  const y = empty(x.shape, op);
  if (y.size > 0) {
    const be = backend();
    const zeros = x.shape.map(() => 0);
    const strides = contiguousStrides(x.shape);
    let from = x.f32();
    if (lo !== null) {
      be.binaryBroadcast('max', x.shape, from, strides, new Float32Array([lo]), zeros, y.f32());
      from = y.f32();
    }
    if (hi !== null) be.binaryBroadcast('min', x.shape, from, strides, new Float32Array([hi]), zeros, y.f32());
  }
  return record(y, 'clamp', [x], { lo: lo ?? -Infinity, hi: hi ?? Infinity });
}

/**
 * torch.cumsum: the running sum along `axis` (y[..., i, ...] = Σ_{j <= i}
 * x[..., j, ...]), accumulated in float64 (PyTorch's CPU accumulation type);
 * int32 in, int32 out (wrapping on overflow), float32 in, float32 out.
 * @throws when the axis is out of range.
 */
export function cumsum(x: Tensor, axis: number): Tensor {
  const op = 'cumsum';
  checkTensor(op, 'x', x);
  const a = normAxis(op, Math.max(x.rank, 1), axis);
  const out = alloc(op, x.data, x.shape);
  scan(x.shape, a, x.data, out, false);
  return record(new Tensor(out, x.shape), 'cumsum', [x], { axis: a });
}

/** Running sums along axis (reversed: from the end), x and out of `shape`. */
export function scan(shape: Shape, axis: number, x: ArrayLike<number>, out: Float32Array | Int32Array, reverse: boolean): void {
  if (shape.length === 0) {
    if (x.length) out[0] = x[0];
    return;
  }
  const n = shape[axis];
  const outer = sizeOf(shape.slice(0, axis));
  const inner = sizeOf(shape.slice(axis + 1));
  if (out instanceof Float32Array && x instanceof Float32Array && x !== out) {
    backend().cumsum(outer, n, inner, x, reverse, out);
    return;
  }
  const acc = new Float64Array(inner);
  const int = out instanceof Int32Array;
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let s = 0; s < n; s++) {
      const j = reverse ? n - 1 - s : s;
      const base = (o * n + j) * inner;
      for (let i = 0; i < inner; i++) {
        acc[i] = int ? (acc[i] + x[base + i]) | 0 : acc[i] + x[base + i];
        out[base + i] = acc[i];
      }
    }
  }
}

/**
 * Minimum over `axes` (PyTorch's amin; as max: an axis or a list, default
 * all, keepDims default false): -max(-x), so the gradient is split evenly
 * among the elements equal to the minimum.
 * @throws when a reduced axis has size 0.
 */
export function min(x: Tensor, axes?: number | readonly number[], keepDims?: boolean): Tensor {
  checkFloat('min', 'x', x);
  return renamed('max', 'min', () => neg(max(neg(x), axes, keepDims)));
}

/** Runs fn, reporting its errors as op `to`'s (min and argmin are built on max and argmax). */
function renamed<T>(from: string, to: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const msg = (e as Error).message;
    if (!msg.startsWith(`fathom.${from}:`)) throw e;
    throw new Error(`fathom.${to}:` + msg.slice(`fathom.${from}:`.length).replace(`take the ${from}`, `take the ${to}`));
  }
}

/**
 * Index of the first minimum along `axis` (default: the last axis), int32, as
 * argmax (NaN counts as the minimum, as PyTorch's argmin).
 * @throws as argmax.
 */
export function argmin(x: Tensor, axis?: number, keepDims?: boolean): Tensor {
  checkFloat('argmin', 'x', x);
  return renamed('argmax', 'argmin', () => argmax(new Tensor(Float32Array.from(x.f32(), (v) => -v), x.shape), axis, keepDims));
}
