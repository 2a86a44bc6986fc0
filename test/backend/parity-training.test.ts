// Parity of the training-state kernels, native vs TS (the oracle), as
// parity.test.ts does for the rest: optimizer steps (sgdStep, optimStep for
// every stateful optimizer) and batch / layer normalisation (statistics,
// forward, backward). Run both ISA paths:
//   npx vitest run test/backend/parity-training.test.ts
//   FATHOM_ISA=scalar npx vitest run test/backend/parity-training.test.ts
import { describe, expect, it } from 'vitest';
import { Optim, type Backend, type OptimKind, type OptimOptions, type SgdOptions } from '../../lib/backend/backend.js';
import { getBackendByName, nativeBinding } from '../../lib/backend/index.js';
import { tsBackend as T } from '../../lib/backend/ts/index.js';
import { EXACT, compareArrays, garbage, type Tolerance } from '../helpers/parity.js';
import { randomArray, randomInput as input } from '../helpers/random.js';
import { LENGTHS } from '../helpers/shapes.js';

const R = (rtol: number, atol = 0): Tolerance => ({ atol, rtol });
const TOL = {
  // AVX2 computes the optimizers in float (ref and TS in double): a few float roundings.
  optimW: R(1e-6, 1e-7),
  optimWLr1: R(1e-6, 3e-7), // Adadelta (lr 1: steps ~100x the others', w ~ 2: ulp(2) = 2.4e-7 after cancellation)
  optimState: R(1e-5, 2e-7), // m, v ~ 1 (cancellation: a float rounding or two of ulp(1) = 1.2e-7); sqrt / divide chains: rel 1e-5
};

const binding = nativeBinding();
const N: Backend = binding ? getBackendByName('native') : T;

