/**
 * fitInWorker: fit() in a worker_threads Worker, so the JS thread that calls
 * it stays free (a server keeps answering while a model trains beside it).
 *
 * What crosses the thread boundary, and how:
 *   - the model: serialize()d bytes (safetensors + architecture) go in, the
 *     trained model's bytes come back and are deserialize()d: the caller gets a
 *     NEW Module. The caller's model object is never touched (the worker trains
 *     a copy), so it can keep serving predict() during training, with its old
 *     weights; swap in the result when it arrives.
 *   - x, y (and validationData): shared, not copied. A tensor already in a
 *     SharedArrayBuffer is sent as is (the worker reads the caller's memory: do
 *     not write to it while training runs); any other is copied ONCE into a new
 *     SharedArrayBuffer (shareMemory), since postMessage would copy an ordinary
 *     ArrayBuffer anyway and transferring it would take it away from the caller.
 *   - options: only data crosses threads. The fit options that are data pass
 *     through (loss(es) and optimizer by name, lossWeights, lr, epochs,
 *     batchSize, validationSplit, seed, metric names, clipping, verbose…); an
 *     lrScheduler is given as data too, `{ type: 'OneCycleLR', maxLr: 2e-3,
 *     totalSteps }`, and built in the worker over its optimizer. Functions
 *     cannot cross threads: a loss or metric function, callbacks, a progress
 *     sink, a scheduler instance are refused with an error naming the option.
 *   - resuming: an Optimizer over the model's parameters (options.optimizer)
 *     crosses as its state (serialize(model, { optimizer })), as do the bytes of
 *     such a checkpoint given as the model; the worker rebuilds it, builds the
 *     scheduler over it, restores the optimizer's groups and then
 *     `lrSchedulerState` (PyTorch's order), and trains on. The result carries
 *     the trained `optimizer` (over the returned model's parameters) and the
 *     scheduler's `lrSchedulerState`: two fitInWorker calls (the second with
 *     initialEpoch, the same seed, the returned optimizer and scheduler state)
 *     train exactly what one fit() of all the epochs trains.
 *   - several inputs / outputs (nn.Model, MultiIOModule): x, y and
 *     validationData as lists or objects by name of tensors (each shared), a
 *     loss per output (by name) and lossWeights, as fit() takes them.
 *   - progress: the worker posts each epoch's logs and (only when onBatchEnd
 *     is given) each batch's loss; onEpochEnd / onBatchEnd run on the caller's
 *     thread as the messages arrive (their return value is ignored: stop with
 *     the signal).
 *   - abort: the signal sets a flag in shared memory that the worker reads
 *     after every batch, so training stops at the next batch boundary: the
 *     batch in progress completes, its epoch ends as fit() ends an epoch a
 *     callback stopped (validation, logs), and the promise RESOLVES with the
 *     model trained so far and `aborted: true` (as a stopped fit() resolves in
 *     Keras: the weights are a result). A signal already aborted when
 *     fitInWorker is called rejects at once with `signal.reason` (an
 *     AbortError unless the caller gave a reason), as Node's APIs do, and no
 *     worker starts.
 *   - errors: anything the worker throws (a bad option, shapes that do not fit
 *     the model, a NaN loss) rejects the promise with the worker's message
 *     (and its stack as the error's `cause`).
 * Workers: a call takes an idle worker left by an earlier call, or starts one.
 * After a call that resolved (trained, or aborted) the worker stays idle and
 * warm for `idleTimeoutMs` (default 5 s; at most two are kept; unref'd, so
 * they never keep the process alive), then ends; after a call that rejected
 * (an error in the worker, a worker that died, a progress callback that
 * threw) it is terminated before the promise settles. serve.closeWorkers()
 * ends idle ones now.
 *
 * Determinism: with the same `seed`, training in the worker gives the same
 * weights, bit for bit, as fit() on the calling thread (same backend, ISA and
 * thread count: the native pool is one per process). Without a seed, the
 * shuffle seed is drawn from the caller's global random stream (reproducible
 * after manualSeed), and so is the seed of the worker's own global stream
 * (dropout, noise layers): those draws differ from the ones fit() on the
 * calling thread would make, so a model with dropout trains reproducibly but
 * not identically to fit() on the calling thread.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Module } from '../layers/module.js';
import { Tensor, checkStorage } from '../tensor/tensor.js';
import { rand } from '../ops/index.js';
import { backend } from '../backend/index.js';
import { checkOptions, show, type OptionSpec } from '../layers/options.js';
import { checkNice } from './priority.js';
import { serialize, deserializeCheckpoint } from '../io/serialize.js';
import type { LossName } from '../losses/index.js';
import { OPTIMIZERS, closest, type OptimizerName } from '../models/compile.js';
import type { FitOptions, History, Logs } from '../models/training.js';
import type { PerOutput, Tensors } from '../models/multi.js';
import { Optimizer } from '../optimizers/optimizer.js';
import type { SchedulerState } from '../optimizers/lr_scheduler.js';
import { isAbortSignal, shareMemory, type WireTensor, type WireTensors } from './share.js';

/** A learning-rate scheduler as data: the class name in optim.lrScheduler and its options (built in the worker over its optimizer). */
export type LRSchedulerSpec = { type: LRSchedulerType } & Record<string, unknown>;
/** The schedulers whose options are plain data (LambdaLR takes a function; SequentialLR and ChainedScheduler take schedulers). */
export const WORKER_SCHEDULERS = [
  'StepLR', 'MultiStepLR', 'ConstantLR', 'LinearLR', 'ExponentialLR', 'CosineAnnealingLR', 'CosineAnnealingWarmRestarts', 'OneCycleLR', 'ReduceLROnPlateau',
] as const;
export type LRSchedulerType = (typeof WORKER_SCHEDULERS)[number];

