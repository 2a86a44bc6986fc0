/**
 * Reading a saved nn.Model architecture (Model.config()) back: the structure
 * is checked first, allocating nothing — every name, every reference
 * [from, call, index] to an input or to an earlier call of a layer, no cycle,
 * every layer used and every node feeding an output — so load() refuses a
 * crafted graph before it builds any layer (a cycle is reported as the loop of
 * layer names: `a → b → a`). Then the layers are built from their configs,
 * their frozen parameters frozen, and the nodes replayed with apply (which
 * infers and checks every shape, naming the layer that refuses its input).
 */
import type { DType } from '../../tensor/tensor.js';
import type { Module, ModuleConfig } from '../module.js';
import { Model, type Ref } from './model.js';
import { SymbolicTensor, applySymbolic, checkName, input, probeSize, setExplicitName } from './symbolic.js';

type ParameterShapes = [string, number[], ('F32' | 'I32')?][];

/** At most this many layers, nodes, inputs and outputs, and inputs per node (a hostile file's huge arrays are refused at once). */
const MAX_ENTRIES = 100_000;
/** The most values one input sample may have: load() runs each layer once on a zero batch of 2 of these. */
const MAX_INPUT_SIZE = 2 ** 24;
/**
 * The most values the shape inference of one loaded graph may allocate in all
 * (each node's zero-batch inputs and its outputs, summed over the nodes): a
 * few seconds of work. Without it a small crafted file (say 100,000 ReLU nodes
 * on a 4096 × 4096 input) would keep load() busy for hours.
 */
export const MAX_PROBE_VALUES = 2 ** 30;
/** @internal The budget in force (tests lower it to check the accounting on small graphs). */
export const probeLimit = { values: MAX_PROBE_VALUES };

interface Checked {
  name?: string;
  inputs: { name: string; shape: number[]; dtype: DType }[];
  layers: { name: string; config: ModuleConfig; frozen: string[] }[];
  nodes: { layer: string; inputs: Ref[]; list: boolean }[];
  outputs: Ref[];
  /** Node indices in an order where each comes after the nodes it takes. */
  order: number[];
}

const KEYS = ['type', 'name', 'inputs', 'layers', 'nodes', 'outputs'];

function fail(msg: string): never {
  throw new Error(`fathom.fromConfig: Model ${msg}`);
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

function array(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail(`${what} must be an array, got ${show(v)}`);
  if (v.length > MAX_ENTRIES) fail(`${what} holds ${v.length} entries; at most ${MAX_ENTRIES}`);
  return v;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`${what} must be an object, got ${show(v)}`);
  return v as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, keys: string[], what: string): void {
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  if (extra.length) fail(`${what}: unknown key ${extra.map((k) => JSON.stringify(k)).join(', ')} (known: ${keys.join(', ')})`);
}

function name(v: unknown, what: string): string {
  try {
    return checkName('fromConfig', what, v);
  } catch (e) {
    fail((e as Error).message.replace('fathom.fromConfig: ', ''));
  }
}

function ref(v: unknown, what: string): Ref {
  if (!Array.isArray(v) || v.length !== 3 || typeof v[0] !== 'string' || !Number.isSafeInteger(v[1]) || v[1] < 0 || !Number.isSafeInteger(v[2]) || v[2] < 0) {
    fail(`${what} must be [layer or input name, call index, output index], got ${show(v)}`);
  }
  return [v[0], v[1], v[2]];
}

/**
 * Checks a Model config's structure (allocates nothing the file's size does not
 * bound). @throws `fathom.fromConfig: Model …` naming what is wrong.
 */
