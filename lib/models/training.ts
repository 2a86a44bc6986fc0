/**
 * fit / evaluate / predict: the Keras-style loop over any Module.
 *
 * fit() is async: it yields to the event loop after every batch, so a server
 * keeps serving while it trains (each batch's compute still runs on the
 * calling thread; for full isolation run training in a worker_thread — the
 * native addon is worker-safe).
 */
import { Tensor, checkStorage } from '../tensor/tensor.js';
import { add, rand } from '../ops/index.js';
import { describe } from '../ops/record.js';
import { noGrad } from '../autograd/tape.js';
import { fmt, sameShape, sizeOf } from '../tensor/shape.js';
import { LOSS_NAMES, binaryCrossEntropy, crossEntropy, lossByName, type LossFn, type LossName } from '../losses/index.js';
import { Optimizer } from '../optimizers/optimizer.js';
import { consoleProgress, type ProgressSink } from './progress.js';
import { Module, penaltyPlan, tapedPenalty } from '../layers/module.js';
import { addPenaltyGradients, penaltyValue } from './penalties.js';
import { checkCallbacks, combineCallbacks, type Callbacks, type FitContext } from './hooks.js';
import { checkOptions, show, type OptionSpec } from '../layers/options.js';
import { resolveMetrics, valKey, type AccuracyRule, type Metric, type MetricSpec } from './metrics.js';
import { clipGradNorm, clipGradValue } from '../layers/utils.js';
import { OPTIMIZERS, accuracyRule, closest, isClassification, lastFit, type OptimizerName } from './compile.js';
export { checkTrainingConfig, restoreTrainingConfig, trainingConfig, type OptimizerName, type TrainingConfig } from './compile.js';
export type { BatchLogs, Callbacks, FitContext } from './hooks.js';

export interface Logs {
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  [k: string]: number | undefined;
}

/**
 * A learning-rate scheduler fit() can step (optim.lrScheduler's classes, or
 * any object of this shape). One with `needsMetric` true (ReduceLROnPlateau)
 * gets the monitored value: step(metric).
 */
export interface LRSchedulerLike {
  step(metric?: number): void;
  getLastLr(): number[];
  readonly needsMetric?: boolean;
  /** The optimizer it schedules: must be the fit's when present. */
  readonly optimizer?: unknown;
}

export interface FitOptions {
  /**
   * The loss: a name or a function (pred, target) → scalar Tensor. Required on
   * a model's first fit(); later fits default to the previous fit's loss (as
   * Keras keeps what compile() set).
   */
  loss?: LossName | LossFn;
  /**
   * An Optimizer instance (its state carries over between fit() calls), or
   * a name (Keras's strings): a new one over model.parameters() with `lr` for
   * this call and the class's other defaults. Default 'adam'.
   */
  optimizer?: Optimizer | OptimizerName;
  /** Learning rate for a named optimizer (default: the class's, e.g. 1e-3 for 'adam', 0.01 for 'sgd'); refused with an Optimizer instance, which has its own. */
  lr?: number;
  /** Passes over the data (default 1). */
  epochs?: number;
  /** Samples per step (default 32). */
  batchSize?: number;
  /**
   * Fraction in [0, 1) of the data (taken from the end, before shuffling) held
   * out for validation: the first ⌊n·(1 − split)⌋ rows train, Keras's rule computed exactly
   * (computed on the fraction as written: 0.07 of 100 rows holds out 7).
   */
  validationSplit?: number;
  /** [x, y] to validate on after each epoch (overrides validationSplit, as in Keras). */
  validationData?: [Tensor, Tensor];
  /** Shuffle the training rows each epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffle, an integer (default: drawn from the global random stream, see manualSeed). */
  seed?: number;
  /**
   * Epoch to start at (Keras's initialEpoch), an integer in [0, epochs]: epochs
   * initialEpoch..epochs-1 are trained. The shuffles of the skipped epochs are
   * drawn (not trained) first, so resuming a checkpoint with the same seed sees
   * the same batches as the uninterrupted run. Default 0.
   */
  initialEpoch?: number;
  /** Report accuracy (default: on for crossEntropy and binaryCrossEntropy). See metrics.ts for its rules. */
  accuracy?: boolean;
  /** Binary accuracy counts pred > threshold as 1 (default 0 for binaryCrossEntropy, which takes logits; else 0.5). */
  accuracyThreshold?: number;
  /**
   * Hooks called during training, or a list of them (Keras's `callbacks=[...]`):
   * each hook of a list runs in order, and training stops after an epoch when
   * any onEpochEnd returns false.
   */
  callbacks?: Callbacks | Callbacks[];
  /**
   * Metrics reported per epoch for training and validation (`f1`, `valF1`):
   * 'accuracy', 'topK' (k = 5) or { name: 'topK', k }, 'precision', 'recall',
   * 'f1' (macro for several classes, binary for one output column), 'mse',
   * 'mae', 'r2', a function (pred, target) => number (named by fn.name) or
   * { name, fn }. See metrics.ts for each definition. Default: accuracy alone
   * for classification losses (the `accuracy` option).
   */
  metrics?: MetricSpec[];
  /** Clip the gradients' total 2-norm to this before every step (nn.utils.clipGradNorm over the optimizer's parameters; PyTorch's global norm, Keras's global_clipnorm). */
  clipGradNorm?: number;
  /** Clamp every gradient element into [-v, v] before every step (nn.utils.clipGradValue; Keras's clipvalue). Applied after clipGradNorm when both are given. */
  clipGradValue?: number;
  /**
   * A scheduler over the fit's optimizer, stepped after every epoch (default)
   * or every batch (lrSchedulerInterval). The history then logs `lr`, the
   * rate the epoch's last step used (Keras logs it as learning_rate).
   */
  lrScheduler?: LRSchedulerLike;
  /** 'epoch' (default) or 'batch' (per optimizer step; not for a scheduler that needs a metric). */
  lrSchedulerInterval?: 'epoch' | 'batch';
  /** The logged value a metric-driven scheduler (ReduceLROnPlateau) gets: default valLoss when validating, else loss. */
  lrSchedulerMonitor?: string;
  /** 0 silent, 1 progress (bar on a TTY, a line per epoch otherwise). Default 1. */
  verbose?: 0 | 1;
  /** Where progress goes (default stderr). */
  progress?: ProgressSink;
}

