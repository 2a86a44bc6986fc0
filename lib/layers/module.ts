/**
 * Module: the base of every layer and model. A module owns named parameters
 * (leaf tensors that collect gradients) and named child modules;
 * parameters(), stateDict(), train()/eval() and freezing walk that tree.
 *
 * Registration follows PyTorch's `__setattr__`, read when the tree is walked
 * (so reassigning a property is seen at once):
 * - a Module assigned to a property is a child, named after the property
 *   (`this.fc = new nn.Linear(2, 1)` gives `fc.weight`, `fc.bias`);
 * - a Tensor assigned to a property is a parameter when it was made one with
 *   `nn.parameter(t)` / `registerParameter`, or when it is a leaf that
 *   requires grad (`randn([3]).requireGrad()`) the first time the module is
 *   walked; once a parameter, always one (freezing it does not unregister it).
 *   Other tensors (constants, results of ops) are plain properties, not saved;
 * - arrays and plain objects of modules or parameters (PyTorch's ModuleList,
 *   ModuleDict, ParameterList) register their elements as `prop.0`, `prop.key`.
 * Order: what registerModule/registerParameter named (in call order), then
 * properties in assignment order; within a module, parameters come before
 * children's. A value that is already registered explicitly is not listed again
 * through an alias property (Sequential's `layers` array). The same module or
 * tensor under two property names is listed under both (tied weights: see save).
 * A property pointing back to an ancestor module is skipped (no cycles).
 * Instances of exactly the built-in layer classes (Linear, Sequential, the
 * activations) hold only what their constructor registered: properties added
 * to such an instance later are not walked (subclass them instead).
 */
import { Tensor, checkStorage } from '../tensor/tensor.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { describe } from '../ops/record.js';
import { checkOptions } from '../ops/options.js';
import type { FitOptions, History, EvaluateOptions, PredictOptions, EvalResult } from '../models/training.js';
import { fit, evaluate, predict } from '../models/training.js';
import type { Tensors } from '../models/multi.js';
import { abs, add, mul, square } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { SymbolicTensor, applySymbolic, isSymbolic, type ApplyOptions } from './graph/symbolic.js';
import { moduleSummary } from './graph/summary.js';
import { subtree } from './walk.js';
import { asyncPredict } from '../serve/hook.js';
import type { PredictAsyncOptions } from '../serve/snapshot.js';

/** An L1/L2 penalty on one parameter: l1·Σ|p| + l2·Σp² (Keras's L1L2, no ½ on l2). */
/** Options of Module.loadStateDict. */
export interface LoadStateDictOptions {
  /** true (default): the keys must match exactly; false: load the keys both have (PyTorch's strict). */
  strict?: boolean;
}

/** What Module.loadStateDict returns (PyTorch's _IncompatibleKeys). */
export interface LoadStateDictResult {
  /** The module's parameters and buffers the dict did not have (strict: false only). */
  missingKeys: string[];
  /** The dict's keys the module does not have (strict: false only). */
  unexpectedKeys: string[];
}

export interface ParameterPenalty {
  param: Tensor;
  l1: number;
  l2: number;
}

/** A serialisable description of a module: its type and constructor arguments. */
export interface ModuleConfig {
  type: string;
  [key: string]: unknown;
}

/** Tensors made parameters: by registerParameter, nn.parameter, or found requiring grad on a property. */
const parameterMarks = new WeakSet<Tensor>();

/**
 * Marks `t` as a parameter (PyTorch's nn.Parameter): it gets requiresGrad and,
 * assigned to a module's property, is registered under that name even while
 * frozen. Returns `t` itself.
 * @throws if `t` is not a float32 leaf Tensor.
 */
export function parameter(t: Tensor): Tensor {
  if (!(t instanceof Tensor)) throw new Error(`fathom.nn.parameter: expected a Tensor, got ${describe(t)}`);
  if (t.dtype !== 'float32') throw new Error(`fathom.nn.parameter: a parameter must be float32, got ${t.dtype} ${fmt(t.shape)}`);
  if (t.node) throw new Error(`fathom.nn.parameter: expected a leaf tensor, got the result of '${t.node.op}' (use .detach() or .clone())`);
  if (bufferMarks.has(t)) throw new Error(`fathom.nn.parameter: the tensor ${fmt(t.shape)} is already a buffer; a tensor is a parameter or a buffer, not both`);
  t.requiresGrad = true;
  parameterMarks.add(t);
  return t;
}

