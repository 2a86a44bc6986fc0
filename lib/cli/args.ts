/**
 * The command line of `fathom`, parsed and validated without side effects
 * (so it is tested in-process). node:util parseArgs splits the tokens; every
 * value is then checked here, so each mistake gets one clear sentence:
 * `--epochs must be an integer from 1 to 1000000, got '-3'` (parseArgs'
 * strict mode would call `--epochs -3` "ambiguous" instead).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { closestName } from '../layers/options.js';
import {
  ACTIVATIONS, CNN_RECIPES, DATASETS, DEFAULT_LR, IMAGE_SHAPES, MODELS, OPTIMIZERS, RECIPES, RECURRENT, SCHEDULES, SEQUENCE_DATASETS,
  SEQUENCE_RECIPES, cnnSides, isSequence,
  type Activation, type CnnRecipe, type Dataset, type ModelName, type OptimizerName, type Recipe, type Schedule, type SequenceRecipe,
} from './recipes.js';
// --- #12 gan ---
import { GAN_MODELS, GAN_RECIPES, type GanOptions } from './gan.js';
// --- end #12 gan ---
// --- #12 pretrain ---
import { PRETRAIN_FLAGS, PRETRAIN_HELP, pretrainOptions, type PretrainExperimentOptions } from './pretrain.js';
// --- end #12 pretrain ---

export const MAIN_HELP = `Usage: fathom <command> [options]

Commands:
  train        train a network on MNIST, iris, cars, a 2-D toy set, or a sequence task
               (names, spam, smnist); see fathom train --help
  sample       sample new names from a model saved by fathom train --dataset names --save;
               see fathom sample --help

Options:
  -h, --help     show this help
  -v, --version  print fathom's version
`;

// --- #12 gan ---
const GAN_HELP = `
Generative adversarial network (--task gan, MNIST):
  fathom train --task gan [--model mlp|dcgan] [--epochs N] [--out DIR] [--seed S] [--train N]
                     trains a GAN (two Adam optimizers, lr 2e-4, betas 0.5, 0.999; the
                     non-saturating generator loss); after each epoch writes DIR/epoch-NN.png,
                     an 8x8 grid of samples from a fixed noise batch, and prints D and G
                     losses, D(x), D(G(z)), and the mean confidence and class-histogram
                     entropy (nats; uniform = 2.303) of 1,000 generated digits under an MLP
                     classifier trained first on the real training digits (the same figures
                     on real test digits are the reference). Needs the optional package pngjs.
  --model NAME       mlp (Goodfellow et al. 2014) | dcgan (ConvTranspose2d generator, conv
                     discriminator, Radford et al. 2015) (default mlp)
  --out DIR          folder of the grids, created if missing (default gan-<model>)
  also: --epochs, --batch-size, --lr, --seed, --train, --test, --backend, --threads
${Object.entries(GAN_RECIPES).map(([m, r]) => `  ${m.padEnd(8)} noise ${r.latent} · adam lr ${r.lr} · ${r.epochs} epochs of ${r.batchSize} · ${r.train} digits`).join('\n')}`;
// --- end #12 gan ---
export const TRAIN_HELP = `Usage: fathom train [options]

Trains a network and prints what fits the task: test accuracy for
classification, test MAE, RMSE and R² for regression, the validation
cross-entropy per character for the names language model. Without flags: the
MNIST digit classifier (an MLP; 60,000 training digits, tested on 10,000).

Data and model:
  --dataset NAME     mnist | iris | cars | moons | circles | spirals (default mnist)
                     (iris, cars: held-out test split 0.2, features standardised on the
                     training split; moons, circles, spirals: a fresh test set of the same size)
                     or a sequence task (--model lstm, gru or rnn):
                     names  character-level language model of English first names: the
                            validation cross-entropy per character vs a bigram-count baseline
                     spam   SpamAssassin ham vs spam over the mails' first 256 tokens:
                            test accuracy and F1 (test split 0.2)
                     smnist sequential MNIST, 28 rows of 28 pixels: test accuracy
  --task NAME        the same as --dataset (either one, not both)
                     pretrain: greedy layer-wise pre-training with 1,000 labelled MNIST
                     digits, with and without it; see fathom train --task pretrain --help
  --model NAME       mlp | cnn (a convolutional network; image sets only: mnist) |
                     perceptron (the perceptron rule; two-class 2-D sets only) (default mlp) |
                     lstm | gru | rnn (sequence tasks only; default lstm)
  --hidden LIST      hidden layer sizes, comma separated, each 1 to 65536 ('' for none);
                     with --model cnn: the dense head after the conv blocks; with lstm, gru,
                     rnn: the hidden size H of the recurrent layers (equal sizes: '128,128'
                     stacks two layers)
  --embedding E      names, spam: width of the token embedding, 1 to 65536
  --activation NAME  relu | tanh | sigmoid | leakyRelu | elu | gelu | silu | softplus
                     (with --model cnn: in every conv block and in the dense head)
  --dropout P        dropout after each hidden activation, 0 <= P < 1
                     (with --model cnn: in the dense head; lstm, gru, rnn: before the output layer)
  --channels LIST    --model cnn only: output channels of each conv block, comma separated,
                     each 1 to 4096; each block is conv (no bias) + batch norm + activation +
                     2x2 max pool, so a 28x28 digit allows at most 2 blocks of 5x5 valid convs
  --samples N        points of a 2-D set, 2 to 1000000 (default 100 per class)
  --noise X          noise of a 2-D set: moons, circles: std of the coordinates (default 0.1;
                     circles have radii 1 and 0.5); spirals: std of the angle in radians (default 0.2)
  --classes K        spiral arms, 2 or 3 (default 2)
  --train N          use only the first N training rows, 1 to 1000000 (mnist, smnist: digits;
                     names: names; spam: mails)
  --test N           use only the first N test rows (names: validation names), 1 to 1000000
                     (mnist and the sequence tasks)

Training:
  --epochs N         training epochs, 1 to 1000000
  --batch-size N     samples per batch, 1 to 1000000
  --optimizer NAME   sgd | adam | adamw | rmsprop | adagrad | adadelta | adamax
                     (sgd uses Nesterov momentum 0.9)
  --lr X             learning rate, a positive number (the peak rate with --schedule onecycle)
  --schedule NAME    none | step (lr x0.1 every third of the epochs) |
                     exponential (per epoch, down to lr/100) | cosine (per batch, to 0) |
                     linear (per batch, to 0) | onecycle (per batch, peak lr at 30%)
  --validation-split X  fraction of the training rows held out to validate each epoch
                     (the last rows, as Keras), 0 <= X < 1 (names: the fraction of the names
                     held out by data.names, the split the bigram baseline is measured on)
  --clip X           clip the gradients' total norm to X before each step (fit's clipGradNorm)
  --early-stopping N stop after N epochs without a better validation loss and
                     restore the best epoch's weights, 1 to 1000000
  --seed N           seed for the data split, initial weights and shuffling, 0 to 2^53-1 (default 1)
  --plot PATH        draw the learning curves (loss and metrics per epoch, training vs
                     validation) to PATH, a .svg or .png file
  --boundary PATH    2-D sets: draw the decision regions with the training points to PATH
                     (.svg or .png); --plot and --boundary need the optional packages
                     vega and vega-lite (and @resvg/resvg-js for .png)
  --save PATH        save the trained model (safetensors); checked to be
                     writable before training starts (names: with its character
                     vocabulary, for fathom sample)
  --prune LIST       after training, for each sparsity in LIST (comma separated, each
                     0 < s < 1, like 0.5,0.8,0.9,0.95): prune a copy of the model by weight
                     magnitude (prune.magnitude, global over the Linear/Conv weights) and
                     fine-tune it with the masks held; prints a table of test accuracy
                     against sparsity (classification with --model mlp or cnn)
  --prune-epochs N   fine-tuning epochs of each pruned copy, 1 to 1000 (default 2)
  --backend NAME     native | ts (default: native, falling back to ts)
  --threads N        native threads, 1 to 256 (default: all cores; at most the core count is used)
  -h, --help         show this help

Defaults per data set (each flag overrides its part):
${Object.entries(RECIPES).map(([d, r]) => `  ${d.padEnd(8)} ${r.hidden.join(',') || "''"} ${r.activation}${r.dropout ? `, dropout ${r.dropout}` : ''} · ${training(r)}`).join('\n')}
With --model cnn:
${Object.entries(CNN_RECIPES).map(([d, r]) => `  ${d.padEnd(8)} channels ${r.channels.join(',')} (${r.kernelSize}x${r.kernelSize} ${r.padding}) · dense ${r.hidden.join(',') || "''"} ${r.activation}${r.dropout ? `, dropout ${r.dropout}` : ''} · ${training(r)}`).join('\n')}
Sequence tasks (--model lstm, gru or rnn):
${Object.entries(SEQUENCE_RECIPES).map(([d, r]) => `  ${d.padEnd(8)} ${r.embedding ? `embedding ${r.embedding} · ` : ''}hidden ${r.hidden.join(',')}${r.dropout ? `, dropout ${r.dropout}` : ''} · ${training(r)}${r.clip ? ` · clip ${r.clip}` : ''}`).join('\n')}
${GAN_HELP}
`;

export const SAMPLE_HELP = `Usage: fathom sample --model PATH [options]

Samples new names from a character-level language model saved by
fathom train --dataset names --save PATH: each name starts from BOS and
draws its next character from softmax(logits / temperature) until EOS or the
longest name of the training data. The vocabulary is read from the file.

  --model PATH       the saved model (required)
  --n N              names to sample, 1 to 100000 (default 10)
  --temperature X    a number from 0.01 to 100 (default 0.8): below 1 sharper,
                     more common names; above 1 more varied, stranger ones
  --seed N           seed of the draws, 0 to 2^53-1 (default 1): the same seed,
                     model and temperature give the same names
  --backend NAME     native | ts (default: native, falling back to ts)
  -h, --help         show this help
`;

function training(r: Recipe): string {
  return `${r.optimizer} lr ${r.lr}${r.schedule !== 'none' ? ` ${r.schedule}` : ''} · ${r.epochs} epochs of ${r.batchSize}${r.earlyStopping ? `, early stopping ${r.earlyStopping}` : ''}`;
}

/** A mistake on the command line: main prints it with a pointer to --help and exits with 2. */
export class UsageError extends Error {
  constructor(message: string, readonly help: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Command =
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'train'; options: TrainOptions }
  // --- #12 gan ---
  | { kind: 'gan'; options: GanOptions }
  // --- end #12 gan ---
  | { kind: 'sample'; options: SampleOptions };

export interface SampleOptions {
  model: string;
  n: number;
  temperature: number;
  seed: number;
  backend?: 'native' | 'ts';
}

export interface TrainOptions {
  dataset: Dataset;
  model: ModelName;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: OptimizerName;
  hidden: number[];
  activation: Activation;
  schedule: Schedule;
  dropout: number;
  /** Fraction of the training rows held out for validation (fit's validationSplit). */
  validationSplit: number;
  /** Patience of early stopping on the validation loss (absent: train every epoch). */
  earlyStopping?: number;
  backend?: 'native' | 'ts';
  threads?: number;
  seed: number;
  /** mnist and the sequence tasks: the first N training rows. */
  train?: number;
  /** mnist and the sequence tasks: the first N test (names: validation) rows. */
  test?: number;
  /** names, spam: the token embedding width. */
  embedding?: number;
  /** Clip the gradients' total norm to this before each step. */
  clip?: number;
  /** 2-D sets: points, noise, spiral arms. */
  samples?: number;
  noise?: number;
  classes?: number;
  plot?: string;
  /** 2-D sets: draw the decision boundary here. */
  boundary?: string;
  save?: string;
  /** --model cnn: the conv blocks (output channels of each, square kernel, padding). */
  cnn?: { channels: number[]; kernelSize: number; padding: 'valid' | 'same' };
  /** --prune: after training, prune a copy to each of these sparsities (0 < s < 1) and fine-tune it (lib/cli/prune.ts). */
  prune?: number[];
  /** --prune-epochs: fine-tuning epochs of each pruned copy (default 2). */
  pruneEpochs?: number;
  // --- #12 pretrain ---
  /** --task pretrain: the pre-training experiment (lib/cli/pretrain.ts); the fields above then describe its fine-tuning. */
  pretrain?: PretrainExperimentOptions;
  // --- end #12 pretrain ---
}

const TRAIN_FLAGS = {
  dataset: 'string', model: 'string', epochs: 'string', 'batch-size': 'string', lr: 'string', optimizer: 'string',
  hidden: 'string', activation: 'string', schedule: 'string', dropout: 'string', 'early-stopping': 'string',
  backend: 'string', threads: 'string', seed: 'string', train: 'string', samples: 'string', noise: 'string',
  classes: 'string', 'validation-split': 'string', channels: 'string', plot: 'string', boundary: 'string', save: 'string', help: 'boolean',
  task: 'string', embedding: 'string', clip: 'string', test: 'string', prune: 'string', 'prune-epochs': 'string',
  // --- #12 gan ---
  out: 'string',
  // --- end #12 gan ---
  // --- #12 pretrain ---
  labels: 'string', seeds: 'string', pretrain: 'string', 'pretrain-epochs': 'string', corruption: 'string',
  // --- end #12 pretrain ---
} as const;

const SAMPLE_FLAGS = { model: 'string', n: 'string', temperature: 'string', seed: 'string', backend: 'string', help: 'boolean' } as const;

/** What `fathom <argv...>` asks for; throws UsageError for anything malformed. */
export function parseCommand(argv: readonly string[]): Command {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) throw new UsageError('no command given', MAIN_HELP);
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') {
    if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}' after ${cmd}`, MAIN_HELP);
    return { kind: 'help', text: MAIN_HELP };
  }
  if (cmd === '-v' || cmd === '--version') {
    if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}' after ${cmd}`, MAIN_HELP);
    return { kind: 'version' };
  }
  if (cmd.startsWith('-')) throw new UsageError(`unknown option '${cmd}' (options go after the command)`, MAIN_HELP);
  if (cmd === 'sample') {
    const sv = parseFlags('sample', rest, SAMPLE_FLAGS, SAMPLE_HELP);
    if (sv.help !== undefined) return { kind: 'help', text: SAMPLE_HELP };
    return { kind: 'sample', options: sampleOptions(sv) };
  }
  if (cmd !== 'train') throw new UsageError(`unknown command '${cmd}' (the commands are: train, sample)`, MAIN_HELP);
  const values = parseFlags('train', rest, TRAIN_FLAGS, TRAIN_HELP);
  // --- #12 pretrain ---
  if (values.help !== undefined && (values.task === 'pretrain' || values.dataset === 'pretrain')) return { kind: 'help', text: PRETRAIN_HELP };
  // --- end #12 pretrain ---
  if (values.help !== undefined) return { kind: 'help', text: TRAIN_HELP };
  // --- #12 gan ---
  if ((values.task === 'gan' && values.dataset === undefined) || (values.dataset === 'gan' && values.task === undefined)) {
    return { kind: 'gan', options: ganOptions(values) };
  }
  if (values.out !== undefined) throw new UsageError('--out applies to --task gan only (the folder of its sample grids)', TRAIN_HELP);
  if (values.model === 'dcgan') throw new UsageError('--model dcgan is a model of --task gan: fathom train --task gan --model dcgan', TRAIN_HELP);
  // --- end #12 gan ---
  return { kind: 'train', options: trainOptions(values) };
}

