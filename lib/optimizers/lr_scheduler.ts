/**
 * Learning-rate schedules, PyTorch's torch.optim.lr_scheduler with its class
 * names and its options in camelCase (`step_size` → `stepSize`, `T_max` → `tMax`).
 *
 * Source followed: torch/optim/lr_scheduler.py (PyTorch 2.x). As there, a
 * scheduler writes `group.lr` of each of the optimizer's param groups, and
 * most schedules are *chainable*: each step() computes the next rate from the
 * rate in effect (`group.lr`), by the same recurrences PyTorch uses, so the
 * sequences agree with PyTorch's float64 values (not only with the closed
 * forms of its docs), and two schedulers on one optimizer compose as they do
 * there. Constructing a scheduler performs PyTorch's initial step: the
 * group's lr becomes the schedule's first value (LinearLR's startFactor·lr,
 * OneCycleLR's maxLr/divFactor…), and the starting lr is kept on the group as
 * `group.initialLr` (PyTorch's `initial_lr`), the base every schedule scales.
 *
 * Use: call `opt.step()` then `sched.step()` once per epoch (or per batch for
 * OneCycleLR and CosineAnnealingWarmRestarts, as their docs say);
 * ReduceLROnPlateau takes the monitored value, `sched.step(valLoss)`.
 * `fit(model, x, y, { lrScheduler })` calls step() for you.
 *
 * Not carried over: PyTorch's `last_epoch` constructor argument (resume with
 * `stateDict()` / `loadStateDict()` instead) and the deprecated `step(epoch)`
 * form (except CosineAnnealingWarmRestarts, whose docs use it for fractional
 * epochs). CyclicLR, MultiplicativeLR and PolynomialLR are not provided.
 */
import { describeValue } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions } from '../ops/options.js';

/** A param group as schedulers see it: a plain writable object with `lr` (see `Optimizer.paramGroups`). */
export interface ParamGroupLike {
  lr: number;
  [hyper: string]: unknown;
}
/** What a scheduler needs of an optimizer: its param groups (and, for OneCycleLR, its `defaults`). */
export interface OptimizerLike {
  readonly paramGroups: ParamGroupLike[];
  readonly defaults?: Readonly<Record<string, unknown>>;
}
/** What `fit` needs of a scheduler. ReduceLROnPlateau takes the metric (and says so by `needsMetric`). */
export interface LRSchedulerLike {
  step(metric?: number): void;
  getLastLr(): number[];
  readonly needsMetric?: boolean;
}
/** A scheduler's state: plain JSON-compatible data (numbers, strings, arrays, nested states). */
export type SchedulerState = { [key: string]: SchedulerStateValue };
type SchedulerStateValue = number | string | null | number[] | SchedulerState[];

// ---------------------------------------------------------------------------------------------
// Validation: every refusal names the scheduler, the option, what was expected and what came.

function fail(op: string, name: string, expected: string, v: unknown): never {
  throw new Error(`fathom.${op}: ${name} must be ${expected}, got ${describeValue(v)}`);
}
/** A finite number in [lo, hi] (open ends where asked). */
function num(op: string, name: string, v: unknown, lo: number, hi = Infinity, loOpen = false, hiOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || (hiOpen ? v >= hi : v > hi)) {
    const range = hi === Infinity ? `${loOpen ? '>' : '>='} ${lo}` : `in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}`;
    fail(op, name, `a finite number ${range}`, v);
  }
  return v;
}
function int(op: string, name: string, v: unknown, lo: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < lo) fail(op, name, `an integer >= ${lo}`, v);
  return v;
}
function bool(op: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail(op, name, 'a boolean', v);
  return v;
}
function choice<T extends string>(op: string, name: string, v: unknown, choices: readonly T[]): T {
  if (!choices.includes(v as T)) fail(op, name, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, v);
  return v as T;
}
/** A number for every group, or one array with one number per group (PyTorch's "float or list"). */
function perGroup(op: string, name: string, v: unknown, n: number, check: (name: string, x: unknown) => number): number[] {
  if (!Array.isArray(v)) return new Array<number>(n).fill(check(name, v));
  if (v.length !== n) {
    throw new Error(`fathom.${op}: ${name} must be a number or an array with one number per param group (${n}), got an Array(${v.length})`);
  }
  return v.map((x, i) => check(`${name}[${i}]`, x));
}

