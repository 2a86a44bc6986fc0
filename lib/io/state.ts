/**
 * Plain state dicts in safetensors files: name → tensor, no architecture.
 * This is how weights travel between fathom and PyTorch, whose layer names
 * and layouts fathom's layers share (see lib/layers/conv.ts and norm.ts):
 *
 *   # PyTorch
 *   from safetensors.torch import save_file
 *   save_file(model.state_dict(), "cnn.safetensors")
 *
 *   // fathom: build the same architecture, then load by name
 *   const model = new nn.Sequential(new nn.Conv2d(1, 8, 3), new nn.BatchNorm2d(8), ...);
 *   model.loadStateDict(await readStateDict('cnn.safetensors'));
 *
 * and back: `await writeStateDict(model, 'cnn.safetensors')`, then in PyTorch
 * `model.load_state_dict(safetensors.torch.load_file("cnn.safetensors"))`.
 *
 * Dtypes read: F32, I32 as they are; F16, BF16 (exactly) and F64 (rounded) as
 * float32; I64 as int32 when every value fits (BatchNorm's num_batches_tracked
 * is int64 in PyTorch), else the file is refused. Dtypes written: F32 and I32.
 * num_batches_tracked is written as I32: PyTorch's load_state_dict copies it
 * into its int64 buffer (Tensor.copy_ casts), so the file loads there with
 * strict=True; test/nn/fixtures/torch-cnn.py --check does exactly that.
 *
 * fathom's own save()/load() keep the architecture too (load() rebuilds the
 * model); use these when the model is built in code, as in PyTorch.
 */
import { Module } from '../layers/module.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue, fmt } from '../tensor/shape.js';
import { loadSafetensors, saveSafetensors, type SafeTensor } from './safetensors.js';
import { toPath, type FilePath } from './paths.js';
import { rethrow } from './model.js';

/**
 * Reads every tensor of a safetensors file (a string path or a file: URL) as
 * a name → Tensor record with a null prototype, in the file's header order:
 * float32 tensors for F32, F16, BF16 and F64; int32 for I32 and I64. Metadata
 * is ignored. The result is what `model.loadStateDict(dict)` takes, which
 * checks that the names, dtypes and shapes match the model exactly (and
 * changes nothing when they do not). Never modifies the file.
 * @throws `fathom.readStateDict: ...` for a bad path, a file that is not a
 *   regular file or not safetensors, a corrupt or truncated one, a dtype
 *   fathom cannot hold (BOOL, U8, ...), an I64 value outside int32 or a
 *   finite F64 value beyond float32 (naming the tensor, dtype, index, value).
 */
export async function readStateDict(path: FilePath): Promise<Record<string, Tensor>> {
  const op = 'fathom.readStateDict';
  const p = toPath(path, op);
  let file;
  try {
    file = await loadSafetensors(p);
  } catch (err) {
    throw rethrow(op, err);
  }
  const dict: Record<string, Tensor> = Object.create(null);
  for (const [name, t] of Object.entries(file.tensors)) dict[name] = new Tensor(t.data, t.shape);
  return dict;
}

/**
 * Writes a state dict as safetensors to `path` (a string or a file: URL),
 * atomically (the file is replaced whole or not at all): a Module's
 * stateDict() (parameters and buffers, by their PyTorch names), or a
 * name → Tensor record. float32 tensors as F32, int32 as I32 (so
 * num_batches_tracked is I32; PyTorch's load_state_dict accepts it).
 * `metadata` (string → string) goes into the header; default
 * `{ format: 'pt' }`, the tag PyTorch tools (transformers) look for.
 * @throws `fathom.writeStateDict: ...` for a source that is neither, a
 *   value that is not a float32 or int32 Tensor, the same tensor under two
 *   names (tied weights: safetensors' save_file refuses shared tensors too and
 *   points to save_model; fathom's save() stores them once and re-ties them),
 *   bad metadata, or a failed write (`cannot write <path>: <reason> (CODE)`).
 */
export async function writeStateDict(
  source: Module | Record<string, Tensor>,
  path: FilePath,
  metadata: Record<string, string> = { format: 'pt' },
): Promise<void> {
  const op = 'fathom.writeStateDict';
  const p = toPath(path, op);
  let entries: [string, Tensor][];
  if (source instanceof Module) entries = source.namedState();
  else if (source !== null && typeof source === 'object' && !Array.isArray(source) && !(source instanceof Tensor)) entries = Object.entries(source);
  else throw new Error(`${op}: expected a Module or a name → Tensor record, got ${describeValue(source)}`);
  const tensors: Record<string, SafeTensor> = Object.create(null);
  const seen = new Map<Tensor, string>();
  for (const [name, t] of entries) {
    if (!(t instanceof Tensor)) throw new Error(`${op}: '${name}' must be a Tensor, got ${describeValue(t)}`);
    const first = seen.get(t);
    if (first !== undefined) {
      // As safetensors' save_file, which points to save_model for a model with shared tensors.
      const instead = source instanceof Module ? ', or save the model with fathom.save(model, path), which stores it once and re-ties it on load' : '';
      throw new Error(`${op}: '${name}' is the same tensor as '${first}' (tied weights); write one of the names${instead}`);
    }
    seen.set(t, name);
    if (t.dtype === 'float32') tensors[name] = { dtype: 'F32', shape: [...t.shape], data: t.data as Float32Array };
    else if (t.dtype === 'int32') tensors[name] = { dtype: 'I32', shape: [...t.shape], data: t.data as Int32Array };
    else throw new Error(`${op}: '${name}' must be a float32 or int32 Tensor, got ${t.dtype} ${fmt(t.shape)}`);
  }
  try {
    await saveSafetensors(p, tensors, metadata);
  } catch (err) {
    throw rethrow(op, err);
  }
}
