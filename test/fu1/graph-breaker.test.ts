/**
 * Faults found by trying the functional API as a breaker (issue #12, fu1):
 * seq-first recurrent layers in a graph, the cost of shape inference on
 * crafted saved graphs, huge inputs, long input lists in errors, and
 * Model.summary's inputShape.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { nn, randn, setBackend, sum } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { fromConfig } from '../../lib/layers/registry.js';
import type { ModuleConfig } from '../../lib/layers/module.js';
import { MAX_PROBE_VALUES, probeLimit } from '../../lib/layers/graph/config.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

describe('recurrent layers in a graph', () => {
  it('refuses batchFirst false (it would run over the batch as time), itself or inside a Sequential / Model', () => {
    const x = nn.input([5, 3]);
    for (const make of [() => new nn.LSTM(3, 4), () => new nn.GRU(3, 4), () => new nn.RNN(3, 4)]) {
      expect(() => make().apply(x)).toThrow(/fathom\.(LSTM|GRU|RNN)\.apply: cannot apply (LSTM|GRU|RNN) to \[N, 5, 3\]: a recurrent layer in a graph needs batchFirst: true/);
    }
    expect(() => new nn.Sequential(new nn.Linear(3, 3), new nn.LSTM(3, 4)).apply(x)).toThrow(/cannot apply Sequential \(a LSTM inside it\) to \[N, 5, 3\]: a recurrent layer in a graph needs batchFirst: true/);
    // the batch-first layer is accepted and agrees with its own forward on every backend
    for (const b of backends) {
      setBackend(b);
      const lstm = new nn.LSTM(3, 4, { batchFirst: true });
      const m = new nn.Model({ inputs: x, outputs: lstm.apply(x) });
      const xs = randn([7, 5, 3]);
      expect([...m.forward(xs).data]).toEqual([...lstm.forward(xs).data]);
    }
  });

  it('a saved graph with a seq-first LSTM is refused on load', () => {
    const c: ModuleConfig = {
      type: 'Model', inputs: [{ name: 'x', shape: [5, 3] }],
      layers: [{ name: 'r', config: { type: 'LSTM', inputSize: 3, hiddenSize: 2, numLayers: 1, bias: true, batchFirst: false, dropout: 0, bidirectional: false } }],
      nodes: [{ layer: 'r', inputs: [['x', 0, 0]] }], outputs: [['r', 0, 0]],
    };
    expect(() => fromConfig(c)).toThrow(/nodes\[0\] \('r'\): .*needs batchFirst: true/);
  });
});

describe('the cost of shape inference', () => {
  const chain = (k: number, shape: number[]): ModuleConfig => {
    const layers = [], nodes = [];
    let prev: [string, number, number] = ['x', 0, 0];
    for (let i = 0; i < k; i++) {
      layers.push({ name: `r${i}`, config: { type: 'ReLU' } });
      nodes.push({ layer: `r${i}`, inputs: [prev] });
      prev = [`r${i}`, 0, 0];
    }
    return { type: 'Model', inputs: [{ name: 'x', shape }], layers, nodes, outputs: [prev] };
  };

  it('a crafted graph that would run its layers on more than 2^30 values is refused before it allocates them', () => {
    // 40 distinct inputs of 2^24 values per sample into one Concatenate: 40 · 2 · 2^24 > 2^30 values, refused
    // before any zero batch exists (unbounded, a file of a few kB could keep load() busy for hours).
    const inputs = Array.from({ length: 40 }, (_, i) => ({ name: `x${i}`, shape: [2 ** 24] }));
    const c: ModuleConfig = {
      type: 'Model', inputs, layers: [{ name: 'cat', config: { type: 'Concatenate', axis: -1 } }],
      nodes: [{ layer: 'cat', inputs: inputs.map((x) => [x.name, 0, 0]), list: true }], outputs: [['cat', 0, 0]],
    };
    expect(MAX_PROBE_VALUES).toBe(2 ** 30);
    expect(() => fromConfig(c)).toThrow(/Model nodes\[0\] \('cat'\): inferring the graph's shapes would run its layers on more than 1073741824 values/);
  });

  it('the budget counts every node, and a nested model each time it is applied', () => {
    const saved = probeLimit.values;
    try {
      // each ReLU node on [1000]: 2 · 1000 in + 2 · 1000 out = 4000 values
      probeLimit.values = 4000 * 10;
      expect((fromConfig(chain(10, [1000])) as nn.Model).layers).toHaveLength(10);
      expect(() => fromConfig(chain(11, [1000]))).toThrow(/Model nodes\[10\] \('r10'\): inferring the graph's shapes would run its layers on more than 40000 values/);
      // an inner chain of 4 (16,000 to build) applied twice: each apply adds its input (2,000), its run (16,000) and its
      // output (2,000): 16,000 + 20,000 fits, a second apply (56,000) does not
      const inner = chain(4, [1000]);
      const outer = (k: number): ModuleConfig => ({
        type: 'Model', inputs: [{ name: 'x', shape: [1000] }], layers: [{ name: 'm', config: inner }],
        nodes: Array.from({ length: k }, (_, i) => ({ layer: 'm', inputs: [i ? ['m', i - 1, 0] : ['x', 0, 0]] })), outputs: [['m', k - 1, 0]],
      });
      expect(fromConfig(outer(1))).toBeInstanceOf(nn.Model);
      expect(() => fromConfig(outer(2))).toThrow(/Model nodes\[1\] \('m'\): inferring the graph's shapes/);
      // the same with the inner model wrapped in a Sequential
      const wrapped = (k: number): ModuleConfig => ({
        type: 'Model', inputs: [{ name: 'x', shape: [1000] }], layers: [{ name: 's', config: { type: 'Sequential', layers: [inner] } }],
        nodes: Array.from({ length: k }, (_, i) => ({ layer: 's', inputs: [i ? ['s', i - 1, 0] : ['x', 0, 0]] })), outputs: [['s', k - 1, 0]],
      });
      expect(fromConfig(wrapped(1))).toBeInstanceOf(nn.Model);
      expect(() => fromConfig(wrapped(2))).toThrow(/Model nodes\[1\] \('s'\): inferring the graph's shapes/);
    } finally {
      probeLimit.values = saved;
    }
    expect((fromConfig(chain(300, [8])) as nn.Model).layers).toHaveLength(300);
  });

  it('one input passed many times is probed once; the error lists a few shapes, not all', () => {
    const x = nn.input([2 ** 24]);
    let msg = '';
    try {
      new nn.Concatenate().apply(Array(1000).fill(x));
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^fathom\.Concatenate\.apply: cannot apply Concatenate to \[\[N, 16777216\], .*, … \(1000 in all\)\]: fathom\.Concatenate: /);
    expect(msg).toMatch(/the layer ran on a zero batch of N = 2 to infer shapes/);
    expect(msg.length).toBeLessThan(800);
  });

  it('nn.input refuses a sample too large for a batch of 2 (what apply runs layers on)', () => {
    expect(() => nn.input([1e9, 1e9])).toThrow(/fathom\.input: shape \[1000000000, 1000000000\] has 1000000000000000000 values per sample; a batch of 2 .* at most 1073741823 per sample/);
    expect(() => nn.input([2 ** 30])).toThrow(/fathom\.input: shape \[1073741824\]/);
    expect(nn.input([2 ** 30 - 1]).shape).toEqual([2 ** 30 - 1]);
  });
});

describe('Model.summary(inputShape)', () => {
  it('accepts the input shape, refuses another one instead of ignoring it', () => {
    const x = nn.input([10], { name: 'img' });
    const m = new nn.Model({ inputs: x, outputs: new nn.Linear(10, 3).apply(x) });
    expect(m.summary([10])).toBe(m.summary());
    expect(() => m.summary([99])).toThrow(/fathom\.Model\.summary: an nn\.Model knows its input shapes \(img \[N, 10\]\); call summary\(\) without inputShape, got \[99\]/);
  });
});

describe('shared layers', () => {
  it('a layer applied to the same input twice gets the sum of both uses\' gradients (both backends)', () => {
    for (const b of backends) {
      setBackend(b);
      const lin = new nn.Linear(3, 3);
      const x = nn.input([3]);
      const m = new nn.Model({ inputs: x, outputs: new nn.Concatenate().apply([lin.apply(x), new nn.Tanh().apply(lin.apply(x))]) });
      const xs = randn([4, 3]);
      sum(m.forward(xs)).backward();
      const g = [...lin.weight.grad!.data];
      lin.weight.grad = null;
      lin.bias!.grad = null;
      sum(lin.forward(xs)).backward();
      const g1 = [...lin.weight.grad!.data];
      lin.weight.grad = null;
      sum(lin.forward(xs).tanh()).backward();
      const g2 = [...lin.weight.grad!.data];
      g.forEach((v, i) => expect(v).toBeCloseTo(g1[i] + g2[i], 5));
    }
  });
});

describe('wide graphs', () => {
  it('summary of a node with thousands of inputs stays short (rows are not padded to the widest "Connected to")', () => {
    const inputs = Array.from({ length: 3000 }, (_, i) => nn.input([1], { name: `x${i}` }));
    const m = new nn.Model({ inputs, outputs: new nn.Concatenate().apply(inputs, { name: 'cat' }) });
    const s = m.summary();
    // before: 3,001 rows each padded to the 22,000-character cell, 66 MB (a 50,000-input model ran out of memory)
    expect(s.length).toBeLessThan(200_000);
    expect(s).toMatch(/^cat \(Concatenate\) +\[N, 3000\] +0 {3}x0, x1, x2, x3, x4, x5, x6, x7, … \(3000 in all\)$/m);
    expect(s).toMatch(/^x2999 \(Input\) +\[N, 1\] +0$/m);
    // output names of one tensor listed many times stay unique
    const r = new nn.ReLU().apply(inputs[0]);
    expect(new nn.Model({ inputs: inputs[0], outputs: [r, r, r, inputs[0], inputs[0]] }).outputNames).toEqual(['relu_1', 'relu_1_2', 'relu_1_3', 'x0', 'x0_2']);
  });
});

describe('replacing a layer of a built model', () => {
  it('model.<layer> reads it; assigning one (PyTorch\'s model.fc = …) is refused instead of training a layer forward never uses', () => {
    for (const b of backends) {
      setBackend(b);
      const x = nn.input([4]);
      const lin = new nn.Linear(4, 2);
      const m = new nn.Model({ inputs: x, outputs: lin.apply(x, { name: 'fc' }), name: 'net' });
      expect((m as unknown as Record<string, unknown>).fc).toBe(lin);
      expect(() => { (m as unknown as Record<string, unknown>).fc = new nn.Linear(4, 2); }).toThrow(/fathom\.Model: layer 'fc' of net cannot be replaced by assignment: the graph is fixed when the model is built\. Build a new nn\.Model instead/);
      expect(m.parameters()).toEqual([lin.weight, lin.bias]);
      const xs = randn([3, 4]);
      expect([...m.forward(xs).data]).toEqual([...lin.forward(xs).data]);
      // a layer named like a member of Model keeps the member
      const o = new nn.Model({ inputs: x, outputs: new nn.ReLU().apply(x, { name: 'inputs' }) });
      expect(o.inputs).toEqual([x]);
    }
  });
});

describe('type confusion in a saved graph', () => {
  it('an input dtype of null is refused, not read as float32', () => {
    const c: ModuleConfig = {
      type: 'Model', inputs: [{ name: 'x', shape: [4], dtype: null }], layers: [{ name: 'r', config: { type: 'ReLU' } }],
      nodes: [{ layer: 'r', inputs: [['x', 0, 0]] }], outputs: [['r', 0, 0]],
    };
    expect(() => fromConfig(c)).toThrow(/fathom\.fromConfig: Model inputs\[0\] \('x'\)\.dtype must be "float32" or "int32", got null/);
  });
});
