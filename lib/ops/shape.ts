/**
 * Shape and layout ops (issue #11): permute, transpose of any two axes,
 * squeeze/unsqueeze, expand, flip, narrow and slicing on any axis, concat,
 * stack, split and chunk. PyTorch semantics and names; every op works on
 * float32 and int32 tensors (gradients flow through float32 ones), accepts
 * negative axes as PyTorch does, and returns a new contiguous tensor
 * (squeeze/unsqueeze share storage, as reshape does). The copies are plain
 * TypeScript on both backends (lib/ops/strided.ts says why).
 */
import { Tensor } from '../tensor/tensor.js';
import { checkShape, contiguousStrides, describeValue, fmt, MAX_RANK, normAxis, sizeOf, type Shape } from '../tensor/shape.js';
import { checkTensor, record } from './record.js';
import { reshape } from './linalg.js';
import { alloc, gatherStrided, gatherInto } from './strided.js';

/** An array of integers (refused naming op and argument otherwise). */
function intList(op: string, name: string, v: unknown): number[] {
  if (!Array.isArray(v)) throw new Error(`fathom.${op}: ${name} must be an array of integers, got ${describeValue(v)}`);
  for (const [i, d] of v.entries()) {
    if (typeof d !== 'number' || !Number.isInteger(d)) {
      throw new Error(`fathom.${op}: ${name} must hold integers, got ${describeValue(d)} at index ${i}`);
    }
  }
  return v as number[];
}

/** Distinct normalised axes (negative count from the end). */
function distinctAxes(op: string, name: string, rank: number, list: number[]): number[] {
  const seen: number[] = [];
  for (const a of list) {
    const n = normAxis(op, rank, a, `${name} entry`);
    if (seen.includes(n)) throw new Error(`fathom.${op}: axis ${a} appears twice in ${name} ${fmt(list)} (tensor of rank ${rank})`);
    seen.push(n);
  }
  return seen;
}

/**
 * torch.permute: the axes of x reordered, `y.shape[i] = x.shape[dims[i]]`
 * (dims: a permutation of 0..rank-1, negative counting from the end). A copy.
 * @throws when dims is not a permutation of x's axes.
 */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const op = 'permute';
  checkTensor(op, 'x', x);
  const list = intList(op, 'dims', dims);
  if (list.length !== x.rank) {
    throw new Error(`fathom.${op}: dims ${fmt(list)} has ${list.length} entries, expected ${x.rank} (one per axis of x ${fmt(x.shape)})`);
  }
  const p = distinctAxes(op, 'dims', x.rank, list);
  const cs = contiguousStrides(x.shape);
  const y = gatherStrided(op, x, p.map((d) => x.shape[d]), p.map((d) => cs[d]));
  return record(y, 'permute', [x], { dims: p });
}

/** The inverse of a permutation (the gradient of permute is permute by it). */
export function inversePermutation(p: readonly number[]): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((d, i) => (inv[d] = i));
  return inv;
}

/**
 * torch.transpose(x, a, b) for any rank: axes a and b swapped (a copy).
 * @throws when an axis is out of range.
 */
export function transposeAxes(x: Tensor, a: number, b: number): Tensor {
  const op = 'transpose';
  checkTensor(op, 'x', x);
  const ia = normAxis(op, x.rank, a, 'axis a');
  const ib = normAxis(op, x.rank, b, 'axis b');
  const p = Array.from({ length: x.rank }, (_, i) => (i === ia ? ib : i === ib ? ia : i));
  const cs = contiguousStrides(x.shape);
  const y = gatherStrided(op, x, p.map((d) => x.shape[d]), p.map((d) => cs[d]));
  return record(y, 'permute', [x], { dims: p });
}

/**
 * torch.squeeze: drops axes of size 1 — all of them, or only those listed in
 * `axis` (an axis or an array; a listed axis whose size is not 1 is left as
 * is, as in PyTorch). Shares storage.
 * @throws when an axis is out of range or repeated.
 */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  const op = 'squeeze';
  checkTensor(op, 'x', x);
  let axes: number[];
  if (axis === undefined) axes = x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  else if (typeof axis === 'number') axes = [normAxis(op, Math.max(x.rank, 1), axis)].filter((a) => a < x.rank);
  else axes = distinctAxes(op, 'axis', Math.max(x.rank, 1), intList(op, 'axis', axis)).filter((a) => a < x.rank);
  return reshape(x, x.shape.filter((d, i) => !(d === 1 && axes.includes(i))));
}

