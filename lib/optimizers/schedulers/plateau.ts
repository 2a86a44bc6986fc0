/** ReduceLROnPlateau of torch/optim/lr_scheduler.py: lr reduced when a metric stops improving. */
import { Tensor } from '../../tensor/tensor.js';
import { checkOptions } from '../../ops/options.js';
import { checkState, choice, fail, int, num, paramGroupsOf, perGroup, type LRSchedulerLike, type OptimizerLike, type SchedulerState } from './base.js';

export interface ReduceLROnPlateauOptions {
  /** 'min': reduce when the metric stops decreasing; 'max': stops increasing. Default 'min'. */
  mode?: 'min' | 'max';
  /** new lr = lr · factor, in [0, 1). Default 0.1. */
  factor?: number;
  /** Epochs without improvement tolerated before reducing, an integer >= 0. Default 10. */
  patience?: number;
  /** Least improvement that counts, a finite number >= 0. Default 1e-4. */
  threshold?: number;
  /** 'rel': better than best·(1 ∓ threshold); 'abs': best ∓ threshold. Default 'rel'. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again, integer >= 0. Default 0. */
  cooldown?: number;
  /** Lower bound on lr, one number or one per param group, >= 0. Default 0. */
  minLr?: number | number[];
  /** A reduction smaller than eps is skipped, a finite number >= 0. Default 1e-8. */
  eps?: number;
}

/**
 * Reduces each group's lr by `factor` when the metric given to `step(metric)` has not improved
 * for more than `patience` steps (PyTorch's ReduceLROnPlateau; Keras's callback of that name).
 * It leaves lr as it is at construction and does not set `initialLr`, as PyTorch.
 */
export class ReduceLROnPlateau implements LRSchedulerLike {
  /** Tells `fit` to pass the monitored value to step(). */
  readonly needsMetric = true;
  readonly optimizer: OptimizerLike;
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly eps: number;
  /** The best metric so far (±Infinity before the first step). */
  best: number;
  /** Steps since the best without improvement. */
  numBadEpochs = 0;
  /** Steps of cooldown left. */
  cooldownCounter = 0;
  private minLrs: number[];
  private readonly defaultMinLr: number | null;
  private lastEpochValue = 0;
  private lastLrValue: number[];

  /** @throws on a value out of range, an unknown option, or a minLr array whose length is not the number of groups. */
  constructor(optimizer: OptimizerLike, options?: ReduceLROnPlateauOptions) {
    const op = 'ReduceLROnPlateau';
    const groups = paramGroupsOf(op, optimizer);
    const o = checkOptions(op, options, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps']);
    this.optimizer = optimizer;
    this.mode = choice(op, 'mode', o.mode ?? 'min', ['min', 'max'] as const);
    this.factor = num(op, 'factor', o.factor ?? 0.1, 0, 1, false, true);
    this.patience = int(op, 'patience', o.patience ?? 10, 0);
    this.threshold = num(op, 'threshold', o.threshold ?? 1e-4, 0);
    this.thresholdMode = choice(op, 'thresholdMode', o.thresholdMode ?? 'rel', ['rel', 'abs'] as const);
    this.cooldown = int(op, 'cooldown', o.cooldown ?? 0, 0);
    this.minLrs = perGroup(op, 'minLr', o.minLr ?? 0, groups.length, (n, x) => num(op, n, x, 0));
    this.defaultMinLr = Array.isArray(o.minLr) ? null : this.minLrs[0];
    this.eps = num(op, 'eps', o.eps ?? 1e-8, 0);
    this.best = this.worst;
    this.lastLrValue = groups.map((g) => g.lr);
  }

  /** The number of step() calls (PyTorch's last_epoch). */
  get lastEpoch(): number { return this.lastEpochValue; }
  /** True while cooling down after a reduction. */
  get inCooldown(): boolean { return this.cooldownCounter > 0; }
  /** The lr of each param group after the last step (a copy). */
  getLastLr(): number[] { return [...this.lastLrValue]; }

  /**
   * Records the metric (a finite number, or a one-element Tensor such as a loss) and reduces
   * lr when it has not improved for more than `patience` steps.
   * @throws on a missing, non-finite or non-number metric (a NaN loss would otherwise count as
   *   a bad epoch silently), or a changed number of groups with a per-group minLr.
   */
  step(metric?: number | Tensor): void {
    const op = 'ReduceLROnPlateau.step';
    const current = metric instanceof Tensor && metric.size === 1 ? metric.item() : metric;
    if (typeof current !== 'number' || !Number.isFinite(current)) {
      fail(op, 'metric', 'a finite number (the monitored value, e.g. the validation loss)', current);
    }
    const groups = paramGroupsOf(op, this.optimizer);
    if (groups.length !== this.minLrs.length) {
      if (this.defaultMinLr === null) {
        throw new Error(`fathom.${op}: the optimizer has ${groups.length} param groups, minLr gives ${this.minLrs.length} (a group added after the scheduler?)`);
      }
      this.minLrs = new Array<number>(groups.length).fill(this.defaultMinLr);
    }
    this.lastEpochValue += 1;
    if (this.isBetter(current)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs during cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      groups.forEach((g, i) => {
        const next = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - next > this.eps) g.lr = next;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLrValue = groups.map((g) => g.lr);
  }

  /** The counters to resume from (best is null while it is ±Infinity, so the state survives JSON). */
  stateDict(): SchedulerState {
    return {
      type: 'ReduceLROnPlateau',
      lastEpoch: this.lastEpochValue,
      best: Number.isFinite(this.best) ? this.best : null,
      numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter,
      lastLr: [...this.lastLrValue],
      minLrs: [...this.minLrs],
    };
  }

  /** Restores a state from stateDict() (the options come from the constructor). */
  loadStateDict(state: SchedulerState): void {
    const s = checkState('ReduceLROnPlateau', state, 'ReduceLROnPlateau',
      { lastEpoch: 'int', best: 'num?', numBadEpochs: 'int', cooldownCounter: 'int', lastLr: 'lrs', minLrs: 'lrs' }, this.minLrs.length);
    this.lastEpochValue = s.lastEpoch as number;
    this.best = s.best === null ? this.worst : (s.best as number);
    this.numBadEpochs = s.numBadEpochs as number;
    this.cooldownCounter = s.cooldownCounter as number;
    this.lastLrValue = [...(s.lastLr as number[])];
    this.minLrs = [...(s.minLrs as number[])];
  }

  private get worst(): number { return this.mode === 'min' ? Infinity : -Infinity; }

  private isBetter(a: number): boolean {
    const { best, threshold: t } = this;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - t) : a < best - t;
    return this.thresholdMode === 'rel' ? a > best * (t + 1) : a > best + t;
  }
}
