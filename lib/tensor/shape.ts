/** Shape arithmetic shared by the ops: sizes, strides, broadcasting, axes. */

export type Shape = readonly number[];

/** Most dimensions a tensor may have. */
export const MAX_RANK = 8;
/**
 * Most values one tensor may hold: 2^31 - 1 (8 GiB of float32), so every
 * flat index fits an int32 (argmax results, class labels) and no size
 * overflows. Dimensions themselves may be any safe integer when another
 * dimension is 0 (an empty tensor holds nothing).
 */
export const MAX_SIZE = 2 ** 31 - 1;

/** Number of values of a (checked) shape; 0 as soon as any dimension is 0. */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (d === 0) return 0;
    n *= d;
  }
  return n;
}

/**
 * Checks that `shape` is an array of at most MAX_RANK non-negative safe
 * integers whose product is at most MAX_SIZE. Throws an Error naming `op`,
 * the argument and the shape.
 */
export function checkShape(op: string, shape: unknown, what = 'shape'): asserts shape is Shape {
  if (!Array.isArray(shape)) {
    throw new Error(`fathom.${op}: ${what} must be an array of non-negative integers, got ${describeValue(shape)}`);
  }
  if (shape.length > MAX_RANK) {
    throw new Error(`fathom.${op}: at most ${MAX_RANK} dimensions are supported, got ${shape.length} in ${what}`);
  }
  for (let i = 0; i < shape.length; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new Error(
        `fathom.${op}: ${what} must hold non-negative integers, got ${describeValue(d)} at index ${i} of ${fmtAny(shape)}`,
      );
    }
  }
  const n = sizeOf(shape as number[]);
  if (n > MAX_SIZE) {
    throw new Error(
      `fathom.${op}: ${what} ${fmt(shape as number[])} holds ${n} values, more than the ${MAX_SIZE} a tensor may hold`,
    );
  }
}

export function fmt(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

function fmtAny(a: unknown[]): string {
  return `[${Array.from(a, (v) => describeValue(v)).join(', ')}]`;
}

/** A short, safe rendering of any value for an error message. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 37) + '...' : v);
  if (typeof v === 'boolean' || typeof v === 'symbol') return String(v);
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return `an Array(${v.length})`;
  const name = (v as object).constructor?.name;
  if (!name || name === 'Object') return 'an object';
  return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** NumPy broadcasting of two shapes; throws naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const da = i < r - a.length ? 1 : a[i - (r - a.length)];
    const db = i < r - b.length ? 1 : b[i - (r - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`fathom.${op}: shapes ${fmt(a)} and ${fmt(b)} cannot be broadcast together (dimension ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Element strides for reading an operand of shape `from` as if it had the
 * broadcast shape `to` (0 on broadcast dimensions).
 */
export function broadcastStrides(from: Shape, to: Shape): number[] {
  const s = contiguousStrides(from);
  const off = to.length - from.length;
  const out = new Array<number>(to.length).fill(0);
  for (let i = 0; i < from.length; i++) out[i + off] = from[i] === 1 && to[i + off] !== 1 ? 0 : s[i];
  return out;
}

/** Normalises one axis (negative counts from the end); throws naming op and argument. */
export function normAxis(op: string, rank: number, axis: unknown, what = 'axis'): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis)) {
    throw new Error(`fathom.${op}: ${what} must be an integer, got ${describeValue(axis)}`);
  }
  if (axis < -rank || axis >= rank) {
    const range = rank === 0 ? 'a scalar has no axes' : `expected an integer in [${-rank}, ${rank - 1}]`;
    throw new Error(`fathom.${op}: ${what} ${axis} is out of range for a tensor of rank ${rank} (${range})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Normalises an axis list (negative axes allowed); undefined means all axes. */
export function normAxes(op: string, rank: number, axes: unknown): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  if (typeof axes !== 'number' && !Array.isArray(axes)) {
    throw new Error(`fathom.${op}: axes must be an integer or an array of integers, got ${describeValue(axes)}`);
  }
  const list: unknown[] = typeof axes === 'number' ? [axes] : [...axes];
  const seen = new Set<number>();
  for (const a of list) {
    const n = normAxis(op, rank, a);
    if (seen.has(n)) throw new Error(`fathom.${op}: axis ${String(a)} is repeated`);
    seen.add(n);
  }
  return [...seen].sort((x, y) => x - y);
}
