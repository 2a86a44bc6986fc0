/**
 * Reductions (the TS mirror of native/kernels/ref/reduce.cc).
 *
 *   reduce  x: contiguous `shape` -> out: (out.length)
 *           element x[idx] goes to out[Σ_d idx[d] * outStrides[d]], outStrides[d] = 0 on reduced axes.
 *           sum:  Σ, accumulated in float64
 *           mean: Σ / (x.length / out.length)
 *           max:  starts at -Infinity; any NaN makes the result NaN
 *   (backward is composed in lib/ops: sum/mean broadcast dy back, max routes dy to the argmax.)
 *
 * `out` is overwritten. An out element no input maps to (a reduced axis of
 * length 0) ends as 0 for sum, NaN (0/0) for mean, -Infinity for max.
 */
import type { ReduceOp } from '../../backend.js';

export function reduce(
  op: ReduceOp, shape: readonly number[], x: Float32Array, outStrides: readonly number[], out: Float32Array,
): void {
  const outN = out.length;
  if (outN === 0) return;
  const ndim = shape.length;
  const acc = new Float64Array(outN).fill(op === 'max' ? -Infinity : 0);

  let total = 1;
  for (let d = 0; d < ndim; d++) total *= shape[d];
  total = Math.min(total, x.length);

  // Walk x in order with an odometer over the multi-index; o is the out offset.
  const idx = new Array<number>(ndim).fill(0);
  let o = 0;
  for (let i = 0; i < total; i++) {
    const v = x[i];
    if (op === 'max') {
      // NaN wins and then sticks (v > NaN is false, and NaN is only replaced by NaN).
      if (v > acc[o] || v !== v) acc[o] = v;
    } else {
      acc[o] += v;
    }
    for (let d = ndim - 1; d >= 0; d--) {
      idx[d]++;
      o += outStrides[d];
      if (idx[d] < shape[d]) break;
      o -= idx[d] * outStrides[d];
      idx[d] = 0;
    }
  }

  const count = x.length / outN;
  for (let j = 0; j < outN; j++) out[j] = op === 'mean' ? acc[j] / count : acc[j];
}
