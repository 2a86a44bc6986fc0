/**
 * `fathom train --dataset names | spam | smnist` (--model lstm | gru | rnn):
 * the sequence tasks of issue #11, trained with fit() on a RecurrentNet
 * (seqmodels.ts).
 *
 *   names   character-level language model on data.names(): logits at every
 *           step, the masked cross-entropy (padding left out) as fit's loss;
 *           reports the validation cross-entropy in nats per character next
 *           to data.bigramBaseline on the same split. --save stores the
 *           character vocabulary in the file's metadata for `fathom sample`.
 *   spam    ham / spam on data.spamAssassin() tokens, the final state at each
 *           mail's length → 2 classes; test accuracy and F1 of spam.
 *   smnist  data.sequentialMnist(): 28 rows of 28 pixels, the last state → 10; test accuracy.
 */
import type { TrainOptions } from './args.js';
import type { Tensor } from '../tensor/tensor.js';
import type { TrainResult } from './train.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { LRSchedulerLike } from '../models/training.js';
import type { Cell } from './seqmodels.js';

type Fathom = typeof import('../index.js');

/** The metadata key of the character vocabulary in a saved names model. */
export const VOCABULARY_KEY = 'fathom.cli.vocabulary';

/** What `fathom sample` needs besides the weights (stored as JSON under VOCABULARY_KEY). */
export interface CharVocabularyMeta {
  /** The characters of indices 3, 4, …: PAD 0, BOS 1 and EOS 2 come first (data.CharVocabulary). */
  chars: string;
  /** T, the steps of the training rows: a sampled name has at most T − 1 characters. */
  maxLength: number;
}

interface SeqData {
  xTrain: Tensor;
  yTrain: Tensor;
  xTest: Tensor;
  yTest: Tensor;
  vocabSize: number | null;
  inputSize: number;
  outputs: number;
  describe: string;
  /** names: the bigram baseline on the same split, and what --save stores. */
  baseline?: number;
  vocabulary?: CharVocabularyMeta;
}

const rowsOf = (f: Fathom, t: Tensor, n: number | undefined): Tensor => {
  if (n === undefined || n >= t.shape[0]) return t;
  const per = t.shape.slice(1).reduce((a, b) => a * b, 1);
  return new f.Tensor(t.data.slice(0, n * per), [n, ...t.shape.slice(1)]);
};

async function load(f: Fathom, o: TrainOptions): Promise<SeqData> {
  const t0 = performance.now();
  const secs = () => `${((performance.now() - t0) / 1000).toFixed(1)} s to load`;
  switch (o.dataset) {
    case 'names': {
      const ds = await f.data.names({ seed: o.seed, validationSplit: o.validationSplit });
      const trainNames = o.train !== undefined ? ds.train.names.slice(0, o.train) : ds.train.names;
      const valNames = o.test !== undefined ? ds.validation.names.slice(0, o.test) : ds.validation.names;
      const baseline = f.data.bigramBaseline(trainNames, valNames, { vocabulary: ds.vocabulary });
      return {
        xTrain: rowsOf(f, ds.train.inputs, o.train), yTrain: rowsOf(f, ds.train.targets, o.train),
        xTest: rowsOf(f, ds.validation.inputs, o.test), yTest: rowsOf(f, ds.validation.targets, o.test),
        vocabSize: ds.vocabulary.size, inputSize: o.embedding!, outputs: ds.vocabulary.size, baseline,
        vocabulary: { chars: ds.vocabulary.chars.join(''), maxLength: ds.maxLength },
        describe: `names: ${trainNames.length} training and ${valNames.length} validation names (split by seed ${o.seed}), ` +
          `${ds.vocabulary.chars.length} characters + PAD, BOS, EOS, T = ${ds.maxLength} (${secs()})`,
      };
    }
    case 'spam': {
      const ds = await f.data.spamAssassin({ seed: o.seed });
      const xTrain = rowsOf(f, ds.train.x, o.train), xTest = rowsOf(f, ds.test.x, o.test);
      return {
        xTrain, yTrain: rowsOf(f, ds.train.y, o.train), xTest, yTest: rowsOf(f, ds.test.y, o.test),
        vocabSize: ds.vocabulary.size, inputSize: o.embedding!, outputs: 2,
        describe: `spam: SpamAssassin, ${xTrain.shape[0]} training and ${xTest.shape[0]} test mails (split by seed ${o.seed}), ` +
          `vocabulary ${ds.vocabulary.size} words, first ${ds.maxTokens} tokens (${secs()})`,
      };
    }
    default: {
      const ds = await f.data.sequentialMnist({ ...(o.train !== undefined ? { train: o.train } : {}), ...(o.test !== undefined ? { test: o.test } : {}) });
      return {
        xTrain: ds.train.x, yTrain: ds.train.y, xTest: ds.test.x, yTest: ds.test.y, vocabSize: null, inputSize: ds.features, outputs: ds.classes,
        describe: `smnist: MNIST read row by row, ${ds.train.x.shape[0]} training and ${ds.test.x.shape[0]} test digits as 28 steps of 28 pixels (${secs()})`,
      };
    }
  }
}

export interface SequenceHooks {
  optimizer: (f: Fathom, o: TrainOptions, params: Tensor[]) => Optimizer;
  scheduler: (f: Fathom, opt: Optimizer, steps: number) => { s: LRSchedulerLike; perBatch: boolean } | null;
}

