/**
 * #13 rawinfer: the fused inference layer linearForward (y = act(x wᵀ + bias) in one kernel call)
 * and the no-grad path of nn.Linear / nn.Sequential that uses it.
 *  - the raw kernel, native against the TS twin (GEMM tolerance), sizes 0, 1, 7, 33, 257 on each of
 *    n, out, in, every activation, with and without bias; and bitwise equal to gemm + biasAct on the
 *    same backend (what the linear op runs);
 *  - its checked spec: the same refusals on both backends;
 *  - nn.Linear / nn.Sequential under noGrad (and predict) give the same bits as the taped forward,
 *    record nothing, and leave the grad path (training) as it was;
 *  - thread counts: batch 1 and batch 256 give the same bits on 1 and 2 threads (small problems stay on
 *    the calling thread; the blocked GEMM's partition is thread-count independent).
 * Run per ISA: FATHOM_ISA=scalar|avx2|avx512 npx vitest run test/rawinfer
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ActOp, Backend } from '../../lib/backend/backend.js';
import { getBackendByName, nativeBinding } from '../../lib/backend/index.js';
import { tsBackend as T } from '../../lib/backend/ts/index.js';
import { nativeBackend } from '../../lib/backend/native/index.js';
import type { NativeBinding } from '../../lib/backend/native/binding.js';
import { manualSeed, nn, noGrad, rand, randn, setBackend, setNumThreads, type Tensor } from '../../lib/index.js';
import { compareArrays, EXACT, type Tolerance } from '../helpers/parity.js';
import { randomArray } from '../helpers/random.js';

const binding = nativeBinding();
const N: Backend = binding ? getBackendByName('native') : T;
const SIZES = [0, 1, 7, 33, 257];
const ACTS: ActOp[] = ['none', 'relu', 'sigmoid', 'tanh'];
/** Inputs in [-1, 1]: |acc| <= in; float accumulation error grows with in (the parity suite's GEMM_TOL). */
const tol = (k: number): Tolerance => ({ rtol: 1e-5, atol: 1e-6 * (k + 1) });

/** Seeded uniform floats in [-1, 1) (test/helpers/random.ts). */
const floats = (len: number, seed: number): Float32Array => randomArray(len, seed, -1, 1);

function cases(): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const s of SIZES) out.push([s, 5, 9], [3, s, 9], [2, 5, s]);
  return out;
}

afterAll(() => setBackend('native'));

describe('linearForward kernel', () => {
  for (const act of ACTS) {
    for (const withBias of [true, false]) {
      it(`native vs TS, and vs gemm + biasAct, act=${act}${withBias ? ' with bias' : ''}`, () => {
        for (const [n, out, inF] of cases()) {
          const seed = n * 1000 + out * 31 + inF;
          const x = floats(n * inF, seed + 1), w = floats(out * inF, seed + 2), b = withBias ? floats(out, seed + 3) : null;
          const label = `linearForward n=${n} out=${out} in=${inF} act=${act} bias=${withBias}`;
          const yn = new Float32Array(n * out).fill(NaN), yt = new Float32Array(n * out).fill(NaN);
          N.linearForward(n, out, inF, x, w, b, act, yn);
          T.linearForward(n, out, inF, x, w, b, act, yt);
          compareArrays(`${label} native vs TS`, yn, yt, tol(inF));
          for (const [name, B, y] of [['native', N, yn], ['ts', T, yt]] as const) {
            const want = new Float32Array(n * out).fill(NaN);
            B.gemm(false, true, n, out, inF, 1, x, w, 0, want);
            if (b || act !== 'none') B.biasAct(n, out, want, b, act);
            compareArrays(`${label} ${name} vs its gemm + biasAct`, y, want, EXACT);
          }
        }
      });
    }
  }

  it('in = 0 gives act(bias) on every row (the empty sum), on both backends', () => {
    for (const B of [N, T]) {
      const y = new Float32Array(4).fill(NaN);
      B.linearForward(2, 2, 0, new Float32Array(0), new Float32Array(0), new Float32Array([-1, 2]), 'relu', y);
      expect(Array.from(y), B.name).toEqual([0, 2, 0, 2]);
    }
  });

  it('refuses bad arguments the same way on both backends', () => {
    const f = (n: number) => new Float32Array(n);
    for (const B of [N, T]) {
      expect(() => B.linearForward(2, 3, 4, f(7), f(12), null, 'relu', f(6)), B.name).toThrow(/fathom\.backend\.linearForward: x must hold 8 float32 values, got 7/);
      expect(() => B.linearForward(2, 3, 4, f(8), f(12), f(2), 'relu', f(6)), B.name).toThrow(/fathom\.backend\.linearForward: bias must hold 3 float32 values, got 2/);
      expect(() => B.linearForward(2, 3, 4, f(8), f(12), null, 'gelu' as ActOp, f(6)), B.name).toThrow(/fathom\.backend\.linearForward: act/);
      const buf = f(20);
      expect(() => B.linearForward(1, 4, 4, buf.subarray(0, 4), f(16), null, 'none', buf.subarray(2, 6)), B.name).toThrow(/fathom\.backend\.linearForward: y overlaps x/);
      expect(() => B.linearForward(-1, 3, 4, f(0), f(12), null, 'none', f(0)), B.name).toThrow(/fathom\.backend\.linearForward: n must be/);
    }
  });

  it.skipIf(!binding)('an addon without linearForward (a prebuild from before #13) gets the same bits from gemm + biasAct', () => {
    const old: Record<string, unknown> = {};
    for (const k of Object.getOwnPropertyNames(binding)) {
      const v = (binding as unknown as Record<string, unknown>)[k];
      if (k !== 'linearForward') old[k] = typeof v === 'function' ? v.bind(binding) : v;
    }
    const B = nativeBackend(old as unknown as NativeBinding);
    for (const act of ACTS) {
      const x = floats(3 * 33, 1), w = floats(7 * 33, 2), b = floats(7, 3);
      const y1 = new Float32Array(21), y2 = new Float32Array(21);
      B.linearForward(3, 7, 33, x, w, b, act, y1);
      N.linearForward(3, 7, 33, x, w, b, act, y2);
      compareArrays(`fallback act=${act}`, y1, y2, EXACT);
    }
  });

  it.skipIf(!binding)('the addon re-checks what could crash (lengths, overlap)', () => {
    const f = (n: number) => new Float32Array(n);
    expect(() => binding!.linearForward(2, 3, 4, f(7), f(12), null, 1, f(6))).toThrow(/linearForward.*x/);
    expect(() => binding!.linearForward(2, 3, 4, f(8), f(11), null, 1, f(6))).toThrow(/linearForward.*w/);
    expect(() => binding!.linearForward(2, 3, 4, f(8), f(12), f(3), 9, f(6))).toThrow(/linearForward.*act/);
    const buf = f(20);
    expect(() => binding!.linearForward(1, 4, 4, buf.subarray(0, 4), f(16), null, 0, buf.subarray(2, 6))).toThrow(/y overlaps x/);
  });
});

