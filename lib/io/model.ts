/**
 * save / load a model: weights as safetensors, the architecture as JSON in
 * the header's metadata (`fathom.architecture`), so load() rebuilds the
 * model without any code from the caller. Saving is atomic (temp file +
 * rename); a corrupt, truncated, hostile or mismatched file is refused with
 * an error, and before anything is allocated:
 *
 *   1. the safetensors header is read (bounded) and every declared tensor is
 *      checked against the file's real length;
 *   2. the architecture's parameters (names and shapes, computed from the
 *      config by nn's parameterShapes, allocating nothing) are compared with
 *      the tensors the file declares;
 *   3. only then are the tensors read and the model built.
 *
 * So what load() allocates is bounded by the file's real size: a small file
 * cannot make it build a large model (tied weights: the aliases of a file may
 * stand for at most 64 times the values it stores, + 2^22; lib/io/tied.ts).
 *
 * Frozen parameters (requiresGrad false, e.g. `layer.trainable = false`) are
 * listed in `fathom.frozen` and frozen again by load(), for any module (an
 * nn.Model's architecture lists them too, per layer).
 *
 * A model that was fitted with a named loss also keeps `fathom.training`
 * ({ loss, accuracy, accuracyThreshold }), so the loaded model's fit() and
 * evaluate() default to it, as Keras's load_model restores the compile config.
 *
 * Tied (shared) weights — a layer used twice, a weight assigned to two
 * modules — are stored once and re-tied by load() (lib/io/tied.ts: the
 * aliases in `fathom.tied`, shared modules in `fathom.sharedModules`, as
 * safetensors' save_model / load_model treat PyTorch's shared tensors): the
 * loaded model holds ONE Parameter under all its names again.
 *
 * save(model, path, { optimizer }) also stores the optimizer (a training
 * checkpoint, so training resumes bit-exactly): its state buffers as tensors
 * `optimizer.state.<i>.<key>` (i the flat parameter index of stateDict(),
 * key e.g. expAvg), and in the metadata `fathom.optimizer` its class, step
 * count, defaults, parameter groups, per-parameter step counts and the model
 * parameter name of each optimizer parameter. Two ways back, as the two
 * libraries users know:
 *   - loadOptimizerState(path, opt): PyTorch's
 *     `optimizer.load_state_dict(torch.load(path)['optimizer'])`, into an
 *     optimizer built over the loaded model's parameters;
 *   - loadCheckpoint(path) → { model, optimizer }: Keras's load_model, which
 *     rebuilds the optimizer (its class, groups, hyper-parameters and state).
 * Both check the optimizer part as strictly as the weights (names, dtypes and
 * shapes against the architecture, before any data is read; class, groups,
 * keys and hyper-parameters before anything is changed), and a refused file
 * changes nothing.
 */
import { Module, type ModuleConfig } from '../layers/module.js';
import { fromConfig, parameterShapes, type ParameterShapes } from '../layers/registry.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue, fmt, sameShape } from '../tensor/shape.js';
import { decodeSafetensors, decodedDtype, encodeSafetensors, loadSafetensors, saveSafetensors, type SafeTensor, type SafetensorsFile, type SafetensorsFileDtype, type SafetensorsHeader } from './safetensors.js';
import { toPath, type FilePath } from './paths.js';
import { attachMasks, maskNamesIn } from '../prune/masks.js';
import { checkTrainingConfig, restoreTrainingConfig, trainingConfig, type TrainingConfig } from '../models/training.js';
import { checkOptions } from '../ops/options.js';
import { Optimizer, type OptimizerStateDict, type ParamGroupInput, type ParamState } from '../optimizers/optimizer.js';
import { SGD } from '../optimizers/sgd.js';
import { Adam, AdamW } from '../optimizers/adam.js';
import { Adagrad } from '../optimizers/adagrad.js';
import { RMSprop } from '../optimizers/rmsprop.js';
import { Adadelta } from '../optimizers/adadelta.js';
import { Adamax } from '../optimizers/adamax.js';
import { SHARED_MODULES_KEY, TIED_KEY, checkAliases, retie, sharedModulePaths, tiedRecords, type TiedRecords } from './tied.js';

