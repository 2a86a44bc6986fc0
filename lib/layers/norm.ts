/**
 * Normalisation layers: BatchNorm1d, BatchNorm2d and LayerNorm, as
 * PyTorch's, with its state-dict names (weight, bias, running_mean, running_var,
 * num_batches_tracked), so a PyTorch state dict loads by name.
 */
import { Tensor } from '../tensor/tensor.js';
import { batchNorm, layerNorm, normalizedShapeOf } from '../ops/norm.js';
import { ones, zeros } from '../ops/index.js';
import { describe } from '../ops/record.js';
import { fmt } from '../tensor/shape.js';
import { Module, fixedStructure, type ModuleConfig } from './module.js';
import { checkOptions, show } from './options.js';

export interface BatchNormLayerOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Weight of each batch in the running averages (default 0.1); null: a cumulative average (1 / batches seen). */
  momentum?: number | null;
  /** Learnable per-channel weight (init 1) and bias (init 0) (default true). */
  affine?: boolean;
  /** Keep running statistics (buffers) for eval(); false: always normalise with the batch's own (default true). */
  trackRunningStats?: boolean;
}

export interface LayerNormLayerOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Learnable elementwise weight (init 1) and bias (init 0) over normalizedShape (default true). */
  elementwiseAffine?: boolean;
}

function positiveEps(layer: string, v: unknown): number {
  if (v === undefined) return 1e-5;
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0) || Math.fround(v) === 0) {
    throw new Error(`fathom.${layer}: options.eps must be a positive finite number, got ${show(v)}`);
  }
  return v;
}

/**
 * Batch normalisation over channel dim 1 (PyTorch's _BatchNorm): in train()
 * mode each batch is normalised with its own mean and biased variance and the
 * running statistics are updated (running = (1 − momentum)·running +
 * momentum·batch, with the unbiased variance; num_batches_tracked += 1); in
 * eval() mode the running statistics are used. The running statistics are
 * buffers: saved and loaded, never trained.
 */
abstract class BatchNormBase extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly numBatchesTracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  protected abstract readonly layer: string;
  /** The accepted input ranks and their description, e.g. [N, C] or [N, C, L]. */
  protected abstract checkRank(x: Tensor): void;

  constructor(readonly numFeatures: number, layer: string, opts: BatchNormLayerOptions = {}) {
    super();
    if (typeof numFeatures !== 'number' || !Number.isSafeInteger(numFeatures) || numFeatures < 1) {
      throw new Error(`fathom.${layer}: numFeatures must be a positive integer, got ${show(numFeatures)}`);
    }
    // momentum may be null (checked below): its type is not in the spec.
    const spec = { eps: 'number', momentum: 'number', affine: 'boolean', trackRunningStats: 'boolean' } as const;
    if (opts !== null && typeof opts === 'object' && !Array.isArray(opts) && opts.momentum === null) {
      const { momentum: _m, ...rest } = opts;
      checkOptions(layer, rest, spec);
    } else {
      checkOptions(layer, opts, spec);
    }
    this.eps = positiveEps(layer, opts.eps);
    const m = opts.momentum === undefined ? 0.1 : opts.momentum;
    if (m !== null && !(typeof m === 'number' && Number.isFinite(m) && m >= 0 && m <= 1)) {
      throw new Error(`fathom.${layer}: options.momentum must be a number in [0, 1] or null (a cumulative average), got ${show(m)}`);
    }
    this.momentum = m;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    this.weight = this.affine ? this.registerParameter('weight', ones([numFeatures])) : null;
    this.bias = this.affine ? this.registerParameter('bias', zeros([numFeatures])) : null;
    if (this.trackRunningStats) {
      this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
      this.runningVar = this.registerBuffer('running_var', ones([numFeatures]));
      this.numBatchesTracked = this.registerBuffer('num_batches_tracked', new Tensor(new Int32Array(1), []));
    } else {
      this.runningMean = this.runningVar = this.numBatchesTracked = null;
    }
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`fathom.${this.layer}: expected a Tensor input, got ${describe(x)}`);
    if (x.dtype !== 'float32') throw new Error(`fathom.${this.layer}: expected a float32 input, got ${x.dtype} ${fmt(x.shape)}`);
    this.checkRank(x);
    let factor = this.momentum ?? 0;
    if (this.training && this.numBatchesTracked) {
      const n = this.numBatchesTracked.data as Int32Array;
      // Checked before counting: a refused batch (one value per channel) leaves the buffers as they were.
      const per = x.shape[0] * x.shape.slice(2).reduce((a, b) => a * b, 1);
      if (per > 1) {
        n[0] = n[0] === 0x7fffffff ? n[0] : n[0] + 1;
        if (this.momentum === null) factor = 1 / n[0];
      }
    }
    // Without running statistics the batch's own are used in eval() too (as PyTorch).
    const useBatch = this.training || !this.trackRunningStats;
    try {
      return batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, { training: useBatch, momentum: factor, eps: this.eps });
    } catch (e) {
      throw new Error(`fathom.${this.layer}: ${(e as Error).message.replace(/^fathom\.batchNorm: /, '')}`, { cause: e });
    }
  }

  override config(): ModuleConfig {
    return { type: this.layer, numFeatures: this.numFeatures, eps: this.eps, momentum: this.momentum, affine: this.affine, trackRunningStats: this.trackRunningStats };
  }
}

