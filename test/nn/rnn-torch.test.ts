/**
 * Issue #11: PyTorch's recurrent layers and Embedding, state dicts loaded by name, give the
 * same outputs, final states and gradients in fathom, on both backends. The fixture was made
 * once with PyTorch 1.13 by test/nn/fixtures/torch-rnn.py (read it for what the files hold):
 * a 2-layer bidirectional batch-first LSTM with packed sequences (lengths) and an initial
 * state, and again at full length from zeros; a bidirectional time-major GRU with lengths; a
 * 2-layer ReLU RNN with lengths; LSTMCell / GRUCell / RNNCell stepped 3 times; an Embedding
 * with padding_idx. The loss is L = Σ w·output + Σ w·h (+ Σ w·c) with the file's weights w.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, add, mul, nn, readStateDict, setBackend, sum } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** torch-rnn.py's nn.ModuleDict, model for model (its state-dict names are '<model>.<name>'). */
class Models extends nn.Module {
  lstm = new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true });
  gru = new nn.GRU(3, 5, { bidirectional: true });
  rnn = new nn.RNN(3, 4, { numLayers: 2, nonlinearity: 'relu' });
  lstmCell = new nn.LSTMCell(3, 4);
  gruCell = new nn.GRUCell(3, 4);
  rnnCell = new nn.RNNCell(3, 4);
  emb = new nn.Embedding(10, 4, { paddingIdx: 2 });
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Every |got − want| <= atol + rtol·|want|; the message names the worst index and both values. */
function expectClose(got: Tensor | null, want: Tensor, what: string, rtol = 1e-4, atol = 1e-5): void {
  expect(got, `${what}: missing`).not.toBeNull();
  expect(got!.shape, `${what}: shape`).toEqual(want.shape);
  let worst = -1;
  let excess = 0;
  for (let i = 0; i < want.size; i++) {
    const e = Math.abs(got!.data[i]! - want.data[i]!) - (atol + rtol * Math.abs(want.data[i]!));
    if (!(e <= excess)) { excess = e; worst = i; }
  }
  expect(worst, worst < 0 ? '' : `${what}: index ${worst}: fathom ${got!.data[worst]}, PyTorch ${want.data[worst]}`).toBe(-1);
}

let io: Record<string, Tensor>;
let weights: Record<string, Tensor>;
beforeAll(async () => {
  io = await readStateDict(fixture('torch-rnn-io.safetensors'));
  weights = await readStateDict(fixture('torch-rnn.safetensors'));
});
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

/** A fresh leaf copy of a fixture tensor that collects gradients. */
const leaf = (name: string): Tensor => io[name]!.clone().requireGrad();

/** L = Σ_k w_k · outs[k] with the fixture's probe weights '<prefix>.w<k>'. */
function probe(prefix: string, outs: Record<string, Tensor>): Tensor {
  let loss: Tensor | null = null;
  for (const [k, v] of Object.entries(outs)) {
    expectClose(v, io[`${prefix}.${k}`]!, `${prefix}.${k}`);
    const term = sum(mul(v, io[`${prefix}.w${k}`]!));
    loss = loss ? add(loss, term) : term;
  }
  return loss!;
}

/** The gradients of the module's parameters and of the named inputs equal PyTorch's. */
function expectGrads(prefix: string, m: nn.Module, inputs: Record<string, Tensor>): void {
  for (const [n, p] of m.namedParameters()) expectClose(p.grad, io[`grad.${prefix}.${n}`]!, `grad.${prefix}.${n}`);
  for (const [n, t] of Object.entries(inputs)) expectClose(t.grad, io[`grad.${prefix}.${n}`]!, `grad.${prefix}.${n}`);
}

async function loaded(): Promise<Models> {
  const m = new Models();
  m.loadStateDict(weights);
  return m;
}

