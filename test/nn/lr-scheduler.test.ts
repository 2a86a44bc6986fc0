/**
 * optim.lrScheduler against PyTorch's published rules. Each expected sequence is computed here
 * from the closed form in PyTorch's documentation (independent of the implementation, which
 * follows PyTorch's chainable recurrences), for enough steps to cross every milestone, restart
 * and phase. Schedules only read and write `paramGroups`, so a plain object stands in for the
 * optimizer here; test/nn/lr-scheduler-optim.test.ts drives real optimizers.
 */
import { describe, expect, it } from 'vitest';
import { optim } from '../../lib/index.js';

const { lrScheduler: S } = optim;

type Group = { lr: number; [k: string]: unknown };
const fakeOpt = (lrs: number[], extra: Record<string, unknown> = {}) => ({
  paramGroups: lrs.map((lr) => ({ lr, ...structuredClone(extra) }) as Group),
});

/** The lr of group `g` after construction, then after each of `steps` step() calls. */
function lrs(sched: { step(): void; getLastLr(): number[] }, steps: number, g = 0): number[] {
  const out = [sched.getLastLr()[g]];
  for (let i = 0; i < steps; i++) {
    sched.step();
    out.push(sched.getLastLr()[g]);
  }
  return out;
}

/** Relative (absolute near 0) agreement to `tol`, naming the first step that differs. */
function expectSeq(got: number[], want: number[], tol = 1e-9): void {
  expect(got.length).toBe(want.length);
  got.forEach((v, i) => {
    const err = Math.abs(v - want[i]) / Math.max(Math.abs(want[i]), 1e-12);
    if (!(err <= tol)) throw new Error(`step ${i}: got ${v}, want ${want[i]} (relative error ${err})`);
  });
}
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('known answers (closed forms of PyTorch docs)', () => {
  it('StepLR: lr = base · gamma^⌊e / stepSize⌋', () => {
    const opt = fakeOpt([0.05]);
    const s = new S.StepLR(opt, { stepSize: 3, gamma: 0.5 });
    expectSeq(lrs(s, 20), range(21).map((e) => 0.05 * 0.5 ** Math.floor(e / 3)));
    expect(opt.paramGroups[0].lr).toBe(s.getLastLr()[0]);
    expect(s.lastEpoch).toBe(20);
  });

  it('MultiStepLR: lr = base · gamma^(milestones <= e), default gamma 0.1', () => {
    const s = new S.MultiStepLR(fakeOpt([1]), { milestones: [2, 5, 9] });
    const want = range(15).map((e) => 1 * 0.1 ** [2, 5, 9].filter((m) => m <= e).length);
    expectSeq(lrs(s, 14), want);
    expect(want.slice(0, 10)).toEqual([1, 1, 0.1, 0.1, 0.1, 0.1 ** 2, 0.1 ** 2, 0.1 ** 2, 0.1 ** 2, 0.1 ** 3]);
  });

  it('MultiStepLR: milestones in any order, a repeated one counted each time (PyTorch keeps a Counter)', () => {
    const s = new S.MultiStepLR(fakeOpt([1]), { milestones: [5, 2, 2], gamma: 0.5 });
    expectSeq(lrs(s, 7), range(8).map((e) => 0.5 ** [5, 2, 2].filter((m) => m <= e).length));
    expect(s.milestones).toEqual([2, 2, 5]);
  });

  it('ExponentialLR: lr = base · gamma^e', () => {
    expectSeq(lrs(new S.ExponentialLR(fakeOpt([0.3]), { gamma: 0.9 }), 40), range(41).map((e) => 0.3 * 0.9 ** e));
  });

  it('ConstantLR: base · factor until totalIters, then base', () => {
    expectSeq(lrs(new S.ConstantLR(fakeOpt([0.05]), { factor: 0.5, totalIters: 4 }), 8), range(9).map((e) => (e < 4 ? 0.025 : 0.05)));
  });

  it('LinearLR (startFactor 0.1, totalIters 4): base · (0.1 + 0.9 · min(e, 4) / 4)', () => {
    const opt = fakeOpt([0.5]);
    const s = new S.LinearLR(opt, { startFactor: 0.1, totalIters: 4 });
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.05, 15); // construction puts the first value in effect
    expect(opt.paramGroups[0].initialLr).toBe(0.5);
    expectSeq(lrs(s, 10), range(11).map((e) => 0.5 * (0.1 + (0.9 * Math.min(e, 4)) / 4)));
  });

  it('LinearLR with defaults (1/3 → 1 over 5) and a decay (1 → 0.25 over 3)', () => {
    expectSeq(lrs(new S.LinearLR(fakeOpt([0.9])), 8), range(9).map((e) => 0.9 * (1 / 3 + ((2 / 3) * Math.min(e, 5)) / 5)));
    expectSeq(lrs(new S.LinearLR(fakeOpt([2]), { startFactor: 1, endFactor: 0.25, totalIters: 3 }), 6), range(7).map((e) => 2 * (1 - (0.75 * Math.min(e, 3)) / 3)));
  });

  it('CosineAnnealingLR (tMax 10, etaMin 1e-3): etaMin + (base − etaMin)(1 + cos(πe/10))/2, also past tMax', () => {
    const s = new S.CosineAnnealingLR(fakeOpt([0.1]), { tMax: 10, etaMin: 1e-3 });
    const want = range(36).map((e) => 1e-3 + ((0.1 - 1e-3) * (1 + Math.cos((Math.PI * e) / 10))) / 2);
    const got = lrs(s, 35);
    expectSeq(got, want);
    expect(got[10]).toBeCloseTo(1e-3, 15); // the minimum at tMax
    expect(got[20]).toBeCloseTo(0.1, 14); // and back to base after 2·tMax, as PyTorch (no restart)
  });

  it('CosineAnnealingWarmRestarts (t0 3, tMult 2): periods 3, 6, 12, 24 restarting at 3, 9, 21', () => {
    const s = new S.CosineAnnealingWarmRestarts(fakeOpt([1]), { t0: 3, tMult: 2 });
    const want: number[] = [];
    for (let start = 0, ti = 3; want.length < 50; start += ti, ti *= 2) {
      for (let tcur = 0; tcur < ti; tcur++) want.push((1 + Math.cos((Math.PI * tcur) / ti)) / 2);
    }
    const got = lrs(s, 49);
    expectSeq(got, want.slice(0, 50));
    for (const restart of [0, 3, 9, 21, 45]) expect(got[restart]).toBe(1);
    expect(s.tI).toBe(48);
  });

  it('CosineAnnealingWarmRestarts with tMult 1 and etaMin, and fractional epochs as step(epoch + i / batches)', () => {
    const base = 0.2;
    const eta = 0.01;
    const closed = (tcur: number, ti: number) => eta + ((base - eta) * (1 + Math.cos((Math.PI * tcur) / ti))) / 2;
    expectSeq(lrs(new S.CosineAnnealingWarmRestarts(fakeOpt([base]), { t0: 4, etaMin: eta }), 12), range(13).map((e) => closed(e % 4, 4)));

    const s = new S.CosineAnnealingWarmRestarts(fakeOpt([base]), { t0: 2, tMult: 3, etaMin: eta });
    // periods 2, 6, 18: restarts at epochs 2 and 8
    const where = (e: number): [number, number] => (e < 2 ? [e, 2] : e < 8 ? [e - 2, 6] : [e - 8, 18]);
    for (const e of [0, 0.25, 1.5, 1.999, 2, 2.75, 7.5, 8, 8.2, 20.6, 25.9]) {
      s.step(e);
      expectSeq(s.getLastLr(), [closed(...where(e))]);
      expect(s.lastEpoch).toBe(Math.floor(e));
    }
    // step() after step(epoch) continues from there, one epoch on
    s.step(3.5);
    s.step();
    expectSeq(s.getLastLr(), [closed(2.5, 6)]);
    s.step(7.5);
    s.step(); // crosses the restart at 8 from a fractional tCur: 5.5 + 1 = 6.5 → 0.5 of the next period
    expectSeq(s.getLastLr(), [closed(0.5, 18)]);
    expect(s.tCur).toBe(0.5);
  });

  /** OneCycleLR's documented policy, written out: phases end at pctStart·T − 1 (and 2·pctStart·T − 2) and T − 1. */
  function oneCycleWant(o: { maxLr: number; total: number; pct?: number; div?: number; finalDiv?: number; three?: boolean; linear?: boolean; mBase?: number; mMax?: number }) {
    const { maxLr, total, pct = 0.3, div = 25, finalDiv = 1e4, three = false, linear = false, mBase = 0.85, mMax = 0.95 } = o;
    const init = maxLr / div;
    const min = init / finalDiv;
    const anneal = (a: number, b: number, p: number) => (linear ? a + (b - a) * p : b + ((a - b) * (1 + Math.cos(Math.PI * p))) / 2);
    const up = pct * total - 1;
    const phases = three
      ? [[0, up, init, maxLr, mMax, mBase], [up, 2 * pct * total - 2, maxLr, init, mBase, mMax], [2 * pct * total - 2, total - 1, init, min, mMax, mMax]]
      : [[0, up, init, maxLr, mMax, mBase], [up, total - 1, maxLr, min, mBase, mMax]];
    return range(total + 1).map((t) => {
      const [a, b, l0, l1, m0, m1] = phases.find((p, k) => t <= p[1] || k === phases.length - 1)!;
      return { lr: anneal(l0, l1, (t - a) / (b - a)), m: anneal(m0, m1, (t - a) / (b - a)) };
    });
  }

  it('OneCycleLR (maxLr 1, totalSteps 12): cos up from 0.04 to 1, down to 4e-6, momentum 0.95 → 0.85 → 0.95', () => {
    const opt = fakeOpt([0.001], { momentum: 0 });
    const s = new S.OneCycleLR(opt, { maxLr: 1, totalSteps: 12 });
    const want = oneCycleWant({ maxLr: 1, total: 12 });
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.04, 15);
    expect(opt.paramGroups[0].initialLr).toBeCloseTo(0.04, 15);
    const got: number[] = [s.getLastLr()[0]];
    const mom: number[] = [opt.paramGroups[0].momentum as number];
    for (let t = 1; t <= 11; t++) {
      s.step();
      got.push(s.getLastLr()[0]);
      mom.push(opt.paramGroups[0].momentum as number);
    }
    expectSeq(got, want.slice(0, 12).map((w) => w.lr));
    expectSeq(mom, want.slice(0, 12).map((w) => w.m));
    expect(got[11]).toBeCloseTo(4e-6, 18); // the last step reaches initialLr / finalDivFactor
    expect(mom[0]).toBeCloseTo(0.95, 15);
    expect(mom[11]).toBeCloseTo(0.95, 15);
    expect(Math.max(...got)).toBeGreaterThan(0.99);
  });

  it('OneCycleLR: step() may be called totalSteps times after construction; one more throws, as PyTorch', () => {
    const opt = fakeOpt([0.1], { momentum: 0.9 });
    const s = new S.OneCycleLR(opt, { maxLr: 1, totalSteps: 12 });
    for (let i = 0; i < 12; i++) s.step();
    expectSeq(s.getLastLr(), [oneCycleWant({ maxLr: 1, total: 12 })[12].lr]); // PyTorch's value at step totalSteps
    const before = opt.paramGroups[0].lr;
    expect(() => s.step()).toThrow('fathom.OneCycleLR.step: tried to step 13 times, but totalSteps is 12');
    expect(opt.paramGroups[0].lr).toBe(before);
    expect(s.lastEpoch).toBe(12);
  });

  it('OneCycleLR: three phases, linear annealing, epochs × stepsPerEpoch, per-group maxLr', () => {
    const cases = [
      { opts: { maxLr: 0.5, totalSteps: 20, threePhase: true }, want: oneCycleWant({ maxLr: 0.5, total: 20, three: true }) },
      { opts: { maxLr: 0.5, epochs: 4, stepsPerEpoch: 5, annealStrategy: 'linear' as const, pctStart: 0.25 }, want: oneCycleWant({ maxLr: 0.5, total: 20, linear: true, pct: 0.25 }) },
      { opts: { maxLr: 2, totalSteps: 17, divFactor: 10, finalDivFactor: 100, baseMomentum: 0.8, maxMomentum: 0.9 }, want: oneCycleWant({ maxLr: 2, total: 17, div: 10, finalDiv: 100, mBase: 0.8, mMax: 0.9 }) },
    ];
    for (const c of cases) {
      const opt = fakeOpt([0.1], { momentum: 0.9 });
      const s = new S.OneCycleLR(opt, c.opts);
      const n = c.want.length - 1;
      const got = [s.getLastLr()[0]];
      const mom = [opt.paramGroups[0].momentum as number];
      for (let t = 1; t < n; t++) {
        s.step();
        got.push(s.getLastLr()[0]);
        mom.push(opt.paramGroups[0].momentum as number);
      }
      expectSeq(got, c.want.slice(0, n).map((w) => w.lr));
      expectSeq(mom, c.want.slice(0, n).map((w) => w.m));
    }
    const two = fakeOpt([0.1, 0.1], { momentum: 0.9 });
    const s = new S.OneCycleLR(two, { maxLr: [1, 0.1], totalSteps: 10, cycleMomentum: false });
    expectSeq(lrs(s, 9, 1), oneCycleWant({ maxLr: 0.1, total: 10 }).slice(0, 10).map((w) => w.lr));
    expectSeq(s.getLastLr(), [oneCycleWant({ maxLr: 1, total: 10 })[9].lr, oneCycleWant({ maxLr: 0.1, total: 10 })[9].lr]);
    expect(two.paramGroups[0].momentum).toBe(0.9); // cycleMomentum: false leaves it alone
  });

  it('OneCycleLR cycles beta1 of the Adam family: group.betas is replaced by [m, beta2]', () => {
    const opt = { paramGroups: [{ lr: 0.001, betas: [0.9, 0.999] as [number, number] }], defaults: { lr: 0.001, betas: [0.9, 0.999] } };
    const first = opt.paramGroups[0].betas;
    const s = new S.OneCycleLR(opt, { maxLr: 0.01, totalSteps: 10 });
    const want = oneCycleWant({ maxLr: 0.01, total: 10 });
    expect(opt.paramGroups[0].betas).not.toBe(first); // a new array, as PyTorch assigns a new tuple
    expect(first).toEqual([0.9, 0.999]);
    for (let t = 1; t < 10; t++) {
      s.step();
      expectSeq([opt.paramGroups[0].betas[0]], [want[t].m]);
      expect(opt.paramGroups[0].betas[1]).toBe(0.999);
    }
    expectSeq(s.getLastMomentum()!, [want[9].m]);
  });

  it('LambdaLR: lr = base · lrLambda(e), one function per group', () => {
    const opt = fakeOpt([0.1, 1]);
    const s = new S.LambdaLR(opt, { lrLambda: [(e) => Math.min(1, (e + 1) / 4), (e) => 0.95 ** e] });
    expectSeq(lrs(s, 10, 0), range(11).map((e) => 0.1 * Math.min(1, (e + 1) / 4)));
    expectSeq(s.getLastLr(), [0.1, 0.95 ** 10]);
  });
});

