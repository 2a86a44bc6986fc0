// serialize / deserialize (lib/io/serialize.ts): a model as bytes, in memory, in save()'s format and
// with load()'s checks. Round trips of every built-in layer kind (outputs, buffers, masks), the
// optimizer part, the same bytes as a saved file, and hostile bytes refused.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deserialize, load, loadCheckpoint, manualSeed, nn, optim, prune, randn, save, serialize, setBackend, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { encodeSafetensors } from '../../lib/io/safetensors.js';

let dir = '';
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'fathom-serialize-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);
const ints = (n: number, k: number): Tensor => new Tensor(Int32Array.from({ length: n }, (_, i) => (i * 7) % k), [n]);

/** One module of every built-in kind, with an input it takes. */
function everyLayer(): [string, nn.Module, Tensor][] {
  manualSeed(21);
  const v = (s: number[]) => randn(s);
  return [
    ['Linear', new nn.Linear(4, 3), v([2, 4])],
    ['ReLU', new nn.ReLU(), v([2, 4])], ['Sigmoid', new nn.Sigmoid(), v([2, 4])], ['Tanh', new nn.Tanh(), v([2, 4])],
    ['Sign', new nn.Sign(), v([2, 4])], ['Softmax', new nn.Softmax(), v([2, 4])], ['LogSoftmax', new nn.LogSoftmax(), v([2, 4])],
    ['LeakyReLU', new nn.LeakyReLU(0.2), v([2, 4])], ['ELU', new nn.ELU(0.5), v([2, 4])],
    ['GELU', new nn.GELU({ approximate: 'tanh' }), v([2, 4])], ['Softplus', new nn.Softplus({ beta: 2, threshold: 10 }), v([2, 4])],
    ['SiLU', new nn.SiLU(), v([2, 4])],
    ['Maxout', new nn.Maxout(4, 3, 2), v([2, 4])], ['Perceptron', new nn.Perceptron(4), v([2, 4])],
    ['Dropout', new nn.Dropout(0.3), v([2, 4])], ['GaussianNoise', new nn.GaussianNoise(0.1), v([2, 4])],
    ['BatchNorm1d', new nn.BatchNorm1d(4, { momentum: 0.5 }), v([3, 4])],
    ['BatchNorm2d', new nn.BatchNorm2d(2), v([2, 2, 3, 3])],
    ['LayerNorm', new nn.LayerNorm([4]), v([2, 4])],
    ['MaxPool2d', new nn.MaxPool2d(2), v([1, 2, 4, 4])], ['AvgPool2d', new nn.AvgPool2d(2, { padding: 1 }), v([1, 2, 4, 4])],
    ['AdaptiveAvgPool2d', new nn.AdaptiveAvgPool2d(2), v([1, 2, 5, 5])], ['Flatten', new nn.Flatten(), v([1, 2, 2, 2])],
    ['Dropout2d', new nn.Dropout2d(0.2), v([1, 2, 3, 3])],
    ['Conv1d', new nn.Conv1d(2, 3, 3, { padding: 1 }), v([1, 2, 8])],
    ['Conv2d', new nn.Conv2d(2, 3, 3, { stride: 2 }), v([1, 2, 5, 5])],
    ['ConvTranspose2d', new nn.ConvTranspose2d(2, 3, 3, { stride: 2 }), v([1, 2, 3, 3])],
    ['LSTM', new nn.LSTM(3, 4, { numLayers: 2 }), v([5, 2, 3])], ['GRU', new nn.GRU(3, 4, { bidirectional: true }), v([5, 2, 3])],
    ['RNN', new nn.RNN(3, 4, { nonlinearity: 'relu' }), v([5, 2, 3])],
    ['LSTMCell', new nn.LSTMCell(3, 4), v([2, 3])], ['GRUCell', new nn.GRUCell(3, 4), v([2, 3])], ['RNNCell', new nn.RNNCell(3, 4), v([2, 3])],
    ['Embedding', new nn.Embedding(10, 4, { paddingIdx: 0 }), ints(6, 10).reshape([2, 3])],
    ['RBM', new nn.RBM(6, 4), v([2, 6])],
    ['Sequential', new nn.Sequential(new nn.Linear(4, 5), new nn.Sequential(new nn.Tanh(), new nn.Linear(5, 2))), v([2, 4])],
  ];
}

const bits = (t: Tensor): number[] => Array.from(t.data);

