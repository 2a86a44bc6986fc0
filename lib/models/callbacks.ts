/**
 * Keras's training callbacks, as classes passed to `fit({ callbacks: [...] })`:
 * EarlyStopping, ModelCheckpoint, LearningRateScheduler, CSVLogger and
 * TerminateOnNaN, on a `Callback` base that receives the model and the fit's
 * context (Keras's `callback.model`, `model.stop_training`).
 *
 * Names follow Keras in camelCase (`restoreBestWeights`, `saveBestOnly`),
 * and so do the log keys they read and write (`valLoss`, not `val_loss`;
 * `lr`, where Keras writes `learning_rate`). Epochs count from 0 in hooks and
 * from 1 in file names and messages, as in Keras.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { makeFolder } from './folder.js';
import { dirname } from 'node:path';
import { describe } from '../ops/record.js';
import { Module } from '../layers/module.js';
import { checkOptions, show } from '../layers/options.js';
import { Optimizer } from '../optimizers/optimizer.js';
import { save } from '../io/model.js';
import { toPath, type FilePath } from '../io/paths.js';
import type { BatchLogs, Callbacks, FitContext, Logs } from './training.js';

/**
 * The base of the callbacks: holds the model and the fit's context once fit()
 * calls setModel (before onTrainBegin). Subclass it and override the hooks you
 * need (Keras's keras.callbacks.Callback).
 */
export abstract class Callback implements Callbacks {
  /** The model being trained (set by fit). */
  model: Module | null = null;
  /** The running fit's context: its optimizer and the stopTraining flag. */
  context: FitContext | null = null;

  setModel(model: Module, context: FitContext): void {
    this.model = model;
    this.context = context;
  }

  /** Asks fit to stop after the current batch, recording why (History.stopReason). */
  protected stop(reason: string): void {
    if (!this.context) return;
    this.context.stopTraining = true;
    this.context.stopReason ??= reason;
  }
}

export type Mode = 'auto' | 'min' | 'max';

/** Log keys whose direction 'auto' knows: the losses and errors go down, the scores up (Keras 3 reads each metric's direction). */
const LOWER_IS_BETTER = new Set(['loss', 'mse', 'mae']);
const HIGHER_IS_BETTER = new Set(['accuracy', 'topK', 'precision', 'recall', 'f1', 'r2']);

/** Whether lower values of `monitor` are better, for mode 'auto'; null when unknown. */
function lowerIsBetter(monitor: string): boolean | null {
  const base = /^val[A-Z]/.test(monitor) ? monitor[3].toLowerCase() + monitor.slice(4) : monitor;
  if (LOWER_IS_BETTER.has(base) || /loss$/i.test(base)) return true;
  if (HIGHER_IS_BETTER.has(base)) return false;
  // A multi-output model's keys: '<output><Metric>' (digitAccuracy, sizeMae).
  const cap = (n: string): string => n[0].toUpperCase() + n.slice(1);
  for (const n of LOWER_IS_BETTER) if (base.endsWith(cap(n))) return true;
  for (const n of HIGHER_IS_BETTER) if (base.endsWith(cap(n))) return false;
  return null;
}

function checkMode(op: string, mode: unknown): Mode {
  if (mode !== 'auto' && mode !== 'min' && mode !== 'max') throw new Error(`fathom.callbacks.${op}: mode must be 'auto', 'min' or 'max', got ${show(mode)}`);
  return mode;
}

/** The comparison for `monitor` under `mode`; for 'auto' and an unknown key, an error asking for a mode. */
function lowerBetter(op: string, monitor: string, mode: Mode): boolean {
  if (mode !== 'auto') return mode === 'min';
  const lower = lowerIsBetter(monitor);
  if (lower === null) {
    throw new Error(`fathom.callbacks.${op}: cannot tell whether '${monitor}' should go up or down; pass mode: 'min' or 'max'`);
  }
  return lower;
}

/** The monitored value, or undefined with a warning (once per callback and fit) that lists the keys there are (Keras warns too). */
function monitored(op: string, monitor: string, logs: Logs, warned: { done: boolean }, what: string): number | undefined {
  const v = logs[monitor];
  if (typeof v === 'number') return v;
  if (!warned.done) {
    warned.done = true;
    process.emitWarning(
      `fathom.callbacks.${op}: ${what} '${monitor}', which is not in the logs; available: ${Object.keys(logs).join(', ')}` +
      (monitor.startsWith('val') ? ' (validation keys need validationData or validationSplit)' : ''),
      { code: 'FATHOM_MONITOR_MISSING', type: 'FathomWarning' },
    );
  }
  return undefined;
}

