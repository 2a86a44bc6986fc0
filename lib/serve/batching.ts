/**
 * BatchingPredictor: dynamic batching for a server answering many small
 * requests (the Triton / TorchServe idea).
 *
 *   const bp = new serve.BatchingPredictor(model, { maxBatchSize: 64, maxDelayMs: 2 });
 *   const y = await bp.predict(x);          // x (N, …), N ≥ 1 rows; y: its own N rows
 *
 * Concurrent requests wait in a FIFO queue and are merged (their rows
 * concatenated on the batch axis) into one batch of at most maxBatchSize
 * rows, run in an InferencePool worker (lib/serve/pool.ts: never on the JS
 * thread) as ONE forward pass; each caller gets its own rows back. A request
 * larger than maxBatchSize is split over several batches (and a request may
 * share a batch with its neighbours), and resolves when all its rows are in.
 *
 * When a batch is sent: as soon as fewer than two batches per pool worker are
 * outstanding (one running, the next waiting in the worker's port, so the
 * worker never idles while this thread splits results) and either
 * maxBatchSize rows are waiting, the oldest request has waited maxDelayMs,
 * or close() was called. While batches run, new requests gather into the
 * next one, so under load batches fill up by themselves and an idle server
 * answers a lone request after maxDelayMs.
 *
 * Backpressure: at most maxQueue requests wait (not yet fully handed to a
 * batch); one more rejects at once with an Error saying so. Cancellation:
 * `predict(x, { signal })` — aborting the signal while the request still waits
 * removes it and rejects with `signal.reason`; once any of its rows is in a
 * running batch the request completes normally (a running forward pass is
 * not interrupted). Every request must have the same shape after the batch
 * dimension (and dtype) as the first one accepted; another is refused with an
 * error naming both shapes, before it can spoil a batch. The first request
 * after setModel sets the shape anew (the new model may take another input),
 * and so does the next request after the first shape's batch failed without
 * any batch of that shape ever answered (a bad first request does not lock
 * the predictor), and so does the next request after every request of the
 * first shape was cancelled (or refused at the call) before any batch of it
 * ran; a batch only ever holds rows of one shape and one snapshot.
 *
 * Snapshot and hot swap: the predictor computes with a snapshot of the model
 * (serialized at construction; see InferencePool). `setModel(m)` takes a new
 * snapshot: requests made before it are answered with the old weights
 * (batches never mix the two), requests made after it with the new ones, and
 * no request is dropped.
 *
 * Given an InferencePool instead of a model, the predictor uses it (and its
 * worker count) and leaves it open at close(); given a model, it creates a
 * one-worker pool of its own (`workers` option) and closes it at close().
 */
import { Module } from '../layers/module.js';
import { Tensor, checkStorage } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { checkOptions, show, type OptionSpec } from '../layers/options.js';
import { serialize } from '../io/serialize.js';
import type { AbortSignalLike } from './fit.js';
import { InferencePool, type InferencePoolOptions } from './pool.js';
import { checkNice } from './priority.js';

export interface BatchingPredictorOptions extends InferencePoolOptions {
  /** Most rows in one batch: an integer in 1..2^20. Default 64. */
  maxBatchSize?: number;
  /** Longest a request waits for others to fill its batch, in milliseconds (0: run as soon as a worker is free). Default 2. */
  maxDelayMs?: number;
  /** Most requests waiting; one more is rejected at once. Default 1024. */
  maxQueue?: number;
  /**
   * Most requests answered (their promises resolved) in one event-loop turn; the rest of a batch's answers
   * follow in later turns (setImmediate), so timers and I/O run between them: a server answering a batch
   * of 64 requests then never spends one turn on all 64 responses. Infinity: all at once. Default 16.
   */
  answersPerTurn?: number;
}

export interface BatchPredictOptions {
  /** Cancels the request while it waits in the queue (rejects with signal.reason). */
  signal?: AbortSignalLike;
}

