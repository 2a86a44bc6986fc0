/**
 * fit / evaluate / predict: the Keras-style loop over any Module.
 *
 * fit() is async: it yields to the event loop after every batch, so a server
 * keeps serving while it trains (each batch's compute still runs on the
 * calling thread; for full isolation run training in a worker_thread — the
 * native addon is worker-safe).
 */
import { Tensor } from '../tensor/tensor.js';
import { argmax, rand } from '../ops/index.js';
import { noGrad } from '../autograd/tape.js';
import { fmt, sizeOf } from '../tensor/shape.js';
import { lossByName, type LossFn, type LossName } from '../losses/index.js';
import { Optimizer } from '../optimizers/optimizer.js';
import { Adam } from '../optimizers/adam.js';
import { SGD } from '../optimizers/sgd.js';
import { consoleProgress, type ProgressSink } from './progress.js';
import type { Module } from '../layers/module.js';

export interface Logs {
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  [k: string]: number | undefined;
}

export interface Callbacks {
  onTrainBegin?: () => void | Promise<void>;
  onTrainEnd?: (history: History) => void | Promise<void>;
  onEpochBegin?: (epoch: number) => void | Promise<void>;
  /** Return false (or a promise of false) to stop training after this epoch. */
  onEpochEnd?: (epoch: number, logs: Logs) => void | boolean | Promise<void | boolean>;
  onBatchEnd?: (batch: number, logs: { loss: number; size: number }) => void | Promise<void>;
}

export interface FitOptions {
  loss: LossName | LossFn;
  /**
   * An Optimizer instance (its state carries over between fit() calls), or
   * 'adam' / 'sgd' (a new one over model.parameters() with `lr` for this call).
   */
  optimizer: Optimizer | 'adam' | 'sgd';
  lr?: number;
  epochs?: number;
  batchSize?: number;
  /** Fraction of the data (taken from the end, before shuffling) held out for validation. */
  validationSplit?: number;
  validationData?: [Tensor, Tensor];
  shuffle?: boolean;
  /** Seed of the shuffle (default: drawn from the global random stream, see manualSeed). */
  seed?: number;
  /** Report accuracy (default: on for crossEntropy). */
  accuracy?: boolean;
  callbacks?: Callbacks;
  /** 0 silent, 1 progress (bar on a TTY, a line per epoch otherwise). Default 1. */
  verbose?: 0 | 1;
  /** Where progress goes (default stderr). */
  progress?: ProgressSink;
}

export interface History {
  epochs: number[];
  history: { loss: number[]; accuracy?: number[]; valLoss?: number[]; valAccuracy?: number[] };
  /** Training throughput of the whole fit, samples per second. */
  samplesPerSecond: number;
}

export interface EvaluateOptions {
  batchSize?: number;
  loss?: LossName | LossFn;
  accuracy?: boolean;
}
export interface EvalResult {
  loss: number;
  accuracy?: number;
}
export interface PredictOptions {
  batchSize?: number;
}

/** A seeded generator for shuffling (mulberry32): deterministic, backend independent. */
function shuffler(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** Rows [start, end) of t (a view: shares storage). */
function rows(t: Tensor, start: number, end: number): Tensor {
  const per = t.rank === 0 ? 1 : sizeOf(t.shape.slice(1));
  const data = t.data.subarray(start * per, end * per);
  return new Tensor(data, [end - start, ...t.shape.slice(1)]);
}

/** Gathers rows idx[start..end) of t into a new tensor. */
function gather(t: Tensor, idx: Int32Array, start: number, end: number): Tensor {
  const per = sizeOf(t.shape.slice(1));
  const out = t.dtype === 'int32' ? new Int32Array((end - start) * per) : new Float32Array((end - start) * per);
  for (let i = start; i < end; i++) out.set(t.data.subarray(idx[i] * per, (idx[i] + 1) * per), (i - start) * per);
  return new Tensor(out, [end - start, ...t.shape.slice(1)]);
}

function checkData(op: string, x: Tensor, y: Tensor): number {
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) throw new Error(`fathom.${op}: x and y must be Tensors`);
  if (x.rank < 1 || y.rank < 1) throw new Error(`fathom.${op}: x and y need a batch dimension, got ${fmt(x.shape)} and ${fmt(y.shape)}`);
  if (x.shape[0] !== y.shape[0]) {
    throw new Error(`fathom.${op}: x has ${x.shape[0]} samples (shape ${fmt(x.shape)}) but y has ${y.shape[0]} (shape ${fmt(y.shape)})`);
  }
  return x.shape[0];
}

