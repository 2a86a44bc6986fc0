/**
 * The Backend contract: one method per kernel family, the same on both
 * backends. `native` calls the C++ addon (native/kernels/kernels.h documents
 * each kernel); `ts` is plain TypeScript loops, the readable reference that
 * every native kernel is tested against.
 *
 * Conventions (mirroring kernels.h):
 *  - float32 row-major contiguous arrays; shapes are plain number arrays.
 *  - Outputs are passed in and overwritten; backward kernels write (never
 *    accumulate into) their d* output.
 *  - Every method validates its arguments before any loop runs (one spec for
 *    both backends, lib/backend/checked.ts) and throws an Error naming the op
 *    and the argument: `fathom.backend.<method>: ...`. Sizes are non-negative
 *    safe integers whose products stay <= 2^53 - 1; arrays are of the stated
 *    type, not detached, and exactly as long as the sizes say; scalars are
 *    finite in float32 and in range. The native binding re-checks what could
 *    crash or corrupt (errors `fathom.<method>: ...`).
 *  - An output never overlaps another argument, except where a method says
 *    "may be": element-wise outputs may be one of their inputs (the very same
 *    array), biasAct works in place, dz may be dy. Partial overlap is refused.
 */

import { UNARY_OP_NAMES, type UnaryOp } from './unary_table.js';

export type { UnaryOp } from './unary_table.js';
/** Unary op name → native id: the position in THE op table (lib/backend/unary_table.ts). */
export const Unary: Readonly<Record<UnaryOp, number>> = Object.freeze(
  Object.fromEntries(UNARY_OP_NAMES.map((op, i) => [op, i])) as Record<UnaryOp, number>,
);

export const Binary = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, eq: 6,
  // --- #11 natops --- comparisons: float32 1/0, NaN compares false except ne (IEEE, PyTorch)
  ne: 7, lt: 8, le: 9, gt: 10, ge: 11,
  // --- end #11 natops ---
} as const;
export type BinaryOp = keyof typeof Binary;

export const Reduce = { sum: 0, mean: 1, max: 2 } as const;
export type ReduceOp = keyof typeof Reduce;

export const Act = { none: 0, relu: 1, sigmoid: 2, tanh: 3 } as const;
export type ActOp = keyof typeof Act;

export interface SgdOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/**
 * The optimizers with per-parameter state (kernels.h: Optim), one kernel
 * signature for all: `optimStep(kind, w, g, s, o)`. Each kind lists the
 * options it reads and its state buffers in order (s[i] is used when
 * `states(o)[i]`; the others may be null). A new optimizer is one entry here,
 * one in kernels.h, its ref kernel and its TS twin.
 */
export const Optim = {
  /** s = [expAvg, expAvgSq, maxExpAvgSq (amsgrad)]. */
  adam: { id: 0, reads: ['beta1', 'beta2', 'decoupled', 'amsgrad'], states: (o: OptimOptions) => [true, true, o.amsgrad === true] },
  /** s = [sum]. */
  adagrad: { id: 1, reads: ['lrDecay'], states: () => [true, false, false] },
  /** s = [squareAvg, momentumBuffer (momentum > 0), gradAvg (centered)]. */
  rmsprop: { id: 2, reads: ['alpha', 'momentum', 'centered'], states: (o: OptimOptions) => [true, (o.momentum ?? 0) > 0, o.centered === true] },
  /** s = [squareAvg, accDelta]. */
  adadelta: { id: 3, reads: ['rho'], states: () => [true, true, false] },
  /** s = [expAvg, expInf]. */
  adamax: { id: 4, reads: ['beta1', 'beta2'], states: () => [true, true, false] },
} as const;
export type OptimKind = keyof typeof Optim;
/** Number of state buffer slots `s` of optimStep (unused ones null). */
export const OPTIM_STATES = 3;