function mlp(seed: number): nn.Sequential {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(33, 17), new nn.ReLU(), new nn.Linear(17, 7), new nn.Tanh(), new nn.Linear(7, 3, { bias: false }));
}

for (const backendName of ['native', 'ts'] as const) {
  describe(`nn.Linear / Sequential no-grad path (${backendName})`, () => {
    it('gives the bits of the taped forward and records nothing', () => {
      setBackend(backendName);
      const model = mlp(4);
      for (const n of [1, 2, 7, 33]) {
        const x = randn([n, 33]);
        const taped = model.forward(x);
        expect(taped.requiresGrad).toBe(true);
        const fast = noGrad(() => model.forward(x));
        expect(fast.requiresGrad).toBe(false);
        expect(fast.node ?? null).toBeNull();
        expect(fast.shape).toEqual([n, 3]);
        compareArrays(`Sequential n=${n}`, fast.data, taped.data, EXACT);
        const p = model.predict(x);
        compareArrays(`predict n=${n}`, p.data, taped.data, EXACT);
        // Each Linear with a fused activation, directly.
        const l = model.layers[0] as nn.Linear;
        compareArrays(`Linear+relu n=${n}`, noGrad(() => l.forwardWith(x, 'relu')).data, l.forwardWith(x, 'relu').data, EXACT);
      }
    });

    it('leaves training alone: a taped forward still backpropagates', () => {
      setBackend(backendName);
      const model = mlp(5);
      const x = randn([4, 33]);
      const y = model.forward(x);
      y.mul(y).sum().backward();
      const l0 = model.layers[0] as nn.Linear;
      expect(l0.weight.grad).not.toBeNull();
      expect(Array.from(l0.weight.grad!.data).some((v) => v !== 0)).toBe(true);
    });

    it('an input that needs a gradient is recorded even for frozen weights; other ranks use the op', () => {
      setBackend(backendName);
      const l = new nn.Linear(6, 4, { seed: 3 });
      l.weight.requiresGrad = false;
      l.bias!.requiresGrad = false;
      const x = randn([3, 6]);
      x.requiresGrad = true;
      const y = l.forward(x);
      expect(y.requiresGrad).toBe(true);
      y.sum().backward();
      expect(x.grad).not.toBeNull();
      const x3 = randn([2, 3, 6]);
      const y3 = noGrad(() => l.forward(x3));
      expect(y3.shape).toEqual([2, 3, 4]);
      compareArrays('rank 3 vs rank 2 rows', y3.data, noGrad(() => l.forward(x3.reshape([6, 6]))).data, EXACT);
    });

    it('refuses a bad input and a bad activation as before', () => {
      setBackend(backendName);
      const l = new nn.Linear(6, 4);
      expect(() => noGrad(() => l.forward(randn([2, 5])))).toThrow(/fathom\.Linear: expected input \[\*, 6\]/);
      expect(() => noGrad(() => l.forwardWith(randn([2, 6]), 'gelu' as ActOp))).toThrow(/fathom\.linear: activation must be one of/);
    });
  });
}

describe.skipIf(!binding || binding.info().maxThreads < 2)('thread counts (native)', () => {
  it('batch 1 and batch 256 of the MLP 784-256-256-10 give the same bits on 1 and 2 threads', () => {
    setBackend('native');
    manualSeed(9);
    const model = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 256), new nn.ReLU(), new nn.Linear(256, 10));
    const before = binding!.info().threads;
    try {
      for (const n of [1, 2, 256]) {
        const x = rand([n, 784]);
        setNumThreads(1);
        const one = model.predict(x);
        setNumThreads(2);
        const two = model.predict(x);
        compareArrays(`batch ${n}, 2 threads vs 1`, (two as Tensor).data, (one as Tensor).data, EXACT);
        const taped = model.forward(x);
        compareArrays(`batch ${n}, predict vs taped forward`, (two as Tensor).data, taped.data, EXACT);
      }
    } finally {
      setNumThreads(before);
    }
  });
});