export function checkModelConfig(c: ModuleConfig): Checked {
  onlyKeys(c, KEYS, 'config');
  const out: Checked = { inputs: [], layers: [], nodes: [], outputs: [], order: [] };
  if (c.name !== undefined) out.name = name(c.name, 'name');
  const names = new Set<string>();
  const claim = (n: string, what: string): void => {
    if (names.has(n)) fail(`${what}: the name '${n}' is used twice; names must be unique`);
    names.add(n);
  };
  for (const [i, v] of array(c.inputs, 'inputs').entries()) {
    const e = obj(v, `inputs[${i}]`);
    onlyKeys(e, ['name', 'shape', 'dtype'], `inputs[${i}]`);
    const n = name(e.name, `inputs[${i}].name`);
    claim(n, `inputs[${i}]`);
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.length > 7 || shape.some((d) => !Number.isSafeInteger(d) || d < 1)) fail(`inputs[${i}] ('${n}').shape must be an array of at most 7 positive integers, got ${show(shape)}`);
    const size = (shape as number[]).reduce((p, q) => p * q, 1);
    if (size > MAX_INPUT_SIZE) fail(`inputs[${i}] ('${n}') has ${size} values per sample; at most ${MAX_INPUT_SIZE}`);
    const dtype = e.dtype === undefined ? 'float32' : e.dtype; // null is not a dtype
    if (dtype !== 'float32' && dtype !== 'int32') fail(`inputs[${i}] ('${n}').dtype must be "float32" or "int32", got ${show(dtype)}`);
    out.inputs.push({ name: n, shape: shape as number[], dtype });
  }
  if (out.inputs.length === 0) fail('inputs must hold at least one input');
  for (const [i, v] of array(c.layers, 'layers').entries()) {
    const e = obj(v, `layers[${i}]`);
    onlyKeys(e, ['name', 'config', 'frozen'], `layers[${i}]`);
    const n = name(e.name, `layers[${i}].name`);
    claim(n, `layers[${i}]`);
    const config = obj(e.config, `layers[${i}] ('${n}').config`) as ModuleConfig;
    const frozen = e.frozen === undefined ? [] : array(e.frozen, `layers[${i}] ('${n}').frozen`);
    if (frozen.some((f) => typeof f !== 'string')) fail(`layers[${i}] ('${n}').frozen must list parameter names, got ${show(frozen)}`);
    out.layers.push({ name: n, config, frozen: frozen as string[] });
  }
  const layerNames = new Set(out.layers.map((l) => l.name));
  const inputNames = new Set(out.inputs.map((l) => l.name));
  // Node k of layer L is L's call k (in the order the nodes are listed).
  const nodeOf = new Map<string, number>();
  const calls = new Map<string, number>();
  for (const [i, v] of array(c.nodes, 'nodes').entries()) {
    const e = obj(v, `nodes[${i}]`);
    onlyKeys(e, ['layer', 'inputs', 'list'], `nodes[${i}]`);
    if (typeof e.layer !== 'string' || !layerNames.has(e.layer)) fail(`nodes[${i}] applies ${show(e.layer)}, which is not one of the layers (${[...layerNames].slice(0, 10).join(', ')})`);
    const ins = array(e.inputs, `nodes[${i}] ('${e.layer}').inputs`).map((r, j) => ref(r, `nodes[${i}] ('${e.layer}').inputs[${j}]`));
    if (ins.length === 0) fail(`nodes[${i}] ('${e.layer}') takes no input; every node takes inputs or other nodes' outputs`);
    if (e.list !== undefined && typeof e.list !== 'boolean') fail(`nodes[${i}] ('${e.layer}').list must be a boolean, got ${show(e.list)}`);
    if (!e.list && ins.length !== 1) fail(`nodes[${i}] ('${e.layer}') takes ${ins.length} inputs without list: true`);
    const k = calls.get(e.layer) ?? 0;
    calls.set(e.layer, k + 1);
    nodeOf.set(`${e.layer}\u0000${k}`, i);
    out.nodes.push({ layer: e.layer, inputs: ins, list: e.list === true });
  }
  for (const l of out.layers) if (!calls.has(l.name)) fail(`layer '${l.name}' is never applied (no node uses it)`);
  out.outputs = array(c.outputs, 'outputs').map((r, j) => ref(r, `outputs[${j}]`));
  if (out.outputs.length === 0) fail('outputs must hold at least one output');

  // Resolve references: an input (call 0, index 0) or an existing call of a layer (dangling ones are refused, naming both ends).
  const target = ([from, call, index]: Ref, what: string): number | null => {
    if (inputNames.has(from)) {
      if (call !== 0 || index !== 0) fail(`${what} takes input '${from}' as [${show(from)}, ${call}, ${index}]; an input is [name, 0, 0]`);
      return null;
    }
    if (!layerNames.has(from)) fail(`${what} takes ${show(from)}, which is no layer or input of the model (a dangling reference)`);
    const n = nodeOf.get(`${from}\u0000${call}`);
    if (n === undefined) fail(`${what} takes call ${call} of '${from}', but '${from}' is applied ${calls.get(from)} time(s) (a dangling reference)`);
    return n;
  };
  const deps = out.nodes.map((n, i) => n.inputs.map((r, j) => target(r, `nodes[${i}] ('${n.layer}').inputs[${j}]`)).filter((d): d is number => d !== null));
  const outputNodes = out.outputs.map((r, j) => target(r, `outputs[${j}]`));

  // Cycles (iterative depth-first search: 0 new, 1 on the path, 2 done); the order is the post-order.
  const state = new Uint8Array(out.nodes.length);
  for (let root = 0; root < out.nodes.length; root++) {
    if (state[root]) continue;
    const path: number[] = [root];
    const next: number[] = [0];
    state[root] = 1;
    while (path.length) {
      const top = path[path.length - 1];
      const k = next[next.length - 1]++;
      if (k < deps[top].length) {
        const d = deps[top][k];
        if (state[d] === 1) {
          const loop = path.slice(path.indexOf(d)).map((i) => out.nodes[i].layer);
          // path runs consumer → producer; the data flows the other way.
          fail(`graph has a cycle: ${[out.nodes[d].layer, ...loop.reverse()].join(' → ')} (each of these layers takes the output of the one before it)`);
        }
        if (state[d] === 0) {
          state[d] = 1;
          path.push(d);
          next.push(0);
        }
      } else {
        state[top] = 2;
        out.order.push(top);
        path.pop();
        next.pop();
      }
    }
  }
  // Every node must feed an output (else the built model would drop it and its layer).
  const useful = new Uint8Array(out.nodes.length);
  const stack = outputNodes.filter((n): n is number => n !== null);
  for (const n of stack) useful[n] = 1;
  while (stack.length) for (const d of deps[stack.pop()!]) if (!useful[d]) { useful[d] = 1; stack.push(d); }
  const idle = out.nodes.findIndex((_, i) => !useful[i]);
  if (idle >= 0) fail(`nodes[${idle}] ('${out.nodes[idle].layer}') feeds no output of the model`);
  // Prefer the listed order when it is already topological (it is in every file save() writes).
  if (deps.every((ds, i) => ds.every((d) => d < i))) out.order = out.nodes.map((_, i) => i);
  return out;
}

