// The CNN benchmark's bookkeeping (bench/cases.js, bench/cnn-kernels.js): the shape walk and FLOP
// count behind every "% of peak" in the CNN tables, and the raw kernel list of the training step
// (run once on both backends at batch 2, so a kernel signature change breaks this test, not the bench).
import { describe, expect, it } from 'vitest';
import { getBackendByName, nativeBinding } from '../../lib/backend/index.js';
import type { Backend } from '../../lib/backend/backend.js';

interface Layer { type: string; out?: number; k?: number; inShape: number[]; outShape: number[]; flops: number }
interface Kernel { id: string; phase: string; family: string; flops: number | null; fn: () => void }
interface Spec { input: number[]; layers: { type: string; out?: number; k?: number }[] }

// bench/ is plain JavaScript outside the TypeScript project: import it by URL (typed here).
const bench = (f: string) => new URL(`../../bench/${f}`, import.meta.url).href;
const cases = (await import(bench('cases.js'))) as {
  CNN: Spec & { classes: number; trainBatch: number };
  cnnLayers: (spec?: Spec) => Layer[];
  cnnForwardFlops: number;
  cnnTrainFlops: number;
  fixedImages: (batch: number) => { batch: number; x: Float32Array; y: Int32Array };
};
const { cnnStepKernels } = (await import(bench('cnn-kernels.js'))) as { cnnStepKernels: (be: Backend, n: number) => Kernel[] };

describe('bench CNN: shapes and FLOP count (cases.js)', () => {
  it('walks the bench net to the issue-#10 shapes', () => {
    const l = cases.cnnLayers();
    expect(l.map((x) => x.outShape)).toEqual([
      [32, 24, 24], [32, 24, 24], [32, 12, 12], [64, 8, 8], [64, 8, 8], [64, 4, 4], [1024], [128], [128], [10],
    ]);
    expect(l[7].inShape).toEqual([1024]); // Linear(1024, 128): the 1024 comes from the walk
  });

  it('counts 7.74 MFLOP forward per sample and 3× that per training step', () => {
    // conv1: 2·32·24·24·1·25 = 921,600; conv2: 2·64·8·8·32·25 = 6,553,600;
    // fc1: 2·1024·128 = 262,144; fc2: 2·128·10 = 2,560.
    expect(cases.cnnLayers().map((x) => x.flops)).toEqual([921_600, 0, 0, 6_553_600, 0, 0, 0, 262_144, 0, 2_560]);
    expect(cases.cnnForwardFlops).toBe(7_739_904);
    expect((cases.cnnForwardFlops / 1e6).toFixed(2)).toBe('7.74');
    expect(cases.cnnTrainFlops).toBe(3 * 7_739_904);
  });

  it('applies the same rules to another net (LeNet-5 on 32×32×3) and refuses impossible ones', () => {
    const lenet: Spec = {
      input: [3, 32, 32],
      layers: [{ type: 'conv', out: 6, k: 5 }, { type: 'relu' }, { type: 'pool', k: 2 }, { type: 'conv', out: 16, k: 5 },
        { type: 'pool', k: 2 }, { type: 'flatten' }, { type: 'linear', out: 120 }],
    };
    const l = cases.cnnLayers(lenet);
    expect(l.map((x) => x.outShape)).toEqual([[6, 28, 28], [6, 28, 28], [6, 14, 14], [16, 10, 10], [16, 5, 5], [400], [120]]);
    // 2·6·28·28·3·25 = 705,600; 2·16·10·10·6·25 = 480,000; 2·400·120 = 96,000
    expect(l.reduce((a, x) => a + x.flops, 0)).toBe(705_600 + 480_000 + 96_000);
    expect(() => cases.cnnLayers({ input: [1, 4, 4], layers: [{ type: 'conv', out: 2, k: 5 }] })).toThrow(/conv 5×5 does not fit/);
    expect(() => cases.cnnLayers({ input: [1, 8, 8], layers: [{ type: 'linear', out: 2 }] })).toThrow(/linear needs a flat input/);
    expect(() => cases.cnnLayers({ input: [1, 8, 8], layers: [{ type: 'dropout' }] })).toThrow(/unknown layer type 'dropout'/);
  });

  it('fixedImages is deterministic and sized [batch, 1, 28, 28]', () => {
    const a = cases.fixedImages(3), b = cases.fixedImages(3);
    expect(a.x.length).toBe(3 * 28 * 28);
    expect(Array.from(a.x.slice(0, 5))).toEqual(Array.from(b.x.slice(0, 5)));
    expect(Array.from(a.y)).toEqual(Array.from(b.y));
    expect(a.y.every((v) => v >= 0 && v < 10)).toBe(true);
  });
});

const backends: ['ts' | 'native', boolean][] = [['ts', true], ['native', nativeBinding() !== null]];
describe.each(backends)('bench CNN: the training step as raw kernels on %s (cnn-kernels.js)', (name, available) => {
  it.skipIf(!available)('lists each kernel once, with the step\'s FLOP, and every call passes the backend\'s argument checks', () => {
    const n = 2;
    const ks = cnnStepKernels(getBackendByName(name), n);
    expect(new Set(ks.map((k) => k.id)).size).toBe(ks.length);
    expect(ks.filter((k) => k.family === 'conv2dBackwardData').map((k) => k.id)).toEqual(['conv2.dx']); // no dx for the input
    // forward + both gradients of every layer, minus conv1's data gradient
    const conv1 = cases.cnnLayers()[0].flops;
    expect(ks.reduce((a, k) => a + (k.flops ?? 0), 0)).toBe(n * (cases.cnnTrainFlops - conv1));
    expect(ks[0].phase).toBe('forward');
    expect(ks[ks.length - 1].family).toBe('SGD');
    for (const k of ks) k.fn(); // the checked backend throws on any wrong size or argument
  });
});
