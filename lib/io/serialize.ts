/**
 * serialize / deserialize: a model as bytes, in memory — what save() writes to
 * a file and load() reads back (safetensors, the architecture and training
 * config in the header's metadata, optionally an optimizer's state), for
 * sending a model to a worker thread, another process or a database.
 *
 *   const bytes = serialize(model);                 // Uint8Array
 *   worker.postMessage(bytes, [bytes.buffer]);      // transferred, not copied
 *   const copy = deserialize(bytes);                // a new Module, same weights
 *
 * The bytes are exactly a file save() would write (`fs.writeFileSync(path,
 * serialize(m))` then `load(path)` works, and `deserialize(readFileSync(path))`
 * reads a saved file). deserialize() treats them as hostile with load()'s own
 * checks (lib/io/model.ts: modelFromBytes runs checkHeader, then buildModel): the header is
 * bounded and every declared tensor checked against the buffer's length; the
 * architecture's parameter names, dtypes and shapes are compared with the
 * tensors before any layer is built, so a small buffer cannot make it build a
 * large model.
 */
import { Module } from '../layers/module.js';
import { describeValue } from '../tensor/shape.js';
import { decodeSafetensors } from './safetensors.js';
import { checkpointFromBytes, modelFromBytes, modelToBytes, rethrow, type SaveOptions } from './model.js';
import type { Optimizer } from '../optimizers/optimizer.js';

export type SerializeOptions = SaveOptions;

/**
 * The model (architecture + parameters + buffers such as BatchNorm's running
 * statistics and a pruned model's masks, and the loss it was fitted with) as
 * safetensors bytes; with `{ optimizer }` also the optimizer's state, as
 * save(model, path, { optimizer }) stores it. Synchronous; the bytes are a new
 * buffer (copies of the weights, taken now). Tied weights (a layer used twice,
 * a weight assigned to two modules) are stored once and re-tied by
 * deserialize(), as by save() / load() (lib/io/tied.ts).
 * @throws `fathom.serialize: ...` for a non-Module, a bad option, a module
 *   type without config(), or an optimizer holding parameters that are not
 *   the model's (as save()).
 */
export function serialize(model: Module, options?: SerializeOptions): Uint8Array {
  if (!(model instanceof Module)) throw new Error(`fathom.serialize: expected a Module (the model to serialize, an nn.Module), got ${describeValue(model)}`);
  try {
    return modelToBytes('serialize', model, options);
  } catch (err) {
    throw rethrow('fathom.serialize', err);
  }
}

/**
 * Rebuilds the model serialize() (or save()) wrote: a new Module with the
 * architecture, weights, buffers and training config, its tied weights one
 * Parameter again under all their names; an optimizer part, when
 * present, is checked and ignored (as load() does). The bytes are not kept:
 * the model's tensors are fresh arrays. A Uint8Array (a Buffer is one) or an
 * ArrayBuffer / SharedArrayBuffer.
 * @throws `fathom.deserialize: ...` for anything that is not bytes, or bytes
 *   load() would refuse as a file: not safetensors, truncated or corrupt, not
 *   a fathom model, or tensors that do not match the architecture.
 */
export function deserialize(bytes: Uint8Array | ArrayBuffer | SharedArrayBuffer): Module {
  const where = 'fathom.deserialize';
  const buf = asBytes(where, bytes);
  try {
    return modelFromBytes(buf, where);
  } catch (err) {
    throw rethrow(where, err);
  }
}

function asBytes(where: string, bytes: unknown): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && bytes instanceof SharedArrayBuffer)) return new Uint8Array(bytes);
  throw new Error(`${where}: bytes must be a Uint8Array (what serialize() returns), an ArrayBuffer or a SharedArrayBuffer, got ${describeValue(bytes)}`);
}

/** Whether bytes of serialize(model, { optimizer }) hold an optimizer's state. @internal (fitInWorker) */
export function hasOptimizerState(bytes: Uint8Array): boolean {
  try {
    return decodeSafetensors(bytes).metadata['fathom.optimizer'] !== undefined;
  } catch {
    return false; // deserialize() says what is wrong with them
  }
}

/**
 * The in-memory twin of loadCheckpoint(path): rebuilds the model AND the optimizer that
 * serialize(model, { optimizer }) wrote (its class, parameter groups over the new model's
 * parameters, hyper-parameters, state and step count), so training resumes bit-exactly.
 * The bytes get deserialize()'s checks (which include the optimizer part's names, dtypes and
 * shapes), then the optimizer's own loadStateDict checks.
 * @throws `fathom.deserializeCheckpoint: ...` for anything deserialize() refuses, bytes without an
 *   optimizer part (deserialize() reads those), or an optimizer part that cannot be rebuilt.
 */
export function deserializeCheckpoint(bytes: Uint8Array | ArrayBuffer | SharedArrayBuffer): { model: Module; optimizer: Optimizer } {
  const where = 'fathom.deserializeCheckpoint';
  const buf = asBytes(where, bytes);
  try {
    return checkpointFromBytes(buf, where);
  } catch (err) {
    throw rethrow(where, err);
  }
}