/**
 * Hyper-parameters of optimStep (kernels.h: OptimHyper). lr, weightDecay >= 0,
 * eps > 0 and step >= 1 for every kind; each kind also needs the fields its
 * `Optim[kind].reads` lists. Ranges: beta1, beta2 in [0, 1); alpha, rho in
 * [0, 1]; momentum, lrDecay >= 0; all finite in float32 (betas stay below 1
 * and eps above 0 once rounded).
 */
export interface OptimOptions {
  lr: number;
  weightDecay: number;
  eps: number;
  /** This parameter's step count, t >= 1 (bias corrections, Adagrad's lr decay). */
  step: number;
  beta1?: number;
  beta2?: number;
  alpha?: number;
  rho?: number;
  momentum?: number;
  lrDecay?: number;
  /** Adam: AdamW's decoupled weight decay instead of L2 added to the gradient. */
  decoupled?: boolean;
  amsgrad?: boolean;
  centered?: boolean;
}

export interface Backend {
  readonly name: 'native' | 'ts';

  /**
   * y[i] = f(x[i]); p and q are the op's scalar parameters in the order of its
   * table entry (pow: p = exponent; leakyRelu: negativeSlope; elu: alpha;
   * softplus: beta, threshold), 0 for an op without. x === y is allowed.
   */
  unary(op: UnaryOp, x: Float32Array, y: Float32Array, p: number, q: number): void;
  /** dx[i] = dy[i] * f'(x[i]); y = f(x) is passed for ops that use it. dx may be x, y or dy. */
  unaryBackward(op: UnaryOp, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, p: number, q: number): void;
  /** out[i] = a[i] op b[i], all of the same length. out may be a or b. */
  binary(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /**
   * Broadcasting binary op: `out` is contiguous with `shape`; a and b are read
   * with element strides (0 on broadcast dimensions), each of length shape.length.
   * out may be an operand whose strides are the contiguous ones (read as written).
   */
  binaryBroadcast(
    op: BinaryOp, shape: readonly number[],
    a: Float32Array, aStrides: readonly number[],
    b: Float32Array, bStrides: readonly number[],
    out: Float32Array,
  ): void;
  /**
   * Reduction: x is contiguous with `shape`; element x[idx] goes to
   * out[sum(idx[d] * outStrides[d])] (outStrides[d] = 0 on reduced axes).
   * `out` is overwritten and holds exactly the elements the strides reach
   * (max index + 1); mean divides by x.length / out.length.
   */
  reduce(op: ReduceOp, shape: readonly number[], x: Float32Array, outStrides: readonly number[], out: Float32Array): void;

  /** Softmax (or log-softmax) over each row of length d. */
  softmax(n: number, d: number, x: Float32Array, y: Float32Array, log: boolean): void;
  softmaxBackward(n: number, d: number, y: Float32Array, dy: Float32Array, dx: Float32Array, log: boolean): void;
  /** Fused softmax cross-entropy with integer labels; writes probabilities, returns the mean loss. */
  xentLabels(n: number, d: number, logits: Float32Array, labels: Int32Array, prob: Float32Array): number;
  xentLabelsBackward(n: number, d: number, prob: Float32Array, labels: Int32Array, g: number, dlogits: Float32Array): void;
  /** Fused softmax cross-entropy with probability targets. */
  xentProbs(n: number, d: number, logits: Float32Array, target: Float32Array, prob: Float32Array): number;
  xentProbsBackward(n: number, d: number, prob: Float32Array, target: Float32Array, g: number, dlogits: Float32Array): void;
  /** mean((a - b)^2). */
  mse(a: Float32Array, b: Float32Array): number;
  /** da = g * 2 (a - b) / n. da may be a or b. */
  mseBackward(a: Float32Array, b: Float32Array, g: number, da: Float32Array): void;

  /** y (d x n) = x (n x d) transposed. */
  transpose2d(n: number, d: number, x: Float32Array, y: Float32Array): void;
  /** out[r] = index of the first maximum of row r; NaN counts as the maximum (first NaN wins). d > 0 when n > 0. */
  argmax(n: number, d: number, x: Float32Array, out: Int32Array): void;
  fill(y: Float32Array, value: number): void;
  /** y = x (same length); y may be x itself (a no-op). */
  copy(x: Float32Array, y: Float32Array): void;

  /** Philox4x32-10 counter-based uniform numbers in [lo, hi) (see kernels.h); lo <= hi, hi - lo finite in float32. */
  randUniform(y: Float32Array, seed: bigint, offset: bigint, lo: number, hi: number): void;
  /** Philox4x32-10 + Box-Muller normal numbers; std >= 0 and |mean| + 5.77 std finite in float32. */
  randNormal(y: Float32Array, seed: bigint, offset: bigint, mean: number, std: number): void;

  /** C = alpha * op(A) * op(B) + beta * C; op(A) is m x k, op(B) is k x n, all row-major contiguous. */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
  ): void;

