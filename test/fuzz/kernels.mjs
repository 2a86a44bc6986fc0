// Raw-kernel calls for the fuzzer: one builder per Backend method makes a
// valid call (sizes, arrays, scalars), then a mutation may break exactly one
// thing about it (a bad size, a wrong array type, a detached buffer, an output
// overlapping an input, a non-finite or out-of-range scalar, a bad enum...).
// The same calls go to backend() (both backends) and, converted to the
// positional form, to the addon binding directly.
import { detached } from './rng.mjs';

// Every op of THE unary table (lib/backend/unary_table.ts, built into dist/ before fuzzing),
// each with valid parameters: the table's defaults, and a few exponents for pow.
const { UNARY_OP_NAMES, unaryEntry } = await import(new URL('../../dist/backend/unary_table.js', import.meta.url).href);
export const UNARY = UNARY_OP_NAMES;
/** A valid (p, q) for a unary op. */
function unaryPQ(R, op) {
  if (op === 'pow') return [R.pick([-2, 0.5, 2, 3]), 0];
  const ps = unaryEntry(op).params ?? [];
  return [ps[0]?.default ?? 0, ps[1]?.default ?? 0];
}
export const BINARY = ['add', 'sub', 'mul', 'div', 'max', 'min', 'eq'];
export const REDUCE = ['sum', 'mean', 'max'];
export const ACT = ['none', 'relu', 'sigmoid', 'tanh'];
const POSITIVE_ONLY = new Set(['log', 'sqrt', 'pow']);

const dims = (R) => R.pick([0, 1, 1, 2, 3, 4, 5, 7, 9, 17]);
const nz = (R) => R.pick([1, 2, 3, 4, 5, 7, 9]);

function sgdOpts(R) {
  const nesterov = R.chance(0.3);
  return {
    lr: R.pick([0, 0.01, 0.1, 1]), momentum: nesterov ? 0.9 : R.pick([0, 0.5, 0.9]), dampening: nesterov ? 0 : R.pick([0, 0.1]),
    weightDecay: R.pick([0, 1e-4, 0.1]), nesterov,
  };
}
export const OPTIM = ['adam', 'adagrad', 'rmsprop', 'adadelta', 'adamax'];
// The fields each optimStep kind reads besides lr, weightDecay, eps, step (lib/backend/backend.ts: Optim).
const OPTIM_READS = {
  adam: ['beta1', 'beta2', 'decoupled', 'amsgrad'], adagrad: ['lrDecay'], rmsprop: ['alpha', 'momentum', 'centered'],
  adadelta: ['rho'], adamax: ['beta1', 'beta2'],
};
function optimOpts(R, kind) {
  const all = {
    beta1: R.pick([0, 0.9]), beta2: R.pick([0.9, 0.999]), alpha: R.pick([0.9, 0.99, 1]), rho: R.pick([0, 0.9, 1]),
    momentum: R.pick([0, 0.9]), lrDecay: R.pick([0, 0.01]), decoupled: R.chance(0.5), amsgrad: R.chance(0.5), centered: R.chance(0.5),
  };
  const o = { lr: R.pick([0, 1e-3, 0.1]), weightDecay: R.pick([0, 0.01]), eps: R.pick([1e-8, 1e-6]), step: R.int(1, 5) };
  for (const f of OPTIM_READS[kind]) o[f] = all[f];
  return o;
}
function optimUses(kind, o) {
  if (kind === 'adam') return [true, true, o.amsgrad === true];
  if (kind === 'adagrad') return [true, false, false];
  if (kind === 'rmsprop') return [true, o.momentum > 0, o.centered === true];
  return [true, true, false];
}

/**
 * Each builder returns { args, kinds, outs, sameOk, free, check }:
 *   kinds[i]  what argument i is (drives the mutations)
 *   outs      indices of the arrays the kernel writes
 *   sameOk    [out, in] pairs documented in place (the very same array is fine)
 *   free      arrays whose length is not tied to a size (fill/rand outputs)
 *   check     (args, ret) -> '' or why a valid call's result is garbage
 */
