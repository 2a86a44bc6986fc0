/**
 * `fathom train --task pretrain`: does unsupervised greedy layer-wise
 * pre-training help a deep network that has only a few labels?
 * (Bengio et al. 2007; Erhan et al. 2010, "Why does unsupervised
 * pre-training help deep learning?")
 *
 * Per seed: `--labels` MNIST training digits are drawn at random, class-balanced
 * (labels/10 of each class), and split class-balanced into a fine-tuning set and
 * a validation set (`--validation-split`); every training digit, without its
 * label, is the pre-training set. For each method of `--pretrain`, the same
 * network (784 → --hidden with --activation → 10, the same initial weights for
 * a given seed) is pre-trained by pretrain.layerwise (none: not at all), then
 * fine-tuned end to end with the same budget for every method: --optimizer at
 * --lr, --batch-size, at most --epochs epochs with early stopping on the
 * validation loss (patience --early-stopping, the best epoch's weights
 * restored). The test set (10,000 digits) is used once per run, for the
 * reported accuracy. A markdown table gives each method's mean test accuracy
 * ± the sample standard deviation over the seeds, and min–max.
 *
 * The argument parsing lives here too; it takes args.ts's usage-error thrower,
 * so this file imports nothing from args.ts at run time (no import cycle).
 */
import type { TrainOptions } from './args.js';
import type { TrainResult } from './train.js';
import type { Module } from '../layers/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { DEFAULT_LR, OPTIMIZERS, type Activation, type OptimizerName } from './recipes.js';
import { shuffler } from '../data/random.js';

type Fathom = typeof import('../index.js');

export const PRETRAIN_METHODS = ['none', 'autoencoder', 'rbm'] as const;
export type PretrainChoice = (typeof PRETRAIN_METHODS)[number];
export const PRETRAIN_ACTIVATIONS = ['sigmoid', 'relu', 'tanh'] as const;

/** The experiment's defaults (each has a flag). */
export const PRETRAIN_DEFAULTS = {
  labels: 1000,
  seeds: [1, 2, 3],
  hidden: [500, 500, 500],
  activation: 'sigmoid' as Activation,
  pretrainEpochs: 1,
  pretrainBatchSize: 64,
  corruption: 0.2,
  optimizer: 'adam' as OptimizerName,
  lr: 1e-3,
  epochs: 100,
  batchSize: 32,
  earlyStopping: 10,
  validationSplit: 0.1,
};

/** The flags only --task pretrain takes (args.ts refuses them elsewhere). */
export const PRETRAIN_FLAGS = ['labels', 'seeds', 'pretrain', 'pretrain-epochs', 'corruption'] as const;

/** What --task pretrain adds to TrainOptions. */
export interface PretrainExperimentOptions {
  /** Labelled training digits, a multiple of 10 (class-balanced). */
  labels: number;
  seeds: number[];
  methods: PretrainChoice[];
  /** Epochs of pre-training per layer. */
  pretrainEpochs: number;
  /** The denoising autoencoder's masking probability (0: a plain autoencoder). */
  corruption: number;
}

const D = PRETRAIN_DEFAULTS;