describe('PyTorch semantics beyond the closed forms', () => {
  it('param groups scale independently from their own initial lr', () => {
    const opt = fakeOpt([0.1, 0.02]);
    const s = new S.CosineAnnealingLR(opt, { tMax: 5 });
    const a = lrs(s, 7, 0);
    expect(s.baseLrs).toEqual([0.1, 0.02]);
    const fresh = new S.CosineAnnealingLR(fakeOpt([0.1, 0.02]), { tMax: 5 });
    expectSeq(lrs(fresh, 7, 1), a.map((v) => v / 5));
    expectSeq(opt.paramGroups.map((g) => g.lr), [a[7], a[7] / 5]);
  });

  it('schedules are chainable as PyTorch\'s: an lr changed by hand between steps is scaled from the new value', () => {
    const opt = fakeOpt([1]);
    const s = new S.StepLR(opt, { stepSize: 2, gamma: 0.5 });
    s.step();
    opt.paramGroups[0].lr = 0.3; // e.g. a manual change
    s.step(); // epoch 2: × 0.5 of what is in effect
    expect(s.getLastLr()[0]).toBeCloseTo(0.15, 15);
  });

  it('a group that already has initialLr keeps it (a second scheduler on the same optimizer)', () => {
    const opt = fakeOpt([1]);
    new S.ExponentialLR(opt, { gamma: 0.5 }).step();
    const second = new S.StepLR(opt, { stepSize: 10 });
    expect(second.baseLrs).toEqual([1]);
    expect(opt.paramGroups[0].lr).toBe(0.5);
  });

  it('ChainedScheduler multiplies the factors; SequentialLR switches at milestones (PyTorch doc examples)', () => {
    // ChainedScheduler doc: ConstantLR(factor 0.1, 20) with ExponentialLR(0.9) from lr 0.05 → 0.05 · 0.1 · 0.9^e before 20, 0.05 · 0.9^e after
    // (PyTorch's docstring prints 0.05, 0.045, … for this chain, though its code gives the tenths: we follow the code)
    const a = fakeOpt([0.05]);
    const chained = new S.ChainedScheduler([new S.ConstantLR(a, { factor: 0.1, totalIters: 20 }), new S.ExponentialLR(a, { gamma: 0.9 })]);
    expectSeq(lrs(chained, 25), range(26).map((e) => 0.05 * (e < 20 ? 0.1 : 1) * 0.9 ** e));

    // SequentialLR doc: ConstantLR(0.1, 20) then ExponentialLR(0.9) at 20 → 0.005 for e < 20, then 0.05 · 0.9^(e − 20)
    const b = fakeOpt([0.05]);
    const seq = new S.SequentialLR(b, { schedulers: [new S.ConstantLR(b, { factor: 0.1, totalIters: 20 }), new S.ExponentialLR(b, { gamma: 0.9 })], milestones: [20] });
    expectSeq(lrs(seq, 25), range(26).map((e) => (e < 20 ? 0.005 : 0.05 * 0.9 ** (e - 20))));

    // the usual warm-up then cosine
    const c = fakeOpt([1]);
    const warm = new S.SequentialLR(c, {
      schedulers: [new S.LinearLR(c, { startFactor: 0.25, totalIters: 3 }), new S.CosineAnnealingLR(c, { tMax: 6, etaMin: 0.1 })],
      milestones: [3],
    });
    expectSeq(lrs(warm, 10), range(11).map((e) => (e < 3 ? 0.25 + (0.75 * e) / 3 : 0.1 + (0.9 * (1 + Math.cos((Math.PI * (e - 3)) / 6))) / 2)));
  });

  it('ReduceLROnPlateau: patience, threshold (rel and abs), cooldown, minLr and eps', () => {
    const opt = fakeOpt([1, 0.5]);
    const s = new S.ReduceLROnPlateau(opt, { patience: 2, factor: 0.5, cooldown: 1, minLr: [0.2, 0.2] });
    expect(s.needsMetric).toBe(true);
    expect(opt.paramGroups[0].initialLr).toBeUndefined(); // it does not set initialLr, as PyTorch
    // losses: best 10; 9.9995 is not better by 1e-4 relative; three bad epochs > patience 2 → halve
    const seq: [number, number, number][] = [
      // metric, lr group 0 after, numBadEpochs after
      [10, 1, 0],
      [9.9995, 1, 1], // within the threshold: bad
      [11, 1, 2],
      [10, 0.5, 0], // third bad epoch > patience: reduce; cooldown 1 starts
      [12, 0.5, 0], // in cooldown: bad epochs are not counted
      [12, 0.5, 1],
      [12, 0.5, 2],
      [12, 0.25, 0], // reduced again
      [5, 0.25, 0], // better: best = 5
      [6, 0.25, 1],
      [6, 0.25, 2],
      [6, 0.2, 0], // 0.125 is below minLr 0.2: clipped
      [6, 0.2, 0],
      [6, 0.2, 1],
      [6, 0.2, 2],
      [6, 0.2, 0], // max(0.1, 0.2) = 0.2: nothing left to reduce
    ];
    seq.forEach(([m, lr, bad], i) => {
      s.step(m);
      expect([i, s.getLastLr()[0], s.numBadEpochs]).toEqual([i, lr, bad]);
    });
    expect(s.getLastLr()[1]).toBe(0.2);
    expect(s.best).toBe(5);
    expect(s.lastEpoch).toBe(seq.length);

    const max = new S.ReduceLROnPlateau(fakeOpt([1]), { mode: 'max', patience: 0, thresholdMode: 'abs', threshold: 0.1 });
    for (const [m, lr] of [[0.5, 1], [0.55, 0.1], [0.61, 0.1], [0.6, 0.01]]) {
      max.step(m);
      expect(max.getLastLr()[0]).toBeCloseTo(lr, 15);
    }
    const tiny = new S.ReduceLROnPlateau(fakeOpt([1e-8]), { patience: 0, eps: 1e-8 });
    tiny.step(1);
    tiny.step(2);
    expect(tiny.getLastLr()).toEqual([1e-8]); // a reduction smaller than eps is skipped
  });
});

