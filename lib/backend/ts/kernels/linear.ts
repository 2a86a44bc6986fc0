/**
 * Fused inference layer (twin of native/kernels/ops.cc linear_fwd, #13 rawinfer).
 *
 * Shape contract
 *   linearForward  x [n, in], w [out, in] (PyTorch's layout), bias [out] or null → y [n, out]
 *                  y = act(x · wᵀ + bias): the GEMM, then (bias or act given) biasAct in place,
 *                  so bitwise the same values as those two kernels called one after the other.
 *   linearChain    (#13 infer) dims = [in, out_0, ..., out_{L-1}], layer l: ws[l] [dims[l+1], dims[l]],
 *                  biases[l] [dims[l+1]] or null, acts[l]; x [n, dims[0]] → y [n, dims[L]]:
 *                  linearForward layer after layer (the native kernel gives bitwise the same values).
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

// --- #13 infer ---
export function linearChain(
  n: number, dims: readonly number[], ws: readonly Float32Array[], biases: readonly (Float32Array | null)[],
  acts: readonly ActOp[], x: Float32Array, y: Float32Array,
): void {
  const L = ws.length;
  let cur = x;
  for (let l = 0; l < L; l++) {
    const next = l === L - 1 ? y : new Float32Array(n * dims[l + 1]);
    linearForward(n, dims[l + 1], dims[l], cur, ws[l], biases[l], acts[l], next);
    cur = next;
  }
}
// --- end #13 infer ---
