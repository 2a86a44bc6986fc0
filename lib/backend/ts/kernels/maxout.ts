/**
 * Maxout (twin of native/kernels/ref/maxout.cc).
 *
 *   maxout          y[r]        = max_j x[r*k + j]                x: (n*k), y: (n)
 *   maxoutBackward  dx[r*k + j] = j == winner(r) ? dy[r] : 0      x, dx: (n*k), dy: (n)   (writes dx)
 *
 * The winner of a group is its FIRST maximal element, and NaN counts as the
 * maximum (the first NaN of a group wins; y is NaN), as max/argmax do. The
 * backward recomputes the winner from x. k >= 1 when n > 0.
 */

/** Index (0..k-1) of the first maximum of x[o .. o+k), NaN winning. */
function firstMax(x: Float32Array, o: number, k: number): number {
  let bi = 0;
  let best = x[o];
  for (let j = 1; j < k; j++) {
    const v = x[o + j];
    if (v > best || (v !== v && best === best)) {
      best = v;
      bi = j;
    }
  }
  return bi;
}

export function maxout(n: number, k: number, x: Float32Array, y: Float32Array): void {
  for (let r = 0; r < n; r++) y[r] = x[r * k + firstMax(x, r * k, k)];
}

export function maxoutBackward(n: number, k: number, x: Float32Array, dy: Float32Array, dx: Float32Array): void {
  for (let r = 0; r < n; r++) {
    const o = r * k;
    const w = firstMax(x, o, k);
    for (let j = 0; j < k; j++) dx[o + j] = 0;
    dx[o + w] = dy[r];
  }
}
