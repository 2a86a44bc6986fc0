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
 *   3. copies x (one copy, transferred) and queues the request behind what step 2 must send first.
 * Requests wait on this thread, in call order, and are handed to the worker a few at a time: at least two
 * (the one computing and the next, already in the worker's port), more while they add up to less than
 * ~2 ms of the worker's time (its measured time per request), at most 64; the worker handles messages in order, so each request sees exactly the updates queued before it. The
 * output's buffer is transferred back (no copy). Detection is exact (bytes, not version counters): -0 vs
 * 0 or a NaN payload counts as a change; nothing is ever missed.
 *
 * Cancellation: `{ signal }` removes a request that has not been handed over yet (it waits for the
 * worker to start, for a worker under the cap, or behind the model's earlier requests) and rejects it
 * with `signal.reason`; a handed request completes normally. The weight updates queued before a
 * cancelled request still reach the worker (the later requests need them).
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
 * a bad x or option, an aborted signal, a model serialize() refuses — starts no worker). Each model has
 * its own worker (a thread and a V8 heap: ~17 MB of RSS while it lives), and at most
 * `serve.setMaxPredictWorkers(n)` of them live at once (default max(4, os.availableParallelism())):
 * a model that needs one beyond the cap ends the least recently used idle one, or waits until one is
 * idle. While a model waits, the other models' workers take no request made after it began waiting,
 * so they become idle in turn (no model waits for ever behind a busy one); a worker ended with requests
 * still queued here first sends back its model as it holds it, and those requests start a new worker from
 * it when their turn comes (each answer is still for the weights at its call). `serve.closeWorkers()`
 * answers what was asked, then ends them (e.g. at shutdown, or in tests). A worker that dies rejects
 * its outstanding and queued requests; the next call starts a new one.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Module } from '../layers/module.js';
import { Tensor } from '../tensor/tensor.js';
import { backend } from '../backend/index.js';
import { checkOptions, show, type OptionSpec } from '../layers/options.js';
import type { Tensors } from '../models/multi.js';
import { closeIdleFitWorkers, liveWorkers, workerError, workerExecArgv, workerImports, workerScript, type AbortSignalLike } from './fit.js';
import { asyncPredict } from './hook.js';
import { Snapshot } from './model-bytes.js';
import { SignalWatchers, checkTimeoutMs, isAbortSignal, type WireError, type WireTensor, type WireTensors } from './share.js';

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
  /**
   * Cancels the request while it waits on this thread: for the model's worker to start (or, under
   * setMaxPredictWorkers' cap, for a worker at all), or behind the model's earlier requests. Aborting
   * then removes it and rejects with `signal.reason` (an already aborted signal rejects at once, starting
   * nothing). Once handed to the worker it completes normally: a forward pass is not interrupted (as
   * BatchingPredictor.predict's `signal`). A worker is handed at least two requests at a time (the one
   * computing and the next), more while they add up to under ~2 ms of its measured time per request (at
   * most 64), so what remains cancellable is everything behind about 2 ms of work. Many calls may share one signal: it gets one 'abort' listener, removed when none of them
   * waits any more.
   */
  signal?: AbortSignalLike;
  /**
   * Longest this request may go unanswered once handed to the model's worker, in milliseconds (a finite
   * number > 0; default: no limit). When it runs out, the worker is ended (a custom layer stuck in a loop)
   * and this request, the others handed to it and those waiting for it reject with an Error saying so; the
   * model's next call starts a new worker. Without it, a forward pass that never ends keeps its worker, and
   * closeWorkers() waits for it. (InferencePool's and BatchingPredictor's `timeoutMs` do the same for theirs.)
   * The clock starts at the hand-off: a request still waiting on this thread is not timed (for a deadline
   * on the whole call, pass `signal: AbortSignal.timeout(ms)` as well).
   */
  timeoutMs?: number;
}

/** What the predict worker is started with. @internal */
export interface PredictInit {
  /** The model; absent when the worker it replaces held none (it starts with `error` instead). */
  bytes?: Uint8Array;
  error?: WireError;
  backend: 'native' | 'ts';
  imports: string[];
}
/** Messages to the predict worker, handled in order. @internal */
export type PredictIn =
  | { type: 'model'; bytes: Uint8Array }
  | { type: 'update'; names: string[]; bytes: Uint8Array[] }
  | { type: 'imports'; imports: string[] }
  | { type: 'backend'; backend: 'native' | 'ts' }
  | { type: 'predict'; id: number; x: WireTensors; batchSize?: number }
  /** Send back the model as held now (serialize), for the worker that replaces this one. */
  | { type: 'export' };
