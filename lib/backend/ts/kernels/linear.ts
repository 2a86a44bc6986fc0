/**
 * Fused inference layer (twin of native/kernels/ops.cc linear_fwd, #13 rawinfer).
 *
 * Shape contract
 *   linearForward  x [n, in], w [out, in] (PyTorch's layout), bias [out] or null → y [n, out]
 *                  y = act(x · wᵀ + bias): the GEMM, then (bias or act given) biasAct in place,
 *                  so bitwise the same values as those two kernels called one after the other.
 *   Inference only: there is no backward (training goes through the linear op's gemm + biasAct).
 */
import type { ActOp } from '../../backend.js';
import { gemm } from './gemm.js';
import { biasAct } from './bias_act.js';

export function linearForward(
  n: number, out: number, inF: number, x: Float32Array, w: Float32Array, bias: Float32Array | null, act: ActOp, y: Float32Array,
): void {
  if (n === 0 || out === 0) return;
  gemm(false, true, n, out, inF, 1, x, w, 0, y);
  if (bias || act !== 'none') biasAct(n, out, y, bias, act);
}
