/** Stochastic gradient descent with momentum, Nesterov and weight decay (PyTorch semantics). */
import { kernels as backend } from '../backend/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, flag, rate, type HyperSpec, type ParamGroup, type ParamGroupInput, type SlotState } from './optimizer.js';

export interface SgdConfig {
  /** Learning rate, a finite number >= 0. Default 0.01. */
  lr?: number;
  /** Momentum factor >= 0. Default 0. */
  momentum?: number;
  /** Dampening for momentum, in [0, 1]. Default 0. */
  dampening?: number;
  /** L2 penalty >= 0 added to the gradient. Default 0. */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov?: boolean;
}

const SPEC: HyperSpec = {
  lr: { dflt: 0.01, check: rate(0) },
  momentum: { dflt: 0, check: rate(0) },
  dampening: { dflt: 0, check: rate(0, 1) },
  weightDecay: { dflt: 0, check: rate(0) },
  nesterov: { dflt: false, check: flag },
};

/**
 * SGD (torch.optim.SGD). Per parameter, with g' = g + weightDecay·w:
 * momentum = 0: w -= lr·g'; else b = first ? g' : momentum·b + (1 - dampening)·g',
 * w -= lr·(nesterov ? g' + momentum·b : b).
 *
 * Every hyper-parameter may be changed after construction, per group
 * (`opt.paramGroups[1].lr = 0.1`, checked at the next step()) or for all
 * groups through the setters (`opt.lr = 0.1`, checked on assignment); step()
 * checks the combination (nesterov needs momentum > 0 and dampening 0).
 * State per parameter: `momentumBuffer` (when momentum > 0).
 */
export class SGD extends Optimizer {
  protected readonly stateKeys = ['momentumBuffer'] as const;
  protected readonly countsSteps = false;
  /** Scratch for momentum 0, where the kernel reads no buffer but the binding wants one of the right length. */
  private readonly scratch = new Map<Tensor, Float32Array>();

  /** @throws on an unknown or mistyped config entry, group or value out of range. */
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, cfg?: SgdConfig) {
    super(params, 'SGD', SPEC, cfg);
  }

  get momentum(): number { return this.hyper('momentum'); }
  set momentum(v: number) { this.setHyper('momentum', v); }
  get dampening(): number { return this.hyper('dampening'); }
  set dampening(v: number) { this.setHyper('dampening', v); }
  get weightDecay(): number { return this.hyper('weightDecay'); }
  set weightDecay(v: number) { this.setHyper('weightDecay', v); }
  get nesterov(): boolean { return this.hyper('nesterov'); }
  set nesterov(v: boolean) { this.setHyper('nesterov', v); }

  protected override checkCombination(h: Record<string, unknown>, where: string, op = this.name): void {
    const momentum = h.momentum as number, dampening = h.dampening as number;
    if (h.nesterov && (momentum <= 0 || dampening !== 0)) {
      throw new Error(`fathom.${op}: nesterov needs momentum > 0 and dampening = 0, got momentum ${momentum} and dampening ${dampening}${where}`);
    }
  }

  protected update(p: Tensor, g: Float32Array, group: ParamGroup, s: SlotState): void {
    const o = {
      lr: group.lr, momentum: group.momentum as number, dampening: group.dampening as number,
      weightDecay: group.weightDecay as number, nesterov: group.nesterov as boolean,
    };
    let v: Float32Array;
    let first = false;
    if (o.momentum !== 0) {
      first = s.momentumBuffer === undefined; // PyTorch: a None buffer starts as g'
      v = this.buffer(s, 'momentumBuffer', p.size);
    } else {
      v = (s.momentumBuffer as Float32Array | undefined) ?? this.scratch.get(p) ?? new Float32Array(p.size);
      if (!s.momentumBuffer) this.scratch.set(p, v);
    }
    backend().sgdStep(p.data as Float32Array, g, v, o, first);
  }
}
