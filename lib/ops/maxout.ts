/** Maxout over the last axis (Goodfellow et al., 2013, "Maxout Networks"). */
import { kernels as backend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue, fmt } from '../tensor/shape.js';
import { checkFloat, empty, record } from './record.js';

/**
 * maxout(x, pieces): x [..., D] with D = U · pieces, cut along the last axis
 * into U groups of `pieces` consecutive values, gives [..., U] with
 * out[..., i] = max_j x[..., i·pieces + j]. The gradient goes to the FIRST
 * maximal element of each group (ties: the lowest j). NaN counts as the
 * maximum, as in max and argmax: a group holding NaN gives NaN and its
 * gradient goes to its first NaN.
 * @throws when x is not a float32 Tensor of rank >= 1, pieces is not a
 *   positive integer, or D is not divisible by pieces.
 */
export function maxout(x: Tensor, pieces: number): Tensor {
  checkFloat('maxout', 'x', x);
  if (typeof pieces !== 'number' || !Number.isSafeInteger(pieces) || pieces < 1) {
    throw new Error(`fathom.maxout: pieces must be a positive integer, got ${describeValue(pieces)}`);
  }
  if (x.rank < 1) throw new Error(`fathom.maxout: x must have at least one dimension [..., units·pieces], got a scalar ${fmt(x.shape)}`);
  const d = x.shape[x.rank - 1];
  if (d % pieces !== 0) {
    throw new Error(`fathom.maxout: the last dimension of x ${fmt(x.shape)} (${d}) is not divisible by pieces = ${pieces}`);
  }
  const shape = [...x.shape.slice(0, -1), d / pieces];
  const y = empty(shape, 'maxout');
  if (y.size > 0) backend().maxout(y.size, pieces, x.f32(), y.f32());
  return record(y, 'maxout', [x], { pieces });
}
