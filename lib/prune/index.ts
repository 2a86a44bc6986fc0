/**
 * Magnitude pruning, after PyTorch's torch.nn.utils.prune (l1_unstructured,
 * global_unstructured, remove).
 *
 * magnitude() zeroes the smallest-|w| fraction of the chosen weights (the
 * `weight` of every Linear, Conv1d, Conv2d and ConvTranspose2d by default;
 * never biases) and registers a 0/1 float32 buffer `weight_mask` beside each
 * pruned weight, so the mask is in stateDict() (`'0.weight_mask'`) and is
 * written by save() and read back by load(), as PyTorch's state dicts hold
 * `weight_mask`. Unlike PyTorch, the parameter keeps its name `weight` (no
 * `weight_orig`) and holds the masked values itself.
 *
 * How the mask holds during fine-tuning: every optimizer's step() zeroes the
 * masked entries of the gradient before its update and the masked entries of
 * the weight after it. So fit(), or a loop of your own calling opt.step(),
 * leaves the pruned weights at exactly 0 with any optimizer (momentum,
 * Nesterov, Adam with weight decay, AdamW...). Writing to the weight yourself
 * (or loadStateDict of an unmasked dict) is not masked until the next step.
 *
 * remove() makes the pruning permanent: the zeros stay in the weights and
 * the `weight_mask` buffers (and the step-time masking) are dropped.
 */
import { Tensor } from '../tensor/tensor.js';
import { Module, unregisterBuffer } from '../layers/module.js';
import { Linear } from '../layers/linear.js';
import { Conv1d, Conv2d, ConvTranspose2d } from '../layers/conv.js';
import { describeValue } from '../tensor/shape.js';
import { dropMask, maskOf, maskWeight, setMask } from './masks.js';

export { maskOf } from './masks.js';

/** Which weights magnitude() considers: a list of qualified module names ('0', 'fc1') or a predicate. */
export type PruneInclude = readonly string[] | ((name: string, module: Module) => boolean);

export interface MagnitudeOptions {
  /**
   * Fraction of the considered weights to be zero after the call, in [0, 1].
   * The count pruned is round(sparsity · n) (PyTorch's rounding of `amount`);
   * n is the number of weights of the whole set ('global') or of each layer ('layer').
   */
  sparsity: number;
  /**
   * 'global' (default, PyTorch's global_unstructured): the smallest |w| over
   * all considered weights together, so layers end with different sparsities;
   * 'layer' (l1_unstructured on each): each layer gets the same sparsity.
   */
  scope?: 'global' | 'layer';
  /**
   * The modules whose `weight` is pruned: qualified names as in
   * namedParameters() without '.weight' ('0', 'encoder.fc'; '' is the model
   * itself), or a predicate (name, module) => boolean over the modules that
   * own a parameter `weight`. Default: every Linear, Conv1d, Conv2d and
   * ConvTranspose2d.
   */
  include?: PruneInclude;
}

/** One pruned (or prunable) weight as sparsity() reports it. */
export interface LayerSparsity {
  /** The weight's qualified name, e.g. '0.weight'. */
  name: string;
  /** Entries equal to 0. */
  zeros: number;
  /** Entries in all. */
  total: number;
  /** zeros / total. */
  sparsity: number;
  /** Whether a weight_mask holds it. */
  masked: boolean;
}

export interface SparsityReport {
  layers: LayerSparsity[];
  /** Over all the layers listed: Σ zeros / Σ total (0 when none). */
  global: number;
  zeros: number;
  total: number;
}

const DEFAULT_TYPES = [Linear, Conv1d, Conv2d, ConvTranspose2d];
const isDefault = (m: Module): boolean => DEFAULT_TYPES.some((T) => m instanceof T);

/** [qualified name, module] of `model` and every module under it, each once (the first name of a shared one). */
function walk(model: Module): [string, Module][] {
  const out: [string, Module][] = [];
  const seen = new Set<Module>();
  const visit = (prefix: string, m: Module): void => {
    if (seen.has(m)) return;
    seen.add(m);
    out.push([prefix, m]);
    for (const [n, c] of m.modules()) visit(prefix === '' ? n : `${prefix}.${n}`, c);
  };
  visit('', model);
  return out;
}

/** The module's own parameter `weight`, if it has one. */
function ownWeight(m: Module): Tensor | undefined {
  const w = m.namedParameters().find(([n]) => n === 'weight');
  return w && w[1].dtype === 'float32' ? w[1] : undefined;
}

const qualified = (prefix: string, leaf: string): string => (prefix === '' ? leaf : `${prefix}.${leaf}`);

function checkModel(op: string, model: unknown): asserts model is Module {
  if (!(model instanceof Module)) throw new Error(`fathom.prune.${op}: expected a Module, got ${describeValue(model)}`);
}

