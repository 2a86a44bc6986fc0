/** Reductions over axes, and the sum-to-shape that broadcasting's backward needs. */
import { backend } from '../backend/index.js';
import type { ReduceOp } from '../backend/backend.js';
import { Tensor } from '../tensor/tensor.js';
import { broadcastStrides, contiguousStrides, fmt, normAxes, sameShape, sizeOf, type Shape } from '../tensor/shape.js';
import { checkFloat, empty, record } from './record.js';

/** Output shape and the reduce strides for reducing `shape` over `axes`. */
export function reducePlan(shape: Shape, axes: number[]): { kept: number[]; strides: number[] } {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const cs = contiguousStrides(kept);
  return { kept, strides: shape.map((d, i) => (axes.includes(i) ? 0 : cs[i])) };
}

function reduceOp(op: ReduceOp, x: Tensor, axesArg: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  const name = op;
  checkFloat(name, 'x', x);
  const axes = normAxes(name, x.rank, axesArg);
  if (op === 'max' && x.size === 0) throw new Error(`fathom.max: cannot take the max of an empty tensor of shape ${fmt(x.shape)}`);
  const { kept, strides } = reducePlan(x.shape, axes);
  const outShape = keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i));
  const out = empty(outShape);
  if (out.size > 0) backend().reduce(op, x.shape, x.f32(), strides, out.f32());
  return record(out, name, [x], { axes, kept });
}

export const sum = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduceOp('sum', x, axes, keepDims);
export const mean = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduceOp('mean', x, axes, keepDims);
/** Maximum over axes; the gradient flows to every element equal to the maximum. */
export const max = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduceOp('max', x, axes, keepDims);

/** Sums `g` (of a broadcast shape) down to `shape` (not recorded). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const out = empty(shape);
  if (g.size === 0 || out.size === 0) return out;
  // Pad `shape` on the left to g's rank; dims that were broadcast (1 -> n) or added get stride 0.
  const strides = broadcastStrides(shape, g.shape);
  backend().reduce('sum', g.shape, g.f32(), strides, out.f32());
  return out;
}

/** Reads `g` of shape `from` as the larger broadcast shape `to`, times `scale` (not recorded). */
export function broadcastTo(g: Tensor, to: Shape, scale = 1): Tensor {
  const out = empty(to);
  if (sizeOf(to) === 0) return out;
  const one = new Float32Array([scale]);
  backend().binaryBroadcast('mul', to, g.f32(), broadcastStrides(g.shape, to), one, to.map(() => 0), out.f32());
  return out;
}
