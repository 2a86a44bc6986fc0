/**
 * `nn.utils`: gradient clipping, as PyTorch's torch.nn.utils.clip_grad_norm_
 * and clip_grad_value_. Both work in place on the parameters' `.grad` and use
 * the existing backend kernels (no kernel of their own):
 * - the 2-norm of a gradient is one dot product (gemm 1×k · k×1: one pass);
 *   other norms are |g| then a reduction (two passes);
 * - scaling is one broadcast multiply per gradient, in place (one pass), and
 *   is skipped when the factor is 1;
 * - clipping by value is a broadcast minimum then maximum (two passes).
 * Parameters without a gradient (none yet, or none since zeroGrad()) are
 * skipped, as PyTorch skips `p.grad is None`.
 */
import { Tensor, checkStorage } from '../tensor/tensor.js';
import { kernels } from '../backend/index.js';
import { describe } from '../ops/record.js';
import { checkOptions, show } from './options.js';

export type NormType = number | 'inf';

export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or ±Infinity instead of scaling by it (default false, as PyTorch's error_if_nonfinite). */
  errorIfNonfinite?: boolean;
}

/** The gradient buffers to clip: one Tensor or an iterable of them; parameters without a live gradient, and frozen ones (requiresGrad false, which step() skips), are left out. */
function gradsOf(op: string, params: Tensor | Iterable<Tensor>): Float32Array[] {
  const list = params instanceof Tensor ? [params] : params;
  if (list === null || typeof list !== 'object' || typeof (list as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
    throw new Error(`fathom.nn.utils.${op}: params must be a Tensor or an iterable of Tensors (e.g. model.parameters()), got ${describe(params)}`);
  }
  const out: Float32Array[] = [];
  let i = 0;
  for (const p of list) {
    if (!(p instanceof Tensor)) throw new Error(`fathom.nn.utils.${op}: params[${i}] must be a Tensor, got ${describe(p)}`);
    const g = p.gradBuffer();
    if (g !== null && p.requiresGrad && !p.gradIsZero && g.size > 0) {
      checkStorage(`nn.utils.${op}`, `the gradient of params[${i}]`, g);
      out.push(g.data as Float32Array);
    }
    i++;
  }
  return out;
}

/**
 * Scales the gradients of `params` in place so that their total norm (the
 * norm of the vector of all gradient elements) is at most `maxNorm`:
 * g ← g · min(1, maxNorm / (total + 1e-6)) (PyTorch's clip_grad_norm_).
 * @param params a Tensor or an iterable of Tensors (e.g. model.parameters()).
 * @param maxNorm finite number >= 0.
 * @param normType p > 0 of the p-norm (default 2), or 'inf' / Infinity (the largest |g|).
 * @returns the total norm of the gradients before clipping (0 when no parameter has a gradient).
 * @throws for bad arguments (named), and with errorIfNonfinite for a NaN/Inf total norm.
 */
export function clipGradNorm(params: Tensor | Iterable<Tensor>, maxNorm: number, normType: NormType = 2, options?: ClipGradNormOptions): number {
  if (typeof maxNorm !== 'number' || !Number.isFinite(maxNorm) || maxNorm < 0) {
    throw new Error(`fathom.nn.utils.clipGradNorm: maxNorm must be a finite number >= 0, got ${show(maxNorm)}`);
  }
  const p = normType === 'inf' ? Infinity : normType;
  if (typeof p !== 'number' || Number.isNaN(p) || p <= 0) {
    throw new Error(`fathom.nn.utils.clipGradNorm: normType must be a number > 0 or 'inf', got ${show(normType)}`);
  }
  const opts = checkOptions('nn.utils.clipGradNorm', options, { errorIfNonfinite: 'boolean' });
  const grads = gradsOf('clipGradNorm', params);
  if (grads.length === 0) return 0;
  const total = totalNorm(grads, p);
  if (!Number.isFinite(total) && opts.errorIfNonfinite) {
    throw new Error(`fathom.nn.utils.clipGradNorm: the total ${p === Infinity ? 'inf' : p}-norm of the gradients is ${total}; pass errorIfNonfinite: false to scale anyway`);
  }
  const coef = Math.min(1, maxNorm / (total + 1e-6));
  // PyTorch multiplies by the clamped factor unconditionally; a factor of 1 changes nothing, so it is skipped.
  // (A NaN total makes coef NaN and the gradients NaN, exactly as in PyTorch.)
  if (!(coef >= 1)) {
    const k = kernels();
    const s = new Float32Array([coef]);
    for (const g of grads) k.binaryBroadcast('mul', [g.length], g, [1], s, [0], g);
  }
  return total;
}

/**
 * The p-norm of the concatenation of `grads` (float64 accumulation across
 * tensors, as PyTorch's norm of norms). A tensor's own sum is a float32
 * kernel pass; where it overflows although every element is finite (|g| ~
 * 1e20), it is redone on g / max|g| and scaled back in float64.
 */
function totalNorm(grads: Float32Array[], p: number): number {
  const k = kernels();
  const one = new Float32Array(1);
  const maxAbs = (g: Float32Array): number => {
    const a = new Float32Array(g.length);
    k.unary('abs', g, a, 0, 0);
    k.reduce('max', [a.length], a, [0], one);
    return one[0];
  };
  // Σ |g|^p of one tensor, in float32 by the kernels.
  const sumPow = (g: Float32Array): number => {
    if (p === 2) {
      k.gemm(false, true, 1, 1, g.length, 1, g, g, 0, one); // g·g as a 1×k by k×1 product: one pass
      return one[0];
    }
    const a = new Float32Array(g.length);
    k.unary('abs', g, a, 0, 0);
    if (p !== 1) k.unary('pow', a, a, p, 0);
    k.reduce('sum', [a.length], a, [0], one);
    return one[0];
  };
  if (p === Infinity) {
    let acc = 0;
    for (const g of grads) if (g.length > 0) acc = Math.max(acc, maxAbs(g)); // a NaN stays NaN
    return acc;
  }
  let acc = 0;
  for (const g of grads) {
    if (g.length === 0) continue;
    let s = sumPow(g);
    if (s === Infinity) {
      const m = maxAbs(g);
      if (Number.isFinite(m) && m > 0) {
        const scaled = new Float32Array(g.length);
        k.binaryBroadcast('mul', [g.length], g, [1], new Float32Array([1 / m]), [0], scaled);
        s = sumPow(scaled) * m ** p;
      }
    }
    acc += s;
  }
  return p === 1 ? acc : acc ** (1 / p);
}

/**
 * Clamps every gradient element of `params` into [-clipValue, clipValue], in
 * place (PyTorch's clip_grad_value_).
 * @param clipValue finite number >= 0.
 * @throws for bad arguments (named).
 */
export function clipGradValue(params: Tensor | Iterable<Tensor>, clipValue: number): void {
  if (typeof clipValue !== 'number' || !Number.isFinite(clipValue) || clipValue < 0) {
    throw new Error(`fathom.nn.utils.clipGradValue: clipValue must be a finite number >= 0, got ${show(clipValue)}`);
  }
  const grads = gradsOf('clipGradValue', params);
  const k = kernels();
  const hi = new Float32Array([clipValue]);
  const lo = new Float32Array([-clipValue]);
  for (const g of grads) {
    k.binaryBroadcast('min', [g.length], g, [1], hi, [0], g);
    k.binaryBroadcast('max', [g.length], g, [1], lo, [0], g);
  }
}
