/** RMSprop (PyTorch semantics); each step is one fused pass per parameter. */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, flag, rate, type HyperSpec, type ParamGroup, type ParamGroupInput, type SlotState } from './optimizer.js';

export interface RmspropConfig {
  /** Learning rate, a finite number >= 0. Default 0.01. */
  lr?: number;
  /** Smoothing constant of the squared-gradient average, in [0, 1]. Default 0.99. */
  alpha?: number;
  /** Added to the denominator, > 0. Default 1e-8. */
  eps?: number;
  /** L2 penalty >= 0 added to the gradient. Default 0. */
  weightDecay?: number;
  /** Momentum factor >= 0. Default 0. */
  momentum?: number;
  /** Divide by the centered second moment (an estimate of the variance). Default false. */
  centered?: boolean;
}

const SPEC: HyperSpec = {
  lr: { dflt: 0.01, check: rate(0) },
  alpha: { dflt: 0.99, check: rate(0, 1) },
  eps: { dflt: 1e-8, check: rate(0, Infinity, false, true) },
  weightDecay: { dflt: 0, check: rate(0) },
  momentum: { dflt: 0, check: rate(0) },
  centered: { dflt: false, check: flag },
};

/**
 * RMSprop (torch.optim.RMSprop; Hinton's lecture 6e). Per parameter:
 * g' = g + weightDecay·w; sq = α·sq + (1 - α)·g'²;
 * centered: gavg = α·gavg + (1 - α)·g', d = sqrt(sq - gavg²) + eps, else d = sqrt(sq) + eps;
 * momentum > 0: buf = momentum·buf + g'/d, w -= lr·buf; else w -= lr·g'/d.
 *
 * Hyper-parameters live in each group; the setters read group 0 and write
 * every group. State per parameter: `step`, `squareAvg`, `momentumBuffer`
 * (momentum > 0), `gradAvg` (centered).
 */
export class RMSprop extends Optimizer {
  protected readonly stateKeys = ['squareAvg', 'momentumBuffer', 'gradAvg'] as const;
  protected readonly countsSteps = true;

  /** @throws on an unknown or mistyped config entry, group or value out of range. */
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, cfg?: RmspropConfig) {
    super(params, 'RMSprop', SPEC, cfg);
  }

  get alpha(): number { return this.hyper('alpha'); }
  set alpha(v: number) { this.setHyper('alpha', v); }
  get eps(): number { return this.hyper('eps'); }
  set eps(v: number) { this.setHyper('eps', v); }
  get weightDecay(): number { return this.hyper('weightDecay'); }
  set weightDecay(v: number) { this.setHyper('weightDecay', v); }
  get momentum(): number { return this.hyper('momentum'); }
  set momentum(v: number) { this.setHyper('momentum', v); }
  get centered(): boolean { return this.hyper('centered'); }
  set centered(v: boolean) { this.setHyper('centered', v); }

  protected update(p: Tensor, g: Float32Array, group: ParamGroup, s: SlotState): void {
    this.fusedStep('rmsprop', p, g, s, this.stateKeys, {
      lr: group.lr, alpha: group.alpha as number, eps: group.eps as number, weightDecay: group.weightDecay as number,
      momentum: group.momentum as number, centered: group.centered as boolean,
    });
  }
}
