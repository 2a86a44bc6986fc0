/**
 * What every loss shares: argument checks that name the loss, the
 * `reduction` option, and the ±1 label rule of the margin losses.
 */
import { Tensor } from '../tensor/tensor.js';
import { mean, sum } from '../ops/index.js';
import { describe } from '../ops/record.js';
import { checkOptions } from '../ops/options.js';
import { describeValue, fmt, sameShape } from '../tensor/shape.js';

/**
 * How a loss turns its per-sample (or per-element) values into its result,
 * as PyTorch's `reduction`: 'mean' (the default) averages them, 'sum' adds
 * them, 'none' returns them unreduced (each loss documents that shape).
 */
export type Reduction = 'mean' | 'sum' | 'none';
export const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

/** Options every loss takes. */
export interface LossOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
}

export function checkPred(op: string, name: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`fathom.${op}: ${name} must be a Tensor, got ${describe(x)}`);
  if (x.dtype !== 'float32') throw new Error(`fathom.${op}: ${name} must be float32, got ${x.dtype} ${fmt(x.shape)}`);
  return x;
}

export function checkTarget(op: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`fathom.${op}: target must be a Tensor, got ${describe(x)}`);
  return x;
}

/** A hint when two shapes hold the same number of values ([n] against [n, 1]). */
export function reshapeHint(want: readonly number[], got: Tensor): string {
  let size = 1;
  for (const d of want) size *= d;
  return size === got.size ? ` (same number of values: reshape the target to ${fmt(want)})` : '';
}

/** A float32 target of the prediction's shape; `what` names the prediction ("the predictions'"). */
export function checkFloatTarget(op: string, pred: Tensor, target: unknown, what: string): Tensor {
  const t = checkTarget(op, target);
  if (t.dtype !== 'float32') throw new Error(`fathom.${op}: target must be float32, got ${t.dtype} ${fmt(t.shape)}`);
  if (!sameShape(pred.shape, t.shape)) {
    throw new Error(`fathom.${op}: target must have ${what} shape ${fmt(pred.shape)}, got ${fmt(t.shape)}${reshapeHint(pred.shape, t)}`);
  }
  return t;
}

/**
 * Checks a loss's options object (unknown keys refused) and its reduction.
 * `extra` lists the loss's own option names; `reductions` the reductions it accepts.
 */
export function lossOptions<T extends object, R extends string = Reduction>(
  op: string, opts: T | undefined, extra: readonly string[] = [], reductions: readonly R[] = REDUCTIONS as readonly R[],
): Partial<T> & { reduction: R } {
  const o = checkOptions(op, opts, ['reduction', ...extra]) as Partial<T> & { reduction?: unknown };
  const r = o.reduction ?? reductions[0];
  if (typeof r !== 'string' || !reductions.includes(r as R)) {
    const list = reductions.map((s) => `'${s}'`);
    throw new Error(`fathom.${op}: reduction must be ${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}, got ${describeValue(r)}`);
  }
  return { ...o, reduction: r as R };
}

/** Reduces per-sample losses: mean (NaN over nothing, as PyTorch), sum (0 over nothing) or none. */
export function reduce(per: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return per;
  return reduction === 'sum' ? sum(per) : mean(per);
}

/**
 * The ±1 labels of a margin loss (hinge, squaredHinge, perceptron) as a
 * float32 constant. Targets must be all in {-1, 1}, or all in {0, 1}: the
 * latter are converted to -1/1 (t ↦ 2t − 1), as Keras's hinge does.
 * @throws for int32 targets, or a value that is neither (naming its flat index).
 */
export function signLabels(op: string, target: Tensor): Tensor {
  if (target.dtype !== 'float32') {
    throw new Error(`fathom.${op}: target must be float32 labels -1/1 (or 0/1), got ${target.dtype} ${fmt(target.shape)}`);
  }
  const t = target.data as Float32Array;
  let binary = true;
  let signed = true;
  for (let i = 0; i < t.length; i++) {
    const v = t[i];
    if (v !== 0 && v !== 1) binary = false;
    if (v !== -1 && v !== 1) signed = false;
    if (!binary && !signed) {
      throw new Error(`fathom.${op}: target labels must be all -1/1 or all 0/1, got ${v} at flat index ${i}`);
    }
  }
  if (signed) return target.detach();
  const out = new Float32Array(t.length);
  for (let i = 0; i < t.length; i++) out[i] = 2 * t[i] - 1;
  return new Tensor(out, target.shape);
}
