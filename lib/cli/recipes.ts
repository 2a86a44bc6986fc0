/**
 * What `fathom train` trains when a flag is not given: one recipe per data
 * set, each measured to reach its target on this repository's machines (see
 * the README's "fathom train" section for the numbers). Every field can be
 * overridden by the flag of the same name.
 */

export const DATASETS = ['mnist', 'iris', 'cars', 'moons', 'circles', 'spirals'] as const;
export type Dataset = (typeof DATASETS)[number];
export const MODELS = ['mlp', 'perceptron'] as const;
export const ACTIVATIONS = ['relu', 'tanh', 'sigmoid', 'leakyRelu', 'elu', 'gelu', 'silu', 'softplus'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const OPTIMIZERS = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'adadelta', 'adamax'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export const SCHEDULES = ['none', 'step', 'cosine', 'onecycle', 'exponential', 'linear'] as const;
export type Schedule = (typeof SCHEDULES)[number];

/** Learning rate of each optimizer when neither --lr nor the recipe sets one (PyTorch's defaults; SGD's is fathom's, with Nesterov momentum 0.9). */
export const DEFAULT_LR: Record<OptimizerName, number> = {
  sgd: 0.05, adam: 1e-3, adamw: 1e-3, rmsprop: 1e-3, adagrad: 1e-2, adadelta: 1, adamax: 2e-3,
};

export interface Recipe {
  hidden: number[];
  activation: Activation;
  optimizer: OptimizerName;
  /** The learning rate with the recipe's optimizer (the peak rate under onecycle). */
  lr: number;
  schedule: Schedule;
  dropout: number;
  epochs: number;
  batchSize: number;
  /** Early stopping patience on the validation loss, restoring the best weights (absent: none). */
  earlyStopping?: number;
  /** Fraction of the training rows fit() holds out to validate each epoch. */
  validationSplit: number;
  /** Classification (accuracy) or regression (MAE, R²). */
  task: 'classification' | 'regression';
}

export const RECIPES: Record<Dataset, Recipe> = {
  mnist: { hidden: [256, 256], activation: 'relu', optimizer: 'adam', lr: 2e-3, schedule: 'onecycle', dropout: 0, epochs: 8, batchSize: 128, validationSplit: 0.1, task: 'classification' },
  iris: { hidden: [16], activation: 'tanh', optimizer: 'adam', lr: 0.01, schedule: 'none', dropout: 0, epochs: 100, batchSize: 16, validationSplit: 0.1, task: 'classification' },
  cars: { hidden: [32, 16], activation: 'relu', optimizer: 'adam', lr: 0.01, schedule: 'none', dropout: 0, epochs: 300, batchSize: 32, earlyStopping: 30, validationSplit: 0.2, task: 'regression' },
  moons: { hidden: [16, 16], activation: 'tanh', optimizer: 'adam', lr: 0.01, schedule: 'none', dropout: 0, epochs: 100, batchSize: 32, validationSplit: 0.2, task: 'classification' },
  circles: { hidden: [16, 16], activation: 'tanh', optimizer: 'adam', lr: 0.01, schedule: 'none', dropout: 0, epochs: 100, batchSize: 32, validationSplit: 0.2, task: 'classification' },
  spirals: { hidden: [64, 64], activation: 'relu', optimizer: 'adam', lr: 0.01, schedule: 'none', dropout: 0, epochs: 200, batchSize: 32, validationSplit: 0.2, task: 'classification' },
};
