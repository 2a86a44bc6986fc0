/**
 * Activity penalties: terms added to a training loss that depend on a layer's
 * activations rather than on its weights (sparse autoencoders). Both return a
 * scalar Tensor on the tape, so they also serve a hand-written loop:
 * `loss = add(mse(decoder(h), x), klSparsity(h, { rho: 0.05, beta: 3 }))`.
 * The layers nn.KLSparsity and nn.ActivityRegularization compute them in
 * their forward pass and hand them to fit() as regularisation losses.
 *
 *   klSparsity       Ng, CS294A Lecture notes "Sparse autoencoder" (2011), §2.3:
 *                    ρ̂_j = (1/N) Σ_n a_j(x_n), penalty β·Σ_j KL(ρ ‖ ρ̂_j)
 *   activityL1L2     Keras's activity regularizer L1L2 as a layer applies it:
 *                    (l1·Σ|a| + l2·Σa²) / N, N the batch size
 */
import { Tensor } from '../tensor/tensor.js';
import { abs, add, clamp, div, log, mean, mul, square, sub, sum } from '../ops/index.js';
import { describe } from '../ops/record.js';
import { fmt } from '../tensor/shape.js';
import { checkOptions } from '../ops/options.js';

export interface KLSparsityOptions {
  /** The target mean activation ρ of each hidden unit, in (0, 1). Default 0.05 (Ng's example value). */
  rho?: number;
  /** The weight β of the penalty, ≥ 0. Default 3 (Ng's example value). */
  beta?: number;
  /**
   * ρ̂ is clamped into [eps, 1 − eps] before the logarithms, so a unit that is
   * never (or always) active gives a large but finite penalty instead of
   * ±Infinity or NaN. In (0, 0.5). Default 1e-6: float32 resolves 1 − 1e-6 to
   * about 1 %, where 1 − 1e-7 would be two ulps from 1. Outside the clamp
   * range the gradient is 0 (clamp's rule).
   */
  eps?: number;
}

export interface ActivityL1L2Options {
  /** Weight of Σ|a|, ≥ 0. Default 0 (Keras). */
  l1?: number;
  /** Weight of Σa², ≥ 0. Default 0 (Keras). */
  l2?: number;
}

/** A finite number in [lo, hi] (or (lo, hi) when open), else a named Error. */
export function checkReal(op: string, name: string, v: unknown, lo: number, hi: number, open = false): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (open ? v > lo && v < hi : v >= lo && v <= hi);
  if (!ok) {
    const range = open ? `in (${lo}, ${hi})` : hi === Infinity ? `>= ${lo}` : `in [${lo}, ${hi}]`;
    throw new Error(`fathom.${op}: ${name} must be a finite number ${range}, got ${typeof v === 'number' ? String(v) : describe(v)}`);
  }
  return v as number;
}

/**
 * The largest weight (beta, l1, l2): float32's largest finite value. A larger
 * one rounds to Infinity in float32, and 0·Infinity would make the penalty of
 * a unit at its target (or of zero activations) NaN.
 */
export const MAX_WEIGHT = 3.4028234663852886e38;

/** A weight in [0, MAX_WEIGHT], else a named Error. */
function checkWeight(op: string, name: string, v: unknown): number {
  const w = checkReal(op, name, v, 0, Infinity);
  if (w > MAX_WEIGHT) throw new Error(`fathom.${op}: ${name} must be at most 3.4e38 (float32's largest; a larger weight is Infinity in float32), got ${w}`);
  return w;
}

/** The checked settings of klSparsity (shared with nn.KLSparsity). */
export function klSparsitySettings(op: string, options: KLSparsityOptions | undefined): Required<KLSparsityOptions> {
  const o = checkOptions(op, options, ['rho', 'beta', 'eps']);
  return {
    rho: checkReal(op, 'rho', o.rho ?? 0.05, 0, 1, true),
    beta: checkWeight(op, 'beta', o.beta ?? 3),
    eps: checkReal(op, 'eps', o.eps ?? 1e-6, 0, 0.5, true),
  };
}

/** The checked settings of activityL1L2 (shared with nn.ActivityRegularization). */
export function activityL1L2Settings(op: string, options: ActivityL1L2Options | undefined): Required<ActivityL1L2Options> {
  const o = checkOptions(op, options, ['l1', 'l2']);
  return { l1: checkWeight(op, 'l1', o.l1 ?? 0), l2: checkWeight(op, 'l2', o.l2 ?? 0) };
}