const FORMAT = 'fathom.model/1';
/** Prefix of the optimizer's state tensors in a checkpoint (only when the metadata holds `fathom.optimizer`). */
const OPT_PREFIX = 'optimizer.state.';
const OPT_TENSOR = /^optimizer\.state\.(0|[1-9]\d{0,8})\.([A-Za-z][A-Za-z0-9]{0,63})$/;

/** The optimizer classes a checkpoint can rebuild, by their `name`. */
const OPTIMIZERS: Record<string, new (params: Iterable<ParamGroupInput>, cfg?: object) => Optimizer> = {
  SGD, Adam, AdamW, Adagrad, RMSprop, Adadelta, Adamax,
};

export interface SaveOptions {
  /** Also store this optimizer's state (a checkpoint): every parameter it holds must be one of the model's. */
  optimizer?: Optimizer;
}

/** The optimizer part of a checkpoint's metadata (`fathom.optimizer`). */
interface OptimizerMeta {
  type: string;
  steps: number;
  defaults: Record<string, unknown>;
  /** The model parameter name of each optimizer parameter (flat index). */
  paramNames: string[];
  paramGroups: OptimizerStateDict['paramGroups'];
  /** Per-parameter numbers (step); the buffers are tensors. */
  state: Record<string, Record<string, number>>;
}

/**
 * Saves `model` (architecture + weights) to `path` (a string or a file: URL)
 * as safetensors, atomically: the file is replaced whole or not at all, and
 * temporary files left by killed writers of the same path are removed.
 * A tensor under several names (tied weights) is stored once, the other names
 * recorded as its aliases (lib/io/tied.ts); load() re-ties them.
 * Throws `fathom.save: ...` for a non-Module, a bad path, a module without
 * config(), an optimizer holding other parameters, or a failed write
 * (`fathom.save: cannot write <path>: <reason> (CODE)`: a missing folder, a
 * read-only folder or file system, a full disk, a folder in the way).
 */
export async function save(model: Module, path: FilePath, options?: SaveOptions): Promise<void> {
  const p = toPath(path, 'fathom.save');
  const { tensors, metadata } = modelTensorsAndMetadata('save', model, options);
  try {
    await saveSafetensors(p, tensors, metadata);
  } catch (err) {
    throw rethrow('fathom.save', err);
  }
}

/**
 * The bytes save() would write, in memory (serialize(), lib/io/serialize.ts). Errors start `fathom.<op>: `;
 * those of the encoder are not rethrown here.
 */
export function modelToBytes(op: string, model: Module, options?: SaveOptions): Uint8Array {
  const { tensors, metadata } = modelTensorsAndMetadata(op, model, options);
  return encodeSafetensors(tensors, metadata);
}

/**
 * The model of bytes save() wrote, with load()'s checks (deserialize(), lib/io/serialize.ts): the header
 * first (checkHeader, on the decoded dtypes), then buildModel. Errors start `${where}: ` or `safetensors: `.
 */
export function modelFromBytes(bytes: Uint8Array, where: string): Module {
  const file = decodeSafetensors(bytes, `${bytes.length} bytes`);
  const header: SafetensorsHeader = { metadata: file.metadata, tensors: Object.create(null) };
  for (const [name, t] of Object.entries(file.tensors)) header.tensors[name] = { dtype: t.dtype, shape: t.shape };
  return buildModel(file, checkHeader(header, where), where);
}

/** The model and optimizer of bytes save(model, path, { optimizer }) wrote (deserializeCheckpoint), with loadCheckpoint's checks. */
export function checkpointFromBytes(bytes: Uint8Array, where: string): { model: Module; optimizer: Optimizer } {
  const file = decodeSafetensors(bytes, `${bytes.length} bytes`);
  const header: SafetensorsHeader = { metadata: file.metadata, tensors: Object.create(null) };
  for (const [name, t] of Object.entries(file.tensors)) header.tensors[name] = { dtype: t.dtype, shape: t.shape };
  return checkpointFromFile(file, checkHeader(header, where), where, 'the bytes hold no optimizer state (serialize(model) without { optimizer }); read the model with deserialize(bytes)');
}

