/**
 * optim.lrScheduler driving real optimizers: the rate a scheduler sets is the one the next
 * opt.step() uses (read back from the parameter update), per param group; OneCycleLR's momentum
 * reaches SGD's momentum and Adam's beta1; a custom loop (opt.step(); sched.step()) trains;
 * optimizer + scheduler state resume exactly.
 */
import { describe, expect, it } from 'vitest';
import { losses, manualSeed, nn, optim, setBackend, tensor, type Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const { lrScheduler: S } = optim;
const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);

function param(values: number[]): Tensor {
  return tensor(values).requireGrad();
}

describe.each(backends)('schedulers with real optimizers on the %s backend', (name) => {
  it('SGD uses the lr in effect: opt.lr, each group\'s lr and getLastLr() agree, and the update is lr · g', () => {
    setBackend(name);
    const w = param([1]);
    const b = param([1]);
    const opt = new optim.SGD([{ params: [w] }, { params: [b], lr: 0.01 }], { lr: 0.1 });
    const sched = new S.CosineAnnealingLR(opt, { tMax: 4, etaMin: 0.001 });
    expect(opt.paramGroups.map((g) => g.initialLr)).toEqual([0.1, 0.01]);
    for (let epoch = 0; epoch < 6; epoch++) {
      const inEffect = sched.getLastLr();
      expect(opt.lr).toBe(inEffect[0]);
      expect(opt.paramGroups.map((g) => g.lr)).toEqual(inEffect);
      const before = [w.data[0], b.data[0]];
      w.grad = tensor([1]);
      b.grad = tensor([1]);
      opt.step();
      // each group moved by its own lr (g = 1), in float32
      expect(before[0] - w.data[0]).toBeCloseTo(inEffect[0], 6);
      expect(before[1] - b.data[0]).toBeCloseTo(inEffect[1], 6);
      sched.step();
    }
    const closed = (base: number, e: number) => 0.001 + ((base - 0.001) * (1 + Math.cos((Math.PI * e) / 4))) / 2;
    expect(sched.getLastLr()[0]).toBeCloseTo(closed(0.1, 6), 14);
    expect(sched.getLastLr()[1]).toBeCloseTo(closed(0.01, 6), 14);
  });

  it('OneCycleLR cycles SGD\'s momentum and Adam\'s beta1, and the optimizers accept every value', () => {
    setBackend(name);
    const w = param([1, -1]);
    const sgd = new optim.SGD([w], { lr: 0.1, momentum: 0.9 });
    const s1 = new S.OneCycleLR(sgd, { maxLr: 0.5, totalSteps: 10 });
    const v = param([1, -1]);
    const adam = new optim.Adam([v], { lr: 1e-3, betas: [0.9, 0.98] });
    const s2 = new S.OneCycleLR(adam, { maxLr: 0.01, totalSteps: 10 });
    expect(sgd.paramGroups[0].momentum).toBeCloseTo(0.95, 15);
    expect(adam.paramGroups[0].betas).toEqual([0.95, 0.98]);
    const moms: number[] = [];
    for (let t = 0; t < 10; t++) {
      w.grad = tensor([0.1, 0.2]);
      v.grad = tensor([0.1, 0.2]);
      sgd.step();
      adam.step();
      s1.step();
      s2.step();
      moms.push((adam.paramGroups[0].betas as number[])[0]);
      expect(sgd.paramGroups[0].momentum).toBe(moms[t]); // same schedule of momentum for both
      expect((adam.paramGroups[0].betas as number[])[1]).toBe(0.98);
    }
    expect(Math.min(...moms)).toBeLessThan(0.86);
    expect([...w.data, ...v.data].every(Number.isFinite)).toBe(true);
  });

  it('OneCycleLR with every optimizer: momentum for RMSprop, beta1 for Adamax/AdamW, refused (cycleMomentum) for Adagrad and Adadelta', () => {
    setBackend(name);
    const w = () => [param([1, -1])];
    const cases: [optim.Optimizer, string][] = [
      [new optim.RMSprop(w(), { lr: 0.01 }), 'momentum'],
      [new optim.Adamax(w(), { lr: 0.01 }), 'betas'],
      [new optim.AdamW(w(), { lr: 0.01 }), 'betas'],
    ];
    for (const [opt, key] of cases) {
      const s = new S.OneCycleLR(opt, { maxLr: 0.05, totalSteps: 6 });
      for (let t = 0; t < 6; t++) {
        opt.paramGroups[0].params[0].grad = tensor([0.5, -0.5]);
        opt.step(); // the optimizer validates the group as the scheduler left it
        s.step();
      }
      const m = key === 'momentum' ? opt.paramGroups[0].momentum : (opt.paramGroups[0].betas as number[])[0];
      expect([opt.name, m]).toEqual([opt.name, s.getLastMomentum()![0]]);
      expect(opt.paramGroups[0].params[0].data.every(Number.isFinite)).toBe(true);
    }
    for (const opt of [new optim.Adagrad(w()), new optim.Adadelta(w())]) {
      expect(() => new S.OneCycleLR(opt, { maxLr: 0.05, totalSteps: 6 })).toThrow(`fathom.OneCycleLR: cycleMomentum needs an optimizer with momentum (SGD, RMSprop) or betas (Adam, AdamW, Adamax), got an ${opt.name} (pass cycleMomentum: false)`);
      const s = new S.OneCycleLR(opt, { maxLr: 0.05, totalSteps: 6, cycleMomentum: false });
      s.step();
      expect(opt.lr).toBe(s.getLastLr()[0]);
    }
  });

  it('a custom loop (zeroGrad, backward, opt.step(), sched.step()) trains a regression with warm-up and cosine decay', () => {
    setBackend(name);
    manualSeed(5);
    const x = tensor(Array.from({ length: 32 }, (_, i) => [i / 16 - 1, Math.sin(i)]));
    const y = tensor(Array.from({ length: 32 }, (_, i) => [3 * (i / 16 - 1) - 2 * Math.sin(i) + 0.5]));
    const model = new nn.Linear(2, 1);
    const opt = new optim.SGD(model.parameters(), { lr: 0.2, momentum: 0.9 });
    const sched = new S.SequentialLR(opt, {
      schedulers: [new S.LinearLR(opt, { startFactor: 0.1, totalIters: 5 }), new S.CosineAnnealingLR(opt, { tMax: 55 })],
      milestones: [5],
    });
    const seen: number[] = [];
    let first = NaN;
    let last = NaN;
    for (let epoch = 0; epoch < 60; epoch++) {
      const loss = losses.mse(model.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      seen.push(opt.lr);
      opt.step();
      sched.step();
      if (epoch === 0) first = loss.item();
      last = loss.item();
    }
    expect(seen[0]).toBeCloseTo(0.02, 15); // warm-up starts at startFactor · lr
    expect(seen[5]).toBeCloseTo(0.2, 15); // the cosine takes over at its top
    expect(opt.lr).toBeCloseTo(0, 12); // and ends at etaMin after tMax
    expect(last).toBeLessThan(first * 0.01);
  });

  it('optimizer and scheduler state dicts resume training exactly', () => {
    setBackend(name);
    const run = (stopAt: number | null) => {
      const w = param([0.5, -0.25, 2]);
      let opt = new optim.Adam([w], { lr: 0.05 });
      let sched = new S.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 12 });
      for (let t = 0; t < 12; t++) {
        if (t === stopAt) {
          const saved = { o: opt.stateDict(), s: JSON.parse(JSON.stringify(sched.stateDict())) };
          // PyTorch's order: build both, then load the optimizer's state, then the scheduler's
          // (building a scheduler sets the groups' lr; the optimizer's state brings them back).
          opt = new optim.Adam([w], { lr: 0.05 });
          sched = new S.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 12 });
          opt.loadStateDict(saved.o);
          sched.loadStateDict(saved.s);
          expect(opt.paramGroups[0].lr).toBe(sched.getLastLr()[0]);
        }
        w.grad = tensor([Math.sin(t), Math.cos(t), 0.3]);
        opt.step();
        sched.step();
      }
      return [...w.data];
    };
    expect(run(5)).toEqual(run(null));
  });
});