/** The optimizer's param groups, checked: a non-empty array of objects whose lr is a finite number >= 0. */
function paramGroupsOf(op: string, optimizer: unknown): ParamGroupLike[] {
  const groups = (optimizer as OptimizerLike | null)?.paramGroups;
  if (optimizer === null || typeof optimizer !== 'object' || !Array.isArray(groups)) {
    fail(op, 'optimizer', 'an optimizer with paramGroups (e.g. new optim.SGD(model.parameters()))', optimizer);
  }
  if (groups.length === 0) throw new Error(`fathom.${op}: the optimizer has no param groups`);
  groups.forEach((g, i) => {
    if (g === null || typeof g !== 'object') fail(op, `optimizer.paramGroups[${i}]`, 'an object', g);
    num(op, `optimizer.paramGroups[${i}].lr`, g.lr, 0);
  });
  return groups;
}

/** Python's bisect_right on an ascending array: how many entries are <= x. */
function countAtMost(sorted: readonly number[], x: number): number {
  let n = 0;
  while (n < sorted.length && sorted[n] <= x) n++;
  return n;
}

function checkStepArgs(op: string, args: IArguments, what: string): void {
  if (args.length > 0 && args[0] !== undefined) {
    throw new Error(`fathom.${op}.step: takes no argument (${what}), got ${describeValue(args[0])}`);
  }
}

/**
 * Checks a state object against the keys a scheduler saves ('int', 'num', 'lrs': one finite
 * number per group, 'num?': a finite number or null) and returns it.
 */
function checkState(op: string, state: unknown, type: string, spec: Record<string, 'int' | 'num' | 'num?' | 'lrs'>, groups: number): SchedulerState {
  const where = `${op}.loadStateDict`;
  if (state === null || typeof state !== 'object' || Array.isArray(state)) fail(where, 'state', 'an object from stateDict()', state);
  const s = state as SchedulerState;
  if (s.type !== type) fail(where, 'state.type', `'${type}' (a state saved by ${type}.stateDict())`, s.type);
  for (const key of Object.keys(s)) {
    if (key !== 'type' && !(key in spec)) throw new Error(`fathom.${where}: unknown key '${key}' in state (known: type, ${Object.keys(spec).join(', ')})`);
  }
  for (const [key, kind] of Object.entries(spec)) {
    const v = s[key];
    if (kind === 'int') int(where, `state.${key}`, v, -1);
    else if (kind === 'num') num(where, `state.${key}`, v, -Infinity);
    else if (kind === 'num?') { if (v !== null) num(where, `state.${key}`, v, -Infinity); }
    else {
      if (!Array.isArray(v) || v.length !== groups) fail(where, `state.${key}`, `an array of ${groups} numbers (one per param group)`, v);
      v.forEach((x, i) => num(where, `state.${key}[${i}]`, x, 0));
    }
  }
  return s;
}

// ---------------------------------------------------------------------------------------------

/**
 * The base of the epoch-indexed schedulers (PyTorch's LRScheduler). Subclasses give
 * `computeLr()` (PyTorch's chainable `get_lr`, reading `lastEpoch` and the groups' current lr)
 * and, where PyTorch has one, `closedFormLr()` (used by SequentialLR when it restarts a
 * scheduler at epoch 0).
 */