export const KERNELS = {
  unary(R) {
    const op = R.pick(UNARY), n = dims(R);
    const x = POSITIVE_ONLY.has(op) ? R.f32(n, 0.5, 3) : R.f32(n);
    return { args: [op, x, new Float32Array(n), ...unaryPQ(R, op)], kinds: ['unary', 'f32', 'f32', 'num', 'num'], outs: [2], sameOk: [[2, 1]], check: finiteOuts };
  },
  unaryBackward(R) {
    const op = R.pick(UNARY), n = dims(R);
    const x = POSITIVE_ONLY.has(op) ? R.f32(n, 0.5, 3) : R.f32(n);
    return { args: [op, x, R.f32(n, -1, 1), R.f32(n), new Float32Array(n), ...(op === 'pow' ? [2, 0] : unaryPQ(R, op))], kinds: ['unary', 'f32', 'f32', 'f32', 'f32', 'num', 'num'], outs: [4], sameOk: [[4, 1], [4, 2], [4, 3]], check: finiteOuts };
  },
  maxout(R) {
    const n = dims(R), k = nz(R);
    return { args: [n, k, R.f32(n * k), new Float32Array(n)], kinds: ['size', 'size', 'f32', 'f32'], outs: [3], sameOk: [], check: finiteOuts };
  },
  maxoutBackward(R) {
    const n = dims(R), k = nz(R);
    return { args: [n, k, R.f32(n * k), R.f32(n), new Float32Array(n * k)], kinds: ['size', 'size', 'f32', 'f32', 'f32'], outs: [4], sameOk: [], check: finiteOuts };
  },
  binary(R) {
    const n = dims(R);
    return { args: [R.pick(BINARY), R.f32(n), R.f32(n, 0.5, 3), new Float32Array(n)], kinds: ['binary', 'f32', 'f32', 'f32'], outs: [3], sameOk: [[3, 1], [3, 2]], check: finiteOuts };
  },
  binaryBroadcast(R) {
    const nd = R.int(1, 3);
    const shape = Array.from({ length: nd }, () => R.pick([1, 2, 3]));
    const strides = (bcast) => {
      const s = new Array(nd).fill(0);
      let st = 1;
      for (let d = nd - 1; d >= 0; d--) {
        if (!bcast[d]) { s[d] = st; st *= shape[d]; }
      }
      return [s, st];
    };
    const [as, an] = strides(shape.map(() => R.chance(0.3)));
    const [bs, bn] = strides(shape.map(() => R.chance(0.3)));
    const n = shape.reduce((a, b) => a * b, 1);
    // out may be an operand read exactly as out is written (no broadcast over a dim > 1).
    const contiguous = (s) => {
      let st = 1;
      for (let d = nd - 1; d >= 0; d--) {
        if (shape[d] !== 1 && s[d] !== st) return false;
        st *= shape[d];
      }
      return true;
    };
    const sameOk = [];
    if (contiguous(as)) sameOk.push([6, 2]);
    if (contiguous(bs)) sameOk.push([6, 4]);
    return {
      args: [R.pick(BINARY), shape, R.f32(an), as, R.f32(bn, 0.5, 3), bs, new Float32Array(n)],
      kinds: ['binary', 'ints', 'f32', 'ints', 'f32', 'ints', 'f32'], outs: [6], sameOk, free: [2, 4], check: finiteOuts,
    };
  },
  reduce(R) {
    const nd = R.int(1, 3);
    const shape = Array.from({ length: nd }, () => R.pick([1, 2, 3, 4]));
    const keep = shape.map(() => R.chance(0.5));
    const os = new Array(nd).fill(0);
    let st = 1;
    for (let d = nd - 1; d >= 0; d--) if (keep[d]) { os[d] = st; st *= shape[d]; }
    const n = shape.reduce((a, b) => a * b, 1);
    return { args: [R.pick(REDUCE), shape, R.f32(n), os, new Float32Array(st)], kinds: ['reduce', 'ints', 'f32', 'ints', 'f32'], outs: [4], sameOk: [], check: finiteOuts };
  },
  softmax(R) {
    const n = dims(R), d = dims(R);
    return { args: [n, d, R.f32(n * d), new Float32Array(n * d), R.chance(0.5)], kinds: ['size', 'size', 'f32', 'f32', 'bool'], outs: [3], sameOk: [], check: finiteOuts };
  },
  softmaxBackward(R) {
    const n = dims(R), d = dims(R);
    return { args: [n, d, R.f32(n * d, 0, 1), R.f32(n * d), new Float32Array(n * d), R.chance(0.5)], kinds: ['size', 'size', 'f32', 'f32', 'f32', 'bool'], outs: [4], sameOk: [], check: finiteOuts };
  },
  xentLabels(R) {
    const n = nz(R), d = nz(R);
    return { args: [n, d, R.f32(n * d), R.i32(n, 0, d - 1), new Float32Array(n * d)], kinds: ['size', 'size', 'f32', 'labels', 'f32'], outs: [4], sameOk: [], check: finiteAll };
  },
  xentLabelsBackward(R) {
    const n = nz(R), d = nz(R);
    return { args: [n, d, R.f32(n * d, 0, 1), R.i32(n, 0, d - 1), 1, new Float32Array(n * d)], kinds: ['size', 'size', 'f32', 'labels', 'num', 'f32'], outs: [5], sameOk: [], check: finiteOuts };
  },
  xentProbs(R) {
    const n = nz(R), d = nz(R);
    return { args: [n, d, R.f32(n * d), R.f32(n * d, 0, 1), new Float32Array(n * d)], kinds: ['size', 'size', 'f32', 'f32', 'f32'], outs: [4], sameOk: [], check: finiteAll };
  },
  xentProbsBackward(R) {
    const n = nz(R), d = nz(R);
    return { args: [n, d, R.f32(n * d, 0, 1), R.f32(n * d, 0, 1), 0.5, new Float32Array(n * d)], kinds: ['size', 'size', 'f32', 'f32', 'num', 'f32'], outs: [5], sameOk: [], check: finiteOuts };
  },
  mse(R) {
    const n = nz(R);
    return { args: [R.f32(n), R.f32(n)], kinds: ['f32', 'f32'], outs: [], sameOk: [], check: finiteAll };
  },
  mseBackward(R) {
    const n = dims(R);
    return { args: [R.f32(n), R.f32(n), 1, new Float32Array(n)], kinds: ['f32', 'f32', 'num', 'f32'], outs: [3], sameOk: [[3, 0], [3, 1]], check: finiteOuts };
  },
  transpose2d(R) {
    const n = dims(R), d = dims(R);
    const x = R.f32(n * d);
    return {
      args: [n, d, x, new Float32Array(n * d)], kinds: ['size', 'size', 'f32', 'f32'], outs: [3], sameOk: [],
      check: (a) => {
        const [nn, dd, xx, y] = a;
        if (nn * dd !== xx.length || y.length !== xx.length) return `accepted sizes ${nn} x ${dd} for ${xx.length} values`;
        if (xx.length === 0) return '';
        for (let i = 0; i < nn; i++) for (let j = 0; j < dd; j++) if (y[j * nn + i] !== xx[i * dd + j]) return `y[${j},${i}] != x[${i},${j}]`;
        return '';
      },
    };
  },
  argmax(R) {
    const n = dims(R), d = nz(R);
    const x = R.f32(n * d);
    if (R.chance(0.3) && x.length) x[R.int(0, x.length - 1)] = NaN;
    return {
      args: [n, d, x, new Int32Array(n)], kinds: ['size', 'size', 'f32', 'i32'], outs: [3], sameOk: [],
      check: (a) => {
        const [nn, dd, xx, out] = a;
        if (nn * dd !== xx.length || out.length !== nn) return `accepted sizes ${nn} x ${dd} for ${xx.length} values`;
        for (let r = 0; r < nn; r++) {
          let best = 0;
          for (let j = 1; j < dd && xx[r * dd + best] === xx[r * dd + best]; j++) {
            const v = xx[r * dd + j];
            if (v > xx[r * dd + best] || v !== v) best = j;
          }
          if (out[r] !== best) return `out[${r}] = ${out[r]}, expected ${best} (NaN counts as the maximum)`;
        }
        return '';
      },
    };
  },
  fill(R) {
    return { args: [new Float32Array(dims(R)), R.pick([0, 1.5, -2, NaN, Infinity, 3.4e38])], kinds: ['f32', 'fill'], outs: [0], sameOk: [], free: [0], check: () => '' };
  },
  copy(R) {
    const n = dims(R);
    const x = R.f32(n);
    return {
      args: [x, new Float32Array(n)], kinds: ['f32', 'f32'], outs: [1], sameOk: [[1, 0]],
      check: (a) => (a[1].every((v, i) => Object.is(v, a[0][i])) ? '' : 'y differs from x'),
    };
  },
  randUniform(R) {
    const lo = R.pick([-1, 0, 2]), hi = lo + R.pick([0, 1, 5]);
    return {
      args: [new Float32Array(dims(R)), BigInt(R.int(0, 1000)), BigInt(R.int(0, 1000)), lo, hi], kinds: ['f32', 'u64', 'u64', 'lo', 'hi'], outs: [0], sameOk: [], free: [0],
      check: (a) => (a[0].every((v) => v >= Math.fround(a[3]) && v <= Math.fround(a[4])) ? '' : `a value outside [${a[3]}, ${a[4]}]`),
    };
  },
  randNormal(R) {
    return { args: [new Float32Array(dims(R)), BigInt(R.int(0, 1000)), 0n, R.pick([0, 1, -5]), R.pick([0, 1, 2])], kinds: ['f32', 'u64', 'u64', 'mean', 'std'], outs: [0], sameOk: [], free: [0], check: finiteOuts };
  },
  gemm(R) {
    const ta = R.chance(0.5), tb = R.chance(0.5), m = dims(R), n = dims(R), k = dims(R);
    return {
      args: [ta, tb, m, n, k, R.pick([1, 0.5, -1]), R.f32(m * k), R.f32(k * n), R.pick([0, 1]), R.f32(m * n)],
      kinds: ['bool', 'bool', 'size', 'size', 'size', 'num', 'f32', 'f32', 'num', 'f32'], outs: [9], sameOk: [], check: finiteOuts,
    };
  },
  // ---- normalisation: statistics need n·s >= 1 per channel, variances > 0 ----
  batchNormStats(R) {
    const n = nz(R), c = dims(R), sp = nz(R);
    return { args: [n, c, sp, R.f32(n * c * sp), new Float32Array(c), new Float32Array(c)], kinds: ['size', 'size', 'size', 'f32', 'f32', 'f32'], outs: [4, 5], sameOk: [], check: finiteOuts };
  },
  batchNormForward(R) {
    const n = dims(R), c = dims(R), sp = dims(R), len = n * c * sp;
    return {
      args: [n, c, sp, R.f32(len), R.f32(c), R.f32(c, 0.5, 2), R.pick([1e-5, 1e-3]), R.chance(0.3) ? null : R.f32(c), R.chance(0.3) ? null : R.f32(c), new Float32Array(len)],
      kinds: ['size', 'size', 'size', 'f32', 'f32', 'f32', 'eps', 'f32?', 'f32?', 'f32'], outs: [9], sameOk: [[9, 3]], check: finiteOuts,
    };
  },
  batchNormBackward(R) {
    const training = R.chance(0.5);
    const n = training ? nz(R) : dims(R), c = dims(R), sp = training ? nz(R) : dims(R), len = n * c * sp;
    return {
      args: [n, c, sp, R.f32(len), R.f32(len), R.f32(c), R.f32(c, 0.5, 2), 1e-5, R.chance(0.3) ? null : R.f32(c), training,
        R.chance(0.2) ? null : new Float32Array(len), R.chance(0.3) ? null : new Float32Array(c), R.chance(0.3) ? null : new Float32Array(c)],
      kinds: ['size', 'size', 'size', 'f32', 'f32', 'f32', 'f32', 'eps', 'f32?', 'bool', 'f32?', 'f32?', 'f32?'], outs: [10, 11, 12], sameOk: [], check: finiteOuts,
    };
  },
  layerNormForward(R) {
    const r = dims(R), d = nz(R);
    return {
      args: [r, d, R.f32(r * d), R.chance(0.3) ? null : R.f32(d), R.chance(0.3) ? null : R.f32(d), 1e-5, new Float32Array(r * d), new Float32Array(r), new Float32Array(r)],
      kinds: ['size', 'size', 'f32', 'f32?', 'f32?', 'eps', 'f32', 'f32', 'f32'], outs: [6, 7, 8], sameOk: [[6, 2]], check: finiteOuts,
    };
  },
  layerNormBackward(R) {
    const r = dims(R), d = nz(R);
    return {
      args: [r, d, R.f32(r * d), R.f32(r * d), R.f32(r), R.f32(r, 0.5, 2), R.chance(0.3) ? null : R.f32(d),
        R.chance(0.2) ? null : new Float32Array(r * d), R.chance(0.3) ? null : new Float32Array(d), R.chance(0.3) ? null : new Float32Array(d)],
      kinds: ['size', 'size', 'f32', 'f32', 'f32', 'f32', 'f32?', 'f32?', 'f32?', 'f32?'], outs: [7, 8, 9], sameOk: [], check: finiteOuts,
    };
  },
  biasAct(R) {
    const n = dims(R), d = dims(R);
    return { args: [n, d, R.f32(n * d), R.chance(0.3) ? null : R.f32(d), R.pick(ACT)], kinds: ['size', 'size', 'f32', 'f32?', 'act'], outs: [2], sameOk: [], check: finiteOuts };
  },
  biasActBackward(R) {
    const n = dims(R), d = dims(R);
    return {
      args: [n, d, R.f32(n * d, 0, 1), R.f32(n * d), new Float32Array(n * d), R.chance(0.3) ? null : new Float32Array(d), R.pick(ACT)],
      kinds: ['size', 'size', 'f32', 'f32', 'f32', 'f32?', 'act'], outs: [4, 5], sameOk: [[4, 3]], check: finiteOuts,
    };
  },
  sgdStep(R) {
    const n = dims(R);
    return { args: [R.f32(n), R.f32(n), R.f32(n), sgdOpts(R), R.chance(0.5)], kinds: ['f32', 'f32', 'f32', 'sgd', 'bool'], outs: [0, 2], sameOk: [], check: finiteOuts };
  },
  optimStep(R) {
    const n = dims(R), kind = R.pick(OPTIM), o = optimOpts(R, kind), uses = optimUses(kind, o);
    // Second-moment style buffers (all but Adam's and Adamax's first) hold values >= 0.
    const s = uses.map((u, j) => (u ? (j === 0 && (kind === 'adam' || kind === 'adamax') ? R.f32(n) : R.f32(n, 0, 1)) : null));
    if (kind === 'rmsprop' && o.centered) s[2] = new Float32Array(n); // grad average 0: sq - gavg^2 stays >= 0
    if (kind === 'adam') s[1] = R.f32(n, 0, 1);
    return {
      args: [kind, R.f32(n), R.f32(n), s, o], kinds: ['optim', 'f32', 'f32', `states:${uses.map((u) => (u ? 1 : 0)).join('')}`, `optimOpts:${kind}`],
      outs: [1, 3], sameOk: [], check: finiteOuts,
    };
  },
};

