/**
 * Convolution layers (PyTorch's nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d):
 * the weights and their names and layouts are PyTorch's, so a state dict
 * saved from PyTorch loads by name.
 *
 *   Conv2d           x [N, inC, H, W] → [N, outC, H', W'];  weight [outC, inC/groups, kH, kW], bias [outC]
 *   Conv1d           x [N, inC, L]    → [N, outC, L'];      weight [outC, inC/groups, k],      bias [outC]
 *   ConvTranspose2d  x [N, inC, H, W] → [N, outC, H', W'];  weight [inC, outC/groups, kH, kW], bias [outC]
 *
 * Initialisation as PyTorch's reset_parameters: weight and bias uniform in
 * ±1/√fanIn (kaiming_uniform_ with a = √5), fanIn = weight.shape[1]·kH·kW.
 */
import { Tensor } from '../tensor/tensor.js';
import { conv1d, conv2d, convTranspose2d, rand } from '../ops/index.js';
import { checkConvSettings, type Conv1dOptions, type Conv2dOptions, type ConvSize, type ConvTranspose2dOptions } from '../ops/conv.js';
import { checkOptions } from '../ops/options.js';
import { describe } from '../ops/record.js';
import { describeValue, fmt } from '../tensor/shape.js';
import type { ActOp } from '../backend/backend.js';
import { Module, fixedStructure, type ModuleConfig } from './module.js';

/** The most elements one Float32Array may hold. */
const MAX_PARAMS = 2 ** 31 - 1;

export interface ConvLayerOptions {
  /** Default 1. */
  stride?: ConvSize;
  /** A number, a pair, 'same' or 'valid' (Conv1d/Conv2d). Default 0. */
  padding?: ConvSize | 'same' | 'valid';
  /** Default 1. */
  dilation?: ConvSize;
  /** Default 1; must divide both channel counts. */
  groups?: number;
  /** Default true. */
  bias?: boolean;
  /** Seed of the initial weights (default: the global stream, see manualSeed). */
  seed?: number;
}

export interface ConvTransposeLayerOptions extends Omit<ConvLayerOptions, 'padding'> {
  /** Default 0. */
  padding?: ConvSize;
  /** Extra rows/columns on the bottom/right of the output, < stride or dilation. Default 0. */
  outputPadding?: ConvSize;
}

const KEYS = ['stride', 'padding', 'dilation', 'groups', 'bias', 'seed'] as const;

function positive(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Error(`fathom.${layer}: ${name} must be a positive integer, got ${describeValue(v)}`);
  return v;
}

/** A kernel size as a list of `dims` positive integers. */
function kernelDims(layer: string, k: unknown, dims: 1 | 2): number[] {
  if (typeof k === 'number') return Array.from({ length: dims }, () => positive(layer, 'kernelSize', k));
  if (dims === 2 && Array.isArray(k) && k.length === 2) return k.map((v, i) => positive(layer, `kernelSize[${i}]`, v));
  throw new Error(`fathom.${layer}: kernelSize must be a positive integer${dims === 2 ? ' or a pair of them' : ''}, got ${describeValue(k)}`);
}

/** Runs an op, re-labelling its errors with the layer's name (fathom.conv2d: … → fathom.Conv2d: …). */
function as<T>(layer: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('fathom.')) throw new Error(e.message.replace(/^fathom\.[A-Za-z0-9]+:/, `fathom.${layer}:`), { cause: e });
    throw e;
  }
}

/** Copies of the given option values, without undefined ones (for config()). */
function clean(o: Record<string, unknown>): ModuleConfig {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => [k, Array.isArray(v) ? [...v] : v])) as ModuleConfig;
}

