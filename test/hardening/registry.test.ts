// nn.registerModuleType / nn.fromConfig refuse what would break load() later.
import { describe, expect, it } from 'vitest';
import { nn } from '../../lib/index.js';

describe('nn.registerModuleType', () => {
  it('refuses an empty or non-string type', () => {
    expect(() => nn.registerModuleType('', () => new nn.ReLU())).toThrow(/registerModuleType: type must be a non-empty string, got ""/);
    expect(() => nn.registerModuleType(3 as unknown as string, () => new nn.ReLU())).toThrow(/type must be a non-empty string, got 3/);
  });
  it('refuses to replace a built-in type', () => {
    expect(() => nn.registerModuleType('Linear', () => new nn.ReLU())).toThrow(/'Linear' is a built-in type and cannot be replaced/);
  });
  it('refuses a factory or shapes that is not a function', () => {
    expect(() => nn.registerModuleType('X1', null as unknown as () => nn.Module)).toThrow(/registerModuleType\('X1'\): factory must be a function/);
    expect(() => nn.registerModuleType('X2', () => new nn.ReLU(), 5 as never)).toThrow(/shapes must be a function/);
  });
  it('fromConfig refuses a factory that returns something other than a Module', () => {
    nn.registerModuleType('NotAModule', () => ({}) as unknown as nn.Module);
    expect(() => nn.fromConfig({ type: 'NotAModule' })).toThrow(/the factory for 'NotAModule' returned object, expected an nn.Module/);
  });
});

describe('setNumThreads', () => {
  it('takes an integer in [1, 256] and returns the number in effect (at most the pool size)', async () => {
    const { setNumThreads, info } = await import('../../lib/index.js');
    const before = info().threads;
    expect(() => setNumThreads(0)).toThrow(/fathom.setNumThreads: n must be an integer in \[1, 256\], got 0/);
    expect(() => setNumThreads(500)).toThrow(/got 500/);
    expect(() => setNumThreads('2' as never)).toThrow(/got string/);
    const got = setNumThreads(256);
    expect(got).toBeGreaterThanOrEqual(1);
    expect(got).toBeLessThanOrEqual(256);
    setNumThreads(before);
  });
});

describe('printing a module', () => {
  it('console.log(model) shows the layer tree as PyTorch does, not the weights', async () => {
    const { inspect } = await import('node:util');
    const m = new nn.Sequential(new nn.Linear(4, 3), new nn.ReLU());
    const text = inspect(m);
    expect(text).toBe("Sequential(\n  (0): Linear(inFeatures=4, outFeatures=3, bias=true, init='glorot')\n  (1): ReLU()\n)");
    expect(String(m)).toBe(text);
    class Net extends nn.Module {
      body = m;
      forward(x: never): never { return x; }
    }
    expect(String(new Net())).toBe("Net(\n  (body): Sequential(\n    (0): Linear(inFeatures=4, outFeatures=3, bias=true, init='glorot')\n    (1): ReLU()\n  )\n)");
  });
});

describe('nn.fromConfig (review)', () => {
  it('refuses unknown keys in built-in configs and names non-integer sizes exactly', () => {
    expect(() => nn.fromConfig({ type: 'Linear', inFeatures: 2, outFeatures: 1, evil: 1 })).toThrow(/fathom.fromConfig: unknown key "evil" in a Linear config \(known: type, inFeatures, outFeatures, bias, init, weightRegularizer, biasRegularizer\)/);
    expect(() => nn.fromConfig({ type: 'ReLU', slope: 2 })).toThrow(/unknown key "slope" in a ReLU config/);
    expect(() => nn.fromConfig({ type: 'Linear', inFeatures: Infinity, outFeatures: 1 })).toThrow(/Linear.inFeatures must be a positive integer, got Infinity/);
    expect(nn.fromConfig({ type: 'Linear', inFeatures: 2, outFeatures: 1, bias: false, init: 'he' }).parameters()).toHaveLength(1);
  });
});

describe('nn.fromConfig (second review)', () => {
  it('refuses a non-boolean bias and huge layer lists', () => {
    expect(() => nn.fromConfig({ type: 'Linear', inFeatures: 2, outFeatures: 2, bias: 'no' })).toThrow(/fathom.fromConfig: Linear.bias must be a boolean, got "no"/);
    expect(() => nn.fromConfig({ type: 'Sequential', layers: new Array(10_000_000) })).toThrow(/a Sequential of 10000000 layers; at most 100000/);
  });
});