/** The modules (with their weights) magnitude() prunes. */
function targets(model: Module, include: PruneInclude | undefined): [string, Module, Tensor][] {
  const all = walk(model).map(([n, m]) => [n, m, ownWeight(m)] as const).filter((e): e is [string, Module, Tensor] => e[2] !== undefined);
  if (include === undefined) return all.filter(([, m]) => isDefault(m));
  if (typeof include === 'function') return all.filter(([n, m]) => include(n, m) === true);
  if (!Array.isArray(include) || !include.every((s) => typeof s === 'string')) {
    throw new Error(`fathom.prune.magnitude: options.include must be an array of module names or a function (name, module) => boolean, got ${describeValue(include)}`);
  }
  const byName = new Map(all.map((e) => [e[0], e]));
  return include.map((n) => {
    const e = byName.get(n);
    if (!e) {
      throw new Error(`fathom.prune.magnitude: options.include names '${n}', which is not a module with a float32 parameter 'weight'; the model's are ${all.map(([x]) => `'${x}'`).join(', ') || 'none'}`);
    }
    return e;
  });
}

/** The mask of (module, weight), creating an all-ones weight_mask buffer when there is none. */
function ensureMask(m: Module, w: Tensor): Tensor {
  let mask = maskOf(w);
  if (mask) return mask;
  mask = new Tensor(new Float32Array(w.size).fill(1), [...w.shape]);
  m.registerBuffer('weight_mask', mask);
  setMask(w, mask);
  return mask;
}

/**
 * Magnitude pruning (PyTorch's l1_unstructured / global_unstructured): sets
 * to 0 the round(sparsity · n) weights of smallest |w| and keeps them 0
 * through later optimizer steps (see the file's note).
 *
 * Pruning again only removes more: entries already masked count first
 * (PyTorch's PruningContainer keeps old masks too), so `sparsity` is the
 * fraction zero after the call, not a fraction of what remained. Ties in |w|
 * are broken by position (earlier layers, then lower flat indices, first), so
 * the count is exact.
 *
 * Shapes: each weight keeps its shape ([out, in] for Linear, [out, in/groups,
 * kh, kw] for Conv2d, ...); its `weight_mask` buffer has the same shape.
 * @returns the sparsity() report after pruning.
 * @throws `fathom.prune.magnitude: ...` when model is not a Module, options
 *   has an unknown key, sparsity is not a number in [0, 1], scope is not
 *   'global' or 'layer', include names a module without a weight or is of
 *   the wrong type, nothing is left to prune, or sparsity is below what is
 *   already masked (pruning never restores weights; remove() first).
 */
export function magnitude(model: Module, options: MagnitudeOptions): SparsityReport {
  checkModel('magnitude', model);
  if (options === null || typeof options !== 'object') throw new Error(`fathom.prune.magnitude: expected options { sparsity, scope?, include? }, got ${describeValue(options)}`);
  const unknown = Object.keys(options).filter((k) => !['sparsity', 'scope', 'include'].includes(k));
  if (unknown.length) throw new Error(`fathom.prune.magnitude: unknown option ${unknown.map((k) => `'${k}'`).join(', ')} (expected sparsity, scope, include)`);
  const { sparsity, scope = 'global', include } = options;
  if (typeof sparsity !== 'number' || !(sparsity >= 0 && sparsity <= 1)) {
    throw new Error(`fathom.prune.magnitude: options.sparsity must be a number from 0 to 1 (the fraction of weights set to 0), got ${describeValue(sparsity)}`);
  }
  if (scope !== 'global' && scope !== 'layer') throw new Error(`fathom.prune.magnitude: options.scope must be 'global' or 'layer', got ${describeValue(scope)}`);
  const chosen = targets(model, include);
  if (chosen.length === 0) throw new Error('fathom.prune.magnitude: no weights to prune (expected Linear or Conv layers, or options.include naming modules with a weight); got none');
  // Each tensor once (a weight shared by two modules is pruned as one).
  const uniq: [string, Module, Tensor][] = [];
  const seenW = new Set<Tensor>();
  for (const e of chosen) if (!seenW.has(e[2])) { seenW.add(e[2]); uniq.push(e); }
  const groups = scope === 'global' ? [uniq] : uniq.map((e) => [e]);
  // Plan every group before changing anything: a refused call leaves the model as it was.
  const plans: { group: [string, Module, Tensor][]; prune: Int32Array }[] = [];
  for (const group of groups) {
    const n = group.reduce((a, [, , w]) => a + w.size, 0);
    const k = Math.round(sparsity * n);
    const key = new Float64Array(n);
    let off = 0;
    let already = 0;
    for (const [, , w] of group) {
      const m = maskOf(w)?.data as Float32Array | undefined;
      const d = w.data as Float32Array;
      for (let i = 0; i < d.length; i++) {
        // Masked entries sort first (-1), then by |w|.
        if (m && m[i] === 0) { key[off + i] = -1; already++; } else key[off + i] = Math.abs(d[i]);
      }
      off += d.length;
    }
    if (k < already) {
      throw new Error(`fathom.prune.magnitude: options.sparsity ${sparsity} asks for ${k} zeros in ${group.map(([x]) => `'${qualified(x, 'weight')}'`).join(', ')}, but ${already} are already masked (expected sparsity >= ${already / n}; prune.remove() first to start again)`);
    }
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const sorted = Array.from(order).sort((a, b) => key[a] - key[b] || a - b);
    plans.push({ group, prune: Int32Array.from(sorted.slice(0, k)) });
  }
  for (const { group, prune } of plans) {
    const starts: number[] = [];
    let off = 0;
    for (const [, , w] of group) { starts.push(off); off += w.size; }
    const masks = group.map(([, m, w]) => ensureMask(m, w).data as Float32Array);
    for (const flat of prune) {
      let j = starts.length - 1;
      while (starts[j] > flat) j--;
      masks[j][flat - starts[j]] = 0;
    }
    for (const [, , w] of group) maskWeight(w);
  }
  return sparsity_(model, undefined, 'magnitude');
}

