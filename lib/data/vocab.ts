/**
 * A word vocabulary for Embedding layers: token ↔ index, fitted on the
 * training documents only (Keras's TextVectorization / Tokenizer, torchtext's
 * build_vocab_from_iterator). Index 0 is PAD ('') and 1 is UNK ('[UNK]'), as
 * TextVectorization's vocabulary; the words follow by decreasing count in the
 * fitted documents, ties by code-unit order of the word (so the result does not
 * depend on the order of the documents).
 */
import { show } from '../layers/options.js';
import { indexList, iterableArg } from './args.js';
import type { Tensor } from '../tensor/tensor.js';

export interface VocabularyOptions {
  /**
   * The most entries kept, PAD and UNK included (TextVectorization's max_tokens),
   * so at most maxSize − 2 words; default: every word seen. At least 2.
   */
  maxSize?: number;
  /** Words seen fewer times are left out (torchtext's min_freq; default 1). */
  minCount?: number;
}

export class Vocabulary {
  /** The index of padding, '' in `tokens`. */
  static readonly PAD = 0;
  /** The index of every unknown word, '[UNK]' in `tokens`. */
  static readonly UNK = 1;
  static readonly PAD_TOKEN = '';
  static readonly UNK_TOKEN = '[UNK]';

  private index = new Map<string, number>();
  private list: string[] = [Vocabulary.PAD_TOKEN, Vocabulary.UNK_TOKEN];
  /** The count of each kept word in the fitted documents, by index (0 for PAD and UNK). */
  counts: number[] = [0, 0];

