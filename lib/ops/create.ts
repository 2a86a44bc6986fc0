/** Creating tensors: from data, constants, and seeded random numbers. */
import { kernels as backend } from '../backend/index.js';
import { Tensor, type DType } from '../tensor/tensor.js';
import { checkShape, describeValue, fmt, MAX_RANK, MAX_SIZE, sizeOf } from '../tensor/shape.js';
import { checkOptions, F32_MAX, optBool, optF32 } from './options.js';

export interface TensorOptions {
  /** 'float32' (the default, except for Int32Array data) or 'int32'. */
  dtype?: DType;
  /** Mark the tensor as a leaf that collects gradients (float32 only). Default false. */
  requiresGrad?: boolean;
}

/**
 * What tensor() accepts: a number, a typed array or array-like of numbers,
 * or (readonly) nested arrays of those, all rows of a level the same length.
 */
export type TensorInput = number | ArrayLike<number> | readonly TensorInput[];

const DTYPES: readonly DType[] = ['float32', 'int32'];
const TENSOR_KEYS = ['dtype', 'requiresGrad'] as const;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function checkDtype(op: string, v: unknown): DType | undefined {
  if (v === undefined) return undefined;
  if (!DTYPES.includes(v as DType)) {
    throw new Error(`fathom.${op}: dtype must be 'float32' or 'int32', got ${describeValue(v)}`);
  }
  return v as DType;
}

function checkRequiresGrad(op: string, v: unknown, dtype: DType): boolean {
  const on = optBool(op, 'requiresGrad', v, false);
  if (on && dtype !== 'float32') throw new Error(`fathom.${op}: only float32 tensors can require gradients, got dtype '${dtype}'`);
  return on;
}

/** Refuses a value that int32 cannot hold exactly (PyTorch's overflow error; no silent wrap or truncation). */
function toInt32(op: string, v: number, where: string): number {
  if (!Number.isInteger(v)) {
    throw new Error(`fathom.${op}: int32 needs integers, got ${describeValue(v)}${where}`);
  }
  if (v < INT32_MIN || v > INT32_MAX) {
    throw new Error(`fathom.${op}: value ${describeValue(v)}${where} cannot be converted to int32 without overflow (int32 holds [${INT32_MIN}, ${INT32_MAX}])`);
  }
  return v;
}

type Seq = ArrayLike<unknown>;

/** Arrays and typed arrays (not DataView, not strings) count as a dimension of nested data. */
function isSeq(x: unknown): x is Seq {
  return Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
}

/** Shape of nested data, read along the first elements (checked against every element later). */
function inferShape(x: unknown): number[] {
  const shape: number[] = [];
  let cur = x;
  while (isSeq(cur)) {
    if (shape.length === MAX_RANK) throw new Error(`fathom.tensor: nested data has more than ${MAX_RANK} dimensions`);
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

/**
 * Writes nested data of the given shape into `out`, refusing ragged rows and
 * non-number values (with the index path of the first bad element).
 */
function fillNested(x: unknown, shape: number[], out: Float32Array | Int32Array, int: boolean): void {
  let k = 0;
  const path: number[] = [];
  const where = (): string => `data${path.map((i) => `[${i}]`).join('')}`;
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number') {
        if (isSeq(v)) throw new Error(`fathom.tensor: ragged nested array: ${where()} is an array, but its siblings are numbers (shape ${fmt(shape)} from the first elements)`);
        throw new Error(`fathom.tensor: values must be numbers, got ${describeValue(v)} at ${where()}`);
      }
      out[k++] = int ? toInt32('tensor', v, ` at ${where()}`) : v;
      return;
    }
    if (!isSeq(v)) {
      throw new Error(`fathom.tensor: ragged nested array: ${where()} is ${describeValue(v)}, expected an array of length ${shape[depth]} (shape ${fmt(shape)} from the first elements)`);
    }
    if (v.length !== shape[depth]) {
      throw new Error(`fathom.tensor: ragged nested array: ${where()} has ${v.length} elements, expected ${shape[depth]} (shape ${fmt(shape)} from the first elements)`);
    }
    for (let i = 0; i < v.length; i++) {
      path.push(i);
      walk(v[i], depth + 1);
      path.pop();
    }
  };
  walk(x, 0);
}

