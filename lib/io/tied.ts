/**
 * Tied (shared) weights in a model file, as safetensors' `save_model` / `load_model` treat PyTorch's
 * shared tensors: a tensor reachable under several names (a layer used twice in a Sequential, a
 * weight assigned to two modules: a tied embedding and decoder) is stored ONCE, under its first name
 * in stateDict() order, and the other names are recorded as aliases in the header's metadata:
 *
 *   fathom.tied           {"2.weight": "0.weight", "2.bias": "0.bias"}   alias tensor → stored tensor
 *   fathom.sharedModules  {"2": "0"}                                      alias module path → first path
 *
 * (safetensors' save_model writes each removed name as a metadata key whose value is the kept name;
 * fathom keeps the same alias → kept map under one key, next to its other metadata.) The file stays
 * plain safetensors: other readers see the stored tensors and ignore the metadata.
 *
 * load() rebuilds the architecture (whose modules are all distinct: config() writes a shared layer
 * once per use), then RE-TIES it before the weights are copied in:
 *   1. each shared module goes back in place: the module at the alias path is replaced, in its
 *      parent, by the module at the first path (so a layer used twice is again ONE module: its
 *      regularizer counts once, an ActivityRegularization keeps one loss, as before saving);
 *   2. each remaining alias tensor is replaced, in the module that owns it, by the stored one (a
 *      weight assigned into two modules is again one Parameter);
 *   3. the result is checked: every alias name must now give the very same Tensor as its stored
 *      name, and no two other names may share one. So training the loaded model keeps the tie, and
 *      parameters() (what an optimizer is built over) lists the shared tensor once.
 * A replacement writes the parent's (owner's) own properties that hold the old module (tensor):
 * `this.fc`, `this.layers[2]`, `this.runningMean`, arrays and plain objects of them, and the
 * registered name itself (as PyTorch's setattr(module, name, parameter) ties weights). What fathom
 * cannot write (a getter-only or read-only property, a container that is not an array or a plain
 * object) is refused by step 3, naming the module. A custom module that keeps a second reference
 * out of sight (in a Map, a closure) keeps using it there, as it would in PyTorch.
 * An nn.Model keeps its layers in its compiled graph: a shared module whose parent is an nn.Model is
 * re-tied tensor by tensor (step 2) instead (a layer used twice in a graph is one layer of the graph
 * already, so its file has no alias for it).
 *
 * The records are checked with the header, before any tensor is read: an alias must be a name of the
 * architecture that the file does not store, naming a tensor the file stores (so no chain, no cycle,
 * no name tied to itself), of the same dtype and shape; module paths must not nest in one another.
 */
import { Module } from '../layers/module.js';
import { Model } from '../layers/graph/model.js';
import { Tensor } from '../tensor/tensor.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { decodedDtype, type SafetensorsFileDtype } from './safetensors.js';
import type { ParameterShapes } from '../layers/registry.js';

/** Alias name → stored (tensors) or first (module paths) name; null-prototype records. */
export interface TiedRecords {
  tensors: Record<string, string>;
  modules: Record<string, string>;
}

/** Metadata keys. */
export const TIED_KEY = 'fathom.tied';
export const SHARED_MODULES_KEY = 'fathom.sharedModules';

/** Quotes a name of a (possibly hostile) file for an error message. */
const q = (n: string): string => JSON.stringify(n.length > 200 ? `${n.slice(0, 200)}…` : n);

// ---------------------------------------------------------------- save

/**
 * The module paths of `root` reached a second time (a module used twice), alias path → first path,
 * in namedState() order; a module under an alias path is not walked again (its tensors' names are
 * aliases of those under the first path).
 */
export function sharedModulePaths(root: Module): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const first = new Map<Module, string>();
  const ancestors = new Set<Module>([root]);
  const visit = (m: Module, prefix: string): void => {
    for (const [n, c] of m.modules()) {
      if (ancestors.has(c)) continue; // a property pointing back up: not a child (as namedState)
      const path = prefix === '' ? n : `${prefix}.${n}`;
      const seen = first.get(c);
      if (seen !== undefined) {
        out[path] = seen;
        continue;
      }
      first.set(c, path);
      ancestors.add(c);
      visit(c, path);
      ancestors.delete(c);
    }
  };
  visit(root, '');
  return out;
}