/** A metric by name (fit's MetricSpec without functions). */
export type WorkerMetricSpec = 'accuracy' | 'topK' | 'precision' | 'recall' | 'f1' | 'mse' | 'mae' | 'r2' | { name: 'topK'; k?: number };

/**
 * An AbortSignal (AbortController's `signal`, `AbortSignal.timeout(ms)`), typed structurally so that the
 * declarations need neither Node's nor the DOM's types; a real AbortSignal is required at run time.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** One batch's progress, posted by the worker after the batch's optimizer step. */
export interface WorkerBatchLogs {
  /** The batch's loss (regularisation included), as fit's onBatchEnd gets it. */
  loss: number;
  /** Samples in the batch. */
  size: number;
  /** The epoch (from 0). */
  epoch: number;
  /** Batches per epoch. */
  batches: number;
}

/**
 * fit()'s options that are data (see FitOptions for each), with the loss, optimizer, metrics and
 * scheduler given as data, plus what runs on the caller's thread (signal, onEpochEnd, onBatchEnd).
 */
export interface FitInWorkerOptions extends Omit<FitOptions, 'loss' | 'optimizer' | 'metrics' | 'validationData' | 'lrScheduler' | 'callbacks' | 'progress' | 'verbose'> {
  /**
   * The loss, by name (a function cannot cross threads); for a model of several outputs one name for
   * every output, a list in outputNames order or an object by output name (with `lossWeights`, as
   * fit()). Required unless the model's bytes carry the loss it was fitted with.
   */
  loss?: PerOutput<LossName>;
  /**
   * The optimizer: a name (default 'adam', a new one over the worker's copy, `lr` its rate), or an
   * Optimizer over the model's parameters — e.g. the `optimizer` a previous fitInWorker returned — whose
   * state (step counts, moments, groups' hyper-parameters) goes to the worker with the model, so
   * training resumes exactly (as fit() with an Optimizer instance; `lr` is refused with it). Bytes of
   * serialize(model, { optimizer }) given as the model resume their optimizer the same way.
   */
  optimizer?: OptimizerName | Optimizer;
  /** [x, y] to validate on after each epoch (overrides validationSplit), in the forms x and y take; shared as x and y are. */
  validationData?: [Tensors, Tensors];
  /** Metric names, or { name: 'topK', k } (functions cannot cross threads); per output as fit() takes them. */
  metrics?: WorkerMetricSpec[] | readonly (WorkerMetricSpec | WorkerMetricSpec[])[] | Readonly<Record<string, WorkerMetricSpec | WorkerMetricSpec[]>>;
  /** A scheduler as data: `{ type: 'OneCycleLR', maxLr, totalSteps }` (see WORKER_SCHEDULERS). */
  lrScheduler?: LRSchedulerSpec;
  /**
   * The scheduler's state to resume from (the `lrSchedulerState` a previous fitInWorker returned, or
   * a scheduler's stateDict()): loaded after the scheduler is built over the (resumed) optimizer,
   * in PyTorch's order. Needs `lrScheduler` of the same type.
   */
  lrSchedulerState?: SchedulerState;
  /** 0 silent, 1 one line per epoch, written by the worker to the process's stderr. Default 0 (fit's default is 1). */
  verbose?: 0 | 1;
  /**
   * Modules the worker imports before it rebuilds the model: absolute `file:` URLs (e.g.
   * `new URL('./layers.js', import.meta.url)`), absolute paths or package names. For custom
   * layers: the worker is a fresh JS context, so the module that calls
   * `nn.registerModuleType` for them must run there too (it must import the same fathom
   * package the worker runs, i.e. `fathom` as installed).
   */
  imports?: (string | { href: string })[];
  /** Stops training at the next batch boundary (see the top of this file for what the promise does); an AbortSignal. */
  signal?: AbortSignalLike;
  /** Called on the caller's thread with each epoch's logs (the history's values for that epoch). */
  onEpochEnd?: (epoch: number, logs: Logs) => void;
  /** Called on the caller's thread after each batch; given, it makes the worker post one message per batch. */
  onBatchEnd?: (batch: number, logs: WorkerBatchLogs) => void;
  /**
   * Milliseconds the worker stays up, idle and warm, after this call, for the next fitInWorker call
   * (which then skips starting a thread and importing fathom there, ~100-250 ms, and runs already
   * compiled code). It never keeps the process alive (unref'd); `serve.closeWorkers()` ends it now.
   * 0: the worker is terminated before the promise settles. Default 5000.
   */
  idleTimeoutMs?: number;
  /**
   * Lower OS priority for the training: a nice value 0..19 (higher: lower priority; Linux only, ignored
   * elsewhere) for the worker thread and the native kernel pool's threads (one pool per process, shared with
   * every thread's kernels), so that training beside a server leaves the cores to its event loop first.
   * Priorities are only ever lowered (raising needs privilege): a reused worker keeps the lowest it was
   * given. Default 0 (unchanged). See serve.InferencePool's `nice`.
   */
  nice?: number;
}