function allocate(op: string, n: number, dtype: DType): Float32Array | Int32Array {
  try {
    return dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  } catch (e) {
    throw new Error(`fathom.${op}: cannot allocate ${n} ${dtype} values: ${(e as Error).message}`);
  }
}

/**
 * A tensor from nested arrays of numbers, a number (0-d), a typed array, or a
 * flat array-like of numbers with a shape: `tensor(data, shape?, options?)`
 * or `tensor(data, options)` (e.g. `tensor([0, 2, 1], { dtype: 'int32' })`).
 *
 * - Float32Array / Int32Array data of the requested dtype is used as is (not
 *   copied); other typed arrays and arrays are converted (float32 unless
 *   `dtype: 'int32'` is given; an Int32Array defaults to int32).
 * - Without `shape`, nested arrays give their own shape and flat data is 1-D.
 *   With `shape`, the data (flattened) must have exactly as many values.
 * - int32 values must be integers within int32's range (no wrapping, no
 *   truncation), as PyTorch refuses an overflowing value.
 *
 * @throws on strings, booleans, holes or other non-numbers; ragged nested
 *   arrays; more than 8 dimensions; a size that differs from the shape; an
 *   unknown dtype or option; options of the wrong type.
 */
export function tensor(data: TensorInput, opts: TensorOptions): Tensor;
export function tensor(data: TensorInput, shape?: readonly number[], opts?: TensorOptions): Tensor;
export function tensor(
  data: TensorInput,
  shapeOrOpts?: readonly number[] | TensorOptions,
  opts?: TensorOptions,
): Tensor {
  // tensor(data, { dtype }) as torch.tensor(data, dtype=...): a plain object in the shape's place is the options.
  let shape: readonly number[] | undefined;
  const proto = shapeOrOpts !== null && typeof shapeOrOpts === 'object' ? Object.getPrototypeOf(shapeOrOpts) : undefined;
  if (!Array.isArray(shapeOrOpts) && (proto === Object.prototype || proto === null)) {
    if (opts !== undefined) throw new Error('fathom.tensor: options were given twice (as the 2nd and the 3rd argument); use tensor(data, shape, options) or tensor(data, options)');
    opts = shapeOrOpts as TensorOptions;
  } else {
    shape = shapeOrOpts as readonly number[] | undefined;
  }
  const o = checkOptions('tensor', opts, TENSOR_KEYS);
  const want = checkDtype('tensor', o.dtype);
  if (shape !== undefined) checkShape('tensor', shape);
  let flat: Float32Array | Int32Array;
  let inferred: number[];
  if (data instanceof Float32Array || data instanceof Int32Array) {
    const own: DType = data instanceof Int32Array ? 'int32' : 'float32';
    if (!want || want === own) flat = data;
    else if (want === 'float32') flat = Float32Array.from(data);
    else {
      flat = allocate('tensor', data.length, 'int32');
      for (let i = 0; i < data.length; i++) flat[i] = toInt32('tensor', data[i], ` at index ${i}`);
    }
    inferred = [data.length];
  } else if (typeof data === 'number' || isSeq(data)) {
    inferred = inferShape(data);
    const n = sizeOf(inferred);
    if (n > MAX_SIZE) throw new Error(`fathom.tensor: nested data of shape ${fmt(inferred)} holds more than ${MAX_SIZE} values`);
    flat = allocate('tensor', n, want ?? 'float32');
    fillNested(data, inferred, flat, want === 'int32');
  } else if (data !== null && typeof data === 'object' && typeof (data as ArrayLike<unknown>).length === 'number') {
    const like = data as ArrayLike<unknown>;
    const n = like.length;
    if (!Number.isSafeInteger(n) || n < 0 || n > MAX_SIZE) {
      throw new Error(`fathom.tensor: an array-like's length must be an integer in [0, ${MAX_SIZE}], got ${describeValue(n)}`);
    }
    flat = allocate('tensor', n, want ?? 'float32');
    for (let i = 0; i < n; i++) {
      const v = like[i];
      if (typeof v !== 'number') throw new Error(`fathom.tensor: values must be numbers, got ${describeValue(v)} at index ${i}`);
      flat[i] = want === 'int32' ? toInt32('tensor', v, ` at index ${i}`) : v;
    }
    inferred = [n];
  } else {
    throw new Error(`fathom.tensor: data must be a number, nested arrays of numbers, a typed array or an array-like of numbers, got ${describeValue(data)}`);
  }
  const s = shape ? [...shape] : inferred;
  if (sizeOf(s) !== flat.length) throw new Error(`fathom.tensor: shape ${fmt(s)} needs ${sizeOf(s)} values, got ${flat.length}`);
  const t = new Tensor(flat, s);
  if (checkRequiresGrad('tensor', o.requiresGrad, t.dtype)) t.requiresGrad = true;
  return t;
}