// ---------------------------------------------------------------- the header check

/**
 * The tied records of a header, checked against the tensors the file stores (`stored`: name → dtype
 * and shape, the model's tensors only) and the architecture (`expected`, when its shapes are known:
 * otherwise buildModel calls checkAliases with the built model's). Errors start `${where}: `.
 */
export function tiedRecords(metadata: Record<string, string>, stored: Record<string, { dtype: SafetensorsFileDtype; shape: number[] }>, where: string, parse: (text: string, what: string) => unknown): TiedRecords {
  const out: TiedRecords = { tensors: Object.create(null), modules: Object.create(null) };
  for (const [key, into, what] of [[TIED_KEY, out.tensors, 'tied'], [SHARED_MODULES_KEY, out.modules, 'shared-modules']] as const) {
    const text = metadata[key];
    if (text === undefined) continue;
    const v = parse(text, `${where}: the ${what} metadata (${key})`);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}: the ${what} metadata (${key}) must be an object of alias name → name, got ${Array.isArray(v) ? 'an array' : JSON.stringify(v)}`);
    for (const [alias, name] of Object.entries(v as Record<string, unknown>)) {
      if (typeof name !== 'string') throw new Error(`${where}: the ${what} metadata (${key}) must map names to names, got ${JSON.stringify(name) ?? String(name)} for ${q(alias)}`);
      if (alias === name) throw new Error(`${where}: the ${what} metadata (${key}) ties ${q(alias)} to itself`);
      into[alias] = name;
    }
  }
  const tied = out.tensors;
  for (const [alias, name] of Object.entries(tied)) {
    if (Object.hasOwn(stored, alias)) throw new Error(`${where}: the tied metadata (${TIED_KEY}) makes ${q(alias)} an alias of ${q(name)}, but the file stores ${q(alias)} itself (an alias is not stored)`);
    if (Object.hasOwn(tied, name)) {
      const chain = [alias, name];
      let cur = name;
      while (Object.hasOwn(tied, cur) && chain.length <= 6) {
        cur = tied[cur];
        chain.push(cur);
        if (cur === alias) throw new Error(`${where}: the tied metadata (${TIED_KEY}) has a cycle: ${chain.map(q).join(' → ')}; each alias must name a stored tensor`);
      }
      throw new Error(`${where}: the tied metadata (${TIED_KEY}) makes ${q(alias)} an alias of ${q(name)}, which is itself an alias (of ${q(tied[name])}); each alias must name a stored tensor`);
    }
    if (!Object.hasOwn(stored, name)) throw new Error(`${where}: the tied metadata (${TIED_KEY}) makes ${q(alias)} an alias of ${q(name)}, which the file does not hold`);
  }
  const paths = Object.entries(out.modules);
  const under = (p: string, of: string): boolean => p === of || p.startsWith(`${of}.`);
  // The alias paths as a tree of their dot-separated parts: a path is checked against every alias in one
  // walk along its parts (comparing each pair of paths took minutes for the ~100k records of a 2 MB file).
  type Node = Map<string, Node>;
  const tree: Node = new Map();
  const aliasAt = new Map<Node, string>();
  for (const [alias] of paths) {
    let node = tree;
    for (const part of alias.split('.')) {
      let next = node.get(part);
      if (!next) node.set(part, (next = new Map()));
      node = next;
    }
    aliasAt.set(node, alias);
  }
  /** The alias path that `p` equals or lies in (`proper`: strictly in), if any. */
  const aliasOver = (p: string, proper: boolean): string | undefined => {
    const parts = p.split('.');
    let node: Node | undefined = tree;
    for (let i = 0; i < parts.length && node; i++) {
      node = node.get(parts[i]);
      if (node && aliasAt.has(node) && (!proper || i < parts.length - 1)) return aliasAt.get(node);
    }
    return undefined;
  };
  for (const [alias, first] of paths) {
    if (alias === '' || first === '') throw new Error(`${where}: the shared-modules metadata (${SHARED_MODULES_KEY}) ties ${q(alias)} to ${q(first)}: the model itself is not a shared module`);
    if (under(alias, first) || under(first, alias)) throw new Error(`${where}: the shared-modules metadata (${SHARED_MODULES_KEY}) ties ${q(alias)} to ${q(first)}, one inside the other (a module cannot contain itself)`);
    const outer = aliasOver(alias, true);
    if (outer !== undefined) throw new Error(`${where}: the shared-modules metadata (${SHARED_MODULES_KEY}) lists ${q(alias)}, inside the shared module ${q(outer)} (list only the outermost)`);
    const other = aliasOver(first, false);
    if (other !== undefined) throw new Error(`${where}: the shared-modules metadata (${SHARED_MODULES_KEY}) ties ${q(alias)} to ${q(first)}, which lies in the alias ${q(other)} (name the first path of a module)`);
  }
  return out;
}

/**
 * Checks the tensor aliases against the architecture's names, dtypes and shapes (`shapes`: the
 * architecture's [name, shape, dtype] list, pruning masks excepted), and returns that list without
 * the aliases (what the file must hold). `isMask(name)`: a pruning mask of one of the architecture's
 * weights (a shared pruned module has an aliased mask).
 */
export function checkAliases(tied: Record<string, string>, shapes: ParameterShapes, stored: Record<string, { dtype: SafetensorsFileDtype; shape: number[] }>, where: string, isMask: (name: string) => boolean): ParameterShapes {
  const aliases = Object.keys(tied);
  if (aliases.length === 0) return shapes;
  const known = new Map(shapes.map(([n, s, d]) => [n, { shape: s, dtype: d ?? 'F32' }]));
  const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
  let aliased = 0;
  for (const alias of aliases) {
    // A pruned shared module's mask: the shape of its weight, float.
    const mask = known.has(alias) ? undefined : isMask(alias) ? known.get(alias.slice(0, -'_mask'.length)) : undefined;
    const want = known.get(alias) ?? (mask && { shape: mask.shape, dtype: 'F32' as const });
    const kept = stored[tied[alias]];
    if (!want) throw new Error(`${where}: the tied metadata (${TIED_KEY}) names ${q(alias)}, which the architecture lacks`);
    if (decodedDtype(kept.dtype) !== want.dtype || !sameShape(kept.shape, want.shape)) {
      throw new Error(`${where}: the tied metadata (${TIED_KEY}) makes ${q(alias)} (${want.dtype} ${fmt(want.shape)} in the architecture) an alias of ${q(tied[alias])}, which is ${kept.dtype} ${fmt(kept.shape)}`);
    }
    aliased += size(want.shape);
  }
  // The model is built before it is re-tied (each use of a shared tensor allocates its own first):
  // bounded by the file's size, so a small file cannot make load() build a large model.
  let held = 0;
  for (const t of Object.values(stored)) held += size(t.shape);
  if (aliased > MAX_USES * held + ALIAS_SLACK) {
    throw new Error(`${where}: the tied metadata (${TIED_KEY}) makes the file's ${held} stored values stand for ${aliased} more (${aliases.length} aliases); at most ${MAX_USES} times the stored values (+ ${ALIAS_SLACK}): the model is built untied first, so this bounds what a small file can make load() allocate`);
  }
  return shapes.filter(([n]) => !Object.hasOwn(tied, n));
}

