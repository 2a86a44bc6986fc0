/** The `optim` namespace. */
export { Optimizer } from './optimizer.js';
export { SGD, type SgdConfig } from './sgd.js';
export { Adam, AdamW, type AdamConfig } from './adam.js';
export * as lrScheduler from './lr_scheduler.js';