export const PRETRAIN_HELP = `Usage: fathom train --task pretrain [options]

Unsupervised greedy layer-wise pre-training with few labels (issue #12): MNIST
with only --labels labelled training digits (all training digits, unlabelled,
for pre-training). For each seed and each method of --pretrain, the same deep
network (784 → --hidden → 10) is pre-trained layer by layer (pretrain.layerwise),
then fine-tuned end to end with a classifier head on the labelled digits, with
the same budget for every method and early stopping on a validation split of
the labelled digits only. Prints a markdown table of test accuracy per method:
mean ± sample standard deviation over the seeds, and min–max.

  --labels N          labelled digits, drawn at random per seed, class-balanced (N/10 of
                      each digit): a multiple of 10 from 20 to 60000 (default ${D.labels})
  --seeds LIST        comma-separated seeds, each 0 to 2^53-1, none twice (default
                      ${D.seeds.join(',')}); a seed draws the labelled digits and every initial
                      weight, shuffle and noise of its runs
  --pretrain LIST     methods, comma separated, none twice: none (no pre-training),
                      autoencoder (each layer a denoising autoencoder: masking noise
                      --corruption, sigmoid/cross-entropy reconstruction of inputs in
                      [0, 1], else linear/squared error), rbm (each layer an RBM trained
                      by CD-1 and copied into it: a deep belief network; sigmoid only)
                      (default none,autoencoder,rbm; with --activation relu or tanh:
                      none,autoencoder)
  --hidden LIST       hidden layer sizes, comma separated, each 1 to 65536 (default
                      ${D.hidden.join(',')})
  --activation NAME   ${PRETRAIN_ACTIVATIONS.join(' | ')} (default ${D.activation})
  --pretrain-epochs N pre-training epochs per layer over all the training digits, 1 to
                      1000 (default ${D.pretrainEpochs}; batches of ${D.pretrainBatchSize}; autoencoder: Adam lr 1e-3;
                      rbm: CD-1, lr 0.1, momentum 0.5 then 0.9, weight decay 2e-4)
  --corruption P      masking probability of the denoising autoencoder, 0 <= P < 1
                      (default ${D.corruption}; 0: a plain autoencoder)
  --epochs N          most fine-tuning epochs, 1 to 100000 (default ${D.epochs})
  --early-stopping N  stop fine-tuning after N epochs without a lower validation loss and
                      restore the best epoch's weights, 1 to 100000 (default ${D.earlyStopping})
  --validation-split X  fraction of the labelled digits of each class held out for early
                      stopping, 0 <= X < 1 (default ${D.validationSplit}; 0: no early stopping,
                      every run fine-tunes --epochs epochs)
  --batch-size N      fine-tuning batch size, 1 to 100000 (default ${D.batchSize})
  --optimizer NAME    fine-tuning optimizer: ${OPTIMIZERS.slice(0, 4).join(' | ')} |
                      ${OPTIMIZERS.slice(4).join(' | ')} (default ${D.optimizer}; sgd: Nesterov momentum 0.9)
  --lr X              fine-tuning learning rate (default ${D.lr}, or the optimizer's own)
  --train N           use only the first N training digits (pre-training and labels), 1 to 60000
  --test N            use only the first N test digits, 1 to 10000
  --backend NAME      native | ts (default: native, falling back to ts)
  --threads N         native threads, 1 to 256
  -h, --help          show this help
`;

type Usage = (message: string) => never;

const INT = /^[0-9]+$/;
const FLOAT = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

function intFlag(usage: Usage, name: string, v: string | true | undefined, dflt: number, min: number, max: number, maxText = String(max)): number {
  if (v === undefined) return dflt;
  const n = typeof v === 'string' && INT.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max)) usage(`--${name} must be an integer from ${min} to ${maxText}, got '${String(v)}'`);
  return n;
}

function floatFlag(usage: Usage, name: string, v: string | true | undefined, dflt: number, ok: (x: number) => boolean, want: string): number {
  if (v === undefined) return dflt;
  const x = typeof v === 'string' && FLOAT.test(v) ? Number(v) : NaN;
  if (!ok(x)) usage(`--${name} must be ${want}, got '${String(v)}'`);
  return x;
}

function listFlag<T extends string>(usage: Usage, name: string, v: string | true | undefined, allowed: readonly T[], dflt: T[]): T[] {
  if (v === undefined) return dflt;
  const parts = typeof v === 'string' ? v.split(',') : [];
  if (parts.length === 0 || !parts.every((p) => (allowed as readonly string[]).includes(p)) || new Set(parts).size !== parts.length) {
    usage(`--${name} must be comma-separated names from ${allowed.join(', ')}, none twice, got '${String(v)}'`);
  }
  return parts as T[];
}

function oneOf<T extends string>(usage: Usage, name: string, v: string | true | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly unknown[]).includes(v)) usage(`--${name} must be one of ${allowed.join(', ')}, got '${String(v)}'`);
  return v as T;
}

/**
 * The options of `fathom train --task pretrain` from the parsed flags
 * (name → value). Flags of other tasks are refused by name.
 * @param usage throws args.ts's UsageError with this help.
 */
