/**
 * Convolutions: known answers from PyTorch (fixtures/conv-torch.py),
 * native vs TS kernel parity at awkward sizes, and the errors.
 * Gradients by finite differences: test/ops/gradcheck.test.ts.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import * as fa from '../../lib/index.js';
import { Tensor, setBackend, tensor } from '../../lib/index.js';
import { getBackendByName, nativeBinding } from '../../lib/backend/index.js';
import type { ConvGeometry } from '../../lib/backend/backend.js';
import { randomArray } from '../helpers/random.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);

interface Fixture {
  name: string; op: 'conv2d' | 'conv1d' | 'convTranspose2d'; options: Record<string, unknown>;
  x: { shape: number[]; data: number[] }; w: { shape: number[]; data: number[] };
  y: { shape: number[]; data: number[] }; gy: number[]; dx: number[]; dw: number[]; b?: number[]; db?: number[];
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/conv-torch.json', import.meta.url), 'utf8')) as { cases: Fixture[] };

function close(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = 2e-4): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * (1 + Math.abs(want[i])))) throw new Error(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

describe.each(backends)('conv ops match PyTorch on the %s backend', (name) => {
  afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    setBackend(name);
    const x = tensor(Float32Array.from(c.x.data), c.x.shape, { requiresGrad: true });
    const w = tensor(Float32Array.from(c.w.data), c.w.shape, { requiresGrad: true });
    const b = c.b ? tensor(Float32Array.from(c.b), [c.b.length], { requiresGrad: true }) : null;
    const f = { conv2d: fa.conv2d, conv1d: fa.conv1d, convTranspose2d: fa.convTranspose2d }[c.op] as
      (x: Tensor, w: Tensor, b: Tensor | null, o: object) => Tensor;
    const y = f(x, w, b, c.options);
    expect(y.shape).toEqual(c.y.shape);
    close(`${c.name} y`, y.data as Float32Array, c.y.data);
    fa.sum(fa.mul(y, tensor(Float32Array.from(c.gy), c.y.shape))).backward();
    close(`${c.name} dx`, x.grad!.data as Float32Array, c.dx);
    close(`${c.name} dw`, w.grad!.data as Float32Array, c.dw);
    if (b) close(`${c.name} db`, b.grad!.data as Float32Array, c.db!);
  });
});

// ---- kernel parity: native vs the TS reference --------------------------------------
const geom = (n: number, c: number, h: number, w: number, o: number, kh: number, kw: number,
  s: [number, number] = [1, 1], p: [number, number] = [0, 0], d: [number, number] = [1, 1], groups = 1,
  out?: [number, number]): ConvGeometry => {
  const oh = out ? out[0] : Math.floor((h + 2 * p[0] - d[0] * (kh - 1) - 1) / s[0]) + 1;
  const ow = out ? out[1] : Math.floor((w + 2 * p[1] - d[1] * (kw - 1) - 1) / s[1]) + 1;
  return { n, c, h, w, o, kh, kw, strideH: s[0], strideW: s[1], padH: p[0], padW: p[1], dilationH: d[0], dilationW: d[1], groups, oh, ow };
};
const PARITY: [string, ConvGeometry][] = [
  ['odd H/W 3×3', geom(2, 3, 7, 9, 4, 3, 3)],
  ['padding 1, stride 2', geom(3, 2, 9, 8, 5, 3, 3, [2, 2], [1, 1])],
  ['stride > kernel', geom(2, 2, 11, 10, 3, 2, 2, [3, 4])],
  ['dilation 2', geom(1, 3, 9, 10, 2, 3, 3, [1, 1], [2, 1], [2, 2])],
  ['depthwise (groups = channels)', geom(2, 6, 8, 7, 6, 3, 3, [1, 1], [1, 1], [1, 1], 6)],
  ['groups 2, channel multiplier', geom(2, 4, 6, 5, 6, 3, 2, [1, 2], [1, 0], [1, 1], 2)],
  ['1×1 (no im2col)', geom(3, 5, 4, 6, 7, 1, 1)],
  ['1×1 stride 2', geom(2, 5, 5, 6, 3, 1, 1, [2, 2])],
  ['batch 1', geom(1, 4, 13, 11, 8, 5, 5, [1, 1], [2, 2])],
  ['N = 0', geom(0, 3, 5, 5, 2, 3, 3)],
  ['asymmetric (same, even kernel): oh given', geom(2, 2, 5, 6, 3, 4, 2, [1, 1], [1, 0], [1, 1], 1, [5, 6])],
  ['outputs past the padded input read zeros', geom(1, 2, 4, 4, 2, 3, 3, [2, 2], [0, 0], [1, 1], 1, [3, 3])],
  ['threaded: batch 16, 28×28×1 → 8 5×5', geom(16, 1, 28, 28, 8, 5, 5)],
  ['threaded: batch 9, 12×12×8 → 16 5×5, groups 2', geom(9, 8, 12, 12, 16, 5, 5, [1, 1], [2, 2], [1, 1], 2)],
];

describe.skipIf(!nativeBinding())('conv kernels: native vs TS', () => {
  const T = getBackendByName('ts');
  const N = nativeBinding() ? getBackendByName('native') : T;
  it.each(PARITY)('%s', (_name, g) => {
    const xs = g.n * g.c * g.h * g.w, ws = g.o * (g.c / g.groups) * g.kh * g.kw, ys = g.n * g.o * g.oh * g.ow;
    const x = randomArray(xs, 1), w = randomArray(ws, 2), dy = randomArray(ys, 3);
    const tol = 1e-5 * Math.sqrt((g.c / g.groups) * g.kh * g.kw * Math.max(1, g.n * g.oh * g.ow / 64));
    const y1 = new Float32Array(ys).fill(7), y2 = new Float32Array(ys).fill(-7);
    N.conv2d(g, x, w, null, 'none', y1);
    T.conv2d(g, x, w, null, 'none', y2);
    close('conv2d', y1, y2, tol);
    const bias = randomArray(g.o, 4);
    for (const act of ['relu', 'sigmoid', 'tanh', 'none'] as const) {
      N.conv2d(g, x, w, bias, act, y1);
      T.conv2d(g, x, w, bias, act, y2);
      close(`conv2d + bias, ${act}`, y1, y2, tol);
    }
    const dx1 = new Float32Array(xs).fill(7), dx2 = new Float32Array(xs).fill(-7);
    N.conv2dBackwardData(g, dy, w, dx1);
    T.conv2dBackwardData(g, dy, w, dx2);
    close('conv2dBackwardData', dx1, dx2, tol);
    const dw1 = new Float32Array(ws).fill(7), dw2 = new Float32Array(ws).fill(-7);
    N.conv2dBackwardWeight(g, x, dy, dw1);
    T.conv2dBackwardWeight(g, x, dy, dw2);
    close('conv2dBackwardWeight', dw1, dw2, tol);
    if (g.n === 0) expect(Array.from(dw1)).toEqual(new Array(ws).fill(0)); // no images: dw is zeros, not left as it was
  });

  it('the weight gradient does not depend on how the batch was split (sums in thread order)', () => {
    const g = geom(8, 3, 10, 10, 4, 3, 3);
    const x = randomArray(800 * 3, 4), dy = randomArray(8 * 4 * 64, 5);
    const a = new Float32Array(4 * 27), b = new Float32Array(4 * 27);
    N.conv2dBackwardWeight(g, x, dy, a);
    N.conv2dBackwardWeight(g, x, dy, b);
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

// ---- errors ----------------------------------------------------------------------------
describe('conv errors name the op, the argument, what was expected and what came', () => {
  const z = (...s: number[]): Tensor => fa.zeros(s);
  it('conv2d shapes', () => {
    expect(() => fa.conv2d(z(1, 3, 4, 4), z(8, 3, 5, 5))).toThrow(
      /^fathom\.conv2d: input x \[1, 3, 4, 4\] with padding 0 is smaller than the kernel 5×5; the output would be empty$/);
    expect(() => fa.conv2d(z(1, 3, 4, 4), z(8, 3, 3, 3), null, { dilation: 2 })).toThrow(
      /smaller than the kernel 3×3 \(5×5 with dilation 2×2\); the output would be empty/);
    expect(() => fa.conv2d(z(3, 4, 4), z(8, 3, 3, 3))).toThrow(/^fathom\.conv2d: expected input x \[N, C, H, W\], got \[3, 4, 4\]$/);
    expect(() => fa.conv2d(z(1, 2, 4, 4), z(8, 3, 3, 3))).toThrow(
      /^fathom\.conv2d: expected input x \[N, 3, H, W\] for weight \[8, 3, 3, 3\], got \[1, 2, 4, 4\]$/);
    expect(() => fa.conv2d(z(1, 4, 4, 4), z(8, 3, 3, 3), null, { groups: 2 })).toThrow(
      /expected input x \[N, 6, H, W\] for weight \[8, 3, 3, 3\] and groups = 2, got \[1, 4, 4, 4\]/);
    expect(() => fa.conv2d(z(1, 6, 4, 4), z(9, 3, 3, 3), null, { groups: 2 })).toThrow(/9 output channels, not divisible by groups = 2/);
    expect(() => fa.conv2d(z(1, 3, 4, 4), z(3, 3, 3))).toThrow(/^fathom\.conv2d: expected weight \[outC, inC\/groups, kH, kW\], got \[3, 3, 3\]$/);
    expect(() => fa.conv2d(z(1, 3, 4, 4), z(2, 3, 3, 3), z(3))).toThrow(/^fathom\.conv2d: expected bias \[2\], got \[3\]$/);
    expect(() => fa.conv2d(z(1, 3, 4, 4), z(2, 3, 0, 3))).toThrow(/weight \[2, 3, 0, 3\] must have no zero dimension/);
  });
  it('conv2d options', () => {
    const x = z(1, 1, 5, 5), w = z(1, 1, 3, 3);
    expect(() => fa.conv2d(x, w, null, { stride: 0 })).toThrow(/^fathom\.conv2d: stride must be an integer >= 1, got 0$/);
    expect(() => fa.conv2d(x, w, null, { padding: -1 })).toThrow(/padding must be an integer >= 0, got -1/);
    expect(() => fa.conv2d(x, w, null, { padding: [1, 1.5] })).toThrow(/padding\[1\] must be an integer >= 0, got 1\.5/);
    expect(() => fa.conv2d(x, w, null, { padding: 'full' as 'same' })).toThrow(/padding must be a number, a pair, 'same' or 'valid', got "full"/);
    expect(() => fa.conv2d(x, w, null, { padding: 'same', stride: 2 })).toThrow(/^fathom\.conv2d: padding 'same' needs stride 1, got stride 2×2$/);
    expect(() => fa.conv2d(x, w, null, { groups: 0 })).toThrow(/groups must be an integer >= 1, got 0/);
    expect(() => fa.conv2d(x, w, null, { strides: 1 } as object)).toThrow(/unknown option 'strides'/);
    expect(() => fa.conv2d(x, z(1, 1, 6, 6), null, { padding: 'valid' })).toThrow(/padding 0 is smaller than the kernel 6×6/);
  });
  it('zero-size batches and outputs that exist', () => {
    expect(fa.conv2d(z(0, 2, 5, 5), z(3, 2, 3, 3)).shape).toEqual([0, 3, 3, 3]);
    expect(fa.conv2d(z(1, 1, 3, 3), z(1, 1, 5, 5), null, { padding: 1 }).shape).toEqual([1, 1, 1, 1]);
    expect(fa.conv2d(z(1, 1, 5, 6), z(1, 1, 4, 3), null, { padding: 'same' }).shape).toEqual([1, 1, 5, 6]);
    expect(fa.conv1d(z(2, 1, 7), z(3, 1, 2), null, { padding: 'same' }).shape).toEqual([2, 3, 7]);
    expect(fa.convTranspose2d(z(0, 2, 3, 3), z(2, 4, 3, 3)).shape).toEqual([0, 4, 5, 5]);
  });
  it('conv1d', () => {
    expect(() => fa.conv1d(z(1, 3, 4, 4), z(8, 3, 3))).toThrow(/^fathom\.conv1d: expected input x \[N, C, L\], got \[1, 3, 4, 4\]$/);
    expect(() => fa.conv1d(z(1, 3, 4), z(8, 3, 5))).toThrow(/^fathom\.conv1d: input x \[1, 3, 4\] with padding 0 is smaller than the kernel 5; the output would be empty$/);
    expect(() => fa.conv1d(z(1, 3, 4), z(8, 3, 3), null, { stride: [1, 1] as unknown as number })).toThrow(/conv1d: stride must be an integer >= 1, got an Array\(2\)/);
  });
  it('convTranspose2d', () => {
    expect(() => fa.convTranspose2d(z(1, 2, 3, 3), z(3, 4, 3, 3))).toThrow(
      /^fathom\.convTranspose2d: expected input x \[N, 3, H, W\] for weight \[3, 4, 3, 3\], got \[1, 2, 3, 3\]$/);
    expect(() => fa.convTranspose2d(z(1, 2, 3, 3), z(2, 4, 3, 3), null, { outputPadding: 1 })).toThrow(
      /^fathom\.convTranspose2d: outputPadding 1×1 must be smaller than stride 1×1 or dilation 1×1$/);
    expect(() => fa.convTranspose2d(z(1, 2, 1, 1), z(2, 4, 3, 3), null, { padding: 2 })).toThrow(
      /gives an output of -1×-1; the output would be empty/);
    expect(() => fa.convTranspose2d(z(1, 2, 3, 3), z(2, 4, 3, 3), z(2))).toThrow(/^fathom\.convTranspose2d: expected bias \[4\], got \[2\]$/);
    expect(() => fa.convTranspose2d(z(1, 2, 3, 3), z(2, 4, 3, 3), null, { padding: 'same' as unknown as number })).toThrow(/padding must be a number or a pair/);
  });
});

describe.each(backends)('the conv kernels refuse bad input by name (%s)', (name) => {
  const B = getBackendByName(name);
  const g = geom(1, 2, 4, 4, 3, 3, 3);
  const f = (n: number) => new Float32Array(n);
  it('checked.ts', () => {
    expect(() => B.conv2d(g, f(31), f(54), null, 'none', f(12))).toThrow(/^fathom\.backend\.conv2d: x must hold 32 float32 values, got 31$/);
    expect(() => B.conv2d(g, f(32), f(54), null, 'none', f(11))).toThrow(/^fathom\.backend\.conv2d: y must hold 12 float32 values, got 11$/);
    expect(() => B.conv2d({ ...g, groups: 2 }, f(32), f(27), null, 'none', f(12))).toThrow(/g\.groups = 2 must divide g\.c = 2 and g\.o = 3/);
    expect(() => B.conv2d({ ...g, strideH: 0 }, f(32), f(54), null, 'none', f(12))).toThrow(/g\.strideH must be >= 1, got 0/);
    expect(() => B.conv2d({ ...g, oh: 1.5 }, f(32), f(54), null, 'none', f(12))).toThrow(/g\.oh must be an integer in \[0, 2\^31 - 1\], got number 1\.5/);
    expect(() => B.conv2d(null as unknown as ConvGeometry, f(32), f(54), null, 'none', f(12))).toThrow(/g must be a ConvGeometry object, got null/);
    const buf = f(32 + 12);
    expect(() => B.conv2d(g, buf.subarray(0, 32), f(54), null, 'none', buf.subarray(20, 32))).toThrow(/^fathom\.backend\.conv2d: y overlaps x/);
    expect(() => B.conv2d(g, f(32), f(54), f(2), 'none', f(12))).toThrow(/^fathom\.backend\.conv2d: bias must hold 3 float32 values, got 2$/);
    expect(() => B.conv2d(g, f(32), f(54), null, 'gelu' as 'relu', f(12))).toThrow(/fathom\.backend\.conv2d: act must be one of/);
    expect(() => B.conv2dBackwardData(g, f(12), f(54), f(31))).toThrow(/^fathom\.backend\.conv2dBackwardData: dx must hold 32 float32 values, got 31$/);
    expect(() => B.conv2dBackwardWeight(g, f(32), f(12), f(53))).toThrow(/^fathom\.backend\.conv2dBackwardWeight: dw must hold 54 float32 values, got 53$/);
  });
});

describe.skipIf(!nativeBinding())('the addon re-checks the conv geometry and buffers', () => {
  const b = nativeBinding()!;
  const G = (v: number[]) => Int32Array.from(v);
  const ok = [1, 2, 4, 4, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1, 2, 2];
  const f = (n: number) => new Float32Array(n);
  it('refuses what could read or write out of bounds', () => {
    expect(() => b.conv2d(G(ok), f(32), f(54), null, 0, f(11))).toThrow(/^fathom\.conv2d: y must hold 12 float32 values, got 11$/);
    expect(() => b.conv2d(G(ok.slice(0, 15)), f(32), f(54), null, 0, f(12))).toThrow(/^fathom\.conv2d: geom must hold 16 int32 values, got 15$/);
    const neg = ok.slice(); neg[9] = -1;
    expect(() => b.conv2d(G(neg), f(32), f(54), null, 0, f(12))).toThrow(/geom\[9\] must be >= 0, got -1/);
    const grp = ok.slice(); grp[13] = 2;
    expect(() => b.conv2dBackwardData(G(grp), f(12), f(27), f(32))).toThrow(/^fathom\.conv2dBackwardData: groups = 2 must divide c = 2 and o = 3$/);
    const st = ok.slice(); st[8] = 0;
    expect(() => b.conv2dBackwardWeight(G(st), f(32), f(12), f(54))).toThrow(/kernel size, stride and dilation must be >= 1/);
    const big = ok.slice(); big[0] = 2 ** 31 - 1; big[1] = 2 ** 31 - 1; big[2] = 2 ** 31 - 1;
    expect(() => b.conv2d(G(big), f(32), f(54), null, 0, f(12))).toThrow(/sizes overflow/);
    const buf = f(54 + 12);
    expect(() => b.conv2d(G(ok), f(32), buf.subarray(0, 54), null, 0, buf.subarray(50, 62))).toThrow(/y overlaps w/);
    expect(() => b.conv2d(G(ok), f(32), f(54), f(2), 0, f(12))).toThrow(/^fathom\.conv2d: bias must hold 3 float32 values, got 2$/);
    expect(() => b.conv2d(G(ok), f(32), f(54), null, 4, f(12))).toThrow(/^fathom\.conv2d: act/);
    expect(() => (b.conv2d as unknown as () => void)()).toThrow(/fathom\.conv2d: expected 6 arguments, got 0/);
  });
});

describe.each(backends)('conv in a network (%s)', (name) => {
  afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));
  it('train: conv2d + relu → convTranspose2d → conv1d → linear learns to tell two patterns apart', () => {
    setBackend(name);
    fa.manualSeed(5);
    const p = (s: number[], scale: number) => fa.mul(fa.randn(s), scale).detach();
    const w1 = p([4, 1, 3, 3], 0.5), b1 = fa.zeros([4]);
    const w2 = p([4, 2, 2, 2], 0.5);
    const w3 = p([3, 2, 3], 0.5);
    const lw = p([2, 3 * 23], 0.1), lb = fa.zeros([2]);
    for (const t of [w1, b1, w2, w3, lw, lb]) t.requiresGrad = true;
    // 8 images 6×6: a vertical bar (class 0) or a horizontal bar (class 1) at varying places
    const data = new Float32Array(8 * 36);
    const labels: number[] = [];
    for (let i = 0; i < 8; i++) {
      const k = 1 + (i >> 1) % 4;
      for (let j = 0; j < 6; j++) data[i * 36 + (i % 2 === 0 ? j * 6 + k : k * 6 + j)] = 1;
      labels.push(i % 2);
    }
    const x = tensor(data, [8, 1, 6, 6]);
    const y = tensor(Int32Array.from(labels), [8]);
    const opt = new fa.optim.Adam([w1, b1, w2, w3, lw, lb], { lr: 0.02 });
    const loss = (): Tensor => {
      const h1 = fa.conv2d(x, w1, b1, { activation: 'relu' });               // [8, 4, 4, 4]
      const h2 = fa.convTranspose2d(h1, w2, null, { stride: 1 });           // [8, 2, 5, 5]
      const h3 = fa.conv1d(fa.reshape(h2, [8, 2, 25]), w3, null, { stride: 1 }); // [8, 3, 23]
      return fa.softmaxCrossEntropy(fa.linear(fa.tanh(fa.reshape(h3, [8, 3 * 23])), lw, lb), y);
    };
    const first = loss().item();
    for (let i = 0; i < 60; i++) {
      opt.zeroGrad();
      loss().backward();
      opt.step();
    }
    expect(loss().item()).toBeLessThan(first / 4);
    expect(w1.grad).not.toBeNull();
    expect(w2.grad).not.toBeNull();
  });
});