/** A new axis needs x's rank below MAX_RANK: the error names the op, not the reshape it calls. */
function checkNewAxis(op: string, x: Tensor): void {
  if (x.rank >= MAX_RANK) throw new Error(`fathom.${op}: a tensor of rank ${x.rank} ${fmt(x.shape)} cannot gain an axis: at most ${MAX_RANK} dimensions are supported`);
}

/**
 * torch.unsqueeze: a new axis of size 1 at `axis` (in [-rank-1, rank]; -1
 * appends). Shares storage.
 * @throws when axis is out of range, or x already has 8 (MAX_RANK) dimensions.
 */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const op = 'unsqueeze';
  checkTensor(op, 'x', x);
  checkNewAxis(op, x);
  const a = normAxis(op, x.rank + 1, axis);
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return reshape(x, s);
}

/**
 * Tensor.expand: x broadcast to `shape` (a copy). `shape` may have more axes
 * than x (new leading axes); -1 keeps x's size; an axis of x may only grow
 * from 1. The gradient sums over the broadcast axes.
 * @throws when shape is shorter than x's rank or asks a non-1 axis to change.
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const op = 'expand';
  checkTensor(op, 'x', x);
  const s = intList(op, 'shape', shape);
  if (s.length < x.rank) {
    throw new Error(`fathom.${op}: shape ${fmt(s)} has ${s.length} axes, expected at least ${x.rank} (the rank of x ${fmt(x.shape)})`);
  }
  const off = s.length - x.rank;
  const cs = contiguousStrides(x.shape);
  const out: number[] = [];
  const strides: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const xd = i < off ? -1 : x.shape[i - off];
    let d = s[i];
    if (d === -1) {
      if (xd < 0) throw new Error(`fathom.${op}: -1 is not allowed for the new leading axis ${i} of shape ${fmt(s)}`);
      d = xd;
    }
    if (d < 0) throw new Error(`fathom.${op}: shape ${fmt(s)} has the negative size ${d} at axis ${i}`);
    if (xd >= 0 && xd !== d && xd !== 1) {
      throw new Error(`fathom.${op}: cannot expand x ${fmt(x.shape)} to ${fmt(s)}: axis ${i} has size ${xd}, expected 1 or ${d}`);
    }
    out.push(d);
    strides.push(xd < 0 || (xd === 1 && d !== 1) ? 0 : cs[i - off]);
  }
  checkShape(op, out, 'the expanded shape');
  const y = gatherStrided(op, x, out, strides);
  return record(y, 'expand', [x]);
}

/**
 * torch.flip: x with the order of the elements reversed along `dims` (an
 * axis or an array of distinct axes). A copy.
 * @throws when an axis is out of range or repeated.
 */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  const op = 'flip';
  checkTensor(op, 'x', x);
  const axes = distinctAxes(op, 'dims', x.rank, typeof dims === 'number' ? [dims] : intList(op, 'dims', dims));
  const cs = contiguousStrides(x.shape);
  let offset = 0;
  const strides = cs.map((s, i) => {
    if (!axes.includes(i)) return s;
    offset += Math.max(0, x.shape[i] - 1) * s;
    return -s;
  });
  const y = x.size === 0 ? gatherStrided(op, x, x.shape, cs) : gatherStrided(op, x, x.shape, strides, offset);
  return record(y, 'flip', [x], { dims: axes });
}

/** Elements [start, start + length) of x along `axis` (checked), recorded as narrow. */
function narrowRaw(x: Tensor, axis: number, start: number, length: number): Tensor {
  const cs = contiguousStrides(x.shape);
  const shape = x.shape.map((d, i) => (i === axis ? length : d));
  const y = gatherStrided('narrow', x, shape, cs, sizeOf(shape) === 0 ? 0 : start * cs[axis]);
  return record(y, 'narrow', [x], { axis, start });
}