export interface BatchingStats {
  /** Requests waiting (not yet wholly handed to a batch). */
  queueDepth: number;
  /** Rows those requests still have waiting. */
  queuedRows: number;
  /** Batches running now. */
  inFlight: number;
  /** Requests answered. */
  completed: number;
  /** Requests refused because the queue was full. */
  rejected: number;
  /** Requests cancelled by their signal. */
  cancelled: number;
  /** Requests that failed (the worker's error). */
  failed: number;
  /** Batches run (completed or failed). */
  batches: number;
  /** Mean rows per batch (0 before the first batch). */
  meanBatchSize: number;
  /** batchSizes[k] = batches of k rows run so far (length maxBatchSize + 1). */
  batchSizes: number[];
  /** Request latency (from predict() to its result), milliseconds, over the last 4096 answered requests (0 before any). */
  latencyMs: { p50: number; p99: number; mean: number; max: number };
}

interface Request {
  data: Float32Array | Int32Array; // the caller's rows, copied at the call
  n: number;
  shape: number[]; // per-sample shape (after N)
  dtype: string;
  next: number; // rows handed to batches
  done: number; // rows answered
  version: number; // the model snapshot it is answered with
  t0: number;
  out?: Float32Array | Int32Array;
  outRow?: number[];
  failed?: boolean;
  resolve: (y: Tensor) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignalLike;
}
interface Segment {
  r: Request;
  from: number; // first row of r
  k: number; // rows
}

const OPTIONS: OptionSpec = { maxBatchSize: 'number', maxDelayMs: 'number', maxQueue: 'number', answersPerTurn: 'number', workers: 'number', imports: 'array', nice: 'number' };
const PREDICT_OPTIONS: OptionSpec = { signal: 'object' };
const LATENCIES = 4096;
/** Largest maxBatchSize: stats() keeps a histogram entry per batch size. */
const MAX_BATCH = 1 << 20;

export class BatchingPredictor {
  readonly maxBatchSize: number;
  readonly maxDelayMs: number;
  readonly maxQueue: number;
  readonly answersPerTurn: number;
  private readonly pool: InferencePool;
  private readonly ownsPool: boolean;
  private queue: Request[] = [];
  private queuedRows = 0;
  private inFlight = 0;
  /** Batches whose answers are being handed out (answersPerTurn at a time). */
  private delivering = 0;
  /** Batches sent and not answered, at most: two per worker (one running, the next already waiting in its port). */
  private maxInFlight: number;
  /** Shared buffers of answered batches, for the next ones (batchBuffer). */
  private spare: SharedArrayBuffer[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  /**
   * The per-sample shape and dtype requests must have: set by the first request after construction or
   * setModel; `confirmed` once a batch of that shape has been answered. Until then a failing batch of
   * that shape (e.g. a first request with the wrong width) clears it, so one bad request cannot lock
   * the predictor to a shape the model refuses.
   */
  private sample?: { shape: number[]; dtype: string; version: number; confirmed: boolean; running: number };
  /** Version of the newest snapshot (setModel) and of the one the pool holds. */
  private version = 0;
  private poolVersion = 0;
  private swaps: { version: number; bytes: Uint8Array }[] = [];
  private closing?: Promise<void>;
  private closed = false;
  private drained?: () => void;
  private counts = { completed: 0, rejected: 0, cancelled: 0, failed: 0, batches: 0, rows: 0 };
  private sizes: number[];
  private latencies = new Float64Array(LATENCIES);
  private latencyCount = 0;

  /**
   * @param modelOrPool a Module (serialized now; a one-worker pool of its own, or `workers`), the bytes of
   *   serialize(model), or an InferencePool to share.
   * @throws `fathom.BatchingPredictor: ...` for a bad model or option (each an integer ≥ 1, maxDelayMs ≥ 0).
   */
  constructor(modelOrPool: Module | Uint8Array | InferencePool, options?: BatchingPredictorOptions) {
    const op = 'BatchingPredictor';
    const opts = checkOptions<BatchingPredictorOptions>(op, options, OPTIONS);
    const int = (name: keyof BatchingPredictorOptions, d: number): number => {
      const v = opts[name] ?? d;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`fathom.${op}: options.${name} must be an integer ≥ 1, got ${show(v)}`);
      return v;
    };
    this.maxBatchSize = int('maxBatchSize', 64);
    if (this.maxBatchSize > MAX_BATCH) throw new Error(`fathom.${op}: options.maxBatchSize must be at most ${MAX_BATCH} rows, got ${show(this.maxBatchSize)}`);
    this.maxQueue = int('maxQueue', 1024);
    const apt = opts.answersPerTurn ?? 16;
    if (apt !== Infinity && (typeof apt !== 'number' || !Number.isInteger(apt) || apt < 1)) throw new Error(`fathom.${op}: options.answersPerTurn must be an integer ≥ 1 or Infinity, got ${show(apt)}`);
    this.answersPerTurn = apt;
    this.maxDelayMs = opts.maxDelayMs ?? 2;
    if (typeof this.maxDelayMs !== 'number' || !(this.maxDelayMs >= 0) || !Number.isFinite(this.maxDelayMs)) {
      throw new Error(`fathom.${op}: options.maxDelayMs must be a finite number ≥ 0, got ${show(this.maxDelayMs)}`);
    }
    if (opts.nice !== undefined) checkNice(op, opts.nice);
    this.sizes = new Array<number>(this.maxBatchSize + 1).fill(0);
    if (modelOrPool instanceof InferencePool) {
      if (opts.workers !== undefined || opts.imports !== undefined || opts.nice !== undefined) throw new Error(`fathom.${op}: options.workers, options.imports and options.nice are the pool's: give them to new InferencePool(), not with a pool`);
      if (modelOrPool.closed) throw new Error(`fathom.${op}: the InferencePool is closed`);
      this.pool = modelOrPool;
      this.ownsPool = false;
    } else if (modelOrPool instanceof Module || modelOrPool instanceof Uint8Array) {
      this.pool = new InferencePool(modelOrPool, { workers: opts.workers, imports: opts.imports, nice: opts.nice });
      this.ownsPool = true;
    } else {
      throw new Error(`fathom.${op}: model must be an nn.Module, the bytes of serialize(model) or a serve.InferencePool, got ${show(modelOrPool)}`);
    }
    this.maxInFlight = 2 * this.pool.workers;
  }

