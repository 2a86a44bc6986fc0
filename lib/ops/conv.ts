/**
 * Convolutions, PyTorch's semantics and names: NCHW tensors,
 * weights [outC, inC/groups, kH, kW] (transposed: [inC, outC/groups, kH, kW]),
 * cross-correlation as torch.nn.functional.conv2d computes it.
 *
 * Kernels: Backend.conv2d / conv2dBackwardData / conv2dBackwardWeight (native:
 * im2col + the packed GEMM, threaded over the batch; TS: direct loops). The
 * transposed convolution's forward is conv2d's data gradient and its data
 * gradient is conv2d: the same three kernels serve both. The bias is added by
 * conv2d's kernel epilogue (with an optional activation); convTranspose2d's by a
 * broadcast add (its gradient is the usual sum over N, H, W).
 */
import { kernels as backend } from '../backend/index.js';
import type { ActOp, ConvGeometry } from '../backend/backend.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue, fmt } from '../tensor/shape.js';
import { checkFloat, empty, record } from './record.js';
import { checkOptions } from './options.js';
import { add } from './elementwise.js';
import { reshape } from './linalg.js';

/** A size per spatial dimension: one number for all, or [h, w]. */
export type ConvSize = number | readonly [number, number];

export interface Conv2dOptions {
  /** Step of the window (default 1). */
  stride?: ConvSize;
  /** Zeros added on each side (default 0), or 'valid' (none) or 'same' (output as large as the input; stride 1 only). */
  padding?: ConvSize | 'same' | 'valid';
  /** Spacing between kernel elements (default 1). */
  dilation?: ConvSize;
  /** Blocked connections: inC and outC split into `groups` (default 1; = inC is depthwise). */
  groups?: number;
  /**
   * An activation fused into the kernel's epilogue with the bias, as `linear` has:
   * 'none' (default), 'relu', 'sigmoid' or 'tanh' (a fathom extension; PyTorch applies it after).
   */
  activation?: ActOp;
}
export interface Conv1dOptions {
  stride?: number;
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
  /** As Conv2dOptions.activation. */
  activation?: ActOp;
}
export interface ConvTranspose2dOptions {
  stride?: ConvSize;
  /** As PyTorch: dilation·(k − 1) − padding zeros are implicitly added to each side; the output shrinks by 2·padding (default 0). */
  padding?: ConvSize;
  /** Extra rows/columns on the bottom/right of the output (default 0), smaller than stride or dilation. */
  outputPadding?: ConvSize;
  dilation?: ConvSize;
  groups?: number;
}

const MAX_I32 = 0x7fffffff;
const ACTS: readonly ActOp[] = ['none', 'relu', 'sigmoid', 'tanh'];

function int(op: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > MAX_I32) {
    throw new Error(`fathom.${op}: ${name} must be an integer >= ${min}, got ${describeValue(v)}`);
  }
  return v;
}

function pair(op: string, name: string, v: unknown, dflt: number, min: number, dims: 1 | 2): [number, number] {
  if (v === undefined) return [dflt, dflt];
  if (typeof v === 'number') return [int(op, name, v, min), int(op, name, v, min)];
  if (dims === 2 && Array.isArray(v) && v.length === 2) return [int(op, `${name}[0]`, v[0], min), int(op, `${name}[1]`, v[1], min)];
  const want = dims === 2 ? `an integer >= ${min} or a pair [h, w]` : `an integer >= ${min}`;
  throw new Error(`fathom.${op}: ${name} must be ${want}, got ${describeValue(v)}`);
}

const hw = (a: readonly [number, number], dims: 1 | 2): string => (dims === 2 ? `${a[0]}×${a[1]}` : `${a[1]}`);
const showPad = (p: [number, number], q: [number, number], dims: 1 | 2): string =>
  dims === 1 ? `${p[1]}${q[1] !== p[1] ? `+${q[1]}` : ''}` : p[0] === q[0] && p[1] === q[1] ? (p[0] === p[1] ? `${p[0]}` : `[${p[0]}, ${p[1]}]`) : `[${p[0]}+${q[0]}, ${p[1]}+${q[1]}]`;

