/**
 * What fit() remembers and reads by name, as Keras's compile() does: the
 * optimizer named by a string, which losses are classification losses and
 * the accuracy rule each implies, the loss each model was last fitted with
 * (the default of evaluate() and of a later fit()), and the part of it that
 * save() stores (the training config).
 */
import { LOSS_NAMES, binaryCrossEntropy, crossEntropy, hinge, lossByName, nll, perceptron, squaredHinge, type LossFn, type LossName } from '../losses/index.js';
import { Adam, AdamW } from '../optimizers/adam.js';
import { SGD } from '../optimizers/sgd.js';
import { Adagrad } from '../optimizers/adagrad.js';
import { RMSprop } from '../optimizers/rmsprop.js';
import { Adadelta } from '../optimizers/adadelta.js';
import { Adamax } from '../optimizers/adamax.js';
import type { Module } from '../layers/module.js';
import { closestName } from '../layers/options.js';
import type { AccuracyRule, MetricSpec } from './metrics.js';

/** fit's optimizer names (Keras's strings), each building the class with its own defaults. */
export const OPTIMIZERS = { adam: Adam, adamw: AdamW, sgd: SGD, rmsprop: RMSprop, adagrad: Adagrad, adadelta: Adadelta, adamax: Adamax } as const;
export type OptimizerName = keyof typeof OPTIMIZERS;

/** A " (did you mean 'x'?)" hint for a name, ignoring case, '_' and '-'. */
export function closest(name: unknown, known: readonly string[]): string {
  if (typeof name !== 'string' || name === '') return '';
  const plain = name.toLowerCase().replace(/[_-]/g, ''); // 'Adam', 'adam_w'
  const near = known.includes(plain) ? plain : closestName(name, known);
  return near ? ` (did you mean '${near}'?)` : '';
}


/** Whether `loss` is binary cross-entropy (by name or the function itself): logits, element-wise 0/1 targets. */
function isBinary(loss: LossName | LossFn): boolean {
  return loss === 'binaryCrossEntropy' || loss === binaryCrossEntropy || isMargin(loss);
}
/** Margin losses: ±1 targets (0/1 converted), scores thresholded at 0. */
function isMargin(loss: LossName | LossFn): boolean {
  return loss === 'hinge' || loss === 'squaredHinge' || loss === 'perceptron' || loss === hinge || loss === squaredHinge || loss === perceptron;
}
/** Whether `loss` is categorical (int32 class indices mean argmax accuracy). */
function isCategorical(loss: LossName | LossFn): boolean {
  return loss === 'crossEntropy' || loss === crossEntropy || loss === 'nll' || loss === nll;
}
/** Losses that report accuracy by default. */
export function isClassification(loss: LossName | LossFn): boolean {
  return isBinary(loss) || isCategorical(loss);
}
/** fit's accuracy rule for a loss: the threshold is 0 for logits and margins, else 0.5 (or as given). */
export function accuracyRule(loss: LossName | LossFn, threshold: number | undefined): AccuracyRule {
  return { binary: isBinary(loss), categorical: isCategorical(loss), margin: isMargin(loss), threshold: threshold ?? (isBinary(loss) ? 0 : 0.5) };
}

export interface LastFit {
  loss: LossFn;
  accuracy: boolean;
  rule: AccuracyRule;
  metrics?: MetricSpec[];
}
/** The loss (and accuracy rule) each model was last fitted with: the defaults of evaluate() and of a later fit(). */
export const lastFit = new WeakMap<Module, LastFit & { name: LossName | LossFn }>();

/** What save() keeps of a model's training setup, so a loaded model fits and evaluates as before (Keras's compile config). */
export interface TrainingConfig {
  loss: LossName;
  accuracy: boolean;
  accuracyThreshold: number;
}


/** The model's training setup, or null when it was never fitted or its loss is a function (not serialisable). */
export function trainingConfig(model: Module): TrainingConfig | null {
  const f = lastFit.get(model);
  if (!f || typeof f.name !== 'string') return null;
  return { loss: f.name, accuracy: f.accuracy, accuracyThreshold: f.rule.threshold };
}

/**
 * Checks a TrainingConfig read from a file (`where` names the file in errors).
 * @throws for anything but { loss: a loss name, accuracy: boolean, accuracyThreshold: finite number }.
 */
export function checkTrainingConfig(c: unknown, where: string): TrainingConfig {
  const o = c as Partial<TrainingConfig> | null;
  const keys = o !== null && typeof o === 'object' && !Array.isArray(o) ? Object.keys(o).sort().join(',') : '';
  if (keys !== 'accuracy,accuracyThreshold,loss' || !LOSS_NAMES.includes(o!.loss as LossName) ||
      typeof o!.accuracy !== 'boolean' || typeof o!.accuracyThreshold !== 'number' || !Number.isFinite(o!.accuracyThreshold)) {
    throw new Error(`${where}: the training metadata must be { loss: ${LOSS_NAMES.join(' | ')}, accuracy: boolean, accuracyThreshold: number }, got ${JSON.stringify(c)?.slice(0, 200)}`);
  }
  return o as TrainingConfig;
}

/** Makes `model` fit and evaluate with `c` by default, as if it had been fitted with it. */
export function restoreTrainingConfig(model: Module, c: TrainingConfig): void {
  lastFit.set(model, {
    name: c.loss,
    loss: lossByName(c.loss),
    accuracy: c.accuracy,
    rule: accuracyRule(c.loss, c.accuracyThreshold),
  });
}
