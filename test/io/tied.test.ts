/**
 * Tied (shared) weights through save / load and serialize / deserialize (lib/io/tied.ts), as
 * safetensors' save_model / load_model treat PyTorch's shared tensors: stored once, the aliases in the
 * metadata, re-tied on load so the loaded model holds ONE Parameter (the very same object) under all
 * its names. Both kinds of tying: a module used twice (it comes back as one module) and a Parameter
 * assigned into two different modules (it comes back as one Parameter in two modules); an nn.Model
 * graph that applies a layer twice is shared by its architecture alone. Training after load keeps the
 * tie, a checkpoint resumes bit for bit, and corrupt alias records are refused.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deserialize, deserializeCheckpoint, load, loadCheckpoint, loadOptimizerState, losses, manualSeed, nn, optim, prune, randn, readStateDict,
  save, serialize, setBackend, Tensor, writeStateDict,
} from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import type { Module } from '../../lib/layers/module.js';
import { decodeSafetensors, encodeSafetensors } from '../../lib/io/safetensors.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);

let dir = '';
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'fathom-tied-')); });
afterAll(async () => {
  setBackend(backends[0]);
  await rm(dir, { recursive: true, force: true });
});

/** A Linear used twice in a Sequential (a shared module). */
function sharedLayer(): nn.Sequential {
  manualSeed(11);
  const lin = new nn.Linear(3, 3);
  return new nn.Sequential(lin, new nn.Tanh(), lin, new nn.Linear(3, 2));
}
/** One weight assigned into two different Linear modules (their biases stay their own). */
function sharedWeight(): nn.Sequential {
  manualSeed(12);
  const a = new nn.Linear(4, 4), b = new nn.Linear(4, 4);
  (b as unknown as { weight: Tensor }).weight = a.weight;
  return new nn.Sequential(a, new nn.Tanh(), b, new nn.Tanh(), new nn.Linear(4, 3));
}
const KINDS: Array<[string, () => nn.Sequential, number]> = [['a module used twice', sharedLayer, 3], ['a weight in two modules', sharedWeight, 4]];

const bits = (t: Tensor): number[] => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length));
const weights = (m: Module): number[][] => m.parameters().map((p) => bits(p));
const sd = (m: Module) => m.stateDict();
const meta = (bytes: Uint8Array) => decodeSafetensors(bytes).metadata;
const storedNames = (bytes: Uint8Array) => Object.keys(decodeSafetensors(bytes).tensors).sort();

/** The bytes of `bytes` with their metadata changed by `edit` and tensors dropped (hand-edited files). */
function edited(bytes: Uint8Array, edit: (m: Record<string, string>) => void, drop: string[] = []): Uint8Array {
  const f = decodeSafetensors(bytes);
  for (const n of drop) delete f.tensors[n];
  const m = { ...f.metadata };
  edit(m);
  return encodeSafetensors(f.tensors, m);
}

/** One SGD step on an MSE loss through `m`'s forward. */
function sgdStep(m: Module, opt: optim.Optimizer, x: Tensor, y: Tensor): void {
  opt.zeroGrad();
  losses.mse(m.forward(x), y).backward();
  opt.step();
}