export function pretrainOptions(v: Record<string, string | true>, usage: Usage): TrainOptions {
  const allowed = new Set<string>([
    'task', 'dataset', 'help', ...PRETRAIN_FLAGS, 'hidden', 'activation', 'epochs', 'early-stopping', 'validation-split', 'batch-size',
    'optimizer', 'lr', 'train', 'test', 'backend', 'threads',
  ]);
  for (const k of Object.keys(v)) {
    if (!allowed.has(k)) usage(`--${k} does not apply to --task pretrain${k === 'seed' ? ' (it takes --seeds LIST)' : ''}`);
  }
  const labels = intFlag(usage, 'labels', v.labels, D.labels, 20, 60000);
  if (labels % 10 !== 0) usage(`--labels must be a multiple of 10 (the labelled digits are class-balanced, labels/10 of each), got '${String(v.labels)}'`);
  let seeds = D.seeds;
  if (v.seeds !== undefined) {
    const parts = typeof v.seeds === 'string' ? v.seeds.split(',') : [];
    const list = parts.map((s) => (INT.test(s) ? Number(s) : NaN));
    if (list.length === 0 || !list.every((n) => n >= 0 && n <= Number.MAX_SAFE_INTEGER) || new Set(list).size !== list.length) {
      usage(`--seeds must be comma-separated integers from 0 to 2^53-1, none twice (like 1,2,3), got '${String(v.seeds)}'`);
    }
    seeds = list;
  }
  const activation: Activation = oneOf(usage, 'activation', v.activation, PRETRAIN_ACTIVATIONS, 'sigmoid');
  const methods = listFlag(usage, 'pretrain', v.pretrain, PRETRAIN_METHODS,
    activation === 'sigmoid' ? [...PRETRAIN_METHODS] : ['none', 'autoencoder']);
  if (methods.includes('rbm') && activation !== 'sigmoid') {
    usage(`--pretrain rbm needs --activation sigmoid (an RBM's hidden units are sigmoid, and each RBM is copied into a Linear + sigmoid layer), got --activation ${activation}`);
  }
  const hiddenText = v.hidden ?? D.hidden.join(',');
  const hidden = String(hiddenText).split(',').map((s) => (INT.test(s) ? Number(s) : NaN));
  if (hiddenText === true || !hidden.every((n) => n >= 1 && n <= 65536)) {
    usage(`--hidden must be comma-separated integers from 1 to 65536 (at least one hidden layer: pre-training trains them), got '${String(hiddenText)}'`);
  }
  const validationSplit = floatFlag(usage, 'validation-split', v['validation-split'], D.validationSplit, (x) => x >= 0 && x < 1, 'a number from 0 to below 1 (like 0.1)');
  const perClass = labels / 10;
  const val = Math.round(perClass * validationSplit);
  if (validationSplit > 0 && (val < 1 || val >= perClass)) {
    usage(`--validation-split ${validationSplit} of ${perClass} labelled digits per class holds out ${val}; it must hold out at least 1 and leave at least 1 to fine-tune on`);
  }
  if (v['early-stopping'] !== undefined && validationSplit === 0) usage('--early-stopping watches the validation loss: it needs --validation-split above 0');
  if (v.corruption !== undefined && !methods.includes('autoencoder')) usage('--corruption sets the autoencoder pre-training: --pretrain must include autoencoder');
  const optimizer = oneOf(usage, 'optimizer', v.optimizer, OPTIMIZERS, D.optimizer);
  const lr = floatFlag(usage, 'lr', v.lr, optimizer === D.optimizer ? D.lr : DEFAULT_LR[optimizer], (x) => x > 0 && Number.isFinite(Math.fround(x)), 'a positive number that float32 can hold (like 0.001 or 1e-3)');
  const train = v.train !== undefined ? intFlag(usage, 'train', v.train, 1, 1, 60000) : undefined;
  if (train !== undefined && train < labels) usage(`--train ${train} leaves fewer training digits than --labels ${labels}`);
  return {
    dataset: 'mnist',
    model: 'mlp',
    epochs: intFlag(usage, 'epochs', v.epochs, D.epochs, 1, 100_000),
    batchSize: intFlag(usage, 'batch-size', v['batch-size'], D.batchSize, 1, 100_000),
    lr,
    optimizer,
    hidden,
    activation,
    schedule: 'none',
    dropout: 0,
    validationSplit,
    ...(validationSplit > 0 ? { earlyStopping: intFlag(usage, 'early-stopping', v['early-stopping'], D.earlyStopping, 1, 100_000) } : {}),
    ...(v.backend !== undefined ? { backend: oneOf(usage, 'backend', v.backend, ['native', 'ts'] as const, 'native') } : {}),
    ...(v.threads !== undefined ? { threads: intFlag(usage, 'threads', v.threads, 1, 1, 256) } : {}),
    seed: seeds[0],
    ...(train !== undefined ? { train } : {}),
    ...(v.test !== undefined ? { test: intFlag(usage, 'test', v.test, 1, 1, 10000) } : {}),
    pretrain: {
      labels,
      seeds,
      methods,
      pretrainEpochs: intFlag(usage, 'pretrain-epochs', v['pretrain-epochs'], D.pretrainEpochs, 1, 1000),
      corruption: floatFlag(usage, 'corruption', v.corruption, D.corruption, (x) => x >= 0 && x < 1, 'a number from 0 to below 1 (like 0.2)'),
    },
  };
}

