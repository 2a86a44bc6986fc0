/**
 * The activations of issue #9 (leakyRelu, elu, gelu, softplus, silu, maxout) beyond
 * parity and finite differences: known values from PyTorch's definitions, the
 * gradient of maxout at ties and NaN (where a finite difference cannot tell the
 * first maximal element from the others), errors, Tensor methods, the layers,
 * their save/load round trip and Sequential's handling of them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fa from '../../lib/index.js';
import { Tensor, load, manualSeed, nn, save, setBackend, tensor } from '../../lib/index.js';
import { getBackendByName, nativeBinding } from '../../lib/backend/index.js';
import { parameterShapes } from '../../lib/layers/registry.js';
import { UNARY_OP_NAMES } from '../../lib/backend/unary_table.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const any = (v: unknown): never => v as never;

/** y = f(x) and dy/dx for a scalar input. */
function valueAndGrad(f: (x: Tensor) => Tensor, x: number): [number, number] {
  const t = tensor([x]).requireGrad();
  const y = f(t);
  y.sum().backward();
  return [y.data[0], t.grad!.data[0]];
}

// Values of PyTorch's definitions in float64 (Python: math.erf, math.tanh, math.expm1,
// math.log1p), e.g. gelu(1) = 1 · Φ(1) = 0.8413447; gelu'(1) = Φ(1) + φ(1) = 1.0833155.
const KNOWN: [string, (x: Tensor) => Tensor, number, number, number][] = [
  ['gelu', (x) => fa.gelu(x), 1, 0.841344746, 1.08331547],
  ['gelu', (x) => fa.gelu(x), -3, -0.00404969409, -0.0119456472],
  ['gelu tanh', (x) => fa.gelu(x, { approximate: 'tanh' }), 1, 0.841191991, 1.08296408],
  ['gelu tanh', (x) => fa.gelu(x, { approximate: 'tanh' }), -1, -0.158808009, -0.0829640838],
  ['elu', (x) => fa.elu(x), -1, -0.632120559, 0.367879441],
  ['elu alpha 0.5', (x) => fa.elu(x, 0.5), -1, -0.316060279, 0.183939721],
  ['elu', (x) => fa.elu(x), 2, 2, 1],
  ['softplus', (x) => fa.softplus(x), 1, 1.31326169, 0.731058579],
  ['softplus', (x) => fa.softplus(x), -2, 0.126928011, 0.119202922],
  ['softplus linear region', (x) => fa.softplus(x), 25, 25, 1],
  ['softplus beta 2 threshold 1', (x) => fa.softplus(x, { beta: 2, threshold: 1 }), 0.3, 0.518743975, 0.645656306],
  ['softplus beta 2 threshold 1, linear', (x) => fa.softplus(x, { beta: 2, threshold: 1 }), 0.6, 0.6, 1],
  ['silu', (x) => fa.silu(x), 1, 0.731058579, 0.927670512],
  ['silu', (x) => fa.silu(x), -1, -0.268941421, 0.0723294881],
  ['leakyRelu', (x) => fa.leakyRelu(x), -2, -0.02, 0.01],
  ['leakyRelu slope 0.2', (x) => fa.leakyRelu(x, 0.2), -2, -0.4, 0.2],
  ['leakyRelu', (x) => fa.leakyRelu(x), 3, 3, 1],
];