interface Parsed {
  stride: [number, number];
  dilation: [number, number];
  groups: number;
}

function common(op: string, opts: { stride?: unknown; dilation?: unknown; groups?: unknown }, dims: 1 | 2): Parsed {
  const s = pair(op, 'stride', opts.stride, 1, 1, dims);
  const d = pair(op, 'dilation', opts.dilation, 1, 1, dims);
  const groups = opts.groups === undefined ? 1 : int(op, 'groups', opts.groups, 1);
  if (dims === 1) { s[0] = 1; d[0] = 1; }
  return { stride: s, dilation: d, groups };
}

/**
 * @internal The tensor-free settings checks of conv2d/conv1d (transposed:
 * convTranspose2d), with the ops' own messages: stride, dilation, groups,
 * padding's form ('same' only with stride 1), outputPadding < stride or
 * dilation. The layers run it at construction.
 * @throws `fathom.<op>: <setting> must be …`.
 */
export function checkConvSettings(op: string, o: { stride?: unknown; padding?: unknown; dilation?: unknown; groups?: unknown; outputPadding?: unknown }, dims: 1 | 2, transposed: boolean): void {
  const { stride, dilation } = common(op, o, dims);
  if (transposed) {
    if (typeof o.padding === 'string') throw new Error(`fathom.${op}: padding must be a number or a pair [padH, padW], got ${describeValue(o.padding)}`);
    pair(op, 'padding', o.padding, 0, 0, 2);
    const opad = pair(op, 'outputPadding', o.outputPadding, 0, 0, 2);
    for (let i = 0; i < 2; i++) {
      if (opad[i] >= stride[i] && opad[i] >= dilation[i]) {
        throw new Error(`fathom.${op}: outputPadding ${hw(opad, 2)} must be smaller than stride ${hw(stride, 2)} or dilation ${hw(dilation, 2)}`);
      }
    }
    return;
  }
  if (o.padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) throw new Error(`fathom.${op}: padding 'same' needs stride 1, got stride ${hw(stride, dims)}`);
  } else if (o.padding !== 'valid') {
    if (typeof o.padding === 'string') throw new Error(`fathom.${op}: padding must be a number, a pair, 'same' or 'valid', got ${describeValue(o.padding)}`);
    pair(op, 'padding', o.padding, 0, 0, dims);
  }
}

const layoutOf = (dims: 1 | 2): string => (dims === 2 ? '[N, C, H, W]' : '[N, C, L]');
const wLayoutOf = (dims: 1 | 2, t: boolean): string =>
  t ? '[inC, outC/groups, kH, kW]' : dims === 2 ? '[outC, inC/groups, kH, kW]' : '[outC, inC/groups, K]';

/** x, w (and bias) of a convolution, checked; returns them as rank-4 tensors (conv1d: H = 1). */
function operands(op: string, x: Tensor, w: Tensor, b: Tensor | null | undefined, dims: 1 | 2, transposed: boolean, groups: number) {
  checkFloat(op, 'x', x);
  checkFloat(op, 'weight', w);
  const rank = dims + 2;
  if (x.rank !== rank) throw new Error(`fathom.${op}: expected input x ${layoutOf(dims)}, got ${fmt(x.shape)}`);
  if (w.rank !== rank) throw new Error(`fathom.${op}: expected weight ${wLayoutOf(dims, transposed)}, got ${fmt(w.shape)}`);
  const x4 = dims === 2 ? x.shape : [x.shape[0], x.shape[1], 1, x.shape[2]];
  const w4 = dims === 2 ? w.shape : [w.shape[0], w.shape[1], 1, w.shape[2]];
  const [, C] = x4;
  let inC: number, outC: number;
  if (transposed) {
    inC = w4[0];
    outC = w4[1] * groups;
    if (inC % groups !== 0) throw new Error(`fathom.${op}: weight ${fmt(w.shape)} has ${inC} input channels, not divisible by groups = ${groups}`);
    if (C !== inC) {
      throw new Error(`fathom.${op}: expected input x [N, ${inC}, ${dims === 2 ? 'H, W' : 'L'}] for weight ${fmt(w.shape)}, got ${fmt(x.shape)}`);
    }
  } else {
    outC = w4[0];
    inC = w4[1] * groups;
    if (outC % groups !== 0) throw new Error(`fathom.${op}: weight ${fmt(w.shape)} has ${outC} output channels, not divisible by groups = ${groups}`);
    if (C !== inC) {
      throw new Error(`fathom.${op}: expected input x [N, ${inC}, ${dims === 2 ? 'H, W' : 'L'}] for weight ${fmt(w.shape)}${groups > 1 ? ` and groups = ${groups}` : ''}, got ${fmt(x.shape)}`);
    }
  }
  if (w4[2] < 1 || w4[3] < 1 || w4[1] < 1 || w4[0] < 1) throw new Error(`fathom.${op}: weight ${fmt(w.shape)} must have no zero dimension`);
  if (b !== null && b !== undefined) {
    checkFloat(op, 'bias', b);
    if (b.rank !== 1 || b.shape[0] !== outC) throw new Error(`fathom.${op}: expected bias [${outC}], got ${fmt(b.shape)}`);
  }
  return { x4, w4, inC, outC };
}

