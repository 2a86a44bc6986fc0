/**
 * model.predictAsync(x): predict() off the JS thread, with the weights as they are AT THE CALL.
 *
 *   const y = await model.predictAsync(x);          // any Module, graph models (nn.Model) too
 *   const [a, b] = await graph.predictAsync<Tensor[]>({ image, meta });
 *
 * Semantics: the promise resolves with exactly what `predict(model', x', options)` returns, where
 * model' = deserialize(serialize(model)) taken at the call and x' a copy of x taken at the call. So
 * the caller may change the model (fit, optimizer.step, loadStateDict, a write into `.data`,
 * freezing, pruning) or mutate / transfer x's buffer as soon as predictAsync has returned its
 * promise: the answer is computed from what they were at the call, never from a later or earlier
 * state (calls resolve in call order). What serialize() does not capture — a custom layer's plain JS
 * property outside config() — is not seen either (the worker rebuilds layers from config()).
 *
 * Design (measured, see the README): one worker thread per model, kept in a WeakMap and reused by
 * every call. The worker holds its own copy of the model; this thread keeps a second copy (the
 * snapshot: every parameter and buffer's bytes) to know exactly what the worker holds. Each call
 *   1. checks the architecture: JSON of model.config(), and the state's names, dtypes and shapes
 *      (a model walk, a few µs); any difference sends the whole model (serialize()). Frozen flags
 *      change no prediction and are not compared;
 *   2. compares every parameter and buffer with the snapshot byte for byte (Buffer.equals: memcmp,
 *      ~25 µs per MB; 1 MB for the MNIST MLP) and, for each one that differs, copies it into the
 *      snapshot and sends its bytes (transferred) to the worker, which writes them into its copy;
 *   3. copies x (one copy, transferred) and posts the request.
 * The worker handles messages in order, so each request sees exactly the updates posted before it.
 * The output's buffer is transferred back (no copy). Detection is exact (bytes, not version
 * counters): -0 vs 0 or a NaN payload counts as a change; nothing is ever missed.
 *
 * Cost: per call, the check (step 1 + 2) plus a message round trip (~50-100 µs); when weights
 * changed, one or two copies of the changed tensors; the first call (and the first after the worker
 * was closed) starts a worker (~100-200 ms: a thread, fathom's imports, the model's bytes). Memory:
 * two extra copies of the weights (the snapshot here, the worker's model). For many small requests
 * a BatchingPredictor is faster; for a model that should not be compared per call, an InferencePool
 * (an explicit snapshot, swapped with setModel).
 *
 * Lifetime: the worker does not keep the process alive while it has no request outstanding
 * (unref), and it is closed after `idleTimeoutMs` without requests (default 5000 ms; the next call
 * starts a new one), so a script ends by itself without any close() (a call refused on this thread —
 * a bad x or option, a model serialize() refuses — starts no worker). Each model has its own worker (a
 * thread and a V8 heap: ~15-20 MB of RSS while it lives). `serve.closeWorkers()`
 * ends them at once (e.g. at shutdown, or in tests). A worker that dies rejects its outstanding
 * requests; the next call starts a new one.
 */
import { Buffer } from 'node:buffer';
import { Worker } from 'node:worker_threads';
import { Module } from '../layers/module.js';
import { Tensor } from '../tensor/tensor.js';
import { backend } from '../backend/index.js';
import { checkOptions, show, type OptionSpec } from '../layers/options.js';
import { serialize } from '../io/serialize.js';
import type { Tensors } from '../models/multi.js';
import { closeIdleFitWorkers, liveWorkers, workerError, workerImports, workerScript } from './fit.js';
import { asyncPredict } from './hook.js';
import type { WireTensor, WireTensors } from './share.js';