function finiteOuts(args, _ret, spec) {
  for (const o of spec.outs) {
    const a = args[o];
    if (a instanceof Float32Array) for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return `output ${o} [${i}] = ${a[i]} from finite inputs`;
  }
  return '';
}
function finiteAll(args, ret, spec) {
  // A mean over no rows is NaN by contract (PyTorch's mean of an empty tensor); only then.
  const rows = spec.kinds[0] === 'size' ? args[0] : args[0]?.length;
  if (ret !== undefined && Number.isNaN(ret) && rows === 0) return '';
  if (ret !== undefined && !Number.isFinite(ret)) return `returned ${ret} from finite inputs`;
  return finiteOuts(args, ret, spec);
}

// ---- mutations -------------------------------------------------------------
// Every value in these pools is invalid for its kind (the call must throw).
const BAD = {
  size: [-1, 1.5, NaN, Infinity, '3', null, undefined, 2 ** 53, 1e300, true, -0.5],
  f32: () => [new Float64Array(3), new Int32Array(3), [1, 2, 3], detached(), null, 'x', undefined, {}, new Uint8Array(12)],
  i32: () => [new Float32Array(3), new Uint32Array(3), [0, 1], null, 'x', detached()],
  num: [NaN, Infinity, -Infinity, 1e300, -1e300, '1', null, undefined, 1n],
  fill: [1e300, -1e40, '1', null, undefined, 1n],
  bool: [1, 0, 'true', null, undefined],
  enum: ['nope', 'toString', '__proto__', 0, null, undefined],
  enumN: [99, -1, 1.5, 'add', null, NaN],
  u64: [-1n, 2n ** 64n, 1, '1', null],
  ints: [[-1], [1.5], 'x', null, [NaN], new Array(9).fill(1), [2 ** 53]],
  step: [0, -1, 1.5, NaN, '1', null],
  lo: [1e300, -1e300, NaN, Infinity, '0', null, 1e6],
  hi: [1e300, -1e300, NaN, -Infinity, '1', null],
  mean: [1e300, NaN, 4e38, '0'],
  std: [1e300, -1, NaN, Infinity, 1e38],
  lr: [1e300, -1, NaN, Infinity, '0.1', null],
  momentum: [-0.5, 1e300, NaN, null],
  dampening: [NaN, 2, -1, null],
  weightDecay: [-1, 1e300, NaN],
  beta1: [1, -0.1, 1.5, NaN, 0.999999999],
  beta2: [1, -0.1, 2, NaN],
  eps: [0, -1e-8, 1e-50, NaN, 1e300],
  alpha: [-0.1, 1.5, NaN, null],
  rho: [-0.1, 1.5, NaN, null],
  lrDecay: [-1, NaN, 1e300, null],
  states: [null, 'x', [], [new Float32Array(1)], {}],
};
const SGD_FIELDS = ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov'];
const OPTIM_FIELDS = ['step', 'lr', 'weightDecay', 'eps', 'beta1', 'beta2', 'alpha', 'rho', 'momentum', 'lrDecay', 'decoupled', 'amsgrad', 'centered'];
const OPTIM_BOOLS = new Set(['decoupled', 'amsgrad', 'centered']);

