/** The `optim` namespace. */
export { Optimizer, type ParamGroup, type ParamGroupInput, type ParamState, type OptimizerStateDict } from './optimizer.js';
export { SGD, type SgdConfig } from './sgd.js';
export { Adam, AdamW, type AdamConfig } from './adam.js';
export * as lrScheduler from './lr_scheduler.js';
