// Known-answer tests of the TypeScript kernels (lib/backend/ts/kernels/*):
// small hand-computed cases with the arithmetic in comments, the Random123
// Philox known-answer vectors, and special values (0, -0, ±Inf, NaN).
// The native backend is compared against these kernels in the parity suite.
import { describe, expect, it } from 'vitest';
import { tsBackend as B } from '../../lib/backend/ts/index.js';
import { philox4x32 } from '../../lib/backend/ts/kernels/random.js';
import type { OptimOptions, SgdOptions } from '../../lib/backend/backend.js';

const f32 = (xs: number[]) => new Float32Array(xs);
const list = (a: Float32Array | Int32Array) => Array.from(a);

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(e)) { expect(a, `index ${i}`).toBeNaN(); continue; }
    if (!Number.isFinite(e)) { expect(a, `index ${i}`).toBe(e); continue; }
    expect(Math.abs(a - e), `index ${i}: got ${a}, want ${e}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e)));
  }
}

describe('ts unary', () => {
  const x = f32([-2, -0.5, 0, 0.5, 2]);
  const run = (op: Parameters<typeof B.unary>[0], input: Float32Array, p = 0) => {
    const y = new Float32Array(input.length);
    B.unary(op, input, y, p, 0);
    return y;
  };

  it('computes each op', () => {
    close(run('neg', x), [2, 0.5, -0, -0.5, -2]);
    close(run('exp', x), [Math.exp(-2), Math.exp(-0.5), 1, Math.exp(0.5), Math.exp(2)]);
    close(run('square', x), [4, 0.25, 0, 0.25, 4]);
    close(run('abs', x), [2, 0.5, 0, 0.5, 2]);
    close(run('relu', x), [0, 0, 0, 0.5, 2]);
    close(run('sign', x), [-1, -1, 0, 1, 1]);
    close(run('tanh', x), [Math.tanh(-2), Math.tanh(-0.5), 0, Math.tanh(0.5), Math.tanh(2)]);
    close(run('sigmoid', x), [1 / (1 + Math.exp(2)), 1 / (1 + Math.exp(0.5)), 0.5, 1 / (1 + Math.exp(-0.5)), 1 / (1 + Math.exp(-2))]);
    const pos = f32([0.25, 1, 4]);
    close(run('sqrt', pos), [0.5, 1, 2]);
    close(run('log', pos), [Math.log(0.25), 0, Math.log(4)]);
    close(run('pow', pos, 3), [1 / 64, 1, 64]);
    close(run('pow', pos, -0.5), [2, 1, 0.5]);
  });

  it('handles special values', () => {
    const s = f32([NaN, Infinity, -Infinity, -0, 0]);
    close(run('sign', s), [NaN, 1, -1, 0, 0]);
    expect(Object.is(run('sign', f32([-0]))[0], -0)).toBe(true); // Math.sign keeps -0
    close(run('relu', s), [NaN, Infinity, 0, 0, 0]);
    expect(Object.is(run('relu', f32([-0]))[0], -0)).toBe(true); // relu(-0) = -0 (x < 0 ? 0 : x)
    close(run('sigmoid', s), [NaN, 1, 0, 0.5, 0.5]);
    // Stable sigmoid: no overflow at the float extremes (e^1000 would be Inf/Inf = NaN).
    close(run('sigmoid', f32([-1000, 1000, -3e38, 3e38])), [0, 1, 0, 1]);
    close(run('tanh', s), [NaN, 1, -1, 0, 0]);
    close(run('exp', f32([-Infinity, Infinity, 100])), [0, Infinity, Infinity]); // e^100 overflows float32
    close(run('log', f32([0, -1, Infinity])), [-Infinity, NaN, Infinity]);
    close(run('sqrt', f32([-1, -0, Infinity])), [NaN, 0, Infinity]);
  });

  it('works in place (x === y)', () => {
    const a = f32([1, -2, 3]);
    B.unary('square', a, a, 0, 0);
    expect(list(a)).toEqual([1, 4, 9]);
  });
});

describe('ts unaryBackward', () => {
  const back = (op: Parameters<typeof B.unary>[0], xs: number[], dys: number[], p = 0) => {
    const x = f32(xs);
    const y = new Float32Array(x.length);
    B.unary(op, x, y, p, 0);
    const dx = new Float32Array(x.length).fill(NaN); // written, never accumulated
    B.unaryBackward(op, x, y, f32(dys), dx, p, 0);
    return dx;
  };

  it('applies each derivative', () => {
    // relu'(x) = [x > 0]; relu'(0) = 0
    close(back('relu', [-1, 0, 2], [3, 3, 3]), [0, 0, 3]);
    // sign' = 0 everywhere (even at NaN)
    close(back('sign', [-1, 0, NaN], [3, 3, 3]), [0, 0, 0]);
    // abs'(x) = sign(x): abs'(0) = 0
    close(back('abs', [-1, 0, 2], [3, 3, 3]), [-3, 0, 3]);
    // square'(x) = 2x
    close(back('square', [-1, 0, 2], [3, 3, 3]), [-6, 0, 12]);
    // neg' = -1
    close(back('neg', [5, 6], [2, -1]), [-2, 1]);
    // exp' = y: d/dx e^x at 0 and 1
    close(back('exp', [0, 1], [1, 2]), [1, 2 * Math.fround(Math.E)]);
    // log'(x) = 1/x
    close(back('log', [0.5, 4], [1, 2]), [2, 0.5]);
    // sqrt'(x) = 0.5 / sqrt(x): at 4 -> 0.25, at 0.25 -> 1
    close(back('sqrt', [4, 0.25], [1, 2]), [0.25, 2]);
    // pow'(x) = p x^(p-1): p = 3 at x = 2 -> 12; p = -1 at x = 2 -> -0.25
    close(back('pow', [2], [1], 3), [12]);
    close(back('pow', [2], [1], -1), [-0.25]);
    // sigmoid' = y(1 - y): at 0, y = 0.5 -> 0.25
    close(back('sigmoid', [0], [4]), [1]);
    // tanh' = 1 - y²: at 0 -> 1
    close(back('tanh', [0], [4]), [4]);
  });

  it('uses the stored y for sigmoid and tanh', () => {
    const x = f32([1, 2]);
    const y = f32([0.25, 0.5]); // deliberately not f(x): the rule reads y
    const dx = new Float32Array(2);
    B.unaryBackward('sigmoid', x, y, f32([1, 1]), dx, 0, 0);
    close(dx, [0.1875, 0.25]);
    B.unaryBackward('tanh', x, y, f32([1, 1]), dx, 0, 0);
    close(dx, [0.9375, 0.75]);
  });
});

describe('ts binary', () => {
  const run = (op: Parameters<typeof B.binary>[0], as: number[], bs: number[]) => {
    const out = new Float32Array(as.length);
    B.binary(op, f32(as), f32(bs), out);
    return out;
  };

  it('computes each op', () => {
    close(run('add', [1, 2], [3, -5]), [4, -3]);
    close(run('sub', [1, 2], [3, -5]), [-2, 7]);
    close(run('mul', [1.5, 2], [3, -5]), [4.5, -10]);
    close(run('div', [1, 1, -1, 0], [4, 0, 0, 0]), [0.25, Infinity, -Infinity, NaN]);
    close(run('max', [1, 5, NaN, 2], [3, -5, 1, NaN]), [3, 5, NaN, NaN]);
    close(run('min', [1, 5, NaN, 2], [3, -5, 1, NaN]), [1, -5, NaN, NaN]);
    close(run('eq', [1, 2, NaN, 0], [1, 3, NaN, -0]), [1, 0, 0, 1]);
  });

  it('rounds like float32 arithmetic', () => {
    // 0.1f + 0.2f in float32 is 0.3000000119..., not the double 0.30000000000000004
    const out = run('add', [0.1], [0.2]);
    expect(out[0]).toBe(Math.fround(Math.fround(0.1) + Math.fround(0.2)));
  });

  it('broadcasts with strides', () => {
    // a: (2, 1) = [[1], [2]], b: (3) = [10, 20, 30] -> out (2, 3)
    const out = new Float32Array(6);
    B.binaryBroadcast('add', [2, 3], f32([1, 2]), [1, 0], f32([10, 20, 30]), [0, 1], out);
    expect(list(out)).toEqual([11, 21, 31, 12, 22, 32]);
    // 3-d: a (2, 1, 2) and b (1, 3, 1) -> out (2, 3, 2), out[i,j,k] = a[i,0,k] * b[0,j,0]
    const a = f32([1, 2, 3, 4]);
    const b = f32([1, 10, 100]);
    const out3 = new Float32Array(12);
    B.binaryBroadcast('mul', [2, 3, 2], a, [2, 0, 1], b, [0, 1, 0], out3);
    expect(list(out3)).toEqual([1, 2, 10, 20, 100, 200, 3, 4, 30, 40, 300, 400]);
    // 0-d (scalar) and a zero-size dim (nothing written)
    const s = new Float32Array(1);
    B.binaryBroadcast('sub', [], f32([5]), [], f32([2]), [], s);
    expect(s[0]).toBe(3);
    B.binaryBroadcast('sub', [0, 3], f32([]), [3, 1], f32([1, 2, 3]), [0, 1], new Float32Array(0));
  });

  it('matches the contiguous kernel when no dim is broadcast', () => {
    const a = f32([1, 2, 3, 4, 5, 6]);
    const b = f32([6, 5, 4, 3, 2, 1]);
    const o1 = new Float32Array(6);
    const o2 = new Float32Array(6);
    B.binary('div', a, b, o1);
    B.binaryBroadcast('div', [2, 3], a, [3, 1], b, [3, 1], o2);
    expect(list(o2)).toEqual(list(o1));
  });
});

describe('ts reduce', () => {
  // x (2, 3) = [[1, 2, 3], [4, 5, 6]]
  const x = f32([1, 2, 3, 4, 5, 6]);

  it('reduces over each axis and all', () => {
    const rows = new Float32Array(2).fill(NaN); // overwritten
    B.reduce('sum', [2, 3], x, [1, 0], rows);
    expect(list(rows)).toEqual([6, 15]);
    const cols = new Float32Array(3).fill(NaN);
    B.reduce('sum', [2, 3], x, [0, 1], cols);
    expect(list(cols)).toEqual([5, 7, 9]);
    B.reduce('mean', [2, 3], x, [0, 1], cols);
    expect(list(cols)).toEqual([2.5, 3.5, 4.5]);
    B.reduce('max', [2, 3], x, [1, 0], rows);
    expect(list(rows)).toEqual([3, 6]);
    const all = new Float32Array(1);
    B.reduce('mean', [2, 3], x, [0, 0], all);
    expect(all[0]).toBe(3.5);
  });

  it('handles a middle axis of a 3-d tensor', () => {
    // x (2, 2, 2) reduced over axis 1 -> out (2, 2): out[i, k] = x[i,0,k] + x[i,1,k]
    const x3 = f32([1, 2, 3, 4, 5, 6, 7, 8]);
    const out = new Float32Array(4);
    B.reduce('sum', [2, 2, 2], x3, [2, 0, 1], out);
    expect(list(out)).toEqual([4, 6, 12, 14]);
  });

  it('max starts at -Infinity and propagates NaN', () => {
    const out = new Float32Array(3);
    B.reduce('max', [3, 2], f32([-Infinity, -Infinity, NaN, 1, 2, NaN]), [1, 0], out);
    close(out, [-Infinity, NaN, NaN]);
  });

  it('accumulates in float64', () => {
    // 2^24 + 2 ones: a float32 accumulator stalls at 2^24 (2^24 + 1 rounds back down);
    // a float64 one reaches 2^24 + 2, which float32 can hold.
    const big = new Float32Array((1 << 24) + 2).fill(1);
    const out = new Float32Array(1);
    B.reduce('sum', [big.length], big, [0], out);
    expect(out[0]).toBe((1 << 24) + 2);
    const small = f32([1e8, 1, -1e8, 1]);
    B.reduce('sum', [4], small, [0], out);
    expect(out[0]).toBe(2);
  });

  it('reduces a 0-d tensor to itself', () => {
    const out = new Float32Array(1);
    B.reduce('sum', [], f32([7]), [], out);
    expect(out[0]).toBe(7);
  });
});

describe('ts softmax', () => {
  it('computes softmax and log-softmax per row', () => {
    // row [0, ln 3]: e^0 = 1, e^ln3 = 3 -> [0.25, 0.75]
    const x = f32([0, Math.log(3), 1000, 1000]);
    const y = new Float32Array(4);
    B.softmax(2, 2, x, y, false);
    close(y, [0.25, 0.75, 0.5, 0.5]); // 1000 would overflow without the max shift
    B.softmax(2, 2, x, y, true);
    close(y, [Math.log(0.25), Math.log(0.75), Math.log(0.5), Math.log(0.5)]);
  });

  it('propagates NaN in a row', () => {
    const y = new Float32Array(4);
    B.softmax(2, 2, f32([NaN, 1, 1, 2]), y, false);
    close(y.subarray(0, 2), [NaN, NaN]);
    close(y.subarray(2), [1 / (1 + Math.E), Math.E / (1 + Math.E)]);
  });

  it('backward matches the Jacobian', () => {
    // y = [0.25, 0.75], dy = [1, 0]: Σ dy*y = 0.25; dx = y*(dy - 0.25) = [0.1875, -0.1875]
    const dx = new Float32Array(2);
    B.softmaxBackward(1, 2, f32([0.25, 0.75]), f32([1, 0]), dx, false);
    close(dx, [0.1875, -0.1875]);
    // log-softmax: y = log p, dy = [1, 0]: dx = dy - p * Σ dy = [1 - 0.25, -0.75]
    B.softmaxBackward(1, 2, f32([Math.log(0.25), Math.log(0.75)]), f32([1, 0]), dx, true);
    close(dx, [0.75, -0.75]);
  });
});

describe('ts losses', () => {
  it('xentLabels: mean of -log p[label], probabilities written', () => {
    // rows [0, ln 3] (label 1: -ln 0.75) and [0, 0] (label 0: -ln 0.5)
    const prob = new Float32Array(4);
    const loss = B.xentLabels(2, 2, f32([0, Math.log(3), 0, 0]), new Int32Array([1, 0]), prob);
    expect(loss).toBeCloseTo((-Math.log(0.75) - Math.log(0.5)) / 2, 6);
    close(prob, [0.25, 0.75, 0.5, 0.5]);
    // backward: g / N * (p - onehot), g = 2, N = 2
    const d = new Float32Array(4).fill(NaN);
    B.xentLabelsBackward(2, 2, prob, new Int32Array([1, 0]), 2, d);
    close(d, [0.25, -0.25, -0.5, 0.5]);
  });

  it('xentProbs: -mean Σ t log p, backward g/N (p Σt - t)', () => {
    // one row [0, ln 3], target [0.5, 0.5]: loss = -(0.5 ln 0.25 + 0.5 ln 0.75)
    const prob = new Float32Array(2);
    const t = f32([0.5, 0.5]);
    const loss = B.xentProbs(1, 2, f32([0, Math.log(3)]), t, prob);
    expect(loss).toBeCloseTo(-(0.5 * Math.log(0.25) + 0.5 * Math.log(0.75)), 6);
    const d = new Float32Array(2);
    B.xentProbsBackward(1, 2, prob, t, 1, d);
    close(d, [-0.25, 0.25]);
    // unnormalised target [1, 1]: Σt = 2, dlogits = p*2 - t = [-0.5, 0.5]
    B.xentProbsBackward(1, 2, prob, f32([1, 1]), 1, d);
    close(d, [-0.5, 0.5]);
  });

  it('xentLabels agrees with xentProbs on one-hot targets', () => {
    const logits = f32([0.3, -1.2, 2.5, 0.1, 0.1, -4]);
    const p1 = new Float32Array(6);
    const p2 = new Float32Array(6);
    const l1 = B.xentLabels(2, 3, logits, new Int32Array([2, 0]), p1);
    const l2 = B.xentProbs(2, 3, logits, f32([0, 0, 1, 1, 0, 0]), p2);
    expect(l1).toBeCloseTo(l2, 12);
    expect(list(p1)).toEqual(list(p2));
  });

  it('mse and its backward', () => {
    // (1-0)² + (2-4)² = 5, mean over 2 = 2.5; da = g*2(a-b)/n = 3*[1, -2] = [3, -6]
    expect(B.mse(f32([1, 2]), f32([0, 4]))).toBe(2.5);
    const da = new Float32Array(2);
    B.mseBackward(f32([1, 2]), f32([0, 4]), 3, da);
    expect(list(da)).toEqual([3, -6]);
  });
});

describe('ts layout', () => {
  it('transpose2d', () => {
    // x (2, 3) -> y (3, 2)
    const y = new Float32Array(6);
    B.transpose2d(2, 3, f32([1, 2, 3, 4, 5, 6]), y);
    expect(list(y)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('argmax: first maximum, NaN counts as the maximum (first NaN wins, as PyTorch/NumPy)', () => {
    const out = new Int32Array(5);
    B.argmax(5, 3, f32([1, 3, 3, NaN, 2, 5, NaN, NaN, NaN, -Infinity, -Infinity, -Infinity, 7, 1, NaN]), out);
    expect(list(out)).toEqual([1, 0, 0, 0, 2]);
  });

  it('fill rounds to float32 and copy copies', () => {
    const y = new Float32Array(3);
    B.fill(y, 0.1);
    expect(list(y)).toEqual([Math.fround(0.1), Math.fround(0.1), Math.fround(0.1)]);
    B.copy(f32([1, 2, 3]), y);
    expect(list(y)).toEqual([1, 2, 3]);
  });
});

describe('ts random (Philox4x32-10)', () => {
  const hex = (a: Uint32Array) => Array.from(a, (w) => w.toString(16).padStart(8, '0'));
  const kat = (ctr: number[], key: number[]) => {
    const out = new Uint32Array(4);
    philox4x32(Uint32Array.from(ctr), Uint32Array.from(key), out);
    return hex(out);
  };

  it('matches the Random123 known-answer vectors', () => {
    expect(kat([0, 0, 0, 0], [0, 0])).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    expect(kat([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]))
      .toEqual(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
    expect(kat([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]))
      .toEqual(['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
  });

  it('maps seed, offset and element index onto key, counter and word', () => {
    // seed 0x299f31d0_a4093822 -> key (a4093822, 299f31d0); element i uses counter offset + i/4, word i%4.
    const seed = 0x299f31d0a4093822n;
    const offset = 0x85a308d3_243f6a88n - 1n;
    const y = new Float32Array(8);
    B.randUniform(y, seed, offset, 0, 1);
    const block1 = new Uint32Array(4);
    philox4x32(Uint32Array.from([0x243f6a88, 0x85a308d3, 0, 0]), Uint32Array.from([0xa4093822, 0x299f31d0]), block1);
    for (let j = 0; j < 4; j++) expect(y[4 + j]).toBe(Math.fround((block1[j] >>> 8) * 2 ** -24));
  });

  it('carries the 64-bit counter across the low word', () => {
    // offset 2^32 - 1: block 0 uses counter (ffffffff, 0), block 1 uses (0, 1).
    const y = new Float32Array(8);
    B.randUniform(y, 0n, 0xffffffffn, 0, 1);
    const w = new Uint32Array(4);
    philox4x32(Uint32Array.from([0, 1, 0, 0]), Uint32Array.from([0, 0]), w);
    for (let j = 0; j < 4; j++) expect(y[4 + j]).toBe((w[j] >>> 8) * 2 ** -24);
  });

  it('uniform: first words of key 0 counter 0, scaled to [lo, hi)', () => {
    // words 6627e8d5 e169c58d bc57ac4c 9b00dbd8 -> u = (w >>> 8) / 2^24
    const words = [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8];
    const y = new Float32Array(3); // n not a multiple of 4
    B.randUniform(y, 0n, 0n, -2, 3);
    expect(list(y)).toEqual(words.slice(0, 3).map((w) => Math.fround(-2 + 5 * ((w >>> 8) * 2 ** -24))));
  });

  it('normal: Box-Muller on word pairs, odd n drops the last sine', () => {
    const words = [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8];
    const u = words.map((w) => (w >>> 8) * 2 ** -24);
    const r0 = Math.sqrt(-2 * Math.log(1 - u[0]));
    const r1 = Math.sqrt(-2 * Math.log(1 - u[2]));
    const y = new Float32Array(3);
    B.randNormal(y, 0n, 0n, 1, 2);
    expect(list(y)).toEqual([
      Math.fround(1 + 2 * (r0 * Math.cos(2 * Math.PI * u[1]))),
      Math.fround(1 + 2 * (r0 * Math.sin(2 * Math.PI * u[1]))),
      Math.fround(1 + 2 * (r1 * Math.cos(2 * Math.PI * u[3]))),
    ]);
  });

  it('is deterministic, prefix-stable, and roughly distributed as asked', () => {
    const a = new Float32Array(10001);
    const b = new Float32Array(37);
    B.randNormal(a, 42n, 7n, 0, 1);
    B.randNormal(b, 42n, 7n, 0, 1);
    expect(list(b.subarray(0, 36))).toEqual(list(a.subarray(0, 36)));
    let s = 0, s2 = 0;
    for (const v of a) { s += v; s2 += v * v; }
    const mean = s / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(s2 / a.length - mean * mean - 1)).toBeLessThan(0.05);
    const u = new Float32Array(10000);
    B.randUniform(u, 42n, 0n, 0, 1);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
  });
});

describe('ts gemm', () => {
  // A (2, 3) = [[1, 2, 3], [4, 5, 6]], B (3, 2) = [[7, 8], [9, 10], [11, 12]]
  // A·B = [[58, 64], [139, 154]]
  const A = f32([1, 2, 3, 4, 5, 6]);
  const Bm = f32([7, 8, 9, 10, 11, 12]);
  const At = f32([1, 4, 2, 5, 3, 6]); // Aᵀ stored (3, 2)
  const Bt = f32([7, 9, 11, 8, 10, 12]); // Bᵀ stored (2, 3)

  it('all four transpose combinations', () => {
    for (const [ta, tb, a, b] of [[false, false, A, Bm], [true, false, At, Bm], [false, true, A, Bt], [true, true, At, Bt]] as const) {
      const c = new Float32Array(4).fill(NaN); // beta == 0 must not read C
      B.gemm(ta, tb, 2, 2, 3, 1, a, b, 0, c);
      expect(list(c), `transA=${ta} transB=${tb}`).toEqual([58, 64, 139, 154]);
    }
  });

  it('alpha and beta', () => {
    const c = f32([1, 1, 1, 1]);
    B.gemm(false, false, 2, 2, 3, 2, A, Bm, -1, c); // 2·AB - 1
    expect(list(c)).toEqual([115, 127, 277, 307]);
  });

  it('k == 0 gives beta·C, or zeros when beta == 0', () => {
    const c = f32([1, 2, NaN, 4]);
    B.gemm(false, false, 2, 2, 0, 1, f32([]), f32([]), 0, c);
    expect(list(c)).toEqual([0, 0, 0, 0]);
    const c2 = f32([1, 2, 3, 4]);
    B.gemm(false, true, 2, 2, 0, 1, f32([]), f32([]), 0.5, c2);
    expect(list(c2)).toEqual([0.5, 1, 1.5, 2]);
  });

  it('alpha == 0 reads neither A nor B (BLAS)', () => {
    const c = f32([1, 2, 3, 4]);
    B.gemm(false, false, 2, 2, 3, 0, f32([NaN, 1, 1, 1, 1, Infinity]), Bm, 2, c);
    expect(list(c)).toEqual([2, 4, 6, 8]);
  });

  it('matches a naive triple loop on an odd shape', () => {
    const m = 7, n = 5, k = 9;
    const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
    const c = new Float32Array(m * n);
    B.gemm(false, false, m, n, k, 1, a, b, 0, c);
    const want: number[] = [];
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      want.push(Math.fround(s));
    }
    expect(list(c)).toEqual(want);
  });
});

describe('ts optimizers', () => {
  const sgd = (o: Partial<SgdOptions>): SgdOptions => ({ lr: 0.5, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...o });

  it('plain SGD with weight decay', () => {
    // g' = g + wd·w = 1 + 0.5·2 = 2; w = 2 - 0.5·2 = 1
    const w = f32([2]);
    B.sgdStep(w, f32([1]), new Float32Array(1), sgd({ weightDecay: 0.5 }), true); // v: untouched at momentum 0
    expect(w[0]).toBe(1);
  });

  it('momentum: v = g on the first step, then momentum·v + (1 - dampening)·g', () => {
    const w = f32([0]);
    const v = f32([NaN]); // first step must not read v
    const o = sgd({ momentum: 0.5, dampening: 0.5 });
    B.sgdStep(w, f32([1]), v, o, true); // v = 1, w = -0.5
    expect([w[0], v[0]]).toEqual([-0.5, 1]);
    B.sgdStep(w, f32([1]), v, o, false); // v = 0.5 + 0.5 = 1, w = -1
    expect([w[0], v[0]]).toEqual([-1, 1]);
  });

  it('nesterov: d = g + momentum·v', () => {
    const w = f32([0]);
    const v = f32([0]);
    B.sgdStep(w, f32([2]), v, sgd({ momentum: 0.5, nesterov: true }), true); // v = 2, d = 2 + 1 = 3
    expect([w[0], v[0]]).toEqual([-1.5, 2]);
  });

  const adam = (o: Partial<OptimOptions>): OptimOptions => ({ lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false, amsgrad: false, step: 1, ...o });

  it('Adam first step moves each weight by about lr·sign(g)', () => {
    // t = 1: mhat = g, vhat = g², step = lr·g/(|g| + eps)
    const w = f32([1, 1]);
    const m = new Float32Array(2);
    const v = new Float32Array(2);
    B.optimStep('adam', w, f32([3, -0.5]), [m, v, null], adam({}));
    close(w, [0.9, 1.1], 1e-6);
    close(m, [0.3, -0.05]);
    close(v, [0.009, 0.00025]);
  });

  it('Adam second step by hand', () => {
    // g = 1 both steps: m1 = 0.1, v1 = 0.001; m2 = 0.19, v2 = 0.001999
    // mhat = 0.19/0.19 = 1, vhat = 0.001999/0.001999 = 1 -> step lr/(1 + eps)
    const w = f32([0]);
    const m = new Float32Array(1);
    const v = new Float32Array(1);
    B.optimStep('adam', w, f32([1]), [m, v, null], adam({}));
    B.optimStep('adam', w, f32([1]), [m, v, null], adam({ step: 2 }));
    close(w, [-0.2], 1e-6);
    close(m, [0.19]);
    close(v, [0.001999]);
  });

  it('L2 weight decay vs decoupled (AdamW)', () => {
    // L2: g' = 0 + 0.5·2 = 1 -> step lr·1/(1+eps) = 0.1 -> w = 1.9
    const w1 = f32([2]);
    B.optimStep('adam', w1, f32([0]), [new Float32Array(1), new Float32Array(1), null], adam({ weightDecay: 0.5 }));
    close(w1, [1.9], 1e-6);
    // AdamW: w = 2 - 0.1·0.5·2 = 1.9 first, then g = 0 gives m = v = 0 -> no further move
    const w2 = f32([2]);
    const m2 = new Float32Array(1);
    B.optimStep('adam', w2, f32([0]), [m2, new Float32Array(1), null], adam({ weightDecay: 0.5, decoupled: true }));
    close(w2, [1.9], 1e-6);
    expect(m2[0]).toBe(0);
  });
});

describe('ts backend object', () => {
  it('is named ts and implements every kernel', () => {
    expect(B.name).toBe('ts');
    for (const [k, v] of Object.entries(B)) if (k !== 'name') expect(typeof v, k).toBe('function');
  });
});