describe.each(backends)('serialize / deserialize (%s)', (name) => {
  beforeAll(() => setBackend(name));

  it('round-trips every built-in layer kind: config, every tensor bit for bit, identical outputs', () => {
    for (const [kind, m, x] of everyLayer()) {
      // BatchNorm's running statistics away from their defaults: a training step updates them.
      if (kind.startsWith('BatchNorm')) { m.train(); m.forward(x); }
      m.eval();
      const again = deserialize(serialize(m));
      expect(again.constructor.name, kind).toBe(m.constructor.name);
      expect(again.config(), kind).toEqual(m.config());
      const a = m.stateDict();
      const b = again.stateDict();
      expect(Object.keys(b), kind).toEqual(Object.keys(a));
      for (const k of Object.keys(a)) {
        expect(b[k].dtype, `${kind} ${k}`).toBe(a[k].dtype);
        expect(bits(b[k]), `${kind} ${k}`).toEqual(bits(a[k]));
        expect(b[k].data === a[k].data, `${kind} ${k} shares storage`).toBe(false);
      }
      again.eval();
      expect(bits(again.forward(x)), kind).toEqual(bits(m.forward(x)));
    }
  });

  it('keeps BatchNorm buffers (running statistics, num_batches_tracked int32) and a pruned model\'s masks', () => {
    manualSeed(4);
    const m = new nn.Sequential(new nn.Linear(6, 8), new nn.BatchNorm1d(8), new nn.ReLU(), new nn.Linear(8, 3));
    m.train();
    for (let i = 0; i < 3; i++) m.forward(randn([5, 6]));
    prune.magnitude(m, { sparsity: 0.5 });
    const again = deserialize(serialize(m));
    const sd = again.stateDict();
    expect(sd['1.num_batches_tracked'].dtype).toBe('int32');
    expect(sd['1.num_batches_tracked'].item()).toBe(3);
    expect(bits(sd['1.running_mean'])).toEqual(bits(m.stateDict()['1.running_mean']));
    expect(Object.keys(sd).filter((k) => k.endsWith('weight_mask')).sort()).toEqual(['0.weight_mask', '3.weight_mask']);
    expect(bits(sd['0.weight_mask'])).toEqual(bits(m.stateDict()['0.weight_mask']));
    // The masks still act: a step of fine-tuning leaves the pruned weights at exactly 0.
    const opt = new optim.SGD(again.parameters(), { lr: 0.5 });
    again.forward(randn([5, 6])).sum().backward();
    opt.step();
    const w = again.stateDict()['0.weight'].data;
    sd['0.weight_mask'].data.forEach((keep, i) => { if (keep === 0) expect(Math.abs(w[i])).toBe(0); });
  });

  it('a functional nn.Model (shared layer, merge, frozen layer) round-trips: outputs equal, frozen flags kept', () => {
    manualSeed(9);
    const a = nn.input([4], { name: 'a' });
    const shared = new nn.Linear(4, 3);
    const head = new nn.Linear(6, 2);
    head.trainable = false;
    const y = head.apply(new nn.Concatenate().apply([shared.apply(a), new nn.Tanh().apply(shared.apply(a))]));
    const m = new nn.Model({ inputs: a, outputs: y });
    const again = deserialize(serialize(m));
    const x = randn([3, 4]);
    expect(again.config()).toEqual(m.config());
    expect(bits(again.forward(x))).toEqual(bits(m.forward(x)));
    expect(again.namedParameters().map(([n, t]) => [n, t.requiresGrad])).toEqual(m.namedParameters().map(([n, t]) => [n, t.requiresGrad]));
    expect(again.namedParameters().filter(([, t]) => !t.requiresGrad).length).toBe(2);
  });

  it('the bytes are a save() file: load() reads them, deserialize() reads a saved file; the optimizer part is loadCheckpoint()\'s', async () => {
    manualSeed(8);
    const m = new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 2));
    const opt = new optim.Adam(m.parameters(), { lr: 0.01 });
    await m.fit(randn([16, 3]), ints(16, 2), { loss: 'crossEntropy', optimizer: opt, epochs: 2, batchSize: 4, seed: 1, verbose: 0 });
    const bytes = serialize(m, { optimizer: opt });
    const path = join(dir, `m-${name}.safetensors`);
    await writeFile(path, bytes);
    const ck = await loadCheckpoint(path);
    expect(ck.optimizer.stateDict()).toEqual(opt.stateDict());
    expect(bits(ck.model.stateDict()['0.weight'])).toEqual(bits(m.stateDict()['0.weight']));
    // The other way: save() then deserialize(file bytes); the fitted loss travels too.
    const path2 = join(dir, `m2-${name}.safetensors`);
    await save(m, path2);
    const again = deserialize(await readFile(path2));
    expect(bits(again.stateDict()['2.bias'])).toEqual(bits(m.stateDict()['2.bias']));
    expect((await again.evaluate(randn([4, 3]), ints(4, 2))).accuracy).toBeDefined(); // crossEntropy restored → accuracy
    // Deterministic: the bytes of a loaded model are the bytes of the model that was saved.
    expect(Buffer.from(serialize(await load(path2))).equals(Buffer.from(serialize(m)))).toBe(true);
  });
});

