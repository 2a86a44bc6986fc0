/**
 * The model as bytes for a worker thread (issue #13): the whole model (modelBytes: what an InferencePool,
 * a BatchingPredictor and a predictAsync worker start from), or, for predictAsync, what changed since the
 * worker last got it (Snapshot: a byte copy of every parameter and buffer, compared at each call).
 */
import { Buffer } from 'node:buffer';
import { Module } from '../layers/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { show } from '../layers/options.js';
import { serialize } from '../io/serialize.js';

/** The op the Snapshot's errors name. */
const OP = 'predictAsync';

/**
 * The model as bytes, a snapshot: serialize(model) now (its refusal renamed for `op`), or a copy of the
 * caller's bytes (a replacement worker starts from them later: the caller may reuse its buffer). @internal
 */
export function modelBytes(op: string, m: Module | Uint8Array): Uint8Array {
  if (m instanceof Module) {
    try {
      return serialize(m);
    } catch (e) {
      throw new Error((e as Error).message.replace(/^fathom\.serialize:/, `fathom.${op}:`), { cause: e });
    }
  }
  if (m instanceof Uint8Array) return m.slice();
  throw new Error(`fathom.${op}: model must be an nn.Module or the bytes of serialize(model), got ${show(m)}`);
}

/** One parameter or buffer as the worker holds it: the model's tensor, a byte view of it, and the snapshot's copy. */
interface Slot {
  name: string;
  tensor: Tensor;
  data: Float32Array | Int32Array;
  view: Buffer;
  copy: Buffer;
}

/**
 * What the worker's model is, exactly: the architecture key and a byte copy of every parameter
 * and buffer. `diff` compares the model with it and says what to send. @internal (exported for tests)
 */
export class Snapshot {
  private key = '';
  private slots: Slot[] = [];

  /** Forgets what the worker holds: the next diff() sends the whole model. */
  reset(): void {
    this.key = '';
    this.slots = [];
  }

  /**
   * Brings the snapshot up to `model` and returns what the worker needs to match it: nothing, the
   * bytes of the tensors that changed, or the whole model (architecture or state keys changed).
   */
  diff(model: Module): { type: 'same' } | { type: 'update'; names: string[]; bytes: Uint8Array[] } | { type: 'model'; bytes: Uint8Array } {
    const state = model.namedState();
    const key = archKey(model, state);
    if (key !== this.key) {
      const bytes = modelBytes(OP, model); // before the snapshot changes: a refused model leaves it as it was
      this.key = key;
      this.slots = state.map(([name, t]) => {
        const view = bytesOf(t, name);
        return { name, tensor: t, data: t.data, view, copy: Buffer.from(view) };
      });
      return { type: 'model', bytes };
    }
    // First every view (what can throw: a tensor whose storage was transferred), then the copies: a
    // refused call changes no copy, so the snapshot never runs ahead of what the worker was sent.
    for (let i = 0; i < state.length; i++) {
      const s = this.slots[i];
      const t = state[i][1];
      if (t !== s.tensor || t.data !== s.data || s.view.length !== t.data.byteLength) {
        // Another tensor of the same name, dtype and shape (a reassigned parameter), new storage, or detached.
        const view = bytesOf(t, s.name);
        s.tensor = t;
        s.data = t.data;
        s.view = view;
      }
    }
    const names: string[] = [];
    const bytes: Uint8Array[] = [];
    for (const s of this.slots) {
      if (!s.view.equals(s.copy)) {
        s.copy.set(s.view);
        names.push(s.name);
        bytes.push(new Uint8Array(s.view)); // its own copy, transferred to the worker
      }
    }
    return names.length ? { type: 'update', names, bytes } : { type: 'same' };
  }
}

/**
 * What forces a whole new model: the architecture, each state tensor's name, dtype and shape, and which
 * names are one tensor (tied weights: the worker's copy is re-tied by deserialize, so an update of one
 * name writes every name tied to it there; tying or untying here must resend the model).
 * Frozen flags are left out: they change no output of predict() (freezing costs nothing here).
 */
function archKey(model: Module, state: [string, Tensor][]): string {
  let config: unknown;
  try {
    config = model.config();
  } catch (e) {
    throw new Error(`fathom.${OP}: ${(e as Error).message}`, { cause: e });
  }
  let key = JSON.stringify(config);
  const first = new Map<Tensor, string>();
  for (const [n, t] of state) {
    const tied = first.get(t);
    if (tied === undefined) first.set(t, n);
    key += `\n${n} ${t.dtype} ${t.shape.join(',')}${tied === undefined ? '' : ` = ${tied}`}`;
  }
  return key;
}

function bytesOf(t: Tensor, name: string): Buffer {
  const d = t.data;
  if (d.byteLength !== t.size * 4) throw new Error(`fathom.${OP}: the model's tensor '${name}' has lost its storage (its ArrayBuffer was transferred)`);
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}
