/**
 * Recurrent cells and the whole-sequence recurrence, PyTorch's semantics and
 * layouts (torch.nn.LSTM / GRU / RNN, torch.nn.LSTMCell / GRUCell / RNNCell;
 * the equations of their docs, gate order i, f, g, o and r, z, n).
 *
 * Dimensions: N batch, T time steps, I input features, H hidden size, G gates
 * (lstm 4, gru 3, rnnTanh / rnnRelu 1).
 *
 * The input projection for every step is the caller's one GEMM
 * (xProj = x W_ihᵀ + b_ih, [N, T, G·H]); rnnSequence runs the recurrence:
 * per step the recurrent product h W_hhᵀ + b_hh and the gate non-linearities.
 *
 * Kernels: Backend.rnnForward / rnnBackward, one call each per sequence (native:
 * native/kernels/rnn.{h,cc}, the packed GEMM per step and the gates fused in one
 * pass, threaded; TS: lib/backend/ts/kernels/rnn.ts, the reference). The cells
 * are one step of it after their own input GEMM.
 */
import { Tensor } from '../tensor/tensor.js';
import { describeValue, fmt } from '../tensor/shape.js';
import { kernels as backend } from '../backend/index.js';
import { rnnWorkspaceSize, type RnnGeometry } from '../backend/backend.js';
import { needsGrad, type Node } from '../autograd/tape.js';
import { checkFloat, empty, record } from './record.js';
import { checkOptions, optBool } from './options.js';
import { add } from './elementwise.js';
import { matmul, reshape } from './linalg.js';
import { narrow } from './shape.js';

/** The recurrence: 'lstm' (G = 4), 'gru' (G = 3), 'rnnTanh' and 'rnnRelu' (G = 1). */
export type RnnMode = 'lstm' | 'gru' | 'rnnTanh' | 'rnnRelu';

export interface RnnSequenceOptions {
  /** Int32Array [N]: sequence i stops after lengths[i] steps (each in [0, T]; default T for all). */
  lengths?: Int32Array | null;
  /** Run the recurrence from each sequence's last valid step back to step 0 (default false). */
  reverse?: boolean;
}

export interface RnnSequenceResult {
  /** [N, T, H]: the hidden state after each step; zero at steps past a sequence's length. */
  output: Tensor;
  /** [N, H]: the hidden state at each sequence's length (h0 where the length is 0). */
  h: Tensor;
  /** [N, H] for lstm (the cell state at each sequence's length), else null. */
  c: Tensor | null;
}

const MODES: readonly RnnMode[] = ['lstm', 'gru', 'rnnTanh', 'rnnRelu'];

/** Gates per mode (G). */
export function rnnGates(mode: RnnMode): number {
  return mode === 'lstm' ? 4 : mode === 'gru' ? 3 : 1;
}

/** The checked geometry of an rnnSequence call. */
export interface RnnSequenceGeometry {
  mode: RnnMode;
  n: number;
  t: number;
  h: number;
  g: number;
  lengths: Int32Array | null;
  reverse: boolean;
}

