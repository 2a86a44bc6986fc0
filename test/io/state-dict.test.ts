/**
 * readStateDict / writeStateDict (lib/io/state.ts): plain state dicts in safetensors files,
 * the way weights travel to and from PyTorch; errors named fathom.readStateDict /
 * fathom.writeStateDict. The PyTorch round trip itself is test/nn/torch-cnn.test.ts.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Tensor, load, nn, readStateDict, tensor, writeStateDict } from '../../lib/index.js';
import { loadSafetensors } from '../../lib/io/safetensors.js';

let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'fathom-sd-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

/** A safetensors file built by hand (u64 LE header length, JSON, data). */
function file(header: object, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('writeStateDict / readStateDict', () => {
  it('a module round-trips by name (parameters and buffers; int32 buffers as I32), metadata { format: "pt" } by default', async () => {
    const m = new nn.Sequential(new nn.Linear(3, 2, { seed: 1 }), new nn.BatchNorm1d(2));
    m.forward(tensor([[1, 2, 3], [0, -1, 4]])); // moves the running statistics and num_batches_tracked
    const p = join(dir, 'm.safetensors');
    await writeStateDict(m, p);
    const f = await loadSafetensors(p);
    expect({ ...f.metadata }).toEqual({ format: 'pt' });
    expect(f.tensors['1.num_batches_tracked']).toEqual({ dtype: 'I32', shape: [], data: new Int32Array([1]) });
    const dict = await readStateDict(pathToFileURL(p));
    expect(Object.getPrototypeOf(dict)).toBeNull();
    expect(Object.keys(dict).sort()).toEqual(Object.keys(m.stateDict()).sort());
    const fresh = new nn.Sequential(new nn.Linear(3, 2, { seed: 9 }), new nn.BatchNorm1d(2));
    fresh.loadStateDict(dict);
    for (const [n, t] of Object.entries(m.stateDict())) {
      expect(fresh.stateDict()[n]!.dtype, n).toBe(t.dtype);
      expect([...fresh.stateDict()[n]!.data], n).toEqual([...t.data]);
    }
  });

  it('a name → Tensor record, with the caller\'s metadata', async () => {
    const p = join(dir, 'd.safetensors');
    await writeStateDict({ 'a.weight': tensor([[1, 2]]), steps: new Tensor(new Int32Array([5]), []) }, p, { note: 'x' });
    const f = await loadSafetensors(p);
    expect({ ...f.metadata }).toEqual({ note: 'x' });
    const d = await readStateDict(p);
    expect(d['a.weight']!.shape).toEqual([1, 2]);
    expect(d.steps!.dtype).toBe('int32');
  });

  it('writeStateDict refuses what it cannot write, before touching the file', async () => {
    const p = join(dir, 'w.safetensors');
    await writeStateDict({ a: tensor([1]) }, p);
    const before = await readFile(p);
    const shared = tensor([1, 2]);
    await expect(writeStateDict({ a: shared, b: shared }, p)).rejects.toThrow("fathom.writeStateDict: 'b' is the same tensor as 'a' (tied weights); write one of the names");
    await expect(writeStateDict({ a: [1, 2] as never }, p)).rejects.toThrow("fathom.writeStateDict: 'a' must be a Tensor, got");
    await expect(writeStateDict(5 as never, p)).rejects.toThrow('fathom.writeStateDict: expected a Module or a name → Tensor record, got 5');
    await expect(writeStateDict(tensor([1]) as never, p)).rejects.toThrow(/^fathom\.writeStateDict: expected a Module or a name → Tensor record/);
    await expect(writeStateDict({ a: tensor([1]) }, p, { n: 1 as never })).rejects.toThrow(/^fathom\.writeStateDict: safetensors: expected metadata values to be strings/);
    await expect(writeStateDict({ a: tensor([1]) }, 3 as never)).rejects.toThrow(/^fathom\.writeStateDict: /);
    expect(await readFile(p)).toEqual(before);
    await expect(writeStateDict({ a: tensor([1]) }, join(dir, 'no', 'such', 'x.safetensors'))).rejects.toThrow(/^fathom\.writeStateDict: .*cannot write/);
    expect((await readdir(dir)).sort()).toEqual(['w.safetensors']);
  });

  it('readStateDict names itself in every refusal: missing file, not safetensors, an I64 value beyond int32, a dtype fathom cannot hold', async () => {
    await expect(readStateDict(join(dir, 'missing.safetensors'))).rejects.toThrow(/^fathom\.readStateDict: safetensors: .*missing\.safetensors/);
    const junk = join(dir, 'junk.safetensors');
    await writeFile(junk, 'hello');
    await expect(readStateDict(junk)).rejects.toThrow(`fathom.readStateDict: safetensors: ${junk}: not a safetensors file: expected at least 8 bytes (the header length), got a 5-byte file`);
    const big = join(dir, 'big.safetensors');
    const data = new Uint8Array(8);
    new DataView(data.buffer).setBigInt64(0, 3n * 2n ** 31n, true);
    await writeFile(big, file({ '1.num_batches_tracked': { dtype: 'I64', shape: [], data_offsets: [0, 8] } }, data));
    await expect(readStateDict(big)).rejects.toThrow(`fathom.readStateDict: safetensors: ${big}: tensor "1.num_batches_tracked" (I64 []) holds 6442450944 at index 0, outside int32`);
    const u8 = join(dir, 'u8.safetensors');
    await writeFile(u8, file({ mask: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)));
    await expect(readStateDict(u8)).rejects.toThrow(/got unsupported dtype "BOOL" \(fathom holds float32 and int32 tensors\)/);
  });

  it('load() of a fathom model file counts a converted dtype as what it becomes (num_batches_tracked I64, weight F16); a wrong kind is still refused', async () => {
    const m = new nn.BatchNorm1d(2);
    const meta = { format: 'fathom.model/1', 'fathom.architecture': JSON.stringify(m.config()) };
    const le = (bytes: number[]) => new Uint8Array(bytes);
    const f32 = (v: number[]) => new Uint8Array(new Float32Array(v).buffer);
    const header = (nbtDtype: string, weightDtype: string) => ({
      __metadata__: meta,
      num_batches_tracked: { dtype: nbtDtype, shape: [], data_offsets: [0, 8] },
      weight: { dtype: weightDtype, shape: [2], data_offsets: [8, 12] },
      bias: { dtype: 'F32', shape: [2], data_offsets: [12, 20] },
      running_mean: { dtype: 'F32', shape: [2], data_offsets: [20, 28] },
      running_var: { dtype: 'F32', shape: [2], data_offsets: [28, 36] },
    });
    const data = new Uint8Array([...le([9, 0, 0, 0, 0, 0, 0, 0]), ...le([0x00, 0x3c, 0x00, 0xc0]), ...f32([0.5, 0]), ...f32([1, 2]), ...f32([3, 4])]);
    const p = join(dir, 'converted.safetensors');
    await writeFile(p, file(header('I64', 'F16'), data));
    const got = await load(p);
    expect([...got.stateDict().num_batches_tracked!.data]).toEqual([9]);
    expect(got.stateDict().num_batches_tracked!.dtype).toBe('int32');
    expect([...got.stateDict().weight!.data]).toEqual([1, -2]);
    const q = join(dir, 'wrong.safetensors');
    await writeFile(q, file(header('F64', 'F16'), data));
    await expect(load(q)).rejects.toThrow("tensor 'num_batches_tracked' must be I32, got F64");
  });
});
