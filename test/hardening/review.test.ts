// Siblings of issue 8's faults found by the final review (a QA pass over the merged work),
// each on both backends.
import { describe, expect, it } from 'vitest';
import { full, logSoftmax, nn, ones, setBackend, softmax, tensor, Tensor, zeros } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const detached = (t: Tensor): Tensor => {
  structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });
  return t;
};

for (const b of backends) {
  describe(`review fixes (${b} backend)`, () => {
    const use = () => setBackend(b);

    it('predict on empty rows beside a huge batch returns at once; fit/evaluate refuse samples without values', async () => {
      use();
      const m = new nn.Sequential(new nn.ReLU());
      expect(m.predict(zeros([2 ** 31, 0])).shape).toEqual([2 ** 31, 0]);
      await expect(m.evaluate(zeros([2 ** 40, 0]), zeros([2 ** 40, 0]), { loss: 'mse' }))
        .rejects.toThrow(/^fathom.evaluate: the samples hold no values \(x \[1099511627776, 0\], y \[1099511627776, 0\]\)/);
      const lin = new nn.Sequential(new nn.Linear(2, 1));
      await expect(lin.fit(zeros([2 ** 40, 0]), zeros([2 ** 40, 0]), { loss: 'mse' })).rejects.toThrow(/^fathom.fit: the samples hold no values/);
    });

    it('toArray refuses to build billions of nested arrays', () => {
      use();
      expect(() => zeros([2 ** 31, 0]).toArray()).toThrow(/^fathom.toArray: a tensor of shape \[2147483648, 0\] would need 2147483649 nested JS arrays/);
      expect(zeros([3, 0]).toArray()).toEqual([[], [], []]);
    });

    it('softmax / logSoftmax / nn.Softmax refuse an axis other than the last instead of ignoring it', () => {
      use();
      const x = tensor([[1, 2], [3, 5]]);
      expect(() => softmax(x, 0)).toThrow(/^fathom.softmax: only the last axis is supported \(axis -1 or 1\), got axis 0 of shape \[2, 2\]/);
      expect(() => logSoftmax(x, 'foo' as never)).toThrow(/^fathom.logSoftmax: axis must be an integer, got "foo"/);
      expect(() => new nn.Softmax(0)).toThrow(/^fathom.Softmax: only the last axis \(-1\) is supported/);
      expect([...softmax(x, -1).data]).toEqual([...softmax(x).data]);
      expect([...x.softmax(1).data]).toEqual([...softmax(x).data]);
      expect(new nn.LogSoftmax(-1).forward(x).shape).toEqual([2, 2]);
    });

    it('loadStateDict checks every entry before copying any', () => {
      use();
      const m = new nn.Sequential(new nn.Linear(2, 2), new nn.Linear(2, 1));
      const before = m.namedParameters().map(([, t]) => [...t.data]);
      const bad: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(m.stateDict())) bad[k] = full(t.shape, 7);
      bad['1.weight'] = zeros([3, 3]);
      expect(() => m.loadStateDict(bad)).toThrow(/parameter '1.weight' has shape \[1, 2\], the state dict has \[3, 3\]/);
      expect(m.namedParameters().map(([, t]) => [...t.data])).toEqual(before);
      bad['1.weight'] = detached(full([1, 2], 7));
      expect(() => m.loadStateDict(bad)).toThrow(/^fathom.loadStateDict: '1.weight' has lost its storage/);
      expect(m.namedParameters().map(([, t]) => [...t.data])).toEqual(before);
    });

    it('fit / evaluate / predict name a transferred x or y', async () => {
      use();
      const m = new nn.Sequential(new nn.Linear(2, 1));
      await expect(m.fit(detached(ones([4, 2])), ones([4, 1]), { loss: 'mse' })).rejects.toThrow(/^fathom.fit: x has lost its storage/);
      await expect(m.evaluate(ones([4, 2]), detached(ones([4, 1])), { loss: 'mse' })).rejects.toThrow(/^fathom.evaluate: y has lost its storage/);
      expect(() => m.predict(detached(ones([4, 2])))).toThrow(/^fathom.predict: x has lost its storage/);
    });
  });
}

