/** Element-wise ops: unary functions and broadcasting binary arithmetic. */
import { kernels as backend } from '../backend/index.js';
import type { BinaryOp, UnaryOp } from '../backend/backend.js';
import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, describeValue, sameShape, sizeOf } from '../tensor/shape.js';
import { asTensor, checkFloat, empty, record } from './record.js';

function unaryOp(op: UnaryOp, x: Tensor, p = 0): Tensor {
  checkFloat(op, 'x', x);
  const y = empty(x.shape, op);
  if (y.size > 0) backend().unary(op, x.f32(), y.f32(), p);
  return record(y, op, [x], { p });
}

export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
export const exp = (x: Tensor): Tensor => unaryOp('exp', x);
export const log = (x: Tensor): Tensor => unaryOp('log', x);
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x);
export const abs = (x: Tensor): Tensor => unaryOp('abs', x);
export const square = (x: Tensor): Tensor => unaryOp('square', x);
export const relu = (x: Tensor): Tensor => unaryOp('relu', x);
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', x);
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x);
/** sign(x) in {-1, 0, 1}; its gradient is zero everywhere (as in PyTorch and tfjs). */
export const sign = (x: Tensor): Tensor => unaryOp('sign', x);

/** x^p for a scalar exponent p. */
export function pow(x: Tensor, p: number): Tensor {
  if (typeof p !== 'number' || Number.isNaN(p)) throw new Error(`fathom.pow: exponent p must be a number, got ${describeValue(p)}`);
  return unaryOp('pow', x, p);
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