/**
 * A tensor of `shape` filled with `value` (float32 by default).
 * @throws when value is not a number; for int32, when it is not an integer in
 *   int32's range (NaN included); for float32, when a finite value overflows
 *   float32 (|value| > 3.4e38; NaN and ±Infinity are kept as given).
 */
export function full(shape: readonly number[], value: number, opts?: TensorOptions): Tensor {
  return fullOp('full', shape, value, opts);
}

function fullOp(op: string, shape: readonly number[], value: number, opts: TensorOptions | undefined): Tensor {
  checkShape(op, shape);
  const o = checkOptions(op, opts, TENSOR_KEYS);
  const dtype = checkDtype(op, o.dtype) ?? 'float32';
  const grad = checkRequiresGrad(op, o.requiresGrad, dtype);
  if (typeof value !== 'number') throw new Error(`fathom.${op}: value must be a number, got ${describeValue(value)}`);
  const n = sizeOf(shape);
  if (dtype === 'int32') {
    toInt32(op, value, '');
    const t = new Tensor(allocate(op, n, 'int32'), shape);
    if (value !== 0) t.data.fill(value);
    return t;
  }
  if (Number.isFinite(value) && Math.abs(value) > F32_MAX) {
    throw new Error(`fathom.${op}: value ${value} cannot be converted to float32 without overflow (|value| <= 3.4e38)`);
  }
  const t = new Tensor(allocate(op, n, 'float32'), shape);
  if (value !== 0 && n > 0) backend().fill(t.f32(), value);
  if (grad) t.requiresGrad = true;
  return t;
}

/** A tensor of zeros (see full). */
export const zeros = (shape: readonly number[], opts?: TensorOptions): Tensor => fullOp('zeros', shape, 0, opts);
/** A tensor of ones (see full). */
export const ones = (shape: readonly number[], opts?: TensorOptions): Tensor => fullOp('ones', shape, 1, opts);

// ---- random numbers ---------------------------------------------------------
// A counter-based generator: (seed, offset) fully determines the numbers, on
// both backends. Without an explicit seed, a global stream is used and its
// offset advances past every draw (manualSeed resets it).

let globalSeed = BigInt(Math.floor(Math.random() * 2 ** 32)) << 20n;
let globalOffset = 0n;

/** Seeds the global random stream (like torch.manual_seed). */
export function manualSeed(seed: number | bigint): void {
  globalSeed = toSeed('manualSeed', 'seed', seed);
  globalOffset = 0n;
}

function toSeed(op: string, name: string, seed: unknown): bigint {
  if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) return BigInt(seed);
  if (typeof seed === 'bigint' && seed >= 0n && seed < 1n << 64n) return seed;
  throw new Error(`fathom.${op}: ${name} must be a non-negative integer below 2^64, got ${describeValue(seed)}`);
}

/**
 * Reserves the global stream's next ceil(n / 4) blocks for a kernel that draws
 * n numbers itself (the fused dropout), exactly as
 * rand() of n elements would, and returns where they start.
 * @internal
 */
export function takeGlobalStream(n: number): { seed: bigint; offset: bigint } {
  const at = { seed: globalSeed, offset: globalOffset };
  globalOffset += BigInt(Math.ceil(n / 4));
  return at;
}

