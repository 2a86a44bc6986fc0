/**
 * The raw backend() kernels refuse bad input by name, the same way on both
 * backends (one validation spec, lib/backend/checked.ts), and the addon
 * re-checks what would corrupt memory or results when called directly:
 * sizes before any loop, array types and lengths, detached buffers, outputs
 * overlapping inputs, float32-finite scalars and their ranges, enums, labels.
 */
import { describe, expect, it } from 'vitest';
import { getBackendByName, nativeBinding } from '../../lib/backend/index.js';
import type { Backend, OptimOptions, SgdOptions } from '../../lib/backend/backend.js';

const f = (n: number) => new Float32Array(n);
const filled = (n: number, v = 1) => new Float32Array(n).fill(v);
const detached = (n: number) => {
  const a = f(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
};
const sgd = (o: Partial<SgdOptions> = {}): SgdOptions => ({ lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, ...o });
const adam = (o: Partial<OptimOptions> = {}): OptimOptions => ({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, amsgrad: false, step: 1, ...o });
// Helpers that pass deliberately ill-typed arguments.
const any = (v: unknown) => v as never;

const names = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);

describe.each(names)('%s backend: raw kernels refuse bad input by name', (name) => {
  const B: Backend = getBackendByName(name);

  it('sizes are checked before any loop: 2^53 - 1 rows of zero columns return at once or are refused', () => {
    const t0 = Date.now();
    const big = 2 ** 53 - 1;
    B.softmax(big, 0, f(0), f(0), false);
    B.softmaxBackward(big, 0, f(0), f(0), f(0), true);
    B.transpose2d(big, 0, f(0), f(0));
    B.biasAct(big, 0, f(0), f(0), 'relu');
    B.biasActBackward(big, 0, f(0), f(0), f(0), f(0), 'tanh');
    B.xentProbsBackward(big, 0, f(0), f(0), 1, f(0));
    B.gemm(false, false, big, 0, 0, 1, f(0), f(0), 0, f(0));
    B.reduce('max', [2 ** 40, 0, 2 ** 12], f(0), [1, 0, 0], f(0));
    B.binaryBroadcast('add', [2 ** 40, 0], f(1), [0, 0], f(1), [0, 0], f(0));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(() => B.argmax(big, 0, f(0), new Int32Array(0))).toThrow(/^fathom\.backend\.argmax: d must be > 0 when n > 0/);
    expect(() => B.xentLabels(big, 0, f(0), new Int32Array(0), f(0))).toThrow(/^fathom\.backend\.xentLabels: d \(the class count\) must be > 0/);
    expect(() => B.xentProbs(3, 0, f(0), f(0), f(0))).toThrow(/^fathom\.backend\.xentProbs: d \(the class count\) must be > 0/);
  });

  it('zero rows beside 2^53 - 1 columns return at once too (the other orientation)', () => {
    const t0 = Date.now();
    const big = 2 ** 53 - 1;
    B.softmax(0, big, f(0), f(0), false);
    B.softmaxBackward(0, big, f(0), f(0), f(0), false);
    B.transpose2d(0, big, f(0), f(0));
    B.biasAct(0, big, f(0), null, 'relu');
    B.biasActBackward(0, big, f(0), f(0), f(0), null, 'relu');
    B.xentLabels(0, big, f(0), new Int32Array(0), f(0));
    B.xentLabelsBackward(0, big, f(0), new Int32Array(0), 1, f(0));
    B.xentProbs(0, big, f(0), f(0), f(0));
    B.xentProbsBackward(0, big, f(0), f(0), 1, f(0));
    B.reduce('sum', [0, 2 ** 40], f(0), [0, 1], f(0));
    expect(Date.now() - t0).toBeLessThan(1000);
    const dbias = f(3).fill(5);
    B.biasActBackward(0, 3, f(0), f(0), f(0), dbias, 'relu');
    expect([...dbias]).toEqual([0, 0, 0]); // no rows: the bias gradient is zero
  });

  it('negative, fractional, non-number and overflowing sizes', () => {
    expect(() => B.softmax(-1, 2, f(2), f(2), false)).toThrow(/^fathom\.backend\.softmax: n must be a non-negative integer \(at most 2\^53 - 1\), got number -1$/);
    expect(() => B.transpose2d(1.5, 2, f(3), f(3))).toThrow(/^fathom\.backend\.transpose2d: n must be a non-negative integer .*got number 1\.5/);
    expect(() => B.argmax(any('2'), 1, f(2), new Int32Array(2))).toThrow(/argmax: n must be .*got string '2'/);
    expect(() => B.gemm(false, false, 2, NaN, 2, 1, f(4), f(4), 0, f(4))).toThrow(/gemm: n must be .*got number NaN/);
    expect(() => B.gemm(false, false, 2 ** 30, 2 ** 30, 2 ** 30, 1, f(1), f(1), 0, f(1))).toThrow(/^fathom\.backend\.gemm: m \* k = 1073741824 \* 1073741824 exceeds 2\^53 - 1/);
    expect(() => B.reduce('sum', [2 ** 30, 2 ** 30, 2 ** 30], f(1), [0, 0, 0], f(1))).toThrow(/reduce: the size of shape .* exceeds 2\^53 - 1/);
    expect(() => B.binaryBroadcast('add', [2], f(2), [1], f(2), [1, 0], f(2))).toThrow(/shape, aStrides and bStrides must have the same length, got 1, 1, 2/);
    expect(() => B.binaryBroadcast('add', [2049], f(1), [2 ** 53 - 1], f(1), [0], f(2049))).toThrow(/aStrides reach past 2\^53 - 1/);
    expect(() => B.reduce('sum', [2, 3], f(6), [1, 1], f(2))).toThrow(/^fathom\.backend\.reduce: outStrides reach index 3, so out must hold 4 values, got 2/);
    expect(() => B.reduce('mean', [4], f(4), [0], f(2))).toThrow(/out must hold 1 values, got 2/);
  });

  it('buffer lengths must match the declared sizes', () => {
    expect(() => B.softmax(3, 4, f(12), f(11), false)).toThrow(/^fathom\.backend\.softmax: y must hold 12 float32 values, got 11$/);
    expect(() => B.copy(f(4), f(3))).toThrow(/^fathom\.backend\.copy: y must hold 4 float32 values, got 3$/);
    expect(() => B.sgdStep(f(2), f(2), f(0), sgd(), true)).toThrow(/^fathom\.backend\.sgdStep: v must hold 2 float32 values, got 0$/);
    expect(() => B.argmax(2, 2, f(4), new Int32Array(3))).toThrow(/^fathom\.backend\.argmax: out must hold 2 int32 values, got 3$/);
    expect(() => B.biasAct(2, 3, f(6), f(2), 'none')).toThrow(/biasAct: bias must hold 3 float32 values, got 2/);
  });

  it('wrong typed-array types and missing arguments', () => {
    expect(() => B.unary('neg', any(new Float64Array(2)), f(2), 0, 0)).toThrow(/^fathom\.backend\.unary: x must be a Float32Array, got Float64Array\(2\)$/);
    expect(() => B.unary('neg', any([1, 2]), f(2), 0, 0)).toThrow(/x must be a Float32Array, got Array\(2\)/);
    expect(() => B.xentLabels(1, 2, f(2), any(new Float32Array(1)), f(2))).toThrow(/xentLabels: labels must be a Int32Array, got Float32Array\(1\)/);
    expect(() => B.biasAct(1, 1, f(1), any(undefined), 'none')).toThrow(/biasAct: bias must be a Float32Array, got undefined/);
    expect(() => (B.copy as (...a: unknown[]) => void)(f(1))).toThrow(/^fathom\.backend\.copy: expected 2 arguments, got 1$/);
    expect(() => B.gemm(any('no'), false, 1, 1, 1, 1, f(1), f(1), 0, f(1))).toThrow(/gemm: transA must be a boolean, got string 'no'/);
  });

  it("an op's parameters as its table entry accepts them (softplus beta = 0 would write Inf)", () => {
    expect(() => B.unary('softplus', f(2), f(2), 0, 20)).toThrow(/^fathom\.backend\.unary: p \(softplus's beta\) must be non-zero, got 0$/);
    expect(() => B.unaryBackward('softplus', f(2), f(2), f(2), f(2), 0, 20)).toThrow(/^fathom\.backend\.unaryBackward: p \(softplus's beta\) must be non-zero, got 0$/);
  });

  it('detached (transferred) buffers are refused, never read as empty', () => {
    expect(() => B.unary('relu', detached(4), f(0), 0, 0)).toThrow(/^fathom\.backend\.unary: x is backed by a detached \(transferred\) ArrayBuffer$/);
    expect(() => B.fill(detached(4), 1)).toThrow(/fill: y is backed by a detached/);
    expect(() => B.sgdStep(detached(2), f(0), f(0), sgd(), true)).toThrow(/sgdStep: w is backed by a detached/);
    // Empty views of live buffers are not detached.
    B.argmax(0, 1, f(0), new Int32Array(2).subarray(0, 0));
    B.fill(new Float32Array(0), 1);
  });

  it('outputs overlapping inputs are refused unless the kernel is documented in place', () => {
    const a = f(16);
    expect(() => B.transpose2d(4, 4, a, a)).toThrow(
      /^fathom\.backend\.transpose2d: y overlaps x \(same buffer, bytes 0\.\.64\); the output must not alias the input$/,
    );
    const buf = f(10);
    expect(() => B.copy(buf.subarray(0, 8), buf.subarray(2, 10))).toThrow(
      /^fathom\.backend\.copy: y overlaps x \(same buffer, bytes 8\.\.32\); y may be x itself \(the same view, in place\) but must not partly overlap it$/,
    );
    const m = f(4);
    expect(() => B.optimStep('adam', f(4), f(4), [m, m, null], adam())).toThrow(/^fathom\.backend\.optimStep: s\[1\] overlaps s\[0\] \(same buffer, bytes 0\.\.16\)/);
    const w = f(4);
    expect(() => B.optimStep('adam', w, w, [f(4), f(4), null], adam())).toThrow(/optimStep: w overlaps g/);
    expect(() => B.optimStep('adam', w, f(4), [w, f(4), null], adam())).toThrow(/optimStep: s\[0\] overlaps w/);
    expect(() => B.sgdStep(w, f(4), w, sgd(), true)).toThrow(/sgdStep: w overlaps v/);
    const c = f(4);
    expect(() => B.gemm(false, false, 2, 2, 2, 1, c, f(4), 0, c)).toThrow(/^fathom\.backend\.gemm: c overlaps a/);
    expect(() => B.gemm(false, false, 2, 2, 2, 1, f(4), c, 1, c)).toThrow(/gemm: c overlaps b/);
    const s = f(6);
    expect(() => B.softmax(2, 3, s, s, false)).toThrow(/softmax: y overlaps x/);
    expect(() => B.reduce('sum', [2], s.subarray(0, 2), [0], s.subarray(1, 2))).toThrow(/reduce: out overlaps x/);
    const lab = new Int32Array(4);
    expect(() => B.xentLabels(2, 2, f(4), lab.subarray(0, 2), new Float32Array(lab.buffer))).toThrow(/xentLabels: prob overlaps labels/);
    const dz = f(6);
    expect(() => B.biasActBackward(2, 3, f(6), f(6), dz, dz.subarray(0, 3), 'relu')).toThrow(/biasActBackward: dbias overlaps dz/);
    const bb = f(6);
    expect(() => B.binaryBroadcast('add', [2, 3], bb.subarray(0, 3), [0, 1], f(3), [0, 1], bb)).toThrow(/binaryBroadcast: out overlaps a/);
  });

  it('documented in-place use still works (and computes the right thing)', () => {
    const x = new Float32Array([-1, 2, -3]);
    B.unary('relu', x, x, 0, 0);
    expect([...x]).toEqual([0, 2, 0]);
    const a = new Float32Array([1, 2]);
    B.binary('add', a, new Float32Array([10, 20]), a);
    expect([...a]).toEqual([11, 22]);
    const y = new Float32Array([-1, 1]);
    B.biasAct(1, 2, y, new Float32Array([0.5, 0.5]), 'relu');
    expect([...y]).toEqual([0, 1.5]);
    const dy = new Float32Array([3, 4]);
    B.biasActBackward(1, 2, new Float32Array([0, 1]), dy, dy, null, 'relu');
    expect([...dy]).toEqual([0, 4]);
    const c = new Float32Array([5, 6]);
    B.copy(c, c);
    expect([...c]).toEqual([5, 6]);
    // A contiguous operand read exactly as out is written may be out.
    const o = new Float32Array([1, 2, 3, 4]);
    B.binaryBroadcast('mul', [2, 2], o, [2, 1], new Float32Array([10, 100]), [0, 1], o);
    expect([...o]).toEqual([10, 200, 30, 400]);
  });

  it('random bounds must be finite in float32; a range wider than float32 is fine (computed in float64)', () => {
    expect(() => B.randUniform(f(4), 1n, 0n, -1e300, 1e300)).toThrow(/^fathom\.backend\.randUniform: lo must be a number that is finite in float32/);
    const wide = f(256);
    B.randUniform(wide, 1n, 0n, -3e38, 3e38);
    for (const v of wide) expect(v >= -3e38 && v <= 3e38).toBe(true);
    expect(() => B.randUniform(f(4), 1n, 0n, 2, 1)).toThrow(/randUniform: lo must be <= hi, got lo = 2, hi = 1/);
    expect(() => B.randNormal(f(4), 1n, 0n, 0, 1e300)).toThrow(/randNormal: std must be a number that is finite in float32/);
    expect(() => B.randNormal(f(4), 1n, 0n, 0, -1)).toThrow(/randNormal: std must be in \[0, Infinity\), got -1/);
    expect(() => B.randNormal(f(4), 1n, 0n, 3e38, 1e38)).toThrow(/randNormal: mean ± 5\.77 std .* overflows float32/);
    expect(() => B.randUniform(f(4), -1n, 0n, 0, 1)).toThrow(/randUniform: seed must be a bigint in \[0, 2\^64\), got bigint -1/);
    const y = f(64);
    B.randUniform(y, 7n, 0n, -3e38, 0);
    expect(y.every((v) => Number.isFinite(v) && v >= -3e38 && v <= 0)).toBe(true);
  });

  it('optimizer hyper-parameters must be finite in float32 and in range', () => {
    const w = () => filled(4);
    expect(() => B.sgdStep(w(), f(4), f(4), sgd({ lr: 1e300 }), true)).toThrow(/^fathom\.backend\.sgdStep: lr must be a number that is finite in float32 .*got number 1e\+300$/);
    expect(() => B.sgdStep(w(), f(4), f(4), sgd({ lr: -1 }), true)).toThrow(/sgdStep: lr must be in \[0, Infinity\), got -1/);
    expect(() => B.sgdStep(w(), f(4), f(4), sgd({ momentum: NaN }), true)).toThrow(/sgdStep: momentum must be a number/);
    expect(() => B.sgdStep(w(), f(4), f(4), sgd({ nesterov: true, dampening: 0.5 }), true)).toThrow(/nesterov needs momentum > 0 and dampening = 0/);
    expect(() => B.sgdStep(w(), f(4), f(4), any(null), true)).toThrow(/sgdStep: options must be an options object, got null/);
    const st = (): [Float32Array, Float32Array, null] => [f(4), f(4), null];
    expect(() => B.optimStep('adam', w(), f(4), st(), adam({ lr: 1e300 }))).toThrow(/optimStep: lr must be a number that is finite in float32/);
    expect(() => B.optimStep('adam', w(), f(4), st(), adam({ beta1: 1 }))).toThrow(/optimStep: beta1 must be in \[0, 1\), got 1/);
    expect(() => B.optimStep('adam', w(), f(4), st(), adam({ beta2: 0.9999999999 }))).toThrow(/beta2 must stay below 1 once rounded to float32/);
    expect(() => B.optimStep('adam', w(), f(4), st(), adam({ eps: 0 }))).toThrow(/optimStep: eps must be in \(0, Infinity\), got 0/);
    expect(() => B.optimStep('adam', w(), f(4), st(), adam({ eps: 1e-50 }))).toThrow(/eps must stay above 0 once rounded to float32/);
    expect(() => B.optimStep('adam', w(), f(4), st(), adam({ step: 0 }))).toThrow(/optimStep: step \(the step count\) must be an integer >= 1, got number 0/);
    expect(() => B.optimStep('adam', w(), f(4), st(), adam({ step: 1.5 }))).toThrow(/step \(the step count\) must be an integer >= 1, got number 1\.5/);
    expect(() => B.optimStep('adam', w(), f(4), st(), adam({ amsgrad: true }))).toThrow(/optimStep: s\[2\] must be a Float32Array/);
    expect(() => B.optimStep(any('adamx'), w(), f(4), st(), adam())).toThrow(/optimStep: kind must be one of 'adam', 'adagrad', 'rmsprop', 'adadelta', 'adamax', got/);
    expect(() => B.optimStep('rmsprop', w(), f(4), st(), adam({ alpha: 1.5, momentum: 0, centered: false }))).toThrow(/optimStep: alpha must be in \[0, 1\], got 1.5/);
    expect(() => B.optimStep('rmsprop', w(), f(4), [f(4), null, null], adam({ alpha: 0.9, momentum: 0.9, centered: false }))).toThrow(/optimStep: s\[1\] must be a Float32Array/);
    expect(() => B.optimStep('adadelta', w(), f(4), st(), adam())).toThrow(/optimStep: rho must be a number that is finite in float32 .*got undefined/);
    expect(() => B.optimStep('adagrad', w(), f(4), st(), adam({ lrDecay: -1 }))).toThrow(/optimStep: lrDecay must be in \[0, Infinity\), got -1/);
    expect(() => B.optimStep('adam', w(), f(4), [f(4), f(4)], adam())).toThrow(/optimStep: s must be an array of 3 state buffers/);
    // The largest accepted lr still writes finite values.
    const ww = w();
    B.sgdStep(ww, filled(4, 1e-3), f(4), sgd({ lr: 3e38, momentum: 0 }), true);
    expect(ww.every(Number.isFinite)).toBe(true);
  });

  it('other scalars: gemm alpha/beta, pow exponent, gradients, fill values', () => {
    expect(() => B.gemm(false, false, 1, 1, 1, 1e300, f(1), f(1), 0, f(1))).toThrow(/gemm: alpha must be a number that is finite in float32/);
    expect(() => B.gemm(false, false, 1, 1, 1, 1, f(1), f(1), NaN, f(1))).toThrow(/gemm: beta must be/);
    expect(() => B.unary('pow', f(2), f(2), any('2'), 0)).toThrow(/unary: p must be a number .*got string '2'/);
    expect(() => B.xentLabelsBackward(1, 2, f(2), new Int32Array(1), Infinity, f(2))).toThrow(/xentLabelsBackward: g must be/);
    expect(() => B.fill(f(2), 1e300)).toThrow(/^fathom\.backend\.fill: value 1e\+300 is finite but overflows float32/);
    const y = f(3);
    B.fill(y, -Infinity);
    expect([...y]).toEqual([-Infinity, -Infinity, -Infinity]);
  });

  it('enum values and label ranges', () => {
    expect(() => B.unary(any('erf'), f(1), f(1), 0, 0)).toThrow(/^fathom\.backend\.unary: op must be one of 'neg', .*'silu', got string 'erf'$/);
    expect(() => B.unary('softplus', f(1), f(1), 1, any(NaN))).toThrow(/^fathom\.backend\.unary: q must be a number that is finite in float32/);
    expect(() => B.binary(any('toString'), f(1), f(1), f(1))).toThrow(/binary: op must be one of 'add'.*got string 'toString'/);
    expect(() => B.reduce(any(0), [1], f(1), [0], f(1))).toThrow(/reduce: op must be one of 'sum', 'mean', 'max', got number 0/);
    expect(() => B.biasAct(1, 1, f(1), null, any('gelu'))).toThrow(/biasAct: act must be one of 'none', 'relu', 'sigmoid', 'tanh', got string 'gelu'/);
    expect(() => B.xentLabels(2, 3, f(6), new Int32Array([0, 3]), f(6))).toThrow(/^fathom\.backend\.xentLabels: labels\[1\] = 3 is outside \[0, 3\)$/);
    expect(() => B.xentLabelsBackward(1, 3, f(3), new Int32Array([-1]), 1, f(3))).toThrow(/xentLabelsBackward: labels\[0\] = -1 is outside \[0, 3\)/);
  });

  it('argmax: NaN counts as the maximum (first NaN wins), as PyTorch and NumPy', () => {
    const x = new Float32Array([1, NaN, 5, NaN, 9, 2, 3, 7, NaN, NaN, NaN, NaN, -Infinity, -Infinity, Infinity, NaN]);
    const out = new Int32Array(4);
    B.argmax(4, 4, x, out);
    expect([...out]).toEqual([1, 0, 0, 3]);
  });
});

describe.skipIf(!nativeBinding())('the addon re-checks overlap and float32 range when called directly', () => {
  const b = nativeBinding()!;
  it('refuses overlapping outputs and non-float32 scalars', () => {
    const a = f(16);
    expect(() => b.transpose2d(4, 4, a, a)).toThrow(/^fathom\.transpose2d: y overlaps x \(64 bytes in common\); the output must not alias the input$/);
    const buf = f(10);
    expect(() => b.copy(buf.subarray(0, 8), buf.subarray(2, 10))).toThrow(/^fathom\.copy: y overlaps x \(24 bytes in common\); y may be x itself but must not partly overlap it$/);
    const m = f(4);
    expect(() => b.optimStep(0, f(4), f(4), m, m, null, 1, 1e-3, 0, 1e-8, 0.9, 0.999, 0, 0, 0, 0, false, false, false)).toThrow(/^fathom\.optimStep: s1 overlaps s0/);
    expect(() => b.optimStep(0, f(4), f(4), f(4), f(4), null, 1, 1e-3, 0, 1e-8, 0.9, 0.999, 0, 0, 0, 0, false, true, false)).toThrow(/^fathom\.optimStep: s2 \(a state buffer this optimizer uses\) must be a Float32Array, got null/);
    expect(() => b.optimStep(5, f(4), f(4), f(4), f(4), null, 1, 1e-3, 0, 1e-8, 0.9, 0.999, 0, 0, 0, 0, false, false, false)).toThrow(/^fathom\.optimStep: kind out of range/);
    const c = f(4);
    expect(() => b.gemm(false, false, 2, 2, 2, 1, f(4), c, 0, c)).toThrow(/^fathom\.gemm: c overlaps b/);
    expect(() => b.sgdStep(filled(2), f(2), f(2), 1e300, 0, 0, 0, false, true)).toThrow(/^fathom\.sgdStep: lr must be finite in float32/);
    expect(() => b.sgdStep(filled(2), f(2), f(2), -1, 0, 0, 0, false, true)).toThrow(/^fathom\.sgdStep: lr must be in \[0, /);
    expect(() => b.optimStep(0, f(2), f(2), f(2), f(2), null, 1, 1e-3, 0, 1e-8, 1, 0.999, 0, 0, 0, 0, false, false, false)).toThrow(/^fathom\.optimStep: beta1 must be in \[0, 1\)/);
    expect(() => b.optimStep(0, f(2), f(2), f(2), f(2), null, 1, 1e-3, 0, 0, 0.9, 0.999, 0, 0, 0, 0, false, false, false)).toThrow(/^fathom\.optimStep: eps must be > 0/);
    expect(() => b.optimStep(2, f(2), f(2), f(2), null, null, 1, 1e-3, 0, 1e-8, 0, 0, 1.5, 0, 0, 0, false, false, false)).toThrow(/^fathom\.optimStep: alpha must be in \[0, 1\]/);
    expect(() => b.randUniform(f(2), 1n, 0n, -1e300, 1e300)).toThrow(/^fathom\.randUniform: lo must be finite in float32/);
    const wide = f(64);
    b.randUniform(wide, 1n, 0n, -3e38, 3e38);
    for (const v of wide) expect(Number.isFinite(v)).toBe(true);
    expect(() => b.randNormal(f(2), 1n, 0n, 0, -1)).toThrow(/^fathom\.randNormal: std must be in \[0, /);
    expect(() => b.fill(f(2), 1e300)).toThrow(/^fathom\.fill: value 1e\+300 is finite but overflows float32/);
    expect(() => b.biasAct(1, 1, f(1), undefined as never, 0)).toThrow(/^fathom\.biasAct: bias must be a Float32Array, got undefined/);
    expect(() => b.argmax(3, 0, f(0), new Int32Array(3))).toThrow(/^fathom\.argmax: d must be > 0 when n > 0/);
  });

  it('a huge row count beside zero columns returns at once', () => {
    const t0 = Date.now();
    b.softmax(2 ** 53 - 1, 0, f(0), f(0), false);
    b.transpose2d(2 ** 53 - 1, 0, f(0), f(0));
    b.biasActBackward(2 ** 53 - 1, 0, f(0), f(0), f(0), f(0), 1);
    b.biasActBackward(0, 2 ** 53 - 1, f(0), f(0), f(0), null, 1);
    b.softmax(0, 2 ** 53 - 1, f(0), f(0), false);
    b.binaryBroadcast(0, [2 ** 40, 0], f(1), [0, 0], f(1), [0, 0], f(0));
    b.reduce(0, [2 ** 40, 0], f(0), [0, 0], f(1));
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