/** The parameters `modelFromConfig(c)` builds, from the layers' shape functions (null when one has none). */
export function modelParameterShapes(c: ModuleConfig, shapes: (c: ModuleConfig) => ParameterShapes | null): ParameterShapes | null {
  const g = checkModelConfig(c);
  const out: ParameterShapes = [];
  for (const l of g.layers) {
    let inner: ParameterShapes | null;
    try {
      inner = shapes(l.config);
    } catch (e) {
      throw new Error(`fathom.fromConfig: Model layer '${l.name}': ${(e as Error).message.replace(/^fathom\.fromConfig: /, '')}`, { cause: e });
    }
    if (inner === null) return null;
    for (const [n, s, d] of inner) out.push(d ? [`${l.name}.${n}`, s, d] : [`${l.name}.${n}`, s]);
  }
  return out;
}

/** Builds the Model a config describes (see the file comment). */
export function modelFromConfig(c: ModuleConfig, build: (c: ModuleConfig) => Module): Model {
  if (load.depth === 0) load.probed = 0;
  load.depth++;
  try {
    return buildModel(c, build);
  } finally {
    load.depth--;
  }
}

/** The shape-inference work of the load under way (nested models add to the outermost one's budget). */
const load = { depth: 0, probed: 0 };
/** What building each loaded Model cost in probe values: applying it in an outer graph runs its whole graph again. */
const probeCost = new WeakMap<Module, number>();

/**
 * What running `m` once in shape inference costs beyond its own input and
 * output: the graphs of the loaded Models in it (itself, or inside a
 * Sequential), each as much as building it cost. Cached per module.
 */
