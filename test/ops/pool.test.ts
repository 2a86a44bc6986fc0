/**
 * Pooling ops (lib/ops/pool.ts): PyTorch known answers (fixtures/pool_torch.py
 * made fixtures/pool_torch.json), native-vs-TS kernel parity at awkward
 * geometries (ties, NaN, ±Inf, dilation, ceil mode, N = 0), exact tie
 * gradients, flatten, and the error messages.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import * as fa from '../../lib/index.js';
import { Tensor, setBackend, tensor } from '../../lib/index.js';
import { getBackendByName, nativeBinding } from '../../lib/backend/index.js';
import type { Backend, Pool2dGeom } from '../../lib/backend/backend.js';
import { tsBackend as T } from '../../lib/backend/ts/index.js';
import { EXACT, compareArrays, garbage } from '../helpers/parity.js';
import { randomArray } from '../helpers/random.js';

interface FixtureCase {
  op: 'maxPool2d' | 'avgPool2d' | 'adaptiveAvgPool2d';
  shape: number[];
  options: Record<string, unknown>;
  x: (number | null)[];
  yShape: number[];
  y: (number | null)[];
  w: number[];
  dx: (number | null)[];
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/pool_torch.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] };
const f32 = (a: (number | null)[]): Float32Array => Float32Array.from(a, (v) => (v === null ? NaN : v));

function run(c: FixtureCase, x: Tensor): Tensor {
  const { kernelSize, outputSize, ...o } = c.options as { kernelSize: number; outputSize: number } & Record<string, unknown>;
  if (c.op === 'maxPool2d') return fa.maxPool2d(x, kernelSize, o);
  if (c.op === 'avgPool2d') return fa.avgPool2d(x, kernelSize, o);
  return fa.adaptiveAvgPool2d(x, outputSize);
}

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));

for (const name of backends) {
  describe(`pooling on ${name}`, () => {
    it('matches PyTorch 1.13 (forward and backward, ties and NaN included)', () => {
      setBackend(name);
      expect(fixture.cases.length).toBe(23);
      for (const [i, c] of fixture.cases.entries()) {
        const label = `case ${i} ${c.op} ${JSON.stringify(c.options)} on [${c.shape}]`;
        const x = new Tensor(f32(c.x), c.shape);
        x.requiresGrad = true;
        const y = run(c, x);
        expect(y.shape, label).toEqual(c.yShape);
        compareArrays(`${label} y`, y.data as Float32Array, f32(c.y), { atol: 1e-6, rtol: 1e-6 });
        y.backward(new Tensor(Float32Array.from(c.w), c.yShape));
        compareArrays(`${label} dx`, x.grad!.data as Float32Array, f32(c.dx), { atol: 1e-6, rtol: 1e-6 });
      }
    });

    it('maxPool2d gives each tied window\'s gradient to its first maximal element, exactly', () => {
      setBackend(name);
      // x = [[1, 3, 2], [3, 3, 0], [3, 1, 3]]: every window's first 3 (row-major) wins; the first two
      // windows share their winner (row 0, col 1), so its gradient accumulates 1 + 10.
      const x = tensor([1, 3, 2, 3, 3, 0, 3, 1, 3], [1, 1, 3, 3]);
      x.requiresGrad = true;
      const y = fa.maxPool2d(x, 2, { stride: 1 });
      expect(Array.from(y.data)).toEqual([3, 3, 3, 3]);
      y.backward(tensor([1, 10, 100, 1000], [1, 1, 2, 2]));
      expect(Array.from(x.grad!.data)).toEqual([0, 11, 0, 100, 1000, 0, 0, 0, 0]);
    });

    it('maxPool2d: NaN wins (the last NaN of a window, as PyTorch), padding never wins, -Inf stays', () => {
      setBackend(name);
      const x = tensor([-Infinity, NaN, NaN, 5, -Infinity, -Infinity, -Infinity, -Infinity], [1, 2, 2, 2]);
      x.requiresGrad = true;
      const y = fa.maxPool2d(x, 2, { padding: 1, stride: 2 });
      // plane 0: windows hold one real cell each; plane 1 all -Inf
      expect(Array.from(y.data)).toEqual([-Infinity, NaN, NaN, 5, -Infinity, -Infinity, -Infinity, -Infinity]);
      const z = fa.maxPool2d(x, 2);
      expect(Array.from(z.data)).toEqual([NaN, -Infinity]);
      z.backward(tensor([7, 9], [1, 2, 1, 1]));
      expect(Array.from(x.grad!.data)).toEqual([0, 0, 7, 0, 9, 0, 0, 0]);
    });

    it('N = 0 and C = 0 give empty outputs and gradients', () => {
      setBackend(name);
      for (const shape of [[0, 3, 5, 5], [2, 0, 5, 5]]) {
        const x = fa.zeros(shape);
        x.requiresGrad = true;
        const outs = [fa.maxPool2d(x, 2), fa.avgPool2d(x, 3, { padding: 1 }), fa.adaptiveAvgPool2d(x, [2, 3])];
        expect(outs.map((y) => y.shape)).toEqual([[shape[0], shape[1], 2, 2], [shape[0], shape[1], 2, 2], [shape[0], shape[1], 2, 3]]);
        for (const y of outs) {
          y.backward(fa.zeros(y.shape));
          expect(x.grad!.shape).toEqual(shape);
          x.grad = null;
        }
      }
    });
  });
}

describe('pooling errors', () => {
  it('name the op, the argument, what was expected and what came', () => {
    const x = fa.zeros([1, 3, 4, 4]);
    expect(() => fa.maxPool2d(x, 5)).toThrow(
      'fathom.maxPool2d: input [1, 3, 4, 4] with padding [0, 0] is smaller than the kernel 5×5; the output would be empty',
    );
    expect(() => fa.maxPool2d(x, 2, { dilation: 4 })).toThrow(/kernel 2×2 \(dilated to 5×5\); the output would be empty/);
    expect(() => fa.avgPool2d(x, 5, { padding: 0 })).toThrow(/fathom\.avgPool2d: input \[1, 3, 4, 4\].*the output would be empty/);
    expect(() => fa.maxPool2d(fa.zeros([3, 4, 4]), 2)).toThrow('fathom.maxPool2d: x must be [N, C, H, W], got [3, 4, 4]');
    expect(() => fa.maxPool2d(x, 0)).toThrow('fathom.maxPool2d: kernelSize must be a positive integer or a pair [h, w] of them, got 0');
    expect(() => fa.maxPool2d(x, 2, { stride: 1.5 })).toThrow(/fathom\.maxPool2d: stride must be a positive integer/);
    expect(() => fa.maxPool2d(x, 2, { padding: 2 })).toThrow(
      'fathom.maxPool2d: padding must be at most half the kernel size, got padding [2, 2] with kernelSize [2, 2]',
    );
    expect(() => fa.maxPool2d(x, 2, { padding: -1 })).toThrow(/padding must be a non-negative integer/);
    expect(() => fa.maxPool2d(x, 2, { ceilmode: true } as never)).toThrow(/unknown option 'ceilmode'/);
    expect(() => fa.avgPool2d(x, 2, { countIncludePad: 1 } as never)).toThrow(/countIncludePad must be a boolean/);
    expect(() => fa.avgPool2d(x, 2, { divisorOverride: 0 })).toThrow(/divisorOverride must be a positive integer, got 0/);
    expect(() => fa.adaptiveAvgPool2d(x, 0)).toThrow(/fathom\.adaptiveAvgPool2d: outputSize must be a positive integer/);
    expect(() => fa.adaptiveAvgPool2d(fa.zeros([1, 1, 0, 3]), 2)).toThrow(/H or W = 0.*empty/);
    expect(() => fa.maxPool2d(tensor([1, 2, 3, 4], [1, 1, 2, 2], { dtype: 'int32' }), 2)).toThrow(/fathom\.maxPool2d: x must be float32, got int32/);
  });

  it('the kernels refuse a geometry whose output size does not follow from it', () => {
    const g: Pool2dGeom = { nc: 1, h: 4, w: 4, oh: 3, ow: 2, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, dh: 1, dw: 1 };
    const b = getBackendByName('ts');
    expect(() => b.maxPool2d(g, new Float32Array(16), new Float32Array(6))).toThrow(
      'fathom.backend.maxPool2d: g.oh x g.ow must be 2 x 2 (or 2 x 2 in ceil mode) for this geometry, got 3 x 2',
    );
    expect(() => b.maxPool2d({ ...g, oh: 2, sh: 0 }, new Float32Array(16), new Float32Array(4))).toThrow('fathom.backend.maxPool2d: g.sh must be >= 1, got 0');
    expect(() => b.avgPool2d({ ...g, oh: 2 }, true, 0, new Float32Array(15), new Float32Array(4))).toThrow(
      'fathom.backend.avgPool2d: x must hold 16 float32 values, got 15',
    );
    if (nativeBinding()) {
      const nb = nativeBinding()!;
      expect(() => nb.maxPool2d(1, 4, 4, 2, 2, 2, 2, 0, 2, 0, 0, 1, 1, new Float32Array(16), new Float32Array(4))).toThrow(
        'fathom.maxPool2d: sh must be >= 1, got 0',
      );
      expect(() => nb.adaptiveAvgPool2d(1, 4, 4, 2, 2, new Float32Array(16), new Float32Array(3))).toThrow(
        'fathom.adaptiveAvgPool2d: y must hold 4 float32 values, got 3',
      );
      const buf = new Float32Array(20);
      expect(() => nb.avgPool2d(1, 4, 4, 2, 2, 2, 2, 2, 2, 0, 0, true, 0, buf.subarray(0, 16), buf.subarray(14, 18))).toThrow(/y overlaps x/);
    }
  });
});

describe('flatten', () => {
  it('merges startDim..endDim as torch.flatten, gradients through the reshape', () => {
    const x = fa.rand([2, 3, 4, 5]);
    expect(fa.flatten(x).shape).toEqual([2, 60]);
    expect(fa.flatten(x, 0).shape).toEqual([120]);
    expect(fa.flatten(x, 1, 2).shape).toEqual([2, 12, 5]);
    expect(fa.flatten(x, -2).shape).toEqual([2, 3, 20]);
    expect(fa.flatten(x, 2, 2).shape).toEqual([2, 3, 4, 5]);
    expect(x.flatten(1, 2).shape).toEqual([2, 12, 5]);
    expect(x.flatten().shape).toEqual([2, 60]);
    expect(fa.flatten(fa.zeros([0, 3, 2])).shape).toEqual([0, 6]);
    expect(fa.flatten(tensor(3)).shape).toEqual([1]);
    x.requiresGrad = true;
    const y = fa.flatten(x);
    y.backward(fa.ones([2, 60]));
    expect(x.grad!.shape).toEqual([2, 3, 4, 5]);
    expect(() => fa.flatten(x, 4)).toThrow('fathom.flatten: startDim must be an integer in [-4, 3] for x [2, 3, 4, 5], got 4');
    expect(() => fa.flatten(x, 2, 1)).toThrow('fathom.flatten: startDim (2 → 2) must not come after endDim (1 → 1) for x [2, 3, 4, 5]');
  });
});

// ---- kernel parity: native vs the TS twin (FATHOM_ISA=scalar runs the reference path) ----
const N: Backend | null = nativeBinding() ? getBackendByName('native') : null;

function outSize(n: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = n + 2 * p - d * (k - 1) - 1;
  if (span < 0) return 0;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= n + p) o--;
  return o;
}

describe.skipIf(!N)('pool kernel parity: native vs ts', () => {
  // [nc, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ceil]
  const geoms: number[][] = [
    [3, 7, 9, 2, 2, 2, 2, 0, 0, 1, 1, 0],
    [2, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, 0],
    [5, 33, 40, 2, 2, 2, 2, 0, 0, 1, 1, 0], // AVX2 2×2/2 path: 2 vectors + a tail, odd H
    [3, 17, 35, 2, 2, 2, 2, 0, 0, 1, 1, 0], // odd W: the last column is no window's
    [2, 6, 34, 2, 2, 2, 2, 0, 0, 1, 1, 1], // ceil mode on even sizes: the 2×2/2 geometry again
    [5, 13, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1],
    [1, 9, 7, 2, 3, 3, 4, 1, 1, 1, 1, 0], // stride > kernel
    [2, 10, 11, 3, 2, 1, 2, 1, 1, 2, 3, 0], // dilation
    [2, 7, 7, 2, 2, 2, 2, 1, 1, 1, 1, 1], // ceil + padding
    [4, 5, 6, 1, 1, 1, 1, 0, 0, 1, 1, 0], // 1×1
    [1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0],
    [0, 5, 5, 2, 2, 2, 2, 0, 0, 1, 1, 0], // N·C = 0
    [3, 4, 4, 2, 2, 1, 1, 1, 1, 5, 5, 0], // windows with no input cell: -Inf, no gradient
    [600, 24, 24, 2, 2, 2, 2, 0, 0, 1, 1, 0], // threaded
    [70, 31, 17, 3, 3, 2, 1, 1, 0, 1, 1, 1], // threaded, ceil
  ];
  function values(len: number, seed: number): Float32Array {
    const x = randomArray(len, seed, -3, 3).map((v) => Math.round(v * 2) / 2);
    for (let i = 5; i < len; i += 37) x[i] = [NaN, Infinity, -Infinity, -0][i % 4];
    return x;
  }
  const TOL = { atol: 1e-6, rtol: 1e-6 };

  for (const [nc, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ceil] of geoms) {
    const label = `nc=${nc} ${h}x${w} k=${kh}x${kw} s=${sh}x${sw} p=${ph}x${pw} d=${dh}x${dw}${ceil ? ' ceil' : ''}`;
    it(`maxPool2d ${label}`, () => {
      const g: Pool2dGeom = { nc, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh: outSize(h, kh, sh, ph, dh, !!ceil), ow: outSize(w, kw, sw, pw, dw, !!ceil) };
      const x = values(nc * h * w, nc + h + w);
      const m = nc * g.oh * g.ow;
      const dy = randomArray(m, 7 + m, -2, 2);
      const [yn, yt] = [garbage(m), garbage(m)];
      N!.maxPool2d(g, x.slice(), yn);
      T.maxPool2d(g, x.slice(), yt);
      compareArrays(`maxPool2d ${label}`, yn, yt, { ...EXACT, signedZeros: true });
      const [dn, dt] = [garbage(x.length), garbage(x.length)];
      N!.maxPool2dBackward(g, x.slice(), dy.slice(), dn);
      T.maxPool2dBackward(g, x.slice(), dy.slice(), dt);
      compareArrays(`maxPool2dBackward ${label}`, dn, dt, TOL);
    });
    if (dh === 1 && dw === 1) {
      for (const [cip, div] of [[true, 0], [false, 0], [true, 7]] as const) {
        it(`avgPool2d ${label} countIncludePad=${cip} divisor=${div}`, () => {
          const g: Pool2dGeom = { nc, h, w, kh, kw, sh, sw, ph, pw, dh: 1, dw: 1, oh: outSize(h, kh, sh, ph, 1, !!ceil), ow: outSize(w, kw, sw, pw, 1, !!ceil) };
          const x = randomArray(nc * h * w, 3 + nc + h, -3, 3);
          const m = nc * g.oh * g.ow;
          const dy = randomArray(m, 9 + m, -2, 2);
          const [yn, yt] = [garbage(m), garbage(m)];
          N!.avgPool2d(g, cip, div, x.slice(), yn);
          T.avgPool2d(g, cip, div, x.slice(), yt);
          compareArrays(`avgPool2d ${label}`, yn, yt, TOL);
          const [dn, dt] = [garbage(x.length), garbage(x.length)];
          N!.avgPool2dBackward(g, cip, div, dy.slice(), dn);
          T.avgPool2dBackward(g, cip, div, dy.slice(), dt);
          compareArrays(`avgPool2dBackward ${label}`, dn, dt, TOL);
        });
      }
    }
  }

  it('maxPool2d with NaN-dense windows (several NaNs per window: the last wins on every path)', () => {
    for (const [k, st, pd] of [[2, 2, 0], [3, 2, 1], [2, 1, 0]]) {
      const nc = 3, h = 11, w = 37;
      const g: Pool2dGeom = { nc, h, w, kh: k, kw: k, sh: st, sw: st, ph: pd, pw: pd, dh: 1, dw: 1, oh: outSize(h, k, st, pd, 1, false), ow: outSize(w, k, st, pd, 1, false) };
      const x = randomArray(nc * h * w, 77 + k, -2, 2).map((v) => (v > 0.4 ? NaN : Math.round(v)));
      const m = nc * g.oh * g.ow;
      const dy = randomArray(m, 78, 1, 2);
      const [yn, yt] = [garbage(m), garbage(m)];
      N!.maxPool2d(g, x.slice(), yn);
      T.maxPool2d(g, x.slice(), yt);
      compareArrays(`maxPool2d NaN-dense k=${k}`, yn, yt, { ...EXACT, signedZeros: true });
      const [dn, dt] = [garbage(x.length), garbage(x.length)];
      N!.maxPool2dBackward(g, x.slice(), dy.slice(), dn);
      T.maxPool2dBackward(g, x.slice(), dy.slice(), dt);
      compareArrays(`maxPool2dBackward NaN-dense k=${k}`, dn, dt, EXACT);
    }
  });

  it('avgPool2d 2×2/2 bitwise on exact values, signed zeros included (the AVX2 body and its tails)', () => {
    for (const [h, w, div] of [[24, 24, 0], [7, 35, 0], [10, 40, 3]]) {
      const nc = 5;
      const g: Pool2dGeom = { nc, h, w, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, dh: 1, dw: 1, oh: h >> 1, ow: w >> 1 };
      const x = randomArray(nc * h * w, 90 + h, -3, 3).map((v) => (Math.abs(v) < 1.2 ? -0 : Math.round(v * 2) / 2));
      const m = nc * g.oh * g.ow;
      const dy = randomArray(m, 91, -2, 2).map((v) => (Math.abs(v) < 0.5 ? -0 : Math.round(v * 4) / 4));
      const [yn, yt] = [garbage(m), garbage(m)];
      N!.avgPool2d(g, true, div, x.slice(), yn);
      T.avgPool2d(g, true, div, x.slice(), yt);
      compareArrays(`avgPool2d exact ${h}x${w}`, yn, yt, { ...EXACT, signedZeros: true });
      const [dn, dt] = [garbage(x.length), garbage(x.length)];
      N!.avgPool2dBackward(g, true, div, dy.slice(), dn);
      T.avgPool2dBackward(g, true, div, dy.slice(), dt);
      compareArrays(`avgPool2dBackward exact ${h}x${w}`, dn, dt, { ...EXACT, signedZeros: true });
    }
  });

  for (const [nc, h, w, oh, ow] of [[3, 7, 9, 3, 4], [2, 5, 5, 7, 3], [1, 1, 1, 1, 1], [4, 10, 6, 1, 1], [0, 4, 4, 2, 2], [500, 13, 13, 5, 5]]) {
    it(`adaptiveAvgPool2d nc=${nc} ${h}x${w} -> ${oh}x${ow}`, () => {
      const g: Pool2dGeom = { nc, h, w, oh, ow, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1 };
      const x = randomArray(nc * h * w, 11 + nc, -3, 3);
      const m = nc * oh * ow;
      const dy = randomArray(m, 13 + m, -2, 2);
      const [yn, yt] = [garbage(m), garbage(m)];
      N!.adaptiveAvgPool2d(g, x.slice(), yn);
      T.adaptiveAvgPool2d(g, x.slice(), yt);
      compareArrays('adaptiveAvgPool2d', yn, yt, TOL);
      const [dn, dt] = [garbage(x.length), garbage(x.length)];
      N!.adaptiveAvgPool2dBackward(g, dy.slice(), dn);
      T.adaptiveAvgPool2dBackward(g, dy.slice(), dt);
      compareArrays('adaptiveAvgPool2dBackward', dn, dt, TOL);
    });
  }
});
