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
 * How the mask holds: every optimizer's step() zeroes the masked entries of
 * the gradient before its update and the masked entries of the weight after
 * it, so fit(), or a loop of your own calling opt.step(), leaves the pruned
 * weights at exactly 0 with any optimizer (momentum, Nesterov, Adam with
 * weight decay, AdamW...). And each forward of a pruned module masks its
 * weight first (PyTorch's forward pre-hook), so a weight written directly, or
 * loaded unmasked (loadStateDict with strict: false, a hand-made file), is
 * masked again before it is used: one pass over the weight per forward
 * (PyTorch recomputes weight_orig · mask per forward). Until that forward,
 * the weight holds what was written.
 *
 * A pruned state dict into a fresh model: prune.magnitude(model, { sparsity: 0 })
 * first gives every Linear/Conv an all-ones mask (PyTorch's prune.identity),
 * then loadStateDict fills weights and masks.
 *
 * remove() makes the pruning permanent: the zeros stay in the weights and
 * the `weight_mask` buffers (and the step-time masking) are dropped.
 */
import { Tensor } from '../tensor/tensor.js';
import { Module, unregisterBuffer } from '../layers/module.js';
import { Linear } from '../layers/linear.js';
import { Conv1d, Conv2d, ConvTranspose2d } from '../layers/conv.js';
import { describeValue } from '../tensor/shape.js';
import { dropMask, ensureMask, hookMasked, maskOf, maskWeight, ownWeight, unhookForward, walk } from './masks.js';

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

const qualified = (prefix: string, leaf: string): string => (prefix === '' ? leaf : `${prefix}.${leaf}`);

function checkModel(op: string, model: unknown): asserts model is Module {
  if (!(model instanceof Module)) throw new Error(`fathom.prune.${op}: expected a Module, got ${describeValue(model)}`);
}

/** [name, module, weight] of every module under `model` with a float32 parameter `weight` of its own. */
function weighted(model: Module): [string, Module, Tensor][] {
  return walk(model).map(([n, m]) => [n, m, ownWeight(m)] as const).filter((e): e is [string, Module, Tensor] => e[2] !== undefined);
}

/** The modules (with their weights) magnitude() prunes. */
function targets(model: Module, include: PruneInclude | undefined): [string, Module, Tensor][] {
  const all = weighted(model);
  if (include === undefined) return all.filter(([, m]) => isDefault(m));
  if (typeof include === 'function') {
    return all.filter(([n, m]) => {
      const r = include(n, m);
      if (typeof r !== 'boolean') throw new Error(`fathom.prune.magnitude: options.include(name, module) must return a boolean, got ${describeValue(r)} for '${n}'`);
      return r;
    });
  }
  if (!Array.isArray(include) || !include.every((s) => typeof s === 'string')) {
    throw new Error(`fathom.prune.magnitude: options.include must be an array of module names (strings, e.g. ['0', 'fc2']) or a function (name, module) => boolean, got ${describeValue(include)}`);
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

/**
 * Magnitude pruning (PyTorch's l1_unstructured / global_unstructured): sets
 * to 0 the round(sparsity · n) weights of smallest |w| and keeps them 0
 * through later optimizer steps and forwards (see the file's note).
 *
 * Pruning again only removes more: entries already masked count first
 * (PyTorch's PruningContainer keeps old masks too), so `sparsity` is the
 * fraction zero after the call, not a fraction of what remained. Ties in |w|
 * are broken by position (earlier layers, then lower flat indices, first), so
 * the count is exact. Frozen layers are pruned like the others (their
 * weights then stay as they are, zeros included). A weight shared by several
 * modules is ranked and masked once (its mask buffer lives on the first
 * module that owns it).
 *
 * Shapes: each weight keeps its shape ([out, in] for Linear, [out, in/groups,
 * kh, kw] for Conv2d, ...); its `weight_mask` buffer has the same shape.
 * Cost: one sort of the considered weights (about 1 s for 10 million on one core).
 * @returns the sparsity() report after pruning.
 * @throws `fathom.prune.magnitude: ...` when model is not a Module, options
 *   has an unknown key, sparsity is not a number in [0, 1] (a fraction, not
 *   PyTorch's integer count), scope is not 'global' or 'layer', include
 *   names a module without a weight or is of the wrong type, nothing is left
 *   to prune, a weight to rank holds NaN, or sparsity is below what is
 *   already masked (pruning never restores weights; remove() first).
 */
export function magnitude(model: Module, options: MagnitudeOptions): SparsityReport {
  checkModel('magnitude', model);
  if (options === null || typeof options !== 'object') throw new Error(`fathom.prune.magnitude: expected options { sparsity, scope?, include? }, got ${describeValue(options)}`);
  const unknown = Object.keys(options).filter((k) => !['sparsity', 'scope', 'include'].includes(k));
  if (unknown.length) throw new Error(`fathom.prune.magnitude: unknown option ${unknown.map((k) => `'${k}'`).join(', ')} (expected sparsity, scope, include)`);
  const { sparsity, scope = 'global', include } = options;
  if (typeof sparsity !== 'number' || !(sparsity >= 0 && sparsity <= 1)) {
    const hint = Number.isInteger(sparsity) && (sparsity as number) > 1 ? ` (a fraction, not PyTorch's integer amount: for ${sparsity} weights give ${sparsity}/n)` : '';
    throw new Error(`fathom.prune.magnitude: options.sparsity must be a number from 0 to 1 (the fraction of weights set to 0), got ${describeValue(sparsity)}${hint}`);
  }
  if (scope !== 'global' && scope !== 'layer') throw new Error(`fathom.prune.magnitude: options.scope must be 'global' or 'layer', got ${describeValue(scope)}`);
  const chosen = targets(model, include);
  if (chosen.length === 0) {
    const params = model.namedParameters().map(([n]) => `'${n}'`);
    throw new Error(`fathom.prune.magnitude: no weights to prune: it prunes parameters named 'weight' (of every Linear and Conv layer by default, or of the modules options.include picks); got none among the model's parameters ${params.length ? `(${params.slice(0, 6).join(', ')}${params.length > 6 ? ', ...' : ''})` : '(it has none)'}`);
  }
  // Each tensor once (a weight shared by two modules is pruned as one).
  const uniq: [string, Module, Tensor][] = [];
  const seenW = new Set<Tensor>();
  for (const e of chosen) if (!seenW.has(e[2])) { seenW.add(e[2]); uniq.push(e); }
  const groups = scope === 'global' ? [uniq] : uniq.map((e) => [e]);
  // Plan every group before changing anything: a refused call leaves the model as it was.
  const plans: { group: [string, Module, Tensor][]; prune: Int32Array }[] = [];
  for (const group of groups) plans.push({ group, prune: plan(group, sparsity) });
  for (const { group, prune } of plans) {
    const starts: number[] = [];
    let off = 0;
    for (const [, , w] of group) { starts.push(off); off += w.size; }
    const masks = group.map(([, m, w]) => ensureMask(m, w).data as Float32Array);
    let j = 0;
    for (const flat of prune) {
      // `prune` is ascending: walk the layers forward.
      while (j + 1 < starts.length && starts[j + 1] <= flat) j++;
      masks[j][flat - starts[j]] = 0;
    }
    for (const [, , w] of group) maskWeight(w);
  }
  hookMasked(model);
  return report(model, 'magnitude');
}

/**
 * The flat indices (ascending, over the group's weights laid end to end) that
 * a group must have masked: the k = round(sparsity · n) smallest keys, where
 * an already-masked entry's key is -1 and another's is |w|; ties by position.
 * A selection (Hoare's, expected O(n)) finds the k-th smallest key t; then
 * every key below t and the first (k - #below) keys equal to t are taken.
 */
function plan(group: [string, Module, Tensor][], sparsity: number): Int32Array {
  const n = group.reduce((a, [, , w]) => a + w.size, 0);
  const k = Math.round(sparsity * n);
  const key = new Float32Array(n);
  let off = 0;
  let already = 0;
  for (const [name, , w] of group) {
    const m = maskOf(w)?.data as Float32Array | undefined;
    const d = w.data as Float32Array;
    for (let i = 0; i < d.length; i++) {
      if (m && m[i] === 0) { key[off + i] = -1; already++; continue; }
      const a = Math.abs(d[i]);
      if (a !== a) throw new Error(`fathom.prune.magnitude: weight '${qualified(name, 'weight')}' holds NaN at flat index ${i}; a NaN weight has no magnitude to rank (expected finite or infinite weights)`);
      key[off + i] = a;
    }
    off += d.length;
  }
  if (k < already) {
    throw new Error(`fathom.prune.magnitude: options.sparsity ${sparsity} asks for ${k} zeros in ${group.map(([x]) => `'${qualified(x, 'weight')}'`).join(', ')}, but ${already} are already masked (expected sparsity >= ${already / n}; prune.remove() first to start again)`);
  }
  const out = new Int32Array(k);
  if (k === 0) return out;
  const t = kthSmallest(Float32Array.from(key), k - 1);
  let below = 0;
  for (let i = 0; i < n; i++) if (key[i] < t) below++;
  let ties = k - below;
  let o = 0;
  for (let i = 0; i < n; i++) {
    if (key[i] < t) out[o++] = i;
    else if (key[i] === t && ties > 0) { out[o++] = i; ties--; }
  }
  return out;
}

/**
 * The (i+1)-th smallest of `a` (no NaN), reordering `a`: Hoare's FIND with
 * a median-of-three pivot (Wirth, Algorithms + Data Structures = Programs,
 * 1976); runs of equal keys split evenly. 10x faster than sorting 10^7 keys.
 */
function kthSmallest(a: Float32Array, i: number): number {
  let l = 0, r = a.length - 1;
  while (l < r) {
    const p = a[l], q = a[(l + r) >>> 1], z = a[r];
    const x = p < q ? (q < z ? q : p < z ? z : p) : (p < z ? p : q < z ? z : q);
    let lo = l, hi = r;
    while (lo <= hi) {
      while (a[lo] < x) lo++;
      while (x < a[hi]) hi--;
      if (lo <= hi) {
        const tmp = a[lo]; a[lo] = a[hi]; a[hi] = tmp;
        lo++;
        hi--;
      }
    }
    if (hi < i) l = lo;
    if (i < lo) r = hi;
  }
  return a[i];
}

function report(model: Module, op: string): SparsityReport {
  checkModel(op, model);
  const layers: LayerSparsity[] = [];
  const seen = new Set<Tensor>();
  for (const [n, m, w] of weighted(model)) {
    const masked = maskOf(w) !== undefined;
    if (seen.has(w) || !(masked || isDefault(m))) continue;
    seen.add(w);
    const d = w.data as Float32Array;
    let zeros = 0;
    for (let i = 0; i < d.length; i++) if (d[i] === 0) zeros++;
    layers.push({ name: qualified(n, 'weight'), zeros, total: d.length, sparsity: d.length ? zeros / d.length : 0, masked });
  }
  const zeros = layers.reduce((a, l) => a + l.zeros, 0);
  const total = layers.reduce((a, l) => a + l.total, 0);
  return { layers, global: total ? zeros / total : 0, zeros, total };
}

/**
 * The fraction of zero entries of each prunable weight (every Linear and
 * Conv weight, and any other weight with a mask) and over all of them, as
 * PyTorch's pruning tutorial counts (`weight == 0`): so it counts zeros the
 * training made too, not only masked ones, and a masked weight written
 * directly since its last forward or step shows as written.
 * @throws `fathom.prune.sparsity: expected a Module, got ...`.
 */
export function sparsity(model: Module): SparsityReport {
  return report(model, 'sparsity');
}

/**
 * Makes the pruning permanent (PyTorch's prune.remove): each masked weight
 * keeps its zeros (masked once more), its `weight_mask` buffer leaves the
 * module (and the state dict), and optimizer steps and forwards stop masking it.
 * Optimizers made before keep their state (momentum of a masked entry is 0).
 * @returns the qualified names of the weights that were masked ([] when none).
 * @throws `fathom.prune.remove: expected a Module, got ...`.
 */
export function remove(model: Module): string[] {
  checkModel('remove', model);
  const out: string[] = [];
  for (const [n, m, w] of weighted(model)) {
    unhookForward(m);
    if (!maskOf(w)) continue;
    maskWeight(w);
    dropMask(w);
    unregisterBuffer(m, 'weight_mask');
    out.push(qualified(n, 'weight'));
  }
  return out;
}

/** Whether any weight of `model` is masked. @throws `fathom.prune.isPruned: expected a Module, got ...`. */
export function isPruned(model: Module): boolean {
  checkModel('isPruned', model);
  return weighted(model).some(([, , w]) => maskOf(w) !== undefined);
}