/** Messages from the predict worker. @internal */
export type PredictOut =
  | { type: 'ready' }
  | { type: 'exported'; bytes?: Uint8Array; error?: WireError }
  | { type: 'result'; id: number; outputs: WireTensor[]; list: boolean; ms: number }
  | { type: 'error'; id: number; name: string; message: string; stack?: string; ms: number }
  | { type: 'fatal'; name: string; message: string; stack?: string };

const OPTIONS: OptionSpec = { batchSize: 'number', imports: 'array', idleTimeoutMs: 'number', signal: 'object', timeoutMs: 'number' };
const OP = 'predictAsync';
const DEFAULT_IDLE_MS = 5000;

/** One call: x (copied at the call), how to answer it, and its place in the process-wide call order. */
interface Request {
  /** Call order over every model (seq): who waited first when workers are capped. */
  seq: number;
  entry: Entry;
  x: WireTensors;
  transfer: ArrayBuffer[];
  batchSize?: number;
  resolve: (y: Tensor | Tensor[]) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignalLike;
  /** options.timeoutMs, and its clock once handed (pump). */
  timeoutMs?: number;
  timer?: ReturnType<typeof setTimeout>;
}
/** What waits on this thread for the worker, in order: a request, or a message that must reach the worker before the requests after it. */
type Item = { kind: 'request'; r: Request } | { kind: 'message'; m: PredictIn; transfer: ArrayBuffer[] };

/**
 * How many requests are handed to a worker before they are answered (the rest wait on this thread,
 * cancellable): always up to MIN_HANDED (one computing, the next already in its port, so the worker never
 * waits for a round trip), then more while the work handed stays under `handedMs` by the worker's measured
 * time per request, up to MAX_HANDED. Cheap requests then go in bulk: with two handed at most, 64
 * concurrent batch-1 callers of the MNIST MLP got 7.9k requests/s against 9.7k with all handed (medians
 * of 5 interleaved runs, 2 loaded cores), because the worker slept between requests while this thread ran
 * other callers; an expensive request still waits here, cancellable, behind ~handedMs of work.
 */
const MIN_HANDED = 2;
const MAX_HANDED = 64;
/** The hand-off budget in milliseconds of the worker's time (see MIN_HANDED); tests set it. @internal */
export const predictAsyncTuning = { handedMs: 2 };

/**
 * One model's worker and what it holds. The requests wait here (`queue`, in call order, with the weight
 * updates between them) until handed to the worker; at most MAX_HANDED are handed at a time. An entry is
 *   waiting   — no worker: `start` holds the model it will start from; it is in `waiters` until a slot is free;
 *   starting  — a worker, not ready yet (it imports, rebuilds the model, then posts 'ready');
 *   ready     — requests are handed to it;
 *   exporting — evicted while requests wait here: the worker sends back its model as it holds it (every
 *               message posted so far applied), exits, and the entry waits for a slot with those bytes;
 *   leaving   — terminate() called (idle, evicted idle, closed, failed); `open` forgets it at 'exit'.
 */
class Entry {
  worker?: Worker;
  private ready = false;
  private queue: Item[] = [];
  /** Requests in `queue`. */
  queued = 0;
  readonly handed = new Map<number, Request>();
  private nextId = 1;
  /** The worker's time per request, ms (a moving average of what it reports; unknown before the first answer). */
  private msPerRequest?: number;
  /** The imports and backend the worker holds once every QUEUED message is handled (what a new call compares with). */
  private imported: Set<string>;
  private backendName: 'native' | 'ts';
  /** The same once every POSTED message is handled: what a restarted worker starts with. */
  private sentImports: Set<string>;
  private sentBackend: 'native' | 'ts';
  /** The model a worker not started yet starts from (bytes, or the error its predecessor held instead of a model). */
  private start?: { bytes?: Uint8Array; error?: WireError };
  private timer?: ReturnType<typeof setTimeout>;
  idleMs = DEFAULT_IDLE_MS;
  /** Set when the entry is done for (closed or failed): the model's next call makes a new one. */
  dead?: Error;
  /** seq of the model's latest call (least recently used: the lowest). */
  lastUsed = 0;
  /** seq when it joined `waiters`: requests of other models made later are not handed while it waits. */
  waitingSince = 0;
  /** seq when it got its worker: every request made until then is handed regardless of waiters. */
  private passUntil = 0;
  exporting = false;
  leaving = false;
  closing = false;
  /** closeWorkers waits for this entry's end: its worker keeps the process alive until it has exited. */
  private awaited = false;
  /** Whether the worker is ref'd now (new: ref'd), so ref() / unref() are called on changes only. */
  private refd = true;
  private done?: Promise<void>;
  private finish?: () => void;