describe('tied weights: what the file holds', () => {
  it('a module used twice: stored once, the aliases and the shared module in the metadata; other readers see plain safetensors', async () => {
    const m = sharedLayer();
    const bytes = serialize(m);
    expect(storedNames(bytes)).toEqual(['0.bias', '0.weight', '3.bias', '3.weight']);
    expect(JSON.parse(meta(bytes)['fathom.tied'])).toEqual({ '2.weight': '0.weight', '2.bias': '0.bias' });
    expect(JSON.parse(meta(bytes)['fathom.sharedModules'])).toEqual({ 2: '0' });
    // save() writes the same bytes; a plain state-dict reader gets the stored tensors.
    const p = join(dir, 'shared-layer.safetensors');
    await save(m, p);
    expect(new Uint8Array(await readFile(p))).toEqual(bytes);
    const plain = await readStateDict(p);
    expect(Object.keys(plain).sort()).toEqual(['0.bias', '0.weight', '3.bias', '3.weight']);
    expect(bits(plain['0.weight'])).toEqual(bits(sd(m)['2.weight']));
    // A plain state dict keeps refusing them, as safetensors' save_file (pointing to save, as it points to save_model).
    await expect(writeStateDict(m, join(dir, 'plain.safetensors'))).rejects.toThrow(
      "fathom.writeStateDict: '2.weight' is the same tensor as '0.weight' (tied weights); write one of the names, or save the model with fathom.save(model, path), which stores it once and re-ties it on load");
    // Into the same architecture built in code (tied there already), the stored names load with strict: false, as
    // PyTorch's load_model loads a save_model file: the aliases are the missing keys.
    const built = sharedLayer();
    for (const p of built.parameters()) p.data.fill(0);
    expect(built.loadStateDict(plain, { strict: false })).toEqual({ missingKeys: ['2.weight', '2.bias'], unexpectedKeys: [] });
    expect(weights(built)).toEqual(weights(m));
  });

  it('a weight in two modules: one alias, no shared module; an untied model has neither record', () => {
    const bytes = serialize(sharedWeight());
    expect(JSON.parse(meta(bytes)['fathom.tied'])).toEqual({ '2.weight': '0.weight' });
    expect(meta(bytes)['fathom.sharedModules']).toBeUndefined();
    const plain = serialize(new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU(), new nn.Linear(2, 2)));
    expect(meta(plain)['fathom.tied']).toBeUndefined();
    expect(meta(plain)['fathom.sharedModules']).toBeUndefined();
  });
});

describe.each(KINDS)('tied weights round trip: %s', (_kind, make, inF) => {
  const roundTrips: Array<[string, (m: Module) => Promise<Module>]> = [
    ['serialize / deserialize', async (m) => deserialize(serialize(m))],
    ['save / load', async (m) => { const p = join(dir, `rt-${inF}.safetensors`); await save(m, p); return load(p); }],
  ];
  it.each(roundTrips)('%s: the aliases are the very same Parameter, outputs equal bit for bit, saving again gives the same bytes', async (_how, trip) => {
    const m = make();
    const back = await trip(m) as nn.Sequential;
    const s = sd(back);
    expect(s['2.weight']).toBe(s['0.weight']);
    expect(back.parameters().length).toBe(m.parameters().length);
    expect(Object.keys(s)).toEqual(Object.keys(sd(m)));
    if (make === sharedLayer) {
      expect(back.layers[2]).toBe(back.layers[0]); // the shared module is one module again
      expect(s['2.bias']).toBe(s['0.bias']);
    } else {
      expect(back.layers[2]).not.toBe(back.layers[0]); // two modules, one weight
      expect((back.layers[2] as nn.Linear).weight).toBe((back.layers[0] as nn.Linear).weight);
      expect(s['2.bias']).not.toBe(s['0.bias']);
    }
    expect(weights(back)).toEqual(weights(m));
    const x = randn([5, inF]);
    expect(bits(back.predict(x))).toEqual(bits(m.predict(x)));
    expect(serialize(back)).toEqual(serialize(m));
  });

  it.each(backends)('training the loaded model keeps the tie and matches training the original bit for bit (%s)', (name) => {
    setBackend(name);
    const m = make();
    const back = deserialize(serialize(m));
    const x = randn([6, inF]), y = randn([6, m.predict(x).shape[1]]);
    const o1 = new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    const o2 = new optim.SGD(back.parameters(), { lr: 0.1, momentum: 0.9 });
    for (let i = 0; i < 3; i++) {
      sgdStep(m, o1, x, y);
      sgdStep(back, o2, x, y);
    }
    expect(sd(back)['2.weight']).toBe(sd(back)['0.weight']);
    expect(weights(back)).toEqual(weights(m));
    expect(bits(sd(back)['2.weight'])).not.toEqual(bits(sd(make())['2.weight'])); // it did train
  });
});

