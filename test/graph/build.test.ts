/**
 * The functional API: nn.input, layer.apply on symbolic tensors, nn.Model.
 * Shapes inferred for every built-in layer agree with a real forward; a graph
 * computes what the same layers called by hand compute (both backends); names,
 * multi-input / multi-output models, merge layers, nested models, intermediate
 * outputs, and the construction errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, add, concat, manualSeed, mul, nn, randn, setBackend, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { isMultiIO } from '../../lib/models/multi.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));
/** A summary row: its cells in order, separated by spaces. */
const row = (...cells: string[]) => new RegExp(`^${cells.map((c) => c.replace(/[[\]()]/g, '\\$&')).join(' +')}$`, 'm');
const same = (a: Tensor, b: Tensor) => {
  expect(a.shape).toEqual(b.shape);
  expect([...a.data]).toEqual([...b.data]);
};

describe('inferred shapes', () => {
  // [layer, one sample's input shape, dtype]: apply's shape must be what forward gives on a real batch of 3.
  const cases: [string, () => nn.Module, number[], ('float32' | 'int32')?][] = [
    ['Linear', () => new nn.Linear(6, 4), [6]],
    ['Linear on [T, D]', () => new nn.Linear(6, 4), [5, 6]],
    ['ReLU', () => new nn.ReLU(), [3, 2]],
    ['Softmax', () => new nn.Softmax(), [7]],
    ['Maxout', () => new nn.Maxout(6, 3, 2), [6]],
    ['Dropout', () => new nn.Dropout(0.5), [6]],
    ['GaussianNoise', () => new nn.GaussianNoise(1), [6]],
    ['BatchNorm1d', () => new nn.BatchNorm1d(6), [6]],
    ['BatchNorm2d', () => new nn.BatchNorm2d(2), [2, 5, 5]],
    ['LayerNorm', () => new nn.LayerNorm([6]), [6]],
    ['Conv1d', () => new nn.Conv1d(2, 3, 3, { padding: 1, stride: 2 }), [2, 9]],
    ['Conv2d', () => new nn.Conv2d(1, 4, 3, { stride: 2 }), [1, 9, 8]],
    ['ConvTranspose2d', () => new nn.ConvTranspose2d(4, 2, 3, { stride: 2, outputPadding: 1 }), [4, 5, 5]],
    ['MaxPool2d', () => new nn.MaxPool2d(2, { ceilMode: true }), [3, 7, 7]],
    ['AvgPool2d', () => new nn.AvgPool2d(3, { stride: 2, padding: 1 }), [3, 7, 7]],
    ['AdaptiveAvgPool2d', () => new nn.AdaptiveAvgPool2d(2), [3, 7, 5]],
    ['Flatten', () => new nn.Flatten(), [3, 4, 5]],
    ['Dropout2d', () => new nn.Dropout2d(0.3), [3, 4, 5]],
    ['Embedding', () => new nn.Embedding(10, 4), [7], 'int32'],
    ['LSTM (batchFirst)', () => new nn.LSTM(3, 5, { batchFirst: true, bidirectional: true }), [6, 3]],
    ['GRU (batchFirst)', () => new nn.GRU(3, 4, { batchFirst: true, numLayers: 2 }), [6, 3]],
    ['RNNCell', () => new nn.RNNCell(3, 4), [3]],
    ['Sequential', () => new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.Flatten(), new nn.Linear(2 * 4 * 4, 3)), [1, 6, 6]],
    ['RBM', () => new nn.RBM(6, 3), [6]],
  ];
  for (const [what, make, shape, dtype = 'float32'] of cases) {
    it(`${what}: apply's shape equals forward's on a real batch`, () => {
      manualSeed(3);
      const layer = make();
      layer.train();
      const y = layer.apply(nn.input(shape, { dtype }));
      expect(layer.training).toBe(true); // the probe's eval() is undone
      const x = dtype === 'int32' ? new Tensor(new Int32Array(3 * shape.reduce((p, q) => p * q, 1)).fill(1), [3, ...shape]) : randn([3, ...shape]);
      layer.eval();
      const real = layer.forward(x);
      expect([3, ...y.shape]).toEqual(real.shape);
      expect(y.dtype).toBe(real.dtype);
    });
  }

  it('a custom module: its forward decides the shape (here [N, 2, D] → [N, D])', () => {
    class SumPairs extends nn.Module {
      forward(x: Tensor): Tensor {
        const [n, , d] = x.shape;
        const a = new Tensor(x.data.slice(0, n * d) as Float32Array, [n, d]);
        return add(a, a);
      }
    }
    expect(new SumPairs().apply(nn.input([2, 5])).shape).toEqual([5]);
  });

  it('the probe leaves the random stream and BatchNorm statistics alone', () => {
    const bn = new nn.BatchNorm1d(3);
    const drop = new nn.Dropout(0.5);
    manualSeed(9);
    const before = randn([4]);
    manualSeed(9);
    drop.apply(bn.apply(nn.input([3])));
    same(randn([4]), before);
    expect([...bn.stateDict().running_mean.data]).toEqual([0, 0, 0]);
    expect(bn.stateDict().num_batches_tracked.item()).toBe(0);
  });
});