  constructor(readonly model: WeakRef<Module>, readonly snapshot: Snapshot, bytes: Uint8Array, imports: string[]) {
    this.backendName = this.sentBackend = backend().name;
    this.imported = new Set(imports);
    this.sentImports = new Set(imports);
    this.start = { bytes };
    open.add(this);
  }

  /**
   * Queues what the worker needs before this request (imports, backend, weights), then the request, and
   * hands them over as soon as the worker can take them.
   */
  request(model: Module, [wire, transfer]: [WireTensors, ArrayBuffer[]], batchSize: number | undefined, imports: string[], signal: AbortSignalLike | undefined, timeoutMs?: number): Promise<Tensor | Tensor[]> {
    // Everything that can throw happens before anything is queued, x (copied by the caller) first:
    // once diff() has updated the snapshot, what it returns must reach the worker.
    const newImports = imports.filter((i) => !this.imported.has(i));
    // New imports (e.g. the module that registers a custom layer the worker could not rebuild) go
    // with the whole model, rebuilt after them: the worker's copy may have failed to load, and
    // the updates sent since then were not applied to anything.
    if (newImports.length) this.snapshot.reset();
    const change = this.snapshot.diff(model);
    const items: Item[] = [];
    if (newImports.length) {
      for (const i of newImports) this.imported.add(i);
      items.push({ kind: 'message', m: { type: 'imports', imports: newImports }, transfer: [] });
    }
    const name = backend().name;
    if (name !== this.backendName) {
      this.backendName = name;
      items.push({ kind: 'message', m: { type: 'backend', backend: name }, transfer: [] });
    }
    if (change.type === 'model') items.push({ kind: 'message', m: { type: 'model', bytes: change.bytes }, transfer: [change.bytes.buffer as ArrayBuffer] });
    else if (change.type === 'update') items.push({ kind: 'message', m: { type: 'update', names: change.names, bytes: change.bytes }, transfer: change.bytes.map((b) => b.buffer as ArrayBuffer) });
    return new Promise((resolve, reject) => {
      const r: Request = { seq: ++calls, entry: this, x: wire, transfer, batchSize, resolve, reject, signal, timeoutMs };
      this.lastUsed = r.seq;
      this.queue.push(...items, { kind: 'request', r });
      this.queued++;
      if (signal) watchers.watch(r, signal);
      if (this.worker) {
        this.pump();
        this.settle();
        if (this.handed.size === 0) rebalance(); // held back for a waiting model: evictable
      } else if (!this.exporting && !waiters.includes(this)) this.wait();
    });
  }

  /** Hands queued requests (and the messages before them) to a ready worker, up to MAX_HANDED outstanding. */
  pump(): void {
    if (!this.worker || !this.ready || this.exporting || this.leaving) return;
    while (this.queue.length > 0) {
      const it = this.queue[0];
      if (it.kind === 'message') {
        this.queue.shift();
        this.post(it.m, it.transfer);
        continue;
      }
      const r = it.r;
      if (!this.mayHand() || this.blocked(r)) break;
      this.queue.shift();
      this.queued--;
      if (r.signal) watchers.unwatch(r, r.signal); // handed over: no longer cancellable
      const id = this.nextId++;
      this.handed.set(id, r);
      if (r.timeoutMs !== undefined) this.arm(id, r, r.timeoutMs);
      this.post({ type: 'predict', id, x: r.x, batchSize: r.batchSize }, r.transfer);
    }
  }

  /** Starts handed request id's timeoutMs clock: unanswered when it runs out, the worker is ended (fail). */
  private arm(id: number, r: Request, ms: number): void {
    r.timer = setTimeout(() => {
      if (this.handed.get(id) !== r) return;
      this.fail(new Error(`fathom.${OP}: no answer within timeoutMs = ${ms} ms; the model's worker was ended, and the requests handed to it or waiting for it are rejected`));
    }, ms);
    r.timer.unref?.(); // the worker keeps the process alive while it holds the request, not this clock
  }