/**
 * Only tensors marked by nn.parameter() (or registerParameter) are parameters,
 * as only nn.Parameter is in PyTorch: a tensor that merely requires grad (an
 * input kept for a saliency map, a cached activation) is never promoted.
 */
function isParameter(t: Tensor): boolean {
  return parameterMarks.has(t);
}

/** Tensors made buffers: by registerBuffer or nn.buffer. */
const bufferMarks = new WeakSet<Tensor>();

/**
 * Marks `t` as a buffer (PyTorch's register_buffer): state that is saved with
 * the module (stateDict(), save()/load()) but is not a parameter, so it is not
 * in parameters(), never trained and not touched by freeze()/unfreeze();
 * e.g. BatchNorm's running_mean, running_var and num_batches_tracked.
 * Assigned to a module's property, it is registered under that name. Returns `t`.
 * @throws if `t` is not a float32 or int32 leaf Tensor, or is a parameter.
 */
export function buffer(t: Tensor): Tensor {
  if (!(t instanceof Tensor)) throw new Error(`fathom.nn.buffer: expected a Tensor, got ${describe(t)}`);
  if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new Error(`fathom.nn.buffer: a buffer must be float32 or int32, got ${t.dtype} ${fmt(t.shape)}`);
  if (t.node) throw new Error(`fathom.nn.buffer: expected a leaf tensor, got the result of '${t.node.op}' (use .detach() or .clone())`);
  if (parameterMarks.has(t)) throw new Error(`fathom.nn.buffer: the tensor ${fmt(t.shape)} is already a parameter; a tensor is a parameter or a buffer, not both`);
  if (t.requiresGrad) throw new Error(`fathom.nn.buffer: a buffer is not trained, but the tensor ${fmt(t.shape)} requires grad (pass t.detach())`);
  bufferMarks.add(t);
  return t;
}

