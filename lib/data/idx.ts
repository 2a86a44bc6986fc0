/**
 * The IDX format (Yann LeCun's MNIST files), parsed strictly.
 *
 * Layout, all integers big-endian:
 *   bytes 0-1   zero
 *   byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
 *   byte  3     number of dimensions D (at least 1)
 *   D × uint32  the dimensions, outermost first
 *   data        product(dims) items, row-major, big-endian
 *
 * Every malformed file is refused with `idx: <name>: expected ... got ...`;
 * nothing is guessed, and trailing bytes are as wrong as missing ones.
 * The returned data is a fresh copy: it never aliases the input buffer.
 */

import { dirname } from 'node:path';
import { readRegularFile, type Fail } from '../io/files.js';
import { toPath, type FilePath } from '../io/paths.js';

export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** A parsed IDX file: the dtype tells which typed array `data` is. */
export type IdxArray =
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array }
  | { dtype: 'int8'; shape: number[]; data: Int8Array }
  | { dtype: 'int16'; shape: number[]; data: Int16Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'float64'; shape: number[]; data: Float64Array };

interface IdxType {
  dtype: IdxDtype;
  size: number;
}

/** Type code → dtype and item size in bytes. */
export const IDX_TYPES: ReadonlyMap<number, IdxType> = new Map([
  [0x08, { dtype: 'uint8', size: 1 }],
  [0x09, { dtype: 'int8', size: 1 }],
  [0x0b, { dtype: 'int16', size: 2 }],
  [0x0c, { dtype: 'int32', size: 4 }],
  [0x0d, { dtype: 'float32', size: 4 }],
  [0x0e, { dtype: 'float64', size: 8 }],
]);

const hex = (b: number): string => '0x' + b.toString(16).padStart(2, '0');

/** Parses an IDX file held in `buf`; `name` (a path, usually) appears in every error. */
export function parseIdx(buf: Uint8Array, name = '<buffer>'): IdxArray {
  const fail = (msg: string): never => {
    throw new Error(`fathom.data.idx: ${name}: ${msg}`);
  };
  if (!(buf instanceof Uint8Array)) throw new Error(`fathom.data.parseIdx: expected the file's bytes as a Uint8Array (or Buffer), got ${buf === null ? 'null' : Array.isArray(buf) ? 'an Array' : typeof buf}`);
  if (buf.length < 4) fail(`expected at least 4 header bytes, got a ${buf.length}-byte file`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    const gz = buf[0] === 0x1f && buf[1] === 0x8b ? ' (this looks gzip-compressed: gunzip it first)' : '';
    fail(`expected magic starting with two zero bytes, got ${hex(buf[0]!)} ${hex(buf[1]!)}${gz}`);
  }
  const code = buf[2]!;
  const type = IDX_TYPES.get(code) ?? fail(
    `expected type code 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e, got unknown type code ${hex(code)}`,
  );
  const ndim = buf[3]!;
  if (ndim === 0) fail('expected at least 1 dimension, got a dimension count of 0');
  const dataStart = 4 + 4 * ndim;
  if (buf.length < dataStart) {
    fail(`expected ${dataStart} header bytes for ${ndim} dimensions, got a ${buf.length}-byte file`);
  }

  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const shape: number[] = [];
  let count = 1n; // BigInt: 255 dims of 2^32 - 1 must not overflow silently
  for (let d = 0; d < ndim; d++) {
    const dim = view.getUint32(4 + 4 * d, false);
    shape.push(dim);
    count *= BigInt(dim);
  }
  const expected = count * BigInt(type.size);
  const got = BigInt(buf.length - dataStart);
  if (expected !== got) {
    const what = got < expected ? 'truncated' : 'trailing bytes';
    fail(
      `expected ${expected} data bytes for shape [${shape.join(', ')}] of ${type.dtype}, ` +
        `got ${got} (${what})`,
    );
  }
  const n = Number(count);
  return { dtype: type.dtype, shape, data: readBigEndian(type.dtype, view, dataStart, n) } as IdxArray;
}

function readBigEndian(dtype: IdxDtype, view: DataView, at: number, n: number): IdxArray['data'] {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + n));
    case 'int8':
      return new Int8Array(view.buffer.slice(view.byteOffset + at, view.byteOffset + at + n));
    case 'int16': {
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(at + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(at + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(at + 8 * i, false);
      return out;
    }
  }
}

/**
 * Reads and parses an IDX file (uncompressed) from `path` (a string or a
 * file: URL). Errors start `idx: <path>: `. Refuses anything but a regular
 * file (a FIFO or /dev/zero would never end) and reads at most the size the
 * file has when opened.
 */
export async function readIdx(path: FilePath): Promise<IdxArray> {
  const p = toPath(path, 'fathom.data.readIdx');
  return parseIdx(await readIdxBytes(p), p);
}

/** The bytes of the IDX file at `path`, read as readIdx describes. */
export async function readIdxBytes(path: string): Promise<Uint8Array> {
  const fail: Fail = (msg, cause) => {
    throw new Error(`fathom.data.idx: ${path}: ${msg}`, cause === undefined ? undefined : { cause });
  };
  return readRegularFile(path, dirname(path), fail);
}

/**
 * Builds an IDX file: the inverse of `parseIdx`, for tests and for writing
 * small data sets. `data.length` must equal the product of `shape`.
 */
export function encodeIdx(arr: IdxArray): Uint8Array {
  if (arr === null || typeof arr !== 'object' || !Array.isArray(arr.shape) || !ArrayBuffer.isView(arr.data)) {
    throw new Error(`fathom.data.encodeIdx: expected { dtype, shape: number[], data: a typed array }, got ${arr === null ? 'null' : typeof arr}`);
  }
  const found = [...IDX_TYPES].find(([, t]) => t.dtype === arr.dtype);
  if (!found) throw new Error(`fathom.data.encodeIdx: dtype must be one of ${[...IDX_TYPES.values()].map((t) => t.dtype).join(', ')}, got ${String(arr.dtype)}`);
  const code = found[0];
  const size = IDX_TYPES.get(code)!.size;
  const n = arr.shape.reduce((a, b) => a * b, 1);
  if (arr.shape.length < 1 || arr.shape.length > 255) {
    throw new RangeError(`fathom.data.encodeIdx: expected 1 to 255 dimensions, got ${arr.shape.length}`);
  }
  for (const d of arr.shape) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw new RangeError(`fathom.data.encodeIdx: expected dimensions that are uint32 integers, got ${d}`);
    }
  }
  if (n !== arr.data.length) {
    throw new RangeError(`fathom.data.encodeIdx: expected ${n} items for shape [${arr.shape.join(', ')}], got ${arr.data.length}`);
  }
  const start = 4 + 4 * arr.shape.length;
  const out = new Uint8Array(start + n * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = arr.shape.length;
  arr.shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < n; i++) {
    const v = arr.data[i]!;
    const at = start + i * size;
    switch (arr.dtype) {
      case 'uint8': view.setUint8(at, v); break;
      case 'int8': view.setInt8(at, v); break;
      case 'int16': view.setInt16(at, v, false); break;
      case 'int32': view.setInt32(at, v, false); break;
      case 'float32': view.setFloat32(at, v, false); break;
      case 'float64': view.setFloat64(at, v, false); break;
    }
  }
  return out;
}
