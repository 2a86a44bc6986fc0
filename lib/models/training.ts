/**
 * fit / evaluate / predict: the Keras-style loop over any Module.
 *
 * fit() is async: it yields to the event loop after every batch, so a server
 * keeps serving while it trains (each batch's compute still runs on the
 * calling thread; for full isolation run training in a worker_thread — the
 * native addon is worker-safe).
 */
import { Tensor, checkStorage } from '../tensor/tensor.js';
import { add, mul, rand } from '../ops/index.js';
import { describe } from '../ops/record.js';
import { noGrad } from '../autograd/tape.js';
import { shuffler } from '../data/random.js';
import { fmt, sameShape, sizeOf } from '../tensor/shape.js';
import { LOSS_NAMES, type LossFn, type LossName } from '../losses/index.js';
import { Optimizer } from '../optimizers/optimizer.js';
import { consoleProgress } from './progress.js';
import { Module, penaltyPlan, tapedPenalty } from '../layers/module.js';
import { addPenaltyGradients, penaltyValue } from './penalties.js';
import { checkCallbacks, combineCallbacks, type Callbacks, type FitContext } from './hooks.js';
import { checkOptions, closestName, show, type OptionSpec } from '../layers/options.js';
import { valKey, type Metric } from './metrics.js';
import { clipGradNorm, clipGradValue } from '../layers/utils.js';
import { OPTIMIZERS, closest, type OptimizerName } from './compile.js';
import {
  checkLogKeys, checkRows, evaluateHeads, fitHeads, headMetrics, ioNames, isMultiIO, multiHint, outputKey, previousHeads, rememberHeads, shapesText, tensorList,
  type Head, type IONames, type MultiIOModule, type PerOutput, type Tensors,
} from './multi.js';
export { isMultiIO, type MultiIOModule, type PerOutput, type Tensors } from './multi.js';
export { checkTrainingConfig, restoreTrainingConfig, trainingConfig, type OptimizerName, type TrainingConfig } from './compile.js';
export type { BatchLogs, Callbacks, FitContext } from './hooks.js';
export type { EvalResult, EvaluateOptions, FitOptions, History, LRSchedulerLike, Logs, LossOption, MetricsOption, PredictOptions } from './types.js';
import type { EvalResult, EvaluateOptions, FitOptions, History, Logs, PredictOptions } from './types.js';
export { validationSplitPoint } from './rows.js';
import { MAX_SAMPLES, checkData, dataOf, gatherRows, rows, validationSplitPoint } from './rows.js';

/** Checks the model; returns its input and output names for a multi-IO model, null for a plain Module. */
function checkModel(op: string, model: Module): IONames | null {
  if (!(model instanceof Module)) throw new Error(`fathom.${op}: model must be an nn.Module, got ${describe(model)}`);
  if (isMultiIO(model)) return ioNames(op, model);
  if (typeof model.forward !== 'function') {
    throw new Error(`fathom.${op}: ${model.constructor.name} has no forward(x) method; a Module subclass must implement forward`);
  }
  return null;
}

function checkInt(op: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new Error(`fathom.${op}: ${name} must be an integer >= ${min}, got ${show(v)}`);
  }
  return v;
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

/**
 * The batch's total loss Σ wᵢ·lossᵢ on the tape; with several outputs each one's own
 * (unweighted) loss value is added, times the batch's rows, to `sums`.
 */
function totalLoss(
  op: string, heads: Head[], preds: Tensor[], ys: Tensor[], sums: Float64Array | null, rowsN: number, batch?: Float64Array,
): Tensor {
  if (heads.length === 1 && heads[0].weight === 1) return lossChecked(op, heads[0].lossFn, preds[0], ys[0]);
  let total: Tensor | null = null;
  for (const [i, h] of heads.entries()) {
    const l = lossChecked(op, h.lossFn, preds[i], ys[i]);
    if (sums || batch) {
      const v = l.item();
      if (sums) sums[i] += v * rowsN;
      if (batch) batch[i] = v;
    }
    const term = h.weight === 1 ? l : mul(l, h.weight);
    total = total === null ? term : add(total, term);
  }
  return total!;
}

/** Keras's per-sample and per-class weights (sample_weight, class_weight), which fathom does not have. */
const SAMPLE_WEIGHT_KEYS = ['sampleWeight', 'sampleWeights', 'classWeight', 'classWeights', 'sample_weight', 'class_weight'];

