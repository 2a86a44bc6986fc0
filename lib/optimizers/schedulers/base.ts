/**
 * The scheduler base (PyTorch's LRScheduler), the interfaces schedulers and `fit` share, and
 * the option checks every scheduler uses. See ../lr_scheduler.ts for the overview.
 */
import { describeValue } from '../../tensor/shape.js';

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
export type SchedulerStateValue = number | string | null | number[] | SchedulerState[];

// ---------------------------------------------------------------------------------------------
// Validation: every refusal names the scheduler, the option, what was expected and what came.

export function fail(op: string, name: string, expected: string, v: unknown): never {
  throw new Error(`fathom.${op}: ${name} must be ${expected}, got ${describeValue(v)}`);
}
/** A finite number in [lo, hi] (open ends where asked). */
export function num(op: string, name: string, v: unknown, lo: number, hi = Infinity, loOpen = false, hiOpen = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (loOpen ? v <= lo : v < lo) || (hiOpen ? v >= hi : v > hi)) {
    const range = hi === Infinity ? `${loOpen ? '>' : '>='} ${lo}` : `in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}`;
    fail(op, name, `a finite number ${range}`, v);
  }
  return v;
}
export function int(op: string, name: string, v: unknown, lo: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < lo) fail(op, name, `an integer >= ${lo}`, v);
  return v;
}
export function bool(op: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail(op, name, 'a boolean', v);
  return v;
}
export function choice<T extends string>(op: string, name: string, v: unknown, choices: readonly T[]): T {
  if (!choices.includes(v as T)) fail(op, name, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, v);
  return v as T;
}
/** A number for every group, or one array with one number per group (PyTorch's "float or list"). */
export function perGroup(op: string, name: string, v: unknown, n: number, check: (name: string, x: unknown) => number): number[] {
  if (!Array.isArray(v)) return new Array<number>(n).fill(check(name, v));
  if (v.length !== n) {
    throw new Error(`fathom.${op}: ${name} must be a number or an array with one number per param group (${n}), got an Array(${v.length})`);
  }
  return v.map((x, i) => check(`${name}[${i}]`, x));
}

/** The optimizer's param groups, checked: a non-empty array of objects whose lr is a finite number >= 0. */
export function paramGroupsOf(op: string, optimizer: unknown): ParamGroupLike[] {
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
export function countAtMost(sorted: readonly number[], x: number): number {
  let n = 0;
  while (n < sorted.length && sorted[n] <= x) n++;
  return n;
}

export function checkStepArgs(op: string, args: IArguments, what: string): void {
  if (args.length > 0 && args[0] !== undefined) {
    throw new Error(`fathom.${op}.step: takes no argument (${what}), got ${describeValue(args[0])}`);
  }
}

/**
 * The kinds of value a scheduler's state holds: 'int' (an integer >= -1), 'num' (a finite
 * number), 'num?' (a finite number or null), 'lrs' (one finite number >= 0 per param group),
 * 'ints' (an array of integers >= 0, e.g. MultiStepLR's milestones).
 */
export type StateKind = 'int' | 'num' | 'num?' | 'lrs' | 'ints';

/** Checks a state object against the keys a scheduler saves and their kinds, and returns it. */
export function checkState(op: string, state: unknown, type: string, spec: Record<string, StateKind>, groups: number): SchedulerState {
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
    else if (kind === 'ints') {
      if (!Array.isArray(v)) fail(where, `state.${key}`, 'an array of integers >= 0', v);
      v.forEach((x, i) => int(where, `state.${key}[${i}]`, x, 0));
    } else if (kind === 'num' || kind === 'num?') {
      if ((kind === 'num' || v !== null) && (typeof v !== 'number' || !Number.isFinite(v))) {
        fail(where, `state.${key}`, kind === 'num' ? 'a finite number' : 'a finite number or null', v);
      }
    } else {
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

  /**
   * PyTorch's _update_lr: the next epoch, or `epoch` by the closed form where there is one
   * (SequentialLR starts a scheduler at epoch 0 this way). step() is the public way.
   */
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
  protected stateSpec(): Record<string, StateKind> {
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