describe('state', () => {
  /** Runs `make` for `k` steps, saves, builds a second one on a copy of the optimizer's groups, and compares the next `n` steps. */
  function resumes(make: (opt: ReturnType<typeof fakeOpt>) => { step(m?: number): void; getLastLr(): number[]; stateDict(): object; loadStateDict(s: never): void; needsMetric?: boolean }, k: number, n: number) {
    const metric = (i: number) => (s.needsMetric ? 1 / (1 + (i % 5)) : undefined);
    const a = fakeOpt([0.1, 0.3], { momentum: 0.9 });
    const s = make(a);
    for (let i = 0; i < k; i++) s.step(metric(i));
    const state = JSON.parse(JSON.stringify(s.stateDict())); // survives JSON
    const b = fakeOpt([7, 7], { momentum: 0 });
    const t = make(b);
    b.paramGroups = structuredClone(a.paramGroups); // the optimizer's own state is restored by opt.loadStateDict
    t.loadStateDict(state as never);
    for (let i = k; i < k + n; i++) {
      s.step(metric(i));
      t.step(metric(i));
      expect(t.getLastLr()).toEqual(s.getLastLr());
    }
  }
  it('stateDict() / loadStateDict() resume every scheduler exactly', () => {
    resumes((o) => new S.StepLR(o, { stepSize: 3 }), 4, 8);
    resumes((o) => new S.CosineAnnealingLR(o, { tMax: 7, etaMin: 0.01 }), 5, 12);
    resumes((o) => new S.CosineAnnealingWarmRestarts(o, { t0: 2, tMult: 2 }), 5, 12);
    resumes((o) => new S.OneCycleLR(o, { maxLr: 1, totalSteps: 20 }), 7, 13);
    resumes((o) => new S.LinearLR(o, { totalIters: 6 }), 2, 8);
    resumes((o) => new S.ReduceLROnPlateau(o, { patience: 1, cooldown: 1 }), 6, 10);
    resumes((o) => new S.SequentialLR(o, { schedulers: [new S.LinearLR(o, { totalIters: 3 }), new S.ExponentialLR(o, { gamma: 0.8 })], milestones: [3] }), 2, 6);
  });

  it('loadStateDict refuses another scheduler\'s state or a damaged one', () => {
    const opt = fakeOpt([0.1]);
    const step = new S.StepLR(opt, { stepSize: 2 });
    const exp = new S.ExponentialLR(fakeOpt([0.1]), { gamma: 0.5 });
    expect(() => step.loadStateDict(exp.stateDict())).toThrow("fathom.StepLR.loadStateDict: state.type must be 'StepLR' (a state saved by StepLR.stateDict()), got \"ExponentialLR\"");
    expect(() => step.loadStateDict({ ...step.stateDict(), lastLr: [0.1, 0.2] })).toThrow('fathom.StepLR.loadStateDict: state.lastLr must be an array of 1 numbers (one per param group), got an Array(2)');
    expect(() => step.loadStateDict({ ...step.stateDict(), lastEpoch: 1.5 })).toThrow('state.lastEpoch must be an integer >= -1, got 1.5');
    expect(() => step.loadStateDict({ ...step.stateDict(), extra: 1 })).toThrow("unknown key 'extra'");
  });
});