function checkBatch(op: string, b: number): number {
  if (!Number.isInteger(b) || b < 1) throw new Error(`fathom.${op}: batchSize must be a positive integer, got ${b}`);
  return b;
}

/** Number of correct predictions: argmax of pred vs int labels or argmax of one-hot targets. */
function correct(pred: Tensor, y: Tensor): number {
  const p = argmax(pred).data as Int32Array;
  const t = y.dtype === 'int32' ? (y.data as Int32Array) : (argmax(y).data as Int32Array);
  let c = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === t[i]) c++;
  return c;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A 32-bit seed drawn from the global random stream. */
function randomSeed(): number {
  return rand([1]).data[0] * 4294967296;
}

/** The loss (and whether to report accuracy) each model was last fitted with: evaluate()'s default. */
const lastFit = new WeakMap<Module, { loss: LossFn; accuracy: boolean }>();

export async function fit(model: Module, x: Tensor, y: Tensor, opts: FitOptions): Promise<History> {
  const n = checkData('fit', x, y);
  const epochs = opts.epochs ?? 1;
  if (!Number.isInteger(epochs) || epochs < 0) throw new Error(`fathom.fit: epochs must be a non-negative integer, got ${epochs}`);
  const batchSize = checkBatch('fit', opts.batchSize ?? 32);
  const lossFn = lossByName(opts.loss);
  const withAcc = opts.accuracy ?? opts.loss === 'crossEntropy';
  const split = opts.validationSplit ?? 0;
  if (!(split >= 0 && split < 1)) throw new Error(`fathom.fit: validationSplit must be in [0, 1), got ${split}`);
  let optimizer: Optimizer;
  if (opts.optimizer instanceof Optimizer) optimizer = opts.optimizer;
  else if (opts.optimizer === 'adam') optimizer = new Adam(model.parameters(), { lr: opts.lr ?? 1e-3 });
  else if (opts.optimizer === 'sgd') optimizer = new SGD(model.parameters(), { lr: opts.lr ?? 0.01 });
  else throw new Error(`fathom.fit: optimizer must be an Optimizer, 'adam' or 'sgd', got ${String(opts.optimizer)}`);

  // Keras semantics: the validation split is the last fraction of the data, taken before shuffling.
  const nVal = opts.validationData ? 0 : Math.floor(n * split);
  const nTrain = n - nVal;
  if (nTrain < 1) throw new Error(`fathom.fit: no training samples left (n = ${n}, validationSplit = ${split})`);
  const [xTrain, yTrain] = [rows(x, 0, nTrain), rows(y, 0, nTrain)];
  const val = opts.validationData ?? (nVal > 0 ? [rows(x, nTrain, n), rows(y, nTrain, n)] : null);
  if (val) checkData('fit (validation data)', val[0], val[1]);

  const sink = opts.verbose === 0 ? null : opts.progress ?? consoleProgress(process.stderr, epochs);
  // Without a seed every fit() call shuffles differently (reproducibly after manualSeed).
  const pick = shuffler(opts.seed ?? Math.floor(randomSeed()));
  const idx = Int32Array.from({ length: nTrain }, (_, i) => i);
  const history: History = { epochs: [], history: { loss: [] }, samplesPerSecond: 0 };
  const cb = opts.callbacks ?? {};
  const batches = Math.ceil(nTrain / batchSize);
  let trainSeconds = 0;
  let trainSamples = 0;

  lastFit.set(model, { loss: lossFn, accuracy: withAcc });
  const wasTraining = model.training;
  try {
    await trainEpochs();
  } finally {
    model.train(wasTraining);
  }
  history.samplesPerSecond = trainSeconds > 0 ? trainSamples / trainSeconds : 0;
  await cb.onTrainEnd?.(history);
  return history;

  async function trainEpochs(): Promise<void> {
    await cb.onTrainBegin?.();
    for (let epoch = 0; epoch < epochs; epoch++) {
      await cb.onEpochBegin?.(epoch);
      model.train();
      if (opts.shuffle !== false) {
        for (let i = nTrain - 1; i > 0; i--) {
          const j = pick(i + 1);
          const tmp = idx[i];
          idx[i] = idx[j];
          idx[j] = tmp;
        }
      }
      const t0 = performance.now();
      let lossSum = 0;
      let hits = 0;
      for (let b = 0; b < batches; b++) {
        const start = b * batchSize;
        const end = Math.min(nTrain, start + batchSize);
        const xb = gather(xTrain, idx, start, end);
        const yb = gather(yTrain, idx, start, end);
        const pred = model.forward(xb);
        const loss = lossFn(pred, yb);
        const lv = loss.item();
        if (!Number.isFinite(lv)) {
          throw new Error(`fathom.fit: the loss became ${lv} at epoch ${epoch + 1}, batch ${b + 1}; lower the learning rate or check the data`);
        }
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        lossSum += lv * (end - start);
        if (withAcc) hits += noGrad(() => correct(pred, yb));
        sink?.batch(epoch, b + 1, batches, lossSum / end);
        await cb.onBatchEnd?.(b, { loss: lv, size: end - start });
        await tick();
      }
      const seconds = (performance.now() - t0) / 1000;
      trainSeconds += seconds;
      trainSamples += nTrain;
      const logs: Logs = { loss: lossSum / nTrain };
      if (withAcc) logs.accuracy = hits / nTrain;
      if (val) {
        const r = await evaluate(model, val[0], val[1], { batchSize: Math.max(batchSize, 256), loss: lossFn, accuracy: withAcc });
        logs.valLoss = r.loss;
        if (r.accuracy !== undefined) logs.valAccuracy = r.accuracy;
      }
      history.epochs.push(epoch);
      for (const [k, v] of Object.entries(logs)) {
        if (v === undefined) continue;
        const h = history.history as Record<string, number[]>;
        (h[k] ??= []).push(v);
      }
      sink?.epoch(epoch, epochs, logs as Record<string, number>, seconds, nTrain);
      const go = await cb.onEpochEnd?.(epoch, logs);
      if (go === false) break;
    }
  }
}

