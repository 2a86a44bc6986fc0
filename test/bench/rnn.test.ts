// The RNN benchmark's bookkeeping (bench/cases.js, bench/rnn-kernels.js, bench/rnn-models.js): the
// FLOP count behind every "% of peak" in the RNN tables (the 6.29 MFLOP), and the step's
// raw kernel list and the public-API model run once on both backends at a small batch, so that a
// signature change breaks this test rather than the bench.
import { describe, expect, it } from 'vitest';
import * as fathom from '../../lib/index.js';
import { getBackendByName, nativeBinding } from '../../lib/backend/index.js';
import type { Backend } from '../../lib/backend/backend.js';

interface Kernel { id: string; family: string; flops: number | null; partOf?: string; fn: () => void }
interface Flops { projection: number; recurrence: number; dense: number; total: number }
const bench = (f: string) => new URL(`../../bench/${f}`, import.meta.url).href;
const cases = (await import(bench('cases.js'))) as {
  RNN: { input: number; hidden: number; steps: number; classes: number; trainBatch: number };
  rnnGates: (mode: string) => number;
  rnnForwardFlops: (mode: string, spec?: object) => Flops;
  rnnTrainFlops: (mode: string) => number;
  fixedSequences: (batch: number) => { batch: number; x: Float32Array; y: Int32Array };
};
const { rnnStepKernels } = (await import(bench('rnn-kernels.js'))) as { rnnStepKernels: (be: Backend, mode: string, n: number) => Kernel[] };
const models = (await import(bench('rnn-models.js'))) as {
  makeFathomRnn: (f: typeof fathom, mode: string) => { run: (x: fathom.Tensor) => fathom.Tensor };
  makeFathomSeqData: (f: typeof fathom, d: { batch: number; x: Float32Array; y: Int32Array }) => { x: fathom.Tensor; y: fathom.Tensor };
  fathomRnnStep: (f: typeof fathom, m: object, d: object) => fathom.Tensor;
};

describe('bench RNN: FLOP count (cases.js)', () => {
  it('counts the issue-#11 LSTM at 6.29 MFLOP forward per sample, from the shapes', () => {
    const f = cases.rnnForwardFlops('lstm');
    expect(f.projection).toBe(32 * 2 * 64 * 512);
    expect(f.recurrence).toBe(32 * 2 * 128 * 512);
    expect(f.dense).toBe(2 * 128 * 10);
    expect(f.total).toBe(6_294_016);
    expect((f.total / 1e6).toFixed(2)).toBe('6.29');
    expect(cases.rnnTrainFlops('lstm')).toBe(3 * 6_294_016);
  });
  it('follows the shapes: GRU has 3 gates, a bigger hidden size scales the recurrence quadratically', () => {
    expect(cases.rnnForwardFlops('gru').total).toBe(32 * 2 * (64 + 128) * 384 + 2560);
    const big = cases.rnnForwardFlops('lstm', { ...cases.RNN, hidden: 256 });
    expect(big.recurrence).toBe(4 * cases.rnnForwardFlops('lstm').recurrence);
    expect(() => cases.rnnGates('rnn')).toThrow(/rnnGates: mode must be 'lstm' or 'gru', got 'rnn'/);
  });
  it('makes deterministic sequences of the model shape', () => {
    const a = cases.fixedSequences(3), b = cases.fixedSequences(3);
    expect(a.x.length).toBe(3 * 32 * 64);
    expect(a.x).toEqual(b.x);
    expect(Array.from(a.y).every((v) => v >= 0 && v < 10)).toBe(true);
  });
});

const backends = nativeBinding() ? ['ts', 'native'] : ['ts'];
describe.each(backends)('bench RNN kernels and model on %s', (name) => {
  it('runs every raw kernel of the LSTM and GRU step, FLOP from cases.js', () => {
    for (const mode of ['lstm', 'gru']) {
      const ks = rnnStepKernels(getBackendByName(name as 'ts' | 'native'), mode, 2);
      expect(ks.map((k) => k.family)).toEqual(['projection', 'recurrence →', 'dense + loss', 'recurrence ←', 'recurrence ←', 'dW_ih', 'SGD']);
      for (const k of ks) k.fn();
      const f = cases.rnnForwardFlops(mode);
      const byId = (id: string) => ks.find((k) => k.id === id)!.flops;
      expect(byId('proj')! + byId('rfwd')!).toBe(2 * (f.projection + f.recurrence));
      // 3 × forward less the input's gradient (x needs none: no dx GEMM), at batch 2.
      expect(ks.filter((k) => !k.partOf).reduce((a, k) => a + (k.flops ?? 0), 0)).toBe(2 * (cases.rnnTrainFlops(mode) - f.projection));
    }
  });
  it('trains the public-API model: the loss of a fixed batch goes down', () => {
    fathom.setBackend(name as 'ts' | 'native');
    try {
      const m = models.makeFathomRnn(fathom, 'lstm');
      const d = models.makeFathomSeqData(fathom, cases.fixedSequences(4));
      const first = models.fathomRnnStep(fathom, m, d).item();
      let last = first;
      for (let i = 0; i < 15; i++) last = models.fathomRnnStep(fathom, m, d).item();
      expect(last).toBeLessThan(first);
      expect(m.run(d.x).shape).toEqual([4, 10]);
    } finally {
      fathom.setBackend(nativeBinding() ? 'native' : 'ts');
    }
  });
});
