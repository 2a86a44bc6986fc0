/**
 * save / load a model: weights as safetensors, the architecture as JSON in
 * the header's metadata (`fathom.architecture`), so load() rebuilds the
 * model without any code from the caller. Saving is atomic (temp file +
 * rename); a corrupt, truncated or mismatched file is refused with an error.
 */
import { Module, type ModuleConfig } from '../layers/module.js';
import { fromConfig } from '../layers/registry.js';
import { Tensor } from '../tensor/tensor.js';
import { fmt, sameShape } from '../tensor/shape.js';
import { loadSafetensors, saveSafetensors, type SafeTensor } from './safetensors.js';

const FORMAT = 'fathom.model/1';

export async function save(model: Module, path: string): Promise<void> {
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
  await saveSafetensors(path, tensors, {
    format: FORMAT,
    'fathom.architecture': JSON.stringify(model.config()),
  });
}

export async function load(path: string): Promise<Module> {
  const file = await loadSafetensors(path);
  const where = `fathom.load: ${path}`;
  if (file.metadata.format !== FORMAT) {
    throw new Error(`${where}: not a fathom model (metadata format is ${JSON.stringify(file.metadata.format ?? null)}, expected "${FORMAT}")`);
  }
  let config: ModuleConfig;
  try {
    config = JSON.parse(file.metadata['fathom.architecture'] ?? '');
  } catch {
    throw new Error(`${where}: the architecture metadata is not valid JSON`);
  }
  let model: Module;
  try {
    model = fromConfig(config);
  } catch (e) {
    throw new Error(`${where}: cannot rebuild the architecture: ${(e as Error).message}`);
  }
  const params = model.namedParameters();
  const expected = new Set(params.map(([n]) => n));
  const extra = Object.keys(file.tensors).filter((n) => !expected.has(n));
  if (extra.length) throw new Error(`${where}: tensors not in the architecture: ${extra.join(', ')}`);
  for (const [name, p] of params) {
    const t = file.tensors[name];
    if (!t) throw new Error(`${where}: the architecture needs tensor '${name}' ${fmt(p.shape)}, which the file lacks`);
    if (t.dtype !== 'F32') throw new Error(`${where}: tensor '${name}' must be F32, got ${t.dtype}`);
    if (!sameShape(t.shape, p.shape)) {
      throw new Error(`${where}: tensor '${name}' has shape ${fmt(t.shape)}, the architecture needs ${fmt(p.shape)}`);
    }
  }
  const dict: Record<string, Tensor> = Object.create(null);
  for (const [name] of params) dict[name] = new Tensor(file.tensors[name].data, file.tensors[name].shape);
  model.loadStateDict(dict);
  return model;
}
