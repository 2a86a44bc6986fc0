/**
 * Pooling and reshaping layers for convolutional networks (PyTorch's nn names):
 * MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, and Dropout2d (channel dropout).
 */
import { Tensor } from '../tensor/tensor.js';
import { adaptiveAvgPool2d, avgPool2d, dropout, flatten, maxPool2d, mul, ones } from '../ops/index.js';
import type { AvgPool2dOptions, MaxPool2dOptions } from '../ops/pool.js';
import { adaptiveSize, poolParams } from '../ops/pool.js';
import { checkDropP } from '../ops/dropout.js';
import { checkOptions } from '../ops/options.js';
import { describe } from '../ops/record.js';
import { describeValue, fmt } from '../tensor/shape.js';
import { Module, fixedStructure, type ModuleConfig } from './module.js';

type Size = number | readonly [number, number];

/** x as a float32 [N, C, H, W] tensor, or an error naming the layer. */
function checkNCHW(layer: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`fathom.${layer}: expected a Tensor input [N, C, H, W], got ${describe(x)}`);
  if (x.dtype !== 'float32') throw new Error(`fathom.${layer}: expected a float32 input, got ${x.dtype} ${fmt(x.shape)}`);
  if (x.rank !== 4) throw new Error(`fathom.${layer}: expected input [N, C, H, W], got ${fmt(x.shape)}`);
  return x;
}

/** Runs an op, re-labelling its errors with the layer's name (fathom.maxPool2d: … → fathom.MaxPool2d: …). */
function as<T>(layer: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('fathom.')) {
      throw new Error(e.message.replace(/^fathom\.[A-Za-z0-9]+:/, `fathom.${layer}:`), { cause: e });
    }
    throw e;
  }
}

/** A config value: a number or a pair, as given (undefined keys are dropped). */
function clean(o: Record<string, unknown>): ModuleConfig {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])) as ModuleConfig;
}

/**
 * 2-D max pooling (nn.MaxPool2d): maxPool2d(x, kernelSize, options) on
 * [N, C, H, W]. stride defaults to kernelSize.
 * @throws naming MaxPool2d for a bad argument (at construction) or input (in forward).
 */
export class MaxPool2d extends Module {
  readonly kernelSize: Size;
  readonly options: MaxPool2dOptions;
  constructor(kernelSize: Size, options: MaxPool2dOptions = {}) {
    super();
    checkOptions('MaxPool2d', options, ['stride', 'padding', 'dilation', 'ceilMode']);
    poolParams('MaxPool2d', kernelSize, options);
    this.kernelSize = kernelSize;
    this.options = { ...options };
  }
  forward(x: Tensor): Tensor {
    checkNCHW('MaxPool2d', x);
    return as('MaxPool2d', () => maxPool2d(x, this.kernelSize, this.options));
  }
  override config(): ModuleConfig {
    return clean({ type: 'MaxPool2d', kernelSize: this.kernelSize, ...this.options });
  }
}

/**
 * 2-D average pooling (nn.AvgPool2d): avgPool2d(x, kernelSize, options) on
 * [N, C, H, W]; countIncludePad defaults to true, as PyTorch.
 * @throws naming AvgPool2d for a bad argument (at construction) or input (in forward).
 */
