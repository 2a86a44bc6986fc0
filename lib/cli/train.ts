/**
 * `fathom train`: load a data set, build the model the flags describe, train
 * it with fit(), and print what fits the task (accuracy for classification;
 * MAE, RMSE and R² for regression), optionally drawing the learning curves
 * and, on a 2-D set, the decision boundary. Everything is imported lazily so
 * that `fathom --help` stays instant.
 */
import type { TrainOptions } from './args.js';
import type { Module } from '../layers/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { LRSchedulerLike } from '../models/training.js';
import type { MetricSpec } from '../models/metrics.js';
import { IMAGE_SHAPES, RECIPES, isSequence, type OptimizerName, type Schedule } from './recipes.js';
import { buildCnn, buildMlp } from './models.js';

type Fathom = typeof import('../index.js');

/** Training and test data, the shapes the model needs, and a line describing them. */
interface Loaded {
  xTrain: Tensor;
  yTrain: Tensor;
  xTest: Tensor;
  yTest: Tensor;
  /** Output units: classes (classification) or 1 (regression). */
  outputs: number;
  classNames?: string[];
  describe: string;
}

async function loadData(f: Fathom, o: TrainOptions): Promise<Loaded> {
  const t0 = performance.now();
  const secs = () => `${((performance.now() - t0) / 1000).toFixed(1)} s to load`;
  switch (o.dataset) {
    case 'names': case 'spam': case 'smnist': throw new Error(`fathom train: ${o.dataset} is a sequence task (sequence.ts)`);
    case 'mnist': {
      const ds = await f.data.mnist({ ...(o.train !== undefined ? { train: o.train } : {}), ...(o.test !== undefined ? { test: o.test } : {}) });
      return {
        xTrain: ds.train.x, yTrain: ds.train.y, xTest: ds.test.x, yTest: ds.test.y, outputs: ds.classes,
        describe: `MNIST: ${ds.train.x.shape[0]} training and ${ds.test.x.shape[0]} test digits (${secs()})`,
      };
    }
    case 'iris':
    case 'cars': {
      const ds = await f.data[o.dataset]({ seed: o.seed });
      const n = ds.xTrain.shape[0] + ds.xTest.shape[0];
      return {
        xTrain: ds.xTrain, yTrain: ds.yTrain, xTest: ds.xTest, yTest: ds.yTest,
        outputs: ds.classNames ? ds.classNames.length : 1,
        ...(ds.classNames ? { classNames: ds.classNames } : {}),
        describe: `${o.dataset}: ${n} rows${ds.dropped ? ` (${ds.dropped} with a missing value dropped)` : ''} · ${ds.xTrain.shape[0]} training, ${ds.xTest.shape[0]} test · ` +
          `${ds.featureNames.length} features standardised on the training split${ds.classNames ? ` · ${ds.classNames.length} classes` : ' · target Miles_per_Gallon'}`,
      };
    }
    default: {
      const make = f.data[o.dataset] as (opts: object) => { x: Tensor; y: Tensor };
      const classes = o.dataset === 'spirals' ? (o.classes ?? 2) : 2;
      // Noise 0.1 on moons and circles (sklearn's default, 0, makes them trivial), circles 0.5 apart.
      const base = {
        ...(o.samples !== undefined ? { n: o.samples } : {}),
        ...(o.noise !== undefined ? { noise: o.noise } : o.dataset === 'spirals' ? {} : { noise: 0.1 }),
        ...(o.dataset === 'spirals' ? { classes } : o.dataset === 'circles' ? { factor: 0.5 } : {}),
      };
      // A fresh test set from the next seed: the same distribution, other points.
      const train = make({ ...base, seed: o.seed });
      const test = make({ ...base, seed: o.seed + 1 });
      return {
        xTrain: train.x, yTrain: train.y, xTest: test.x, yTest: test.y, outputs: classes,
        describe: `${o.dataset}: ${train.x.shape[0]} training and ${test.x.shape[0]} test points in 2-D, ${classes} classes`,
      };
    }
  }
}