describe('tied weights: checkpoints with an optimizer', () => {
  it.each(KINDS)('%s: one state entry per distinct parameter; loadCheckpoint, deserializeCheckpoint and loadOptimizerState resume bit for bit', async (_kind, make, inF) => {
    const m = make();
    const x = randn([6, inF]), y = randn([6, m.predict(x).shape[1]]);
    const opt = new optim.Adam(m.parameters(), { lr: 0.05 });
    for (let i = 0; i < 2; i++) sgdStep(m, opt, x, y);
    const p = join(dir, `ckpt-${inF}.safetensors`);
    await save(m, p, { optimizer: opt });
    const bytes = serialize(m, { optimizer: opt });
    const file = decodeSafetensors(bytes);
    const stateTensors = Object.keys(file.tensors).filter((n) => n.startsWith('optimizer.state.'));
    expect(stateTensors.length).toBe(2 * m.parameters().length); // expAvg and expAvgSq of each distinct parameter
    expect(JSON.parse(file.metadata['fathom.optimizer']).paramNames).not.toContain('2.weight');

    const a = await loadCheckpoint(p);
    const b = deserializeCheckpoint(bytes);
    const c = await load(p);
    const cOpt = new optim.Adam(c.parameters(), { lr: 0.05 });
    await loadOptimizerState(p, cOpt);
    for (const r of [a, b]) {
      expect(r.optimizer.params.length).toBe(m.parameters().length);
      expect(r.optimizer.params).toEqual(r.model.parameters());
      expect(sd(r.model)['2.weight']).toBe(sd(r.model)['0.weight']);
    }
    // The next step, in memory and from each way back.
    sgdStep(m, opt, x, y);
    sgdStep(a.model, a.optimizer, x, y);
    sgdStep(b.model, b.optimizer, x, y);
    sgdStep(c, cOpt, x, y);
    for (const r of [a.model, b.model, c]) {
      expect(weights(r)).toEqual(weights(m));
      expect(sd(r)['2.weight']).toBe(sd(r)['0.weight']);
    }
  });
});