export interface FitInWorkerResult {
  /** The trained model: a new Module (the caller's model is not touched). */
  model: Module;
  /**
   * The worker's optimizer after training, rebuilt over `model`'s parameters (its class, groups,
   * hyper-parameters, state and step count): pass it as `optimizer` to the next fitInWorker (or
   * fit()) to resume, or save it with `serialize(model, { optimizer })`.
   */
  optimizer: Optimizer;
  /** The scheduler's stateDict() after training, when an lrScheduler was given (pass it as lrSchedulerState to resume). */
  lrSchedulerState?: SchedulerState;
  /** fit()'s history, from the worker. */
  history: History;
  /** True when the signal stopped training (history.stopReason says where). */
  aborted: boolean;
}


/** @internal What the worker gets. */
export interface WorkerInput {
  /** The model's bytes; with an optimizer part when training resumes an optimizer. */
  bytes: Uint8Array;
  x: WireTensors;
  y: WireTensors;
  validationData?: [WireTensors, WireTensors];
  /** fit options (data only), lrScheduler a spec. */
  options: Record<string, unknown>;
  backend: 'native' | 'ts';
  /** Seed of the worker's global random stream. */
  globalSeed: number;
  /** Module specifiers (hrefs) imported before the model is rebuilt. */
  imports: string[];
  /** [0] set to 1 by the caller to stop. */
  control: Int32Array;
  batchEvents: boolean;
  /** Nice value for the worker and kernel threads (0: unchanged). */
  nice: number;
}

