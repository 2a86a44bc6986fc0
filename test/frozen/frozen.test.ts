// Frozen parameters (#12: "`layer.trainable = false` / `freeze()` respected by
// `fit` and every optimizer"). module.freeze() sets requiresGrad = false on the
// module's parameters; the gradient rules then compute nothing for them, and
// every optimizer's step() skips a parameter that does not require grad — even
// one that still holds a gradient (PyTorch would update a frozen parameter whose
// .grad is not None; fathom never moves a frozen one). Its optimizer state is
// kept untouched and is used again once the module is unfrozen (as PyTorch).
//
// BatchNorm: freeze() stops its weight and bias only. In training mode its
// running statistics keep being updated, as PyTorch's requires_grad_(False)
// does; Keras's `trainable = False` instead runs a BatchNormalization layer in
// inference mode. fathom follows PyTorch: keep a frozen BN's statistics fixed
// with bn.eval() after model.train() (in fit: from onBatchBegin, which runs
// after fit's model.train()). Both are tested below.
import { afterAll, describe, expect, it } from 'vitest';
import {
  Tensor, add, info, losses, manualSeed, nn, optim, prune, randn, setBackend, square, sum,
} from '../../lib/index.js';
import type { Optimizer } from '../../lib/optimizers/optimizer.js';

const initial = info().backend;
afterAll(() => setBackend(initial));

class Net extends nn.Module {
  body: nn.Sequential;
  head: nn.Linear;
  constructor(reg?: { l1?: number; l2?: number }) {
    super();
    manualSeed(11);
    const o = reg ? { weightRegularizer: reg, biasRegularizer: reg } : {};
    this.body = new nn.Sequential(new nn.Linear(4, 6, o), new nn.Tanh(), new nn.Linear(6, 6, o), new nn.Tanh());
    this.head = new nn.Linear(6, 3, o);
  }
  forward(x: Tensor): Tensor {
    return this.head.forward(this.body.forward(x));
  }
}

function data(n = 32): { x: Tensor; y: Tensor } {
  manualSeed(5);
  const x = randn([n, 4]);
  const y = new Tensor(Int32Array.from({ length: n }, (_, i) => (i * 7) % 3), [n]);
  return { x, y };
}

/** The bits of every parameter (and buffer) by name: bit-identical means equal Uint32 words (−0 ≠ +0, NaN payloads). */
function bits(m: nn.Module): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [n, t] of m.namedState()) {
    const d = t.data as Float32Array | Int32Array;
    out.set(n, Array.from(new Uint32Array(d.buffer, d.byteOffset, d.length)));
  }
  return out;
}
const pick = (b: Map<string, number[]>, prefix: string) => new Map([...b].filter(([n]) => n.startsWith(prefix)));
/** Names (under prefix) whose value did not change at all. */
const unmoved = (a: Map<string, number[]>, b: Map<string, number[]>, prefix: string) =>
  [...pick(a, prefix)].filter(([n, v]) => JSON.stringify(v) === JSON.stringify(b.get(n))).map(([n]) => n);

function manualSteps(net: nn.Module, opt: Optimizer, steps: number, { x, y } = data()): void {
  for (let i = 0; i < steps; i++) {
    const loss = losses.crossEntropy(net.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
  }
}

/** The optimizer state as plain arrays (comparable with toEqual). */
function plainState(opt: Optimizer): Record<string, Record<string, number | number[]>> {
  const out: Record<string, Record<string, number | number[]>> = {};
  for (const [i, s] of Object.entries(opt.stateDict().state)) {
    out[i] = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, typeof v === 'number' ? v : Array.from(v.data as Float32Array)]));
  }
  return out;
}

