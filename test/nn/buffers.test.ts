// Module buffers (PyTorch's register_buffer): in stateDict()/save()/load(), not in parameters().
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, nn, save, Tensor } from '../../lib/index.js';
import { loadSafetensors, saveSafetensors } from '../../lib/io/safetensors.js';

class Stats extends nn.Module {
  weight = nn.parameter(new Tensor(new Float32Array([1, 2, 3]), [3]));
  running = nn.buffer(new Tensor(new Float32Array([0.5, 0.25, 0.125]), [3]));
  constructor(readonly n = 3) {
    super();
    this.registerBuffer('count', new Tensor(new Int32Array([7]), []));
  }
  override forward(x: Tensor): Tensor {
    return x;
  }
  override config() {
    return { type: 'StatsForBufferTest', n: this.n };
  }
}
nn.registerModuleType('StatsForBufferTest', () => new Stats(), () => [['weight', [3]], ['count', [], 'I32'], ['running', [3]]]);

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'fathom-buffers-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

describe('module buffers', () => {
  it('are in stateDict (after the parameters, PyTorch order) but not in parameters()', () => {
    const m = new nn.Sequential(new Stats(), new nn.Linear(3, 2));
    expect(Object.keys(m.stateDict())).toEqual(['0.weight', '0.count', '0.running', '1.weight', '1.bias']);
    expect(m.namedParameters().map(([n]) => n)).toEqual(['0.weight', '1.weight', '1.bias']);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['0.count', '0.running']);
    expect(m.buffers().length).toBe(2);
    for (const b of m.buffers()) expect(b.requiresGrad).toBe(false);
  });

  it('are not frozen or unfrozen', () => {
    const m = new Stats();
    m.freeze();
    m.unfreeze();
    expect(m.running.requiresGrad).toBe(false);
    expect(m.weight.requiresGrad).toBe(true);
  });

  it('loadStateDict copies them and checks shape and dtype (int32 too)', () => {
    const a = new Stats();
    const b = new Stats();
    (a.running.data as Float32Array).set([9, 8, 7]);
    (a.stateDict().count.data as Int32Array)[0] = 42;
    b.loadStateDict(a.stateDict());
    expect([...b.running.data]).toEqual([9, 8, 7]);
    expect(b.stateDict().count.data[0]).toBe(42);
    const bad = { ...a.stateDict(), count: new Tensor(new Float32Array([1]), []) };
    expect(() => b.loadStateDict(bad)).toThrow("buffer 'count' is int32, the state dict has float32");
    const badShape = { ...a.stateDict(), running: new Tensor(new Float32Array(4), [4]) };
    expect(() => b.loadStateDict(badShape)).toThrow("buffer 'running' has shape [3], the state dict has [4]");
    const missing = { ...a.stateDict() } as Record<string, Tensor>;
    delete missing.running;
    expect(() => b.loadStateDict(missing)).toThrow("missing buffer 'running'");
  });

  it('refuses a tensor that is a parameter, requires grad, or is not float32/int32', () => {
    expect(() => nn.buffer(nn.parameter(new Tensor(new Float32Array(2), [2])))).toThrow('already a parameter');
    expect(() => nn.buffer(new Tensor(new Float32Array(2), [2]).requireGrad())).toThrow('requires grad');
    const b = nn.buffer(new Tensor(new Float32Array(2), [2]));
    expect(() => nn.parameter(b)).toThrow('already a buffer');
  });

  it('save()/load() round-trip them, int32 as I32; a wrong buffer shape or dtype in the file is refused', async () => {
    const m = new Stats();
    (m.running.data as Float32Array).set([1.5, -2, 3.25]);
    (m.stateDict().count.data as Int32Array)[0] = 123456;
    const p = join(dir, 'stats.safetensors');
    await save(m, p);
    const file = await loadSafetensors(p);
    expect(file.tensors.count.dtype).toBe('I32');
    const back = (await load(p)) as Stats;
    expect([...back.running.data]).toEqual([1.5, -2, 3.25]);
    expect(back.stateDict().count.data[0]).toBe(123456);
    expect(back.parameters().length).toBe(1);

    const t = file.tensors;
    const q = join(dir, 'bad.safetensors');
    await saveSafetensors(q, { ...t, running: { dtype: 'F32', shape: [4], data: new Float32Array(4) } }, file.metadata);
    await expect(load(q)).rejects.toThrow("tensor 'running' has shape [4], the architecture needs [3]");
    await saveSafetensors(q, { ...t, count: { dtype: 'F32', shape: [], data: new Float32Array(1) } }, file.metadata);
    await expect(load(q)).rejects.toThrow("tensor 'count' must be I32, got F32");
    const { running: _r, ...rest } = t;
    await saveSafetensors(q, rest, file.metadata);
    await expect(load(q)).rejects.toThrow("the architecture needs tensor 'running' [3], which the file lacks");
  });
});
