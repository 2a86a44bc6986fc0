import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../lib/io/atomic.js';
import {
  decodeSafetensors, encodeSafetensors, loadSafetensors, readLE, saveSafetensors, writeLE, type SafeTensor,
} from '../../lib/io/safetensors.js';

const enc = new TextEncoder();

/** A file built by hand: u64 LE header length, the header text as given, then the data bytes. */
function file(header: string | object | Uint8Array, data: number[] | Uint8Array = [], lenOverride?: bigint): Uint8Array {
  const json = header instanceof Uint8Array ? header : enc.encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lenOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const f32 = (shape: number[], values: number[]): SafeTensor => ({ dtype: 'F32', shape, data: new Float32Array(values) });
const i32 = (shape: number[], values: number[]): SafeTensor => ({ dtype: 'I32', shape, data: new Int32Array(values) });

describe('safetensors: round trip', () => {
  it('F32 and I32 tensors, a 0-d scalar, an empty tensor and metadata', () => {
    const tensors: Record<string, SafeTensor> = {
      'w': f32([2, 3], [1, -2, 3.5, -0, Infinity, NaN]),
      'b': f32([3], [0.1, 0.2, 0.3]),
      'steps': i32([], [42]),
      'empty': f32([0, 4], []),
      'idx': i32([2, 1, 2], [-2147483648, -1, 0, 2147483647]),
    };
    const meta = { format: 'fathom', epoch: '3' };
    const out = decodeSafetensors(encodeSafetensors(tensors, meta));
    expect(Object.keys(out.tensors).sort()).toEqual(['b', 'empty', 'idx', 'steps', 'w']);
    for (const [name, t] of Object.entries(tensors)) {
      const got = out.tensors[name]!;
      expect(got.dtype).toBe(t.dtype);
      expect(got.shape).toEqual(t.shape);
      expect(got.data.constructor).toBe(t.data.constructor);
      expect(got.data).toEqual(t.data);
    }
    expect(Object.is(out.tensors.w!.data[3], -0)).toBe(true);
    expect({ ...out.metadata }).toEqual(meta);
  });

  it('no metadata decodes to an empty metadata map', () => {
    const out = decodeSafetensors(encodeSafetensors({ x: f32([1], [1]) }));
    expect(Object.keys(out.metadata)).toEqual([]);
  });

  it('is deterministic and independent of insertion order', () => {
    const a = encodeSafetensors({ b: f32([1], [1]), a: i32([1], [2]) }, { k: 'v' });
    const b = encodeSafetensors({ a: i32([1], [2]), b: f32([1], [1]) }, { k: 'v' });
    expect(b).toEqual(a);
  });

  it('decoded tensors are fresh aligned arrays, not views into the file', () => {
    const bytes = encodeSafetensors({ a: f32([2], [1, 2]) });
    const shifted = new Uint8Array(bytes.length + 1); // make the data deliberately misaligned
    shifted.set(bytes, 1);
    const out = decodeSafetensors(shifted.subarray(1));
    const t = out.tensors.a!;
    expect(t.data.byteOffset).toBe(0);
    expect(t.data.buffer).not.toBe(shifted.buffer);
    shifted.fill(0);
    expect([...t.data]).toEqual([1, 2]);
  });

  it('encode refuses mismatched data, bad dtype and the reserved name', () => {
    expect(() => encodeSafetensors({ a: f32([2, 2], [1, 2, 3]) })).toThrow(/expected 4 elements for shape \[2, 2\], got 3/);
    expect(() => encodeSafetensors({ a: { dtype: 'F32', shape: [1], data: new Int32Array(1) } as never })).toThrow(/Float32Array/);
    expect(() => encodeSafetensors({ a: f32([-1], []) })).toThrow(/non-negative integers/);
    expect(() => encodeSafetensors({ __metadata__: f32([1], [1]) })).toThrow(/reserved/);
    expect(() => encodeSafetensors({}, { k: 1 as never })).toThrow(/metadata values to be strings/);
  });
});

describe('safetensors: bytes as the spec lays them out', () => {
  it('decodes a file built by hand: {"a": F32 [2]}', () => {
    const data = new Uint8Array(8);
    new DataView(data.buffer).setFloat32(0, 1.5, true);
    new DataView(data.buffer).setFloat32(4, -3, true);
    const buf = file('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   ', data);
    const out = decodeSafetensors(buf);
    expect(out.tensors.a).toEqual({ dtype: 'F32', shape: [2], data: new Float32Array([1.5, -3]) });
  });

  it('encode: header length = JSON padded with spaces to a multiple of 8, then the LE data', () => {
    const bytes = encodeSafetensors({ a: f32([2], [1.5, -3]) });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = Number(view.getBigUint64(0, true));
    const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    expect(n).toBe(Math.ceil(json.length / 8) * 8);
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text).toBe(json + ' '.repeat(n - json.length));
    expect(bytes.length).toBe(8 + n + 8);
    expect(view.getFloat32(8 + n, true)).toBe(1.5);
    expect(view.getFloat32(8 + n + 4, true)).toBe(-3);
  });

  it('encode: __metadata__ first, tensors sorted by name, contiguous offsets', () => {
    const bytes = encodeSafetensors({ z: i32([1], [7]), a: f32([2], [0, 0]), m: f32([0], []) }, { note: 'x' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(Object.keys(header)).toEqual(['__metadata__', 'a', 'm', 'z']);
    expect(header.a.data_offsets).toEqual([0, 8]);
    expect(header.m.data_offsets).toEqual([8, 8]);
    expect(header.z.data_offsets).toEqual([8, 12]);
  });

  it('the big-endian-host path reads and writes the same little-endian bytes', () => {
    const src = new Float32Array([1.5, -0, NaN, 3e38]);
    const fast = new Uint8Array(16);
    const slow = new Uint8Array(16);
    writeLE(fast, 0, src, true);
    writeLE(slow, 0, src, false);
    expect(slow).toEqual(fast);
    expect(readLE(fast, 0, 'F32', 4, false)).toEqual(src);
    const ints = new Int32Array([1, -1, 0x01020304]);
    const b = new Uint8Array(12);
    writeLE(b, 0, ints, false);
    expect([...b.subarray(8)]).toEqual([4, 3, 2, 1]);
    expect(readLE(b, 0, 'I32', 3, false)).toEqual(ints);
  });
});

describe('safetensors: corrupt and hostile files are refused', () => {
  const T = (extra: object = {}) => ({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, ...extra });
  const bad = (buf: Uint8Array) => () => decodeSafetensors(buf, 'm.st');

  it('file shorter than 8 bytes', () => {
    expect(bad(new Uint8Array(5))).toThrow('safetensors: m.st: not a safetensors file: expected at least 8 bytes (the header length), got a 5-byte file');
  });
  it('header length past the end of the file', () => {
    expect(bad(file(T(), new Uint8Array(8), 1000n))).toThrow(/^safetensors: m\.st: not a safetensors file, or a truncated one: its first 8 bytes give a header length of 1000 bytes, but only \d+ bytes follow them$/);
  });
  it('absurdly large header length', () => {
    expect(bad(file(T(), [], 2n ** 63n))).toThrow(/^safetensors: m\.st: not a safetensors file: its first 8 bytes give a header length of 9223372036854775808 bytes, more than the 100000000 allowed$/);
  });
  it('header not valid UTF-8', () => {
    expect(bad(file(new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])))).toThrow('safetensors: m.st: not a safetensors file: expected the header to be UTF-8 JSON, got invalid UTF-8');
  });
  it('header not JSON', () => {
    expect(bad(file('{"a": oops}'))).toThrow(/^safetensors: m\.st: expected the header to be valid JSON, got a parse error/);
  });
  it('header not an object', () => {
    expect(bad(file('[1, 2]'))).toThrow(/^safetensors: m\.st: not a safetensors file: expected the header to be a JSON object starting with '\{', got "\[1, 2\]"/);
  });
  it('empty header', () => {
    expect(bad(file(''))).toThrow(/expected the header to be a JSON object/);
  });
  it('__metadata__ not an object', () => {
    expect(bad(file(T({ __metadata__: ['x'] }), new Uint8Array(8)))).toThrow('safetensors: m.st: expected "__metadata__" to be an object of strings, got ["x"]');
  });
  it('__metadata__ with a non-string value', () => {
    expect(bad(file(T({ __metadata__: { epoch: 3 } }), new Uint8Array(8)))).toThrow('safetensors: m.st: expected "__metadata__" to map strings to strings, got 3 for key "epoch"');
  });
  it('tensor info not an object', () => {
    expect(bad(file({ a: 5 }))).toThrow(/^safetensors: m\.st: expected tensor "a" to be an object with dtype, shape and data_offsets, got 5$/);
  });
  it('known dtypes fathom cannot hold (U8, BOOL, I8, U64, C64, F8_E4M3); F16, BF16, F64 and I64 are read (safetensors-dtypes.test.ts)', () => {
    for (const dt of ['U8', 'BOOL', 'I8', 'U64', 'C64', 'F8_E4M3']) {
      const buf = file({ a: { dtype: dt, shape: [4], data_offsets: [0, 8] } }, new Uint8Array(8));
      expect(bad(buf)).toThrow(`safetensors: m.st: expected tensor "a" to have dtype F32, I32, F16, BF16, F64 or I64, got unsupported dtype "${dt}" (fathom holds float32 and int32 tensors)`);
    }
  });
  it('unknown dtype', () => {
    expect(bad(file({ a: { dtype: 'Q4_K', shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)))).toThrow(/got unsupported dtype "Q4_K" \(not a safetensors dtype\)/);
    expect(bad(file({ a: { shape: [2], data_offsets: [0, 8] } }, new Uint8Array(8)))).toThrow(/got unsupported dtype undefined/);
  });
  it('shape not an array of non-negative safe integers', () => {
    for (const shape of ['2', [-1], [1.5], [2 ** 53], [null], ['2']]) {
      const buf = file({ a: { dtype: 'F32', shape, data_offsets: [0, 8] } }, new Uint8Array(8));
      expect(bad(buf)).toThrow(/^safetensors: m\.st: expected tensor "a" to have a shape that is an array of non-negative integers, got /);
    }
  });
  it('data_offsets malformed or out of range', () => {
    for (const offs of [[0], [0, 8, 8], '0,8', [0, 8.5], [-8, 0], [8, 0], [0, 16], [0, 2 ** 60]]) {
      const buf = file({ a: { dtype: 'F32', shape: [2], data_offsets: offs } }, new Uint8Array(8));
      expect(bad(buf)).toThrow(/^safetensors: m\.st: expected tensor "a" to have data_offsets \[begin, end\] with 0 <= begin <= end <= 8 \(the data length\), got /);
    }
  });
  it('byte span does not match shape × item size', () => {
    expect(bad(file({ a: { dtype: 'I32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)))).toThrow('safetensors: m.st: expected tensor "a" (I32 [3]) to span 12 bytes, got data_offsets [0, 8] spanning 8');
  });
  it('a shape whose element count overflows float64 is still caught', () => {
    const shape = [2 ** 52, 2 ** 52, 0x100000];
    expect(bad(file({ a: { dtype: 'F32', shape, data_offsets: [0, 8] } }, new Uint8Array(8)))).toThrow(/to span \d{30,} bytes/);
  });
  it('overlapping tensors (the aliasing attack)', () => {
    const h = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } };
    expect(bad(file(h, new Uint8Array(12)))).toThrow('safetensors: m.st: expected tensor byte ranges not to overlap, got "a" [0, 8] overlapping "b" [4, 12]');
  });
  it('two tensors on the same bytes', () => {
    const h = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'I32', shape: [2], data_offsets: [0, 8] } };
    expect(bad(file(h, new Uint8Array(8)))).toThrow(/not to overlap/);
  });
  it('a gap between tensors', () => {
    const h = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } };
    expect(bad(file(h, new Uint8Array(12)))).toThrow('safetensors: m.st: expected the tensors to cover the data buffer without gaps, got unused bytes [4, 8) before "b"');
  });
  it('unused trailing bytes', () => {
    expect(bad(file(T(), new Uint8Array(12)))).toThrow('safetensors: m.st: expected the tensors to cover all 12 data bytes, got 4 unused trailing bytes after offset 8');
  });
  it('data but no tensors', () => {
    expect(bad(file({}, new Uint8Array(4)))).toThrow(/got 4 unused trailing bytes after offset 0/);
  });
  it('a tensor named __proto__ does not pollute prototypes', () => {
    const buf = file('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":{"__proto__":"x"}}', new Uint8Array(4));
    const out = decodeSafetensors(buf);
    expect(Object.keys(out.tensors)).toEqual(['__proto__']);
    expect(out.tensors['__proto__']!.shape).toEqual([1]);
    expect(out.metadata['__proto__']).toBe('x');
    expect(({} as Record<string, unknown>).dtype).toBeUndefined();
    expect(Object.getPrototypeOf(out.tensors)).toBeNull();
  });
});

