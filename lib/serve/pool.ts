/**
 * InferencePool and predictAsync: inference off the JS thread.
 *
 *   const pool = new serve.InferencePool(model, { workers: 1 });
 *   const y = await pool.predict(x);        // the JS thread runs no kernel
 *   pool.setModel(retrained);               // hot swap between requests
 *   await pool.close();                     // drains, then ends the workers
 *
 * Design: a small pool of worker_threads workers, each holding its own copy of
 * the model (rebuilt from serialize()d bytes: the model is serialized ONCE, at
 * creation and at each setModel). A call is one hand-off: the input is copied
 * into a new SharedArrayBuffer on the calling thread (one copy; the worker
 * reads it without another), the worker runs the whole predict() (every layer,
 * on its thread and the native kernel pool) and transfers the output's buffer
 * back (no copy). The caller gets ordinary Tensors.
 *
 * Concurrency rule (issue #13): the pool reads a SNAPSHOT of the model, the
 * bytes taken when the pool was created or setModel was called. Training or
 * otherwise changing the caller's model object meanwhile (fit() on this thread,
 * or swapping in a fitInWorker result) never affects what the pool computes,
 * until the caller hands it over with setModel. Likewise the caller may mutate,
 * reuse or transfer its input buffer as soon as predict() returns its promise:
 * the copy was taken before.
 *
 * Ordering: each worker handles its messages in order, so setModel takes
 * effect between requests: every request made before setModel is answered
 * with the old weights, every request made after with the new ones, and none
 * is dropped. Requests go to the worker with the fewest outstanding ones.
 *
 * Threads: the native kernels' thread pool is one per process (jobs from
 * different threads are serialised there), so more workers help when
 * requests are small (each runs on one thread) or on the TS backend; for large
 * batches one worker already uses every core. `threads: 1` makes each worker
 * run its forward passes on its own thread, never in the shared kernel pool:
 * with as many workers as cores, batches then run side by side instead of
 * queueing for the pool (a BatchingPredictor's throughput on small models). Idle workers do not keep the
 * process alive (they are unref()'d while no request is outstanding, once
 * started: a starting worker does, so `await pool.ready()` holds), but close()
 * is the way to end them. `nice` lowers the OS priority of the workers
 * and the kernel threads (lib/serve/priority.ts), for a server's JS thread.
 *
 * A worker that dies after it started (a custom layer calling process.exit, an
 * uncaught error) is replaced by a new one rebuilt from the current snapshot
 * (the bytes of the last setModel). The request it was computing (the oldest
 * it held: a worker takes its requests in order) rejects with the reason, as it
 * may be what killed it; the requests queued behind it never started and are
 * sent again, to the replacement or another worker (unless a setModel came
 * after them: they then reject too, since every worker now holds the newer
 * snapshot). A worker that fails to start is not replaced (its replacement
 * would fail alike) and its requests reject.
 */
import { Worker } from 'node:worker_threads';
import { Module } from '../layers/module.js';
import { Tensor, checkStorage } from '../tensor/tensor.js';
import { backend } from '../backend/index.js';
import { checkOptions, show, type OptionSpec } from '../layers/options.js';
import { liveWorkers, workerError, workerExecArgv, workerImports, workerScript } from './fit.js';
import { checkTimeoutMs, type WireTensor } from './share.js';
import { modelBytes } from './model-bytes.js';
import type { PredictAsyncOptions } from './snapshot.js';
import { checkNice } from './priority.js';

/** What a worker is started with. @internal */
export interface InferInit {
  bytes: Uint8Array;
  backend: 'native' | 'ts';
  imports: string[];
  /** Nice value the worker lowers its thread (and the kernel pool's threads) to; 0: unchanged. */
  nice: number;
  /** Kernel threads of the worker's own calls (setThreadNumThreads); 0: the process's setting. */
  threads: number;
}
/** Messages to a worker. @internal */
export type InferIn =
  | { type: 'predict'; id: number; x: WireTensor; batchSize?: number }
  | { type: 'model'; bytes: Uint8Array };
/** Messages from a worker. @internal */
export type InferOut =
  | { type: 'ready' }
  | { type: 'result'; id: number; outputs: WireTensor[]; list: boolean }
  | { type: 'error'; id: number; name: string; message: string; stack?: string }
  | { type: 'fatal'; name: string; message: string; stack?: string };

