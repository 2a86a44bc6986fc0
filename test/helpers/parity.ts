/**
 * Parity: run the same inputs through two backends and compare outputs
 * element by element within a per-op tolerance |a - b| <= atol + rtol * |b|
 * (b from the reference). A failure names the worst index and both values.
 * NaN matches NaN; equal infinities match; with `signedZeros` a zero must
 * also carry the reference's sign (for exact ops, on special values).
 */
import { expect } from 'vitest';

export interface Tolerance {
  atol: number;
  rtol: number;
  /** Also require +0 / -0 to match the reference's sign (exact ops only). */
  signedZeros?: boolean;
}

/** Bit-for-bit (up to NaN payloads); the sign of zero is not checked unless asked. */
export const EXACT: Tolerance = { atol: 0, rtol: 0 };

function show(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

export function compareArrays(
  label: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: Tolerance,
  /** Describes the inputs behind element i (e.g. `x = -0`), appended to a failure message. */
  at?: (i: number) => string,
): void {
  if (got.length !== want.length) {
    expect.fail(`${label}: length ${got.length} vs reference ${want.length}`);
  }
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const a = got[i];
    const b = want[i];
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (a === b && (!tol.signedZeros || Object.is(a, b))) continue; // also covers equal infinities
    // A zero of the wrong sign counts as an infinite excess when signs are checked.
    const excess = a === b ? Infinity : Math.abs(a - b) - (tol.atol + tol.rtol * Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${label}: mismatch at index ${worst} of ${want.length}: got ${show(got[worst])}, reference ${show(want[worst])} ` +
        `(|diff| = ${Math.abs(got[worst] - want[worst])}, atol ${tol.atol}, rtol ${tol.rtol}` +
        `${tol.signedZeros ? ', signed zeros' : ''})${at ? `; inputs: ${at(worst)}` : ''}`,
    );
  }
}

/** One scalar (a loss) compared like a one-element array. */
/** `name = value` for an input array at index i (showing -0), for compareArrays' `at`. */
export function inputsAt(inputs: Record<string, ArrayLike<number>>): (i: number) => string {
  return (i) => Object.entries(inputs).map(([k, v]) => `${k} = ${show(v[i])}`).join(', ');
}

export function compareScalar(label: string, got: number, want: number, tol: Tolerance): void {
  compareArrays(label, [got], [want], tol);
}

/** Copies of the inputs, so that two backends never share (and mutate) one array. */
export function copies<T extends Float32Array | Int32Array>(...arrays: T[]): T[] {
  return arrays.map((a) => a.slice() as T);
}

/** An output buffer prefilled with NaN, so that an element the kernel never writes shows up. */
export function garbage(n: number): Float32Array {
  return new Float32Array(n).fill(NaN);
}