/** @internal What the worker posts. */
export type WorkerMessage =
  | { type: 'batch'; batch: number; logs: WorkerBatchLogs }
  | { type: 'epoch'; epoch: number; logs: Logs }
  | { type: 'done'; bytes: Uint8Array; history: History; aborted: boolean; lrSchedulerState?: SchedulerState }
  | { type: 'error'; name: string; message: string; stack?: string };

/** The fit options that are data and pass through to the worker's fit(). */
const DATA_OPTIONS: OptionSpec = {
  loss: ['string', 'function', 'array', 'object'], lossWeights: ['number', 'array', 'object'], optimizer: ['string', 'object'], lr: 'number', epochs: 'number', batchSize: 'number',
  validationSplit: 'number', validationData: 'array', shuffle: 'boolean', seed: 'number', initialEpoch: 'number', accuracy: 'boolean',
  accuracyThreshold: 'number', metrics: ['array', 'object'], clipGradNorm: 'number', clipGradValue: 'number', lrScheduler: 'object',
  lrSchedulerInterval: 'string', lrSchedulerMonitor: 'string', lrSchedulerState: 'object', verbose: 'number',
};
/** fit options that hold functions or objects with methods: refused by name. */
const NOT_DATA: Record<string, string> = {
  callbacks: 'callbacks are functions, which cannot cross threads; use onEpochEnd / onBatchEnd (called on this thread as the worker reports) and signal (to stop)',
  progress: 'a progress sink has methods, which cannot cross threads; use verbose: 1 (the worker prints) or onEpochEnd / onBatchEnd',
};
const OPTIONS: OptionSpec = {
  ...DATA_OPTIONS, callbacks: ['object', 'array'], progress: 'object', signal: 'object', onEpochEnd: 'function', onBatchEnd: 'function', imports: 'array',
  idleTimeoutMs: 'number', nice: 'number',
};
/** How long a finished worker waits, warm, for the next fitInWorker call. */
const DEFAULT_IDLE_MS = 5000;

const CROSS = 'cannot cross threads';

/** Live workers (a test checks none is left behind). @internal */
export const liveWorkers = new Set<{ readonly threadId: number }>();

/**
 * Trains a copy of `modelOrBytes` (a Module, or bytes from serialize()) on x
 * and y in a worker thread, as fit() would on this thread, and resolves with
 * the trained model (a new Module), fit's history and whether the signal
 * stopped it. See the top of this file for what crosses threads and how.
 * Options: FitInWorkerOptions (fit's data options, plus signal, onEpochEnd,
 * onBatchEnd); verbose defaults to 0.
 * @throws (rejects) `fathom.fitInWorker: ...` on this thread for a bad model,
 *   x or y, an unknown option, an option that cannot cross threads (a function,
 *   callbacks, an Optimizer or scheduler instance: named), or a bad signal;
 *   with `signal.reason` for a signal already aborted; with the worker's own
 *   error (e.g. `fathom.fit: ...`) for what fails there.
 */
