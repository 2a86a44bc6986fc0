/** Dropout (inverted, PyTorch's F.dropout). */
import { Tensor } from '../tensor/tensor.js';
import { describeValue } from '../tensor/shape.js';
import { mul } from './elementwise.js';
import { rand } from './create.js';
import { checkFloat } from './record.js';
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
 * returns x itself. p = 1 gives zeros. The mask comes from uniform numbers of
 * the global random stream (one rand(x.shape) draw: seeded by manualSeed,
 * the same on both backends); element i is kept when u_i ≥ p. Differentiable:
 * the gradient is dy · mask · 1/(1 − p) (x times a constant mask, one mul
 * on the tape).
 * @throws if x is not a float32 Tensor, p is not a number in [0, 1], or
 *   training is not a boolean.
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  checkFloat('dropout', 'x', x);
  checkDropP('dropout', p);
  if (!optBool('dropout', 'training', training, true) || p === 0) return x;
  if (p === 1) return mul(x, 0);
  const scale = Math.fround(1 / (1 - p));
  const m = rand(x.shape).data as Float32Array;
  for (let i = 0; i < m.length; i++) m[i] = m[i] >= p ? scale : 0;
  return mul(x, new Tensor(m, x.shape));
}
