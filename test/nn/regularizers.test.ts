/**
 * L1/L2 regularizers on nn.Linear (Keras's L1L2: l1·Σ|w| + l2·Σw², no ½),
 * Module.regularizationLoss() and fit()'s use of it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { load, losses, manualSeed, nn, noGrad, optim, randn, save, tensor, type Tensor } from '../../lib/index.js';
import { gradcheck } from '../helpers/gradcheck.js';

const dir = mkdtempSync(join(tmpdir(), 'fathom-reg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function setWeights(l: nn.Linear, w: number[], b: number[]): void {
  (l.weight.data as Float32Array).set(w);
  (l.bias!.data as Float32Array).set(b);
}
const l2norm = (t: Tensor) => Math.sqrt([...t.data].reduce((s, v) => s + v * v, 0));

describe('regularizationLoss', () => {
  it('is l1·Σ|W| + l2·ΣW² (+ the bias term), and its gradient is l1·sign(w) + 2·l2·w', () => {
    const l = new nn.Linear(2, 2, { weightRegularizer: { l1: 0.1, l2: 0.01 }, biasRegularizer: { l2: 0.5 } });
    setWeights(l, [1, -2, 0.5, 3], [2, -1]);
    const p = l.regularizationLoss()!;
    // 0.1·(1 + 2 + 0.5 + 3) + 0.01·(1 + 4 + 0.25 + 9) + 0.5·(4 + 1) = 0.65 + 0.1425 + 2.5
    expect(p.item()).toBeCloseTo(3.2925, 5);
    p.backward();
    const w = [1, -2, 0.5, 3];
    expect([...l.weight.grad!.data].map((v) => +v.toFixed(6))).toEqual(w.map((v) => +(0.1 * Math.sign(v) + 0.02 * v).toFixed(6)));
    expect([...l.bias!.grad!.data]).toEqual([2, -1]);
  });

  it('passes a finite-difference gradient check (away from w = 0, where |w| has a kink)', () => {
    manualSeed(2);
    const l = new nn.Linear(3, 2, { weightRegularizer: { l1: 0.3, l2: 0.2 } });
    (l.weight.data as Float32Array).set([0.5, -0.7, 0.9, -1.1, 1.3, -0.4]);
    gradcheck('regularizationLoss', (w) => {
      (l as unknown as { weight: Tensor }).weight = nn.parameter(w);
      return l.regularizationLoss()!;
    }, [l.weight.clone()]);
  });

  it('sums over submodules (a shared layer once); null without regularizers', () => {
    const a = new nn.Linear(2, 2, { weightRegularizer: { l1: 1 } });
    const b = new nn.Linear(2, 1, { weightRegularizer: { l2: 1 }, bias: false });
    setWeights(a, [1, 1, 1, 1], [0, 0]);
    (b.weight.data as Float32Array).set([2, 3]);
    const model = new nn.Sequential(a, new nn.ReLU(), b, new nn.ReLU(), a);
    expect(model.regularizationLoss()!.item()).toBeCloseTo(4 + 13, 6);
    expect(new nn.Sequential(new nn.Linear(2, 2), new nn.Tanh()).regularizationLoss()).toBeNull();
    expect(new nn.Linear(2, 2, { weightRegularizer: {} }).regularizationLoss()).toBeNull();
  });

  it('a custom module adds its own penalty by overriding ownRegularizationLoss', () => {
    class Net extends nn.Module {
      fc = new nn.Linear(2, 1, { weightRegularizer: { l2: 1 }, bias: false });
      scale = nn.parameter(tensor([3]));
      forward(x: Tensor): Tensor { return this.fc.forward(x).mul(this.scale); }
      override ownRegularizationLoss(): Tensor { return this.scale.square().sum(); }
    }
    const net = new Net();
    (net.fc.weight.data as Float32Array).set([1, 2]);
    expect(net.regularizationLoss()!.item()).toBeCloseTo(5 + 9, 6);
  });
});

describe('regularizers: options, config, save/load', () => {
  it('are kept by config(), fromConfig and save/load; absent keys stay absent', async () => {
    const l = new nn.Linear(3, 2, { weightRegularizer: { l2: 1e-4 }, biasRegularizer: { l1: 0.01 } });
    expect(l.config()).toEqual({ type: 'Linear', inFeatures: 3, outFeatures: 2, bias: true, init: 'glorot', weightRegularizer: { l1: 0, l2: 1e-4 }, biasRegularizer: { l1: 0.01, l2: 0 } });
    expect(new nn.Linear(3, 2).config()).toEqual({ type: 'Linear', inFeatures: 3, outFeatures: 2, bias: true, init: 'glorot' });
    expect(nn.fromConfig(l.config()).config()).toEqual(l.config());
    const model = new nn.Sequential(l, new nn.ReLU(), new nn.Linear(2, 1, { weightRegularizer: { l1: 0.5 } }));
    const path = join(dir, 'reg.safetensors');
    await save(model, path);
    const back = await load(path);
    expect(back.config()).toEqual(model.config());
    expect(back.regularizationLoss()!.item()).toBeCloseTo(model.regularizationLoss()!.item(), 6);
  });

  it('names bad regularizers', () => {
    expect(() => new nn.Linear(2, 2, { weightRegularizer: { l2: -1 } })).toThrow(/fathom.Linear: options.weightRegularizer.l2 must be a finite number >= 0, got -1/);
    expect(() => new nn.Linear(2, 2, { weightRegularizer: { l3: 1 } as never })).toThrow(/options.weightRegularizer takes l1 and l2, got unknown key 'l3'/);
    expect(() => new nn.Linear(2, 2, { weightRegularizer: 0.1 as never })).toThrow(/options.weightRegularizer must be an object, got number 0.1/);
    expect(() => new nn.Linear(2, 2, { bias: false, biasRegularizer: { l2: 1 } })).toThrow(/biasRegularizer was given but bias is false/);
    expect(() => nn.fromConfig({ type: 'Linear', inFeatures: 2, outFeatures: 1, weightRegularizer: { l1: 'x' } })).toThrow(/fathom.fromConfig: Linear.weightRegularizer.l1 must be a finite number >= 0, got "x"/);
  });
});

describe('fit with regularizers', () => {
  it('adds the penalty to the loss it minimises and reports (as Keras), in evaluate too', async () => {
    manualSeed(4);
    const x = randn([16, 3]);
    const y = randn([16, 1]);
    const model = new nn.Linear(3, 1, { weightRegularizer: { l1: 0.2, l2: 0.3 } });
    const penalty = model.regularizationLoss()!.item();
    const data = noGrad(() => model.forward(x).sub(y).square().mean().item());
    // lr 0: the weights do not move, so the reported loss is exactly data loss + penalty.
    const h = await model.fit(x, y, { loss: 'mse', optimizer: 'sgd', lr: 0, epochs: 1, batchSize: 16, verbose: 0, validationData: [x, y] });
    expect(h.history.loss[0]).toBeCloseTo(data + penalty, 5);
    expect(h.history.valLoss![0]).toBeCloseTo(data + penalty, 5);
    expect((await model.evaluate(x, y)).loss).toBeCloseTo(data + penalty, 5);
  });

  it('one SGD step on data with zero gradient is pure decay: w ← w·(1 − 2·lr·l2) − lr·l1·sign(w)', async () => {
    manualSeed(6);
    const model = new nn.Linear(4, 2, { bias: false, weightRegularizer: { l1: 0.01, l2: 0.25 } });
    const w0 = [...model.weight.data];
    // x = 0, y = 0: the mse term has zero gradient with respect to W.
    await model.fit(tensor([[0, 0, 0, 0]]), tensor([[0, 0]]), { loss: 'mse', optimizer: 'sgd', lr: 0.1, epochs: 1, verbose: 0 });
    const want = w0.map((w) => w * (1 - 2 * 0.1 * 0.25) - 0.1 * 0.01 * Math.sign(w));
    for (let i = 0; i < want.length; i++) expect(model.weight.data[i]).toBeCloseTo(want[i], 6);
  });

  it("fit's direct L1/L2 path trains the same weights as a custom loop adding regularizationLoss() on the tape", async () => {
    manualSeed(7);
    const x = randn([12, 3]);
    const y = randn([12, 2]);
    const make = () => {
      manualSeed(8);
      return new nn.Sequential(
        new nn.Linear(3, 5, { weightRegularizer: { l1: 0.05, l2: 0.2 }, biasRegularizer: { l2: 0.1 } }), new nn.Tanh(),
        new nn.Linear(5, 2, { weightRegularizer: { l1: 0.02 } }),
      );
    };
    const a = make();
    const h = await a.fit(x, y, { loss: 'mse', optimizer: new optim.SGD(a.parameters(), { lr: 0.1 }), epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
    const b = make();
    const opt = new optim.SGD(b.parameters(), { lr: 0.1 });
    const reported: number[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      let s = 0;
      for (let i = 0; i < 12; i += 4) {
        const xb = x.slice(i, i + 4);
        const yb = y.slice(i, i + 4);
        const loss = losses.mse(b.forward(xb), yb).add(b.regularizationLoss()!);
        s += loss.item() * 4;
        opt.zeroGrad();
        loss.backward();
        opt.step();
      }
      reported.push(s / 12);
    }
    const pa = a.parameters();
    b.parameters().forEach((p, i) => {
      for (let j = 0; j < p.size; j++) expect(pa[i].data[j]).toBeCloseTo(p.data[j], 6);
    });
    h.history.loss.forEach((v, i) => expect(v).toBeCloseTo(reported[i], 5));
  });

  it('a custom ownRegularizationLoss is recorded on the tape by fit', async () => {
    class Net extends nn.Module {
      fc = new nn.Linear(2, 1);
      forward(x: Tensor): Tensor { return this.fc.forward(x); }
      override ownRegularizationLoss(): Tensor { return this.fc.weight.sum().square(); }
    }
    manualSeed(3);
    const net = new Net();
    const x = randn([4, 2]);
    const y = randn([4, 1]);
    const w = [...net.fc.weight.data];
    const data = noGrad(() => losses.mse(net.forward(x), y).item());
    const h = await net.fit(x, y, { loss: 'mse', optimizer: 'sgd', lr: 0, epochs: 1, verbose: 0 });
    expect(h.history.loss[0]).toBeCloseTo(data + (w[0] + w[1]) ** 2, 5);
  });

  it('l2 shrinks the weights compared with the same training without it', async () => {
    const train = async (reg?: nn.Regularizer) => {
      manualSeed(9);
      const x = randn([64, 8]);
      const y = x.matmul(randn([8, 1]).mul(3)).add(randn([64, 1]));
      manualSeed(10);
      const model = new nn.Sequential(new nn.Linear(8, 16, { weightRegularizer: reg }), new nn.Tanh(), new nn.Linear(16, 1, { weightRegularizer: reg }));
      await model.fit(x, y, { loss: 'mse', optimizer: 'adam', lr: 1e-2, epochs: 60, batchSize: 16, seed: 1, verbose: 0 });
      // ΣW² over both layers: what the l2 penalty measures (one layer may grow while the other shrinks).
      return model.parameters().filter((p) => p.rank === 2).map((p) => l2norm(p) ** 2).reduce((a, b) => a + b);
    };
    const plain = await train();
    const shrunk = await train({ l2: 0.5 });
    expect(shrunk).toBeLessThan(plain * 0.7); // measured: 28.1 vs 46.6
  });
});
