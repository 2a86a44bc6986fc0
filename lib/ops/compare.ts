/**
 * Comparison ops and int32 arithmetic (issue #11).
 *
 * Comparisons (eq, ne, lt, le, gt, ge) broadcast as PyTorch's and give
 * float32 0/1 — fathom has no bool dtype, and `equal` already answers in
 * float32, which multiplies straight into masks and feeds `where`. They take
 * float32 or int32 tensors (and numbers), compare the values exactly, and are
 * not differentiable (NaN compares unequal to everything, as IEEE says: false
 * except ne). Float32 operands (and numbers exact in float32) run on the
 * backend's broadcasting binary kernel with the comparison's op code (native
 * C++ / its TS twin); int32 operands and numbers not exact in float32 (compared
 * in float64) take the TypeScript loop below.
 *
 * int32 arithmetic: add, sub, mul, maximum and minimum of int32 tensors (or an
 * int32 tensor and an integer number) give int32, wrapping on overflow as
 * PyTorch's int32 does; div gives float32 (true division, as PyTorch); an
 * int32 tensor with a float32 tensor or a fractional number is promoted to
 * float32. floorDivide and remainder are int32-only here (the index
 * arithmetic that sequence code needs: row = i // n, col = i % n).
 * Plain TypeScript loops: one memory-bound pass, no native kernel.
 */
import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, describeValue, fmt } from '../tensor/shape.js';
import { checkTensor } from './record.js';
import { alloc } from './strided.js';
import { broadcastData } from './index_ops.js';
import { binaryRaw } from './elementwise.js';

type Operand = Tensor | number;
const CMP = {
  eq: (a: number, b: number) => a === b,
  ne: (a: number, b: number) => a !== b,
  lt: (a: number, b: number) => a < b,
  le: (a: number, b: number) => a <= b,
  gt: (a: number, b: number) => a > b,
  ge: (a: number, b: number) => a >= b,
} as const;
type CmpOp = keyof typeof CMP;

/** The operands checked (Tensors or numbers) and their broadcast shape. */
function checkPair(op: string, a: unknown, b: unknown): { ta: Tensor | null; tb: Tensor | null; shape: number[] } {
  if (typeof a !== 'number' && !(a instanceof Tensor)) throw new Error(`fathom.${op}: a must be a Tensor or a number, got ${describeValue(a)}`);
  if (typeof b !== 'number' && !(b instanceof Tensor)) throw new Error(`fathom.${op}: b must be a Tensor or a number, got ${describeValue(b)}`);
  const ta = typeof a === 'number' ? null : checkTensor(op, 'a', a);
  const tb = typeof b === 'number' ? null : checkTensor(op, 'b', b);
  return { ta, tb, shape: broadcastShapes(op, ta ? ta.shape : [], tb ? tb.shape : []) };
}

/** a and b as arrays of the broadcast shape (numbers kept in float64, exact). */
function broadcastPair(op: string, a: unknown, b: unknown): { shape: number[]; x: ArrayLike<number>; y: ArrayLike<number> } {
  const { ta, tb, shape } = checkPair(op, a, b);
  const n = shape.reduce((p, q) => p * q, 1);
  const full = (t: Tensor | null, v: unknown): ArrayLike<number> =>
    t ? broadcastData(op, t, shape).data : new Float64Array(n).fill(v as number);
  return { shape, x: full(ta, a), y: full(tb, b) };
}

/** a as a float32 tensor when that compares exactly (a float32 tensor, or a number exact in float32); else null. */
function asF32(v: unknown): Tensor | null {
  if (v instanceof Tensor) return v.dtype === 'float32' ? v : null;
  if (typeof v === 'number' && (Math.fround(v) === v || v !== v)) return new Tensor(new Float32Array([v]), []);
  return null;
}

function compare(op: CmpOp, a: Operand, b: Operand): Tensor {
  const { ta, tb } = checkPair(op, a, b);
  const fa = asF32(a), fb = asF32(b);
  if (fa && fb && (ta || tb)) return binaryRaw(op, fa, fb, op);
  const { shape, x, y } = broadcastPair(op, a, b);
  const out = alloc(op, 'float32', shape);
  const f = CMP[op];
  for (let i = 0; i < out.length; i++) out[i] = f(x[i], y[i]) ? 1 : 0;
  return new Tensor(out, shape);
}

/** a == b element-wise (broadcast), float32 1/0; not differentiable. */
export const eq = (a: Operand, b: Operand): Tensor => compare('eq', a, b);
/** a != b element-wise (NaN != anything is 1). */
export const ne = (a: Operand, b: Operand): Tensor => compare('ne', a, b);
/** a < b element-wise, float32 1/0. */
export const lt = (a: Operand, b: Operand): Tensor => compare('lt', a, b);
/** a <= b element-wise, float32 1/0. */
export const le = (a: Operand, b: Operand): Tensor => compare('le', a, b);
/** a > b element-wise, float32 1/0. */
export const gt = (a: Operand, b: Operand): Tensor => compare('gt', a, b);
/** a >= b element-wise, float32 1/0. */
export const ge = (a: Operand, b: Operand): Tensor => compare('ge', a, b);