export class AvgPool2d extends Module {
  readonly kernelSize: Size;
  readonly options: AvgPool2dOptions;
  constructor(kernelSize: Size, options: AvgPool2dOptions = {}) {
    super();
    checkOptions('AvgPool2d', options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
    poolParams('AvgPool2d', kernelSize, options);
    const { countIncludePad: cip, divisorOverride: dv } = options;
    if (cip !== undefined && typeof cip !== 'boolean') throw new Error(`fathom.AvgPool2d: countIncludePad must be a boolean, got ${describeValue(cip)}`);
    if (dv !== undefined && !(Number.isSafeInteger(dv) && dv >= 1 && dv < 2 ** 31)) {
      throw new Error(`fathom.AvgPool2d: divisorOverride must be a positive integer, got ${describeValue(dv)}`);
    }
    this.kernelSize = kernelSize;
    this.options = { ...options };
  }
  forward(x: Tensor): Tensor {
    checkNCHW('AvgPool2d', x);
    return as('AvgPool2d', () => avgPool2d(x, this.kernelSize, this.options));
  }
  override config(): ModuleConfig {
    return clean({ type: 'AvgPool2d', kernelSize: this.kernelSize, ...this.options });
  }
}

/**
 * Adaptive average pooling (nn.AdaptiveAvgPool2d) to outputSize (a number
 * or [oh, ow], null keeping that input size); outputSize 1 is global average
 * pooling ([N, C, 1, 1]).
 * @throws naming AdaptiveAvgPool2d for a bad outputSize or input.
 */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: number | readonly [number | null, number | null];
  constructor(outputSize: number | readonly [number | null, number | null]) {
    super();
    adaptiveSize('AdaptiveAvgPool2d', outputSize);
    this.outputSize = Array.isArray(outputSize) ? [outputSize[0], outputSize[1]] : outputSize;
  }
  forward(x: Tensor): Tensor {
    checkNCHW('AdaptiveAvgPool2d', x);
    return as('AdaptiveAvgPool2d', () => adaptiveAvgPool2d(x, this.outputSize));
  }
  override config(): ModuleConfig {
    return clean({ type: 'AdaptiveAvgPool2d', outputSize: this.outputSize });
  }
}

/**
 * Flattens dims startDim..endDim into one (nn.Flatten; defaults 1 and −1:
 * [N, C, H, W] → [N, C·H·W]).
 * @throws naming Flatten when a dim is not an integer, or (in forward) out of range.
 */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;
  constructor(startDim = 1, endDim = -1) {
    super();
    for (const [name, d] of [['startDim', startDim], ['endDim', endDim]] as const) {
      if (!Number.isSafeInteger(d)) throw new Error(`fathom.Flatten: ${name} must be an integer, got ${describeValue(d)}`);
    }
    this.startDim = startDim;
    this.endDim = endDim;
  }
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`fathom.Flatten: expected a Tensor input, got ${describe(x)}`);
    return as('Flatten', () => flatten(x, this.startDim, this.endDim));
  }
  override config(): ModuleConfig {
    return { type: 'Flatten', startDim: this.startDim, endDim: this.endDim };
  }
}

/**
 * Channel dropout (nn.Dropout2d): in training each whole channel x[n, c]
 * is zeroed with probability p and the kept ones scaled by 1/(1 − p); in
 * eval() the input passes unchanged. Input [N, C, H, W], or 3-D [N, C, L] as
 * PyTorch (1.13 to 2.x) reads a 3-D input to Dropout2d: each x[n, c, :] is
 * one channel (Dropout1d's behaviour; PyTorch warns that a later release
 * will read 3-D as an unbatched [C, H, W], and fathom will follow it then).
 * The N·C keep decisions come from the global random stream (manualSeed),
 * drawn by the dropout kernel on an [N, C, 1, 1] (or [N, C, 1]) mask that the
 * product broadcasts over the rest.
 * @throws if p is not in [0, 1]; in forward, naming Dropout2d, for an input that is not float32 [N, C, H, W] or [N, C, L].
 */
export class Dropout2d extends Module {
  readonly p: number;
  constructor(p = 0.5) {
    super();
    this.p = checkDropP('Dropout2d', p);
  }
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`fathom.Dropout2d: expected a Tensor input [N, C, H, W] or [N, C, L], got ${describe(x)}`);
    if (x.dtype !== 'float32') throw new Error(`fathom.Dropout2d: expected a float32 input, got ${x.dtype} ${fmt(x.shape)}`);
    if (x.rank !== 4 && x.rank !== 3) throw new Error(`fathom.Dropout2d: expected input [N, C, H, W] or [N, C, L], got ${fmt(x.shape)}`);
    if (!this.training || this.p === 0) return x;
    const mask = dropout(ones(x.rank === 4 ? [x.shape[0], x.shape[1], 1, 1] : [x.shape[0], x.shape[1], 1]), this.p, true);
    return mul(x, mask);
  }
  override config(): ModuleConfig {
    return { type: 'Dropout2d', p: this.p };
  }
}

for (const C of [MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Dropout2d]) fixedStructure.add(C);