function runCost(m: Module): number {
  let c = probeCost.get(m);
  if (c === undefined) {
    c = 0;
    probeCost.set(m, 0); // a module reached twice under itself counts once
    for (const [, child] of m.modules()) c += runCost(child);
    probeCost.set(m, c);
  }
  return c;
}

function buildModel(c: ModuleConfig, build: (c: ModuleConfig) => Module): Model {
  const g = checkModelConfig(c);
  const layers = new Map<string, Module>();
  for (const l of g.layers) {
    let m: Module;
    try {
      m = build(l.config);
    } catch (e) {
      throw new Error(`fathom.fromConfig: Model layer '${l.name}': ${(e as Error).message.replace(/^fathom\.fromConfig: /, '')}`, { cause: e });
    }
    try {
      setExplicitName('fromConfig', m, l.name);
    } catch (e) {
      fail(`layer '${l.name}': ${(e as Error).message.replace(/^fathom\.fromConfig: /, '')}`);
    }
    if (l.frozen.length) {
      const params = new Map(m.namedParameters());
      for (const f of l.frozen) {
        const p = params.get(f);
        if (!p) fail(`layer '${l.name}' lists '${f}' as frozen, but its parameters are ${[...params.keys()].join(', ') || 'none'}`);
        p.requiresGrad = false;
      }
    }
    layers.set(l.name, m);
  }
  const values = new Map<string, SymbolicTensor[]>();
  const inputs = g.inputs.map((i) => {
    const t = input(i.shape, { name: i.name, dtype: i.dtype });
    values.set(`${i.name}\u00000`, [t]);
    return t;
  });
  const resolve = ([from, call, index]: Ref, what: string): SymbolicTensor => {
    const outs = values.get(`${from}\u0000${call}`)!;
    if (index >= outs.length) fail(`${what} takes output ${index} of '${from}', which has ${outs.length} output(s)`);
    return outs[index];
  };
  const budget = (i: number, layer: string, more: number): void => {
    load.probed += more;
    if (load.probed > probeLimit.values) fail(`nodes[${i}] ('${layer}'): inferring the graph's shapes would run its layers on more than ${probeLimit.values} values in all (zero batches of N = 2, nested models included); a graph this large is refused on load`);
  };
  return replay(g, layers, values, inputs, resolve, budget);
}

/** Replays the nodes of a checked config with apply and builds the Model. */
function replay(
  g: Checked, layers: Map<string, Module>, values: Map<string, SymbolicTensor[]>, inputs: SymbolicTensor[],
  resolve: (r: Ref, what: string) => SymbolicTensor, budget: (i: number, layer: string, more: number) => void,
): Model {
  const start = load.probed;
  const calls = new Map<string, number>();
  const callOf = g.nodes.map((n) => {
    const k = calls.get(n.layer) ?? 0;
    calls.set(n.layer, k + 1);
    return k;
  });
  for (const i of g.order) {
    const n = g.nodes[i];
    const xs = n.inputs.map((r, j) => resolve(r, `nodes[${i}] ('${n.layer}').inputs[${j}]`));
    budget(i, n.layer, probeSize(xs) + runCost(layers.get(n.layer)!));
    let ys: SymbolicTensor[];
    try {
      ys = applySymbolic(layers.get(n.layer)!, n.list ? xs : xs[0], undefined);
    } catch (e) {
      fail(`nodes[${i}] ('${n.layer}'): ${(e as Error).message}`);
    }
    budget(i, n.layer, probeSize(ys));
    values.set(`${n.layer}\u0000${callOf[i]}`, ys);
  }
  const outputs = g.outputs.map((r, j) => resolve(r, `outputs[${j}]`));
  const model = new Model({ inputs, outputs, ...(g.name === undefined ? {} : { name: g.name }) });
  probeCost.set(model, load.probed - start);
  const order = model.layers.map((m) => model.layerName(m));
  const listed = g.layers.map((l) => l.name);
  if (order.join('\u0000') !== listed.join('\u0000')) {
    fail(`layers must be listed in the order the nodes first use them (${order.join(', ')}), got ${listed.join(', ')}`);
  }
  return model;
}
