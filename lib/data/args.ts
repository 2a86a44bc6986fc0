/**
 * Argument checks shared by the text helpers (Vocabulary, CharVocabulary):
 * what they cannot use is refused with an Error naming the op and argument,
 * not a raw TypeError from a for…of, nor silently ignored.
 */
import { Tensor } from '../tensor/tensor.js';
import { show } from '../layers/options.js';
import { fmt } from '../tensor/shape.js';

/**
 * Token indices as an indexable list: an int32 Tensor (any shape, read in
 * order), an array, or an integer typed array. Anything else (a float32
 * Tensor, null, an object with a length) is refused.
 */
export function indexList(op: string, v: unknown): ArrayLike<number> {
  if (v instanceof Tensor) {
    if (v.dtype !== 'int32') throw new Error(`fathom.${op}: indices must be an int32 Tensor, an array or an integer typed array, got a ${v.dtype} Tensor ${fmt(v.shape)}`);
    return v.data as Int32Array;
  }
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof Float32Array) && !(v instanceof Float64Array) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array)) {
    return v as unknown as ArrayLike<number>;
  }
  throw new Error(`fathom.${op}: indices must be an int32 Tensor, an array or an integer typed array, got ${show(v)}`);
}

/** `v` if it is iterable (not a string), or an Error naming `op`'s `name` and what it expects. */
export function iterableArg<T>(op: string, name: string, v: unknown, expected: string): Iterable<T> {
  if (v === null || typeof v !== 'object' || typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw new Error(`fathom.${op}: ${name} must be ${expected}, got ${show(v)}`);
  }
  return v as Iterable<T>;
}
