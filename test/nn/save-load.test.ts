import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, manualSeed, nn, save, tensor } from '../../lib/index.js';
import { encodeSafetensors } from '../../lib/io/safetensors.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-save-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function model() {
  manualSeed(11);
  return new nn.Sequential(new nn.Linear(6, 5), new nn.Tanh(), new nn.Linear(5, 3), new nn.Softmax());
}

const x = tensor(Float32Array.from({ length: 24 }, (_, i) => Math.cos(i)), [4, 6]);

describe('save / load', () => {
  it('round-trips architecture and weights: identical predictions', async () => {
    const m = model();
    const path = join(dir, 'm.safetensors');
    await save(m, path);
    const again = await load(path);
    expect(again.config()).toEqual(m.config());
    expect([...again.predict(x).data]).toEqual([...m.predict(x).data]);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  describe('refuses corrupt files and leaves the existing file untouched', () => {
    const good = async () => {
      const path = join(dir, 'good.safetensors');
      await save(model(), path);
      return readFile(path);
    };
    const header = (obj: unknown): Uint8Array => {
      const json = Buffer.from(JSON.stringify(obj));
      const out = Buffer.alloc(8 + json.length);
      out.writeBigUInt64LE(BigInt(json.length), 0);
      json.copy(out, 8);
      return out;
    };
    const cases: [string, () => Promise<Uint8Array>, RegExp][] = [
      ['truncated', async () => (await good()).subarray(0, 100), /safetensors: .*/],
      ['truncated tensor data', async () => { const b = await good(); return b.subarray(0, b.length - 4); }, /safetensors: /],
      ['header length past the end', async () => { const b = Buffer.from(await good()); b.writeBigUInt64LE(10n ** 9n, 0); return b; }, /header/],
      ['empty file', async () => new Uint8Array(0), /safetensors: /],
      ['garbage', async () => Buffer.from('this is not a model at all'), /safetensors: /],
      ['unknown dtype', async () => header({ a: { dtype: 'Q7', shape: [1], data_offsets: [0, 4] } }), /dtype/],
      ['not a fathom model', async () => encodeSafetensors({ w: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }), /not a fathom model/],
      ['shapes disagree with the architecture', async () => {
        const m = model();
        const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
        for (const [n, t] of m.namedParameters()) tensors[n] = { dtype: 'F32', shape: [...t.shape], data: t.data as Float32Array };
        tensors['0.weight'] = { dtype: 'F32', shape: [6, 5], data: new Float32Array(30) };
        return encodeSafetensors(tensors, { format: 'fathom.model/1', 'fathom.architecture': JSON.stringify(m.config()) });
      }, /tensor '0.weight' has shape \[6, 5\], the architecture needs \[5, 6\]/],
      ['a tensor is missing', async () => {
        const m = model();
        const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
        for (const [n, t] of m.namedParameters()) if (n !== '2.bias') tensors[n] = { dtype: 'F32', shape: [...t.shape], data: t.data as Float32Array };
        return encodeSafetensors(tensors, { format: 'fathom.model/1', 'fathom.architecture': JSON.stringify(m.config()) });
      }, /needs tensor '2.bias'/],
      ['hostile architecture', async () => encodeSafetensors({}, { format: 'fathom.model/1', 'fathom.architecture': '{"type":"Evil"}' }), /unknown module type 'Evil'/],
    ];
    for (const [name, make, msg] of cases) {
      it(name, async () => {
        const path = join(dir, `bad-${name.replace(/\W/g, '_')}.safetensors`);
        const bytes = await make();
        await writeFile(path, bytes);
        await expect(load(path)).rejects.toThrow(msg);
        expect(Buffer.compare(await readFile(path), Buffer.from(bytes))).toBe(0);
      });
    }
  });

  it('a failed save never damages the previous file', async () => {
    const path = join(dir, 'keep.safetensors');
    await save(model(), path);
    const before = await readFile(path);
    // Saving into a directory that does not exist fails before touching `path`.
    await expect(save(model(), join(dir, 'missing', 'x.safetensors'))).rejects.toThrow();
    // Saving a non-model fails up front.
    await expect(save({} as unknown as nn.Module, path)).rejects.toThrow(/expected a Module/);
    expect(Buffer.compare(await readFile(path), before)).toBe(0);
  });
});
