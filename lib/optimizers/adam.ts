/** Adam and AdamW (PyTorch semantics); each step is one fused pass per parameter. */
import { kernels as backend } from '../backend/index.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue } from '../tensor/shape.js';
import { Optimizer, checkConfig, checkRate } from './optimizer.js';

export interface AdamConfig {
  /** Learning rate, a finite number >= 0. Default 1e-3. */
  lr?: number;
  /** Decay rates of the moment estimates, each in [0, 1). Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Added to the denominator, >= 0. Default 1e-8. */
  eps?: number;
  /** Weight decay >= 0 (L2 for Adam; decoupled for AdamW). Default 0 (Adam), 0.01 (AdamW). */
  weightDecay?: number;
}

/**
 * Adam. Every hyper-parameter (lr, beta1, beta2, eps, weightDecay) may be
 * changed after construction; each assignment is checked.
 */
export class Adam extends Optimizer {
  private h: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number };
  private readonly state = new Map<Tensor, { m: Float32Array; v: Float32Array; t: number }>();

  /** @throws on an unknown or mistyped config entry or a value out of range. */
  constructor(params: Iterable<Tensor>, cfg?: AdamConfig, private readonly decoupled = false, name = 'Adam') {
    super(params, name);
    const c = checkConfig(name, cfg, ['lr', 'betas', 'eps', 'weightDecay']);
    const betas = c.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) {
      throw new Error(`fathom.${name}: betas must be an array of two numbers in [0, 1), got ${describeValue(betas)}`);
    }
    this.h = {
      lr: checkRate(name, 'lr', c.lr ?? 1e-3, 0),
      beta1: checkRate(name, 'betas[0]', betas[0], 0, 1, true),
      beta2: checkRate(name, 'betas[1]', betas[1], 0, 1, true),
      eps: checkRate(name, 'eps', c.eps ?? 1e-8, 0, Infinity, false, true),
      weightDecay: checkRate(name, 'weightDecay', c.weightDecay ?? (decoupled ? 0.01 : 0), 0),
    };
  }

  get lr(): number { return this.h.lr; }
  set lr(v: number) { this.h.lr = checkRate(this.name, 'lr', v, 0); }
  get beta1(): number { return this.h.beta1; }
  set beta1(v: number) { this.h.beta1 = checkRate(this.name, 'beta1', v, 0, 1, true); }
  get beta2(): number { return this.h.beta2; }
  set beta2(v: number) { this.h.beta2 = checkRate(this.name, 'beta2', v, 0, 1, true); }
  get eps(): number { return this.h.eps; }
  set eps(v: number) { this.h.eps = checkRate(this.name, 'eps', v, 0, Infinity, false, true); }
  get weightDecay(): number { return this.h.weightDecay; }
  set weightDecay(v: number) { this.h.weightDecay = checkRate(this.name, 'weightDecay', v, 0); }

  protected update(p: Tensor, g: Float32Array): void {
    let s = this.state.get(p);
    if (!s) {
      s = { m: new Float32Array(p.size), v: new Float32Array(p.size), t: 0 };
      this.state.set(p, s);
    }
    s.t++;
    backend().adamStep(p.data as Float32Array, g, s.m, s.v, { ...this.h, adamw: this.decoupled }, s.t);
  }
}

/** Adam with decoupled weight decay (default 0.01). */
export class AdamW extends Adam {
  constructor(params: Iterable<Tensor>, cfg?: AdamConfig) {
    super(params, cfg, true, 'AdamW');
  }
}
