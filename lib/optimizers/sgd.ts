/** Stochastic gradient descent with momentum, Nesterov and weight decay (PyTorch semantics). */
import { backend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { Optimizer, checkRate } from './optimizer.js';

export interface SgdConfig {
  lr?: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private readonly velocity = new Map<Tensor, Float32Array>();

  constructor(params: Iterable<Tensor>, cfg: SgdConfig = {}) {
    super(params, 'SGD');
    this.lr = checkRate('SGD', 'lr', cfg.lr ?? 0.01, 0);
    this.momentum = checkRate('SGD', 'momentum', cfg.momentum ?? 0, 0);
    this.dampening = checkRate('SGD', 'dampening', cfg.dampening ?? 0, 0, 1);
    this.weightDecay = checkRate('SGD', 'weightDecay', cfg.weightDecay ?? 0, 0);
    this.nesterov = cfg.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error('fathom.SGD: nesterov needs momentum > 0 and dampening = 0');
    }
  }

  protected update(p: Tensor, g: Float32Array): void {
    let v = this.velocity.get(p);
    const first = v === undefined;
    if (!v) {
      v = new Float32Array(p.size); // the momentum buffer (untouched when momentum = 0)
      this.velocity.set(p, v);
    }
    backend().sgdStep(p.data as Float32Array, g, v, {
      lr: this.lr, momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay, nesterov: this.nesterov,
    }, first);
  }
}