/** Checks rnnSequence's arguments; returns the geometry. Errors name the op, the argument, expected and got. */
export function checkRnnSequence(
  op: string, mode: unknown, xProj: Tensor, h0: Tensor, c0: Tensor | null | undefined, wHh: Tensor, bHh: Tensor | null | undefined,
  opts: RnnSequenceOptions | undefined,
): RnnSequenceGeometry {
  if (!MODES.includes(mode as RnnMode)) throw new Error(`fathom.${op}: mode must be one of ${MODES.join(', ')}, got ${describeValue(mode)}`);
  const m = mode as RnnMode;
  const o = checkOptions(op, opts, ['lengths', 'reverse']);
  const reverse = optBool(op, 'reverse', o.reverse, false);
  checkFloat(op, 'wHh', wHh);
  checkFloat(op, 'xProj', xProj);
  checkFloat(op, 'h0', h0);
  const g = rnnGates(m);
  if (wHh.rank !== 2 || wHh.shape[0] !== g * wHh.shape[1] || wHh.shape[1] < 1) {
    throw new Error(`fathom.${op}: expected wHh [G·H, H] with G = ${g} for ${m} and H >= 1, got ${fmt(wHh.shape)}`);
  }
  const h = wHh.shape[1];
  if (xProj.rank !== 3 || xProj.shape[2] !== g * h || xProj.shape[1] < 1) {
    throw new Error(`fathom.${op}: expected xProj [N, T, ${g * h}] (T >= 1, G·H = ${g}·${h} for ${m}), got ${fmt(xProj.shape)}`);
  }
  const [n, t] = xProj.shape;
  if (h0.rank !== 2 || h0.shape[0] !== n || h0.shape[1] !== h) throw new Error(`fathom.${op}: expected h0 [${n}, ${h}] (N, H), got ${fmt(h0.shape)}`);
  if (m === 'lstm') {
    if (c0 === null || c0 === undefined) throw new Error(`fathom.${op}: lstm needs c0 [${n}, ${h}], got ${describeValue(c0)}`);
    checkFloat(op, 'c0', c0);
    if (c0.rank !== 2 || c0.shape[0] !== n || c0.shape[1] !== h) throw new Error(`fathom.${op}: expected c0 [${n}, ${h}] (N, H), got ${fmt(c0.shape)}`);
  } else if (c0 !== null && c0 !== undefined) {
    throw new Error(`fathom.${op}: c0 is for lstm only and must be null for ${m}, got ${describeValue(c0)}`);
  }
  if (bHh !== null && bHh !== undefined) {
    checkFloat(op, 'bHh', bHh);
    if (bHh.rank !== 1 || bHh.shape[0] !== g * h) throw new Error(`fathom.${op}: expected bHh [${g * h}] (G·H) or null, got ${fmt(bHh.shape)}`);
  }
  let lengths: Int32Array | null = null;
  if (o.lengths !== undefined && o.lengths !== null) {
    if (!(o.lengths instanceof Int32Array)) throw new Error(`fathom.${op}: lengths must be an Int32Array [N] or null, got ${describeValue(o.lengths)}`);
    if (o.lengths.length !== n) throw new Error(`fathom.${op}: expected lengths of length N = ${n}, got ${o.lengths.length}`);
    for (let i = 0; i < n; i++) {
      const L = o.lengths[i];
      if (L < 0 || L > t) throw new Error(`fathom.${op}: lengths[${i}] must be in [0, T = ${t}], got ${L}`);
    }
    lengths = o.lengths;
  }
  return { mode: m, n, t, h, g, lengths, reverse };
}

/**
 * The recurrence of torch.nn.LSTM / GRU / RNN (one layer, one direction) over a
 * whole sequence, from the projected input:
 * xProj [N, T, G·H] = x W_ihᵀ + b_ih for every step, h0 [N, H], c0 [N, H] (lstm
 * only, else null), wHh [G·H, H], bHh [G·H] or null → output [N, T, H], h [N, H],
 * c [N, H] (lstm) or null.
 * lstm: i, f, g, o = σ, σ, tanh, σ of (xProj_t + h W_hhᵀ + b_hh) in that order,
 *   c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c').
 * gru: r, z = σ(x_r + W_hr h + b_hr), σ(x_z + W_hz h + b_hz),
 *   n = tanh(x_n + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
 * rnnTanh / rnnRelu: h' = tanh / relu(xProj_t + h W_hhᵀ + b_hh).
 * opts.lengths (Int32Array [N], each in [0, T]; default T): steps past a
 * sequence's length leave its state unchanged and output zero, as PyTorch's
 * packed sequences; h and c are the state at the length (h0, c0 for length 0).
 * opts.reverse (default false): the recurrence runs from each sequence's last
 * valid step back to step 0 (the reverse direction of a bidirectional layer).
 * Differentiable with respect to xProj, h0, c0, wHh and bHh.
 * @throws naming rnnSequence and the argument: an unknown mode, shapes that do
 *   not agree (wHh [G·H, H] fixes G·H and H; T = 0 is refused, as PyTorch), c0
 *   missing for lstm or given for another mode, lengths not an Int32Array [N]
 *   with values in [0, T], an unknown option.
 */
