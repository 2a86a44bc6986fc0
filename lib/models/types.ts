/**
 * The public types of fit / evaluate / predict (Keras's options and results),
 * apart from the loop itself (training.ts), which re-exports them.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { LossFn, LossName } from '../losses/index.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { ProgressSink } from './progress.js';
import type { Callbacks } from './hooks.js';
import type { MetricSpec } from './metrics.js';
import type { OptimizerName } from './compile.js';
import type { PerOutput, Tensors } from './multi.js';

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

/**
 * A loss: a name or a function (pred, target) → scalar Tensor; for a model with
 * several outputs also a list of them (outputNames order) or an object by
 * output name (Keras's loss list / dict).
 */
export type LossOption = PerOutput<LossName | LossFn>;
/**
 * Metrics: one list for every output; for a model with several outputs also a
 * list of lists (outputNames order) or an object by output name whose entries
 * are lists or single metrics (Keras's metrics list / dict).
 */
export type MetricsOption = MetricSpec[] | readonly (MetricSpec | MetricSpec[])[] | Readonly<Record<string, MetricSpec | MetricSpec[]>>;

export interface FitOptions {
  /**
   * The loss: a name or a function (pred, target) → scalar Tensor. Required on
   * a model's first fit(); later fits default to the previous fit's loss (as
   * Keras keeps what compile() set).
   * A model with several outputs takes one loss for every output, a list in
   * outputNames order, or an object keyed by output name (every output needs one):
   * `{ digit: 'crossEntropy', size: 'mse' }`.
   */
  loss?: LossOption;
  /**
   * Multi-output models: each output's weight wᵢ in the minimised and reported
   * loss Σ wᵢ·lossᵢ (+ penalties), Keras's loss_weights. A list in outputNames
   * order, an object by output name (missing outputs: 1), or one number for all.
   * Finite numbers >= 0, not all 0 (Keras does not check; a negative weight would maximise a loss that is
   * usually unbounded above, and all zeros train nothing); default 1 each; a later fit without loss and
   * lossWeights keeps the previous ones. A weight of 0 logs an output's loss and metrics without training on it.
   * The logged `<output>Loss` values are unweighted (as Keras's).
   */
  lossWeights?: PerOutput<number>;
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
  /**
   * [x, y] to validate on after each epoch (overrides validationSplit, as in Keras);
   * x and y in any form fit takes (Tensor, list or object by name).
   */
  validationData?: [Tensors, Tensors];
  /** Shuffle the training rows each epoch (default true); every input and target gets the same permutation. */
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
   * A model with several outputs logs each output's metrics as
   * `<output><Metric>` (`digitAccuracy`, `valDigitAccuracy`) and its own loss as
   * `<output>Loss`; a flat list applies to every output, a list of lists or an
   * object `{ digit: ['accuracy', 'f1'], size: 'mae' }` to each its own. Accuracy
   * is on by default for each output whose loss is a classification loss.
   */
  metrics?: MetricsOption;
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
  /** The logged value a metric-driven scheduler (ReduceLROnPlateau) gets (any log key, e.g. 'valDigitLoss'): default valLoss when validating, else loss. */
  lrSchedulerMonitor?: string;
  /** 0 silent, 1 progress (bar on a TTY, a line per epoch otherwise). Default 1. */
  verbose?: 0 | 1;
  /** Where progress goes (default stderr). */
  progress?: ProgressSink;
}

export interface History {
  epochs: number[];
  /**
   * Per epoch: loss (regularisation penalties included, as Keras), metrics, valLoss and val metrics, lr when scheduled.
   * A model with several outputs adds each output's unweighted loss and metrics: `digitLoss`,
   * `digitAccuracy`, `valDigitLoss`, … (`loss` is the weighted total Σ wᵢ·lossᵢ).
   */
  history: { loss: number[]; accuracy?: number[]; valLoss?: number[]; valAccuracy?: number[]; lr?: number[]; [k: string]: number[] | undefined };
  /** Training throughput of the whole fit, samples per second. */
  samplesPerSecond: number;
  /** Why training stopped before `epochs` (a callback's reason, e.g. TerminateOnNaN's epoch and batch). */
  stopReason?: string;
}

export interface EvaluateOptions {
  /** Samples per forward pass (default 256). */
  batchSize?: number;
  /** Default: the loss of the model's last fit(), else crossEntropy for int32 targets and mse otherwise (per output; forms as FitOptions.loss). */
  loss?: LossOption;
  /** As in FitOptions (default: the last fit's, else 1 per output). */
  lossWeights?: PerOutput<number>;
  /** Default: as the last fit() reported, else on for classification losses / int32 targets. */
  accuracy?: boolean;
  /** As in FitOptions (default: the last fit's, else by the loss). */
  accuracyThreshold?: number;
  /** As in FitOptions (default: the last fit's). */
  metrics?: MetricsOption;
}
export interface EvalResult {
  /** Mean loss, regularisation penalties included (as Keras); Σ wᵢ·lossᵢ for several outputs, each also as `<output>Loss`. */
  loss: number;
  accuracy?: number;
  /** Every other metric, by name. */
  [metric: string]: number | undefined;
}
export interface PredictOptions {
  /** Samples per forward pass (default 256). */
  batchSize?: number;
}

