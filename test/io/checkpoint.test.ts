/**
 * Checkpoints: save(model, path, { optimizer }) then loadOptimizerState (into an
 * optimizer over the loaded model) or loadCheckpoint (rebuilds it); training
 * continues exactly as without the round trip. Corrupt or mismatched files are
 * refused before anything changes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, loadCheckpoint, loadOptimizerState, manualSeed, nn, optim, save, tensor, Tensor } from '../../lib/index.js';
import type { Module } from '../../lib/layers/module.js';
import { loadSafetensors, saveSafetensors, type SafeTensor } from '../../lib/io/safetensors.js';

let dir = '';
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'fathom-ckpt-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

function model(seed = 3): Module {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 2));
}
function setGrads(m: Module, t: number): void {
  m.parameters().forEach((p, k) => { p.grad = tensor(Float32Array.from({ length: p.size }, (_, i) => Math.cos(t * 0.9 + i + 5 * k)), [...p.shape]); });
}
const weights = (m: Module) => m.parameters().map((p) => [...p.data]);
/** The optimizer's state and step count, as text with sorted keys (key order is not part of the state). */
const dump = (o: optim.Optimizer) => JSON.stringify({ sd: o.stateDict(), steps: o.steps }, (_k, v) => {
  if (v instanceof Tensor) return { shape: v.shape, data: [...v.data] };
  if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)));
  return v;
});

