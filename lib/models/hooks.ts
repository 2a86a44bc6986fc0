/**
 * The hooks fit() calls (Keras's Callback methods): their types, the check of
 * a callbacks object, and the combination of a list into one object.
 */
import type { Module } from '../layers/module.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { closestName, show, type OptionSpec } from '../layers/options.js';
import type { History, Logs } from './training.js';

/**
 * What fit() hands its callbacks before training (Keras's callback.model and
 * model.stop_training): the model, the optimizer, and a flag to stop.
 */
export interface FitContext {
  readonly model: Module;
  readonly optimizer: Optimizer;
  /** Passes over the data this fit() was asked for. */
  readonly epochs: number;
  /** Batches per epoch. */
  readonly batches: number;
  /** Set true to stop after the current batch (its epoch then ends as usual: validation, onEpochEnd), as Keras's model.stop_training. */
  stopTraining: boolean;
  /** Why training stopped early; copied to History.stopReason. */
  stopReason?: string;
}

/** Logs of one batch: its loss (regularisation included) and number of samples. */
export interface BatchLogs {
  loss: number;
  size: number;
}

/**
 * Training hooks (Keras's Callback methods). Epochs and batches count from 0.
 * Any hook may be async; fit waits for it. A hook's `this` is its own object.
 */
export interface Callbacks {
  /** Called once before onTrainBegin with the model and the fit's context (Keras's set_model). */
  setModel?: (model: Module, context: FitContext) => void | Promise<void>;
  onTrainBegin?: () => void | Promise<void>;
  onTrainEnd?: (history: History) => void | Promise<void>;
  onEpochBegin?: (epoch: number) => void | Promise<void>;
  /**
   * Return false (or a promise of false) to stop training after this epoch.
   * The hook may add keys to `logs` (as LearningRateScheduler adds lr): the
   * history records the logs after every onEpochEnd has run.
   */
  onEpochEnd?: (epoch: number, logs: Logs) => void | boolean | Promise<void | boolean>;
  onBatchBegin?: (batch: number) => void | Promise<void>;
  /**
   * Return false to stop training after this batch (its epoch ends as usual).
   * A batch whose loss is NaN or ±Infinity is not applied (no optimizer step);
   * fit calls onBatchEnd with that loss and throws unless a hook stops training
   * (TerminateOnNaN does).
   */
  onBatchEnd?: (batch: number, logs: BatchLogs) => void | boolean | Promise<void | boolean>;
}

const CALLBACKS: OptionSpec = {
  setModel: 'function', onTrainBegin: 'function', onTrainEnd: 'function', onEpochBegin: 'function', onEpochEnd: 'function',
  onBatchBegin: 'function', onBatchEnd: 'function',
};

/**
 * A callbacks object: its hooks (own or inherited: a class instance) must be
 * functions; other properties are the callback's own state, except names that
 * look like a mistyped hook ('onEpochEnds'), which are refused with the hook meant.
 */
export function checkCallbacks(op: string, c: unknown): Callbacks {
  if (c === undefined) return {};
  if (c === null || typeof c !== 'object' || Array.isArray(c)) {
    throw new Error(`fathom.${op}: expected an object of hooks (${Object.keys(CALLBACKS).join(', ')}), got ${show(c)}`);
  }
  const hooks = Object.keys(CALLBACKS);
  for (const k of hooks) {
    const f = (c as Record<string, unknown>)[k];
    if (f !== undefined && typeof f !== 'function') throw new Error(`fathom.${op}: options.${k} must be a function, got ${typeof f} ${show(f)}`);
  }
  for (const k of Object.keys(c)) {
    if (!hooks.includes(k) && /^on[A-Z]/.test(k)) {
      const near = closestName(k, hooks);
      throw new Error(`fathom.${op}: unknown hook '${k}'${near ? ` (did you mean '${near}'?)` : ''}; the hooks are ${hooks.join(', ')}`);
    }
  }
  return c as Callbacks;
}

/** One Callbacks object that runs each list entry's hooks in order; onEpochEnd and onBatchEnd are false when any returns false. */
export function combineCallbacks(list: Callbacks[]): Callbacks {
  // Each hook is called as a method of its own object (a callback class keeps its state on `this`).
  // Synchronous hooks run synchronously (no promise): evaluate() is allowed only while a hook runs.
  const run = (name: keyof Callbacks) => (...args: unknown[]): boolean | Promise<boolean> => {
    let keepGoing = true;
    const from = (i: number): boolean | Promise<boolean> => {
      for (; i < list.length; i++) {
        const c = list[i];
        const f = c[name] as ((...a: unknown[]) => unknown) | undefined;
        if (f === undefined) continue;
        const v = f.apply(c, args);
        if (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') {
          const next = i + 1;
          return (v as Promise<unknown>).then((r) => {
            if (r === false) keepGoing = false;
            return from(next);
          });
        }
        if (v === false) keepGoing = false;
      }
      return keepGoing;
    };
    return from(0);
  };
  const none = (v: boolean | Promise<boolean>): void | Promise<void> => (typeof v === 'boolean' ? undefined : v.then(() => undefined));
  return {
    setModel: (m, ctx) => none(run('setModel')(m, ctx)),
    onTrainBegin: () => none(run('onTrainBegin')()),
    onTrainEnd: (h) => none(run('onTrainEnd')(h)),
    onEpochBegin: (e) => none(run('onEpochBegin')(e)),
    onEpochEnd: (e, logs) => run('onEpochEnd')(e, logs),
    onBatchBegin: (b) => none(run('onBatchBegin')(b)),
    onBatchEnd: (b, logs) => run('onBatchEnd')(b, logs),
  };
}