/**
 * What save() writes (and serialize() encodes): the model's parameters and buffers as safetensors tensors
 * (F32, int32 ones as I32; a tensor under several names once, under its first name), the optimizer's
 * state when given, and the metadata (format, architecture, training config, frozen parameters, tied
 * names and shared modules, optimizer). Errors start `fathom.<op>: `.
 */
function modelTensorsAndMetadata(op: string, model: Module, options?: SaveOptions): { tensors: Record<string, SafeTensor>; metadata: Record<string, string> } {
  if (!(model instanceof Module)) throw new Error(`fathom.${op}: expected a Module`);
  const { optimizer } = checkOptions(op, options, ['optimizer']);
  if (optimizer !== undefined && !(optimizer instanceof Optimizer)) {
    throw new Error(`fathom.${op}: options.optimizer must be an Optimizer (e.g. new optim.Adam(model.parameters())), got ${describeValue(optimizer)}`);
  }
  const tensors: Record<string, SafeTensor> = Object.create(null);
  const seen = new Map<Tensor, string>();
  // Tied weights: alias name → the first name of the same tensor (stored once, under that name).
  const tied: Record<string, string> = Object.create(null);
  // Parameters and buffers (BatchNorm's running statistics; int32 ones as I32), in stateDict() order.
  for (const [name, t] of model.namedState()) {
    const first = seen.get(t);
    if (first !== undefined) {
      tied[name] = first;
      continue;
    }
    seen.set(t, name);
    tensors[name] = t.dtype === 'int32'
      ? { dtype: 'I32', shape: [...t.shape], data: t.data as Int32Array }
      : { dtype: 'F32', shape: [...t.shape], data: t.data as Float32Array };
  }
  const metadata: Record<string, string> = { format: FORMAT, 'fathom.architecture': JSON.stringify(model.config()) };
  // The loss a model was fitted with (Keras saves its compile config too); not for a loss function.
  const training = trainingConfig(model);
  if (training) metadata['fathom.training'] = JSON.stringify(training);
  // Frozen parameters (requiresGrad false; Keras keeps `trainable`): load() freezes them again.
  const frozen = model.namedParameters().filter(([, t]) => !t.requiresGrad).map(([n]) => n);
  if (frozen.length) metadata['fathom.frozen'] = JSON.stringify(frozen);
  if (Object.keys(tied).length) metadata[TIED_KEY] = JSON.stringify(tied);
  const shared = sharedModulePaths(model);
  if (Object.keys(shared).length) metadata[SHARED_MODULES_KEY] = JSON.stringify(shared);
  if (optimizer) metadata['fathom.optimizer'] = JSON.stringify(optimizerPart(op, optimizer, seen, tensors));
  return { tensors, metadata };
}

/**
 * Loads a model saved by save() from `path` (a string or a file: URL):
 * rebuilds the architecture and loads the weights. Never modifies the file.
 * Throws `fathom.load: ...` for a bad path, a file that is not a regular file
 * (a folder, a FIFO, a device), not safetensors, corrupt or truncated, not a
 * fathom model, or whose tensors do not match its architecture.
 */
export async function load(path: FilePath): Promise<Module> {
  const p = toPath(path, 'fathom.load');
  const where = `fathom.load: ${p}`;
  const { file, plan } = await readCheckpoint(p, where, 'fathom.load');
  return buildModel(file, plan, where);
}

/** What the header check learns before any tensor data is read. */
interface Plan {
  config?: ModuleConfig;
  /** Names of the parameters saved frozen. */
  frozen?: string[];
  expected?: ParameterShapes | null;
  training?: TrainingConfig;
  optimizer?: OptimizerMeta | null;
  /** Tied tensor names and shared module paths (empty records when the model has none). */
  tied?: TiedRecords;
}