export interface History {
  epochs: number[];
  /** Per epoch: loss (regularisation penalties included, as Keras), metrics, valLoss and val metrics, lr when scheduled. */
  history: { loss: number[]; accuracy?: number[]; valLoss?: number[]; valAccuracy?: number[]; lr?: number[]; [k: string]: number[] | undefined };
  /** Training throughput of the whole fit, samples per second. */
  samplesPerSecond: number;
  /** Why training stopped before `epochs` (a callback's reason, e.g. TerminateOnNaN's epoch and batch). */
  stopReason?: string;
}

export interface EvaluateOptions {
  /** Samples per forward pass (default 256). */
  batchSize?: number;
  /** Default: the loss of the model's last fit(), else crossEntropy for int32 targets and mse otherwise. */
  loss?: LossName | LossFn;
  /** Default: as the last fit() reported, else on for classification losses / int32 targets. */
  accuracy?: boolean;
  /** As in FitOptions (default: the last fit's, else by the loss). */
  accuracyThreshold?: number;
  /** As in FitOptions (default: the last fit's). */
  metrics?: MetricSpec[];
}
export interface EvalResult {
  /** Mean loss, regularisation penalties included (as Keras). */
  loss: number;
  accuracy?: number;
  /** Every other metric, by name. */
  [metric: string]: number | undefined;
}
export interface PredictOptions {
  /** Samples per forward pass (default 256). */
  batchSize?: number;
}

/** A seeded generator for shuffling (mulberry32): deterministic, backend independent. */
function shuffler(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** Rows [start, end) of t (a view: shares storage). */
function rows(t: Tensor, start: number, end: number): Tensor {
  const per = t.rank === 0 ? 1 : sizeOf(t.shape.slice(1));
  const data = t.data.subarray(start * per, end * per);
  return new Tensor(data, [end - start, ...t.shape.slice(1)]);
}

/** Gathers rows idx[start..end) of t into a new tensor. */
function gather(t: Tensor, idx: Int32Array, start: number, end: number): Tensor {
  const per = sizeOf(t.shape.slice(1));
  const out = t.dtype === 'int32' ? new Int32Array((end - start) * per) : new Float32Array((end - start) * per);
  for (let i = start; i < end; i++) out.set(t.data.subarray(idx[i] * per, (idx[i] + 1) * per), (i - start) * per);
  return new Tensor(out, [end - start, ...t.shape.slice(1)]);
}

function checkModel(op: string, model: Module): void {
  if (!(model instanceof Module)) throw new Error(`fathom.${op}: model must be an nn.Module, got ${describe(model)}`);
  if (typeof model.forward !== 'function') {
    throw new Error(`fathom.${op}: ${model.constructor.name} has no forward(x) method; a Module subclass must implement forward`);
  }
}

/** Samples are indexed with int32 (the shuffle order). */
const MAX_SAMPLES = 2 ** 31 - 1;

function checkData(op: string, x: Tensor, y: Tensor): number {
  if (!(x instanceof Tensor)) throw new Error(`fathom.${op}: x must be a Tensor, got ${describe(x)}`);
  if (!(y instanceof Tensor)) throw new Error(`fathom.${op}: y must be a Tensor, got ${describe(y)}`);
  if (x.rank < 1 || y.rank < 1) throw new Error(`fathom.${op}: x and y need a batch dimension, got ${fmt(x.shape)} and ${fmt(y.shape)}`);
  if (x.shape[0] !== y.shape[0]) {
    throw new Error(`fathom.${op}: x has ${x.shape[0]} samples (shape ${fmt(x.shape)}) but y has ${y.shape[0]} (shape ${fmt(y.shape)})`);
  }
  if (x.shape[0] === 0) throw new Error(`fathom.${op}: x and y have no samples (shapes ${fmt(x.shape)} and ${fmt(y.shape)})`);
  checkStorage(op, 'x', x);
  checkStorage(op, 'y', y);
  // Samples without values ([n, 0]) would make the batch loop walk n empty rows for nothing.
  if (x.size === 0 || y.size === 0) {
    throw new Error(`fathom.${op}: the samples hold no values (x ${fmt(x.shape)}, y ${fmt(y.shape)}); every sample needs at least one feature and one target value`);
  }
  if (x.shape[0] > MAX_SAMPLES) throw new Error(`fathom.${op}: x has ${x.shape[0]} samples; at most ${MAX_SAMPLES}`);
  return x.shape[0];
}

function checkInt(op: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new Error(`fathom.${op}: ${name} must be an integer >= ${min}, got ${show(v)}`);
  }
  return v;
}

