/**
 * Recurrent layers (PyTorch's torch.nn.RNN / LSTM / GRU and RNNCell /
 * LSTMCell / GRUCell): parameter names, shapes, gate order and
 * initialisation are PyTorch's, so a PyTorch state dict loads by name and
 * gives the same outputs (test/nn/rnn-torch.test.ts).
 *
 * Dimensions: N batch, T time steps, I inputSize, H hiddenSize, L numLayers,
 * D = 2 when bidirectional else 1, G gates (LSTM 4: i, f, g, o; GRU 3: r, z, n;
 * RNN 1). Layer l, direction d (suffix '' or '_reverse') holds
 *   weight_ih_l{l}{sfx} [G·H, I (l = 0) or D·H],  weight_hh_l{l}{sfx} [G·H, H],
 *   bias_ih_l{l}{sfx} [G·H],  bias_hh_l{l}{sfx} [G·H]   (biases when bias = true),
 * registered in that order (PyTorch's state_dict order), all initialised
 * U(−1/√H, 1/√H) as PyTorch's reset_parameters.
 *
 * Each layer and direction runs as one GEMM for the input projection of all
 * steps ([N·T, In] × W_ihᵀ + b_ih) and one rnnSequence call (lib/ops/rnn.ts:
 * the recurrence with its step GEMMs and fused gates).
 *
 * Training advice: clip the gradients (fit's `clipGradNorm: 1`, or
 * nn.utils.clipGradNorm before each step), since gradients through many steps
 * can explode; for long sequences, truncated back-propagation through time:
 * run chunks and carry the state detached (`{ h: r.h.detach(), c: r.c!.detach() }`).
 */
import { Tensor } from '../tensor/tensor.js';
import { concat, dropout, linear, narrow, permute, rand, reshape, stack, zeros } from '../ops/index.js';
import { gruCell, lstmCell, rnnCell, rnnSequence, type RnnMode } from '../ops/rnn.js';
import { checkOptions } from '../ops/options.js';
import { describe } from '../ops/record.js';
import { describeValue, fmt } from '../tensor/shape.js';
import { Module, fixedStructure, type ModuleConfig } from './module.js';

/** The most elements one Float32Array may hold. */
const MAX_PARAMS = 2 ** 31 - 1;

export type Nonlinearity = 'tanh' | 'relu';

export interface RNNOptions {
  /** L, stacked recurrent layers; layer l > 0 reads layer l − 1's output. Default 1. */
  numLayers?: number;
  /** Whether the layers have bias_ih and bias_hh. Default true. */
  bias?: boolean;
  /** Input and output as [N, T, ·] (true) or [T, N, ·] (false, PyTorch's default). Default false. */
  batchFirst?: boolean;
  /** Dropout probability on each layer's output except the last's, in train() mode only. Default 0. With numLayers 1 it has no effect and, as PyTorch, the constructor warns (process.emitWarning, code FATHOM_RNN_DROPOUT). */
  dropout?: number;
  /** A second, reversed direction per layer; outputs concatenated to D·H features. Default false. */
  bidirectional?: boolean;
  /** Seed of the initial weights (default: the global stream, see manualSeed). */
  seed?: number;
}

export interface SimpleRNNOptions extends RNNOptions {
  /** nn.RNN's activation: 'tanh' (default) or 'relu'. */
  nonlinearity?: Nonlinearity;
}

/** A recurrent state: h [L·D, N, H] (layers) or [N, H] (cells); c likewise, LSTM only. */
export interface RnnState {
  h?: Tensor | null;
  c?: Tensor | null;
}

export interface SequenceOptions {
  /**
   * Valid length of each sequence, [N] int32 values in [0, T] (PyTorch's
   * packed sequences): the output is zero past a sequence's length, the final
   * state is the state at its length, and the reverse direction starts at its
   * last valid step. Default: all T.
   */
  lengths?: Int32Array | Tensor | null;
}

/** The result of forwardWithState: output [N, T, D·H] (batchFirst) or [T, N, D·H]; h, c [L·D, N, H] (c LSTM only, else null). */
export interface RnnResult {
  output: Tensor;
  h: Tensor;
  c: Tensor | null;
}

const GATES: Record<RnnMode, number> = { lstm: 4, gru: 3, rnnTanh: 1, rnnRelu: 1 };

