/**
 * The safetensors format, as HuggingFace specifies it
 * (https://github.com/huggingface/safetensors):
 *
 *   8 bytes   N, the header length, unsigned little-endian
 *   N bytes   UTF-8 JSON object, starting with '{', padded at the end with spaces:
 *             { "__metadata__": { string: string },             (optional)
 *               "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, ... }
 *   the rest  the byte buffer; offsets are relative to its start; data is
 *             little-endian, row-major; the tensors cover it exactly (no gaps,
 *             no overlaps, no trailing bytes).
 *
 * fathom holds float32 and int32 tensors, and writes F32 and I32. The reader
 * also takes what a PyTorch state_dict commonly holds, converted to those:
 *
 *   F32, I32       as they are
 *   F16, BF16      → F32, exactly (every half and bfloat16 value is a float32)
 *   F64            → F32, rounded to nearest (as PyTorch's load_state_dict
 *                  copies a float64 tensor into a float32 parameter); a finite
 *                  value beyond float32's range is refused, naming the tensor,
 *                  the dtype, the index and the value
 *   I64            → I32 when every value fits in [-2^31, 2^31 - 1] (BatchNorm's
 *                  num_batches_tracked, a step count); any value outside is
 *                  refused the same way
 *
 * Other dtypes (BOOL, U8, I8, I16, U16, U32, U64, C64, the F8/F6/F4 kinds) are
 * refused by name. The header (SafetensorsHeader, the `check` hook) reports
 * each tensor's dtype as the file declares it; decoded tensors (SafeTensor)
 * carry the converted one.
 *
 * The writer orders tensors by name and pads the header to a multiple of 8,
 * so every tensor starts 8-aligned in the file. The reader treats the file as
 * hostile: every number in the header is checked before it is used (byte
 * spans use each dtype's item size), and every failure is an Error starting
 * `safetensors: <source>: ` that says what was expected and what was found.
 * Decoded tensors are fresh typed arrays (never views into the file buffer).
 */

import { dirname } from 'node:path';
import { writeFileAtomic, type WriteFileAtomicOptions } from './atomic.js';
import { checkEndsAt, openRegularFile, readExactly, type Fail } from './files.js';
import { MAX_RANK } from '../tensor/shape.js';

/** The dtypes fathom holds: what the writer writes and what decoded tensors are. */
export type SafetensorsDtype = 'F32' | 'I32';
/** The dtypes the reader accepts in a file (converted to SafetensorsDtype on read). */
export type SafetensorsFileDtype = SafetensorsDtype | 'F16' | 'BF16' | 'F64' | 'I64';

export type SafeTensor =
  | { dtype: 'F32'; shape: number[]; data: Float32Array }
  | { dtype: 'I32'; shape: number[]; data: Int32Array };

export interface SafetensorsFile {
  /** Null-prototype record: a tensor named `__proto__` is just a tensor. */
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** The largest header accepted; the reference implementation uses the same limit. */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * The most tensors a file may declare. JSON.parse builds objects several times
 * the size of their text, so a header of a million tiny entries (59 MB) would
 * take about 1 GB; real models have thousands at most.
 */
export const MAX_TENSORS = 100_000;
/**
 * The most JSON values (objects, arrays, elements) a header may hold: room for
 * MAX_TENSORS entries of about 8 each plus large metadata, far below what
 * would let JSON.parse take many times the file's size.
 */
export const MAX_HEADER_VALUES = 16 * MAX_TENSORS;

const ITEM_SIZE = 4; // both F32 and I32, the dtypes fathom writes and holds

/** Each dtype the reader accepts: its item size in the file, and what it becomes. */
const READ: Record<SafetensorsFileDtype, { size: number; as: SafetensorsDtype }> = {
  F32: { size: 4, as: 'F32' },
  I32: { size: 4, as: 'I32' },
  F16: { size: 2, as: 'F32' },
  BF16: { size: 2, as: 'F32' },
  F64: { size: 8, as: 'F32' },
  I64: { size: 8, as: 'I32' },
};
const isFileDtype = (d: unknown): d is SafetensorsFileDtype => typeof d === 'string' && Object.hasOwn(READ, d);
const ACCEPTED = `${Object.keys(READ).slice(0, -1).join(', ')} or ${Object.keys(READ).at(-1)}`;

/** The dtype a tensor of `fileDtype` is decoded to (F16, BF16, F64 → F32; I64 → I32). */
export function decodedDtype(fileDtype: SafetensorsFileDtype): SafetensorsDtype {
  return READ[fileDtype].as;
}

/** Dtypes the format defines that fathom does not read (a clearer error than "unknown"). */
const OTHER_DTYPES = new Set([
  'BOOL', 'U8', 'I8', 'U16', 'I16', 'U32', 'U64', 'C64',
  'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4',
]);

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
};

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// ---------------------------------------------------------------- encode

