/**
 * opt.stateDict() / opt.loadStateDict(): PyTorch's structure in camelCase
 * ({ state: { [i]: { step, expAvg, ... } }, paramGroups: [{ ...hyper, params: [i] }] }),
 * deep copies both ways, an exact continuation after a round trip, and
 * refusals that name what differs and change nothing.
 */
import { describe, expect, it } from 'vitest';
import { optim, setBackend, tensor, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const bad = <T>(v: unknown): T => v as T;

const shapes = [[2, 3], [3], [4]];
function params(): Tensor[] {
  return shapes.map((s, k) => {
    const n = s.reduce((a, b) => a * b, 1);
    return tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(1 + i + 7 * k)), s).requireGrad();
  });
}
function setGrads(ps: Tensor[], t: number): void {
  ps.forEach((p, k) => { p.grad = tensor(Float32Array.from({ length: p.size }, (_, i) => Math.cos(t * 0.7 + i + 3 * k)), [...p.shape]); });
}

type Make = (ps: Tensor[]) => optim.Optimizer;
const MAKERS: Array<[string, Make]> = [
  ['SGD momentum', (ps) => new optim.SGD([{ params: ps.slice(0, 2) }, { params: ps.slice(2), lr: 0.05 }], { lr: 0.1, momentum: 0.9 })],
  ['Adam amsgrad', (ps) => new optim.Adam([{ params: ps.slice(0, 2) }, { params: ps.slice(2), weightDecay: 0.1 }], { lr: 0.01, amsgrad: true })],
  ['AdamW', (ps) => new optim.AdamW(ps, { lr: 0.01 })],
  ['Adagrad', (ps) => new optim.Adagrad(ps, { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1 })],
  ['RMSprop centered + momentum', (ps) => new optim.RMSprop(ps, { centered: true, momentum: 0.5 })],
  ['Adadelta', (ps) => new optim.Adadelta(ps)],
  ['Adamax', (ps) => new optim.Adamax(ps)],
];

