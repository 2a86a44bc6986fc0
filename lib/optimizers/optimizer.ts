/**
 * The optimizer base: parameter groups (PyTorch's param_groups, camelCase),
 * zeroGrad, step, stateDict / loadStateDict, and the hyper-parameter checks.
 *
 * An optimizer is built over an iterable of Tensors (one group) or an array of
 * groups `{ params, ...overrides }`; each group then holds every
 * hyper-parameter of its optimizer (overrides, else the constructor's
 * defaults). Groups are plain writable objects: schedulers write `group.lr`,
 * a user may write `group.weightDecay = 0`; step() validates every group
 * before it updates anything.
 */
import { maskGradient, maskWeight } from '../prune/masks.js';
import { kernels as backend } from '../backend/index.js';
import { Optim, type OptimKind, type OptimOptions } from '../backend/backend.js';
import { Tensor, checkStorage } from '../tensor/tensor.js';
import { describeValue, fmt } from '../tensor/shape.js';
import { checkOptions, optBool } from '../ops/options.js';

/** One parameter group: its tensors and every hyper-parameter of the optimizer (plus any key a scheduler stores, e.g. initialLr). */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  [hyper: string]: unknown;
}

/** What the constructor and addParamGroup accept: `params` (a Tensor or an iterable of them) and optional per-group overrides. */
export interface ParamGroupInput {
  params: Tensor | Iterable<Tensor>;
  [hyper: string]: unknown;
}

/** Per-parameter state as stateDict() shows it: `step` (where the optimizer counts) and buffers shaped as the parameter. */
export type ParamState = Record<string, number | Tensor>;

/** PyTorch's optimizer state_dict, camelCase: state by flat parameter index, groups with the indices of their parameters. */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
}

/** Checks one hyper-parameter value; `name` is the name used in the message (e.g. `lr` or `paramGroups[1].lr`). */
export type HyperCheck = (op: string, name: string, v: unknown) => unknown;
/** The hyper-parameters of an optimizer: default and check, in PyTorch's order. */
export type HyperSpec = Record<string, { dflt: unknown; check: HyperCheck }>;

/** Internal per-parameter state: `step` and Float32Array buffers (the length of the parameter). */
export type SlotState = Record<string, number | Float32Array>;

/** Keys a group may carry besides the hyper-parameters (schedulers keep PyTorch's initial_lr as initialLr). */
const EXTRA_GROUP_KEYS = ['initialLr'];

export abstract class Optimizer {
  /** The parameter groups, in order; plain objects, writable (validated at every step()). */
  readonly paramGroups: ParamGroup[] = [];
  /** The constructor's hyper-parameters: what addParamGroup() fills a group's missing keys from. */
  readonly defaults: Record<string, unknown>;
  /** Number of step() calls so far. */
  steps = 0;
  /** Per-parameter state, created by the first update of each parameter. */
  protected readonly state = new Map<Tensor, SlotState>();
  /** The hyper-parameters of this optimizer (keys in PyTorch's order). */
  protected readonly spec: HyperSpec;