describe.each(backends)('activations on the %s backend', (name) => {
  beforeAll(() => setBackend(name));
  afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

  it('match the values of PyTorch\'s definitions (forward and gradient)', () => {
    for (const [label, f, x, y, d] of KNOWN) {
      const [gy, gd] = valueAndGrad(f, x);
      expect(Math.abs(gy - y), `${label}(${x}) = ${gy}, want ${y}`).toBeLessThanOrEqual(1e-6 * Math.abs(y) + 1e-9);
      expect(Math.abs(gd - d), `${label}'(${x}) = ${gd}, want ${d}`).toBeLessThanOrEqual(1e-6 * Math.abs(d) + 1e-9);
    }
  });

  it('maxout: first maximal element wins the gradient; NaN wins the group', () => {
    // [3, 3 | 1, 2] pieces 2: y = [3, 2]; the tie goes to the first 3.
    const x = tensor([[3, 3, 1, 2]]).requireGrad();
    const y = fa.maxout(x, 2);
    expect(y.shape).toEqual([1, 2]);
    expect([...y.data]).toEqual([3, 2]);
    y.backward(tensor([[5, 7]]));
    expect([...x.grad!.data]).toEqual([5, 0, 0, 7]);
    // A NaN anywhere in a group gives NaN, and the gradient goes to the first NaN.
    const z = tensor([[1, NaN, NaN, 9, -1, -1]]).requireGrad();
    const out = fa.maxout(z, 3);
    expect(Number.isNaN(out.data[0]) && out.data[1] === 9).toBe(true);
    out.backward(tensor([[2, 4]]));
    expect([...z.grad!.data]).toEqual([0, 2, 0, 4, 0, 0]);
    // Higher rank: groups run over the last axis only.
    const h = fa.maxout(tensor([[[1, 2, 3, 4, 5, 6]], [[6, 5, 4, 3, 2, 1]]]), 3);
    expect(h.toArray()).toEqual([[[3, 6]], [[6, 3]]]);
    // Empty tensors stay empty.
    expect(fa.maxout(fa.zeros([0, 6]), 2).shape).toEqual([0, 3]);
  });

  it('Tensor methods are the functions', () => {
    const x = tensor([[-1.5, 0.25, 2]]);
    const same = (a: Tensor, b: Tensor): void => expect([...a.data]).toEqual([...b.data]);
    same(x.leakyRelu(0.2), fa.leakyRelu(x, 0.2));
    same(x.leakyRelu(), fa.leakyRelu(x, 0.01));
    same(x.elu(0.5), fa.elu(x, 0.5));
    same(x.gelu({ approximate: 'tanh' }), fa.gelu(x, { approximate: 'tanh' }));
    same(x.gelu(), fa.gelu(x));
    same(x.softplus({ beta: 2 }), fa.softplus(x, { beta: 2, threshold: 20 }));
    same(x.silu(), fa.silu(x));
    same(x.pow(2), fa.square(x));
    same(tensor([[1, 5, 2, 0]]).maxout(2), tensor([[5, 2]]));
  });
});

describe('activation errors name the op, the argument and what came', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  it('functions', () => {
    expect(() => fa.leakyRelu(x, any('0.1'))).toThrow(/^fathom\.leakyRelu: negativeSlope must be a number, got "0\.1"$/);
    expect(() => fa.leakyRelu(x, NaN)).toThrow(/fathom\.leakyRelu: negativeSlope must be a number, got NaN/);
    expect(() => fa.elu(x, any(null))).toThrow(/^fathom\.elu: alpha must be a number, got null$/);
    expect(() => fa.elu(x, Infinity)).toThrow(/^fathom\.elu: alpha must be finite in float32, got Infinity$/);
    expect(() => fa.softplus(x, { beta: 0 })).toThrow(/^fathom\.softplus: beta must be non-zero, got 0$/);
    expect(() => fa.softplus(x, any({ betta: 2 }))).toThrow(/fathom\.softplus: unknown option 'betta'/);
    expect(() => fa.softplus(x, { threshold: any('20') })).toThrow(/fathom\.softplus: threshold must be a number, got "20"/);
    expect(() => fa.softplus(x, any(3))).toThrow(/fathom\.softplus: options must be an object, got 3/);
    expect(() => fa.gelu(x, { approximate: any('fast') })).toThrow(/^fathom\.gelu: approximate must be 'none' or 'tanh', got "fast"$/);
    expect(() => fa.silu(any([1, 2]))).toThrow(/fathom\.silu: x must be a Tensor/);
    expect(() => fa.gelu(tensor([1], { dtype: 'int32' }))).toThrow(/fathom\.gelu: x must be float32, got int32/);
  });
  it('maxout', () => {
    expect(() => fa.maxout(x, 2)).toThrow(/^fathom\.maxout: the last dimension of x \[2, 3\] \(3\) is not divisible by pieces = 2$/);
    expect(() => fa.maxout(x, 0)).toThrow(/^fathom\.maxout: pieces must be a positive integer, got 0$/);
    expect(() => fa.maxout(x, 1.5)).toThrow(/pieces must be a positive integer, got 1\.5/);
    expect(() => fa.maxout(x, any('3'))).toThrow(/pieces must be a positive integer, got "3"/);
    expect(() => fa.maxout(tensor(2), 1)).toThrow(/fathom\.maxout: x must have at least one dimension/);
  });
  it('layers', () => {
    expect(() => new nn.LeakyReLU(any('a'))).toThrow(/^fathom\.LeakyReLU: negativeSlope must be a number finite in float32, got "a"$/);
    expect(() => new nn.ELU(NaN)).toThrow(/fathom\.ELU: alpha must be a number finite in float32, got NaN/);
    expect(() => new nn.Softplus({ beta: 0 })).toThrow(/fathom\.Softplus: beta must be non-zero, got 0/);
    expect(() => new nn.GELU({ approximate: any('erf') })).toThrow(/fathom\.GELU: approximate must be 'none' or 'tanh'/);
    expect(() => new nn.Maxout(4, 0, 2)).toThrow(/^fathom\.Maxout: units must be a positive integer, got 0$/);
    expect(() => new nn.Maxout(4, 3, any(null))).toThrow(/fathom\.Maxout: pieces must be a positive integer, got null/);
    expect(() => new nn.Maxout(4, 3, 2).forward(fa.zeros([2, 5]))).toThrow(/^fathom\.Maxout: Linear: expected input \[\*, 4\] \(any rank >= 1, last axis 4\), got \[2, 5\]$/);
  });
});

