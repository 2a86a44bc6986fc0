/**
 * rnnSequence and the cells: finite-difference gradient checks through time (every mode;
 * hidden 1 and 7, T = 1 and 3, batch 1 and 2, lengths with a 0 and a T, reverse), the
 * lengths semantics (state held, output zero) and the refusals.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as fa from '../../lib/index.js';
import { Tensor, setBackend, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { gradcheck } from '../helpers/gradcheck.js';
import { randomArray } from '../helpers/random.js';

const MODES: fa.RnnMode[] = ['lstm', 'gru', 'rnnTanh', 'rnnRelu'];
const t = (shape: number[], seed: number, s = 0.6): Tensor => tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed, -s, s), shape);

interface Cfg { n: number; T: number; H: number; lengths?: number[]; reverse?: boolean; bias?: boolean }
const CFGS: Cfg[] = [
  { n: 1, T: 1, H: 1 },
  { n: 2, T: 3, H: 7, lengths: [3, 1] },
  { n: 2, T: 3, H: 7, lengths: [0, 3], reverse: true },
  { n: 2, T: 3, H: 1, reverse: true, bias: false },
  { n: 1, T: 3, H: 7, lengths: [2], reverse: true },
];

/** All of rnnSequence's results as one flat tensor, for the probe loss. */
function flat(r: fa.RnnSequenceResult): Tensor {
  const parts = [fa.reshape(r.output, [r.output.size]), fa.reshape(r.h, [r.h.size])];
  if (r.c) parts.push(fa.reshape(r.c, [r.c.size]));
  return fa.concat(parts, 0);
}

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const runs = backends.flatMap((b) => MODES.map((m) => [m, b] as const));

describe.each(runs)('rnnSequence %s on the %s backend: gradients by finite differences through time', (mode, backend) => {
  const G = fa.rnnGates(mode);
  afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));
  it.each(CFGS.map((c) => [JSON.stringify(c), c] as const))('%s', (_n, c) => {
    setBackend(backend);
    const { n, T, H } = c;
    const inputs = [t([n, T, G * H], 1), t([n, H], 2), t([G * H, H], 3), t([G * H], 4), t([n, H], 5)];
    const bias = c.bias !== false;
    const lengths = c.lengths ? Int32Array.from(c.lengths) : null;
    gradcheck(`${mode} ${JSON.stringify(c)}`, (xp, h0, w, b, c0) =>
      flat(fa.rnnSequence(mode, xp, h0, mode === 'lstm' ? c0 : null, w, bias ? b : null, { lengths, reverse: c.reverse })),
    inputs, { skip: [...(bias ? [] : [3]), ...(mode === 'lstm' ? [] : [4])], atol: 3e-3, rtol: 3e-2 });
  });
});

describe('cells: gradients by finite differences', () => {
  it('lstmCell', () => {
    gradcheck('lstmCell', (x, h, c, wi, wh, bi, bh) => fa.concat(fa.lstmCell(x, h, c, wi, wh, bi, bh), 1),
      [t([2, 3], 1), t([2, 7], 2), t([2, 7], 3), t([28, 3], 4), t([28, 7], 5), t([28], 6), t([28], 7)]);
  });
  it('gruCell (unbatched)', () => {
    gradcheck('gruCell', (x, h, wi, wh, bi, bh) => fa.gruCell(x, h, wi, wh, bi, bh),
      [t([3], 1), t([7], 2), t([21, 3], 4), t([21, 7], 5), t([21], 6), t([21], 7)]);
  });
  it.each(['tanh', 'relu'] as const)('rnnCell %s', (nl) => {
    gradcheck('rnnCell', (x, h, wi, wh) => fa.rnnCell(x, h, wi, wh, null, null, nl), [t([2, 3], 1), t([2, 1], 2), t([1, 3], 4), t([1, 1], 5)]);
  });
});

describe('rnnSequence lengths and direction', () => {
  it.each(MODES)('%s: past its length a sequence outputs zero and keeps its state; length 0 gives h0', (mode) => {
    const G = fa.rnnGates(mode);
    const H = 5, T = 4;
    const xp = t([3, T, G * H], 11), h0 = t([3, H], 12), c0 = mode === 'lstm' ? t([3, H], 13) : null, w = t([G * H, H], 14), b = t([G * H], 15);
    for (const reverse of [false, true]) {
      const full = fa.rnnSequence(mode, xp, h0, c0, w, b, { reverse });
      const r = fa.rnnSequence(mode, xp, h0, c0, w, b, { lengths: Int32Array.from([T, 2, 0]), reverse });
      const o = r.output.data, f = full.output.data;
      // Row 0 (length T) equals the unmasked run; row 2 (length 0) is all zero with h = h0.
      for (let i = 0; i < T * H; i++) expect(o[i]).toBe(f[i]);
      for (let i = 0; i < T * H; i++) expect(Math.abs(o[2 * T * H + i])).toBe(0);
      for (let j = 0; j < H; j++) expect(r.h.data[2 * H + j]).toBe(h0.data[2 * H + j]);
      if (c0) for (let j = 0; j < H; j++) expect(r.c!.data[2 * H + j]).toBe(c0.data[2 * H + j]);
      // Row 1 (length 2) is the run of its first two steps alone.
      const x1 = fa.narrow(fa.narrow(xp, 0, 1, 1), 1, 0, 2);
      const alone = fa.rnnSequence(mode, x1, fa.narrow(h0, 0, 1, 1), c0 ? fa.narrow(c0, 0, 1, 1) : null, w, b, { reverse });
      for (let i = 0; i < 2 * H; i++) expect(o[T * H + i]).toBeCloseTo(alone.output.data[i], 6);
      for (let i = 2 * H; i < T * H; i++) expect(Math.abs(o[T * H + i])).toBe(0);
      for (let j = 0; j < H; j++) expect(r.h.data[H + j]).toBeCloseTo(alone.h.data[j], 6);
    }
  });
  it('reverse runs the recurrence from the last step back: it equals the forward run of the flipped sequence, flipped', () => {
    const xp = t([2, 3, 8], 21), h0 = t([2, 2], 22), c0 = t([2, 2], 23), w = t([8, 2], 24);
    const rev = fa.rnnSequence('lstm', xp, h0, c0, w, null, { reverse: true });
    const fwd = fa.rnnSequence('lstm', fa.flip(xp, 1), h0, c0, w, null);
    const back = fa.flip(fwd.output, 1).data;
    rev.output.data.forEach((v, i) => expect(v).toBeCloseTo(back[i], 6));
    rev.h.data.forEach((v, i) => expect(v).toBeCloseTo(fwd.h.data[i], 6));
  });
});

