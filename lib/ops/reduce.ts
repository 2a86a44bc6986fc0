/** Reductions over axes, and the sum-to-shape that broadcasting's backward needs. */
import { kernels as backend } from '../backend/index.js';
import type { ReduceOp } from '../backend/backend.js';
import { Tensor } from '../tensor/tensor.js';
import { broadcastStrides, contiguousStrides, fmt, normAxes, sameShape, sizeOf, type Shape } from '../tensor/shape.js';
import { checkFloat, empty, record } from './record.js';
import { optBool } from './options.js';

/** Output shape and the reduce strides for reducing `shape` over `axes`. */
export function reducePlan(shape: Shape, axes: number[]): { kept: number[]; strides: number[] } {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const cs = contiguousStrides(kept);
  return { kept, strides: shape.map((d, i) => (axes.includes(i) ? 0 : cs[i])) };
}

function reduceOp(op: ReduceOp, x: Tensor, axesArg: number | readonly number[] | undefined, keepDimsArg: boolean | undefined): Tensor {
  const name = op;
  checkFloat(name, 'x', x);
  const axes = normAxes(name, x.rank, axesArg);
  const keepDims = optBool(name, 'keepDims', keepDimsArg, false);
  const { kept, strides } = reducePlan(x.shape, axes);
  const outShape = keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i));
  const emptyAxis = axes.find((a) => x.shape[a] === 0);
  if (op === 'max' && emptyAxis !== undefined) {
    // As PyTorch's amax: the max over nothing is undefined (an empty result over other axes is fine).
    throw new Error(`fathom.max: cannot take the max over axis ${emptyAxis} of size 0 (tensor of shape ${fmt(x.shape)})`);
  }
  const out = empty(outShape, name);
  if (out.size > 0) {
    // The sum over nothing is 0 (out is zero-filled), the mean over nothing NaN (as in PyTorch).
    if (x.size > 0) backend().reduce(op, x.shape, x.f32(), strides, out.f32());
    else if (op === 'mean') out.f32().fill(NaN);
  }
  return record(out, name, [x], { axes, kept });
}

/**
 * Sum over `axes` (an axis or a list; negative counts from the end; default
 * all), dropping them unless `keepDims` (default false). The sum over an
 * empty axis is 0.
 */
export const sum = (x: Tensor, axes?: number | readonly number[], keepDims?: boolean): Tensor => reduceOp('sum', x, axes, keepDims);
/** Mean over `axes` (as sum); the mean over an empty axis is NaN, as in PyTorch. */
export const mean = (x: Tensor, axes?: number | readonly number[], keepDims?: boolean): Tensor => reduceOp('mean', x, axes, keepDims);
/**
 * Maximum over `axes` (as sum; PyTorch's amax). The gradient is split evenly
 * among the elements equal to the maximum of their slot.
 * @throws when a reduced axis has size 0.
 */
export const max = (x: Tensor, axes?: number | readonly number[], keepDims?: boolean): Tensor => reduceOp('max', x, axes, keepDims);

/** Sums `g` (of a broadcast shape) down to `shape` (not recorded). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const out = empty(shape, 'backward');
  if (g.size === 0 || out.size === 0) return out;
  // Pad `shape` on the left to g's rank; dims that were broadcast (1 -> n) or added get stride 0.
  const strides = broadcastStrides(shape, g.shape);
  backend().reduce('sum', g.shape, g.f32(), strides, out.f32());
  return out;
}

/** Reads `g` of shape `from` as the larger broadcast shape `to`, times `scale` (not recorded). */
export function broadcastTo(g: Tensor, to: Shape, scale = 1): Tensor {
  const out = empty(to, 'backward');
  if (sizeOf(to) === 0) return out;
  const one = new Float32Array([scale]);
  backend().binaryBroadcast('mul', to, g.f32(), broadcastStrides(g.shape, to), one, to.map(() => 0), out.f32());
  return out;
}