describe('activation layers', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fathom-act-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function model(): nn.Sequential {
    manualSeed(5);
    return new nn.Sequential(
      new nn.Maxout(6, 5, 3), new nn.LeakyReLU(0.1), new nn.Linear(5, 8), new nn.ELU(0.7),
      new nn.Linear(8, 8), new nn.GELU({ approximate: 'tanh' }), new nn.Linear(8, 4), new nn.Softplus({ beta: 2, threshold: 5 }),
      new nn.Linear(4, 4), new nn.SiLU(), new nn.GELU(),
    );
  }
  const x = tensor(Float32Array.from({ length: 18 }, (_, i) => Math.sin(i)), [3, 6]);

  it('apply their functions', () => {
    const m = new nn.Maxout(6, 5, 3, { seed: 1 });
    const want = fa.maxout(fa.linear(x, m.linear.weight, m.linear.bias), 3);
    expect([...m.forward(x).data]).toEqual([...want.data]);
    expect(m.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([['linear.weight', [15, 6]], ['linear.bias', [15]]]);
    expect([...new nn.LeakyReLU(0.3).forward(x).data]).toEqual([...fa.leakyRelu(x, 0.3).data]);
    expect([...new nn.Softplus({ threshold: 0.5 }).forward(x).data]).toEqual([...fa.softplus(x, { threshold: 0.5 }).data]);
  });

  it('save and load: same config, same parameters, same predictions', async () => {
    const m = model();
    const path = join(dir, 'acts.safetensors');
    await save(m, path);
    const again = await load(path);
    expect(again.config()).toEqual(m.config());
    expect(parameterShapes(m.config())).toEqual(m.namedParameters().map(([n, p]) => [n, [...p.shape]]));
    expect([...again.predict(x).data]).toEqual([...m.predict(x).data]);
  });

  it('refuse unknown config keys and bad values when loading', () => {
    expect(() => nn.fromConfig({ type: 'LeakyReLU', slope: 0.1 })).toThrow(/unknown key "slope" in a LeakyReLU config/);
    expect(() => nn.fromConfig({ type: 'ELU', alpha: 'x' })).toThrow(/fathom\.fromConfig: ELU\.alpha must be a finite number, got "x"/);
    expect(() => nn.fromConfig({ type: 'Maxout', inFeatures: 4, units: 2 })).toThrow(/Maxout\.pieces must be a positive integer/);
  });

  it('train: the loss of a small Maxout + GELU network falls', () => {
    manualSeed(3);
    const m = new nn.Sequential(new nn.Maxout(2, 8, 2), new nn.GELU(), new nn.Linear(8, 1));
    const xs = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const ys = tensor([[0], [1], [1], [0]]);
    const opt = new fa.optim.Adam(m.parameters(), { lr: 0.05 });
    const loss = (): Tensor => fa.mseLoss(m.forward(xs), ys);
    const first = loss().item();
    for (let i = 0; i < 300; i++) {
      opt.zeroGrad();
      loss().backward();
      opt.step();
    }
    expect(loss().item()).toBeLessThan(first / 10);
  });
});