describe('safetensors files: atomic save, read-only load', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'fathom-st-')); });
  afterEach(async () => { await chmod(dir, 0o755).catch(() => {}); await rm(dir, { recursive: true, force: true }); });

  const model = { w: f32([2, 2], [1, 2, 3, 4]), step: i32([], [9]) };

  it('saves and loads', async () => {
    const p = join(dir, 'model.safetensors');
    await saveSafetensors(p, model, { kind: 'mlp' });
    const out = await loadSafetensors(p);
    expect(out.tensors.w).toEqual(model.w);
    expect(out.tensors.step).toEqual(model.step);
    expect(out.metadata.kind).toBe('mlp');
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  it('a save that fails part way leaves the old file byte-identical and no temp files', async () => {
    const p = join(dir, 'model.safetensors');
    await saveSafetensors(p, model);
    const before = await readFile(p);
    const failingWrite = async (fh: import('node:fs/promises').FileHandle, data: Uint8Array) => {
      await fh.write(data, 0, data.length >> 1); // half the bytes reach the temp file, then the disk "fills"
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    };
    const bigger = { ...model, extra: f32([1000], new Array(1000).fill(7)) };
    await expect(saveSafetensors(p, bigger, {}, { write: failingWrite })).rejects.toThrow('ENOSPC');
    expect(await readFile(p)).toEqual(before);
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  it('an encode error touches nothing', async () => {
    const p = join(dir, 'model.safetensors');
    await saveSafetensors(p, model);
    const before = await readFile(p);
    await expect(saveSafetensors(p, { bad: f32([3], [1]) })).rejects.toThrow(/expected 3 elements/);
    expect(await readFile(p)).toEqual(before);
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  it('a read-only directory fails the save and keeps the old file (skipped as root)', async (ctx) => {
    if (process.getuid?.() === 0 || process.platform === 'win32') ctx.skip();
    const p = join(dir, 'model.safetensors');
    await saveSafetensors(p, model);
    const before = await readFile(p);
    await chmod(dir, 0o555);
    await expect(saveSafetensors(p, { w: f32([1], [0]) })).rejects.toThrow(/EACCES|EPERM/);
    await chmod(dir, 0o755);
    expect(await readFile(p)).toEqual(before);
    expect(await readdir(dir)).toEqual(['model.safetensors']);
  });

  it('a failed rename (target is a non-empty directory) removes the temp file', async () => {
    const p = join(dir, 'taken');
    await writeFile(join(dir, 'keep'), 'x');
    await mkdir(p);
    await writeFile(join(p, 'inside'), 'y');
    await expect(saveSafetensors(p, model)).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['keep', 'taken']);
    expect(await readdir(p)).toEqual(['inside']);
  });

  it('writeFileAtomic replaces an existing file whole', async () => {
    const p = join(dir, 'f.bin');
    await writeFile(p, 'old contents that are longer');
    await writeFileAtomic(p, enc.encode('new'));
    expect(await readFile(p, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['f.bin']);
  });

  it('loading a truncated copy throws and does not modify it', async () => {
    const good = join(dir, 'model.safetensors');
    await saveSafetensors(good, model);
    const bytes = await readFile(good);
    const cut = join(dir, 'cut.safetensors');
    await writeFile(cut, bytes.subarray(0, bytes.length - 3));
    const before = await readFile(cut);
    const mtime = (await stat(cut)).mtimeMs;
    await expect(loadSafetensors(cut)).rejects.toThrow(`safetensors: ${cut}: expected tensor`);
    expect(await readFile(cut)).toEqual(before);
    expect((await stat(cut)).mtimeMs).toBe(mtime);
    expect((await readdir(dir)).sort()).toEqual(['cut.safetensors', 'model.safetensors']);
  });
});
