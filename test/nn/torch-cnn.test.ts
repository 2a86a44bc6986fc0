/**
 * Issue #10: a PyTorch state_dict saved with safetensors loads into the same fathom
 * architecture by name and gives the same outputs. The fixture was made once with PyTorch
 * 1.13 by test/nn/fixtures/torch-cnn.py (read it for what the files hold): a small CNN with
 * Conv2d (padding; stride and groups), BatchNorm2d, ReLU, MaxPool2d, Dropout2d,
 * ConvTranspose2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Conv1d, BatchNorm1d on [N, C, L]
 * and [N, C], Linear, Dropout and LayerNorm, trained 6 steps there so its running statistics
 * and num_batches_tracked (I64 in the file) are not their initial values.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, load, nn, readStateDict, save, setBackend, writeStateDict } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { loadSafetensors } from '../../lib/io/safetensors.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const WEIGHTS = fixture('torch-cnn.safetensors');
const IO = fixture('torch-cnn-io.safetensors');

/** The architecture of torch-cnn.py's build(), layer for layer. */
function build(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(3, 8, 3, { padding: 1 }),
    new nn.BatchNorm2d(8),
    new nn.ReLU(),
    new nn.Conv2d(8, 8, 3, { stride: 2, padding: 1, groups: 4 }),
    new nn.BatchNorm2d(8, { momentum: 0.3 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Dropout2d(0.25),
    new nn.ConvTranspose2d(8, 6, 2, { stride: 2 }),
    new nn.AvgPool2d(3, { stride: 1, padding: 1 }),
    new nn.AdaptiveAvgPool2d([5, 4]),
    new nn.Flatten(2),
    new nn.Conv1d(6, 4, 3, { stride: 2 }),
    new nn.BatchNorm1d(4),
    new nn.ReLU(),
    new nn.Flatten(),
    new nn.Linear(36, 16),
    new nn.BatchNorm1d(16),
    new nn.ReLU(),
    new nn.Dropout(0.3),
    new nn.LayerNorm(16),
    new nn.Linear(16, 5),
  );
}

/** Every |got - want| <= atol + rtol·|want|; the message names the worst index and both values. */
function expectClose(got: Tensor, want: Tensor, what: string, rtol = 1e-5, atol = 1e-6): void {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  let worst = -1;
  let excess = 0;
  for (let i = 0; i < want.size; i++) {
    const e = Math.abs(got.data[i]! - want.data[i]!) - (atol + rtol * Math.abs(want.data[i]!));
    if (!(e <= excess)) { excess = e; worst = i; }
  }
  expect(worst, worst < 0 ? '' : `${what}: index ${worst}: fathom ${got.data[worst]}, PyTorch ${want.data[worst]}`).toBe(-1);
}

let io: Record<string, Tensor>;
let dir: string;
beforeAll(async () => {
  io = await readStateDict(IO);
  dir = await mkdtemp(join(tmpdir(), 'fathom-torch-cnn-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  setBackend(nativeBinding() ? 'native' : 'ts');
});

describe('a PyTorch CNN state dict (safetensors) in fathom', () => {
  it('every key of the PyTorch state dict maps to a fathom parameter or buffer with the same shape, and back', async () => {
    const torchHeader: Record<string, { dtype: string; shape: number[] }> = {};
    const file = await loadSafetensors(WEIGHTS, { check: (h) => { Object.assign(torchHeader, h.tensors); } });
    expect(file.metadata.format).toBe('pt');
    const mine = build().stateDict();
    expect(Object.keys(mine).sort()).toEqual(Object.keys(torchHeader).sort());
    for (const [name, t] of Object.entries(mine)) {
      expect(t.shape, name).toEqual(torchHeader[name]!.shape);
      // PyTorch keeps num_batches_tracked as int64; fathom as int32 (the reader converts).
      expect(torchHeader[name]!.dtype, name).toBe(name.endsWith('num_batches_tracked') ? 'I64' : 'F32');
      expect(t.dtype, name).toBe(name.endsWith('num_batches_tracked') ? 'int32' : 'float32');
    }
    expect(Object.keys(torchHeader).filter((n) => n.endsWith('num_batches_tracked')).length).toBe(4);
  });

  for (const b of backends) {
    it(`loads by name and gives PyTorch's eval and train outputs and running-statistics update (${b})`, async () => {
      setBackend(b);
      const model = build();
      const sd = await readStateDict(WEIGHTS);
      model.loadStateDict(sd);
      for (const [n, t] of Object.entries(model.stateDict())) expect([...t.data], n).toEqual([...sd[n]!.data]);
      expect([...model.stateDict()['1.num_batches_tracked']!.data]).toEqual([6]);

      model.eval();
      expectClose(model.forward(io.x!), io.yEval!, 'eval output');
      expectClose(model.predict(io.x!), io.yEval!, 'predict');

      // Train mode with the dropouts off: batch statistics, and the buffers move as PyTorch's did.
      model.train();
      model.layers[7]!.eval();
      model.layers[19]!.eval();
      expectClose(model.forward(io.x!), io.yTrain!, 'train output');
      for (const i of [1, 4, 13, 17]) {
        expectClose(model.stateDict()[`${i}.running_mean`]!, io[`stats.${i}.running_mean`]!, `${i}.running_mean after`);
        expectClose(model.stateDict()[`${i}.running_var`]!, io[`stats.${i}.running_var`]!, `${i}.running_var after`);
        expect([...model.stateDict()[`${i}.num_batches_tracked`]!.data]).toEqual([7]);
      }
    });
  }

  it('fathom writes the same names and shapes back (num_batches_tracked as I32), which read back equal; save()/load() keep the outputs', async () => {
    setBackend(backends[0]);
    const model = build();
    model.loadStateDict(await readStateDict(WEIGHTS));
    const out = join(dir, 'fathom-cnn.safetensors');
    await writeStateDict(model, out);
    const torchHeader: Record<string, { dtype: string; shape: number[] }> = {};
    await loadSafetensors(WEIGHTS, { check: (h) => { Object.assign(torchHeader, h.tensors); } });
    const written: Record<string, { dtype: string; shape: number[] }> = {};
    const file = await loadSafetensors(out, { check: (h) => { Object.assign(written, h.tensors); } });
    expect(file.metadata.format).toBe('pt');
    expect(Object.keys(written).sort()).toEqual(Object.keys(torchHeader).sort());
    for (const [n, t] of Object.entries(written)) {
      expect(t.shape, n).toEqual(torchHeader[n]!.shape);
      expect(t.dtype, n).toBe(n.endsWith('num_batches_tracked') ? 'I32' : 'F32');
    }
    const again = build();
    again.loadStateDict(await readStateDict(out));
    again.eval();
    expectClose(again.forward(io.x!), io.yEval!, 'eval output after writeStateDict/readStateDict');

    const saved = join(dir, 'model.safetensors');
    await save(model, saved);
    const loaded = await load(saved);
    expectClose(loaded.predict(io.x!), io.yEval!, 'eval output after save/load');
    await expect(load(WEIGHTS)).rejects.toThrow(/not a fathom model \(metadata format is "pt".*model\.loadStateDict\(await readStateDict\(path\)\)/);
  });

  it("a state dict that does not fit is refused and the model is unchanged; PyTorch's conversions of F16/BF16/F64/I64 agree with the reader's", async () => {
    const model = build();
    const before = Object.fromEntries(Object.entries(model.stateDict()).map(([n, t]) => [n, [...t.data]]));
    const sd = await readStateDict(WEIGHTS);
    const { ['21.bias']: _dropped, ...missing } = sd;
    expect(() => model.loadStateDict(missing)).toThrow("fathom.loadStateDict: missing parameter '21.bias'");
    expect(() => model.loadStateDict({ ...sd, 'fc.weight': sd['21.weight']! })).toThrow('fathom.loadStateDict: unexpected parameters: fc.weight');
    const other = new nn.Sequential(...build().layers.slice(0, 21), new nn.Linear(16, 6));
    expect(() => other.loadStateDict(sd)).toThrow("fathom.loadStateDict: parameter '21.weight' has shape [6, 16], the state dict has [5, 16]");
    for (const [n, t] of Object.entries(model.stateDict())) expect([...t.data], n).toEqual(before[n]);

    expect(io.xF16!.dtype).toBe('float32');
    expect([...io.xF16!.data]).toEqual([...io.xF16AsF32!.data]);
    expect([...io.xBF16!.data]).toEqual([...io.xBF16AsF32!.data]);
    expect([...io.xF64!.data]).toEqual([...io.xF64AsF32!.data]);
    expect(io.counts!.dtype).toBe('int32');
    expect([...io.counts!.data]).toEqual([0, 1, -7, 2 ** 31 - 1, -(2 ** 31), 123456789]);
  });
});
