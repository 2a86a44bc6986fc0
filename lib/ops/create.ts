/** Creating tensors: from data, constants, and seeded random numbers. */
import { backend } from '../backend/index.js';
import { Tensor, type DType, type NestedArray } from '../tensor/tensor.js';
import { checkShape, fmt, sizeOf } from '../tensor/shape.js';

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

function flatten(x: NestedArray, out: number[], shape: number[], depth: number): void {
  if (Array.isArray(x)) {
    if (shape.length === depth) shape.push(x.length);
    else if (shape[depth] !== x.length) throw new Error(`fathom.tensor: ragged nested array at depth ${depth}`);
    for (const e of x) flatten(e, out, shape, depth + 1);
  } else {
    if (shape.length !== depth) throw new Error(`fathom.tensor: ragged nested array at depth ${depth}`);
    if (typeof x !== 'number') throw new Error(`fathom.tensor: values must be numbers, got ${typeof x}`);
    out.push(x);
  }
}

/**
 * A tensor from a typed array, a flat number array with a shape, or nested
 * arrays. Float32Array / Int32Array data is used as is (not copied).
 */
export function tensor(data: NestedArray | Float32Array | Int32Array | ArrayLike<number>, shape?: readonly number[], opts: TensorOptions = {}): Tensor {
  let flat: Float32Array | Int32Array;
  let s: number[];
  if (data instanceof Float32Array || data instanceof Int32Array) {
    if (opts.dtype && opts.dtype !== (data instanceof Int32Array ? 'int32' : 'float32')) {
      flat = opts.dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data);
    } else {
      flat = data;
    }
    s = shape ? [...shape] : [data.length];
  } else {
    const values: number[] = [];
    const inferred: number[] = [];
    if (typeof data === 'number' || Array.isArray(data)) flatten(data as NestedArray, values, inferred, 0);
    else if (data && typeof (data as ArrayLike<number>).length === 'number') values.push(...Array.from(data as ArrayLike<number>));
    else throw new Error(`fathom.tensor: expected numbers, nested arrays or a typed array, got ${typeof data}`);
    s = shape ? [...shape] : inferred;
    flat = opts.dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
  }
  checkShape('tensor', s);
  if (sizeOf(s) !== flat.length) throw new Error(`fathom.tensor: shape ${fmt(s)} needs ${sizeOf(s)} values, got ${flat.length}`);
  const t = new Tensor(flat, s);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  checkShape('full', shape);
  if (opts.dtype === 'int32') return new Tensor(new Int32Array(sizeOf(shape)).fill(value), shape);
  const t = new Tensor(new Float32Array(sizeOf(shape)), shape);
  if (value !== 0) backend().fill(t.f32(), value);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

export const zeros = (shape: readonly number[], opts: TensorOptions = {}): Tensor => full(shape, 0, opts);
export const ones = (shape: readonly number[], opts: TensorOptions = {}): Tensor => full(shape, 1, opts);

// ---- random numbers ---------------------------------------------------------
// A counter-based generator: (seed, offset) fully determines the numbers, on
// both backends. Without an explicit seed, a global stream is used and its
// offset advances past every draw (manualSeed resets it).

let globalSeed = BigInt(Math.floor(Math.random() * 2 ** 32)) << 20n;
let globalOffset = 0n;

/** Seeds the global random stream (like torch.manual_seed). */
export function manualSeed(seed: number | bigint): void {
  globalSeed = toSeed('manualSeed', seed);
  globalOffset = 0n;
}

function toSeed(op: string, seed: number | bigint): bigint {
  if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) return BigInt(seed);
  if (typeof seed === 'bigint' && seed >= 0n && seed < 1n << 64n) return seed;
  throw new Error(`fathom.${op}: seed must be a non-negative integer below 2^64, got ${String(seed)}`);
}

export interface RandomOptions extends TensorOptions {
  seed?: number | bigint;
  /** Start position in the stream of `seed` (in blocks of 4 numbers). */
  offset?: number | bigint;
}

function draw(op: string, n: number, opts: RandomOptions): [bigint, bigint] {
  const blocks = BigInt(Math.ceil(n / 4));
  if (opts.seed !== undefined) {
    return [toSeed(op, opts.seed), opts.offset === undefined ? 0n : toSeed(op, opts.offset)];
  }
  const at = globalOffset;
  globalOffset += blocks;
  return [globalSeed, at];
}

/** Uniform numbers in [low, high) (default [0, 1)). */
export function rand(shape: readonly number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  checkShape('rand', shape);
  const t = new Tensor(new Float32Array(sizeOf(shape)), shape);
  const [seed, offset] = draw('rand', t.size, opts);
  backend().randUniform(t.f32(), seed, offset, opts.low ?? 0, opts.high ?? 1);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Normal numbers with the given mean and standard deviation (default 0, 1). */
export function randn(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  checkShape('randn', shape);
  const t = new Tensor(new Float32Array(sizeOf(shape)), shape);
  const [seed, offset] = draw('randn', t.size, opts);
  backend().randNormal(t.f32(), seed, offset, opts.mean ?? 0, opts.std ?? 1);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}