function withBias(y: Tensor, b: Tensor | null | undefined, outC: number): Tensor {
  if (b === null || b === undefined) return y;
  return add(y, reshape(b, [1, outC, 1, 1]));
}

/** conv2d or conv1d (dims 1: H = 1, the op name and shapes as 1-D). */
function convForward(op: string, dims: 1 | 2, x: Tensor, w: Tensor, b: Tensor | null | undefined, opts: object | undefined): Tensor {
  const o = checkOptions(op, opts as Conv2dOptions, ['stride', 'padding', 'dilation', 'groups', 'activation']) as Conv2dOptions;
  const act = o.activation ?? 'none';
  if (!ACTS.includes(act)) throw new Error(`fathom.${op}: activation must be one of ${ACTS.join(', ')}, got ${describeValue(o.activation)}`);
  const { stride, dilation, groups } = common(op, o, dims);
  const { x4, w4, outC } = operands(op, x, w, b, dims, false, groups);
  const [n, c, h, W] = x4;
  const [, , kh, kw] = w4;
  const span = [dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1];
  let padLo: [number, number], padHi: [number, number];
  if (o.padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) throw new Error(`fathom.${op}: padding 'same' needs stride 1, got stride ${hw(stride, dims)}`);
    padLo = [Math.floor((span[0] - 1) / 2), Math.floor((span[1] - 1) / 2)];
    padHi = [span[0] - 1 - padLo[0], span[1] - 1 - padLo[1]];
  } else if (o.padding === 'valid') {
    padLo = [0, 0];
    padHi = [0, 0];
  } else {
    if (typeof o.padding === 'string') throw new Error(`fathom.${op}: padding must be a number, a pair, 'same' or 'valid', got ${describeValue(o.padding)}`);
    padLo = pair(op, 'padding', o.padding, 0, 0, dims);
    if (dims === 1) padLo[0] = 0;
    padHi = [padLo[0], padLo[1]];
  }
  const inH = h + padLo[0] + padHi[0], inW = W + padLo[1] + padHi[1];
  if (inH < span[0] || inW < span[1]) {
    const k = dims === 2 ? `${kh}×${kw}` : `${kw}`;
    const dil = dilation[0] !== 1 || dilation[1] !== 1 ? ` (${dims === 2 ? `${span[0]}×${span[1]}` : span[1]} with dilation ${hw(dilation, dims)})` : '';
    throw new Error(`fathom.${op}: input x ${fmt(x.shape)} with padding ${showPad(padLo, padHi, dims)} is smaller than the kernel ${k}${dil}; the output would be empty`);
  }
  const oh = Math.floor((inH - span[0]) / stride[0]) + 1;
  const ow = Math.floor((inW - span[1]) / stride[1]) + 1;
  const g: ConvGeometry = {
    n, c, h, w: W, o: outC, kh, kw, strideH: stride[0], strideW: stride[1], padH: padLo[0], padW: padLo[1],
    dilationH: dilation[0], dilationW: dilation[1], groups, oh, ow,
  };
  const y = empty(dims === 2 ? [n, outC, oh, ow] : [n, outC, ow], op);
  if (y.size > 0) backend().conv2d(g, x.f32(), w.f32(), b ? b.f32() : null, act, y.f32());
  return record(y, 'conv2d', b ? [x, w, b] : [x, w], { geom: g, activation: act });
}

