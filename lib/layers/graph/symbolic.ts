/**
 * Symbolic tensors: the placeholders a functional model (nn.Model) is built
 * from, in Keras's spirit. `nn.input(shape)` makes one; `layer.apply(x)` on
 * symbolic tensors records a node (the layer, its inputs, its outputs) and
 * returns the output's symbolic tensor, whose shape is inferred by running the
 * layer once on a zero batch (N = 2, eval mode, no tape; every module's
 * training flag is restored after). Nothing is computed on real data until a
 * Model is built over the nodes and called.
 *
 * The graph is immutable and a node can only take tensors that already exist,
 * so every graph built this way is acyclic (as in Keras); a saved
 * architecture is checked for cycles when it is read (graph/config.ts).
 */
import { Tensor, type DType } from '../../tensor/tensor.js';
import { fmt } from '../../tensor/shape.js';
import { noGrad } from '../../autograd/tape.js';
import { describe } from '../../ops/record.js';
import { isMultiIO } from '../../models/multi.js';
import type { Module } from '../module.js';
import { subtree } from '../walk.js';

/** The batch size of the zero batch a layer is run on to infer its output shape. */
const PROBE_N = 2;
/** The most dimensions (without N) an input may have (a tensor holds at most 8, N included). */
const MAX_RANK = 7;

let nextNodeId = 0;

/** Options of nn.input. */
export interface InputOptions {
  /** The input's name (Keras's Input(name=...)): letters, digits, '_' or '-', starting with a letter or '_'. Default `input_<k>`, numbered per model. */
  name?: string;
  /** 'float32' (default) or 'int32' (indices for an nn.Embedding). */
  dtype?: DType;
}

/** Options of Module.apply on symbolic tensors. */
export interface ApplyOptions {
  /**
   * The layer's name in every model built over it (Keras's `name=` of a
   * layer): its state-dict prefix, summary row, and output name. Set once; a
   * second apply of the same (shared) layer may repeat it or leave it out.
   * Default: `<type>_<k>` (linear_1, linear_2, …), numbered per model.
   */
  name?: string;
}

/**
 * @internal A node of the graph: one application of a layer (layer null: a
 * model input), its inputs and outputs.
 */
export class GraphNode {
  readonly id = nextNodeId++;
  outputs: SymbolicTensor[] = [];
  constructor(
    readonly layer: Module | null,
    readonly inputs: readonly SymbolicTensor[],
    /** Whether apply got an array (merge layers, multi-input models): forward gets the array. */
    readonly listCall: boolean,
    /** An input's explicit name (layer null), if any. */
    readonly inputName?: string,
  ) {}
}

/**
 * A placeholder for a batch of tensors of `shape` ([N, ...shape]) and `dtype`
 * while a graph is built: what nn.input returns and what layer.apply returns
 * when given symbolic tensors. It holds no data; forward() refuses it.
 */
export class SymbolicTensor {
  /** The shape of one sample (without the batch dimension N). */
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** @internal The node that produces it and which of its outputs it is. */
  readonly node: GraphNode;
  /** @internal */
  readonly index: number;

  /** @internal Made by nn.input and Module.apply. */
  constructor(shape: readonly number[], dtype: DType, node: GraphNode, index: number) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.node = node;
    this.index = index;
  }

  /** The full shape as a string, with the batch dimension: `[N, 784]`. */
  get batchShape(): string {
    return `[N${this.shape.map((d) => `, ${d}`).join('')}]`;
  }

  toString(): string {
    const from = this.node.layer ? ` from ${this.node.layer.constructor.name || 'a module'}` : this.node.inputName ? ` (input '${this.node.inputName}')` : ' (an input)';
    return `SymbolicTensor ${this.dtype} ${this.batchShape}${from}`;
  }

  /** @internal console.log */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/** @internal Checks a layer / input / model name. */
export function checkName(op: string, what: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new Error(`fathom.${op}: ${what} must be 1 to 128 letters, digits, '_' or '-' starting with a letter or '_' (it prefixes state-dict keys, so no '.'), got ${typeof name === 'string' ? JSON.stringify(name) : describe(name)}`);
  }
  return name;
}

/** Names given explicitly (apply({ name }), a Model's options.name, a loaded file). */
const explicitNames = new WeakMap<Module, string>();

/** @internal A layer's explicit name, if it has one. */
export function explicitName(m: Module): string | undefined {
  return explicitNames.get(m);
}

/** @internal Names a layer; a layer keeps its first name (a different second one is refused). */
export function setExplicitName(op: string, m: Module, name: string): void {
  const had = explicitNames.get(m);
  if (had !== undefined && had !== name) {
    throw new Error(`fathom.${op}: this ${m.constructor.name} is already named '${had}'; a layer has one name, also when it is shared (got '${name}')`);
  }
  explicitNames.set(m, name);
}