describe('rnnSequence and the cells refuse bad arguments, naming the op and the argument', () => {
  const xp = t([2, 3, 8], 1), h0 = t([2, 2], 2), c0 = t([2, 2], 3), w = t([8, 2], 4), b = t([8], 5);
  it.each([
    ['mode', () => fa.rnnSequence('lstmx' as fa.RnnMode, xp, h0, c0, w, b), /rnnSequence: mode must be one of lstm, gru, rnnTanh, rnnRelu, got/],
    ['wHh', () => fa.rnnSequence('lstm', xp, h0, c0, t([6, 2], 1), b), /rnnSequence: expected wHh \[G·H, H\] with G = 4 for lstm and H >= 1, got \[6, 2\]/],
    ['xProj', () => fa.rnnSequence('lstm', t([2, 3, 6], 1), h0, c0, w, b), /rnnSequence: expected xProj \[N, T, 8\].*got \[2, 3, 6\]/],
    ['T = 0', () => fa.rnnSequence('lstm', t([2, 0, 8], 1), h0, c0, w, b), /rnnSequence: expected xProj \[N, T, 8\] \(T >= 1/],
    ['h0', () => fa.rnnSequence('lstm', xp, t([1, 2], 1), c0, w, b), /rnnSequence: expected h0 \[2, 2\] \(N, H\), got \[1, 2\]/],
    ['c0 missing', () => fa.rnnSequence('lstm', xp, h0, null, w, b), /rnnSequence: lstm needs c0 \[2, 2\], got null/],
    ['c0 for gru', () => fa.rnnSequence('gru', t([2, 3, 6], 1), h0, c0, t([6, 2], 1), null), /rnnSequence: c0 is for lstm only/],
    ['bHh', () => fa.rnnSequence('lstm', xp, h0, c0, w, t([4], 1)), /rnnSequence: expected bHh \[8\] \(G·H\) or null, got \[4\]/],
    ['lengths type', () => fa.rnnSequence('lstm', xp, h0, c0, w, b, { lengths: [1, 2] as unknown as Int32Array }), /rnnSequence: lengths must be an Int32Array \[N\] or null, got/],
    ['lengths size', () => fa.rnnSequence('lstm', xp, h0, c0, w, b, { lengths: Int32Array.from([1]) }), /rnnSequence: expected lengths of length N = 2, got 1/],
    ['lengths range', () => fa.rnnSequence('lstm', xp, h0, c0, w, b, { lengths: Int32Array.from([1, 4]) }), /rnnSequence: lengths\[1\] must be in \[0, T = 3\], got 4/],
    ['option', () => fa.rnnSequence('lstm', xp, h0, c0, w, b, { reversed: true } as object), /rnnSequence: unknown option 'reversed'/],
    ['reverse', () => fa.rnnSequence('lstm', xp, h0, c0, w, b, { reverse: 1 as unknown as boolean }), /rnnSequence: reverse must be a boolean, got/],
    ['lstmCell x', () => fa.lstmCell(t([2, 5], 1), h0, c0, t([8, 3], 1), w), /lstmCell: expected x \[N, 3\] or \[3\] \(N, I\) for wIh \[8, 3\], got \[2, 5\]/],
    ['lstmCell c', () => fa.lstmCell(t([2, 3], 1), h0, t([2, 3], 1), t([8, 3], 1), w), /lstmCell: expected c \[2, 2\] \(as h\), got \[2, 3\]/],
    ['gruCell wIh', () => fa.gruCell(t([2, 3], 1), h0, t([8, 3], 1), t([6, 2], 1)), /gruCell: expected wIh \[6, I\] \(3·H, I\), got \[8, 3\]/],
    ['gruCell bHh', () => fa.gruCell(t([2, 3], 1), h0, t([6, 3], 1), t([6, 2], 1), null, t([5], 1)), /gruCell: expected bHh \[6\] \(G·H\) or null, got \[5\]/],
    ['rnnCell h', () => fa.rnnCell(t([2, 3], 1), t([3, 2], 1), t([2, 3], 1), t([2, 2], 1)), /rnnCell: expected h \[2, 2\], got \[3, 2\]/],
    ['rnnCell nonlinearity', () => fa.rnnCell(t([2, 3], 1), h0, t([2, 3], 1), t([2, 2], 1), null, null, 'gelu' as 'tanh'), /rnnCell: nonlinearity must be 'tanh' or 'relu', got/],
  ] as const)('%s', (_n, f, re) => {
    expect(f).toThrow(re);
  });
});
