// Custom modules (issue 8, section 4): sub-modules and parameters assigned as
// properties are registered (PyTorch's __setattr__), train, and save/load once
// they implement config() + nn.registerModuleType.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, manualSeed, nn, ones, optim, randn, save, setBackend, tensor, Tensor, zeros } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);

class Net extends nn.Module {
  fc = new nn.Linear(2, 1);
  forward(x: Tensor): Tensor {
    return this.fc.forward(x);
  }
}

/** Two layers in a non-alphabetical attribute order, one nested custom module. */
class Outer extends nn.Module {
  second: nn.Linear;
  first: Net;
  constructor() {
    super();
    this.second = new nn.Linear(1, 3);
    this.first = new Net();
  }
  forward(x: Tensor): Tensor {
    return this.second.forward(this.first.forward(x).tanh());
  }
}

const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.2], [0.3, 0.9]]);
const y = tensor([[1], [3], [-1], [1], [0.6], [2.5]]); // y = 1 + 2 x1 - 2 x0 (last two approximately)

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-modules-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('modules register what is assigned to their properties', () => {
  it('a Linear property: parameters, qualified names, stateDict', () => {
    const net = new Net();
    expect(net.parameters()).toEqual([net.fc.weight, net.fc.bias]);
    expect(net.namedParameters().map(([n]) => n)).toEqual(['fc.weight', 'fc.bias']);
    expect(Object.keys(net.stateDict())).toEqual(['fc.weight', 'fc.bias']);
    expect(net.modules().map(([n, m]) => [n, m.constructor.name])).toEqual([['fc', 'Linear']]);
  });

  it('in attribute order, nested, with prefixes', () => {
    const o = new Outer();
    expect(o.namedParameters().map(([n, t]) => `${n}:${t.shape.join('x')}`))
      .toEqual(['second.weight:3x1', 'second.bias:3', 'first.fc.weight:1x2', 'first.fc.bias:1']);
  });

  it('tensors: nn.parameter tensors are parameters (PyTorch\'s nn.Parameter); grad-requiring leaves, constants and op results are not', () => {
    class T extends nn.Module {
      scale = nn.parameter(ones([1]));
      shift = nn.parameter(zeros([1]));
      input = zeros([3]).requireGrad(); // e.g. an input kept for a saliency map: never promoted
      constant = tensor([2]);
      derived: Tensor;
      constructor() {
        super();
        this.derived = this.scale.mul(2); // an op result that requires grad: not a parameter
      }
      forward(x: Tensor): Tensor {
        return x.mul(this.scale).add(this.shift).mul(this.constant);
      }
    }
    const t = new T();
    expect(t.namedParameters().map(([n]) => n)).toEqual(['scale', 'shift']);
    // Freezing keeps them registered (and saved): only requiresGrad changes.
    t.freeze();
    expect(t.namedParameters().map(([n]) => n)).toEqual(['scale', 'shift']);
    expect(t.parameters().every((p) => !p.requiresGrad)).toBe(true);
    t.unfreeze();
    expect(t.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(() => nn.parameter(t.derived)).toThrow(/fathom.nn.parameter: expected a leaf tensor, got the result of 'mul'/);
    expect(() => nn.parameter(tensor(new Int32Array(2)))).toThrow(/must be float32, got int32/);
    expect(() => nn.parameter([1, 2] as unknown as Tensor)).toThrow(/expected a Tensor, got Array/);
  });

  it('a module or parameter under two properties keeps its first name (PyTorch\'s named_parameters), so save works', () => {
    class Net extends nn.Module {
      fc1 = new nn.Linear(4, 8);
      fc2 = new nn.Linear(8, 2);
      blocks = [this.fc1, this.fc2];
      log = new Array(1e6).fill(0); // a primitive array: never scanned
      forward(x: Tensor): Tensor { return this.fc2.forward(this.fc1.forward(x)); }
    }
    const n = new Net();
    expect(n.namedParameters().map(([k]) => k)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(n.modules().map(([k]) => k)).toEqual(['fc1', 'fc2']);
    // The rule that keeps such logs free: an array whose first element is a primitive is not searched.
    class Mixed extends nn.Module {
      odd = [0, new nn.Linear(1, 1)];
      forward(x: Tensor): Tensor { return x; }
    }
    expect(new Mixed().parameters()).toHaveLength(0);
  });

  it('arrays and plain objects of modules (ModuleList / ModuleDict)', () => {
    class Stack extends nn.Module {
      blocks = [new nn.Linear(2, 4), new nn.Linear(4, 2)];
      heads = { mean: new nn.Linear(2, 1), logVar: new nn.Linear(2, 1, { bias: false }) };
      biases = [nn.parameter(zeros([1]))];
      notes = ['text', 3, null];
      forward(x: Tensor): Tensor {
        let h = x;
        for (const b of this.blocks) h = b.forward(h).relu();
        return this.heads.mean.forward(h).add(this.heads.logVar.forward(h)).add(this.biases[0]);
      }
    }
    const s = new Stack();
    expect(s.namedParameters().map(([n]) => n)).toEqual([
      'biases.0', 'blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias', 'heads.mean.weight', 'heads.mean.bias', 'heads.logVar.weight',
    ]);
    s.eval();
    expect([s.blocks[0].training, s.heads.logVar.training]).toEqual([false, false]);
    s.train();
    expect(s.blocks[1].training).toBe(true);
  });

  it('Sequential lists each layer once (its layers array is an alias), tied layers under both names', () => {
    const shared = new nn.Linear(2, 2);
    const seq = new nn.Sequential(shared, new nn.Tanh(), shared);
    expect(seq.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(seq.parameters().length).toBe(2);
  });

  it('a subclass of a built-in layer registers its own properties too', () => {
    class Scaled extends nn.Linear {
      gain = nn.parameter(tensor([1]));
      override forward(v: Tensor): Tensor { return super.forward(v).mul(this.gain); }
    }
    const s = new Scaled(2, 1);
    expect(s.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias', 'gain']);
  });

  it('loadStateDict refuses a non-Tensor or another dtype by name', () => {
    const net = new Net();
    expect(() => net.loadStateDict(null as never)).toThrow(/fathom.loadStateDict: expected a name → Tensor object, got null/);
    expect(() => net.loadStateDict({ 'fc.weight': [[1, 2]] as never, 'fc.bias': tensor([0]) })).toThrow(/'fc.weight' must be a Tensor, got Array/);
    expect(() => net.loadStateDict({ 'fc.weight': tensor(new Int32Array(2), [1, 2]), 'fc.bias': tensor([0]) }))
      .toThrow(/parameter 'fc.weight' is float32, the state dict has int32/);
    expect(() => net.train('yes' as never)).toThrow(/fathom.Module.train: expected a boolean, got string/);
  });

  it('a property pointing back to an ancestor does not loop', () => {
    class Child extends nn.Module {
      lin = new nn.Linear(1, 1);
      owner: nn.Module | null = null;
      forward(x: Tensor): Tensor { return this.lin.forward(x); }
    }
    class Parent extends nn.Module {
      child = new Child();
      constructor() {
        super();
        this.child.owner = this;
      }
      forward(x: Tensor): Tensor { return this.child.forward(x); }
    }
    const p = new Parent();
    expect(p.namedParameters().map(([n]) => n)).toEqual(['child.lin.weight', 'child.lin.bias']);
    p.eval();
    expect(p.child.lin.training).toBe(false);
  });

  it('reassigning a property is seen; a plain tensor over a registered parameter is refused (as in PyTorch)', () => {
    const net = new Net();
    const before = net.fc;
    net.fc = new nn.Linear(2, 1);
    expect(net.parameters()).not.toContain(before.weight);
    expect(net.parameters()).toContain(net.fc.weight);
    const lin = new nn.Linear(2, 1) as unknown as { weight: Tensor } & nn.Linear;
    (lin as { weight: Tensor }).weight = tensor([[1, 2]]);
    expect(() => lin.parameters()).toThrow(/fathom.Linear: property 'weight' is a registered parameter; assign nn.parameter/);
    const w = nn.parameter(tensor([[1, 2]]));
    (lin as { weight: Tensor }).weight = w;
    expect(lin.parameters()[0]).toBe(w);
  });
});

describe.each(backends)('custom modules train on the %s backend', (name) => {
  it('fit moves the loss of a module holding a Linear property', async () => {
    setBackend(name);
    manualSeed(5);
    const net = new Net();
    const h = await net.fit(x, y, { loss: 'mse', optimizer: 'adam', lr: 0.05, epochs: 150, batchSize: 6, verbose: 0, seed: 1 });
    expect(h.history.loss[0]).toBeGreaterThan(0.5);
    expect(h.history.loss.at(-1)!).toBeLessThan(0.05);
  });

  it('the PyTorch loop trains parameters assigned as tensors and arrays of modules', () => {
    setBackend(name);
    manualSeed(6);
    class Affine extends nn.Module {
      w = nn.parameter(randn([2, 1]));
      b = nn.parameter(zeros([1]));
      forward(v: Tensor): Tensor { return v.matmul(this.w).add(this.b); }
    }
    class Two extends nn.Module {
      parts = [new Affine(), new nn.Linear(1, 1)];
      forward(v: Tensor): Tensor { return this.parts[1].forward(this.parts[0].forward(v)); }
    }
    const m = new Two();
    expect(m.parameters().length).toBe(4);
    const opt = new optim.Adam(m.parameters(), { lr: 0.05 });
    const first = m.predict(x).sub(y).square().mean().item();
    for (let i = 0; i < 200; i++) {
      const loss = m.forward(x).sub(y).square().mean();
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    const last = m.forward(x).sub(y).square().mean().item();
    expect(first).toBeGreaterThan(0.5);
    expect(last).toBeLessThan(0.05);
  });
});

describe('fit refuses models it cannot train', () => {
  it('no parameters, all frozen, an optimizer over another model, no forward', async () => {
    class Empty extends nn.Module {
      forward(v: Tensor): Tensor { return v; }
    }
    await expect(new Empty().fit(x, y, { loss: 'mse' })).rejects.toThrow(/fathom.fit: Empty has no trainable parameters \(parameters\(\) is empty; assign layers/);
    const frozen = new Net().freeze();
    await expect(frozen.fit(x, y, { loss: 'mse' })).rejects.toThrow(/fathom.fit: Net has no trainable parameters \(all 2 are frozen; unfreeze/);
    const other = new Net();
    await expect(new Net().fit(x, y, { loss: 'mse', optimizer: new optim.SGD(other.parameters()) }))
      .rejects.toThrow(/the SGD optimizer holds none of this Net's trainable parameters/);
    // A JavaScript subclass that forgot forward().
    const NoForward = class extends (nn.Module as unknown as new () => object) {};
    const nf = new NoForward() as nn.Module;
    await expect(nf.fit(x, y, { loss: 'mse' })).rejects.toThrow(/fathom.fit: NoForward has no forward\(x\) method/);
    expect(() => nf.predict(x)).toThrow(/fathom.predict: NoForward has no forward/);
  });

  it('a forward that returns something else is named', async () => {
    class Bad extends nn.Module {
      fc = new nn.Linear(2, 1);
      forward(): Tensor { return undefined as unknown as Tensor; }
    }
    await expect(new Bad().fit(x, y, { loss: 'mse', verbose: 0 })).rejects.toThrow(/fathom.fit: Bad.forward returned undefined, expected a Tensor/);
    expect(() => new Bad().predict(x)).toThrow(/fathom.predict: Bad.forward returned undefined/);
  });
});

describe('saving custom modules', () => {
  it('without config(): a clear error saying what to implement', async () => {
    await expect(save(new Net(), join(dir, 'net.safetensors')))
      .rejects.toThrow(/fathom.Module.config: Net does not implement config\(\), so it cannot be saved.*nn.registerModuleType\('Net'.*fc.weight, fc.bias/);
  });

  it('with config() and nn.registerModuleType: round-trips architecture and weights', async () => {
    class Mlp extends nn.Module {
      hidden: nn.Linear;
      out: nn.Linear;
      constructor(readonly width: number) {
        super();
        this.hidden = new nn.Linear(2, width);
        this.out = new nn.Linear(width, 1);
      }
      forward(v: Tensor): Tensor { return this.out.forward(this.hidden.forward(v).relu()); }
      override config(): nn.ModuleConfig { return { type: 'HardeningMlp', width: this.width }; }
    }
    nn.registerModuleType('HardeningMlp', (c) => new Mlp(c.width as number));
    manualSeed(8);
    const m = new Mlp(5);
    await m.fit(x, y, { loss: 'mse', epochs: 3, verbose: 0 });
    const path = join(dir, 'mlp.safetensors');
    await save(m, path);
    const again = await load(path);
    expect(again).toBeInstanceOf(Mlp);
    expect((again as Mlp).width).toBe(5);
    expect(again.namedParameters().map(([n]) => n)).toEqual(['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']);
    expect([...again.predict(x).data]).toEqual([...m.predict(x).data]);
  });
});