/**
 * Serializes `tensors` (and optional string `metadata`) to safetensors bytes.
 * Deterministic: the same input always gives the same bytes.
 */
export function encodeSafetensors(
  tensors: Record<string, SafeTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = Object.create(null);
  if (metadata !== undefined) {
    const meta: Record<string, string> = Object.create(null);
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new TypeError(`safetensors: expected metadata values to be strings, got ${show(v)} for key ${show(k)}`);
      }
      meta[k] = v;
    }
    header.__metadata__ = meta;
  }
  const names = Object.keys(tensors).sort(byCodeUnit);
  // Never write what the reader refuses.
  if (names.length > MAX_TENSORS) throw new Error(`safetensors: expected at most ${MAX_TENSORS} tensors, got ${names.length}`);
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    checkTensor(name, t);
    const end = offset + t.data.length * ITEM_SIZE;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  if (json.length > MAX_HEADER_BYTES) throw new Error(`safetensors: the header would be ${json.length} bytes, more than the ${MAX_HEADER_BYTES} a reader accepts`);
  if (countValues(json) > MAX_HEADER_VALUES) {
    throw new Error(`safetensors: the header would hold more than ${MAX_HEADER_VALUES} JSON values, more than a reader accepts (too many tensors or too much metadata)`);
  }
  const headerLen = Math.ceil(json.length / 8) * 8; // 8 + headerLen is a multiple of 8
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let at = 8 + headerLen;
  for (const name of names) {
    const t = tensors[name]!;
    writeLE(out, at, t.data);
    at += t.data.byteLength;
  }
  return out;
}

/** '{', '[' and ',' bytes: an upper bound on the JSON values a header holds. */
function countValues(bytes: Uint8Array): number {
  let values = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x7b || b === 0x5b || b === 0x2c) values++;
  }
  return values;
}

function checkTensor(name: string, t: SafeTensor): void {
  const where = `safetensors: tensor ${show(name)}`;
  if (name === '__metadata__') throw new TypeError(`safetensors: "__metadata__" is reserved, not a tensor name`);
  if (t.dtype === 'F32' ? !(t.data instanceof Float32Array) : t.dtype === 'I32' ? !(t.data instanceof Int32Array) : true) {
    throw new TypeError(`${where}: expected dtype F32 with a Float32Array or I32 with an Int32Array, got ${show(t.dtype)} with ${t.data?.constructor?.name}`);
  }
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TypeError(`${where}: expected a shape of non-negative integers, got ${show(t.shape)}`);
  }
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n !== t.data.length) {
    throw new RangeError(`${where}: expected ${n} elements for shape [${t.shape.join(', ')}], got ${t.data.length}`);
  }
}

/**
 * Copies `data` into `out` at byte `at`, little-endian.
 * @internal `hostLittleEndian` is a parameter so tests can run the big-endian path.
 */
export function writeLE(out: Uint8Array, at: number, data: Float32Array | Int32Array, hostLittleEndian = HOST_LITTLE_ENDIAN): void {
  if (hostLittleEndian) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    return;
  }
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (data instanceof Float32Array) for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i]!, true);
  else for (let i = 0; i < data.length; i++) view.setInt32(at + 4 * i, data[i]!, true);
}

/**
 * Reads `n` little-endian items of `dtype` from `buf` at byte `at` into a fresh array.
 * @internal `hostLittleEndian` is a parameter so tests can run the big-endian path.
 */
export function readLE(buf: Uint8Array, at: number, dtype: SafetensorsDtype, n: number, hostLittleEndian = HOST_LITTLE_ENDIAN): Float32Array | Int32Array {
  const out = dtype === 'F32' ? new Float32Array(n) : new Int32Array(n);
  if (hostLittleEndian) {
    new Uint8Array(out.buffer).set(buf.subarray(at, at + n * ITEM_SIZE));
    return out;
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (out instanceof Float32Array) for (let i = 0; i < n; i++) out[i] = view.getFloat32(at + 4 * i, true);
  else for (let i = 0; i < n; i++) out[i] = view.getInt32(at + 4 * i, true);
  return out;
}

/** A half-precision (IEEE binary16) bit pattern as a number; exact in float32. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24; // zero and subnormals (keeps -0)
  if (exp === 31) return man === 0 ? sign * Infinity : NaN;
  return sign * (1024 + man) * 2 ** (exp - 25);
}

let HALF_TABLE: Float32Array | undefined;
/** Every half's float32 value (256 KB, built on first use): about 10× faster than computing each (9 → 70-130 M values/s, loaded VM). */
function halfTable(): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToNumber(h);
  }
  return HALF_TABLE;
}

