/** Optimizer base: holds parameters, clears and applies gradients. */
import { Tensor } from '../tensor/tensor.js';

export abstract class Optimizer {
  readonly params: Tensor[];
  /** Number of step() calls so far. */
  steps = 0;

  constructor(params: Iterable<Tensor>, readonly name: string) {
    this.params = [...params];
    this.params.forEach((p, i) => {
      if (!(p instanceof Tensor) || p.dtype !== 'float32') throw new Error(`fathom.${name}: parameter ${i} is not a float32 Tensor`);
    });
  }

  /**
   * Clears every parameter's gradient. By default the gradient buffers are
   * kept (they read as zeros), so the next backward() writes into them without
   * allocating or zero-filling; `setToNone` drops them instead (PyTorch's set_to_none).
   */
  zeroGrad(setToNone = false): void {
    for (const p of this.params) {
      if (setToNone) p.grad = null;
      else p.zeroGradLazily();
    }
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    this.steps++;
    for (const p of this.params) {
      // No gradient, or none since zeroGrad(): skipped, as PyTorch skips a None grad
      // (so momentum and weight decay do not move parameters a step did not use).
      if (!p.requiresGrad || p.gradIsZero || !p.grad) continue;
      this.update(p, p.grad.data as Float32Array);
    }
  }

  /** The learning rate (may be changed between steps). */
  abstract lr: number;
  protected abstract update(p: Tensor, g: Float32Array): void;
}

export function checkRate(op: string, name: string, v: number, lo: number, hi = Infinity, hiOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || (hiOpen ? v >= hi : v > hi)) {
    throw new Error(`fathom.${op}: ${name} must be a number in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${v}`);
  }
  return v;
}