export async function fitInWorker(modelOrBytes: Module | Uint8Array, x: Tensors, y: Tensors, options?: FitInWorkerOptions): Promise<FitInWorkerResult> {
  const op = 'fitInWorker';
  const opts = checkOptions<FitInWorkerOptions & Record<string, unknown>>(op, options as FitInWorkerOptions & Record<string, unknown>, OPTIONS);
  for (const k of Object.keys(NOT_DATA)) if (opts[k] !== undefined) throw new Error(`fathom.${op}: options.${k}: ${NOT_DATA[k]}`);
  checkDataOptions(opts);
  const { signal, onEpochEnd, onBatchEnd } = opts;
  if (signal !== undefined && !isAbortSignal(signal)) throw new Error(`fathom.${op}: options.signal must be an AbortSignal, got ${show(signal)}`);
  if (signal?.aborted) throw signal.reason;

  let bytes: Uint8Array;
  let transfer: ArrayBuffer[] = [];
  const optimizer = opts.optimizer instanceof Optimizer ? opts.optimizer : undefined;
  if (modelOrBytes instanceof Module) {
    try {
      // With an Optimizer, its state goes along (a checkpoint's bytes): the worker resumes it.
      bytes = serialize(modelOrBytes, optimizer ? { optimizer } : undefined);
    } catch (e) {
      throw new Error(`fathom.${op}: ${(e as Error).message.replace(/^fathom\.serialize: /, '')}`, { cause: e });
    }
    transfer = [bytes.buffer as ArrayBuffer]; // our own copy: moved, not copied again
  } else if (modelOrBytes instanceof Uint8Array) {
    if (optimizer) throw new Error(`fathom.${op}: options.optimizer: an Optimizer goes with its model: pass the Module, or bytes of serialize(model, { optimizer })`);
    bytes = modelOrBytes; // the caller's: copied by postMessage, never taken away
  } else {
    throw new Error(`fathom.${op}: modelOrBytes must be an nn.Module or the bytes of serialize(model), got ${show(modelOrBytes)}`);
  }
  const one = (name: string, t: unknown): WireTensor => {
    if (!(t instanceof Tensor)) throw new Error(`fathom.${op}: ${name} must be a Tensor, got ${show(t)}`);
    const s = shareMemory(checkStorage(op, name, t));
    return { data: s.data, shape: [...s.shape] };
  };
  // A tensor, or a model's several inputs / targets as a list or an object by name (fit() checks the names).
  const shared = (name: string, ts: unknown): WireTensors => {
    if (Array.isArray(ts)) return ts.map((t, i) => one(`${name}[${i}]`, t));
    if (ts !== null && typeof ts === 'object' && !(ts instanceof Tensor) && Object.getPrototypeOf(ts) === Object.prototype) {
      const out: Record<string, WireTensor> = {};
      for (const [k, t] of Object.entries(ts)) out[k] = one(`${name}.${k}`, t);
      return out;
    }
    return one(name, ts);
  };
  const v = opts.validationData;
  if (v !== undefined && v.length !== 2) throw new Error(`fathom.${op}: options.validationData must be [x, y], got an array of ${v.length}`);
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  if (!(Number.isFinite(idleMs) && idleMs >= 0 && idleMs <= 2 ** 31 - 1)) throw new Error(`fathom.${op}: options.idleTimeoutMs must be a number of milliseconds in [0, 2^31 - 1], got ${show(idleMs)}`);
  const nice = opts.nice === undefined ? 0 : checkNice(op, opts.nice);
  if (opts.lrSchedulerState !== undefined && opts.lrScheduler === undefined) throw new Error(`fathom.${op}: options.lrSchedulerState was given without an lrScheduler (give the scheduler as data, e.g. { type: 'OneCycleLR', maxLr, totalSteps })`);
  // The shuffle seed and the worker's global stream, drawn here: reproducible after manualSeed on this thread.
  const draws = rand([2]).data;
  const imports = workerImports(op, opts.imports);
  const { signal: _s, onEpochEnd: _e, onBatchEnd: _b, validationData: _v, imports: _i, optimizer: _o, idleTimeoutMs: _t, nice: _n, ...fitOptions } = opts;
  const input: WorkerInput = {
    bytes,
    x: shared('x', x),
    y: shared('y', y),
    validationData: v && [shared('validationData[0]', v[0]), shared('validationData[1]', v[1])],
    options: { verbose: 0, ...fitOptions, ...(optimizer ? {} : { optimizer: opts.optimizer }), seed: opts.seed ?? Math.floor(draws[0] * 2 ** 32) },
    backend: backend().name,
    imports,
    globalSeed: Math.floor(draws[1] * 2 ** 31),
    control: new Int32Array(new SharedArrayBuffer(4)),
    batchEvents: onBatchEnd !== undefined,
    nice,
  };

  const worker = takeWorker(input, transfer);
  const stop = (): void => void Atomics.store(input.control, 0, 1);
  signal?.addEventListener('abort', stop, { once: true });
  // Kept for the next call when the job finished (trained or aborted); terminated when it failed (an
  // error it reported: e.g. a module in imports half loaded), died, or is still running (a progress callback threw).
  let reusable = false;
  let onMessage: (m: WorkerMessage) => void = () => {};
  let onError: (e: unknown) => void = () => {};
  let onExit: (code: number) => void = () => {};
  try {
    const done = await new Promise<Extract<WorkerMessage, { type: 'done' }>>((resolve, reject) => {
      onMessage = (m) => {
        try {
          if (m.type === 'batch') onBatchEnd?.(m.batch, m.logs);
          else if (m.type === 'epoch') onEpochEnd?.(m.epoch, m.logs);
          else if (m.type === 'done') {
            reusable = true;
            resolve(m);
          } else {
            reject(workerError(m));
          }
        } catch (e) {
          reject(e); // a throwing onEpochEnd / onBatchEnd: the worker is terminated below
        }
      };
      onError = reject; // uncaught in the worker (its own code is wrapped; e.g. out of memory)
      onExit = (code) => reject(new Error(`fathom.${op}: the worker exited (code ${code}) before it finished`));
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
    });
    const back = deserializeCheckpoint(done.bytes);
    const result: FitInWorkerResult = { model: back.model, optimizer: back.optimizer, history: done.history, aborted: done.aborted };
    if (done.lrSchedulerState) result.lrSchedulerState = done.lrSchedulerState;
    return result;
  } finally {
    signal?.removeEventListener('abort', stop);
    worker.off('message', onMessage);
    worker.off('error', onError);
    worker.off('exit', onExit);
    await release(worker, reusable, idleMs);
  }
}