type Make = (m: Module) => optim.Optimizer;
const groups = (m: Module) => {
  const ps = m.parameters();
  return [{ params: ps.filter((p) => p.shape.length === 2) }, { params: ps.filter((p) => p.shape.length === 1), weightDecay: 0 }];
};
const MAKERS: Array<[string, Make]> = [
  ['SGD', (m) => new optim.SGD(groups(m), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
  ['Adam', (m) => new optim.Adam(groups(m), { lr: 0.01, amsgrad: true, weightDecay: 0.01 })],
  ['AdamW', (m) => new optim.AdamW(m.parameters(), { lr: 0.01 })],
  ['Adagrad', (m) => new optim.Adagrad(groups(m), { lr: 0.1, initialAccumulatorValue: 0.1 })],
  ['RMSprop', (m) => new optim.RMSprop(groups(m), { centered: true, momentum: 0.9 })],
  ['Adadelta', (m) => new optim.Adadelta(m.parameters())],
  ['Adamax', (m) => new optim.Adamax(groups(m))],
];

describe('checkpoints with the optimizer', () => {
  it.each(MAKERS)('%s: both ways back continue bit-exactly', async (name, make) => {
    const m = model(), opt = make(m);
    for (let t = 1; t <= 3; t++) { setGrads(m, t); opt.step(); }
    opt.paramGroups[0].initialLr = 0.5; // a scheduler's key travels too
    const path = join(dir, `${name}.safetensors`);
    await save(m, path, { optimizer: opt });

    const ck = await loadCheckpoint(path);
    expect(ck.optimizer).toBeInstanceOf(opt.constructor);
    expect(dump(ck.optimizer)).toBe(dump(opt));
    const m2 = await load(path);
    const o2 = make(m2);
    await loadOptimizerState(path, o2);
    expect(dump(o2)).toBe(dump(opt));

    for (let t = 4; t <= 6; t++) {
      for (const [mm, oo] of [[m, opt], [ck.model, ck.optimizer], [m2, o2]] as const) { setGrads(mm, t); oo.step(); }
    }
    expect(weights(ck.model)).toEqual(weights(m));
    expect(weights(m2)).toEqual(weights(m));
    expect(ck.optimizer.steps).toBe(6);
  });

  it('a model file without optimizer: load works, loadCheckpoint and loadOptimizerState refuse', async () => {
    const m = model(), path = join(dir, 'plain.safetensors');
    await save(m, path);
    await expect(load(path)).resolves.toBeDefined();
    await expect(loadCheckpoint(path)).rejects.toThrow(/^fathom.loadCheckpoint: .*plain.safetensors: the file holds no optimizer state \(it was saved without \{ optimizer \}\); load the model with load\(path\)$/);
    await expect(loadOptimizerState(path, new optim.Adam(m.parameters()))).rejects.toThrow(/^fathom.loadOptimizerState: .*plain.safetensors: the file holds no optimizer state \(save it with save\(model, path, \{ optimizer \}\)\)$/);
  });

  it('save refuses an optimizer over tensors the model does not own, and bad options', async () => {
    const m = model(), path = join(dir, 'x.safetensors');
    const foreign = new optim.SGD([...m.parameters(), tensor([1]).requireGrad()]);
    await expect(save(m, path, { optimizer: foreign })).rejects.toThrow(/^fathom.save: parameter 4 of the SGD optimizer is not a parameter of this model/);
    await expect(save(m, path, { optimizer: {} as optim.Optimizer })).rejects.toThrow(/^fathom.save: options.optimizer must be an Optimizer/);
    await expect(save(m, path, { optimiser: 1 } as never)).rejects.toThrow(/^fathom.save: unknown option 'optimiser'/);
  });

  describe('refuses mismatched or corrupt checkpoints and changes nothing', () => {
    let path = '';
    let trained: optim.Optimizer;
    beforeAll(async () => {
      const m = model();
      trained = new optim.Adam(groups(m), { lr: 0.01 });
      for (let t = 1; t <= 2; t++) { setGrads(m, t); trained.step(); }
      path = join(dir, 'ck.safetensors');
      await save(m, path, { optimizer: trained });
    });
    /** A fresh Adam over a loaded model, stepped once so it has state to lose. */
    async function target(): Promise<optim.Optimizer> {
      const o = new optim.Adam(groups(await load(path)), { lr: 0.01 });
      setGrads({ parameters: () => o.params } as unknown as Module, 9);
      o.step();
      return o;
    }
    async function refuses(o: optim.Optimizer, file: string, want: RegExp): Promise<void> {
      const before = dump(o);
      await expect(loadOptimizerState(file, o)).rejects.toThrow(want);
      expect(dump(o)).toBe(before);
    }
    /** Rewrites the checkpoint with edited metadata / tensors. */
    async function variant(name: string, edit: (meta: Record<string, unknown>, t: Record<string, SafeTensor>) => void): Promise<string> {
      const f = await loadSafetensors(path);
      const meta = JSON.parse(f.metadata['fathom.optimizer']);
      const tensors = { ...f.tensors } as Record<string, SafeTensor>;
      edit(meta, tensors);
      const out = join(dir, `${name}.safetensors`);
      await saveSafetensors(out, tensors, { ...f.metadata, 'fathom.optimizer': JSON.stringify(meta) });
      return out;
    }

    it('another optimizer class, another parameter count, other shapes, other groups', async () => {
      const m = await load(path);
      await refuses(new optim.SGD(m.parameters()), path, /: the file holds Adam state, the optimizer is SGD$/);
      await refuses(new optim.Adam(m.parameters().slice(1)), path, /: the file's Adam state covers 4 parameter\(s\), the optimizer holds 3$/);
      const other = new nn.Sequential(new nn.Linear(3, 5), new nn.Tanh(), new nn.Linear(5, 2));
      await refuses(new optim.Adam(other.parameters()), path, /: parameter 0 of the optimizer has shape \[5, 3\], the file's parameter "0.weight" \[4, 3\]$/);
      await refuses(new optim.Adam(m.parameters()), path, /: parameter 1 of the optimizer has shape \[4\], the file's parameter "2.weight" \[2, 4\]$/);
      const flat = groups(m).flatMap((g) => g.params); // the file's order, in one group
      await refuses(new optim.Adam(flat), path, /fathom.Adam.loadStateDict: the state dict has 2 parameter group\(s\), this optimizer 1$/);
    });

    it('corrupt optimizer metadata or tensors', async () => {
      const o = await target();
      await refuses(o, await variant('t1', (m) => { m.type = 'Nadam'; }), /the optimizer metadata: type must be one of SGD, Adam, AdamW, Adagrad, RMSprop, Adadelta, Adamax, got "Nadam"/);
      await refuses(o, await variant('t2', (m) => { (m.paramNames as string[])[0] = '9.weight'; }), /the optimizer metadata: names parameter "9.weight", which the architecture lacks/);
      await refuses(o, await variant('t3', (_m, t) => { t['optimizer.state.9.expAvg'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) }; }), /tensor "optimizer.state.9.expAvg" is not optimizer.state.<i>.<key> with i < 4/);
      await refuses(o, await variant('t4', (_m, t) => { t['optimizer.state.1.expAvg'] = { dtype: 'F32', shape: [3], data: new Float32Array(3) }; }), /tensor "optimizer.state.1.expAvg" has shape \[3\], its parameter "2.weight" \[2, 4\]/);
      await refuses(o, await variant('t5', (_m, t) => { t['optimizer.state.1.momentumBuffer'] = { dtype: 'F32', shape: [2, 4], data: new Float32Array(8) }; }), /unknown key 'momentumBuffer' in state\[1\]/);
      await refuses(o, await variant('t6', (m) => { (m.paramGroups as Array<Record<string, unknown>>)[1].lr = -1; }), /paramGroups\[1\].lr must be a finite number >= 0/);
      await refuses(o, await variant('t7', (m) => { m.steps = -3; }), /the optimizer metadata: steps must be an integer >= 0, got -3/);
      await refuses(o, await variant('t8', (m) => { (m.state as Record<string, Record<string, number>>)['0'].step = 1.5; }), /state\[0\].step must be an integer >= 0, got 1.5/);
      await expect(loadCheckpoint(await variant('t9', (m) => { (m.paramGroups as Array<Record<string, unknown>>)[0].params = [0, 99]; }))).rejects.toThrow(
        /^fathom.loadCheckpoint: .*: cannot rebuild the Adam optimizer: paramGroups\[0\].params\[1\] must be a parameter index in \[0, 4\), got 99$/,
      );
      // defaults the optimizer's constructor refuses: a corrupt file for both readers
      const t11 = await variant('t11', (m) => { (m.defaults as Record<string, unknown>).betas = [1, 2]; });
      await refuses(o, t11, /the optimizer metadata: defaults: fathom.Adam: betas\[0\] must be a finite number in \[0, 1\), got 1/);
      await expect(loadCheckpoint(t11)).rejects.toThrow(/the optimizer metadata: defaults: fathom.Adam: betas\[0\]/);
      // a state key quoted as written
      await refuses(o, await variant('t12', (m) => { (m.state as Record<string, unknown>).x7 = { step: 1 }; }), /state key 'x7' is not a parameter index in \[0, 4\)/);
      await expect(load(await variant('t10', () => {}))).resolves.toBeDefined(); // a well-formed rewrite still loads
    });

    it('optimizer tensors in a file without optimizer metadata are unknown model tensors', async () => {
      const f = await loadSafetensors(path);
      const { 'fathom.optimizer': _drop, ...meta } = f.metadata;
      const out = join(dir, 'nometa.safetensors');
      await saveSafetensors(out, f.tensors as Record<string, SafeTensor>, meta);
      await expect(load(out)).rejects.toThrow(/^fathom.load: .*: tensors not in the architecture: "optimizer.state.0.expAvg"/);
    });
  });
});