  /**
   * @param params an iterable of float32 leaf Tensors (e.g. model.parameters()), or an
   *   array of groups `{ params, ...overrides }` (overrides are any of the optimizer's
   *   hyper-parameters, e.g. `{ params: biases, weightDecay: 0 }`).
   * @param cfg the defaults (undefined keys take the optimizer's own defaults).
   * @throws when params is not an iterable of float32 leaf Tensors or of groups, holds no
   *   parameter at all (PyTorch's "optimizer got an empty parameter list"), lists a tensor
   *   twice in a group or in two groups, or a config / override is unknown or out of range.
   */
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupInput>, readonly name: string, spec: HyperSpec, cfg: object | undefined) {
    this.spec = spec;
    const c = checkOptions(name, cfg as Record<string, unknown> | undefined, Object.keys(spec), 'config') as Record<string, unknown>;
    const defaults: Record<string, unknown> = {};
    for (const [key, { dflt, check }] of Object.entries(spec)) {
      defaults[key] = copyValue(c[key] === undefined ? dflt : check(name, key, c[key]));
    }
    this.checkCombination(defaults, '');
    this.defaults = defaults;
    if (params === null || typeof params !== 'object' || typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function' || params instanceof Tensor) {
      throw new Error(`fathom.${name}: params must be an iterable of Tensors (e.g. model.parameters()), got ${describeValue(params)} (or pass an array of parameter groups { params, ...hyper-parameters })`);
    }
    const items = [...(params as Iterable<unknown>)];
    if (items.length > 0 && !(items[0] instanceof Tensor) && items[0] !== null && typeof items[0] === 'object') {
      items.forEach((g, i) => {
        if (g instanceof Tensor) throw new Error(`fathom.${name}: params mixes groups and Tensors: item ${i} is a Tensor, item 0 a group; pass either Tensors or groups { params, ... }`);
        this.addGroup(g, i);
      });
    } else {
      this.addGroup({ params: items as Tensor[] }, -1);
    }
    if (this.params.length === 0) {
      throw new Error(`fathom.${name}: got an empty parameter list, nothing to optimize (does the model register its layers and parameters?)`);
    }
  }

  /** Every parameter of every group, in order (the flat indices of stateDict()). */
  get params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /**
   * Adds a group (PyTorch's add_param_group): `params` and optional overrides;
   * keys not given take `opt.defaults`.
   * @throws on a bad group (as the constructor), or a parameter already in another group
   *   (PyTorch: "some parameters appear in more than one parameter group").
   */
  addParamGroup(group: ParamGroupInput): void {
    this.addGroup(group, this.paramGroups.length);
  }

  private addGroup(input: unknown, index: number): void {
    const name = this.name;
    const at = index < 0 ? '' : `paramGroups[${index}].`;
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new Error(`fathom.${name}: a parameter group must be an object { params, ...hyper-parameters }, got ${describeValue(input)}`);
    }
    const g = input as Record<string, unknown>;
    const known = ['params', ...Object.keys(this.spec), ...EXTRA_GROUP_KEYS];
    for (const key of Object.keys(g)) {
      if (!known.includes(key)) throw new Error(`fathom.${name}: unknown key '${key}' in ${at ? at.slice(0, -1) : 'the parameter group'} (known: ${known.join(', ')})`);
    }
    const raw = g.params;
    if (raw instanceof Tensor) {
      // one Tensor: a group of one parameter (as PyTorch)
    } else if (raw === null || typeof raw !== 'object' || typeof (raw as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      const what = index < 0 ? 'params' : `${at}params`;
      throw new Error(`fathom.${name}: ${what} must be an iterable of Tensors (e.g. model.parameters()), got ${describeValue(raw)}`);
    }
    const list = raw instanceof Tensor ? [raw] : [...(raw as Iterable<unknown>)];
    const group: ParamGroup = { params: [], lr: 0 };
    for (const key of Object.keys(this.spec)) {
      group[key] = copyValue(g[key] === undefined ? this.defaults[key] : this.spec[key].check(name, `${at}${key}`, g[key]));
    }
    if (g.initialLr !== undefined) group.initialLr = g.initialLr;
    this.checkCombination(group, index < 0 ? '' : ` (in paramGroups[${index}])`);
    group.params = this.checkParams(list, index, new Set(this.params));
    this.paramGroups.push(group);
  }

  /** The parameters of group `index`: float32 leaf Tensors, each once, none already in `others`. */
  private checkParams(list: unknown[], index: number, others: Set<Tensor>): Tensor[] {
    const name = this.name;
    const where = index < 0 ? '' : ` of paramGroups[${index}]`;
    const seen = new Map<Tensor, number>();
    list.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new Error(`fathom.${name}: parameter ${i}${where} must be a Tensor, got ${describeValue(p)}`);
      if (p.dtype !== 'float32') throw new Error(`fathom.${name}: parameter ${i}${where} must be float32, got ${p.dtype}`);
      // As PyTorch: "can't optimize a non-leaf Tensor" (its gradient is never kept, so step() would do nothing).
      if (p.node !== null) throw new Error(`fathom.${name}: parameter ${i}${where} is the result of an op ('${p.node.op}'), not a leaf tensor; optimize the tensors it was computed from`);
      const first = seen.get(p);
      if (first !== undefined) throw new Error(`fathom.${name}: parameter ${i}${where} is the same tensor as parameter ${first}; list each parameter once`);
      if (others.has(p)) {
        const g = this.paramGroups.findIndex((q) => q.params.includes(p));
        throw new Error(`fathom.${name}: some parameters appear in more than one parameter group: parameter ${i}${where} is already in paramGroups[${g}]`);
      }
      seen.set(p, i);
    });
    return list as Tensor[];
  }

  /**
   * Clears every parameter's gradient. By default the gradient buffers are
   * kept (they read as zeros), so the next backward() writes into them without
   * allocating or zero-filling; `setToNone` drops them instead (PyTorch's set_to_none).
   */
  zeroGrad(setToNone = false): void {
    optBool(`${this.name}.zeroGrad`, 'setToNone', setToNone, false);
    for (const p of this.params) {
      if (setToNone) p.grad = null;
      else p.zeroGradLazily();
    }
  }

  /**
   * Applies one update to every parameter that has a gradient, each with its
   * group's hyper-parameters.
   * @throws when a group's hyper-parameter is invalid (the message names the
   *   group and key), a group's params were replaced by something else, or a
   *   parameter or its gradient has lost its storage (transferred ArrayBuffer);
   *   nothing is updated then.
   */
  step(): void {
    this.checkGroups(`${this.name}`);
    const todo: Array<[Tensor, ParamGroup]> = [];
    let i = 0;
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const at = i++;
        // No gradient, or none since zeroGrad(): skipped, as PyTorch skips a None grad
        // (so momentum and weight decay do not move parameters a step did not use).
        if (!p.requiresGrad || p.gradIsZero || !p.grad) continue;
        checkStorage(`${this.name}.step`, `parameter ${at}`, p);
        checkStorage(`${this.name}.step`, `the gradient of parameter ${at}`, p.grad);
        todo.push([p, group]);
      }
    }
    this.steps++;
    for (const [p, group] of todo) {
      let s = this.state.get(p);
      if (!s) {
        s = {};
        this.state.set(p, s);
      }
      // Pruned weights (lib/prune): the masked entries get no gradient and stay exactly 0 after the update.
      maskGradient(p, p.grad!.data as Float32Array);
      this.update(p, p.grad!.data as Float32Array, group, s);
      maskWeight(p);
    }
  }

  /** Validates every group as it stands (values, combinations, params lists). */
  private checkGroups(op: string): void {
    const all = new Set<Tensor>();
    this.paramGroups.forEach((group, gi) => {
      if (group === null || typeof group !== 'object') throw new Error(`fathom.${op}: paramGroups[${gi}] must be an object, got ${describeValue(group)}`);
      for (const [key, { check }] of Object.entries(this.spec)) check(op, `paramGroups[${gi}].${key}`, group[key]);
      this.checkCombination(group, ` (in paramGroups[${gi}])`, op);
      if (!Array.isArray(group.params)) throw new Error(`fathom.${op}: paramGroups[${gi}].params must be an array of Tensors, got ${describeValue(group.params)}`);
      group.params.forEach((p, i) => {
        if (!(p instanceof Tensor) || p.dtype !== 'float32') throw new Error(`fathom.${op}: parameter ${i} of paramGroups[${gi}] must be a float32 Tensor, got ${describeValue(p)}`);
        if (all.has(p)) throw new Error(`fathom.${op}: some parameters appear in more than one parameter group (or twice in one): parameter ${i} of paramGroups[${gi}]`);
        all.add(p);
      });
    });
  }

  /** The learning rate of the first group; assigning sets every group's (checked on assignment). */
  get lr(): number { return this.paramGroups[0].lr; }
  set lr(v: number) { this.setHyper('lr', v); }

  /** A hyper-parameter of group 0 (what the per-optimizer getters return). */
  protected hyper<T>(key: string): T {
    return this.paramGroups[0][key] as T;
  }

  /** Checks `v` (named `key` in the error) and writes it to every group (the per-optimizer setters). */
  protected setHyper(key: string, v: unknown): void {
    const checked = this.spec[key].check(this.name, key, v);
    for (const g of this.paramGroups) g[key] = copyValue(checked);
  }

  /** Checks what single values cannot (combinations); `where` is appended to the message (names the group). */
  protected checkCombination(_h: Record<string, unknown>, _where: string, _op = this.name): void {}

  /** One update of `p` from its gradient `g` with its group's (validated) hyper-parameters and its state `s`. */
  protected abstract update(p: Tensor, g: Float32Array, group: ParamGroup, s: SlotState): void;

  /** The state buffers this optimizer may keep per parameter (PyTorch's names, camelCase), and whether it counts steps. */
  protected abstract readonly stateKeys: readonly string[];
  protected abstract readonly countsSteps: boolean;

  /** `s[key]`, created as zeros the length of `p` (or filled with `fill`) when absent. */
  protected buffer(s: SlotState, key: string, n: number, fill = 0): Float32Array {
    let b = s[key] as Float32Array | undefined;
    if (!b) {
      b = new Float32Array(n);
      if (fill !== 0) b.fill(fill);
      s[key] = b;
    }
    return b;
  }

  /**
   * One fused step of a stateful kernel (backend optimStep): counts this
   * parameter's step in `s.step`, creates the buffers `keys` (the kind's slots,
   * in order) that `kind` uses under `o` (zeros, or `fill` for `fills` keys), and runs the kernel.
   */
  protected fusedStep(
    kind: OptimKind, p: Tensor, g: Float32Array, s: SlotState, keys: readonly string[], o: Omit<OptimOptions, 'step'>,
    fills: Record<string, number> = {},
  ): void {
    const step = ((s.step as number | undefined) ?? 0) + 1;
    const opts: OptimOptions = { ...o, step };
    const uses = Optim[kind].states(opts);
    const bufs = [0, 1, 2].map((i) => (uses[i] ? this.buffer(s, keys[i], p.size, fills[keys[i]] ?? 0) : null));
    backend().optimStep(kind, p.data as Float32Array, g, bufs, opts);
    s.step = step;
  }

  /**
   * PyTorch's state_dict, camelCase, deep-copied: `state[i]` for each parameter
   * i (flat index over the groups) that has state, and each group's
   * hyper-parameters with `params` as the flat indices of its parameters.
   */
  stateDict(): OptimizerStateDict {
    const state: Record<number, ParamState> = {};
    const paramGroups: OptimizerStateDict['paramGroups'] = [];
    let i = 0;
    for (const group of this.paramGroups) {
      const indices: number[] = [];
      for (const p of group.params) {
        const s = this.state.get(p);
        if (s) {
          const out: ParamState = {};
          for (const [k, v] of Object.entries(s)) out[k] = typeof v === 'number' ? v : new Tensor(v.slice(), p.shape);
          state[i] = out;
        }
        indices.push(i++);
      }
      const g: Record<string, unknown> & { params: number[] } = { params: indices };
      for (const [k, v] of Object.entries(group)) if (k !== 'params') g[k] = copyValue(v);
      paramGroups.push(g);
    }
    return { state, paramGroups };
  }

  /**
   * Restores a stateDict() (deep copy): the groups' hyper-parameters and each
   * parameter's state. Everything is checked before anything changes.
   * @throws when the number of groups or of parameters per group differs, a
   *   hyper-parameter is missing or invalid, a state entry names an unknown
   *   parameter index or key, or a buffer's shape differs from its parameter's.
   */
  loadStateDict(d: OptimizerStateDict): void {
    const op = `${this.name}.loadStateDict`;
    if (d === null || typeof d !== 'object') throw new Error(`fathom.${op}: the state dict must be an object { state, paramGroups }, got ${describeValue(d)}`);
    const { state, paramGroups } = d;
    if (!Array.isArray(paramGroups)) throw new Error(`fathom.${op}: paramGroups must be an array, got ${describeValue(paramGroups)}`);
    if (state === null || typeof state !== 'object' || Array.isArray(state)) throw new Error(`fathom.${op}: state must be an object keyed by parameter index, got ${describeValue(state)}`);
    if (paramGroups.length !== this.paramGroups.length) {
      throw new Error(`fathom.${op}: the state dict has ${paramGroups.length} parameter group(s), this optimizer ${this.paramGroups.length}`);
    }
    const params = this.params;
    const newGroups: Array<Record<string, unknown>> = [];
    let flat = 0;
    paramGroups.forEach((g, gi) => {
      if (g === null || typeof g !== 'object') throw new Error(`fathom.${op}: paramGroups[${gi}] must be an object, got ${describeValue(g)}`);
      const mine = this.paramGroups[gi].params;
      const idx = g.params;
      if (!Array.isArray(idx) || idx.length !== mine.length) {
        throw new Error(`fathom.${op}: paramGroups[${gi}] holds ${Array.isArray(idx) ? idx.length : describeValue(idx)} parameter(s) in the state dict, ${mine.length} in this optimizer`);
      }
      idx.forEach((v, j) => {
        if (v !== flat + j) throw new Error(`fathom.${op}: paramGroups[${gi}].params[${j}] must be ${flat + j} (parameters are numbered in group order), got ${describeValue(v)}`);
      });
      flat += mine.length;
      const known = ['params', ...Object.keys(this.spec), ...EXTRA_GROUP_KEYS];
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(g)) {
        if (!known.includes(key)) throw new Error(`fathom.${op}: unknown key '${key}' in paramGroups[${gi}] (known: ${known.join(', ')})`);
      }
      for (const [key, { check }] of Object.entries(this.spec)) {
        if (g[key] === undefined) throw new Error(`fathom.${op}: paramGroups[${gi}].${key} is missing`);
        out[key] = copyValue(check(op, `paramGroups[${gi}].${key}`, g[key]));
      }
      this.checkCombination(out, ` (in paramGroups[${gi}])`, op);
      if (g.initialLr !== undefined) out.initialLr = checkRate(op, `paramGroups[${gi}].initialLr`, g.initialLr, 0);
      newGroups.push(out);
    });
    const newState = new Map<Tensor, SlotState>();
    for (const [key, entry] of Object.entries(state)) {
      const i = Number(key);
      if (!/^(0|[1-9]\d*)$/.test(key) || i >= params.length) {
        throw new Error(`fathom.${op}: state key '${key}' is not a parameter index in [0, ${params.length})`);
      }
      const p = params[i];
      if (entry === null || typeof entry !== 'object') throw new Error(`fathom.${op}: state[${i}] must be an object, got ${describeValue(entry)}`);
      const s: SlotState = {};
      for (const [k, v] of Object.entries(entry)) {
        if (k === 'step' && this.countsSteps) {
          if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`fathom.${op}: state[${i}].step must be an integer >= 0, got ${describeValue(v)}`);
          s.step = v;
        } else if (this.stateKeys.includes(k)) {
          if (!(v instanceof Tensor) || v.dtype !== 'float32') throw new Error(`fathom.${op}: state[${i}].${k} must be a float32 Tensor, got ${describeValue(v)}`);
          if (v.shape.length !== p.shape.length || v.shape.some((d, j) => d !== p.shape[j])) {
            throw new Error(`fathom.${op}: state[${i}].${k} has shape ${fmt(v.shape)}, parameter ${i} has shape ${fmt(p.shape)}`);
          }
          checkStorage(op, `state[${i}].${k}`, v);
          s[k] = (v.data as Float32Array).slice();
        } else {
          const allowed = [...(this.countsSteps ? ['step'] : []), ...this.stateKeys];
          throw new Error(`fathom.${op}: unknown key '${k}' in state[${i}] (known: ${allowed.join(', ')})`);
        }
      }
      if (this.countsSteps && s.step === undefined) throw new Error(`fathom.${op}: state[${i}].step is missing`);
      newState.set(p, s);
    }
    // Everything checked: apply.
    newGroups.forEach((g, gi) => {
      const group = this.paramGroups[gi];
      for (const key of Object.keys(group)) if (key !== 'params') delete group[key];
      Object.assign(group, g);
    });
    this.state.clear();
    for (const [p, s] of newState) this.state.set(p, s);
  }
}