type FlagSpec = Record<string, 'string' | 'boolean'>;

/** Tokens → name → value, refusing unknown flags, positionals, repeats and missing values. */
function parseFlags(cmd: string, args: string[], spec: FlagSpec, help: string): Record<string, string | true> {
  const usage = (msg: string): never => {
    throw new UsageError(msg, help);
  };
  const options = Object.fromEntries(Object.entries(spec).map(([k, type]) => [k, { type }]));
  (options.help as { short?: string }).short = 'h';
  let tokens;
  try {
    // strict: false so that `--epochs -3` reaches the value check below.
    ({ tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true }));
  } catch (err) {
    return usage((err as Error).message);
  }
  const out: Record<string, string | true> = Object.create(null);
  for (const t of tokens) {
    if (t.kind === 'positional') usage(`unexpected argument '${t.value}' for fathom ${cmd}`);
    if (t.kind !== 'option') continue; // the '--' terminator
    const type = Object.hasOwn(spec, t.name) ? spec[t.name] : undefined;
    if (type === undefined) {
      const near = t.name.length >= 3 ? closestName(t.name, Object.keys(spec)) : undefined;
      usage(`unknown option '${t.rawName}' for fathom ${cmd}${near ? ` (did you mean '--${near}'?)` : ''}`);
    }
    if (Object.hasOwn(out, t.name)) usage(`option --${t.name} given more than once`);
    if (type === 'boolean') {
      if (t.value !== undefined) usage(`option ${t.rawName} takes no value, got '${t.value}'`);
      out[t.name] = true;
    } else {
      const v = t.value;
      if (v === undefined) usage(`option --${t.name} needs a value`);
      // `--epochs --lr 3`: a following flag is not a value (a negative number is, and is judged below).
      if (!t.inlineValue && /^-(-|[A-Za-z])/.test(v!)) usage(`option --${t.name} needs a value, got the option '${v}'`);
      out[t.name] = v!;
    }
  }
  return out;
}

