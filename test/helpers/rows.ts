// Answers of the serving paths (BatchingPredictor, InferencePool) against model.predict on this thread.
import { expect } from 'vitest';
import { Tensor, type nn } from '../../lib/index.js';

/**
 * Checks y [N, C] against model.predict(x) row by row within 1e-5 (a batch's GEMM may differ from
 * predict() alone in the last bits), naming the row and column that differ.
 */
export function expectRows(y: Tensor, model: nn.Module, x: Tensor): void {
  const want = model.predict(x);
  expect(y.shape).toEqual(want.shape);
  const cols = want.shape[1];
  for (let i = 0; i < want.shape[0]; i++) {
    for (let j = 0; j < cols; j++) {
      const d = Math.abs(y.data[i * cols + j] - want.data[i * cols + j]);
      if (!(d <= 1e-5)) throw new Error(`row ${i}, column ${j}: got ${y.data[i * cols + j]}, want ${want.data[i * cols + j]}`);
    }
  }
}

/** got equals want (predict() at the call) bit for bit, checked row by row: the first row that differs is named. */
export function sameRows(got: Tensor, want: Tensor, what: string): void {
  expect(got, what).toBeInstanceOf(Tensor);
  expect(got.shape, what).toEqual(want.shape);
  const cols = want.size / want.shape[0];
  const g = new Uint32Array(got.data.buffer, got.data.byteOffset, got.size);
  const w = new Uint32Array(want.data.buffer, want.data.byteOffset, want.size);
  for (let i = 0; i < want.shape[0]; i++) {
    expect(Array.from(g.subarray(i * cols, (i + 1) * cols)), `${what}, row ${i}`).toEqual(Array.from(w.subarray(i * cols, (i + 1) * cols)));
  }
}