  /**
   * Maxout over n groups of k consecutive values: y[r] = max_j x[r*k + j]
   * (x: n*k values, y: n). The first maximal element of a group wins, NaN
   * counting as the maximum (as argmax). k >= 1 when n > 0; y must not overlap x.
   */
  maxout(n: number, k: number, x: Float32Array, y: Float32Array): void;
  /** dx[r*k + j] = dy[r] at the winner of group r (recomputed from x), 0 elsewhere; dx overlaps nothing. */
  maxoutBackward(n: number, k: number, x: Float32Array, dy: Float32Array, dx: Float32Array): void;

  /** Fused layer epilogue, in place over rows of d: y = act(y + bias); bias may be null. */
  biasAct(n: number, d: number, y: Float32Array, bias: Float32Array | null, act: ActOp): void;
  /**
   * dz = dy * act'(y) from the activation's output y (dz may be dy);
   * dbias[j] = sum over rows of dz[:, j] when dbias is given.
   */
  biasActBackward(n: number, d: number, y: Float32Array, dy: Float32Array, dz: Float32Array, dbias: Float32Array | null, act: ActOp): void;
  // --- #13 rawinfer ---
  /**
   * Fused inference layer in one call: y [n, out] = act(x [n, in] · wᵀ + bias), w [out, in]
   * (PyTorch's layout), bias [out] or null. The same arithmetic as gemm(false, true, n, out, in,
   * 1, x, w, 0, y) then, when bias or act is given, biasAct(n, out, y, bias, act): bitwise the
   * same values. y is written (never read) and must not overlap x, w or bias.
   */
  linearForward(n: number, out: number, inF: number, x: Float32Array, w: Float32Array, bias: Float32Array | null, act: ActOp, y: Float32Array): void;
  // --- end #13 rawinfer ---
  // --- #13 infer ---
  /**
   * A chain of L fully connected layers in one call (a Sequential of nn.Linear + activation,
   * inference only): dims = [in, out_0, ..., out_{L-1}] (each >= 1), layer l takes
   * [n, dims[l]] to [n, dims[l + 1]] with ws[l] [dims[l + 1], dims[l]] (PyTorch's layout),
   * biases[l] [dims[l + 1]] or null and acts[l]; x is [n, dims[0]], y [n, dims[L]].
   * Bitwise the same values as linearForward layer after layer (intermediates are not kept).
   * The native kernel runs batch 1 and 2 on the calling thread and a larger batch as one
   * thread-pool job. y is written (never read) and must not overlap x or any weight or bias.
   */
  linearChain(
    n: number, dims: readonly number[], ws: readonly Float32Array[], biases: readonly (Float32Array | null)[],
    acts: readonly ActOp[], x: Float32Array, y: Float32Array,
  ): void;
  // --- end #13 infer ---