describe('nn.Model', () => {
  for (const b of backends) {
    it(`computes what the layers called by hand compute: an MLP equals its Sequential (${b})`, () => {
      setBackend(b);
      manualSeed(1);
      const l1 = new nn.Linear(5, 8), act = new nn.Tanh(), l2 = new nn.Linear(8, 3);
      const x = nn.input([5]);
      const model = new nn.Model({ inputs: x, outputs: l2.apply(act.apply(l1.apply(x))) });
      const xs = randn([4, 5]);
      same(model.forward(xs), new nn.Sequential(l1, act, l2).forward(xs));
      same(model.forward(xs), l2.forward(act.forward(l1.forward(xs))));
      expect(Object.keys(model.stateDict())).toEqual(['linear_1.weight', 'linear_1.bias', 'linear_2.weight', 'linear_2.bias']);
      expect(model.parameters()).toEqual([...l1.parameters(), ...l2.parameters()]);
    });

    it(`two inputs, two outputs: forwardAll in inputNames / outputNames order (${b})`, () => {
      setBackend(b);
      manualSeed(2);
      const a = nn.input([3], { name: 'a' });
      const bIn = nn.input([2], { name: 'b' });
      const la = new nn.Linear(3, 4), lb = new nn.Linear(2, 4);
      const ha = la.apply(a), hb = lb.apply(bIn);
      const sum = new nn.Add().apply([ha, hb], { name: 'sum' });
      const cat = new nn.Concatenate().apply([ha, hb]);
      const prod = new nn.Multiply().apply([ha, hb]);
      const avg = new nn.Average().apply([ha, hb, prod], { name: 'avg' });
      const head = new nn.Linear(8, 1);
      const model = new nn.Model({ inputs: [a, bIn], outputs: [head.apply(cat, { name: 'score' }), sum, avg] });
      expect(model.inputNames).toEqual(['a', 'b']);
      expect(model.outputNames).toEqual(['score', 'sum', 'avg']);
      expect(isMultiIO(model)).toBe(true);
      const xa = randn([5, 3]), xb = randn([5, 2]);
      const [score, s, v] = model.forwardAll([xa, xb]);
      const ya = la.forward(xa), yb = lb.forward(xb);
      same(score, head.forward(concat([ya, yb], 1)));
      same(s, add(ya, yb));
      const p = mul(ya, yb);
      same(v, mul(add(add(ya, yb), p), 1 / 3));
      expect(() => model.forward([xa, xb])).toThrow("fathom.Model: model has 3 outputs (score, sum, avg); forward returns one, use forwardAll(inputs)");
    });
  }

  it('merge layers compute on real tensor lists and refuse one tensor or mismatched shapes', () => {
    const x = tensor([[1, 2], [3, 4]]), y = tensor([[10, 20], [30, 40]]);
    expect([...new nn.Add().forward([x, y]).data]).toEqual([11, 22, 33, 44]);
    expect([...new nn.Multiply().apply([x, y]).data]).toEqual([10, 40, 90, 160]);
    expect([...new nn.Average().forward([x, y]).data]).toEqual([5.5, 11, 16.5, 22]);
    expect(new nn.Concatenate(1).forward([x, y]).shape).toEqual([2, 4]);
    expect(() => new nn.Add().forward(x)).toThrow('fathom.Add: expected an array of Tensors (a merge layer takes a list: forward([a, b]), or apply([a, b]) in a graph), got one Tensor [2, 2]');
    expect(() => new nn.Add().forward([x])).toThrow('fathom.Add: expected at least 2 tensors, got 1');
    expect(() => new nn.Add().forward([x, tensor([1, 2])])).toThrow('fathom.Add: every input must have the shape of inputs[0] [2, 2], inputs[1] has [2]');
    expect(() => new nn.Concatenate(0)).toThrow('fathom.Concatenate: axis must be a non-zero integer (0 is the batch dimension N; -1 the last), got 0');
    expect(() => new nn.Concatenate(3).forward([x, y])).toThrow('fathom.Concatenate: axis 3 is outside the inputs\' dimensions 1..1');
    expect(() => new nn.Add().apply([nn.input([3]), nn.input([4])])).toThrow(/fathom.Add.apply: cannot apply Add to \[\[N, 3\], \[N, 4\]\]: fathom.Add: every input must have the shape of inputs\[0\] \[2, 3\], inputs\[1\] has \[2, 4\]/);
  });

  it('names: explicit ones kept, generated ones per type in order of first use, inputs input_<k>; clashes refused', () => {
    const x = nn.input([4]);
    const h = new nn.Linear(4, 4).apply(x, { name: 'linear_1' });
    const h2 = new nn.Linear(4, 4).apply(new nn.ReLU().apply(h));
    const m = new nn.Model({ inputs: x, outputs: new nn.LeakyReLU().apply(new nn.BatchNorm1d(4).apply(h2)) });
    expect(m.inputNames).toEqual(['input_1']);
    expect(m.layers.map((l) => m.layerName(l))).toEqual(['linear_1', 'relu_1', 'linear_2', 'batch_norm1d_1', 'leaky_relu_1']);
    expect(m.getLayer('relu_1')).toBeInstanceOf(nn.ReLU);
    expect(() => m.getLayer('nope')).toThrow("fathom.Model.getLayer: no layer 'nope' (layers: linear_1, relu_1, linear_2, batch_norm1d_1, leaky_relu_1)");
    const y = nn.input([4], { name: 'dup' });
    expect(() => new nn.Model({ inputs: y, outputs: new nn.ReLU().apply(y, { name: 'dup' }) })).toThrow("fathom.Model: the name 'dup' is used by input [N, 4] and by a ReLU layer; names in a model must be unique");
    const named = new nn.ReLU();
    named.apply(y, { name: 'r' });
    expect(() => named.apply(y, { name: 's' })).toThrow("fathom.ReLU.apply: this ReLU is already named 'r'; a layer has one name, also when it is shared (got 's')");
    expect(() => new nn.ReLU().apply(y, { name: 'a.b' })).toThrow(/fathom.ReLU.apply: options.name must be 1 to 128 letters, digits, '_' or '-'.*got "a.b"/);
    expect(() => nn.input([0])).toThrow('fathom.input: shape must be an array of at most 7 positive integers (one sample\'s shape, without the batch dimension N), got [0]');
    expect(() => nn.input([3], { dtype: 'int8' as never })).toThrow('fathom.input: options.dtype must be \'float32\' or \'int32\', got "int8"');
  });

  it('construction errors: an input not among inputs, real tensors where symbolic ones go, a shape mismatch naming the layer', () => {
    const a = nn.input([3], { name: 'a' });
    const stray = nn.input([3], { name: 'stray' });
    const h = new nn.Add().apply([new nn.Linear(3, 3).apply(a), new nn.Linear(3, 3).apply(stray, { name: 'side' })]);
    expect(() => new nn.Model({ inputs: a, outputs: h })).toThrow("fathom.Model: the outputs depend on the nn.input 'stray' [N, 3], which is not in inputs (a); it feeds side → add_1. Pass it in inputs");
    expect(() => new nn.Model({ inputs: h, outputs: h })).toThrow('fathom.Model: inputs[0] must be an nn.input() tensor, got the output of a Add ([N, 3])');
    expect(() => new nn.Model({ inputs: [a, a], outputs: h })).toThrow('fathom.Model: inputs[1] is inputs[0] again; each input once');
    expect(() => new nn.Model({ inputs: a, outputs: tensor([1]) as never })).toThrow('fathom.Model: outputs must be a SymbolicTensor (from nn.input or layer.apply), got a real Tensor [1]');
    expect(() => new nn.Model({ inputs: a, outputs: h, loss: 'mse' } as never)).toThrow("fathom.Model: unknown option 'loss' (known: inputs, outputs, name)");
    expect(() => new nn.Linear(4, 2).apply(a, { name: 'head' })).toThrow("fathom.Linear.apply: cannot apply 'head' (Linear) to [N, 3]: fathom.Linear: expected input [*, 4] (any rank >= 1, last axis 4), got [2, 3]");
    expect(() => new nn.Add().apply([a, tensor([[1, 2, 3]]) as never])).toThrow('fathom.Add.apply: inputs[1] must be a SymbolicTensor (from nn.input or another layer\'s apply) like the others, got a real Tensor [1, 3]');
    const m = new nn.Model({ inputs: a, outputs: new nn.ReLU().apply(a) });
    expect(() => m.forward(a as never)).toThrow('fathom.Model: forward got a SymbolicTensor; forward runs on real Tensors; to add the model to a graph use model.apply(x)');
    expect(() => new nn.Linear(3, 1).forward(a as never)).toThrow(/fathom.Linear: expected a Tensor input .*got SymbolicTensor/);
    expect(() => m.forward(tensor([[1, 2]]))).toThrow("fathom.Model: input 'a' must be float32 [N, 3], got float32 [1, 2]");
    expect(() => m.forwardAll([tensor([[1, 2, 3]]), tensor([[1, 2, 3]])])).toThrow('fathom.Model.forwardAll: model takes 1 input(s) (a), got 2');
  });

  it('a layer refusing its input at run time is named', () => {
    const ids = nn.input([2], { dtype: 'int32', name: 'ids' });
    const m = new nn.Model({ inputs: ids, outputs: new nn.Embedding(3, 2).apply(ids) });
    expect(m.inputNames).toEqual(['ids']);
    expect(() => m.forward(new Tensor(new Int32Array([0, 7]), [1, 2]))).toThrow(/^fathom.Model: layer 'embedding_1' \(Embedding\): fathom.Embedding: .*7/);
  });

  for (const b of backends) {
    it(`a model as a layer of another, shared at two places (a siamese pair), and an intermediate output (${b})`, () => {
      setBackend(b);
      manualSeed(4);
      const i = nn.input([4]);
      const enc1 = new nn.Linear(4, 3), enc2 = new nn.Linear(3, 2);
      const code = enc2.apply(new nn.Sigmoid().apply(enc1.apply(i)), { name: 'code' });
      const dec = new nn.Linear(2, 4);
      const auto = new nn.Model({ inputs: i, outputs: dec.apply(code), name: 'auto' });
      // The encoder, extracted from the autoencoder's graph: the same layers, so the same weights.
      const encoder = new nn.Model({ inputs: i, outputs: code, name: 'encoder' });
      expect(encoder.parameters()).toEqual([...enc1.parameters(), ...enc2.parameters()]);
      const xs = randn([3, 4]);
      same(auto.forward(xs), dec.forward(encoder.forward(xs)));

      const left = nn.input([4], { name: 'left' }), right = nn.input([4], { name: 'right' });
      const dist = new nn.Linear(4, 1).apply(new nn.Concatenate().apply([encoder.apply(left), encoder.apply(right)]), { name: 'similar' });
      const siamese = new nn.Model({ inputs: [left, right], outputs: dist, name: 'siamese' });
      expect(Object.keys(siamese.stateDict())).toEqual(['encoder.linear_1.weight', 'encoder.linear_1.bias', 'encoder.code.weight', 'encoder.code.bias', 'similar.weight', 'similar.bias']);
      const xr = randn([3, 4]);
      same(siamese.forward([xs, xr]), siamese.getLayer('similar').forward(concat([encoder.forward(xs), encoder.forward(xr)], 1)));
      expect(siamese.summary()).toMatch(row('encoder (Model)', '[N, 2]', '(shared)', 'right'));
    });
  }

  it('a multi-output model inside another: applyAll; apply refuses it', () => {
    const i = nn.input([3]);
    const two = new nn.Model({ inputs: i, outputs: [new nn.ReLU().apply(i), new nn.Tanh().apply(i)], name: 'two' });
    const j = nn.input([3]);
    expect(() => two.apply(j)).toThrow('fathom.Model.apply: the layer has 2 outputs; use applyAll(x), which returns them all');
    const [r, t] = two.applyAll(j);
    const outer = new nn.Model({ inputs: j, outputs: new nn.Add().apply([r, t]) });
    const x = tensor([[-1, 0, 2]]);
    const want = add(new nn.ReLU().forward(x), new nn.Tanh().forward(x));
    expect([...outer.forward(x).data]).toEqual([...want.data]);
    expect(outer.summary()).toMatch(row('add_1 (Add)', '[N, 3]', '0', 'two[0][0], two[0][1]'));
  });

  it('summary: a row per call, shapes, parameter counts, trainable and frozen totals', () => {
    const x = nn.input([784], { name: 'image' });
    const hidden = new nn.Linear(784, 32);
    const h = new nn.ReLU().apply(hidden.apply(x));
    const m = new nn.Model({ inputs: x, outputs: new nn.Linear(32, 10).apply(h, { name: 'digit' }), name: 'mlp' });
    hidden.trainable = false;
    expect(m.summary()).toBe([
      'Model: "mlp"',
      'Layer (type)        Output shape   Param #   Connected to',
      '=========================================================',
      'image (Input)       [N, 784]             0',
      'linear_1 (Linear)   [N, 32]         25,120   image',
      'relu_1 (ReLU)       [N, 32]              0   linear_1',
      'digit (Linear)      [N, 10]            330   relu_1',
      '=========================================================',
      'Total params: 25,450',
      'Trainable params: 330',
      'Non-trainable params: 25,120',
      'Outputs: digit',
    ].join('\n'));
    const seq = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.Flatten(), new nn.Linear(8, 3));
    expect(seq.summary([1, 4, 4])).toMatch(row('1 (Flatten)', '[N, 8]', '0'));
    expect(seq.summary()).toMatch(row('2 (Linear)', '27'));
    expect(() => seq.summary([1, 5, 5])).toThrow(/fathom.Module.summary: layer 2 \(Linear\) refuses \[N, 18\]/);
  });

  it('trainable is Keras\'s flag over freeze()/unfreeze()', () => {
    const l = new nn.Linear(2, 2), r = new nn.ReLU();
    expect(l.trainable).toBe(true);
    l.trainable = false;
    expect(l.parameters().every((p) => !p.requiresGrad)).toBe(true);
    expect(l.trainable).toBe(false);
    l.unfreeze();
    expect(l.trainable).toBe(true);
    l.weight.requiresGrad = false; // partly frozen: still trains
    expect(l.trainable).toBe(true);
    r.trainable = false;
    expect(r.trainable).toBe(false);
    expect(() => { l.trainable = 0 as never; }).toThrow('fathom.Module.trainable: expected a boolean, got number');
  });
});
