/**
 * #13 infer: linearChain, a Sequential's run of Linear (+ ReLU / Sigmoid / Tanh) layers in ONE kernel
 * call when nothing is recorded (noGrad, predict, or no input needing a gradient).
 *  - the raw kernel: native against the TS twin (GEMM tolerance) at batch sizes 0, 1, 7, 33, 257 (and
 *    2, 3: the two sides of the batch-1/2 path), and on each backend bitwise equal to linearForward layer
 *    after layer; called twice (batch 1 and 2 alternate their column order from call to call);
 *  - its checked spec (the same refusals on both backends), the addon's own re-checks, and the fallback
 *    for an addon built before it;
 *  - nn.Sequential: one linearChain call per forward, the bits of the taped forward on 1 and 2 threads,
 *    weights written in place (optimizer step, loadStateDict, a direct .data write) or a layer replaced
 *    seen by the very next call (nothing is cached), overridden Linear methods respected, mixed models,
 *    errors as before; batch 1 never wakes the thread pool and batch 256 is one pool job.
 * Run per ISA: FATHOM_ISA=scalar|avx2|avx512 npx vitest run test/rawinfer
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { ActOp, Backend } from '../../lib/backend/backend.js';
import { getBackendByName, kernels, nativeBinding } from '../../lib/backend/index.js';
import { tsBackend as T } from '../../lib/backend/ts/index.js';
import { nativeBackend } from '../../lib/backend/native/index.js';
import type { NativeBinding } from '../../lib/backend/native/binding.js';
import { manualSeed, nn, noGrad, optim, randn, setBackend, setNumThreads, type Tensor } from '../../lib/index.js';
import { compareArrays, EXACT, type Tolerance } from '../helpers/parity.js';
import { randomArray } from '../helpers/random.js';

const binding = nativeBinding();
const N: Backend = binding ? getBackendByName('native') : T;
const SIZES = [0, 1, 2, 3, 7, 33, 257];

/** Seeded uniform floats in [-1, 1) (test/helpers/random.ts). */
const floats = (len: number, seed: number): Float32Array => randomArray(len, seed, -1, 1);

interface Net {
  dims: number[];
  ws: Float32Array[];
  biases: (Float32Array | null)[];
  acts: ActOp[];
}
function net(dims: number[], acts: ActOp[], bias: boolean, seed: number): Net {
  const ws: Float32Array[] = [], biases: (Float32Array | null)[] = [];
  for (let l = 0; l < acts.length; l++) {
    ws.push(floats(dims[l + 1] * dims[l], seed + 10 * l));
    biases.push(bias || l === 1 ? floats(dims[l + 1], seed + 10 * l + 5) : null);
  }
  return { dims, ws, biases, acts };
}
const NETS: Net[] = [
  net([9, 17, 5], ['relu', 'none'], true, 1),
  net([33, 16, 31, 7], ['tanh', 'sigmoid', 'relu'], false, 2),
  net([130, 200, 67], ['relu', 'tanh'], true, 3),
  net([7, 3], ['sigmoid'], true, 4),
];
/** Inputs in [-1, 1]: the float accumulation error grows with the widths (the parity suite's GEMM_TOL, per layer). */
const tol = (d: number[]): Tolerance => ({ rtol: 1e-4, atol: 1e-5 * d.reduce((a, b) => a + b, 0) });

/** linearForward layer after layer on backend B: what the chain must equal bit for bit. */
function layered(B: Backend, n: number, t: Net, x: Float32Array): Float32Array {
  let cur = x;
  for (let l = 0; l < t.acts.length; l++) {
    const next = new Float32Array(n * t.dims[l + 1]).fill(NaN);
    B.linearForward(n, t.dims[l + 1], t.dims[l], cur, t.ws[l], t.biases[l], t.acts[l], next);
    cur = next;
  }
  return cur;
}

afterAll(() => setBackend('native'));