function num(op: string, name: string, v: unknown, min = -Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new Error(`fathom.callbacks.${op}: ${name} must be a finite number${min > -Infinity ? ` >= ${min}` : ''}, got ${show(v)}`);
  }
  return v;
}

function int(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`fathom.callbacks.${op}: ${name} must be an integer >= 0, got ${show(v)}`);
  return v;
}

/** A copy of every parameter's and buffer's values (BatchNorm's running statistics too), by position in namedState(). */
function snapshot(model: Module): (Float32Array | Int32Array)[] {
  return model.namedState().map(([, t]) => (t.data as Float32Array | Int32Array).slice());
}

export interface EarlyStoppingOptions {
  /** The log key watched (default 'valLoss'). */
  monitor?: string;
  /** Improvements smaller than this (in absolute value) do not count (default 0). */
  minDelta?: number;
  /** Epochs without improvement before stopping (default 0: stop at the first). */
  patience?: number;
  /** 'min', 'max', or 'auto' (default): from the key's name (losses, mse, mae go down; accuracy, topK, precision, recall, f1, r2 go up). */
  mode?: Mode;
  /** Keep training while the value does not beat this (default none). */
  baseline?: number;
  /** Put back the weights of the best epoch when training ends (default false). */
  restoreBestWeights?: boolean;
  /** Epochs before this one are not watched (a warm-up; default 0). */
  startFromEpoch?: number;
}

/**
 * Stops training when the monitored value has not improved for `patience`
 * epochs (Keras 3's keras.callbacks.EarlyStopping, same rules):
 * - improvement: value − |minDelta| below the best ('min'), or value +
 *   |minDelta| above it ('max'); the first watched epoch always improves;
 * - each epoch without improvement counts 1; an improvement resets the count
 *   only when it also beats `baseline` (if given); training stops when the
 *   count reaches `patience`, never on the first epoch;
 * - restoreBestWeights: when training ends (stopped early OR after the last
 *   epoch, as Keras 3 does — Keras 2 restored only when it stopped), the model
 *   gets the weights it had at the end of the best epoch (the weights its
 *   valLoss was computed on). When no epoch beats the baseline, the best of
 *   the epochs seen is restored (Keras 3).
 * A monitor key missing from the logs gives one warning listing the keys
 * there are, and the epoch is not counted (Keras warns the same way).
 * After fit: `stoppedEpoch` (0-based; 0 if it did not stop), `bestEpoch`, `best`.
 */
export class EarlyStopping extends Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: Mode;
  readonly baseline: number | undefined;
  readonly restoreBestWeights: boolean;
  readonly startFromEpoch: number;
  /** Epochs since the last improvement. */
  wait = 0;
  /** The epoch training stopped after (0-based), 0 when it ran to the end. */
  stoppedEpoch = 0;
  /** The best value seen, undefined before the first watched epoch. */
  best: number | undefined = undefined;
  /** The epoch of `best` (0-based). */
  bestEpoch = 0;
  private bestWeights: (Float32Array | Int32Array)[] | null = null;
  private warned = { done: false };

  constructor(options: EarlyStoppingOptions = {}) {
    super();
    const o = checkOptions('callbacks.EarlyStopping', options, {
      monitor: 'string', minDelta: 'number', patience: 'number', mode: 'string', baseline: 'number', restoreBestWeights: 'boolean', startFromEpoch: 'number',
    });
    this.monitor = o.monitor ?? 'valLoss';
    this.minDelta = Math.abs(num('EarlyStopping', 'minDelta', o.minDelta ?? 0));
    this.patience = int('EarlyStopping', 'patience', o.patience ?? 0);
    this.mode = checkMode('EarlyStopping', o.mode ?? 'auto');
    this.baseline = o.baseline === undefined ? undefined : num('EarlyStopping', 'baseline', o.baseline);
    this.restoreBestWeights = o.restoreBestWeights ?? false;
    this.startFromEpoch = int('EarlyStopping', 'startFromEpoch', o.startFromEpoch ?? 0);
    // Fail at construction, not after an epoch, when 'auto' cannot work out the direction.
    if (this.mode === 'auto' && lowerIsBetter(this.monitor) === null) lowerBetter('EarlyStopping', this.monitor, this.mode);
  }

  onTrainBegin(): void {
    // Reset, so one instance can serve several fit() calls (as Keras's on_train_begin).
    this.wait = 0;
    this.stoppedEpoch = 0;
    this.best = undefined;
    this.bestEpoch = 0;
    this.bestWeights = null;
    this.warned = { done: false };
  }

  private improves(value: number, reference: number | undefined): boolean {
    if (reference === undefined) return true;
    return lowerBetter('EarlyStopping', this.monitor, this.mode) ? value + this.minDelta < reference : value - this.minDelta > reference;
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const current = monitored('EarlyStopping', this.monitor, logs, this.warned, 'early stopping watches');
    if (current === undefined || epoch < this.startFromEpoch) return;
    // Until an epoch improves, the first watched epoch's weights are the best there are (Keras 3).
    if (this.restoreBestWeights && this.bestWeights === null) {
      this.bestWeights = snapshot(this.model!);
      this.bestEpoch = epoch;
    }
    this.wait++;
    if (this.improves(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) this.bestWeights = snapshot(this.model!);
      // The count restarts only when the baseline is beaten too.
      if (this.baseline === undefined || this.improves(current, this.baseline)) this.wait = 0;
      return;
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      this.stop(`EarlyStopping: ${this.monitor} did not improve for ${this.wait} epoch${this.wait === 1 ? '' : 's'} (best ${this.best} at epoch ${this.bestEpoch + 1}); stopped after epoch ${epoch + 1}`);
    }
  }

  onTrainEnd(): void {
    if (!this.restoreBestWeights || this.bestWeights === null) return;
    const params = this.model!.namedState();
    if (params.length !== this.bestWeights.length || params.some(([, t], i) => t.size !== this.bestWeights![i].length)) {
      throw new Error('fathom.callbacks.EarlyStopping: the model\'s parameters changed shape during training; cannot restore the best weights');
    }
    params.forEach(([, t], i) => (t.data as Float32Array | Int32Array).set(this.bestWeights![i] as Float32Array & Int32Array));
  }
}

