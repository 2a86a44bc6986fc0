/** OneCycleLR: the 1cycle policy of torch/optim/lr_scheduler.py, lr and momentum. */
import { describeValue } from '../../tensor/shape.js';
import { checkOptions } from '../../ops/options.js';
import { LRScheduler, bool, choice, fail, int, num, paramGroupsOf, perGroup, type OptimizerLike, type ParamGroupLike } from './base.js';

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
 * As PyTorch, step() may be called totalSteps times after construction (once after each of
 * totalSteps batches); the last of these extrapolates one step past the end of the cycle, as
 * PyTorch's does — with annealStrategy 'linear' that lr is below minLr, even negative, and the
 * optimizer refuses to step with a negative lr — and one more step() throws.
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