export async function trainSequence(f: Fathom, o: TrainOptions, hooks: SequenceHooks): Promise<TrainResult> {
  const { RecurrentNet, maskedCrossEntropy } = await import('./seqmodels.js');
  const d = await load(f, o);
  console.log(d.describe);
  f.manualSeed(o.seed);
  const lm = o.dataset === 'names';
  const numLayers = o.hidden.length;
  const model = new RecurrentNet({
    cell: o.model as Cell, vocabSize: d.vocabSize, inputSize: d.inputSize, hiddenSize: o.hidden[0], numLayers,
    dropout: o.dropout, outputs: d.outputs, perStep: lm,
  });
  const parameters = model.parameters().reduce((a, t) => a + t.size, 0);
  const opt = hooks.optimizer(f, o, model.parameters());
  // names validates on its own split (the bigram baseline's); spam and smnist hold out the last training rows.
  const split = lm ? 0 : o.validationSplit;
  const steps = Math.ceil(Math.floor(d.xTrain.shape[0] * (1 - split)) / o.batchSize);
  const sched = hooks.scheduler(f, opt, steps);
  const layer = { lstm: 'LSTM', gru: 'GRU', rnn: 'RNN' }[o.model as Cell];
  const arch = `${d.vocabSize !== null ? `Embedding ${d.vocabSize}x${d.inputSize} → ` : ''}${layer} ${d.inputSize}-${o.hidden.join('-')}` +
    `${lm ? ' → Linear at every step' : d.vocabSize !== null ? ' → state at each length → Linear' : ' → last state → Linear'} ${o.hidden[0]}-${d.outputs}`;
  console.log(
    `model: ${arch} (${parameters.toLocaleString('en-US')} parameters)${o.dropout > 0 ? ` · dropout ${o.dropout}` : ''} · ${o.optimizer} lr ${o.lr}` +
    `${o.schedule !== 'none' ? ` ${o.schedule}` : ''}${o.clip !== undefined ? ` · clip norm ${o.clip}` : ''} · batch ${o.batchSize} · ${o.epochs} epoch${o.epochs === 1 ? '' : 's'}`,
  );
  const callbacks = o.earlyStopping !== undefined
    ? [new f.callbacks.EarlyStopping({ monitor: 'valLoss', patience: o.earlyStopping, restoreBestWeights: true })]
    : [];
  const t0 = performance.now();
  const history = await model.fit(d.xTrain, d.yTrain, {
    loss: lm ? maskedCrossEntropy : 'crossEntropy', optimizer: opt, epochs: o.epochs, batchSize: o.batchSize, seed: o.seed, callbacks,
    ...(lm ? { validationData: [d.xTest, d.yTest] as [Tensor, Tensor] } : { validationSplit: split }),
    ...(o.clip !== undefined ? { clipGradNorm: o.clip } : {}),
    ...(sched ? { lrScheduler: sched.s, lrSchedulerInterval: sched.perBatch ? 'batch' as const : 'epoch' as const } : {}),
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const result: TrainResult = { epochs: history.epochs.length, trainSeconds };
  if (result.epochs < o.epochs) console.log(`early stopping after ${result.epochs} epochs; the weights of the epoch with the lowest validation loss were restored`);
  model.eval();
  if (lm) {
    // The exact mean over every validation character (fit's valLoss weights each batch by its names, not its characters).
    const ce = f.noGrad(() => maskedCrossEntropy(model.forward(d.xTest), d.yTest)).item();
    const trainCe = f.noGrad(() => maskedCrossEntropy(model.forward(rowsOf(f, d.xTrain, 2000)), rowsOf(f, d.yTrain, 2000))).item();
    Object.assign(result, { validationCrossEntropy: ce, bigramBaseline: d.baseline, trainCrossEntropy: trainCe });
    console.log(`validation cross-entropy ${ce.toFixed(4)} nats per character (bigram baseline on the same split ${d.baseline!.toFixed(4)}; ` +
      `uniform ${Math.log(d.outputs - 2).toFixed(4)}) · training ${trainCe.toFixed(4)} (first ${Math.min(2000, d.xTrain.shape[0])} names)`);
  } else {
    const logits = await model.predict(d.xTest, { batchSize: 256 });
    const accuracy = f.metrics.accuracy(logits, d.yTest);
    result.testAccuracy = accuracy;
    let line = `test accuracy ${(accuracy * 100).toFixed(2)}%`;
    if (o.dataset === 'spam') {
      result.testF1 = f.metrics.f1(logits, d.yTest, { average: 'binary' });
      line += ` · F1 (spam) ${result.testF1.toFixed(4)}`;
    }
    console.log(line);
  }
  console.log(`training ${trainSeconds.toFixed(2)} s · throughput ${Math.round(history.samplesPerSecond)} samples/s`);
  if (o.plot !== undefined) {
    const plot = await import('../plot/index.js');
    await plot.learningCurves(history, { path: o.plot, title: `fathom train --dataset ${o.dataset}: ${arch}` });
    console.log(`learning curves drawn to ${o.plot}`);
  }
  if (o.save !== undefined) {
    await f.save(model, o.save);
    if (d.vocabulary) await addMetadata(o.save, { [VOCABULARY_KEY]: JSON.stringify(d.vocabulary) });
    console.log(`saved to ${o.save}${d.vocabulary ? ' (with its character vocabulary, for fathom sample)' : ''}`);
  }
  return result;
}

/** Rewrites a saved model with more metadata entries (the tensors and fathom's own entries unchanged; atomic). */
async function addMetadata(path: string, extra: Record<string, string>): Promise<void> {
  const { loadSafetensors, saveSafetensors } = await import('../io/safetensors.js');
  const file = await loadSafetensors(path);
  await saveSafetensors(path, file.tensors, { ...file.metadata, ...extra });
}