  /** Whether one more request may be handed to the worker (see MIN_HANDED). */
  private mayHand(): boolean {
    const n = this.handed.size;
    if (n < MIN_HANDED) return true;
    return n < MAX_HANDED && this.msPerRequest !== undefined && (n + 1) * this.msPerRequest <= predictAsyncTuning.handedMs;
  }

  /**
   * Whether r must wait for another model: while a model waits for a worker (the cap is reached) and no
   * slot is being freed for it yet, the requests made after it began waiting are not handed, so this
   * worker becomes idle and can be evicted (a steady stream of calls to one model would otherwise keep the
   * other waiting for ever). Once enough workers are ending for the waiting models, the others go on. A
   * closing entry hands everything (it leaves once done).
   */
  private blocked(r: Request): boolean {
    if (this.closing || waiters.length === 0 || r.seq <= this.passUntil || r.seq <= waiters[0].waitingSince) return false;
    let freeing = 0;
    for (const e of live) if (e.leaving || e.exporting || e.closing) freeing++;
    return freeing < waiters.length;
  }

  private post(m: PredictIn, transfer: ArrayBuffer[] = []): void {
    if (m.type === 'imports') for (const i of m.imports) this.sentImports.add(i);
    if (m.type === 'backend') this.sentBackend = m.backend;
    this.worker!.postMessage(m, transfer);
  }

  /** Joins the queue for a worker. */
  private wait(): void {
    this.waitingSince = calls;
    waiters.push(this);
    balance();
  }