/** The positional form the addon takes: enum names become numbers, option objects are spread. */
export function toBinding(name, args, kinds) {
  const out = [], k = [];
  args.forEach((a, i) => {
    const kind = kinds[i];
    if (kind === 'unary' || kind === 'binary' || kind === 'reduce' || kind === 'act') {
      const table = { unary: UNARY, binary: BINARY, reduce: REDUCE, act: ACT }[kind];
      out.push(table.indexOf(a));
      k.push('enumN');
    } else if (kind === 'sgd') {
      for (const f of SGD_FIELDS) { out.push(a[f]); k.push(f === 'nesterov' ? 'bool' : f); }
    } else if (kind === 'optim') {
      out.push(OPTIM.indexOf(a));
      k.push('enumN');
    } else if (kind.startsWith('states:')) {
      // s0, s1, s2: a buffer the kind uses must be given; the others are null.
      for (let j = 0; j < 3; j++) { out.push(a[j]); k.push(kind[7 + j] === '1' ? 'f32' : 'f32?'); }
    } else if (kind.startsWith('optimOpts:')) {
      // Unused fields go as 0 / false (the addon checks every one).
      for (const f of OPTIM_FIELDS) { out.push(a[f] ?? (OPTIM_BOOLS.has(f) ? false : 0)); k.push(OPTIM_BOOLS.has(f) ? 'bool' : f); }
    } else {
      out.push(a);
      k.push(kind);
    }
  });
  // The binding's own index of each output array.
  return { args: out, kinds: k };
}

