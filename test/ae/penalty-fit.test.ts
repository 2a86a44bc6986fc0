// Activity penalties through fit() and evaluate(): the loss fit minimises and reports is the data
// loss plus the CURRENT batch's penalty, once (checked by value and by the weights after a step
// against a hand-written loop); evaluate() adds each batch's penalty (Keras's test_step does).
import { afterAll, describe, expect, it } from 'vitest';
import { losses, manualSeed, nn, optim, setBackend, tensor, type Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { randomArray } from '../helpers/random.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

const kl = (rho: number, r: number): number => rho * Math.log(rho / r) + (1 - rho) * Math.log((1 - rho) / (1 - r));

/** The activity penalty computed by hand (float64) from hidden activations h [N, D]. */
function handPenalty(kind: 'kl' | 'l1l2', h: Tensor): number {
  const [n, d] = h.shape;
  const v = h.data;
  if (kind === 'kl') {
    let s = 0;
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += v[i * d + j];
      s += kl(0.1, m / n);
    }
    return 0.5 * s; // beta 0.5
  }
  let a = 0, q = 0;
  for (const x of v) { a += Math.abs(x); q += x * x; }
  return (0.01 * a + 0.02 * q) / n;
}

function mseHand(p: Tensor, t: Tensor): number {
  let s = 0;
  for (let i = 0; i < p.size; i++) s += (p.data[i] - t.data[i]) ** 2;
  return s / p.size;
}

function build(kind: 'kl' | 'l1l2'): { enc: nn.Sequential; dec: nn.Linear; model: nn.Sequential } {
  manualSeed(7);
  const enc = new nn.Sequential(new nn.Linear(6, 4), kind === 'kl' ? new nn.Sigmoid() : new nn.ReLU());
  const reg = kind === 'kl' ? new nn.KLSparsity({ rho: 0.1, beta: 0.5 }) : new nn.ActivityRegularization({ l1: 0.01, l2: 0.02 });
  const dec = new nn.Linear(4, 6);
  return { enc, dec, model: new nn.Sequential(enc, reg, dec) };
}

describe.each(backends)('activity penalties in fit and evaluate (%s backend)', (name) => {
  for (const kind of ['kl', 'l1l2'] as const) {
    it(`${kind}: fit's loss is the data loss + this batch's penalty, applied once`, async () => {
      setBackend(name);
      const x = tensor(randomArray(8 * 6, 11, 0, 1), [8, 6]);
      const { enc, dec, model } = build(kind);
      const twin = build(kind); // same seed: the same initial weights
      // Expected first-batch loss, by hand from the initial weights.
      const h = enc.predict(x);
      const want = mseHand(dec.predict(h), x) + handPenalty(kind, h);
      expect(handPenalty(kind, h)).toBeGreaterThan(1e-3); // the penalty is not negligible here
      const logged: number[] = [];
      await model.fit(x, x, {
        loss: 'mse', optimizer: new optim.SGD(model.parameters(), { lr: 0.5 }), epochs: 1, batchSize: 8, shuffle: false, verbose: 0,
        callbacks: { onBatchEnd: (_b, l) => void logged.push(l.loss) },
      });
      expect(logged).toHaveLength(1);
      expect(logged[0]).toBeCloseTo(want, 5);
      // The same step by hand: loss = mse + regularizationLoss() (the penalty once), SGD.
      const opt = new optim.SGD(twin.model.parameters(), { lr: 0.5 });
      const loss = losses.mse(twin.model.forward(x), x).add(twin.model.regularizationLoss()!);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      const a = model.parameters(), b = twin.model.parameters();
      for (let i = 0; i < a.length; i++) {
        const d = Array.from(a[i].data).map((v, j) => Math.abs(v - b[i].data[j]));
        expect(Math.max(...d), `parameter ${i}`).toBeLessThan(1e-6);
      }
      // ... and without the penalty the step is measurably different (the test can see a missing or doubled term).
      const plain = build(kind);
      const opt2 = new optim.SGD(plain.model.parameters(), { lr: 0.5 });
      opt2.zeroGrad();
      losses.mse(plain.model.forward(x), x).backward();
      opt2.step();
      const w = plain.model.parameters()[0].data;
      expect(Math.max(...Array.from(a[0].data).map((v, j) => Math.abs(v - w[j])))).toBeGreaterThan(1e-5);
    });

    it(`${kind}: evaluate() adds each batch's penalty (after that batch's forward, in eval mode)`, async () => {
      setBackend(name);
      const x = tensor(randomArray(7 * 6, 12, 0, 1), [7, 6]);
      const { enc, dec, model } = build(kind);
      // a training forward on other data first: its penalty must not leak into evaluate
      model.forward(tensor(randomArray(5 * 6, 13, 0, 1), [5, 6]));
      let want = 0;
      for (const [s, e] of [[0, 3], [3, 6], [6, 7]]) {
        const xb = x.slice(s, e, 0);
        const h = enc.predict(xb);
        want += (mseHand(dec.predict(h), xb) + handPenalty(kind, h)) * (e - s);
      }
      const r = await model.evaluate(x, x, { loss: 'mse', batchSize: 3 });
      expect(r.loss).toBeCloseTo(want / 7, 5);
    });
  }
});