  /** Starts the worker (balance: a slot is free), from `start`. */
  spawn(): void {
    const start = this.start!;
    this.start = undefined;
    this.passUntil = calls;
    const init: PredictInit = { bytes: start.bytes, error: start.error, backend: this.sentBackend, imports: [...this.sentImports] };
    let worker: Worker;
    try {
      worker = new Worker(workerScript('predict-worker.js', OP), { workerData: init, transferList: start.bytes ? [start.bytes.buffer as ArrayBuffer] : [], execArgv: workerExecArgv() });
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this.worker = worker;
    this.ready = false;
    this.refd = true; // a new Worker is ref'd
    live.add(this);
    liveWorkers.add(worker);
    predictWorkerStats.started++;
    worker.on('message', (m: PredictOut) => this.onMessage(worker, m));
    worker.once('error', (e) => { if (worker === this.worker) this.fail(e instanceof Error ? e : new Error(String(e))); });
    worker.once('exit', (code) => this.onExit(worker, code));
    // After the 'message' listener: adding one refs the worker's port again (Node 20), and a worker
    // ref'd with no request outstanding would keep the process alive for ever.
    this.settle();
  }

  private onMessage(worker: Worker, m: PredictOut): void {
    if (worker !== this.worker) return;
    if (m.type === 'ready') {
      this.ready = true;
      this.pump();
      this.settle();
      if (this.handed.size === 0) rebalance(); // nothing it may take now: evictable, if a model waits
      return;
    }
    if (m.type === 'exported') {
      // The model as this worker holds it, every message posted so far applied: the next worker starts from it.
      this.start = { bytes: m.bytes, error: m.error };
      this.leave();
      return;
    }
    if (m.type === 'fatal') {
      this.fail(workerError({ type: 'error', name: m.name, message: m.message, stack: m.stack }));
      return;
    }
    const r = this.handed.get(m.id);
    if (!r) return;
    this.handed.delete(m.id);
    if (r.timer) clearTimeout(r.timer);
    this.msPerRequest = this.msPerRequest === undefined ? m.ms : 0.8 * this.msPerRequest + 0.2 * m.ms;
    this.pump();
    this.settle();
    if (this.handed.size === 0) rebalance(); // evictable now, if a model waits or the cap was lowered
    if (m.type === 'error') r.reject(workerError(m));
    else {
      const ts = m.outputs.map((o) => Tensor.from(o));
      r.resolve(m.list ? ts : ts[0]);
    }
  }

  /**
   * After any change: the idle timer (a ready worker with nothing to do), the end of a closing entry, and
   * whether the worker keeps the process alive (only while someone waits for it).
   */
  settle(): void {
    const w = this.worker;
    if (!w) return;
    const idle = this.ready && !this.leaving && !this.exporting && this.handed.size === 0 && this.queued === 0;
    if (idle && this.closing) {
      this.leave();
      return;
    }
    if (idle && !this.timer) {
      this.timer = setTimeout(() => void this.close(false), this.idleMs);
      this.timer.unref();
    } else if (!idle && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // A leaving worker is waited for while another model waits for its slot (its 'exit' starts that one) or
    // closeWorkers waits for it: terminate() alone does not keep the process alive until 'exit'.
    // A worker still starting while a model waits for a slot is ref'd too: it can only be evicted once ready,
    // and until then nothing else keeps the process alive for the waiting model's calls.
    const ref = this.handed.size > 0 || this.queued > 0 || this.exporting || (this.leaving && (waiters.length > 0 || this.awaited)) ||
      (!this.ready && !this.leaving && waiters.length > 0);
    if (ref !== this.refd) {
      this.refd = ref;
      if (ref) w.ref();
      else w.unref();
    }
  }

  /** Whether balance may end this worker for a model waiting for one: ready and nothing handed to it. */
  evictable(): boolean {
    return this.worker !== undefined && this.ready && !this.leaving && !this.exporting && !this.closing && this.handed.size === 0;
  }

  /** Ends the worker for a waiting model: at once when idle; with requests queued here, after it sent back its model. */
  evict(): void {
    predictWorkerStats.evicted++;
    if (this.queued === 0) {
      void this.close(false);
      return;
    }
    this.exporting = true;
    predictWorkerStats.exported++;
    this.post({ type: 'export' });
    this.settle();
  }

  /** Terminates the worker ('exit' follows: onExit). */
  private leave(): void {
    const w = this.worker!;
    this.leaving = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.settle();
    void w.terminate();
  }

  private onExit(worker: Worker, code: number): void {
    liveWorkers.delete(worker);
    if (worker !== this.worker) return;
    live.delete(this);
    this.worker = undefined;
    this.ready = false;
    this.leaving = false;
    const restart = this.start !== undefined && !this.dead; // 'exported' set start
    this.exporting = false;
    if (restart) {
      // Evicted with requests queued here: they wait for a slot, then start a new worker from the exported model.
      if (this.queued > 0) this.wait();
      else this.end();
    } else {
      this.fail(new Error(`fathom.${OP}: the model's worker exited (code ${code})${this.handed.size ? ` with ${this.handed.size} request(s) outstanding` : ''}`));
      this.end();
    }
    balance();
  }

  /** The worker failed or exited: its requests (handed or queued) reject, and the model's next call starts a new entry. */
  private fail(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    this.detach();
    const all = [...this.handed.values()];
    this.handed.clear();
    for (const it of this.queue) if (it.kind === 'request') all.push(it.r);
    this.queue = [];
    this.queued = 0;
    for (const r of all) {
      if (r.signal) watchers.unwatch(r, r.signal);
      if (r.timer) clearTimeout(r.timer);
      r.reject(err);
    }
    if (this.worker) this.leave();
    else this.end();
  }

  /** The signal of these queued requests fired: they leave the queue and reject with its reason. */
  cancel(rs: Set<Request>): void {
    this.queue = this.queue.filter((it) => it.kind !== 'request' || !rs.has(it.r));
    this.queued -= rs.size;
    // A model that never got its worker back and has nothing left to ask: forgotten (its next call starts afresh).
    if (!this.worker && !this.exporting && this.queued === 0) {
      this.dead ??= new Error(`fathom.${OP}: every request was cancelled`);
      this.detach();
      this.end();
    }
    this.pump();
    this.settle();
  }

  /** The model's next call makes a new entry. */
  private detach(): void {
    const m = this.model.deref();
    if (m && entries.get(m) === this) entries.delete(m);
  }

  /** Gone for good: no worker, nothing waiting. */
  private end(): void {
    const i = waiters.indexOf(this);
    if (i >= 0) waiters.splice(i, 1);
    this.queue = [];
    open.delete(this);
    this.finish?.();
  }

  /**
   * Ends the worker once every request made before this call is answered (a model waiting for a worker
   * still gets one for them); resolves when it has exited. `awaited`: someone waits for that (closeWorkers),
   * so the worker keeps the process alive until it has exited; not for the idle timer or an eviction.
   */
  close(awaited: boolean): Promise<void> {
    if (awaited) this.awaited = true;
    if (!this.done) this.done = open.has(this) ? new Promise<void>((r) => { this.finish = r; }) : Promise.resolve();
    if (!this.closing) {
      this.closing = true;
      this.detach();
    }
    if (this.worker) {
      this.pump();
      this.settle(); // (an entry already leaving is ref'd here when awaited)
    } else if (!this.exporting && this.queued === 0) this.end();
    return this.done;
  }
}

const entries = new WeakMap<Module, Entry>();
/** Every entry with a worker or a request waiting (closeWorkers ends them; one forgets itself when done). */
const open = new Set<Entry>();
/** Entries whose worker thread exists (from new Worker to its 'exit'): what the cap counts. */
const live = new Set<Entry>();
/** Entries waiting for a worker (the cap is reached), first come first served. */
const waiters: Entry[] = [];
/** Calls so far (each request's seq). */
let calls = 0;
let maxWorkers = Math.max(4, availableParallelism());

/**
 * Workers started; ended by the cap; of those, ended with requests queued (their model sent back and
 * restarted later). Tests and bench. @internal
 */
export const predictWorkerStats = { started: 0, evicted: 0, exported: 0 };

/**
 * Gives waiting models a worker while the cap allows, and makes room: when more workers are live or
 * wanted than the cap, the least recently used idle ones are ended (those with nothing queued first).
 * Then hands over what waiters no longer hold back.
 */
function balance(): void {
  while (waiters.length > 0 && live.size < maxWorkers) waiters.shift()!.spawn();
  let staying = 0;
  for (const e of live) if (!e.leaving && !e.exporting && !e.closing) staying++;
  const excess = staying + waiters.length - maxWorkers;
  if (excess > 0) {
    const idle = [...live].filter((e) => e.evictable()).sort((a, b) => Number(a.queued > 0) - Number(b.queued > 0) || a.lastUsed - b.lastUsed);
    for (const e of idle.slice(0, excess)) e.evict();
  }
  for (const e of live) {
    e.pump();
    e.settle();
  }
}

/** balance() when it may have something to do: a model waits, or more workers live than the cap. */
function rebalance(): void {
  if (waiters.length > 0 || live.size > maxWorkers) balance();
}

/**
 * One 'abort' listener per distinct signal, however many waiting requests share it (a server's one
 * shutdown signal for every request would otherwise add a listener per request: Node warns past 10);
 * removed when its last request is handed over or settled.
 */
/** The waiting requests' 'abort' listeners (one per signal, over every model). */
const watchers = new SignalWatchers<Request>((requests, signal) => {
  const byEntry = new Map<Entry, Set<Request>>();
  for (const q of requests) {
    let s = byEntry.get(q.entry);
    if (!s) byEntry.set(q.entry, (s = new Set()));
    s.add(q);
  }
  for (const [e, rs] of byEntry) e.cancel(rs);
  for (const q of requests) q.reject(signal.reason);
  balance();
});

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
 *   object of them; a buffer transferred away), bad options (`options.signal must be an AbortSignal, got …`),
 *   or a model serialize() refuses; with `signal.reason` when the signal is aborted before the request is
 *   handed to the worker; with the worker's error (`fathom.predict: ...`) for x that does not fit the
 *   model; with the reason a worker failed (a module in `imports` that cannot be loaded, a worker that exited).
 */
export function predictAsyncOf(model: Module, x: Tensors, options?: PredictAsyncOptions): Promise<Tensor | Tensor[]> {
  try {
    if (!(model instanceof Module)) throw new Error(`fathom.${OP}: model must be an nn.Module, got ${show(model)}`);
    // The signal first: checkOptions would call a string or null 'not an object' rather than 'not an AbortSignal'.
    const given = options !== null && typeof options === 'object' ? (options as { signal?: unknown }).signal : undefined;
    if (given !== undefined && !isAbortSignal(given)) throw new Error(`fathom.${OP}: options.signal must be an AbortSignal, got ${show(given)}`);
    const opts = checkOptions<PredictAsyncOptions>(OP, options, OPTIONS);
    const { batchSize, idleTimeoutMs, signal, timeoutMs } = opts;
    checkTimeoutMs(OP, timeoutMs);
    if (batchSize !== undefined && !(Number.isSafeInteger(batchSize) && batchSize >= 1)) throw new Error(`fathom.${OP}: options.batchSize must be an integer >= 1, got ${show(batchSize)}`);
    if (idleTimeoutMs !== undefined && !(Number.isFinite(idleTimeoutMs) && idleTimeoutMs >= 0 && idleTimeoutMs <= 2 ** 31 - 1)) {
      throw new Error(`fathom.${OP}: options.idleTimeoutMs must be a number of milliseconds in [0, 2^31 - 1], got ${show(idleTimeoutMs)}`);
    }
    const imports = workerImports(OP, opts.imports);
    const input = copyInput(x); // before any worker starts: a refused x starts none
    if (signal?.aborted) throw signal.reason; // nothing changed: no snapshot taken, no worker started
    let entry = entries.get(model);
    if (!entry || entry.dead) {
      workerScript('predict-worker.js', OP); // a missing build is refused here, not when the worker starts
      // The first call: the whole model goes with the worker's start (the snapshot starts from it).
      const snapshot = new Snapshot();
      const first = snapshot.diff(model);
      if (first.type !== 'model') throw new Error(`fathom.${OP}: internal: a new snapshot must start from the whole model`);
      const fresh = new Entry(new WeakRef(model), snapshot, first.bytes, imports);
      entries.set(model, fresh);
      entry = fresh;
    }
    if (idleTimeoutMs !== undefined) entry.idleMs = idleTimeoutMs;
    return entry.request(model, input, batchSize, imports, signal, timeoutMs);
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * Ends fathom's worker threads: `model`'s predictAsync worker, or (no argument) every predictAsync
 * worker and the idle fitInWorker workers kept warm between calls. Every predictAsync request made
 * before the call is answered first (one waiting for a worker under the cap still gets one), then the
 * workers end; resolves when they have exited. Never needed for a process to exit (idle workers are
 * unref'd and close themselves after their idleTimeoutMs); for shutting down now, and for tests that
 * count threads. The model's next predictAsync starts a new worker.
 * @throws (rejects) `fathom.closeWorkers: ...` for a model that is not an nn.Module.
 */
export async function closeWorkers(model?: Module): Promise<void> {
  if (model !== undefined && !(model instanceof Module)) throw new Error(`fathom.closeWorkers: model must be an nn.Module or undefined, got ${show(model)}`);
  const list = [...open].filter((e) => model === undefined || e.model.deref() === model);
  await Promise.all([...list.map((e) => e.close(true)), model === undefined ? closeIdleFitWorkers() : undefined]);
}

/**
 * Caps the predictAsync worker threads alive at once, over every model (`Infinity`: no cap). Each model
 * in use has its own worker (a thread with its own V8 heap and a copy of the model: ~17 MB of RSS plus
 * the model's weights); when a model needs one and `n` are alive, the least recently used idle one (no
 * request handed to it) is ended, and if none is idle the call waits until one is (it never fails
 * because of the cap; requests queued for an evicted model start a new worker when their turn comes:
 * ~0.1-0.2 s each, so a cap below the number of models used together trades latency for memory).
 * Lowering it ends idle workers above it now, and busy ones as they become idle.
 * Default `max(4, os.availableParallelism())`: more workers than cores add no throughput (each computes
 * on its own thread, and the native kernels share one pool), and a floor of 4 keeps a few models warm on
 * small machines; at ~17 MB each that is 68 MB on 2-4 cores, 272 MB on 16. As torch.set_num_threads,
 * a process-wide setting.
 * @throws `fathom.setMaxPredictWorkers: n must be an integer >= 1 or Infinity, got …`.
 */
export function setMaxPredictWorkers(n: number): void {
  if (!(n === Infinity || (Number.isSafeInteger(n) && n >= 1))) throw new Error(`fathom.setMaxPredictWorkers: n must be an integer >= 1 or Infinity, got ${show(n)}`);
  maxWorkers = n;
  balance();
}

/** The cap on predictAsync worker threads (setMaxPredictWorkers). */
export function getMaxPredictWorkers(): number {
  return maxWorkers;
}

/** Whether `model` has a predictAsync worker now (tests). @internal */
export function hasPredictWorker(model: Module): boolean {
  const e = entries.get(model);
  return e !== undefined && e.worker !== undefined && !e.dead;
}

asyncPredict.run = predictAsyncOf;