function positive(layer: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Error(`fathom.${layer}: ${name} must be a positive integer, got ${describeValue(v)}`);
  return v;
}

function flag(layer: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new Error(`fathom.${layer}: options.${name} must be a boolean, got ${describeValue(v)}`);
  return v;
}

function checkSeed(layer: string, seed: unknown): number | undefined {
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isFinite(seed))) throw new Error(`fathom.${layer}: options.seed must be a finite number, got ${describeValue(seed)}`);
  return seed as number | undefined;
}

function checkNonlinearity(layer: string, v: unknown): Nonlinearity {
  if (v === undefined) return 'tanh';
  if (v !== 'tanh' && v !== 'relu') throw new Error(`fathom.${layer}: options.nonlinearity must be 'tanh' or 'relu', got ${describeValue(v)}`);
  return v;
}

/** Runs an op, re-labelling its errors with the layer's name (fathom.rnnSequence: … → fathom.LSTM: …). */
function as<T>(layer: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('fathom.') && !e.message.startsWith(`fathom.${layer}:`)) {
      throw new Error(e.message.replace(/^fathom\.[A-Za-z0-9]+:/, `fathom.${layer}:`), { cause: e });
    }
    throw e;
  }
}

/** U(−bound, bound) of `shape`; seeds advance per parameter so each differs. */
function uniform(shape: number[], bound: number, seed: number | undefined, k: number): Tensor {
  return rand(shape, { low: -bound, high: bound, seed: seed === undefined ? undefined : seed + k });
}

// --- fix2: size bounds (checked before any shape list or tensor is built) ---
/** The most stacked layers a recurrent layer may have (PyTorch sets none; real models use 1–8). */
export const MAX_NUM_LAYERS = 1024;
/** The most parameter values (all tensors together) a recurrent layer may hold: 2^31 − 1 (8 GiB of float32). */
export const MAX_TOTAL_PARAMS = 2 ** 31 - 1;
/**
 * Refuses a numLayers over MAX_NUM_LAYERS, or sizes whose parameters would
 * exceed MAX_TOTAL_PARAMS values, computing the count arithmetically (no loop
 * over layers), so a hostile config fails at once. `op` names the caller.
 */
export function checkRecurrentSize(op: string, gates: number, inputSize: number, hiddenSize: number, numLayers: number, bias: boolean, bidirectional: boolean): void {
  if (numLayers > MAX_NUM_LAYERS) throw new Error(`fathom.${op}: numLayers must be at most ${MAX_NUM_LAYERS}, got ${numLayers}`);
  const D = bidirectional ? 2 : 1, gh = gates * hiddenSize;
  const total = D * (gh * (inputSize + hiddenSize) + (numLayers - 1) * gh * (D * hiddenSize + hiddenSize) + (bias ? numLayers * 2 * gh : 0));
  if (!(total <= MAX_TOTAL_PARAMS)) {
    throw new Error(`fathom.${op}: inputSize ${inputSize}, hiddenSize ${hiddenSize}, numLayers ${numLayers}${D === 2 ? ', bidirectional' : ''} need ${total} parameter values; at most ${MAX_TOTAL_PARAMS}`);
  }
}
// --- end fix2 ---

/**
 * The parameter names and shapes of a stacked recurrent layer, in PyTorch's
 * state_dict order (used by the constructor and by the registry's shape check).
 */
export function rnnParameterShapes(gates: number, inputSize: number, hiddenSize: number, numLayers: number, bias: boolean, bidirectional: boolean): [string, number[]][] {
  const out: [string, number[]][] = [];
  const dirs = bidirectional ? 2 : 1;
  const gh = gates * hiddenSize;
  for (let l = 0; l < numLayers; l++) {
    for (let d = 0; d < dirs; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      out.push([`weight_ih${sfx}`, [gh, l === 0 ? inputSize : dirs * hiddenSize]], [`weight_hh${sfx}`, [gh, hiddenSize]]);
      if (bias) out.push([`bias_ih${sfx}`, [gh]], [`bias_hh${sfx}`, [gh]]);
    }
  }
  return out;
}

/** One layer-direction's weights. */
interface Cell {
  wIh: Tensor;
  wHh: Tensor;
  bIh: Tensor | null;
  bHh: Tensor | null;
}