describe.skipIf(!binding)('backend parity: native vs ts, training-state kernels', () => {
  // ---- optimizers ----------------------------------------------------------

  describe('optimizers', () => {
    const SGD_CASES: { name: string; o: SgdOptions; first: boolean }[] = [
      { name: 'plain', o: { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }, first: false },
      { name: 'plain + weight decay', o: { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0.05, nesterov: false }, first: true },
      { name: 'momentum, first step', o: { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false }, first: true },
      { name: 'momentum', o: { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false }, first: false },
      { name: 'nesterov, first step', o: { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: true }, first: true },
      { name: 'nesterov', o: { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: true }, first: false },
      { name: 'momentum + dampening + weight decay', o: { lr: 0.01, momentum: 0.9, dampening: 0.1, weightDecay: 1e-2, nesterov: false }, first: false },
      { name: 'nesterov + weight decay', o: { lr: 0.01, momentum: 0.5, dampening: 0, weightDecay: 1e-3, nesterov: true }, first: false },
    ];
    for (const { name, o, first } of SGD_CASES) {
      it(`sgdStep ${name}`, () => {
        for (const n of LENGTHS) {
          const w = randomArray(n, 2600 + n, -2, 2);
          const g = randomArray(n, 2700 + n);
          const v = first ? garbage(n) : randomArray(n, 2800 + n); // first step must not read v
          // momentum == 0 leaves v alone: both copies must come back as they went in.
          const [wn, vn, wt, vt] = [w.slice(), v.slice(), w.slice(), v.slice()];
          N.sgdStep(wn, g.slice(), vn, o, first);
          T.sgdStep(wt, g.slice(), vt, o, first);
          compareArrays(`sgdStep ${name} w n=${n}`, wn, wt, TOL.optimW);
          compareArrays(`sgdStep ${name} v n=${n}`, vn, vt, TOL.optimState);
        }
      });
    }

    // optimStep: every kind, its flags, weight decay on and off, from zero state (step 1) and from
    // a state a few steps in (step 10); w and every state buffer compared.
    const OPTIM_CASES: { kind: OptimKind; o: OptimOptions }[] = [];
    const base = { lr: 1e-2, eps: 1e-6 };
    for (const step of [1, 10]) {
      for (const weightDecay of [0, 0.01]) {
        const c = { ...base, weightDecay, step };
        for (const decoupled of [false, true]) {
          for (const amsgrad of [false, true]) OPTIM_CASES.push({ kind: 'adam', o: { ...c, beta1: 0.9, beta2: 0.999, decoupled, amsgrad } });
        }
        OPTIM_CASES.push({ kind: 'adagrad', o: { ...c, lrDecay: 0 } }, { kind: 'adagrad', o: { ...c, lrDecay: 0.1 } });
        for (const momentum of [0, 0.9]) {
          for (const centered of [false, true]) OPTIM_CASES.push({ kind: 'rmsprop', o: { ...c, alpha: 0.99, momentum, centered } });
        }
        OPTIM_CASES.push({ kind: 'adadelta', o: { ...c, lr: 1, rho: 0.9 } }, { kind: 'adamax', o: { ...c, beta1: 0.9, beta2: 0.999 } });
      }
    }
    for (const { kind, o } of OPTIM_CASES) {
      const name = `${kind} ${Object.entries(o).filter(([k]) => !['lr', 'eps'].includes(k)).map(([k, v]) => `${k}=${v}`).join(' ')}`;
      it(`optimStep ${name}`, () => {
        const uses = Optim[kind].states(o);
        for (const n of LENGTHS) {
          const w = randomArray(n, 2900 + n, -2, 2);
          const g = randomArray(n, 3000 + n);
          // Step 1 starts from zero state (Adagrad's sum from 0.1); later steps from non-negative
          // second moments and signed first moments. Centered RMSprop's grad average stays small
          // beside its square average (sq >= gavg^2, as any real history gives).
          const s = [0, 1, 2].map((j) => {
            if (!uses[j]) return null;
            if (o.step === 1) return new Float32Array(n).fill(kind === 'adagrad' ? 0.1 : 0);
            const signed = (kind === 'adam' || kind === 'adamax') && j === 0;
            if (kind === 'rmsprop' && j === 2) return randomArray(n, 3300 + n, -0.05, 0.05);
            return signed ? randomArray(n, 3100 + n + j, -0.5, 0.5) : randomArray(n, 3200 + n + j, 0.01, 0.1);
          });
          const sn = s.map((a) => a && a.slice()), st = s.map((a) => a && a.slice());
          const [wn, wt] = [w.slice(), w.slice()];
          N.optimStep(kind, wn, g.slice(), sn, o);
          T.optimStep(kind, wt, g.slice(), st, o);
          compareArrays(`optimStep ${name} w n=${n}`, wn, wt, kind === 'adadelta' ? TOL.optimWLr1 : TOL.optimW);
          for (let j = 0; j < 3; j++) if (sn[j]) compareArrays(`optimStep ${name} s[${j}] n=${n}`, sn[j]!, st[j]!, TOL.optimState);
        }
      });
    }
  });

  // ---- normalisation ----------------------------------------
  describe('batch and layer normalisation', () => {
    // float32 element loops with per-channel (per-row) coefficients; statistics in double on both sides
    const TOL_NORM = R(2e-6, 2e-6);
    const BN: [number, number, number][] = [[1, 1, 1], [2, 1, 7], [3, 5, 9], [64, 3, 1], [4, 32, 49], [2, 7, 25], [8, 16, 600], [1, 3, 1]];
    it('batchNormStats, batchNormForward, batchNormBackward (training and eval, with and without weight/bias)', () => {
      for (const [n, c, sp] of BN) {
        const len = n * c * sp;
        const x = input(len, 4000 + len, -3, 5);
        const dy = input(len, 4100 + len, -2, 2);
        const w = input(c, 4200 + c, 0.5, 1.5), b = input(c, 4300 + c, -1, 1);
        const what = `[${n}, ${c}, ${sp}]`;
        const mn = garbage(c), vn = garbage(c), mt = garbage(c), vt = garbage(c);
        if (n * sp >= 1) {
          N.batchNormStats(n, c, sp, x.slice(), mn, vn);
          T.batchNormStats(n, c, sp, x.slice(), mt, vt);
          compareArrays(`batchNormStats mean ${what}`, mn, mt, R(1e-7, 1e-7));
          compareArrays(`batchNormStats var ${what}`, vn, vt, R(1e-7, 1e-7));
        }
        for (const affine of [true, false]) {
          for (const training of n * sp > 1 ? [true, false] : [false]) {
            const mean = training ? mt : input(c, 4400 + c, -1, 1);
            const variance = training ? vt : input(c, 4500 + c, 0.2, 3);
            const yn = garbage(len), yt = garbage(len);
            N.batchNormForward(n, c, sp, x.slice(), mean.slice(), variance.slice(), 1e-5, affine ? w.slice() : null, affine ? b.slice() : null, yn);
            T.batchNormForward(n, c, sp, x.slice(), mean.slice(), variance.slice(), 1e-5, affine ? w.slice() : null, affine ? b.slice() : null, yt);
            compareArrays(`batchNormForward ${what} affine=${affine}`, yn, yt, TOL_NORM);
            const [dxn, dwn, dbn] = [garbage(len), garbage(c), garbage(c)];
            const [dxt, dwt, dbt] = [garbage(len), garbage(c), garbage(c)];
            N.batchNormBackward(n, c, sp, x.slice(), dy.slice(), mean.slice(), variance.slice(), 1e-5, affine ? w.slice() : null, training, dxn, dwn, dbn);
            T.batchNormBackward(n, c, sp, x.slice(), dy.slice(), mean.slice(), variance.slice(), 1e-5, affine ? w.slice() : null, training, dxt, dwt, dbt);
            const tag = `${what} affine=${affine} training=${training}`;
            compareArrays(`batchNormBackward dx ${tag}`, dxn, dxt, TOL_NORM);
            compareArrays(`batchNormBackward dweight ${tag}`, dwn, dwt, R(1e-6, 1e-6));
            compareArrays(`batchNormBackward dbias ${tag}`, dbn, dbt, R(1e-6, 1e-6));
          }
        }
      }
      // no values per channel: eval forward writes nothing, backward writes zero weight gradients
      const dwn = garbage(3), dwt = garbage(3);
      N.batchNormBackward(0, 3, 5, new Float32Array(0), new Float32Array(0), new Float32Array(3), new Float32Array(3).fill(1), 1e-5, null, false, null, dwn, null);
      T.batchNormBackward(0, 3, 5, new Float32Array(0), new Float32Array(0), new Float32Array(3), new Float32Array(3).fill(1), 1e-5, null, false, null, dwt, null);
      compareArrays('batchNormBackward of no values', dwn, dwt, EXACT);
      expect([...dwn]).toEqual([0, 0, 0]);
    });

    const LN: [number, number][] = [[1, 1], [3, 7], [5, 33], [17, 257], [1000, 64], [0, 5], [2, 1000], [300, 100]];
    it('layerNormForward and layerNormBackward (with and without weight/bias)', () => {
      for (const [r, d] of LN) {
        const len = r * d;
        const x = input(len, 4600 + len, -3, 5);
        const dy = input(len, 4700 + len, -2, 2);
        const w = input(d, 4800 + d, 0.5, 1.5), b = input(d, 4900 + d, -1, 1);
        for (const affine of [true, false]) {
          const tag = `[${r}, ${d}] affine=${affine}`;
          const [yn, mn, rn] = [garbage(len), garbage(r), garbage(r)];
          const [yt, mt, rt] = [garbage(len), garbage(r), garbage(r)];
          N.layerNormForward(r, d, x.slice(), affine ? w.slice() : null, affine ? b.slice() : null, 1e-5, yn, mn, rn);
          T.layerNormForward(r, d, x.slice(), affine ? w.slice() : null, affine ? b.slice() : null, 1e-5, yt, mt, rt);
          compareArrays(`layerNormForward y ${tag}`, yn, yt, TOL_NORM);
          compareArrays(`layerNormForward mean ${tag}`, mn, mt, R(1e-7, 1e-7));
          compareArrays(`layerNormForward rstd ${tag}`, rn, rt, R(1e-7, 1e-7));
          const [dxn, dwn, dbn] = [garbage(len), garbage(d), garbage(d)];
          const [dxt, dwt, dbt] = [garbage(len), garbage(d), garbage(d)];
          N.layerNormBackward(r, d, x.slice(), dy.slice(), mt.slice(), rt.slice(), affine ? w.slice() : null, dxn, dwn, dbn);
          T.layerNormBackward(r, d, x.slice(), dy.slice(), mt.slice(), rt.slice(), affine ? w.slice() : null, dxt, dwt, dbt);
          compareArrays(`layerNormBackward dx ${tag}`, dxn, dxt, TOL_NORM);
          compareArrays(`layerNormBackward dweight ${tag}`, dwn, dwt, R(1e-6, 1e-6));
          compareArrays(`layerNormBackward dbias ${tag}`, dbn, dbt, R(1e-6, 1e-6));
        }
      }
    });
  });
});
