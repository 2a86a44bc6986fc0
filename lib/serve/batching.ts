/**
 * BatchingPredictor: dynamic batching for a server answering many small
 * requests (the Triton / TorchServe idea).
 *
 *   const bp = new serve.BatchingPredictor(model, { maxBatchSize: 64, maxDelayMs: 2 });
 *   const y = await bp.predict(x);          // x (N, …), N ≥ 1 rows; y: its own N rows
 *
 * Concurrent requests are merged, in the order they come (their rows
 * concatenated on the batch axis), into batches of at most maxBatchSize rows,
 * each run in an InferencePool worker (lib/serve/pool.ts: never on the JS
 * thread) as ONE forward pass; each caller gets its own rows back. A request's
 * rows are copied once, at the call, straight into the shared memory of the
 * batch they join (the worker reads them there). A request larger than
 * maxBatchSize is split over several batches (and a request may share a batch
 * with its neighbours), and resolves when all its rows are in.
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
import type { AbortSignalLike } from './fit.js';
import { InferencePool, type InferencePoolOptions } from './pool.js';
import { modelBytes } from './model-bytes.js';
import { SignalWatchers, isAbortSignal } from './share.js';
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

/** The per-sample shape and dtype requests must have (see BatchingPredictor.sample). */
interface Sample {
  shape: number[];
  dtype: string;
  /** The model snapshot its requests are answered with (setModel starts a new sample). */
  version: number;
  confirmed: boolean;
  /** Batches of this sample sent and not answered. */
  running: number;
}
interface Request {
  n: number;
  /** The sample it was accepted under (and so its snapshot version): its batches hold rows of that sample only. */
  sample: Sample;
  /** Rows still in batches not sent (n at the call; 0 once all are handed to the pool). */
  unsent: number;
  done: number; // rows answered
  t0: number;
  out?: Float32Array | Int32Array;
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
/**
 * A batch being filled or waiting to be sent: requests' rows are copied into its shared buffer at the
 * call (one copy per row, straight into the memory the worker reads). Only the newest batch takes rows;
 * the ones before it are full, or closed by a setModel or a new sample shape, and are due.
 */
interface Batch {
  buf: SharedArrayBuffer;
  data: Float32Array | Int32Array; // over all of buf
  capacity: number; // rows buf holds
  rows: number; // rows in it
  row: number; // values per row
  segs: Segment[];
  sample: Sample; // its requests' sample, shape and snapshot version
}

const OPTIONS: OptionSpec = { maxBatchSize: 'number', maxDelayMs: 'number', maxQueue: 'number', answersPerTurn: 'number', workers: 'number', imports: 'array', nice: 'number', threads: 'number', timeoutMs: 'number' };
const PREDICT_OPTIONS: OptionSpec = { signal: 'object' };
const LATENCIES = 4096;
/** Largest maxBatchSize: stats() keeps a histogram entry per batch size. */
const MAX_BATCH = 1 << 20;
/** A batch's buffer holds maxBatchSize rows when that is at most this many bytes; larger rows grow it as they come. */
const BATCH_BYTES = 8 << 20;

export class BatchingPredictor {
  readonly maxBatchSize: number;
  readonly maxDelayMs: number;
  readonly maxQueue: number;
  readonly answersPerTurn: number;
  private readonly pool: InferencePool;
  private readonly ownsPool: boolean;
  /** Batches not sent yet, oldest first; only the last one takes new rows (see Batch). */
  private batches: Batch[] = [];
  /** Requests with rows in those batches (the queue depth maxQueue bounds), and their rows. */
  private waiting = 0;
  private queuedRows = 0;
  private inFlight = 0;
  /** Batches whose answers are being handed out (answersPerTurn at a time). */
  private delivering = 0;
  /** Batches sent and not answered, at most: two per worker (one running, the next already waiting in its port). */
  private maxInFlight: number;
  /** Shared buffers of answered batches, for the next ones (batchBuffer). */
  private spare: SharedArrayBuffer[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  /** When the timer fires (performance.now() ms): it is only re-armed for another deadline. */
  private timerAt = -1;
  /**
   * The per-sample shape and dtype requests must have: set by the first request after construction or
   * setModel; `confirmed` once a batch of that shape has been answered. Until then a failing batch of
   * that shape (e.g. a first request with the wrong width) clears it, so one bad request cannot lock
   * the predictor to a shape the model refuses.
   */
  private sample?: Sample;
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
      if (opts.workers !== undefined || opts.imports !== undefined || opts.nice !== undefined || opts.threads !== undefined || opts.timeoutMs !== undefined) throw new Error(`fathom.${op}: options.workers, imports, nice, threads and timeoutMs are the pool's: give them to new InferencePool(), not with a pool`);
      if (modelOrPool.closed) throw new Error(`fathom.${op}: the InferencePool is closed`);
      this.pool = modelOrPool;
      this.ownsPool = false;
    } else if (modelOrPool instanceof Module || modelOrPool instanceof Uint8Array) {
      this.pool = new InferencePool(modelOrPool, { workers: opts.workers, imports: opts.imports, nice: opts.nice, threads: opts.threads, timeoutMs: opts.timeoutMs }, op);
      this.ownsPool = true;
    } else {
      throw new Error(`fathom.${op}: model must be an nn.Module, the bytes of serialize(model) or a serve.InferencePool, got ${show(modelOrPool)}`);
    }
    this.maxInFlight = 2 * this.pool.workers;
  }