/** The shared part of RNN, LSTM and GRU. */
abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** The parameters by their PyTorch names, as properties too: weight_ih_l0, bias_hh_l1_reverse, … */
  readonly [name: `weight_${string}` | `bias_${string}`]: Tensor;
  /** @internal cells[l·D + d]: the weights of layer l, direction d. */
  private readonly cells: Cell[] = [];

  protected constructor(
    protected readonly layer: string,
    protected readonly mode: RnnMode,
    readonly inputSize: number,
    readonly hiddenSize: number,
    opts: RNNOptions,
  ) {
    super();
    positive(layer, 'inputSize', inputSize);
    positive(layer, 'hiddenSize', hiddenSize);
    this.numLayers = positive(layer, 'options.numLayers', opts.numLayers ?? 1);
    this.bias = flag(layer, 'bias', opts.bias, true);
    this.batchFirst = flag(layer, 'batchFirst', opts.batchFirst, false);
    this.bidirectional = flag(layer, 'bidirectional', opts.bidirectional, false);
    const p = opts.dropout ?? 0;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`fathom.${layer}: options.dropout must be a number in [0, 1], got ${describeValue(p)}`);
    this.dropout = p;
    if (p > 0 && this.numLayers === 1) {
      // PyTorch's UserWarning, once for this layer: dropout only acts between stacked layers.
      process.emitWarning(
        `fathom.${layer}: dropout option adds dropout after all but the last recurrent layer, so non-zero dropout expects numLayers greater than 1, but got dropout=${p} and numLayers=1`,
        { code: 'FATHOM_RNN_DROPOUT', type: 'FathomWarning' },
      );
    }
    const seed = checkSeed(layer, opts.seed);
    checkRecurrentSize(layer, GATES[mode], inputSize, hiddenSize, this.numLayers, this.bias, this.bidirectional);
    const shapes = rnnParameterShapes(GATES[mode], inputSize, hiddenSize, this.numLayers, this.bias, this.bidirectional);
    for (const [name, shape] of shapes) {
      const count = shape.reduce((a, b) => a * b, 1);
      if (count > MAX_PARAMS) throw new Error(`fathom.${layer}: the weight ${name} ${fmt(shape)} (${count} values) is more than one tensor can hold (${MAX_PARAMS})`);
    }
    const bound = 1 / Math.sqrt(hiddenSize);
    const params = new Map<string, Tensor>();
    const self = this as unknown as Record<string, Tensor>;
    // Registered by name and also set as properties, as PyTorch's attributes (m.weight_ih_l0).
    shapes.forEach(([name, shape], k) => params.set(name, (self[name] = this.registerParameter(name, uniform(shape, bound, seed, k)))));
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < this.directions; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        this.cells.push({
          wIh: params.get(`weight_ih${sfx}`)!, wHh: params.get(`weight_hh${sfx}`)!,
          bIh: params.get(`bias_ih${sfx}`) ?? null, bHh: params.get(`bias_hh${sfx}`) ?? null,
        });
      }
    }
  }

  /** D: 2 when bidirectional, else 1. */
  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** The current weights of layer l, direction d (a property reassigned through the registered name is seen). */
  private weightsOf(l: number, d: number): Cell {
    const self = this as unknown as Record<string, Tensor | null | undefined>;
    const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
    const c = this.cells[l * this.directions + d];
    const cur = (name: string, t: Tensor | null): Tensor | null => (Object.hasOwn(self, name) && self[name] instanceof Tensor ? self[name]! : t);
    return { wIh: cur(`weight_ih${sfx}`, c.wIh)!, wHh: cur(`weight_hh${sfx}`, c.wHh)!, bIh: cur(`bias_ih${sfx}`, c.bIh), bHh: cur(`bias_hh${sfx}`, c.bHh) };
  }

  /**
   * The output sequence: x [N, T, I] (batchFirst) or [T, N, I] → [N, T, D·H]
   * or [T, N, D·H]. `state` as in forwardWithState.
   */
  forward(x: Tensor, state?: Tensor | RnnState | null): Tensor {
    return this.forwardWithState(x, state).output;
  }

  /**
   * The output sequence and the final state (PyTorch's `output, h_n` /
   * `output, (h_n, c_n)`).
   * @param x [N, T, I] when batchFirst, else [T, N, I] (float32); or PyTorch's
   *   unbatched [T, I], with state and results [L·D, H] and output [T, D·H].
   * @param state the initial state: `{ h, c }` with h (and c, LSTM only) of
   *   shape [L·D, N, H], or h alone as a Tensor (RNN, GRU); zeros where absent.
   *   For truncated back-propagation through time pass the previous result's
   *   state detached: `{ h: r.h.detach(), c: r.c!.detach() }`.
   * @param options.lengths the valid length of each sequence (see SequenceOptions).
   * @returns { output, h, c }: output [N, T, D·H] (batchFirst) or [T, N, D·H],
   *   h and c [L·D, N, H] (c null except for LSTM); layer l's direction d is
   *   entry l·D + d of h and c, as in PyTorch.
   * @throws `fathom.<Layer>: …` for an input of the wrong rank, size or dtype
   *   (naming the expected [N, T, I] and what came), a state of the wrong
   *   shape, or lengths of the wrong size or outside [0, T].
   */
  forwardWithState(x: Tensor, state?: Tensor | RnnState | null, options?: SequenceOptions): RnnResult {
    const L = this.layer;
    const I = this.inputSize, H = this.hiddenSize, D = this.directions;
    const want = `${this.batchFirst ? `[N, T, ${I}] (batchFirst)` : `[T, N, ${I}]`} or an unbatched [T, ${I}]`;
    if (!(x instanceof Tensor)) throw new Error(`fathom.${L}: expected a float32 input ${want}, got ${describe(x)}`);
    // PyTorch's unbatched input: x [T, I], state [L·D, H] → output [T, D·H], h, c [L·D, H].
    const unbatched = x.dtype === 'float32' && x.rank === 2 && x.shape[1] === I;
    if (!unbatched && (x.dtype !== 'float32' || x.rank !== 3 || x.shape[2] !== I)) throw new Error(`fathom.${L}: expected a float32 input ${want}, got ${x.dtype} ${fmt(x.shape)}`);
    const o = checkOptions(L, options, ['lengths']);
    const batchMajor = unbatched || this.batchFirst;
    const [N, T] = unbatched ? [1, x.shape[0]] : batchMajor ? [x.shape[0], x.shape[1]] : [x.shape[1], x.shape[0]];
    // As PyTorch ("Expected sequence length to be larger than 0 in RNN").
    if (T === 0) throw new Error(`fathom.${L}: expected a float32 input ${want} with T >= 1 steps, got ${x.dtype} ${fmt(x.shape)}`);
    const { h0, c0 } = this.initialState(state, N, unbatched);
    const lengths = this.checkLengths(o.lengths, N, T);
    return as(L, () => {
      let inp = unbatched ? reshape(x, [1, T, I]) : batchMajor ? x : permute(x, [1, 0, 2]); // [N, T, ·]
      const hs: Tensor[] = [], cs: Tensor[] = [];
      for (let l = 0; l < this.numLayers; l++) {
        if (l > 0 && this.dropout > 0 && this.training) inp = dropout(inp, this.dropout, true);
        const inF = inp.shape[2];
        const outs: Tensor[] = [];
        for (let d = 0; d < D; d++) {
          const w = this.weightsOf(l, d);
          const k = l * D + d;
          // The input projection of every step in one GEMM: [N·T, In] × W_ihᵀ + b_ih.
          const xProj = reshape(linear(reshape(inp, [N * T, inF]), w.wIh, w.bIh), [N, T, w.wIh.shape[0]]);
          const r = rnnSequence(this.mode, xProj, this.slot(h0, k, N), this.mode === 'lstm' ? this.slot(c0, k, N) : null, w.wHh, w.bHh, { lengths, reverse: d === 1 });
          outs.push(r.output);
          hs.push(r.h);
          if (r.c) cs.push(r.c);
        }
        inp = D === 1 ? outs[0] : concat(outs, 2);
      }
      const h = stack(hs, 0), c = this.mode === 'lstm' ? stack(cs, 0) : null;
      if (unbatched) {
        const sq = (t: Tensor) => reshape(t, [this.numLayers * D, H]);
        return { output: reshape(inp, [T, D * H]), h: sq(h), c: c && sq(c) };
      }
      return { output: batchMajor ? inp : permute(inp, [1, 0, 2]), h, c };
    });
  }

  /** Entry k of a [L·D, N, H] state as [N, H] (zeros when there is no state). */
  private slot(s: Tensor | null, k: number, n: number): Tensor {
    if (!s) return zeros([n, this.hiddenSize]);
    return reshape(narrow(s, 0, k, 1), [n, this.hiddenSize]);
  }

  /** The initial h, c as [L·D, N, H] (null where absent); unbatched ones are [L·D, H]. */
  private initialState(state: Tensor | RnnState | null | undefined, n: number, unbatched: boolean): { h0: Tensor | null; c0: Tensor | null } {
    const L = this.layer;
    if (state === undefined || state === null) return { h0: null, c0: null };
    let h: unknown, c: unknown;
    if (state instanceof Tensor) {
      if (this.mode === 'lstm') throw new Error(`fathom.${L}: state must be { h, c } (each [${this.numLayers * this.directions}, N, ${this.hiddenSize}]), got a Tensor ${fmt(state.shape)}`);
      h = state;
    } else if (typeof state === 'object' && !Array.isArray(state)) {
      if ('lengths' in state) {
        throw new Error(`fathom.${L}: lengths go in the third argument of forwardWithState(x, state, { lengths }), not in the state (known: ${this.mode === 'lstm' ? 'h, c' : 'h'})`);
      }
      checkOptions(L, state, this.mode === 'lstm' ? ['h', 'c'] : ['h'], 'state');
      ({ h, c } = state);
    } else {
      throw new Error(`fathom.${L}: state must be ${this.mode === 'lstm' ? '{ h, c }' : 'a Tensor or { h }'}, got ${describeValue(state)}`);
    }
    const shape = unbatched ? [this.numLayers * this.directions, this.hiddenSize] : [this.numLayers * this.directions, n, this.hiddenSize];
    const check = (name: string, t: unknown): Tensor | null => {
      if (t === undefined || t === null) return null;
      if (!(t instanceof Tensor) || t.dtype !== 'float32' || t.rank !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
        const got = t instanceof Tensor ? `${t.dtype} ${fmt(t.shape)}` : describeValue(t);
        throw new Error(`fathom.${L}: state.${name} must be a float32 ${unbatched ? '[numLayers·D, H] (unbatched input)' : '[numLayers·D, N, H]'} = ${fmt(shape)}, got ${got}`);
      }
      return unbatched ? reshape(t, [shape[0], 1, shape[1]]) : t;
    };
    return { h0: check('h', h), c0: check('c', c) };
  }

  private checkLengths(v: unknown, n: number, t: number): Int32Array | null {
    const L = this.layer;
    if (v === undefined || v === null) return null;
    let a: Int32Array;
    if (v instanceof Int32Array) a = v;
    else if (v instanceof Tensor && v.dtype === 'int32' && v.rank === 1) a = v.data as Int32Array;
    else throw new Error(`fathom.${L}: options.lengths must be an Int32Array or a 1-D int32 Tensor of ${n} lengths, got ${v instanceof Tensor ? `${v.dtype} ${fmt(v.shape)}` : describeValue(v)}`);
    if (a.length !== n) throw new Error(`fathom.${L}: options.lengths has ${a.length} entries, expected one per sequence (N = ${n})`);
    for (let i = 0; i < n; i++) {
      if (a[i] < 0 || a[i] > t) throw new Error(`fathom.${L}: options.lengths[${i}] = ${a[i]} is out of range (expected an integer in [0, T = ${t}])`);
    }
    return a.slice();
  }

  override config(): ModuleConfig {
    return {
      type: this.layer, inputSize: this.inputSize, hiddenSize: this.hiddenSize, numLayers: this.numLayers,
      bias: this.bias, batchFirst: this.batchFirst, dropout: this.dropout, bidirectional: this.bidirectional,
    };
  }
}