export abstract class LRScheduler implements LRSchedulerLike {
  /** The wrapped optimizer. */
  readonly optimizer: OptimizerLike;
  /** Each group's `initialLr` when the scheduler was built (PyTorch's base_lrs). */
  protected baseLrsValue: number[];
  protected lastEpochValue = -1;
  protected lastLrValue: number[] = [];
  /** True during the step done by the constructor (PyTorch's _is_initial). */
  protected isInitial = false;

  protected constructor(readonly schedulerName: string, optimizer: OptimizerLike) {
    const groups = paramGroupsOf(schedulerName, optimizer);
    this.optimizer = optimizer;
    // As PyTorch's setdefault: a group that already has initialLr (another scheduler set it) keeps it.
    groups.forEach((g, i) => {
      if (g.initialLr === undefined) g.initialLr = g.lr;
      else num(schedulerName, `optimizer.paramGroups[${i}].initialLr`, g.initialLr, 0);
    });
    this.baseLrsValue = groups.map((g) => g.initialLr as number);
  }

  /** The index of the last step (0 after construction, +1 per step()); PyTorch's last_epoch. */
  get lastEpoch(): number { return this.lastEpochValue; }
  /** The lr each group started from (its `initialLr`). */
  get baseLrs(): number[] { return [...this.baseLrsValue]; }
  /** The lr in effect for each param group after the last step (a copy). */
  getLastLr(): number[] { return [...this.lastLrValue]; }

  /**
   * Advances the schedule by one step and writes the new lr into every param group.
   * @throws when given an argument, or the optimizer's param groups changed in number since
   *   the scheduler was built.
   */
  step(): void {
    checkStepArgs(this.schedulerName, arguments, 'only ReduceLROnPlateau takes a metric');
    this.updateLr();
  }

  /** The state to resume from: lastEpoch, baseLrs, lastLr and the schedule's counters (options come from the constructor). */
  stateDict(): SchedulerState {
    const s: SchedulerState = { type: this.schedulerName };
    for (const key of Object.keys(this.stateSpec())) {
      const v = this.stateValue(key);
      s[key] = Array.isArray(v) ? [...v] : v;
    }
    return s;
  }

  /**
   * Restores a state from stateDict(). Like PyTorch's, it restores the scheduler only: restore
   * the optimizer's state (its groups' lr) too, since chainable schedules continue from it, and
   * in PyTorch's order: build the optimizer and the scheduler (building sets the groups' lr),
   * then `opt.loadStateDict(o)`, then `sched.loadStateDict(s)`.
   * @throws when the state is not one this scheduler saved (other type, missing or bad keys).
   */
  loadStateDict(state: SchedulerState): void {
    const spec = this.stateSpec();
    const s = checkState(this.schedulerName, state, this.schedulerName, spec, this.baseLrsValue.length);
    for (const key of Object.keys(spec)) this.setStateValue(key, Array.isArray(s[key]) ? [...(s[key] as number[])] : s[key]);
  }

  /** Performs the constructor's step (call at the end of each subclass constructor). */
  protected initialStep(): void {
    this.isInitial = true;
    try {
      this.step();
    } finally {
      this.isInitial = false;
    }
  }

  /** PyTorch's _update_lr: the next epoch (or `epoch`, by the closed form where there is one). */
  updateLr(epoch?: number): void {
    const groups = this.groups();
    const prev = this.lastEpochValue;
    this.lastEpochValue = epoch ?? prev + 1;
    let lrs: number[];
    try {
      lrs = (epoch !== undefined ? this.closedFormLr() : null) ?? this.computeLr(groups);
    } catch (e) {
      this.lastEpochValue = prev; // nothing changes when a step is refused
      throw e;
    }
    this.write(groups, lrs);
  }

  protected write(groups: ParamGroupLike[], lrs: number[]): void {
    groups.forEach((g, i) => { g.lr = lrs[i]; });
    this.lastLrValue = groups.map((g) => g.lr);
  }

