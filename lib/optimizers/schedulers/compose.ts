/** Schedulers of schedulers, as torch/optim/lr_scheduler.py: SequentialLR and ChainedScheduler. */
import { checkOptions } from '../../ops/options.js';
import { LRScheduler, checkState, checkStepArgs, countAtMost, fail, int, paramGroupsOf, type LRSchedulerLike, type OptimizerLike, type SchedulerState } from './base.js';
import { ReduceLROnPlateau } from './plateau.js';

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