describe('deserialize refuses hostile bytes as load() refuses a file', () => {
  const good = (): Uint8Array => {
    manualSeed(2);
    return serialize(new nn.Sequential(new nn.Linear(6, 5), new nn.Tanh(), new nn.Linear(5, 3)));
  };
  const cases: [string, () => unknown, RegExp][] = [
    ['not bytes', () => [1, 2, 3], /fathom\.deserialize: bytes must be a Uint8Array .*got/],
    ['a string', () => 'model', /fathom\.deserialize: bytes must be/],
    ['empty', () => new Uint8Array(0), /fathom\.deserialize: safetensors: 0 bytes: not a safetensors file/],
    ['truncated', () => good().subarray(0, 100), /fathom\.deserialize: safetensors: .*(truncated|header)/],
    ['truncated tensor data', () => { const b = good(); return b.subarray(0, b.length - 4); }, /fathom\.deserialize: safetensors: /],
    ['huge header length', () => { const b = good().slice(); new DataView(b.buffer).setBigUint64(0, 10n ** 12n, true); return b; }, /not a safetensors file.*header length/],
    ['garbage', () => new TextEncoder().encode('this is not a model at all'), /fathom\.deserialize: safetensors: /],
    ['a flipped byte in the header', () => { const b = good().slice(); b[9] = 0x7b ^ 0xff; return b; }, /fathom\.deserialize: /],
    ['not a fathom model', () => encodeSafetensors({ w: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }), /not a fathom model/],
    ['tensors that disagree with the architecture', () => {
      manualSeed(2);
      const m = new nn.Sequential(new nn.Linear(6, 5));
      return encodeSafetensors(
        { '0.weight': { dtype: 'F32', shape: [6, 5], data: new Float32Array(30) }, '0.bias': { dtype: 'F32', shape: [5], data: new Float32Array(5) } },
        { format: 'fathom.model/1', 'fathom.architecture': JSON.stringify(m.config()) },
      );
    }, /fathom\.deserialize: tensor '0\.weight' has shape \[6, 5\], the architecture needs \[5, 6\]/],
    ['a small buffer declaring a huge layer', () => encodeSafetensors(
      { '0.weight': { dtype: 'F32', shape: [1], data: new Float32Array(1) } },
      { format: 'fathom.model/1', 'fathom.architecture': JSON.stringify({ type: 'Sequential', layers: [{ type: 'Linear', inFeatures: 16384, outFeatures: 16384 }] }) },
    ), /fathom\.deserialize: .*0\.weight/],
    ['architecture that is not JSON', () => encodeSafetensors({}, { format: 'fathom.model/1', 'fathom.architecture': '{nope' }), /architecture metadata is not valid JSON/],
  ];
  it.each(cases)('%s', (_n, bytes, re) => {
    expect(() => deserialize(bytes() as Uint8Array)).toThrow(re);
  });

  it('serialize refuses what save() refuses, under its own name', () => {
    expect(() => serialize({} as nn.Module)).toThrow(/^fathom\.serialize: expected a Module/);
    const m = new nn.Linear(2, 2);
    expect(() => serialize(m, { optimizer: {} as optim.Adam })).toThrow(/^fathom\.serialize: options\.optimizer must be an Optimizer/);
    expect(() => serialize(m, { optimizer: new optim.SGD(new nn.Linear(2, 2).parameters()) })).toThrow(/^fathom\.serialize: parameter 0 of the SGD optimizer is not a parameter of this model/);
    expect(() => serialize(m, { optimiser: 1 } as object)).toThrow(/^fathom\.serialize: unknown option 'optimiser'/);
  });

  it('reads an ArrayBuffer or a SharedArrayBuffer too', () => {
    const b = good();
    const sab = new SharedArrayBuffer(b.length);
    new Uint8Array(sab).set(b);
    const ab = b.slice().buffer;
    for (const src of [sab, ab]) expect(deserialize(src).config()).toEqual(deserialize(b).config());
  });
});
