import { afterEach, describe, expect, it, vi } from 'vitest';
import { padSequences } from '../../lib/data/sequence.js';

const rows = (x: { data: ArrayLike<number>; shape: readonly number[] }): number[][] => {
  const [n, t] = x.shape;
  return Array.from({ length: n }, (_, i) => Array.from(x.data).slice(i * t, (i + 1) * t));
};

describe('padSequences: the known answers of Keras\'s pad_sequences docstring', () => {
  // keras.utils.pad_sequences: sequence = [[1], [2, 3], [4, 5, 6]]; Keras defaults to 'pre' padding and truncation.
  const sequence = [[1], [2, 3], [4, 5, 6]];
  it("pad_sequences(sequence) → [[0, 0, 1], [0, 2, 3], [4, 5, 6]] (padding: 'pre')", () => {
    const { x, lengths } = padSequences(sequence, { padding: 'pre', truncating: 'pre' });
    expect(x.dtype).toBe('int32');
    expect(x.shape).toEqual([3, 3]);
    expect(rows(x)).toEqual([[0, 0, 1], [0, 2, 3], [4, 5, 6]]);
    expect([...lengths]).toEqual([1, 2, 3]);
  });
  it("value=-1 → [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]]", () => {
    expect(rows(padSequences(sequence, { padding: 'pre', value: -1 }).x)).toEqual([[-1, -1, 1], [-1, 2, 3], [4, 5, 6]]);
  });
  it("padding='post' → [[1, 0, 0], [2, 3, 0], [4, 5, 6]] (fathom's default)", () => {
    expect(rows(padSequences(sequence, { padding: 'post' }).x)).toEqual([[1, 0, 0], [2, 3, 0], [4, 5, 6]]);
    expect(rows(padSequences(sequence).x)).toEqual([[1, 0, 0], [2, 3, 0], [4, 5, 6]]);
  });
  it("maxlen=2 → [[0, 1], [2, 3], [5, 6]] (truncating 'pre' drops the first values)", () => {
    const { x, lengths } = padSequences(sequence, { maxLength: 2, padding: 'pre', truncating: 'pre' });
    expect(rows(x)).toEqual([[0, 1], [2, 3], [5, 6]]);
    expect([...lengths]).toEqual([1, 2, 2]);
  });
});

describe('padSequences: fathom defaults and edges', () => {
  it("truncating 'post' (default) keeps the first maxLength values", () => {
    const { x, lengths } = padSequences([[4, 5, 6, 7], [8]], { maxLength: 2 });
    expect(rows(x)).toEqual([[4, 5], [8, 0]]);
    expect([...lengths]).toEqual([2, 1]);
  });
  it('pads to maxLength beyond the longest, takes typed arrays and empty sequences', () => {
    const { x, lengths } = padSequences([Int32Array.of(7, 8), [], new Int32Array(0)], { maxLength: 4, value: 9 });
    expect(rows(x)).toEqual([[7, 8, 9, 9], [9, 9, 9, 9], [9, 9, 9, 9]]);
    expect([...lengths]).toEqual([2, 0, 0]);
  });
  it('no sequences: [0, maxLength]; maxLength 0: [N, 0]', () => {
    expect(padSequences([]).x.shape).toEqual([0, 0]);
    expect(padSequences([], { maxLength: 5 }).x.shape).toEqual([0, 5]);
    const z = padSequences([[1, 2], [3]], { maxLength: 0 });
    expect(z.x.shape).toEqual([2, 0]);
    expect([...z.lengths]).toEqual([0, 0]);
  });
  it('refuses bad values and options, naming them', () => {
    expect(() => padSequences([[1, 2.5]])).toThrow('fathom.data.padSequences: sequences[0][1] must be an int32 integer, got 2.5');
    expect(() => padSequences([[1], [2 ** 31]])).toThrow('sequences[1][0] must be an int32 integer, got 2147483648');
    expect(() => padSequences([[1], 3 as unknown as number[]])).toThrow('sequences[1] must be an array of integers, got 3');
    expect(() => padSequences('abc' as unknown as number[][])).toThrow('fathom.data.padSequences: sequences must be an array');
    expect(() => padSequences([[1]], { padding: 'middle' as 'pre' })).toThrow(`options.padding must be 'pre' or 'post', got "middle"`);
    expect(() => padSequences([[1]], { truncating: 'both' as 'pre' })).toThrow(`options.truncating must be 'pre' or 'post', got "both"`);
    expect(() => padSequences([[1]], { maxLength: -1 })).toThrow('options.maxLength must be a non-negative integer, got -1');
    expect(() => padSequences([[1]], { value: 0.5 })).toThrow('options.value must be an int32 integer, got 0.5');
    expect(() => padSequences([[1]], { maxlen: 3 } as never)).toThrow("unknown option 'maxlen' (did you mean 'maxLength'?)");
  });
});

describe('sequentialMnist: a [N, 28, 28] view of the loader\'s arrays', () => {
  afterEach(() => {
    vi.doUnmock('../../lib/data/mnist.js');
    vi.resetModules();
  });

  it('wraps the same Float32Array (no copy): step r of sample i is row r of image i', async () => {
    const n = 3;
    const images = Float32Array.from({ length: n * 784 }, (_, k) => k / (n * 784));
    const labels = Int32Array.of(5, 0, 4);
    const test = { images: new Float32Array(2 * 784), labels: Int32Array.of(7, 2), n: 2 };
    vi.resetModules();
    vi.doMock('../../lib/data/mnist.js', async (orig) => ({
      ...(await orig<typeof import('../../lib/data/mnist.js')>()),
      mnist: vi.fn(async () => ({ train: { images, labels, n }, test, rows: 28, cols: 28, classes: 10 })),
    }));
    const { sequentialMnist } = await import('../../lib/data/sequence.js');
    const s = await sequentialMnist({ train: n, test: 2 });
    expect(s.train.x.data).toBe(images); // the loader's array itself
    expect(s.train.y.data).toBe(labels);
    expect(s.train.x.shape).toEqual([3, 28, 28]);
    expect(s.test.x.shape).toEqual([2, 28, 28]);
    expect([s.steps, s.features, s.classes]).toEqual([28, 28, 10]);
    const x = s.train.x.data;
    // x[i, r, c] sits at (i·28 + r)·28 + c, which is pixel r·28 + c of image i.
    for (const [i, r, c] of [[0, 0, 0], [1, 13, 27], [2, 27, 5]]) expect(x[(i * 28 + r) * 28 + c]).toBe(images[i * 784 + r * 28 + c]);
  });

  it('loads the real digits (first 50 training, 10 test) and matches data.mnist', async () => {
    const { sequentialMnist } = await import('../../lib/data/sequence.js');
    const { mnist } = await import('../../lib/data/index.js');
    const s = await sequentialMnist({ train: 50, test: 10 });
    const m = await mnist({ train: 50, test: 10 });
    expect(s.train.x.shape).toEqual([50, 28, 28]);
    expect(Array.from(s.train.x.data)).toEqual(Array.from(m.train.x.data));
    expect([...s.test.y.data.subarray(0, 5)]).toEqual([7, 2, 1, 0, 4]);
  });
});
