/**
 * Layout kernels (the TS mirror of native/kernels/ref/layout.cc).
 *
 *   transpose2d  x: (N, D) -> y: (D, N)      y[j, i] = x[i, j]   (its backward is transpose2d(D, N))
 *   argmax       x: (N, D) -> out: (N) int   first index of the row maximum; NaN counts as the
 *                                            maximum (PyTorch / NumPy): the first NaN wins; D = 0
 *                                            gives 0   (no gradient)
 *   fill         y: (n)                      y[i] = float32(value)
 *   copy         x: (n) -> y: (n)            y[i] = x[i]   (x === y is a no-op; checked.ts refuses partial overlap)
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
    let best = 0;
    let bestVal = d > 0 ? x[off] : 0;
    for (let j = 1; j < d && bestVal === bestVal; j++) { // stop at the first NaN: it wins
      const v = x[off + j];
      if (v > bestVal || v !== v) { best = j; bestVal = v; }
    }
    out[r] = best;
  }
}

export function fill(y: Float32Array, value: number): void {
  y.fill(value);
}

export function copy(x: Float32Array, y: Float32Array): void {
  if (x !== y) y.set(x);
}