function isBuffer(t: Tensor): boolean {
  return bufferMarks.has(t);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

interface OwnEntries {
  params: [string, Tensor][];
  buffers: [string, Tensor][];
  children: [string, Module][];
}

/**
 * @internal Built-in layer classes whose instances hold exactly what their
 * constructor registered with registerParameter/registerModule. For instances
 * of exactly these classes (not subclasses) the property walk is skipped, so
 * train()/eval() in every predict() stay as cheap as before (0.1 µs, not ~6 µs
 * for a 3-layer MLP); reassigning a registered name is still seen.
 */
export const fixedStructure = new WeakSet<abstract new (...args: never[]) => Module>();

const PARAMS = Symbol('fathom.Module.params');
const CHILDREN = Symbol('fathom.Module.children');
const BUFFERS = Symbol('fathom.Module.buffers');
/** Set by freeze(): what `trainable` reports for a module without parameters. */
const FROZEN = Symbol('fathom.Module.frozen');

/** Containers (arrays, plain objects) are searched this deep for modules and parameters. */
const MAX_CONTAINER_DEPTH = 4;
/** ... and at most this many entries of each (a module list of more is not a network one builds by hand). */
const MAX_CONTAINER_ENTRIES = 10_000;

export abstract class Module {
  /** Whether the module is in training mode (see train()/eval()). */
  training = true;
  /** @internal Explicit registrations (symbol keys: never collide with a subclass's properties, copied by Object.assign). */
  readonly [PARAMS] = new Map<string, Tensor>();
  /** @internal */
  readonly [CHILDREN] = new Map<string, Module>();
  /** @internal */
  readonly [BUFFERS] = new Map<string, Tensor>();
  /** @internal */
  [FROZEN] = false;

  /** The module's computation. x is a Tensor; shapes are the subclass's contract. */
  abstract forward(x: Tensor): Tensor;

  /**
   * The module's type and constructor arguments, for saving the architecture
   * (save() stores it; load() rebuilds the module with the factory registered
   * for `type`). Built-in layers implement it; a custom module that is to be
   * saved overrides it and registers its type with nn.registerModuleType.
   * @throws here, in the base class, with what to implement.
   */
  config(): ModuleConfig {
    const name = this.constructor.name || 'this module';
    throw new Error(
      `fathom.Module.config: ${name} does not implement config(), so it cannot be saved. ` +
      `Implement config() returning { type: '${name}', ...its constructor arguments } and make the type loadable with ` +
      `nn.registerModuleType('${name}', (c) => new ${name}(...)); the weights are saved by their names (${listNames(this.namedParameters().map(([n]) => n))}).`,
    );
  }

  /**
   * The module tree as PyTorch prints it, e.g.
   * `Sequential(\n  (0): Linear(inFeatures=784, outFeatures=256, bias=true)\n  (1): ReLU()\n)`;
   * also what console.log(module) shows. Settings come from config() in
   * fathom's `name=value` form, arrays included (`kernelSize=[5, 5]`).
   */
  toString(): string {
    return repr(this, '');
  }

  /** @internal console.log / util.inspect (Node's well-known symbol; no @types/node needed). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** Same as forward(x). */
  call(x: Tensor): Tensor {
    return this.forward(x);
  }

  /**
   * Calls the layer (Keras's `layer(x)`). On symbolic tensors (nn.input, or
   * another layer's apply) it builds a graph for nn.Model: it records this
   * layer's call and returns its output's SymbolicTensor, whose shape
   * (without N) is inferred by running the layer once on a zero batch of 2 in
   * eval mode without the tape (every module's mode is restored). Applying one
   * layer several times shares it (one set of weights). An array of symbolic
   * tensors is for merge layers (nn.Concatenate, nn.Add, …) and models of
   * several inputs; a model of several outputs is applied with applyAll.
   * `options.name` names the layer (see ApplyOptions).
   * On real Tensors it is forward(x) (an array goes to forward as it is).
   * @throws `fathom.<Type>.apply: cannot apply <layer> to <shapes>: <the layer's
   *   error>` when the layer refuses the inputs' shapes; for a mix of real and
   *   symbolic tensors, a bad or second different name, a layer whose output
   *   has no batch dimension, a model of several outputs, or a recurrent layer
   *   (RNN, LSTM, GRU; also inside a Sequential or Model) with batchFirst false
   *   (a graph's tensors are [N, T, features]; it would read N as time).
   */
  apply(x: Tensor): Tensor;
  apply(x: readonly Tensor[]): Tensor;
  apply(x: SymbolicTensor | readonly SymbolicTensor[], options?: ApplyOptions): SymbolicTensor;
  apply(x: Tensor | readonly Tensor[] | SymbolicTensor | readonly SymbolicTensor[], options?: ApplyOptions): Tensor | SymbolicTensor {
    if (isSymbolic(x)) {
      const ys = applySymbolic(this, x as SymbolicTensor | readonly SymbolicTensor[], options);
      if (ys.length !== 1) {
        throw new Error(`fathom.${this.constructor.name}.apply: the layer has ${ys.length} outputs; use applyAll(x), which returns them all`);
      }
      return ys[0];
    }
    if (options !== undefined) throw new Error(`fathom.${this.constructor.name}.apply: options (a layer name) apply to symbolic tensors only; on real Tensors apply is forward(x)`);
    return (this.forward as (x: unknown) => Tensor)(x);
  }

  /**
   * Keras's `layer.trainable`: false when every parameter of this module and
   * its children is frozen (requiresGrad false), true when any trains; for a
   * module without parameters, the last freeze()/unfreeze() (default true).
   * Setting it is freeze(!value): fit() and every optimizer leave frozen
   * parameters as they are (they get no gradient).
   */
  get trainable(): boolean {
    const ps = this.parameters();
    return ps.length ? ps.some((p) => p.requiresGrad) : !this[FROZEN];
  }

  set trainable(value: boolean) {
    if (typeof value !== 'boolean') throw new Error(`fathom.Module.trainable: expected a boolean, got ${describe(value)}`);
    this.freeze(!value);
  }

  /**
   * A text table of the module (Keras's model.summary()): a row per direct
   * child (name, type, parameter count), then the totals: parameters, trainable
   * and non-trainable (frozen) ones, each shared tensor once; buffers are not
   * counted. With `inputShape` (one sample's shape, without N) output shapes
   * are shown too (by running the module once on a zero batch of 2 in eval
   * mode, no tape): per layer for a Sequential, of the whole module otherwise.
   * nn.Model prints its graph (one row per layer call, with what it is connected to).
   * @throws for a bad inputShape, or the layer that refuses it.
   */
  summary(inputShape?: readonly number[]): string {
    return moduleSummary(this, inputShape);
  }

  /**
   * Registers `t` as the parameter `name` (sets requiresGrad). Also assigning
   * it to a property of the same name is enough (see the class comment).
   */
  protected registerParameter(name: string, t: Tensor): Tensor {
    checkName('registerParameter', name);
    parameter(t);
    this[PARAMS].set(name, t);
    return t;
  }

  /**
   * Registers `t` as the buffer `name` (PyTorch's register_buffer): saved in
   * stateDict() and by save(), loaded by loadStateDict() and load(), but not a
   * parameter (not in parameters(), not trained, not frozen). float32 or int32.
   * Also assigning nn.buffer(t) to a property of the same name is enough.
   */
  registerBuffer(name: string, t: Tensor): Tensor {
    checkName('registerBuffer', name);
    if (this[PARAMS].has(name) || this[CHILDREN].has(name)) throw new Error(`fathom.Module.registerBuffer: '${name}' is already a registered ${this[PARAMS].has(name) ? 'parameter' : 'module'}`);
    buffer(t);
    this[BUFFERS].set(name, t);
    return t;
  }

  /** Registers `m` as the child module `name`. */
  protected registerModule<M extends Module>(name: string, m: M): M {
    checkName('registerModule', name);
    if (!(m instanceof Module)) throw new Error(`fathom.Module.registerModule: '${name}' must be a Module, got ${describe(m)}`);
    this[CHILDREN].set(name, m);
    return m;
  }

  /** Every parameter of this module and its children, in registration order (shared ones once). */
  parameters(): Tensor[] {
    return [...new Set(this.namedParameters().map(([, t]) => t))];
  }

  /**
   * [qualified name, parameter] pairs, e.g. ['0.weight', W] or ['fc.bias', b].
   * A tensor reachable under two names (tied weights) is listed under both.
   */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    collect(this, prefix, out, new Set());
    return out;
  }

  /** Every buffer of this module and its children, in registration order (shared ones once). */
  buffers(): Tensor[] {
    return [...new Set(this.namedBuffers().map(([, t]) => t))];
  }

  /** [qualified name, buffer] pairs, e.g. ['1.running_mean', m]. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    collect(this, prefix, out, new Set(), 'buffers');
    return out;
  }

  /**
   * [qualified name, tensor] of everything stateDict() holds, in PyTorch's
   * state_dict order: each module's parameters, then its buffers, then its children's.
   */
  namedState(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    collect(this, prefix, out, new Set(), 'state');
    return out;
  }

  /** The direct child modules, by name (properties and registerModule, as for parameters). */
  modules(): [string, Module][] {
    return ownEntries(this).children.filter(([, m]) => m !== this);
  }

  /** Name → tensor map of every parameter and buffer (shares storage with the module). */
  stateDict(): Record<string, Tensor> {
    const d: Record<string, Tensor> = Object.create(null);
    for (const [n, t] of this.namedState()) d[n] = t;
    return d;
  }

  /**
   * Copies values from a state dict (PyTorch's load_state_dict).
   * `options.strict` (default true): every parameter and buffer must be in
   * the dict and the dict may hold nothing else. With `strict: false` the
   * keys both have are loaded and the others are left alone (as PyTorch).
   * Dtypes and shapes of the keys loaded must match in both modes.
   * @returns `{ missingKeys, unexpectedKeys }` (PyTorch's NamedTuple; both
   *   empty after a strict load).
   * @throws for a missing key ("missing parameter" / "missing buffer") or an
   *   unexpected one when strict, a dtype or shape mismatch, a non-Tensor
   *   entry, or an unknown option; nothing is copied when it throws.
   */
  loadStateDict(dict: Record<string, Tensor>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    if (dict === null || typeof dict !== 'object') throw new Error(`fathom.loadStateDict: expected a name → Tensor object, got ${describe(dict)}`);
    const o = checkOptions('loadStateDict', options, ['strict']);
    if (o.strict !== undefined && typeof o.strict !== 'boolean') throw new Error(`fathom.loadStateDict: options.strict must be a boolean, got ${describe(o.strict)}`);
    const strict = o.strict ?? true;
    const mine = this.namedState();
    const bufferNames = new Set(this.namedBuffers().map(([n]) => n));
    const kind = (n: string): string => (bufferNames.has(n) ? 'buffer' : 'parameter');
    const names = new Set(mine.map(([n]) => n));
    const unexpectedKeys = Object.keys(dict).filter((n) => !names.has(n));
    if (strict && unexpectedKeys.length) {
      // A pruned model's state dict carries weight_mask buffers (lib/prune): say how to take them.
      const masks = unexpectedKeys.some((k) => k === 'weight_mask' || k.endsWith('.weight_mask'))
        ? '; the weight_mask entries are pruning masks: prune.magnitude(model, { sparsity: 0 }) first gives the model masks to load them into'
        : '';
      throw new Error(`fathom.loadStateDict: unexpected parameters: ${unexpectedKeys.join(', ')} (options.strict: false loads the matching keys and returns these${masks})`);
    }
    const missingKeys: string[] = [];
    const load: [Tensor, Tensor][] = [];
    // Every entry is checked before any is copied: a refused dict leaves the module as it was.
    for (const [n, t] of mine) {
      const src = Object.prototype.hasOwnProperty.call(dict, n) ? dict[n] : undefined;
      if (src === undefined) {
        if (strict) throw new Error(`fathom.loadStateDict: missing ${kind(n)} '${n}'`);
        missingKeys.push(n);
        continue;
      }
      if (!(src instanceof Tensor)) throw new Error(`fathom.loadStateDict: '${n}' must be a Tensor, got ${describe(src)}`);
      if (src.dtype !== t.dtype) throw new Error(`fathom.loadStateDict: ${kind(n)} '${n}' is ${t.dtype}, the state dict has ${src.dtype}`);
      if (!sameShape(src.shape, t.shape)) {
        throw new Error(`fathom.loadStateDict: ${kind(n)} '${n}' has shape ${fmt(t.shape)}, the state dict has ${fmt(src.shape)}`);
      }
      checkStorage('loadStateDict', `'${n}'`, src);
      checkStorage('loadStateDict', `the module's ${kind(n)} '${n}'`, t);
      load.push([t, src]);
    }
    for (const [t, src] of load) (t.data as Float32Array | Int32Array).set(src.data as Float32Array | Int32Array);
    return { missingKeys, unexpectedKeys };
  }

  /** Training mode on (or off); applies to children. Returns this. */
  train(on = true): this {
    if (typeof on !== 'boolean') throw new Error(`fathom.Module.train: expected a boolean, got ${describe(on)}`);
    setMode(this, on, new Set());
    return this;
  }

  /** Inference mode: same as train(false). */
  eval(): this {
    return this.train(false);
  }

  /** Stops (or restarts) gradient flow into this module's parameters. */
  freeze(frozen = true): this {
    if (typeof frozen !== 'boolean') throw new Error(`fathom.Module.freeze: expected a boolean, got ${describe(frozen)}`);
    for (const t of this.parameters()) t.requiresGrad = !frozen;
    for (const m of subtree(this)) m[FROZEN] = frozen;
    return this;
  }

  unfreeze(): this {
    return this.freeze(false);
  }

  /**
   * The L1/L2 penalties on this module's own parameters (not its children's);
   * nn.Linear lists its weightRegularizer / biasRegularizer. Default none.
   * The default ownRegularizationLoss() is built from this list, and fit()
   * applies these penalties without the tape (value and gradient computed
   * directly: same math, ~5 fewer passes over the weights per step).
   */
  ownPenalties(): ParameterPenalty[] {
    return [];
  }

  /**
   * The regularisation penalty of this module alone (not its children), a
   * scalar Tensor on the tape, or null when it has none: by default
   * Σ l1·Σ|p| + l2·Σp² over ownPenalties(). A custom module may override it
   * with any differentiable penalty (fit() then records it on the tape).
   */
  ownRegularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const { param, l1, l2 } of this.ownPenalties()) {
      const terms = [l1 === 0 ? null : mul(sum(abs(param)), l1), l2 === 0 ? null : mul(sum(square(param)), l2)];
      for (const t of terms) if (t) total = total ? add(total, t) : t;
    }
    return total;
  }

  /**
   * The sum of the regularisation penalties of this module and every module
   * under it (each shared module counted once), as a differentiable scalar
   * Tensor (Keras's `model.losses`, summed), or null when none has a penalty.
   * fit() adds it to the training loss; a custom loop adds it itself:
   * `loss = add(lossFn(pred, y), model.regularizationLoss() ?? 0)`.
   */
  regularizationLoss(): Tensor | null {
    let total: Tensor | null = null;
    for (const m of subtree(this)) {
      const own = ownPenaltyChecked(m);
      if (own !== null) total = total === null ? own : add(total, own);
    }
    return total;
  }

  /**
   * Keras-style training loop; see FitOptions (`loss` is required unless the model was fitted before).
   * x and y are Tensors, or for a model with several inputs/outputs (nn.Model, MultiIOModule) lists in
   * inputNames/outputNames order or objects keyed by name.
   */
  fit(x: Tensors, y: Tensors, opts?: FitOptions): Promise<History> {
    return fit(this, x, y, opts);
  }

  /** Mean loss (and accuracy for classification) over a dataset, in inference mode; x and y as for fit(). */
  evaluate(x: Tensors, y: Tensors, opts?: EvaluateOptions): Promise<EvalResult> {
    return evaluate(this, x, y, opts);
  }

  /** Batched forward pass in inference mode (no tape); one Tensor per output for a multi-output model. */
  predict(x: Tensor, opts?: PredictOptions): Tensor;
  predict(x: readonly Tensor[] | Readonly<Record<string, Tensor>>, opts?: PredictOptions): Tensor | Tensor[];
  predict(x: Tensors, opts?: PredictOptions): Tensor | Tensor[] {
    return predict(this, x as Tensor, opts);
  }

  /**
   * predict() off the JS thread (issue #13): resolves with what `predict(x, options)` returns here, computed
   * in a worker thread kept for this model, with the weights as they are at this call (x is copied now).
   * See lib/serve/snapshot.ts for the semantics, the cost and `options` (batchSize, imports, idleTimeoutMs,
   * signal: cancels the call while it still waits on this thread, rejecting with signal.reason; timeoutMs:
   * ends the worker when a handed request goes unanswered that long).
   * @throws (rejects) `fathom.predictAsync: ...` for a bad x or options or a model serialize() refuses, and
   *   when timeoutMs ran out; with `signal.reason` when cancelled; with the worker's own error (e.g.
   *   `fathom.predict: ...` for x that does not fit the model).
   */
  predictAsync<T extends Tensor | Tensor[] = Tensor>(x: Tensors, options?: PredictAsyncOptions): Promise<T> {
    if (!asyncPredict.run) return Promise.reject(new Error('fathom.predictAsync: the serve module is not loaded (import \'fathom\', which loads it)'));
    return asyncPredict.run(this, x, options) as Promise<T>;
  }
}

