/**
 * Models with several inputs or outputs (Keras's functional models): the
 * interface fit(), evaluate() and predict() recognise, the check for it, and
 * the helpers that turn their data and per-output options into lists.
 *
 * A Module that also implements MultiIOModule is trained on a list (in
 * inputNames / outputNames order) or a name-keyed object of inputs and
 * targets: fit(model, [x1, x2], [y1, y2]) or fit(model, { image: x1, meta: x2 },
 * { digit: y1, size: y2 }), with a loss (and a loss weight) per output.
 * nn.Model implements it; so can any custom Module (its forward(x) may then
 * refuse single tensors: fit uses forwardAll).
 */
import { Tensor, checkStorage } from '../tensor/tensor.js';
import type { Module } from '../layers/module.js';
import { fmt } from '../tensor/shape.js';
import { closestName, show } from '../layers/options.js';
import { describe } from '../ops/record.js';
import { lossByName, type LossFn, type LossName } from '../losses/index.js';
import { accuracyRule, isClassification, lastFit } from './compile.js';
import { resolveMetrics, valKey, type AccuracyRule, type Metric, type MetricSpec } from './metrics.js';
import type { EvaluateOptions, FitOptions, LossOption, MetricsOption } from './training.js';

export interface MultiIOModule {
  readonly inputNames: readonly string[];   // unique; from nn.input({name}) or generated ('input_1', …)
  readonly outputNames: readonly string[];  // unique; the output layers' names (Keras: the layer's name)
  forwardAll(inputs: Tensor[]): Tensor[];   // inputs in inputNames order, outputs in outputNames order
}

/** Whether `m` has the three members of MultiIOModule (inputNames and outputNames arrays, forwardAll a function). */
export function isMultiIO(m: unknown): m is Module & MultiIOModule {
  if (m === null || typeof m !== 'object') return false;
  const o = m as Partial<MultiIOModule>;
  return Array.isArray(o.inputNames) && Array.isArray(o.outputNames) && typeof o.forwardAll === 'function';
}

/**
 * Inputs or targets as fit, evaluate and predict take them: one Tensor (a
 * model with one input / output), a list in inputNames / outputNames order,
 * or an object keyed by those names. Every tensor holds the same N rows.
 */
export type Tensors = Tensor | readonly Tensor[] | Readonly<Record<string, Tensor>>;

/** An option given once for every output, as a list in outputNames order, or as an object keyed by output name. */
export type PerOutput<T> = T | readonly T[] | Readonly<Record<string, T>>;

/** @internal The checked names of a multi-IO model. */
export interface IONames {
  inputs: readonly string[];
  outputs: readonly string[];
}

function checkNameList(op: string, model: Module, key: 'inputNames' | 'outputNames', v: readonly unknown[]): readonly string[] {
  const who = model.constructor.name;
  if (v.length === 0) throw new Error(`fathom.${op}: ${who}.${key} is empty; a model needs at least one ${key === 'inputNames' ? 'input' : 'output'}`);
  const seen = new Set<string>();
  for (const [i, s] of v.entries()) {
    if (typeof s !== 'string' || s === '') throw new Error(`fathom.${op}: ${who}.${key}[${i}] must be a non-empty string, got ${show(s)}`);
    if (seen.has(s)) throw new Error(`fathom.${op}: ${who}.${key} names '${s}' twice (${v.join(', ')}); the names must be unique`);
    seen.add(s);
  }
  return v as readonly string[];
}

/** @internal The model's input and output names, checked (non-empty, unique strings). */
export function ioNames(op: string, model: Module & MultiIOModule): IONames {
  return { inputs: checkNameList(op, model, 'inputNames', model.inputNames), outputs: checkNameList(op, model, 'outputNames', model.outputNames) };
}

const quoted = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(', ');

