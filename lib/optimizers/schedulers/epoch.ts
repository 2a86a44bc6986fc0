/**
 * The epoch-indexed schedules of torch/optim/lr_scheduler.py: StepLR, MultiStepLR, ConstantLR,
 * LinearLR, ExponentialLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, LambdaLR. Each
 * computes the next rate by PyTorch's chainable recurrence (computeLr) and keeps its closed form
 * (closedFormLr) where PyTorch has one.
 */
import { checkOptions } from '../../ops/options.js';
import { LRScheduler, countAtMost, fail, int, num, type OptimizerLike, type ParamGroupLike, type SchedulerState, type StateKind } from './base.js';

export interface StepLROptions {
  /** Period of decay in epochs, an integer >= 1. Required. */
  stepSize: number;
  /** Multiplicative decay, a finite number >= 0. Default 0.1. */
  gamma?: number;
}

/** lr = initialLr · gamma^⌊epoch / stepSize⌋ (computed as PyTorch: ×gamma at each multiple of stepSize). */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  /** @throws on a missing stepSize, a value out of range or an unknown option. */
  constructor(optimizer: OptimizerLike, options: StepLROptions) {
    super('StepLR', optimizer);
    const o = checkOptions('StepLR', options, ['stepSize', 'gamma']);
    this.stepSize = int('StepLR', 'stepSize', o.stepSize, 1);
    this.gamma = num('StepLR', 'gamma', o.gamma ?? 0.1, 0);
    this.initialStep();
  }
  protected computeLr(groups: ParamGroupLike[]): number[] {
    const e = this.lastEpochValue;
    if (e === 0 || e % this.stepSize !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrsValue.map((b) => b * this.gamma ** Math.floor(this.lastEpochValue / this.stepSize));
  }
}

export interface MultiStepLROptions {
  /** Epochs at which lr is multiplied by gamma: integers >= 0, in any order, a repeated one applying gamma each time. Required. */
  milestones: number[];
  /** Multiplicative decay, a finite number >= 0. Default 0.1. */
  gamma?: number;
}

/**
 * lr = initialLr · gamma^(number of milestones <= epoch). Its stateDict() holds the milestones
 * and gamma besides the counters, as PyTorch's (whose state_dict() saves every attribute:
 * `{'milestones': Counter({2: 2, 5: 1}), 'gamma': 0.5, 'base_lrs': ..., 'last_epoch': ...}`),
 * and loadStateDict() restores them, so a resumed schedule keeps the milestones it was saved with.
 */
export class MultiStepLR extends LRScheduler {
  private milestonesValue: readonly number[];
  private gammaValue: number;
  /**
   * Milestones in any order, a repeated one counting as often as it appears
   * (PyTorch keeps them in a Counter: [2, 2] multiplies by gamma² at epoch 2).
   * @throws when milestones is not an array of integers >= 0, or on a bad gamma.
   */
  constructor(optimizer: OptimizerLike, options: MultiStepLROptions) {
    super('MultiStepLR', optimizer);
    const o = checkOptions('MultiStepLR', options, ['milestones', 'gamma']);
    if (!Array.isArray(o.milestones)) fail('MultiStepLR', 'milestones', 'an array of integers >= 0', o.milestones);
    o.milestones.forEach((m, i) => int('MultiStepLR', `milestones[${i}]`, m, 0));
    this.milestonesValue = Object.freeze([...o.milestones].sort((a, b) => a - b));
    this.gammaValue = num('MultiStepLR', 'gamma', o.gamma ?? 0.1, 0);
    this.initialStep();
  }
  /** The milestones, ascending, a repeated one listed as often as given (PyTorch's Counter, expanded). */
  get milestones(): readonly number[] { return this.milestonesValue; }
  get gamma(): number { return this.gammaValue; }
  protected computeLr(groups: ParamGroupLike[]): number[] {
    const times = this.milestonesValue.filter((m) => m === this.lastEpochValue).length;
    if (times === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gammaValue ** times);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrsValue.map((b) => b * this.gammaValue ** countAtMost(this.milestonesValue, this.lastEpochValue));
  }