export interface ModelCheckpointOptions {
  /**
   * Where to save (fathom's save(): safetensors, atomic). May hold fields
   * filled in at each save, as Keras's str.format: `{epoch}` (1-based) and any
   * log key (`{valLoss}`), with a format: `{epoch:03d}`, `{valLoss:.4f}`, `{loss:.2e}`.
   */
  path: FilePath;
  /** The log key compared with saveBestOnly (default 'valLoss'). */
  monitor?: string;
  /** Save only when the monitored value improves on the best so far (default false: every epoch). */
  saveBestOnly?: boolean;
  /** As EarlyStopping's (default 'auto'). */
  mode?: Mode;
  /**
   * false (default, as Keras): the file also holds the optimizer's state, a
   * checkpoint that loadCheckpoint() resumes from (fit with initialEpoch);
   * true: the model alone (fathom's file always holds the architecture).
   */
  saveWeightsOnly?: boolean;
}

function checkMore(more: unknown): object {
  if (more === undefined) return {};
  if (more === null || typeof more !== 'object' || Array.isArray(more)) throw new Error(`fathom.callbacks.ModelCheckpoint: options must be an object, got ${show(more)}`);
  if ('path' in more) throw new Error('fathom.callbacks.ModelCheckpoint: the path is given twice (first argument and options.path)');
  return more;
}

/** Python's str.format fields as Keras fills the checkpoint path: {name} or {name:spec}, spec [0][width][.precision](d|f|e|g). */
function formatPath(template: string, epoch: number, logs: Logs): string {
  const values: Record<string, number> = { ...logs as Record<string, number>, epoch: epoch + 1 };
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g, (_, key: string, spec: string | undefined) => {
    const v = values[key];
    if (typeof v !== 'number') {
      throw new Error(`fathom.callbacks.ModelCheckpoint: the path has {${key}}, which is not epoch or a log key; available: ${Object.keys(values).join(', ')}`);
    }
    if (spec === undefined || spec === '') return String(v);
    const m = /^(0?)(\d*)(?:\.(\d+))?([dfeg])$/.exec(spec);
    if (!m) throw new Error(`fathom.callbacks.ModelCheckpoint: unsupported format '{${key}:${spec}}' (use d, f, e or g, e.g. {epoch:02d}, {valLoss:.4f})`);
    const [, zero, width, prec, type] = m;
    const p = prec === undefined ? 6 : Number(prec);
    let out = type === 'd' ? String(Math.round(v)) : type === 'f' ? v.toFixed(p) : type === 'e' ? v.toExponential(p).replace(/e([+-])(\d)$/, 'e$10$2') : String(Number(v.toPrecision(Math.max(1, p))));
    const w = width === '' ? 0 : Number(width);
    if (out.length < w) {
      const neg = out.startsWith('-');
      out = zero ? (neg ? '-' : '') + (neg ? out.slice(1) : out).padStart(w - (neg ? 1 : 0), '0') : out.padStart(w, ' ');
    }
    return out;
  });
}

