/**
 * nn.Model: a functional model (Keras's Model(inputs, outputs)), a Module
 * holding a directed acyclic graph of layers built with nn.input and
 * layer.apply:
 *
 *   const x = nn.input([784], { name: 'image' });
 *   const h = new nn.ReLU().apply(new nn.Linear(784, 64).apply(x));
 *   const model = new nn.Model({ inputs: x, outputs: new nn.Linear(64, 10).apply(h, { name: 'digit' }) });
 *
 * - Every layer the outputs depend on is a child module, registered once under
 *   its name (given with apply({ name }), else `<type>_<k>` numbered per model
 *   in the order of first use: linear_1, linear_2, …); state-dict keys are
 *   `<layer>.<param>` (`<outer>.<inner>.weight` for a model used as a layer).
 * - A layer applied several times is shared: one set of weights, whose
 *   gradients add up over its uses (the tape sums them).
 * - Single input and output: forward(x) (fit / evaluate / predict work as for
 *   any Module). Several: forwardAll(inputs) in inputNames order returns the
 *   outputs in outputNames order (the MultiIOModule interface of
 *   lib/models/multi.ts, which fit / evaluate / predict accept).
 * - A Model is itself a layer: model.apply(x) (one output) or
 *   model.applyAll(xs) (any number) adds it to another graph.
 * - save() / load() keep the graph (config() is its architecture: inputs,
 *   layers, nodes, outputs, frozen parameters; graph/config.ts reads it back).
 */
import { Tensor } from '../../tensor/tensor.js';
import { fmt } from '../../tensor/shape.js';
import { describe } from '../../ops/record.js';
import type { ActOp } from '../../backend/backend.js';
import { Module, fixedStructure, type ModuleConfig } from '../module.js';
import { Linear } from '../linear.js';
import { Conv1d, Conv2d } from '../conv.js';
import { fusableActivation } from '../activations.js';
import type { MultiIOModule } from '../../models/multi.js';
import { GraphNode, SymbolicTensor, applySymbolic, callLayer, checkName, explicitName, setExplicitName, type ApplyOptions } from './symbolic.js';
import { graphSummary } from './summary.js';

/** Options of nn.Model. */
export interface ModelOptions {
  /** The model's inputs: nn.input() tensors (one or an array; their order is inputNames' order). */
  inputs: SymbolicTensor | readonly SymbolicTensor[];
  /** Its outputs: any symbolic tensors of the graph (one or an array; their order is outputNames' order). */
  outputs: SymbolicTensor | readonly SymbolicTensor[];
  /** The model's name (summary title; its layer name inside another model). Default 'model' (model_<k> inside another). */
  name?: string;
}

/** @internal One layer call of the compiled graph: value slots in and out. */
interface Step {
  node: GraphNode;
  layer: Module;
  name: string;
  ins: number[];
  outs: number[];
  /** Linear / Conv followed by its only consumer, an activation: computed fused (as Sequential does). */
  fuse: ActOp | null;
  /** The activation step folded into the previous one. */
  skip: boolean;
}

