// Hand-crafted shared-module records (fathom.sharedModules, lib/io/tied.ts tiedRecords) in large numbers: the
// header check compared every pair of paths, so a ~2 MB file of 100k records held deserialize() for minutes
// before refusing it. Each must be refused as before (a path inside another alias, a first path lying in an
// alias, a module the model lacks), with the file's many other records in place.
import { describe, expect, it } from 'vitest';
import { deserialize, manualSeed, nn, serialize } from '../../lib/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../lib/io/safetensors.js';

function withShared(records: Record<string, string>): Uint8Array {
  manualSeed(3);
  const m = new nn.Sequential(new nn.Linear(3, 3), new nn.Tanh(), new nn.Linear(3, 2));
  const f = decodeSafetensors(serialize(m));
  return encodeSafetensors(f.tensors, { ...f.metadata, 'fathom.sharedModules': JSON.stringify(records) });
}

function many(n: number): Record<string, string> {
  const r: Record<string, string> = {};
  for (let i = 0; i < n; i++) r[`9.${i}`] = `8.${i}`;
  return r;
}

describe('tied weights: many hostile shared-module records', () => {
  const N = 100_000;
  it('a path inside another alias, among 100k records', () => {
    const r = many(N);
    r['9.77.x'] = '7';
    expect(() => deserialize(withShared(r))).toThrow(/^fathom\.deserialize: the shared-modules metadata \(fathom\.sharedModules\) lists "9\.77\.x", inside the shared module "9\.77" \(list only the outermost\)/);
  });

  it('a first path lying in an alias, among 100k records', () => {
    const r = many(N);
    r['7'] = '9.3.y';
    expect(() => deserialize(withShared(r))).toThrow(/^fathom\.deserialize: the shared-modules metadata \(fathom\.sharedModules\) ties "7" to "9\.3\.y", which lies in the alias "9\.3" \(name the first path of a module\)/);
  });

  it('100k well-formed records naming modules the model lacks', () => {
    expect(() => deserialize(withShared(many(N)))).toThrow(/^fathom\.deserialize: the shared-modules metadata \(fathom\.sharedModules\) names module "9\.0", which the model lacks/);
  });

  it('paths with empty and repeated parts are told apart', () => {
    expect(() => deserialize(withShared({ 'a..b': 'c', 'a.': 'd' }))).toThrow(/lists "a\.\.b", inside the shared module "a\." /);
    expect(() => deserialize(withShared({ 'a.b': 'c', 'a.bc': 'a.b.d' }))).toThrow(/ties "a\.bc" to "a\.b\.d", which lies in the alias "a\.b" /);
    expect(() => deserialize(withShared({ 'a.b': 'c', 'a.bc': 'ab.c' }))).toThrow(/names module "a\.b", which the model lacks/);
  });
});

describe('tied weights: a module used many times', () => {
  it('a Sequential applying one Linear 20,000 times comes back as that one module (re-tying walked the layers once per use)', () => {
    manualSeed(4);
    const lin = new nn.Linear(2, 2);
    const m = new nn.Sequential(...Array.from({ length: 20_000 }, () => lin));
    const back = deserialize(serialize(m)) as nn.Sequential;
    expect(back.layers.length).toBe(20_000);
    const first = back.layers[0];
    expect(back.layers.every((l) => l === first)).toBe(true);
    expect(back.parameters().length).toBe(2);
    expect(Array.from((first as nn.Linear).weight.data)).toEqual(Array.from(lin.weight.data));
  });
});
