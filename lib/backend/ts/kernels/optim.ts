/**
 * Optimizer steps, one pass over a parameter (the TS mirror of
 * native/kernels/ref/optim.cc). PyTorch semantics.
 *
 *   sgdStep   w, g, v: (n)     g' = g + wd·w
 *                              momentum ≠ 0:  v = first ? g' : momentum·v + (1 - dampening)·g'
 *                                             d = nesterov ? g' + momentum·v : v
 *                              momentum = 0:  d = g'   (v is not touched; it still has w.length values, as the native binding requires)
 *                              w -= lr·d
 *   adamStep  w, g, m, v: (n)  adamw:  w -= lr·wd·w   (decoupled, before the update), g' = g
 *                              else:   g' = g + wd·w  (L2)
 *                              m = b1·m + (1 - b1)·g';  v = b2·v + (1 - b2)·g'²
 *                              mhat = m / (1 - b1^t);   vhat = v / (1 - b2^t)
 *                              w -= lr·mhat / (sqrt(vhat) + eps)          (t >= 1)
 *   (no backward: these consume gradients.)
 *
 * The hyper-parameters are float32 in the native contract, so they are rounded
 * to float32 first; the arithmetic is float64 and w, m, v are stored as
 * float32 (the updated m and v are read back rounded, as the state a native
 * float kernel would hold). The bias corrections 1 - b^t are float64.
 */
import type { AdamOptions, SgdOptions } from '../../backend.js';

const f = Math.fround;

export function sgdStep(w: Float32Array, g: Float32Array, v: Float32Array, o: SgdOptions, first: boolean): void {
  const n = w.length;
  const lr = f(o.lr), momentum = f(o.momentum), dampening = f(o.dampening), wd = f(o.weightDecay);
  for (let i = 0; i < n; i++) {
    const gi = g[i] + wd * w[i];
    let d = gi;
    if (momentum !== 0) {
      v[i] = first ? gi : momentum * v[i] + (1 - dampening) * gi;
      d = o.nesterov ? gi + momentum * v[i] : v[i];
    }
    w[i] = w[i] - lr * d;
  }
}

export function adamStep(
  w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, o: AdamOptions, t: number,
): void {
  const n = w.length;
  const lr = f(o.lr), b1 = f(o.beta1), b2 = f(o.beta2), eps = f(o.eps), wd = f(o.weightDecay);
  const bc1 = 1 - Math.pow(b1, t);
  const bc2 = 1 - Math.pow(b2, t);
  for (let i = 0; i < n; i++) {
    let gi = g[i];
    if (o.adamw) w[i] = w[i] - lr * wd * w[i];
    else gi += wd * w[i];
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    const mhat = m[i] / bc1;
    const vhat = v[i] / bc2;
    w[i] = w[i] - (lr * mhat) / (Math.sqrt(vhat) + eps);
  }
}