/**
 * Decodes one tensor's bytes, its little-endian items as the file holds them, into a fresh
 * array of fathom's dtype: F32 and I32 as they are, F16 and BF16 exactly to float32, F64
 * rounded to float32, I64 to int32. `fail` is called (naming the tensor by `what`, its
 * dtype, the index and the value) for an I64 value outside int32 or a finite F64 value
 * beyond float32's range.
 * @internal `hostLittleEndian` is a parameter so tests can run the big-endian path.
 */
export function decodeItems(
  bytes: Uint8Array, dtype: SafetensorsFileDtype, what: string, fail: (msg: string) => never, hostLittleEndian = HOST_LITTLE_ENDIAN,
): Float32Array | Int32Array {
  const n = bytes.length / READ[dtype].size;
  if (dtype === 'F32' || dtype === 'I32') return readLE(bytes, 0, dtype, n, hostLittleEndian);
  const out = dtype === 'I64' ? new Int32Array(n) : new Float32Array(n);
  decodeRange(bytes, dtype, out, 0, n, what, fail);
  return out;
}

/** Values converted per step by decodeItemsAsync: about 3-10 ms of work, then the event loop runs. */
export const DECODE_CHUNK = 1024 * 1024;

/**
 * decodeItems for the async readers: converts F16/BF16/F64/I64 in chunks of
 * DECODE_CHUNK values, yielding to the event loop (setImmediate) between
 * chunks, so a 100M-value tensor does not block timers and I/O for a second.
 * Same results and errors as decodeItems.
 */
export async function decodeItemsAsync(
  bytes: Uint8Array, dtype: SafetensorsFileDtype, what: string, fail: (msg: string) => never, hostLittleEndian = HOST_LITTLE_ENDIAN,
): Promise<Float32Array | Int32Array> {
  const n = bytes.length / READ[dtype].size;
  if (dtype === 'F32' || dtype === 'I32') return readLE(bytes, 0, dtype, n, hostLittleEndian);
  const out = dtype === 'I64' ? new Int32Array(n) : new Float32Array(n);
  for (let from = 0; from < n; from += DECODE_CHUNK) {
    if (from > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    decodeRange(bytes, dtype, out, from, Math.min(n, from + DECODE_CHUNK), what, fail);
  }
  return out;
}

/** Converts items [from, to) of `bytes` (little-endian `dtype`) into `out` (Float32Array, or Int32Array for I64). */
function decodeRange(
  bytes: Uint8Array, dtype: Exclude<SafetensorsFileDtype, 'F32' | 'I32'>, out: Float32Array | Int32Array, from: number, to: number,
  what: string, fail: (msg: string) => never,
): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'F16') {
    const table = halfTable();
    for (let i = from; i < to; i++) out[i] = table[view.getUint16(2 * i, true)]!;
    return;
  }
  if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32: shift the bits into place (same-endian views, so any host).
    const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
    for (let i = from; i < to; i++) bits[i] = view.getUint16(2 * i, true) << 16;
    return;
  }
  if (dtype === 'F64') {
    for (let i = from; i < to; i++) {
      const v = view.getFloat64(8 * i, true);
      out[i] = v;
      if (Number.isFinite(v) && !Number.isFinite(out[i])) {
        fail(`${what} holds ${v} at index ${i}, beyond float32's range (largest ${F32_MAX}): fathom stores floating-point tensors as float32`);
      }
    }
    return;
  }
  // I64: the high word must be the sign extension of the low one.
  for (let i = from; i < to; i++) {
    const lo = view.getUint32(8 * i, true);
    const hi = view.getInt32(8 * i + 4, true);
    if (hi !== (lo >= 0x80000000 ? -1 : 0)) {
      fail(`${what} holds ${(BigInt(hi) << 32n) + BigInt(lo)} at index ${i}, outside int32 [-2147483648, 2147483647]: fathom stores integer tensors as int32`);
    }
    out[i] = lo | 0;
  }
}