  /**
   * Restores lastEpoch, baseLrs, lastLr, milestones (any order; kept ascending) and gamma. A
   * state without milestones or gamma (saved before they were part of it) keeps the
   * constructor's, as PyTorch's `__dict__.update(state_dict)` keeps attributes a state lacks.
   * @throws as LRScheduler.loadStateDict, and for milestones that are not integers >= 0 or a
   *   gamma that is not a finite number >= 0; nothing changes then.
   */
  override loadStateDict(state: SchedulerState): void {
    const s = state !== null && typeof state === 'object' && !Array.isArray(state)
      ? { milestones: [...this.milestonesValue], gamma: this.gammaValue, ...state }
      : state;
    if (s !== null && typeof s === 'object' && 'gamma' in s) num('MultiStepLR.loadStateDict', 'state.gamma', s.gamma, 0);
    super.loadStateDict(s);
  }
  protected override stateSpec(): Record<string, StateKind> {
    return { ...super.stateSpec(), milestones: 'ints', gamma: 'num' };
  }
  protected override stateValue(key: string): number | number[] | null {
    if (key === 'milestones') return [...this.milestonesValue];
    if (key === 'gamma') return this.gammaValue;
    return super.stateValue(key);
  }
  protected override setStateValue(key: string, v: unknown): void {
    if (key === 'milestones') this.milestonesValue = Object.freeze([...(v as number[])].sort((a, b) => a - b));
    else if (key === 'gamma') this.gammaValue = v as number;
    else super.setStateValue(key, v);
  }
}

export interface ConstantLROptions {
  /** The factor applied until totalIters, in (0, 1]. Default 1/3. */
  factor?: number;
  /** Steps during which lr is scaled, an integer >= 0. Default 5. */
  totalIters?: number;
}

/** lr = initialLr · factor for epoch < totalIters, then initialLr. */
export class ConstantLR extends LRScheduler {
  readonly factor: number;
  readonly totalIters: number;
  /** @throws on a value out of range or an unknown option. */
  constructor(optimizer: OptimizerLike, options?: ConstantLROptions) {
    super('ConstantLR', optimizer);
    const o = checkOptions('ConstantLR', options, ['factor', 'totalIters']);
    this.factor = num('ConstantLR', 'factor', o.factor ?? 1 / 3, 0, 1, true);
    this.totalIters = int('ConstantLR', 'totalIters', o.totalIters ?? 5, 0);
    this.initialStep();
  }
  protected computeLr(groups: ParamGroupLike[]): number[] {
    const e = this.lastEpochValue;
    if (e === 0) return groups.map((g) => g.lr * this.factor);
    if (e !== this.totalIters) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * (1 / this.factor));
  }
  protected override closedFormLr(): number[] {
    const after = this.lastEpochValue >= this.totalIters ? 1 : 0;
    return this.baseLrsValue.map((b) => b * (this.factor + after * (1 - this.factor)));
  }
}

export interface LinearLROptions {
  /** Factor at epoch 0, in (0, 1]. Default 1/3. */
  startFactor?: number;
  /** Factor from epoch totalIters on, in [0, 1]. Default 1. */
  endFactor?: number;
  /** Steps of the linear change, an integer >= 1. Default 5. */
  totalIters?: number;
}

/**
 * Linear warm-up (or decay): lr = initialLr · (startFactor + (endFactor − startFactor) ·
 * min(epoch, totalIters) / totalIters), computed by PyTorch's ratio recurrence.
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;
  /** @throws on a value out of range or an unknown option. */
  constructor(optimizer: OptimizerLike, options?: LinearLROptions) {
    super('LinearLR', optimizer);
    const o = checkOptions('LinearLR', options, ['startFactor', 'endFactor', 'totalIters']);
    this.startFactor = num('LinearLR', 'startFactor', o.startFactor ?? 1 / 3, 0, 1, true);
    this.endFactor = num('LinearLR', 'endFactor', o.endFactor ?? 1, 0, 1);
    this.totalIters = int('LinearLR', 'totalIters', o.totalIters ?? 5, 1);
    this.initialStep();
  }
  protected computeLr(groups: ParamGroupLike[]): number[] {
    const e = this.lastEpochValue;
    const { startFactor: s, endFactor: f, totalIters: t } = this;
    if (e === 0) return groups.map((g) => g.lr * s);
    if (this.isInitial || e > t) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * (1 + (f - s) / (t * s + (e - 1) * (f - s))));
  }
  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: f, totalIters: t } = this;
    return this.baseLrsValue.map((b) => b * (s + ((f - s) * Math.min(t, this.lastEpochValue)) / t));
  }
}

