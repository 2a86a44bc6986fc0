/** Element-wise ops: unary functions and broadcasting binary arithmetic. */
import { kernels as backend } from '../backend/index.js';
import type { BinaryOp, UnaryOp } from '../backend/backend.js';
import { UNARY_OPS, unaryEntry, type PublicUnaryOp, type UnaryArgs, type UnaryParam } from '../backend/unary_table.js';
import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, describeValue, sameShape, sizeOf } from '../tensor/shape.js';
import { asTensor, checkFloat, empty, record } from './record.js';
import { checkOptions } from './options.js';
import { intBinary } from './compare.js';

/** y = op(x) on a new tensor, recorded with its parameters p, q (the gradient rule reads them). */
function unaryOp(op: UnaryOp, name: string, x: Tensor, p = 0, q = 0): Tensor {
  checkFloat(name, 'x', x);
  const y = empty(x.shape, name);
  if (y.size > 0) backend().unary(op, x.f32(), y.f32(), p, q);
  return record(y, op, [x], { p, q });
}

/** A parameter of `name`: its default when undefined, else a number finite in float32 the op accepts. */
function param(name: string, spec: UnaryParam, v: unknown): number {
  if (v === undefined && spec.default !== undefined) return spec.default;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`fathom.${name}: ${spec.name} must be a number, got ${describeValue(v)}`);
  if (!Number.isFinite(Math.fround(v))) throw new Error(`fathom.${name}: ${spec.name} must be finite in float32, got ${v}`);
  const why = spec.refuse?.(v);
  if (why) throw new Error(`fathom.${name}: ${spec.name} must be ${why}, got ${v}`);
  return v;
}

/** The exported function of a table entry, typed from it: (x), (x, p) or (x, options). */
export type UnaryFunction<K extends PublicUnaryOp> = (x: Tensor, ...args: UnaryArgs<(typeof UNARY_OPS)[K]>) => Tensor;

/**
 * Builds the exported function of a table entry (lib/backend/unary_table.ts):
 * it checks x (a float32 Tensor) and the parameters (defaults filled in, each
 * a number finite in float32 that the entry accepts), runs the kernel and
 * records the op for autograd. Errors name the op and the argument.
 */
export function unaryFunction<K extends PublicUnaryOp>(op: K): UnaryFunction<K> {
  const { params = [], options } = unaryEntry(op);
  const keys = params.map((s) => s.name);
  const fn = (x: Tensor, arg?: unknown): Tensor => {
    let p = 0;
    let q = 0;
    if (options) {
      const o = checkOptions(op, arg as Record<string, unknown> | undefined, keys) as Record<string, unknown>;
      [p = 0, q = 0] = params.map((s) => param(op, s, o[s.name]));
    } else if (params.length > 0) {
      p = param(op, params[0], arg);
    }
    return unaryOp(op, op, x, p, q);
  };
  Object.defineProperty(fn, 'name', { value: op });
  return fn as UnaryFunction<K>;
}

/** -x, any shape. */
export const neg = unaryFunction('neg');
/** e^x (overflow gives +Inf). */
export const exp = unaryFunction('exp');
/** Natural log (log(±0) = -Inf, x < 0 gives NaN). */
export const log = unaryFunction('log');
export const sqrt = unaryFunction('sqrt');
export const abs = unaryFunction('abs');
export const square = unaryFunction('square');
export const relu = unaryFunction('relu');
export const sigmoid = unaryFunction('sigmoid');
export const tanh = unaryFunction('tanh');
/** sign(x) in {-1, 0, 1}; its gradient is zero everywhere (as in PyTorch and tfjs). */
export const sign = unaryFunction('sign');
/**
 * x^p for a scalar exponent p.
 * @throws when p is not a number finite in float32.
 */
export const pow = unaryFunction('pow');
/**
 * Leaky ReLU (PyTorch `leaky_relu`): x > 0 ? x : negativeSlope · x, any shape; negativeSlope
 * defaults to 0.01. Gradient: 1 for x > 0, negativeSlope elsewhere.
 * @throws when negativeSlope is not a number finite in float32.
 */