const F32_MAX = 3.4028234663852886e38;

// ---------------------------------------------------------------- decode

/** One tensor as the header declares it (offsets relative to the data buffer). */
export interface SafetensorsEntry {
  name: string;
  /** As the file declares it. */
  dtype: SafetensorsFileDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** What the header declares, validated against the file's real length; no tensor data yet. */
export interface SafetensorsHeader {
  metadata: Record<string, string>;
  /** Null-prototype record, name → dtype (as the file declares it, before conversion) and shape. */
  tensors: Record<string, { dtype: SafetensorsFileDtype; shape: number[] }>;
}

interface Layout extends SafetensorsHeader {
  entries: SafetensorsEntry[];
}

/**
 * The header length from the first 8 bytes, checked against the file
 * length: a length that cannot be right means the file is not safetensors
 * at all (or is cut short), and the message says so in those words.
 */
function headerLength(first8: Uint8Array, fileLen: number, fail: (msg: string) => never): number {
  if (fileLen < 8) fail(`not a safetensors file: expected at least 8 bytes (the header length), got a ${fileLen}-byte file`);
  const n64 = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) {
    fail(`not a safetensors file: its first 8 bytes give a header length of ${n64} bytes, more than the ${MAX_HEADER_BYTES} allowed`);
  }
  const headerLen = Number(n64);
  if (8 + headerLen > fileLen) {
    fail(`not a safetensors file, or a truncated one: its first 8 bytes give a header length of ${headerLen} bytes, but only ${fileLen - 8} bytes follow them`);
  }
  return headerLen;
}

/** Parses and validates the header; every declared range must lie in `dataLen` bytes and tile them. */
function parseLayout(headerBytes: Uint8Array, dataLen: number, fail: (msg: string) => never): Layout {
  const header = parseHeader(headerBytes, fail);
  const metadata: Record<string, string> = Object.create(null);
  const tensors: SafetensorsHeader['tensors'] = Object.create(null);
  const entries: SafetensorsEntry[] = [];
  const declared = Object.keys(header).length - ('__metadata__' in header ? 1 : 0);
  if (declared > MAX_TENSORS) fail(`expected at most ${MAX_TENSORS} tensors, got ${declared}`);
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) {
        fail(`expected "__metadata__" to be an object of strings, got ${show(info)}`);
      }
      for (const [k, v] of Object.entries(info as object)) {
        if (typeof v !== 'string') fail(`expected "__metadata__" to map strings to strings, got ${show(v)} for key ${show(k)}`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = parseEntry(name, info, dataLen, fail);
    entries.push(e);
    tensors[name] = { dtype: e.dtype, shape: e.shape };
  }
  checkCoverage(entries, dataLen, fail);
  return { metadata, tensors, entries };
}

/** Parses safetensors bytes; `source` (a path, usually) appears in every error. */
export function decodeSafetensors(buf: Uint8Array, source = '<buffer>'): SafetensorsFile {
  const fail = (msg: string): never => {
    throw new Error(`safetensors: ${source}: ${msg}`);
  };
  const headerLen = headerLength(buf, buf.length, fail);
  const dataStart = 8 + headerLen;
  const { metadata, entries } = parseLayout(buf.subarray(8, dataStart), buf.length - dataStart, fail);
  const tensors: Record<string, SafeTensor> = Object.create(null);
  for (const e of entries) {
    const data = decodeItems(buf.subarray(dataStart + e.begin, dataStart + e.end), e.dtype, describeEntry(e), fail);
    tensors[e.name] = { dtype: READ[e.dtype].as, shape: e.shape, data } as SafeTensor;
  }
  return { tensors, metadata };
}

