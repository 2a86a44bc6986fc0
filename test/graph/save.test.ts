/**
 * save() / load() of nn.Model: the whole graph comes back (shared layers
 * stored once, frozen parameters still frozen, nested models, multi-input and
 * multi-output, merge layers), with equal outputs; crafted architectures with
 * a cycle, a dangling reference, an idle node or an unused layer are refused
 * with the layers named, before any layer is built.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, load, manualSeed, nn, randn, save, setBackend } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../lib/io/safetensors.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-graph-'));
});
afterAll(async () => {
  setBackend(nativeBinding() ? 'native' : 'ts');
  await rm(dir, { recursive: true, force: true });
});

/** Two inputs, two outputs: a shared nested encoder (partly frozen), a merge, BatchNorm buffers. */
function build(): nn.Model {
  manualSeed(21);
  const i = nn.input([5]);
  const enc = new nn.Model({ inputs: i, outputs: new nn.Tanh().apply(new nn.Linear(5, 4).apply(i, { name: 'proj' })), name: 'encoder' });
  (enc.getLayer('proj') as nn.Linear).bias!.requiresGrad = false;
  const a = nn.input([5], { name: 'a' }), b = nn.input([5], { name: 'b' });
  const side = new nn.Linear(4, 4);
  const ea = enc.apply(a), eb = enc.apply(b);
  const merged = new nn.Concatenate().apply([ea, side.apply(eb), eb]);
  const norm = new nn.BatchNorm1d(12).apply(merged);
  const gate = new nn.Linear(12, 2);
  gate.trainable = false;
  const ids = nn.input([3], { name: 'ids', dtype: 'int32' });
  const emb = new nn.Flatten().apply(new nn.Embedding(7, 2).apply(ids));
  const score = new nn.Add().apply([gate.apply(norm), new nn.Linear(6, 2).apply(emb)], { name: 'score' });
  return new nn.Model({ inputs: [a, b, ids], outputs: [score, new nn.Average().apply([ea, eb], { name: 'code' })], name: 'pair' });
}

const data = () => {
  manualSeed(3);
  return [randn([4, 5]), randn([4, 5]), new Tensor(Int32Array.from([0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4]), [4, 3])];
};

