/**
 * Parameter groups (PyTorch's param_groups, camelCase): construction from
 * Tensors or groups, per-group hyper-parameters in the update, the setters
 * (getter = group 0, setter = every group), addParamGroup, validation at
 * step() naming the group and key, and duplicates across groups refused.
 */
import { describe, expect, it } from 'vitest';
import { optim, setBackend, tensor, type Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const bad = <T>(v: unknown): T => v as T;

function param(values: number[], grad: number[]): Tensor {
  const p = tensor(values).requireGrad();
  p.grad = tensor(grad);
  return p;
}

describe.each(backends)('parameter groups on the %s backend', (name) => {
  it('one group from an iterable of Tensors, holding every hyper-parameter', () => {
    setBackend(name);
    const a = param([1], [1]), b = param([2], [1]);
    const opt = new optim.SGD([a, b], { lr: 0.1, momentum: 0.9 });
    expect(opt.paramGroups).toHaveLength(1);
    expect(opt.paramGroups[0]).toEqual({ params: [a, b], lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false });
    expect(opt.defaults).toEqual({ lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false });
    const adam = new optim.AdamW([a]);
    expect(adam.paramGroups[0]).toEqual({ params: [a], lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, amsgrad: false });
  });

  it('groups override the defaults; each group is updated with its own lr and weight decay', () => {
    setBackend(name);
    const w = param([1, 2], [0.5, 0.5]), b = param([3], [1]);
    const opt = new optim.SGD([{ params: [w] }, { params: b, lr: 0.5, weightDecay: 0 }], { lr: 0.1, weightDecay: 0.1 });
    expect(opt.paramGroups.map((g) => [g.lr, g.weightDecay])).toEqual([[0.1, 0.1], [0.5, 0]]);
    expect(opt.params).toEqual([w, b]);
    opt.step();
    // w -= 0.1 * (0.5 + 0.1 w); b -= 0.5 * 1
    expect([...w.data]).toEqual([1 - 0.1 * 0.6, 2 - 0.1 * 0.7].map(Math.fround));
    expect(b.data[0]).toBe(2.5);
  });

  it('a group written directly (as a scheduler does) takes effect at the next step', () => {
    setBackend(name);
    const w = param([1], [1]), b = param([1], [1]);
    const opt = new optim.Adam([{ params: [w] }, { params: [b] }], { lr: 0.1 });
    opt.paramGroups[1].lr = 0;
    opt.paramGroups[0].betas = [0.5, 0.9];
    opt.step();
    expect(b.data[0]).toBe(1); // lr 0 leaves it
    expect(w.data[0]).toBeCloseTo(0.9, 6); // first Adam step moves by lr whatever the betas
  });

  it('setters read group 0 and write every group; beta1/beta2 write a new betas pair', () => {
    setBackend(name);
    const opt = new optim.Adam([{ params: [param([1], [1])] }, { params: [param([1], [1])], lr: 0.5, betas: [0.8, 0.99] }]);
    expect(opt.lr).toBe(1e-3);
    opt.lr = 0.2;
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.2, 0.2]);
    opt.beta1 = 0.7;
    expect(opt.paramGroups.map((g) => g.betas)).toEqual([[0.7, 0.999], [0.7, 0.99]]);
    expect(opt.beta2).toBe(0.999);
    expect(opt.defaults.lr).toBe(1e-3); // defaults are the constructor's (as PyTorch)
    const sgd = new optim.SGD([{ params: [param([1], [1])] }, { params: [param([1], [1])], momentum: 0.5 }], { momentum: 0.9 });
    expect(sgd.momentum).toBe(0.9);
    sgd.momentum = 0.1;
    expect(sgd.paramGroups.map((g) => g.momentum)).toEqual([0.1, 0.1]);
  });

  it('addParamGroup fills missing keys from the defaults and refuses a parameter already held', () => {
    setBackend(name);
    const a = param([1], [1]), b = param([1], [1]);
    const opt = new optim.SGD([a], { lr: 0.1, momentum: 0.9 });
    opt.lr = 0.3;
    opt.addParamGroup({ params: [b], dampening: 0.5 });
    expect(opt.paramGroups[1]).toEqual({ params: [b], lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0, nesterov: false });
    expect(() => opt.addParamGroup({ params: [a] })).toThrow(
      /^fathom.SGD: some parameters appear in more than one parameter group: parameter 0 of paramGroups\[2\] is already in paramGroups\[0\]$/,
    );
    expect(() => opt.addParamGroup({ params: [param([1], [1])], lr: -1 })).toThrow(/^fathom.SGD: paramGroups\[2\].lr must be a finite number >= 0 .*got -1$/);
    expect(() => opt.addParamGroup(bad({ params: [param([1], [1])], weight_decay: 0 }))).toThrow(/fathom.SGD: unknown key 'weight_decay' in paramGroups\[2\] \(known: params, lr, momentum/);
    expect(() => opt.addParamGroup(bad({ lr: 1 }))).toThrow(/fathom.SGD: paramGroups\[2\].params must be an iterable of Tensors .*got undefined/);
    expect(opt.paramGroups).toHaveLength(2); // refused groups were not added
  });

  it('refuses a parameter in two groups at construction, and bad groups', () => {
    setBackend(name);
    const a = param([1], [1]);
    expect(() => new optim.Adam([{ params: [a] }, { params: [param([1], [1]), a] }])).toThrow(
      /fathom.Adam: some parameters appear in more than one parameter group: parameter 1 of paramGroups\[1\] is already in paramGroups\[0\]/,
    );
    expect(() => new optim.SGD([{ params: [a] }, bad<optim.ParamGroupInput>(a)])).toThrow(/fathom.SGD: params mixes groups and Tensors/);
    expect(() => new optim.SGD([{ params: [] }])).toThrow(/fathom.SGD: got an empty parameter list/);
    expect(() => new optim.SGD([{ params: [a], nesterov: true }])).toThrow(
      /fathom.SGD: nesterov needs momentum > 0 and dampening = 0, got momentum 0 and dampening 0 \(in paramGroups\[0\]\)/,
    );
    expect(() => new optim.Adam([{ params: [a], betas: bad([0.9, 1]) }])).toThrow(/fathom.Adam: paramGroups\[0\].betas\[1\] must be a finite number in \[0, 1\), got 1/);
  });

  it('step() validates every group, names the optimizer, group index and key, and updates nothing', () => {
    setBackend(name);
    const a = param([1], [1]), b = param([1], [1]);
    const cases: Array<[optim.Optimizer, (g: optim.ParamGroup) => void, RegExp]> = [
      [new optim.SGD([{ params: [a] }, { params: [b] }]), (g) => { g.lr = -1; }, /^fathom.SGD: paramGroups\[1\].lr must be a finite number >= 0 .*got -1$/],
      [new optim.SGD([{ params: [a] }, { params: [b] }]), (g) => { g.momentum = bad('0.9'); }, /^fathom.SGD: paramGroups\[1\].momentum must be a finite number >= 0 .*got "0.9"$/],
      [new optim.SGD([{ params: [a] }, { params: [b] }], { momentum: 0.9, nesterov: true }), (g) => { g.dampening = 0.5; }, /nesterov needs momentum > 0 and dampening = 0, got momentum 0.9 and dampening 0.5 \(in paramGroups\[1\]\)/],
      [new optim.Adam([{ params: [a] }, { params: [b] }]), (g) => { g.betas = [0.9, 1]; }, /^fathom.Adam: paramGroups\[1\].betas\[1\] must be a finite number in \[0, 1\), got 1$/],
      [new optim.Adam([{ params: [a] }, { params: [b] }]), (g) => { g.betas = bad(0.9); }, /^fathom.Adam: paramGroups\[1\].betas must be an array of two numbers in \[0, 1\), got 0.9$/],
      [new optim.AdamW([{ params: [a] }, { params: [b] }]), (g) => { delete g.eps; }, /^fathom.AdamW: paramGroups\[1\].eps must be a finite number > 0 .*got undefined$/],
      [new optim.Adam([{ params: [a] }, { params: [b] }]), (g) => { g.params = [a]; }, /^fathom.Adam: some parameters appear in more than one parameter group \(or twice in one\): parameter 0 of paramGroups\[1\]$/],
      [new optim.Adam([{ params: [a] }, { params: [b] }]), (g) => { g.params = bad([{}]); }, /^fathom.Adam: parameter 0 of paramGroups\[1\] must be a float32 Tensor, got an object$/],
    ];
    for (const [opt, spoil, want] of cases) {
      spoil(opt.paramGroups[1]);
      expect(() => opt.step()).toThrow(want);
      expect([a.data[0], b.data[0], opt.steps]).toEqual([1, 1, 0]);
    }
  });
});