describe('linearChain kernel', () => {
  it('native vs the TS twin, and on each backend bitwise linearForward layer after layer (twice)', () => {
    for (const [i, t] of NETS.entries()) {
      for (const n of SIZES) {
        const x = floats(n * t.dims[0], 100 + n + i);
        const out = t.dims[t.dims.length - 1];
        const label = `linearChain net ${i} n=${n}`;
        const got: Record<string, Float32Array> = {};
        for (const B of [N, T]) {
          const want = layered(B, n, t, x);
          for (let call = 0; call < 2; call++) {
            const y = new Float32Array(n * out).fill(NaN);
            B.linearChain(n, t.dims, t.ws, t.biases, t.acts, x, y);
            compareArrays(`${label} ${B.name} call ${call} vs linearForward`, y, want, EXACT);
            got[B.name] = y;
          }
        }
        compareArrays(`${label} native vs TS`, got[N.name], got.ts, tol(t.dims));
      }
    }
  });

  it('refuses bad arguments alike on both backends', () => {
    const f = (n: number) => new Float32Array(n);
    const ws = [f(12), f(6)], bs = [f(3), null];
    for (const B of [N, T]) {
      const ok = (): void => B.linearChain(2, [4, 3, 2], ws, bs, ['relu', 'none'], f(8), f(4));
      expect(ok, B.name).not.toThrow();
      const e = (fn: () => void, re: RegExp): void => expect(fn, B.name).toThrow(re);
      e(() => B.linearChain(2, [4, 3], ws, bs, ['relu', 'none'], f(8), f(4)), /fathom\.backend\.linearChain: dims must be an Array of 3 sizes/);
      e(() => B.linearChain(2, [4, 3, 2], [], [], [], f(8), f(4)), /fathom\.backend\.linearChain: ws must be an Array of 1 to 4096/);
      e(() => B.linearChain(2, [4, 3, 2], ws, [f(3)], ['relu', 'none'], f(8), f(4)), /biases must be an Array of 2 entries/);
      e(() => B.linearChain(2, [4, 3, 2], ws, bs, ['relu'], f(8), f(4)), /acts must be an Array of 2 activation names/);
      e(() => B.linearChain(2, [4, 0, 2], [f(0), f(0)], bs, ['relu', 'none'], f(8), f(4)), /dims\[1\] must be in \[1, 2\^31 - 1\], got 0/);
      e(() => B.linearChain(2, [4, 3, 2], [f(12), f(5)], bs, ['relu', 'none'], f(8), f(4)), /ws\[1\] must hold 6 float32 values, got 5/);
      e(() => B.linearChain(2, [4, 3, 2], ws, [f(2), null], ['relu', 'none'], f(8), f(4)), /biases\[0\] must hold 3 float32 values, got 2/);
      e(() => B.linearChain(2, [4, 3, 2], ws, bs, ['relu', 'gelu' as ActOp], f(8), f(4)), /acts\[1\] must be one of/);
      e(() => B.linearChain(2, [4, 3, 2], ws, bs, ['relu', 'none'], f(7), f(4)), /x must hold 8 float32 values, got 7/);
      e(() => B.linearChain(2, [4, 3, 2], ws, bs, ['relu', 'none'], f(8), f(5)), /y must hold 4 float32 values, got 5/);
      e(() => B.linearChain(-1, [4, 3, 2], ws, bs, ['relu', 'none'], f(0), f(0)), /n must be a non-negative integer/);
      const buf = f(40);
      e(() => B.linearChain(2, [4, 3, 2], [f(12), buf.subarray(0, 6)], bs, ['relu', 'none'], f(8), buf.subarray(4, 8)), /y overlaps ws\[1\]/);
      e(() => B.linearChain(2, [4, 3, 2], ws, bs, ['relu', 'none'], buf.subarray(10, 18), buf.subarray(16, 20)), /y overlaps x/);
    }
  });

  it.skipIf(!binding)('the addon re-checks what could crash (counts, sizes, lengths, overlap)', () => {
    const f = (n: number) => new Float32Array(n);
    const chain = binding!.linearChain!.bind(binding);
    // linearChain(n, x, y, in, then per layer: out, act, w, bias | null)
    expect(() => chain(2, f(8), f(4), 4, 3, 1, f(12), f(3), 2, 0, f(6), null)).not.toThrow();
    expect(() => chain(2, f(8), f(4), 4, 3, 1, f(12), f(3), 2, 0, f(6))).toThrow(/linearChain: expected n, x, y, in and 4 arguments per layer/);
    expect(() => chain(2, f(8), f(4), 4)).toThrow(/linearChain: expected 8 arguments, got 4/);
    expect(() => chain(2, f(8), f(4), 4, 3, 1, f(12), f(3), 2, 0, f(7), null)).toThrow(/linearChain: w\[1\] must hold 6 float32 values, got 7/);
    expect(() => chain(2, f(8), f(4), 4, 3, 1, f(12), f(3), 2, 0, 'x' as unknown as Float32Array, null)).toThrow(/linearChain: w\[1\] must be a Float32Array, got string/);
    expect(() => chain(2, f(8), f(4), 4, 3, 1, f(12), new Int32Array(3) as unknown as Float32Array, 2, 0, f(6), null)).toThrow(/linearChain: bias\[0\] must be a Float32Array or null, got Int32Array/);
    expect(() => chain(2, f(8), f(4), 4, 3, 9, f(12), f(3), 2, 0, f(6), null)).toThrow(/linearChain: act of layer 0 out of range/);
    expect(() => chain(2, f(8), f(4), 4, 0, 1, f(0), null, 2, 0, f(0), null)).toThrow(/linearChain: layer 0 must have in, out >= 1/);
    expect(() => chain(2, f(8), f(3), 4, 3, 1, f(12), f(3), 2, 0, f(6), null)).toThrow(/linearChain: y must hold 4 float32 values/);
    expect(() => chain(2, f(7), f(4), 4, 3, 1, f(12), f(3), 2, 0, f(6), null)).toThrow(/linearChain: x must hold 8 float32 values/);
    const buf = f(40);
    expect(() => chain(2, f(8), buf.subarray(4, 8), 4, 3, 1, f(12), f(3), 2, 0, buf.subarray(0, 6), null)).toThrow(/linearChain: y overlaps w\[1\]/);
    expect(() => chain(2, buf.subarray(10, 18), buf.subarray(16, 20), 4, 3, 1, f(12), f(3), 2, 0, f(6), null)).toThrow(/linearChain: y overlaps x/);
  });

  it.skipIf(!binding)('an addon without linearChain (a prebuild from before it) gets the same bits from linearForward', () => {
    const old: Record<string, unknown> = {};
    for (const k of Object.getOwnPropertyNames(binding)) {
      const v = (binding as unknown as Record<string, unknown>)[k];
      if (k !== 'linearChain') old[k] = typeof v === 'function' ? v.bind(binding) : v;
    }
    const B = nativeBackend(old as unknown as NativeBinding);
    for (const t of NETS) {
      const x = floats(33 * t.dims[0], 7);
      const y1 = new Float32Array(33 * t.dims[t.dims.length - 1]), y2 = new Float32Array(y1.length);
      B.linearChain(33, t.dims, t.ws, t.biases, t.acts, x, y1);
      N.linearChain(33, t.dims, t.ws, t.biases, t.acts, x, y2);
      compareArrays('fallback', y1, y2, EXACT);
    }
  });
});

