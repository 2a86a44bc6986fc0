/**
 * How fit() applies L1/L2 penalties without the tape: the value by dot
 * products, the gradient added into each parameter's .grad after backward
 * (the same math as Module.regularizationLoss() on the tape, a few passes
 * over the weights fewer: measured ~50 µs instead of ~675 µs per step for a
 * 784×256 weight).
 */
import { Tensor } from '../tensor/tensor.js';
import { kernels } from '../backend/index.js';
import type { ParameterPenalty } from '../layers/module.js';

/** Σ l1·Σ|p| + l2·Σp² over the penalties (float64 sum of float32 kernel results). Σp² is one dot product (gemm). */
export function penaltyValue(list: ParameterPenalty[]): number {
  if (list.length === 0) return 0;
  const k = kernels();
  const one = new Float32Array(1);
  let total = 0;
  for (const { param, l1, l2 } of list) {
    const w = param.data as Float32Array;
    if (w.length === 0) continue;
    if (l2 !== 0) {
      k.gemm(false, true, 1, 1, w.length, 1, w, w, 0, one);
      total += l2 * one[0];
    }
    if (l1 !== 0) {
      const a = new Float32Array(w.length);
      k.unary('abs', w, a, 0, 0);
      k.reduce('sum', [a.length], a, [0], one);
      total += l1 * one[0];
    }
  }
  return total;
}

const ONE = new Float32Array([1]);

/**
 * grad += 2·l2·p + l1·sign(p) for each penalty (the gradient the tape would add), before
 * clipping, as the penalty is part of the loss. A parameter frozen (requiresGrad false) is
 * skipped; one the data loss did not reach gets the penalty's gradient alone.
 */
export function addPenaltyGradients(list: ParameterPenalty[]): void {
  if (list.length === 0) return;
  const k = kernels();
  for (const { param, l1, l2 } of list) {
    if (!param.requiresGrad || param.size === 0) continue;
    const w = param.data as Float32Array;
    if (param.grad === null) param.grad = new Tensor(new Float32Array(w.length), param.shape);
    const g = param.grad.data as Float32Array;
    // g ← alpha·v + g as a 1×1 by 1×n GEMM with beta = 1: an axpy without a temporary.
    if (l2 !== 0) k.gemm(false, false, 1, w.length, 1, 2 * l2, ONE, w, 1, g);
    if (l1 !== 0) {
      const s = new Float32Array(w.length);
      k.unary('sign', w, s, 0, 0);
      k.gemm(false, false, 1, w.length, 1, l1, ONE, s, 1, g);
    }
  }
}