/**
 * torch.narrow: elements [start, start + length) of x along `axis` (start
 * may be negative, counting from the end). A copy.
 * @throws when axis is out of range, or start/length do not fit the axis.
 */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const op = 'narrow';
  checkTensor(op, 'x', x);
  if (x.rank === 0) throw new Error(`fathom.${op}: cannot narrow a scalar (0-d tensor)`);
  const a = normAxis(op, x.rank, axis);
  const n = x.shape[a];
  if (typeof start !== 'number' || !Number.isInteger(start) || start < -n || start > n) {
    throw new Error(`fathom.${op}: start must be an integer in [${-n}, ${n}] for axis ${a} of size ${n} (x ${fmt(x.shape)}), got ${describeValue(start)}`);
  }
  const s = start < 0 ? start + n : start;
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || s + length > n) {
    throw new Error(`fathom.${op}: length must be an integer in [0, ${n - s}] (start ${s} on axis ${a} of size ${n}, x ${fmt(x.shape)}), got ${describeValue(length)}`);
  }
  return narrowRaw(x, a, s, length);
}

/**
 * x[begin:end] along `axis` (what linalg's slice does for axis 0): negative
 * indices count from the end, indices past either end are clamped to
 * [0, size] as Python's slicing, `end` defaults to the size, an end before
 * begin gives an empty axis. @throws when begin/end are not integers.
 */
export function sliceAxis(x: Tensor, begin: number, end: number | undefined, axis: number): Tensor {
  const op = 'slice';
  checkTensor(op, 'x', x);
  if (x.rank < 1) throw new Error(`fathom.${op}: cannot slice a scalar`);
  const a = normAxis(op, x.rank, axis);
  const n = x.shape[a];
  const norm = (i: unknown, name: string): number => {
    if (typeof i !== 'number' || !Number.isInteger(i)) throw new Error(`fathom.${op}: ${name} must be an integer, got ${describeValue(i)}`);
    return Math.min(n, Math.max(0, i < 0 ? n + i : i));
  };
  const b = norm(begin, 'begin');
  const e = Math.max(b, end === undefined ? n : norm(end, 'end'));
  return narrowRaw(x, a, b, e - b);
}

/** dx: zeros of x's shape with dy written at [start, start + dy.shape[axis]) along axis. */
export function narrowBackward(xShape: Shape, dy: Tensor, axis: number, start: number): Tensor {
  const dx = new Tensor(alloc('backward', 'float32', xShape), xShape);
  const cs = contiguousStrides(xShape);
  gatherInto(dy.shape, dy.data, 0, contiguousStrides(dy.shape), dx.data, start * cs[axis], cs);
  return dx;
}

/** The tensors argument of concat/stack: a non-empty array of tensors of one dtype. */
function tensorList(op: string, tensors: unknown): Tensor[] {
  if (!Array.isArray(tensors)) throw new Error(`fathom.${op}: tensors must be an array of Tensors, got ${describeValue(tensors)}`);
  if (tensors.length === 0) throw new Error(`fathom.${op}: tensors must hold at least one Tensor, got an empty array`);
  const list = tensors.map((t, i) => checkTensor(op, `tensors[${i}]`, t));
  for (const [i, t] of list.entries()) {
    if (t.dtype !== list[0].dtype) throw new Error(`fathom.${op}: tensors[${i}] is ${t.dtype}, expected ${list[0].dtype} as tensors[0]`);
  }
  return list;
}

