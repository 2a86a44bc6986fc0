/**
 * The pruning masks (internal to lib/prune, lib/optimizers and lib/io): weight
 * tensor → its 0/1 mask. Nothing here is part of the public `prune` namespace;
 * lib/prune/index.ts is the public API.
 *
 * A mask holds in three places:
 * - Optimizer.step() calls maskGradient() on each gradient before the update
 *   and maskWeight() on each parameter after it, so an entry whose mask is 0
 *   gets a zero gradient (no momentum or Adam moment builds up for it) and is
 *   reset to exactly 0 whatever the update rule did (weight decay, Adagrad's
 *   initial accumulator, Nesterov...).
 * - Every forward of the module that owns the weight masks it first (an own
 *   property wrapping `forward` and `forwardWith`, as PyTorch's pruning
 *   registers a forward pre-hook that recomputes weight = weight_orig · mask):
 *   so a weight written directly, or loaded from an unmasked state dict or a
 *   file, is masked again before it is used. One in-place product per
 *   forward (PyTorch allocates a new weight each forward).
 * - nn.RBM.cdStep masks its own weight update.
 *
 * This file imports the Tensor class and the backend, not the layers (Module
 * only as a type), so the optimizer base class can import it without a cycle.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Module } from '../layers/module.js';
import { backend } from '../backend/index.js';

const masks = new WeakMap<Tensor, Tensor>();

/** The mask of `weight`, or undefined when it is not pruned. @internal */
export function maskOf(weight: Tensor): Tensor | undefined {
  return masks.get(weight);
}

/** Unties the mask of `weight`. @internal */
export function dropMask(weight: Tensor): void {
  masks.delete(weight);
}

/** Zeroes the entries of gradient `g` (of parameter `p`) that p's mask prunes; no-op for an unpruned p. */
export function maskGradient(p: Tensor, g: Float32Array): void {
  const m = masks.get(p);
  if (!m) return;
  mulMask(g, m.data as Float32Array);
}

/** Sets to 0 the entries of `p` its mask prunes; no-op for an unpruned p. */
export function maskWeight(p: Tensor): void {
  const m = masks.get(p);
  if (!m) return;
  mulMask(p.data as Float32Array, m.data as Float32Array);
}

/**
 * The forward hook's masking: w ·= mask in place with the backend's
 * element-wise product (SIMD on the native backend: a JS loop over the MNIST
 * MLP's 268,800 weights costs about as much as its forward GEMMs at batch 64).
 * As PyTorch's weight_orig · mask, a NaN or ±Inf written at a masked entry
 * gives NaN there until the next optimizer step resets it to 0.
 */
function forwardMask(w: Tensor): void {
  const m = masks.get(w);
  if (m) backend().binary('mul', w.data as Float32Array, m.data as Float32Array, w.data as Float32Array);
}

/**
 * a[i] = 0 where mask[i] is 0, a[i] unchanged where it is 1. A product (no
 * data-dependent branch: 3-4x faster than a test per entry on a random mask),
 * with a rarely taken fix for the NaN that 0 · ±Inf or 0 · NaN gives.
 */
function mulMask(a: Float32Array, mask: Float32Array): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i] * mask[i];
    a[i] = v;
    if (v !== v && mask[i] === 0) a[i] = 0;
  }
}

// ---------------------------------------------------------------------------
// Modules: the walk, the forward hook, the buffers (shared by index.ts and load()).