function optimizer(f: Fathom, name: OptimizerName, params: Tensor[], lr: number): Optimizer {
  const { optim } = f;
  switch (name) {
    case 'sgd': return new optim.SGD(params, { lr, momentum: 0.9, nesterov: true });
    case 'adam': return new optim.Adam(params, { lr });
    case 'adamw': return new optim.AdamW(params, { lr });
    case 'rmsprop': return new optim.RMSprop(params, { lr });
    case 'adagrad': return new optim.Adagrad(params, { lr });
    case 'adadelta': return new optim.Adadelta(params, { lr });
    case 'adamax': return new optim.Adamax(params, { lr });
  }
}

/** The scheduler of --schedule over `epochs` epochs of `steps` batches, and whether it steps per batch. */
function scheduler(f: Fathom, name: Schedule, opt: Optimizer, lr: number, epochs: number, steps: number): { s: LRSchedulerLike; perBatch: boolean } | null {
  const S = f.optim.lrScheduler;
  const total = epochs * steps;
  switch (name) {
    case 'none': return null;
    case 'step': return { s: new S.StepLR(opt, { stepSize: Math.max(1, Math.round(epochs / 3)), gamma: 0.1 }), perBatch: false };
    case 'exponential': return { s: new S.ExponentialLR(opt, { gamma: Math.pow(0.01, 1 / epochs) }), perBatch: false };
    case 'cosine': return { s: new S.CosineAnnealingLR(opt, { tMax: total }), perBatch: true };
    case 'linear': return { s: new S.LinearLR(opt, { startFactor: 1, endFactor: 0, totalIters: total }), perBatch: true };
    // Momentum is cycled where the optimizer has one (SGD, RMSprop) or a beta1 (the Adam family); Adagrad and Adadelta have neither.
    case 'onecycle': return { s: new S.OneCycleLR(opt, { maxLr: lr, totalSteps: total, cycleMomentum: 'momentum' in opt.paramGroups[0] || 'betas' in opt.paramGroups[0] }), perBatch: true };
  }
}

/** What a run measured (printed too); returned so that tests can check the recipes in-process. */
export interface TrainResult {
  testAccuracy?: number;
  trainAccuracy?: number;
  testMae?: number;
  testRmse?: number;
  testR2?: number;
  /** spam: the F1 of the spam class. */
  testF1?: number;
  /** names: the mean cross-entropy per validation character (nats), the bigram baseline's on the same split, and the training names'. */
  validationCrossEntropy?: number;
  bigramBaseline?: number;
  trainCrossEntropy?: number;
  /** Epochs fit() ran (fewer than asked after early stopping). */
  epochs: number;
  /** Seconds spent in fit() (the perceptron rule for --model perceptron). */
  trainSeconds: number;
  perceptron?: { converged: boolean; epochs: number; errors: number };
  /** --prune: the table's rows, dense first (lib/cli/prune.ts). */
  prune?: import('./prune.js').PruneRow[];
  // --- #12 pretrain ---
  /** --task pretrain: the table's rows (one per method) and every run (lib/cli/pretrain.ts). */
  pretrain?: { rows: import('./pretrain.js').PretrainRow[]; runs: import('./pretrain.js').PretrainRun[] };
  // --- end #12 pretrain ---
}

const pct = (v: number | undefined) => `${((v ?? NaN) * 100).toFixed(2)}%`;