describe.each(backends)('stateDict / loadStateDict on the %s backend', (name) => {
  it('has PyTorch\'s structure (camelCase keys, flat parameter indices, groups with every hyper-parameter)', () => {
    setBackend(name);
    const ps = params();
    const opt = new optim.Adam([{ params: ps.slice(0, 2) }, { params: ps.slice(2), lr: 0.5 }], { amsgrad: true });
    setGrads(ps, 1);
    ps[1].grad = null; // no gradient: no state for parameter 1 (as PyTorch)
    opt.step();
    const sd = opt.stateDict();
    expect(Object.keys(sd.state)).toEqual(['0', '2']);
    expect(Object.keys(sd.state[0])).toEqual(['expAvg', 'expAvgSq', 'maxExpAvgSq', 'step']);
    expect(sd.state[0].step).toBe(1);
    expect((sd.state[2].expAvg as Tensor).shape).toEqual([4]);
    expect(sd.paramGroups).toEqual([
      { params: [0, 1], lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: true },
      { params: [2], lr: 0.5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: true },
    ]);
    const sgd = new optim.SGD(ps, { momentum: 0.9 });
    setGrads(ps, 1);
    sgd.step();
    expect(Object.keys(sgd.stateDict().state[0])).toEqual(['momentumBuffer']); // SGD keeps no step (as PyTorch)
  });

  it('is a deep copy both ways', () => {
    setBackend(name);
    const ps = params();
    const opt = new optim.Adam(ps);
    setGrads(ps, 1);
    opt.step();
    const sd = opt.stateDict();
    const before = (sd.state[0].expAvg as Tensor).data[0];
    (sd.state[0].expAvg as Tensor).data[0] = 123;
    (sd.paramGroups[0].betas as number[])[0] = 0.1;
    expect((opt.stateDict().state[0].expAvg as Tensor).data[0]).toBe(before);
    expect(opt.paramGroups[0].betas).toEqual([0.9, 0.999]);
    const fresh = new optim.Adam(params());
    fresh.loadStateDict(sd);
    (sd.state[0].expAvg as Tensor).data[0] = 456;
    expect((fresh.stateDict().state[0].expAvg as Tensor).data[0]).toBe(123);
    expect(fresh.paramGroups[0].betas).toEqual([0.1, 0.999]);
  });

  it.each(MAKERS)('%s: a round trip into a fresh optimizer continues bit-exactly', (_, make) => {
    setBackend(name);
    const a = params(), b = params();
    const oa = make(a), ob = make(b);
    for (let t = 1; t <= 3; t++) {
      setGrads(a, t);
      oa.step();
    }
    b.forEach((p, k) => p.data.set(a[k].data));
    ob.loadStateDict(oa.stateDict());
    expect(ob.paramGroups.map(({ params: _p, ...h }) => h)).toEqual(oa.paramGroups.map(({ params: _p, ...h }) => h));
    for (let t = 4; t <= 6; t++) {
      setGrads(a, t);
      setGrads(b, t);
      oa.step();
      ob.step();
    }
    a.forEach((p, k) => expect([...b[k].data]).toEqual([...p.data]));
  });

  it('refuses mismatched state dicts, names what differs, and changes nothing', () => {
    setBackend(name);
    const ps = params();
    const opt = new optim.Adam([{ params: ps.slice(0, 2) }, { params: ps.slice(2) }]);
    setGrads(ps, 1);
    opt.step();
    const good = opt.stateDict();
    const snapshot = JSON.stringify(opt.stateDict(), (_k, v) => (v instanceof Tensor ? [...v.data] : v));
    const variant = (f: (d: optim.OptimizerStateDict) => void): optim.OptimizerStateDict => {
      const d = opt.stateDict();
      f(d);
      return d;
    };
    const cases: Array<[optim.OptimizerStateDict, RegExp]> = [
      [bad(null), /^fathom.Adam.loadStateDict: the state dict must be an object \{ state, paramGroups \}, got null$/],
      [variant((d) => { d.paramGroups.pop(); }), /^fathom.Adam.loadStateDict: the state dict has 1 parameter group\(s\), this optimizer 2$/],
      [variant((d) => { d.paramGroups[0].params = [0]; }), /^fathom.Adam.loadStateDict: paramGroups\[0\] holds 1 parameter\(s\) in the state dict, 2 in this optimizer$/],
      [variant((d) => { d.paramGroups[1].params = [0]; }), /paramGroups\[1\].params\[0\] must be 2 \(parameters are numbered in group order\), got 0/],
      [variant((d) => { d.paramGroups[1].lr = -1; }), /^fathom.Adam.loadStateDict: paramGroups\[1\].lr must be a finite number >= 0 .*got -1$/],
      [variant((d) => { delete d.paramGroups[0].eps; }), /^fathom.Adam.loadStateDict: paramGroups\[0\].eps is missing$/],
      [variant((d) => { d.paramGroups[0].momentum = 0.9; }), /unknown key 'momentum' in paramGroups\[0\] \(known: params, lr, betas, eps, weightDecay, amsgrad, initialLr\)/],
      [variant((d) => { d.state[7] = { step: 1 }; }), /^fathom.Adam.loadStateDict: state key '7' is not a parameter index in \[0, 3\)$/],
      [variant((d) => { d.state[0].expAvg = tensor([1, 2]); }), /^fathom.Adam.loadStateDict: state\[0\].expAvg has shape \[2\], parameter 0 has shape \[2, 3\]$/],
      [variant((d) => { d.state[0].momentumBuffer = tensor([1]); }), /unknown key 'momentumBuffer' in state\[0\] \(known: step, expAvg, expAvgSq, maxExpAvgSq\)/],
      [variant((d) => { d.state[0].step = -1; }), /state\[0\].step must be an integer >= 0, got -1/],
      [variant((d) => { delete d.state[2].step; }), /state\[2\].step is missing/],
      [variant((d) => { d.state[0].expAvg = bad([1, 2, 3, 4, 5, 6]); }), /state\[0\].expAvg must be a float32 Tensor, got/],
    ];
    for (const [d, want] of cases) {
      expect(() => opt.loadStateDict(d)).toThrow(want);
      expect(JSON.stringify(opt.stateDict(), (_k, v) => (v instanceof Tensor ? [...v.data] : v))).toBe(snapshot);
    }
    opt.loadStateDict(good); // the unmodified dict still loads
  });
});