/**
 * Saves the model after every epoch, or only when the monitored value
 * improves (Keras's keras.callbacks.ModelCheckpoint with save_freq='epoch').
 * Each save is fathom's save(): the architecture, the weights and (unless
 * saveWeightsOnly) the optimizer's state in one safetensors file, written atomically (a temporary file renamed over the
 * target), so an interrupted run leaves the previous checkpoint whole.
 * With saveBestOnly and a monitor key missing from the logs: one warning
 * listing the keys, and no save (as Keras).
 * The folder of the path is created when missing (as Keras does), at the
 * first save. `new ModelCheckpoint(path, options?)` is the same as
 * `new ModelCheckpoint({ path, ...options })` (Keras's positional filepath).
 * After fit: `best` (the best monitored value), `lastPath` (the last file written).
 */
export class ModelCheckpoint extends Callback {
  readonly path: string;
  readonly monitor: string;
  readonly saveBestOnly: boolean;
  readonly mode: Mode;
  readonly saveWeightsOnly: boolean;
  best: number | undefined = undefined;
  lastPath: string | undefined = undefined;
  private warned = { done: false };

  constructor(pathOrOptions: FilePath | ModelCheckpointOptions, more?: Omit<ModelCheckpointOptions, 'path'>) {
    super();
    const isPath = typeof pathOrOptions === 'string' || pathOrOptions instanceof URL;
    const options = (isPath ? { ...checkMore(more), path: pathOrOptions } : pathOrOptions) as ModelCheckpointOptions;
    if (more !== undefined && options === pathOrOptions) throw new Error('fathom.callbacks.ModelCheckpoint: a second argument (options) goes with a path as the first; got an options object first');
    if (options === null || typeof options !== 'object' || Array.isArray(options) || options instanceof URL) {
      throw new Error(`fathom.callbacks.ModelCheckpoint: expected options { path, monitor?, saveBestOnly?, mode? }, got ${show(options)}`);
    }
    const o = checkOptions('callbacks.ModelCheckpoint', options, { path: ['string', 'object'], monitor: 'string', saveBestOnly: 'boolean', mode: 'string', saveWeightsOnly: 'boolean' });
    if (o.path === undefined) throw new Error('fathom.callbacks.ModelCheckpoint: options.path is required');
    this.path = toPath(o.path, 'fathom.callbacks.ModelCheckpoint');
    this.monitor = o.monitor ?? 'valLoss';
    this.saveBestOnly = o.saveBestOnly ?? false;
    this.mode = checkMode('ModelCheckpoint', o.mode ?? 'auto');
    this.saveWeightsOnly = o.saveWeightsOnly ?? false;
    if (this.saveBestOnly && this.mode === 'auto') lowerBetter('ModelCheckpoint', this.monitor, this.mode);
  }

  onTrainBegin(): void {
    this.warned = { done: false };
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    if (this.saveBestOnly) {
      const v = monitored('ModelCheckpoint', this.monitor, logs, this.warned, 'saveBestOnly compares');
      if (v === undefined) return;
      const lower = lowerBetter('ModelCheckpoint', this.monitor, this.mode);
      if (this.best !== undefined && !(lower ? v < this.best : v > this.best)) return;
      this.best = v;
    }
    const p = formatPath(this.path, epoch, logs);
    try {
      await makeFolder(dirname(p));
    } catch (err) {
      throw new Error(`fathom.callbacks.ModelCheckpoint: cannot save to ${p}: ${(err as Error).message}`, { cause: err });
    }
    await save(this.model!, p, this.saveWeightsOnly ? undefined : { optimizer: this.context!.optimizer });
    this.lastPath = p;
  }
}

/**
 * Sets the optimizer's learning rate at the start of every epoch to
 * `schedule(epoch, lr)` (epoch from 0, lr the rate in effect), and logs it as
 * `lr` (Keras's keras.callbacks.LearningRateScheduler, which logs
 * `learning_rate`). Setting `optimizer.lr` sets every parameter group's.
 * @throws (fit rejects) when the schedule returns anything but a finite number >= 0.
 */
export class LearningRateScheduler extends Callback {
  constructor(readonly schedule: (epoch: number, lr: number) => number) {
    super();
    if (typeof schedule !== 'function') throw new Error(`fathom.callbacks.LearningRateScheduler: schedule must be a function (epoch, lr) => number, got ${describe(schedule)}`);
  }

