/**
 * Parity: run the same inputs through two backends and compare outputs
 * element by element within a per-op tolerance |a - b| <= atol + rtol * |b|
 * (b from the reference). A failure names the worst index and both values.
 */
import { expect } from 'vitest';

export interface Tolerance {
  atol: number;
  rtol: number;
}

export function compareArrays(
  label: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: Tolerance,
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
    if (a === b) continue; // also covers equal infinities
    const excess = Math.abs(a - b) - (tol.atol + tol.rtol * Math.abs(b));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess || Number.isNaN(excess))) {
      worst = i;
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${label}: mismatch at index ${worst} of ${want.length}: got ${got[worst]}, reference ${want[worst]} ` +
        `(|diff| = ${Math.abs(got[worst] - want[worst])}, atol ${tol.atol}, rtol ${tol.rtol})`,
    );
  }
}

/** Copies of the inputs, so that two backends never share (and mutate) one array. */
export function copies<T extends Float32Array | Int32Array>(...arrays: T[]): T[] {
  return arrays.map((a) => a.slice() as T);
}