function isRecord(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Tensor) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Keys of a name-keyed object that are not among `names`, refused with the expected names. */
function refuseUnknown(op: string, what: string, keys: string[], names: readonly string[], kind: string): void {
  for (const k of keys) {
    if (!names.includes(k)) {
      const near = closestName(k, names);
      throw new Error(`fathom.${op}: ${what} has an unknown ${kind} name '${k}'${near ? ` (did you mean '${near}'?)` : ''}; the ${kind}s are ${quoted(names)}`);
    }
  }
}

/**
 * @internal A Tensor, list or name-keyed object as a list in `names` order.
 * `what` names the argument ('x', 'y', 'validationData[0]'), `kind` the names ('input', 'output').
 * @throws for another count of tensors, unknown or missing names, and non-Tensors.
 */
export function tensorList(op: string, what: string, v: unknown, names: readonly string[], kind: 'input' | 'output'): Tensor[] {
  const expected = `${names.length === 1 ? 'a Tensor' : `${names.length} Tensors`}, one per ${kind} (${quoted(names)})`;
  if (v instanceof Tensor) {
    if (names.length === 1) return [v];
    throw new Error(`fathom.${op}: ${what} must be a list or an object of ${expected}, got one Tensor ${fmt(v.shape)}`);
  }
  if (Array.isArray(v)) {
    if (v.length !== names.length) throw new Error(`fathom.${op}: ${what} must hold ${expected}, got a list of ${v.length}`);
    return v.map((t, i) => {
      if (!(t instanceof Tensor)) throw new Error(`fathom.${op}: ${what}[${i}] (${kind} '${names[i]}') must be a Tensor, got ${describe(t)}`);
      return t;
    });
  }
  if (isRecord(v)) {
    refuseUnknown(op, what, Object.keys(v), names, kind);
    return names.map((name) => {
      const t = v[name];
      if (t === undefined) throw new Error(`fathom.${op}: ${what} has no ${kind} '${name}'; it needs ${expected}`);
      if (!(t instanceof Tensor)) throw new Error(`fathom.${op}: ${what}.${name} must be a Tensor, got ${describe(t)}`);
      return t;
    });
  }
  throw new Error(`fathom.${op}: ${what} must be a Tensor, a list or an object {name: Tensor} of ${expected}, got ${describe(v)}`);
}

/** @internal How a list of tensors reads in messages: `[4, 3]` for one, `{image: [4, 3], meta: [4, 2]}` for several. */
export function shapesText(ts: readonly Tensor[], names: readonly string[]): string {
  return ts.length === 1 ? fmt(ts[0].shape) : `{${ts.map((t, i) => `${names[i]}: ${fmt(t.shape)}`).join(', ')}}`;
}

/**
 * @internal Checks that every input and target has a batch dimension, the same N > 0 rows,
 * its storage and some values; returns N.
 */
export function checkRows(op: string, groups: readonly { what: string; ts: readonly Tensor[]; names: readonly string[] }[], max: number): number {
  const all = groups.flatMap((g) => g.ts.map((t, i) => ({ t, label: g.ts.length === 1 ? g.what : `${g.what}.${g.names[i]}` })));
  for (const { t, label } of all) {
    if (t.rank < 1) throw new Error(`fathom.${op}: ${label} needs a batch dimension, got a scalar ${fmt(t.shape)}`);
  }
  const first = all[0];
  for (const { t, label } of all) {
    if (t.shape[0] !== first.t.shape[0]) {
      throw new Error(
        `fathom.${op}: every input and target needs the same number of samples (rows), but ${first.label} has ${first.t.shape[0]} ` +
        `(shape ${fmt(first.t.shape)}) and ${label} has ${t.shape[0]} (shape ${fmt(t.shape)})`,
      );
    }
  }
  const n = first.t.shape[0];
  if (n === 0) throw new Error(`fathom.${op}: the data has no samples (${all.map((a) => `${a.label} ${fmt(a.t.shape)}`).join(', ')})`);
  if (n > max) throw new Error(`fathom.${op}: the data has ${n} samples; at most ${max}`);
  for (const { t, label } of all) {
    checkStorage(op, label, t);
    if (t.size === 0) throw new Error(`fathom.${op}: ${label} ${fmt(t.shape)} holds no values; every sample needs at least one value in each input and target`);
  }
  return n;
}