function parseHeader(bytes: Uint8Array, fail: (msg: string) => never): Record<string, unknown> {
  let text = '';
  try {
    // ignoreBOM keeps a BOM in the text, so it is refused below like any stray byte.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    fail('not a safetensors file: expected the header to be UTF-8 JSON, got invalid UTF-8');
  }
  if (!text.startsWith('{')) fail(`not a safetensors file: expected the header to be a JSON object starting with '{', got ${show(text.slice(0, 20))}`);
  // Bound the values JSON.parse would build before it runs: every object, array and element
  // costs a '{', '[' or ','. A header of tens of millions of tiny values ('[[],[],...]', long
  // shape lists) would otherwise take ~25x its size in memory, or overflow the stack when nested.
  // Strings may hold these bytes too, so this over-counts: it is a bound, not a parse.
  const values = countValues(bytes);
  if (values > MAX_HEADER_VALUES) {
    fail(`expected a header of at most ${MAX_HEADER_VALUES} JSON values ('{', '[' and ',' counted), got ${values}`);
  }
  checkStructure(text, fail);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    fail(`expected the header to be valid JSON, got a parse error (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail(`expected the header to be a JSON object, got ${show(header)}`);
  }
  return header as Record<string, unknown>;
}

/**
 * How deep a header's JSON may nest. A safetensors header needs 3 (the header
 * object, a tensor's object, its shape array); the rest is room for extra
 * fields. A 10⁵-deep nest would overflow the stack in whatever walks it.
 */
export const MAX_HEADER_DEPTH = 8;

/**
 * Before JSON.parse: refuses nesting deeper than MAX_HEADER_DEPTH, and a key
 * repeated in one object (JSON.parse keeps the last silently, so a tensor
 * declared twice, F32 then I32 over the same bytes, would be read as the
 * second). Skips string contents; malformed JSON is left to JSON.parse.
 */
function checkStructure(text: string, fail: (msg: string) => never): void {
  const open: (Set<string> | null)[] = []; // per open container: its keys (object) or null (array)
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) j += 2;
        else if (d === 0x22) break;
        else j++;
      }
      if (expectKey) {
        const keys = open[open.length - 1]!;
        let key = text.slice(i, j + 1);
        try {
          key = JSON.parse(key) as string; // "\u0061" and "a" are one key
        } catch {
          // left to JSON.parse to report
        }
        if (keys.has(key)) {
          fail(open.length === 1
            ? `expected each tensor name once in the header, got ${show(key)} twice (JSON would keep only the last)`
            : `expected each key once in an object of the header, got ${show(key)} twice (JSON would keep only the last)`);
        }
        keys.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (open.length >= MAX_HEADER_DEPTH) {
        fail(`expected a header nested at most ${MAX_HEADER_DEPTH} deep (a safetensors header needs 3), got deeper nesting at character ${i} of the header`);
      }
      open.push(c === 0x7b ? new Set() : null);
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      open.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      expectKey = open.length > 0 && open[open.length - 1] !== null;
    } else if (c === 0x3a) {
      expectKey = false;
    }
  }
}

function parseEntry(name: string, info: unknown, dataLen: number, fail: (msg: string) => never): SafetensorsEntry {
  const where = `tensor ${show(name)}`;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) {
    fail(`expected ${where} to be an object with dtype, shape and data_offsets, got ${show(info)}`);
  }
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (!isFileDtype(dtype)) {
    const why = typeof dtype === 'string' && OTHER_DTYPES.has(dtype) ? 'fathom holds float32 and int32 tensors' : 'not a safetensors dtype';
    fail(`expected ${where} to have dtype ${ACCEPTED}, got unsupported dtype ${show(dtype)} (${why})`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`expected ${where} to have a shape that is an array of non-negative integers, got ${show(shape)}`);
  }
  if ((shape as number[]).length > MAX_RANK) {
    fail(`expected ${where} to have at most ${MAX_RANK} dimensions (fathom's limit), got ${(shape as number[]).length}: [${(shape as number[]).join(', ')}]`);
  }
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o)) ||
    !(0 <= offsets[0] && offsets[0] <= offsets[1] && offsets[1] <= dataLen)
  ) {
    fail(`expected ${where} to have data_offsets [begin, end] with 0 <= begin <= end <= ${dataLen} (the data length), got ${show(offsets)}`);
  }
  const dims = (shape as number[]).map((d) => d + 0); // + 0 turns -0 into 0
  const [begin, end] = offsets as [number, number];
  const expected = dims.reduce((a, d) => a * BigInt(d), 1n) * BigInt(READ[dtype].size);
  if (expected !== BigInt(end - begin)) {
    fail(`expected ${where} (${dtype} [${dims.join(', ')}]) to span ${expected} bytes, got data_offsets [${begin}, ${end}] spanning ${end - begin}`);
  }
  return { name, dtype, shape: dims, begin, end };
}

/** How errors about one tensor's values name it: `tensor "n" (I64 [2, 3])`. */
const describeEntry = (e: SafetensorsEntry): string => `tensor ${show(e.name)} (${e.dtype} [${e.shape.join(', ')}])`;

