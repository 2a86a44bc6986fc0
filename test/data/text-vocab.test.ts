import { describe, expect, it } from 'vitest';
import { emailText, tokenize } from '../../lib/data/text.js';
import { Vocabulary } from '../../lib/data/vocab.js';

describe('tokenize: lower-cased words', () => {
  it('keeps runs of letters and digits, inner apostrophes; drops punctuation', () => {
    expect(tokenize("Don't miss: 100% FREE!")).toEqual(["don't", 'miss', '100', 'free']);
    expect(tokenize('e-mail me@example.com, now!!!')).toEqual(['e', 'mail', 'me', 'example', 'com', 'now']);
    expect(tokenize("'quoted' it's")).toEqual(['quoted', "it's"]);
    expect(tokenize('Größe Ça 東京 x2')).toEqual(['größe', 'ça', '東京', 'x2']);
    expect(tokenize('  ...  ')).toEqual([]);
    expect(tokenize('')).toEqual([]);
  });
  it('refuses a non-string', () => {
    expect(() => tokenize(5 as unknown as string)).toThrow('fathom.data.tokenize: expected a string, got 5');
  });
});

describe('emailText: Subject and body, no routing headers', () => {
  it('keeps the Subject (folded lines joined) and the body after the first blank line', () => {
    const msg = 'From a@b.c Thu Aug 22 2002\nReceived: from listman.example.org\n  by host\nSubject: Cheap\n   meds now\nTo: x@y.z\n\nHello there.\n\nSecond paragraph.\n';
    expect(emailText(msg)).toBe('Cheap meds now\nHello there.\n\nSecond paragraph.\n');
  });
  it('handles CRLF, a missing Subject, and a message with no body', () => {
    expect(emailText('To: a\r\nSUBJECT: Hi\r\n\r\nbody')).toBe('Hi\nbody');
    expect(emailText('To: a\nFrom: b\n\nonly body')).toBe('only body');
    expect(emailText('Subject: just a subject\nTo: a')).toBe('just a subject\n');
    expect(tokenize(emailText('Received: from listman.spamassassin.taint.org\nSubject: Re: hi\n\nok'))).toEqual(['re', 'hi', 'ok']);
  });
});

describe('Vocabulary: fitted on documents, PAD 0, UNK 1', () => {
  const docs = [['b', 'a', 'c', 'a'], ['c', 'a', 'd'], ['b']];
  // counts: a 3, b 2, c 2, d 1 → a, then b before c (tie, code-unit order), then d.

  it('orders by count, ties by word; index 0 is "" and 1 is "[UNK]"', () => {
    const v = new Vocabulary().fit(docs);
    expect(v.tokens).toEqual(['', '[UNK]', 'a', 'b', 'c', 'd']);
    expect(v.size).toBe(6);
    expect(v.counts).toEqual([0, 0, 3, 2, 2, 1]);
    expect([Vocabulary.PAD, Vocabulary.UNK]).toEqual([0, 1]);
  });
  it('does not depend on the order of the documents', () => {
    expect(new Vocabulary().fit([...docs].reverse()).tokens).toEqual(new Vocabulary().fit(docs).tokens);
  });
  it('maxSize counts PAD and UNK; minCount drops rare words', () => {
    expect(new Vocabulary({ maxSize: 4 }).fit(docs).tokens).toEqual(['', '[UNK]', 'a', 'b']);
    expect(new Vocabulary({ maxSize: 2 }).fit(docs).tokens).toEqual(['', '[UNK]']);
    expect(new Vocabulary({ minCount: 2 }).fit(docs).tokens).toEqual(['', '[UNK]', 'a', 'b', 'c']);
  });
  it('encodes unknown words as UNK; decodes without PAD', () => {
    const v = new Vocabulary({ maxSize: 4 }).fit(docs);
    const ids = v.encode(['a', 'c', 'zzz', 'b', '']);
    expect(ids).toBeInstanceOf(Int32Array);
    expect([...ids]).toEqual([2, 1, 1, 3, 1]);
    expect(v.decode([2, 0, 1, 3, 0])).toEqual(['a', '[UNK]', 'b']);
    expect(v.indexOf('[UNK]')).toBe(1);
    expect(() => v.decode([4])).toThrow('fathom.data.Vocabulary.decode: indices[0] must be an integer in [0, 4), got 4');
  });
  it('a refit replaces the words; fromTokens and fromCounts rebuild the same vocabulary', () => {
    const v = new Vocabulary().fit([['x', 'y', 'y']]);
    expect(v.tokens).toEqual(['', '[UNK]', 'y', 'x']);
    v.fit(docs);
    expect(v.indexOf('x')).toBe(1);
    const w = Vocabulary.fromTokens(v.toJSON());
    expect(w.tokens).toEqual(v.tokens);
    expect([...w.encode(['d', 'a', 'q'])]).toEqual([...v.encode(['d', 'a', 'q'])]);
    const c = Vocabulary.fromCounts(new Map([['a', 3], ['d', 1], ['c', 2], ['b', 2], ['e', 0]]), { maxSize: 5 });
    expect(c.tokens).toEqual(['', '[UNK]', 'a', 'b', 'c']);
  });
  it('refuses bad input with the argument named', () => {
    expect(() => new Vocabulary({ maxSize: 1 })).toThrow('fathom.data.Vocabulary: options.maxSize must be an integer >= 2 (PAD and UNK count), got 1');
    expect(() => new Vocabulary({ minCount: 0 })).toThrow('options.minCount must be an integer >= 1, got 0');
    expect(() => new Vocabulary({ size: 3 } as never)).toThrow("unknown option 'size'");
    expect(() => new Vocabulary().fit([['a'], 'b c' as unknown as string[]])).toThrow('fathom.data.Vocabulary.fit: documents[1] must be an array of tokens');
    expect(() => new Vocabulary().fit([['a', 3 as unknown as string]])).toThrow('documents[0] holds 3, expected strings');
    expect(() => Vocabulary.fromTokens(['a', 'b'])).toThrow("fathom.data.Vocabulary.fromTokens: expected a token list starting with '' (PAD) and '[UNK]'");
    expect(() => Vocabulary.fromTokens(['', '[UNK]', 'a', 'a'])).toThrow('tokens[3] repeats the word "a"');
    expect(() => Vocabulary.fromCounts([['a', -1]])).toThrow('expected [word, count >= 0] pairs, got ["a", -1]');
    expect(() => Vocabulary.fromCounts([['a', 1], ['a', 2]])).toThrow('the word "a" is counted twice');
  });
});
