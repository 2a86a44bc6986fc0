/**
 * Optimizers on bad input (issue #8, section 2): hyper-parameters checked on
 * construction and on every later assignment (never ±Infinity written into
 * weights), configs and parameter lists checked, detached storage refused.
 * Every case runs on both backends.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { optim, setBackend, tensor, type Tensor, type SgdConfig, type AdamConfig } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const bad = <T>(v: unknown): T => v as T;

function param(values: number[], grad: number[]): Tensor {
  const p = tensor(values).requireGrad();
  p.grad = tensor(grad);
  return p;
}

describe.each(backends)('optimizer hardening on the %s backend', (name) => {
  afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));
  const use = (): void => setBackend(name);

  it('checks lr on assignment after construction: -1, 1e300, Infinity, NaN and strings are refused', () => {
    use();
    for (const opt of [new optim.SGD([param([1], [1])]), new optim.Adam([param([1], [1])]), new optim.AdamW([param([1], [1])])]) {
      const n = opt.name;
      expect(() => { opt.lr = -1; }).toThrow(new RegExp(`^fathom.${n}: lr must be a finite number >= 0 \\(at most 3.4e38, float32's limit\\), got -1$`));
      expect(() => { opt.lr = 1e300; }).toThrow(/lr must be a finite number >= 0 .* got 1e\+300/);
      expect(() => { opt.lr = Infinity; }).toThrow(/lr must be a finite number >= 0 .* got Infinity/);
      expect(() => { opt.lr = NaN; }).toThrow(/got NaN/);
      expect(() => { opt.lr = bad('0.1'); }).toThrow(/got "0.1"/);
      expect(opt.lr).toBeGreaterThan(0); // unchanged by the refused assignments
    }
  });

  it('a refused lr never reaches the weights; a valid new lr takes effect', () => {
    use();
    const p = param([1, -2], [0.5, -1]);
    const opt = new optim.SGD([p], { lr: 0.1 });
    expect(() => { opt.lr = 1e300; }).toThrow(/fathom.SGD: lr/);
    opt.step();
    expect([...p.data]).toEqual([1 - 0.05, -2 + 0.1].map(Math.fround));
    opt.lr = 1;
    opt.step();
    expect([...p.data]).toEqual([Math.fround(Math.fround(0.95) - 0.5), Math.fround(Math.fround(-1.9) + 1)]);
    for (const v of p.data) expect(Number.isFinite(v)).toBe(true);
  });

  it('checks every other hyper-parameter on assignment too', () => {
    use();
    const sgd = new optim.SGD([param([1], [1])], { momentum: 0.9 });
    expect(() => { sgd.momentum = -0.1; }).toThrow(/fathom.SGD: momentum must be a finite number >= 0/);
    expect(() => { sgd.dampening = 2; }).toThrow(/fathom.SGD: dampening must be a finite number in \[0, 1\], got 2/);
    expect(() => { sgd.weightDecay = Infinity; }).toThrow(/fathom.SGD: weightDecay must be a finite number >= 0/);
    expect(() => { sgd.nesterov = bad('yes'); }).toThrow(/fathom.SGD: nesterov must be a boolean, got "yes"/);
    const adam = new optim.Adam([param([1], [1])]);
    expect(() => { adam.beta1 = 1; }).toThrow(/fathom.Adam: beta1 must be a finite number in \[0, 1\), got 1/);
    expect(() => { adam.beta2 = -0.5; }).toThrow(/fathom.Adam: beta2 must be a finite number in \[0, 1\)/);
    expect(() => { adam.eps = -1e-8; }).toThrow(/fathom.Adam: eps must be a finite number > 0/);
    expect(() => { adam.weightDecay = bad(null); }).toThrow(/fathom.Adam: weightDecay must be a finite number >= 0 .* got null/);
    adam.beta1 = 0.5;
    expect(adam.beta1).toBe(0.5);
  });

  it('step() refuses a combination made invalid after construction and changes nothing', () => {
    use();
    const p = param([2], [1]);
    const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.5, nesterov: true });
    opt.momentum = 0;
    expect(() => opt.step()).toThrow(/fathom.SGD: nesterov needs momentum > 0 and dampening = 0, got momentum 0 and dampening 0/);
    expect(p.data[0]).toBe(2);
    expect(opt.steps).toBe(0);
  });

  it('refuses bad configs: unknown keys, wrong types, null', () => {
    use();
    const ps = [param([1], [1])];
    expect(() => new optim.SGD(ps, { lr: bad('0.1') })).toThrow(/fathom.SGD: lr must be a finite number >= 0 .* got "0.1"/);
    expect(() => new optim.SGD(ps, { nesterov: bad('true'), momentum: 0.9 })).toThrow(/fathom.SGD: nesterov must be a boolean, got "true"/);
    expect(() => new optim.SGD(ps, bad<SgdConfig>({ learningRate: 0.1 }))).toThrow(/fathom.SGD: unknown option 'learningRate' in config \(known: lr, momentum, dampening, weightDecay, nesterov\)/);
    expect(() => new optim.Adam(ps, { betas: bad('ab') })).toThrow(/fathom.Adam: betas must be an array of two numbers in \[0, 1\), got "ab"/);
    expect(() => new optim.Adam(ps, { betas: bad([0.9]) })).toThrow(/betas must be an array of two numbers/);
    expect(() => new optim.Adam(ps, { betas: [0.9, bad('0.999')] })).toThrow(/fathom.Adam: betas\[1\] must be a finite number in \[0, 1\), got "0.999"/);
    expect(() => new optim.AdamW(ps, bad<AdamConfig>({ weight_decay: 0.1 }))).toThrow(/fathom.AdamW: unknown option 'weight_decay'/);
    expect(() => new optim.SGD(ps, bad(null))).toThrow(/fathom.SGD: config must be an object, got null/);
    expect(() => new optim.SGD(ps).zeroGrad(bad('yes'))).toThrow(/fathom.SGD.zeroGrad: setToNone must be a boolean/);
  });

  it('refuses parameter lists that are not lists of distinct float32 Tensors, or are empty', () => {
    use();
    const p = param([1], [1]);
    expect(() => new optim.SGD(bad(null))).toThrow(/fathom.SGD: params must be an iterable of Tensors \(e.g. model.parameters\(\)\), got null/);
    expect(() => new optim.Adam(bad(p))).toThrow(/fathom.Adam: params must be an iterable of Tensors .* got a Tensor/);
    expect(() => new optim.SGD([])).toThrow(/fathom.SGD: got an empty parameter list, nothing to optimize/);
    expect(() => new optim.SGD([p, bad<Tensor>({})])).toThrow(/fathom.SGD: parameter 1 must be a Tensor, got an object/);
    expect(() => new optim.SGD([tensor(new Int32Array([1]))])).toThrow(/fathom.SGD: parameter 0 must be float32, got int32/);
    expect(() => new optim.SGD([p, p])).toThrow(/fathom.SGD: parameter 1 is the same tensor as parameter 0; list each parameter once/);
    expect(new optim.SGD(new Set([p])).params).toEqual([p]);
  });

  it('step() refuses a parameter or gradient whose buffer was transferred, before updating anything', () => {
    use();
    const a = param([1], [1]);
    const b = param([1, 2], [1, 1]);
    const opt = new optim.Adam([a, b], { lr: 0.1 });
    structuredClone(b.data.buffer, { transfer: [b.data.buffer as ArrayBuffer] });
    expect(() => opt.step()).toThrow(/fathom.Adam.step: parameter 1 has lost its storage/);
    expect(a.data[0]).toBe(1); // nothing was updated
    const c = param([1], [1]);
    const sgd = new optim.SGD([c]);
    structuredClone(c.grad!.data.buffer, { transfer: [c.grad!.data.buffer as ArrayBuffer] });
    expect(() => sgd.step()).toThrow(/fathom.SGD.step: the gradient of parameter 0 has lost its storage/);
    expect(c.data[0]).toBe(1);
  });
});