/** Batch norm over [N, C] or [N, C, L] (PyTorch's nn.BatchNorm1d). */
export class BatchNorm1d extends BatchNormBase {
  protected readonly layer = 'BatchNorm1d';
  constructor(numFeatures: number, opts: BatchNormLayerOptions = {}) {
    super(numFeatures, 'BatchNorm1d', opts);
  }
  protected checkRank(x: Tensor): void {
    if ((x.rank !== 2 && x.rank !== 3) || x.shape[1] !== this.numFeatures) {
      throw new Error(`fathom.BatchNorm1d: expected input [N, ${this.numFeatures}] or [N, ${this.numFeatures}, L], got ${fmt(x.shape)}`);
    }
  }
}

/** Batch norm over [N, C, H, W] (PyTorch's nn.BatchNorm2d). */
export class BatchNorm2d extends BatchNormBase {
  protected readonly layer = 'BatchNorm2d';
  constructor(numFeatures: number, opts: BatchNormLayerOptions = {}) {
    super(numFeatures, 'BatchNorm2d', opts);
  }
  protected checkRank(x: Tensor): void {
    if (x.rank !== 4 || x.shape[1] !== this.numFeatures) {
      throw new Error(`fathom.BatchNorm2d: expected input [N, ${this.numFeatures}, H, W], got ${fmt(x.shape)}`);
    }
  }
}

/**
 * Layer normalisation over the last dims given by normalizedShape (PyTorch's
 * nn.LayerNorm): the same in train() and eval().
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  constructor(normalizedShape: number | readonly number[], opts: LayerNormLayerOptions = {}) {
    super();
    this.normalizedShape = normalizedShapeOf('LayerNorm', normalizedShape);
    checkOptions('LayerNorm', opts, { eps: 'number', elementwiseAffine: 'boolean' });
    this.eps = positiveEps('LayerNorm', opts.eps);
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    this.weight = this.elementwiseAffine ? this.registerParameter('weight', ones(this.normalizedShape)) : null;
    this.bias = this.elementwiseAffine ? this.registerParameter('bias', zeros(this.normalizedShape)) : null;
  }
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`fathom.LayerNorm: expected a Tensor input, got ${describe(x)}`);
    try {
      return layerNorm(x, this.normalizedShape, this.weight, this.bias, { eps: this.eps });
    } catch (e) {
      throw new Error(`fathom.LayerNorm: ${(e as Error).message.replace(/^fathom\.layerNorm: /, '')}`, { cause: e });
    }
  }
  override config(): ModuleConfig {
    return { type: 'LayerNorm', normalizedShape: [...this.normalizedShape], eps: this.eps, elementwiseAffine: this.elementwiseAffine };
  }
}

fixedStructure.add(BatchNorm1d);
fixedStructure.add(BatchNorm2d);
fixedStructure.add(LayerNorm);