describe('the new optimizers: config, setters and group values checked, errors naming the key (and group)', () => {
  const p = () => param([1, 2], [0.5, -0.5]);
  const cases: Array<[string, (ps: optim.ParamGroupInput[], cfg?: object) => optim.Optimizer, Array<[string, unknown, RegExp]>]> = [
    ['Adagrad', (ps, c) => new optim.Adagrad(ps, c), [
      ['lr', -1, /must be a finite number >= 0/], ['lrDecay', -0.1, /must be a finite number >= 0/],
      ['initialAccumulatorValue', NaN, /must be a finite number >= 0 .*got NaN/], ['eps', 0, /must be a finite number > 0 .*got 0/],
      ['weightDecay', '0', /got "0"/],
    ]],
    ['RMSprop', (ps, c) => new optim.RMSprop(ps, c), [
      ['alpha', 1.5, /must be a finite number in \[0, 1\], got 1.5/], ['momentum', -1, /must be a finite number >= 0/],
      ['centered', 1, /must be a boolean, got 1/], ['eps', -1e-8, /must be a finite number > 0/],
    ]],
    ['Adadelta', (ps, c) => new optim.Adadelta(ps, c), [
      ['rho', 2, /must be a finite number in \[0, 1\], got 2/], ['lr', Infinity, /got Infinity/], ['eps', 1e-50, /\(0 as float32\)/],
    ]],
    ['Adamax', (ps, c) => new optim.Adamax(ps, c), [
      ['betas', [0.9, 1], /betas\[1\] must be a finite number in \[0, 1\), got 1/], ['betas', 0.9, /betas must be an array of two numbers/],
      ['weightDecay', -1, /must be a finite number >= 0/],
    ]],
    ['Adam', (ps, c) => new optim.Adam(ps, c), [['amsgrad', 'yes', /must be a boolean, got "yes"/]]],
  ];
  for (const [name, make, bads] of cases) {
    it(`${name}: defaults as PyTorch's, then each bad value refused in the config, a group, and at step()`, () => {
      const opt = make([{ params: [p()] }]);
      expect(opt.paramGroups[0]).toMatchObject(opt.defaults);
      for (const [key, v, want] of bads) {
        expect(() => make([{ params: [p()] }], { [key]: v })).toThrow(new RegExp(`^fathom.${name}: ${key}`));
        expect(() => make([{ params: [p()] }], { [key]: v })).toThrow(want);
        expect(() => make([{ params: [p()] }, { params: [p()], [key]: v }])).toThrow(new RegExp(`^fathom.${name}: paramGroups\\[1\\].${key}`));
        const ok = make([{ params: [p()] }, { params: [p()] }]);
        const before = ok.paramGroups[1][key];
        ok.paramGroups[1][key] = v;
        expect(() => ok.step()).toThrow(new RegExp(`^fathom.${name}: paramGroups\\[1\\].${key}`));
        expect(ok.params.map((t) => [...t.data])).toEqual([[1, 2], [1, 2]]);
        ok.paramGroups[1][key] = before;
        ok.step(); // restored: steps again
        expect(ok.steps).toBe(1);
      }
    });
  }

  it('PyTorch\'s defaults', () => {
    expect(new optim.Adagrad([p()]).defaults).toEqual({ lr: 0.01, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 });
    expect(new optim.RMSprop([p()]).defaults).toEqual({ lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false });
    expect(new optim.Adadelta([p()]).defaults).toEqual({ lr: 1, rho: 0.9, eps: 1e-6, weightDecay: 0 });
    expect(new optim.Adamax([p()]).defaults).toEqual({ lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
    expect(new optim.Adam([p()]).defaults).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false });
    const r = new optim.RMSprop([p()]);
    r.centered = true;
    r.alpha = 0.5;
    expect([r.centered, r.alpha, r.paramGroups[0].alpha]).toEqual([true, 0.5, 0.5]);
    expect(() => { r.alpha = 2; }).toThrow(/^fathom.RMSprop: alpha must be a finite number in \[0, 1\], got 2$/);
  });
});