/** Reads a model file, checking the header (architecture, training and optimizer metadata, every tensor) before any data. */
async function readCheckpoint(p: string, where: string, op: string): Promise<{ file: SafetensorsFile; plan: Plan }> {
  // Filled in by the check, which runs before any tensor data is read.
  const plan: Plan = {};
  let file;
  try {
    file = await loadSafetensors(p, {
      check: (header) => checkHeader(header, where, plan),
    });
  } catch (err) {
    throw rethrow(op, err);
  }
  return { file, plan };
}

/** Checks a model file's header (architecture, training, frozen and optimizer metadata, every tensor) into `plan`, before any data is read. */
function checkHeader(header: SafetensorsHeader, where: string, plan: Plan = {}): Plan {
  plan.config = architecture(header, where);
  const t = header.metadata['fathom.training'];
  if (t !== undefined) plan.training = checkTrainingConfig(parseJson(t, `${where}: the training metadata`), where);
  plan.expected = expectedShapes(plan.config, where);
  plan.frozen = frozenNames(header, plan.expected, where);
  const withOptimizer = header.metadata['fathom.optimizer'] !== undefined;
  const stored = modelTensors(header.tensors, withOptimizer);
  plan.tied = tiedRecords(header.metadata, stored, where, parseJson);
  if (plan.expected !== null) checkTensors({ tensors: withoutMasks(stored, plan.expected) }, checkAliases(plan.tied.tensors, plan.expected, stored, where, maskOfAny(plan.expected)), where);
  plan.optimizer = optimizerMeta(header, plan.expected, where, plan.tied.tensors);
  return plan;
}

/** Builds the model of a checked file and loads its weights. */
function buildModel(file: SafetensorsFile, plan: Plan, where: string): Module {
  let model: Module;
  try {
    model = fromConfig(plan.config!);
  } catch (e) {
    throw new Error(`${where}: cannot rebuild the architecture: ${(e as Error).message}`, { cause: e });
  }
  // A pruned model's weight_mask buffers (lib/prune) are not in its architecture: give them back before the check.
  const masks = maskNamesIn(modelTensors(file.tensors, plan.optimizer != null), shapeMap(model.namedParameters().map(([n, t]) => [n, [...t.shape]])));
  attachMasks(model, masks);
  const built: ParameterShapes = model.namedState().map(([n, t]) => t.dtype === 'int32' ? [n, [...t.shape], 'I32'] : [n, [...t.shape]]);
  const expected = plan.expected ?? null;
  const tied = plan.tied ?? { tensors: Object.create(null), modules: Object.create(null) };
  if (expected === null) {
    // A custom type registered without a shape function: its shapes are only known now.
    const stored = modelTensors(file.tensors, plan.optimizer != null);
    checkTensors({ tensors: stored }, checkAliases(tied.tensors, built, stored, where, maskOfAny(built)), where);
    if (plan.optimizer) {
      const shapes = shapeMap(built);
      for (const n of plan.optimizer.paramNames) {
        if (!shapes.has(n)) throw new Error(`${where}: the optimizer metadata names parameter ${names5([n])}, which the model lacks`);
      }
    }
  } else if (!sameParameters(expected, masks.length ? built.filter(([n]) => !masks.includes(n)) : built)) {
    throw new Error(`${where}: the architecture's shape functions predicted parameters ${list(expected)}, but the model built has ${list(built)} (a registerModuleType shape function is wrong)`);
  }
  // Shared modules and tied tensors made one again (before the weights go in: an alias is filled with its stored tensor).
  retie(model, tied, where);
  const dict: Record<string, Tensor> = Object.create(null);
  for (const [name] of model.namedState()) {
    const t = file.tensors[Object.hasOwn(tied.tensors, name) ? tied.tensors[name] : name];
    if (!t) throw new Error(`${where}: the model built has tensor ${names5([name])}, which the file neither holds nor ties to a tensor it holds`);
    dict[name] = new Tensor(t.data, t.shape);
  }
  model.loadStateDict(dict);
  if (plan.training) restoreTrainingConfig(model, plan.training);
  if (plan.frozen?.length) {
    const params = new Map(model.namedParameters());
    for (const n of plan.frozen) {
      const p = params.get(n);
      if (!p) throw new Error(`${where}: the frozen metadata names ${names5([n])}, which is not a parameter of the model`);
      p.requiresGrad = false;
    }
  }
  return model;
}

