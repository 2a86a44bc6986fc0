/** Sequential: modules applied one after another. */
import { Tensor } from '../tensor/tensor.js';
import { Module, fixedStructure, type ModuleConfig } from './module.js';
import { describe } from '../ops/record.js';
import { fmt } from '../tensor/shape.js';
import { Linear } from './linear.js';
import { Conv1d, Conv2d } from './conv.js';
import { fusableActivation as fusable } from './activations.js';
import { show } from './options.js';
// --- #13 infer ---
import type { ActOp } from '../backend/backend.js';
import { kernels } from '../backend/index.js';
import { isGradEnabled } from '../autograd/tape.js';
import { empty } from '../ops/record.js';

// Linear's own methods: a run of layers goes through linearChain only when none is overridden
// on the instance or patched on the prototype (what the chain computes is what they compute).
const LINEAR_FORWARD = Linear.prototype.forward;
const LINEAR_FORWARD_WITH = Linear.prototype.forwardWith;

/**
 * The run of plain nn.Linear layers (each optionally followed by ReLU, Sigmoid or Tanh) that
 * starts at layers[i]: how many modules it spans, and its layers and activations.
 */
interface LinearRun {
  span: number;
  lin: Linear[];
  acts: ActOp[];
}
function linearRun(layers: readonly Module[], i: number): LinearRun {
  const lin: Linear[] = [], acts: ActOp[] = [];
  let j = i;
  while (j < layers.length) {
    const m = layers[j];
    if (m.constructor !== Linear || (m as Linear).forward !== LINEAR_FORWARD || (m as Linear).forwardWith !== LINEAR_FORWARD_WITH) break;
    const act = fusable(layers[j + 1]);
    lin.push(m as Linear);
    acts.push(act ?? 'none');
    j += act ? 2 : 1;
  }
  return { span: j - i, lin, acts };
}

/**
 * x through a run of >= 2 Linear layers in ONE kernel call (kernels().linearChain: batch 1 and 2
 * on the calling thread, larger batches one thread-pool job, no intermediate tensors), when
 * nothing is recorded and every shape fits; null otherwise (the caller then runs the layers
 * one by one, which also gives each layer's own error for a bad input). Bitwise the same
 * values as the layers' forwardWith one after another.
 */
function chainForward(x: Tensor, run: LinearRun): Tensor | null {
  const { lin, acts } = run;
  if (x.rank !== 2 || x.dtype !== 'float32' || x.data.length !== x.size || x.shape[1] !== lin[0].inFeatures) return null;
  const record = isGradEnabled();
  if (record && x.requiresGrad) return null;
  const dims = [lin[0].inFeatures];
  const ws: Float32Array[] = [], biases: (Float32Array | null)[] = [];
  for (let l = 0; l < lin.length; l++) {
    const m = lin[l], w = m.weight, b = m.bias;
    if (l > 0 && m.inFeatures !== lin[l - 1].outFeatures) return null;
    if (record && (w.requiresGrad || (b !== null && b.requiresGrad))) return null;
    if (w.data.length !== w.size || (b !== null && b.data.length !== b.size)) return null;
    ws.push(w.f32());
    biases.push(b ? b.f32() : null);
    dims.push(m.outFeatures);
  }
  const n = x.shape[0];
  const y = empty([n, dims[dims.length - 1]], 'Linear');
  if (y.size > 0) kernels().linearChain(n, dims, ws, biases, acts, x.data as Float32Array, y.data as Float32Array);
  return y;
}
// --- end #13 infer ---

const MUTATORS = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'reverse', 'sort', 'fill', 'copyWithin']);

export class Sequential extends Module {
  /**
   * The layers, in order. `seq.layers[i] = module` replaces layer i (as PyTorch's `seq[i] = module`):
   * forward, parameters(), stateDict() and save all see the new one (an optimizer made before keeps the old
   * layer's parameters, as in PyTorch: make it after). Otherwise the layers stay in place:
   * adding, removing or reordering them (push, splice, reverse, sort, `layers[n] = …`, a new `length`,
   * delete) throws; build a new Sequential.
   */
  readonly layers: Module[];
  /** The same array the `layers` proxy writes through to (forward reads it without the proxy). */
  readonly #list: Module[];

