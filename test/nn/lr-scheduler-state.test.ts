/**
 * MultiStepLR's state holds its milestones and gamma, as PyTorch's state_dict() does
 * (torch 1.13, MultiStepLR(opt, milestones=[5, 2, 2], gamma=0.5).state_dict() right after
 * construction: {'milestones': Counter({2: 2, 5: 1}), 'gamma': 0.5, 'base_lrs': [0.1],
 * 'last_epoch': 0, 'verbose': False, '_step_count': 1, '_get_lr_called_within_step': False,
 * '_last_lr': [0.1]}), and loadStateDict() restores them: the schedule resumes with the
 * milestones it was saved with, whatever the new scheduler was built with.
 */
import { describe, expect, it } from 'vitest';
import { optim } from '../../lib/index.js';

const { lrScheduler: S } = optim;
const fakeOpt = (lrs: number[]) => ({ paramGroups: lrs.map((lr) => ({ lr }) as { lr: number; [k: string]: unknown }) });

describe('MultiStepLR state', () => {
  it("stateDict() holds PyTorch's keys in camelCase: milestones (the Counter expanded, ascending) and gamma", () => {
    const s = new S.MultiStepLR(fakeOpt([0.1]), { milestones: [5, 2, 2], gamma: 0.5 });
    expect(s.stateDict()).toEqual({ type: 'MultiStepLR', lastEpoch: 0, baseLrs: [0.1], lastLr: [0.1], milestones: [2, 2, 5], gamma: 0.5 });
    const state = s.stateDict();
    (state.milestones as number[]).push(9); // a copy: the scheduler is not changed through it
    expect(s.milestones).toEqual([2, 2, 5]);
  });

  it('a scheduler built with other milestones and gamma resumes the saved schedule exactly (after JSON)', () => {
    const a = fakeOpt([0.1, 0.4]);
    const s = new S.MultiStepLR(a, { milestones: [6, 3, 3], gamma: 0.5 });
    for (let i = 0; i < 2; i++) s.step();
    const state = JSON.parse(JSON.stringify(s.stateDict()));
    const b = fakeOpt([9, 9]);
    const t = new S.MultiStepLR(b, { milestones: [1], gamma: 0.9 });
    b.paramGroups = structuredClone(a.paramGroups); // the optimizer's own lr comes from opt.loadStateDict
    t.loadStateDict(state);
    expect(t.milestones).toEqual([3, 3, 6]);
    expect(t.gamma).toBe(0.5);
    const seq: number[][] = [];
    for (let i = 0; i < 6; i++) {
      s.step();
      t.step();
      expect(t.getLastLr()).toEqual(s.getLastLr());
      seq.push(t.getLastLr());
    }
    // epochs 3..8: ×0.25 at 3 (the repeated milestone), ×0.5 at 6
    expect(seq.map((l) => l[0])).toEqual([0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125]);
    expect(t.stateDict()).toEqual(s.stateDict());
  });

  it('inside a SequentialLR, the child restores its milestones too', () => {
    const make = (ms: number[]) => {
      const o = fakeOpt([1]);
      return new S.SequentialLR(o, { schedulers: [new S.ConstantLR(o, { factor: 0.5, totalIters: 2 }), new S.MultiStepLR(o, { milestones: ms, gamma: 0.1 })], milestones: [2] });
    };
    const s = make([1, 3]);
    for (let i = 0; i < 3; i++) s.step();
    const t = make([7]);
    t.loadStateDict(JSON.parse(JSON.stringify(s.stateDict())));
    expect((t.schedulers[1] as InstanceType<typeof S.MultiStepLR>).milestones).toEqual([1, 3]);
  });

  it('a state saved without milestones and gamma keeps the constructor\'s (PyTorch updates only the keys given)', () => {
    const s = new S.MultiStepLR(fakeOpt([1]), { milestones: [2], gamma: 0.5 });
    s.step();
    const { milestones: _m, gamma: _g, ...old } = s.stateDict();
    const t = new S.MultiStepLR(fakeOpt([1]), { milestones: [4], gamma: 0.25 });
    t.loadStateDict(old);
    expect(t.lastEpoch).toBe(1);
    expect(t.milestones).toEqual([4]);
    expect(t.gamma).toBe(0.25);
  });

  it('bad milestones or gamma in a state are refused, naming the key, and change nothing', () => {
    const s = new S.MultiStepLR(fakeOpt([1]), { milestones: [2, 4], gamma: 0.5 });
    const good = s.stateDict();
    const before = JSON.stringify(s.stateDict());
    expect(() => s.loadStateDict({ ...good, lastEpoch: 3, milestones: [1, -2] })).toThrow('fathom.MultiStepLR.loadStateDict: state.milestones[1] must be an integer >= 0, got -2');
    expect(() => s.loadStateDict({ ...good, lastEpoch: 3, milestones: 5 })).toThrow('fathom.MultiStepLR.loadStateDict: state.milestones must be an array of integers >= 0, got 5');
    expect(() => s.loadStateDict({ ...good, lastEpoch: 3, milestones: [1.5] })).toThrow('state.milestones[0] must be an integer >= 0, got 1.5');
    expect(() => s.loadStateDict({ ...good, lastEpoch: 3, gamma: -1 })).toThrow('fathom.MultiStepLR.loadStateDict: state.gamma must be a finite number >= 0, got -1');
    expect(() => s.loadStateDict({ ...good, lastEpoch: 3, gamma: 'x' })).toThrow('state.gamma must be a finite number >= 0, got "x"');
    expect(() => s.loadStateDict({ ...good, type: 'StepLR' })).toThrow("state.type must be 'MultiStepLR'");
    expect(JSON.stringify(s.stateDict())).toBe(before);
  });
});
