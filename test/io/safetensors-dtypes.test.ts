/**
 * The dtypes the safetensors reader converts (lib/io/safetensors.ts): F16, BF16 and F64 to
 * float32, I64 to int32, with the byte spans, bounds and refusals of each; PyTorch's own
 * conversions of the same values are checked in test/nn/torch-cnn.test.ts.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeItems, decodeSafetensors, loadSafetensors } from '../../lib/io/safetensors.js';

const enc = new TextEncoder();

/** A file built by hand: u64 LE header length, the JSON header, then the data bytes. */
function file(header: object, data: Uint8Array): Uint8Array {
  const json = enc.encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Little-endian bytes of int64 values. */
function i64(values: bigint[]): Uint8Array {
  const b = new Uint8Array(8 * values.length);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setBigInt64(8 * i, x, true));
  return b;
}
function f64(values: number[]): Uint8Array {
  const b = new Uint8Array(8 * values.length);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setFloat64(8 * i, x, true));
  return b;
}
function u16(values: number[]): Uint8Array {
  const b = new Uint8Array(2 * values.length);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setUint16(2 * i, x, true));
  return b;
}

const one = (dtype: string, shape: number[], data: Uint8Array) => file({ t: { dtype, shape, data_offsets: [0, data.length] } }, data);
const fail = (msg: string): never => { throw new Error(msg); };