/** Idle fit workers, warm (imports loaded, code compiled), newest last; each closes itself after its idle timeout. */
const idleWorkers: { worker: Worker; timer: ReturnType<typeof setTimeout> }[] = [];
/** At most this many idle workers are kept. */
const MAX_IDLE = 2;
/** Workers started by fitInWorker (the bench reports whether a call started one). @internal */
export const fitWorkerStats = { started: 0, reused: 0 };

/** An idle worker given this job, or a new worker started with it. */
function takeWorker(input: WorkerInput, transfer: ArrayBuffer[]): Worker {
  const idle = idleWorkers.pop();
  if (idle) {
    clearTimeout(idle.timer);
    idle.worker.ref();
    idle.worker.postMessage({ type: 'job', input }, transfer);
    fitWorkerStats.reused++;
    return idle.worker;
  }
  const worker = new Worker(workerScript(), { workerData: input, transferList: transfer, execArgv: workerExecArgv() });
  fitWorkerStats.started++;
  liveWorkers.add(worker);
  worker.once('exit', () => {
    liveWorkers.delete(worker);
    const i = idleWorkers.findIndex((w) => w.worker === worker);
    if (i >= 0) {
      clearTimeout(idleWorkers[i].timer);
      idleWorkers.splice(i, 1);
    }
  });
  return worker;
}