const LAYER_KEYS = ['numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'seed'];

/**
 * Elman RNN (torch.nn.RNN): h_t = act(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh),
 * act = tanh (default) or relu; G = 1.
 */
export class RNN extends RNNBase {
  readonly nonlinearity: Nonlinearity;
  constructor(inputSize: number, hiddenSize: number, options: SimpleRNNOptions = {}) {
    checkOptions('RNN', options, [...LAYER_KEYS, 'nonlinearity']);
    const nl = checkNonlinearity('RNN', options.nonlinearity);
    super('RNN', nl === 'tanh' ? 'rnnTanh' : 'rnnRelu', inputSize, hiddenSize, options);
    this.nonlinearity = nl;
  }
  override config(): ModuleConfig {
    return { ...super.config(), nonlinearity: this.nonlinearity };
  }
}

/**
 * LSTM (torch.nn.LSTM), G = 4 gates in PyTorch's order i, f, g, o:
 * i = σ(·), f = σ(·), g = tanh(·), o = σ(·) of x_t W_ihᵀ + b_ih + h W_hhᵀ + b_hh;
 * c_t = f ⊙ c_{t−1} + i ⊙ g, h_t = o ⊙ tanh(c_t).
 */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    checkOptions('LSTM', options, LAYER_KEYS);
    super('LSTM', 'lstm', inputSize, hiddenSize, options);
  }
}

