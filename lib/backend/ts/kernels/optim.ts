/**
 * Optimizer steps, one pass over a parameter (the TS mirror of
 * native/kernels/ref/optim.cc). PyTorch semantics.
 *
 *   sgdStep   w, g, v: (n)     g' = g + wd·w
 *                              momentum ≠ 0:  v = first ? g' : momentum·v + (1 - dampening)·g'
 *                                             d = nesterov ? g' + momentum·v : v
 *                              momentum = 0:  d = g'   (v is not touched; it still has w.length values, as the native binding requires)
 *                              w -= lr·d
 *   optimStep w, g, s[i]: (n)  one kind of Optim (backend.ts) per call; the
 *                              formulas of each kind are in native/kernels/kernels.h
 *                              (Adam with amsgrad and AdamW, Adagrad, RMSprop,
 *                              Adadelta, Adamax), written out again below.
 *   (no backward: these consume gradients.)
 *
 * The hyper-parameters are float32 in the native contract, so they are rounded
 * to float32 first; the arithmetic is float64 and w, m, v are stored as
 * float32 (the updated m and v are read back rounded, as the state a native
 * float kernel would hold). The bias corrections 1 - b^t are float64. Each kernel follows
 * its native/kernels/ref/optim.cc twin line by line (same order of operations,
 * same points where a value is stored as float32).
 */
import type { OptimKind, OptimOptions, SgdOptions } from '../../backend.js';

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

/** max() that propagates NaN (torch.maximum). */
const nanMax = (a: number, b: number): number => (a > b || a !== a ? a : b);

type Kernel = (w: Float32Array, g: Float32Array, s: ReadonlyArray<Float32Array | null>, o: OptimOptions) => void;

/**
 * Adam, s = [m, v, vmax]: decoupled (AdamW) w -= lr·wd·w first and g' = g, else g' = g + wd·w;
 * m = b1·m + (1 - b1)·g'; v = b2·v + (1 - b2)·g'²; u = amsgrad ? (vmax = max(vmax, v)) : v;
 * w -= lr·(m / (1 - b1^t)) / (sqrt(u / (1 - b2^t)) + eps).
 */
const adam: Kernel = (w, g, s, o) => {
  const m = s[0]!, v = s[1]!, vmax = s[2];
  const lr = f(o.lr), b1 = f(o.beta1!), b2 = f(o.beta2!), eps = f(o.eps), wd = f(o.weightDecay);
  const bc1 = 1 - Math.pow(b1, o.step), bc2 = 1 - Math.pow(b2, o.step);
  for (let i = 0; i < w.length; i++) {
    let wi = w[i], gi = g[i];
    if (o.decoupled) wi = wi - lr * wd * wi;
    else gi = gi + wd * wi;
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    let ui = v[i];
    if (o.amsgrad) ui = vmax![i] = nanMax(vmax![i], ui);
    w[i] = wi - lr * (m[i] / bc1) / (Math.sqrt(ui / bc2) + eps);
  }
};

/** Adagrad, s = [sum]: g' = g + wd·w; sum += g'²; w -= lr / (1 + (t - 1)·lrDecay) · g' / (sqrt(sum) + eps). */
const adagrad: Kernel = (w, g, s, o) => {
  const sum = s[0]!;
  const wd = f(o.weightDecay), eps = f(o.eps);
  const clr = f(o.lr) / (1 + (o.step - 1) * f(o.lrDecay!));
  for (let i = 0; i < w.length; i++) {
    const wi = w[i], gi = g[i] + wd * wi;
    sum[i] = sum[i] + gi * gi;
    w[i] = wi - clr * gi / (Math.sqrt(sum[i]) + eps);
  }
};

/**
 * RMSprop, s = [sq, buf, gavg]: g' = g + wd·w; sq = α·sq + (1 - α)·g'²;
 * centered: gavg = α·gavg + (1 - α)·g', d = sqrt(max(sq - gavg², 0)) + eps, else d = sqrt(sq) + eps;
 * momentum > 0: buf = momentum·buf + g'/d, w -= lr·buf; else w -= lr·g'/d.
 */
const rmsprop: Kernel = (w, g, s, o) => {
  const sq = s[0]!, buf = s[1], gavg = s[2];
  const a = f(o.alpha!), lr = f(o.lr), wd = f(o.weightDecay), eps = f(o.eps), mom = f(o.momentum!);
  for (let i = 0; i < w.length; i++) {
    const wi = w[i], gi = g[i] + wd * wi;
    sq[i] = a * sq[i] + (1 - a) * gi * gi;
    let avg = sq[i];
    if (o.centered) {
      gavg![i] = a * gavg![i] + (1 - a) * gi;
      avg = Math.max(sq[i] - gavg![i] * gavg![i], 0); // rounding can leave it a hair below 0
    }
    const d = Math.sqrt(avg) + eps;
    if (mom > 0) {
      buf![i] = mom * buf![i] + gi / d;
      w[i] = wi - lr * buf![i];
    } else {
      w[i] = wi - lr * gi / d;
    }
  }
};

/** Adadelta, s = [sq, acc]: g' = g + wd·w; sq = ρ·sq + (1 - ρ)·g'²; δ = sqrt(acc + eps) / sqrt(sq + eps)·g'; acc = ρ·acc + (1 - ρ)·δ²; w -= lr·δ. */
const adadelta: Kernel = (w, g, s, o) => {
  const sq = s[0]!, acc = s[1]!;
  const rho = f(o.rho!), lr = f(o.lr), wd = f(o.weightDecay), eps = f(o.eps);
  for (let i = 0; i < w.length; i++) {
    const wi = w[i], gi = g[i] + wd * wi;
    sq[i] = rho * sq[i] + (1 - rho) * gi * gi;
    const delta = Math.sqrt(acc[i] + eps) / Math.sqrt(sq[i] + eps) * gi;
    acc[i] = rho * acc[i] + (1 - rho) * delta * delta;
    w[i] = wi - lr * delta;
  }
};

/** Adamax, s = [m, u]: g' = g + wd·w; m = b1·m + (1 - b1)·g'; u = max(b2·u, |g'| + eps); w -= lr / (1 - b1^t) · m / u. */
const adamax: Kernel = (w, g, s, o) => {
  const m = s[0]!, u = s[1]!;
  const b1 = f(o.beta1!), b2 = f(o.beta2!), wd = f(o.weightDecay), eps = f(o.eps);
  const clr = f(o.lr) / (1 - Math.pow(b1, o.step));
  for (let i = 0; i < w.length; i++) {
    const wi = w[i], gi = g[i] + wd * wi;
    m[i] = b1 * m[i] + (1 - b1) * gi;
    u[i] = nanMax(f(b2 * u[i]), f(Math.abs(gi) + eps));
    w[i] = wi - clr * m[i] / u[i];
  }
};

const KERNELS: Record<OptimKind, Kernel> = { adam, adagrad, rmsprop, adadelta, adamax };

export function optimStep(kind: OptimKind, w: Float32Array, g: Float32Array, s: ReadonlyArray<Float32Array | null>, o: OptimOptions): void {
  KERNELS[kind](w, g, s, o);
}