/** After a job: kept idle for the next call (unref'd: it never keeps the process alive), or terminated. */
async function release(worker: Worker, reusable: boolean, idleMs: number): Promise<void> {
  if (!reusable || idleMs === 0 || idleWorkers.length >= MAX_IDLE) {
    await worker.terminate();
    return;
  }
  worker.unref();
  const timer = setTimeout(() => {
    const i = idleWorkers.findIndex((w) => w.worker === worker);
    if (i >= 0) idleWorkers.splice(i, 1);
    void worker.terminate();
  }, idleMs);
  timer.unref();
  idleWorkers.push({ worker, timer });
}

/** Runs `f` with the idle workers set aside, so that its fitInWorker calls start new ones (bench/serve/fit-worker.mjs's cold runs). @internal */
export async function withoutIdleWorkers<T>(f: () => Promise<T>): Promise<T> {
  const aside = idleWorkers.splice(0);
  try {
    return await f();
  } finally {
    idleWorkers.push(...aside);
  }
}

/** How many idle fit workers are kept now (tests). @internal */
export function idleFitWorkers(): number {
  return idleWorkers.length;
}

/** Ends the idle fitInWorker workers now (serve.closeWorkers). @internal */
export async function closeIdleFitWorkers(): Promise<void> {
  const all = idleWorkers.splice(0);
  for (const w of all) clearTimeout(w.timer);
  await Promise.all(all.map((w) => w.worker.terminate()));
}

/** Refuses what cannot cross threads among fit's data options, naming the option. */
function checkDataOptions(opts: Record<string, unknown>): void {
  const op = 'fathom.fitInWorker';
  const lossFn = `a loss function ${CROSS}; give the loss by name (e.g. 'crossEntropy'), or call fit() on this thread`;
  if (typeof opts.loss === 'function') throw new Error(`${op}: options.loss: ${lossFn}`);
  if (opts.loss !== null && typeof opts.loss === 'object') {
    for (const [k, l] of Object.entries(opts.loss)) {
      if (typeof l === 'function') throw new Error(`${op}: options.loss${Array.isArray(opts.loss) ? `[${k}]` : `.${k}`}: ${lossFn}`);
    }
  }
  if (opts.optimizer !== undefined && typeof opts.optimizer !== 'string' && !(opts.optimizer instanceof Optimizer)) {
    throw new Error(`${op}: options.optimizer must be an optimizer's name (e.g. 'adam') or an Optimizer over the model's parameters, got ${show(opts.optimizer)}`);
  }
  // A name is checked here, before a worker starts (and before checkpoint bytes are compared with it).
  if (typeof opts.optimizer === 'string' && !Object.hasOwn(OPTIMIZERS, opts.optimizer)) {
    const names = Object.keys(OPTIMIZERS);
    throw new Error(`${op}: options.optimizer must be one of ${names.map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(opts.optimizer)}${closest(opts.optimizer, names)}`);
  }
  if (Array.isArray(opts.metrics)) (opts.metrics as unknown[]).forEach((m, i) => {
    if (typeof m === 'function' || (m !== null && typeof m === 'object' && typeof (m as { fn?: unknown }).fn === 'function')) {
      throw new Error(`${op}: options.metrics[${i}]: a metric function ${CROSS}; use the built-in names ('accuracy', 'topK', 'f1', …)`);
    }
  });
  const s = opts.lrScheduler as Record<string, unknown> | undefined;
  if (s !== undefined) {
    if (typeof s.step === 'function' || Object.getPrototypeOf(s) !== Object.prototype) {
      throw new Error(`${op}: options.lrScheduler: a scheduler instance holds this thread's optimizer and ${CROSS}; describe it as data, e.g. { type: 'OneCycleLR', maxLr: 2e-3, totalSteps: 1000 }`);
    }
    if (typeof s.type !== 'string' || !(WORKER_SCHEDULERS as readonly string[]).includes(s.type)) {
      throw new Error(`${op}: options.lrScheduler.type must be one of ${WORKER_SCHEDULERS.join(', ')}, got ${show(s.type)}`);
    }
  }
  // Anything else that holds a function (deep), e.g. a scheduler option, is named too.
  const path = functionIn(opts, ['signal', 'onEpochEnd', 'onBatchEnd', 'validationData', 'imports', 'optimizer', 'idleTimeoutMs', 'nice']);
  if (path) throw new Error(`${op}: options.${path} is a function, which ${CROSS}`);
}