/** The tensors must tile the byte buffer exactly: no overlap, no gap, nothing after. */
function checkCoverage(entries: SafetensorsEntry[], dataLen: number, fail: (msg: string) => never): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: SafetensorsEntry | undefined;
  for (const e of sorted) {
    if (e.begin < pos) {
      fail(`expected tensor byte ranges not to overlap, got ${show(prev!.name)} [${prev!.begin}, ${prev!.end}] overlapping ${show(e.name)} [${e.begin}, ${e.end}]`);
    }
    if (e.begin > pos) {
      fail(`expected the tensors to cover the data buffer without gaps, got unused bytes [${pos}, ${e.begin}) before ${show(e.name)}`);
    }
    pos = e.end;
    prev = e;
  }
  if (pos !== dataLen) {
    fail(`expected the tensors to cover all ${dataLen} data bytes, got ${dataLen - pos} unused trailing bytes after offset ${pos}`);
  }
}

// ---------------------------------------------------------------- files

/**
 * Writes tensors to `path` atomically: an existing file is replaced whole or
 * not at all, and temporary files that killed writers left next to `path`
 * are removed first. Errors: encode errors before any file is touched; a
 * failed write throws `safetensors: cannot write <path>: <reason> (CODE)`.
 * `opts` is for tests (fault injection).
 */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, SafeTensor>,
  metadata?: Record<string, string>,
  opts?: WriteFileAtomicOptions,
): Promise<void> {
  const bytes = encodeSafetensors(tensors, metadata); // encode errors happen before any file is touched
  try {
    await writeFileAtomic(path, bytes, opts);
  } catch (err) {
    throw Object.assign(new Error(`safetensors: ${(err as Error).message}`, { cause: (err as Error).cause ?? err }), { code: (err as { code?: string }).code });
  }
}

export interface LoadSafetensorsOptions {
  /**
   * Called with the validated header before any tensor data is allocated or
   * read; throw to refuse the file (e.g. tensors a model does not expect).
   */
  check?: (header: SafetensorsHeader) => void;
}

/**
 * Reads and decodes a safetensors file (F16, BF16 and F64 tensors as F32, I64
 * as I32: see the top of this file); never modifies it. Errors start
 * `safetensors: <path>: `. Hostile files cannot make it read more than the
 * file's real size, or allocate more than about three times it (an F16 or
 * BF16 tensor's bytes are read, then converted to twice their size): it refuses anything but a regular file
 * (a FIFO, /dev/zero), reads at most the size fstat reports, bounds the
 * header at MAX_HEADER_BYTES, checks every declared tensor against the real
 * length before allocating it, and refuses a file that changes size while
 * it is read. Each tensor is read straight into its own typed array.
 */
export async function loadSafetensors(path: string, opts: LoadSafetensorsOptions = {}): Promise<SafetensorsFile> {
  const fail: Fail = (msg, cause) => {
    throw new Error(`safetensors: ${path}: ${msg}`, cause === undefined ? undefined : { cause });
  };
  const { fh, size } = await openRegularFile(path, dirname(path), fail);
  try {
    const first8 = new Uint8Array(8);
    if (size >= 8) await readExactly(fh, first8, 0, fail);
    const headerLen = headerLength(first8, size, fail);
    const headerBytes = new Uint8Array(headerLen);
    await readExactly(fh, headerBytes, 8, fail);
    const dataStart = 8 + headerLen;
    const layout = parseLayout(headerBytes, size - dataStart, fail);
    opts.check?.({ metadata: layout.metadata, tensors: layout.tensors });

    const tensors: Record<string, SafeTensor> = Object.create(null);
    for (const e of layout.entries) {
      let data: Float32Array | Int32Array;
      if ((e.dtype === 'F32' || e.dtype === 'I32') && HOST_LITTLE_ENDIAN) {
        // Straight into the tensor's own array.
        const n = (e.end - e.begin) / ITEM_SIZE;
        data = e.dtype === 'F32' ? new Float32Array(n) : new Int32Array(n);
        await readExactly(fh, new Uint8Array(data.buffer), dataStart + e.begin, fail);
      } else {
        const bytes = new Uint8Array(e.end - e.begin);
        await readExactly(fh, bytes, dataStart + e.begin, fail);
        data = await decodeItemsAsync(bytes, e.dtype, describeEntry(e), fail);
      }
      tensors[e.name] = { dtype: READ[e.dtype].as, shape: e.shape, data } as SafeTensor;
    }
    await checkEndsAt(fh, size, fail);
    return { tensors, metadata: layout.metadata };
  } finally {
    await fh.close().catch(() => {});
  }
}