/** The `fathom.frozen` metadata: names of the architecture's tensors (checked against it when its shapes are known). */
function frozenNames(header: SafetensorsHeader, expected: ParameterShapes | null, where: string): string[] {
  const text = header.metadata['fathom.frozen'];
  if (text === undefined) return [];
  const v = parseJson(text, `${where}: the frozen metadata`);
  if (!Array.isArray(v) || v.some((n) => typeof n !== 'string')) throw new Error(`${where}: the frozen metadata must be an array of parameter names`);
  const names = expected && new Set(expected.map(([n]) => n));
  const bad = names ? v.filter((n) => !names.has(n)) : [];
  if (bad.length) throw new Error(`${where}: the frozen metadata names ${names5(bad)}, which the architecture lacks`);
  return v as string[];
}

/** The optimizer's metadata; its state buffers go into `tensors` (copies, taken now). */
function optimizerPart(op: string, opt: Optimizer, names: Map<Tensor, string>, tensors: Record<string, SafeTensor>): OptimizerMeta {
  const paramNames = opt.params.map((t, i) => {
    const n = names.get(t);
    if (n === undefined) throw new Error(`fathom.${op}: parameter ${i} of the ${opt.name} optimizer is not a parameter of this model; save the optimizer with the model it trains`);
    return n;
  });
  const sd = opt.stateDict();
  const state: OptimizerMeta['state'] = {};
  for (const [i, entry] of Object.entries(sd.state)) {
    const nums: Record<string, number> = {};
    for (const [key, v] of Object.entries(entry)) {
      if (typeof v === 'number') nums[key] = v;
      else tensors[`${OPT_PREFIX}${i}.${key}`] = { dtype: 'F32', shape: [...v.shape], data: v.data as Float32Array };
    }
    state[i] = nums;
  }
  return { type: opt.name, steps: opt.steps, defaults: opt.defaults, paramNames, paramGroups: sd.paramGroups, state };
}

/** The optimizer metadata, checked for form (types, indices, names) and against the file's tensors; null when absent. */
function optimizerMeta(header: SafetensorsHeader, expected: ParameterShapes | null, where: string, tied: Record<string, string>): OptimizerMeta | null {
  const text = header.metadata['fathom.optimizer'];
  if (text === undefined) return null;
  const what = `${where}: the optimizer metadata`;
  const m = parseJson(text, what) as OptimizerMeta;
  const bad = (msg: string): never => { throw new Error(`${what}: ${msg}`); };
  const isObj = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(m)) bad('must be an object');
  if (typeof m.type !== 'string' || !Object.hasOwn(OPTIMIZERS, m.type)) bad(`type must be one of ${Object.keys(OPTIMIZERS).join(', ')}, got ${describeValue(m.type)}`);
  if (!Number.isSafeInteger(m.steps) || m.steps < 0) bad(`steps must be an integer >= 0, got ${describeValue(m.steps)}`);
  if (!isObj(m.defaults)) bad('defaults must be an object');
  // The defaults as the optimizer's constructor checks them (loadOptimizerState keeps the optimizer's own, but a
  // tampered value is still a corrupt file).
  try {
    new OPTIMIZERS[m.type]([{ params: [new Tensor(new Float32Array(1), [1])] }], m.defaults);
  } catch (e) {
    bad(`defaults: ${(e as Error).message}`);
  }
  if (!Array.isArray(m.paramGroups)) bad('paramGroups must be an array');
  if (!isObj(m.state)) bad('state must be an object');
  if (!Array.isArray(m.paramNames) || m.paramNames.some((n) => typeof n !== 'string')) bad('paramNames must be an array of strings');
  const shapes = expected && shapeMap(expected);
  if (shapes) {
    for (const n of m.paramNames) if (!shapes.has(n)) bad(`names parameter ${names5([n])}, which the architecture lacks`);
  }
  if (new Set(m.paramNames).size !== m.paramNames.length) bad('names a model parameter twice');
  // A tied parameter is one parameter: the optimizer names it by its stored name (save() does).
  for (const n of m.paramNames) if (Object.hasOwn(tied, n)) bad(`names parameter ${names5([n])}, an alias of ${names5([tied[n]])} (tied weights); name the stored one`);
  for (const [name, t] of Object.entries(header.tensors)) {
    if (!name.startsWith(OPT_PREFIX)) continue;
    const hit = OPT_TENSOR.exec(name);
    if (!hit || Number(hit[1]) >= m.paramNames.length) bad(`tensor ${names5([name])} is not optimizer.state.<i>.<key> with i < ${m.paramNames.length}`);
    if (decodedDtype(t.dtype) !== 'F32') bad(`tensor ${names5([name])} must be F32, got ${t.dtype}`);
    const want = shapes?.get(m.paramNames[Number(hit![1])]);
    if (want && !sameShape(t.shape, want)) bad(`tensor ${names5([name])} has shape ${fmt(t.shape)}, its parameter ${names5([m.paramNames[Number(hit![1])]])} ${fmt(want)}`);
  }
  return m;
}

