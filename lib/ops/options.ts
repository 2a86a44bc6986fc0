/**
 * Validation of options objects and scalar arguments, shared by the public
 * functions: every refusal is an Error naming the op, the argument, what was
 * expected and what came.
 */
import { describeValue } from '../tensor/shape.js';
import { F32_MAX } from '../backend/checked.js';

export { F32_MAX };

/**
 * Checks an options argument: undefined means `{}`; anything but a plain
 * object (null, an array, a number…) is refused, and so is a key that is not
 * in `known` (a typo would otherwise be ignored silently). Keys whose value
 * is `undefined` count as absent.
 */
export function checkOptions<T extends object>(op: string, opts: T | undefined, known: readonly string[], what = 'options'): Partial<T> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new Error(`fathom.${op}: ${what} must be an object, got ${describeValue(opts)}`);
  }
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) {
      throw new Error(`fathom.${op}: unknown option '${key}' in ${what} (known: ${known.join(', ')})`);
    }
  }
  return opts;
}

/** An optional boolean (undefined gives `dflt`). */
export function optBool(op: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new Error(`fathom.${op}: ${name} must be a boolean, got ${describeValue(v)}`);
  return v;
}

/** A finite number that float32 can hold (|v| <= FLT_MAX). */
export function checkF32(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > F32_MAX) {
    throw new Error(`fathom.${op}: ${name} must be a finite number within float32 range (|${name}| <= 3.4e38), got ${describeValue(v)}`);
  }
  return v;
}

/** An optional finite float32-range number (undefined gives `dflt`). */
export function optF32(op: string, name: string, v: unknown, dflt: number): number {
  return v === undefined ? dflt : checkF32(op, name, v);
}

/** An integer in [lo, hi]. */
export function checkInt(op: string, name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new Error(`fathom.${op}: ${name} must be an integer in [${lo}, ${hi}], got ${describeValue(v)}`);
  }
  return v;
}

/** A function argument. */
export function checkFunction(op: string, name: string, v: unknown): void {
  if (typeof v !== 'function') throw new Error(`fathom.${op}: ${name} must be a function, got ${describeValue(v)}`);
}