it('every unary op of the table has a Tensor method or is reached through gelu', () => {
  const t = tensor([1]);
  for (const op of UNARY_OP_NAMES) {
    if (op === 'gelu' || op === 'geluTanh') continue;
    expect(typeof (t as unknown as Record<string, unknown>)[op], op).toBe('function');
  }
});

it('functions and methods are typed from the table', () => {
  const x = tensor([1, -2]);
  // @ts-expect-error pow needs its exponent
  expect(() => x.pow()).toThrow(/^fathom\.pow: exponent p must be a number, got undefined$/);
  // @ts-expect-error negativeSlope is a number
  expect(() => fa.leakyRelu(x, '0.1')).toThrow(/negativeSlope must be a number/);
  // @ts-expect-error softplus has no option betta
  expect(() => x.softplus({ betta: 1 })).toThrow(/unknown option 'betta'/);
  // @ts-expect-error silu takes no parameter
  expect([...fa.silu(x, 2).data]).toEqual([...fa.silu(x).data]);
  expect(x.softplus({ beta: 2, threshold: 1 }).shape).toEqual([2]);
});

describe('the maxout kernels refuse bad input by name', () => {
  const f = (n: number): Float32Array => new Float32Array(n);
  it.each(backends)('%s backend (checked.ts)', (name) => {
    const B = getBackendByName(name);
    expect(() => B.maxout(2, 0, f(0), f(2))).toThrow(/^fathom\.backend\.maxout: k must be >= 1 when n > 0, got 0$/);
    expect(() => B.maxout(2, 3, f(5), f(2))).toThrow(/^fathom\.backend\.maxout: x must hold 6 float32 values, got 5$/);
    expect(() => B.maxout(2, 3, f(6), f(3))).toThrow(/fathom\.backend\.maxout: y must hold 2 float32 values, got 3/);
    expect(() => B.maxout(1.5, 3, f(6), f(2))).toThrow(/fathom\.backend\.maxout: n must be a non-negative integer/);
    const x = f(6);
    expect(() => B.maxout(2, 3, x, x.subarray(0, 2))).toThrow(/fathom\.backend\.maxout: y overlaps x/);
    expect(() => B.maxoutBackward(2, 3, f(6), f(2), f(5))).toThrow(/^fathom\.backend\.maxoutBackward: dx must hold 6 float32 values, got 5$/);
    expect(() => B.maxoutBackward(2, 3, x, f(2), x)).toThrow(/fathom\.backend\.maxoutBackward: dx overlaps x/);
    B.maxout(0, 0, f(0), f(0)); // no groups: nothing to do
  });
  it.skipIf(!nativeBinding())('the addon binding itself', () => {
    const b = nativeBinding()!;
    expect(() => b.maxout(2, 0, f(0), f(2))).toThrow(/^fathom\.maxout: k must be >= 1 when n > 0, got 0$/);
    expect(() => b.maxout(2, 3, f(6), f(1))).toThrow(/^fathom\.maxout: y must hold 2 float32 values, got 1$/);
    expect(() => b.maxoutBackward(2, 3, f(6), f(2), f(7))).toThrow(/^fathom\.maxoutBackward: dx must hold 6 float32 values, got 7$/);
    expect(() => (b.maxout as unknown as () => void)()).toThrow(/fathom\.maxout: expected 4 arguments, got 0/);
  });
});