describe('PyTorch recurrent layers (safetensors state dicts) in fathom', () => {
  it('every PyTorch name maps to a fathom parameter of the same shape, and back', () => {
    const mine = new Models().stateDict();
    expect(Object.keys(mine).sort()).toEqual(Object.keys(weights).sort());
    for (const [n, t] of Object.entries(mine)) expect(t.shape, n).toEqual(weights[n]!.shape);
    // PyTorch's order within a layer: per layer, per direction: weight_ih, weight_hh, bias_ih, bias_hh.
    expect(Object.keys(new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true }).stateDict()).slice(0, 6)).toEqual([
      'weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0', 'weight_ih_l0_reverse', 'weight_hh_l0_reverse',
    ]);
  });

  for (const b of backends) {
    describe(`on the ${b} backend`, () => {
      beforeAll(() => setBackend(b));

      it('LSTM, 2 layers, bidirectional, batchFirst, packed lengths and an initial state: output, h, c and every gradient', async () => {
        const m = await loaded();
        const x = leaf('lstm.x'), h0 = leaf('lstm.h0'), c0 = leaf('lstm.c0');
        const r = m.lstm.forwardWithState(x, { h: h0, c: c0 }, { lengths: io['lstm.lengths'] });
        probe('lstm', { output: r.output, h: r.h, c: r.c! }).backward();
        expectGrads('lstm', m.lstm, { x, h0, c0 });
      });

      it('the same LSTM at full length from a zero state (forward(x) is the output)', async () => {
        const m = await loaded();
        const x = leaf('lstmFull.x');
        const r = m.lstm.forwardWithState(x);
        expectClose(m.lstm.forward(x), io['lstmFull.output']!, 'forward(x)');
        probe('lstmFull', { output: r.output, h: r.h, c: r.c! }).backward();
        expectGrads('lstmFull', m.lstm, { x });
      });

      it('GRU, bidirectional, time-major, lengths as an int32 Tensor, initial h', async () => {
        const m = await loaded();
        const x = leaf('gru.x'), h0 = leaf('gru.h0');
        const r = m.gru.forwardWithState(x, h0, { lengths: io['gru.lengths'] });
        expect(r.c).toBeNull();
        probe('gru', { output: r.output, h: r.h }).backward();
        expectGrads('gru', m.gru, { x, h0 });
      });

      it('RNN relu, 2 layers, lengths as an Int32Array', async () => {
        const m = await loaded();
        const x = leaf('rnn.x');
        const r = m.rnn.forwardWithState(x, undefined, { lengths: io['rnn.lengths']!.data as Int32Array });
        probe('rnn', { output: r.output, h: r.h }).backward();
        expectGrads('rnn', m.rnn, { x });
      });

      it('LSTMCell, GRUCell and RNNCell in a hand-written 3-step loop', async () => {
        const m = await loaded();
        for (const name of ['lstmCell', 'gruCell', 'rnnCell'] as const) {
          const x = leaf(`${name}.x`), h0 = leaf(`${name}.h0`);
          const inputs: Record<string, Tensor> = { x, h0 };
          const outs: Record<string, Tensor> = {};
          let h = h0;
          let c = name === 'lstmCell' ? (inputs.c0 = leaf(`${name}.c0`)) : null;
          for (let t = 0; t < 3; t++) {
            const xt = x.index(new Tensor(new Int32Array([t]), []), 0);
            if (name === 'lstmCell') {
              ({ h, c } = m.lstmCell.forwardWithState(xt, { h, c }));
              outs[`cStep${t}`] = c!;
            } else {
              h = m[name].forward(xt, h);
            }
            outs[`hStep${t}`] = h;
          }
          probe(name, outs).backward();
          expectGrads(name, m[name], inputs);
        }
      });

      it('Embedding with paddingIdx: the rows, and a gradient only in the rows used (none in the padding row)', async () => {
        const m = await loaded();
        const out = m.emb.forward(io['emb.indices']!);
        probe('emb', { output: out }).backward();
        expectGrads('emb', m.emb, {});
        const g = m.emb.weight.grad!.data;
        for (const row of [2, 7]) for (let j = 0; j < 4; j++) expect(g[row * 4 + j]).toBe(0);
      });
    });
  }
});