function checkThreshold(op: string, v: number | undefined): number | undefined {
  if (v !== undefined && !Number.isFinite(v)) throw new Error(`fathom.${op}: accuracyThreshold must be a finite number, got ${v}`);
  return v;
}

/**
 * The split point ⌊n·(1 − split)⌋ training rows (Keras's rule), computed on the
 * fraction as written: 100·(1 − 0.07) is 92.99999999999999 in binary floating
 * point, so a product within a relative 1e-12 of an integer is taken as that
 * integer. Keras floors the float product itself, so it differs where the
 * product lands just below an integer (0.9 of 100 rows: Keras trains on 9,
 * fathom on 10; 57 of 1,287 tested (n, split) pairs).
 * @internal (exported for tests)
 */
export function validationSplitPoint(n: number, split: number): number {
  const v = n * (1 - split);
  const r = Math.round(v);
  return Math.abs(v - r) <= 1e-12 * Math.max(1, v) ? r : Math.floor(v);
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A 32-bit seed drawn from the global random stream. */
function randomSeed(): number {
  return rand([1]).data[0] * 4294967296;
}

/**
 * Who is using a model now. A second fit() while one runs would interleave
 * batches (the weights trained by neither recipe), so it is refused, as Keras
 * refuses. predict() is synchronous: it always sees the weights between two
 * steps and is allowed at any time. evaluate() yields between batches, so
 * during a fit() it is allowed only from a callback, and fit() waits for it
 * before its next step; an evaluate() outside the callbacks is refused, and so
 * is a fit() while an evaluate() of the model runs.
 */
interface FitState {
  /** > 0 while fit() waits for one of its callbacks. */
  inCallback: number;
  /** evaluate() calls started from callbacks, awaited before the next step. */
  evals: Set<Promise<unknown>>;
}
const fitting = new WeakMap<Module, FitState>();
/** Parameters a running fit() updates → the model it trains (models sharing layers cannot train at once). */
const busyParams = new WeakMap<Tensor, Module>();
const evaluating = new WeakMap<Module, number>();

const FIT_OPTIONS: OptionSpec = {
  loss: ['string', 'function'], optimizer: ['string', 'object'], lr: 'number', epochs: 'number', batchSize: 'number',
  validationSplit: 'number', validationData: 'array', shuffle: 'boolean', seed: 'number', initialEpoch: 'number', accuracy: 'boolean',
  accuracyThreshold: 'number', callbacks: ['object', 'array'], verbose: 'number', progress: 'object',
  metrics: 'array', clipGradNorm: 'number', clipGradValue: 'number', lrScheduler: 'object', lrSchedulerInterval: 'string', lrSchedulerMonitor: 'string',
};
const EVALUATE_OPTIONS: OptionSpec = { batchSize: 'number', loss: ['string', 'function'], accuracy: 'boolean', accuracyThreshold: 'number', metrics: 'array' };
const PREDICT_OPTIONS: OptionSpec = { batchSize: 'number' };

/**
 * Trains `model` on rows of x and y (Keras's fit): shuffles, steps the
 * optimizer per batch, reports loss (and accuracy / metrics), validates after
 * each epoch, calls the callbacks, and yields to the event loop after every batch.
 * Per batch: forward, loss + the model's regularisation penalties (what
 * regularizationLoss() sums: L1/L2 computed directly, custom ones on the tape;
 * included in the reported loss as Keras does), backward, clipGradNorm then
 * clipGradValue (if set), optimizer step, lrScheduler step (interval 'batch').
 * Per epoch: validation, lrScheduler step (interval 'epoch'), onEpochEnd hooks,
 * then the history records the logs.
 * Defaults: see FitOptions.
 * @throws (rejects) for bad data or options (named), a model with no trainable
 *   parameters, an optimizer holding none of them, a second fit() of the same
 *   model (or of one sharing its parameters) while one runs, a loss that is not
 *   finite, and a forward or loss that does not return a Tensor.
 */
export async function fit(model: Module, x: Tensor, y: Tensor, options?: FitOptions): Promise<History> {
  checkModel('fit', model);
  const opts = checkOptions<FitOptions>('fit', options, FIT_OPTIONS);
  const n = checkData('fit', x, y);
  const previous = lastFit.get(model);
  if (opts.loss === undefined && !previous) {
    throw new Error(`fathom.fit: options.loss is required on a model's first fit(), e.g. fit(x, y, { loss: 'crossEntropy', optimizer: 'adam' }) (losses: ${LOSS_NAMES.join(', ')} or a function)`);
  }
  const lossName = opts.loss ?? previous!.name;
  const lossFn = lossByName(lossName);
  const epochs = checkInt('fit', 'epochs', opts.epochs ?? 1, 0);
  const initialEpoch = checkInt('fit', 'initialEpoch', opts.initialEpoch ?? 0, 0);
  if (initialEpoch > epochs) throw new Error(`fathom.fit: initialEpoch must be at most epochs (${epochs}), got ${initialEpoch}`);
  const batchSize = checkInt('fit', 'batchSize', opts.batchSize ?? 32, 1);
  const metricSpecs = opts.metrics ?? (opts.loss === undefined ? previous!.metrics : undefined);
  const listsAccuracy = metricSpecs?.includes('accuracy') ?? false;
  if (listsAccuracy && opts.accuracy === false) throw new Error(`fathom.fit: metrics lists 'accuracy' but options.accuracy is false; drop one`);
  const withAcc = listsAccuracy || (opts.accuracy ?? (opts.loss === undefined ? previous!.accuracy : isClassification(lossName)));
  const rule: AccuracyRule = opts.loss === undefined && opts.accuracyThreshold === undefined
    ? previous!.rule
    : accuracyRule(lossName, checkThreshold('fit', opts.accuracyThreshold));
  const trainMetrics = resolveMetrics('fit', metricSpecs, withAcc);
  const valMetrics = resolveMetrics('fit', metricSpecs, withAcc);
  const clipNorm = checkClip('clipGradNorm', opts.clipGradNorm);
  const clipValue = checkClip('clipGradValue', opts.clipGradValue);
  const interval = opts.lrSchedulerInterval ?? 'epoch';
  if (interval !== 'epoch' && interval !== 'batch') throw new Error(`fathom.fit: lrSchedulerInterval must be 'epoch' or 'batch', got ${show(interval)}`);
  const scheduler = opts.lrScheduler;
  if (scheduler !== undefined && (typeof scheduler.step !== 'function' || typeof scheduler.getLastLr !== 'function')) {
    throw new Error(`fathom.fit: lrScheduler must be a scheduler with step() and getLastLr() (e.g. new optim.lrScheduler.StepLR(opt, { stepSize: 10 })), got ${show(scheduler)}`);
  }
  const needsMetric = scheduler !== undefined && (scheduler.needsMetric === true || scheduler.constructor?.name === 'ReduceLROnPlateau');
  if (needsMetric && interval === 'batch') {
    throw new Error(`fathom.fit: ${scheduler!.constructor?.name ?? 'the scheduler'} steps on a metric once per epoch; lrSchedulerInterval 'batch' is not possible with it`);
  }
  if ((opts.lrSchedulerMonitor !== undefined || opts.lrSchedulerInterval !== undefined) && scheduler === undefined) {
    throw new Error(`fathom.fit: ${opts.lrSchedulerMonitor !== undefined ? 'lrSchedulerMonitor' : 'lrSchedulerInterval'} was given without an lrScheduler`);
  }
  const split = opts.validationSplit ?? 0;
  if (!(split >= 0 && split < 1)) throw new Error(`fathom.fit: validationSplit must be a number in [0, 1), got ${split}`);
  if (opts.seed !== undefined && !Number.isSafeInteger(opts.seed)) throw new Error(`fathom.fit: seed must be an integer, got ${opts.seed}`);
  if (opts.verbose !== undefined && opts.verbose !== 0 && opts.verbose !== 1) throw new Error(`fathom.fit: verbose must be 0 or 1, got ${opts.verbose}`);
  const cb = combineCallbacks(Array.isArray(opts.callbacks)
    ? opts.callbacks.map((c, i) => checkCallbacks(`fit callbacks[${i}]`, c))
    : [checkCallbacks('fit callbacks', opts.callbacks)]);
  if (opts.progress !== undefined && (typeof opts.progress.batch !== 'function' || typeof opts.progress.epoch !== 'function')) {
    throw new Error('fathom.fit: progress must be an object with batch() and epoch() methods');
  }
  if (opts.validationData !== undefined) {
    const v = opts.validationData;
    if (v.length !== 2) throw new Error(`fathom.fit: validationData must be [x, y], got an array of ${v.length}`);
    checkData('fit (validationData)', v[0], v[1]);
  }

  // Keras semantics: the validation split is the last fraction of the data, taken before shuffling.
  const nTrain = opts.validationData || split === 0 ? n : validationSplitPoint(n, split);
  const nVal = n - nTrain;
  if (nTrain < 1 || (split > 0 && !opts.validationData && nVal < 1)) {
    throw new Error(`fathom.fit: validationSplit ${split} of ${n} samples leaves ${nTrain} to train on and ${nVal} to validate; both need at least one`);
  }

  // Refusals that would otherwise train nothing, or train twice at once.
  const trainable = model.parameters().filter((p) => p.requiresGrad);
  if (trainable.length === 0) {
    const all = model.parameters().length;
    throw new Error(
      `fathom.fit: ${model.constructor.name} has no trainable parameters (` +
      (all ? `all ${all} are frozen; unfreeze() them` : 'parameters() is empty; assign layers and nn.parameter(...) tensors to properties, e.g. this.fc = new nn.Linear(2, 1)') + ')',
    );
  }
  if (fitting.has(model)) {
    throw new Error(`fathom.fit: ${model.constructor.name} is already being trained by another fit() call; await it first (two fits at once would interleave their batches)`);
  }
  if ((evaluating.get(model) ?? 0) > 0) {
    throw new Error(`fathom.fit: ${model.constructor.name} is being evaluated by a pending evaluate() call; await it before fit()`);
  }
  const sharing = trainable.find((p) => busyParams.has(p));
  if (sharing) {
    throw new Error(`fathom.fit: ${model.constructor.name} shares parameters with a ${busyParams.get(sharing)!.constructor.name} that another fit() is training; await that fit first`);
  }
  let optimizer: Optimizer;
  if (opts.optimizer instanceof Optimizer) {
    if (opts.lr !== undefined) throw new Error(`fathom.fit: lr applies to a named optimizer ('adam', 'sgd', …); the ${opts.optimizer.name} instance has its own (set its lr instead)`);
    optimizer = opts.optimizer;
    const mine = new Set(trainable);
    if (!optimizer.params.some((p) => mine.has(p))) {
      throw new Error(`fathom.fit: the ${optimizer.name} optimizer holds none of this ${model.constructor.name}'s trainable parameters (${optimizer.params.length} others); build it over model.parameters()`);
    }
  } else {
    const name = opts.optimizer ?? 'adam';
    if (typeof name !== 'string' || !Object.hasOwn(OPTIMIZERS, name)) {
      throw new Error(`fathom.fit: optimizer must be an Optimizer or one of ${Object.keys(OPTIMIZERS).map((k) => `'${k}'`).join(', ')}, got ${show(opts.optimizer)}${closest(name, Object.keys(OPTIMIZERS))}`);
    }
    optimizer = new OPTIMIZERS[name](model.parameters(), opts.lr === undefined ? undefined : { lr: opts.lr });
  }
  if (scheduler?.optimizer !== undefined && scheduler.optimizer !== optimizer) {
    throw new Error(`fathom.fit: the lrScheduler schedules another optimizer than this fit's ${optimizer.name}; pass that optimizer instance as options.optimizer`);
  }

  const [xTrain, yTrain] = [rows(x, 0, nTrain), rows(y, 0, nTrain)];
  const val = opts.validationData ?? (nVal > 0 ? [rows(x, nTrain, n), rows(y, nTrain, n)] : null);
  warnSigmoidBeforeLogitsLoss(model, lossName);
  // validationData that does not fit the model fails now, not after an epoch of training.
  if (opts.validationData) probe(model, lossFn, lossName, 'validationData', val![0], val![1]);
  const sink = opts.verbose === 0 ? null : opts.progress ?? consoleProgress(process.stderr, epochs);
  // Without a seed every fit() call shuffles differently (reproducibly after manualSeed).
  const pick = shuffler(opts.seed ?? Math.floor(randomSeed()));
  const idx = Int32Array.from({ length: nTrain }, (_, i) => i);
  const history: History = { epochs: [], history: { loss: [] }, samplesPerSecond: 0 };
  const batches = Math.ceil(nTrain / batchSize);
  let trainSeconds = 0;
  let trainSamples = 0;

  // Taken before the first await: a second fit() called right after this one sees it.
  const state: FitState = { inCallback: 0, evals: new Set() };
  fitting.set(model, state);
  for (const p of trainable) busyParams.set(p, model);
  lastFit.set(model, { name: lossName, loss: lossFn, accuracy: withAcc, rule, metrics: metricSpecs });
  const context: FitContext = { model, optimizer, epochs, batches, stopTraining: false };
  const wasTraining = model.training;
  try {
    await trainEpochs();
    history.samplesPerSecond = trainSeconds > 0 ? trainSamples / trainSeconds : 0;
    if (context.stopReason !== undefined) history.stopReason = context.stopReason;
    await callback(() => cb.onTrainEnd?.(history));
  } finally {
    model.train(wasTraining);
    fitting.delete(model);
    for (const p of trainable) busyParams.delete(p);
  }
  return history;

  /** Runs a callback with evaluate() allowed, then waits for the evaluations it started. */
  async function callback<T>(f: () => T | Promise<T>): Promise<T> {
    state.inCallback++;
    let r: T;
    try {
      // A hook that is absent or synchronous is over before anything else runs: only an async
      // hook keeps evaluate() allowed while it awaits (an outside evaluate stays refused).
      const v = f();
      r = v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function' ? await v : (v as T);
    } finally {
      state.inCallback--;
    }
    while (state.evals.size) await Promise.allSettled([...state.evals]);
    return r;
  }

  async function trainEpochs(): Promise<void> {
    await callback(() => cb.setModel?.(model, context));
    await callback(() => cb.onTrainBegin?.());
    const shuffleRows = (): void => {
      if (opts.shuffle === false) return;
      for (let i = nTrain - 1; i > 0; i--) {
        const j = pick(i + 1);
        const tmp = idx[i];
        idx[i] = idx[j];
        idx[j] = tmp;
      }
    };
    for (let epoch = 0; epoch < initialEpoch; epoch++) shuffleRows(); // the skipped epochs' shuffles
    for (let epoch = initialEpoch; epoch < epochs && !context.stopTraining; epoch++) {
      await callback(() => cb.onEpochBegin?.(epoch));
      // A callback may have transferred the data's buffers (postMessage) since the last epoch.
      checkStorage('fit', 'x', xTrain);
      checkStorage('fit', 'y', yTrain);
      model.train();
      shuffleRows();
      for (const m of trainMetrics) m.reset();
      const t0 = performance.now();
      let lossSum = 0;
      let seen = 0;
      let lastLr = optimizer.lr;
      for (let b = 0; b < batches; b++) {
        await callback(() => cb.onBatchBegin?.(b));
        const start = b * batchSize;
        const end = Math.min(nTrain, start + batchSize);
        const xb = gather(xTrain, idx, start, end);
        const yb = gather(yTrain, idx, start, end);
        let pred: Tensor, loss: Tensor;
        if (epoch === 0 && b === 0) {
          // The first batch names the whole data set's shapes when they do not fit.
          [pred, loss] = inContext(model, lossName, 'the training data', xTrain, yTrain, () => {
            const p = forwardChecked('fit', model, xb);
            return [p, lossChecked('fit', lossFn, p, yb)];
          });
        } else {
          pred = forwardChecked('fit', model, xb);
          loss = lossChecked('fit', lossFn, pred, yb);
        }
        // Keras adds the layers' regularisation losses to the loss it minimises and reports:
        // L1/L2 penalties directly (value now, gradient after backward), custom ones on the tape.
        const plan = penaltyPlan(model);
        for (const m of plan.taped) {
          const own = tapedPenalty(m);
          if (own !== null) loss = add(loss, own);
        }
        const lv = loss.item() + penaltyValue(plan.direct);
        lossSum += lv * (end - start);
        seen = end;
        if (!Number.isFinite(lv)) {
          // Not applied: the weights stay those of the previous step. A hook (TerminateOnNaN) may stop here.
          const go = await callback(() => cb.onBatchEnd?.(b, { loss: lv, size: end - start }));
          if (go !== false && !context.stopTraining) {
            throw new Error(`fathom.fit: the loss became ${lv} at epoch ${epoch + 1}, batch ${b + 1}; lower the learning rate or check the data (callbacks.TerminateOnNaN() stops training instead)`);
          }
          context.stopTraining = true;
          break;
        }
        optimizer.zeroGrad();
        loss.backward();
        addPenaltyGradients(plan.direct);
        // Over the optimizer's parameters (read per step: a group may be added during training).
        if (clipNorm !== undefined) clipGradNorm(optimizer.params, clipNorm);
        if (clipValue !== undefined) clipGradValue(optimizer.params, clipValue);
        lastLr = optimizer.lr;
        optimizer.step();
        if (scheduler && interval === 'batch') scheduler.step();
        if (trainMetrics.length) noGrad(() => { for (const m of trainMetrics) m.update(pred, yb, rule); });
        sink?.batch(epoch, b + 1, batches, lossSum / end);
        const go = await callback(() => cb.onBatchEnd?.(b, { loss: lv, size: end - start }));
        await tick();
        if (go === false) {
          context.stopTraining = true;
          context.stopReason ??= `a callback's onBatchEnd returned false at epoch ${epoch + 1}, batch ${b + 1}`;
        }
        if (context.stopTraining) break;
      }
      const seconds = (performance.now() - t0) / 1000;
      trainSeconds += seconds;
      trainSamples += seen;
      const logs: Logs = { loss: lossSum / seen };
      for (const m of trainMetrics) logs[m.name] = m.result();
      if (val) {
        const r = await evaluateRows(model, val[0], val[1], Math.max(batchSize, 256), lossFn, valMetrics, rule, 'fit (validation)');
        logs.valLoss = r.loss;
        for (const m of valMetrics) logs[valKey(m.name)] = r[m.name];
      }
      if (scheduler) {
        logs.lr = lastLr;
        if (interval === 'epoch') {
          if (needsMetric) {
            const key = opts.lrSchedulerMonitor ?? (logs.valLoss !== undefined ? 'valLoss' : 'loss');
            const v = logs[key];
            if (v === undefined) throw new Error(`fathom.fit: lrSchedulerMonitor '${key}' is not in the logs; available: ${Object.keys(logs).join(', ')}`);
            scheduler.step(v);
          } else {
            scheduler.step();
          }
        }
      }
      const go = await callback(() => cb.onEpochEnd?.(epoch, logs));
      // Recorded after the hooks, which may add keys (Keras's History runs last).
      history.epochs.push(epoch);
      for (const [k, v] of Object.entries(logs)) {
        if (v === undefined) continue;
        const h = history.history as Record<string, number[]>;
        (h[k] ??= []).push(v);
      }
      sink?.epoch(epoch, epochs, logs as Record<string, number>, seconds, seen);
      if (go === false) {
        context.stopTraining = true;
        context.stopReason ??= `a callback's onEpochEnd returned false at epoch ${epoch + 1}`;
      }
    }
  }
}

/** A clipping option: undefined, or a finite number >= 0. */
function checkClip(name: string, v: number | undefined): number | undefined {
  if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new Error(`fathom.fit: ${name} must be a finite number >= 0, got ${show(v)}`);
  return v;
}

const warnedSigmoid = new WeakSet<Module>();

/**
 * binaryCrossEntropy takes logits (PyTorch's BCEWithLogitsLoss); a model that
 * already ends in Sigmoid would apply it twice and train badly without any
 * error (Keras users expect probabilities here). Warn once per model.
 */
function warnSigmoidBeforeLogitsLoss(model: Module, lossName: LossName | LossFn): void {
  if (lossName !== 'binaryCrossEntropy' || warnedSigmoid.has(model)) return;
  let last: Module = model;
  for (let kids = last.modules(); kids.length > 0; kids = last.modules()) last = kids[kids.length - 1][1];
  // By name: importing the layer here would be a module cycle (layers import this file).
  if (last.constructor.name !== 'Sigmoid') return;
  warnedSigmoid.add(model);
  process.emitWarning(
    `fathom.fit: ${model.constructor.name} ends with Sigmoid, but the binaryCrossEntropy loss takes logits (as PyTorch's ` +
    'BCEWithLogitsLoss) and applies the sigmoid itself; remove the final Sigmoid layer, or apply sigmoid() to predict() outputs instead',
    { code: 'FATHOM_SIGMOID_LOGITS', type: 'FathomWarning' },
  );
}

/**
 * Runs the model and the loss on the first rows of (x, y) in inference mode
 * without recording (no optimizer step, no running statistics touched), and
 * re-throws a failure with the data set's shapes in front.
 */
function probe(model: Module, lossFn: LossFn, lossName: LossName | LossFn, what: string, x: Tensor, y: Tensor): void {
  const k = Math.min(2, x.shape[0]);
  if (k === 0) return;
  const wasTraining = model.training;
  model.train(false);
  try {
    inContext(model, lossName, what, x, y, () =>
      noGrad(() => lossChecked('fit', lossFn, forwardChecked('fit', model, rows(x, 0, k)), rows(y, 0, k))));
  } finally {
    model.train(wasTraining);
  }
}

/** Runs f; an Error from it is re-thrown with the data set's shapes in front (the original as cause). */
function inContext<T>(model: Module, lossName: LossName | LossFn, what: string, x: Tensor, y: Tensor, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new Error(
      `fathom.fit: ${what} (x ${fmt(x.shape)}, y ${fmt(y.shape)}) does not fit ${model.constructor.name} and the ${typeof lossName === 'function' ? `${lossName.name || 'custom'} loss function` : `${lossName} loss`}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}

function forwardChecked(op: string, model: Module, x: Tensor): Tensor {
  let pred: Tensor;
  try {
    pred = model.forward(x);
  } catch (e) {
    // A layer's input error names the layer's input; say which batch of x it came from.
    if (!(e instanceof Error) || !e.message.startsWith('fathom.')) throw e;
    throw new Error(`${e.message} (in ${op}, on a batch ${fmt(x.shape)})`, { cause: e });
  }
  if (!(pred instanceof Tensor)) throw new Error(`fathom.${op}: ${model.constructor.name}.forward returned ${describe(pred)}, expected a Tensor`);
  return pred;
}

function lossChecked(op: string, lossFn: LossFn, pred: Tensor, y: Tensor): Tensor {
  const loss = lossFn(pred, y);
  if (!(loss instanceof Tensor) || loss.size !== 1) {
    throw new Error(`fathom.${op}: the loss function must return a scalar Tensor, got ${loss instanceof Tensor ? `shape ${fmt(loss.shape)}` : describe(loss)}`);
  }
  return loss;
}

/**
 * Mean loss (and accuracy) over x and y in inference mode, without recording.
 * Defaults: see EvaluateOptions.
 * @throws (rejects) for bad data or options (named), zero samples, and when
 *   called during a fit() of the same model outside its callbacks.
 */
export async function evaluate(model: Module, x: Tensor, y: Tensor, options?: EvaluateOptions): Promise<EvalResult> {
  checkModel('evaluate', model);
  const opts = checkOptions<EvaluateOptions>('evaluate', options, EVALUATE_OPTIONS);
  const st = fitting.get(model);
  if (st && st.inCallback === 0) {
    throw new Error(
      `fathom.evaluate: ${model.constructor.name} is being trained by fit(); evaluating now would mix weights from different steps. ` +
      'Call evaluate() from a fit() callback (e.g. onEpochEnd: fit waits for it) or after fit() resolves; predict() is allowed at any time',
    );
  }
  checkData('evaluate', x, y);
  const batchSize = checkInt('evaluate', 'batchSize', opts.batchSize ?? 256, 1);
  const threshold = checkThreshold('evaluate', opts.accuracyThreshold);
  const fitted = lastFit.get(model);
  // Default: the loss the model was last fitted with, else crossEntropy for int labels and mse otherwise.
  const lossName: LossName | LossFn = opts.loss ?? fitted?.name ?? (y.dtype === 'int32' ? 'crossEntropy' : 'mse');
  const lossFn = lossByName(lossName);
  const metricSpecs = opts.metrics ?? (opts.loss === undefined ? fitted?.metrics : undefined);
  const listsAccuracy = metricSpecs?.includes('accuracy') ?? false;
  if (listsAccuracy && opts.accuracy === false) throw new Error(`fathom.evaluate: metrics lists 'accuracy' but options.accuracy is false; drop one`);
  const withAcc = listsAccuracy || (opts.accuracy ?? (opts.loss !== undefined ? isClassification(lossName) : fitted?.accuracy ?? y.dtype === 'int32'));
  const rule: AccuracyRule = opts.loss === undefined && fitted
    ? { ...fitted.rule, threshold: threshold ?? fitted.rule.threshold }
    : accuracyRule(lossName, threshold);
  const metrics = resolveMetrics('evaluate', metricSpecs, withAcc);
  const run = evaluateRows(model, x, y, batchSize, lossFn, metrics, rule, 'evaluate');
  if (st) {
    // Started from a fit() callback: fit waits for it before its next step.
    st.evals.add(run);
    const done = (): void => void st.evals.delete(run);
    run.then(done, done);
    return run;
  }
  evaluating.set(model, (evaluating.get(model) ?? 0) + 1);
  try {
    return await run;
  } finally {
    evaluating.set(model, evaluating.get(model)! - 1);
  }
}

/** Mean loss (regularisation penalties included) and each metric over x and y, in inference mode. */
async function evaluateRows(
  model: Module, x: Tensor, y: Tensor, batchSize: number, lossFn: LossFn, metrics: Metric[], rule: AccuracyRule, op: string,
): Promise<EvalResult> {
  const n = checkData(op, x, y);
  const wasTraining = model.training;
  let lossSum = 0;
  for (const m of metrics) m.reset();
  // L1/L2 penalties depend on the weights only: once per evaluation (Keras adds them to every batch's loss).
  // Taped ones (custom, activity regularisers) may depend on the batch: read after each batch's forward.
  const plan = penaltyPlan(model);
  const penalty = penaltyValue(plan.direct);
  try {
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const xb = rows(x, start, end);
      const yb = rows(y, start, end);
      // Set per batch: a predict() between two batches restores its own mode.
      model.eval();
      noGrad(() => {
        const pred = forwardChecked(op, model, xb);
        let lv = lossChecked(op, lossFn, pred, yb).item();
        for (const m of plan.taped) lv += tapedPenalty(m)?.item() ?? 0;
        lossSum += lv * (end - start);
        for (const m of metrics) m.update(pred, yb, rule);
      });
      model.train(wasTraining);
      await tick();
    }
  } finally {
    model.train(wasTraining);
  }
  const out: EvalResult = { loss: lossSum / n + penalty };
  for (const m of metrics) out[m.name] = m.result();
  return out;
}

/**
 * The model's output for x, in batches, in inference mode and without
 * recording (Keras's predict). Synchronous, so allowed at any time, also while
 * a fit() of the model runs (it sees the weights between two steps).
 * @returns a new Tensor [n, ...output shape] (never x itself).
 * @throws for a non-Tensor x, x without a batch dimension, bad options (named),
 *   and a forward that does not return a Tensor.
 */
export function predict(model: Module, x: Tensor, options?: PredictOptions): Tensor {
  checkModel('predict', model);
  const opts = checkOptions<PredictOptions>('predict', options, PREDICT_OPTIONS);
  if (!(x instanceof Tensor)) throw new Error(`fathom.predict: x must be a Tensor, got ${describe(x)}`);
  if (x.rank < 1) throw new Error(`fathom.predict: x needs a batch dimension, got a scalar ${fmt(x.shape)}`);
  checkStorage('predict', 'x', x);
  const batchSize = checkInt('predict', 'batchSize', opts.batchSize ?? 256, 1);
  const n = x.shape[0];
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => {
      // Empty rows ([2**31, 0]) go through in one call: the ops return empty results at once.
      if (n <= batchSize || x.size === 0) {
        const y = forwardChecked('predict', model, x);
        return y === x ? x.clone() : y; // never hand back the caller's own tensor
      }
      const parts: Tensor[] = [];
      for (let start = 0; start < n; start += batchSize) {
        const end = Math.min(n, start + batchSize);
        const p = forwardChecked('predict', model, rows(x, start, end));
        // Batching is only sound for a model that maps rows to rows: each batch's output must
        // have its batch's row count and the first batch's row shape and dtype.
        const first = parts[0] ?? p;
        if (p.rank < 1 || p.shape[0] !== end - start || p.dtype !== first.dtype || !sameShape(p.shape.slice(1), first.shape.slice(1))) {
          throw new Error(
            `fathom.predict: ${model.constructor.name}.forward on rows ${start}..${end} of x gave ${p.dtype} ${fmt(p.shape)}; batched predict needs ` +
            `[${end - start}, ...] (one output row per input row${parts.length ? `, like the first batch's ${first.dtype} ${fmt(first.shape)}` : ''}); ` +
            `call forward(x) directly, or pass { batchSize: ${n} } to predict in one batch`,
          );
        }
        parts.push(p);
      }
      const per = sizeOf(parts[0].shape.slice(1));
      const out = parts[0].dtype === 'int32' ? new Int32Array(n * per) : new Float32Array(n * per);
      let at = 0;
      for (const p of parts) {
        out.set(p.data, at);
        at += p.size;
      }
      return new Tensor(out, [n, ...parts[0].shape.slice(1)]);
    });
  } finally {
    if (wasTraining) model.train(true);
  }
}