export interface RandomOptions extends TensorOptions {
  /** Seed of the stream (default: the global stream, see manualSeed). */
  seed?: number | bigint;
  /** Start position in the stream of `seed` (in blocks of 4 numbers; default 0). Needs `seed`. */
  offset?: number | bigint;
}

/** Options of rand(): uniform numbers in [low, high). */
export interface UniformOptions extends RandomOptions {
  /** Default 0. */
  low?: number;
  /** Default 1; must be >= low. */
  high?: number;
}

/** Options of randn(): normal numbers. */
export interface NormalOptions extends RandomOptions {
  /** Default 0. */
  mean?: number;
  /** Default 1; must be >= 0. */
  std?: number;
}

const RANDOM_KEYS = ['dtype', 'requiresGrad', 'seed', 'offset'] as const;

function randomSetup(op: string, shape: readonly number[], o: Partial<RandomOptions>): { t: Tensor; seed: bigint; offset: bigint; grad: boolean } {
  checkShape(op, shape);
  const dtype = checkDtype(op, o.dtype);
  if (dtype === 'int32') throw new Error(`fathom.${op}: makes float32 tensors, got dtype 'int32'`);
  const grad = checkRequiresGrad(op, o.requiresGrad, 'float32');
  let seed: bigint;
  let offset: bigint;
  const n = sizeOf(shape);
  if (o.seed !== undefined) {
    seed = toSeed(op, 'seed', o.seed);
    offset = o.offset === undefined ? 0n : toSeed(op, 'offset', o.offset);
  } else {
    if (o.offset !== undefined) throw new Error(`fathom.${op}: offset needs a seed (without one, the global stream's position is used)`);
    seed = globalSeed;
    offset = globalOffset;
    globalOffset += BigInt(Math.ceil(n / 4));
  }
  return { t: new Tensor(allocate(op, n, 'float32'), shape), seed, offset, grad };
}

/**
 * Uniform numbers in [low, high) (default [0, 1)), float32.
 * @throws when low or high is not a finite number within float32 range, or
 *   low > high (as PyTorch's uniform_), or an option is unknown or mistyped.
 */
export function rand(shape: readonly number[], opts?: UniformOptions): Tensor {
  const o = checkOptions('rand', opts, [...RANDOM_KEYS, 'low', 'high']);
  const low = optF32('rand', 'low', o.low, 0);
  const high = optF32('rand', 'high', o.high, 1);
  if (low > high) throw new Error(`fathom.rand: low must be <= high, got low ${low} and high ${high}`);
  const { t, seed, offset, grad } = randomSetup('rand', shape, o);
  if (t.size > 0) backend().randUniform(t.f32(), seed, offset, low, high);
  if (grad) t.requiresGrad = true;
  return t;
}

/** Largest |z| Box-Muller can draw from 24-bit uniforms: sqrt(-2 ln 2^-24) < 5.8. */
const NORMAL_Z_MAX = 5.8;

/**
 * Normal numbers with the given mean and standard deviation (default 0, 1), float32.
 * @throws when mean or std is not a finite number, std < 0, or
 *   |mean| + 5.8 std exceeds float32's range (a sample could overflow to
 *   ±Infinity), or an option is unknown or mistyped.
 */
export function randn(shape: readonly number[], opts?: NormalOptions): Tensor {
  const o = checkOptions('randn', opts, [...RANDOM_KEYS, 'mean', 'std']);
  const mean = optF32('randn', 'mean', o.mean, 0);
  const std = optF32('randn', 'std', o.std, 1);
  if (std < 0) throw new Error(`fathom.randn: std must be >= 0, got ${std}`);
  if (Math.abs(mean) + NORMAL_Z_MAX * std > F32_MAX) {
    throw new Error(`fathom.randn: mean ${mean} and std ${std} could draw values beyond float32's range (|mean| + 5.8·std must be <= 3.4e38)`);
  }
  const { t, seed, offset, grad } = randomSetup('randn', shape, o);
  if (t.size > 0) backend().randNormal(t.f32(), seed, offset, mean, std);
  if (grad) t.requiresGrad = true;
  return t;
}

