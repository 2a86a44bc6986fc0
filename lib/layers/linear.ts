/** Linear (fully connected) layer: y = x Wᵀ + b, W is [out, in] as in PyTorch. */
import { Tensor } from '../tensor/tensor.js';
import { linear, rand, randn, zeros } from '../ops/index.js';
import type { ActOp } from '../backend/backend.js';
import { fmt } from '../tensor/shape.js';
import { Module, type ModuleConfig } from './module.js';

export type Init = 'glorot' | 'glorotNormal' | 'he' | 'heUniform';

export interface LinearOptions {
  bias?: boolean;
  /** Weight initialiser (default 'glorot', Glorot/Xavier uniform; 'he' is He/Kaiming normal for ReLU nets). */
  init?: Init;
  /** Seed for the initial weights (default: the global stream, see manualSeed). */
  seed?: number;
}

export function initWeights(init: Init, inF: number, outF: number, seed?: number): Tensor {
  const shape = [outF, inF];
  switch (init) {
    case 'glorot': {
      const a = Math.sqrt(6 / (inF + outF));
      return rand(shape, { low: -a, high: a, seed });
    }
    case 'glorotNormal':
      return randn(shape, { std: Math.sqrt(2 / (inF + outF)), seed });
    case 'he':
      return randn(shape, { std: Math.sqrt(2 / inF), seed });
    case 'heUniform': {
      const a = Math.sqrt(6 / inF);
      return rand(shape, { low: -a, high: a, seed });
    }
    default:
      throw new Error(`fathom.Linear: unknown init '${String(init)}' (expected glorot, glorotNormal, he or heUniform)`);
  }
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    private readonly opts: LinearOptions = {},
  ) {
    super();
    for (const [n, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`fathom.Linear: ${n} must be a positive integer, got ${v}`);
    }
    this.weight = this.registerParameter('weight', initWeights(opts.init ?? 'glorot', inFeatures, outFeatures, opts.seed));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', zeros([outFeatures]));
  }

  forward(x: Tensor): Tensor {
    return this.forwardWith(x, 'none');
  }

  /** act(x Wᵀ + b) in one fused op (Sequential uses it for Linear + activation pairs). */
  forwardWith(x: Tensor, activation: ActOp): Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures) {
      throw new Error(`fathom.Linear: expected input [batch, ${this.inFeatures}], got ${fmt(x.shape)}`);
    }
    return linear(x, this.weight, this.bias, activation);
  }

  config(): ModuleConfig {
    return { type: 'Linear', inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.bias !== null, init: this.opts.init ?? 'glorot' };
  }
}