describe('hostile safetensors headers (review)', () => {
  const fileOf = (header: object): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };
  it('a header declaring more than MAX_TENSORS tensors is refused, before or after parsing', async () => {
    const { decodeSafetensors, MAX_TENSORS } = await import('../../lib/io/safetensors.js');
    const many: Record<string, object> = {};
    for (let i = 0; i <= MAX_TENSORS; i++) many[`t${i}`] = { dtype: 'F32', shape: [0], data_offsets: [0, 0] };
    expect(() => decodeSafetensors(fileOf(many), 'many')).toThrow(/expected at most 100000 tensors, got 100001/);
    const bomb = new TextEncoder().encode(`{"a":${'{'.repeat(16 * MAX_TENSORS + 1)}`);
    const f = new Uint8Array(8 + bomb.length);
    new DataView(f.buffer).setBigUint64(0, BigInt(bomb.length), true);
    f.set(bomb, 8);
    expect(() => decodeSafetensors(f, 'bomb')).toThrow(/expected a header of at most 1600000 JSON values \('\{', '\[' and ',' counted\), got 1600002/);
    // empty arrays and long lists amplify too: 2 million '[]' never reach JSON.parse
    const arrays = new TextEncoder().encode(`{"a":{"dtype":"F32","shape":[${'[],'.repeat(2_000_000)}0],"data_offsets":[0,0]}}`);
    const g = new Uint8Array(8 + arrays.length);
    new DataView(g.buffer).setBigUint64(0, BigInt(arrays.length), true);
    g.set(arrays, 8);
    expect(() => decodeSafetensors(g, 'arrays')).toThrow(/expected a header of at most 1600000 JSON values/);
  });
  it('save never writes what load refuses', async () => {
    const { encodeSafetensors, MAX_TENSORS } = await import('../../lib/io/safetensors.js');
    const many: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (let i = 0; i <= MAX_TENSORS; i++) many[`t${i}`] = { dtype: 'F32', shape: [0], data: new Float32Array(0) };
    expect(() => encodeSafetensors(many)).toThrow(/safetensors: expected at most 100000 tensors, got 100001/);
    expect(() => encodeSafetensors({}, { big: '{'.repeat(1_600_001) })).toThrow(/more than 1600000 JSON values/);
  });
  it('names from a file are quoted, escaped and capped in messages', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { load, save } = await import('../../lib/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'fathom-review-'));
    const m = new nn.Sequential(new nn.Linear(1, 1));
    await save(m, join(dir, 'ok.safetensors'));
    const { decodeSafetensors, encodeSafetensors } = await import('../../lib/io/safetensors.js');
    const { readFileSync } = await import('node:fs');
    const file = decodeSafetensors(readFileSync(join(dir, 'ok.safetensors')));
    const tensors = { ...file.tensors } as Record<string, (typeof file.tensors)[string]>;
    for (const n of ['a\u202eb', '\u0001y', 'c', 'd', 'e', 'f', 'g']) tensors[n] = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
    writeFileSync(join(dir, 'bad.safetensors'), encodeSafetensors(tensors, file.metadata));
    await expect(load(join(dir, 'bad.safetensors'))).rejects.toThrow(/tensors not in the architecture: "\\u0001y", "a\\u202eb", "c", "d", "e" and 2 more$/);
  });
});

describe('accuracy with int32 class indices and one output column (review)', () => {
  it('with crossEntropy is argmax (every prediction is class 0), as Keras sparse categorical accuracy', async () => {
    const { correct } = await import('../../lib/models/metrics.js');
    const pred = tensor([[0.3], [-2], [5], [0.1]]);
    const y = tensor([0, 0, 1, 0], { dtype: 'int32' });
    expect(correct('fit', pred, y, { binary: false, categorical: true, threshold: 0.5 })).toBe(3);
    // without a categorical loss, int32 0/1 labels of one column are thresholded (binary accuracy)
    expect(correct('fit', pred, y, { binary: false, threshold: 0.5 })).toBe(4);
    // float 0/1 targets of one column stay binary accuracy (threshold)
    expect(correct('fit', pred, tensor([[0], [0], [1], [0]]), { binary: false, threshold: 0.5 })).toBe(4);
  });
});