export async function evaluate(model: Module, x: Tensor, y: Tensor, opts: EvaluateOptions = {}): Promise<EvalResult> {
  const n = checkData('evaluate', x, y);
  const batchSize = checkBatch('evaluate', opts.batchSize ?? 256);
  // Default: the loss the model was last fitted with, else crossEntropy for int labels and mse otherwise.
  const fitted = lastFit.get(model);
  const lossFn = opts.loss !== undefined ? lossByName(opts.loss) : fitted?.loss ?? lossByName(y.dtype === 'int32' ? 'crossEntropy' : 'mse');
  const withAcc = opts.accuracy ?? (opts.loss !== undefined ? opts.loss === 'crossEntropy' : fitted?.accuracy ?? y.dtype === 'int32');
  const wasTraining = model.training;
  model.eval();
  let lossSum = 0;
  let hits = 0;
  try {
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const xb = rows(x, start, end);
      const yb = rows(y, start, end);
      noGrad(() => {
        const pred = model.forward(xb);
        lossSum += lossFn(pred, yb).item() * (end - start);
        if (withAcc) hits += correct(pred, yb);
      });
      await tick();
    }
  } finally {
    model.train(wasTraining);
  }
  return withAcc ? { loss: lossSum / n, accuracy: hits / n } : { loss: lossSum / n };
}

export function predict(model: Module, x: Tensor, opts: PredictOptions = {}): Tensor {
  if (!(x instanceof Tensor) || x.rank < 1) throw new Error('fathom.predict: x must be a Tensor with a batch dimension');
  const batchSize = checkBatch('predict', opts.batchSize ?? 256);
  const n = x.shape[0];
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => {
      if (n <= batchSize) {
        const y = model.forward(x);
        return y === x ? x.clone() : y; // never hand back the caller's own tensor
      }
      const parts: Tensor[] = [];
      for (let start = 0; start < n; start += batchSize) parts.push(model.forward(rows(x, start, Math.min(n, start + batchSize))));
      const per = sizeOf(parts[0].shape.slice(1));
      const out = new Float32Array(n * per);
      let at = 0;
      for (const p of parts) {
        out.set(p.data, at);
        at += p.size;
      }
      return new Tensor(out, [n, ...parts[0].shape.slice(1)]);
    });
  } finally {
    model.train(wasTraining);
  }
}