/** The shared part of the three layers: channels, kernel, weight and bias. */
abstract class ConvBase extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: number[];

  protected constructor(
    protected readonly layer: string,
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: ConvSize,
    dims: 1 | 2,
    transposed: boolean,
    protected readonly opts: ConvLayerOptions | ConvTransposeLayerOptions,
  ) {
    super();
    positive(layer, 'inChannels', inChannels);
    positive(layer, 'outChannels', outChannels);
    this.kernelSize = kernelDims(layer, kernelSize, dims);
    const groups = positive(layer, 'options.groups', opts.groups ?? 1);
    if (inChannels % groups || outChannels % groups) {
      throw new Error(`fathom.${layer}: groups (${groups}) must divide inChannels (${inChannels}) and outChannels (${outChannels})`);
    }
    if (opts.seed !== undefined && !Number.isFinite(opts.seed)) throw new Error(`fathom.${layer}: options.seed must be a finite number, got ${describeValue(opts.seed)}`);
    // stride, padding, dilation, outputPadding: refused here with the op's messages, not at the first forward.
    as(layer, () => checkConvSettings(layer, opts, dims, transposed));
    const shape = transposed
      ? [inChannels, outChannels / groups, ...this.kernelSize]
      : [outChannels, inChannels / groups, ...this.kernelSize];
    const count = shape.reduce((a, b) => a * b, 1);
    if (count > MAX_PARAMS) throw new Error(`fathom.${layer}: a weight ${fmt(shape)} (${count} values) is more than one tensor can hold (${MAX_PARAMS})`);
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    const bound = 1 / Math.sqrt(fanIn);
    this.weight = this.registerParameter('weight', rand(shape, { low: -bound, high: bound, seed: opts.seed }));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', rand([outChannels], { low: -bound, high: bound, seed: opts.seed === undefined ? undefined : opts.seed + 1 }));
  }

  /** x as float32 of rank `rank` with inChannels channels, or an error naming the layer. */
  protected checkInput(x: unknown, rank: number): Tensor {
    const want = rank === 3 ? `[N, ${this.inChannels}, L]` : `[N, ${this.inChannels}, H, W]`;
    if (!(x instanceof Tensor)) throw new Error(`fathom.${this.layer}: expected a Tensor input ${want}, got ${describe(x)}`);
    if (x.dtype !== 'float32' || x.rank !== rank || x.shape[1] !== this.inChannels) {
      throw new Error(`fathom.${this.layer}: expected a float32 input ${want}, got ${x.dtype} ${fmt(x.shape)}${this.layoutHint(x, rank)}`);
    }
    return x;
  }

  /** A hint for the common layout mistakes: channels last (NHWC / NLC), or a flat [N, features] batch. */
  private layoutHint(x: Tensor, rank: number): string {
    const c = this.inChannels;
    if (x.rank === rank && x.shape[rank - 1] === c && x.shape[1] !== c) {
      return rank === 4 ? ' (fathom is NCHW, as PyTorch: permute(0, 3, 1, 2))' : ' (fathom is NCL, as PyTorch: permute(0, 2, 1))';
    }
    if (x.rank === 2 && rank === 4) {
      const [n, f] = x.shape;
      const side = Math.round(Math.sqrt(f / c));
      const ex = f % c === 0 && side * side * c === f ? `reshape([${n}, ${c}, ${side}, ${side}])` : 'reshape([N, C, H, W])';
      return ` (a flat [N, features] batch: ${ex} first)`;
    }
    if (x.rank === 2 && rank === 3) return ' (a flat [N, features] batch: reshape([N, C, L]) first)';
    return '';
  }

  protected run(f: () => Tensor): Tensor {
    return as(this.layer, f);
  }

  override config(): ModuleConfig {
    const { seed: _seed, ...o } = this.opts;
    return clean({
      type: this.layer, inChannels: this.inChannels, outChannels: this.outChannels,
      kernelSize: this.kernelSize.length === 1 ? this.kernelSize[0] : this.kernelSize,
      ...o, bias: this.bias !== null,
    });
  }
}

/**
 * 2-D convolution (nn.Conv2d): conv2d(x, weight, bias, { stride, padding,
 * dilation, groups }) on x [N, inChannels, H, W].
 * @throws naming Conv2d for a bad argument (at construction) or input (in forward).
 */
export class Conv2d extends ConvBase {
  constructor(inChannels: number, outChannels: number, kernelSize: ConvSize, options: ConvLayerOptions = {}) {
    checkOptions('Conv2d', options, [...KEYS]);
    super('Conv2d', inChannels, outChannels, kernelSize, 2, false, options);
  }
  forward(x: Tensor): Tensor {
    return this.forwardWith(x, 'none');
  }
  /** act(conv2d(x) + bias) in one op, the activation fused into the kernel's epilogue (Sequential uses it for Conv2d + activation pairs). */
  forwardWith(x: Tensor, activation: ActOp): Tensor {
    this.checkInput(x, 4);
    const { stride, padding, dilation, groups } = this.opts as ConvLayerOptions;
    const o: Conv2dOptions = { stride, padding, dilation, groups, activation };
    return this.run(() => conv2d(x, this.weight, this.bias, o));
  }
}

/**
 * 1-D convolution (nn.Conv1d) on x [N, inChannels, L].
 * @throws naming Conv1d for a bad argument or input.
 */
export class Conv1d extends ConvBase {
  constructor(inChannels: number, outChannels: number, kernelSize: number, options: ConvLayerOptions = {}) {
    checkOptions('Conv1d', options, [...KEYS]);
    for (const k of ['stride', 'padding', 'dilation'] as const) {
      if (Array.isArray(options[k])) throw new Error(`fathom.Conv1d: options.${k} must be a number${k === 'padding' ? ", 'same' or 'valid'" : ''}, got ${describeValue(options[k])}`);
    }
    super('Conv1d', inChannels, outChannels, kernelSize, 1, false, options);
  }
  forward(x: Tensor): Tensor {
    return this.forwardWith(x, 'none');
  }
  /** act(conv1d(x) + bias) in one op, as Conv2d.forwardWith. */
  forwardWith(x: Tensor, activation: ActOp): Tensor {
    this.checkInput(x, 3);
    const { stride, padding, dilation, groups } = this.opts as ConvLayerOptions;
    const o = { stride, padding, dilation, groups, activation } as Conv1dOptions;
    return this.run(() => conv1d(x, this.weight, this.bias, o));
  }
}

/**
 * 2-D transposed convolution (nn.ConvTranspose2d), the gradient of Conv2d
 * with respect to its input: x [N, inChannels, H, W] → [N, outChannels,
 * (H − 1)·stride − 2·padding + dilation·(kH − 1) + outputPadding + 1, …].
 * @throws naming ConvTranspose2d for a bad argument or input.
 */
export class ConvTranspose2d extends ConvBase {
  constructor(inChannels: number, outChannels: number, kernelSize: ConvSize, options: ConvTransposeLayerOptions = {}) {
    checkOptions('ConvTranspose2d', options, [...KEYS, 'outputPadding']);
    super('ConvTranspose2d', inChannels, outChannels, kernelSize, 2, true, options);
  }
  forward(x: Tensor): Tensor {
    this.checkInput(x, 4);
    const { stride, padding, dilation, groups, outputPadding } = this.opts as ConvTransposeLayerOptions;
    const o: ConvTranspose2dOptions = { stride, padding, dilation, groups, outputPadding };
    return this.run(() => convTranspose2d(x, this.weight, this.bias, o));
  }
}

for (const C of [Conv1d, Conv2d, ConvTranspose2d]) fixedStructure.add(C);