function copyInto(dst, src) {
  if (src) dst.set(src.subarray(0, dst.length));
  return dst;
}

/**
 * Applies at most one mutation. Returns { what, expect } where expect is
 * 'valid' (the call must succeed and pass its check), 'invalid' (it must throw
 * a fathom error) or 'any' (only a crash, a hang or a cryptic error fails).
 */
export function mutate(R, call, form) {
  const { args, kinds } = call;
  if (R.chance(0.3)) return { what: 'valid', expect: 'valid' };
  const arrays = args.map((a, i) => (a instanceof Float32Array ? i : -1)).filter((i) => i >= 0);
  const outs = call.outsForm.filter((i) => ArrayBuffer.isView(args[i]));
  const r = R.next();
  if (r < 0.12 && outs.length && arrays.length > 1) {
    // An output aliasing an input: the very same array, or a partial overlap.
    const o = R.pick(outs);
    const inputs = arrays.filter((i) => i !== o);
    const i = R.pick(inputs);
    const same = R.chance(0.5) || (args[o].length === 1 && args[i].length === 1);
    const lenO = args[o].length, lenI = args[i].length;
    if (same) {
      if (lenO !== lenI) return { what: 'valid', expect: 'valid' };
      args[i] = args[o];
      args[o].set(call.original[i].subarray(0, lenO));
      const ok = lenO === 0 || call.sameOkForm.some(([a, b]) => a === o && b === i);
      return { what: `arg${o} is arg${i} (same array)`, expect: ok ? 'valid' : 'invalid' };
    }
    if (lenO === 0 || lenI === 0) return { what: 'valid', expect: 'valid' };
    const buf = new Float32Array(lenI + lenO - 1);
    args[i] = copyInto(buf.subarray(0, lenI), call.original[i]);
    args[o] = buf.subarray(lenI - 1, lenI - 1 + lenO);
    return { what: `arg${o} partly overlaps arg${i} (1 float shared)`, expect: 'invalid' };
  }
  if (r < 0.17 && kinds.filter((k) => k === 'size').length >= 2 && kinds[0] === 'size') {
    // A huge size beside a zero one, in either order (must not hang): 2^53 - 1 rows of
    // zero columns, or zero rows of 2^53 - 1 columns. Optional outputs (a null-able dbias)
    // become null: they would have to hold the huge count.
    const rowsHuge = R.chance(0.5);
    args[0] = rowsHuge ? 2 ** 53 - 1 : 0;
    args[1] = rowsHuge ? 0 : 2 ** 53 - 1;
    args.forEach((a, i) => {
      if (a instanceof Float32Array) args[i] = !rowsHuge && kinds[i] === 'f32?' ? null : new Float32Array(0);
    });
    return { what: rowsHuge ? 'n = 2^53 - 1, d = 0' : 'n = 0, d = 2^53 - 1', expect: 'any' };
  }
  if (r < 0.2) {
    args.length = Math.max(0, args.length - R.int(1, 2));
    return { what: `only ${args.length} arguments`, expect: 'invalid' };
  }
  const idx = R.int(0, args.length - 1);
  const kind = kinds[idx];
  if (kind.startsWith('optimOpts:')) {
    // backend(): only the fields this kind reads are checked (others may be absent).
    const f = R.pick(['step', 'lr', 'weightDecay', 'eps', ...OPTIM_READS[kind.slice(10)]]);
    const bad = OPTIM_BOOLS.has(f) ? R.pick(BAD.bool) : R.pick(BAD[f]);
    if (R.chance(0.15)) {
      args[idx] = R.pick([null, 'opts', 3]);
      return { what: `options = ${String(args[idx])}`, expect: 'invalid' };
    }
    args[idx] = { ...args[idx], [f]: bad };
    return { what: `${f} = ${String(bad)}`, expect: 'invalid' };
  }
  if (kind.startsWith('states:')) {
    args[idx] = R.pick(BAD.states);
    return { what: `states = ${String(args[idx])}`, expect: 'invalid' };
  }
  if (kind === 'optim') {
    args[idx] = R.pick(BAD.enum);
    return { what: `kind = ${String(args[idx])}`, expect: 'invalid' };
  }
  if (kind === 'sgd') {
    const fields = SGD_FIELDS;
    const f = R.pick(fields);
    const bad = f === 'nesterov' ? R.pick(BAD.bool) : R.pick(BAD[f]);
    if (R.chance(0.15)) {
      args[idx] = R.pick([null, 'opts', 3]);
      return { what: `options = ${String(args[idx])}`, expect: 'invalid' };
    }
    args[idx] = { ...args[idx], [f]: bad };
    return { what: `${f} = ${String(bad)}`, expect: 'invalid' };
  }
  if (kind === 'labels') {
    const l = args[idx];
    if (l.length && R.chance(0.6)) {
      const d = args[1];
      const v = R.pick([-1, d, d + 100, 2 ** 31 - 1, -(2 ** 31)]);
      const copy = Int32Array.from(l);
      copy[R.int(0, l.length - 1)] = v;
      args[idx] = copy;
      return { what: `a label = ${v} (d = ${d})`, expect: 'invalid' };
    }
    args[idx] = R.pick(BAD.i32());
    return { what: `labels wrong type`, expect: 'invalid' };
  }
  if (kind === 'f32' || kind === 'f32?') {
    if (R.chance(0.3) && args[idx] !== null) {
      const len = args[idx].length + R.pick([1, -1]);
      if (len < 0) return { what: 'valid', expect: 'valid' };
      args[idx] = copyInto(new Float32Array(len).fill(1), call.original[idx]);
      const free = (call.freeForm ?? []).includes(idx);
      return { what: `arg${idx} has ${len} values`, expect: free ? 'any' : 'invalid' };
    }
    const bad = R.pick(BAD.f32());
    if (kind === 'f32?' && bad === null) return { what: 'valid', expect: 'valid' };
    args[idx] = bad;
    return { what: `arg${idx} = bad array`, expect: 'invalid' };
  }
  const pool = kind === 'i32' ? BAD.i32() : kind === 'unary' || kind === 'binary' || kind === 'reduce' || kind === 'act' ? BAD.enum : BAD[kind];
  if (!pool) return { what: 'valid', expect: 'valid' };
  args[idx] = R.pick(pool);
  return { what: `arg${idx} = bad ${kind}`, expect: 'invalid' };
}

