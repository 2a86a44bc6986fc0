/** Adam and AdamW (PyTorch semantics); each step is one fused pass per parameter. */
import { backend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { Optimizer, checkRate } from './optimizer.js';

export interface AdamConfig {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class Adam extends Optimizer {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly state = new Map<Tensor, { m: Float32Array; v: Float32Array; t: number }>();

  constructor(params: Iterable<Tensor>, cfg: AdamConfig = {}, private readonly decoupled = false, name = 'Adam') {
    super(params, name);
    this.lr = checkRate(name, 'lr', cfg.lr ?? 1e-3, 0);
    const [b1, b2] = cfg.betas ?? [0.9, 0.999];
    this.beta1 = checkRate(name, 'betas[0]', b1, 0, 1, true);
    this.beta2 = checkRate(name, 'betas[1]', b2, 0, 1, true);
    this.eps = checkRate(name, 'eps', cfg.eps ?? 1e-8, 0);
    this.weightDecay = checkRate(name, 'weightDecay', cfg.weightDecay ?? (decoupled ? 0.01 : 0), 0);
  }

  protected update(p: Tensor, g: Float32Array): void {
    let s = this.state.get(p);
    if (!s) {
      s = { m: new Float32Array(p.size), v: new Float32Array(p.size), t: 0 };
      this.state.set(p, s);
    }
    s.t++;
    backend().adamStep(p.data as Float32Array, g, s.m, s.v, {
      lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, adamw: this.decoupled,
    }, s.t);
  }
}

/** Adam with decoupled weight decay (default 0.01). */
export class AdamW extends Adam {
  constructor(params: Iterable<Tensor>, cfg: AdamConfig = {}) {
    super(params, cfg, true, 'AdamW');
  }
}