  /**
   * An empty vocabulary (PAD and UNK only); `fit` fills it, or
   * `Vocabulary.fromTokens` rebuilds a saved one.
   */
  constructor(private readonly options: VocabularyOptions = {}) {
    const op = 'data.Vocabulary';
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new Error(`fathom.${op}: options must be an object { maxSize?, minCount? } (or omitted), got ${show(options)}`);
    }
    const unknown = Object.keys(options).filter((k) => k !== 'maxSize' && k !== 'minCount');
    if (unknown.length) throw new Error(`fathom.${op}: unknown option '${unknown[0]}'; known options: maxSize, minCount`);
    const { maxSize, minCount } = options;
    if (maxSize !== undefined && (!Number.isSafeInteger(maxSize) || maxSize < 2)) {
      throw new Error(`fathom.${op}: options.maxSize must be an integer >= 2 (PAD and UNK count), got ${show(maxSize)}`);
    }
    if (minCount !== undefined && (!Number.isSafeInteger(minCount) || minCount < 1)) {
      throw new Error(`fathom.${op}: options.minCount must be an integer >= 1, got ${show(minCount)}`);
    }
  }

  /** The number of entries, PAD and UNK included: the numEmbeddings of an Embedding. */
  get size(): number {
    return this.list.length;
  }

  /** The tokens by index: '' (PAD), '[UNK]', then the words. */
  get tokens(): readonly string[] {
    return this.list;
  }

  /**
   * Counts the words of tokenised documents (the training split only) and keeps
   * the most frequent ones; replaces what an earlier fit kept.
   * @param documents each a list of tokens (see data.tokenize).
   * @returns this
   */
  fit(documents: Iterable<readonly string[]>): this {
    const count = new Map<string, number>();
    let d = 0;
    for (const doc of iterableArg<unknown>('data.Vocabulary.fit', 'documents', documents, 'an iterable of token arrays (e.g. [["a", "b"], ["c"]])')) {
      if (!Array.isArray(doc)) throw new Error(`fathom.data.Vocabulary.fit: documents[${d}] must be an array of tokens (strings), got ${show(doc)}`);
      for (const w of doc) {
        if (typeof w !== 'string') throw new Error(`fathom.data.Vocabulary.fit: documents[${d}] holds ${show(w)}, expected strings`);
        count.set(w, (count.get(w) ?? 0) + 1);
      }
      d++;
    }
    return this.keep(count);
  }

  /**
   * A vocabulary from word counts (torchtext's vocab(ordered_dict)), kept as
   * fit keeps them: PAD, UNK, then by decreasing count, ties by code-unit order.
   * @param counts [word, count] pairs (a Map works), each word once, counts >= 0.
   */
  static fromCounts(counts: Iterable<readonly [string, number]>, options?: VocabularyOptions): Vocabulary {
    const v = new Vocabulary(options);
    const m = new Map<string, number>();
    for (const pair of iterableArg<unknown>('data.Vocabulary.fromCounts', 'counts', counts, 'an iterable of [word, count] pairs (a Map, or Object.entries(record))')) {
      if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`fathom.data.Vocabulary.fromCounts: expected [word, count >= 0] pairs, got ${show(pair)}`);
      const [w, c] = pair as [unknown, unknown];
      if (typeof w !== 'string' || typeof c !== 'number' || !(Number.isFinite(c) && c >= 0)) {
        throw new Error(`fathom.data.Vocabulary.fromCounts: expected [word, count >= 0] pairs, got [${show(w)}, ${show(c)}]`);
      }
      if (m.has(w)) throw new Error(`fathom.data.Vocabulary.fromCounts: the word ${show(w)} is counted twice`);
      m.set(w, c);
    }
    return v.keep(m);
  }

  private keep(count: Map<string, number>): this {
    count.delete(Vocabulary.PAD_TOKEN);
    count.delete(Vocabulary.UNK_TOKEN);
    let minCount = this.options.minCount ?? 1;
    const room = this.options.maxSize === undefined ? Infinity : this.options.maxSize - 2;
    if (count.size > room) {
      // Only words counted at least as often as the room-th most frequent can be kept:
      // a numeric sort finds that count, so the string-comparing sort below sees few words.
      const c = Float64Array.from(count.values()).sort();
      minCount = Math.max(minCount, room === 0 ? Infinity : c[c.length - room]);
    }
    const words = [...count].filter(([, c]) => c >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const keep = this.options.maxSize === undefined ? words.length : Math.min(words.length, this.options.maxSize - 2);
    this.setTokens(words.slice(0, keep).map(([w]) => w));
    this.counts = [0, 0, ...words.slice(0, keep).map(([, c]) => c)];
    return this;
  }

  private setTokens(words: readonly string[]): void {
    this.list = [Vocabulary.PAD_TOKEN, Vocabulary.UNK_TOKEN, ...words];
    this.index = new Map(this.list.map((w, i) => [w, i]));
    this.index.delete(Vocabulary.PAD_TOKEN); // '' encodes as UNK, never as padding
  }

  /** The index of a token, UNK (1) for one not in the vocabulary. */
  indexOf(token: string): number {
    if (typeof token !== 'string') throw new Error(`fathom.data.Vocabulary.indexOf: token must be a string, got ${show(token)}`);
    return this.index.get(token) ?? Vocabulary.UNK;
  }

  /** Tokens → int32 indices (UNK = 1 for unknown words). */
  encode(tokens: readonly string[]): Int32Array {
    if (!Array.isArray(tokens)) throw new Error(`fathom.data.Vocabulary.encode: expected an array of tokens (strings), got ${show(tokens)}`);
    const out = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      if (typeof tokens[i] !== 'string') throw new Error(`fathom.data.Vocabulary.encode: tokens[${i}] must be a string, got ${show(tokens[i])}`);
      out[i] = this.indexOf(tokens[i]);
    }
    return out;
  }

  /**
   * Indices → tokens, PAD (0) left out, UNK as '[UNK]'.
   * @param indices an int32 Tensor (read in order, e.g. argmax's output), an array or an integer typed array.
   * @throws for an index outside [0, size), or indices of another kind (a float32 Tensor, null).
   */
  decode(indices: Tensor | ArrayLike<number>): string[] {
    indices = indexList('data.Vocabulary.decode', indices);
    const out: string[] = [];
    for (let i = 0; i < indices.length; i++) {
      const k = indices[i];
      if (!Number.isInteger(k) || k < 0 || k >= this.list.length) {
        throw new Error(`fathom.data.Vocabulary.decode: indices[${i}] must be an integer in [0, ${this.list.length}), got ${show(k)}`);
      }
      if (k !== Vocabulary.PAD) out.push(this.list[k]);
    }
    return out;
  }

  /** The tokens by index, for saving (Vocabulary.fromTokens rebuilds it). */
  toJSON(): string[] {
    return [...this.list];
  }

  /**
   * A vocabulary from a saved token list (toJSON's): '' and '[UNK]' first, then distinct words.
   * @throws for a list that does not start with '' and '[UNK]' or repeats a word.
   */
  static fromTokens(tokens: readonly string[]): Vocabulary {
    if (!Array.isArray(tokens) || tokens[0] !== Vocabulary.PAD_TOKEN || tokens[1] !== Vocabulary.UNK_TOKEN) {
      throw new Error(`fathom.data.Vocabulary.fromTokens: expected a token list starting with '' (PAD) and '[UNK]', got ${show(tokens)}`);
    }
    const words = tokens.slice(2);
    const seen = new Set<string>();
    words.forEach((w, i) => {
      if (typeof w !== 'string' || w === '' || w === Vocabulary.UNK_TOKEN) {
        throw new Error(`fathom.data.Vocabulary.fromTokens: tokens[${i + 2}] must be a word (a non-empty string other than '[UNK]'), got ${show(w)}`);
      }
      if (seen.has(w)) throw new Error(`fathom.data.Vocabulary.fromTokens: tokens[${i + 2}] repeats the word ${show(w)}`);
      seen.add(w);
    });
    const v = new Vocabulary();
    v.setTokens(words);
    v.counts = new Array<number>(tokens.length).fill(0);
    return v;
  }
}
