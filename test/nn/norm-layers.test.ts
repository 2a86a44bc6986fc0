/**
 * BatchNorm1d, BatchNorm2d and LayerNorm layers: PyTorch's state-dict
 * names, buffers updated in train() and used in eval(), fit() with BatchNorm1d,
 * save/load round trips that predict identically, config and errors.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fa from '../../lib/index.js';
import { Tensor, load, manualSeed, nn, save, setBackend, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { parameterShapes } from '../../lib/layers/registry.js';
import { spirals } from '../../lib/data/synthetic.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const any = (v: unknown): never => v as never;

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'fathom-norm-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); setBackend(nativeBinding() ? 'native' : 'ts'); });

describe('BatchNorm layers', () => {
  it('have PyTorch\'s state-dict names; only weight and bias are parameters', () => {
    const bn = new nn.BatchNorm2d(3);
    expect(Object.keys(bn.stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
    expect(bn.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    expect(bn.stateDict().num_batches_tracked.dtype).toBe('int32');
    expect([...bn.stateDict().running_var.data]).toEqual([1, 1, 1]);
    expect(Object.keys(new nn.BatchNorm1d(2, { affine: false, trackRunningStats: false }).stateDict())).toEqual([]);
    const m = new nn.Sequential(new nn.Linear(2, 3), new nn.BatchNorm1d(3), new nn.ReLU());
    expect(Object.keys(m.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']);
    expect(m.parameters().length).toBe(4);
    for (const c of [bn.config(), m.config()]) expect(parameterShapes(c)!.map(([n]) => n)).toEqual(Object.keys(nn.fromConfig(c).stateDict()));
  });

  for (const name of backends) {
    it(`train() normalises with the batch and updates the buffers; eval() uses them (${name})`, () => {
      setBackend(name);
      const bn = new nn.BatchNorm1d(2, { momentum: 0.5 });
      const x = tensor([[1, 10], [3, 10], [5, 40]]);
      const y = bn.forward(x);
      expect(y.data[0]).toBeCloseTo(-2 / Math.sqrt(8 / 3 + 1e-5), 5);
      expect([...bn.runningMean!.data]).toEqual([1.5, 10]);
      expect([...bn.runningVar!.data]).toEqual([2.5, 150.5]);
      expect(bn.numBatchesTracked!.data[0]).toBe(1);
      bn.eval();
      const e = bn.forward(tensor([[1.5, 10]]));
      expect([...e.data].map((v) => +v.toFixed(5))).toEqual([0, 0]);
      expect(bn.numBatchesTracked!.data[0]).toBe(1);
      // momentum null: a cumulative average over the batches seen
      const cum = new nn.BatchNorm1d(1, { momentum: null });
      cum.forward(tensor([[0], [2]]));
      cum.forward(tensor([[4], [6]]));
      expect([...cum.runningMean!.data]).toEqual([3]);
      expect(cum.numBatchesTracked!.data[0]).toBe(2);
      // trackRunningStats false: batch statistics in eval() too
      const free = new nn.BatchNorm1d(1, { trackRunningStats: false }).eval();
      expect([...free.forward(tensor([[1], [3]])).data].map((v) => +v.toFixed(4))).toEqual([-1, 1]);
    });
  }

  it('BatchNorm2d matches the functional op over [N, C, H, W] with odd sizes', () => {
    manualSeed(3);
    const bn = new nn.BatchNorm2d(3);
    (bn.weight!.data as Float32Array).set([0.5, 1, 2]);
    const x = fa.randn([2, 3, 5, 3]);
    const y = bn.forward(x);
    const want = fa.batchNorm(x, null, null, bn.weight, bn.bias, { training: true });
    expect([...y.data]).toEqual([...want.data]);
    expect(() => bn.forward(fa.randn([2, 4, 5, 5]))).toThrow('fathom.BatchNorm2d: expected input [N, 3, H, W], got [2, 4, 5, 5]');
    expect(() => bn.forward(fa.randn([1, 3, 1, 1]))).toThrow('fathom.BatchNorm2d: expected more than 1 value per channel when training, got input [1, 3, 1, 1]');
    expect(bn.numBatchesTracked!.data[0]).toBe(1); // the refused batch was not counted
    bn.eval();
    expect(bn.forward(fa.randn([1, 3, 1, 1])).shape).toEqual([1, 3, 1, 1]);
    expect(() => new nn.BatchNorm1d(3).forward(fa.randn([2, 3, 4, 4]))).toThrow('fathom.BatchNorm1d: expected input [N, 3] or [N, 3, L], got [2, 3, 4, 4]');
  });

  it('refuses bad constructor arguments and configs', () => {
    expect(() => new nn.BatchNorm1d(0)).toThrow('fathom.BatchNorm1d: numFeatures must be a positive integer, got 0');
    expect(() => new nn.BatchNorm2d(2, { momentum: 2 })).toThrow('options.momentum must be a number in [0, 1] or null');
    expect(() => new nn.BatchNorm2d(2, { eps: 0 })).toThrow('options.eps must be a positive finite number');
    expect(() => new nn.BatchNorm2d(2, any({ afine: true }))).toThrow(/afine/);
    expect(() => new nn.LayerNorm([])).toThrow('fathom.LayerNorm: normalizedShape must be a positive integer or a non-empty list of them');
    expect(() => nn.fromConfig({ type: 'BatchNorm1d', numFeatures: 2, affin: true })).toThrow('unknown key "affin" in a BatchNorm1d config');
    expect(() => nn.fromConfig({ type: 'LayerNorm', normalizedShape: [0] })).toThrow('normalizedShape must be a positive integer');
  });

  it('fit() trains an MLP with BatchNorm1d; the saved and loaded model predicts identically in eval', async () => {
    manualSeed(7);
    const { x, y } = spirals({ n: 300, classes: 2, noise: 0.05, seed: 5 });
    const model = new nn.Sequential(new nn.Linear(2, 32), new nn.BatchNorm1d(32), new nn.ReLU(), new nn.Linear(32, 32), new nn.BatchNorm1d(32), new nn.ReLU(), new nn.Linear(32, 2));
    const before = (model.stateDict()['1.running_mean'].data as Float32Array).slice();
    const h = await model.fit(x, y, { loss: 'crossEntropy', optimizer: 'adam', lr: 0.02, epochs: 40, batchSize: 32, seed: 1, verbose: 0 });
    const losses = h.history.loss as number[];
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    const r = await model.evaluate(x, y);
    expect(r.accuracy).toBeGreaterThan(0.9);
    const sd = model.stateDict();
    expect([...sd['1.running_mean'].data]).not.toEqual([...before]);
    expect(sd['1.num_batches_tracked'].data[0]).toBe(40 * Math.ceil(300 / 32));
    const p = join(dir, 'bn-mlp.safetensors');
    await save(model, p);
    const back = await load(p);
    const a = model.predict(x), b = back.predict(x);
    expect([...b.data]).toEqual([...a.data]);
    expect(back.stateDict()['1.num_batches_tracked'].data[0]).toBe(40 * Math.ceil(300 / 32));
    expect(back.parameters().length).toBe(model.parameters().length);
  });
});

describe('LayerNorm layer', () => {
  it('normalises the last dims, has weight and bias, saves and loads', async () => {
    manualSeed(11);
    const ln = new nn.LayerNorm([2, 3]);
    expect(Object.keys(ln.stateDict())).toEqual(['weight', 'bias']);
    (ln.weight!.data as Float32Array).set([1, 2, 3, 4, 5, 6]);
    const x = fa.randn([4, 2, 3]);
    const y = ln.forward(x);
    expect([...y.data]).toEqual([...fa.layerNorm(x, [2, 3], ln.weight, ln.bias).data]);
    expect(() => ln.forward(fa.randn([4, 3, 2]))).toThrow('fathom.LayerNorm: x [4, 3, 2] must end with normalizedShape [2, 3]');
    const model = new nn.Sequential(new nn.Linear(6, 6), new nn.LayerNorm(6, { eps: 1e-3 }), new nn.LayerNorm(6, { elementwiseAffine: false }));
    const p = join(dir, 'ln.safetensors');
    await save(model, p);
    const back = await load(p);
    expect(back.toString()).toBe(model.toString());
    const z = fa.randn([3, 6]);
    expect([...back.predict(z).data]).toEqual([...model.predict(z).data]);
  });
});

describe('a state dict from PyTorch loads by name', () => {
  it('a BatchNorm2d state dict (names and int num_batches_tracked) loads into the layer', () => {
    const bn = new nn.BatchNorm2d(2);
    bn.loadStateDict({
      weight: tensor([1, 2]), bias: tensor([0, 1]), running_mean: tensor([0.5, -0.5]), running_var: tensor([4, 0.25]),
      num_batches_tracked: new Tensor(new Int32Array([12]), []),
    });
    bn.eval();
    const y = bn.forward(fa.full([1, 2, 1, 1], 2.5));
    expect(y.data[0]).toBeCloseTo(1 * (2.5 - 0.5) / Math.sqrt(4 + 1e-5), 5);
    expect(y.data[1]).toBeCloseTo(2 * (2.5 + 0.5) / Math.sqrt(0.25 + 1e-5) + 1, 4);
  });
});
