/** Adagrad (PyTorch semantics); each step is one fused pass per parameter. */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, rate, type HyperSpec, type ParamGroup, type ParamGroupInput, type SlotState } from './optimizer.js';

export interface AdagradConfig {
  /** Learning rate, a finite number >= 0. Default 0.01. */
  lr?: number;
  /** Learning-rate decay >= 0: step t uses lr / (1 + (t - 1)·lrDecay). Default 0. */
  lrDecay?: number;
  /** L2 penalty >= 0 added to the gradient. Default 0. */
  weightDecay?: number;
  /** Starting value >= 0 of the sum of squared gradients. Default 0. */
  initialAccumulatorValue?: number;
  /** Added to the denominator, > 0. Default 1e-10. */
  eps?: number;
}

const SPEC: HyperSpec = {
  lr: { dflt: 0.01, check: rate(0) },
  lrDecay: { dflt: 0, check: rate(0) },
  weightDecay: { dflt: 0, check: rate(0) },
  initialAccumulatorValue: { dflt: 0, check: rate(0) },
  eps: { dflt: 1e-10, check: rate(0, Infinity, false, true) },
};

/**
 * Adagrad (torch.optim.Adagrad; Duchi et al., 2011). Per parameter, step t:
 * g' = g + weightDecay·w; sum += g'²; w -= lr / (1 + (t - 1)·lrDecay) · g' / (sqrt(sum) + eps).
 *
 * Hyper-parameters live in each group; the setters read group 0 and write
 * every group. State per parameter: `step`, `sum` (starts at the group's
 * initialAccumulatorValue). eps must be > 0 (PyTorch allows 0, which makes
 * 0/0 = NaN for a parameter whose gradients are all 0 so far).
 */
export class Adagrad extends Optimizer {
  protected readonly stateKeys = ['sum'] as const;
  protected readonly countsSteps = true;

  /** @throws on an unknown or mistyped config entry, group or value out of range. */
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, cfg?: AdagradConfig) {
    super(params, 'Adagrad', SPEC, cfg);
  }

  get lrDecay(): number { return this.hyper('lrDecay'); }
  set lrDecay(v: number) { this.setHyper('lrDecay', v); }
  get weightDecay(): number { return this.hyper('weightDecay'); }
  set weightDecay(v: number) { this.setHyper('weightDecay', v); }
  get initialAccumulatorValue(): number { return this.hyper('initialAccumulatorValue'); }
  set initialAccumulatorValue(v: number) { this.setHyper('initialAccumulatorValue', v); }
  get eps(): number { return this.hyper('eps'); }
  set eps(v: number) { this.setHyper('eps', v); }

  protected update(p: Tensor, g: Float32Array, group: ParamGroup, s: SlotState): void {
    this.fusedStep('adagrad', p, g, s, this.stateKeys, {
      lr: group.lr, lrDecay: group.lrDecay as number, weightDecay: group.weightDecay as number, eps: group.eps as number,
    }, { sum: group.initialAccumulatorValue as number });
  }
}