export interface InferencePoolOptions {
  /** Worker threads, each with its own copy of the model. Default 1. */
  workers?: number;
  /**
   * Modules each worker imports before it rebuilds the model (custom layers' registerModuleType),
   * as fitInWorker's `imports`: absolute `file:` URLs, absolute paths or package names.
   */
  imports?: (string | { href: string })[];
  /**
   * Lower OS scheduling priority for the computing threads, as a nice value 0..19 (higher: lower priority;
   * default 0, unchanged): each worker thread lowers its own, and the native kernel pool's threads (one
   * pool per process: they then compute at that priority for every thread). The JS thread that serves
   * keeps its priority, so a worker woken with a batch no longer preempts it (a server's event-loop delay
   * is lower; see lib/serve/priority.ts). Linux only (per-thread setpriority); elsewhere ignored. Only ever
   * lowers: a thread already at a higher nice value keeps it (raising needs privilege).
   */
  nice?: number;
  /**
   * Native kernel threads each worker's forward pass uses, an integer in 1..256 (a cap: above the process's
   * setNumThreads / FATHOM_NUM_THREADS it changes nothing; default: that setting). The kernel thread pool is one per process
   * and runs one job at a time, so workers that each ask it for every core wait for each other; with
   * `threads: 1` a worker computes on its own thread alone, and `workers` equal to the core count then
   * keeps every core busy with its own batch. Only the workers' calls are limited; this thread's are not.
   * Ignored on the TS backend (one thread).
   */
  threads?: number;
  /**
   * Longest a request may wait for its answer once its worker is up, in milliseconds: from the hand-off, or
   * from when its worker is up if it was still starting (the time of requests queued before it in that
   * worker counts too). A worker that overruns it (a custom layer stuck in a loop, a forward pass far
   * larger than planned) is ended and replaced from the current snapshot: the request rejects with an Error
   * saying so, and those queued behind it go again, as when a worker dies (see kill). TorchServe's response
   * timeout does the same to its worker. A finite number > 0; default: no limit. A worker still starting is
   * not timed.
   */
  timeoutMs?: number;
}

export interface PoolPredictOptions {
  /** Rows per forward pass inside the worker (predict's batchSize). Default 256. */
  batchSize?: number;
}

interface Pending {
  resolve: (y: Tensor | Tensor[]) => void;
  reject: (e: unknown) => void;
  slot: Slot;
  /** timeoutMs: armed at the hand-off, or when the worker comes up if it was still starting. */
  timer?: ReturnType<typeof setTimeout>;
  /** What was posted, to send it again when its worker dies before starting it (kill). */
  x: WireTensor;
  batchSize?: number;
  /** setModel calls before it was posted: it may only go to a worker holding that snapshot. */
  version: number;
}
interface Slot {
  worker: Worker;
  outstanding: number;
  /** Rebuilt the model and answered 'ready'. */
  ready?: boolean;
  dead?: Error;
  up: Promise<void>;
  started: () => void;
}

const POOL_OPTIONS: OptionSpec = { workers: 'number', imports: 'array', nice: 'number', threads: 'number', timeoutMs: 'number' };
const PREDICT_OPTIONS: OptionSpec = { batchSize: 'number' };

/**
 * A pool of worker threads that answer predict() for a snapshot of a model.
 * See the top of this file for the design and the concurrency rule.
 */
export class InferencePool {
  /** Number of worker threads. */
  readonly workers: number;
  private slots: Slot[] = [];
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private failStart = new WeakMap<Slot, (e: Error) => void>();
  private readonly init: InferInit;
  private readonly url: string;
  private replaced = 0;
  private readonly timeoutMs?: number;
  /** setModel calls so far (see Pending.version). */
  private version = 0;
  /** Who made the pool (InferencePool, or a BatchingPredictor for its own), for the errors it raises. */
  private readonly op: string;
  private closing?: Promise<void>;
  private drained?: () => void;
  /** Workers replaced (kill) and not yet exited: close() waits for them too. */
  private ending = new Set<Worker>();