describe('tied weights: other models', () => {
  it('an nn.Model applying a layer twice is shared by its architecture alone (no alias); a layer inside another layer is re-tied', () => {
    manualSeed(21);
    const lin = new nn.Linear(4, 4);
    const inp = nn.input([4]);
    const g = new nn.Model({ inputs: inp, outputs: new nn.Linear(4, 2).apply(new nn.Tanh().apply(lin.apply(new nn.ReLU().apply(lin.apply(inp))))) });
    const bytes = serialize(g);
    expect(meta(bytes)['fathom.tied']).toBeUndefined();
    const back = deserialize(bytes) as nn.Model;
    expect(back.parameters().length).toBe(g.parameters().length);
    const x = randn([3, 4]);
    expect(bits(back.predict(x) as Tensor)).toEqual(bits(g.predict(x) as Tensor));

    // The same Linear as a graph layer and inside a Sequential layer: tied through the Sequential (a shared
    // module), and, where the graph itself holds the alias, tensor by tensor.
    for (const seqFirst of [false, true]) {
      manualSeed(22);
      const l = new nn.Linear(4, 4);
      const seq = new nn.Sequential(l, new nn.Tanh());
      const i2 = nn.input([4]);
      const out = seqFirst ? l.apply(seq.apply(i2)) : seq.apply(l.apply(i2));
      const h = new nn.Model({ inputs: i2, outputs: out });
      const hb = serialize(h);
      const tied = JSON.parse(meta(hb)['fathom.tied']);
      expect(Object.keys(tied).length).toBe(2);
      const hBack = deserialize(hb);
      const s = sd(hBack);
      for (const [alias, kept] of Object.entries(tied)) expect(s[alias]).toBe(s[kept as string]);
      expect(hBack.parameters().length).toBe(2);
      expect(bits(hBack.predict(x) as Tensor)).toEqual(bits(h.predict(x) as Tensor));
    }
  });

  it('a layer used inside a nested nn.Model and directly in the outer graph (the README\'s former limit) is re-tied tensor by tensor', () => {
    for (const innerFirst of [true, false]) {
      manualSeed(26);
      const l = new nn.Linear(4, 4);
      const ii = nn.input([4]);
      const inner = new nn.Model({ inputs: ii, outputs: new nn.Tanh().apply(l.apply(ii)), name: 'enc' });
      const i = nn.input([4]);
      const g = new nn.Model({ inputs: i, outputs: innerFirst ? l.apply(inner.apply(i)) : inner.apply(l.apply(i)) });
      const bytes = serialize(g);
      const aliases = JSON.parse(meta(bytes)['fathom.tied']);
      expect(Object.keys(aliases).length).toBe(2);
      const back = deserialize(bytes);
      const s = sd(back);
      for (const [alias, kept] of Object.entries(aliases)) expect(s[alias]).toBe(s[kept as string]);
      expect(back.parameters().length).toBe(2);
      const x = randn([3, 4]);
      expect(bits(back.predict(x) as Tensor)).toEqual(bits(g.predict(x) as Tensor));
    }
  });

  it('a tied embedding and decoder (int32 tokens in, logits out)', () => {
    manualSeed(23);
    const emb = new nn.Embedding(10, 4);
    const dec = new nn.Linear(4, 10);
    (dec as unknown as { weight: Tensor }).weight = emb.weight;
    const m = new nn.Sequential(emb, new nn.Tanh(), dec);
    const bytes = serialize(m);
    expect(JSON.parse(meta(bytes)['fathom.tied'])).toEqual({ '2.weight': '0.weight' });
    const back = deserialize(bytes) as nn.Sequential;
    expect((back.layers[2] as nn.Linear).weight).toBe((back.layers[0] as nn.Embedding).weight);
    const tokens = new Tensor(Int32Array.from([1, 4, 9, 0, 3, 3]), [2, 3]);
    expect(bits(back.predict(tokens))).toEqual(bits(m.predict(tokens)));
  });

  it('a shared BatchNorm: its buffers stay one (running statistics and the batch count), and a shared regularizer counts once', () => {
    manualSeed(24);
    const bn = new nn.BatchNorm1d(3);
    const m = new nn.Sequential(new nn.Linear(3, 3), bn, new nn.Tanh(), bn);
    const x = randn([8, 3]);
    m.forward(x); // training mode: the running statistics move
    const back = deserialize(serialize(m)) as nn.Sequential;
    const s = sd(back);
    for (const k of ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']) expect(s[`3.${k}`]).toBe(s[`1.${k}`]);
    m.forward(x);
    back.forward(x);
    for (const k of Object.keys(s)) expect(bits(sd(back)[k])).toEqual(bits(sd(m)[k]));
    expect(sd(back)['1.num_batches_tracked'].data[0]).toBe(4);

    manualSeed(25);
    const reg = new nn.Linear(3, 3, { weightRegularizer: { l2: 0.5 } });
    const r = new nn.Sequential(reg, new nn.Tanh(), reg);
    const rBack = deserialize(serialize(r));
    expect(bits(rBack.regularizationLoss()!)).toEqual(bits(r.regularizationLoss()!));
  });

  it('a pruned shared layer: its mask is tied too and masks the one weight after load', () => {
    const m = sharedLayer();
    prune.magnitude(m, { sparsity: 0.5 });
    const bytes = serialize(m);
    expect(JSON.parse(meta(bytes)['fathom.tied'])['2.weight_mask']).toBe('0.weight_mask');
    const back = deserialize(bytes) as nn.Sequential;
    expect(back.layers[2]).toBe(back.layers[0]);
    expect(sd(back)['2.weight_mask']).toBe(sd(back)['0.weight_mask']);
    expect(prune.sparsity(back).zeros).toBe(prune.sparsity(m).zeros);
    const x = randn([4, 3]);
    expect(bits(back.predict(x))).toEqual(bits(m.predict(x)));
  });

  it('frozen tied parameters come back frozen (one Parameter, frozen under both names)', () => {
    const m = sharedWeight();
    (m.layers[0] as nn.Linear).weight.requiresGrad = false;
    const back = deserialize(serialize(m)) as nn.Sequential;
    expect((back.layers[2] as nn.Linear).weight).toBe((back.layers[0] as nn.Linear).weight);
    expect((back.layers[0] as nn.Linear).weight.requiresGrad).toBe(false);
    expect((back.layers[0] as nn.Linear).bias!.requiresGrad).toBe(true);
  });
});

describe('tied weights: corrupt records are refused', () => {
  const good = () => serialize(sharedLayer());
  const tied = (v: unknown) => (m: Record<string, string>) => { m['fathom.tied'] = JSON.stringify(v); };
  const modules = (v: unknown) => (m: Record<string, string>) => { m['fathom.sharedModules'] = JSON.stringify(v); };
  const cases: Array<[string, () => Uint8Array, RegExp]> = [
    ['an alias of a name the file does not hold', () => edited(good(), tied({ '2.weight': 'nope', '2.bias': '0.bias' })), /fathom\.tied\) makes "2\.weight" an alias of "nope", which the file does not hold/],
    ['an alias naming itself', () => edited(good(), tied({ '2.weight': '2.weight', '2.bias': '0.bias' })), /fathom\.tied\) ties "2\.weight" to itself/],
    ['a cycle', () => edited(good(), tied({ '2.weight': '2.bias', '2.bias': '2.weight' })), /fathom\.tied\) has a cycle: "2\.weight" → "2\.bias" → "2\.weight"/],
    ['a chain', () => edited(good(), (m) => { tied({ '2.weight': '2.bias', '2.bias': '0.bias' })(m); }), /makes "2\.weight" an alias of "2\.bias", which is itself an alias \(of "0\.bias"\)/],
    ['a shape mismatch', () => edited(good(), tied({ '2.weight': '0.weight', '2.bias': '0.bias', '3.weight': '0.weight' }), ['3.weight']), /makes "3\.weight" \(F32 \[2, 3\] in the architecture\) an alias of "0\.weight", which is F32 \[3, 3\]/],
    ['an alias that is stored', () => edited(good(), tied({ '2.weight': '0.weight', '2.bias': '0.bias', '3.bias': '0.bias' })), /makes "3\.bias" an alias of "0\.bias", but the file stores "3\.bias" itself/],
    ['an alias the architecture lacks', () => edited(good(), tied({ '2.weight': '0.weight', '2.bias': '0.bias', '9.weight': '0.weight' })), /fathom\.tied\) names "9\.weight", which the architecture lacks/],
    ['a parameter tied to a buffer', () => {
      const m = new nn.Sequential(new nn.Linear(3, 3), new nn.BatchNorm1d(3));
      return edited(serialize(m), tied({ '0.bias': '1.running_mean' }), ['0.bias']);
    }, /fathom\.tied\) ties parameter "0\.bias" to buffer "1\.running_mean"; a parameter is tied to a parameter, a buffer to a buffer/],
    ['not an object', () => edited(good(), tied(['2.weight'])), /fathom\.tied\) must be an object of alias name → name, got an array/],
    ['not JSON', () => edited(good(), (m) => { m['fathom.tied'] = '{'; }), /the tied metadata \(fathom\.tied\) is not valid JSON/],
    ['the aliases removed', () => edited(good(), (m) => { delete m['fathom.tied']; }), /the architecture needs tensor '2\.weight' \[3, 3\], which the file lacks/],
    ['a shared module of another type', () => edited(good(), modules({ 2: '1' })), /ties the Linear at "2" to the Tanh at "1", which is not the same module/],
    ['a shared module the model lacks', () => edited(good(), modules({ 7: '0' })), /fathom\.sharedModules\) names module "7", which the model lacks/],
    ['a shared module inside itself', () => edited(good(), modules({ '0.x': '0' })), /ties "0\.x" to "0", one inside the other/],
    ['a shared module the aliases do not record', () => edited(serialize(sharedWeight()), modules({ 2: '0' })), /fathom\.sharedModules\) makes "2\.bias" the same tensor as "0\.bias", which the tied metadata \(fathom\.tied\) does not record/],
    ['an optimizer naming an alias', () => {
      const m = sharedLayer();
      const bytes = serialize(m, { optimizer: new optim.SGD(m.parameters(), { lr: 0.1 }) });
      return edited(bytes, (md) => { const o = JSON.parse(md['fathom.optimizer']); o.paramNames[0] = '2.weight'; md['fathom.optimizer'] = JSON.stringify(o); });
    }, /the optimizer metadata: names parameter "2\.weight", an alias of "0\.weight" \(tied weights\)/],
  ];
  it.each(cases)('%s', (_what, bytes, re) => {
    expect(() => deserialize(bytes())).toThrow(new RegExp(`^fathom\\.deserialize: .*${re.source}`));
  });

  it('a custom module whose tensor fathom cannot set is refused, naming it; one it can set is re-tied (no shape function: checked on the built model)', () => {
    /** Holds its parameter `w` behind a getter (no setter): a tie cannot be put back into it. */
    class Held extends nn.Module {
      readonly #w: Tensor;
      constructor(w?: Tensor) {
        super();
        this.#w = this.registerParameter('w', w ?? randn([2]));
      }
      get w(): Tensor { return this.#w; }
      forward(x: Tensor): Tensor { return x.mul(this.#w); }
      override config(): nn.ModuleConfig { return { type: 'TiedTestHeld' }; }
    }
    /** The same with a plain property. */
    class Plain extends nn.Module {
      w: Tensor;
      constructor(w?: Tensor) {
        super();
        this.w = nn.parameter(w ?? randn([2]));
      }
      forward(x: Tensor): Tensor { return x.mul(this.w); }
      override config(): nn.ModuleConfig { return { type: 'TiedTestPlain' }; }
    }
    nn.registerModuleType('TiedTestHeld', () => new Held());
    nn.registerModuleType('TiedTestPlain', () => new Plain());
    const h = new Held();
    expect(() => deserialize(serialize(new nn.Sequential(h, new Held(h.w))))).toThrow(
      /^fathom\.deserialize: cannot tie "1\.w" to "0\.w": the Held at "1" does not hold its tensor "w" in a property fathom can set/);
    const p = new Plain();
    const m = new nn.Sequential(p, new Plain(p.w));
    const back = deserialize(serialize(m)) as nn.Sequential;
    expect((back.layers[1] as Plain).w).toBe((back.layers[0] as Plain).w);
    const x = randn([3, 2]);
    expect(bits(back.predict(x))).toEqual(bits(m.predict(x)));
    // Without a shape function the aliases are checked against the built model: a wrong one is refused there.
    expect(() => deserialize(edited(serialize(m), tied({ '1.w': '0.w', '1.v': '0.w' })))).toThrow(/^fathom\.deserialize: the tied metadata \(fathom\.tied\) names "1\.v", which the architecture lacks/);
  });

  it('aliases standing for far more values than the file stores are refused before the model is built', () => {
    const lin = new nn.Linear(256, 256); // 65,792 values
    const ok = serialize(new nn.Sequential(...Array.from({ length: 100 }, () => lin)));
    expect(deserialize(ok).parameters().length).toBe(2); // 99 uses more: under 64 × 65,792 + 2^22
    const big = serialize(new nn.Sequential(...Array.from({ length: 200 }, () => lin)));
    expect(big.length - ok.length).toBeLessThan(ok.length / 10); // the file hardly grows: metadata only
    expect(() => deserialize(big)).toThrow(/^fathom\.deserialize: the tied metadata \(fathom\.tied\) makes the file's 65792 stored values stand for 13092608 more \(398 aliases\); at most 64 times the stored values/);
  });

  it('load() and loadOptimizerState() refuse them too, changing neither the file nor the optimizer', async () => {
    const m = sharedLayer();
    const x = randn([4, 3]), y = randn([4, 2]);
    const opt = new optim.Adam(m.parameters(), { lr: 0.05 });
    sgdStep(m, opt, x, y);
    const bad = edited(serialize(m, { optimizer: opt }), tied({ '2.weight': 'nope', '2.bias': '0.bias' }));
    const p = join(dir, 'corrupt.safetensors');
    await writeFile(p, bad);
    await expect(load(p)).rejects.toThrow(/^fathom\.load: .*which the file does not hold/);
    await expect(loadCheckpoint(p)).rejects.toThrow(/^fathom\.loadCheckpoint: .*which the file does not hold/);
    const before = JSON.stringify(opt.stateDict(), (_k, v) => (v instanceof Tensor ? bits(v) : v));
    const w = weights(m);
    await expect(loadOptimizerState(p, opt)).rejects.toThrow(/^fathom\.loadOptimizerState: .*which the file does not hold/);
    expect(JSON.stringify(opt.stateDict(), (_k, v) => (v instanceof Tensor ? bits(v) : v))).toBe(before);
    expect(weights(m)).toEqual(w);
    expect(new Uint8Array(await readFile(p))).toEqual(bad);
  });
});