/**
 * @internal An option given once, as a list in `names` order, or as an object by name, as a list.
 * `one(v)` tells a single value from a list or an object. Missing names of an object take `fallback`
 * (undefined: refused).
 */
export function perOutput<T>(
  op: string, option: string, v: PerOutput<T>, names: readonly string[], one: (v: unknown) => boolean, fallback?: T,
): T[] {
  if (one(v)) return names.map(() => v as T);
  if (Array.isArray(v)) {
    if (v.length !== names.length) throw new Error(`fathom.${op}: options.${option} as a list needs one entry per output (${quoted(names)}), got ${v.length}`);
    return [...v] as T[];
  }
  if (isRecord(v)) {
    refuseUnknown(op, `options.${option}`, Object.keys(v), names, 'output');
    return names.map((name) => {
      const e = (v as Record<string, T>)[name];
      if (e !== undefined) return e;
      if (fallback !== undefined) return fallback;
      throw new Error(`fathom.${op}: options.${option} has no entry for output '${name}'; give one for each of ${quoted(names)}`);
    });
  }
  throw new Error(`fathom.${op}: options.${option} must be one value for every output, a list or an object by output name (${quoted(names)}), got ${show(v)}`);
}

/** @internal The log key of an output's metric: 'accuracy' of output 'digit' → 'digitAccuracy' (an empty prefix keeps the name). */
export function outputKey(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}${name[0].toUpperCase()}${name.slice(1)}`;
}

// ---------------------------------------------------------------------------
// Per-output recipes: each output's loss, weight, accuracy rule and metrics (all @internal: for training.ts).

/** @internal A hint after "x must be a Tensor" when a plain Module got a list or an object of tensors. */
export function multiHint(v: unknown): string {
  return v !== null && typeof v === 'object'
    ? '; a list or an object of tensors needs a model with several inputs or outputs (nn.Model, or a Module implementing MultiIOModule: inputNames, outputNames, forwardAll)'
    : '';
}

/** @internal accuracyThreshold: undefined or finite. */
export function checkThreshold(op: string, v: number | undefined): number | undefined {
  if (v !== undefined && !Number.isFinite(v)) throw new Error(`fathom.${op}: accuracyThreshold must be a finite number, got ${v}`);
  return v;
}

/** One output's recipe (a plain Module has one). */
export interface Head {
  /** The prefix of its log keys: the output name for a model with several outputs, else ''. */
  prefix: string;
  lossName: LossName | LossFn;
  lossFn: LossFn;
  /** Its weight in the total loss Σ wᵢ·lossᵢ (Keras's loss_weights). */
  weight: number;
  accuracy: boolean;
  rule: AccuracyRule;
  metrics?: MetricSpec[];
  /** The op metric errors name: 'fit (output 'digit')' for a model with several outputs. */
  op: string;
}

/** The per-output recipe of each multi-output model's last fit (lastFit keeps single-output ones, as before). */
export const lastHeads = new WeakMap<Module, Head[]>();

/** The recipe of the model's last fit (or the training config loaded with it), for k outputs. */
export function previousHeads(model: Module, k: number): Head[] | undefined {
  if (k > 1) return lastHeads.get(model);
  const f = lastFit.get(model);
  return f && [{ prefix: '', lossName: f.name, lossFn: f.loss, weight: lastHeads.get(model)?.[0]?.weight ?? 1, accuracy: f.accuracy, rule: f.rule, metrics: f.metrics, op: '' }];
}

/** lossByName; for one of several outputs, an unknown name is refused naming the op and the output. */
export function lossOf(op: string, l: LossName | LossFn, output: string | null): LossFn {
  if (output === null) return lossByName(l);
  try {
    return lossByName(l);
  } catch (e) {
    throw new Error(`fathom.${op}: options.loss for output '${output}': ${(e as Error).message.replace(/^fathom: /, '')}`, { cause: e });
  }
}

const oneLoss = (v: unknown): boolean => typeof v === 'string' || typeof v === 'function';

/** options.loss as one loss per output. */
export function lossList(op: string, v: LossOption, names: readonly string[] | null): (LossName | LossFn)[] {
  if (names !== null) return perOutput(op, 'loss', v, names, oneLoss);
  if (!oneLoss(v)) {
    throw new Error(`fathom.${op}: options.loss must be a loss name or a function for a model with one output, got ${show(v)}${multiHint(v)}`);
  }
  return [v as LossName | LossFn];
}

/** options.lossWeights as one finite weight >= 0 per output (missing names of an object: 1); for fit, not all 0. */
export function weightList(op: string, v: PerOutput<number>, names: readonly string[] | null): number[] {
  if (names === null) throw new Error(`fathom.${op}: options.lossWeights weighs the losses of a model's outputs; this model has one output, got ${show(v)}`);
  const w = perOutput(op, 'lossWeights', v, names, (e) => typeof e === 'number', 1);
  for (const [i, e] of w.entries()) {
    if (typeof e !== 'number' || !Number.isFinite(e)) throw new Error(`fathom.${op}: options.lossWeights for output '${names[i]}' must be a finite number, got ${show(e)}`);
    if (e < 0) {
      throw new Error(`fathom.${op}: options.lossWeights for output '${names[i]}' must be >= 0, got ${e} (a negative weight maximises that loss, which usually has no upper bound: training diverges)`);
    }
  }
  if (op === 'fit' && w.every((e) => e === 0)) {
    throw new Error(`fathom.${op}: options.lossWeights are 0 for every output (${names.map((n) => `'${n}'`).join(', ')}): the total loss would be 0 and nothing would train; give at least one output a weight > 0`);
  }
  return w;
}