export const leakyRelu = unaryFunction('leakyRelu');
/**
 * ELU (PyTorch `elu`): x > 0 ? x : alpha (e^x - 1), any shape; alpha defaults to 1.
 * @throws when alpha is not a number finite in float32.
 */
export const elu = unaryFunction('elu');
/**
 * Softplus (PyTorch `softplus`): log(1 + e^(beta·x)) / beta, and x itself where
 * beta·x > threshold (the linear region, for numerical stability); defaults beta = 1,
 * threshold = 20. Gradient sigmoid(beta·x) (1 in the linear region).
 * @throws when beta or threshold is not a number finite in float32, beta is 0, or the
 *   options object has an unknown key.
 */
export const softplus = unaryFunction('softplus');
/** SiLU / swish (PyTorch `silu`): x · sigmoid(x), any shape. */
export const silu = unaryFunction('silu');

export interface GeluOptions {
  /** 'none' (default): x Φ(x) with the exact normal CDF; 'tanh': PyTorch's tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/**
 * GELU (PyTorch `gelu`), any shape: x Φ(x) = x (1 + erf(x/√2)) / 2 with
 * `approximate: 'none'` (default), or x/2 (1 + tanh(√(2/π)(x + 0.044715 x³)))
 * with `approximate: 'tanh'`. E.g. gelu(1) = 0.8413447, tanh form 0.8411920.
 * @throws when approximate is not 'none' or 'tanh', or the options object has an unknown key.
 */
export function gelu(x: Tensor, options?: GeluOptions): Tensor {
  const { approximate = 'none' } = checkOptions('gelu', options, ['approximate']);
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new Error(`fathom.gelu: approximate must be 'none' or 'tanh', got ${describeValue(approximate)}`);
  }
  return unaryOp(approximate === 'tanh' ? 'geluTanh' : 'gelu', 'gelu', x);
}

/** Broadcasting a (op) b into a new tensor, without recording. */
export function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor, name: string = op): Tensor {
  checkFloat(name, 'a', a);
  checkFloat(name, 'b', b);
  if (sameShape(a.shape, b.shape)) {
    const out = empty(a.shape, name);
    if (out.size > 0) backend().binary(op, a.f32(), b.f32(), out.f32());
    return out;
  }
  const shape = broadcastShapes(name, a.shape, b.shape);
  const out = empty(shape, name);
  if (sizeOf(shape) > 0) {
    backend().binaryBroadcast(op, shape, a.f32(), broadcastStrides(a.shape, shape), b.f32(), broadcastStrides(b.shape, shape), out.f32());
  }
  return out;
}

function binaryOp(op: BinaryOp, name: string, a: Tensor | number, b: Tensor | number): Tensor {
  // --- #11: int32 operands (lib/ops/compare.ts): int32 arithmetic, or promotion to float32 ---
  const int = intBinary(name, a, b);
  if (int && 'result' in int) return int.result;
  if (int) [a, b] = int.promoted;
  // --- end #11 ---
  const ta = asTensor(name, a, 'a');
  const tb = asTensor(name, b, 'b');
  return record(binaryRaw(op, ta, tb, name), name, [ta, tb]);
}

export const add = (a: Tensor | number, b: Tensor | number): Tensor => binaryOp('add', 'add', a, b);
export const sub = (a: Tensor | number, b: Tensor | number): Tensor => binaryOp('sub', 'sub', a, b);
export const mul = (a: Tensor | number, b: Tensor | number): Tensor => binaryOp('mul', 'mul', a, b);
export const div = (a: Tensor | number, b: Tensor | number): Tensor => binaryOp('div', 'div', a, b);
/** Element-wise maximum; the gradient goes to the larger input (to a on ties). */
export const maximum = (a: Tensor | number, b: Tensor | number): Tensor => binaryOp('max', 'maximum', a, b);
/** Element-wise minimum; the gradient goes to the smaller input (to a on ties). */
export const minimum = (a: Tensor | number, b: Tensor | number): Tensor => binaryOp('min', 'minimum', a, b);

/** 1 where a == b else 0 (not differentiable). */
export function equal(a: Tensor | number, b: Tensor | number): Tensor {
  return binaryRaw('eq', asTensor('equal', a, 'a'), asTensor('equal', b, 'b'), 'equal');
}