const OPTIMIZERS: [string, (p: Tensor[]) => Optimizer][] = [
  ['SGD (momentum, nesterov, weightDecay)', (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ['Adam', (p) => new optim.Adam(p, { lr: 0.01, weightDecay: 0.01 })],
  ['AdamW (weightDecay)', (p) => new optim.AdamW(p, { lr: 0.01, weightDecay: 0.1 })],
  ['Adam (amsgrad)', (p) => new optim.Adam(p, { lr: 0.01, amsgrad: true })],
  ['AdamW (amsgrad)', (p) => new optim.AdamW(p, { lr: 0.01, amsgrad: true, weightDecay: 0.1 })],
  ['Adagrad (lrDecay, initialAccumulatorValue, weightDecay)', (p) => new optim.Adagrad(p, { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 0.01 })],
  ['RMSprop (centered, momentum, weightDecay)', (p) => new optim.RMSprop(p, { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.01 })],
  ['Adadelta (weightDecay)', (p) => new optim.Adadelta(p, { lr: 1, weightDecay: 0.01 })],
  ['Adamax (weightDecay)', (p) => new optim.Adamax(p, { lr: 0.01, weightDecay: 0.01 })],
];

const BODY = ['body.0.weight', 'body.0.bias', 'body.2.weight', 'body.2.bias'];
const HEAD = ['head.weight', 'head.bias'];

for (const be of ['native', 'ts'] as const) {
  describe(`frozen parameters, ${be} backend`, () => {
    for (const [name, make] of OPTIMIZERS) {
      describe(name, () => {
        it('freeze() before the optimizer is made: fit leaves the frozen part bit-identical, moves the rest; no state for frozen params', async () => {
          setBackend(be);
          const net = new Net();
          net.body.freeze();
          const opt = make(net.parameters());
          const before = bits(net);
          const { x, y } = data();
          await net.fit(x, y, { loss: 'crossEntropy', optimizer: opt, epochs: 2, batchSize: 8, seed: 1, verbose: 0 });
          const after = bits(net);
          expect(unmoved(before, after, 'body.')).toEqual(BODY);
          expect(unmoved(before, after, 'head.')).toEqual([]);
          // stateDict indices follow opt.params (= net.parameters(): head first, then body).
          const idx = (p: Tensor) => opt.params.indexOf(p);
          expect(Object.keys(opt.stateDict().state).map(Number).sort()).toEqual([idx(net.head.weight), idx(net.head.bias!)].sort());
        });

        it('freeze() after the optimizer is made (manual loop): bit-identical, state untouched; unfreeze() resumes from that state', () => {
          setBackend(be);
          const net = new Net();
          const opt = make(net.parameters());
          manualSteps(net, opt, 2);
          net.body.freeze();
          const before = bits(net);
          const stateBefore = plainState(opt);
          manualSteps(net, opt, 3);
          const mid = bits(net);
          expect(unmoved(before, mid, 'body.')).toEqual(BODY);
          expect(unmoved(before, mid, 'head.')).toEqual([]);
          const bodyIdx = net.body.parameters().map((p) => String(opt.params.indexOf(p)));
          const stateMid = plainState(opt);
          const dictMid = opt.stateDict();
          const weightsMid = Object.fromEntries(net.namedState().map(([n, t]) => [n, t.clone()]));
          for (const i of bodyIdx) expect(stateMid[i], `state of frozen parameter ${i}`).toEqual(stateBefore[i]);

          // Unfrozen: the body moves again, continuing from its kept state (step counts go on from 2).
          net.body.unfreeze();
          manualSteps(net, opt, 1);
          expect(unmoved(mid, bits(net), 'body.')).toEqual([]);
          const stateAfter = plainState(opt);
          for (const i of bodyIdx) {
            if (typeof stateMid[i].step === 'number') expect(stateAfter[i].step).toBe((stateMid[i].step as number) + 1);
          }
          // The same step from the kept state, replayed on a copy, gives the same weights:
          // resuming is exactly "the state as it was at freezing time".
          const twin = new Net();
          twin.loadStateDict(weightsMid);
          const twinOpt = make(twin.parameters());
          twinOpt.loadStateDict(dictMid);
          manualSteps(twin, twinOpt, 1);
          expect(bits(twin)).toEqual(bits(net));
        });

        it('a module frozen between backward() and step() is not moved although it holds a gradient', () => {
          setBackend(be);
          const net = new Net();
          const opt = make(net.parameters());
          const { x, y } = data();
          const loss = losses.crossEntropy(net.forward(x), y);
          opt.zeroGrad();
          loss.backward();
          expect(net.body.parameters().every((p) => p.grad !== null)).toBe(true);
          net.body.freeze();
          const before = bits(net);
          opt.step();
          const after = bits(net);
          expect(unmoved(before, after, 'body.')).toEqual(BODY);
          expect(unmoved(before, after, 'head.')).toEqual([]);
        });
      });
    }

    it('fit: a module frozen by a callback mid-training stays as it was from then on; the optimizer may hold only the trainable params', async () => {
      setBackend(be);
      const net = new Net();
      const { x, y } = data();
      let atFreeze: Map<string, number[]> | null = null;
      await net.fit(x, y, {
        loss: 'crossEntropy', optimizer: new optim.Adam(net.parameters(), { lr: 0.01 }), epochs: 3, batchSize: 8, seed: 1, verbose: 0,
        callbacks: { onEpochEnd: (e: number) => { if (e === 0) { net.body.freeze(); atFreeze = bits(net); } } },
      });
      const end = bits(net);
      expect(unmoved(atFreeze!, end, 'body.')).toEqual(BODY);
      expect(unmoved(atFreeze!, end, 'head.')).toEqual([]);
      // PyTorch's idiom: an optimizer over the trainable parameters only.
      const net2 = new Net();
      net2.body.freeze();
      const b2 = bits(net2);
      await net2.fit(x, y, { loss: 'crossEntropy', optimizer: new optim.SGD(net2.parameters().filter((p) => p.requiresGrad), { lr: 0.1, momentum: 0.9 }), epochs: 2, batchSize: 8, verbose: 0 });
      expect(unmoved(b2, bits(net2), 'body.')).toEqual(BODY);
      expect(unmoved(b2, bits(net2), 'head.')).toEqual([]);
    });

    it('clipGradNorm (fit and by hand) counts and scales only the trainable gradients', async () => {
      setBackend(be);
      const net = new Net();
      net.body.freeze();
      const { x, y } = data();
      const opt = new optim.SGD(net.parameters(), { lr: 0.1 });
      const loss = losses.crossEntropy(net.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      expect(net.body.parameters().map((p) => p.grad)).toEqual([null, null, null, null]);
      let sq = 0;
      for (const p of net.head.parameters()) for (const g of p.grad!.data) sq += g * g;
      const total = nn.utils.clipGradNorm(net.parameters(), 1e-3);
      expect(total).toBeCloseTo(Math.sqrt(sq), 5);
      let sqAfter = 0;
      for (const p of net.head.parameters()) for (const g of p.grad!.data) sqAfter += g * g;
      expect(Math.sqrt(sqAfter)).toBeCloseTo(1e-3, 6);
      // A second backward after zeroGrad: the frozen ones' gradient buffers stay absent.
      const before = bits(net);
      await net.fit(x, y, { loss: 'crossEntropy', optimizer: opt, epochs: 1, batchSize: 8, clipGradNorm: 0.01, clipGradValue: 0.001, verbose: 0 });
      expect(unmoved(before, bits(net), 'body.')).toEqual(BODY);
      expect(unmoved(before, bits(net), 'head.')).toEqual([]);
    });

    it('L1/L2 penalties on a frozen Linear do not move it (fit: direct penalties; by hand: regularizationLoss on the tape; a custom taped penalty)', async () => {
      setBackend(be);
      const { x, y } = data();
      const net = new Net({ l1: 0.05, l2: 0.05 });
      net.body.freeze();
      const b0 = bits(net);
      const h = await net.fit(x, y, { loss: 'crossEntropy', optimizer: new optim.SGD(net.parameters(), { lr: 0.1, weightDecay: 0.1 }), epochs: 2, batchSize: 8, verbose: 0 });
      expect(Number.isFinite(h.history.loss[1])).toBe(true);
      expect(unmoved(b0, bits(net), 'body.')).toEqual(BODY);
      expect(unmoved(b0, bits(net), 'head.')).toEqual([]);

      const opt = new optim.Adam(net.parameters(), { lr: 0.01 });
      const b1 = bits(net);
      for (let i = 0; i < 2; i++) {
        const loss = add(losses.crossEntropy(net.forward(x), y), net.regularizationLoss()!);
        opt.zeroGrad();
        loss.backward();
        opt.step();
      }
      expect(unmoved(b1, bits(net), 'body.')).toEqual(BODY);

      // A module overriding ownRegularizationLoss: fit records it on the tape.
      class Penalised extends nn.Linear {
        override ownRegularizationLoss(): Tensor { return sum(square(this.weight)).mul(0.5); }
      }
      manualSeed(3);
      const net2 = new nn.Sequential(new Penalised(4, 5), new nn.Tanh(), new nn.Linear(5, 3));
      (net2.layers[0] as nn.Module).freeze();
      const b2 = bits(net2);
      await net2.fit(x, y, { loss: 'crossEntropy', optimizer: new optim.RMSprop(net2.parameters(), { lr: 0.01 }), epochs: 2, batchSize: 8, verbose: 0 });
      expect(unmoved(b2, bits(net2), '0.')).toEqual(['0.weight', '0.bias']);
      expect(unmoved(b2, bits(net2), '2.')).toEqual([]);
    });

    it('prune masks + frozen: a frozen pruned layer stays bit-identical; unfrozen, its pruned entries stay 0 while the rest move', async () => {
      setBackend(be);
      const { x, y } = data();
      const net = new Net();
      prune.magnitude(net, { sparsity: 0.5 });
      const zerosOf = (t: Tensor) => Array.from(t.data as Float32Array).flatMap((v, i) => (v === 0 ? [i] : []));
      const w0 = (net.body.layers[0] as nn.Linear).weight;
      const pruned = zerosOf(w0);
      expect(pruned.length).toBeGreaterThan(0);
      net.body.freeze();
      const b0 = bits(net);
      await net.fit(x, y, { loss: 'crossEntropy', optimizer: new optim.AdamW(net.parameters(), { lr: 0.01, weightDecay: 0.1 }), epochs: 2, batchSize: 8, verbose: 0 });
      const b1 = bits(net);
      expect(unmoved(b0, b1, 'body.').filter((n) => !n.endsWith('_mask'))).toEqual(BODY);
      expect(zerosOf(net.head.weight).length).toBeGreaterThan(0);
      net.body.unfreeze();
      await net.fit(x, y, { loss: 'crossEntropy', optimizer: new optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 }), epochs: 2, batchSize: 8, verbose: 0 });
      expect(unmoved(b1, bits(net), 'body.').filter((n) => !n.endsWith('_mask'))).toEqual([]);
      const stillZero = zerosOf(w0);
      for (const i of pruned) expect(stillZero).toContain(i);
    });

    it('a frozen middle layer still passes gradients to the layers below it (Linear, LSTM over a trainable Embedding, Conv2d)', async () => {
      setBackend(be);
      const { x, y } = data();
      const net = new Net();
      (net.body.layers[2] as nn.Module).freeze();
      const b0 = bits(net);
      await net.fit(x, y, { loss: 'crossEntropy', optimizer: new optim.Adam(net.parameters(), { lr: 0.01 }), epochs: 1, batchSize: 8, verbose: 0 });
      expect(unmoved(b0, bits(net), '')).toEqual(['body.2.weight', 'body.2.bias']);

      class Seq extends nn.Module {
        emb = new nn.Embedding(10, 4, { seed: 1 });
        lstm = new nn.LSTM(4, 5, { batchFirst: true, seed: 2 });
        head = new nn.Linear(5, 3);
        forward(ids: Tensor): Tensor {
          const out = this.lstm.forward(this.emb.forward(ids)); // [N, T, 5]
          return this.head.forward(out.slice(out.shape[1] - 1, out.shape[1], 1).reshape([ids.shape[0], 5]));
        }
      }
      manualSeed(8);
      const seq = new Seq();
      seq.lstm.freeze();
      const ids = new Tensor(Int32Array.from({ length: 16 * 6 }, (_, i) => (i * 7 + (i >> 3)) % 10), [16, 6]);
      const yl = new Tensor(Int32Array.from({ length: 16 }, (_, i) => i % 3), [16]);
      const s0 = bits(seq);
      const opt = new optim.RMSprop(seq.parameters(), { lr: 0.01, momentum: 0.5 });
      manualSteps(seq, opt, 2, { x: ids, y: yl });
      const s1 = bits(seq);
      expect(unmoved(s0, s1, 'lstm.').length).toBe(seq.lstm.parameters().length);
      expect(unmoved(s0, s1, 'emb.')).toEqual([]);
      expect(unmoved(s0, s1, 'head.')).toEqual([]);

      manualSeed(9);
      const cnn = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.ReLU(), new nn.Conv2d(2, 2, 3), new nn.Flatten(), new nn.Linear(2 * 2 * 2, 3));
      (cnn.layers[2] as nn.Module).freeze();
      const img = randn([8, 1, 6, 6]);
      const c0 = bits(cnn);
      manualSteps(cnn, new optim.SGD(cnn.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }), 2, { x: img, y: yl.slice(0, 8) });
      expect(unmoved(c0, bits(cnn), '')).toEqual(['2.weight', '2.bias']);
    });

    it('clipGradNorm skips the stale gradient of a module frozen after backward(), as step() does', () => {
      setBackend(be);
      const net = new Net();
      const { x, y } = data();
      const loss = losses.crossEntropy(net.forward(x), y);
      loss.backward();
      let sq = 0;
      for (const p of net.head.parameters()) for (const g of p.grad!.data) sq += g * g;
      net.body.freeze();
      // PyTorch's clip_grad_norm_ counts every p.grad that is not None; fathom's step() skips a frozen
      // parameter whatever its gradient, so the norm that scales the trainable gradients should too.
      expect(nn.utils.clipGradNorm(net.parameters(), 1e9)).toBeCloseTo(Math.sqrt(sq), 5);
    });

    it('RBM.cdStep refuses a frozen RBM, naming the freeze, and changes nothing', () => {
      setBackend(be);
      manualSeed(4);
      const rbm = new nn.RBM(6, 4);
      rbm.freeze();
      const v = new Tensor(Float32Array.from({ length: 8 * 6 }, (_, i) => (i * 5) % 3 === 0 ? 1 : 0), [8, 6]);
      const b0 = bits(rbm);
      expect(() => rbm.cdStep(v, { lr: 0.1 })).toThrow(/frozen/);
      expect(bits(rbm)).toEqual(b0);
    });

    describe('a frozen BatchNorm', () => {
      const bnNet = () => {
        manualSeed(2);
        return new nn.Sequential(new nn.Linear(4, 6), new nn.BatchNorm1d(6), new nn.ReLU(), new nn.Linear(6, 3));
      };
      const stats = ['1.running_mean', '1.running_var', '1.num_batches_tracked'];

      it('keeps updating its running statistics in training mode (PyTorch semantics); weight and bias stay bit-identical', async () => {
        setBackend(be);
        const net = bnNet();
        (net.layers[1] as nn.Module).freeze();
        const { x, y } = data();
        const b0 = bits(net);
        await net.fit(x, y, { loss: 'crossEntropy', optimizer: new optim.Adam(net.parameters(), { lr: 0.01 }), epochs: 1, batchSize: 8, verbose: 0 });
        const b1 = bits(net);
        expect(unmoved(b0, b1, '1.')).toEqual(['1.weight', '1.bias']);
        expect(net.stateDict()['1.num_batches_tracked'].item()).toBe(4);
        expect(unmoved(b0, b1, '0.')).toEqual([]);
      });

      it('Keras-style (inference mode): bn.eval() after model.train() keeps the statistics too — by hand and in fit via onBatchBegin', async () => {
        setBackend(be);
        const { x, y } = data();
        const net = bnNet();
        const bn = net.layers[1] as nn.Module;
        bn.freeze();
        const opt = new optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
        const b0 = bits(net);
        net.train();
        bn.eval();
        manualSteps(net, opt, 3);
        const b1 = bits(net);
        expect(unmoved(b0, b1, '1.')).toEqual(['1.weight', '1.bias', ...stats]);
        expect(unmoved(b0, b1, '0.')).toEqual([]);
        await net.fit(x, y, { loss: 'crossEntropy', optimizer: opt, epochs: 2, batchSize: 8, verbose: 0, callbacks: { onBatchBegin: () => { bn.eval(); } } });
        const b2 = bits(net);
        expect(unmoved(b1, b2, '1.')).toEqual(['1.weight', '1.bias', ...stats]);
        expect(unmoved(b1, b2, '3.')).toEqual([]);
      });
    });
  });
}