/**
 * options.metrics as one list per output: a flat list applies to every output (as Keras); a list of
 * lists or an object by output name gives each its own (one metric may stand for a list of one).
 */
export function metricLists(op: string, v: MetricsOption, names: readonly string[] | null): (MetricSpec[] | undefined)[] {
  if (names === null) return [v as MetricSpec[]];
  const flat = (e: unknown): boolean => Array.isArray(e) && !e.some(Array.isArray);
  const lists = perOutput<MetricSpec | MetricSpec[]>(op, 'metrics', v as PerOutput<MetricSpec | MetricSpec[]>, names, flat, []);
  return lists.map((e) => (Array.isArray(e) ? e : [e]));
}

/** The heads of a fit: options.loss (or the previous fit's), weights, metrics and accuracy rules per output. */
export function fitHeads(op: string, opts: FitOptions, names: readonly string[] | null, previous: Head[] | undefined): Head[] {
  const multi = names !== null && names.length > 1;
  const lossNames = opts.loss === undefined ? previous!.map((h) => h.lossName) : lossList(op, opts.loss, names);
  const lossFns = lossNames.map((l, i) => lossOf(op, l, multi ? names![i] : null));
  const weights = opts.lossWeights !== undefined
    ? weightList(op, opts.lossWeights, names)
    : lossNames.map((_, i) => (opts.loss === undefined ? previous![i].weight : 1));
  const specs = opts.metrics !== undefined ? metricLists(op, opts.metrics, names) : lossNames.map((_, i) => (opts.loss === undefined ? previous![i].metrics : undefined));
  const threshold = checkThreshold(op, opts.accuracyThreshold);
  return lossNames.map((lossName, i) => {
    const hop = multi ? `${op} (output '${names![i]}')` : op;
    const listsAccuracy = specs[i]?.includes('accuracy') ?? false;
    if (listsAccuracy && opts.accuracy === false) throw new Error(`fathom.${hop}: metrics lists 'accuracy' but options.accuracy is false; drop one`);
    const accuracy = listsAccuracy || (opts.accuracy ?? (opts.loss === undefined ? previous![i].accuracy : isClassification(lossName)));
    const rule = opts.loss === undefined && threshold === undefined ? previous![i].rule : accuracyRule(lossName, threshold);
    return { prefix: multi ? names![i] : '', lossName, lossFn: lossFns[i], weight: weights[i], accuracy, rule, metrics: specs[i], op: hop };
  });
}