export function rnnSequence(
  mode: RnnMode, xProj: Tensor, h0: Tensor, c0: Tensor | null, wHh: Tensor, bHh: Tensor | null, opts?: RnnSequenceOptions,
): RnnSequenceResult {
  const geo = checkRnnSequence('rnnSequence', mode, xProj, h0, c0, wHh, bHh, opts);
  const { n, t: T, h: H, lengths, reverse } = geo;
  const lstm = mode === 'lstm';
  const g: RnnGeometry = { mode, n, t: T, h: H, lengths: lengths ? Int32Array.from(lengths) : null, reverse };
  const inputs = [xProj, h0, wHh, ...(lstm ? [c0!] : []), ...(bHh ? [bHh] : [])];
  const nth = n * T * H, nh = n * H;
  const x = xProj.f32(), h0d = h0.f32(), c0d = lstm ? c0!.f32() : null, w = wHh.f32(), b = bHh ? bHh.f32() : null;
  if (!needsGrad(...inputs)) {
    const output = empty([n, T, H], 'rnnSequence'), h = empty([n, H], 'rnnSequence');
    const c = lstm ? empty([n, H], 'rnnSequence') : null;
    backend().rnnForward(g, x, h0d, c0d, w, b, output.f32(), h.f32(), c ? c.f32() : null, null);
    return { output, h, c };
  }
  // One recorded result: [output | h | c] flat, viewed as the three by narrow (whose
  // gradients add back into it); the workspace is saved for the one backward call.
  const packed = empty([nth + nh + (lstm ? nh : 0)], 'rnnSequence');
  const p = packed.f32();
  const ws = empty([rnnWorkspaceSize(g)], 'rnnSequence').f32();
  backend().rnnForward(g, x, h0d, c0d, w, b, p.subarray(0, nth), p.subarray(nth, nth + nh), lstm ? p.subarray(nth + nh) : null, ws);
  record(packed, 'rnnSequence', inputs, { g, ws, hasC: lstm, hasB: bHh !== null && bHh !== undefined });
  return {
    output: reshape(narrow(packed, 0, 0, nth), [n, T, H]),
    h: reshape(narrow(packed, 0, nth, nh), [n, H]),
    c: lstm ? reshape(narrow(packed, 0, nth + nh, nh), [n, H]) : null,
  };
}

/**
 * The gradient rule of rnnSequence (lib/autograd/gradients.ts): one backward kernel call
 * from the gradient of the packed [output | h | c] and the saved workspace; returns the
 * gradients in the recorded input order (xProj, h0, wHh, c0 when lstm, bHh when given).
 */
export function rnnSequenceBackward(node: Node, dy: Tensor): Tensor[] {
  const { g, ws, hasC, hasB } = node.saved as { g: RnnGeometry; ws: Float32Array; hasC: boolean; hasB: boolean };
  const [xProj, h0, wHh] = node.inputs;
  const c0 = hasC ? node.inputs[3] : null;
  const nth = g.n * g.t * g.h, nh = g.n * g.h;
  const d = dy.f32();
  const dx = empty(xProj.shape), dh0 = empty(h0.shape), dw = empty(wHh.shape);
  const dc0 = hasC ? empty(h0.shape) : null, db = hasB ? empty([wHh.shape[0]]) : null;
  backend().rnnBackward(
    g, wHh.f32(), ws, c0 ? c0.f32() : null, d.subarray(0, nth), d.subarray(nth, nth + nh), hasC ? d.subarray(nth + nh) : null,
    dx.f32(), dh0.f32(), dc0 ? dc0.f32() : null, dw.f32(), db ? db.f32() : null,
  );
  return [dx, dh0, dw, ...(dc0 ? [dc0] : []), ...(db ? [db] : [])];
}

function checkCell(op: string, x: Tensor, h: Tensor, wIh: Tensor, wHh: Tensor, bIh: Tensor | null | undefined, g: number): { batched: boolean; hs: number } {
  checkFloat(op, 'x', x);
  checkFloat(op, 'h', h);
  checkFloat(op, 'wIh', wIh);
  checkFloat(op, 'wHh', wHh);
  if (wHh.rank !== 2 || wHh.shape[0] !== g * wHh.shape[1] || wHh.shape[1] < 1) {
    throw new Error(`fathom.${op}: expected wHh [${g}·H, H] (H >= 1), got ${fmt(wHh.shape)}`);
  }
  const hs = wHh.shape[1];
  if (wIh.rank !== 2 || wIh.shape[0] !== g * hs) throw new Error(`fathom.${op}: expected wIh [${g * hs}, I] (${g}·H, I), got ${fmt(wIh.shape)}`);
  const I = wIh.shape[1];
  if (x.rank !== 1 && x.rank !== 2) throw new Error(`fathom.${op}: expected x [N, ${I}] or [${I}] (N, I), got ${fmt(x.shape)}`);
  if (x.shape[x.rank - 1] !== I) throw new Error(`fathom.${op}: expected x [N, ${I}] or [${I}] (N, I) for wIh ${fmt(wIh.shape)}, got ${fmt(x.shape)}`);
  const want = x.rank === 2 ? [x.shape[0], hs] : [hs];
  if (h.rank !== want.length || h.shape.some((d, i) => d !== want[i])) throw new Error(`fathom.${op}: expected h ${fmt(want)}, got ${fmt(h.shape)}`);
  if (bIh !== null && bIh !== undefined) {
    checkFloat(op, 'bIh', bIh);
    if (bIh.rank !== 1 || bIh.shape[0] !== g * hs) throw new Error(`fathom.${op}: expected bIh [${g * hs}] (${g}·H) or null, got ${fmt(bIh.shape)}`);
  }
  return { batched: x.rank === 2, hs };
}