/**
 * GRU (torch.nn.GRU), G = 3 gates in PyTorch's order r, z, n:
 * r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr), z likewise,
 * n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)), h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}.
 */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    checkOptions('GRU', options, LAYER_KEYS);
    super('GRU', 'gru', inputSize, hiddenSize, options);
  }
}

// ---- cells: one time step, for hand-written loops ----

export interface CellOptions {
  /** Whether the cell has bias_ih and bias_hh. Default true. */
  bias?: boolean;
  /** Seed of the initial weights (default: the global stream). */
  seed?: number;
}

export interface RNNCellOptions extends CellOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: Nonlinearity;
}

/** The cells' parameter names and shapes (PyTorch's): weight_ih [G·H, I], weight_hh [G·H, H], bias_ih, bias_hh [G·H]. */
export function cellParameterShapes(gates: number, inputSize: number, hiddenSize: number, bias: boolean): [string, number[]][] {
  const gh = gates * hiddenSize;
  const out: [string, number[]][] = [['weight_ih', [gh, inputSize]], ['weight_hh', [gh, hiddenSize]]];
  if (bias) out.push(['bias_ih', [gh]], ['bias_hh', [gh]]);
  return out;
}

abstract class CellBase extends Module {
  readonly weight_ih: Tensor;
  readonly weight_hh: Tensor;
  readonly bias_ih: Tensor | null;
  readonly bias_hh: Tensor | null;