export interface PredictAsyncOptions {
  /** Rows per forward pass inside the worker (predict's batchSize). Default 256. */
  batchSize?: number;
  /**
   * Modules the worker imports before it answers (custom layers' registerModuleType), as fitInWorker's
   * `imports`: absolute `file:` URLs, absolute paths or package names. Each is imported once per worker
   * and stays imported for the worker's life (later calls need not repeat it); a call that adds new ones
   * sends the whole model again, rebuilt after them (so a model the worker could not rebuild before
   * — "unknown module type" — is rebuilt with the weights as they are at that call).
   */
  imports?: (string | { href: string })[];
  /**
   * Milliseconds without a request after which this model's worker is closed (>= 0; default 5000).
   * Kept for the model's worker: later calls without it keep the last value given.
   */
  idleTimeoutMs?: number;
}

/** What the predict worker is started with. @internal */
export interface PredictInit {
  bytes: Uint8Array;
  backend: 'native' | 'ts';
  imports: string[];
}
/** Messages to the predict worker, handled in order. @internal */
export type PredictIn =
  | { type: 'model'; bytes: Uint8Array }
  | { type: 'update'; names: string[]; bytes: Uint8Array[] }
  | { type: 'imports'; imports: string[] }
  | { type: 'backend'; backend: 'native' | 'ts' }
  | { type: 'predict'; id: number; x: WireTensors; batchSize?: number };
/** Messages from the predict worker. @internal */
export type PredictOut =
  | { type: 'result'; id: number; outputs: WireTensor[]; list: boolean }
  | { type: 'error'; id: number; name: string; message: string; stack?: string }
  | { type: 'fatal'; name: string; message: string; stack?: string };

const OPTIONS: OptionSpec = { batchSize: 'number', imports: 'array', idleTimeoutMs: 'number' };
const OP = 'predictAsync';
const DEFAULT_IDLE_MS = 5000;

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
      const bytes = serializeChecked(model); // before the snapshot changes: a refused model leaves it as it was
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
 * What forces a whole new model: the architecture, and each state tensor's name, dtype and shape.
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
  for (const [n, t] of state) key += `\n${n} ${t.dtype} ${t.shape.join(',')}`;
  return key;
}

