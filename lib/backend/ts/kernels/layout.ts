/**
 * Layout kernels (the TS mirror of native/kernels/ref/layout.cc).
 *
 *   transpose2d  x: (N, D) -> y: (D, N)      y[j, i] = x[i, j]   (its backward is transpose2d(D, N))
 *   argmax       x: (N, D) -> out: (N) int   first index of the row maximum; NaN never wins,
 *                                            an all-NaN row (or D = 0) gives 0   (no gradient)
 *   fill         y: (n)                      y[i] = float32(value)
 *   copy         x: (n) -> y: (n)            y[i] = x[i]   (n = y.length; overlapping views are fine)
 */

export function transpose2d(n: number, d: number, x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let j = 0; j < d; j++) y[j * n + i] = x[row + j];
  }
}

export function argmax(n: number, d: number, x: Float32Array, out: Int32Array): void {
  for (let r = 0; r < n; r++) {
    const off = r * d;
    let best = -1;
    let bestVal = -Infinity;
    for (let j = 0; j < d; j++) {
      const v = x[off + j];
      if (v !== v) continue; // NaN never wins
      if (best < 0 || v > bestVal) { best = j; bestVal = v; }
    }
    out[r] = best < 0 ? 0 : best;
  }
}

export function fill(y: Float32Array, value: number): void {
  y.fill(value);
}

export function copy(x: Float32Array, y: Float32Array): void {
  // TypedArray.set copies as if through a temporary, so overlap is safe.
  y.set(x.length > y.length ? x.subarray(0, y.length) : x);
}