  /**
   * The model's output for x's rows, computed in a batch with other requests: a Tensor (N, …) with x's N
   * rows, in order, as predict(model, x) gives them (one forward pass may hold rows of several requests:
   * exact for models whose rows are independent, i.e. any model in eval mode). x is copied at the call.
   * @throws (rejects) `fathom.BatchingPredictor.predict: ...` at once for a bad x (a non-Tensor, no rows, a
   *   per-sample shape or dtype other than the first request's: both named), a full queue or a closed
   *   predictor; with `signal.reason` when cancelled; with the worker's error when the batch fails.
   */
  predict(x: Tensor, options?: BatchPredictOptions): Promise<Tensor> {
    const op = 'BatchingPredictor.predict';
    try {
      const { signal } = checkOptions<BatchPredictOptions>(op, options, PREDICT_OPTIONS);
      if (signal !== undefined && !(typeof AbortSignal === 'function' && signal instanceof AbortSignal)) throw new Error(`fathom.${op}: options.signal must be an AbortSignal, got ${show(signal)}`);
      if (this.closing) throw new Error(`fathom.${op}: the predictor is closed (close() was called); no new requests are taken`);
      if (!(x instanceof Tensor)) throw new Error(`fathom.${op}: x must be a Tensor (N, …) with at least one row, got ${show(x)}`);
      checkStorage(op, 'x', x);
      if (x.rank < 1 || x.shape[0] < 1) throw new Error(`fathom.${op}: x must have a batch dimension with at least one row (a single sample is [1, …]), got ${fmt(x.shape)}`);
      const shape = x.shape.slice(1);
      if (this.sample && (x.dtype !== this.sample.dtype || shape.length !== this.sample.shape.length || shape.some((d, i) => d !== this.sample!.shape[i]))) {
        throw new Error(
          `fathom.${op}: x has per-sample shape ${fmt(shape)} (${x.dtype}), but requests to this predictor have ${fmt(this.sample.shape)} ` +
            `(${this.sample.dtype}, set by the first request${this.sample.confirmed ? ' and answered by the model' : ''}${this.version > 0 ? ' since the last setModel' : ''}): rows of different shapes cannot share a batch`,
        );
      }
      if (this.queue.length >= this.maxQueue) {
        this.counts.rejected++;
        throw new Error(`fathom.${op}: the queue is full (${this.queue.length} requests waiting, maxQueue = ${this.maxQueue}); retry later or raise maxQueue`);
      }
      if (signal?.aborted) throw signal.reason;
      // Only a request that is accepted sets the shape (one refused or already cancelled must not lock it).
      this.sample ??= { shape, dtype: x.dtype, version: this.version, confirmed: false, running: 0 };
      return new Promise<Tensor>((resolve, reject) => {
        const r: Request = { data: x.data.slice(), n: x.shape[0], shape, dtype: x.dtype, next: 0, done: 0, version: this.version, t0: performance.now(), resolve, reject, signal };
        if (signal) this.watch(r, signal);
        this.queue.push(r);
        this.queuedRows += r.n;
        this.schedule();
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Answers later requests with `modelOrBytes` (serialized now: a snapshot): requests made before this call
   * get the old weights, those after it the new ones (a batch never mixes them); none is dropped.
   * @throws `fathom.BatchingPredictor.setModel: ...` for a non-Module or after close().
   */
  setModel(modelOrBytes: Module | Uint8Array): void {
    const op = 'BatchingPredictor.setModel';
    if (this.closing) throw new Error(`fathom.${op}: the predictor is closed`);
    let bytes: Uint8Array;
    if (modelOrBytes instanceof Module) bytes = serialize(modelOrBytes);
    else if (modelOrBytes instanceof Uint8Array) bytes = modelOrBytes.slice();
    else throw new Error(`fathom.${op}: model must be an nn.Module or the bytes of serialize(model), got ${show(modelOrBytes)}`);
    this.swaps.push({ version: ++this.version, bytes });
    this.sample = undefined; // the new model may take another input shape: the next request sets it
    if (this.queue.length === 0) this.applySwaps(this.version);
    this.schedule(); // the waiting requests of the old snapshot need not wait for newer ones
  }

  /** Resolves when the pool's workers can answer (InferencePool.ready). */
  ready(): Promise<void> {
    return this.pool.ready();
  }

  /** Queue depth, batch sizes, latencies: see BatchingStats. */
  stats(): BatchingStats {
    const c = this.counts;
    const n = Math.min(this.latencyCount, LATENCIES);
    const lat = Array.from(this.latencies.subarray(0, n)).sort((a, b) => a - b);
    const q = (p: number): number => (n === 0 ? 0 : lat[Math.min(n - 1, Math.ceil(p * n) - 1)]);
    return {
      queueDepth: this.queue.length,
      queuedRows: this.queuedRows,
      inFlight: this.inFlight,
      completed: c.completed,
      rejected: c.rejected,
      cancelled: c.cancelled,
      failed: c.failed,
      batches: c.batches,
      meanBatchSize: c.batches === 0 ? 0 : c.rows / c.batches,
      batchSizes: [...this.sizes],
      latencyMs: { p50: q(0.5), p99: q(0.99), mean: n === 0 ? 0 : lat.reduce((a, b) => a + b, 0) / n, max: n === 0 ? 0 : lat[n - 1] },
    };
  }

  /**
   * Refuses new requests, runs every waiting one (without waiting maxDelayMs) and resolves when all are
   * answered; then closes the pool if the predictor created it. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.schedule();
      if (this.queue.length > 0 || this.inFlight > 0 || this.delivering > 0) await new Promise<void>((r) => { this.drained = r; });
      if (this.timer) clearTimeout(this.timer);
      if (this.ownsPool) await this.pool.close();
    })();
    return this.closing;
  }

  /** Runs batches while a worker is free and a batch is due; otherwise sets the timer for the oldest request. */
  private schedule(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const head = this.queue[0];
      const due = this.closed || head.version < this.version || this.queuedRows >= this.maxBatchSize || performance.now() - head.t0 >= this.maxDelayMs;
      if (!due) break;
      this.runBatch();
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const wait = Math.max(0, this.maxDelayMs - (performance.now() - this.queue[0].t0));
      this.timer = setTimeout(() => { this.timer = undefined; this.schedule(); }, wait);
    }
    if (this.queue.length === 0 && this.inFlight === 0 && this.delivering === 0) this.drained?.();
  }

  /** Takes up to maxBatchSize rows from the head of the queue (one snapshot version, one per-sample shape) and runs them as one batch. */
  private runBatch(): void {
    const head = this.queue[0];
    const { version, shape, dtype } = head;
    const same = (r: Request): boolean => r.version === version && r.dtype === dtype && r.shape.length === shape.length && r.shape.every((d, i) => d === shape[i]);
    const segs: Segment[] = [];
    let rows = 0;
    while (rows < this.maxBatchSize && this.queue.length > 0 && same(this.queue[0])) {
      const r = this.queue[0];
      const k = Math.min(r.n - r.next, this.maxBatchSize - rows);
      if (r.next === 0 && r.signal) this.unwatch(r, r.signal); // started: no longer cancellable
      segs.push({ r, from: r.next, k });
      r.next += k;
      rows += k;
      this.queuedRows -= k;
      if (r.next === r.n) this.queue.shift();
    }
    this.applySwaps(version);
    const row = shape.reduce((a, b) => a * b, 1);
    const buf = this.batchBuffer(rows * row * 4);
    const data = dtype === 'int32' ? new Int32Array(buf) : new Float32Array(buf);
    let at = 0;
    for (const s of segs) {
      data.set(s.r.data.subarray(s.from * row, (s.from + s.k) * row), at);
      at += s.k * row;
    }
    this.inFlight++;
    this.counts.batches++;
    this.counts.rows += rows;
    this.sizes[rows]++;
    const sample = this.sample;
    const ofSample = sample !== undefined && this.ofSample(sample, { version, dtype, shape });
    if (ofSample) sample.running++;
    this.pool.run({ data, shape: [rows, ...shape] }).then(
      (y) => {
        this.recycle(buf); // answered: the worker has finished reading it
        const ok = this.deliver(segs, rows, y);
        if (ofSample && this.sample === sample) {
          if (ok) sample.confirmed = true;
          else if (!sample.confirmed) this.sample = undefined; // the model refused this shape's batch (an output of other rows): as a failed batch
        }
      },
      (e: unknown) => {
        if (ofSample && this.sample === sample && !sample.confirmed) this.sample = undefined; // never answered: let the next request set the shape
        this.fail(segs, e);
      },
    ).finally(() => {
      if (ofSample) sample.running--;
      this.inFlight--;
      this.schedule();
    });
  }

  /**
   * A shared buffer of `bytes` for a batch's rows: a recycled one of that size (batches under load are
   * mostly maxBatchSize rows) or a new one. Allocating ~200 KB of shared memory per batch (a batch-64 MNIST
   * batch) at thousands of batches per second made V8 collect for the external memory it reported.
   */
  private batchBuffer(bytes: number): SharedArrayBuffer {
    const i = this.spare.findIndex((b) => b.byteLength === bytes);
    return i >= 0 ? this.spare.splice(i, 1)[0] : new SharedArrayBuffer(bytes);
  }

  /**
   * Keeps an answered batch's buffer for the next batch: the newest two per in-flight slot (an older one of
   * a size no longer asked for leaves first). A failed batch's is dropped. Buffers are reused at their exact
   * size: handing a partly filled batch a view of a full-size buffer measured slower (100k vs 133k req/s in
   * bench/serve/batching.mjs, one kernel thread), for reasons not found yet.
   */
  private recycle(buf: SharedArrayBuffer): void {
    this.spare.push(buf);
    if (this.spare.length > 2 * this.maxInFlight) this.spare.shift();
  }

  /** Posts the snapshots up to `version` to the pool (in order): they apply before the next batch sent. */
  private applySwaps(version: number): void {
    while (this.swaps.length > 0 && this.swaps[0].version <= version) {
      const s = this.swaps.shift()!;
      if (s.version > this.poolVersion) {
        this.pool.setModel(s.bytes);
        this.poolVersion = s.version;
      }
    }
  }

  /**
   * Hands each request its rows of y; false (and the requests rejected) when y is not one tensor of `rows`
   * rows. At most answersPerTurn requests are resolved now; the rest of the batch follow in later event-loop
   * turns (setImmediate), so the callers' continuations (an HTTP answer each) are spread over several turns
   * and timers and I/O run between them.
   */
  private deliver(segs: Segment[], rows: number, y: Tensor | Tensor[]): boolean {
    if (!(y instanceof Tensor) || y.rank < 1 || y.shape[0] !== rows) {
      const got = y instanceof Tensor ? `a tensor of shape ${fmt(y.shape)}` : `${y.length} outputs`;
      // A rank-1 x is N rows of one value each; the usual slip is one sample of D features given as [D].
      const hint = segs[0].r.shape.length === 0 ? ` (the requests' x were rank 1, [N]: N rows of one value each; one sample of D features is [1, D])` : '';
      this.fail(segs, new Error(`fathom.BatchingPredictor: the model must map a batch of ${rows} rows to one tensor of ${rows} rows, got ${got}${hint}`));
      return false;
    }
    const outRow = y.shape.slice(1);
    const row = y.size / rows;
    const offsets = new Array<number>(segs.length);
    for (let i = 0, at = 0; i < segs.length; i++) {
      offsets[i] = at;
      at += segs[i].k * row;
    }
    const slice = (from: number): void => {
      let answered = 0;
      let i = from;
      for (; i < segs.length && answered < this.answersPerTurn; i++) {
        const { r, from: first, k } = segs[i];
        if (r.failed) continue;
        if (!r.out) {
          r.out = y.dtype === 'int32' ? new Int32Array(r.n * row) : new Float32Array(r.n * row);
          r.outRow = outRow;
        }
        r.out.set(y.data.subarray(offsets[i], offsets[i] + k * row), first * row);
        r.done += k;
        if (r.done === r.n) {
          this.counts.completed++;
          this.latencies[this.latencyCount++ % LATENCIES] = performance.now() - r.t0;
          r.resolve(new Tensor(r.out, [r.n, ...r.outRow!]));
          answered++;
        }
      }
      if (i < segs.length) {
        setImmediate(slice, i);
        return;
      }
      this.delivering--;
      if (this.queue.length === 0 && this.inFlight === 0 && this.delivering === 0) this.drained?.();
    };
    this.delivering++;
    slice(0);
    return true;
  }

  /** A batch failed: each of its requests rejects with the error (and its rows still waiting are dropped). */
  private fail(segs: Segment[], e: unknown): void {
    for (const { r } of segs) {
      if (r.failed) continue;
      r.failed = true;
      this.counts.failed++;
      const i = this.queue.indexOf(r);
      if (i >= 0) {
        this.queue.splice(i, 1);
        this.queuedRows -= r.n - r.next;
      }
      r.reject(e);
    }
  }

  /**
   * One 'abort' listener per distinct signal, however many waiting requests share it (a server's one
   * shutdown signal for every request would otherwise add a listener per request: Node warns past 10).
   */
  private watchers = new Map<AbortSignalLike, { requests: Set<Request>; listener: () => void }>();

  private watch(r: Request, signal: AbortSignalLike): void {
    let w = this.watchers.get(signal);
    if (!w) {
      const requests = new Set<Request>();
      const listener = (): void => {
        this.watchers.delete(signal);
        for (const q of requests) this.cancel(q);
      };
      w = { requests, listener };
      this.watchers.set(signal, w);
      signal.addEventListener('abort', listener, { once: true });
    }
    w.requests.add(r);
  }

  private unwatch(r: Request, signal: AbortSignalLike): void {
    const w = this.watchers.get(signal);
    if (!w || !w.requests.delete(r) || w.requests.size > 0) return;
    this.watchers.delete(signal);
    signal.removeEventListener('abort', w.listener);
  }

  /** Whether requests of this snapshot version, per-sample shape and dtype are of `s` (the shape requests must have). */
  private ofSample(s: { shape: number[]; dtype: string; version: number }, r: { shape: number[]; dtype: string; version: number }): boolean {
    return r.version === s.version && r.dtype === s.dtype && r.shape.length === s.shape.length && r.shape.every((d, i) => d === s.shape[i]);
  }

  /** The signal fired: a request that has not started leaves the queue and rejects with the reason. */
  private cancel(r: Request): void {
    if (r.next > 0 || r.failed) return;
    const i = this.queue.indexOf(r);
    if (i < 0) return;
    this.queue.splice(i, 1);
    this.queuedRows -= r.n;
    this.counts.cancelled++;
    // The shape was set by requests that were all cancelled before any batch of it ran: the next request sets it anew.
    const s = this.sample;
    if (s && !s.confirmed && s.running === 0 && this.ofSample(s, r) && !this.queue.some((q) => this.ofSample(s, q))) this.sample = undefined;
    r.reject(r.signal!.reason);
    this.schedule();
  }
}