function ownPenaltyChecked(m: Module): Tensor | null {
  const own = m.ownRegularizationLoss();
  if (own !== null && (!(own instanceof Tensor) || own.size !== 1)) {
    throw new Error(`fathom.Module.regularizationLoss: ${m.constructor.name}.ownRegularizationLoss() must return a scalar Tensor or null, got ${own instanceof Tensor ? `shape ${fmt(own.shape)}` : describe(own)}`);
  }
  return own;
}

/**
 * @internal How fit() applies a model's penalties: `direct` lists the
 * ParameterPenalty entries of modules that keep the default
 * ownRegularizationLoss (value and gradient computed without the tape);
 * `taped` the modules that override it (recorded on the tape each step).
 * Each parameter is listed once (a shared layer counts once, as in regularizationLoss).
 */
export function penaltyPlan(root: Module): { direct: ParameterPenalty[]; taped: Module[] } {
  const direct: ParameterPenalty[] = [];
  const taped: Module[] = [];
  for (const m of subtree(root)) {
    if (m.ownRegularizationLoss !== Module.prototype.ownRegularizationLoss) taped.push(m);
    else for (const p of m.ownPenalties()) if (p.l1 !== 0 || p.l2 !== 0) direct.push(p);
  }
  return { direct, taped };
}

