/** Adadelta (PyTorch semantics); each step is one fused pass per parameter. */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, rate, type HyperSpec, type ParamGroup, type ParamGroupInput, type SlotState } from './optimizer.js';

export interface AdadeltaConfig {
  /** Scale of the delta, a finite number >= 0. Default 1. */
  lr?: number;
  /** Decay of the running averages, in [0, 1]. Default 0.9. */
  rho?: number;
  /** Added inside both square roots, > 0. Default 1e-6. */
  eps?: number;
  /** L2 penalty >= 0 added to the gradient. Default 0. */
  weightDecay?: number;
}

const SPEC: HyperSpec = {
  lr: { dflt: 1, check: rate(0) },
  rho: { dflt: 0.9, check: rate(0, 1) },
  eps: { dflt: 1e-6, check: rate(0, Infinity, false, true) },
  weightDecay: { dflt: 0, check: rate(0) },
};

/**
 * Adadelta (torch.optim.Adadelta; Zeiler, 2012). Per parameter:
 * g' = g + weightDecay·w; sq = ρ·sq + (1 - ρ)·g'²; δ = sqrt(acc + eps) / sqrt(sq + eps) · g';
 * acc = ρ·acc + (1 - ρ)·δ²; w -= lr·δ.
 *
 * Hyper-parameters live in each group; the setters read group 0 and write
 * every group. State per parameter: `step`, `squareAvg`, `accDelta`.
 */
export class Adadelta extends Optimizer {
  protected readonly stateKeys = ['squareAvg', 'accDelta'] as const;
  protected readonly countsSteps = true;

  /** @throws on an unknown or mistyped config entry, group or value out of range. */
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, cfg?: AdadeltaConfig) {
    super(params, 'Adadelta', SPEC, cfg);
  }

  get rho(): number { return this.hyper('rho'); }
  set rho(v: number) { this.setHyper('rho', v); }
  get eps(): number { return this.hyper('eps'); }
  set eps(v: number) { this.setHyper('eps', v); }
  get weightDecay(): number { return this.hyper('weightDecay'); }
  set weightDecay(v: number) { this.setHyper('weightDecay', v); }

  protected update(p: Tensor, g: Float32Array, group: ParamGroup, s: SlotState): void {
    this.fusedStep('adadelta', p, g, s, this.stateKeys, {
      lr: group.lr, rho: group.rho as number, eps: group.eps as number, weightDecay: group.weightDecay as number,
    });
  }
}