  /** The param groups, checked to be as many as when the scheduler was built. */
  protected groups(): ParamGroupLike[] {
    const groups = this.optimizer.paramGroups;
    if (groups.length !== this.baseLrsValue.length) {
      throw new Error(
        `fathom.${this.schedulerName}.step: the optimizer has ${groups.length} param groups, the scheduler was built for ${this.baseLrsValue.length} (a group added after the scheduler? build the scheduler after addParamGroup)`,
      );
    }
    return groups;
  }

  /** The lr of every group at `lastEpoch` (PyTorch's chainable get_lr). */
  protected abstract computeLr(groups: ParamGroupLike[]): number[];
  /** The closed form at `lastEpoch`, where PyTorch has one (_get_closed_form_lr); null otherwise. */
  protected closedFormLr(): number[] | null { return null; }

  /** The keys stateDict() saves and their kinds. */
  protected stateSpec(): Record<string, 'int' | 'num' | 'num?' | 'lrs'> {
    return { lastEpoch: 'int', baseLrs: 'lrs', lastLr: 'lrs' };
  }
  protected stateValue(key: string): number | number[] | null {
    if (key === 'lastEpoch') return this.lastEpochValue;
    if (key === 'baseLrs') return this.baseLrsValue;
    if (key === 'lastLr') return this.lastLrValue;
    throw new Error(`fathom.${this.schedulerName}: no state '${key}'`);
  }
  protected setStateValue(key: string, v: unknown): void {
    if (key === 'lastEpoch') this.lastEpochValue = v as number;
    else if (key === 'baseLrs') this.baseLrsValue = v as number[];
    else if (key === 'lastLr') this.lastLrValue = v as number[];
    else throw new Error(`fathom.${this.schedulerName}: no state '${key}'`);
  }
}

// ---------------------------------------------------------------------------------------------

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
  /** Epochs at which lr is multiplied by gamma: integers >= 0, increasing. Required. */
  milestones: number[];
  /** Multiplicative decay, a finite number >= 0. Default 0.1. */
  gamma?: number;
}