/** @internal The taped penalty of one module, checked as regularizationLoss checks it. */
export const tapedPenalty = ownPenaltyChecked;

function listNames(names: string[]): string {
  if (names.length === 0) return 'no parameters';
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')}, … (${names.length} in all)`;
}

/** One line of constructor arguments from config() (nothing for a module without one). */
function extraRepr(m: Module): string {
  let c: ModuleConfig;
  try {
    c = m.config();
  } catch {
    return '';
  }
  // Scalars and arrays of scalars (kernelSize=[5, 5], normalizedShape=[8], outputSize=[null, 3]);
  // nested configs (Sequential's layers, printed as children) and option objects are left out.
  const scalar = (v: unknown): boolean => v === null || typeof v !== 'object';
  const show = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : String(v));
  return Object.entries(c)
    .filter(([k, v]) => k !== 'type' && (scalar(v) || (Array.isArray(v) && v.every(scalar))))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.map(show).join(', ')}]` : show(v)}`)
    .join(', ');
}

function repr(m: Module, indent: string): string {
  const name = m.constructor.name || 'Module';
  const kids = m.modules();
  const extra = extraRepr(m);
  if (kids.length === 0) return `${name}(${extra})`;
  // As PyTorch: the module's own settings on the first line inside, then its children.
  const inner = indent + '  ';
  const lines = kids.map(([n, c]) => `${inner}(${n}): ${repr(c, inner)}`);
  if (extra) lines.unshift(`${inner}${extra}`);
  return `${name}(\n${lines.join('\n')}\n${indent})`;
}

