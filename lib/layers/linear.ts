/** Linear (fully connected) layer: y = x Wᵀ + b, W is [out, in] as in PyTorch. */
import { Tensor } from '../tensor/tensor.js';
import { linear, rand, randn, zeros } from '../ops/index.js';
import { Act, type ActOp } from '../backend/backend.js';
import { fmt } from '../tensor/shape.js';
import { checkStorage, describe, empty } from '../ops/record.js';
// --- #13 rawinfer ---
import { needsGrad } from '../autograd/tape.js';
import { kernels } from '../backend/index.js';
// --- end #13 rawinfer ---
import { Module, fixedStructure, type ModuleConfig, type ParameterPenalty } from './module.js';
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
  /** Penalty on the weight added to the training loss: l1·Σ|W| + l2·ΣW² (Keras's L1L2; no ½ on l2). Default none. */
  weightRegularizer?: Regularizer;
  /** Penalty on the bias, as weightRegularizer. Default none. */
  biasRegularizer?: Regularizer;
}

/**
 * An L1/L2 penalty (Keras's keras.regularizers.L1L2): l1·Σ|w| + l2·Σw².
 * Note Keras's l2 has no factor ½ (so its gradient is 2·l2·w): l2 = λ/2
 * matches PyTorch's SGD weightDecay = λ. Both default to 0.
 */
export interface Regularizer {
  l1?: number;
  l2?: number;
}

/**
 * Checks a regularizer option: { l1?, l2? }, each a finite number >= 0.
 * @returns a normalised copy with both keys, or undefined when absent.
 * @throws `fathom.<op>: <what> must be ...`.
 */
export function checkRegularizer(op: string, what: string, r: unknown): Required<Regularizer> | undefined {
  if (r === undefined) return undefined;
  if (r === null || typeof r !== 'object' || Array.isArray(r)) {
    throw new Error(`fathom.${op}: ${what} must be an object { l1?, l2? }, got ${show(r)}`);
  }
  const extra = Object.keys(r).filter((k) => k !== 'l1' && k !== 'l2');
  if (extra.length) throw new Error(`fathom.${op}: ${what} takes l1 and l2, got unknown key${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')}`);
  const out = { l1: 0, l2: 0 };
  for (const k of ['l1', 'l2'] as const) {
    const v = (r as Regularizer)[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`fathom.${op}: ${what}.${k} must be a finite number >= 0, got ${show(v)}`);
    out[k] = v;
  }
  return out;
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
  private readonly weightReg: Required<Regularizer> | undefined;
  private readonly biasReg: Required<Regularizer> | undefined;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    private readonly opts: LinearOptions = {},
  ) {
    super();
    for (const [n, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Error(`fathom.Linear: ${n} must be a positive integer, got ${show(v)}`);
    }
    checkOptions('Linear', opts, { bias: 'boolean', init: 'string', seed: 'number', weightRegularizer: 'object', biasRegularizer: 'object' });
    this.weightReg = checkRegularizer('Linear', 'options.weightRegularizer', opts.weightRegularizer);
    this.biasReg = checkRegularizer('Linear', 'options.biasRegularizer', opts.biasRegularizer);
    if (this.biasReg && opts.bias === false) throw new Error('fathom.Linear: options.biasRegularizer was given but bias is false');
    if (opts.seed !== undefined && !Number.isFinite(opts.seed)) throw new Error(`fathom.Linear: options.seed must be a finite number, got ${opts.seed}`);
    // Weights are allocated as [out, in]: refuse sizes no typed array can hold before allocating.
    if (inFeatures * outFeatures > MAX_PARAMS) {
      throw new Error(`fathom.Linear: ${inFeatures} × ${outFeatures} = ${inFeatures * outFeatures} weights is more than one tensor can hold (${MAX_PARAMS})`);
    }
    this.weight = this.registerParameter('weight', initWeights(opts.init ?? 'glorot', inFeatures, outFeatures, opts.seed));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', zeros([outFeatures]));
  }

  /**
   * x Wᵀ + b over the last axis, as PyTorch's nn.Linear: x [*, in] → [*, out]
   * (any rank >= 1; a 1-D [in] gives [out]).
   * @throws `fathom.Linear: expected input [*, in] ...` naming the shape that came.
   */
  forward(x: Tensor): Tensor {
    return this.forwardWith(x, 'none');
  }

  /** act(x Wᵀ + b) in one fused op (Sequential uses it for Linear + activation pairs). */
  forwardWith(x: Tensor, activation: ActOp): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`fathom.Linear: expected a Tensor input [*, ${this.inFeatures}], got ${describe(x)}`);
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(`fathom.Linear: expected input [*, ${this.inFeatures}] (any rank >= 1, last axis ${this.inFeatures}), got ${fmt(x.shape)}`);
    }
    if (x.dtype !== 'float32') throw new Error(`fathom.Linear: expected a float32 input [*, ${this.inFeatures}], got ${x.dtype} ${fmt(x.shape)}`);
    // --- #13 rawinfer --- inference (nothing to record: noGrad, or no input needs a gradient) on
    // [n, in]: one fused kernel call, no tape, the result allocated once. Bitwise the same values as
    // the linear op (the same gemm + biasAct kernels in the same order); anything else goes through it.
    if (x.rank === 2 && !needsGrad(x, this.weight, this.bias ?? undefined) && Object.hasOwn(Act, activation)) {
      checkStorage('Linear', 'x', x);
      const n = x.shape[0], out = this.outFeatures;
      const y = empty([n, out], 'Linear');
      if (y.size > 0) kernels().linearForward(n, out, this.inFeatures, x.f32(), this.weight.f32(), this.bias ? this.bias.f32() : null, activation, y.f32());
      return y;
    }
    // --- end #13 rawinfer ---
    return linear(x, this.weight, this.bias, activation);
  }

  /** The weight's and the bias's regularizers (those given), for regularizationLoss() and fit(). */
  override ownPenalties(): ParameterPenalty[] {
    const out: ParameterPenalty[] = [];
    if (this.weightReg) out.push({ param: this.weight, ...this.weightReg });
    if (this.bias && this.biasReg) out.push({ param: this.bias, ...this.biasReg });
    return out;
  }

  override config(): ModuleConfig {
    const c: ModuleConfig = { type: 'Linear', inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.bias !== null, init: this.opts.init ?? 'glorot' };
    // Only when set: configs (and files) of layers without them stay as they were.
    if (this.weightReg) c.weightRegularizer = { ...this.weightReg };
    if (this.biasReg) c.biasRegularizer = { ...this.biasReg };
    return c;
  }
}
fixedStructure.add(Linear);