function bytesOf(t: Tensor, name: string): Buffer {
  const d = t.data;
  if (d.byteLength !== t.size * 4) throw new Error(`fathom.${OP}: the model's tensor '${name}' has lost its storage (its ArrayBuffer was transferred)`);
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

interface Pending {
  resolve: (y: Tensor | Tensor[]) => void;
  reject: (e: unknown) => void;
}

/** One model's worker and what it holds. */
class Entry {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private imported: Set<string>;
  private backendName: 'native' | 'ts';
  private timer?: ReturnType<typeof setTimeout>;
  idleMs = DEFAULT_IDLE_MS;
  dead?: Error;

  constructor(readonly model: WeakRef<Module>, readonly snapshot: Snapshot, bytes: Uint8Array, imports: string[]) {
    this.backendName = backend().name;
    this.imported = new Set(imports);
    const init: PredictInit = { bytes, backend: this.backendName, imports };
    this.worker = new Worker(workerScript('predict-worker.js', OP), { workerData: init, transferList: [bytes.buffer as ArrayBuffer] });
    liveWorkers.add(this.worker);
    open.add(this);
    this.worker.on('message', (m: PredictOut) => this.onMessage(m));
    this.worker.once('error', (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
    this.worker.once('exit', (code) => {
      liveWorkers.delete(this.worker);
      this.fail(new Error(`fathom.${OP}: the model's worker exited (code ${code})${this.pending.size ? ` with ${this.pending.size} request(s) outstanding` : ''}`));
    });
    // After the 'message' listener: adding one refs the worker's port again (Node 20), and a worker
    // ref'd with no request outstanding would keep the process alive for ever.
    this.worker.unref();
  }

  /** Posts what the worker needs before this request (imports, backend, weights), then the request. */
  request(model: Module, [wire, transfer]: [WireTensors, ArrayBuffer[]], batchSize: number | undefined, imports: string[]): Promise<Tensor | Tensor[]> {
    // Everything that can throw happens before anything is posted, x (copied by the caller) first:
    // once diff() has updated the snapshot, what it returns must reach the worker.
    const newImports = imports.filter((i) => !this.imported.has(i));
    // New imports (e.g. the module that registers a custom layer the worker could not rebuild) go
    // with the whole model, rebuilt after them: the worker's copy may have failed to load, and
    // the updates sent since then were not applied to anything.
    if (newImports.length) this.snapshot.reset();
    const change = this.snapshot.diff(model);
    if (newImports.length) {
      for (const i of newImports) this.imported.add(i);
      this.post({ type: 'imports', imports: newImports });
    }
    const name = backend().name;
    if (name !== this.backendName) {
      this.backendName = name;
      this.post({ type: 'backend', backend: name });
    }
    if (change.type === 'model') this.post({ type: 'model', bytes: change.bytes }, [change.bytes.buffer as ArrayBuffer]);
    else if (change.type === 'update') this.post({ type: 'update', names: change.names, bytes: change.bytes }, change.bytes.map((b) => b.buffer as ArrayBuffer));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) {
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        this.worker.ref();
      }
      this.pending.set(id, { resolve, reject });
      this.post({ type: 'predict', id, x: wire, batchSize }, transfer);
    });
  }

  private post(m: PredictIn, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(m, transfer);
  }

  private onMessage(m: PredictOut): void {
    if (m.type === 'fatal') {
      this.fail(workerError({ type: 'error', name: m.name, message: m.message, stack: m.stack }));
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.settled(m.id);
    if (m.type === 'error') p.reject(workerError(m));
    else {
      const ts = m.outputs.map((o) => Tensor.from(o));
      p.resolve(m.list ? ts : ts[0]);
    }
  }

  private settled(id: number): void {
    this.pending.delete(id);
    if (this.pending.size > 0 || this.dead) return;
    this.worker.unref();
    this.timer = setTimeout(() => void this.close(), this.idleMs);
    this.timer.unref();
  }

  /** The worker failed or exited: its requests reject, and the model's next call starts a new one. */
  private fail(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    this.forget();
    for (const [id, p] of [...this.pending]) {
      this.pending.delete(id);
      p.reject(err);
    }
    void this.worker.terminate();
  }

  private forget(): void {
    if (this.timer) clearTimeout(this.timer);
    open.delete(this);
    const m = this.model.deref();
    if (m && entries.get(m) === this) entries.delete(m);
  }

  /** Ends the worker once its outstanding requests are answered. */
  async close(): Promise<void> {
    this.forget();
    if (this.pending.size > 0) {
      await Promise.allSettled([...this.pending.values()].map((p) => new Promise<void>((r) => {
        const { resolve, reject } = p;
        p.resolve = (y) => { resolve(y); r(); };
        p.reject = (e) => { reject(e); r(); };
      })));
    }
    this.dead ??= new Error(`fathom.${OP}: the model's worker was closed`);
    await this.worker.terminate();
  }
}

const entries = new WeakMap<Module, Entry>();
/** Every open worker (closeWorkers ends them; an idle one removes itself). */
const open = new Set<Entry>();

/** x copied now, as it crosses to the worker (each tensor's copy transferred, not copied again). */
function copyInput(x: Tensors): [WireTensors, ArrayBuffer[]] {
  const transfer: ArrayBuffer[] = [];
  const one = (t: unknown, what: string): WireTensor => {
    if (!(t instanceof Tensor)) throw new Error(`fathom.${OP}: ${what} must be a Tensor, got ${show(t)}`);
    const d = t.data;
    if (d.byteLength !== t.size * 4) throw new Error(`fathom.${OP}: ${what} has lost its storage (its ArrayBuffer was transferred)`);
    const data = d.slice();
    transfer.push(data.buffer as ArrayBuffer);
    return { data, shape: [...t.shape] };
  };
  if (x instanceof Tensor) return [one(x, 'x'), transfer];
  if (Array.isArray(x)) return [x.map((t, i) => one(t, `x[${i}]`)), transfer];
  if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    const out: Record<string, WireTensor> = {};
    for (const [k, t] of Object.entries(x)) out[k] = one(t, `x.${k}`);
    return [out, transfer];
  }
  throw new Error(`fathom.${OP}: x must be a Tensor, or for a model of several inputs a list or an object of Tensors, got ${show(x)}`);
}