/** Each head's metric accumulators. */
export function headMetrics(heads: Head[]): Metric[][] {
  return heads.map((h) => resolveMetrics(h.op, h.metrics, h.accuracy));
}

/** Refuses two outputs whose log keys would collide ('a' + 'bC' and 'aB' + 'c'), training or validation. */
export function checkLogKeys(op: string, heads: Head[], metrics: Metric[][]): void {
  if (heads.length < 2) return;
  const seen = new Set(['loss', 'lr', 'valLoss']);
  for (const [i, h] of heads.entries()) {
    for (const name of ['loss', ...metrics[i].map((m) => m.name)]) {
      for (const key of [outputKey(h.prefix, name), valKey(outputKey(h.prefix, name))]) {
        if (seen.has(key)) throw new Error(`fathom.${op}: output '${h.prefix}' would log '${key}', a key already taken by another output or by fit; rename the output or the metric`);
        seen.add(key);
      }
    }
  }
}

/** Remembers the fit's recipe: lastFit for one output (what save() stores), the heads for several. */
export function rememberHeads(model: Module, heads: Head[]): void {
  if (heads.length === 1) {
    const h = heads[0];
    lastFit.set(model, { name: h.lossName, loss: h.lossFn, accuracy: h.accuracy, rule: h.rule, metrics: h.metrics });
    if (h.weight !== 1) lastHeads.set(model, heads);
    else lastHeads.delete(model);
  } else {
    // A single-loss training config would describe the model wrongly: save() stores none.
    lastFit.delete(model);
    lastHeads.set(model, heads);
  }
}

/** The heads of an evaluate: options, else the last fit's, else crossEntropy for int32 targets and mse otherwise. */
export function evaluateHeads(opts: EvaluateOptions, names: readonly string[] | null, fitted: Head[] | undefined, ys: Tensor[]): Head[] {
  const op = 'evaluate';
  const multi = names !== null && names.length > 1;
  const threshold = checkThreshold(op, opts.accuracyThreshold);
  const lossNames = opts.loss !== undefined ? lossList(op, opts.loss, names) : ys.map((y, i) => fitted?.[i].lossName ?? (y.dtype === 'int32' ? 'crossEntropy' : 'mse'));
  const lossFns = lossNames.map((l, i) => lossOf(op, l, multi ? names![i] : null));
  const weights = opts.lossWeights !== undefined ? weightList(op, opts.lossWeights, names) : lossNames.map((_, i) => fitted?.[i].weight ?? 1);
  const specs = opts.metrics !== undefined ? metricLists(op, opts.metrics, names) : lossNames.map((_, i) => (opts.loss === undefined ? fitted?.[i].metrics : undefined));
  return lossNames.map((lossName, i) => {
    const hop = multi ? `${op} (output '${names![i]}')` : op;
    const f = fitted?.[i];
    const listsAccuracy = specs[i]?.includes('accuracy') ?? false;
    if (listsAccuracy && opts.accuracy === false) throw new Error(`fathom.${hop}: metrics lists 'accuracy' but options.accuracy is false; drop one`);
    const accuracy = listsAccuracy || (opts.accuracy ?? (opts.loss !== undefined ? isClassification(lossName) : f?.accuracy ?? ys[i].dtype === 'int32'));
    const rule: AccuracyRule = opts.loss === undefined && f ? { ...f.rule, threshold: threshold ?? f.rule.threshold } : accuracyRule(lossName, threshold);
    return { prefix: multi ? names![i] : '', lossName, lossFn: lossFns[i], weight: weights[i], accuracy, rule, metrics: specs[i], op: hop };
  });
}
