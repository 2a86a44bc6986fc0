/** Activations as layers (the same functions are exported as ops). */
import { Tensor } from '../tensor/tensor.js';
import { elu, gelu, leakyRelu, logSoftmax, maxout, relu, sigmoid, sign, silu, softmax, softplus, tanh } from '../ops/index.js';
import type { GeluOptions } from '../ops/index.js';
import type { ActOp } from '../backend/backend.js';
import { Module, fixedStructure, type ModuleConfig } from './module.js';
import { describe } from '../ops/record.js';
import { fmt } from '../tensor/shape.js';
import { Linear, type Init } from './linear.js';
import { checkOptions, show } from './options.js';

/** A parameter-free layer applying one element-wise (or row-wise) function. */
export abstract class Activation extends Module {
  protected abstract fn(x: Tensor): Tensor;
  /** Applies the function to x (any shape; float32). @throws naming the layer if x is not a float32 Tensor. */
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`fathom.${this.constructor.name}: expected a Tensor input, got ${describe(x)}`);
    if (x.dtype !== 'float32') throw new Error(`fathom.${this.constructor.name}: expected a float32 input, got ${x.dtype} ${fmt(x.shape)}`);
    return this.fn(x);
  }
  override config(): ModuleConfig {
    return { type: this.constructor.name };
  }
}

export class ReLU extends Activation {
  protected fn(x: Tensor): Tensor { return relu(x); }
}
export class Sigmoid extends Activation {
  protected fn(x: Tensor): Tensor { return sigmoid(x); }
}
export class Tanh extends Activation {
  protected fn(x: Tensor): Tensor { return tanh(x); }
}
/** sign(x): the perceptron's threshold unit; its gradient is zero. */
export class Sign extends Activation {
  protected fn(x: Tensor): Tensor { return sign(x); }
}
/** Softmax over the last axis. (With losses.crossEntropy, feed logits instead.) */
/** Softmax over the last axis; `new nn.Softmax(-1)` (PyTorch's dim) is accepted, another axis is refused. */
export class Softmax extends Activation {
  constructor(axis?: number) {
    super();
    lastAxisOnly('Softmax', axis);
  }
  protected fn(x: Tensor): Tensor { return softmax(needsAxis('Softmax', x)); }
}
/** log(softmax) over the last axis; the axis argument as for Softmax. */
export class LogSoftmax extends Activation {
  constructor(axis?: number) {
    super();
    lastAxisOnly('LogSoftmax', axis);
  }
  protected fn(x: Tensor): Tensor { return logSoftmax(needsAxis('LogSoftmax', x)); }
}

function lastAxisOnly(layer: string, axis: unknown): void {
  if (axis !== undefined && axis !== -1) {
    throw new Error(`fathom.${layer}: only the last axis (-1) is supported, got ${describe(axis)}${typeof axis === 'number' ? ` ${axis}` : ''}; transpose the input first`);
  }
}

/** The softmax layers work over the last axis: a scalar has none. */
function needsAxis(layer: string, x: Tensor): Tensor {
  if (x.rank < 1) throw new Error(`fathom.${layer}: expected input [..., classes] (rank >= 1), got a scalar ${fmt(x.shape)}`);
  return x;
}

/** A number finite in float32, for a layer's constructor argument. */
function scalar(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isFinite(Math.fround(v))) {
    throw new Error(`fathom.${layer}: ${name} must be a number finite in float32, got ${show(v)}`);
  }
  return v;
}

/**
 * LeakyReLU (PyTorch `nn.LeakyReLU(negative_slope=0.01)`): x > 0 ? x : negativeSlope · x,
 * any shape. Sequential fuses it into a preceding Linear (one pass over the output).
 * @throws when negativeSlope is not a number finite in float32.
 */
export class LeakyReLU extends Activation {
  readonly negativeSlope: number;
  constructor(negativeSlope = 0.01) {
    super();
    this.negativeSlope = scalar('LeakyReLU', 'negativeSlope', negativeSlope);
  }
  protected fn(x: Tensor): Tensor { return leakyRelu(x, this.negativeSlope); }
  override config(): ModuleConfig { return { type: 'LeakyReLU', negativeSlope: this.negativeSlope }; }
}

/**
 * ELU (PyTorch `nn.ELU(alpha=1.0)`): x > 0 ? x : alpha (e^x - 1), any shape.
 * @throws when alpha is not a number finite in float32.
 */
export class ELU extends Activation {
  readonly alpha: number;
  constructor(alpha = 1) {
    super();
    this.alpha = scalar('ELU', 'alpha', alpha);
  }
  protected fn(x: Tensor): Tensor { return elu(x, this.alpha); }
  override config(): ModuleConfig { return { type: 'ELU', alpha: this.alpha }; }
}

/**
 * GELU (PyTorch `nn.GELU(approximate='none')`): x Φ(x), or the tanh approximation with
 * `{ approximate: 'tanh' }`; any shape.
 * @throws when approximate is not 'none' or 'tanh', or options has an unknown key.
 */