/** Whether `v` is one of the values registered explicitly on `m` (small maps: a scan beats a Set). */
function isExplicit(m: Module, v: unknown): boolean {
  for (const t of m[PARAMS].values()) if (t === v) return true;
  for (const t of m[BUFFERS].values()) if (t === v) return true;
  for (const c of m[CHILDREN].values()) if (c === v) return true;
  return false;
}

/**
 * This module's own parameters and direct children (see the class comment for
 * the rules). Runs on every walk (train()/eval() in each predict), so it
 * allocates little: primitives are skipped at once, containers searched lazily.
 */
function ownEntries(m: Module, withParams = true): OwnEntries {
  const self = m as unknown as Record<string, unknown>;
  const params: [string, Tensor][] = [];
  const buffers: [string, Tensor][] = [];
  const children: [string, Module][] = [];
  const ownParams = m[PARAMS];
  const ownChildren = m[CHILDREN];
  const ownBuffers = m[BUFFERS];
  // An explicit name that is also a property: the property's current value wins (reassignment).
  if (withParams) for (const [n, t] of ownParams) {
    const v = self[n];
    const cur = v !== t && Object.hasOwn(self, n) && (v instanceof Tensor || v === null) ? v : t;
    if (cur && cur !== t && !isParameter(cur)) {
      // As PyTorch refuses a plain tensor assigned over a registered parameter.
      throw new Error(`fathom.${m.constructor.name}: property '${n}' is a registered parameter; assign nn.parameter(tensor) (or null), not a tensor that does not require grad`);
    }
    if (cur) params.push([n, cur]);
  }
  if (withParams) for (const [n, t] of ownBuffers) {
    const v = self[n];
    const cur = v !== t && Object.hasOwn(self, n) && (v instanceof Tensor || v === null) ? v : t;
    if (cur && cur !== t && !isBuffer(cur)) {
      throw new Error(`fathom.${m.constructor.name}: property '${n}' is a registered buffer; assign nn.buffer(tensor) (or null), not a plain tensor`);
    }
    if (cur) buffers.push([n, cur]);
  }
  for (const [n, c] of ownChildren) {
    const v = self[n];
    const cur = v !== c && Object.hasOwn(self, n) && (v instanceof Module || v === null) ? v : c;
    if (cur) children.push([n, cur]);
  }
  if (fixedStructure.has(m.constructor as abstract new () => Module)) return { params, buffers, children };
  const hasExplicit = ownParams.size > 0 || ownChildren.size > 0 || ownBuffers.size > 0;
  let seen: Set<object> | null = null;
  // A module or parameter reached through a second property (`this.blocks = [this.fc1]`) keeps
  // its first name only, as PyTorch's named_parameters() does (explicit registrations come first).
  let found: Set<object> | null = null;
  const firstTime = (v: object): boolean => {
    if (!found) found = new Set<object>([...params.map(([, t]) => t), ...buffers.map(([, t]) => t), ...children.map(([, c]) => c)]);
    if (found.has(v)) return false;
    found.add(v);
    return true;
  };
  // `path` is built only for what is registered (most properties are primitives).
  const visit = (path: () => string, v: object, depth: number): void => {
    if (v instanceof Module) {
      if ((!hasExplicit || !isExplicit(m, v)) && firstTime(v)) children.push([path(), v]);
    } else if (v instanceof Tensor) {
      if (withParams && isParameter(v) && (!hasExplicit || !isExplicit(m, v)) && firstTime(v)) params.push([path(), v]);
      else if (withParams && isBuffer(v) && (!hasExplicit || !isExplicit(m, v)) && firstTime(v)) buffers.push([path(), v]);
    } else if (depth < MAX_CONTAINER_DEPTH && (Array.isArray(v) || isPlainObject(v))) {
      // An array whose first element is a primitive (a log of numbers, a shape) holds no
      // modules: not scanned, so a 10^6-entry history costs nothing in every predict().
      if (Array.isArray(v) && v.length > 0 && (typeof v[0] !== 'object' || v[0] === null)) return;
      seen ??= new Set();
      if (seen.has(v)) return;
      seen.add(v);
      const c = v as Record<string, unknown>;
      let scanned = 0;
      for (const k of Array.isArray(v) ? v.keys() : Object.keys(v)) {
        if (++scanned > MAX_CONTAINER_ENTRIES) break;
        const e = c[k as string];
        if (typeof e === 'object' && e !== null) visit(() => `${path()}.${k}`, e, depth + 1);
      }
    }
  };
  for (const key in self) {
    if (!Object.hasOwn(self, key) || (hasExplicit && (ownParams.has(key) || ownChildren.has(key) || ownBuffers.has(key)))) continue;
    const v = self[key];
    if (typeof v === 'object' && v !== null) visit(() => key, v, 0);
  }
  return { params, buffers, children };
}