/** One run: a method and a seed. */
export interface PretrainRun {
  method: PretrainChoice;
  seed: number;
  testAccuracy: number;
  /** Fine-tuning epochs run, and the epoch (1-based) whose weights were kept. */
  epochs: number;
  bestEpoch: number;
  pretrainSeconds: number;
  fineTuneSeconds: number;
  /** Per layer: the reconstruction loss before and after pre-training (empty for none). */
  reconstruction: { loss: string; before: number; after: number }[];
}

/** A method's row of the table. */
export interface PretrainRow {
  method: PretrainChoice;
  accuracies: number[];
  mean: number;
  /** Sample standard deviation (n − 1); NaN for one seed. */
  std: number;
  min: number;
  max: number;
  /** Mean seconds of pre-training per seed. */
  pretrainSeconds: number;
  /** Mean fine-tuning epochs. */
  epochs: number;
}


/**
 * The labelled digits of one seed: perClass of each class 0..9 drawn at random
 * (a seeded partial Fisher–Yates within each class), the first `val` of each
 * class for validation, the others for fine-tuning.
 * @returns row indices into y (fine-tuning, validation), each sorted by draw order.
 * @throws naming the class when y holds fewer than perClass of it.
 */
export function drawLabelled(y: Int32Array, perClass: number, val: number, seed: number): { fit: number[]; val: number[] } {
  const next = shuffler(seed ^ 0x5bd1e995);
  const byClass: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < y.length; i++) byClass[y[i]].push(i);
  const fit: number[] = [];
  const valRows: number[] = [];
  byClass.forEach((rows, c) => {
    if (rows.length < perClass) throw new Error(`fathom train --task pretrain: ${perClass} labelled digits of each class need ${perClass} ${c}s, but the ${y.length} training digits hold ${rows.length}`);
    for (let i = 0; i < perClass; i++) {
      const j = i + next(rows.length - i);
      [rows[i], rows[j]] = [rows[j], rows[i]];
      (i < val ? valRows : fit).push(rows[i]);
    }
  });
  return { fit, val: valRows };
}

/** Mean, sample standard deviation (n − 1; NaN for n = 1), min and max. */
export function spread(xs: readonly number[]): { mean: number; std: number; min: number; max: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : NaN;
  return { mean, std, min: Math.min(...xs), max: Math.max(...xs) };
}

const pct = (v: number): string => `${(v * 100).toFixed(2)} %`;

