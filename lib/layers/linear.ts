/** Linear (fully connected) layer: y = x Wᵀ + b, W is [out, in] as in PyTorch. */
import { Tensor } from '../tensor/tensor.js';
import { linear, rand, randn, zeros } from '../ops/index.js';
import type { ActOp } from '../backend/backend.js';
import { fmt } from '../tensor/shape.js';
import { describe } from '../ops/record.js';
import { Module, fixedStructure, type ModuleConfig } from './module.js';
import { checkOptions, show } from './options.js';

/** The most elements one Float32Array may hold (2^31 - 1 on every engine fathom supports). */
const MAX_PARAMS = 2 ** 31 - 1;

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
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Error(`fathom.Linear: ${n} must be a positive integer, got ${show(v)}`);
    }
    checkOptions('Linear', opts, { bias: 'boolean', init: 'string', seed: 'number' });
    if (opts.seed !== undefined && !Number.isFinite(opts.seed)) throw new Error(`fathom.Linear: options.seed must be a finite number, got ${opts.seed}`);
    // Weights are allocated as [out, in]: refuse sizes no typed array can hold before allocating.
    if (inFeatures * outFeatures > MAX_PARAMS) {
      throw new Error(`fathom.Linear: ${inFeatures} × ${outFeatures} = ${inFeatures * outFeatures} weights is more than one tensor can hold (${MAX_PARAMS})`);
    }
    this.weight = this.registerParameter('weight', initWeights(opts.init ?? 'glorot', inFeatures, outFeatures, opts.seed));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', zeros([outFeatures]));
  }

  forward(x: Tensor): Tensor {
    return this.forwardWith(x, 'none');
  }

  /** act(x Wᵀ + b) in one fused op (Sequential uses it for Linear + activation pairs). */
  forwardWith(x: Tensor, activation: ActOp): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`fathom.Linear: expected a Tensor input [batch, ${this.inFeatures}], got ${describe(x)}`);
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures) {
      throw new Error(`fathom.Linear: expected input [batch, ${this.inFeatures}], got ${fmt(x.shape)}`);
    }
    if (x.dtype !== 'float32') throw new Error(`fathom.Linear: expected a float32 input [batch, ${this.inFeatures}], got ${x.dtype} ${fmt(x.shape)}`);
    return linear(x, this.weight, this.bias, activation);
  }

  override config(): ModuleConfig {
    return { type: 'Linear', inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.bias !== null, init: this.opts.init ?? 'glorot' };
  }
}
fixedStructure.add(Linear);