/** One raw call: form 'backend' (backend() methods) or 'binding' (the addon). */
export function makeKernelCall(R, form) {
  const names = Object.keys(KERNELS);
  const name = R.pick(names);
  const spec = KERNELS[name](R);
  const original = spec.args.map((a) => (a instanceof Float32Array ? a.slice() : a));
  let args = spec.args, kinds = spec.kinds;
  // Index maps: backend-form index -> binding-form index (options objects spread).
  const map = [];
  if (form === 'binding') {
    let j = 0;
    spec.kinds.forEach((k, i) => { map[i] = j; j += k === 'sgd' ? 5 : k.startsWith('states:') ? 3 : k.startsWith('optimOpts:') ? OPTIM_FIELDS.length : 1; });
    ({ args, kinds } = toBinding(name, args, kinds));
  } else {
    spec.kinds.forEach((_, i) => { map[i] = i; });
  }
  const originalForm = [];
  map.forEach((j, i) => {
    originalForm[j] = original[i];
    // optimStep's state buffers are one array in backend(), three arguments in the binding.
    if (form === 'binding' && spec.kinds[i].startsWith('states:')) original[i].forEach((a, k) => { originalForm[j + k] = a && a.slice(); });
  });
  const call = {
    args, kinds, original: originalForm,
    outsForm: spec.outs.map((i) => map[i]),
    sameOkForm: spec.sameOk.map(([a, b]) => [map[a], map[b]]),
    freeForm: (spec.free ?? []).map((i) => map[i]),
  };
  const m = mutate(R, call, form);
  const argsUsed = call.args;
  return {
    op: `${form === 'binding' ? 'binding' : 'backend()'}.${name}`,
    name, args: argsUsed, mutation: m.what, expect: m.expect,
    check: (ret) => {
      // Checks read the backend-form view of the arguments.
      const back = spec.args.map((_, i) => argsUsed[map[i]]);
      return spec.check(back, ret, spec);
    },
  };
}