export interface ExponentialLROptions {
  /** Multiplicative decay per epoch, a finite number >= 0. Required. */
  gamma: number;
}

/** lr = initialLr · gamma^epoch (computed as PyTorch: ×gamma per step). */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  /** @throws on a missing or bad gamma or an unknown option. */
  constructor(optimizer: OptimizerLike, options: ExponentialLROptions) {
    super('ExponentialLR', optimizer);
    const o = checkOptions('ExponentialLR', options, ['gamma']);
    this.gamma = num('ExponentialLR', 'gamma', o.gamma, 0);
    this.initialStep();
  }
  protected computeLr(groups: ParamGroupLike[]): number[] {
    if (this.isInitial) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrsValue.map((b) => b * this.gamma ** this.lastEpochValue);
  }
}

export interface CosineAnnealingLROptions {
  /** Half period in epochs, an integer >= 1. Required. */
  tMax: number;
  /** Minimum lr, a finite number >= 0. Default 0. */
  etaMin?: number;
}

/**
 * Cosine annealing without restarts (SGDR's curve): lr = etaMin + (initialLr − etaMin) ·
 * (1 + cos(π·epoch/tMax)) / 2, computed by PyTorch's recurrence from the lr in effect
 * (past tMax the cosine rises again, as in PyTorch).
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  /** @throws on a missing or bad tMax, a bad etaMin or an unknown option. */
  constructor(optimizer: OptimizerLike, options: CosineAnnealingLROptions) {
    super('CosineAnnealingLR', optimizer);
    const o = checkOptions('CosineAnnealingLR', options, ['tMax', 'etaMin']);
    this.tMax = int('CosineAnnealingLR', 'tMax', o.tMax, 1);
    this.etaMin = num('CosineAnnealingLR', 'etaMin', o.etaMin ?? 0, 0);
    this.initialStep();
  }
  protected computeLr(groups: ParamGroupLike[]): number[] {
    const { tMax: t, etaMin: m } = this;
    const e = this.lastEpochValue;
    if (this.isInitial) return groups.map((g) => g.lr);
    // At e = tMax + 1 (mod 2·tMax) the ratio below would divide by 1 + cos(π) = 0: PyTorch steps by the increment instead.
    if ((e - 1 - t) % (2 * t) === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrsValue[i] - m) * (1 - Math.cos(Math.PI / t))) / 2);
    }
    return groups.map((g) => ((1 + Math.cos((Math.PI * e) / t)) / (1 + Math.cos((Math.PI * (e - 1)) / t))) * (g.lr - m) + m);
  }
  protected override closedFormLr(): number[] {
    const c = 1 + Math.cos((Math.PI * this.lastEpochValue) / this.tMax);
    return this.baseLrsValue.map((b) => this.etaMin + ((b - this.etaMin) * c) / 2);
  }
}

export interface CosineAnnealingWarmRestartsOptions {
  /** Steps until the first restart, an integer >= 1. Required. */
  t0: number;
  /** Factor by which the period grows after each restart, an integer >= 1. Default 1. */
  tMult?: number;
  /** Minimum lr, a finite number >= 0. Default 0. */
  etaMin?: number;
}

