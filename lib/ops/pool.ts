/**
 * Pooling ops (PyTorch semantics, NCHW): maxPool2d, avgPool2d,
 * adaptiveAvgPool2d, and flatten. Kernels: native/kernels/ref/pool.cc and
 * lib/backend/ts/kernels/pool.ts.
 */
import { kernels as backend } from '../backend/index.js';
import type { Pool2dGeom } from '../backend/backend.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue, fmt } from '../tensor/shape.js';
import { checkFloat, checkTensor, empty, record } from './record.js';
import { reshape } from './linalg.js';
import { checkOptions, optBool } from './options.js';

export interface MaxPool2dOptions {
  /** Window step; defaults to kernelSize. */
  stride?: number | readonly [number, number];
  /** Implicit -Infinity padding on each side, at most half the kernel. Default 0. */
  padding?: number | readonly [number, number];
  /** Spacing between window taps. Default 1. */
  dilation?: number | readonly [number, number];
  /** Round the output size up (the last window must still start inside the input or the left padding). Default false. */
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  ceilMode?: boolean;
  /** Count padded cells in the divisor. Default true (PyTorch's). */
  countIncludePad?: boolean;
  /** Divide every window by this instead of its cell count. */
  divisorOverride?: number;
}

/** A positive (or, with allowZero, non-negative) integer or a pair of them, as [h, w]. */
function pair(op: string, name: string, v: unknown, allowZero = false): [number, number] {
  const ok = (x: unknown): x is number =>
    typeof x === 'number' && Number.isSafeInteger(x) && x >= (allowZero ? 0 : 1) && x < 2 ** 31;
  const want = allowZero ? 'a non-negative integer' : 'a positive integer';
  if (ok(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1])) return [v[0], v[1]];
  throw new Error(`fathom.${op}: ${name} must be ${want} or a pair [h, w] of them, got ${Array.isArray(v) ? fmt(v as number[]) : describeValue(v)}`);
}

/** x must be a float32 [N, C, H, W] tensor. */
function checkInput(op: string, x: unknown): Tensor {
  const t = checkFloat(op, 'x', x);
  if (t.rank !== 4) throw new Error(`fathom.${op}: x must be [N, C, H, W], got ${fmt(t.shape)}`);
  return t;
}

/** PyTorch's pooling_output_shape for one axis. */
function outSize(n: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = n + 2 * p - d * (k - 1) - 1;
  if (span < 0) return 0;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= n + p) o--;
  return o;
}

interface Geometry { g: Pool2dGeom; shape: number[] }

/** Kernel, stride, padding, dilation (each [h, w]) and ceil mode, checked; shared with the nn layers. */
export interface PoolParams { k: [number, number]; s: [number, number]; p: [number, number]; d: [number, number]; ceil: boolean }

/**
 * Checks pooling arguments as maxPool2d/avgPool2d do (and the nn layers'
 * constructors): integers or pairs, padding at most half the kernel.
 */
export function poolParams(
  op: string, kernelSize: unknown, o: { stride?: unknown; padding?: unknown; dilation?: unknown; ceilMode?: unknown },
): PoolParams {
  const k = pair(op, 'kernelSize', kernelSize);
  const s = o.stride === undefined ? k : pair(op, 'stride', o.stride);
  const p = o.padding === undefined ? [0, 0] as [number, number] : pair(op, 'padding', o.padding, true);
  const d = o.dilation === undefined ? [1, 1] as [number, number] : pair(op, 'dilation', o.dilation);
  const ceil = optBool(op, 'ceilMode', o.ceilMode, false);
  if (2 * p[0] > k[0] || 2 * p[1] > k[1]) {
    throw new Error(`fathom.${op}: padding must be at most half the kernel size, got padding [${p[0]}, ${p[1]}] with kernelSize [${k[0]}, ${k[1]}]`);
  }
  return { k, s, p, d, ceil };
}

function geometry(
  op: string, x: Tensor, kernelSize: unknown, o: { stride?: unknown; padding?: unknown; dilation?: unknown; ceilMode?: unknown },
): Geometry {
  const { k: [kh, kw], s: [sh, sw], p: [ph, pw], d: [dh, dw], ceil } = poolParams(op, kernelSize, o);
  const [n, c, h, w] = x.shape;
  const oh = outSize(h, kh, sh, ph, dh, ceil), ow = outSize(w, kw, sw, pw, dw, ceil);
  if (oh < 1 || ow < 1) {
    const eff = dh > 1 || dw > 1 ? ` (dilated to ${dh * (kh - 1) + 1}×${dw * (kw - 1) + 1})` : '';
    throw new Error(
      `fathom.${op}: input ${fmt(x.shape)} with padding [${ph}, ${pw}] is smaller than the kernel ${kh}×${kw}${eff}; the output would be empty`,
    );
  }
  return { g: { nc: n * c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw }, shape: [n, c, oh, ow] };
}