/** [qualified name, module] of `model` and every module under it, each once (the first name of a shared one). @internal */
export function walk(model: Module): [string, Module][] {
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

/** The module's own float32 parameter `weight`, if it has one. @internal */
export function ownWeight(m: Module): Tensor | undefined {
  const w = m.namedParameters().find(([n]) => n === 'weight');
  return w && w[1].dtype === 'float32' ? w[1] : undefined;
}

/** The forward methods a mask hook wraps (Sequential calls forwardWith on Linear/Conv to fuse the activation). */
const FORWARDS = ['forward', 'forwardWith'] as const;
/** Hooked modules: the weight their wrappers mask and the own properties the wrappers replaced. */
const hooked = new WeakMap<Module, { w: Tensor; own: Map<string, PropertyDescriptor> }>();
/** Modules inside a wrapped call (Linear.forward calls forwardWith: mask once, not twice). */
const active = new Set<Module>();

/**
 * Wraps `m`'s forward methods (own, non-enumerable properties, like a
 * PyTorch forward pre-hook) so that each call masks `w` first; idempotent.
 * @internal
 */
export function hookForward(m: Module, w: Tensor): void {
  const h = hooked.get(m);
  if (h?.w === w) return;
  if (h) unhookForward(m);
  const self = m as unknown as Record<string, unknown>;
  const own = new Map<string, PropertyDescriptor>();
  for (const key of FORWARDS) {
    const f = self[key];
    if (typeof f !== 'function') continue;
    const d = Object.getOwnPropertyDescriptor(self, key);
    if (d) own.set(key, d);
    Object.defineProperty(self, key, {
      configurable: true, enumerable: false, writable: true,
      value: function maskedForward(this: Module, ...args: unknown[]): unknown {
        if (active.has(m)) return (f as (...a: unknown[]) => unknown).apply(this, args);
        forwardMask(w);
        active.add(m);
        try {
          return (f as (...a: unknown[]) => unknown).apply(this, args);
        } finally {
          active.delete(m);
        }
      },
    });
  }
  hooked.set(m, { w, own });
}

/** Undoes hookForward(m) (an own forward the user had set comes back). @internal */
export function unhookForward(m: Module): void {
  const h = hooked.get(m);
  if (!h) return;
  hooked.delete(m);
  const self = m as unknown as Record<string, unknown>;
  for (const key of FORWARDS) {
    const d = Object.getOwnPropertyDescriptor(self, key);
    if (!d || typeof d.value !== 'function' || d.value.name !== 'maskedForward') continue;
    delete self[key];
    const before = h.own.get(key);
    if (before) Object.defineProperty(self, key, before);
  }
}

/**
 * Hooks the forward of every module under `model` whose own weight is masked
 * (a weight shared by several modules: each of them). @internal
 */
export function hookMasked(model: Module): void {
  for (const [, m] of walk(model)) {
    const w = ownWeight(m);
    if (w && masks.has(w)) hookForward(m, w);
  }
}

/** The mask of (module, weight), creating an all-ones weight_mask buffer when there is none. @internal */
export function ensureMask(m: Module, w: Tensor): Tensor {
  let mask = masks.get(w);
  if (mask) return mask;
  mask = new Tensor(new Float32Array(w.size).fill(1), [...w.shape]);
  m.registerBuffer('weight_mask', mask);
  masks.set(w, mask);
  return mask;
}

/**
 * For load(): the file's tensors named '<prefix>weight_mask' whose
 * '<prefix>weight' is among `shapes` with the same shape — the masks of a
 * pruned model, which the architecture does not list. Where the tensors carry
 * their data (the loaded file), each such mask is checked to hold only 0 and
 * 1: any other value would scale its weight at every optimizer step.
 * @throws `fathom.load: the pruning mask '…' must …` for a mask of an integer
 *   dtype or holding a value other than 0 and 1.
 * @internal
 */
export function maskNamesIn(tensors: Record<string, { shape: number[]; dtype?: string; data?: ArrayLike<number> }>, shapes: ReadonlyMap<string, readonly number[]>): string[] {
  return Object.keys(tensors).filter((n) => {
    if (n !== 'weight_mask' && !n.endsWith('.weight_mask')) return false;
    const ws = shapes.get(n.slice(0, -'_mask'.length));
    const t = tensors[n];
    const s = t.shape;
    if (!(ws !== undefined && ws.length === s.length && ws.every((v, i) => v === s[i]))) return false;
    if (t.dtype !== undefined && t.dtype.startsWith('I')) {
      throw new Error(`fathom.load: the pruning mask '${n}' must be a float tensor of 0s and 1s, got dtype ${t.dtype}`);
    }
    const d = t.data;
    if (d !== undefined) {
      for (let i = 0; i < d.length; i++) {
        if (d[i] !== 0 && d[i] !== 1) {
          throw new Error(`fathom.load: the pruning mask '${n}' must hold only 0 and 1, got ${d[i]} at flat index ${i} (a corrupt or hand-edited file)`);
        }
      }
    }
    return true;
  });
}

/**
 * For load(): gives the module of each '<prefix>weight_mask' name an all-ones
 * mask (loadStateDict then fills it from the file) and hooks its forward, so
 * a weight the file holds unmasked is masked before its first use.
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
  if (names.length) hookMasked(model);
}