function sparsity_(model: Module, include: PruneInclude | undefined, op: string): SparsityReport {
  checkModel(op, model);
  const layers: LayerSparsity[] = [];
  const seen = new Set<Tensor>();
  const list = walk(model).map(([n, m]) => [n, m, ownWeight(m)] as const)
    .filter((e): e is [string, Module, Tensor] => e[2] !== undefined && (maskOf(e[2]) !== undefined || (include === undefined ? isDefault(e[1]) : targets(model, include).some((t) => t[2] === e[2]))));
  for (const [n, , w] of list) {
    if (seen.has(w)) continue;
    seen.add(w);
    const d = w.data as Float32Array;
    let zeros = 0;
    for (let i = 0; i < d.length; i++) if (d[i] === 0) zeros++;
    layers.push({ name: qualified(n, 'weight'), zeros, total: d.length, sparsity: d.length ? zeros / d.length : 0, masked: maskOf(w) !== undefined });
  }
  const zeros = layers.reduce((a, l) => a + l.zeros, 0);
  const total = layers.reduce((a, l) => a + l.total, 0);
  return { layers, global: total ? zeros / total : 0, zeros, total };
}

/**
 * The fraction of zero entries of each prunable weight (every Linear and
 * Conv weight, and any other weight with a mask) and over all of them, as
 * PyTorch's pruning tutorial counts (`weight == 0`): so it counts zeros the
 * training made too, not only masked ones.
 * @throws `fathom.prune.sparsity: expected a Module, got ...`.
 */
export function sparsity(model: Module): SparsityReport {
  return sparsity_(model, undefined, 'sparsity');
}

/**
 * Makes the pruning permanent (PyTorch's prune.remove): each masked weight
 * keeps its zeros, its `weight_mask` buffer leaves the module (and the state
 * dict) and optimizer steps stop masking it.
 * @returns the qualified names of the weights that were masked.
 * @throws `fathom.prune.remove: expected a Module, got ...`.
 */
export function remove(model: Module): string[] {
  checkModel('remove', model);
  const out: string[] = [];
  for (const [n, m] of walk(model)) {
    const w = ownWeight(m);
    if (!w || !maskOf(w)) continue;
    maskWeight(w);
    dropMask(w);
    unregisterBuffer(m, 'weight_mask');
    out.push(qualified(n, 'weight'));
  }
  return out;
}

/** Whether any weight of `model` is masked. */
export function isPruned(model: Module): boolean {
  checkModel('isPruned', model);
  return walk(model).some(([, m]) => { const w = ownWeight(m); return w !== undefined && maskOf(w) !== undefined; });
}

/**
 * For load(): the file's tensors named '<prefix>weight_mask' whose
 * '<prefix>weight' is among `names` with the same shape — the masks of a
 * pruned model, which the architecture does not list.
 * @internal
 */
export function maskNamesIn(tensors: Record<string, { shape: number[] }>, shapes: ReadonlyMap<string, readonly number[]>): string[] {
  return Object.keys(tensors).filter((n) => {
    if (n !== 'weight_mask' && !n.endsWith('.weight_mask')) return false;
    const ws = shapes.get(n.slice(0, -'_mask'.length));
    const s = tensors[n].shape;
    return ws !== undefined && ws.length === s.length && ws.every((v, i) => v === s[i]);
  });
}

/**
 * For load(): gives the module of each '<prefix>weight_mask' name an all-ones
 * mask (loadStateDict then fills it from the file).
 * @throws when a name's module is missing or has no weight (load() checked it before).
 * @internal
 */
export function attachMasks(model: Module, names: readonly string[]): void {
  const mods = new Map(walk(model));
  for (const n of names) {
    const prefix = n === 'weight_mask' ? '' : n.slice(0, -'.weight_mask'.length);
    const m = mods.get(prefix);
    const w = m && ownWeight(m);
    if (!m || !w) throw new Error(`fathom.load: the file has the pruning mask '${n}', but the model has no module '${prefix}' with a weight`);
    ensureMask(m, w);
  }
}