/**
 * maxPool2d(x [N, C, H, W], kernelSize, { stride = kernelSize, padding = 0,
 * dilation = 1, ceilMode = false }) → [N, C, outH, outW], as PyTorch's
 * max_pool2d: out = ⌊(H + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1
 * (⌈⌉ in ceil mode, dropping a last window that would start in the right
 * padding). Padded cells never win. The gradient goes to the FIRST maximal
 * element of each window (row-major order); NaN counts as the maximum, and
 * in a window holding several NaNs the last one gets the gradient, as in
 * PyTorch (its CPU kernel takes val > max || isnan(val)).
 * @throws naming maxPool2d when x is not float32 [N, C, H, W], an option is
 *   not a positive integer (or pair), padding exceeds half the kernel, or
 *   the output would be empty.
 */
export function maxPool2d(x: Tensor, kernelSize: number | readonly [number, number], options: MaxPool2dOptions = {}): Tensor {
  const op = 'maxPool2d';
  checkInput(op, x);
  checkOptions(op, options, ['stride', 'padding', 'dilation', 'ceilMode']);
  const { g, shape } = geometry(op, x, kernelSize, options);
  const y = empty(shape, op);
  if (y.size > 0) backend().maxPool2d(g, x.f32(), y.f32());
  return record(y, op, [x], { g });
}

/**
 * avgPool2d(x [N, C, H, W], kernelSize, { stride = kernelSize, padding = 0,
 * ceilMode = false, countIncludePad = true, divisorOverride }) as PyTorch's
 * avg_pool2d: each output is the window's sum over its input cells divided
 * by divisorOverride, or by the window's size clipped to the padded input
 * (countIncludePad) or to the input.
 * @throws naming avgPool2d for a bad x or option, or an empty output.
 */
export function avgPool2d(x: Tensor, kernelSize: number | readonly [number, number], options: AvgPool2dOptions = {}): Tensor {
  const op = 'avgPool2d';
  checkInput(op, x);
  checkOptions(op, options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
  const cip = optBool(op, 'countIncludePad', options.countIncludePad, true);
  const dv = options.divisorOverride;
  if (dv !== undefined && !(Number.isSafeInteger(dv) && dv >= 1 && dv < 2 ** 31)) {
    throw new Error(`fathom.${op}: divisorOverride must be a positive integer, got ${describeValue(dv)}`);
  }
  const { g, shape } = geometry(op, x, kernelSize, { ...options, dilation: undefined });
  const y = empty(shape, op);
  if (y.size > 0) backend().avgPool2d(g, cip, dv ?? 0, x.f32(), y.f32());
  return record(y, op, [x], { g, cip, divisor: dv ?? 0 });
}

/**
 * adaptiveAvgPool2d(x [N, C, H, W], outputSize) → [N, C, oh, ow]: output
 * (i, j) averages rows ⌊i·H/oh⌋ … ⌈(i+1)·H/oh⌉ − 1 and the columns likewise
 * (PyTorch's windows). outputSize is a number or [oh, ow]; null in the pair
 * keeps that input size. outputSize 1 is global average pooling.
 * @throws naming adaptiveAvgPool2d for a bad x or outputSize, or H or W = 0.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly [number | null, number | null]): Tensor {
  const op = 'adaptiveAvgPool2d';
  checkInput(op, x);
  const [n, c, h, w] = x.shape;
  const [oh, ow] = adaptiveSize(op, outputSize, h, w);
  if (h === 0 || w === 0) {
    throw new Error(`fathom.${op}: input ${fmt(x.shape)} has an empty plane (H or W = 0); every output window would be empty`);
  }
  const g: Pool2dGeom = { nc: n * c, h, w, oh, ow, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1 };
  const y = empty([n, c, oh, ow], op);
  if (y.size > 0) backend().adaptiveAvgPool2d(g, x.f32(), y.f32());
  return record(y, op, [x], { g });
}

/** outputSize as [oh, ow] (null in a pair keeps that input size h or w); also checks the nn layer's argument. */
export function adaptiveSize(op: string, outputSize: unknown, h = 1, w = 1): [number, number] {
  const os = Array.isArray(outputSize) && outputSize.length === 2
    ? [outputSize[0] === null ? h : outputSize[0], outputSize[1] === null ? w : outputSize[1]]
    : outputSize;
  return pair(op, 'outputSize', os);
}

/**
 * flatten(x, startDim = 1, endDim = -1): merges dimensions startDim..endDim
 * into one (negative dims count from the end), as torch.flatten; a reshape,
 * so gradients flow through it. A scalar becomes [1].
 * @throws naming flatten when a dim is out of range or startDim > endDim.
 */
export function flatten(x: Tensor, startDim = 1, endDim = -1): Tensor {
  const op = 'flatten';
  checkTensor(op, 'x', x);
  if (x.rank === 0) return reshape(x, [1]);
  const norm = (name: string, d: unknown): number => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < -x.rank || d >= x.rank) {
      throw new Error(`fathom.${op}: ${name} must be an integer in [${-x.rank}, ${x.rank - 1}] for x ${fmt(x.shape)}, got ${describeValue(d)}`);
    }
    return d < 0 ? d + x.rank : d;
  };
  const s = norm('startDim', startDim), e = norm('endDim', endDim);
  if (s > e) throw new Error(`fathom.${op}: startDim (${startDim} → ${s}) must not come after endDim (${endDim} → ${e}) for x ${fmt(x.shape)}`);
  const mid = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return reshape(x, [...x.shape.slice(0, s), mid, ...x.shape.slice(e + 1)]);
}