  private get optimizer(): Optimizer {
    const o = this.context?.optimizer;
    if (!(o instanceof Optimizer)) throw new Error('fathom.callbacks.LearningRateScheduler: no optimizer; use it in fit({ callbacks: [...] })');
    return o;
  }

  onEpochBegin(epoch: number): void {
    const lr = this.schedule(epoch, this.optimizer.lr);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new Error(`fathom.callbacks.LearningRateScheduler: the schedule returned ${show(lr)} for epoch ${epoch}; it must return a finite number >= 0`);
    }
    this.optimizer.lr = lr;
  }

  onEpochEnd(_epoch: number, logs: Logs): void {
    logs.lr = this.optimizer.lr;
  }
}

export interface CSVLoggerOptions {
  /** Add to an existing file instead of replacing it (default false); the header is written only to an empty or new file. */
  append?: boolean;
  /** Between fields (default ','). */
  separator?: string;
}

/**
 * Writes one line per epoch to a CSV file: `epoch` then every log key in
 * sorted order, fixed by the first epoch (Keras's keras.callbacks.CSVLogger;
 * a key missing later is written NA). Lines are appended as each epoch ends,
 * so the file can be followed while training runs.
 */
export class CSVLogger extends Callback {
  readonly path: string;
  readonly append: boolean;
  readonly separator: string;
  private keys: string[] | null = null;
  private header = true;

  constructor(path: FilePath, options: CSVLoggerOptions = {}) {
    super();
    this.path = toPath(path, 'fathom.callbacks.CSVLogger');
    const o = checkOptions('callbacks.CSVLogger', options, { append: 'boolean', separator: 'string' });
    this.append = o.append ?? false;
    this.separator = o.separator ?? ',';
    if (this.separator === '' || /[\r\n"]/.test(this.separator)) throw new Error(`fathom.callbacks.CSVLogger: separator must be a non-empty string without quotes or line breaks, got ${show(this.separator)}`);
  }

  async onTrainBegin(): Promise<void> {
    this.keys = null;
    let existing = '';
    if (this.append) {
      existing = await readFile(this.path, 'utf8').catch((e: { code?: string }) => {
        if (e.code === 'ENOENT') return '';
        throw new Error(`fathom.callbacks.CSVLogger: cannot read ${this.path}: ${String((e as Error).message)}`, { cause: e });
      });
    }
    this.header = existing.length === 0;
    // Replace (or create) the file now, so a failure shows before the first epoch.
    if (!this.append) await this.write('', 'w');
  }

  private async write(text: string, flag: 'a' | 'w' = 'a'): Promise<void> {
    try {
      await appendFile(this.path, text, { flag });
    } catch (e) {
      throw new Error(`fathom.callbacks.CSVLogger: cannot write ${this.path}: ${(e as Error).message}`, { cause: e });
    }
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    this.keys ??= Object.keys(logs).sort();
    const s = this.separator;
    const cell = (v: unknown): string => (typeof v === 'number' ? String(v) : 'NA');
    let text = '';
    if (this.header) {
      text += ['epoch', ...this.keys].join(s) + '\n';
      this.header = false;
    }
    text += [String(epoch), ...this.keys.map((k) => cell(logs[k]))].join(s) + '\n';
    await this.write(text);
  }
}

/**
 * Stops training at the first batch whose loss is NaN or ±Infinity (Keras's
 * keras.callbacks.TerminateOnNaN). That batch's update is not applied (fit
 * skips the step of a non-finite loss), the epoch ends as usual, a warning
 * names the epoch and batch (1-based), and so does History.stopReason.
 * Without this callback such a batch makes fit() reject.
 * After fit: `stoppedAt` = { epoch, batch } (0-based) or null.
 */
export class TerminateOnNaN extends Callback {
  stoppedAt: { epoch: number; batch: number } | null = null;
  private epoch = 0;

  onTrainBegin(): void {
    this.stoppedAt = null;
  }

  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }

  onBatchEnd(batch: number, logs: BatchLogs): boolean | void {
    if (Number.isFinite(logs.loss)) return;
    this.stoppedAt = { epoch: this.epoch, batch };
    const reason = `TerminateOnNaN: the loss became ${logs.loss} at epoch ${this.epoch + 1}, batch ${batch + 1}; training stopped (that batch was not applied)`;
    process.emitWarning(reason, { code: 'FATHOM_TERMINATE_ON_NAN', type: 'FathomWarning' });
    this.stop(reason);
    return false;
  }
}
