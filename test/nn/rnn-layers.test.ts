/**
 * nn.RNN / nn.LSTM / nn.GRU and the cells: PyTorch's names, shapes and initialisation bound,
 * output and state shapes for every option, errors naming the layer, lengths (zero past the
 * length, the state at the length, the reverse direction from the last valid step), dropout
 * between layers in train() only, truncated BPTT by detaching the state, finite-difference
 * gradients through time for each layer type and option (both backends), save/load, use in
 * Sequential and a small fit() that must remember the first token of a sequence.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, abs, concat, load, manualSeed, narrow, nn, noGrad, randn, reshape, save, setBackend, sum, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { gradcheck } from '../helpers/gradcheck.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));
const i32 = (v: number[]) => new Int32Array(v);

describe('recurrent layers: parameters, shapes, errors', () => {
  it('PyTorch names and shapes, U(−1/√H, 1/√H) initialisation, config and toString', () => {
    manualSeed(1);
    const m = new nn.GRU(5, 7, { numLayers: 2, bidirectional: true, bias: false });
    const sd = m.stateDict();
    expect(Object.keys(sd)).toEqual(['weight_ih_l0', 'weight_hh_l0', 'weight_ih_l0_reverse', 'weight_hh_l0_reverse', 'weight_ih_l1', 'weight_hh_l1', 'weight_ih_l1_reverse', 'weight_hh_l1_reverse']);
    expect(sd.weight_ih_l0!.shape).toEqual([21, 5]);
    expect(sd.weight_ih_l1!.shape).toEqual([21, 14]); // layer 1 reads D·H = 14 features
    expect(sd.weight_hh_l1_reverse!.shape).toEqual([21, 7]);
    expect(m.weight_hh_l1_reverse).toBe(sd.weight_hh_l1_reverse); // PyTorch's attributes
    const bound = 1 / Math.sqrt(7);
    const all = Object.values(sd).flatMap((t) => [...t.data]);
    expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(bound * 0.9);
    expect(m.config()).toEqual({ type: 'GRU', inputSize: 5, hiddenSize: 7, numLayers: 2, bias: false, batchFirst: false, dropout: 0, bidirectional: true });
    expect(String(new nn.RNN(2, 3, { nonlinearity: 'relu' }))).toBe('RNN(inputSize=2, hiddenSize=3, numLayers=1, bias=true, batchFirst=false, dropout=0, bidirectional=false, nonlinearity=\'relu\')');
    const l = new nn.LSTMCell(3, 2);
    expect(Object.entries(l.stateDict()).map(([n, t]) => [n, t.shape])).toEqual([['weight_ih', [8, 3]], ['weight_hh', [8, 2]], ['bias_ih', [8]], ['bias_hh', [8]]]);
    const seeded = () => Object.values(new nn.LSTM(3, 4, { seed: 5 }).stateDict()).map((t) => [...t.data]);
    expect(seeded()).toEqual(seeded());
    expect(seeded()[0]).not.toEqual(seeded()[1]!.slice(0, 12)); // each parameter draws its own values
  });

  it('output and state shapes: batchFirst or time-major, layers × directions', () => {
    for (const [Layer, hasC] of [[nn.LSTM, true], [nn.GRU, false], [nn.RNN, false]] as const) {
      const m = new Layer(3, 4, { numLayers: 3, bidirectional: true });
      const r = m.forwardWithState(randn([6, 2, 3])); // [T, N, I]
      expect(r.output.shape).toEqual([6, 2, 8]);
      expect(r.h.shape).toEqual([6, 2, 4]);
      expect(r.c?.shape ?? null).toEqual(hasC ? [6, 2, 4] : null);
      // PyTorch's unbatched input [T, I]: the batch of one, without its axis.
      const u = randn([6, 3]);
      const h0 = randn([6, 4]);
      const one = m.forwardWithState(u, hasC ? { h: h0, c: h0 } : h0);
      const batched = m.forwardWithState(reshape(u, [6, 1, 3]), hasC ? { h: reshape(h0, [6, 1, 4]), c: reshape(h0, [6, 1, 4]) } : reshape(h0, [6, 1, 4]));
      expect(one.output.shape).toEqual([6, 8]);
      expect(one.h.shape).toEqual([6, 4]);
      expect([...one.output.data]).toEqual([...batched.output.data]);
      expect([...one.h.data]).toEqual([...batched.h.data]);
      if (hasC) expect([...one.c!.data]).toEqual([...batched.c!.data]);
      expect(() => m.forwardWithState(u, hasC ? { h: reshape(h0, [6, 1, 4]) } : reshape(h0, [6, 1, 4]))).toThrow(`fathom.${Layer.name}: state.h must be a float32 [numLayers·D, H] (unbatched input) = [6, 4], got float32 [6, 1, 4]`);
      const b = new Layer(3, 4, { batchFirst: true });
      expect(b.forward(randn([2, 6, 3])).shape).toEqual([2, 6, 4]);
      expect(b.forwardWithState(randn([1, 1, 3])).h.shape).toEqual([1, 1, 4]);
    }
  });

  it('errors name the layer, what was expected and what came', () => {
    const m = new nn.LSTM(3, 4, { batchFirst: true, numLayers: 2 });
    expect(() => m.forward(randn([2, 5]))).toThrow('fathom.LSTM: expected a float32 input [N, T, 3] (batchFirst) or an unbatched [T, 3], got float32 [2, 5]');
    expect(() => m.forward(randn([2, 0, 3]))).toThrow('fathom.LSTM: expected a float32 input [N, T, 3] (batchFirst) or an unbatched [T, 3] with T >= 1 steps, got float32 [2, 0, 3]');
    expect(() => new nn.GRU(3, 4).forward(randn([5, 2, 4]))).toThrow('fathom.GRU: expected a float32 input [T, N, 3] or an unbatched [T, 3], got float32 [5, 2, 4]');
    expect(() => m.forward(tensor([[[1, 2, 3]]], { dtype: 'int32' }))).toThrow('fathom.LSTM: expected a float32 input [N, T, 3] (batchFirst) or an unbatched [T, 3], got int32 [1, 1, 3]');
    expect(() => m.forward(randn([2, 5, 3]), { h: randn([1, 2, 4]) })).toThrow('fathom.LSTM: state.h must be a float32 [numLayers·D, N, H] = [2, 2, 4], got float32 [1, 2, 4]');
    expect(() => m.forward(randn([2, 5, 3]), randn([2, 2, 4]))).toThrow('fathom.LSTM: state must be { h, c }');
    expect(() => m.forward(randn([2, 5, 3]), { h: randn([2, 2, 4]), x: 1 } as never)).toThrow("fathom.LSTM: unknown option 'x' in state");
    expect(() => m.forwardWithState(randn([2, 5, 3]), null, { lengths: i32([5, 6]) })).toThrow('fathom.LSTM: options.lengths[1] = 6 is out of range (expected an integer in [0, T = 5])');
    expect(() => m.forwardWithState(randn([2, 5, 3]), null, { lengths: i32([5]) })).toThrow('fathom.LSTM: options.lengths has 1 entries, expected one per sequence (N = 2)');
    expect(() => m.forwardWithState(randn([2, 5, 3]), null, { lengths: [5, 5] as never })).toThrow('fathom.LSTM: options.lengths must be an Int32Array or a 1-D int32 Tensor of 2 lengths');
    expect(() => new nn.LSTM(0, 4)).toThrow('fathom.LSTM: inputSize must be a positive integer, got 0');
    expect(() => new nn.GRU(3, 4, { dropout: 1.5 })).toThrow('fathom.GRU: options.dropout must be a number in [0, 1], got 1.5');
    expect(() => new nn.RNN(3, 4, { nonlinearity: 'sigmoid' as never })).toThrow("fathom.RNN: options.nonlinearity must be 'tanh' or 'relu'");
    expect(() => new nn.LSTM(3, 4, { nonlinearity: 'relu' } as never)).toThrow("fathom.LSTM: unknown option 'nonlinearity'");
    expect(() => new nn.LSTMCell(3, 4).forward(randn([2, 4]))).toThrow('fathom.LSTMCell: expected a float32 input [N, 3], got float32 [2, 4]');
    expect(() => new nn.GRUCell(3, 4).forward(randn([2, 3]), randn([3, 4]))).toThrow('fathom.GRUCell: h must be a float32 [N, H] = [2, 4], got float32 [3, 4]');
  });
});

describe('lengths (packed sequences)', () => {
  it('output zero past each length, final state at the length; length 0 keeps the initial state', () => {
    manualSeed(2);
    for (const bidirectional of [false, true]) {
      const m = new nn.LSTM(2, 3, { batchFirst: true, bidirectional });
      const x = randn([3, 5, 2]);
      const h0 = randn([bidirectional ? 2 : 1, 3, 3]), c0 = randn([bidirectional ? 2 : 1, 3, 3]);
      const lengths = i32([5, 2, 0]);
      const r = m.forwardWithState(x, { h: h0, c: c0 }, { lengths });
      for (let i = 0; i < 3; i++) {
        // Sequence i alone, cut at its length, equals row i of the batch (state and valid outputs).
        const xi = narrow(narrow(x, 0, i, 1), 1, 0, lengths[i]!);
        const hi = narrow(h0, 1, i, 1), ci = narrow(c0, 1, i, 1);
        const alone = lengths[i]! > 0 ? m.forwardWithState(xi, { h: hi, c: ci }) : { output: null, h: hi, c: ci };
        expect([...narrow(r.h, 1, i, 1).data].map((v) => v.toFixed(5))).toEqual([...alone.h.data].map((v) => v.toFixed(5)));
        expect([...narrow(r.c!, 1, i, 1).data].map((v) => v.toFixed(5))).toEqual([...alone.c!.data].map((v) => v.toFixed(5)));
        const out = narrow(r.output, 0, i, 1);
        if (alone.output) expect([...narrow(out, 1, 0, lengths[i]!).data].map((v) => v.toFixed(5))).toEqual([...alone.output.data].map((v) => v.toFixed(5)));
        expect([...narrow(out, 1, lengths[i]!, 5 - lengths[i]!).data].every((v) => v === 0)).toBe(true);
      }
    }
  });
});

describe('dropout between layers', () => {
  it('in train() only, never after the last layer', () => {
    manualSeed(3);
    const m = new nn.GRU(2, 3, { numLayers: 2, dropout: 1, batchFirst: true });
    const x1 = randn([2, 4, 2]), x2 = randn([2, 4, 2]);
    // p = 1 in training zeroes layer 1's input: the output no longer depends on x.
    expect([...m.forward(x1).data]).toEqual([...m.forward(x2).data]);
    m.eval();
    expect([...m.forward(x1).data]).not.toEqual([...m.forward(x2).data]);
    const same = new nn.GRU(2, 3, { numLayers: 2, batchFirst: true });
    same.loadStateDict(m.stateDict());
    expect([...m.forward(x1).data]).toEqual([...same.forward(x1).data]); // eval: no dropout at all
    const one = new nn.GRU(2, 3, { dropout: 1, batchFirst: true }); // one layer: no dropout anywhere
    expect([...one.forward(x1).data]).not.toEqual([...one.forward(x2).data]);
  });
});

describe('truncated back-propagation through time', () => {
  it('chunks with the carried state give the whole sequence; detaching stops the gradient at the chunk boundary', () => {
    manualSeed(4);
    const m = new nn.LSTM(2, 3, { batchFirst: true, numLayers: 2 });
    const x = randn([2, 6, 2]);
    const whole = m.forward(x);
    const a = m.forwardWithState(narrow(x, 1, 0, 3));
    const x2 = narrow(x, 1, 3, 3).detach().requireGrad();
    const x1 = narrow(x, 1, 0, 3).detach().requireGrad();
    const a1 = m.forwardWithState(x1);
    const b = m.forwardWithState(x2, { h: a1.h.detach(), c: a1.c!.detach() });
    const joined = concat([a.output, b.output], 1);
    for (let i = 0; i < whole.size; i++) expect(joined.data[i]).toBeCloseTo(whole.data[i]!, 5);
    sum(b.output).backward();
    expect(x1.grad).toBeNull(); // the detached state carried no gradient back into chunk 1
    expect(x2.grad).not.toBeNull();
    const g = m.parameters().map((p) => Float32Array.from(p.grad!.data));
    // The same as chunk 2 alone from a constant initial state.
    for (const p of m.parameters()) p.grad = null;
    const again = m.forwardWithState(x2.detach(), { h: a1.h.detach(), c: a1.c!.detach() });
    sum(again.output).backward();
    m.parameters().forEach((p, k) => expect([...p.grad!.data]).toEqual([...g[k]!]));
  });
});

describe.each(backends)('gradients through time (finite differences, %s backend)', (b) => {
  // Inputs: x, the initial state(s), then every parameter; L = Σ w·[output, h(, c)].
  const flat = (r: { output: Tensor; h: Tensor; c: Tensor | null }): Tensor =>
    concat([reshape(r.output, [-1]), reshape(r.h, [-1]), ...(r.c ? [reshape(r.c, [-1])] : [])], 0);

  it('LSTM: 2 layers, bidirectional, batchFirst, lengths and an initial state', () => {
    setBackend(b);
    manualSeed(10);
    const m = new nn.LSTM(2, 2, { numLayers: 2, bidirectional: true, batchFirst: true });
    const f = (x: Tensor, h: Tensor, c: Tensor) => flat(m.forwardWithState(x, { h, c }, { lengths: i32([3, 1]) }));
    gradcheck('LSTM', f, [randn([2, 3, 2]), randn([4, 2, 2]), randn([4, 2, 2]), ...m.parameters()]);
  });

  it('GRU: time-major, no bias, lengths, initial h; and with bias, reversed', () => {
    setBackend(b);
    manualSeed(11);
    const m = new nn.GRU(3, 2, { bias: false });
    gradcheck('GRU', (x, h) => flat(m.forwardWithState(x, h, { lengths: i32([2, 4]) })), [randn([4, 2, 3]), randn([1, 2, 2]), ...m.parameters()]);
    const r = new nn.GRU(2, 3, { bidirectional: true });
    gradcheck('GRU bidirectional', (x) => flat(r.forwardWithState(x)), [randn([3, 1, 2]), ...r.parameters()]);
  });

  it('RNN tanh (2 layers) and relu', () => {
    setBackend(b);
    manualSeed(12);
    const t = new nn.RNN(2, 3, { numLayers: 2 });
    gradcheck('RNN tanh', (x, h) => flat(t.forwardWithState(x, h)), [randn([3, 2, 2]), randn([2, 2, 3]), ...t.parameters()]);
    const r = new nn.RNN(2, 3, { nonlinearity: 'relu', batchFirst: true });
    // Positive inputs and weights shifted up keep the pre-activations away from relu's kink.
    for (const p of r.parameters()) p.data.forEach((v, i, a) => { a[i] = Math.abs(v) + 0.1; });
    gradcheck('RNN relu', (x) => flat(r.forwardWithState(x, null, { lengths: i32([2, 3]) })), [abs(randn([2, 3, 2])), ...r.parameters()]);
  });

  it('LSTMCell, GRUCell, RNNCell over 2 steps', () => {
    setBackend(b);
    manualSeed(13);
    const lc = new nn.LSTMCell(2, 3);
    gradcheck('LSTMCell', (x, h, c) => {
      let s = { h, c };
      const hs: Tensor[] = [];
      for (let t = 0; t < 2; t++) { s = lc.forwardWithState(reshape(narrow(x, 0, t, 1), [2, 2]), s); hs.push(s.h, s.c); }
      return concat(hs, 0);
    }, [randn([2, 2, 2]), randn([2, 3]), randn([2, 3]), ...lc.parameters()]);
    for (const cell of [new nn.GRUCell(2, 3), new nn.RNNCell(2, 3), new nn.RNNCell(2, 3, { bias: false })]) {
      gradcheck(cell.constructor.name, (x, h) => cell.forward(reshape(narrow(x, 0, 1, 1), [2, 2]), cell.forward(reshape(narrow(x, 0, 0, 1), [2, 2]), h)),
        [randn([2, 2, 2]), randn([2, 3]), ...cell.parameters()]);
    }
  });
});

describe('save / load, Sequential, fit', () => {
  it('save and load keep the outputs (Sequential of Embedding, LSTM, Flatten, Linear); a contradicting file is refused', async () => {
    manualSeed(5);
    const dir = mkdtempSync(join(tmpdir(), 'fathom-rnn-'));
    const m = new nn.Sequential(
      new nn.Embedding(6, 3, { paddingIdx: 0 }), new nn.LSTM(3, 4, { batchFirst: true, bidirectional: true, numLayers: 2, dropout: 0.2 }),
      new nn.Flatten(), new nn.Linear(5 * 8, 2),
    );
    const x = tensor([[1, 2, 3, 0, 0], [5, 4, 3, 2, 1]], { dtype: 'int32' });
    const path = join(dir, 'seq.safetensors');
    await save(m, path);
    const again = await load(path);
    expect([...again.predict(x).data]).toEqual([...m.predict(x).data]);
    expect(again.toString()).toBe(m.toString());
    for (const layer of [new nn.GRU(2, 3, { bias: false, batchFirst: true }), new nn.RNN(2, 3, { nonlinearity: 'relu' }), new nn.GRUCell(2, 3), new nn.RNNCell(2, 3, { nonlinearity: 'relu' }), new nn.LSTMCell(2, 3, { bias: false })]) {
      const p = join(dir, `${layer.constructor.name}.safetensors`);
      await save(layer, p);
      const l2 = await load(p);
      expect(l2.config()).toEqual(layer.config());
      const xs = layer.constructor.name.endsWith('Cell') ? randn([2, 2]) : randn([2, 3, 2]);
      expect([...noGrad(() => l2.forward(xs)).data]).toEqual([...noGrad(() => layer.forward(xs)).data]);
    }
    // A file whose weights contradict its config (hiddenSize changed) is refused before building.
    const bad = join(dir, 'bad.safetensors');
    await save(new nn.Sequential(new nn.GRU(2, 3)), bad);
    const { readFileSync, writeFileSync } = await import('node:fs');
    const text = readFileSync(bad, 'latin1');
    const edited = text.replace(/hiddenSize(\\?)":3/, 'hiddenSize$1":4');
    expect(edited).not.toBe(text);
    writeFileSync(bad, edited, 'latin1');
    await expect(load(bad)).rejects.toThrow(/weight_ih_l0|shape/);
  });

  it('an LSTM learns to output the first token of a sequence (fit, last step → Linear)', async () => {
    manualSeed(6);
    class FirstToken extends nn.Module {
      emb = new nn.Embedding(4, 4);
      lstm = new nn.LSTM(4, 12, { batchFirst: true });
      head = new nn.Linear(12, 4);
      forward(x: Tensor): Tensor {
        const r = this.lstm.forwardWithState(this.emb.forward(x));
        return this.head.forward(reshape(r.h, [-1, 12])); // the state after the last step
      }
    }
    const n = 256, T = 5;
    const xs = new Int32Array(n * T), ys = new Int32Array(n);
    let s = 7;
    const next = () => (s = (s * 1103515245 + 12345) % 2147483648) % 4;
    for (let i = 0; i < n; i++) { for (let t = 0; t < T; t++) xs[i * T + t] = next(); ys[i] = xs[i * T]!; }
    const model = new FirstToken();
    const h = await model.fit(tensor(xs, [n, T], { dtype: 'int32' }), tensor(ys, { dtype: 'int32' }),
      { loss: 'crossEntropy', optimizer: 'adam', lr: 0.02, epochs: 25, batchSize: 32, seed: 1, verbose: 0, clipGradNorm: 1 });
    expect(h.history.accuracy!.at(-1)).toBeGreaterThan(0.95);
  });
});