  /**
   * Serializes `modelOrBytes` once (a Module, or the bytes of serialize(model)) and starts
   * `workers` threads that each rebuild it.
   * @throws `fathom.InferencePool: ...` for a non-Module, bad options, or a model serialize() refuses.
   */
  constructor(modelOrBytes: Module | Uint8Array, options?: InferencePoolOptions, /** @internal who asks, for errors */ op = 'InferencePool') {
    const opts = checkOptions<InferencePoolOptions>(op, options, POOL_OPTIONS);
    const n = opts.workers ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`fathom.${op}: options.workers must be an integer in 1..64, got ${show(n)}`);
    this.workers = n;
    this.timeoutMs = checkTimeoutMs(op, opts.timeoutMs);
    this.op = op;
    const threads = opts.threads ?? 0;
    if (opts.threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 256)) throw new Error(`fathom.${op}: options.threads must be an integer in 1..256 (kernel threads per worker), got ${show(opts.threads)}`);
    this.init = {
      bytes: modelBytes(op, modelOrBytes), backend: backend().name, imports: workerImports(op, opts.imports),
      nice: opts.nice === undefined ? 0 : checkNice(op, opts.nice), threads,
    };
    this.url = workerScript('infer-worker.js', op);
    for (let i = 0; i < n; i++) this.slots.push(this.spawn());
  }

  /** Starts one worker holding the current snapshot (init.bytes: the model of the last setModel). */
  private spawn(): Slot {
    const worker = new Worker(this.url, { workerData: this.init, execArgv: workerExecArgv() });
    let started!: () => void;
    let failed!: (e: Error) => void;
    const up = new Promise<void>((res, rej) => { started = res; failed = rej; });
    up.catch(() => {}); // a failed start also rejects the requests; ready() reports it to whoever asks
    const slot: Slot = {
      worker, outstanding: 0, up,
      started: () => {
        slot.ready = true;
        if (slot.outstanding === 0) worker.unref();
        for (const [id, p] of this.pending) if (p.slot === slot) this.arm(id, p); // handed over while it started
        started();
      },
    };
    this.failStart.set(slot, failed);
    liveWorkers.add(worker);
    worker.on('message', (m: InferOut) => this.onMessage(slot, m));
    worker.once('error', (e) => this.kill(slot, e instanceof Error ? e : new Error(String(e))));
    worker.once('exit', (code) => {
      liveWorkers.delete(worker);
      // After close(): the pool ended it (its requests were answered first); ready() then says so.
      const left = [...this.pending.values()].filter((p) => p.slot === slot).length;
      const why = this.closing && left === 0
        ? 'the pool was closed (close()) before this worker was ready'
        : `a worker exited (code ${code})${left > 0 ? ` with ${left} request${left === 1 ? '' : 's'} outstanding` : ''}`;
      this.kill(slot, new Error(`fathom.InferencePool: ${why}`));
    });
    // The worker keeps the process alive while it starts (someone may await ready()), then only while it has
    // requests: slot.started unrefs it when idle. Not before the 'message' listener is added: adding one refs
    // the worker's port again (Node), and a worker that never got a request (the second of two, a
    // replacement, a pool never used) then kept the process alive for good.
    return slot;
  }

  /**
   * Resolves when every worker has rebuilt the model and can answer (requests made earlier simply wait
   * for it; a server may await this before it listens). Rejects with the reason a worker failed to start
   * (e.g. a module in `imports` that cannot be loaded).
   */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.up));
  }

  /** Requests sent and not yet answered. */
  get outstanding(): number {
    return this.pending.size;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * The model's output for x (N, …), computed in a worker as predict(model, x) would compute it on this
   * thread: a Tensor (a Tensor[] for a multi-output model: `pool.predict<Tensor[]>(x)`). x is copied at the call.
   * @throws (rejects) `fathom.InferencePool.predict: ...` for a bad x or options, after close(), and with
   *   the worker's own error (e.g. `fathom.predict: ...` for x that does not fit the model).
   */
  predict<T extends Tensor | Tensor[] = Tensor>(x: Tensor, options?: PoolPredictOptions): Promise<T> {
    const op = 'InferencePool.predict';
    try {
      const opts = checkOptions<PoolPredictOptions>(op, options, PREDICT_OPTIONS);
      if (!(x instanceof Tensor)) throw new Error(`fathom.${op}: x must be a Tensor, got ${show(x)}`);
      checkStorage(op, 'x', x);
      const buf = new SharedArrayBuffer(x.data.byteLength);
      const data = x.dtype === 'int32' ? new Int32Array(buf) : new Float32Array(buf);
      data.set(x.data);
      return this.run({ data, shape: [...x.shape] }, opts.batchSize) as Promise<T>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Replaces the model every worker answers with, between requests: requests made before this call get
   * the old weights, those after it the new ones; none is dropped. The model is serialized now (a snapshot).
   * Bytes are checked by the workers (deserialize), not on this thread: bytes it refuses make the requests
   * after them reject with its error (`fathom.deserialize: ...`) until the next setModel.
   * @throws `fathom.InferencePool.setModel: ...` for a non-Module, a model serialize() refuses, or after close().
   */
  setModel(modelOrBytes: Module | Uint8Array): void {
    const op = 'InferencePool.setModel';
    if (this.closing) throw new Error(`fathom.${op}: the pool is closed`);
    const bytes = modelBytes(op, modelOrBytes);
    this.init.bytes = bytes; // what a replacement worker starts from
    this.version++;
    for (const s of this.slots) if (!s.dead) s.worker.postMessage({ type: 'model', bytes } satisfies InferIn);
  }

  /**
   * Refuses new requests, waits for the outstanding ones to be answered, then terminates the workers.
   * Resolves when every worker has exited. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.pending.size > 0) await new Promise<void>((r) => { this.drained = r; });
      await Promise.all([...this.slots.map((s) => s.worker), ...this.ending].map((w) => w.terminate()));
    })();
    return this.closing;
  }

  /** @internal One request, x already in shared memory (BatchingPredictor builds its batches there). */
  run(x: WireTensor, batchSize?: number): Promise<Tensor | Tensor[]> {
    if (this.closing) return Promise.reject(new Error('fathom.InferencePool.predict: the pool is closed'));
    const slot = this.pick();
    if (!slot) return Promise.reject(new Error(`fathom.InferencePool.predict: no worker is left (${this.slots[0]?.dead?.message ?? 'all exited'})`));
    return new Promise((resolve, reject) => this.post(slot, { resolve, reject, slot, x, batchSize, version: this.version }));
  }

  /**
   * The worker for the next request: the fewest outstanding; at a tie one that is up (a replacement still
   * starting would make its first request wait ~0.1 s for the start while a ready worker idles).
   */
  private pick(): Slot | undefined {
    let slot: Slot | undefined;
    for (const s of this.slots) {
      if (!s.dead && (!slot || s.outstanding < slot.outstanding || (s.outstanding === slot.outstanding && s.ready && !slot.ready))) slot = s;
    }
    return slot;
  }

  /** Hands request p to worker s (a new id: ids follow the order requests reach their worker). */
  private post(s: Slot, p: Pending): void {
    const id = this.nextId++;
    p.slot = s;
    this.pending.set(id, p);
    if (s.ready) this.arm(id, p);
    if (s.outstanding++ === 0 && s.ready) s.worker.ref(); // (a starting worker is ref'd already)
    s.worker.postMessage({ type: 'predict', id, x: p.x, batchSize: p.batchSize } satisfies InferIn);
  }

  private onMessage(slot: Slot, m: InferOut): void {
    if (m.type === 'ready') {
      slot.started();
      return;
    }
    if (m.type === 'fatal') {
      this.kill(slot, workerError({ type: 'error', name: m.name, message: m.message, stack: m.stack }));
      void slot.worker.terminate();
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.settle(m.id, p);
    if (m.type === 'error') p.reject(workerError(m));
    else {
      const ts = m.outputs.map((o) => Tensor.from(o));
      p.resolve(m.list ? ts : ts[0]);
    }
  }

  /** Starts request id's timeoutMs clock: when it runs out unanswered, its worker is ended and replaced (kill). */
  private arm(id: number, p: Pending): void {
    const ms = this.timeoutMs;
    if (ms === undefined || p.timer) return;
    p.timer = setTimeout(() => {
      if (this.pending.get(id) !== p || p.slot.dead) return;
      this.kill(p.slot, new Error(`fathom.${this.op === 'InferencePool' ? 'InferencePool.predict' : this.op}: no answer within timeoutMs = ${ms} ms; the worker computing it was ended${this.closing ? '' : ' (and is replaced)'}`));
      void p.slot.worker.terminate(); // kill ends a started worker only while the pool is open
    }, ms);
    p.timer.unref?.(); // the outstanding request's worker keeps the process alive, not this clock
  }

  private settle(id: number, p: Pending): void {
    this.release(id, p);
    if (this.pending.size === 0) this.drained?.();
  }

  /** Takes request id off its worker (its clock stopped: a request sent again is timed afresh). */
  private release(id: number, p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = undefined;
    this.pending.delete(id);
    if (--p.slot.outstanding === 0 && p.slot.ready) p.slot.worker.unref();
  }

  /**
   * A worker failed for good (it died, or overran timeoutMs). A worker that had started (answered 'ready')
   * takes its requests in order: the oldest it held is the one it was computing (it may be what killed it)
   * and rejects with the reason; those behind it never started and go again, to another worker (the
   * replacement, or one still open while the pool closes), unless a setModel came after them (every worker
   * now holds the newer snapshot) or no worker is left: they then reject saying they never ran. A started
   * worker is replaced by a new one holding the current snapshot, unless the pool is closing; one that never
   * started is not (its replacement would fail alike: a bad `imports` module, bytes the worker refuses), and
   * its requests reject with the reason. (A worker that was slow rather than stuck may have begun the next
   * request before it was ended: that one then runs twice, its first answer discarded.)
   */
  private kill(slot: Slot, err: Error): void {
    if (slot.dead) return;
    slot.dead = err;
    this.failStart.get(slot)?.(err);
    const held = [...this.pending].filter(([, p]) => p.slot === slot); // in id order: the order the worker takes them
    for (const [id, p] of held) this.release(id, p);
    const replace = slot.ready && !this.closing;
    if (replace) {
      const i = this.slots.indexOf(slot);
      if (i >= 0) {
        const w = slot.worker;
        this.ending.add(w);
        void w.terminate().finally(() => this.ending.delete(w)); // the thread may still be running (an 'error' event, a timeout); a no-op once it exited
        this.slots[i] = this.spawn();
        this.replaced++;
      }
    }
    held.forEach(([, p], k) => {
      if (k === 0 || !slot.ready) {
        p.reject(err);
        return;
      }
      const to = p.version === this.version ? this.pick() : undefined;
      if (to) this.post(to, p);
      else {
        const why = p.version !== this.version ? 'a setModel came after it (the workers hold the newer snapshot)' : 'no worker is left to run it';
        p.reject(new Error(`fathom.${this.op === 'InferencePool' ? 'InferencePool.predict' : this.op}: the worker holding this request ended before it ran it (${err.message.replace(/^fathom\.[\w.]+: /, '')}), and ${why}`, { cause: err }));
      }
    });
    if (this.pending.size === 0) this.drained?.();
  }

  /** Workers replaced after they died (see kill). */
  get replacedWorkers(): number {
    return this.replaced;
  }
}

/**
 * The model's output for x, computed in a worker thread: `model.predictAsync(x, options)` (the model's own
 * worker, kept between calls, reading the model as it is at this call: lib/serve/snapshot.ts); given a
 * pool, pool.predict(x) (the pool's snapshot). Resolves with what predict(model, x, options) returns on
 * this thread. For many small concurrent requests a BatchingPredictor is faster.
 * @throws (rejects) as Module.predictAsync, or as InferencePool.predict given a pool.
 */
export async function predictAsync<T extends Tensor | Tensor[] = Tensor>(modelOrPool: Module | InferencePool, x: Tensor, options?: PredictAsyncOptions): Promise<T> {
  if (modelOrPool instanceof InferencePool) {
    const { batchSize, ...rest } = options ?? {};
    if ('signal' in rest) throw new Error('fathom.predictAsync: options.signal applies to a model\'s own worker, not to an InferencePool (a pool hands a request to its worker at once: nothing waits to be cancelled; a BatchingPredictor\'s predict takes { signal })');
    if (Object.keys(rest).length > 0) throw new Error(`fathom.predictAsync: options ${Object.keys(rest).join(', ')} apply to a model's own worker, not to an InferencePool (give imports to new InferencePool())`);
    return modelOrPool.predict<T>(x, batchSize === undefined ? undefined : { batchSize });
  }
  if (!(modelOrPool instanceof Module)) throw new Error(`fathom.predictAsync: model must be an nn.Module or a serve.InferencePool, got ${show(modelOrPool)}`);
  if (!(x instanceof Tensor)) throw new Error(`fathom.predictAsync: x must be a Tensor, got ${show(x)}${Array.isArray(x) || (x !== null && typeof x === 'object') ? ' (a model of several inputs: model.predictAsync(x) takes a list or an object of them)' : ''}`);
  return modelOrPool.predictAsync<T>(x, options);
}
