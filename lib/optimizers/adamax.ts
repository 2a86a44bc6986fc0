/** Adamax (PyTorch semantics); each step is one fused pass per parameter. */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, betasCheck, rate, type HyperSpec, type ParamGroup, type ParamGroupInput, type SlotState } from './optimizer.js';

export interface AdamaxConfig {
  /** Learning rate, a finite number >= 0. Default 2e-3. */
  lr?: number;
  /** Decay rates of the first moment and of the infinity norm, each in [0, 1). Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Added to |g| in the infinity norm, > 0. Default 1e-8. */
  eps?: number;
  /** L2 penalty >= 0 added to the gradient. Default 0. */
  weightDecay?: number;
}

const SPEC: HyperSpec = {
  lr: { dflt: 2e-3, check: rate(0) },
  betas: { dflt: [0.9, 0.999], check: betasCheck },
  eps: { dflt: 1e-8, check: rate(0, Infinity, false, true) },
  weightDecay: { dflt: 0, check: rate(0) },
};

/**
 * Adamax (torch.optim.Adamax; Kingma & Ba, 2015, section 7). Per parameter, step t:
 * g' = g + weightDecay·w; m = b1·m + (1 - b1)·g'; u = max(b2·u, |g'| + eps);
 * w -= lr / (1 - b1^t) · m / u.
 *
 * Hyper-parameters live in each group (`betas` as a pair); the setters read
 * group 0 and write every group. State per parameter: `step`, `expAvg`, `expInf`.
 */
export class Adamax extends Optimizer {
  protected readonly stateKeys = ['expAvg', 'expInf'] as const;
  protected readonly countsSteps = true;

  /** @throws on an unknown or mistyped config entry, group or value out of range. */
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, cfg?: AdamaxConfig) {
    super(params, 'Adamax', SPEC, cfg);
  }

  get betas(): [number, number] { return [...this.hyper<[number, number]>('betas')]; }
  set betas(v: [number, number]) { this.setHyper('betas', v); }
  get eps(): number { return this.hyper('eps'); }
  set eps(v: number) { this.setHyper('eps', v); }
  get weightDecay(): number { return this.hyper('weightDecay'); }
  set weightDecay(v: number) { this.setHyper('weightDecay', v); }

  protected update(p: Tensor, g: Float32Array, group: ParamGroup, s: SlotState): void {
    const [beta1, beta2] = group.betas as [number, number];
    this.fusedStep('adamax', p, g, s, this.stateKeys, {
      lr: group.lr, beta1, beta2, eps: group.eps as number, weightDecay: group.weightDecay as number,
    });
  }
}