  /**
   * One SGD step over a parameter (PyTorch semantics). `v` is the momentum buffer.
   * lr, momentum, weightDecay >= 0, dampening in [0, 1], all finite in float32.
   */
  sgdStep(w: Float32Array, g: Float32Array, v: Float32Array, o: SgdOptions, first: boolean): void;
  /**
   * One step of a stateful optimizer (PyTorch semantics; the formulas are in
   * native/kernels/kernels.h next to OptimHyper): w and the state buffers
   * `s` (OPTIM_STATES slots, as `Optim[kind]` lists them; null where unused)
   * are updated in place. w, g and every buffer are separate arrays of the
   * same length.
   */
  optimStep(kind: OptimKind, w: Float32Array, g: Float32Array, s: ReadonlyArray<Float32Array | null>, o: OptimOptions): void;
  // ---- pooling: native/kernels/ref/pool.cc ----
  /** Max pool over g.nc planes (g.h × g.w → g.oh × g.ow); the first maximal cell of a window wins; NaN counts as the maximum, the last NaN winning (PyTorch's rule). */
  maxPool2d(g: Pool2dGeom, x: Float32Array, y: Float32Array): void;
  /** dx = 0, then dx[winner] += dy for every window (winner recomputed from x); dx overlaps nothing. */
  maxPool2dBackward(g: Pool2dGeom, x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** Average pool (g.dh = g.dw = 1); divisor > 0 overrides the window count (PyTorch's divisor_override). */
  avgPool2d(g: Pool2dGeom, countIncludePad: boolean, divisor: number, x: Float32Array, y: Float32Array): void;
  /** dx = 0, then dy / divisor spread over each window's input cells; dx overlaps nothing. */
  avgPool2dBackward(g: Pool2dGeom, countIncludePad: boolean, divisor: number, dy: Float32Array, dx: Float32Array): void;
  /** Adaptive average pool: reads g.nc, g.h, g.w, g.oh, g.ow (windows [⌊i·h/oh⌋, ⌈(i+1)·h/oh⌉)). */
  adaptiveAvgPool2d(g: Pool2dGeom, x: Float32Array, y: Float32Array): void;
  /** dx = 0, then dy / count spread over each window; dx overlaps nothing. */
  adaptiveAvgPool2dBackward(g: Pool2dGeom, dy: Float32Array, dx: Float32Array): void;
  // ---- end pooling ----

  // ---- dropout ----
  /**
   * Inverted dropout in one pass over the Philox stream of randUniform at (seed, offset):
   * element i is kept when its uniform u_i >= p (p in [0, 1]); mask[i] = kept ? scale : 0
   * and y[i] = x[i] * mask[i]. x, y, mask of one length; y may be x, mask overlaps neither.
   */
  dropout(x: Float32Array, y: Float32Array, mask: Float32Array, seed: bigint, offset: bigint, p: number, scale: number): void;

  // ---- normalisation ----
  /**
   * Per-channel statistics of x viewed as [n, c, s] (s: the product of the
   * spatial dims, 1 for [N, C]): mean[ch] and the biased variance varOut[ch]
   * over the channel's n·s values (double, two passes). n·s >= 1 when c > 0.
   */
  batchNormStats(n: number, c: number, s: number, x: Float32Array, mean: Float32Array, varOut: Float32Array): void;
  /**
   * y = (x - mean[ch]) / sqrt(var[ch] + eps) · weight[ch] + bias[ch] over x [n, c, s]
   * (weight 1, bias 0 when null); eps > 0; y may be x.
   */
  batchNormForward(
    n: number, c: number, s: number, x: Float32Array, mean: Float32Array, variance: Float32Array, eps: number,
    weight: Float32Array | null, bias: Float32Array | null, y: Float32Array,
  ): void;
  /**
   * Gradients of batchNormForward with respect to x (training: mean and variance
   * are the batch's own statistics and depend on x; eval: constants), weight
   * (Σ dy·xhat) and bias (Σ dy), each written when non-null.
   */
  batchNormBackward(
    n: number, c: number, s: number, x: Float32Array, dy: Float32Array, mean: Float32Array, variance: Float32Array,
    eps: number, weight: Float32Array | null, training: boolean,
    dx: Float32Array | null, dweight: Float32Array | null, dbias: Float32Array | null,
  ): void;
  /**
   * Layer norm over rows of d: y = (x - mean) · rstd · weight[j] + bias[j], with
   * the row's mean and rstd = 1 / sqrt(biased var + eps) written to mean, rstd (r values).
   */
  layerNormForward(
    r: number, d: number, x: Float32Array, weight: Float32Array | null, bias: Float32Array | null, eps: number,
    y: Float32Array, mean: Float32Array, rstd: Float32Array,
  ): void;
  /** Gradients of layerNormForward (from the saved mean and rstd), each written when non-null. */
  layerNormBackward(
    r: number, d: number, x: Float32Array, dy: Float32Array, mean: Float32Array, rstd: Float32Array,
    weight: Float32Array | null, dx: Float32Array | null, dweight: Float32Array | null, dbias: Float32Array | null,
  ): void;
  // ---- end normalisation ----
  // ---- conv ----
  /**
   * y [n, o, oh, ow] = act(conv2d(x [n, c, h, w], w [o, c/groups, kh, kw]) + bias[o]) (bias may be null),
   * PyTorch's cross-correlation (native/kernels/conv.h has the formula). padH/padW
   * are the top/left padding; oh/ow are given (any value >= 0: a bottom/right
   * padding other than padH/padW is implicit in them), every read is bounds-checked.
   * y overlaps neither input.
   */
  conv2d(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array | null, act: ActOp, y: Float32Array): void;
  /** dx [n, c, h, w] = conv2d's data gradient given dy [n, o, oh, ow] (overwritten; the transposed convolution). */
  conv2dBackwardData(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void;
  /** dw [o, c/groups, kh, kw] = conv2d's weight gradient given x and dy (overwritten). */
  conv2dBackwardWeight(g: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array): void;
  // --- #11 cells ---
  /**
   * The recurrence of torch.nn.LSTM / GRU / RNN over a whole sequence (native/kernels/rnn.h has
   * the equations): xProj [n, t, G·h], h0 [n, h], c0 [n, h] (lstm, else null), wHh [G·h, h],
   * bHh [G·h] or null → output [n, t, h], hN, cN [n, h] (cN: lstm, else null), and, when ws is
   * given, the workspace backward needs (rnnWorkspaceSize(g) floats). Every output overwritten.
   */
  rnnForward(
    g: RnnGeometry, xProj: Float32Array, h0: Float32Array, c0: Float32Array | null, wHh: Float32Array, bHh: Float32Array | null,
    output: Float32Array, hN: Float32Array, cN: Float32Array | null, ws: Float32Array | null,
  ): void;
  /**
   * Gradients of rnnForward from dOutput [n, t, h], dhN, dcN [n, h] (dcN: lstm) and the forward's
   * workspace: dxProj [n, t, G·h], dh0, dc0 (lstm), dwHh [G·h, h], dbHh [G·h] (when non-null), all
   * overwritten.
   */
  rnnBackward(
    g: RnnGeometry, wHh: Float32Array, ws: Float32Array, c0: Float32Array | null,
    dOutput: Float32Array, dhN: Float32Array, dcN: Float32Array | null,
    dxProj: Float32Array, dh0: Float32Array, dc0: Float32Array | null, dwHh: Float32Array, dbHh: Float32Array | null,
  ): void;
  // --- end #11 cells ---
  // --- #11 natops ---
  /**
   * torch.index_select on x viewed as (outer, n, inner): y (outer, m, inner) with
   * y[a, i, b] = x[a, idx[i], b]; idx [m] int32, each in [0, n) (checked before any read).
   * y overlaps neither input.
   */
  indexSelect(outer: number, n: number, inner: number, x: Float32Array, idx: Int32Array, m: number, y: Float32Array): void;
  /**
   * The backward of indexSelect (an index-add): dx (outer, n, inner) = 0, then
   * dx[a, idx[i], b] += dy[a, i, b] in a, i ascending order (repeats add up, deterministically).
   */
  indexSelectBackward(outer: number, n: number, inner: number, dy: Float32Array, idx: Int32Array, m: number, dx: Float32Array): void;
  /**
   * torch.gather on x viewed as (outer, n, inner): y (outer, m, inner) with
   * y[a, j, b] = x[a, idx[a, j, b], b]; idx (outer, m, inner) int32, each in [0, n) (checked
   * before any read). y overlaps neither input.
   */
  gather(outer: number, n: number, inner: number, x: Float32Array, idx: Int32Array, m: number, y: Float32Array): void;
  /**
   * The backward of gather (a scatter-add): dx (outer, n, inner) = 0, then
   * dx[a, idx[a, j, b], b] += dy[a, j, b] in a, j, b ascending order (repeats add up, deterministically).
   */
  gatherBackward(outer: number, n: number, inner: number, dy: Float32Array, idx: Int32Array, m: number, dx: Float32Array): void;
  /**
   * torch.cumsum along the middle axis of x (outer, n, inner), accumulated in float64 and rounded
   * on store; reverse sums from the end (cumsum's backward). y has x's length and does not overlap it.
   */
  cumsum(outer: number, n: number, inner: number, x: Float32Array, reverse: boolean, y: Float32Array): void;
  /**
   * torch.where over broadcast strides (as binaryBroadcast): out (contiguous, `shape`) =
   * cond[idx·condStrides] != 0 ? a[idx·aStrides] : b[idx·bStrides] (a NaN cond selects a).
   * out overlaps no operand.
   */
  whereBroadcast(
    shape: readonly number[], cond: Float32Array, condStrides: readonly number[],
    a: Float32Array, aStrides: readonly number[], b: Float32Array, bStrides: readonly number[], out: Float32Array,
  ): void;
  // --- end #11 natops ---
}

// --- #11 cells ---
/** The recurrences of Backend.rnnForward, with their native ids; G = 4, 3, 1, 1 gates. */
export const RnnKind = { lstm: 0, gru: 1, rnnTanh: 2, rnnRelu: 3 } as const;
export type RnnKindName = keyof typeof RnnKind;
/**
 * The geometry of Backend.rnnForward: n batch, t steps (>= 1), h hidden (>= 1); lengths [n]
 * (each in [0, t]) or null (t for all); reverse runs the steps t−1 … 0.
 */
export interface RnnGeometry {
  mode: RnnKindName;
  n: number; t: number; h: number;
  lengths: Int32Array | null;
  reverse: boolean;
}
/** Gates of a recurrence: lstm 4, gru 3, rnn 1. */
export const rnnGateCount = (mode: RnnKindName): number => (mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1);
/** Floats of rnnForward's workspace: n·t·h·(1 + G + extra), extra 1 for lstm and gru (kernels/rnn.h). */
export const rnnWorkspaceSize = (g: RnnGeometry): number =>
  g.n * g.t * g.h * (1 + rnnGateCount(g.mode) + (g.mode === 'lstm' || g.mode === 'gru' ? 1 : 0));
// --- end #11 cells ---

// ---- conv ----
/** The geometry of a 2-D convolution (Backend.conv2d): sizes are integers in [0, 2^31). */
export interface ConvGeometry {
  n: number; c: number; h: number; w: number;
  o: number; kh: number; kw: number;
  strideH: number; strideW: number;
  padH: number; padW: number;
  dilationH: number; dilationW: number;
  groups: number;
  oh: number; ow: number;
}
/** The fields of ConvGeometry in the order of the native binding's Int32Array (kernels/conv.h). */
export const CONV_GEOMETRY_FIELDS = [
  'n', 'c', 'h', 'w', 'o', 'kh', 'kw', 'strideH', 'strideW', 'padH', 'padW', 'dilationH', 'dilationW', 'groups', 'oh', 'ow',
] as const;
// ---- pooling ----
/**
 * Geometry of a 2-D pool: nc planes h × w → oh × ow; kernel kh × kw, stride
 * sh × sw, padding ph × pw, dilation dh × dw (avg pools: 1; the adaptive pool
 * reads only nc, h, w, oh, ow).
 */
export interface Pool2dGeom {
  nc: number; h: number; w: number; oh: number; ow: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
}
// ---- end pooling ----