describe('save / load of a graph', () => {
  for (const bk of backends) {
    it(`round trip: config, names, frozen flags, outputs equal (${bk})`, async () => {
      setBackend(bk);
      const m = build();
      // Some training first, so the BatchNorm statistics and weights are not their initial values.
      await m.getLayer('encoder').fit(randn([8, 5]), randn([8, 4]), { loss: 'mse', epochs: 1, verbose: 0 });
      m.train();
      m.forwardAll(data());
      m.eval();
      const path = join(dir, `pair-${bk}.safetensors`);
      await save(m, path);
      const again = (await load(path)) as nn.Model;
      expect(again).toBeInstanceOf(nn.Model);
      expect(again.config()).toEqual(m.config());
      expect(again.inputNames).toEqual(['a', 'b', 'ids']);
      expect(again.outputNames).toEqual(['score', 'code']);
      expect(Object.keys(again.stateDict())).toEqual(Object.keys(m.stateDict()));
      // The shared encoder is stored once.
      const file = decodeSafetensors(new Uint8Array(await readFile(path)));
      expect(Object.keys(file.tensors).filter((n) => n.startsWith('encoder.')).sort()).toEqual(['encoder.proj.bias', 'encoder.proj.weight']);
      const frozen = (x: nn.Module) => x.namedParameters().filter(([, p]) => !p.requiresGrad).map(([n]) => n);
      expect(frozen(again)).toEqual(['encoder.proj.bias', 'linear_2.weight', 'linear_2.bias']); // linear_2: the gate
      expect(frozen(again)).toEqual(frozen(m));
      again.eval();
      const [s1, c1] = m.forwardAll(data());
      const [s2, c2] = again.forwardAll(data());
      expect([...s2.data]).toEqual([...s1.data]);
      expect([...c2.data]).toEqual([...c1.data]);
      expect(again.summary()).toBe(m.summary());
    });
  }

  it('a graph inside a Sequential and a Sequential inside a graph', async () => {
    manualSeed(4);
    const i = nn.input([3]);
    const block = new nn.Model({ inputs: i, outputs: new nn.Sequential(new nn.Linear(3, 3), new nn.ReLU()).apply(i) });
    const seq = new nn.Sequential(block, new nn.Linear(3, 1));
    const path = join(dir, 'seq.safetensors');
    await save(seq, path);
    const again = await load(path);
    expect(Object.keys(again.stateDict())).toEqual(['0.sequential_1.0.weight', '0.sequential_1.0.bias', '1.weight', '1.bias']);
    const x = randn([2, 3]);
    expect([...again.forward(x).data]).toEqual([...seq.forward(x).data]);
  });

  it('frozen parameters of any module come back frozen (a Sequential here); a frozen list naming another tensor is refused', async () => {
    manualSeed(6);
    const seq = new nn.Sequential(new nn.Linear(3, 3), new nn.ReLU(), new nn.Linear(3, 1));
    seq.layers[0].trainable = false;
    const path = join(dir, 'frozen-seq.safetensors');
    await save(seq, path);
    const again = (await load(path)) as nn.Sequential;
    expect(again.layers[0].trainable).toBe(false);
    expect(again.layers[2].trainable).toBe(true);
    const file = decodeSafetensors(new Uint8Array(await readFile(path)));
    expect(JSON.parse(file.metadata['fathom.frozen'])).toEqual(['0.weight', '0.bias']);
    const t: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
    for (const [n, x] of Object.entries(file.tensors)) t[n] = { dtype: 'F32', shape: x.shape, data: x.data as Float32Array };
    const bad = join(dir, 'frozen-bad.safetensors');
    await writeFile(bad, encodeSafetensors(t, { ...file.metadata, 'fathom.frozen': JSON.stringify(['0.weight', '5.weight']) }));
    await expect(load(bad)).rejects.toThrow(`fathom.load: ${bad}: the frozen metadata names "5.weight", which the architecture lacks`);
  });

  describe('crafted architectures are refused, naming the layers, before anything is built', () => {
    const lin = (inF: number, outF: number) => ({ type: 'Linear', inFeatures: inF, outFeatures: outF, bias: false });
    const arch = (over: Record<string, unknown>) => ({
      type: 'Model',
      inputs: [{ name: 'x', shape: [2] }],
      layers: [{ name: 'f', config: lin(2, 2) }, { name: 'g', config: lin(2, 2) }],
      nodes: [{ layer: 'f', inputs: [['x', 0, 0]] }, { layer: 'g', inputs: [['f', 0, 0]] }],
      outputs: [['g', 0, 0]],
      ...over,
    });
    const write = async (name: string, config: unknown, tensors: Record<string, number[]> = { 'f.weight': [2, 2], 'g.weight': [2, 2] }) => {
      const t: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
      for (const [n, s] of Object.entries(tensors)) t[n] = { dtype: 'F32', shape: s, data: new Float32Array(s.reduce((p, q) => p * q, 1)) };
      const path = join(dir, `${name}.safetensors`);
      await writeFile(path, encodeSafetensors(t, { format: 'fathom.model/1', 'fathom.architecture': JSON.stringify(config) }));
      return path;
    };
    it('the well-formed one loads (the cases below change one thing)', async () => {
      expect(await load(await write('ok', arch({})))).toBeInstanceOf(nn.Model);
    });
    const cases: [string, Record<string, unknown>, string][] = [
      ['a cycle f → g → f', { nodes: [{ layer: 'f', inputs: [['g', 0, 0]] }, { layer: 'g', inputs: [['f', 0, 0]] }] }, 'fathom.fromConfig: Model graph has a cycle: f → g → f (each of these layers takes the output of the one before it)'],
      ['a layer feeding itself', { nodes: [{ layer: 'f', inputs: [['x', 0, 0]] }, { layer: 'g', inputs: [['g', 0, 0]] }] }, 'graph has a cycle: g → g'],
      ['a dangling layer name', { nodes: [{ layer: 'f', inputs: [['x', 0, 0]] }, { layer: 'g', inputs: [['h', 0, 0]] }] }, 'nodes[1] (\'g\').inputs[0] takes "h", which is no layer or input of the model (a dangling reference)'],
      ['a dangling call', { outputs: [['g', 1, 0]] }, "outputs[0] takes call 1 of 'g', but 'g' is applied 1 time(s) (a dangling reference)"],
      ['an output index past the layer\'s outputs', { outputs: [['g', 0, 2]] }, "outputs[0] takes output 2 of 'g', which has 1 output(s)"],
      ['a node no output needs', { outputs: [['f', 0, 0]] }, "nodes[1] ('g') feeds no output of the model"],
      ['a layer never applied', { nodes: [{ layer: 'f', inputs: [['x', 0, 0]] }], outputs: [['f', 0, 0]] }, "layer 'g' is never applied"],
      ['a node with no input', { nodes: [{ layer: 'f', inputs: [] }, { layer: 'g', inputs: [['f', 0, 0]] }] }, "nodes[0] ('f') takes no input"],
      ['a node of an unknown layer', { nodes: [{ layer: 'f', inputs: [['x', 0, 0]] }, { layer: 'zz', inputs: [['f', 0, 0]] }] }, 'nodes[1] applies "zz", which is not one of the layers (f, g)'],
      ['two layers of one name', { layers: [{ name: 'f', config: lin(2, 2) }, { name: 'f', config: lin(2, 2) }] }, "layers[1]: the name 'f' is used twice"],
      ['a shape that does not fit', { layers: [{ name: 'f', config: lin(2, 3) }, { name: 'g', config: lin(2, 2) }] }, "nodes[1] ('g'): fathom.Linear.apply: cannot apply 'g' (Linear) to [N, 3]"],
      ['an unknown key', { extra: 1 }, 'fathom.fromConfig: unknown key "extra" in a Model config'],
      ['a huge input', { inputs: [{ name: 'x', shape: [1 << 20, 1 << 20] }] }, "inputs[0] ('x') has 1099511627776 values per sample; at most 16777216"],
      ['a frozen name the layer lacks', { layers: [{ name: 'f', config: lin(2, 2), frozen: ['bias'] }, { name: 'g', config: lin(2, 2) }] }, "layer 'f' lists 'bias' as frozen, but its parameters are weight"],
    ];
    for (const [what, over, msg] of cases) {
      it(what, async () => {
        const path = await write(what.replace(/\W+/g, '_'), arch(over), what === 'a shape that does not fit' ? { 'f.weight': [3, 2], 'g.weight': [2, 2] } : undefined);
        const err = await load(path).then(() => null, (e: Error) => e);
        expect(err?.message).toContain(msg);
        expect(err?.message).toMatch(/^fathom.load: .*cannot rebuild the architecture: /);
      });
    }
    it('a tensor the graph does not declare, or one of the wrong shape, is refused before building', async () => {
      await expect(load(await write('extra', arch({}), { 'f.weight': [2, 2], 'g.weight': [2, 2], 'h.weight': [2] }))).rejects.toThrow('tensors not in the architecture: "h.weight"');
      await expect(load(await write('wrongshape', arch({}), { 'f.weight': [2, 2], 'g.weight': [3, 2] }))).rejects.toThrow("tensor 'g.weight' has shape [3, 2], the architecture needs [2, 2]");
    });
  });
});
