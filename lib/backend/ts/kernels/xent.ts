/**
 * Fused losses (the TS mirror of native/kernels/ref/xent.cc).
 *
 *   xentLabels          logits: (N, D), labels: (N) int in [0, D) -> prob: (N, D), returns scalar
 *                       loss = -mean_n log_softmax(logits)[n, label[n]];  prob = softmax(logits)
 *   xentLabelsBackward  prob: (N, D), labels: (N), g -> dlogits: (N, D)
 *                       dlogits = g / N * (prob - onehot(label))
 *   xentProbs           logits, target: (N, D) -> prob: (N, D), returns scalar
 *                       loss = -mean_n Σ_d target * log_softmax(logits)
 *   xentProbsBackward   prob, target: (N, D), g -> dlogits: (N, D)
 *                       dlogits = g / N * (prob * Σ_d target[n, d] - target)
 *   mse                 a, b: (n) -> scalar   mean((a - b)²)
 *   mseBackward         a, b: (n), g -> da: (n)   da = g * 2 (a - b) / n
 *
 * log_softmax is computed as (x - max) - log Σ exp(x - max); losses are
 * accumulated and returned in float64. The mean over N = 0 rows is 0/0 = NaN
 * (as in PyTorch). `g` is a float32 scalar in the native contract, so it is
 * rounded to float32 first.
 */
import { rowMax, rowSumExp } from './softmax.js';

export function xentLabels(n: number, d: number, logits: Float32Array, labels: Int32Array, prob: Float32Array): number {
  let loss = 0;
  for (let r = 0; r < n; r++) {
    const off = r * d;
    const m = rowMax(logits, off, d);
    const s = rowSumExp(logits, off, d, m);
    loss -= (logits[off + labels[r]] - m) - Math.log(s);
    for (let j = 0; j < d; j++) prob[off + j] = Math.exp(logits[off + j] - m) / s;
  }
  return loss / n;
}

export function xentLabelsBackward(
  n: number, d: number, prob: Float32Array, labels: Int32Array, g: number, dlogits: Float32Array,
): void {
  const scale = Math.fround(g) / n;
  for (let r = 0; r < n; r++) {
    const off = r * d;
    const label = labels[r];
    for (let j = 0; j < d; j++) dlogits[off + j] = scale * (prob[off + j] - (j === label ? 1 : 0));
  }
}

export function xentProbs(n: number, d: number, logits: Float32Array, target: Float32Array, prob: Float32Array): number {
  let loss = 0;
  for (let r = 0; r < n; r++) {
    const off = r * d;
    const m = rowMax(logits, off, d);
    const s = rowSumExp(logits, off, d, m);
    const logS = Math.log(s);
    for (let j = 0; j < d; j++) {
      loss -= target[off + j] * ((logits[off + j] - m) - logS);
      prob[off + j] = Math.exp(logits[off + j] - m) / s;
    }
  }
  return loss / n;
}

export function xentProbsBackward(
  n: number, d: number, prob: Float32Array, target: Float32Array, g: number, dlogits: Float32Array,
): void {
  const scale = Math.fround(g) / n;
  for (let r = 0; r < n; r++) {
    const off = r * d;
    let tsum = 0;
    for (let j = 0; j < d; j++) tsum += target[off + j];
    for (let j = 0; j < d; j++) dlogits[off + j] = scale * (prob[off + j] * tsum - target[off + j]);
  }
}

export function mse(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const e = a[i] - b[i];
    s += e * e;
  }
  return s / n;
}

export function mseBackward(a: Float32Array, b: Float32Array, g: number, da: Float32Array): void {
  const n = da.length;
  const scale = (2 * Math.fround(g)) / n;
  for (let i = 0; i < n; i++) da[i] = scale * (a[i] - b[i]);
}