describe('safetensors: I64 → int32', () => {
  it('reads int64 values that fit, as an I32 tensor; a 0-d one (num_batches_tracked)', () => {
    const vals = [0n, 1n, -1n, 6n, 2147483647n, -2147483648n];
    const out = decodeSafetensors(one('I64', [2, 3], i64(vals)));
    expect(out.tensors.t).toEqual({ dtype: 'I32', shape: [2, 3], data: new Int32Array(vals.map(Number)) });
    const nbt = decodeSafetensors(one('I64', [], i64([6n])));
    expect(nbt.tensors.t).toEqual({ dtype: 'I32', shape: [], data: new Int32Array([6]) });
  });

  it('refuses a value outside int32, naming the tensor, dtype, shape, index and value', () => {
    for (const [v, shown] of [[2n ** 31n, '2147483648'], [-(2n ** 31n) - 1n, '-2147483649'], [2n ** 32n, '4294967296'], [-(2n ** 63n), '-9223372036854775808'], [2n ** 63n - 1n, '9223372036854775807']] as const) {
      expect(() => decodeSafetensors(one('I64', [3], i64([5n, v, 7n])), 'm.st')).toThrow(
        `safetensors: m.st: tensor "t" (I64 [3]) holds ${shown} at index 1, outside int32 [-2147483648, 2147483647]: fathom stores integer tensors as int32`,
      );
    }
  });

  it('the byte span is 8 per item: a span of 4 per item (an I32-sized one) is refused before any data is read', () => {
    const data = new Uint8Array(12);
    expect(() => decodeSafetensors(file({ t: { dtype: 'I64', shape: [3], data_offsets: [0, 12] } }, data), 'm.st')).toThrow(
      'safetensors: m.st: expected tensor "t" (I64 [3]) to span 24 bytes, got data_offsets [0, 12] spanning 12',
    );
    // offsets past the data, and a span that is not a multiple of the item size
    expect(() => decodeSafetensors(file({ t: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, new Uint8Array(12)), 'm.st')).toThrow(/data_offsets \[begin, end\] with 0 <= begin <= end <= 12/);
    expect(() => decodeSafetensors(file({ t: { dtype: 'I64', shape: [1], data_offsets: [0, 12] } }, new Uint8Array(12)), 'm.st')).toThrow(/to span 8 bytes, got data_offsets \[0, 12\] spanning 12/);
  });

  it('mixed dtypes tile the buffer by their own sizes, in any order', () => {
    const a = i64([3n, -4n]);
    const b = new Uint8Array(new Float32Array([1.5]).buffer);
    const c = u16([0x3c00]); // F16 1
    const data = new Uint8Array([...a, ...b, ...c]);
    const h = {
      b: { dtype: 'F32', shape: [1], data_offsets: [16, 20] },
      a: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
      c: { dtype: 'F16', shape: [1], data_offsets: [20, 22] },
    };
    const out = decodeSafetensors(file(h, data));
    expect([...out.tensors.a!.data]).toEqual([3, -4]);
    expect([...out.tensors.b!.data]).toEqual([1.5]);
    expect([...out.tensors.c!.data]).toEqual([1]);
    // an I64 tensor overlapping its neighbour is caught with sizes counted in 8s
    const bad = { ...h, a: { dtype: 'I64', shape: [2], data_offsets: [4, 20] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, c: { dtype: 'F16', shape: [1], data_offsets: [18, 20] } };
    expect(() => decodeSafetensors(file(bad, data.subarray(0, 20)))).toThrow(/not to overlap/);
  });
});

describe('safetensors: F16, BF16 and F64 → float32', () => {
  it('F16: normals, subnormals, ±0, ±Inf, NaN, the largest and smallest, exactly', () => {
    const bits = [0x3c00, 0xc000, 0x3555, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00];
    const want = [1, -2, 0.333251953125, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, 0, -0, Infinity, -Infinity, NaN];
    const out = decodeSafetensors(one('F16', [bits.length], u16(bits))).tensors.t!;
    expect(out.dtype).toBe('F32');
    expect(out.data).toBeInstanceOf(Float32Array);
    expect([...out.data]).toEqual(want);
    expect(Object.is(out.data[8], -0)).toBe(true);
  });

  it('BF16: the top 16 bits of a float32, exactly', () => {
    const f = new Float32Array([1, -2.5, 3.140625, 1.5 * 2 ** 126, -0, Infinity, 2 ** -130]); // all with 8 significant bits
    const top = [...new Uint32Array(f.buffer)].map((b) => b >>> 16);
    const out = decodeSafetensors(one('BF16', [f.length], u16(top))).tensors.t!;
    expect(out.dtype).toBe('F32');
    expect([...out.data]).toEqual([...f]);
    expect(Object.is(out.data[4], -0)).toBe(true);
    const nan = decodeSafetensors(one('BF16', [1], u16([0x7fc0]))).tensors.t!;
    expect(Number.isNaN(nan.data[0])).toBe(true);
  });

  it('F64: rounded to nearest float32; Inf, NaN and a value that rounds to float32 max pass; a finite value beyond is refused', () => {
    const vals = [0.1, -1 / 3, 1e-50, Infinity, NaN, 3.4028235e38, -1e-320];
    const out = decodeSafetensors(one('F64', [vals.length], f64(vals))).tensors.t!;
    expect(out.dtype).toBe('F32');
    expect([...out.data]).toEqual(vals.map(Math.fround));
    expect(() => decodeSafetensors(one('F64', [2], f64([1, 1e39])), 'm.st')).toThrow(
      "safetensors: m.st: tensor \"t\" (F64 [2]) holds 1e+39 at index 1, beyond float32's range (largest 3.4028234663852886e+38): fathom stores floating-point tensors as float32",
    );
    expect(() => decodeSafetensors(one('F64', [1], f64([-1e300])))).toThrow(/holds -1e\+300 at index 0, beyond float32's range/);
  });

  it('byte spans per dtype: F16 and BF16 2 bytes an item, F64 8', () => {
    expect(() => decodeSafetensors(file({ t: { dtype: 'F16', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(16)))).toThrow(/\(F16 \[4\]\) to span 8 bytes/);
    expect(() => decodeSafetensors(file({ t: { dtype: 'BF16', shape: [3], data_offsets: [0, 12] } }, new Uint8Array(12)))).toThrow(/\(BF16 \[3\]\) to span 6 bytes/);
    expect(() => decodeSafetensors(file({ t: { dtype: 'F64', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)))).toThrow(/\(F64 \[1\]\) to span 8 bytes/);
  });

  it('decodeItems gives the same values from an unaligned buffer and on the big-endian-host path', () => {
    const src = new Uint8Array([0, ...f64([0.5, -3]), ...i64([9n, -9n])]);
    expect([...decodeItems(src.subarray(1, 17), 'F64', 't', fail)]).toEqual([0.5, -3]);
    expect([...decodeItems(src.subarray(17), 'I64', 't', fail, false)]).toEqual([9, -9]);
    const f32 = new Uint8Array(new Float32Array([1.25, -7]).buffer);
    expect([...decodeItems(f32, 'F32', 't', fail, false)]).toEqual([1.25, -7]);
  });
});

describe('safetensors files: converted dtypes through loadSafetensors', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'fathom-st-dt-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('reads I64, F16, F64 from a file, reports the file dtypes to check(), and an overflowing I64 refuses the file, unchanged', async () => {
    const data = new Uint8Array([...i64([6n]), ...f64([0.25]), ...u16([0xbc00])]);
    const h = {
      n: { dtype: 'I64', shape: [], data_offsets: [0, 8] },
      w: { dtype: 'F64', shape: [1], data_offsets: [8, 16] },
      h: { dtype: 'F16', shape: [1], data_offsets: [16, 18] },
    };
    const p = join(dir, 'pt.safetensors');
    await writeFile(p, file(h, data));
    let seen: Record<string, string> = {};
    const out = await loadSafetensors(p, { check: (hd) => { seen = Object.fromEntries(Object.entries(hd.tensors).map(([k, v]) => [k, v.dtype])); } });
    expect(seen).toEqual({ n: 'I64', w: 'F64', h: 'F16' });
    expect(out.tensors.n).toEqual({ dtype: 'I32', shape: [], data: new Int32Array([6]) });
    expect(out.tensors.w).toEqual({ dtype: 'F32', shape: [1], data: new Float32Array([0.25]) });
    expect(out.tensors.h).toEqual({ dtype: 'F32', shape: [1], data: new Float32Array([-1]) });

    const q = join(dir, 'big.safetensors');
    await writeFile(q, file({ n: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, i64([1n, 2n ** 40n])));
    const before = await readFile(q);
    await expect(loadSafetensors(q)).rejects.toThrow(`safetensors: ${q}: tensor "n" (I64 [2]) holds 1099511627776 at index 1, outside int32`);
    expect(await readFile(q)).toEqual(before);
    expect((await readdir(dir)).sort()).toEqual(['big.safetensors', 'pt.safetensors']);
  });

  it('a truncated I64 file is refused by the header check, before any data', async () => {
    const p = join(dir, 'cut.safetensors');
    const whole = file({ n: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, i64([1n, 2n]));
    await writeFile(p, whole.subarray(0, whole.length - 4));
    let checked = false;
    await expect(loadSafetensors(p, { check: () => { checked = true; } })).rejects.toThrow(/expected tensor "n" to have data_offsets \[begin, end\] with 0 <= begin <= end <= 12/);
    expect(checked).toBe(false);
  });
});