  protected constructor(protected readonly layer: string, gates: number, readonly inputSize: number, readonly hiddenSize: number, opts: CellOptions) {
    super();
    positive(layer, 'inputSize', inputSize);
    positive(layer, 'hiddenSize', hiddenSize);
    const bias = flag(layer, 'bias', opts.bias, true);
    const seed = checkSeed(layer, opts.seed);
    const shapes = cellParameterShapes(gates, inputSize, hiddenSize, bias);
    for (const [name, shape] of shapes) {
      if (shape[0] * (shape[1] ?? 1) > MAX_PARAMS) throw new Error(`fathom.${layer}: the weight ${name} ${fmt(shape)} is more than one tensor can hold (${MAX_PARAMS})`);
    }
    const bound = 1 / Math.sqrt(hiddenSize);
    const p = shapes.map(([name, shape], k) => this.registerParameter(name, uniform(shape, bound, seed, k)));
    [this.weight_ih, this.weight_hh] = p;
    this.bias_ih = p[2] ?? null;
    this.bias_hh = p[3] ?? null;
  }

  /** x as float32 [N, inputSize], or an error naming the cell. */
  protected checkInput(x: unknown): number {
    const want = `[N, ${this.inputSize}]`;
    if (!(x instanceof Tensor)) throw new Error(`fathom.${this.layer}: expected a float32 input ${want}, got ${describe(x)}`);
    if (x.dtype !== 'float32' || x.rank !== 2 || x.shape[1] !== this.inputSize) throw new Error(`fathom.${this.layer}: expected a float32 input ${want}, got ${x.dtype} ${fmt(x.shape)}`);
    return x.shape[0];
  }