/**
 * SGDR: lr = etaMin + (initialLr − etaMin) · (1 + cos(π·tCur/tI)) / 2, where tCur counts the
 * steps since the last restart and the period tI starts at t0 and is multiplied by tMult at
 * each restart. `step(epoch)` accepts a fractional epoch (e.g. `epoch + i / batches` per
 * batch), as PyTorch's.
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  readonly t0: number;
  readonly tMult: number;
  readonly etaMin: number;
  /** Steps since the last restart (may be fractional after step(epoch)). */
  get tCur(): number { return this.tCurValue; }
  /** The current period. */
  get tI(): number { return this.tIValue; }
  private tCurValue = -1;
  private tIValue: number;

  /** @throws on a missing or bad t0, a bad tMult or etaMin, or an unknown option. */
  constructor(optimizer: OptimizerLike, options: CosineAnnealingWarmRestartsOptions) {
    super('CosineAnnealingWarmRestarts', optimizer);
    const op = 'CosineAnnealingWarmRestarts';
    const o = checkOptions(op, options, ['t0', 'tMult', 'etaMin']);
    this.t0 = int(op, 't0', o.t0, 1);
    this.tMult = int(op, 'tMult', o.tMult ?? 1, 1);
    this.etaMin = num(op, 'etaMin', o.etaMin ?? 0, 0);
    this.tIValue = this.t0;
    this.initialStep();
  }

  /**
   * One step (tCur + 1, restarting when it reaches tI), or, given `epoch` (a finite number
   * >= 0, possibly fractional), the point of the schedule at that epoch.
   * @throws on a negative, non-finite or non-number epoch.
   */
  override step(epoch?: number): void {
    const op = 'CosineAnnealingWarmRestarts.step';
    if (epoch !== undefined) num(op, 'epoch', epoch, 0);
    const groups = this.groups();
    let e = epoch;
    if (e === undefined && this.lastEpochValue < 0) e = 0;
    if (e === undefined) {
      e = this.lastEpochValue + 1;
      this.tCurValue += 1;
      if (this.tCurValue >= this.tIValue) {
        this.tCurValue %= this.tIValue;
        this.tIValue *= this.tMult;
      }
    } else if (e >= this.t0) {
      if (this.tMult === 1) {
        this.tCurValue = e % this.t0;
      } else {
        // The restart count n solves t0·(tMult^n − 1)/(tMult − 1) <= e (Python's int(math.log(x, base))).
        const n = Math.trunc(Math.log((e / this.t0) * (this.tMult - 1) + 1) / Math.log(this.tMult));
        this.tCurValue = e - (this.t0 * (this.tMult ** n - 1)) / (this.tMult - 1);
        this.tIValue = this.t0 * this.tMult ** n;
      }
    } else {
      this.tIValue = this.t0;
      this.tCurValue = e;
    }
    this.lastEpochValue = Math.floor(e);
    this.write(groups, this.computeLr());
  }

  protected computeLr(): number[] {
    const c = 1 + Math.cos((Math.PI * this.tCurValue) / this.tIValue);
    return this.baseLrsValue.map((b) => this.etaMin + ((b - this.etaMin) * c) / 2);
  }

  protected override stateSpec(): Record<string, StateKind> {
    return { ...super.stateSpec(), tCur: 'num', tI: 'num' };
  }
  protected override stateValue(key: string): number | number[] | null {
    if (key === 'tCur') return this.tCurValue;
    if (key === 'tI') return this.tIValue;
    return super.stateValue(key);
  }
  protected override setStateValue(key: string, v: unknown): void {
    if (key === 'tCur') this.tCurValue = v as number;
    else if (key === 'tI') this.tIValue = v as number;
    else super.setStateValue(key, v);
  }
}

export interface LambdaLROptions {
  /** epoch → factor (a finite number >= 0), one function or one per param group. Required. */
  lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[];
}

/**
 * lr = initialLr · lrLambda(epoch), e.g. a warm-up `(e) => Math.min(1, (e + 1) / 5)`.
 * The functions are not part of stateDict() (as PyTorch, which saves only callable objects' fields).
 */
export class LambdaLR extends LRScheduler {
  private readonly lambdas: ((epoch: number) => number)[];
  /** @throws when lrLambda is not a function or an array of one function per group. */
  constructor(optimizer: OptimizerLike, options: LambdaLROptions) {
    super('LambdaLR', optimizer);
    const o = checkOptions('LambdaLR', options, ['lrLambda']);
    const n = this.baseLrsValue.length;
    const fns = Array.isArray(o.lrLambda) ? o.lrLambda : new Array(n).fill(o.lrLambda);
    if (fns.length !== n) {
      throw new Error(`fathom.LambdaLR: lrLambda must be a function or an array with one function per param group (${n}), got an Array(${fns.length})`);
    }
    fns.forEach((f, i) => { if (typeof f !== 'function') fail('LambdaLR', Array.isArray(o.lrLambda) ? `lrLambda[${i}]` : 'lrLambda', 'a function (epoch) => factor', f); });
    this.lambdas = fns;
    this.initialStep();
  }
  protected computeLr(): number[] {
    const e = this.lastEpochValue;
    return this.baseLrsValue.map((b, i) => {
      const f = this.lambdas[i](e);
      if (typeof f !== 'number' || !Number.isFinite(f) || f < 0) {
        fail('LambdaLR', `lrLambda${this.lambdas.length > 1 ? `[${i}]` : ''}(${e})`, 'a finite number >= 0', f);
      }
      return b * f;
    });
  }
}