/**
 * model.predictAsync(x, options): see the top of this file.
 * @throws (rejects) `fathom.predictAsync: ...` for a non-Module, a bad x (not a Tensor, a list or an
 *   object of them; a buffer transferred away), bad options, or a model serialize() refuses; with the
 *   worker's error (`fathom.predict: ...`) for x that does not fit the model; with the reason a
 *   worker failed (a module in `imports` that cannot be loaded, a worker that exited).
 */
export function predictAsyncOf(model: Module, x: Tensors, options?: PredictAsyncOptions): Promise<Tensor | Tensor[]> {
  try {
    if (!(model instanceof Module)) throw new Error(`fathom.${OP}: model must be an nn.Module, got ${show(model)}`);
    const opts = checkOptions<PredictAsyncOptions>(OP, options, OPTIONS);
    const { batchSize, idleTimeoutMs } = opts;
    if (batchSize !== undefined && !(Number.isSafeInteger(batchSize) && batchSize >= 1)) throw new Error(`fathom.${OP}: options.batchSize must be an integer >= 1, got ${show(batchSize)}`);
    if (idleTimeoutMs !== undefined && !(Number.isFinite(idleTimeoutMs) && idleTimeoutMs >= 0 && idleTimeoutMs <= 2 ** 31 - 1)) {
      throw new Error(`fathom.${OP}: options.idleTimeoutMs must be a number of milliseconds in [0, 2^31 - 1], got ${show(idleTimeoutMs)}`);
    }
    const imports = workerImports(OP, opts.imports);
    const input = copyInput(x); // before any worker starts: a refused x starts none
    let entry = entries.get(model);
    if (!entry || entry.dead) {
      // The first call: the whole model goes with the worker's start (the snapshot starts from it).
      const snapshot = new Snapshot();
      const first = snapshot.diff(model);
      if (first.type !== 'model') throw new Error(`fathom.${OP}: internal: a new snapshot must start from the whole model`);
      const fresh = new Entry(new WeakRef(model), snapshot, first.bytes, imports);
      entries.set(model, fresh);
      entry = fresh;
    }
    if (idleTimeoutMs !== undefined) entry.idleMs = idleTimeoutMs;
    return entry.request(model, input, batchSize, imports);
  } catch (e) {
    return Promise.reject(e);
  }
}

function serializeChecked(model: Module): Uint8Array {
  try {
    return serialize(model);
  } catch (e) {
    throw new Error((e as Error).message.replace(/^fathom\.serialize:/, `fathom.${OP}:`), { cause: e });
  }
}

/**
 * Ends fathom's idle worker threads at once: `model`'s predictAsync worker, or (no argument) every
 * predictAsync worker and the idle fitInWorker workers kept warm between calls. A predictAsync worker
 * first answers the requests it has already received. Never needed for a process to exit (idle
 * workers are unref'd and close themselves after their idleTimeoutMs); for shutting down now, and
 * for tests that count threads.
 * @throws (rejects) `fathom.closeWorkers: ...` for a model that is not an nn.Module.
 */
export async function closeWorkers(model?: Module): Promise<void> {
  if (model !== undefined && !(model instanceof Module)) throw new Error(`fathom.closeWorkers: model must be an nn.Module or undefined, got ${show(model)}`);
  const list = model === undefined ? [...open] : [entries.get(model)].filter((e): e is Entry => e !== undefined);
  await Promise.all([...list.map((e) => e.close()), model === undefined ? closeIdleFitWorkers() : undefined]);
}

/** Whether `model` has a predictAsync worker now (tests). @internal */
export function hasPredictWorker(model: Module): boolean {
  const e = entries.get(model);
  return e !== undefined && !e.dead;
}

asyncPredict.run = predictAsyncOf;