  /**
   * The model's output for x's rows, computed in a batch with other requests: a Tensor (N, …) with x's N
   * rows, in order, as predict(model, x) gives them (one forward pass may hold rows of several requests:
   * the same values for models whose rows are independent, i.e. any model in eval mode, up to float rounding:
   * the native GEMM blocks by the batch's row count, so a row may differ from predict() on x alone in the
   * last bits). x is copied at the call.
   * @throws (rejects) `fathom.BatchingPredictor.predict: ...` at once for a bad x (a non-Tensor, no rows, a
   *   per-sample shape or dtype other than the first request's: both named), a full queue or a closed
   *   predictor; with `signal.reason` when cancelled; with the worker's error when the batch fails.
   */
  predict(x: Tensor, options?: BatchPredictOptions): Promise<Tensor> {
    const op = 'BatchingPredictor.predict';
    try {
      let signal: AbortSignalLike | undefined;
      if (options !== undefined) {
        signal = checkOptions<BatchPredictOptions>(op, options, PREDICT_OPTIONS).signal;
        if (signal !== undefined && !isAbortSignal(signal)) throw new Error(`fathom.${op}: options.signal must be an AbortSignal, got ${show(signal)}`);
      }
      if (this.closing) throw new Error(`fathom.${op}: the predictor is closed (close() was called); no new requests are taken`);
      if (!(x instanceof Tensor)) throw new Error(`fathom.${op}: x must be a Tensor (N, …) with at least one row, got ${show(x)}`);
      checkStorage(op, 'x', x);
      const xs = x.shape;
      if (xs.length < 1 || xs[0] < 1) throw new Error(`fathom.${op}: x must have a batch dimension with at least one row (a single sample is [1, …]), got ${fmt(xs)}`);
      const s = this.sample;
      if (s && !fits(s, x)) {
        if (xs.length === 1 && s.shape.length === 1 && xs[0] === s.shape[0]) {
          throw new Error(`fathom.${op}: x has shape ${fmt(xs)}: ${xs[0]} rows of one value each, but requests to this predictor have ${s.shape[0]} values a row; one sample is [1, ${s.shape[0]}]`);
        }
        throw new Error(
          `fathom.${op}: x has per-sample shape ${fmt(xs.slice(1))} (${x.dtype}), but requests to this predictor have ${fmt(s.shape)} ` +
            `(${s.dtype}, set by the first request${s.confirmed ? ' and answered by the model' : ''}${this.version > 0 ? ' since the last setModel' : ''}): rows of different shapes cannot share a batch`,
        );
      }
      if (this.waiting >= this.maxQueue) {
        this.counts.rejected++;
        throw new Error(`fathom.${op}: the queue is full (${this.waiting} requests waiting, maxQueue = ${this.maxQueue}); retry later or raise maxQueue`);
      }
      if (signal?.aborted) throw signal.reason;
      // Only a request that is accepted sets the shape (one refused or already cancelled must not lock it).
      const sample = s ?? (this.sample = { shape: xs.slice(1), dtype: x.dtype, version: this.version, confirmed: false, running: 0 });
      return new Promise<Tensor>((resolve, reject) => {
        const r: Request = { n: xs[0], sample, unsent: xs[0], done: 0, t0: performance.now(), resolve, reject, signal };
        this.enqueue(r, x.data);
        if (signal) this.watchers.watch(r, signal);
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
    this.swaps.push({ version: ++this.version, bytes: modelBytes(op, modelOrBytes) });
    this.sample = undefined; // the new model may take another input shape: the next request sets it
    if (this.batches.length === 0) this.applySwaps(this.version);
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
      queueDepth: this.waiting,
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
      if (!this.idle()) await new Promise<void>((r) => { this.drained = r; });
      this.disarm();
      this.spare = []; // nothing more to batch: the kept buffers can go
      if (this.ownsPool) await this.pool.close();
    })();
    return this.closing;
  }

  /**
   * Copies r's rows (`data`, n · row values) into the newest batch while it has room and is of r's sample
   * and snapshot, then into new batches: a request larger than maxBatchSize spans several, and a request
   * may share a batch with its neighbours.
   */
  private enqueue(r: Request, data: Float32Array | Int32Array): void {
    const row = data.length / r.n;
    let from = 0;
    while (from < r.n) {
      let b = this.batches.length > 0 ? this.batches[this.batches.length - 1] : undefined;
      if (!b || b.rows === this.maxBatchSize || b.sample !== r.sample) {
        b = this.newBatch(r, row, r.n - from);
        this.batches.push(b);
      } else if (b.rows === b.capacity) {
        this.grow(b, r.n - from);
      }
      const k = Math.min(r.n - from, b.capacity - b.rows);
      b.data.set(k === r.n ? data : data.subarray(from * row, (from + k) * row), b.rows * row);
      b.segs.push({ r, from, k });
      b.rows += k;
      from += k;
    }
    this.waiting++;
    this.queuedRows += r.n;
  }

  /**
   * A batch for r's sample, with room for `want` rows at least up to maxBatchSize: maxBatchSize rows when
   * that is at most BATCH_BYTES, else what `want` needs (grown when more rows come: grow).
   */
  private newBatch(r: Request, row: number, want: number): Batch {
    const bytesPerRow = row * 4;
    const capacity = this.maxBatchSize * bytesPerRow <= BATCH_BYTES ? this.maxBatchSize : Math.min(this.maxBatchSize, Math.max(want, Math.floor(BATCH_BYTES / Math.max(1, bytesPerRow))));
    const buf = this.batchBuffer(capacity * bytesPerRow);
    return { buf, data: r.sample.dtype === 'int32' ? new Int32Array(buf) : new Float32Array(buf), capacity, rows: 0, row, segs: [], sample: r.sample };
  }

  /** More room in a batch whose rows are large (newBatch): double it, up to maxBatchSize rows. */
  private grow(b: Batch, want: number): void {
    const capacity = Math.min(this.maxBatchSize, Math.max(2 * b.capacity, b.rows + want));
    const buf = this.batchBuffer(capacity * b.row * 4);
    const data = b.data instanceof Int32Array ? new Int32Array(buf) : new Float32Array(buf);
    data.set(b.data.subarray(0, b.rows * b.row));
    this.recycle(b.buf);
    Object.assign(b, { buf, data, capacity });
  }

  /** Sends due batches while the pool has room; otherwise arms the timer for the oldest waiting row. */
  private schedule(): void {
    while (this.batches.length > 0 && this.inFlight < this.maxInFlight) {
      const head = this.batches[0];
      // Not the newest batch: full, or closed by a setModel or a new sample, so it goes now.
      const due = this.closed || this.batches.length > 1 || head.rows >= this.maxBatchSize || head.sample.version < this.version ||
        performance.now() - head.segs[0].r.t0 >= this.maxDelayMs;
      if (!due) break;
      this.runBatch(this.batches.shift()!);
    }
    if (this.batches.length > 0 && this.inFlight < this.maxInFlight) {
      const at = this.batches[0].segs[0].r.t0 + this.maxDelayMs;
      if (at !== this.timerAt) {
        this.disarm();
        this.timerAt = at;
        this.timer = setTimeout(() => { this.timer = undefined; this.timerAt = -1; this.schedule(); }, Math.max(0, at - performance.now()));
      }
    } else {
      this.disarm();
    }
    if (this.idle()) this.drained?.();
  }

  /** Nothing waiting, running or being answered (what close() waits for). */
  private idle(): boolean {
    return this.batches.length === 0 && this.inFlight === 0 && this.delivering === 0;
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = -1;
  }

  /** Hands batch b (one snapshot version, one per-sample shape) to the pool as one forward pass. */
  private runBatch(b: Batch): void {
    const { segs, rows, sample } = b;
    for (const { r, k } of segs) {
      if (r.unsent === r.n && r.signal) this.watchers.unwatch(r, r.signal); // started: no longer cancellable
      r.unsent -= k;
      if (r.unsent === 0) this.waiting--;
    }
    this.queuedRows -= rows;
    this.applySwaps(sample.version);
    this.inFlight++;
    this.counts.batches++;
    this.counts.rows += rows;
    this.sizes[rows]++;
    const ofSample = this.sample === sample;
    if (ofSample) sample.running++;
    const data = rows === b.capacity ? b.data : b.data.subarray(0, rows * b.row);
    this.pool.run({ data, shape: [rows, ...sample.shape] }).then(
      (y) => {
        this.recycle(b.buf); // answered: the worker has finished reading it
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
   * A shared buffer of `bytes` for a batch's rows: a recycled one of that size or a new one. Allocating
   * ~200 KB of shared memory per batch (a batch-64 MNIST batch) at thousands of batches per second made V8
   * collect for the external memory it reported.
   */
  private batchBuffer(bytes: number): SharedArrayBuffer {
    for (let i = this.spare.length - 1; i >= 0; i--) {
      if (this.spare[i].byteLength === bytes) return this.spare.splice(i, 1)[0];
    }
    return new SharedArrayBuffer(bytes);
  }

  /**
   * Keeps a buffer no batch uses any more (answered, emptied by cancellation, outgrown) for the next batch:
   * the newest two per in-flight slot (past that, the oldest kept buffer leaves, whatever its size). A failed
   * batch's is dropped.
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
      const hint = segs[0].r.sample.shape.length === 0 ? ` (the requests' x were rank 1, [N]: N rows of one value each; one sample of D features is [1, D])` : '';
      this.fail(segs, new Error(`fathom.BatchingPredictor: the model must map a batch of ${rows} rows to one tensor of ${rows} rows, got ${got}${hint}`));
      return false;
    }
    const outRow = y.shape.slice(1);
    const row = y.size / rows;
    const int = y.dtype === 'int32';
    let at = 0; // y's first value of segs[i]
    const slice = (from: number): void => {
      let answered = 0;
      let i = from;
      for (; i < segs.length && answered < this.answersPerTurn; i++) {
        const { r, from: first, k } = segs[i];
        const src = at;
        at += k * row;
        if (r.failed) continue;
        if (k === r.n) r.out = y.data.slice(src, src + k * row); // the whole request in this batch (the usual case): one copy
        else {
          r.out ??= int ? new Int32Array(r.n * row) : new Float32Array(r.n * row);
          r.out.set(y.data.subarray(src, src + k * row), first * row);
        }
        r.done += k;
        if (r.done === r.n) {
          this.counts.completed++;
          this.latencies[this.latencyCount++ % LATENCIES] = performance.now() - r.t0;
          r.resolve(new Tensor(r.out, [r.n, ...outRow]));
          answered++;
        }
      }
      if (i < segs.length) {
        setImmediate(slice, i);
        return;
      }
      this.delivering--;
      if (this.idle()) this.drained?.();
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
      this.unqueue(r);
      r.reject(e);
    }
  }

  /**
   * Takes r's rows out of the batches not sent yet (a cancelled request, or one whose other rows failed):
   * the rows after them in the batch move down, and a batch left empty is dropped.
   */
  private unqueue(r: Request): void {
    if (r.unsent === 0) return;
    for (let j = this.batches.length - 1; j >= 0; j--) {
      const b = this.batches[j];
      let at = 0;
      for (let i = 0; i < b.segs.length; i++) {
        const { r: q, k } = b.segs[i];
        if (q !== r) {
          at += k;
          continue;
        }
        b.data.copyWithin(at * b.row, (at + k) * b.row, b.rows * b.row);
        b.rows -= k;
        b.segs.splice(i--, 1);
      }
      if (b.rows === 0) {
        this.batches.splice(j, 1);
        this.recycle(b.buf);
      }
    }
    this.queuedRows -= r.unsent;
    r.unsent = 0;
    this.waiting--;
  }

  /** The waiting requests' 'abort' listeners (one per signal); all of a signal's requests leave before a batch is sent. */
  private watchers = new SignalWatchers<Request>((requests) => {
    for (const q of requests) this.cancel(q);
    this.schedule(); // after all of them: a batch sent midway would take rows of requests already aborted
  });

  /** The signal fired: a request none of whose rows was sent leaves its batches and rejects with the reason. */
  private cancel(r: Request): void {
    if (r.unsent < r.n || r.failed) return;
    this.unqueue(r);
    this.counts.cancelled++;
    // The shape was set by requests that were all cancelled before any batch of it ran: the next request sets it anew.
    const s = this.sample;
    if (s && s === r.sample && !s.confirmed && s.running === 0 && !this.batches.some((b) => b.sample === s)) this.sample = undefined;
    r.reject(r.signal!.reason);
  }
}

/** Whether x's per-sample shape (after N) and dtype are sample's. */
function fits(sample: Sample, x: Tensor): boolean {
  const s = sample.shape;
  const xs = x.shape;
  if (x.dtype !== sample.dtype || xs.length !== s.length + 1) return false;
  for (let i = 0; i < s.length; i++) if (xs[i + 1] !== s[i]) return false;
  return true;
}
