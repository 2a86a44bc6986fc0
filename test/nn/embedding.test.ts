/**
 * embedding() and nn.Embedding: rows looked up for int32 indices of any shape, PyTorch's
 * N(0, 1) initialisation with a zero padding row, errors naming the index and value, and
 * the sparse-aware gradient (rows used only, none into paddingIdx, added straight into an
 * existing .grad buffer as zeroGrad leaves it), on both backends.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, type TensorInput, embedding, manualSeed, mul, nn, optim, randn, setBackend, sum, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));
const ints = (v: TensorInput) => tensor(v, { dtype: 'int32' });

describe('embedding (functional)', () => {
  it('indices of any shape → [..., D], each entry the row it names', () => {
    const w = tensor([[0, 1], [10, 11], [20, 21]]);
    const y = embedding(ints([[2, 0], [1, 1], [0, 2]]), w);
    expect(y.shape).toEqual([3, 2, 2]);
    expect([...y.data]).toEqual([20, 21, 0, 1, 10, 11, 10, 11, 0, 1, 20, 21]);
    const scalar = embedding(new Tensor(new Int32Array([1]), []), w);
    expect(scalar.shape).toEqual([2]);
    expect([...scalar.data]).toEqual([10, 11]);
    expect(embedding(new Tensor(new Int32Array(0), [0, 4]), w).shape).toEqual([0, 4, 2]);
  });

  it('errors name the op, the index position and its value', () => {
    const w = randn([5, 3]);
    expect(() => embedding(ints([1, 5, 2]), w)).toThrow('fathom.embedding: index 5 at position 1 of indices is out of range for 5 embeddings (expected an integer in [0, 4])');
    expect(() => embedding(ints([[0, 0], [-1, 0]]), w)).toThrow('fathom.embedding: index -1 at position 2 of indices');
    expect(() => embedding(tensor([1, 2]), w)).toThrow('fathom.embedding: indices must be an int32 Tensor, got float32 [2]');
    expect(() => embedding(ints([1]), randn([5]))).toThrow('fathom.embedding: weight must be a float32 [numEmbeddings, embeddingDim], got float32 [5]');
    expect(() => embedding(ints([1]), w, { paddingIdx: 5 })).toThrow('fathom.embedding: paddingIdx must be an integer in [-5, 4] (numEmbeddings = 5), got 5');
    expect(() => embedding(ints([1]), w, { padding: 1 } as never)).toThrow("fathom.embedding: unknown option 'padding'");
  });

  for (const b of backends) {
    it(`the gradient: repeats add up, unused and padding rows get none; accumulation into an existing .grad (${b})`, () => {
      setBackend(b);
      const w = randn([6, 2]).requireGrad();
      const idx = ints([[1, 3, 1], [0, 3, 5]]);
      const probe = tensor([[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]);
      const loss = () => sum(mul(embedding(idx, w, { paddingIdx: -1 }), probe)); // padding row 5
      loss().backward();
      // row 1: (1,2)+(5,6); row 3: (3,4)+(9,10); row 0: (7,8); rows 2, 4 unused; row 5 padding.
      const want = [7, 8, 6, 8, 0, 0, 12, 14, 0, 0, 0, 0];
      expect([...w.grad!.data]).toEqual(want);
      loss().backward(); // into the existing buffer: added
      expect([...w.grad!.data]).toEqual(want.map((v) => 2 * v));
      const opt = new optim.SGD([w], { lr: 0.1 });
      opt.zeroGrad(); // keeps the buffer, marked zero: the rule must clear it, not add to stale values
      const buf = w.grad;
      loss().backward();
      expect(w.grad).toBe(buf);
      expect([...w.grad!.data]).toEqual(want);
    });
  }
});

describe('nn.Embedding', () => {
  it('weight [V, D] ~ N(0, 1) with the padding row zero; forward; config', () => {
    manualSeed(1);
    const e = new nn.Embedding(500, 8, { paddingIdx: -2 });
    expect(e.paddingIdx).toBe(498);
    expect(Object.keys(e.stateDict())).toEqual(['weight']);
    const d = e.weight.f32();
    expect([...d.subarray(498 * 8, 499 * 8)]).toEqual(new Array(8).fill(0));
    const mean = d.reduce((a, v) => a + v, 0) / d.length;
    const std = Math.sqrt(d.reduce((a, v) => a + (v - mean) ** 2, 0) / d.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(std).toBeGreaterThan(0.95);
    expect(std).toBeLessThan(1.05);
    expect(e.forward(ints([[1, 498]])).shape).toEqual([1, 2, 8]);
    expect(e.config()).toEqual({ type: 'Embedding', numEmbeddings: 500, embeddingDim: 8, paddingIdx: 498 });
    expect(new nn.Embedding(3, 2).config()).toEqual({ type: 'Embedding', numEmbeddings: 3, embeddingDim: 2 });
    expect(String(e)).toBe('Embedding(numEmbeddings=500, embeddingDim=8, paddingIdx=498)');
  });

  it('errors name the layer', () => {
    const e = new nn.Embedding(4, 2);
    expect(() => e.forward(ints([0, 4]))).toThrow('fathom.Embedding: index 4 at position 1 of indices is out of range for 4 embeddings (expected an integer in [0, 3])');
    expect(() => e.forward(randn([2]))).toThrow('fathom.Embedding: expected int32 indices of any shape (values in [0, 3]), got float32 [2]');
    expect(() => new nn.Embedding(0, 2)).toThrow('fathom.Embedding: numEmbeddings must be a positive integer, got 0');
    expect(() => new nn.Embedding(4, 2, { paddingIdx: 1.5 })).toThrow('fathom.Embedding: paddingIdx must be an integer in [-4, 3]');
    expect(() => new nn.Embedding(4, 2, { padIdx: 1 } as never)).toThrow("fathom.Embedding: unknown option 'padIdx'");
  });

  it('the padding row stays zero through training; rows never looked up keep their values', () => {
    manualSeed(2);
    const e = new nn.Embedding(5, 3, { paddingIdx: 0 });
    const before = Float32Array.from(e.weight.data);
    const opt = new optim.SGD(e.parameters(), { lr: 0.5 });
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      sum(mul(e.forward(ints([[0, 1, 2], [2, 0, 0]])), 2)).backward();
      opt.step();
    }
    expect([...e.weight.data.subarray(0, 3)]).toEqual([0, 0, 0]);
    expect([...e.weight.data.subarray(9, 15)]).toEqual([...before.subarray(9, 15)]); // rows 3, 4
    expect([...e.weight.data.subarray(3, 6)]).not.toEqual([...before.subarray(3, 6)]);
  });
});
