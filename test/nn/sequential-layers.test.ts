// Sequential.layers (lib/layers/sequential.ts): `seq.layers[i] = module` replaces layer i everywhere, as
// PyTorch's `seq[i] = module` does: forward, parameters(), stateDict(), serialize/deserialize. Before, the
// forward pass saw the new layer and the state dict the old one (a fresh user's finding: a saved model then
// answered differently). Anything that would change the list's length is refused whole, naming the way out.
import { describe, expect, it } from 'vitest';
import { deserialize, manualSeed, nn, randn, serialize } from '../../lib/index.js';

const bits = (a: Float32Array | Int32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('Sequential.layers', () => {
  it('layers[i] = module is seen by forward, parameters(), stateDict() and a serialize round trip', () => {
    manualSeed(81);
    const s = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
    const old = s.layers[2] as nn.Linear;
    const neu = new nn.Linear(4, 2);
    s.layers[2] = neu;
    expect(s.layers[2]).toBe(neu);
    expect(s.parameters()).toContain(neu.weight);
    expect(s.parameters()).not.toContain(old.weight);
    expect(s.stateDict()['2.weight']).toBe(neu.weight);
    const x = randn([5, 3]);
    expect(bits(s.predict(x).data)).toEqual(bits(neu.forward(s.layers[1].forward(s.layers[0].forward(x))).data));
    expect(bits(deserialize(serialize(s)).predict(x).data)).toEqual(bits(s.predict(x).data));
  });

  it('refuses whatever would add, remove or move layers, leaving the list as it was; a non-Module is refused', () => {
    const s = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
    const before = [...s.layers];
    const fixed = /^fathom\.Sequential\.layers: .*; a Sequential's 3 layers stay in place: only layers\[i\] = module replaces one, build a new Sequential to add, remove or reorder layers$/;
    expect(() => s.layers.push(new nn.ReLU())).toThrow(/push\(\) would change the layer list/);
    expect(() => s.layers.splice(0, 1)).toThrow(/splice\(\) would change the layer list/);
    expect(() => s.layers.reverse()).toThrow(fixed);
    expect(() => { s.layers[3] = new nn.ReLU(); }).toThrow(/cannot set 3;/);
    expect(() => { s.layers.length = 1; }).toThrow(/cannot set length to 1;/);
    expect(() => { delete (s.layers as unknown as Record<string, unknown>)[0]; }).toThrow(/cannot delete 0;/);
    expect(() => { (s.layers as unknown[])[1] = 5; }).toThrow(/^fathom\.Sequential\.layers: layer 1 must be a Module, got 5$/);
    s.layers.length = 3; // the same length: no change, allowed
    expect(() => { s.layers[1] = s; }).toThrow(/^fathom\.Sequential\.layers: layer 1 cannot be the Sequential itself/);
    expect(() => Object.setPrototypeOf(s.layers, null)).toThrow(/cannot change its prototype/);
    expect(() => Object.freeze(s.layers)).toThrow(/cannot/);
    expect(() => { (s as { layers: unknown }).layers = [new nn.ReLU()]; }).toThrow(TypeError); // not reassignable
    expect([...s.layers]).toEqual(before);
    expect(s.layers.length).toBe(3);
    expect(Array.isArray(s.layers)).toBe(true);
  });
});
