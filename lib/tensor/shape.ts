/** Shape arithmetic shared by the ops: sizes, strides, broadcasting, axes. */

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(op: string, shape: Shape): void {
  if (!Array.isArray(shape)) throw new Error(`fathom.${op}: shape must be an array of integers, got ${typeof shape}`);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new Error(`fathom.${op}: shape must hold non-negative integers, got [${shape.join(', ')}]`);
    }
  }
  if (shape.length > 8) throw new Error(`fathom.${op}: at most 8 dimensions are supported, got ${shape.length}`);
}

export function fmt(shape: Shape): string {
  return `[${shape.join(', ')}]`;
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

/** Normalises an axis list (negative axes allowed); undefined means all axes. */
export function normAxes(op: string, rank: number, axes: number | readonly number[] | undefined): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const seen = new Set<number>();
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new Error(`fathom.${op}: axis ${a} is out of range for a tensor of rank ${rank}`);
    }
    const n = a < 0 ? a + rank : a;
    if (seen.has(n)) throw new Error(`fathom.${op}: axis ${a} is repeated`);
    seen.add(n);
  }
  return [...seen].sort((x, y) => x - y);
}