const INT_OPS: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => (a + b) | 0,
  sub: (a, b) => (a - b) | 0,
  mul: (a, b) => Math.imul(a, b),
  maximum: (a, b) => Math.max(a, b),
  minimum: (a, b) => Math.min(a, b),
  // PyTorch floor_divide (rounds toward -inf) and remainder (the sign of the divisor).
  floorDivide: (a, b) => Math.floor(a / b) | 0,
  remainder: (a, b) => { const r = a % b; return r !== 0 && (r < 0) !== (b < 0) ? r + b : r; },
};

/** Whether v is an int32 tensor or an integer number that fits int32. */
function intLike(v: unknown): boolean {
  if (v instanceof Tensor) return v.dtype === 'int32';
  return typeof v === 'number' && Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31;
}

/**
 * int32 arithmetic for the broadcasting binary ops (add, sub, mul, maximum,
 * minimum; div and the rest go to float32): returns null unless an int32
 * tensor is involved. An int32 tensor meeting a float32 tensor or a
 * fractional number is promoted: `promoted` gets float32 copies.
 */
export function intBinary(op: string, a: unknown, b: unknown): { result: Tensor } | { promoted: [Tensor | number, Tensor | number] } | null {
  const aInt = a instanceof Tensor && a.dtype === 'int32';
  const bInt = b instanceof Tensor && b.dtype === 'int32';
  if (!aInt && !bInt) return null;
  if (intLike(a) && intLike(b) && op in INT_OPS) return { result: intArith(op, a as Operand, b as Operand) };
  const toFloat = (v: unknown): Tensor | number =>
    v instanceof Tensor && v.dtype === 'int32' ? new Tensor(Float32Array.from(checkTensor(op, 'a', v).data), v.shape) : (v as Tensor | number);
  return { promoted: [toFloat(a), toFloat(b)] };
}

function intArith(op: string, a: Operand, b: Operand): Tensor {
  const { shape, x, y } = broadcastPair(op, a, b);
  const out = alloc(op, 'int32', shape);
  const f = INT_OPS[op];
  if (op === 'floorDivide' || op === 'remainder') {
    for (let i = 0; i < out.length; i++) {
      if (y[i] === 0) throw new Error(`fathom.${op}: integer division by zero (element ${i} of the broadcast shape ${fmt(shape)})`);
    }
  }
  for (let i = 0; i < out.length; i++) out[i] = f(x[i], y[i]);
  return new Tensor(out, shape);
}

function intOnly(op: string, a: unknown, b: unknown): Tensor {
  for (const [name, v] of [['a', a], ['b', b]] as const) {
    if (!intLike(v)) {
      const got = v instanceof Tensor ? `a ${v.dtype} tensor of shape ${fmt(v.shape)}` : describeValue(v);
      throw new Error(`fathom.${op}: ${name} must be an int32 Tensor or an integer, got ${got}`);
    }
  }
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) throw new Error(`fathom.${op}: a or b must be an int32 Tensor, got two numbers`);
  return intArith(op, a as Operand, b as Operand);
}

/**
 * torch.floor_divide for int32: ⌊a / b⌋ (rounding toward -∞), broadcast.
 * @throws when an operand is not int32 / an integer, or on division by zero.
 */
export const floorDivide = (a: Tensor | number, b: Tensor | number): Tensor => intOnly('floorDivide', a, b);
/**
 * torch.remainder for int32: a - ⌊a / b⌋·b (the sign of b), broadcast.
 * @throws as floorDivide.
 */
export const remainder = (a: Tensor | number, b: Tensor | number): Tensor => intOnly('remainder', a, b);

/** A float32 copy of x (Tensor.float()); a float32 x is returned as is. */
export function toFloat(x: Tensor): Tensor {
  checkTensor('float', 'x', x);
  return x.dtype === 'float32' ? x : new Tensor(Float32Array.from(x.data), x.shape);
}

/**
 * An int32 copy of x, truncating toward zero as PyTorch's .int() (Tensor.int()).
 * @throws when a value is NaN, infinite or outside the int32 range.
 */
export function toInt(x: Tensor): Tensor {
  checkTensor('int', 'x', x);
  if (x.dtype === 'int32') return x;
  const d = x.data;
  const out = new Int32Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = Math.trunc(d[i]);
    if (!(v >= -(2 ** 31) && v < 2 ** 31)) throw new Error(`fathom.int: x[${i}] = ${d[i]} has no int32 value (expected a finite number in [-2^31, 2^31))`);
    out[i] = v;
  }
  return new Tensor(out, x.shape);
}