  constructor(...layers: Module[]) {
    super();
    layers.forEach((m, i) => {
      if (!(m instanceof Module)) throw new Error(`fathom.Sequential: argument ${i} is not a Module`);
      this.registerModule(String(i), m);
    });
    const list = [...layers];
    this.#list = list;
    const fixed = (what: string): never => {
      throw new Error(`fathom.Sequential.layers: ${what}; a Sequential's ${list.length} layers stay in place: only layers[i] = module replaces one, build a new Sequential to add, remove or reorder layers`);
    };
    this.layers = new Proxy(list, {
      // The array methods that add, remove or move elements: refused whole, before any element moves.
      get: (arr, key, receiver) => (typeof key === 'string' && MUTATORS.has(key) ? () => fixed(`${key}() would change the layer list`) : Reflect.get(arr, key, receiver)),
      set: (arr, key, value) => {
        const i = typeof key === 'string' && /^(0|[1-9][0-9]*)$/.test(key) ? Number(key) : -1;
        if (key === 'length' && value === arr.length) return true; // no change
        if (i < 0 || i >= arr.length) fixed(`cannot set ${String(key)}${key === 'length' ? ` to ${String(value)}` : ''}`);
        if (!(value instanceof Module)) throw new Error(`fathom.Sequential.layers: layer ${i} must be a Module, got ${show(value)}`);
        if (value === this) throw new Error(`fathom.Sequential.layers: layer ${i} cannot be the Sequential itself (a module cannot contain itself)`);
        this.registerModule(key as string, value);
        arr[i] = value;
        return true;
      },
      deleteProperty: (_arr, key) => fixed(`cannot delete ${String(key)}`),
      defineProperty: (_arr, key) => fixed(`cannot define ${String(key)}`),
      setPrototypeOf: () => fixed('cannot change its prototype'),
      preventExtensions: () => fixed('cannot freeze it'),
    });
    // The list itself is not reassignable (`seq.layers = [...]` would leave forward on the old one): an
    // assignment throws (TypeError: read-only property), as TypeScript's readonly says.
    Object.defineProperty(this, 'layers', { value: this.layers, writable: false, enumerable: true, configurable: false });
  }

  /**
   * Applies the layers in order. A layer's error is re-thrown prefixed with
   * `fathom.Sequential: layer <i> (<Type>)`, so the failing layer is named
   * (and, past layer 0, suffixed with the Sequential's input shape).
   * @throws if x is not a Tensor, a layer refuses its input, or a layer returns a non-Tensor.
   */
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`fathom.Sequential: expected a Tensor input, got ${describe(x)}`);
    let y = x;
    const layers = this.#list;
    for (let i = 0; i < layers.length; i++) {
      const m = layers[i];
      // --- #13 infer --- two or more Linear layers in a row, nothing to record: one kernel call. (A
      // training forward, whose first weight is recorded, skips the attempt: chainForward would refuse it.)
      if (m.constructor === Linear && layers[i + 1] !== undefined && !((m as Linear).weight.requiresGrad && isGradEnabled())) {
        const run = linearRun(layers, i);
        const c = run.lin.length >= 2 ? chainForward(y, run) : null;
        if (c) {
          y = c;
          i += run.span - 1;
          continue;
        }
      }
      // --- end #13 infer ---
      const fuses = m.constructor === Linear || m.constructor === Conv2d || m.constructor === Conv1d;
      const act = fuses ? fusable(layers[i + 1]) : null;
      try {
        if (act) {
          // Linear or Conv1d/Conv2d followed by its activation: the activation runs in the
          // layer's fused bias epilogue (one pass less forward, and backward one op less).
          y = (m as Linear | Conv2d | Conv1d).forwardWith(y, act);
        } else {
          y = m.forward(y);
        }
      } catch (e) {
        if (!(e instanceof Error)) throw e;
        // After layer 0 the layer's input is not what the caller passed: show the batch's shape too.
        const batch = i > 0 ? ` (the Sequential's input was ${fmt(x.shape)})` : '';
        throw new Error(`fathom.Sequential: layer ${i} (${m.constructor.name}): ${e.message}${batch}`, { cause: e });
      }
      if (!(y instanceof Tensor)) {
        throw new Error(`fathom.Sequential: layer ${i} (${m.constructor.name}) returned ${describe(y)}, expected a Tensor`);
      }
      if (act) i++;
    }
    return y;
  }

  override config(): ModuleConfig {
    return { type: 'Sequential', layers: this.#list.map((m) => m.config()) };
  }
}
fixedStructure.add(Sequential);
