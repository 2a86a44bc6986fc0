/**
 * batchNorm and layerNorm: known answers from PyTorch (outputs, updated
 * running statistics, gradients; fixtures/norm-torch.json, written by
 * fixtures/norm-torch.py), the running-statistics rule, and the errors, on each backend.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import * as fa from '../../lib/index.js';
import { Tensor, setBackend, tensor } from '../../lib/index.js';
import { getBackendByName, nativeBinding } from '../../lib/backend/index.js';

interface Case {
  op: 'batchNorm' | 'layerNorm';
  name: string;
  shape: number[];
  normalizedShape?: number[];
  training?: boolean;
  momentum?: number;
  eps: number;
  x: number[];
  runningMean?: number[];
  runningVar?: number[];
  weight: number[] | null;
  bias: number[] | null;
  dy: number[];
  y: number[];
  runningMeanAfter?: number[];
  runningVarAfter?: number[];
  dx: number[];
  dweight: number[] | null;
  dbias: number[] | null;
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/norm-torch.json', import.meta.url), 'utf8')) as { cases: Case[] };
const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const any = (v: unknown): never => v as never;

function close(what: string, got: ArrayLike<number>, want: number[], tol: number): void {
  expect(got.length, what).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  expect(worst, `${what}: largest relative error`).toBeLessThan(tol);
}

const f32 = (v: number[], shape: number[]): Tensor => new Tensor(Float32Array.from(v), shape);

describe.each(backends)('batchNorm / layerNorm on the %s backend', (name) => {
  afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

  for (const c of fixture.cases) {
    it(`${c.op} matches PyTorch: ${c.name}`, () => {
      setBackend(name);
      const x = f32(c.x, c.shape).requireGrad();
      const pshape = c.op === 'batchNorm' ? [c.shape[1]] : c.normalizedShape!;
      const w = c.weight ? f32(c.weight, pshape).requireGrad() : null;
      const b = c.bias ? f32(c.bias, pshape).requireGrad() : null;
      let y: Tensor;
      let rm: Tensor | null = null, rv: Tensor | null = null;
      if (c.op === 'batchNorm') {
        rm = f32(c.runningMean!, pshape);
        rv = f32(c.runningVar!, pshape);
        y = fa.batchNorm(x, rm, rv, w, b, { training: c.training, momentum: c.momentum, eps: c.eps });
      } else {
        y = fa.layerNorm(x, c.normalizedShape!, w, b, { eps: c.eps });
      }
      close('y', y.data, c.y, 2e-5);
      if (rm && rv) {
        close('runningMean', rm.data, c.runningMeanAfter!, 1e-6);
        close('runningVar', rv.data, c.runningVarAfter!, 1e-6);
      }
      y.backward(f32(c.dy, c.shape));
      close('dx', x.grad!.data, c.dx, 5e-5);
      if (w) close('dweight', w.grad!.data, c.dweight!, 5e-5);
      if (b) close('dbias', b.grad!.data, c.dbias!, 5e-5);
    });
  }

  it('batchNorm in training refuses a single value per channel, as PyTorch; eval with N = 1 works', () => {
    setBackend(name);
    const rm = fa.zeros([3]), rv = fa.ones([3]);
    expect(() => fa.batchNorm(fa.ones([1, 3]), rm, rv, null, null, { training: true }))
      .toThrow('fathom.batchNorm: expected more than 1 value per channel when training, got input [1, 3] (1 value per channel)');
    expect(() => fa.batchNorm(fa.ones([1, 3, 1, 1]), rm, rv, null, null, { training: true })).toThrow('more than 1 value per channel');
    expect(() => fa.batchNorm(fa.ones([0, 3]), rm, rv, null, null, { training: true })).toThrow('(0 values per channel)');
    expect([...fa.batchNorm(tensor([[1, 2, 3]]), rm, fa.full([3], 4), null, null, { eps: 0 + 1e-5 }).data].map((v) => +v.toFixed(4))).toEqual([0.5, 1, 1.5]);
    expect(fa.batchNorm(fa.zeros([0, 3, 2]), rm, rv).shape).toEqual([0, 3, 2]);
  });

  it('batchNorm updates the running statistics with momentum and the unbiased variance; without them it still trains', () => {
    setBackend(name);
    const x = tensor([[1, 10], [3, 10], [5, 40]]);
    const rm = tensor([1, 2]), rv = tensor([1, 1]);
    const y = fa.batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.5 });
    // mean [3, 20], biased var [8/3, 200], unbiased [4, 300]
    expect([...rm.data]).toEqual([2, 11]);
    expect([...rv.data]).toEqual([2.5, 150.5]);
    // normalised with the biased variance
    expect(y.data[0]).toBeCloseTo(-2 / Math.sqrt(8 / 3 + 1e-5), 5);
    const y2 = fa.batchNorm(x, null, null, null, null, { training: true });
    expect([...y2.data]).toEqual([...y.data]);
    // momentum 0 keeps them, eval never changes them
    fa.batchNorm(x, rm, rv, null, null, { training: true, momentum: 0 });
    fa.batchNorm(x, rm, rv);
    expect([...rm.data]).toEqual([2, 11]);
  });

  it('errors name the op, the argument, what was expected and what came', () => {
    setBackend(name);
    const x = fa.ones([2, 3, 4]);
    expect(() => fa.batchNorm(fa.ones([3]), null, null, null, null, { training: true })).toThrow('fathom.batchNorm: x must be [N, C] or [N, C, *], got shape [3]');
    expect(() => fa.batchNorm(x, fa.zeros([4]), fa.ones([3]))).toThrow('fathom.batchNorm: runningMean must have shape [3] (C = 3, the channels of x [2, 3, 4]), got [4]');
    expect(() => fa.batchNorm(x, null, null)).toThrow('runningMean and runningVar are needed in eval mode');
    expect(() => fa.batchNorm(x, fa.zeros([3]), null, null, null, { training: true })).toThrow('both be given or both be null');
    expect(() => fa.batchNorm(x, null, null, fa.ones([2]), null, { training: true })).toThrow('weight must have shape [3]');
    expect(() => fa.batchNorm(x, null, null, null, null, { training: true, eps: 0 })).toThrow('fathom.batchNorm: eps must be a positive finite number');
    expect(() => fa.batchNorm(x, null, null, null, null, any({ training: 1 }))).toThrow('fathom.batchNorm: training must be a boolean, got 1');
    expect(() => fa.batchNorm(x, null, null, null, null, any({ momentun: 0.1 }))).toThrow("unknown option 'momentun'");
    expect(() => fa.layerNorm(x, [3])).toThrow('fathom.layerNorm: x [2, 3, 4] must end with normalizedShape [3]');
    expect(() => fa.layerNorm(x, 0)).toThrow('fathom.layerNorm: normalizedShape must be a positive integer or a non-empty list of them, got 0');
    expect(() => fa.layerNorm(x, [4], fa.ones([3]))).toThrow('fathom.layerNorm: weight must have shape [4] (normalizedShape), got [3]');
    expect(() => fa.layerNorm(x, [3, 4], null, null, { eps: -1 })).toThrow('eps must be a positive finite number');
  });

  it('layerNorm of an empty batch is empty; the backward of zero rows gives zero weight gradients', () => {
    setBackend(name);
    const x = fa.zeros([0, 4]).requireGrad();
    const w = fa.ones([4]).requireGrad();
    const y = fa.layerNorm(x, 4, w);
    expect(y.shape).toEqual([0, 4]);
    y.sum().backward();
    expect([...w.grad!.data]).toEqual([0, 0, 0, 0]);
  });
});

describe('the raw kernels refuse what would read or write out of bounds', () => {
  for (const name of backends) {
    it(`checked ${name} backend`, () => {
      const k = getBackendByName(name);
      const x = new Float32Array(24), m = new Float32Array(3), v = new Float32Array(3);
      expect(() => k.batchNormStats(2, 3, 4, x, m, new Float32Array(2))).toThrow('fathom.backend.batchNormStats: varOut must hold 3 float32 values, got 2');
      expect(() => k.batchNormStats(0, 3, 4, new Float32Array(0), m, v)).toThrow('the batch statistics need n * s >= 1 value per channel, got n = 0, s = 4');
      expect(() => k.batchNormStats(2, 3, 4, x, m, m)).toThrow('mean overlaps varOut');
      expect(() => k.batchNormForward(2, 3, 4, x, m, v, 0, null, null, new Float32Array(24))).toThrow('eps must be in (0, Infinity), got 0');
      expect(() => k.batchNormForward(2, 3, 4, x, m, v, 1e-5, null, null, x.subarray(0, 23) as Float32Array)).toThrow('y must hold 24 float32 values, got 23');
      expect(() => k.batchNormForward(2, 3, 4, x, m, v, 1e-5, new Float32Array(4), null, new Float32Array(24))).toThrow('weight must hold 3 float32 values, got 4');
      expect(() => k.batchNormBackward(2, 3, 4, x, x, m, v, 1e-5, null, true, x, null, null)).toThrow('dx overlaps x');
      expect(() => k.batchNormBackward(2, 3, 4, x, new Float32Array(24), m, v, 1e-5, null, any(1), null, null, null)).toThrow('training must be a boolean');
      expect(() => k.layerNormForward(2, 0, new Float32Array(0), null, null, 1e-5, new Float32Array(0), new Float32Array(2), new Float32Array(2))).toThrow('d must be >= 1 when r > 0, got 0');
      expect(() => k.layerNormBackward(4, 6, x, new Float32Array(24), new Float32Array(4), new Float32Array(4), null, null, new Float32Array(6), new Float32Array(5))).toThrow('dbias must hold 6 float32 values, got 5');
      // in place y = x is allowed (the same view)
      const y = Float32Array.from({ length: 24 }, (_, i) => i);
      k.batchNormForward(2, 3, 4, y, m, new Float32Array([1, 1, 1]), 1e-5, null, null, y);
      expect(y[5]).toBeCloseTo(5, 3);
    });
  }
  if (nativeBinding()) {
    it('the addon re-checks lengths, sizes, overlaps and eps itself', () => {
      const b = nativeBinding()!;
      const x = new Float32Array(24), m = new Float32Array(3), v = new Float32Array(3);
      expect(() => b.batchNormStats(2, 3, 4, x, m, new Float32Array(2))).toThrow('fathom.batchNormStats: varOut must hold 3 float32 values, got 2');
      expect(() => b.batchNormStats(1, 3, 0, new Float32Array(0), m, v)).toThrow('need n*s >= 1 value per channel');
      expect(() => b.batchNormStats(2 ** 40, 2 ** 20, 2 ** 20, x, m, v)).toThrow('overflows');
      expect(() => b.batchNormForward(2, 3, 4, x, m, v, 0, null, null, new Float32Array(24))).toThrow('eps must be > 0');
      expect(() => b.batchNormForward(2, 3, 4, x, m, v, 1e-5, null, null, x.subarray(1) as Float32Array)).toThrow('y must hold 24');
      const big = new Float32Array(30);
      expect(() => b.batchNormForward(2, 3, 4, big.subarray(0, 24), m, v, 1e-5, null, null, big.subarray(6, 30))).toThrow('y overlaps x');
      expect(() => b.batchNormBackward(2, 3, 4, x, new Float32Array(24), m, v, 1e-5, null, true, null, m, null)).toThrow('dweight overlaps mean');
      expect(() => b.layerNormForward(2, 0, new Float32Array(0), null, null, 1e-5, new Float32Array(0), new Float32Array(2), new Float32Array(2))).toThrow('d must be >= 1 when r > 0');
      expect(() => b.layerNormBackward(4, 6, x, new Float32Array(24), new Float32Array(4), new Float32Array(4), null, null, new Float32Array(6), new Float32Array(6).subarray(0))).not.toThrow();
      const dw = new Float32Array(6);
      expect(() => b.layerNormBackward(4, 6, x, new Float32Array(24), new Float32Array(4), new Float32Array(4), null, null, dw, dw)).toThrow('dweight overlaps dbias');
    });
  }
});