describe('max gradient with a NaN maximum (review)', () => {
  for (const b of backends) {
    it(`goes to the NaN element(s) only (${b})`, async () => {
      setBackend(b);
      const { max } = await import('../../lib/index.js');
      const x = tensor([[1, NaN, 3], [4, 5, 5]], { requiresGrad: true });
      max(x, [1]).sum().backward();
      expect([...x.grad!.data]).toEqual([0, 1, 0, 0, 0.5, 0.5]);
    });
  }
});

describe('a loaded model remembers the loss it was fitted with (Keras compile config)', () => {
  it('fit and evaluate after load() need no loss; a function loss is not saved; a corrupt entry is refused', async () => {
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { load, save, randn } = await import('../../lib/index.js');
    const { decodeSafetensors, encodeSafetensors } = await import('../../lib/io/safetensors.js');
    const dir = mkdtempSync(join(tmpdir(), 'fathom-training-'));
    const m = new nn.Sequential(new nn.Linear(3, 2));
    const x = randn([8, 3]);
    const y = tensor([0, 1, 0, 1, 0, 1, 0, 1], { dtype: 'int32' });
    await m.fit(x, y, { loss: 'crossEntropy', verbose: 0 });
    const p = join(dir, 'm.safetensors');
    await save(m, p);
    const again = await load(p);
    const r = await again.evaluate(x, y);
    expect(r.accuracy).toBeGreaterThanOrEqual(0);
    await again.fit(x, y, { verbose: 0 });
    // a loss function is not serialisable: nothing is kept, the loaded model needs a loss again
    const f = new nn.Sequential(new nn.Linear(3, 2));
    await f.fit(x, y, { loss: (a: Tensor) => a.square().mean(), verbose: 0 });
    await save(f, join(dir, 'f.safetensors'));
    await expect((await load(join(dir, 'f.safetensors'))).fit(x, y, { verbose: 0 })).rejects.toThrow(/options.loss is required/);
    // a corrupt training entry refuses the file
    const file = decodeSafetensors(readFileSync(p));
    writeFileSync(join(dir, 'bad.safetensors'), encodeSafetensors(file.tensors, { ...file.metadata, 'fathom.training': '{"loss":"hinge"}' }));
    await expect(load(join(dir, 'bad.safetensors'))).rejects.toThrow(/the training metadata must be \{ loss: crossEntropy \| mse \| binaryCrossEntropy/);
  });
});

describe('fit and predict edges (second review)', () => {
  it('callbacks keep `this` in a list, and may carry their own state', async () => {
    class Counter {
      n = 0;
      onEpochEnd(): void { this.n++; }
    }
    const a = new Counter();
    const b = { seen: [] as number[], onEpochEnd(e: number) { this.seen.push(e); } };
    const m = new nn.Sequential(new nn.Linear(2, 1));
    await m.fit(ones([4, 2]), ones([4, 1]), { loss: 'mse', epochs: 3, verbose: 0, callbacks: [a, b] });
    expect(a.n).toBe(3);
    expect(b.seen).toEqual([0, 1, 2]);
    await m.fit(ones([4, 2]), ones([4, 1]), { loss: 'mse', epochs: 2, verbose: 0, callbacks: a });
    expect(a.n).toBe(5);
  });

  it('batched predict refuses a model that does not map rows to rows, and keeps int32 outputs', async () => {
    const { mean, argmax } = await import('../../lib/index.js');
    class Pool extends nn.Module {
      forward(x: Tensor): Tensor { return mean(x, [0]); }
    }
    expect(() => new Pool().predict(ones([10, 2]), { batchSize: 3 })).toThrow(/^fathom.predict: Pool.forward on rows 0..3 of x gave float32 \[2\]; batched predict needs \[3, \.\.\.\]/);
    class Classes extends nn.Module {
      forward(x: Tensor): Tensor { return argmax(x, 1); }
    }
    const y = new Classes().predict(tensor([[0, 1], [1, 0], [0, 1], [1, 0]]), { batchSize: 3 });
    expect(y.dtype).toBe('int32');
    expect([...y.data]).toEqual([1, 0, 1, 0]);
  });

  it('a buffer transferred during fit (from a callback) is named at the next epoch', async () => {
    const m = new nn.Sequential(new nn.Linear(2, 1));
    const x = ones([4, 2]);
    await expect(m.fit(x, ones([4, 1]), {
      loss: 'mse', epochs: 2, verbose: 0, shuffle: false,
      callbacks: { onEpochEnd: () => { structuredClone(x.data.buffer, { transfer: [x.data.buffer as ArrayBuffer] }); } },
    })).rejects.toThrow(/^fathom.fit: x has lost its storage/);
  });
});

describe('optimizers refuse non-leaf tensors (second review)', () => {
  it('as PyTorch does', async () => {
    const { optim, mul } = await import('../../lib/index.js');
    const p = tensor([1, 2], { requiresGrad: true });
    expect(() => new optim.SGD([mul(p, 2)], { lr: 0.1 })).toThrow(/^fathom.SGD: parameter 0 is the result of an op \('mul'\), not a leaf tensor/);
  });
});

describe('data errors name fathom (second review)', () => {
  it('parseIdx / encodeIdx / mnist options', async () => {
    const { data } = await import('../../lib/index.js');
    expect(() => data.parseIdx(new Uint8Array(0))).toThrow(/^fathom.data.idx: <buffer>: expected at least 4 header bytes/);
    expect(() => data.parseIdx([0, 0, 8, 1] as never)).toThrow(/^fathom.data.parseIdx: expected the file's bytes as a Uint8Array/);
    expect(() => data.encodeIdx(5 as never)).toThrow(/^fathom.data.encodeIdx: expected \{ dtype, shape/);
    await expect(data.mnist('/x' as never)).rejects.toThrow(/^fathom.data.mnist: options must be an object/);
    await expect(data.mnist({ tarin: 5 } as never)).rejects.toThrow(/^fathom.data.mnist: unknown option 'tarin'/);
    await expect(data.mnist({ train: -1 })).rejects.toThrow(/^fathom.data.mnist: expected options.train to be a non-negative integer/);
  });
});

describe('tensor(data, options) with a null-prototype options object (second review)', () => {
  it('is read as options, not as a shape', () => {
    const o = Object.assign(Object.create(null), { dtype: 'int32' });
    expect(tensor([1, 2], o).dtype).toBe('int32');
  });
});

describe('evaluate while fit runs (second review)', () => {
  it('is refused outside callbacks, even right after fit() starts', async () => {
    const m = new nn.Sequential(new nn.Linear(2, 1));
    const p = m.fit(ones([64, 2]), ones([64, 1]), { loss: 'mse', epochs: 2, verbose: 0, batchSize: 4 });
    await expect(m.evaluate(ones([4, 2]), ones([4, 1]))).rejects.toThrow(/^fathom.evaluate: Sequential is being trained by fit\(\)/);
    await p;
    let inside = -1;
    await m.fit(ones([8, 2]), ones([8, 1]), { loss: 'mse', verbose: 0, callbacks: { onEpochEnd: async () => { inside = (await m.evaluate(ones([4, 2]), ones([4, 1]))).loss; } } });
    expect(inside).toBeGreaterThanOrEqual(0);
  });
});

describe('Adam hyper-parameters are refused when set, not at step() (code review)', () => {
  it('eps must be > 0; betas must stay below 1 after rounding to float32', async () => {
    const { optim } = await import('../../lib/index.js');
    const p = nn.parameter(tensor([1, 2]));
    expect(() => new optim.Adam([p], { eps: 0 })).toThrow(/^fathom.Adam: eps must be a finite number > 0 .*got 0/);
    expect(() => new optim.Adam([p], { betas: [0.9, 0.99999999] })).toThrow(/^fathom.Adam: betas\[1\] must be a finite number in \[0, 1\), got 0.99999999 \(1 as float32\)/);
    const opt = new optim.Adam([p]);
    expect(() => { opt.eps = 0; }).toThrow(/eps must be a finite number > 0/);
  });
});
