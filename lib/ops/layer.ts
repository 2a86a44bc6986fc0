/** Fused layer ops: linear (x Wᵀ + b, then an activation) in two kernel calls. */
import { kernels as backend } from '../backend/index.js';
import type { ActOp } from '../backend/backend.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue, fmt } from '../tensor/shape.js';
import { checkFloat, empty, record } from './record.js';
import { gemm, reshape } from './linalg.js';

const ACTS: readonly ActOp[] = ['none', 'relu', 'sigmoid', 'tanh'];

/**
 * act(x · Wᵀ + b) for x [n, in], weight [out, in] (PyTorch layout) and an
 * optional bias [out] (null or undefined for none): one GEMM plus one fused
 * bias + activation pass. `activation` is 'none' (default), 'relu',
 * 'sigmoid' or 'tanh'. The result is [n, out]; with in = 0 it is act(b).
 * As PyTorch's F.linear, x may have any rank >= 1 and the map applies over
 * its last axis: [*, in] → [*, out] (reshaped to [-1, in] and back; a 1-D
 * [in] gives [out]).
 * @throws when x, weight or bias is not a float32 Tensor of those shapes, or
 *   the activation is unknown.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null, activation: ActOp = 'none'): Tensor {
  checkFloat('linear', 'x', x);
  checkFloat('linear', 'weight', weight);
  if (!ACTS.includes(activation)) throw new Error(`fathom.linear: activation must be one of ${ACTS.join(', ')}, got ${describeValue(activation)}`);
  if (weight.rank !== 2) throw new Error(`fathom.linear: weight must be 2-D [out, in], got ${fmt(weight.shape)}`);
  const [out, inF] = weight.shape;
  if (x.rank < 1 || x.shape[x.rank - 1] !== inF) {
    throw new Error(`fathom.linear: expected input [*, ${inF}] (last axis ${inF}) for weight ${fmt(weight.shape)}, got ${fmt(x.shape)}`);
  }
  if (bias !== null && bias !== undefined) {
    checkFloat('linear', 'bias', bias);
    if (bias.rank !== 1 || bias.shape[0] !== out) throw new Error(`fathom.linear: bias must have shape [${out}], got ${fmt(bias.shape)}`);
  } else {
    bias = null;
  }
  if (x.rank !== 2) {
    // [*, in] → [-1, in] → [-1, out] → [*, out], as PyTorch (reshape is differentiable).
    const y2 = linear(reshape(x, [-1, inF]), weight, bias, activation);
    return reshape(y2, [...x.shape.slice(0, -1), out]);
  }
  const n = x.shape[0];
  const y = empty([n, out], 'linear');
  if (y.size > 0) {
    gemm(false, true, n, out, inF, 1, x.f32(), weight.f32(), 0, y.f32());
    if (bias || activation !== 'none') backend().biasAct(n, out, y.f32(), bias ? bias.f32() : null, activation);
  }
  return record(y, 'linear', bias ? [x, weight, bias] : [x, weight], { activation });
}
