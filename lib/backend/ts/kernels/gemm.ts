/**
 * GEMM (the TS mirror of native/kernels/ref/gemm.cc; the native side adds
 * packing and SIMD micro-kernels, this is the plain-loop fallback).
 *
 *   gemm  C (M, N) = alpha * op(A) (M, K) · op(B) (K, N) + beta * C
 *         A is stored (M, K), or (K, M) when transA;  B is (K, N), or (N, K) when transB.
 *         All row-major contiguous.
 *   Backward (composed in lib/ops, for C = A·B):  dA = dC · Bᵀ  (gemm(false, true)),
 *                                                  dB = Aᵀ · dC  (gemm(true, false)).
 *
 * Each output element is accumulated in float64 over p = 0..K-1 in order,
 * then C = alpha * acc + beta * C. beta == 0 never reads C (C may hold NaN).
 * As in BLAS (and the native driver), K == 0 or alpha == 0 reads neither A
 * nor B: C = beta * C, zeros when beta == 0 (so NaN/Inf in A or B, or an
 * infinite alpha with K == 0, do not leak in). alpha and beta are float32 in
 * the native contract, so they are rounded to float32 first.
 */

export function gemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
): void {
  const fa = Math.fround(alpha);
  const fb = Math.fround(beta);
  if (k === 0 || fa === 0) {
    const mn = m * n;
    if (fb === 0) for (let i = 0; i < mn; i++) c[i] = 0;
    else for (let i = 0; i < mn; i++) c[i] = fb * c[i];
    return;
  }
  // op(A)[i, p] = a[i * aRow + p * aCol]
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;

  if (!transB) {
    // i-p-j: the inner loop walks a row of B and a row buffer contiguously.
    const acc = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      for (let p = 0; p < k; p++) {
        const aip = a[i * aRow + p * aCol];
        const bRow = p * n;
        for (let j = 0; j < n; j++) acc[j] += aip * b[bRow + j];
      }
      storeRow(c, i * n, n, acc, fa, fb);
    }
  } else {
    // i-j-p: op(B)[p, j] = b[j * k + p], so each output is a dot product
    // over a contiguous row of B (and of A when not transA).
    const acc = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      const aBase = i * aRow;
      for (let j = 0; j < n; j++) {
        const bBase = j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[aBase + p * aCol] * b[bBase + p];
        acc[j] = s;
      }
      storeRow(c, i * n, n, acc, fa, fb);
    }
  }
}

/** c[off + j] = alpha * acc[j] + beta * c[off + j], without reading c when beta == 0. */
function storeRow(c: Float32Array, off: number, n: number, acc: Float64Array, alpha: number, beta: number): void {
  if (beta === 0) {
    for (let j = 0; j < n; j++) c[off + j] = alpha * acc[j];
  } else {
    for (let j = 0; j < n; j++) c[off + j] = alpha * acc[j] + beta * c[off + j];
  }
}