/**
 * 2-D convolution (cross-correlation) as torch.nn.functional.conv2d:
 * x [N, C, H, W], weight [outC, C/groups, kH, kW], bias [outC] (optional) →
 * [N, outC, oH, oW] with oH = ⌊(H + 2·padH − dilH·(kH − 1) − 1) / strideH⌋ + 1.
 * padding: a number, a pair [padH, padW], 'valid' (0) or 'same' (stride 1 only;
 * an even dilated kernel pads one more on the bottom/right, as PyTorch).
 * @throws naming conv2d, the argument, what was expected and what came; when
 *   the padded input is smaller than the (dilated) kernel.
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: Conv2dOptions): Tensor {
  return convForward('conv2d', 2, x, weight, bias, opts);
}

/** 1-D convolution as torch.nn.functional.conv1d: x [N, C, L], weight [outC, C/groups, K] → [N, outC, oL]; conv2d with H = 1. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: Conv1dOptions): Tensor {
  return convForward('conv1d', 1, x, weight, bias, opts);
}

/**
 * Transposed 2-D convolution as torch.nn.functional.conv_transpose2d (the
 * gradient of conv2d with respect to its input): x [N, inC, H, W], weight
 * [inC, outC/groups, kH, kW], bias [outC] → [N, outC, oH, oW] with
 * oH = (H − 1)·strideH − 2·padH + dilH·(kH − 1) + outputPaddingH + 1.
 * outputPadding must be smaller than stride or dilation (as PyTorch).
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts?: ConvTranspose2dOptions): Tensor {
  const op = 'convTranspose2d';
  const o = checkOptions(op, opts, ['stride', 'padding', 'outputPadding', 'dilation', 'groups']);
  const { stride, dilation, groups } = common(op, o, 2);
  if (typeof o.padding === 'string') throw new Error(`fathom.${op}: padding must be a number or a pair [padH, padW], got ${describeValue(o.padding)}`);
  const pad = pair(op, 'padding', o.padding, 0, 0, 2);
  const opad = pair(op, 'outputPadding', o.outputPadding, 0, 0, 2);
  for (let i = 0; i < 2; i++) {
    if (opad[i] >= stride[i] && opad[i] >= dilation[i]) {
      throw new Error(`fathom.${op}: outputPadding ${hw(opad, 2)} must be smaller than stride ${hw(stride, 2)} or dilation ${hw(dilation, 2)}`);
    }
  }
  const { x4, w4, outC } = operands(op, x, weight, bias, 2, true, groups);
  const [n, inC, h, W] = x4;
  const [, , kh, kw] = w4;
  const oh = (h - 1) * stride[0] - 2 * pad[0] + dilation[0] * (kh - 1) + opad[0] + 1;
  const ow = (W - 1) * stride[1] - 2 * pad[1] + dilation[1] * (kw - 1) + opad[1] + 1;
  if (h < 1 || W < 1 || oh < 1 || ow < 1) {
    throw new Error(`fathom.${op}: input x ${fmt(x.shape)} with kernel ${kh}×${kw}, stride ${hw(stride, 2)} and padding ${hw(pad, 2)} gives an output of ${oh}×${ow}; the output would be empty`);
  }
  // As a convolution from the output space: conv input [n, outC, oh, ow], conv output [n, inC, h, W].
  const g: ConvGeometry = {
    n, c: outC, h: oh, w: ow, o: inC, kh, kw, strideH: stride[0], strideW: stride[1], padH: pad[0], padW: pad[1],
    dilationH: dilation[0], dilationW: dilation[1], groups, oh: h, ow: W,
  };
  const y = empty([n, outC, oh, ow], op);
  if (y.size > 0) backend().conv2dBackwardData(g, x.f32(), weight.f32(), y.f32());
  return withBias(record(y, 'convTranspose2d', [x, weight], { geom: g }), bias, outC);
}
