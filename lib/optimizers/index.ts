/** The `optim` namespace. */
export { Optimizer, type ParamGroup, type ParamGroupInput, type ParamState, type OptimizerStateDict } from './optimizer.js';
export { SGD, type SgdConfig } from './sgd.js';
export { Adam, AdamW, type AdamConfig } from './adam.js';
export { Adagrad, type AdagradConfig } from './adagrad.js';
export { RMSprop, type RmspropConfig } from './rmsprop.js';
export { Adadelta, type AdadeltaConfig } from './adadelta.js';
export { Adamax, type AdamaxConfig } from './adamax.js';
export * as lrScheduler from './lr_scheduler.js';