function collect(m: Module, prefix: string, out: [string, Tensor][], ancestors: Set<Module>, what: 'params' | 'buffers' | 'state' = 'params'): void {
  ancestors.add(m);
  const { params, buffers, children } = ownEntries(m);
  if (what !== 'buffers') for (const [n, t] of params) out.push([prefix + n, t]);
  if (what !== 'params') for (const [n, t] of buffers) out.push([prefix + n, t]);
  for (const [n, c] of children) if (!ancestors.has(c)) collect(c, `${prefix}${n}.`, out, ancestors, what);
  ancestors.delete(m);
}

function setMode(m: Module, on: boolean, ancestors: Set<Module>): void {
  m.training = on;
  const kids = m[CHILDREN];
  if (fixedStructure.has(m.constructor as abstract new () => Module)) {
    // A built-in layer: only its registered children (allocation-free: this runs twice in every predict()).
    if (kids.size === 0) return;
    ancestors.add(m);
    const self = m as unknown as Record<string, unknown>;
    for (const [n, c] of kids) {
      const v = self[n];
      const cur = v !== c && v !== undefined && Object.hasOwn(self, n) && (v instanceof Module || v === null) ? v : c;
      if (cur && !ancestors.has(cur)) setMode(cur, on, ancestors);
    }
  } else {
    ancestors.add(m);
    for (const [, c] of ownEntries(m, false).children) if (!ancestors.has(c)) setMode(c, on, ancestors);
  }
  ancestors.delete(m);
}

/**
 * Removes the buffer `name` registered on `m` (by registerBuffer) and returns
 * it, or undefined when `m` has none of that name. Used by prune.remove().
 * @internal
 */
export function unregisterBuffer(m: Module, name: string): Tensor | undefined {
  const t = m[BUFFERS].get(name);
  m[BUFFERS].delete(name);
  return t;
}

function checkName(op: string, name: string): void {
  if (typeof name !== 'string' || name === '' || name.includes('.')) {
    throw new Error(`fathom.Module.${op}: name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
  }
}