/**
 * torch.cat: the tensors joined along `axis` (default 0). All have x's rank
 * and dtype, and equal sizes on every other axis.
 * @throws when tensors is empty, or a tensor's rank, dtype or shape differs.
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  const op = 'concat';
  const list = tensorList(op, tensors);
  const first = list[0];
  if (first.rank === 0) throw new Error(`fathom.${op}: tensors[0] is a scalar (0-d); concat needs tensors of rank >= 1 (stack joins scalars)`);
  const a = normAxis(op, first.rank, axis);
  const want = first.shape.map((d, i) => (i === a ? '*' : String(d)));
  for (const [i, t] of list.entries()) {
    if (t.rank !== first.rank || t.shape.some((d, j) => j !== a && d !== first.shape[j])) {
      throw new Error(`fathom.${op}: tensors[${i}] has shape ${fmt(t.shape)}, expected [${want.join(', ')}] (as tensors[0] ${fmt(first.shape)}, joining on axis ${a})`);
    }
  }
  const sizes = list.map((t) => t.shape[a]);
  const shape = first.shape.map((d, i) => (i === a ? sizes.reduce((p, q) => p + q, 0) : d));
  const out = alloc(op, first.data, shape);
  const ocs = contiguousStrides(shape);
  let at = 0;
  for (const t of list) {
    gatherInto(t.shape, t.data, 0, contiguousStrides(t.shape), out, at * ocs[a], ocs);
    at += t.shape[a];
  }
  return record(new Tensor(out, shape), 'concat', list, { axis: a, sizes });
}

/**
 * torch.stack: the tensors (all of one shape and dtype) joined along a new
 * axis `axis` (in [-rank-1, rank], default 0).
 * @throws when tensors is empty or the shapes or dtypes differ.
 */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  const op = 'stack';
  const list = tensorList(op, tensors);
  const first = list[0];
  checkNewAxis(op, first);
  const a = normAxis(op, first.rank + 1, axis);
  for (const [i, t] of list.entries()) {
    if (t.rank !== first.rank || t.shape.some((d, j) => d !== first.shape[j])) {
      throw new Error(`fathom.${op}: tensors[${i}] has shape ${fmt(t.shape)}, expected ${fmt(first.shape)} as tensors[0] (stack needs equal shapes)`);
    }
  }
  return concat(list.map((t) => unsqueeze(t, a)), a);
}

/**
 * torch.split: x cut along `axis` (default 0) into pieces of `splitSize`
 * (the last one smaller when the size does not divide), or of the listed
 * sizes (which must sum to the axis size).
 * @throws when splitSize is not a positive integer (0 allowed only for an
 *   empty axis) or the sizes do not add up.
 */
export function split(x: Tensor, splitSize: number | readonly number[], axis = 0): Tensor[] {
  const op = 'split';
  checkTensor(op, 'x', x);
  if (x.rank === 0) throw new Error(`fathom.${op}: cannot split a scalar (0-d tensor)`);
  const a = normAxis(op, x.rank, axis);
  const n = x.shape[a];
  let sizes: number[];
  if (typeof splitSize === 'number') {
    if (!Number.isInteger(splitSize) || splitSize < 0 || (splitSize === 0 && n > 0)) {
      throw new Error(`fathom.${op}: splitSize must be a positive integer, got ${describeValue(splitSize)} (axis ${a} of size ${n})`);
    }
    if (n === 0) return [narrowRaw(x, a, 0, 0)];
    sizes = [];
    for (let s = 0; s < n; s += splitSize) sizes.push(Math.min(splitSize, n - s));
  } else {
    sizes = intList(op, 'splitSize', splitSize);
    if (sizes.some((s) => s < 0) || sizes.reduce((p, q) => p + q, 0) !== n) {
      throw new Error(`fathom.${op}: the sizes ${fmt(sizes)} must be non-negative and sum to ${n}, the size of axis ${a} of x ${fmt(x.shape)}`);
    }
  }
  let at = 0;
  return sizes.map((s) => {
    const y = narrowRaw(x, a, at, s);
    at += s;
    return y;
  });
}

/**
 * torch.chunk: x cut along `axis` into `chunks` pieces of ceil(n / chunks)
 * (fewer pieces when the last ones would be empty, as PyTorch).
 * @throws when chunks is not a positive integer.
 */
export function chunk(x: Tensor, chunks: number, axis = 0): Tensor[] {
  const op = 'chunk';
  checkTensor(op, 'x', x);
  if (typeof chunks !== 'number' || !Number.isInteger(chunks) || chunks < 1) {
    throw new Error(`fathom.${op}: chunks must be a positive integer, got ${describeValue(chunks)}`);
  }
  if (x.rank === 0) throw new Error(`fathom.${op}: cannot chunk a scalar (0-d tensor)`);
  const a = normAxis(op, x.rank, axis);
  const n = x.shape[a];
  return split(x, n === 0 ? 0 : Math.ceil(n / chunks), a);
}
