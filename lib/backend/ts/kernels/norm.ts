/**
 * Batch and layer normalisation (twin of native/kernels/ref/norm.cc).
 *
 * Batch norm views x as [n, c, s] (s = the product of the spatial dims, 1
 * for [N, C]); statistics are per channel over its m = n·s values:
 *   batchNormStats     mean[ch] = Σ x / m, varOut[ch] = Σ (x - mean)² / m (biased), in double, two passes
 *   batchNormForward   y = (x - mean[ch])·a[ch] + b[ch], a = w / sqrt(var + eps), in double, rounded once
 *                      (w = 1, b = 0 when null; centred first, so a large mean does not cancel)
 *   batchNormBackward  xhat = (x - mean)·invstd, invstd = 1 / sqrt(var + eps):
 *                      dbias[ch] = Σ dy, dweight[ch] = Σ dy·xhat (double sums; written when non-null);
 *                      training (mean, var are the batch's): dx = w·invstd·(dy - Σdy/m - xhat·Σ(dy·xhat)/m)
 *                      eval (the running statistics, constants): dx = w·invstd·dy
 *                      as dx = a·(dy - Σdy/m) + b·(x - mean) (eval a·dy), per-channel a, b rounded to float32
 * Layer norm views x as [r, d] (rows normalised over their d values):
 *   layerNormForward   mean[row], rstd[row] = 1 / sqrt(Σ (x - mean)² / d + eps) (double, two passes),
 *                      y = (x - mean)·rstd·w[j] + b[j]
 *   layerNormBackward  g = dy·w, xhat = (x - mean)·rstd:
 *                      dx = rstd·(g - mean_j g - xhat·mean_j(g·xhat)) (as A·(g - mean g) + B·(x - mean), per-row float32 A, B);
 *                      dweight[j] = Σ_rows dy·xhat, dbias[j] = Σ_rows dy
 */
const f = Math.fround;

export function batchNormStats(n: number, c: number, s: number, x: Float32Array, mean: Float32Array, varOut: Float32Array): void {
  const m = n * s;
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const o = (i * c + ch) * s;
      for (let k = 0; k < s; k++) sum += x[o + k];
    }
    const mu = sum / m;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const o = (i * c + ch) * s;
      for (let k = 0; k < s; k++) {
        const d = x[o + k] - mu;
        sq += d * d;
      }
    }
    mean[ch] = mu;
    varOut[ch] = sq / m;
  }
}

export function batchNormForward(
  n: number, c: number, s: number, x: Float32Array, mean: Float32Array, variance: Float32Array, eps: number,
  weight: Float32Array | null, bias: Float32Array | null, y: Float32Array,
): void {
  for (let ch = 0; ch < c; ch++) {
    // Centred first, in double: x·scale + shift cancels when |mean| >> std
    // ([10000.5, 10001, 10001.5, 10002] gave ±1.34222 / −0.44781 instead of ±1.34164 / ±0.44721).
    const a = (weight ? weight[ch] : 1) / Math.sqrt(variance[ch] + f(eps));
    const mu = mean[ch], b = bias ? bias[ch] : 0;
    for (let i = 0; i < n; i++) {
      const o = (i * c + ch) * s;
      for (let k = 0; k < s; k++) y[o + k] = (x[o + k] - mu) * a + b;
    }
  }
}

export function batchNormBackward(
  n: number, c: number, s: number, x: Float32Array, dy: Float32Array, mean: Float32Array, variance: Float32Array,
  eps: number, weight: Float32Array | null, training: boolean,
  dx: Float32Array | null, dweight: Float32Array | null, dbias: Float32Array | null,
): void {
  const m = n * s;
  for (let ch = 0; ch < c; ch++) {
    const mu = mean[ch];
    const invstd = 1 / Math.sqrt(variance[ch] + f(eps));
    let sdy = 0, sdyx = 0;
    for (let i = 0; i < n; i++) {
      const o = (i * c + ch) * s;
      for (let k = 0; k < s; k++) {
        sdy += dy[o + k];
        sdyx += dy[o + k] * (x[o + k] - mu);
      }
    }
    if (dbias) dbias[ch] = sdy;
    if (dweight) dweight[ch] = sdyx * invstd;
    if (!dx) continue;
    const w = weight ? weight[ch] : 1;
    const a = w * invstd;
    // centred, as the native kernel: training dx = a·(dy - mean dy) + b·(x - mean), b = -a·invstd²·sdyx/m; eval a·dy
    const af = f(a);
    const bf = training ? f(-a * invstd * invstd * sdyx / m) : 0;
    const mdy = training ? f(sdy / m) : 0, muf = training ? f(mu) : 0;
    for (let i = 0; i < n; i++) {
      const o = (i * c + ch) * s;
      if (training) for (let k = 0; k < s; k++) dx[o + k] = af * f(dy[o + k] - mdy) + bf * f(x[o + k] - muf);
      else for (let k = 0; k < s; k++) dx[o + k] = af * dy[o + k];
    }
  }
}

export function layerNormForward(
  r: number, d: number, x: Float32Array, weight: Float32Array | null, bias: Float32Array | null, eps: number,
  y: Float32Array, mean: Float32Array, rstd: Float32Array,
): void {
  for (let row = 0; row < r; row++) {
    const o = row * d;
    let sum = 0;
    for (let j = 0; j < d; j++) sum += x[o + j];
    const mu = sum / d;
    let sq = 0;
    for (let j = 0; j < d; j++) {
      const t = x[o + j] - mu;
      sq += t * t;
    }
    const rs = 1 / Math.sqrt(sq / d + f(eps));
    mean[row] = mu;
    rstd[row] = rs;
    const muf = f(mu), rsf = f(rs);
    for (let j = 0; j < d; j++) {
      const xh = f((x[o + j] - muf) * rsf);
      y[o + j] = weight ? (bias ? f(xh * weight[j]) + bias[j] : xh * weight[j]) : bias ? xh + bias[j] : xh;
    }
  }
}

export function layerNormBackward(
  r: number, d: number, x: Float32Array, dy: Float32Array, mean: Float32Array, rstd: Float32Array,
  weight: Float32Array | null, dx: Float32Array | null, dweight: Float32Array | null, dbias: Float32Array | null,
): void {
  if (dx) {
    for (let row = 0; row < r; row++) {
      const o = row * d;
      const mu = mean[row], rs = rstd[row];
      let sg = 0, sgx = 0;
      for (let j = 0; j < d; j++) {
        const g = dy[o + j] * (weight ? weight[j] : 1);
        sg += g;
        sgx += g * (x[o + j] - mu) * rs;
      }
      const mg = sg / d, mgx = sgx / d;
      // dx = A·(g - mean g) + B·(x - mean), per-row A, B rounded to float32 (as the native kernel)
      const A = f(rs), B = f(-rs * rs * mgx), mgf = f(mg), muf = f(mu);
      for (let j = 0; j < d; j++) dx[o + j] = A * f(f(dy[o + j] * (weight ? weight[j] : 1)) - mgf) + B * f(x[o + j] - muf);
    }
  }
  if (dweight || dbias) {
    for (let j = 0; j < d; j++) {
      let sw = 0, sb = 0;
      for (let row = 0; row < r; row++) {
        const v = dy[row * d + j];
        sb += v;
        sw += v * (x[row * d + j] - mean[row]) * rstd[row];
      }
      if (dweight) dweight[j] = sw;
      if (dbias) dbias[j] = sb;
    }
  }
}