/** Arrays (betas) are copied so that groups, defaults and state dicts never share one. */
function copyValue<T>(v: T): T {
  return (Array.isArray(v) ? [...v] : v) as T;
}

/**
 * A hyper-parameter: a finite number in [lo, hi] (or [lo, hi) with hiOpen)
 * that float32 can hold, since the kernels compute in float32 (a larger
 * value would become ±Infinity and write ±Infinity into the weights).
 */
export function checkRate(op: string, name: string, v: unknown, lo: number, hi = Infinity, hiOpen = false, loOpen = false): number {
  // The kernels compute in float32: the bounds hold for the value as float32 rounds it
  // (beta2 = 0.99999999 is 1 in float32, and would divide by zero in the bias correction).
  const f = typeof v === 'number' ? Math.fround(v) : NaN;
  if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isFinite(f) || (loOpen ? f <= lo : f < lo) || (hiOpen ? f >= hi : f > hi)) {
    const range = hi === Infinity
      ? `${loOpen ? '>' : '>='} ${lo} (at most 3.4e38, float32's limit)`
      : `in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}`;
    const rounded = typeof v === 'number' && Number.isFinite(v) && f !== v ? ` (${f} as float32)` : '';
    throw new Error(`fathom.${op}: ${name} must be a finite number ${range}, got ${describeValue(v)}${rounded}`);
  }
  return v;
}