  /** A state tensor as float32 [N, H] (zeros when absent). */
  protected stateOf(name: string, t: unknown, n: number): Tensor {
    if (t === undefined || t === null) return zeros([n, this.hiddenSize]);
    if (!(t instanceof Tensor) || t.dtype !== 'float32' || t.rank !== 2 || t.shape[0] !== n || t.shape[1] !== this.hiddenSize) {
      const got = t instanceof Tensor ? `${t.dtype} ${fmt(t.shape)}` : describeValue(t);
      throw new Error(`fathom.${this.layer}: ${name} must be a float32 [N, H] = [${n}, ${this.hiddenSize}], got ${got}`);
    }
    return t;
  }

  override config(): ModuleConfig {
    return { type: this.layer, inputSize: this.inputSize, hiddenSize: this.hiddenSize, bias: this.bias_ih !== null };
  }
}

/**
 * One LSTM step (torch.nn.LSTMCell): x [N, I], state { h, c } each [N, H]
 * (zeros when absent) → h' (forward) or { h, c } (forwardWithState).
 */
export class LSTMCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, options: CellOptions = {}) {
    checkOptions('LSTMCell', options, ['bias', 'seed']);
    super('LSTMCell', 4, inputSize, hiddenSize, options);
  }

  /** h' [N, H] of one step (see forwardWithState). */
  forward(x: Tensor, state?: RnnState | null): Tensor {
    return this.forwardWithState(x, state).h;
  }

  /**
   * h', c' [N, H] of one step from x [N, I] and state { h, c } ([N, H] each,
   * zeros where absent). Detach the state between chunks for truncated BPTT.
   * @throws `fathom.LSTMCell: …` for an input or state of the wrong shape.
   */
  forwardWithState(x: Tensor, state?: RnnState | null): { h: Tensor; c: Tensor } {
    const n = this.checkInput(x);
    if (state !== undefined && state !== null && (typeof state !== 'object' || state instanceof Tensor)) {
      throw new Error(`fathom.LSTMCell: state must be { h, c } (each [N, ${this.hiddenSize}]), got ${state instanceof Tensor ? `a Tensor ${fmt(state.shape)}` : describeValue(state)}`);
    }
    if (state) checkOptions('LSTMCell', state, ['h', 'c'], 'state');
    const h = this.stateOf('state.h', state?.h, n), c = this.stateOf('state.c', state?.c, n);
    const [h2, c2] = as(this.layer, () => lstmCell(x, h, c, this.weight_ih, this.weight_hh, this.bias_ih, this.bias_hh));
    return { h: h2, c: c2 };
  }
}

/** One GRU step (torch.nn.GRUCell): x [N, I], h [N, H] (zeros when absent) → h' [N, H]. */
export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, options: CellOptions = {}) {
    checkOptions('GRUCell', options, ['bias', 'seed']);
    super('GRUCell', 3, inputSize, hiddenSize, options);
  }

  /** @throws `fathom.GRUCell: …` for an input or h of the wrong shape. */
  forward(x: Tensor, h?: Tensor | null): Tensor {
    const n = this.checkInput(x);
    const h0 = this.stateOf('h', h, n);
    return as(this.layer, () => gruCell(x, h0, this.weight_ih, this.weight_hh, this.bias_ih, this.bias_hh));
  }
}

/** One Elman RNN step (torch.nn.RNNCell): h' = act(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), act tanh (default) or relu. */
export class RNNCell extends CellBase {
  readonly nonlinearity: Nonlinearity;
  constructor(inputSize: number, hiddenSize: number, options: RNNCellOptions = {}) {
    checkOptions('RNNCell', options, ['bias', 'seed', 'nonlinearity']);
    const nl = checkNonlinearity('RNNCell', options.nonlinearity);
    super('RNNCell', 1, inputSize, hiddenSize, options);
    this.nonlinearity = nl;
  }

  /** @throws `fathom.RNNCell: …` for an input or h of the wrong shape. */
  forward(x: Tensor, h?: Tensor | null): Tensor {
    const n = this.checkInput(x);
    const h0 = this.stateOf('h', h, n);
    return as(this.layer, () => rnnCell(x, h0, this.weight_ih, this.weight_hh, this.bias_ih, this.bias_hh, this.nonlinearity));
  }

  override config(): ModuleConfig {
    return { ...super.config(), nonlinearity: this.nonlinearity };
  }
}

for (const C of [RNN, LSTM, GRU, LSTMCell, GRUCell, RNNCell]) fixedStructure.add(C);