/**
 * nn.input (Keras's Input): a symbolic batch of samples of `shape` (without
 * the batch dimension N: `nn.input([784])` stands for [N, 784]), the start of
 * a functional model.
 * @throws `fathom.input: …` for a shape that is not an array of 0 to 7
 *   positive integers, one of more than 2^30 − 1 values (a zero batch of 2 of
 *   them, what apply runs layers on, must fit in a tensor), a bad name or
 *   dtype, or an unknown option.
 */
export function input(shape: readonly number[], options: InputOptions = {}): SymbolicTensor {
  if (!Array.isArray(shape) || shape.length > MAX_RANK || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1)) {
    throw new Error(`fathom.input: shape must be an array of at most ${MAX_RANK} positive integers (one sample's shape, without the batch dimension N), got ${Array.isArray(shape) ? `[${shape.map((d) => (typeof d === 'number' ? String(d) : describe(d))).join(', ')}]` : describe(shape)}`);
  }
  const size = shape.reduce((p, q) => p * q, 1);
  if (PROBE_N * size > MAX_TENSOR_SIZE) {
    throw new Error(`fathom.input: shape ${fmt(shape)} has ${size} values per sample; a batch of ${PROBE_N} (what apply runs each layer on to infer shapes) would exceed the ${MAX_TENSOR_SIZE} values a tensor may hold, so at most ${Math.floor(MAX_TENSOR_SIZE / PROBE_N)} per sample`);
  }
  if (options === null || typeof options !== 'object') throw new Error(`fathom.input: options must be an object, got ${describe(options)}`);
  const extra = Object.keys(options).filter((k) => k !== 'name' && k !== 'dtype');
  if (extra.length) throw new Error(`fathom.input: unknown option ${extra.map((k) => `'${k}'`).join(', ')} (known: name, dtype)`);
  const name = options.name === undefined ? undefined : checkName('input', 'options.name', options.name);
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'int32') throw new Error(`fathom.input: options.dtype must be 'float32' or 'int32', got ${JSON.stringify(dtype) ?? describe(dtype)}`);
  const node = new GraphNode(null, [], false, name);
  const t = new SymbolicTensor(shape, dtype, node, 0);
  node.outputs = [t];
  return t;
}

/** @internal Whether x is a SymbolicTensor or an array holding one. */
export function isSymbolic(x: unknown): boolean {
  return x instanceof SymbolicTensor || (Array.isArray(x) && x.some((e) => e instanceof SymbolicTensor));
}

/** @internal Runs fn with `m` (and every module under it) in eval mode and no tape, then restores each module's flag. */
export function probe<T>(m: Module, fn: () => T): T {
  const mods = subtree(m);
  const modes = mods.map((x) => x.training);
  m.eval();
  try {
    return noGrad(fn);
  } finally {
    mods.forEach((x, i) => { x.training = modes[i]; });
  }
}

/** The most values one tensor may hold (as lib/tensor). */
const MAX_TENSOR_SIZE = 2 ** 31 - 1;

/** @internal A zero batch of PROBE_N samples like `t`. @throws (before allocating) when it would exceed a tensor's size limit. */
export function zeroBatch(shape: readonly number[], dtype: DType, n = PROBE_N): Tensor {
  const size = n * shape.reduce((p, q) => p * q, 1);
  if (size > MAX_TENSOR_SIZE) {
    throw new Error(`a batch of N = ${n} samples of shape ${fmt(shape)} holds ${size} values, more than the ${MAX_TENSOR_SIZE} a tensor may hold`);
  }
  return new Tensor(dtype === 'int32' ? new Int32Array(size) : new Float32Array(size), [n, ...shape]);
}

/** @internal The values one probe of shape inference allocates for these inputs (each distinct tensor once). */
export function probeSize(ts: readonly SymbolicTensor[]): number {
  let total = 0;
  for (const t of new Set(ts)) total += PROBE_N * t.shape.reduce((p, q) => p * q, 1);
  return total;
}

/** `[a, b, c, … (k in all)]`: a list shown in an error, cut after `max` entries. */
function listShown(items: readonly string[], max = 8): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')}, … (${items.length} in all)`;
}

/** Whether m is an nn.Sequential (by its class chain: importing Sequential here would be an import cycle). */
function isSequential(m: Module): boolean {
  for (let p = Object.getPrototypeOf(m); p && p.constructor.name !== 'Module'; p = Object.getPrototypeOf(p)) if (p.constructor.name === 'Sequential') return true;
  return false;
}

