/** The optimizer base: parameter list, zeroGrad, step, and hyper-parameter checks. */
import { Tensor, checkStorage } from '../tensor/tensor.js';
import { describeValue } from '../tensor/shape.js';
import { checkOptions, optBool } from '../ops/options.js';

export abstract class Optimizer {
  readonly params: Tensor[];
  /** Number of step() calls so far. */
  steps = 0;

  /**
   * @throws when params is not an iterable of float32 Tensors, is empty
   *   (nothing to optimize, as PyTorch's "optimizer got an empty parameter
   *   list"), or lists a tensor twice (it would be updated twice per step).
   */
  constructor(params: Iterable<Tensor>, readonly name: string) {
    if (params === null || typeof params !== 'object' || typeof (params as Iterable<Tensor>)[Symbol.iterator] !== 'function') {
      throw new Error(`fathom.${name}: params must be an iterable of Tensors (e.g. model.parameters()), got ${describeValue(params)}`);
    }
    this.params = [...params];
    if (this.params.length === 0) {
      throw new Error(`fathom.${name}: got an empty parameter list, nothing to optimize (does the model register its layers and parameters?)`);
    }
    const seen = new Map<Tensor, number>();
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new Error(`fathom.${name}: parameter ${i} must be a Tensor, got ${describeValue(p)}`);
      if (p.dtype !== 'float32') throw new Error(`fathom.${name}: parameter ${i} must be float32, got ${p.dtype}`);
      // As PyTorch: "can't optimize a non-leaf Tensor" (its gradient is never kept, so step() would do nothing).
      if (p.node !== null) throw new Error(`fathom.${name}: parameter ${i} is the result of an op ('${p.node.op}'), not a leaf tensor; optimize the tensors it was computed from`);
      const first = seen.get(p);
      if (first !== undefined) throw new Error(`fathom.${name}: parameter ${i} is the same tensor as parameter ${first}; list each parameter once`);
      seen.set(p, i);
    });
  }

  /**
   * Clears every parameter's gradient. By default the gradient buffers are
   * kept (they read as zeros), so the next backward() writes into them without
   * allocating or zero-filling; `setToNone` drops them instead (PyTorch's set_to_none).
   */
  zeroGrad(setToNone = false): void {
    optBool(`${this.name}.zeroGrad`, 'setToNone', setToNone, false);
    for (const p of this.params) {
      if (setToNone) p.grad = null;
      else p.zeroGradLazily();
    }
  }

  /**
   * Applies one update to every parameter that has a gradient.
   * @throws when a hyper-parameter combination is invalid, or a parameter or
   *   its gradient has lost its storage (transferred ArrayBuffer); nothing is
   *   updated then.
   */
  step(): void {
    this.checkHyperParameters();
    const todo: Tensor[] = [];
    this.params.forEach((p, i) => {
      // No gradient, or none since zeroGrad(): skipped, as PyTorch skips a None grad
      // (so momentum and weight decay do not move parameters a step did not use).
      if (!p.requiresGrad || p.gradIsZero || !p.grad) return;
      checkStorage(`${this.name}.step`, `parameter ${i}`, p);
      checkStorage(`${this.name}.step`, `the gradient of parameter ${i}`, p.grad);
      todo.push(p);
    });
    this.steps++;
    for (const p of todo) this.update(p, p.grad!.data as Float32Array);
  }

  /** The learning rate: a finite number >= 0; may be changed between steps (checked on assignment). */
  abstract get lr(): number;
  abstract set lr(v: number);
  /** Checks what single setters cannot (combinations); called by step(). */
  protected checkHyperParameters(): void {}
  protected abstract update(p: Tensor, g: Float32Array): void;
}

/**
 * A hyper-parameter: a finite number in [lo, hi] (or [lo, hi) with hiOpen)
 * that float32 can hold, since the kernels compute in float32 (a larger
 * value would become ±Infinity and write ±Infinity into the weights).
 */
export function checkRate(op: string, name: string, v: unknown, lo: number, hi = Infinity, hiOpen = false, loOpen = false): number {
  // The kernels compute in float32: the bounds hold for the value as float32 rounds it
  // (beta2 = 0.99999999 is 1 in float32, and would divide by zero in the bias correction).
  const f = typeof v === 'number' ? Math.fround(v) : NaN;
  if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isFinite(f) || (loOpen ? f <= lo : f < lo) || (hiOpen ? f >= hi : f > hi)) {
    const range = hi === Infinity
      ? `${loOpen ? '>' : '>='} ${lo} (at most 3.4e38, float32's limit)`
      : `in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}`;
    const rounded = typeof v === 'number' && Number.isFinite(v) && f !== v ? ` (${f} as float32)` : '';
    throw new Error(`fathom.${op}: ${name} must be a finite number ${range}, got ${describeValue(v)}${rounded}`);
  }
  return v;
}

/** Checks an optimizer's config object (undefined means defaults; unknown keys are refused). */
export function checkConfig<T extends object>(op: string, cfg: T | undefined, known: readonly string[]): Partial<T> {
  return checkOptions(op, cfg, known, 'config');
}
