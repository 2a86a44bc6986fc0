/**
 * Batch and layer normalisation, PyTorch's F.batch_norm and F.layer_norm
 * (Ioffe & Szegedy, 2015; Ba, Kiros & Hinton, 2016).
 */
import { kernels as backend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue, fmt, sameShape } from '../tensor/shape.js';
import { checkFloat, empty, record } from './record.js';
import { checkOptions, optBool } from './options.js';

export interface BatchNormOptions {
  /** Normalise with the batch's statistics and update the running ones (default false: use the running ones). */
  training?: boolean;
  /** Weight of the new batch statistics in the running averages (default 0.1, as PyTorch). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

export interface LayerNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

function epsOf(op: string, v: unknown): number {
  if (v === undefined) return 1e-5;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || Math.fround(v) === 0) {
    throw new Error(`fathom.${op}: eps must be a positive finite number (at least float32's smallest, ~1.4e-45), got ${describeValue(v)}`);
  }
  return v;
}

/** An optional per-channel (per-feature) tensor: null/undefined, or float32 of `shape`. */
function optional(op: string, name: string, v: unknown, shape: readonly number[], what: string): Tensor | null {
  if (v === undefined || v === null) return null;
  const t = checkFloat(op, name, v);
  if (!sameShape(t.shape, shape)) throw new Error(`fathom.${op}: ${name} must have shape ${fmt(shape)} (${what}), got ${fmt(t.shape)}`);
  return t;
}

/**
 * batchNorm(x, runningMean, runningVar, weight?, bias?, { training, momentum, eps }):
 * x [N, C] or [N, C, *] normalised per channel C,
 * y = (x - mean[c]) / sqrt(var[c] + eps) · weight[c] + bias[c].
 * - training: mean and var are the batch's own (over N and the spatial dims;
 *   the biased variance), and runningMean / runningVar (when given) are updated
 *   in place: r = (1 - momentum)·r + momentum·stat, with the UNBIASED batch
 *   variance (× m/(m-1), m = N·∏spatial), as PyTorch; the gradient flows
 *   through the batch statistics.
 * - eval (default): mean and var are runningMean / runningVar, constants.
 * Gradients for x, weight and bias. runningMean and runningVar are float32 [C]
 * (null allowed in training only); weight and bias float32 [C] or omitted/null.
 * @throws when x is not float32 of rank >= 2, a per-channel tensor has another
 *   shape than [C], the running statistics are missing in eval, eps <= 0, or in
 *   training a channel has a single value (N·∏spatial = 1, as PyTorch: "expected
 *   more than 1 value per channel when training"), or none.
 */
export function batchNorm(
  x: Tensor, runningMean: Tensor | null | undefined, runningVar: Tensor | null | undefined,
  weight?: Tensor | null, bias?: Tensor | null, options?: BatchNormOptions,
): Tensor {
  const op = 'batchNorm';
  checkFloat(op, 'x', x);
  if (x.rank < 2) throw new Error(`fathom.batchNorm: x must be [N, C] or [N, C, *], got ${x.rank === 0 ? 'a scalar' : 'shape'} ${fmt(x.shape)}`);
  const o = checkOptions(op, options, ['training', 'momentum', 'eps']);
  const training = optBool(op, 'training', o.training, false);
  const eps = epsOf(op, o.eps);
  let momentum = 0.1;
  if (o.momentum !== undefined) {
    if (typeof o.momentum !== 'number' || !Number.isFinite(o.momentum)) throw new Error(`fathom.batchNorm: momentum must be a finite number, got ${describeValue(o.momentum)}`);
    momentum = o.momentum;
  }
  const n = x.shape[0], c = x.shape[1];
  const s = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const chan = [c];
  const what = `C = ${c}, the channels of x ${fmt(x.shape)}`;
  const rm = optional(op, 'runningMean', runningMean, chan, what);
  const rv = optional(op, 'runningVar', runningVar, chan, what);
  const w = optional(op, 'weight', weight, chan, what);
  const b = optional(op, 'bias', bias, chan, what);
  if ((rm === null) !== (rv === null)) throw new Error(`fathom.batchNorm: runningMean and runningVar must both be given or both be null, got ${rm ? 'only runningMean' : 'only runningVar'}`);
  const m = n * s;
  let mean: Float32Array, variance: Float32Array;
  if (training) {
    if (m <= 1) throw new Error(`fathom.batchNorm: expected more than 1 value per channel when training, got input ${fmt(x.shape)} (${m} value${m === 1 ? '' : 's'} per channel)`);
    mean = new Float32Array(c);
    variance = new Float32Array(c);
    backend().batchNormStats(n, c, s, x.f32(), mean, variance);
  } else {
    if (!rm || !rv) throw new Error('fathom.batchNorm: runningMean and runningVar are needed in eval mode (training: false)');
    // Copies: the gradient uses the statistics of this forward even if the buffers change later.
    mean = rm.f32().slice();
    variance = rv.f32().slice();
  }
  const y = empty(x.shape, op);
  backend().batchNormForward(n, c, s, x.f32(), mean, variance, eps, w ? w.f32() : null, b ? b.f32() : null, y.f32());
  if (training && rm && rv) {
    const a = rm.f32(), v = rv.f32(), unbias = m / (m - 1), keep = 1 - momentum;
    for (let i = 0; i < c; i++) {
      a[i] = keep * a[i] + momentum * mean[i];
      v[i] = keep * v[i] + momentum * variance[i] * unbias;
    }
  }
  const inputs = [x];
  if (w) inputs.push(w);
  if (b) inputs.push(b);
  return record(y, op, inputs, { n, c, s, mean, variance, eps, training, hasWeight: w !== null, hasBias: b !== null });
}

/**
 * layerNorm(x, normalizedShape, weight?, bias?, { eps }): x [..., *normalizedShape]
 * normalised over its last normalizedShape.length dims,
 * y = (x - mean) / sqrt(var + eps) · weight + bias (biased variance; weight and
 * bias of shape normalizedShape, elementwise). Gradients for x, weight and bias.
 * @throws when normalizedShape (a positive integer or a list of them) does not
 *   match the last dims of x, weight or bias has another shape, or eps <= 0.
 */
export function layerNorm(
  x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, bias?: Tensor | null, options?: LayerNormOptions,
): Tensor {
  const op = 'layerNorm';
  checkFloat(op, 'x', x);
  const shape = normalizedShapeOf(op, normalizedShape);
  const o = checkOptions(op, options, ['eps']);
  const eps = epsOf(op, o.eps);
  const k = shape.length;
  if (x.rank < k || !sameShape(x.shape.slice(x.rank - k), shape)) {
    throw new Error(`fathom.layerNorm: x ${fmt(x.shape)} must end with normalizedShape ${fmt(shape)}`);
  }
  const what = 'normalizedShape';
  const w = optional(op, 'weight', weight, shape, what);
  const b = optional(op, 'bias', bias, shape, what);
  const d = shape.reduce((a, v) => a * v, 1);
  const r = x.size / d;
  const y = empty(x.shape, op);
  const mean = new Float32Array(r), rstd = new Float32Array(r);
  backend().layerNormForward(r, d, x.f32(), w ? w.f32() : null, b ? b.f32() : null, eps, y.f32(), mean, rstd);
  const inputs = [x];
  if (w) inputs.push(w);
  if (b) inputs.push(b);
  return record(y, op, inputs, { r, d, mean, rstd, hasWeight: w !== null, hasBias: b !== null });
}

/** A normalizedShape: a positive integer or a non-empty list of them. */
export function normalizedShapeOf(op: string, v: unknown): number[] {
  const list = typeof v === 'number' ? [v] : Array.isArray(v) ? [...v] : null;
  if (!list || list.length === 0 || list.some((e) => typeof e !== 'number' || !Number.isSafeInteger(e) || e < 1)) {
    throw new Error(`fathom.${op}: normalizedShape must be a positive integer or a non-empty list of them, got ${describeValue(v)}`);
  }
  return list as number[];
}
