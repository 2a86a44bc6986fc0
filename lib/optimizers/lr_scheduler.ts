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
 * Stricter than PyTorch: options are validated (MultiStepLR's milestones must
 * be integers >= 0; in any order, a repeated one counting twice, as PyTorch),
 * ReduceLROnPlateau refuses a NaN or infinite metric, and a refused step()
 * changes nothing. stateDict() holds what a resumed schedule needs: the
 * counters (lastEpoch, baseLrs, lastLr, ...), and for MultiStepLR also its
 * milestones and gamma, as PyTorch's state_dict(); other options come from
 * the constructor.
 *
 * test/nn/lr-scheduler-torch.test.ts compares every scheduler with the
 * sequences PyTorch's own code produced, step for step.
 */
export { LRScheduler, type LRSchedulerLike, type OptimizerLike, type ParamGroupLike, type SchedulerState } from './schedulers/base.js';
export {
  StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, LambdaLR,
  type StepLROptions, type MultiStepLROptions, type ConstantLROptions, type LinearLROptions, type ExponentialLROptions,
  type CosineAnnealingLROptions, type CosineAnnealingWarmRestartsOptions, type LambdaLROptions,
} from './schedulers/epoch.js';
export { OneCycleLR, type OneCycleLROptions } from './schedulers/one_cycle.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './schedulers/plateau.js';
export { SequentialLR, ChainedScheduler, type SequentialLROptions } from './schedulers/compose.js';
