/** Adam and AdamW (PyTorch semantics, with AMSGrad); each step is one fused pass per parameter. */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, betasCheck, flag, rate, type HyperSpec, type ParamGroup, type ParamGroupInput, type SlotState } from './optimizer.js';

export interface AdamConfig {
  /** Learning rate, a finite number >= 0. Default 1e-3. */
  lr?: number;
  /** Decay rates of the moment estimates, each in [0, 1). Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Added to the denominator, > 0. Default 1e-8. */
  eps?: number;
  /** Weight decay >= 0 (L2 for Adam; decoupled for AdamW). Default 0 (Adam), 0.01 (AdamW). */
  weightDecay?: number;
  /** AMSGrad: divide by the running maximum of the second moment. Default false. */
  amsgrad?: boolean;
}

const spec = (weightDecay: number): HyperSpec => ({
  lr: { dflt: 1e-3, check: rate(0) },
  betas: { dflt: [0.9, 0.999], check: betasCheck },
  eps: { dflt: 1e-8, check: rate(0, Infinity, false, true) },
  weightDecay: { dflt: weightDecay, check: rate(0) },
  amsgrad: { dflt: false, check: flag },
});

/**
 * Adam (torch.optim.Adam; AdamW: torch.optim.AdamW). Per parameter, step t:
 * Adam g' = g + weightDecay·w, AdamW w -= lr·weightDecay·w first (decoupled);
 * m = b1·m + (1 - b1)·g'; v = b2·v + (1 - b2)·g'²; amsgrad: vmax = max(vmax, v);
 * w -= lr·(m / (1 - b1^t)) / (sqrt((amsgrad ? vmax : v) / (1 - b2^t)) + eps).
 *
 * Hyper-parameters live in each group (`betas` as a pair); the setters
 * `lr, beta1, beta2, eps, weightDecay, amsgrad` read group 0 and write every
 * group (checked on assignment). State per parameter: `step`, `expAvg`,
 * `expAvgSq`, `maxExpAvgSq` (amsgrad).
 */
export class Adam extends Optimizer {
  protected readonly stateKeys = ['expAvg', 'expAvgSq', 'maxExpAvgSq'] as const;
  protected readonly countsSteps = true;

  /** @throws on an unknown or mistyped config entry, group or value out of range. */
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, cfg?: AdamConfig, private readonly decoupled = false, name = 'Adam') {
    super(params, name, spec(decoupled ? 0.01 : 0), cfg);
  }

  get beta1(): number { return this.hyper<[number, number]>('betas')[0]; }
  set beta1(v: number) { this.setBeta(0, 'beta1', v); }
  get beta2(): number { return this.hyper<[number, number]>('betas')[1]; }
  set beta2(v: number) { this.setBeta(1, 'beta2', v); }
  get betas(): [number, number] { return [...this.hyper<[number, number]>('betas')]; }
  set betas(v: [number, number]) { this.setHyper('betas', v); }
  get eps(): number { return this.hyper('eps'); }
  set eps(v: number) { this.setHyper('eps', v); }
  get weightDecay(): number { return this.hyper('weightDecay'); }
  set weightDecay(v: number) { this.setHyper('weightDecay', v); }
  get amsgrad(): boolean { return this.hyper('amsgrad'); }
  set amsgrad(v: boolean) { this.setHyper('amsgrad', v); }

  private setBeta(i: 0 | 1, name: string, v: number): void {
    rate(0, 1, true)(this.name, name, v);
    for (const g of this.paramGroups) {
      const b = [...(g.betas as [number, number])];
      b[i] = v;
      g.betas = b;
    }
  }

  protected update(p: Tensor, g: Float32Array, group: ParamGroup, s: SlotState): void {
    const [beta1, beta2] = group.betas as [number, number];
    this.fusedStep('adam', p, g, s, this.stateKeys, {
      lr: group.lr, beta1, beta2, eps: group.eps as number, weightDecay: group.weightDecay as number,
      decoupled: this.decoupled, amsgrad: group.amsgrad as boolean,
    });
  }
}

/** Adam with decoupled weight decay (default 0.01). */
export class AdamW extends Adam {
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, cfg?: AdamConfig) {
    super(params, cfg, true, 'AdamW');
  }
}
