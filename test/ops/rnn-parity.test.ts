/**
 * The whole-sequence recurrence kernels (Backend.rnnForward / rnnBackward): native against
 * the TS reference at awkward sizes (hidden 1, 7, 33; T = 1; batch 1; lengths with a 0
 * and a T; reverse), every mode, the workspace included; inference without a workspace;
 * the checked spec's refusals on both backends. test/ops/* also runs on FATHOM_ISA=scalar.
 */
import { describe, expect, it } from 'vitest';
import { getBackendByName, nativeBinding } from '../../lib/backend/index.js';
import { rnnGateCount, rnnWorkspaceSize, type RnnGeometry, type RnnKindName } from '../../lib/backend/backend.js';
import { randomArray } from '../helpers/random.js';

const MODES: RnnKindName[] = ['lstm', 'gru', 'rnnTanh', 'rnnRelu'];
const SIZES: [n: number, t: number, h: number, lengths: number[] | null, reverse: boolean, bias: boolean][] = [
  [1, 1, 1, null, false, true],
  [2, 3, 7, [3, 0], false, true],
  [3, 4, 7, [2, 4, 0], true, false],
  [1, 5, 33, null, true, true],
  [2, 1, 33, [1, 0], false, true],
  [9, 6, 17, [6, 1, 3, 0, 5, 2, 6, 4, 1], true, true],
];

function run(name: 'ts' | 'native', g: RnnGeometry, bias: boolean, seed: number) {
  const k = getBackendByName(name);
  const { n, t, h } = g;
  const G = rnnGateCount(g.mode), lstm = g.mode === 'lstm';
  const xp = randomArray(n * t * G * h, seed, -1.5, 1.5), h0 = randomArray(n * h, seed + 1), c0 = lstm ? randomArray(n * h, seed + 2) : null;
  const w = randomArray(G * h * h, seed + 3, -0.5, 0.5), b = bias ? randomArray(G * h, seed + 4, -0.5, 0.5) : null;
  const out = new Float32Array(n * t * h), hN = new Float32Array(n * h), cN = lstm ? new Float32Array(n * h) : null;
  const ws = new Float32Array(rnnWorkspaceSize(g));
  k.rnnForward(g, xp, h0, c0, w, b, out, hN, cN, ws);
  const dout = randomArray(n * t * h, seed + 5), dhN = randomArray(n * h, seed + 6), dcN = lstm ? randomArray(n * h, seed + 7) : null;
  const dxp = new Float32Array(n * t * G * h), dh0 = new Float32Array(n * h), dc0 = lstm ? new Float32Array(n * h) : null;
  const dw = new Float32Array(G * h * h), db = bias ? new Float32Array(G * h) : null;
  k.rnnBackward(g, w, ws, c0, dout, dhN, dcN, dxp, dh0, dc0, dw, db);
  // Inference: no workspace, the same forward.
  const out2 = new Float32Array(out.length), hN2 = new Float32Array(hN.length), cN2 = lstm ? new Float32Array(n * h) : null;
  k.rnnForward(g, xp, h0, c0, w, b, out2, hN2, cN2, null);
  expect(out2).toEqual(out);
  expect(hN2).toEqual(hN);
  return { out, hN, cN, ws, dxp, dh0, dc0, dw, db };
}

function close(what: string, got: Float32Array | null, want: Float32Array | null, tol: number): void {
  expect(got === null, `${what}: null`).toBe(want === null);
  if (!got || !want) return;
  let worst = -1, err = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
    if (!(e <= err)) { err = e; worst = i; }
  }
  if (!(err <= tol)) throw new Error(`${what}: worst at [${worst}]: native ${got[worst]}, ts ${want[worst]}`);
}

describe.runIf(nativeBinding())('rnn kernels: native matches the TS reference', () => {
  for (const mode of MODES) {
    it.each(SIZES.map((s) => [JSON.stringify(s), s] as const))(`${mode} %s`, (_n, [n, t, h, lengths, reverse, bias]) => {
      const g: RnnGeometry = { mode, n, t, h, lengths: lengths ? Int32Array.from(lengths) : null, reverse };
      const a = run('native', g, bias, 7), b = run('ts', g, bias, 7);
      for (const k of ['out', 'hN', 'cN', 'ws'] as const) close(`${mode} ${k}`, a[k], b[k], 3e-5);
      for (const k of ['dxp', 'dh0', 'dc0', 'dw', 'db'] as const) close(`${mode} ${k}`, a[k], b[k], 2e-4);
    });
  }
});

describe.each(nativeBinding() ? ['ts', 'native'] as const : ['ts'] as const)('rnn kernels refuse bad arguments on the %s backend', (name) => {
  const k = getBackendByName(name);
  const g: RnnGeometry = { mode: 'gru', n: 2, t: 3, h: 2, lengths: null, reverse: false };
  const f = (len: number) => new Float32Array(len);
  it.each([
    ['mode', () => k.rnnForward({ ...g, mode: 'lstmx' as RnnKindName }, f(36), f(4), null, f(12), null, f(12), f(4), null, null), /rnnForward: g.mode must be one of/],
    ['xProj size', () => k.rnnForward(g, f(35), f(4), null, f(12), null, f(12), f(4), null, null), /rnnForward: xProj must hold 36 float32 values, got 35/],
    ['lengths', () => k.rnnForward({ ...g, lengths: Int32Array.from([1, 4]) }, f(36), f(4), null, f(12), null, f(12), f(4), null, null), /rnnForward: g.lengths\[1\] must be in \[0, 3\], got 4/],
    ['c0 for gru', () => k.rnnForward(g, f(36), f(4), f(4), f(12), null, f(12), f(4), null, null), /rnnForward: c0 must be null for mode 'gru'/],
    ['ws size', () => k.rnnForward(g, f(36), f(4), null, f(12), null, f(12), f(4), null, f(59)), /rnnForward: ws must hold 60 float32 values, got 59/],
    ['overlap', () => { const x = f(36); k.rnnForward(g, x, f(4), null, f(12), null, x.subarray(0, 12), f(4), null, null); }, /rnnForward: output overlaps xProj/],
    ['backward ws', () => k.rnnBackward(g, f(12), f(10), null, f(12), f(4), null, f(36), f(4), null, f(12), null), /rnnBackward: ws must hold 60 float32 values, got 10/],
    ['backward dcN', () => k.rnnBackward(g, f(12), f(60), null, f(12), f(4), f(4), f(36), f(4), null, f(12), null), /rnnBackward: dcN must be null for mode 'gru'/],
  ] as const)('%s', (_n, fn, re) => {
    expect(fn).toThrow(re);
  });
});
