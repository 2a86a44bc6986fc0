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
 * cannot make it build a large model.
 *
 * A model that was fitted with a named loss also keeps `fathom.training`
 * ({ loss, accuracy, accuracyThreshold }), so the loaded model's fit() and
 * evaluate() default to it, as Keras's load_model restores the compile config.
 */
import { Module, type ModuleConfig } from '../layers/module.js';
import { fromConfig, parameterShapes, type ParameterShapes } from '../layers/registry.js';
import { Tensor } from '../tensor/tensor.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { loadSafetensors, saveSafetensors, type SafeTensor, type SafetensorsHeader } from './safetensors.js';
import { toPath, type FilePath } from './paths.js';
import { checkTrainingConfig, restoreTrainingConfig, trainingConfig, type TrainingConfig } from '../models/training.js';

const FORMAT = 'fathom.model/1';

/**
 * Saves `model` (architecture + weights) to `path` (a string or a file: URL)
 * as safetensors, atomically: the file is replaced whole or not at all, and
 * temporary files left by killed writers of the same path are removed.
 * Throws `fathom.save: ...` for a non-Module, a bad path, tied weights, or a
 * failed write (`fathom.save: cannot write <path>: <reason> (CODE)`: a
 * missing folder, a read-only folder or file system, a full disk, a folder
 * in the way).
 */
export async function save(model: Module, path: FilePath): Promise<void> {
  const p = toPath(path, 'fathom.save');
  if (!(model instanceof Module)) throw new Error('fathom.save: expected a Module');
  const tensors: Record<string, SafeTensor> = Object.create(null);
  const seen = new Map<Tensor, string>();
  for (const [name, t] of model.namedParameters()) {
    const first = seen.get(t);
    if (first !== undefined) {
      throw new Error(`fathom.save: parameter '${name}' is the same tensor as '${first}' (a shared layer); saving tied weights is not supported yet, and saving them twice would untie them on load`);
    }
    seen.set(t, name);
    tensors[name] = { dtype: 'F32', shape: [...t.shape], data: t.data as Float32Array };
  }
  const metadata: Record<string, string> = { format: FORMAT, 'fathom.architecture': JSON.stringify(model.config()) };
  // The loss a model was fitted with (Keras saves its compile config too); not for a loss function.
  const training = trainingConfig(model);
  if (training) metadata['fathom.training'] = JSON.stringify(training);
  try {
    await saveSafetensors(p, tensors, metadata);
  } catch (err) {
    throw rethrow('fathom.save', err);
  }
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
  // Filled in by the check, which runs before any tensor data is read.
  const plan: { config?: ModuleConfig; expected?: ParameterShapes | null; training?: TrainingConfig } = {};
  let file;
  try {
    file = await loadSafetensors(p, {
      check: (header) => {
        plan.config = architecture(header, where);
        const t = header.metadata['fathom.training'];
        if (t !== undefined) plan.training = checkTrainingConfig(parseJson(t, `${where}: the training metadata`), where);
        plan.expected = expectedShapes(plan.config, where);
        if (plan.expected !== null) checkTensors(header, plan.expected, where);
      },
    });
  } catch (err) {
    throw rethrow('fathom.load', err);
  }

  let model: Module;
  try {
    model = fromConfig(plan.config!);
  } catch (e) {
    throw new Error(`${where}: cannot rebuild the architecture: ${(e as Error).message}`, { cause: e });
  }
  const built: ParameterShapes = model.namedParameters().map(([n, t]) => [n, [...t.shape]]);
  const expected = plan.expected ?? null;
  if (expected === null) {
    // A custom type registered without a shape function: its shapes are only known now.
    checkTensors(file, built, where);
  } else if (!sameParameters(expected, built)) {
    throw new Error(`${where}: the architecture's shape functions predicted parameters ${list(expected)}, but the model built has ${list(built)} (a registerModuleType shape function is wrong)`);
  }
  const dict: Record<string, Tensor> = Object.create(null);
  for (const [name] of built) dict[name] = new Tensor(file.tensors[name]!.data, file.tensors[name]!.shape);
  model.loadStateDict(dict);
  if (plan.training) restoreTrainingConfig(model, plan.training);
  return model;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}

/** Our own errors already start with the op; others get it, keeping `code` and `cause`. */
function rethrow(op: string, err: unknown): Error {
  const e = err as Error & { code?: string };
  if (typeof e?.message === 'string' && e.message.startsWith(`${op}:`)) return e;
  const out = new Error(`${op}: ${e?.message ?? String(err)}`, { cause: e?.cause ?? err });
  if (typeof e?.code === 'string') (out as Error & { code?: string }).code = e.code;
  return out;
}

function architecture(header: SafetensorsHeader, where: string): ModuleConfig {
  if (header.metadata.format !== FORMAT) {
    throw new Error(`${where}: not a fathom model (metadata format is ${JSON.stringify(header.metadata.format ?? null)}, expected "${FORMAT}")`);
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

/** Up to five names, quoted and escaped (a hostile file's names may hold control characters), then how many more. */
function names5(names: string[]): string {
  const shown = names.slice(0, 5).map((n) => JSON.stringify(n).replace(/[\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return names.length > 5 ? `${shown.join(', ')} and ${names.length - 5} more` : shown.join(', ');
}

/** The file must hold exactly the architecture's parameters, F32, with the same shapes. */
function checkTensors(file: { tensors: Record<string, { dtype: string; shape: number[] }> }, expected: ParameterShapes, where: string): void {
  const names = new Set(expected.map(([n]) => n));
  const extra = Object.keys(file.tensors).filter((n) => !names.has(n));
  if (extra.length) throw new Error(`${where}: tensors not in the architecture: ${names5(extra)}`);
  for (const [name, shape] of expected) {
    const t = file.tensors[name];
    if (!t) throw new Error(`${where}: the architecture needs tensor '${name}' ${fmt(shape)}, which the file lacks`);
    if (t.dtype !== 'F32') throw new Error(`${where}: tensor '${name}' must be F32, got ${t.dtype}`);
    if (!sameShape(t.shape, shape)) {
      throw new Error(`${where}: tensor '${name}' has shape ${fmt(t.shape)}, the architecture needs ${fmt(shape)}`);
    }
  }
}

function sameParameters(a: ParameterShapes, b: ParameterShapes): boolean {
  return a.length === b.length && a.every(([n, s], i) => n === b[i]![0] && sameShape(s, b[i]![1]));
}

const list = (p: ParameterShapes): string => `[${p.map(([n, s]) => `${n} ${fmt(s)}`).join(', ')}]`;