function mnist(seed: number): nn.Sequential {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 256), new nn.ReLU(), new nn.Linear(256, 10));
}
const taped = (m: nn.Module, x: Tensor): Float32Array => m.forward(x).data as Float32Array;
const fast = (m: nn.Module, x: Tensor): Float32Array => noGrad(() => m.forward(x)).data as Float32Array;

for (const backendName of ['native', 'ts'] as const) {
  describe(`nn.Sequential through linearChain (${backendName})`, () => {
    afterEach(() => vi.restoreAllMocks());

    it('one linearChain call per forward, with the bits of the taped forward', () => {
      setBackend(backendName);
      const model = mnist(1);
      const spy = vi.spyOn(kernels(), 'linearChain');
      for (const n of backendName === 'native' ? [1, 2, 3, 7, 33, 257] : [1, 3, 7]) {
        const x = randn([n, 784]);
        spy.mockClear();
        const y = fast(model, x);
        expect(spy).toHaveBeenCalledTimes(1);
        compareArrays(`MLP n=${n}`, y, taped(model, x), EXACT);
        // (One batch: predict's default batchSize 256 would run 257 rows as 256 + 1, and one row takes the gemv path.)
        compareArrays(`MLP n=${n} predict`, model.predict(x, { batchSize: 1024 }).data, taped(model, x), EXACT);
      }
      // An empty batch: [0, 10], no kernel call needed.
      expect(noGrad(() => model.forward(randn([0, 784]))).shape).toEqual([0, 10]);
    });

    it('mixed models: each run of two or more Linear layers is one call, the rest layer by layer', () => {
      setBackend(backendName);
      manualSeed(2);
      const model = new nn.Sequential(
        new nn.Linear(12, 9), new nn.Tanh(), new nn.Linear(9, 8, { bias: false }), new nn.Dropout(0.5),
        new nn.Linear(8, 6), new nn.Linear(6, 5), new nn.Sigmoid(), new nn.Linear(5, 4), new nn.GELU(), new nn.Linear(4, 3),
      );
      model.eval();
      const spy = vi.spyOn(kernels(), 'linearChain');
      const x = randn([5, 12]);
      const y = fast(model, x);
      expect(spy).toHaveBeenCalledTimes(2); // [Linear, Tanh, Linear] and [Linear, Linear, Sigmoid, Linear]; the last Linear alone
      compareArrays('mixed', y, taped(model, x), EXACT);
    });

    it('sees weights written in place and replaced layers at once (nothing is cached)', () => {
      setBackend(backendName);
      const model = mnist(3);
      const x = randn([7, 784]), x1 = randn([1, 784]);
      const check = (what: string): void => {
        compareArrays(`${what} (batch 7)`, fast(model, x), taped(model, x), EXACT);
        compareArrays(`${what} (batch 1)`, model.predict(x1).data, taped(model, x1), EXACT);
      };
      const before = fast(model, x).slice();
      // A direct write to a weight's storage.
      (model.layers[2] as nn.Linear).weight.data[5] += 0.5;
      check('after a .data write');
      expect(Array.from(fast(model, x))).not.toEqual(Array.from(before));
      // An optimizer step.
      const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
      model.forward(x).mul(model.forward(x)).sum().backward();
      opt.step();
      check('after an SGD step');
      // loadStateDict from another model.
      model.loadStateDict(mnist(4).stateDict());
      check('after loadStateDict');
      compareArrays('loaded weights', fast(model, x), fast(mnist(4), x), EXACT);
      // A layer replaced in the list.
      model.layers[4] = new nn.Linear(256, 10, { seed: 11 });
      check('after replacing a layer');
      compareArrays('replaced layer is used', fast(model, x), noGrad(() => model.layers[4].forward(
        model.layers[3].forward(model.layers[2].forward(model.layers[1].forward(model.layers[0].forward(x)))))).data, EXACT);
    });

    it('an instance with its own forward is run layer by layer', () => {
      setBackend(backendName);
      const model = mnist(5);
      const l = model.layers[2] as nn.Linear;
      const own = l.forwardWith.bind(l);
      l.forwardWith = (t, act) => own(t, act).mul(2);
      const spy = vi.spyOn(kernels(), 'linearChain');
      const x = randn([3, 784]);
      const y = fast(model, x);
      expect(spy).not.toHaveBeenCalled();
      compareArrays('overridden forwardWith', y, taped(model, x), EXACT);
    });

    it('refuses a bad input with the same errors as layer by layer; training is untouched', () => {
      setBackend(backendName);
      const model = mnist(6);
      expect(() => noGrad(() => model.forward(randn([2, 783])))).toThrow(/fathom\.Sequential: layer 0 \(Linear\): fathom\.Linear: expected input \[\*, 784\]/);
      expect(() => model.predict(randn([2, 5]))).toThrow(/fathom\.Sequential: layer 0 \(Linear\)/);
      const x = randn([4, 784]);
      const y = model.forward(x);
      expect(y.requiresGrad).toBe(true);
      y.sum().backward();
      expect((model.layers[0] as nn.Linear).weight.grad).not.toBeNull();
    });
  });
}

describe.skipIf(!binding || binding.info().maxThreads < 2)('threads (native)', () => {
  it('batch 1 and 2 never wake the pool, batch 256 is one pool job; 1 and 2 threads give the same bits', () => {
    setBackend('native');
    const model = mnist(7);
    const before = binding!.info().threads;
    try {
      for (const n of [1, 2, 256]) {
        const x = randn([n, 784]);
        setNumThreads(1);
        const one = model.predict(x);
        setNumThreads(2);
        const j0 = binding!.poolJobsStarted!();
        const two = model.predict(x);
        const jobs = binding!.poolJobsStarted!() - j0;
        // (The scalar reference GEMM has no gemv path: its batch 1 splits like any product that size.)
        if (n > 2) expect(jobs, `batch ${n}`).toBe(1);
        else if (binding!.info().isa !== 'scalar') expect(jobs, `batch ${n}`).toBe(0);
        compareArrays(`batch ${n}, 2 threads vs 1`, two.data, one.data, EXACT);
        compareArrays(`batch ${n}, vs taped`, two.data, taped(model, x), EXACT);
      }
    } finally {
      setNumThreads(before);
    }
  });
});