/** The path of the first function inside v (skipping the top-level keys in `skip`), if any. */
function functionIn(v: unknown, skip: string[] = [], path = ''): string | undefined {
  if (typeof v === 'function') return path;
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return undefined;
  for (const [k, x] of Object.entries(v)) {
    if (skip.includes(k)) continue;
    const p = functionIn(x, [], path ? (Array.isArray(v) ? `${path}[${k}]` : `${path}.${k}`) : k);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** The worker's error, with its message; its stack (the worker's) as the cause. */
export function workerError(m: Extract<WorkerMessage, { type: 'error' }>): Error {
  const e = new Error(m.message, m.stack ? { cause: Object.assign(new Error(m.message), { name: m.name, stack: m.stack }) } : undefined);
  if (m.name && m.name !== 'Error') e.name = m.name;
  return e;
}

/**
 * The path of a compiled worker script next to this module (dist/serve/fit-worker.js, or
 * `file`, as installed). @internal Run from the TypeScript sources (vitest), this folder holds
 * fit-worker.ts, which a Worker cannot load: the checkout's compiled dist/
 * is used instead (`npm test` builds it first; `npx tsc -p tsconfig.json`).
 */
export function workerScript(file = 'fit-worker.js', op = 'fitInWorker'): string {
  const own = new URL(`./${file}`, import.meta.url);
  if (existsSync(own)) return fileURLToPath(own);
  const built = new URL(`../../dist/serve/${file}`, import.meta.url);
  if (existsSync(built)) return fileURLToPath(built);
  throw new Error(`fathom.${op}: the worker script ${fileURLToPath(own)} is missing; build the package (npm run build:ts)`);
}

/**
 * The Node flags a fathom worker starts with: undefined (the parent's, Node's default) unless the parent ran
 * with `--input-type` (`node --input-type=module -e …`), which a worker started from a file refuses
 * (ERR_INPUT_TYPE_NOT_ALLOWED): then the parent's flags without it. @internal
 */
export function workerExecArgv(): string[] | undefined {
  const argv = process.execArgv;
  const i = argv.findIndex((a) => a === '--input-type' || a.startsWith('--input-type='));
  if (i < 0) return undefined;
  const out = [...argv];
  out.splice(i, argv[i] === '--input-type' ? 2 : 1);
  // -e / -p and their script are the parent's own program, not flags for a worker's file.
  const e = out.findIndex((a) => a === '-e' || a === '--eval' || a === '-p' || a === '--print');
  if (e >= 0) out.splice(e, 2);
  return out;
}

/** The `imports` option (module specifiers, URLs or absolute paths) as hrefs a worker can import. @internal */
export function workerImports(op: string, list: readonly unknown[] | undefined): string[] {
  return (list ?? []).map((u, i) => {
    const href = typeof u === 'string' ? u : u !== null && typeof u === 'object' && typeof (u as { href?: unknown }).href === 'string' ? (u as { href: string }).href : undefined;
    if (href === undefined || href === '') throw new Error(`fathom.${op}: options.imports[${i}] must be a module specifier or a URL, got ${show(u)}`);
    if (/^\.\.?\//.test(href)) throw new Error(`fathom.${op}: options.imports[${i}] is relative (${show(href)}); the worker cannot know relative to what: pass new URL(${show(href)}, import.meta.url)`);
    return href.startsWith('/') ? pathToFileURL(href).href : href;
  });
}
