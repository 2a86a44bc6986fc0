import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeIdx, parseIdx, readIdx, type IdxArray } from '../../lib/data/idx.js';

/** An IDX file written byte by byte: header, big-endian dims, then raw data bytes. */
function idxBytes(code: number, dims: number[], data: number[]): Uint8Array {
  const head = [0, 0, code, dims.length];
  for (const d of dims) head.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return new Uint8Array([...head, ...data]);
}

describe('parseIdx: hand-made files', () => {
  it('reads uint8, 1-d', () => {
    const r = parseIdx(idxBytes(0x08, [3], [0, 128, 255]));
    expect(r.dtype).toBe('uint8');
    expect(r.shape).toEqual([3]);
    expect(r.data).toBeInstanceOf(Uint8Array);
    expect([...r.data]).toEqual([0, 128, 255]);
  });

  it('reads int8, 2-d', () => {
    const r = parseIdx(idxBytes(0x09, [2, 2], [0x7f, 0x80, 0xff, 0x01]));
    expect(r.dtype).toBe('int8');
    expect(r.shape).toEqual([2, 2]);
    expect([...r.data]).toEqual([127, -128, -1, 1]);
  });

  it('reads big-endian int16', () => {
    const r = parseIdx(idxBytes(0x0b, [2], [0x01, 0x02, 0xff, 0xfe]));
    expect(r.dtype).toBe('int16');
    expect(r.data).toBeInstanceOf(Int16Array);
    expect([...r.data]).toEqual([0x0102, -2]);
  });

  it('reads big-endian int32, 3-d', () => {
    const r = parseIdx(idxBytes(0x0c, [1, 1, 2], [0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xff]));
    expect(r.dtype).toBe('int32');
    expect(r.shape).toEqual([1, 1, 2]);
    expect([...r.data]).toEqual([0x01020304, -1]);
  });

  it('reads big-endian float32', () => {
    // 1.5f = 0x3fc00000, -2f = 0xc0000000
    const r = parseIdx(idxBytes(0x0d, [2], [0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0]));
    expect(r.dtype).toBe('float32');
    expect(r.data).toBeInstanceOf(Float32Array);
    expect([...r.data]).toEqual([1.5, -2]);
  });

  it('reads big-endian float64', () => {
    // 0.1 = 0x3fb999999999999a
    const r = parseIdx(idxBytes(0x0e, [1], [0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a]));
    expect(r.dtype).toBe('float64');
    expect(r.data).toBeInstanceOf(Float64Array);
    expect(r.data[0]).toBe(0.1);
  });

  it('reads a dimension of size 0 as an empty array', () => {
    const r = parseIdx(idxBytes(0x0c, [0, 5], []));
    expect(r.shape).toEqual([0, 5]);
    expect(r.data.length).toBe(0);
  });

  it('copies the data: the result does not alias the input buffer', () => {
    const buf = idxBytes(0x08, [2], [7, 8]);
    const r = parseIdx(buf);
    buf[8] = 99;
    expect([...r.data]).toEqual([7, 8]);
  });

  it('reads from a subarray with a non-zero byte offset', () => {
    const inner = idxBytes(0x0c, [1], [0, 0, 1, 0]);
    const outer = new Uint8Array(inner.length + 3);
    outer.set(inner, 3);
    expect([...parseIdx(outer.subarray(3)).data]).toEqual([256]);
  });
});