/**
 * A recurrent layer (RNN, LSTM, GRU: those with a `batchFirst` flag) with
 * batchFirst false that gets the graph's tensors as they are: `m` itself, or
 * one inside a Sequential or Model `m` (no built-in layer transposes, so it
 * gets [N, …] too). It reads [T, N, …], so it would run over the batch as if
 * it were time. A custom module is not searched: it may permute its input.
 */
function seqFirstRecurrent(m: Module): Module | null {
  const seen = new Set<Module>();
  const walk = (x: Module): Module | null => {
    if (seen.has(x)) return null;
    seen.add(x);
    if ((x as { batchFirst?: unknown }).batchFirst === false) return x;
    if (!isSequential(x) && !isMultiIO(x)) return null;
    for (const [, c] of x.modules()) {
      const r = walk(c);
      if (r) return r;
    }
    return null;
  };
  return walk(m);
}

/** @internal How a layer is called on real tensors: forwardAll for a multi-input/-output model, else forward (with the array for a list call). */
export function callLayer(layer: Module, xs: Tensor[], listCall: boolean): Tensor[] {
  if (isMultiIO(layer)) return layer.forwardAll(xs);
  const y = (layer.forward as (x: Tensor | Tensor[]) => Tensor)(listCall ? xs : xs[0]);
  return [y];
}

/**
 * @internal Module.apply on symbolic tensors: checks them, runs the layer on a
 * zero batch to learn its output shapes, and records the node.
 */
export function applySymbolic(layer: Module, x: SymbolicTensor | readonly SymbolicTensor[], options: ApplyOptions | undefined): SymbolicTensor[] {
  const type = layer.constructor.name || 'Module';
  const op = `${type}.apply`;
  const listCall = Array.isArray(x);
  const xs = (listCall ? x : [x]) as readonly unknown[];
  if (xs.length === 0) throw new Error(`fathom.${op}: expected a SymbolicTensor or a non-empty array of them, got an empty array`);
  xs.forEach((t, i) => {
    if (!(t instanceof SymbolicTensor)) {
      throw new Error(`fathom.${op}: ${listCall ? `inputs[${i}]` : 'x'} must be a SymbolicTensor (from nn.input or another layer's apply) like the others, got ${t instanceof Tensor ? `a real Tensor ${fmt(t.shape)}` : describe(t)}; a graph is built from symbolic tensors only`);
    }
  });
  const ins = xs as SymbolicTensor[];
  if (options !== undefined) {
    if (options === null || typeof options !== 'object') throw new Error(`fathom.${op}: options must be an object, got ${describe(options)}`);
    const extra = Object.keys(options).filter((k) => k !== 'name');
    if (extra.length) throw new Error(`fathom.${op}: unknown option ${extra.map((k) => `'${k}'`).join(', ')} (known: name)`);
    if (options.name !== undefined) setExplicitName(op, layer, checkName(op, 'options.name', options.name));
  }
  const label = explicitNames.get(layer) ? `'${explicitNames.get(layer)}' (${type})` : type;
  const got = listShown(ins.map((t) => `${t.dtype === 'int32' ? 'int32 ' : ''}${t.batchShape}`));
  const rnn = seqFirstRecurrent(layer);
  if (rnn) {
    const where = rnn === layer ? '' : ` (a ${rnn.constructor.name} inside it)`;
    throw new Error(`fathom.${op}: cannot apply ${label}${where} to ${listCall ? `[${got}]` : got}: a recurrent layer in a graph needs batchFirst: true (input [N, T, features]); with batchFirst false it reads [T, N, features] and would run over the batch as if it were time`);
  }
  let ys: Tensor[];
  try {
    // One zero batch per distinct input (a tensor passed k times is allocated once).
    const zeros = new Map<SymbolicTensor, Tensor>();
    const xs = ins.map((t) => zeros.get(t) ?? zeros.set(t, zeroBatch(t.shape, t.dtype)).get(t)!);
    ys = probe(layer, () => callLayer(layer, xs, listCall));
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    throw new Error(`fathom.${op}: cannot apply ${label} to ${listCall ? `[${got}]` : got}: ${e.message} (the layer ran on a zero batch of N = ${PROBE_N} to infer shapes: a leading ${PROBE_N} there is N)`, { cause: e });
  }
  const node = new GraphNode(layer, [...ins], listCall);
  node.outputs = ys.map((y, i) => {
    if (!(y instanceof Tensor)) throw new Error(`fathom.${op}: ${label} returned ${describe(y)} for ${got}, expected a Tensor`);
    if (y.rank < 1 || y.shape[0] !== PROBE_N) {
      throw new Error(`fathom.${op}: ${label} maps ${got} to ${fmt(y.shape)} (run on a batch of N = ${PROBE_N}), which does not keep the batch dimension N first; a layer in a graph must`);
    }
    return new SymbolicTensor(y.shape.slice(1), y.dtype, node, i);
  });
  return node.outputs;
}