export class GELU extends Activation {
  readonly approximate: 'none' | 'tanh';
  constructor(options: GeluOptions = {}) {
    super();
    checkOptions('GELU', options, { approximate: 'string' });
    const a = options.approximate ?? 'none';
    if (a !== 'none' && a !== 'tanh') throw new Error(`fathom.GELU: approximate must be 'none' or 'tanh', got ${show(a)}`);
    this.approximate = a;
  }
  protected fn(x: Tensor): Tensor { return gelu(x, { approximate: this.approximate }); }
  override config(): ModuleConfig { return { type: 'GELU', approximate: this.approximate }; }
}

export interface SoftplusOptions {
  /** Default 1; must not be 0. */
  beta?: number;
  /** Above beta·x > threshold the layer is linear (default 20). */
  threshold?: number;
}

/**
 * Softplus (PyTorch `nn.Softplus(beta=1.0, threshold=20.0)`, the options in an object):
 * log(1 + e^(beta·x)) / beta, and x where beta·x > threshold; any shape.
 * @throws when beta or threshold is not a number finite in float32, beta is 0, or options has an unknown key.
 */
export class Softplus extends Activation {
  readonly beta: number;
  readonly threshold: number;
  constructor(options: SoftplusOptions = {}) {
    super();
    checkOptions('Softplus', options, { beta: 'number', threshold: 'number' });
    this.beta = scalar('Softplus', 'beta', options.beta ?? 1);
    if (this.beta === 0) throw new Error('fathom.Softplus: beta must be non-zero, got 0');
    this.threshold = scalar('Softplus', 'threshold', options.threshold ?? 20);
  }
  protected fn(x: Tensor): Tensor { return softplus(x, { beta: this.beta, threshold: this.threshold }); }
  override config(): ModuleConfig { return { type: 'Softplus', beta: this.beta, threshold: this.threshold }; }
}

/** SiLU / swish (PyTorch `nn.SiLU()`): x · sigmoid(x), any shape. */
export class SiLU extends Activation {
  protected fn(x: Tensor): Tensor { return silu(x); }
}

export interface MaxoutOptions {
  /** Learn a bias (default true). */
  bias?: boolean;
  /** The Linear layer's weight initialiser (default 'glorot'). */
  init?: Init;
  /** Seed for the initial weights (default: the global stream). */
  seed?: number;
}

/**
 * Maxout layer (Goodfellow et al., 2013): a Linear layer to units·pieces
 * features followed by maxout over consecutive groups of `pieces`:
 * x [batch, inFeatures] → [batch, units]. Its parameters are the Linear's,
 * named `linear.weight` [units·pieces, inFeatures] and `linear.bias`
 * [units·pieces] (unit i uses rows i·pieces … i·pieces + pieces - 1).
 * @throws when a size is not a positive integer, or options are malformed.
 */
export class Maxout extends Module {
  readonly linear: Linear;
  constructor(
    readonly inFeatures: number,
    readonly units: number,
    readonly pieces: number,
    private readonly opts: MaxoutOptions = {},
  ) {
    super();
    for (const [n, v] of [['inFeatures', inFeatures], ['units', units], ['pieces', pieces]] as const) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Error(`fathom.Maxout: ${n} must be a positive integer, got ${show(v)}`);
    }
    checkOptions('Maxout', opts, { bias: 'boolean', init: 'string', seed: 'number' });
    this.linear = this.registerModule('linear', new Linear(inFeatures, units * pieces, opts));
  }
  /** x [batch, inFeatures] → [batch, units]. @throws naming Maxout when x is not [batch, inFeatures] float32. */
  forward(x: Tensor): Tensor {
    try {
      return maxout(this.linear.forward(x), this.pieces);
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      throw new Error(`fathom.Maxout: ${e.message.replace(/^fathom\./, '')}`, { cause: e });
    }
  }
  override config(): ModuleConfig {
    return {
      type: 'Maxout', inFeatures: this.inFeatures, units: this.units, pieces: this.pieces,
      bias: this.linear.bias !== null, init: this.opts.init ?? 'glorot',
    };
  }
}

/**
 * The activation a Linear layer can fuse with (lib/ops/layer.ts `linear`), if
 * `m` is exactly one of them and it carries no parameter the fused kernel lacks.
 */
export function fusableActivation(m: Module | undefined): ActOp | null {
  if (!m) return null;
  if (m.constructor === ReLU) return 'relu';
  if (m.constructor === Sigmoid) return 'sigmoid';
  if (m.constructor === Tanh) return 'tanh';
  return null;
}

for (const C of [ReLU, Sigmoid, Tanh, Sign, Softmax, LogSoftmax, LeakyReLU, ELU, GELU, Softplus, SiLU, Maxout]) fixedStructure.add(C);