export async function train(o: TrainOptions): Promise<TrainResult> {
  const { checkWritable } = await import('../io/atomic.js');
  const { toPath } = await import('../io/paths.js');
  for (const [flag, p] of [['--save', o.save], ['--plot', o.plot], ['--boundary', o.boundary]] as const) {
    if (p === undefined) continue;
    try {
      await checkWritable(toPath(p, flag));
    } catch (err) {
      throw new Error(`${flag}: ${(err as Error).message}; nothing was trained`, { cause: err });
    }
  }
  // The drawing packages are checked before training too: a missing one must not cost the run.
  const plot = o.plot !== undefined || o.boundary !== undefined ? await loadPlot(o) : null;

  const f = await import('../index.js');
  if (o.backend !== undefined) f.setBackend(o.backend);
  if (o.threads !== undefined) f.setNumThreads(o.threads);
  const i = f.info();
  console.log(`fathom ${i.version} · backend ${i.backend} · isa ${i.isa} · threads ${i.threads}`);
  // --- #12 pretrain ---
  if (o.pretrain) return (await import('./pretrain.js')).pretrainExperiment(f, o);
  // --- end #12 pretrain ---
  if (isSequence(o.dataset)) {
    const { trainSequence } = await import('./sequence.js');
    return trainSequence(f, o, {
      optimizer: (ff, oo, params) => optimizer(ff, oo.optimizer, params, oo.lr),
      scheduler: (ff, opt, steps) => scheduler(ff, o.schedule, opt, o.lr, o.epochs, steps),
    });
  }
  const d = await loadData(f, o);
  console.log(d.describe);
  const regression = RECIPES[o.dataset].task === 'regression';

  f.manualSeed(o.seed);
  const inFeatures = d.xTrain.shape[1];
  if (o.model === 'perceptron') {
    const p = new f.nn.Perceptron(inFeatures);
    const pm = (y: Tensor) => new f.Tensor(Float32Array.from(y.data, (v) => 2 * v - 1), [y.shape[0]]);
    console.log(`model: perceptron ${inFeatures}-1 (sign) · perceptron rule lr ${o.lr} · at most ${o.epochs} epochs`);
    const t0 = performance.now();
    const r = p.train(d.xTrain, pm(d.yTrain), { lr: o.lr, epochs: o.epochs });
    const secs = (performance.now() - t0) / 1000;
    const acc = (x: Tensor, y: Tensor) => {
      const s = p.predict(x).data;
      let ok = 0;
      for (let k = 0; k < y.shape[0]; k++) if ((s[k] > 0 ? 1 : 0) === y.data[k]) ok++;
      return ok / y.shape[0];
    };
    console.log(`${r.converged ? 'converged' : 'did not converge'} after ${r.epochs} epoch${r.epochs === 1 ? '' : 's'} (${r.errors} misclassified in the last) in ${secs.toFixed(2)} s`);
    const result: TrainResult = {
      trainAccuracy: acc(d.xTrain, d.yTrain), testAccuracy: acc(d.xTest, d.yTest), epochs: r.epochs, trainSeconds: secs,
      perceptron: { converged: r.converged, epochs: r.epochs, errors: r.errors },
    };
    console.log(`train accuracy ${pct(result.trainAccuracy)} · test accuracy ${pct(result.testAccuracy)}`);
    if (o.boundary !== undefined) await drawBoundary(plot!, p, d, o.boundary, 'perceptron');
    if (o.save !== undefined) await saveModel(f, p, o.save);
    return result;
  }

  if (o.model === 'cnn') {
    // The rows of pixels become [N, C, H, W] images (a view: no copy).
    const image = IMAGE_SHAPES[o.dataset]!;
    d.xTrain = d.xTrain.reshape([-1, ...image]);
    d.xTest = d.xTest.reshape([-1, ...image]);
  }
  const { model, arch, parameters } = o.model === 'cnn' ? buildCnn(f, o, IMAGE_SHAPES[o.dataset]!, d.outputs) : buildMlp(f, o, inFeatures, d.outputs);
  const opt = optimizer(f, o.optimizer, model.parameters(), o.lr);
  const trainRows = Math.floor(d.xTrain.shape[0] * (1 - o.validationSplit));
  const steps = Math.ceil(trainRows / o.batchSize);
  const sched = scheduler(f, o.schedule, opt, o.lr, o.epochs, steps);
  console.log(
    `model: ${arch} (${parameters.toLocaleString('en-US')} parameters)${o.dropout > 0 ? ` · dropout ${o.dropout}` : ''} · ${o.optimizer} lr ${o.lr}` +
    `${o.schedule !== 'none' ? ` ${o.schedule}` : ''} · batch ${o.batchSize} · ${o.epochs} epoch${o.epochs === 1 ? '' : 's'}` +
    `${o.earlyStopping !== undefined ? ` · early stopping (patience ${o.earlyStopping})` : ''}`,
  );

  const callbacks = o.earlyStopping !== undefined
    ? [new f.callbacks.EarlyStopping({ monitor: 'valLoss', patience: o.earlyStopping, restoreBestWeights: true })]
    : [];
  const t0 = performance.now();
  const history = await model.fit(d.xTrain, d.yTrain, {
    loss: regression ? 'mse' : 'crossEntropy', optimizer: opt, epochs: o.epochs, batchSize: o.batchSize,
    validationSplit: o.validationSplit, seed: o.seed, callbacks,
    ...(o.clip !== undefined ? { clipGradNorm: o.clip } : {}),
    ...(regression ? { metrics: ['mae', 'r2'] as MetricSpec[] } : {}),
    ...(sched ? { lrScheduler: sched.s, lrSchedulerInterval: sched.perBatch ? 'batch' as const : 'epoch' as const } : {}),
  });
  const trainSecs = (performance.now() - t0) / 1000;
  const ran = history.epochs.length;
  if (ran < o.epochs) console.log(`early stopping after ${ran} epochs; the weights of the epoch with the lowest validation loss were restored`);

  const result: TrainResult = { epochs: ran, trainSeconds: trainSecs };
  if (regression) {
    const r = await model.evaluate(d.xTest, d.yTest, { metrics: ['mae', 'r2'] });
    Object.assign(result, { testMae: r.mae, testRmse: Math.sqrt(r.loss), testR2: r.r2 });
    console.log(`test MAE ${(r.mae ?? NaN).toFixed(3)} · test RMSE ${Math.sqrt(r.loss).toFixed(3)} · test R² ${(r.r2 ?? NaN).toFixed(4)}`);
  } else {
    const test = await model.evaluate(d.xTest, d.yTest);
    result.testAccuracy = test.accuracy;
    if (o.dataset !== 'mnist') result.trainAccuracy = (await model.evaluate(d.xTrain, d.yTrain)).accuracy;
    console.log(`test loss ${test.loss.toFixed(4)} · ${result.trainAccuracy !== undefined ? `train accuracy ${pct(result.trainAccuracy)} · ` : ''}test accuracy ${pct(test.accuracy)}`);
  }
  console.log(`training ${trainSecs.toFixed(2)} s · throughput ${Math.round(history.samplesPerSecond)} samples/s`);
  if (o.plot !== undefined) {
    await plot!.learningCurves(history, { path: o.plot, title: `fathom train --dataset ${o.dataset}: ${arch}` });
    console.log(`learning curves drawn to ${o.plot}`);
  }
  if (o.boundary !== undefined) await drawBoundary(plot!, model, d, o.boundary, arch);
  if (o.save !== undefined) await saveModel(f, model, o.save);
  if (o.prune !== undefined) {
    const { pruneExperiment } = await import('./prune.js');
    const build = (): Module => (o.model === 'cnn' ? buildCnn(f, o, IMAGE_SHAPES[o.dataset]!, d.outputs) : buildMlp(f, o, inFeatures, d.outputs)).model;
    result.prune = await pruneExperiment(f, o, model, d, build, (params) => optimizer(f, o.optimizer, params, o.lr));
  }
  return result;
}

type Plot = typeof import('../plot/index.js');

async function loadPlot(o: TrainOptions): Promise<Plot> {
  const plot = await import('../plot/index.js');
  const { resolveOptional } = await import('../data/optional.js');
  for (const p of ['vega', 'vega-lite']) resolveOptional('plot', p, 'drawing', ['vega', 'vega-lite']);
  if (/\.png$/i.test(o.plot ?? '') || /\.png$/i.test(o.boundary ?? '')) resolveOptional('plot', '@resvg/resvg-js', 'PNG output', ['@resvg/resvg-js']);
  return plot;
}

async function drawBoundary(plot: Plot, model: Module, d: Loaded, path: string, what: string): Promise<void> {
  await plot.decisionBoundary(model, d.xTrain, d.yTrain, { path, title: `${what}: decision regions over the training points` });
  console.log(`decision boundary drawn to ${path}`);
}

async function saveModel(f: Fathom, model: Module, path: string): Promise<void> {
  await f.save(model, path);
  console.log(`saved to ${path}`);
}