/** The model's tensors of a header (without the optimizer's, when the file holds an optimizer). */
function modelTensors<T>(tensors: Record<string, T>, withOptimizer: boolean): Record<string, T> {
  if (!withOptimizer) return tensors;
  const out: Record<string, T> = Object.create(null);
  for (const [n, t] of Object.entries(tensors)) if (!n.startsWith(OPT_PREFIX)) out[n] = t;
  return out;
}

/**
 * Restores `opt` from a checkpoint's optimizer part: class, parameter count and shapes
 * (against the model parameters the file names), then loadStateDict (which checks
 * groups, hyper-parameters and keys before it changes anything), then the step count.
 */
function applyOptimizer(opt: Optimizer, m: OptimizerMeta, file: SafetensorsFile, shapeOf: (name: string) => readonly number[] | undefined, where: string): void {
  if (opt.name !== m.type) throw new Error(`${where}: the file holds ${m.type} state, the optimizer is ${opt.name}`);
  const params = opt.params;
  if (params.length !== m.paramNames.length) {
    throw new Error(`${where}: the file's ${m.type} state covers ${m.paramNames.length} parameter(s), the optimizer holds ${params.length}`);
  }
  params.forEach((p, i) => {
    const want = shapeOf(m.paramNames[i]);
    if (want && !sameShape(p.shape, want)) {
      throw new Error(`${where}: parameter ${i} of the optimizer has shape ${fmt(p.shape)}, the file's parameter ${names5([m.paramNames[i]])} ${fmt(want)}`);
    }
  });
  // Keys kept as written ('__proto__' included: a null-prototype record), so loadStateDict's error quotes them.
  const state: Record<string, ParamState> = Object.create(null);
  for (const [i, nums] of Object.entries(m.state)) state[i] = { ...(nums as Record<string, number>) };
  for (const [name, t] of Object.entries(file.tensors)) {
    const hit = OPT_TENSOR.exec(name);
    if (!hit) continue;
    (state[hit[1]] ??= {})[hit[2]] = new Tensor(t.data, t.shape);
  }
  try {
    opt.loadStateDict({ state, paramGroups: m.paramGroups });
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`, { cause: e });
  }
  opt.steps = m.steps;
}

/**
 * Reads a checkpoint written by save(model, path, { optimizer }) into `optimizer`
 * (PyTorch's `optimizer.load_state_dict(torch.load(path)['optimizer'])`): build
 * the optimizer over the loaded model's parameters, of the class that was saved,
 * then call this. Restores the groups' hyper-parameters, each parameter's state
 * (step counts and buffers) and `optimizer.steps`.
 * @throws `fathom.loadOptimizerState: ...` for a bad path or file (as load()),
 *   a file without optimizer state, another optimizer class, another number of
 *   parameters or groups, a parameter whose shape differs from the file's, or a
 *   bad group / state entry; the optimizer is unchanged then.
 */
export async function loadOptimizerState(path: FilePath, optimizer: Optimizer): Promise<void> {
  const p = toPath(path, 'fathom.loadOptimizerState');
  if (!(optimizer instanceof Optimizer)) throw new Error(`fathom.loadOptimizerState: optimizer must be an Optimizer, got ${describeValue(optimizer)}`);
  const where = `fathom.loadOptimizerState: ${p}`;
  const { file, plan } = await readCheckpoint(p, where, 'fathom.loadOptimizerState');
  if (!plan.optimizer) throw new Error(`${where}: the file holds no optimizer state (save it with save(model, path, { optimizer }))`);
  const shapes = shapeMap(plan.expected ?? []);
  applyOptimizer(optimizer, plan.optimizer, file, (n) => shapes.get(n) ?? file.tensors[n]?.shape, where);
}

/**
 * Loads a checkpoint written by save(model, path, { optimizer }) (Keras's
 * load_model restoring the optimizer): the model as load() does, and the
 * optimizer rebuilt (its class, parameter groups over the new model's
 * parameters, hyper-parameters, state and step count).
 * @throws `fathom.loadCheckpoint: ...` for anything load() or
 *   loadOptimizerState() refuses, and for a file saved without an optimizer
 *   (load() reads those).
 */
export async function loadCheckpoint(path: FilePath): Promise<{ model: Module; optimizer: Optimizer }> {
  const p = toPath(path, 'fathom.loadCheckpoint');
  const where = `fathom.loadCheckpoint: ${p}`;
  const { file, plan } = await readCheckpoint(p, where, 'fathom.loadCheckpoint');
  return checkpointFromFile(file, plan, where, 'the file holds no optimizer state (it was saved without { optimizer }); load the model with load(path)');
}

/**
 * The model and the rebuilt optimizer of a checkpoint whose header passed checkHeader into `plan`
 * (loadCheckpoint from a file, deserializeCheckpoint from bytes). `instead` ends the error for a
 * checkpoint without an optimizer (what it holds and what to call instead).
 */
function checkpointFromFile(file: SafetensorsFile, plan: Plan, where: string, instead: string): { model: Module; optimizer: Optimizer } {
  const m = plan.optimizer;
  if (!m) throw new Error(`${where}: ${instead}`);
  const model = buildModel(file, plan, where);
  const byName = new Map(model.namedParameters());
  const params = m.paramNames.map((n) => {
    const p = byName.get(n);
    if (!p) throw new Error(`${where}: the optimizer metadata names ${names5([n])}, which is not a parameter of the model (a buffer?)`);
    return p;
  });
  let optimizer: Optimizer;
  try {
    const groups = m.paramGroups.map((g, gi) => {
      if (g === null || typeof g !== 'object' || !Array.isArray(g.params)) throw new Error(`paramGroups[${gi}] must be an object with params, got ${describeValue(g)}`);
      const { params: idx, ...hyper } = g;
      return {
        ...hyper,
        params: idx.map((i, j) => {
          if (!Number.isSafeInteger(i) || i < 0 || i >= params.length) throw new Error(`paramGroups[${gi}].params[${j}] must be a parameter index in [0, ${params.length}), got ${describeValue(i)}`);
          return params[i];
        }),
      };
    });
    optimizer = new OPTIMIZERS[m.type](groups, m.defaults);
  } catch (e) {
    throw new Error(`${where}: cannot rebuild the ${m.type} optimizer: ${(e as Error).message}`, { cause: e });
  }
  applyOptimizer(optimizer, m, file, (n) => byName.get(n)?.shape, where);
  return { model, optimizer };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}

/** Our own errors already start with the op; others get it, keeping `code` and `cause`. */
export function rethrow(op: string, err: unknown): Error {
  const e = err as Error & { code?: string };
  if (typeof e?.message === 'string' && e.message.startsWith(`${op}:`)) return e;
  const out = new Error(`${op}: ${e?.message ?? String(err)}`, { cause: e?.cause ?? err });
  if (typeof e?.code === 'string') (out as Error & { code?: string }).code = e.code;
  return out;
}

function architecture(header: SafetensorsHeader, where: string): ModuleConfig {
  if (header.metadata.format !== FORMAT) {
    throw new Error(
      `${where}: not a fathom model (metadata format is ${JSON.stringify(header.metadata.format ?? null)}, expected "${FORMAT}"); ` +
      'a plain state dict (e.g. PyTorch\'s, saved with safetensors) loads into a model you build: model.loadStateDict(await readStateDict(path))',
    );
  }
  return parseJson(header.metadata['fathom.architecture'] ?? '', `${where}: the architecture metadata`) as ModuleConfig;
}

function expectedShapes(config: ModuleConfig, where: string): ParameterShapes | null {
  try {
    return parameterShapes(config);
  } catch (e) {
    throw new Error(`${where}: cannot rebuild the architecture: ${(e as Error).message}`, { cause: e });
  }
}

/** The tensors less the weight_mask of a weight the architecture has (a pruned model's masks, see lib/prune). */
function withoutMasks<T extends { shape: number[] }>(tensors: Record<string, T>, expected: ParameterShapes): Record<string, T> {
  const masks = new Set(maskNamesIn(tensors, shapeMap(expected)));
  if (masks.size === 0) return tensors;
  const out: Record<string, T> = Object.create(null);
  for (const [n, t] of Object.entries(tensors)) if (!masks.has(n)) out[n] = t;
  return out;
}

/** Up to five names, quoted and escaped (a hostile file's names may hold control characters), then how many more. */
function names5(names: string[]): string {
  const shown = names.slice(0, 5).map((n) => JSON.stringify(n).replace(/[\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return names.length > 5 ? `${shown.join(', ')} and ${names.length - 5} more` : shown.join(', ');
}

/**
 * The file must hold exactly the architecture's parameters and buffers, with the same dtypes (F32 unless said;
 * a dtype the reader converts counts as what it becomes: F16, BF16, F64 as F32, I64 as I32) and shapes.
 */
function checkTensors(file: { tensors: Record<string, { dtype: SafetensorsFileDtype; shape: number[] }> }, expected: ParameterShapes, where: string): void {
  const names = new Set(expected.map(([n]) => n));
  const extra = Object.keys(file.tensors).filter((n) => !names.has(n));
  if (extra.length) throw new Error(`${where}: tensors not in the architecture: ${names5(extra)}`);
  for (const [name, shape, dtype = 'F32'] of expected) {
    const t = file.tensors[name];
    if (!t) throw new Error(`${where}: the architecture needs tensor '${name}' ${fmt(shape)}, which the file lacks`);
    if (decodedDtype(t.dtype) !== dtype) throw new Error(`${where}: tensor '${name}' must be ${dtype}, got ${t.dtype}`);
    if (!sameShape(t.shape, shape)) {
      throw new Error(`${where}: tensor '${name}' has shape ${fmt(t.shape)}, the architecture needs ${fmt(shape)}`);
    }
  }
}

/** Whether a name is the pruning mask of a weight of `shapes` (a shared pruned module's mask may be an alias). */
function maskOfAny(shapes: ParameterShapes): (name: string) => boolean {
  const names = new Set(shapes.map(([n]) => n));
  return (n) => (n === 'weight_mask' || n.endsWith('.weight_mask')) && names.has(n.slice(0, -'_mask'.length));
}

/** Name → shape of a ParameterShapes list. */
function shapeMap(p: ParameterShapes): Map<string, number[]> {
  return new Map(p.map(([n, s]) => [n, s]));
}

function sameParameters(a: ParameterShapes, b: ParameterShapes): boolean {
  return a.length === b.length && a.every(([n, s, d = 'F32'], i) => n === b[i]![0] && sameShape(s, b[i]![1]) && d === (b[i]![2] ?? 'F32'));
}

const list = (p: ParameterShapes): string => `[${p.map(([n, s, d]) => `${n} ${fmt(s)}${d && d !== 'F32' ? ` ${d}` : ''}`).join(', ')}]`;