/** Refuses Keras's sample_weight / class_weight by name, with what to do instead (not just "unknown option"). */
function refuseSampleWeights(op: string, options: unknown): void {
  if (options === null || typeof options !== 'object') return;
  const key = SAMPLE_WEIGHT_KEYS.find((k) => Object.hasOwn(options, k));
  if (key === undefined) return;
  throw new Error(
    `fathom.${op}: options.${key} is not supported: fathom has no per-sample or per-class weights (Keras's sample_weight, class_weight). ` +
    'Weigh whole outputs with lossWeights, classes with your own loss function (pred, target) => scalar Tensor, ' +
    'or repeat the rows that should count more',
  );
}

const FIT_OPTIONS: OptionSpec = {
  loss: ['string', 'function'], lossWeights: ['number', 'array', 'object'], optimizer: ['string', 'object'], lr: 'number', epochs: 'number', batchSize: 'number',
  validationSplit: 'number', validationData: 'array', shuffle: 'boolean', seed: 'number', initialEpoch: 'number', accuracy: 'boolean',
  accuracyThreshold: 'number', callbacks: ['object', 'array'], verbose: 'number', progress: 'object',
  metrics: 'array', clipGradNorm: 'number', clipGradValue: 'number', lrScheduler: 'object', lrSchedulerInterval: 'string', lrSchedulerMonitor: 'string',
};
const EVALUATE_OPTIONS: OptionSpec = {
  batchSize: 'number', loss: ['string', 'function'], lossWeights: ['number', 'array', 'object'], accuracy: 'boolean', accuracyThreshold: 'number', metrics: 'array',
};
/** A model with several outputs also takes a list or an object of losses and of metric lists. */
const PER_OUTPUT: OptionSpec = { loss: ['string', 'function', 'array', 'object'], metrics: ['array', 'object'] };
const FIT_OPTIONS_MULTI: OptionSpec = { ...FIT_OPTIONS, ...PER_OUTPUT };
const EVALUATE_OPTIONS_MULTI: OptionSpec = { ...EVALUATE_OPTIONS, ...PER_OUTPUT };
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
 *
 * A model with several inputs or outputs (nn.Model, or any Module implementing
 * MultiIOModule) takes x and y as lists in inputNames / outputNames order or as
 * objects keyed by those names (a single Tensor where there is one), all with
 * the same N rows; it is trained on Σ wᵢ·lossᵢ over its outputs (options.loss
 * and options.lossWeights per output) and logs each output's loss and metrics
 * as `<output>Loss`, `<output><Metric>` (see FitOptions; Keras's multi-output fit).
 * Defaults: see FitOptions.
 * @throws (rejects) for bad data or options (named), a model with no trainable
 *   parameters, an optimizer holding none of them, a second fit() of the same
 *   model (or of one sharing its parameters) while one runs, a loss that is not
 *   finite, and a forward or loss that does not return a Tensor (forwardAll:
 *   one Tensor per output); for multi-IO data, unknown or missing names (listing
 *   the expected ones) and inputs or targets with different numbers of rows.
 */
export async function fit(model: Module, x: Tensors, y: Tensors, options?: FitOptions): Promise<History> {
  const io = checkModel('fit', model);
  refuseSampleWeights('fit', options);
  const opts = checkOptions<FitOptions>('fit', options, io ? FIT_OPTIONS_MULTI : FIT_OPTIONS);
  const [xs, ys, n] = dataOf('fit', io, x, y);
  const names = io?.outputs ?? null;
  const previous = previousHeads(model, names?.length ?? 1);
  if (opts.loss === undefined && !previous) {
    throw new Error(`fathom.fit: options.loss is required on a model's first fit(), e.g. fit(x, y, { loss: 'crossEntropy', optimizer: 'adam' }) (losses: ${LOSS_NAMES.join(', ')} or a function${names && names.length > 1 ? `; one for every output, a list or an object by output name: ${names.join(', ')}` : ''})`);
  }
  const epochs = checkInt('fit', 'epochs', opts.epochs ?? 1, 0);
  const initialEpoch = checkInt('fit', 'initialEpoch', opts.initialEpoch ?? 0, 0);
  if (initialEpoch > epochs) throw new Error(`fathom.fit: initialEpoch must be at most epochs (${epochs}), got ${initialEpoch}`);
  const batchSize = checkInt('fit', 'batchSize', opts.batchSize ?? 32, 1);
  const heads = fitHeads('fit', opts, names, previous);
  const trainMetrics = headMetrics(heads);
  const valMetrics = headMetrics(heads);
  checkLogKeys('fit', heads, trainMetrics);
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
  let valData: [Tensor[], Tensor[]] | null = null;
  if (opts.validationData !== undefined) {
    const v = opts.validationData;
    if (v.length !== 2) throw new Error(`fathom.fit: validationData must be [x, y], got an array of ${v.length}`);
    const [vx, vy] = dataOf('fit (validationData)', io, v[0], v[1]);
    valData = [vx, vy];
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

  const xTrain = xs.map((t) => rows(t, 0, nTrain));
  const yTrain = ys.map((t) => rows(t, 0, nTrain));
  const val: [Tensor[], Tensor[]] | null = valData ?? (nVal > 0 ? [xs.map((t) => rows(t, nTrain, n)), ys.map((t) => rows(t, nTrain, n))] : null);
  if (needsMetric && opts.lrSchedulerMonitor !== undefined) {
    // The scheduler steps before the onEpochEnd hooks, so it sees fit's own keys only: known now, not after an epoch.
    const keys = ['loss', ...heads.flatMap((h, i) => [...(heads.length > 1 ? [outputKey(h.prefix, 'loss')] : []), ...trainMetrics[i].map((m) => outputKey(h.prefix, m.name))])];
    const all = [...keys, ...(val ? keys.map(valKey) : []), 'lr'];
    if (!all.includes(opts.lrSchedulerMonitor)) {
      const near = closestName(opts.lrSchedulerMonitor, all);
      throw new Error(
        `fathom.fit: lrSchedulerMonitor '${opts.lrSchedulerMonitor}' is not in the logs; available: ${all.join(', ')}${near ? ` (did you mean '${near}'?)` : ''}` +
        (!val && opts.lrSchedulerMonitor.startsWith('val') ? ' (validation keys need validationData or validationSplit)' : ''),
      );
    }
  }
  if (io === null) warnSigmoidBeforeLogitsLoss(model, heads[0].lossName);
  // validationData that does not fit the model fails now, not after an epoch of training.
  if (valData) probe(model, io, heads, 'validationData', valData[0], valData[1]);
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
  rememberHeads(model, heads);
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
      // Also when the hook threw: fit must not release the model (mode, the busy marks) while an
      // evaluate() it started still runs batches, or a next fit() would interleave with it.
      while (state.evals.size) await Promise.allSettled([...state.evals]);
    }
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
    // Several outputs: each one's own loss summed over the epoch's rows.
    const headSums = heads.length > 1 ? new Float64Array(heads.length) : null;
    // Each output's own loss on the current batch (named when the total is not finite).
    const headBatch = heads.length > 1 ? new Float64Array(heads.length) : undefined;
    const anyMetrics = trainMetrics.some((ms) => ms.length > 0);
    for (let epoch = 0; epoch < initialEpoch; epoch++) shuffleRows(); // the skipped epochs' shuffles
    for (let epoch = initialEpoch; epoch < epochs && !context.stopTraining; epoch++) {
      await callback(() => cb.onEpochBegin?.(epoch));
      // A callback may have transferred the data's buffers (postMessage) since the last epoch.
      for (const [i, t] of xTrain.entries()) checkStorage('fit', io ? `x.${io.inputs[i]}` : 'x', t);
      for (const [i, t] of yTrain.entries()) checkStorage('fit', io ? `y.${io.outputs[i]}` : 'y', t);
      model.train();
      shuffleRows();
      for (const ms of trainMetrics) for (const m of ms) m.reset();
      headSums?.fill(0);
      const t0 = performance.now();
      let lossSum = 0;
      let seen = 0;
      let lastLr = optimizer.lr;
      for (let b = 0; b < batches; b++) {
        await callback(() => cb.onBatchBegin?.(b));
        const start = b * batchSize;
        const end = Math.min(nTrain, start + batchSize);
        // One permutation for every input and target: rows stay aligned.
        const xb = xTrain.map((t) => gatherRows(t, idx, start, end));
        const yb = yTrain.map((t) => gatherRows(t, idx, start, end));
        let preds: Tensor[], loss: Tensor;
        if (epoch === 0 && b === 0) {
          // The first batch names the whole data set's shapes when they do not fit.
          [preds, loss] = inContext(model, io, heads, 'the training data', xTrain, yTrain, () => {
            const p = forwardAll('fit', model, io, xb);
            return [p, totalLoss('fit', heads, p, yb, headSums, end - start, headBatch)];
          });
        } else {
          preds = forwardAll('fit', model, io, xb);
          loss = totalLoss('fit', heads, preds, yb, headSums, end - start, headBatch);
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
            throw new Error(`fathom.fit: the loss became ${lv} at epoch ${epoch + 1}, batch ${b + 1}${nonFiniteCause(heads, headBatch)}; lower the learning rate or check the data (callbacks.TerminateOnNaN() stops training instead)`);
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
        if (anyMetrics) {
          noGrad(() => {
            for (const [i, ms] of trainMetrics.entries()) for (const m of ms) m.update(preds[i], yb[i], heads[i].rule);
          });
        }
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
      for (const [i, h] of heads.entries()) {
        if (headSums) logs[outputKey(h.prefix, 'loss')] = headSums[i] / seen;
        for (const m of trainMetrics[i]) logs[outputKey(h.prefix, m.name)] = m.result();
      }
      if (val) {
        const r = await evaluateRows(model, io, val[0], val[1], Math.max(batchSize, 256), heads, valMetrics, 'fit (validation)');
        logs.valLoss = r.loss;
        for (const [i, h] of heads.entries()) {
          if (headSums) logs[valKey(outputKey(h.prefix, 'loss'))] = r[outputKey(h.prefix, 'loss')];
          for (const m of valMetrics[i]) logs[valKey(outputKey(h.prefix, m.name))] = r[outputKey(h.prefix, m.name)];
        }
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

/**
 * For a model with several outputs, which output's loss was not finite on the batch, or that
 * the weighted sum Σ wᵢ·lossᵢ overflowed although every loss was finite (huge lossWeights).
 */
function nonFiniteCause(heads: Head[], batch: Float64Array | undefined): string {
  if (!batch) return '';
  const bad = heads.filter((_, i) => !Number.isFinite(batch[i]));
  if (bad.length > 0) return ` (${heads.map((h, i) => `${h.prefix}Loss ${batch[i]}`).join(', ')}: the ${bad.length === 1 ? 'output' : 'outputs'} ${bad.map((h) => `'${h.prefix}'`).join(', ')})`;
  const weighted = heads.reduce((a, h, i) => a + h.weight * batch[i], 0);
  if (!Number.isFinite(Math.fround(weighted))) {
    return ` (every output's loss is finite: ${heads.map((h, i) => `${h.prefix}Loss ${batch[i]} × ${h.weight}`).join(', ')}; the weighted sum overflows float32: lower lossWeights)`;
  }
  return '';
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
function probe(model: Module, io: IONames | null, heads: Head[], what: string, xs: Tensor[], ys: Tensor[]): void {
  const k = Math.min(2, xs[0].shape[0]);
  if (k === 0) return;
  const wasTraining = model.training;
  model.train(false);
  try {
    inContext(model, io, heads, what, xs, ys, () =>
      noGrad(() => totalLoss('fit', heads, forwardAll('fit', model, io, xs.map((t) => rows(t, 0, k))), ys.map((t) => rows(t, 0, k)), null, k)));
  } finally {
    model.train(wasTraining);
  }
}

function lossText(lossName: LossName | LossFn): string {
  return typeof lossName === 'function' ? `${lossName.name || 'custom'} loss function` : `${lossName} loss`;
}

/** Runs f; an Error from it is re-thrown with the data set's shapes in front (the original as cause). */
function inContext<T>(model: Module, io: IONames | null, heads: Head[], what: string, xs: Tensor[], ys: Tensor[], f: () => T): T {
  try {
    return f();
  } catch (e) {
    const losses = heads.length === 1
      ? `the ${lossText(heads[0].lossName)}`
      : `its losses (${heads.map((h) => `${h.prefix}: ${lossText(h.lossName)}`).join(', ')})`;
    throw new Error(
      `fathom.fit: ${what} (x ${shapesText(xs, io?.inputs ?? ['x'])}, y ${shapesText(ys, io?.outputs ?? ['y'])}) does not fit ${model.constructor.name} and ${losses}: ${e instanceof Error ? e.message : String(e)}`,
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

/** The model's outputs for a batch: [forward(x)] for a plain Module, forwardAll(xs) (checked: one Tensor per output) for a multi-IO one. */
function forwardAll(op: string, model: Module, io: IONames | null, xs: Tensor[]): Tensor[] {
  if (io === null) return [forwardChecked(op, model, xs[0])];
  let out: unknown;
  try {
    out = (model as Module & MultiIOModule).forwardAll(xs);
  } catch (e) {
    if (!(e instanceof Error) || !e.message.startsWith('fathom.')) throw e;
    throw new Error(`${e.message} (in ${op}, on a batch ${shapesText(xs, io.inputs)})`, { cause: e });
  }
  if (!Array.isArray(out) || out.length !== io.outputs.length || !out.every((t) => t instanceof Tensor)) {
    const got = Array.isArray(out) ? `[${out.map((t) => (t instanceof Tensor ? fmt(t.shape) : describe(t))).join(', ')}]` : describe(out);
    throw new Error(`fathom.${op}: ${model.constructor.name}.forwardAll returned ${got}, expected a list of ${io.outputs.length} Tensors (outputs ${io.outputs.join(', ')})`);
  }
  return out as Tensor[];
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
 * x and y take the forms fit() takes; a model with several outputs reports the
 * total loss Σ wᵢ·lossᵢ (`loss`), each output's own loss (`<output>Loss`) and
 * its metrics (`<output><Metric>`).
 * Defaults: see EvaluateOptions.
 * @throws (rejects) for bad data or options (named), zero samples, and when
 *   called during a fit() of the same model outside its callbacks.
 */
export async function evaluate(model: Module, x: Tensors, y: Tensors, options?: EvaluateOptions): Promise<EvalResult> {
  const io = checkModel('evaluate', model);
  refuseSampleWeights('evaluate', options);
  const opts = checkOptions<EvaluateOptions>('evaluate', options, io ? EVALUATE_OPTIONS_MULTI : EVALUATE_OPTIONS);
  const st = fitting.get(model);
  if (st && st.inCallback === 0) {
    throw new Error(
      `fathom.evaluate: ${model.constructor.name} is being trained by fit(); evaluating now would mix weights from different steps. ` +
      'Call evaluate() from a fit() callback (e.g. onEpochEnd: fit waits for it) or after fit() resolves; predict() is allowed at any time',
    );
  }
  const [xs, ys] = dataOf('evaluate', io, x, y);
  const batchSize = checkInt('evaluate', 'batchSize', opts.batchSize ?? 256, 1);
  const names = io?.outputs ?? null;
  const heads = evaluateHeads(opts, names, previousHeads(model, names?.length ?? 1), ys);
  const metrics = headMetrics(heads);
  checkLogKeys('evaluate', heads, metrics);
  const run = evaluateRows(model, io, xs, ys, batchSize, heads, metrics, 'evaluate');
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

/** Mean loss (regularisation penalties included), each output's loss when several, and each metric over xs and ys, in inference mode. */
async function evaluateRows(
  model: Module, io: IONames | null, xs: Tensor[], ys: Tensor[], batchSize: number, heads: Head[], metrics: Metric[][], op: string,
): Promise<EvalResult> {
  const n = io === null ? checkData(op, xs[0], ys[0]) : checkRows(op, [{ what: 'x', ts: xs, names: io.inputs }, { what: 'y', ts: ys, names: io.outputs }], MAX_SAMPLES);
  const wasTraining = model.training;
  let lossSum = 0;
  const headSums = heads.length > 1 ? new Float64Array(heads.length) : null;
  for (const ms of metrics) for (const m of ms) m.reset();
  // L1/L2 penalties depend on the weights only: once per evaluation (Keras adds them to every batch's loss).
  // Taped ones (custom, activity regularisers) may depend on the batch: read after each batch's forward.
  const plan = penaltyPlan(model);
  const penalty = penaltyValue(plan.direct);
  try {
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const xb = xs.map((t) => rows(t, start, end));
      const yb = ys.map((t) => rows(t, start, end));
      // Set per batch: a predict() between two batches restores its own mode.
      model.eval();
      noGrad(() => {
        const preds = forwardAll(op, model, io, xb);
        let lv = totalLoss(op, heads, preds, yb, headSums, end - start).item();
        for (const m of plan.taped) lv += tapedPenalty(m)?.item() ?? 0;
        lossSum += lv * (end - start);
        for (const [i, ms] of metrics.entries()) for (const m of ms) m.update(preds[i], yb[i], heads[i].rule);
      });
      model.train(wasTraining);
      await tick();
    }
  } finally {
    model.train(wasTraining);
  }
  const out: EvalResult = { loss: lossSum / n + penalty };
  for (const [i, h] of heads.entries()) {
    if (headSums) out[outputKey(h.prefix, 'loss')] = headSums[i] / n;
    for (const m of metrics[i]) out[outputKey(h.prefix, m.name)] = m.result();
  }
  return out;
}

/**
 * The model's output for x, in batches, in inference mode and without
 * recording (Keras's predict). Synchronous, so allowed at any time, also while
 * a fit() of the model runs (it sees the weights between two steps).
 * A multi-IO model takes x as fit() does (a list in inputNames order, an
 * object by input name, or a Tensor for one input) and returns one Tensor per
 * output in outputNames order (a Tensor for a model with one output).
 * @returns a new Tensor [n, ...output shape] (never x itself), or a list of them.
 * @throws for a non-Tensor x, x without a batch dimension, bad options (named),
 *   and a forward that does not return a Tensor; for a multi-IO model, unknown
 *   or missing input names and inputs with different numbers of rows.
 */
export function predict(model: Module & MultiIOModule, x: Tensors, options?: PredictOptions): Tensor | Tensor[];
export function predict(model: Module, x: Tensor, options?: PredictOptions): Tensor;
export function predict(model: Module, x: Tensors, options?: PredictOptions): Tensor | Tensor[] {
  const io = checkModel('predict', model);
  const opts = checkOptions<PredictOptions>('predict', options, PREDICT_OPTIONS);
  if (io !== null) return predictAll(model as Module & MultiIOModule, io, x, opts);
  if (!(x instanceof Tensor)) throw new Error(`fathom.predict: x must be a Tensor, got ${describe(x)}${multiHint(x)}`);
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
        checkPart(model, p, parts[0], start, end, n, '');
        parts.push(p);
      }
      return joinRows(parts, n);
    });
  } finally {
    if (wasTraining) model.train(true);
  }
}

/**
 * Batching is only sound for a model that maps rows to rows: each batch's output must
 * have its batch's row count and the first batch's row shape and dtype.
 */
function checkPart(model: Module, p: Tensor, first: Tensor | undefined, start: number, end: number, n: number, output: string): void {
  const f = first ?? p;
  if (p.rank < 1 || p.shape[0] !== end - start || p.dtype !== f.dtype || !sameShape(p.shape.slice(1), f.shape.slice(1))) {
    throw new Error(
      `fathom.predict: ${model.constructor.name}.${output ? `forwardAll (output '${output}')` : 'forward'} on rows ${start}..${end} of x gave ${p.dtype} ${fmt(p.shape)}; batched predict needs ` +
      `[${end - start}, ...] (one output row per input row${first ? `, like the first batch's ${f.dtype} ${fmt(f.shape)}` : ''}); ` +
      `call ${output ? 'forwardAll' : 'forward(x)'} directly, or pass { batchSize: ${n} } to predict in one batch`,
    );
  }
}

/** Batches' outputs stacked into one [n, …] tensor. */
function joinRows(parts: Tensor[], n: number): Tensor {
  const per = sizeOf(parts[0].shape.slice(1));
  const out = parts[0].dtype === 'int32' ? new Int32Array(n * per) : new Float32Array(n * per);
  let at = 0;
  for (const p of parts) {
    out.set(p.data, at);
    at += p.size;
  }
  return new Tensor(out, [n, ...parts[0].shape.slice(1)]);
}

/** predict() of a multi-IO model: forwardAll per batch, each output's batches stacked. */
function predictAll(model: Module & MultiIOModule, io: IONames, x: Tensors, opts: PredictOptions): Tensor | Tensor[] {
  const xs = tensorList('predict', 'x', x, io.inputs, 'input');
  const n = checkRows('predict', [{ what: 'x', ts: xs, names: io.inputs }], Number.MAX_SAFE_INTEGER);
  const batchSize = checkInt('predict', 'batchSize', opts.batchSize ?? 256, 1);
  const wasTraining = model.training;
  model.eval();
  try {
    const outs = noGrad(() => {
      const own = (ys: Tensor[]): Tensor[] => ys.map((y) => (xs.includes(y) ? y.clone() : y)); // never hand back the caller's own tensor
      if (n <= batchSize) return own(forwardAll('predict', model, io, xs));
      const parts: Tensor[][] = io.outputs.map(() => []);
      for (let start = 0; start < n; start += batchSize) {
        const end = Math.min(n, start + batchSize);
        const ps = forwardAll('predict', model, io, xs.map((t) => rows(t, start, end)));
        for (const [i, p] of ps.entries()) {
          checkPart(model, p, parts[i][0], start, end, n, io.outputs[i]);
          parts[i].push(p);
        }
      }
      return parts.map((ps) => joinRows(ps, n));
    });
    return outs.length === 1 ? outs[0] : outs;
  } finally {
    if (wasTraining) model.train(true);
  }
}