/** lr = initialLr · gamma^(number of milestones <= epoch). */
export class MultiStepLR extends LRScheduler {
  readonly milestones: readonly number[];
  readonly gamma: number;
  /** @throws when milestones is not an increasing array of integers >= 0, or on a bad gamma. */
  constructor(optimizer: OptimizerLike, options: MultiStepLROptions) {
    super('MultiStepLR', optimizer);
    const o = checkOptions('MultiStepLR', options, ['milestones', 'gamma']);
    if (!Array.isArray(o.milestones)) fail('MultiStepLR', 'milestones', 'an array of increasing integers >= 0', o.milestones);
    o.milestones.forEach((m, i) => {
      int('MultiStepLR', `milestones[${i}]`, m, 0);
      if (i > 0 && m <= o.milestones![i - 1]) fail('MultiStepLR', `milestones[${i}]`, `greater than milestones[${i - 1}] = ${o.milestones![i - 1]} (increasing)`, m);
    });
    this.milestones = Object.freeze([...o.milestones]);
    this.gamma = num('MultiStepLR', 'gamma', o.gamma ?? 0.1, 0);
    this.initialStep();
  }
  protected computeLr(groups: ParamGroupLike[]): number[] {
    if (!this.milestones.includes(this.lastEpochValue)) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrsValue.map((b) => b * this.gamma ** countAtMost(this.milestones, this.lastEpochValue));
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

  protected override stateSpec(): Record<string, 'int' | 'num' | 'num?' | 'lrs'> {
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

export interface OneCycleLROptions {
  /** Peak lr, one number or one per param group, finite > 0. Required. */
  maxLr: number | number[];
  /** Steps in the cycle, an integer >= 1; or give epochs and stepsPerEpoch (totalSteps wins). */
  totalSteps?: number;
  /** Epochs of training (with stepsPerEpoch: totalSteps = epochs · stepsPerEpoch). */
  epochs?: number;
  /** Batches per epoch. */
  stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing lr, in [0, 1]. Default 0.3. */
  pctStart?: number;
  /** 'cos' or 'linear'. Default 'cos'. */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (SGD/RMSprop `momentum`, Adam family `betas[0]`) inversely to lr. Default true. */
  cycleMomentum?: boolean;
  /** Momentum at the lr peak, one number or one per group, >= 0. Default 0.85. */
  baseMomentum?: number | number[];
  /** Momentum at the start and end, one number or one per group, >= 0. Default 0.95. */
  maxMomentum?: number | number[];
  /** initialLr = maxLr / divFactor; finite > 0. Default 25. */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor; finite > 0. Default 1e4. */
  finalDivFactor?: number;
  /** Three phases (up, down to initialLr, down to minLr) instead of two. Default false. */
  threePhase?: boolean;
}

interface Phase {
  end: number;
  lr: ['initial' | 'max' | 'min', 'initial' | 'max' | 'min'];
  momentum: ['base' | 'max', 'base' | 'max'];
}

/**
 * The 1cycle policy (Smith, "Super-Convergence", 2017; fastai's two-phase default): lr anneals
 * from maxLr/divFactor up to maxLr over the first pctStart of totalSteps, then down to
 * initialLr/finalDivFactor, while momentum anneals from maxMomentum down to baseMomentum and
 * back. Step it once per batch. Construction sets each group's lr to maxLr/divFactor (its
 * `initialLr`, overwritten as PyTorch does) and, with cycleMomentum, its momentum to
 * maxMomentum (for the Adam family `group.betas` is replaced by `[maxMomentum, beta2]`).
 * As PyTorch, step() may be called totalSteps times after construction.
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly pctStart: number;
  readonly annealStrategy: 'cos' | 'linear';
  readonly cycleMomentum: boolean;
  private readonly maxLrs: number[];
  private readonly minLrs: number[];
  private readonly baseMomentums: number[];
  private readonly maxMomentums: number[];
  private readonly useBeta1: boolean;
  private readonly phases: Phase[];

  /**
   * @throws on a missing maxLr, neither totalSteps nor epochs and stepsPerEpoch, a value out of
   *   range, an array whose length is not the number of groups, or cycleMomentum with an
   *   optimizer that has neither momentum nor betas.
   */
  constructor(optimizer: OptimizerLike, options: OneCycleLROptions) {
    const op = 'OneCycleLR';
    const groups = paramGroupsOf(op, optimizer);
    const o = checkOptions(op, options, ['maxLr', 'totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy',
      'cycleMomentum', 'baseMomentum', 'maxMomentum', 'divFactor', 'finalDivFactor', 'threePhase']);
    let total: number;
    if (o.totalSteps !== undefined) total = int(op, 'totalSteps', o.totalSteps, 1);
    else if (o.epochs !== undefined && o.stepsPerEpoch !== undefined) {
      total = int(op, 'epochs', o.epochs, 1) * int(op, 'stepsPerEpoch', o.stepsPerEpoch, 1);
    } else {
      throw new Error(`fathom.${op}: give totalSteps, or epochs and stepsPerEpoch, got ${o.epochs === undefined && o.stepsPerEpoch === undefined ? 'neither' : `only ${o.epochs === undefined ? 'stepsPerEpoch' : 'epochs'}`}`);
    }
    const pct = num(op, 'pctStart', o.pctStart ?? 0.3, 0, 1);
    const strategy = choice(op, 'annealStrategy', o.annealStrategy ?? 'cos', ['cos', 'linear'] as const);
    const maxLrs = perGroup(op, 'maxLr', o.maxLr, groups.length, (n, x) => num(op, n, x, 0, Infinity, true));
    const div = num(op, 'divFactor', o.divFactor ?? 25, 0, Infinity, true);
    const finalDiv = num(op, 'finalDivFactor', o.finalDivFactor ?? 1e4, 0, Infinity, true);
    const cycle = bool(op, 'cycleMomentum', o.cycleMomentum, true);
    const baseM = perGroup(op, 'baseMomentum', o.baseMomentum ?? 0.85, groups.length, (n, x) => num(op, n, x, 0));
    const maxM = perGroup(op, 'maxMomentum', o.maxMomentum ?? 0.95, groups.length, (n, x) => num(op, n, x, 0));
    const three = bool(op, 'threePhase', o.threePhase, false);
    let useBeta1 = false;
    if (cycle) {
      const hypers = optimizer.defaults ?? groups[0];
      if (!('momentum' in hypers) && !('betas' in hypers)) {
        throw new Error(`fathom.${op}: cycleMomentum needs an optimizer with momentum (SGD, RMSprop) or betas (Adam, AdamW, Adamax), got ${describeValue(optimizer)} (pass cycleMomentum: false)`);
      }
      useBeta1 = 'betas' in hypers;
      if (useBeta1) groups.forEach((g, i) => betasOf(op, g, i));
    }
    // Set before the base constructor reads them: PyTorch overwrites initial_lr here.
    groups.forEach((g, i) => { g.initialLr = maxLrs[i] / div; });
    super(op, optimizer);
    this.totalSteps = total;
    this.pctStart = pct;
    this.annealStrategy = strategy;
    this.cycleMomentum = cycle;
    this.useBeta1 = useBeta1;
    this.maxLrs = maxLrs;
    this.minLrs = this.baseLrsValue.map((b) => b / finalDiv);
    this.baseMomentums = baseM;
    this.maxMomentums = maxM;
    this.phases = three
      ? [
          { end: pct * total - 1, lr: ['initial', 'max'], momentum: ['max', 'base'] },
          { end: 2 * pct * total - 2, lr: ['max', 'initial'], momentum: ['base', 'max'] },
          { end: total - 1, lr: ['initial', 'min'], momentum: ['max', 'max'] },
        ]
      : [
          { end: pct * total - 1, lr: ['initial', 'max'], momentum: ['max', 'base'] },
          { end: total - 1, lr: ['max', 'min'], momentum: ['base', 'max'] },
        ];
    if (cycle) this.writeMomentum(groups, maxM);
    this.initialStep();
  }

  /** The momentum (or beta1) of each group set by the last step; undefined without cycleMomentum. */
  getLastMomentum(): number[] | undefined {
    if (!this.cycleMomentum) return undefined;
    return this.optimizer.paramGroups.map((g, i) => (this.useBeta1 ? betasOf('OneCycleLR', g, i)[0] : (g.momentum as number)));
  }

  protected computeLr(groups: ParamGroupLike[]): number[] {
    const stepNum = this.lastEpochValue;
    if (stepNum > this.totalSteps) {
      throw new Error(`fathom.OneCycleLR.step: tried to step ${stepNum} times, but totalSteps is ${this.totalSteps} (build the scheduler for the number of batches you train)`);
    }
    const lrs: number[] = [];
    const moms: number[] = [];
    groups.forEach((_, i) => {
      let start = 0;
      for (let k = 0; k < this.phases.length; k++) {
        const phase = this.phases[k];
        if (stepNum <= phase.end || k === this.phases.length - 1) {
          if (phase.end - start === 0) {
            throw new Error(`fathom.OneCycleLR.step: phase ${k + 1} of the cycle has no length (pctStart ${this.pctStart}, totalSteps ${this.totalSteps}); choose another pctStart or totalSteps`);
          }
          const pct = (stepNum - start) / (phase.end - start);
          lrs.push(this.anneal(this.lrOf(phase.lr[0], i), this.lrOf(phase.lr[1], i), pct));
          const m = (w: 'base' | 'max') => (w === 'base' ? this.baseMomentums[i] : this.maxMomentums[i]);
          moms.push(this.anneal(m(phase.momentum[0]), m(phase.momentum[1]), pct));
          break;
        }
        start = phase.end;
      }
    });
    if (this.cycleMomentum) this.writeMomentum(groups, moms);
    return lrs;
  }

  private lrOf(which: 'initial' | 'max' | 'min', i: number): number {
    return which === 'initial' ? this.baseLrsValue[i] : which === 'max' ? this.maxLrs[i] : this.minLrs[i];
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'linear') return (end - start) * pct + start;
    const cosOut = Math.cos(Math.PI * pct) + 1;
    return end + ((start - end) / 2) * cosOut;
  }

  private writeMomentum(groups: ParamGroupLike[], moms: number[]): void {
    groups.forEach((g, i) => {
      if (this.useBeta1) g.betas = [moms[i], betasOf('OneCycleLR', g, i)[1]];
      else g.momentum = moms[i];
    });
  }
}

function betasOf(op: string, g: ParamGroupLike, i: number): [number, number] {
  const b = g.betas;
  if (!Array.isArray(b) || b.length !== 2 || typeof b[0] !== 'number' || typeof b[1] !== 'number') {
    fail(op, `optimizer.paramGroups[${i}].betas`, 'an array [beta1, beta2]', b);
  }
  return b as [number, number];
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

// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------

function checkChildren(op: string, schedulers: unknown, optimizer: OptimizerLike | undefined): LRScheduler[] {
  if (!Array.isArray(schedulers) || schedulers.length === 0) fail(op, 'schedulers', 'a non-empty array of schedulers', schedulers);
  const opt = optimizer ?? (schedulers[0] as LRScheduler | undefined)?.optimizer;
  schedulers.forEach((s, i) => {
    if (s instanceof ReduceLROnPlateau) {
      throw new Error(`fathom.${op}: schedulers[${i}] is a ReduceLROnPlateau, whose step() needs a metric; it cannot be sequenced or chained`);
    }
    if (!(s instanceof LRScheduler)) fail(op, `schedulers[${i}]`, 'a scheduler (StepLR, LinearLR, CosineAnnealingLR…)', s);
    if (s.optimizer !== opt) throw new Error(`fathom.${op}: schedulers[${i}] wraps another optimizer; every scheduler must wrap the same one`);
  });
  return schedulers;
}

export interface SequentialLROptions {
  /** The schedulers, each built on the same optimizer. Required. */
  schedulers: LRScheduler[];
  /** Epochs at which the next scheduler takes over: one fewer than schedulers, increasing integers >= 1. Required. */
  milestones: number[];
}

/**
 * Runs schedulers one after another, switching at each milestone (PyTorch's SequentialLR),
 * e.g. a LinearLR warm-up for 5 epochs, then CosineAnnealingLR. A scheduler that takes over
 * starts from its epoch 0. Construction undoes the first step the children took when they were
 * built and restarts the first from each group's initialLr.
 */
export class SequentialLR implements LRSchedulerLike {
  readonly optimizer: OptimizerLike;
  readonly schedulers: readonly LRScheduler[];
  readonly milestones: readonly number[];
  private lastEpochValue: number;
  private lastLrValue: number[];

  /** @throws when schedulers is empty, holds a ReduceLROnPlateau or wraps different optimizers, or milestones do not fit. */
  constructor(optimizer: OptimizerLike, options: SequentialLROptions) {
    const op = 'SequentialLR';
    const groups = paramGroupsOf(op, optimizer);
    const o = checkOptions(op, options, ['schedulers', 'milestones']);
    this.schedulers = Object.freeze(checkChildren(op, o.schedulers, optimizer));
    const ms = o.milestones;
    if (!Array.isArray(ms) || ms.length !== this.schedulers.length - 1) {
      fail(op, 'milestones', `an array of ${this.schedulers.length - 1} epochs (one fewer than schedulers)`, ms);
    }
    ms.forEach((m, i) => {
      int(op, `milestones[${i}]`, m, 1);
      if (i > 0 && m <= ms[i - 1]) fail(op, `milestones[${i}]`, `greater than milestones[${i - 1}] = ${ms[i - 1]} (increasing)`, m);
    });
    this.milestones = Object.freeze([...ms]);
    this.optimizer = optimizer;
    this.lastEpochValue = 0;
    groups.forEach((g) => { g.lr = g.initialLr as number; });
    for (const s of this.schedulers) s['lastEpochValue'] -= 1; // undo the children's initial steps
    this.schedulers[0]['initialStep']();
    this.lastLrValue = this.schedulers[0].getLastLr();
  }

  /** The number of step() calls. */
  get lastEpoch(): number { return this.lastEpochValue; }
  getLastLr(): number[] { return [...this.lastLrValue]; }

  /** Steps the scheduler in charge; at a milestone, the next one starts at its epoch 0. */
  step(): void {
    checkStepArgs('SequentialLR', arguments, 'only ReduceLROnPlateau takes a metric');
    const e = this.lastEpochValue + 1;
    const idx = countAtMost(this.milestones, e);
    const s = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === e) s.updateLr(0);
    else s.step();
    this.lastEpochValue = e;
    this.lastLrValue = s.getLastLr();
  }

  stateDict(): SchedulerState {
    return { type: 'SequentialLR', lastEpoch: this.lastEpochValue, lastLr: [...this.lastLrValue], schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  loadStateDict(state: SchedulerState): void {
    loadNested('SequentialLR', state, this.schedulers, { lastEpoch: 'int', lastLr: 'lrs' }, this.lastLrValue.length, (s) => {
      this.lastEpochValue = s.lastEpoch as number;
      this.lastLrValue = [...(s.lastLr as number[])];
    });
  }
}

/**
 * Steps several schedulers together at each step() (PyTorch's ChainedScheduler): their
 * chainable factors multiply, e.g. ConstantLR warm-up × ExponentialLR decay.
 */
export class ChainedScheduler implements LRSchedulerLike {
  readonly optimizer: OptimizerLike;
  readonly schedulers: readonly LRScheduler[];
  private lastLrValue: number[];

  /** @throws when schedulers is empty, holds a ReduceLROnPlateau or wraps different optimizers. */
  constructor(schedulers: LRScheduler[], optimizer?: OptimizerLike) {
    this.schedulers = Object.freeze(checkChildren('ChainedScheduler', schedulers, optimizer));
    this.optimizer = optimizer ?? this.schedulers[0].optimizer;
    this.lastLrValue = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] { return [...this.lastLrValue]; }

  step(): void {
    checkStepArgs('ChainedScheduler', arguments, 'only ReduceLROnPlateau takes a metric');
    for (const s of this.schedulers) s.step();
    this.lastLrValue = this.optimizer.paramGroups.map((g) => g.lr);
  }

  stateDict(): SchedulerState {
    return { type: 'ChainedScheduler', lastLr: [...this.lastLrValue], schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  loadStateDict(state: SchedulerState): void {
    loadNested('ChainedScheduler', state, this.schedulers, { lastLr: 'lrs' }, this.lastLrValue.length, (s) => {
      this.lastLrValue = [...(s.lastLr as number[])];
    });
  }
}

function loadNested(op: string, state: SchedulerState, children: readonly LRScheduler[], spec: Record<string, 'int' | 'lrs'>, groups: number, apply: (s: SchedulerState) => void): void {
  const inner = (state as SchedulerState | null)?.schedulers;
  if (!Array.isArray(inner) || inner.length !== children.length) {
    fail(`${op}.loadStateDict`, 'state.schedulers', `an array of ${children.length} states`, inner);
  }
  const { schedulers: _, ...own } = state;
  const s = checkState(op, own, op, spec, groups);
  children.forEach((c, i) => c.loadStateDict((inner as SchedulerState[])[i]));
  apply(s);
}