const INT = /^[0-9]+$/;
const FLOAT = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

function int(name: string, v: string | true | undefined, dflt: number, min: number, max: number, maxText = String(max), help = TRAIN_HELP): number {
  if (v === undefined) return dflt;
  const n = typeof v === 'string' && INT.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${maxText}, got '${String(v)}'`, help);
  }
  return n;
}

function choice<T extends string>(name: string, v: string | true | undefined, allowed: readonly T[], help = TRAIN_HELP): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly unknown[]).includes(v)) {
    const list = allowed.length <= 2 ? allowed.join(' or ') : `one of ${allowed.join(', ')}`;
    const near = typeof v === 'string' && v.length >= 3 ? closestName(v, allowed) : undefined;
    throw new UsageError(`--${name} must be ${list}, got '${String(v)}'${near ? ` (did you mean '${near}'?)` : ''}`, help);
  }
  return v as T;
}

function float(name: string, v: string | true | undefined, ok: (x: number) => boolean, want: string, help = TRAIN_HELP): number | undefined {
  if (v === undefined) return undefined;
  const x = typeof v === 'string' && FLOAT.test(v) ? Number(v) : NaN;
  if (!ok(x)) throw new UsageError(`--${name} must be ${want}, got '${String(v)}'`, help);
  return x;
}

const SYNTHETIC: readonly Dataset[] = ['moons', 'circles', 'spirals'];

function sampleOptions(v: Record<string, string | true>): SampleOptions {
  if (v.model === undefined) throw new UsageError('--model PATH is required: the file fathom train --dataset names --save PATH wrote', SAMPLE_HELP);
  if (v.model === '') throw new UsageError("--model needs a file path, got ''", SAMPLE_HELP);
  return {
    model: String(v.model),
    n: int('n', v.n, 10, 1, 100_000, undefined, SAMPLE_HELP),
    temperature: float('temperature', v.temperature, (x) => x >= 0.01 && x <= 100, 'a number from 0.01 to 100 (like 0.8)', SAMPLE_HELP) ?? 0.8,
    seed: int('seed', v.seed, 1, 0, Number.MAX_SAFE_INTEGER, '2^53-1', SAMPLE_HELP),
    ...(v.backend !== undefined ? { backend: choice('backend', v.backend, ['native', 'ts'] as const, SAMPLE_HELP)! } : {}),
  };
}

function trainOptions(v: Record<string, string | true>): TrainOptions {
  if (v.task !== undefined && v.dataset !== undefined) {
    throw new UsageError(`--task and --dataset name the same thing; give one (got --dataset ${String(v.dataset)} --task ${String(v.task)})`, TRAIN_HELP);
  }
  // --- #12 pretrain ---
  if (v.task === 'pretrain' || v.dataset === 'pretrain') {
    return pretrainOptions(v, (message) => {
      throw new UsageError(message, PRETRAIN_HELP);
    });
  }
  for (const flag of PRETRAIN_FLAGS) {
    if (v[flag] !== undefined) throw new UsageError(`--${flag} applies to --task pretrain only`, TRAIN_HELP);
  }
  // --- end #12 pretrain ---
  // gan and pretrain were dispatched above: an unknown name is told about them too.
  if (v.task !== undefined) choice('task', v.task, [...DATASETS, 'gan', 'pretrain']);
  const dataset = v.task !== undefined ? (v.task as (typeof DATASETS)[number]) : choice('dataset', v.dataset, DATASETS) ?? 'mnist';
  if (isSequence(dataset)) return sequenceOptions(dataset, v);
  const model = choice('model', v.model, MODELS) ?? 'mlp';
  if ((RECURRENT as readonly string[]).includes(model)) {
    throw new UsageError(`--model ${model} reads sequences: it applies to the sequence tasks ${SEQUENCE_DATASETS.join(', ')} only, not ${dataset} (use --model mlp)`, TRAIN_HELP);
  }
  for (const f of ['embedding', 'clip']) {
    if (v[f] !== undefined && (f !== 'clip' || model === 'perceptron')) {
      throw new UsageError(`--${f} ${f === 'clip' ? 'does not apply to --model perceptron' : `applies to the token sequence tasks (names, spam) only, not ${dataset}`}`, TRAIN_HELP);
    }
  }
  if (model === 'cnn' && IMAGE_SHAPES[dataset] === undefined) {
    const images = Object.keys(IMAGE_SHAPES).join(', ');
    throw new UsageError(`--model cnn needs images: it applies to --dataset ${images} only, not ${dataset} (use --model mlp)`, TRAIN_HELP);
  }
  const recipe: Recipe = model === 'cnn' ? CNN_RECIPES[dataset]! : RECIPES[dataset];
  const only = (flag: string, allowed: boolean, why: string): void => {
    if (v[flag] !== undefined && !allowed) throw new UsageError(`--${flag} ${why}`, TRAIN_HELP);
  };
  only('train', dataset === 'mnist', `applies to --dataset mnist and the sequence tasks only, not ${dataset}`);
  only('test', dataset === 'mnist', `applies to --dataset mnist and the sequence tasks only, not ${dataset}`);
  for (const f of ['samples', 'noise']) only(f, SYNTHETIC.includes(dataset), `applies to the 2-D sets (moons, circles, spirals) only, not ${dataset}`);
  only('classes', dataset === 'spirals', `applies to --dataset spirals only, not ${dataset}`);
  only('channels', model === 'cnn', `applies to --model cnn only, not ${model}`);
  only('prune', model !== 'perceptron' && RECIPES[dataset].task === 'classification', `prunes the classifiers of --model mlp or cnn (it reports test accuracy), not ${model === 'perceptron' ? '--model perceptron' : `the regression set ${dataset}`}`);
  only('prune-epochs', v.prune !== undefined, 'sets the fine-tuning of --prune: give --prune too');
  const prune = pruneList(v.prune);
  if (model === 'perceptron') {
    if (!SYNTHETIC.includes(dataset) || v.classes === '3') {
      throw new UsageError(`--model perceptron separates two classes: use --dataset moons, circles or spirals (2 classes), not ${dataset}${v.classes === '3' ? ' with 3 classes' : ''}`, TRAIN_HELP);
    }
    for (const f of ['hidden', 'activation', 'optimizer', 'schedule', 'dropout', 'early-stopping', 'batch-size', 'plot']) {
      only(f, false, 'does not apply to --model perceptron (it learns by the perceptron rule, one sample at a time)');
    }
  }
  const optimizer = choice('optimizer', v.optimizer, OPTIMIZERS) ?? recipe.optimizer;
  let lr = optimizer === recipe.optimizer ? recipe.lr : DEFAULT_LR[optimizer];
  if (v.lr !== undefined) {
    lr = typeof v.lr === 'string' && FLOAT.test(v.lr) ? Number(v.lr) : NaN;
    if (!(lr > 0 && Number.isFinite(Math.fround(lr)))) {
      throw new UsageError(`--lr must be a positive number that float32 can hold (like 0.001 or 1e-3), got '${String(v.lr)}'`, TRAIN_HELP);
    }
  }
  const hiddenText = v.hidden ?? recipe.hidden.join(',');
  const hidden = hiddenText === '' ? [] : String(hiddenText).split(',').map((s) => {
    const n = INT.test(s) ? Number(s) : NaN;
    if (!(n >= 1 && n <= 65536)) {
      throw new UsageError(`--hidden must be comma-separated integers from 1 to 65536 ('' for none), got '${String(hiddenText)}'`, TRAIN_HELP);
    }
    return n;
  });
  const cnn = model === 'cnn' ? cnnOptions(dataset, CNN_RECIPES[dataset]!, v.channels) : undefined;
  const dropout = float('dropout', v.dropout, (x) => x >= 0 && x < 1, 'a number from 0 to below 1 (like 0.2)') ?? recipe.dropout;
  if (v['early-stopping'] !== undefined && v['validation-split'] === '0') {
    throw new UsageError('--early-stopping watches the validation loss: it needs --validation-split above 0', TRAIN_HELP);
  }
  if (v.dropout !== undefined && hidden.length === 0 && dropout > 0) {
    throw new UsageError('--dropout needs hidden layers (it is applied after each hidden activation); --hidden is empty', TRAIN_HELP);
  }
  const noise = float('noise', v.noise, (x) => x >= 0 && x <= 10, 'a number from 0 to 10');
  for (const [flag, value] of [['save', v.save], ['plot', v.plot], ['boundary', v.boundary]] as const) {
    if (value === '') throw new UsageError(`--${flag} needs a file path, got ''`, TRAIN_HELP);
    if (flag !== 'save' && typeof value === 'string' && !/\.(svg|png)$/i.test(value)) {
      throw new UsageError(`--${flag} must name a .svg or .png file, got '${value}'`, TRAIN_HELP);
    }
  }
  only('boundary', SYNTHETIC.includes(dataset), `draws 2-D sets (moons, circles, spirals) only, not ${dataset}`);
  const outputs = [['save', v.save], ['plot', v.plot], ['boundary', v.boundary]].filter(([, p]) => typeof p === 'string') as [string, string][];
  for (let i = 0; i < outputs.length; i++) {
    for (let j = i + 1; j < outputs.length; j++) {
      if (resolve(outputs[i][1]) === resolve(outputs[j][1])) {
        throw new UsageError(`--${outputs[i][0]} and --${outputs[j][0]} name the same file '${outputs[j][1]}'; the second would overwrite the first`, TRAIN_HELP);
      }
    }
  }
  return {
    dataset,
    model,
    epochs: int('epochs', v.epochs, model === 'perceptron' ? 100 : recipe.epochs, 1, 1_000_000),
    batchSize: int('batch-size', v['batch-size'], recipe.batchSize, 1, 1_000_000),
    lr: model === 'perceptron' && v.lr === undefined ? 1 : lr,
    optimizer,
    hidden,
    activation: choice('activation', v.activation, ACTIVATIONS) ?? recipe.activation,
    schedule: choice('schedule', v.schedule, SCHEDULES) ?? recipe.schedule,
    dropout,
    validationSplit: float('validation-split', v['validation-split'], (x) => x >= 0 && x < 1, 'a number from 0 to below 1 (like 0.1)') ?? recipe.validationSplit,
    ...(v['early-stopping'] !== undefined ? { earlyStopping: int('early-stopping', v['early-stopping'], 1, 1, 1_000_000) }
      : recipe.earlyStopping !== undefined && model === 'mlp' && v['validation-split'] !== '0' ? { earlyStopping: recipe.earlyStopping } : {}),
    ...(v.backend !== undefined ? { backend: choice('backend', v.backend, ['native', 'ts'] as const)! } : {}),
    ...(v.threads !== undefined ? { threads: int('threads', v.threads, 1, 1, 256) } : {}),
    seed: int('seed', v.seed, 1, 0, Number.MAX_SAFE_INTEGER, '2^53-1'),
    ...(v.train !== undefined ? { train: int('train', v.train, 1, 1, 60000) } : {}),
    ...(v.test !== undefined ? { test: int('test', v.test, 1, 1, 10000) } : {}),
    ...(v.clip !== undefined ? { clip: clipOf(v.clip) } : {}),
    ...(v.samples !== undefined ? { samples: int('samples', v.samples, 1, 2, 1_000_000) } : {}),
    ...(noise !== undefined ? { noise } : {}),
    ...(v.classes !== undefined ? { classes: int('classes', v.classes, 2, 2, 3) } : {}),
    ...(typeof v.plot === 'string' ? { plot: v.plot } : {}),
    ...(typeof v.boundary === 'string' ? { boundary: v.boundary } : {}),
    ...(typeof v.save === 'string' ? { save: v.save } : {}),
    ...(cnn ? { cnn } : {}),
    ...(prune ? { prune, pruneEpochs: int('prune-epochs', v['prune-epochs'], 2, 1, 1000) } : {}),
  };
}

// --- #12 gan ---
/** The flags --task gan takes; any other is refused by name. */
const GAN_FLAGS: readonly string[] = ['task', 'dataset', 'model', 'epochs', 'batch-size', 'lr', 'out', 'seed', 'train', 'test', 'backend', 'threads', 'help'];

/** The options of --task gan (lib/cli/gan.ts). */
function ganOptions(v: Record<string, string | true>): GanOptions {
  for (const k of Object.keys(v)) {
    if (!GAN_FLAGS.includes(k)) throw new UsageError(`--${k} does not apply to --task gan (its flags: --model mlp|dcgan, --epochs, --batch-size, --lr, --out, --seed, --train, --test, --backend, --threads)`, TRAIN_HELP);
  }
  const model = choice('model', v.model, GAN_MODELS) ?? 'mlp';
  const r = GAN_RECIPES[model];
  let lr = r.lr;
  if (v.lr !== undefined) {
    lr = typeof v.lr === 'string' && FLOAT.test(v.lr) ? Number(v.lr) : NaN;
    if (!(lr > 0 && Number.isFinite(Math.fround(lr)))) {
      throw new UsageError(`--lr must be a positive number that float32 can hold (like 0.0002 or 2e-4), got '${String(v.lr)}'`, TRAIN_HELP);
    }
  }
  const batchSize = int('batch-size', v['batch-size'], r.batchSize, 2, 60000);
  const train = int('train', v.train, r.train, 1, 60000);
  if (train < batchSize) {
    throw new UsageError(`--train ${train} is fewer digits than one batch (--batch-size ${batchSize}); the GAN trains on whole batches only`, TRAIN_HELP);
  }
  if (v.out === '') throw new UsageError("--out needs a folder path, got ''", TRAIN_HELP);
  return {
    model,
    epochs: int('epochs', v.epochs, r.epochs, 1, 1_000_000),
    batchSize,
    lr,
    latent: r.latent,
    train,
    ...(v.test !== undefined ? { test: int('test', v.test, 1, 1, 10000) } : {}),
    out: typeof v.out === 'string' ? v.out : `gan-${model}`,
    seed: int('seed', v.seed, 1, 0, Number.MAX_SAFE_INTEGER, '2^53-1'),
    ...(v.backend !== undefined ? { backend: choice('backend', v.backend, ['native', 'ts'] as const)! } : {}),
    ...(v.threads !== undefined ? { threads: int('threads', v.threads, 1, 1, 256) } : {}),
  };
}
// --- end #12 gan ---

/** --prune LIST: comma-separated sparsities, each above 0 and below 1, no repeats. */
function pruneList(text: string | true | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = String(text).split(',');
  const list = parts.map((t) => (FLOAT.test(t) ? Number(t) : NaN));
  if (text === true || !list.every((x) => x > 0 && x < 1) || new Set(list).size !== list.length) {
    throw new UsageError(`--prune must be comma-separated sparsities, each above 0 and below 1, none twice (like 0.5,0.8,0.9,0.95), got '${String(text)}'`, TRAIN_HELP);
  }
  return list;
}

/** The conv blocks of --model cnn: the recipe's, with --channels if given, checked against the image size. */
function cnnOptions(dataset: Dataset, r: CnnRecipe, text: string | true | undefined): NonNullable<TrainOptions['cnn']> {
  if (text === undefined) return { channels: [...r.channels], kernelSize: r.kernelSize, padding: r.padding };
  const channels = String(text).split(',').map((s) => (INT.test(s) ? Number(s) : NaN));
  if (!channels.every((n) => n >= 1 && n <= 4096)) {
    throw new UsageError(`--channels must be comma-separated integers from 1 to 4096 (one per conv block), got '${String(text)}'`, TRAIN_HELP);
  }
  const [, h] = IMAGE_SHAPES[dataset]!;
  const fit = cnnSides(h, channels.length, r.kernelSize, r.padding).length;
  if (fit < channels.length) {
    throw new UsageError(`--channels asks for ${channels.length} conv blocks, but a ${h}x${h} ${dataset} image allows at most ${fit} ` +
      `(${r.kernelSize}x${r.kernelSize} ${r.padding} convs, each followed by a 2x2 max pool), got '${String(text)}'`, TRAIN_HELP);
  }
  return { channels, kernelSize: r.kernelSize, padding: r.padding };
}

const clipOf = (v: string | true): number => float('clip', v, (x) => x > 0 && Number.isFinite(x), 'a positive number (like 1)')!;

/** The options of a sequence task (--dataset names | spam | smnist). */
function sequenceOptions(dataset: (typeof SEQUENCE_DATASETS)[number], v: Record<string, string | true>): TrainOptions {
  const r: SequenceRecipe = SEQUENCE_RECIPES[dataset];
  const model = choice('model', v.model, MODELS) ?? 'lstm';
  if (!(RECURRENT as readonly string[]).includes(model)) {
    throw new UsageError(`--dataset ${dataset} is a sequence task: use --model lstm, gru or rnn, not ${model}`, TRAIN_HELP);
  }
  for (const f of ['activation', 'channels', 'samples', 'noise', 'classes', 'boundary', 'prune', 'prune-epochs']) {
    if (v[f] !== undefined) throw new UsageError(`--${f} does not apply to the sequence task ${dataset} (--model ${model})`, TRAIN_HELP);
  }
  if (v.embedding !== undefined && dataset === 'smnist') {
    throw new UsageError('--embedding applies to the token sequence tasks (names, spam) only, not smnist (its steps are rows of pixels)', TRAIN_HELP);
  }
  const hiddenText = String(v.hidden ?? r.hidden.join(','));
  const hidden = hiddenText.split(',').map((s) => (INT.test(s) ? Number(s) : NaN));
  if (!hidden.every((n) => n >= 1 && n <= 65536) || hidden.some((n) => n !== hidden[0])) {
    throw new UsageError(`--hidden must be the recurrent layers' hidden size, 1 to 65536 (equal sizes, comma separated, stack layers: '128,128'), got '${hiddenText}'`, TRAIN_HELP);
  }
  const optimizer = choice('optimizer', v.optimizer, OPTIMIZERS) ?? r.optimizer;
  let lr = optimizer === r.optimizer ? r.lr : DEFAULT_LR[optimizer];
  if (v.lr !== undefined) {
    lr = typeof v.lr === 'string' && FLOAT.test(v.lr) ? Number(v.lr) : NaN;
    if (!(lr > 0 && Number.isFinite(Math.fround(lr)))) {
      throw new UsageError(`--lr must be a positive number that float32 can hold (like 0.001 or 1e-3), got '${String(v.lr)}'`, TRAIN_HELP);
    }
  }
  if (v['early-stopping'] !== undefined && dataset !== 'names' && v['validation-split'] === undefined && r.validationSplit === 0) {
    throw new UsageError(`--early-stopping watches the validation loss: it needs --validation-split above 0 (the ${dataset} recipe holds none out)`, TRAIN_HELP);
  }
  if (v['early-stopping'] !== undefined && v['validation-split'] === '0') {
    throw new UsageError('--early-stopping watches the validation loss: it needs --validation-split above 0', TRAIN_HELP);
  }
  const validationSplit = float('validation-split', v['validation-split'], (x) => x >= 0 && x < 1, 'a number from 0 to below 1 (like 0.1)') ?? r.validationSplit;
  if (dataset === 'names' && validationSplit === 0) {
    throw new UsageError('--validation-split 0 leaves no validation names: the names task reports the validation cross-entropy (use a fraction like 0.1)', TRAIN_HELP);
  }
  for (const [flag, value] of [['save', v.save], ['plot', v.plot]] as const) {
    if (value === '') throw new UsageError(`--${flag} needs a file path, got ''`, TRAIN_HELP);
  }
  if (typeof v.plot === 'string' && !/\.(svg|png)$/i.test(v.plot)) throw new UsageError(`--plot must name a .svg or .png file, got '${v.plot}'`, TRAIN_HELP);
  if (typeof v.plot === 'string' && typeof v.save === 'string' && resolve(v.plot) === resolve(v.save)) {
    throw new UsageError(`--save and --plot name the same file '${v.plot}'; the second would overwrite the first`, TRAIN_HELP);
  }
  const clip = v.clip !== undefined ? clipOf(v.clip) : r.clip;
  const maxRows = dataset === 'smnist' ? 60000 : 1_000_000;
  return {
    dataset,
    model: model as ModelName,
    epochs: int('epochs', v.epochs, r.epochs, 1, 1_000_000),
    batchSize: int('batch-size', v['batch-size'], r.batchSize, 1, 1_000_000),
    lr,
    optimizer,
    hidden,
    activation: r.activation,
    schedule: choice('schedule', v.schedule, SCHEDULES) ?? r.schedule,
    dropout: float('dropout', v.dropout, (x) => x >= 0 && x < 1, 'a number from 0 to below 1 (like 0.2)') ?? r.dropout,
    validationSplit,
    ...(v['early-stopping'] !== undefined ? { earlyStopping: int('early-stopping', v['early-stopping'], 1, 1, 1_000_000) } : {}),
    ...(v.backend !== undefined ? { backend: choice('backend', v.backend, ['native', 'ts'] as const)! } : {}),
    ...(v.threads !== undefined ? { threads: int('threads', v.threads, 1, 1, 256) } : {}),
    seed: int('seed', v.seed, 1, 0, Number.MAX_SAFE_INTEGER, '2^53-1'),
    ...(v.train !== undefined ? { train: int('train', v.train, 1, 1, maxRows) } : {}),
    ...(v.test !== undefined ? { test: int('test', v.test, 1, 1, maxRows) } : {}),
    ...(dataset !== 'smnist' ? { embedding: int('embedding', v.embedding, r.embedding!, 1, 65536) } : {}),
    ...(clip !== undefined ? { clip } : {}),
    ...(typeof v.plot === 'string' ? { plot: v.plot } : {}),
    ...(typeof v.save === 'string' ? { save: v.save } : {}),
  };
}
