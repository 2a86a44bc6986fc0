/** Stochastic gradient descent with momentum, Nesterov and weight decay (PyTorch semantics). */
import { kernels as backend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { optBool } from '../ops/options.js';
import { describeValue } from '../tensor/shape.js';
import { Optimizer, checkConfig, checkRate } from './optimizer.js';

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

/**
 * SGD. Every hyper-parameter may be changed after construction; each
 * assignment is checked (`opt.lr = -1` throws), and step() checks the
 * combination (nesterov needs momentum > 0 and dampening 0).
 */
export class SGD extends Optimizer {
  private h: Required<SgdConfig>;
  private readonly velocity = new Map<Tensor, Float32Array>();

  /** @throws on an unknown or mistyped config entry or a value out of range. */
  constructor(params: Iterable<Tensor>, cfg?: SgdConfig) {
    super(params, 'SGD');
    const c = checkConfig('SGD', cfg, ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov']);
    this.h = {
      lr: checkRate('SGD', 'lr', c.lr ?? 0.01, 0),
      momentum: checkRate('SGD', 'momentum', c.momentum ?? 0, 0),
      dampening: checkRate('SGD', 'dampening', c.dampening ?? 0, 0, 1),
      weightDecay: checkRate('SGD', 'weightDecay', c.weightDecay ?? 0, 0),
      nesterov: optBool('SGD', 'nesterov', c.nesterov, false),
    };
    this.checkHyperParameters();
  }

  get lr(): number { return this.h.lr; }
  set lr(v: number) { this.h.lr = checkRate('SGD', 'lr', v, 0); }
  get momentum(): number { return this.h.momentum; }
  set momentum(v: number) { this.h.momentum = checkRate('SGD', 'momentum', v, 0); }
  get dampening(): number { return this.h.dampening; }
  set dampening(v: number) { this.h.dampening = checkRate('SGD', 'dampening', v, 0, 1); }
  get weightDecay(): number { return this.h.weightDecay; }
  set weightDecay(v: number) { this.h.weightDecay = checkRate('SGD', 'weightDecay', v, 0); }
  get nesterov(): boolean { return this.h.nesterov; }
  set nesterov(v: boolean) {
    if (typeof v !== 'boolean') throw new Error(`fathom.SGD: nesterov must be a boolean, got ${describeValue(v)}`);
    this.h.nesterov = v;
  }

  protected override checkHyperParameters(): void {
    if (this.h.nesterov && (this.h.momentum <= 0 || this.h.dampening !== 0)) {
      throw new Error(
        `fathom.SGD: nesterov needs momentum > 0 and dampening = 0, got momentum ${this.h.momentum} and dampening ${this.h.dampening}`,
      );
    }
  }

  protected update(p: Tensor, g: Float32Array): void {
    let v = this.velocity.get(p);
    const first = v === undefined;
    if (!v) {
      v = new Float32Array(p.size); // the momentum buffer (untouched when momentum = 0)
      this.velocity.set(p, v);
    }
    backend().sgdStep(p.data as Float32Array, g, v, { ...this.h }, first);
  }
}