/** One step through rnnSequence: xProj = x W_ihᵀ + b_ih as [N, 1, G·H]. */
function cellStep(
  op: string, mode: RnnMode, x: Tensor, h: Tensor, c: Tensor | null, wIh: Tensor, wHh: Tensor, bIh: Tensor | null | undefined, bHh: Tensor | null | undefined,
): RnnSequenceResult & { batched: boolean } {
  const g = rnnGates(mode);
  const { batched, hs } = checkCell(op, x, h, wIh, wHh, bIh, g);
  const x2 = batched ? x : reshape(x, [1, x.shape[0]]);
  const h2 = batched ? h : reshape(h, [1, hs]);
  let c2: Tensor | null = null;
  if (mode === 'lstm') {
    checkFloat(op, 'c', c);
    if (c!.rank !== h.rank || c!.shape.some((d, i) => d !== h.shape[i])) throw new Error(`fathom.${op}: expected c ${fmt(h.shape)} (as h), got ${fmt(c!.shape)}`);
    c2 = batched ? c : reshape(c!, [1, hs]);
  }
  let proj = matmul(x2, wIh, { transB: true });
  if (bIh) proj = add(proj, bIh);
  const n = x2.shape[0];
  try {
    return { ...rnnSequence(mode, reshape(proj, [n, 1, g * hs]), h2, c2, wHh, bHh ?? null), batched };
  } catch (e) {
    throw new Error((e as Error).message.replace('fathom.rnnSequence:', `fathom.${op}:`));
  }
}

/**
 * One LSTM step as torch.nn.LSTMCell: x [N, I] (or [I], unbatched), h, c [N, H]
 * (or [H]), wIh [4H, I], wHh [4H, H], bIh, bHh [4H] (optional) → [h', c'] with
 * i, f, g, o = σ, σ, tanh, σ of (x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), c' = f ⊙ c + i ⊙ g,
 * h' = o ⊙ tanh(c').
 * @throws naming lstmCell and the argument whose shape does not agree.
 */
export function lstmCell(x: Tensor, h: Tensor, c: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Tensor | null, bHh?: Tensor | null): [Tensor, Tensor] {
  const r = cellStep('lstmCell', 'lstm', x, h, c, wIh, wHh, bIh, bHh);
  return r.batched ? [r.h, r.c!] : [reshape(r.h, h.shape), reshape(r.c!, h.shape)];
}

/**
 * One GRU step as torch.nn.GRUCell: x [N, I] (or [I]), h [N, H] (or [H]),
 * wIh [3H, I], wHh [3H, H], bIh, bHh [3H] (optional) → h'; gates r, z, n as
 * rnnSequence's 'gru'.
 * @throws naming gruCell and the argument whose shape does not agree.
 */
export function gruCell(x: Tensor, h: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Tensor | null, bHh?: Tensor | null): Tensor {
  const r = cellStep('gruCell', 'gru', x, h, null, wIh, wHh, bIh, bHh);
  return r.batched ? r.h : reshape(r.h, h.shape);
}

/**
 * One Elman RNN step as torch.nn.RNNCell: x [N, I] (or [I]), h [N, H] (or [H]),
 * wIh [H, I], wHh [H, H], bIh, bHh [H] (optional) → h' = act(x W_ihᵀ + b_ih +
 * h W_hhᵀ + b_hh), act = tanh (default) or relu.
 * @throws naming rnnCell: nonlinearity not 'tanh' or 'relu', or an argument whose shape does not agree.
 */
export function rnnCell(
  x: Tensor, h: Tensor, wIh: Tensor, wHh: Tensor, bIh?: Tensor | null, bHh?: Tensor | null, nonlinearity: 'tanh' | 'relu' = 'tanh',
): Tensor {
  if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') {
    throw new Error(`fathom.rnnCell: nonlinearity must be 'tanh' or 'relu', got ${describeValue(nonlinearity)}`);
  }
  const r = cellStep('rnnCell', nonlinearity === 'tanh' ? 'rnnTanh' : 'rnnRelu', x, h, null, wIh, wHh, bIh, bHh);
  return r.batched ? r.h : reshape(r.h, h.shape);
}
