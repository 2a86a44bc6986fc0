/** Dropout (inverted, PyTorch's F.dropout). */
import { kernels as backend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue, MAX_SIZE } from '../tensor/shape.js';
import { takeGlobalStream } from './create.js';
import { checkFloat, empty, record } from './record.js';
import { optBool } from './options.js';

/** p as a dropout probability in [0, 1]. */
export function checkDropP(op: string, p: unknown): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`fathom.${op}: p must be a number in [0, 1], got ${describeValue(p)}`);
  return p;
}

/**
 * Inverted dropout (PyTorch's F.dropout), any shape: in training, each
 * element is kept with probability 1 − p and scaled by 1/(1 − p), else set
 * to 0, so the expected value is unchanged; `training = false` (or p = 0)
 * returns x itself. p = 1 gives zeros (x · 0).
 *
 * The mask comes from the global random stream (seeded by manualSeed): the
 * numbers rand(x.shape) would draw at this point, element i kept when
 * u_i ≥ p, the same on both backends. One fused kernel pass (Philox, keep
 * test, scale) writes y and the mask; the tape records y = x ⊙ mask as a
 * `mul` by that constant mask, so the gradient is dy · mask (mask · 1/(1 − p)
 * where kept, 0 elsewhere) and no gradient rule of its own is needed.
 * @throws if x is not a float32 Tensor, p is not a number in [0, 1], or
 *   training is not a boolean.
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  checkFloat('dropout', 'x', x);
  checkDropP('dropout', p);
  if (!optBool('dropout', 'training', training, true) || p === 0) return x;
  // y and the mask share one allocation (two views): one buffer fewer to allocate and collect.
  const n = x.size;
  let y: Tensor, mask: Tensor;
  if (2 * n <= MAX_SIZE) {
    const both = empty([2 * n], 'dropout').f32();
    y = new Tensor(both.subarray(0, n), x.shape);
    mask = new Tensor(both.subarray(n), x.shape);
  } else {
    y = empty(x.shape, 'dropout');
    mask = empty(x.shape, 'dropout');
  }
  const { seed, offset } = takeGlobalStream(n);
  if (n > 0) backend().dropout(x.f32(), y.f32(), mask.f32(), seed, offset, p, p === 1 ? 0 : Math.fround(1 / (1 - p)));
  return record(y, 'mul', [x, mask]);
}