describe('validation: errors name the scheduler, the option, what was expected and what came', () => {
  const o = () => fakeOpt([0.1], { momentum: 0.9 });
  it.each([
    [() => new S.StepLR(o(), { stepSize: 0 }), 'fathom.StepLR: stepSize must be an integer >= 1, got 0'],
    [() => new S.StepLR(o(), {} as never), 'fathom.StepLR: stepSize must be an integer >= 1, got undefined'],
    [() => new S.StepLR(o(), { stepSize: 2, gamma: NaN }), 'fathom.StepLR: gamma must be a finite number >= 0, got NaN'],
    [() => new S.StepLR(o(), { stepSize: 2, step_size: 3 } as never), "fathom.StepLR: unknown option 'step_size' in options (known: stepSize, gamma)"],
    [() => new S.MultiStepLR(o(), { milestones: [3, -2] }), 'fathom.MultiStepLR: milestones[1] must be an integer >= 0, got -2'],
    [() => new S.MultiStepLR(o(), { milestones: 3 } as never), 'fathom.MultiStepLR: milestones must be an array of integers >= 0, got 3'],
    [() => new S.ExponentialLR(o(), {} as never), 'fathom.ExponentialLR: gamma must be a finite number >= 0, got undefined'],
    [() => new S.LinearLR(o(), { startFactor: 0 }), 'fathom.LinearLR: startFactor must be a finite number in (0, 1], got 0'],
    [() => new S.LinearLR(o(), { endFactor: 1.5 }), 'fathom.LinearLR: endFactor must be a finite number in [0, 1], got 1.5'],
    [() => new S.ConstantLR(o(), { factor: 0 }), 'fathom.ConstantLR: factor must be a finite number in (0, 1], got 0'],
    [() => new S.CosineAnnealingLR(o(), { tMax: 2.5 }), 'fathom.CosineAnnealingLR: tMax must be an integer >= 1, got 2.5'],
    [() => new S.CosineAnnealingLR(o(), { tMax: 5, etaMin: -1 }), 'fathom.CosineAnnealingLR: etaMin must be a finite number >= 0, got -1'],
    [() => new S.CosineAnnealingWarmRestarts(o(), { t0: 0 }), 'fathom.CosineAnnealingWarmRestarts: t0 must be an integer >= 1, got 0'],
    [() => new S.CosineAnnealingWarmRestarts(o(), { t0: 2, tMult: 1.5 }), 'fathom.CosineAnnealingWarmRestarts: tMult must be an integer >= 1, got 1.5'],
    [() => new S.CosineAnnealingWarmRestarts(o(), { t0: 2 }).step(-1), 'fathom.CosineAnnealingWarmRestarts.step: epoch must be a finite number >= 0, got -1'],
    [() => new S.OneCycleLR(o(), { maxLr: 1 }), 'fathom.OneCycleLR: give totalSteps, or epochs and stepsPerEpoch, got neither'],
    [() => new S.OneCycleLR(o(), { maxLr: 1, epochs: 3 }), 'fathom.OneCycleLR: give totalSteps, or epochs and stepsPerEpoch, got only epochs'],
    [() => new S.OneCycleLR(o(), { maxLr: [1, 2], totalSteps: 5 }), 'fathom.OneCycleLR: maxLr must be a number or an array with one number per param group (1), got an Array(2)'],
    [() => new S.OneCycleLR(o(), { maxLr: 0, totalSteps: 5 }), 'fathom.OneCycleLR: maxLr must be a finite number > 0, got 0'],
    [() => new S.OneCycleLR(o(), { maxLr: 1, totalSteps: 5, pctStart: 1.2 }), 'fathom.OneCycleLR: pctStart must be a finite number in [0, 1], got 1.2'],
    [() => new S.OneCycleLR(o(), { maxLr: 1, totalSteps: 5, annealStrategy: 'exp' as never }), "fathom.OneCycleLR: annealStrategy must be one of 'cos', 'linear', got \"exp\""],
    [() => new S.OneCycleLR(fakeOpt([0.1]), { maxLr: 1, totalSteps: 5 }), 'fathom.OneCycleLR: cycleMomentum needs an optimizer with momentum (SGD, RMSprop) or betas (Adam, AdamW, Adamax)'],
    [() => new S.OneCycleLR(o(), { maxLr: 1, totalSteps: 10, pctStart: 0.1 }), 'fathom.OneCycleLR.step: phase 1 of the cycle has no length (pctStart 0.1, totalSteps 10)'],
    [() => new S.LambdaLR(o(), { lrLambda: 2 as never }), 'fathom.LambdaLR: lrLambda must be a function (epoch) => factor, got 2'],
    [() => new S.LambdaLR(o(), { lrLambda: () => NaN }), 'fathom.LambdaLR: lrLambda(0) must be a finite number >= 0, got NaN'],
    [() => new S.ReduceLROnPlateau(o(), { factor: 1 }), 'fathom.ReduceLROnPlateau: factor must be a finite number in [0, 1), got 1'],
    [() => new S.ReduceLROnPlateau(o(), { mode: 'auto' as never }), "fathom.ReduceLROnPlateau: mode must be one of 'min', 'max', got \"auto\""],
    [() => new S.ReduceLROnPlateau(o(), { patience: -1 }), 'fathom.ReduceLROnPlateau: patience must be an integer >= 0, got -1'],
    [() => new S.ReduceLROnPlateau(o()).step(NaN), 'fathom.ReduceLROnPlateau.step: metric must be a finite number (the monitored value, e.g. the validation loss), got NaN'],
    [() => new S.ReduceLROnPlateau(o()).step(), 'fathom.ReduceLROnPlateau.step: metric must be a finite number (the monitored value, e.g. the validation loss), got undefined'],
    [() => (new S.StepLR(o(), { stepSize: 2 }).step as (m: number) => void)(0.5), 'fathom.StepLR.step: takes no argument (only ReduceLROnPlateau takes a metric), got 0.5'],
    [() => new S.StepLR({} as never, { stepSize: 2 }), 'fathom.StepLR: optimizer must be an optimizer with paramGroups (e.g. new optim.SGD(model.parameters())), got an object'],
    [() => new S.StepLR(fakeOpt([-1]), { stepSize: 2 }), 'fathom.StepLR: optimizer.paramGroups[0].lr must be a finite number >= 0, got -1'],
    [() => new S.SequentialLR(o(), { schedulers: [], milestones: [] }), 'fathom.SequentialLR: schedulers must be a non-empty array of schedulers, got an Array(0)'],
    [() => { const a = o(); return new S.SequentialLR(a, { schedulers: [new S.StepLR(a, { stepSize: 1 }), new S.StepLR(a, { stepSize: 1 })], milestones: [] }); },
      'fathom.SequentialLR: milestones must be an array of 1 epochs (one fewer than schedulers), got an Array(0)'],
    [() => { const a = o(); return new S.ChainedScheduler([new S.StepLR(a, { stepSize: 1 }), new S.StepLR(o(), { stepSize: 1 })]); },
      'fathom.ChainedScheduler: schedulers[1] wraps another optimizer; every scheduler must wrap the same one'],
    [() => { const a = o(); return new S.ChainedScheduler([new S.ReduceLROnPlateau(a) as never]); }, 'fathom.ChainedScheduler: schedulers[0] is a ReduceLROnPlateau, whose step() needs a metric'],
  ])('%#', (make, message) => {
    expect(make).toThrow(message);
  });

  it('a param group added after the scheduler is refused at step(), naming both counts', () => {
    const opt = fakeOpt([0.1]);
    const s = new S.StepLR(opt, { stepSize: 2 });
    opt.paramGroups.push({ lr: 0.2 });
    expect(() => s.step()).toThrow('fathom.StepLR.step: the optimizer has 2 param groups, the scheduler was built for 1');
    expect(s.lastEpoch).toBe(0);
  });
});