/**
 * The values aliases may stand for: at most MAX_USES times those the file stores, plus ALIAS_SLACK
 * (so a model built from a file allocates at most (MAX_USES + 1) × the file's values + 16 MiB before
 * re-tying lets the untied copies go). ALBERT shares one block 12-24 times; 64 leaves room.
 */
export const MAX_USES = 64;
export const ALIAS_SLACK = 2 ** 22;

// ---------------------------------------------------------------- load: re-tying

/** The most levels of arrays / plain objects searched in a module's properties (as Module's own walk). */
const MAX_DEPTH = 4;

/**
 * Replaces every reference to `old` by `neu` in `owner`'s own enumerable properties and in the
 * arrays and plain objects they hold (MAX_DEPTH levels). Properties that cannot be written are left
 * (the final identity check refuses the model then).
 */
function replaceRefs(owner: object, old: object | Map<object, object>, neu?: object): void {
  // A Map: every old → new pair of one owner in one walk (a Sequential using one layer n times: one walk, not n).
  const swap = old instanceof Map ? old : new Map([[old, neu!]]);
  const seen = new Set<object>();
  const visit = (o: Record<string, unknown>, depth: number): void => {
    if (seen.has(o)) return;
    seen.add(o);
    for (const k of Object.keys(o)) {
      const v = o[k];
      const to = v !== null && typeof v === 'object' ? swap.get(v) : undefined;
      if (to !== undefined) {
        try {
          o[k] = to;
        } catch {
          // a read-only property: refused by the identity check
        }
      } else if (depth < MAX_DEPTH && v !== null && typeof v === 'object' && !(v instanceof Module) && !(v instanceof Tensor) &&
        (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
        visit(v as Record<string, unknown>, depth + 1);
      }
    }
  };
  visit(owner as Record<string, unknown>, 0);
}

/** Sets `o[key] = v` as an own property (a registered name its module holds under another property name). */
function setOwn(o: object, key: string, v: unknown): void {
  try {
    (o as Record<string, unknown>)[key] = v;
  } catch {
    // refused by the identity check
  }
}

/** Every module path of `root` (shared modules under each of their paths): path → module, its parent and its name there. */
function modulesByPath(root: Module): Map<string, { module: Module; parent: Module | null; name: string }> {
  const out = new Map<string, { module: Module; parent: Module | null; name: string }>([['', { module: root, parent: null, name: '' }]]);
  const ancestors = new Set<Module>([root]);
  const visit = (m: Module, prefix: string): void => {
    for (const [n, c] of m.modules()) {
      if (ancestors.has(c)) continue;
      const path = prefix === '' ? n : `${prefix}.${n}`;
      out.set(path, { module: c, parent: m, name: n });
      ancestors.add(c);
      visit(c, path);
      ancestors.delete(c);
    }
  };
  visit(root, '');
  return out;
}

/** A module's own tensors (not its children's): leaf name → tensor. */
function ownState(m: Module): Map<string, Tensor> {
  const kids = m.modules().map(([n]) => `${n}.`);
  return new Map(m.namedState().filter(([n]) => !kids.some((k) => n.startsWith(k))));
}

/** "the Linear at '2'" (or "the model"). */
const moduleAt = (m: Module, path: string): string => (path === '' ? `the model (${m.constructor.name})` : `the ${m.constructor.name} at ${q(path)}`);

/**
 * Re-ties a freshly built `model` as the records say (see the file comment), then checks that every
 * alias name gives the same Tensor as its stored name and that nothing else is shared.
 * @throws `${where}: ...` naming the module that cannot be re-tied or the names wrongly shared.
 */
export function retie(model: Module, records: TiedRecords, where: string): void {
  const aliases = Object.keys(records.tensors);
  const shared = Object.entries(records.modules);
  if (aliases.length === 0 && shared.length === 0) return;
  // 1. Shared modules back in place.
  const byPath = modulesByPath(model);
  // Per parent, its children to replace (one walk and one look at its children per parent, not per alias:
  // a module used n times in one Sequential took n walks of its n layers).
  const byParent = new Map<Module, { swap: Map<object, object>; todo: Array<{ alias: string; first: string; name: string; f: Module }> }>();
  for (const [alias, first] of shared) {
    const a = byPath.get(alias);
    const f = byPath.get(first);
    if (!a || !f) throw new Error(`${where}: the shared-modules metadata (${SHARED_MODULES_KEY}) names module ${q(a ? first : alias)}, which the model lacks`);
    if (a.module.constructor !== f.module.constructor || JSON.stringify(a.module.config()) !== JSON.stringify(f.module.config())) {
      throw new Error(`${where}: the shared-modules metadata (${SHARED_MODULES_KEY}) ties ${moduleAt(a.module, alias)} to ${moduleAt(f.module, first)}, which is not the same module (another type or config)`);
    }
    const parent = a.parent!;
    if (parent instanceof Model) continue; // its compiled graph holds the layer: re-tied tensor by tensor below
    let p = byParent.get(parent);
    if (!p) byParent.set(parent, (p = { swap: new Map(), todo: [] }));
    p.swap.set(a.module, f.module);
    p.todo.push({ alias, first, name: a.name, f: f.module });
  }
  for (const [parent, { swap, todo }] of byParent) {
    replaceRefs(parent, swap);
    let kids = new Map(parent.modules());
    let set = false;
    for (const { name, f } of todo) {
      if (!name.includes('.') && kids.get(name) !== f) {
        setOwn(parent, name, f);
        set = true;
      }
    }
    if (set) kids = new Map(parent.modules());
    for (const { alias, first, name, f } of todo) {
      if (kids.get(name) !== f) {
        throw new Error(`${where}: cannot put the shared module ${q(first)} back at ${q(alias)}: ${moduleAt(parent, alias.slice(0, -name.length - 1))} does not hold its child ${q(name)} in a property fathom can set`);
      }
    }
  }
  // 2. Tensors not re-tied with their module.
  if (aliases.length) {
    // Read once: a name re-tied through a module reached under two paths is seen as tied by ownState below.
    const state = new Map(model.namedState());
    const buffers = new Set(model.namedBuffers().map(([n]) => n));
    const owners = modulesByPath(model);
    for (const alias of aliases) {
      const kept = records.tensors[alias];
      const neu = state.get(kept);
      const old = state.get(alias);
      if (!neu || !old) throw new Error(`${where}: the tied metadata (${TIED_KEY}) ties ${q(alias)} to ${q(kept)}, but the model built has no tensor ${q(neu ? alias : kept)}`);
      if (old === neu) continue;
      if (buffers.has(alias) !== buffers.has(kept)) {
        const kind = (n: string): string => (buffers.has(n) ? 'buffer' : 'parameter');
        throw new Error(`${where}: the tied metadata (${TIED_KEY}) ties ${kind(alias)} ${q(alias)} to ${kind(kept)} ${q(kept)}; a parameter is tied to a parameter, a buffer to a buffer`);
      }
      // The owner: the longest module path that prefixes the name.
      let path = alias.lastIndexOf('.') < 0 ? '' : alias.slice(0, alias.lastIndexOf('.'));
      while (path !== '' && !owners.has(path)) path = path.lastIndexOf('.') < 0 ? '' : path.slice(0, path.lastIndexOf('.'));
      const owner = owners.get(path)!.module;
      const leaf = path === '' ? alias : alias.slice(path.length + 1);
      replaceRefs(owner, old, neu);
      if (!leaf.includes('.') && ownState(owner).get(leaf) !== neu) setOwn(owner, leaf, neu);
      if (ownState(owner).get(leaf) !== neu) {
        throw new Error(`${where}: cannot tie ${q(alias)} to ${q(kept)}: ${moduleAt(owner, path)} does not hold its tensor ${q(leaf)} in a property fathom can set`);
      }
    }
  }
  // 3. Exactly the recorded ties.
  const state = model.namedState();
  const byName = new Map(state);
  const nameOf = new Map<Tensor, string>();
  for (const alias of aliases) {
    const t = byName.get(alias);
    if (t === undefined || t !== byName.get(records.tensors[alias])) {
      throw new Error(`${where}: the model built has ${t === undefined ? `no tensor ${q(alias)}` : `${q(alias)} and ${q(records.tensors[alias])} as two tensors`} after re-tying; the tied metadata (${TIED_KEY}) and the shared-modules metadata (${SHARED_MODULES_KEY}) disagree`);
    }
  }
  for (const [n, t] of state) {
    if (Object.hasOwn(records.tensors, n)) continue;
    const other = nameOf.get(t);
    if (other !== undefined) throw new Error(`${where}: the shared-modules metadata (${SHARED_MODULES_KEY}) makes ${q(n)} the same tensor as ${q(other)}, which the tied metadata (${TIED_KEY}) does not record`);
    nameOf.set(t, n);
  }
}