function checkActivations(op: string, a: unknown, minRank: number): Tensor {
  if (!(a instanceof Tensor)) throw new Error(`fathom.${op}: expected a Tensor of activations, got ${describe(a)}`);
  if (a.dtype !== 'float32') throw new Error(`fathom.${op}: expected float32 activations, got ${a.dtype} ${fmt(a.shape)}`);
  if (a.rank < minRank) throw new Error(`fathom.${op}: activations need a batch dimension [N, ...], got shape ${fmt(a.shape)}`);
  return a;
}

/**
 * The KL-divergence sparsity penalty of a sparse autoencoder (Ng, CS294A
 * notes "Sparse autoencoder", §2.3): with ρ̂_j the mean over the batch of
 * unit j's activation,
 *   β · Σ_j [ρ log(ρ/ρ̂_j) + (1 − ρ) log((1 − ρ)/(1 − ρ̂_j))],
 * ρ̂_j clamped into [eps, 1 − eps]. Its gradient with respect to a_j(x_n) is
 * β/N · (−ρ/ρ̂_j + (1 − ρ)/(1 − ρ̂_j)), the notes' extra backprop term.
 *
 * `a` is [N, ...]: N samples of activations in [0, 1] (a sigmoid layer's
 * output); every position of a sample is one unit j ([N, D]: D units, as in
 * the notes; [N, C, H, W]: C·H·W units). An empty batch (N = 0) gives 0 (on the tape: a zero gradient).
 * Activations outside [0, 1] are not refused, but ρ̂ then leaves the range
 * the divergence is defined on and is clamped.
 * @returns a scalar Tensor (recorded on the tape).
 * @throws for a non-Tensor, non-float32 or rank-0 `a`, rho outside (0, 1),
 *   beta < 0 or above 3.4e38 (float32's largest), eps outside (0, 0.5), an unknown option.
 */
export function klSparsity(a: Tensor, options?: KLSparsityOptions): Tensor {
  const op = 'klSparsity';
  const { rho, beta, eps } = klSparsitySettings(op, options);
  return klSparsityChecked(checkActivations(op, a, 1), rho, beta, eps);
}

/** @internal klSparsity on checked arguments. */
export function klSparsityChecked(a: Tensor, rho: number, beta: number, eps: number): Tensor {
  // An empty batch: 0, on the tape (a zero gradient of a's shape, as PyTorch's sum of nothing).
  if (a.shape[0] === 0) return mul(sum(a), 0);
  const rhoHat = clamp(mean(a, 0), eps, 1 - eps);
  // ρ·log(ρ/ρ̂) rather than ρ·log ρ − ρ·log ρ̂: exactly 0 where ρ̂ = ρ (no cancellation).
  const kl = add(mul(log(div(rho, rhoHat)), rho), mul(log(div(1 - rho, sub(1, rhoHat))), 1 - rho));
  return mul(sum(kl), beta);
}

/**
 * Keras's L1L2 activity regulariser as a layer applies it (keras.layers.
 * ActivityRegularization; tf.keras's base_layer and Keras 3 since
 * keras-team/keras#22021 divide by the batch size "to make the strength
 * batch-agnostic"):
 *   (l1·Σ|a| + l2·Σa²) / N,   a [N, ...] (a rank-0 `a` is not divided).
 * @returns a scalar Tensor (recorded on the tape); 0 for an empty batch (on
 *   the tape: its gradient is zeros of a's shape); a constant 0 for l1 = l2 = 0.
 * @throws for a non-Tensor or non-float32 `a`, l1 or l2 negative, not
 *   finite or above 3.4e38 (float32's largest; a larger weight is Infinity in
 *   float32), an unknown option.
 */
export function activityL1L2(a: Tensor, options?: ActivityL1L2Options): Tensor {
  const op = 'activityL1L2';
  const { l1, l2 } = activityL1L2Settings(op, options);
  return activityL1L2Checked(checkActivations(op, a, 0), l1, l2);
}

/** @internal activityL1L2 on checked arguments. */
export function activityL1L2Checked(a: Tensor, l1: number, l2: number): Tensor {
  const n = a.rank > 0 ? a.shape[0] : 1;
  // An empty batch: 0, on the tape (a zero gradient of a's shape, as PyTorch's sum of nothing).
  if (n === 0) return mul(sum(a), 0);
  if (l1 === 0 && l2 === 0) return new Tensor(new Float32Array(1), []);
  let total: Tensor | null = null;
  if (l1 !== 0) total = mul(sum(abs(a)), l1 / n);
  if (l2 !== 0) {
    const t = mul(sum(square(a)), l2 / n);
    total = total ? add(total, t) : t;
  }
  return total!;
}