/** The markdown table of the rows. */
export function pretrainTable(rows: readonly PretrainRow[]): string {
  const lines = [
    '| pre-training | test accuracy, mean ± sample std | min – max | per seed | pre-training time per seed | fine-tuning epochs (mean) |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const std = Number.isNaN(r.std) ? '' : ` ± ${(r.std * 100).toFixed(2)}`;
    lines.push(
      `| ${r.method} | ${(r.mean * 100).toFixed(2)}${std} % | ${(r.min * 100).toFixed(2)} – ${(r.max * 100).toFixed(2)} % | ` +
      `${r.accuracies.map((a) => (a * 100).toFixed(2)).join(', ')} | ${r.method === 'none' ? '—' : `${r.pretrainSeconds.toFixed(1)} s`} | ${r.epochs.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}

function take(f: Fathom, x: Tensor, rows: readonly number[]): Tensor {
  const per = x.shape[1];
  const src = x.data as Float32Array;
  const out = new Float32Array(rows.length * per);
  rows.forEach((r, i) => out.set(src.subarray(r * per, (r + 1) * per), i * per));
  return new f.Tensor(out, [rows.length, per]);
}

function takeLabels(f: Fathom, y: Tensor, rows: readonly number[]): Tensor {
  return new f.Tensor(Int32Array.from(rows, (r) => y.data[r]), [rows.length]);
}

/** A seed for layer k of a run (32-bit). */
const layerSeed = (seed: number, k: number): number => (Math.imul((seed % 4294967296) ^ 0x27d4eb2f, 0x165667b1) + Math.imul(k + 1, 0x9e3779b1)) >>> 0;

const RELU_FAMILY: readonly Activation[] = ['relu', 'leakyRelu', 'elu', 'gelu', 'silu'];

/** Runs the experiment and prints the table. */
export async function pretrainExperiment(f: Fathom, o: TrainOptions): Promise<TrainResult> {
  const p = o.pretrain!;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const ds = await f.data.mnist({ ...(o.train !== undefined ? { train: o.train } : {}), ...(o.test !== undefined ? { test: o.test } : {}) });
  const x = ds.train.x, y = ds.train.y;
  const perClass = p.labels / 10;
  const val = Math.round(perClass * o.validationSplit);
  const arch = `${[784, ...o.hidden, 10].join('-')} ${o.activation}`;
  console.log(`MNIST: ${x.shape[0]} training digits (all of them unlabelled for pre-training), ${ds.test.x.shape[0]} test digits`);
  console.log(
    `labels: ${p.labels} per seed, drawn at random class-balanced (${perClass} of each digit): ${perClass - val} per class fine-tune` +
    `${val ? `, ${val} per class validate (early stopping)` : ''} · seeds ${p.seeds.join(', ')}`,
  );
  console.log(`network: MLP ${arch} · pre-training ${p.methods.filter((m) => m !== 'none').map((m) => (m === 'autoencoder' && p.corruption > 0 ? `denoising autoencoder (masking ${p.corruption})` : m)).join(', ') || 'none'}, ${p.pretrainEpochs} epoch${p.pretrainEpochs === 1 ? '' : 's'} per layer, batch ${PRETRAIN_DEFAULTS.pretrainBatchSize}`);
  console.log(
    `fine-tuning (every method alike): ${o.optimizer}${o.optimizer === 'sgd' ? ' (Nesterov momentum 0.9)' : ''} lr ${o.lr}, batch ${o.batchSize}, ` +
    `${o.earlyStopping !== undefined ? `at most ${o.epochs} epochs, early stopping on the validation loss (patience ${o.earlyStopping}, best weights restored)` : `${o.epochs} epochs`}`,
  );
  const { nn } = f;
  const runs: PretrainRun[] = [];
  for (const seed of p.seeds) {
    const drawn = drawLabelled(y.data as Int32Array, perClass, val, seed);
    const xFit = take(f, x, drawn.fit), yFit = takeLabels(f, y, drawn.fit);
    const validation = val ? [take(f, x, drawn.val), takeLabels(f, y, drawn.val)] as [Tensor, Tensor] : undefined;
    for (const method of p.methods) {
      f.manualSeed(seed);
      const init = RELU_FAMILY.includes(o.activation) ? 'he' as const : 'glorot' as const;
      const widths = [784, ...o.hidden];
      const stages = o.hidden.map((h, k) => new nn.Linear(widths[k], h, { init, seed: layerSeed(seed, k) }));
      const head = new nn.Linear(widths[widths.length - 1], 10, { seed: layerSeed(seed, o.hidden.length) });
      const pt0 = performance.now();
      let encoder: Module;
      let reconstruction: PretrainRun['reconstruction'] = [];
      if (method === 'none') {
        const act = o.activation as 'sigmoid' | 'relu' | 'tanh';
        encoder = new nn.Sequential(...stages.flatMap((s) => [s, act === 'sigmoid' ? new nn.Sigmoid() : act === 'relu' ? new nn.ReLU() : new nn.Tanh()]));
      } else {
        const r = await f.pretrain.layerwise(stages, x, {
          method, activation: o.activation as 'sigmoid' | 'relu' | 'tanh', epochs: p.pretrainEpochs, batchSize: PRETRAIN_DEFAULTS.pretrainBatchSize,
          seed, verbose: 0, ...(method === 'autoencoder' && p.corruption > 0 ? { corruption: { type: 'masking' as const, p: p.corruption } } : {}),
        });
        encoder = r.encoder;
        reconstruction = r.reports.map((q) => ({ loss: q.loss, before: q.before, after: q.after }));
      }
      const pretrainSeconds = (performance.now() - pt0) / 1000;
      const model = new nn.Sequential(encoder, head);
      const stop = o.earlyStopping !== undefined ? new f.callbacks.EarlyStopping({ monitor: 'valLoss', patience: o.earlyStopping, restoreBestWeights: true }) : undefined;
      const ft0 = performance.now();
      // As fathom train's other tasks: sgd with Nesterov momentum 0.9, the others with their defaults but lr.
      const optimizer = o.optimizer === 'sgd'
        ? { optimizer: new f.optim.SGD(model.parameters(), { lr: o.lr, momentum: 0.9, nesterov: true }) }
        : { optimizer: o.optimizer, lr: o.lr };
      const history = await model.fit(xFit, yFit, {
        loss: 'crossEntropy', ...optimizer, epochs: o.epochs, batchSize: o.batchSize, seed, verbose: 0,
        ...(validation ? { validationData: validation } : {}), ...(stop ? { callbacks: [stop] } : {}),
      });
      const fineTuneSeconds = (performance.now() - ft0) / 1000;
      const test = await model.evaluate(ds.test.x, ds.test.y);
      const run: PretrainRun = {
        method, seed, testAccuracy: test.accuracy ?? NaN, epochs: history.epochs.length,
        bestEpoch: stop ? stop.bestEpoch + 1 : history.epochs.length, pretrainSeconds, fineTuneSeconds, reconstruction,
      };
      runs.push(run);
      const rec = reconstruction.length ? ` · reconstruction per layer ${reconstruction.map((q) => `${q.before.toFixed(3)}→${q.after.toFixed(3)}`).join(', ')} (${reconstruction[0].loss}${reconstruction.some((q) => q.loss !== reconstruction[0].loss) ? '/mse' : ''})` : '';
      console.log(
        `seed ${seed} · ${method.padEnd(11)} · test accuracy ${pct(run.testAccuracy)} · fine-tuned ${run.epochs} epochs (best ${run.bestEpoch}) in ${fineTuneSeconds.toFixed(1)} s` +
        `${method === 'none' ? '' : ` · pre-trained in ${pretrainSeconds.toFixed(1)} s`}${rec} · RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`,
      );
    }
  }
  const rows: PretrainRow[] = p.methods.map((method) => {
    const mine = runs.filter((r) => r.method === method);
    const accuracies = mine.map((r) => r.testAccuracy);
    return {
      method, accuracies, ...spread(accuracies),
      pretrainSeconds: mine.reduce((a, r) => a + r.pretrainSeconds, 0) / mine.length,
      epochs: mine.reduce((a, r) => a + r.epochs, 0) / mine.length,
    };
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log('');
  console.log(pretrainTable(rows));
  console.log('');
  console.log(`${runs.length} runs in ${seconds.toFixed(1)} s (${((cpu.user + cpu.system) / 1e6).toFixed(1)} s of CPU), data loading included; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
  return {
    epochs: runs.reduce((a, r) => a + r.epochs, 0), trainSeconds: runs.reduce((a, r) => a + r.pretrainSeconds + r.fineTuneSeconds, 0),
    pretrain: { rows, runs },
  };
}