/** Keras-style snake_case of a class name: Linear → linear, BatchNorm1d → batch_norm1d, LeakyReLU → leaky_relu. */
function snake(type: string): string {
  const s = type.replace(/([a-z0-9])([A-Z][a-z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
  return /^[a-z_]/.test(s) && /^[a-z0-9_]+$/.test(s) ? s : 'module';
}

function asList(op: string, what: string, v: unknown): SymbolicTensor[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new Error(`fathom.${op}: ${what} must hold at least one SymbolicTensor, got an empty array`);
  list.forEach((t, i) => {
    if (!(t instanceof SymbolicTensor)) {
      throw new Error(`fathom.${op}: ${what}${Array.isArray(v) ? `[${i}]` : ''} must be a SymbolicTensor (from nn.input or layer.apply), got ${t instanceof Tensor ? `a real Tensor ${fmt(t.shape)}` : describe(t)}`);
    }
  });
  return list as SymbolicTensor[];
}

export class Model extends Module implements MultiIOModule {
  /** The model's name (options.name, else 'model'). */
  readonly name: string;
  /** Unique input names, in the order forwardAll takes the inputs. */
  readonly inputNames: readonly string[];
  /** Unique output names (the producing layer's name), in the order forwardAll returns the outputs. */
  readonly outputNames: readonly string[];
  /** The symbolic inputs and outputs the model was built over. */
  readonly inputs: readonly SymbolicTensor[];
  readonly outputs: readonly SymbolicTensor[];
  readonly #steps: Step[];
  readonly #names: Map<Module, string>;
  readonly #inputSlots: number[];
  readonly #outputSlots: number[];
  readonly #slots: number;
  readonly #calls: Map<GraphNode, number>;

  /**
   * @throws `fathom.Model: …` when inputs are not distinct nn.input tensors,
   *   an output depends on an nn.input that is not among inputs (naming the
   *   input and the layers on the way), two layers or inputs have one name, a
   *   name is bad, or an option is unknown.
   */
  constructor(options: ModelOptions) {
    super();
    const op = 'Model';
    if (options === null || typeof options !== 'object') throw new Error(`fathom.Model: expected { inputs, outputs, name? }, got ${describe(options)}`);
    const extra = Object.keys(options).filter((k) => !['inputs', 'outputs', 'name'].includes(k));
    if (extra.length) throw new Error(`fathom.Model: unknown option ${extra.map((k) => `'${k}'`).join(', ')} (known: inputs, outputs, name)`);
    const inputs = asList(op, 'inputs', options.inputs);
    const outputs = asList(op, 'outputs', options.outputs);
    if (options.name !== undefined) {
      checkName(op, 'options.name', options.name);
      setExplicitName(op, this, options.name);
    }
    this.name = options.name ?? 'model';
    const firstAt = new Map<SymbolicTensor, number>();
    inputs.forEach((t, i) => {
      if (t.node.layer !== null) throw new Error(`fathom.Model: inputs[${i}] must be an nn.input() tensor, got the output of a ${t.node.layer.constructor.name} (${t.batchShape})`);
      const j = firstAt.get(t);
      if (j !== undefined) throw new Error(`fathom.Model: inputs[${i}] is inputs[${j}] again; each input once`);
      firstAt.set(t, i);
    });

    // The nodes the outputs depend on (iteratively: a deep graph must not overflow the stack).
    const reached = new Set<GraphNode>();
    const via = new Map<GraphNode, GraphNode>(); // a node → a node that consumes it (for naming a path)
    const stack = outputs.map((t) => t.node);
    for (const n of stack) reached.add(n);
    while (stack.length) {
      const n = stack.pop()!;
      for (const t of n.inputs) {
        if (!reached.has(t.node)) {
          reached.add(t.node);
          via.set(t.node, n);
          stack.push(t.node);
        }
      }
    }
    const nodes = [...reached].filter((n) => n.layer !== null).sort((a, b) => a.id - b.id);

    // Names: explicit ones first (they must be unique), then generated ones around them.
    const names = new Map<Module, string>();
    const inputNames = new Map<GraphNode, string>();
    const taken = new Map<string, string>(); // name → what holds it
    const claim = (name: string, what: string): void => {
      const had = taken.get(name);
      if (had !== undefined) throw new Error(`fathom.Model: the name '${name}' is used by ${had} and by ${what}; names in a model must be unique`);
      taken.set(name, what);
    };
    for (const t of inputs) if (t.node.inputName !== undefined) claim(t.node.inputName, `input ${t.batchShape}`), inputNames.set(t.node, t.node.inputName);
    const layerSet = new Set<Module>();
    for (const n of nodes) layerSet.add(n.layer!);
    const layers = [...layerSet]; // first-use order
    for (const m of layers) {
      const e = explicitName(m);
      if (e !== undefined) {
        claim(e, `a ${m.constructor.name} layer`);
        names.set(m, e);
      }
    }
    // The next free `<base>_<k>`; k is remembered per base, so naming L layers of one type is O(L), not O(L²).
    const nextK = new Map<string, number>();
    const fresh = (base: string): string => {
      for (let k = nextK.get(base) ?? 1; ; k++) {
        if (!taken.has(`${base}_${k}`)) {
          nextK.set(base, k + 1);
          return `${base}_${k}`;
        }
      }
    };
    for (const t of inputs) {
      if (!inputNames.has(t.node)) {
        const n = fresh('input');
        claim(n, `input ${t.batchShape}`);
        inputNames.set(t.node, n);
      }
    }
    for (const m of layers) {
      if (!names.has(m)) {
        const n = fresh(snake(m.constructor.name));
        claim(n, `a ${m.constructor.name} layer`);
        names.set(m, n);
      }
    }

    // Every nn.input reached must be one of inputs.
    for (const n of reached) {
      if (n.layer === null && !inputNames.has(n)) {
        const path: string[] = [];
        for (let c = via.get(n); c; c = via.get(c)) path.push(names.get(c.layer!)!);
        const t = n.outputs[0];
        const shown = n.inputName ? `'${n.inputName}' ${t.batchShape}` : t.batchShape;
        throw new Error(`fathom.Model: the outputs depend on the nn.input ${shown}, which is not in inputs (${[...inputNames.values()].join(', ')})${path.length ? `; it feeds ${path.join(' → ')}` : ''}. Pass it in inputs, or build the layers on one of the inputs`);
      }
    }

    // Value slots: one per symbolic tensor; inputs first.
    const slotOf = new Map<SymbolicTensor, number>();
    for (const t of inputs) slotOf.set(t, slotOf.size);
    for (const n of nodes) for (const t of n.outputs) slotOf.set(t, slotOf.size);
    const calls = new Map<GraphNode, number>();
    const count = new Map<Module, number>();
    const steps: Step[] = nodes.map((n) => {
      const k = count.get(n.layer!) ?? 0;
      count.set(n.layer!, k + 1);
      calls.set(n, k);
      return { node: n, layer: n.layer!, name: names.get(n.layer!)!, ins: n.inputs.map((t) => slotOf.get(t)!), outs: n.outputs.map((t) => slotOf.get(t)!), fuse: null, skip: false };
    });
    fuseActivations(steps, outputs.map((t) => slotOf.get(t)!));

    for (const m of layers) {
      const name = names.get(m)!;
      this.registerModule(name, m);
      // model.<layer> reads the layer; assigning it (PyTorch's `model.fc = new nn.Linear(…)`) would swap the
      // parameters that train while forward kept the old layer: refused. Names the class already has are left alone.
      if (!(name in this)) {
        Object.defineProperty(this, name, {
          enumerable: false, configurable: false,
          get: () => m,
          set: () => {
            throw new Error(`fathom.Model: layer '${name}' of ${this.name} cannot be replaced by assignment: the graph is fixed when the model is built. Build a new nn.Model instead (apply the new layer to the symbolic tensor it should take, e.g. new nn.Model({ inputs: base.inputs, outputs: head.apply(base.outputs[0]) }))`);
          },
        });
      }
    }

    // Output names: the producing layer's (or input's) name; `_<i>` for output i of a multi-output layer; made unique.
    const outNames: string[] = [];
    const usedOut = new Set<string>();
    const nextOut = new Map<string, number>(); // per base, the next k to try (O(outputs), also for one tensor listed many times)
    for (const t of outputs) {
      let base = t.node.layer === null ? inputNames.get(t.node)! : names.get(t.node.layer)!;
      if (t.node.outputs.length > 1) base = `${base}_${t.index}`;
      let n = base;
      for (let k = nextOut.get(base) ?? 2; usedOut.has(n); k++) {
        n = `${base}_${k}`;
        nextOut.set(base, k + 1);
      }
      outNames.push(n);
      usedOut.add(n);
    }

    this.inputs = Object.freeze([...inputs]);
    this.outputs = Object.freeze([...outputs]);
    this.inputNames = Object.freeze(inputs.map((t) => inputNames.get(t.node)!));
    this.outputNames = Object.freeze(outNames);
    this.#steps = steps;
    this.#names = new Map(layers.map((m) => [m, names.get(m)!])); // first-use order
    this.#inputSlots = inputs.map((t) => slotOf.get(t)!);
    this.#outputSlots = outputs.map((t) => slotOf.get(t)!);
    this.#slots = slotOf.size;
    this.#calls = calls;
  }

  /** The distinct layers, in the order of their first use (the state-dict order). */
  get layers(): Module[] {
    return [...this.#names.keys()];
  }

  /** The layer named `name` (Keras's get_layer). @throws if there is none. */
  getLayer(name: string): Module {
    for (const [m, n] of this.#names) if (n === name) return m;
    throw new Error(`fathom.Model.getLayer: no layer '${String(name)}' (layers: ${[...this.#names.values()].join(', ')})`);
  }

  /** The name of `layer` in this model, or undefined when it is not one of its layers. */
  layerName(layer: Module): string | undefined {
    return this.#names.get(layer);
  }

  /**
   * Runs the graph: `inputs` in inputNames order, each [N, ...shape] of its
   * nn.input's shape and dtype, one N for all; returns the outputs in
   * outputNames order.
   * @throws `fathom.Model: …` for a wrong number of inputs, a non-Tensor (a
   *   SymbolicTensor: use apply), a dtype or shape other than the input's, or
   *   a layer's error prefixed with `layer '<name>' (<Type>)`.
   */
  forwardAll(inputs: Tensor[]): Tensor[] {
    if (!Array.isArray(inputs)) throw new Error(`fathom.Model.forwardAll: inputs must be an array of ${this.inputNames.length} Tensors (${this.inputNames.join(', ')}), got ${describe(inputs)}`);
    if (inputs.length !== this.inputNames.length) {
      throw new Error(`fathom.Model.forwardAll: ${this.name} takes ${this.inputNames.length} input(s) (${this.inputNames.join(', ')}), got ${inputs.length}`);
    }
    const vals: Tensor[] = new Array(this.#slots);
    let n = -1;
    inputs.forEach((x, i) => {
      const want = this.inputs[i];
      const name = this.inputNames[i];
      if (!(x instanceof Tensor)) {
        if ((x as unknown) instanceof SymbolicTensor) throw new Error(`fathom.Model: input '${name}' is a SymbolicTensor; forward runs on real Tensors; to add the model to a graph use model.apply(x)`);
        throw new Error(`fathom.Model: input '${name}' must be a Tensor ${want.dtype} ${want.batchShape}, got ${describe(x)}`);
      }
      if (x.dtype !== want.dtype || x.rank !== want.shape.length + 1 || want.shape.some((d, j) => x.shape[j + 1] !== d)) {
        throw new Error(`fathom.Model: input '${name}' must be ${want.dtype} ${want.batchShape}, got ${x.dtype} ${fmt(x.shape)}`);
      }
      if (n >= 0 && x.shape[0] !== n) throw new Error(`fathom.Model: the inputs must have one batch size N; '${this.inputNames[0]}' has ${n} rows, '${name}' ${x.shape[0]}`);
      n = x.shape[0];
      vals[this.#inputSlots[i]] = x;
    });
    for (const s of this.#steps) {
      if (s.skip) continue;
      const xs = s.ins.map((i) => vals[i]);
      let ys: Tensor[];
      try {
        ys = s.fuse ? [(s.layer as Linear | Conv2d | Conv1d).forwardWith(xs[0], s.fuse)] : callLayer(s.layer, xs, s.node.listCall);
      } catch (e) {
        if (!(e instanceof Error)) throw e;
        throw new Error(`fathom.Model: layer '${s.name}' (${s.layer.constructor.name}): ${e.message}`, { cause: e });
      }
      if (!Array.isArray(ys) || ys.length !== s.outs.length || ys.some((y) => !(y instanceof Tensor))) {
        throw new Error(`fathom.Model: layer '${s.name}' (${s.layer.constructor.name}) returned ${describe(ys)}, expected ${s.outs.length} Tensor(s)`);
      }
      s.outs.forEach((o, i) => { vals[o] = ys[i]; });
    }
    return this.#outputSlots.map((i) => vals[i]);
  }

  /**
   * The model's output for input `x` (an array of Tensors for several inputs).
   * @throws for a model of several outputs (use forwardAll), or what forwardAll throws.
   */
  forward(x: Tensor | Tensor[]): Tensor {
    if (this.outputNames.length !== 1) {
      throw new Error(`fathom.Model: ${this.name} has ${this.outputNames.length} outputs (${this.outputNames.join(', ')}); forward returns one, use forwardAll(inputs) (or predict, which returns them all)`);
    }
    if (x instanceof SymbolicTensor) throw new Error(`fathom.Model: forward got a SymbolicTensor; forward runs on real Tensors; to add the model to a graph use model.apply(x)`);
    if (Array.isArray(x)) return this.forwardAll(x)[0];
    if (this.inputNames.length !== 1) {
      throw new Error(`fathom.Model: ${this.name} takes ${this.inputNames.length} inputs (${this.inputNames.join(', ')}); pass them as an array to forward / forwardAll, got ${x instanceof Tensor ? `one Tensor ${fmt(x.shape)}` : describe(x)}`);
    }
    return this.forwardAll([x])[0];
  }

  /**
   * Adds the model to another graph as one layer and returns all its outputs
   * (model.apply returns the only one of a single-output model).
   * @throws as Module.apply.
   */
  applyAll(x: SymbolicTensor | readonly SymbolicTensor[], options?: ApplyOptions): SymbolicTensor[] {
    return applySymbolic(this, x, options);
  }

  /**
   * A table of the layers: one row per layer call (name and type, output
   * shape with N for the batch, parameter count, the tensors it takes), then
   * the totals: parameters (a shared layer's counted once), trainable and
   * non-trainable (frozen). Buffers (BatchNorm's running statistics) are not
   * parameters and are not counted (as PyTorch's parameters()).
   * `inputShape`, which Module.summary takes, is not needed: the graph knows
   * its shapes. It is accepted when it is the (only) input's shape.
   * @throws for an inputShape other than the model's input shape.
   */
  override summary(inputShape?: readonly number[]): string {
    if (inputShape !== undefined) {
      const own = this.inputs.length === 1 ? this.inputs[0].shape : null;
      if (!own || !Array.isArray(inputShape) || inputShape.length !== own.length || own.some((d, i) => inputShape[i] !== d)) {
        throw new Error(`fathom.Model.summary: an nn.Model knows its input shapes (${this.inputs.map((t) => `${this.inputNames[this.inputs.indexOf(t)]} ${t.batchShape}`).join(', ')}); call summary() without inputShape, got ${Array.isArray(inputShape) ? fmt(inputShape) : describe(inputShape)}`);
      }
    }
    return graphSummary(this, this.#graphView());
  }

  /** @internal What summary and config read: inputs, steps (name, call index), refs. */
  #graphView(): GraphView {
    const inputAt = new Map(this.inputs.map((t, i) => [t, i]));
    const ref = (t: SymbolicTensor): Ref => {
      if (t.node.layer === null) return [this.inputNames[inputAt.get(t)!], 0, 0];
      return [this.#names.get(t.node.layer)!, this.#calls.get(t.node)!, t.index];
    };
    return {
      inputs: this.inputs.map((t, i) => ({ name: this.inputNames[i], shape: [...t.shape], dtype: t.dtype })),
      layers: this.layers.map((m) => ({ name: this.#names.get(m)!, layer: m })),
      nodes: this.#steps.map((s) => ({
        layer: s.name, module: s.layer, call: this.#calls.get(s.node)!, list: s.node.listCall,
        inputs: s.node.inputs.map(ref), shapes: s.node.outputs.map((t) => [...t.shape]),
      })),
      outputs: this.outputs.map(ref),
    };
  }

  /**
   * The architecture: `{ type: 'Model', name?, inputs: [{ name, shape, dtype? }],
   * layers: [{ name, config, frozen? }], nodes: [{ layer, inputs: [[from, call, index], …], list? }],
   * outputs: [[from, call, index], …] }` — Keras's functional config: each layer
   * once (shared layers too), each node a call of a layer on outputs of earlier
   * nodes or inputs (`from` a layer or input name, `call` which call of that
   * layer, `index` which of its outputs); `frozen` lists a layer's parameters
   * that do not require grad (a nested Model lists its own).
   */
  override config(): ModuleConfig {
    const g = this.#graphView();
    const c: ModuleConfig = { type: 'Model' };
    if (explicitName(this) !== undefined) c.name = this.name;
    c.inputs = g.inputs.map((i) => (i.dtype === 'float32' ? { name: i.name, shape: i.shape } : { name: i.name, shape: i.shape, dtype: i.dtype }));
    c.layers = g.layers.map(({ name, layer }) => {
      const entry: Record<string, unknown> = { name, config: layer.config() };
      if (!(layer instanceof Model)) {
        const frozen = layer.namedParameters().filter(([, p]) => !p.requiresGrad).map(([n]) => n);
        if (frozen.length) entry.frozen = frozen;
      }
      return entry;
    });
    c.nodes = g.nodes.map((n) => (n.list ? { layer: n.layer, inputs: n.inputs, list: true } : { layer: n.layer, inputs: n.inputs }));
    c.outputs = g.outputs;
    return c;
  }
}
fixedStructure.add(Model);

/** [from, call, index]: output `index` of call `call` of the layer (or input) `from`. */
export type Ref = [string, number, number];

/** @internal */
export interface GraphView {
  inputs: { name: string; shape: number[]; dtype: string }[];
  layers: { name: string; layer: Module }[];
  nodes: { layer: string; module: Module; call: number; list: boolean; inputs: Ref[]; shapes: number[][] }[];
  outputs: Ref[];
}

/**
 * Marks Linear / Conv1d / Conv2d steps whose one output feeds only a ReLU,
 * Sigmoid or Tanh step (and is not a model output): the pair runs as the
 * layer's fused bias + activation epilogue, as in Sequential.
 */
function fuseActivations(steps: Step[], outputSlots: number[]): void {
  const uses = new Map<number, Step[]>();
  for (const s of steps) for (const i of s.ins) (uses.get(i) ?? uses.set(i, []).get(i)!).push(s);
  for (const s of steps) {
    const c = s.layer.constructor;
    if (c !== Linear && c !== Conv2d && c !== Conv1d) continue;
    if (s.node.listCall || s.outs.length !== 1 || outputSlots.includes(s.outs[0])) continue;
    const consumers = uses.get(s.outs[0]) ?? [];
    if (consumers.length !== 1) continue;
    const next = consumers[0];
    const act = fusableActivation(next.layer);
    if (!act || next.node.listCall || next.ins.length !== 1 || next.skip) continue;
    s.fuse = act;
    s.outs = next.outs;
    next.skip = true;
  }
}