/** A HyperCheck for checkRate's ranges. */
export function rate(lo: number, hi = Infinity, hiOpen = false, loOpen = false): HyperCheck {
  return (op, name, v) => checkRate(op, name, v, lo, hi, hiOpen, loOpen);
}

/** A HyperCheck for a boolean. */
export const flag: HyperCheck = (op, name, v) => {
  if (typeof v !== 'boolean') throw new Error(`fathom.${op}: ${name} must be a boolean, got ${describeValue(v)}`);
  return v;
};

/** A HyperCheck for `betas`: two numbers, each in [0, 1) once rounded to float32. */
export const betasCheck: HyperCheck = (op, name, v) => {
  if (!Array.isArray(v) || v.length !== 2) {
    throw new Error(`fathom.${op}: ${name} must be an array of two numbers in [0, 1), got ${describeValue(v)}`);
  }
  checkRate(op, `${name}[0]`, v[0], 0, 1, true);
  checkRate(op, `${name}[1]`, v[1], 0, 1, true);
  return v;
};

/** Checks an optimizer's config object (undefined means defaults; unknown keys are refused). */
export function checkConfig<T extends object>(op: string, cfg: T | undefined, known: readonly string[]): Partial<T> {
  return checkOptions(op, cfg, known, 'config');
}