describe('encodeIdx round trips', () => {
  const cases: IdxArray[] = [
    { dtype: 'uint8', shape: [4], data: new Uint8Array([0, 1, 254, 255]) },
    { dtype: 'int8', shape: [2, 2], data: new Int8Array([-128, -1, 0, 127]) },
    { dtype: 'int16', shape: [3, 1], data: new Int16Array([-32768, 0, 32767]) },
    { dtype: 'int32', shape: [2, 1, 2], data: new Int32Array([-2147483648, -1, 0, 2147483647]) },
    { dtype: 'float32', shape: [2, 3], data: new Float32Array([0, -0, 1.5, -Infinity, Infinity, 3.25]) },
    { dtype: 'float64', shape: [1, 2, 2], data: new Float64Array([Math.PI, -Math.E, 1e-300, 1e300]) },
  ];
  for (const c of cases) {
    it(`${c.dtype} [${c.shape.join(', ')}]`, () => {
      const r = parseIdx(encodeIdx(c));
      expect(r.dtype).toBe(c.dtype);
      expect(r.shape).toEqual(c.shape);
      expect(r.data).toEqual(c.data);
    });
  }

  it('encodes exactly the bytes the format specifies', () => {
    const bytes = encodeIdx({ dtype: 'int16', shape: [2], data: new Int16Array([1, -1]) });
    expect([...bytes]).toEqual([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x00, 0x01, 0xff, 0xff]);
  });

  it('refuses data whose length does not match the shape', () => {
    expect(() => encodeIdx({ dtype: 'uint8', shape: [3], data: new Uint8Array(2) })).toThrow(/expected 3 items/);
  });
});

describe('parseIdx: corrupt files are refused with the file named', () => {
  it('file shorter than the magic', () => {
    expect(() => parseIdx(new Uint8Array([0, 0]), 'a.idx')).toThrow(
      'idx: a.idx: expected at least 4 header bytes, got a 2-byte file',
    );
  });

  it('bad magic (non-zero leading bytes)', () => {
    expect(() => parseIdx(new Uint8Array([1, 0, 8, 1, 0, 0, 0, 0]), 'b.idx')).toThrow(
      /^fathom.data.idx: b\.idx: expected magic starting with two zero bytes, got 0x01 0x00$/,
    );
  });

  it('gzip-compressed file gets a hint', () => {
    expect(() => parseIdx(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0]), 'c.gz')).toThrow(/gzip/);
  });

  it('unknown type code', () => {
    expect(() => parseIdx(idxBytes(0x0a, [1], [0]), 'd.idx')).toThrow(
      /^fathom.data.idx: d\.idx: expected type code .* got unknown type code 0x0a$/,
    );
  });

  it('zero dimension count', () => {
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 0]), 'e.idx')).toThrow(
      'idx: e.idx: expected at least 1 dimension, got a dimension count of 0',
    );
  });

  it('header cut off inside the dimensions', () => {
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 2, 0, 0, 0, 1, 0, 0]), 'f.idx')).toThrow(
      'idx: f.idx: expected 12 header bytes for 2 dimensions, got a 10-byte file',
    );
  });

  it('truncated data', () => {
    expect(() => parseIdx(idxBytes(0x0c, [2, 2], new Array(15).fill(0)), 'g.idx')).toThrow(
      'idx: g.idx: expected 16 data bytes for shape [2, 2] of int32, got 15 (truncated)',
    );
  });

  it('trailing bytes', () => {
    expect(() => parseIdx(idxBytes(0x08, [3], [1, 2, 3, 4]), 'h.idx')).toThrow(
      'idx: h.idx: expected 3 data bytes for shape [3] of uint8, got 4 (trailing bytes)',
    );
  });

  it('huge dimensions do not overflow into a false match', () => {
    // 2^32-1 × 2^32-1 × ... would wrap in 32-bit or lose precision in float64.
    const dims = new Array(8).fill(0xffffffff);
    expect(() => parseIdx(idxBytes(0x08, dims, [1]), 'i.idx')).toThrow(/^fathom.data.idx: i\.idx: expected \d+ data bytes .* got 1 \(truncated\)$/);
  });

  it('uses a placeholder name when none is given', () => {
    expect(() => parseIdx(new Uint8Array(0))).toThrow(/^fathom.data.idx: <buffer>: /);
  });
});

describe('readIdx', () => {
  it('reads a file and names it in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-idx-'));
    try {
      const good = join(dir, 'good.idx');
      await writeFile(good, idxBytes(0x08, [2], [5, 6]));
      const r = await readIdx(good);
      expect([...r.data]).toEqual([5, 6]);
      const bad = join(dir, 'bad.idx');
      await writeFile(bad, idxBytes(0x08, [2], [5]));
      await expect(readIdx(bad)).rejects.toThrow(`idx: ${bad}: expected 2 data bytes`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
