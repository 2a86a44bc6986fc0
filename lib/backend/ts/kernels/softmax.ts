/**
 * Row softmax (the TS mirror of native/kernels/ref/softmax.cc).
 *
 *   softmax          x: (N, D) -> y: (N, D)   y = exp(x - max) / Σ exp(x - max)          (log = false)
 *                                             y = x - max - log Σ exp(x - max)           (log = true)
 *   softmaxBackward  y, dy: (N, D) -> dx: (N, D)   dx = y * (dy - Σ_d dy*y)              (softmax)
 *                                                  dx = dy - exp(y) * Σ_d dy             (log-softmax, y = log_softmax(x))
 *
 * Sums are accumulated in float64. Subtracting the row max keeps exp from
 * overflowing; a NaN in a row makes the whole row NaN; a row of all -Infinity
 * gives NaN (-Inf - -Inf), as in PyTorch.
 */

/** Max of row [off, off + d): starts at -Infinity, NaN propagates. */
export function rowMax(x: Float32Array, off: number, d: number): number {
  let m = -Infinity;
  for (let j = 0; j < d; j++) {
    const v = x[off + j];
    if (v > m || v !== v) m = v;
  }
  return m;
}

/** Σ_j exp(x[off + j] - m) in float64. */
export function rowSumExp(x: Float32Array, off: number, d: number, m: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += Math.exp(x[off + j] - m);
  return s;
}

export function softmax(n: number, d: number, x: Float32Array, y: Float32Array, log: boolean): void {
  for (let r = 0; r < n; r++) {
    const off = r * d;
    const m = rowMax(x, off, d);
    const s = rowSumExp(x, off, d, m);
    if (log) {
      const logS = Math.log(s);
      for (let j = 0; j < d; j++) y[off + j] = (x[off + j] - m) - logS;
    } else {
      for (let j = 0; j < d; j++) y[off + j] = Math.exp(x[off + j] - m) / s;
    }
  }
}

export function softmaxBackward(
  n: number, d: number, y: Float32Array, dy: Float32Array, dx: Float32Array, log: boolean,
): void {
  for (let r = 0; r < n; r++) {
    const off = r * d;
    if (log) {
      let s = 0;
      for (let j = 0; j < d; j++) s += dy[off + j];
      for (let j = 0; j < d; j++) dx[off + j] = dy[off + j] - Math.exp(y[off + j]) * s;
    } else {
      let s = 0;
      for (let j = 0; j < d; j++) s += dy[off + j] * y[off + j];
      for (let j = 0; j < d; j++) dx[off + j] = y[off + j] * (dy[off + j] - s);
    }
  }
}
