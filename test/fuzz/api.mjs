// Public-API calls for the fuzzer: tensor creation, every op, autograd,
// optimizers (area 'tensor'); layers, losses, fit / evaluate / predict
// (area 'layers'); save / load with bad paths and hostile files (area 'io').
// Each case says what it expects: 'valid' (must return, and pass its check),
// 'invalid' (must throw an Error starting with 'fathom') or 'any' (must not
// crash, hang or throw a cryptic error; a check may still apply to a result).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const UNARY_SAFE = ['neg', 'exp', 'abs', 'square', 'relu', 'sigmoid', 'tanh', 'sign'];
const BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'equal'];

function shapeOf(R, rank = R.int(0, 3), zero = 0.1) {
  return Array.from({ length: rank }, () => (R.chance(zero) ? 0 : R.int(1, 4)));
}
const sizeOf = (s) => s.reduce((a, b) => a * b, 1);
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

/** A check that the result is a Tensor of `shape` (and finite when asked). */
function isTensor(f, shape, finite = true) {
  return (t) => {
    if (!(t instanceof f.Tensor)) return `returned ${typeof t}, not a Tensor`;
    if (!same(t.shape, shape)) return `shape [${t.shape}] but expected [${shape}]`;
    if (t.data.length !== sizeOf(shape)) return `data holds ${t.data.length} values for shape [${shape}]`;
    if (finite) for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) return `value [${i}] = ${t.data[i]} from finite inputs`;
    return '';
  };
}

function broadcast(a, b) {
  const n = Math.max(a.length, b.length), out = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

function nested(R, shape, leaf = () => R.num(-3, 3)) {
  if (shape.length === 0) return leaf();
  return Array.from({ length: shape[0] }, () => nested(R, shape.slice(1), leaf));
}

export function makeApiCall(R, f, tmp) {
  const T = (shape, lo = -3, hi = 3) => f.tensor(R.f32(sizeOf(shape), lo, hi), shape);
  const cases = [
    // ---- tensor creation ---------------------------------------------------
    ['tensor', 'tensor', () => {
      const s = shapeOf(R);
      const data = nested(R, s);
      // Nested arrays cannot say the dims after a 0 ([[], []] is [2, 0]).
      const z = s.indexOf(0);
      const want = z >= 0 ? s.slice(0, z + 1) : s;
      return { args: [data], expect: 'valid', run: () => f.tensor(data), check: isTensor(f, want) };
    }],
    ['tensor', 'tensor', () => {
      const kind = R.int(0, 9);
      const bad = [
        ['hello', [5]], [['1', '2']], [[1, 'a']], [[[1, 2], [3]]], [[1, [2]]], [[1, 2, 3], [2, 2]], [new Float32Array(4), [3]],
        [[1, 2], [-2]], [[1, 2], [1.5, 2]], [{ length: 2 }],
      ][kind];
      return { args: bad, expect: 'invalid', run: () => f.tensor(...bad) };
    }],
    ['tensor', 'tensor', () => {
      const v = R.pick([1e10, -3e9, 2 ** 31, NaN, Infinity]);
      return { args: [[1, v], undefined, { dtype: 'int32' }], expect: 'invalid', run: () => f.tensor([1, v], undefined, { dtype: 'int32' }) };
    }],
    ['tensor', 'tensor', () => {
      const opts = R.pick([{ dtype: 'float64' }, { dtype: 'int8' }, { dtype: 3 }, { requiresGrad: 'yes' }, { requiresGrad: 1 }, 'opts', 5]);
      return { args: [[1, 2], undefined, opts], expect: 'invalid', run: () => f.tensor([1, 2], undefined, opts) };
    }],
    ['tensor', 'tensor', () => {
      const n = R.pick([3, 200000]);
      const Ctor = R.pick([Float64Array, Float32Array, Int32Array, Uint8Array]);
      const withShape = R.chance(0.5);
      return { args: [new Ctor(n), withShape ? [n] : undefined], expect: 'valid', run: () => f.tensor(new Ctor(n), withShape ? [n] : undefined), check: isTensor(f, [n]) };
    }],
    ['tensor', 'tensor', () => ({ args: [[1], undefined, null], expect: 'any', run: () => f.tensor([1], undefined, null), check: isTensor(f, [1]) })],
    ['tensor', 'full', () => {
      const s = shapeOf(R);
      const v = R.pick([0, 1, -2.5, 3]);
      return { args: [s, v], expect: 'valid', run: () => f.full(s, v), check: (t) => isTensor(f, s)(t) || (t.data.every((x) => x === v) ? '' : 'wrong values') };
    }],
    ['tensor', 'full', () => {
      const [s, v, o] = R.pick([[[2], NaN, { dtype: 'int32' }], [[2], 1e10, { dtype: 'int32' }], [[2], 1.5, { dtype: 'int32' }], [[2], 'x', {}], [[2], null, {}], [[-1], 1, {}], [[1.5], 1, {}], ['x', 1, {}], [null, 1, {}], [[2 ** 31, 2 ** 31], 1, {}]]);
      return { args: [s, v, o], expect: 'invalid', run: () => f.full(s, v, o) };
    }],
    ['tensor', 'zeros', () => {
      const s = R.pick([[-1], [1.5], 'x', null, [2 ** 53], [NaN], [2, 'a'], [2 ** 40, 2 ** 40]]);
      const fn = R.pick(['zeros', 'ones']);
      return { op: fn, args: [s], expect: 'invalid', run: () => f[fn](s) };
    }],
    ['tensor', 'zeros', () => {
      const s = R.pick([[2 ** 40, 0], [0, 2 ** 40], [0], [2 ** 53 - 1, 0]]);
      return { args: [s], expect: 'any', run: () => f.zeros(s), check: isTensor(f, s) };
    }],
    ['tensor', 'rand', () => {
      const s = shapeOf(R);
      const fn = R.pick(['rand', 'randn']);
      const opts = fn === 'rand' ? { low: -2, high: 5, seed: R.int(0, 99) } : { mean: 1, std: 2, seed: R.int(0, 99) };
      return { op: fn, args: [s, opts], expect: 'valid', run: () => f[fn](s, opts), check: isTensor(f, s) };
    }],
    ['tensor', 'rand', () => {
      const [fn, opts] = R.pick([
        ['rand', { low: -1e300, high: 1e300 }], ['rand', { low: 2, high: 1 }], ['rand', { low: NaN }], ['rand', { high: 'x' }],
        ['randn', { std: 1e300 }], ['randn', { std: -1 }], ['randn', { mean: 1e39 }], ['randn', { seed: 'x' }], ['rand', { seed: -1.5 }],
      ]);
      return { op: fn, args: [[3], opts], expect: 'invalid', run: () => f[fn]([3], opts) };
    }],
    ['tensor', 'detached', () => {
      const t = T([4]);
      structuredClone(t.data.buffer, { transfer: [t.data.buffer] });
      const fn = R.pick(['add', 'relu', 'sum', 'softmax', 'mul']);
      return { op: `${fn}(detached)`, args: [t], expect: 'invalid', run: () => (fn === 'add' || fn === 'mul' ? f[fn](t, t) : f[fn](t)) };
    }],
    // ---- element-wise -------------------------------------------------------
    ['tensor', 'unary', () => {
      const fn = R.pick(UNARY_SAFE);
      const s = shapeOf(R);
      const x = T(s);
      return { op: fn, args: [x], expect: 'valid', run: () => f[fn](x), check: isTensor(f, s) };
    }],
    ['tensor', 'unary', () => {
      const fn = R.pick(['log', 'sqrt', 'pow']);
      const s = shapeOf(R);
      const x = T(s, 0.5, 3);
      const p = R.pick([2, 0.5, -1]);
      return { op: fn, args: [x, p], expect: 'valid', run: () => (fn === 'pow' ? f.pow(x, p) : f[fn](x)), check: isTensor(f, s) };
    }],
    ['tensor', 'unary', () => {
      const fn = R.pick([...UNARY_SAFE, 'log', 'pow']);
      const v = R.pick([null, undefined, 'x', [1, 2], {}, 3]);
      return { op: fn, args: [v], expect: v === 3 ? 'any' : 'invalid', run: () => (fn === 'pow' ? f.pow(v, 2) : f[fn](v)) };
    }],
    ['tensor', 'pow', () => {
      const p = R.pick(['2', null, undefined, NaN, {}]);
      return { args: [T([2]), p], expect: p === undefined || Number.isNaN(p) ? 'any' : 'invalid', run: () => f.pow(T([2], 0.5, 3), p) };
    }],
    ['tensor', 'binary', () => {
      const fn = R.pick(BINARY);
      const a = shapeOf(R), b = R.chance(0.5) ? a.slice(R.int(0, a.length)) : shapeOf(R);
      const out = broadcast(a, b);
      const x = T(a), y = T(b, 0.5, 3);
      return { op: fn, args: [x, y], expect: out ? 'valid' : 'invalid', run: () => f[fn](x, y), check: out ? isTensor(f, out) : undefined };
    }],
    ['tensor', 'binary', () => {
      const fn = R.pick(BINARY);
      const s = shapeOf(R);
      const v = R.pick([2, -1, 0.5]);
      const x = T(s);
      const first = R.chance(0.5);
      return { op: fn, args: first ? [v, x] : [x, v], expect: 'valid', run: () => (first ? f[fn](v, x) : f[fn](x, v)), check: isTensor(f, s, fn !== 'div') };
    }],
    ['tensor', 'binary', () => {
      const fn = R.pick(BINARY);
      const v = R.pick(['2', null, undefined, {}, [1, 2], true]);
      return { op: fn, args: [T([2]), v], expect: 'invalid', run: () => f[fn](T([2]), v) };
    }],
    // ---- linear algebra and layout ---------------------------------------------
    ['tensor', 'matmul', () => {
      const m = R.int(0, 4), k = R.int(0, 4), n = R.int(0, 4);
      const ta = R.chance(0.3), tb = R.chance(0.3);
      const k2 = R.chance(0.8) ? k : k + 1;
      const a = T(ta ? [k, m] : [m, k]), b = T(tb ? [n, k2] : [k2, n]);
      return { args: [a, b, { transA: ta, transB: tb }], expect: k2 === k ? 'valid' : 'invalid', run: () => f.matmul(a, b, { transA: ta, transB: tb }), check: isTensor(f, [m, n]) };
    }],
    ['tensor', 'matmul', () => {
      const opts = R.pick([{ transA: 'yes' }, { transB: 1 }, null, 'x']);
      return { args: [T([2, 2]), T([2, 2]), opts], expect: opts === null ? 'any' : 'invalid', run: () => f.matmul(T([2, 2]), T([2, 2]), opts), check: isTensor(f, [2, 2]) };
    }],
    ['tensor', 'transpose', () => {
      const s = [R.int(0, 5), R.int(0, 5)];
      const x = T(s);
      return { args: [x], expect: 'valid', run: () => f.transpose(x), check: (t) => isTensor(f, [s[1], s[0]])(t) || (s[0] * s[1] > 0 && t.data[s[0] * s[1] - 1] !== x.data[s[0] * s[1] - 1] ? 'wrong values' : '') };
    }],
    ['tensor', 'hugeEmpty', () => {
      // A zero-size dimension beside a huge one: refused or done at once, never a hang.
      const s = R.pick([[2 ** 40, 0], [0, 2 ** 40], [2 ** 53 - 1, 0]]);
      const fn = R.pick(['transpose', 'softmax', 'logSoftmax', 'relu', 'sum', 'argmax', 'linear', 'crossEntropy', 'mean', 'max']);
      return {
        op: `${fn}(${JSON.stringify(s)})`, args: [s], expect: 'any',
        run: () => {
          const x = new f.Tensor(new Float32Array(0), s);
          if (fn === 'linear') return f.linear(x, f.zeros([3, s[1]]));
          if (fn === 'crossEntropy') return f.losses.crossEntropy(x, new f.Tensor(new Int32Array(0), [s[0]]));
          return f[fn](x);
        },
      };
    }],
    ['tensor', 'reshape', () => {
      const s = shapeOf(R, R.int(1, 3), 0);
      const n = sizeOf(s);
      const [to, ok] = R.pick([[[n], true], [[-1], true], [[n, 1], true], [[1, -1], true], [[n + 1], false], [[-1, -1], false], [[1.5], false], ['x', false], [[-2, n], false]]);
      return { args: [T(s), to], expect: ok ? 'valid' : 'invalid', run: () => f.reshape(T(s), to), check: ok ? (t) => (sizeOf(t.shape) === n ? '' : `size ${sizeOf(t.shape)}`) : undefined };
    }],
    ['tensor', 'slice', () => {
      const n = R.int(1, 5);
      const x = T([n, 2]);
      const b = R.int(-n, n - 1), e = R.int(0, n);
      const bb = b < 0 ? n + b : b;
      return { args: [x, b, e], expect: 'valid', run: () => f.slice(x, b, e), check: isTensor(f, [Math.max(0, e - bb), 2]) };
    }],
    ['tensor', 'slice', () => {
      const n = R.int(1, 5);
      const [b, e] = R.pick([[1.5, 2], ['0', 1], [0, NaN], [0, Infinity], [0.5, n + 3]]);
      return { args: [T([n, 2]), b, e], expect: 'invalid', run: () => f.slice(T([n, 2]), b, e) };
    }],
    ['tensor', 'slice', () => {
      // Past either end: clamped as Python's x[b:e].
      const n = R.int(1, 5);
      const [b, e] = R.pick([[0, n + 3], [n + 1, n + 2], [-n - 5, 1]]);
      const clampI = (i) => Math.min(n, Math.max(0, i < 0 ? n + i : i));
      return { args: [T([n, 2]), b, e], expect: 'valid', run: () => f.slice(T([n, 2]), b, e), check: isTensor(f, [Math.max(0, clampI(e) - clampI(b)), 2]) };
    }],
    // ---- reductions ------------------------------------------------------------
    ['tensor', 'reduce', () => {
      const fn = R.pick(['sum', 'mean', 'max']);
      const s = shapeOf(R, R.int(1, 3), 0);
      const axis = R.int(-s.length, s.length - 1);
      const keep = R.chance(0.5);
      const a = axis < 0 ? axis + s.length : axis;
      const out = keep ? s.map((d, i) => (i === a ? 1 : d)) : s.filter((_, i) => i !== a);
      return { op: fn, args: [T(s), axis, keep], expect: 'valid', run: () => f[fn](T(s), axis, keep), check: isTensor(f, out) };
    }],
    ['tensor', 'reduce', () => {
      const fn = R.pick(['sum', 'mean', 'max']);
      const s = shapeOf(R, R.int(1, 3), 0);
      const axis = R.pick([s.length, -s.length - 1, 1.5, 'x', [0, 0], NaN, null]);
      return { op: fn, args: [T(s), axis], expect: axis === null ? 'any' : 'invalid', run: () => f[fn](T(s), axis) };
    }],
    ['tensor', 'reduce', () => {
      const fn = R.pick(['sum', 'mean', 'max']);
      const s = shapeOf(R, R.int(1, 3), 0);
      return { op: fn, args: [T(s)], expect: 'valid', run: () => f[fn](T(s)), check: isTensor(f, []) };
    }],
    // ---- softmax, losses, argmax --------------------------------------------------
    ['tensor', 'softmax', () => {
      const fn = R.pick(['softmax', 'logSoftmax']);
      const s = shapeOf(R, R.int(1, 3));
      return { op: fn, args: [T(s)], expect: 'valid', run: () => f[fn](T(s)), check: isTensor(f, s) };
    }],
    ['tensor', 'softmaxCrossEntropy', () => {
      const n = R.int(1, 5), d = R.int(1, 5);
      const [target, ok] = R.pick([
        [f.tensor(new Int32Array(n).map(() => R.int(0, d - 1)), [n]), true],
        [f.softmax(T([n, d])), true],
        [f.tensor(new Float32Array(n).map(() => R.int(0, d - 1)), [n]), false],
        [f.tensor(new Int32Array(n).fill(d), [n]), false],
        [f.tensor(new Int32Array(n + 1), [n + 1]), false],
        ['x', false],
      ]);
      const fn = R.pick(['softmaxCrossEntropy', 'crossEntropy']);
      return { op: fn, args: [T([n, d]), target], expect: ok ? 'valid' : 'invalid', run: () => (fn === 'crossEntropy' ? f.losses.crossEntropy : f.softmaxCrossEntropy)(T([n, d]), target), check: isTensor(f, []) };
    }],
    ['tensor', 'mseLoss', () => {
      const s = shapeOf(R, R.int(1, 2), 0);
      const ok = R.chance(0.7);
      const t = ok ? T(s) : T([...s, 2]);
      return { args: [T(s), t], expect: ok ? 'valid' : 'invalid', run: () => f.mseLoss(T(s), t), check: isTensor(f, []) };
    }],
    ['tensor', 'argmax', () => {
      const s = [R.int(1, 4), R.int(1, 4)];
      const x = T(s);
      if (R.chance(0.5)) x.data[R.int(0, x.data.length - 1)] = NaN;
      return {
        args: [x], expect: 'valid', run: () => f.argmax(x),
        check: (t) => {
          const e = isTensor(f, [s[0]])(t);
          if (e) return e;
          for (let r = 0; r < s[0]; r++) {
            const row = Array.from(x.data.subarray(r * s[1], (r + 1) * s[1]));
            const nan = row.findIndex((v) => v !== v);
            const want = nan >= 0 ? nan : row.indexOf(Math.max(...row));
            if (t.data[r] !== want) return `row ${r}: ${t.data[r]}, expected ${want} (NaN counts as the maximum)`;
          }
          return '';
        },
      };
    }],
    ['tensor', 'argmax', () => {
      // argmax(x, axis): refused, or honoured (the result drops that axis) — never ignored.
      const s = [R.int(2, 3), 4];
      const axis = R.pick([0, 1, -1, 2]);
      const want = axis === 2 ? null : s.filter((_, i) => i !== (axis < 0 ? axis + 2 : axis));
      return { args: [T(s), axis], expect: want ? 'any' : 'invalid', run: () => f.argmax(T(s), axis), check: want ? isTensor(f, want) : undefined };
    }],
    ['tensor', 'linear', () => {
      const n = R.int(0, 3), i = R.int(1, 3), o = R.int(1, 3);
      const act = R.pick(['none', 'relu', 'sigmoid', 'tanh', 'gelu', 3]);
      const ok = typeof act === 'string' && act !== 'gelu';
      return { args: [T([n, i]), T([o, i]), T([o]), act], expect: ok ? 'valid' : 'invalid', run: () => f.linear(T([n, i]), T([o, i]), T([o]), act), check: isTensor(f, [n, o]) };
    }],
    // ---- autograd and optimizers --------------------------------------------------
    ['tensor', 'backward', () => {
      const s = shapeOf(R, R.int(1, 2), 0);
      const x = T(s);
      x.requiresGrad = true;
      return {
        args: [x], expect: 'valid',
        run: () => {
          f.sum(f.mul(f.tanh(x), f.square(x))).backward();
          return x.grad;
        },
        check: isTensor(f, s),
      };
    }],
    ['tensor', 'optim', () => {
      const kind = R.pick(['SGD', 'Adam', 'AdamW']);
      const bad = kind === 'SGD'
        ? R.pick([{ lr: -1 }, { lr: '0.1' }, { lr: NaN }, { lr: 1e300 }, { lr: Infinity }, { momentum: -1 }, { nesterov: 'yes' }, { nesterov: true }, { weightDecay: -1 }])
        : R.pick([{ lr: -1 }, { lr: 1e300 }, { betas: [1, 0.9] }, { betas: [0.9] }, { betas: 'x' }, { eps: -1 }, { eps: 'x' }, { weightDecay: NaN }]);
      return { op: `optim.${kind}`, args: [bad], expect: 'invalid', run: () => new f.optim[kind]([T([2]).requireGrad()], bad) };
    }],
    ['tensor', 'optim', () => {
      const kind = R.pick(['SGD', 'Adam']);
      const change = R.pick([['lr', -1], ['lr', 1e300], ['lr', NaN], ['lr', 'x'], ['lr', 0.5]]);
      const w = T([3]).requireGrad();
      const opt = new f.optim[kind]([w], { lr: 0.1 });
      f.sum(f.square(w)).backward();
      const valid = change[1] === 0.5;
      return {
        op: `optim.${kind}.step after opt.${change[0]} = ${String(change[1])}`, args: [change], expect: valid ? 'valid' : 'invalid',
        run: () => { opt[change[0]] = change[1]; opt.step(); return w; },
        check: isTensor(f, [3]),
      };
    }],
    ['tensor', 'optim', () => {
      const kind = R.pick(['SGD', 'Adam']);
      return { op: `optim.${kind}([])`, args: [[]], expect: 'invalid', run: () => new f.optim[kind]([], { lr: 0.1 }) };
    }],
    // ---- layers, losses, models -----------------------------------------------------
    ['layers', 'Linear', () => {
      const [i, o, opts, ok] = R.pick([[2, 3, {}, true], [1, 1, { bias: false }, true], [3, 2, { init: 'he', seed: 1 }, true], [-1, 2, {}, false], [1.5, 2, {}, false], ['2', 2, {}, false], [2, 3, { bias: 'no' }, false], [2, 3, { init: 'bogus' }, false], [2, 3, null, false], [2, 3, { seed: 'x' }, false]]);
      return { op: 'nn.Linear', args: [i, o, opts], expect: ok ? 'valid' : opts === null ? 'any' : 'invalid', run: () => new f.nn.Linear(i, o, opts), check: (m) => (m.parameters().length === (opts && opts.bias === false ? 1 : 2) ? '' : `${m.parameters().length} parameters`) };
    }],
    ['layers', 'forward', () => {
      const m = new f.nn.Sequential(new f.nn.Linear(3, 4, { seed: 1 }), new f.nn.ReLU(), new f.nn.Linear(4, 2, { seed: 2 }));
      const n = R.int(0, 4);
      const [x, ok] = R.pick([[T([n, 3]), true], [T([n, 3]), true], [T([n, 4]), false], [T([3]), 'any'], [[1, 2, 3], false], [null, false], ['x', false], [f.tensor(new Int32Array(3), [1, 3]), false]]);
      return { op: 'Sequential.forward', args: [x], expect: ok === 'any' ? 'any' : ok ? 'valid' : 'invalid', run: () => m.forward(x), check: ok === true ? isTensor(f, [n, 2]) : undefined };
    }],
    ['layers', 'customModule', () => ({
      op: 'custom nn.Module with a property-assigned Linear', args: [], expect: 'valid',
      run: () => {
        class Net extends f.nn.Module {
          constructor() { super(); this.fc = new f.nn.Linear(2, 1, { seed: 3 }); }
          forward(x) { return this.fc.forward(x); }
          config() { return { type: 'Net' }; }
        }
        return new Net();
      },
      check: (m) => (m.parameters().length === 2 ? '' : `parameters() has ${m.parameters().length} entries, expected 2 (fc.weight, fc.bias)`),
    })],
    ['layers', 'losses', () => {
      const fn = R.pick(['mse', 'binaryCrossEntropy', 'crossEntropy']);
      const n = R.int(1, 4);
      const ok = R.chance(0.7);
      const logits = T([n, 2]);
      const target = fn === 'crossEntropy' ? f.tensor(new Int32Array(n).map(() => R.int(0, 1)), [n]) : T([n, 2], 0, 1);
      const args = ok ? [logits, target] : R.pick([[logits, T([n + 1, 2])], [logits, null], ['x', target], [logits, 3]]);
      return { op: `losses.${fn}`, args, expect: ok ? 'valid' : 'invalid', run: () => f.losses[fn](...args), check: isTensor(f, []) };
    }],
    ['layers', 'fit', () => {
      const model = new f.nn.Sequential(new f.nn.Linear(2, 3, { seed: 1 }), new f.nn.Linear(3, 2, { seed: 2 }));
      const n = R.int(4, 12);
      const x = T([n, 2]), y = f.tensor(new Int32Array(n).map(() => R.int(0, 1)), [n]);
      const good = { loss: 'crossEntropy', optimizer: R.pick(['adam', 'sgd']), lr: 0.05, epochs: R.int(1, 2), batchSize: R.int(1, 8), verbose: 0, seed: 1 };
      const [opts, ok] = R.pick([
        [good, true], [good, true], [{ ...good, validationSplit: 0.25 }, true],
        [undefined, false], [null, false], [{ ...good, epochs: -3 }, false], [{ ...good, epochs: '2' }, false], [{ ...good, epochs: 1.5 }, false],
        [{ ...good, batchSize: 0 }, false], [{ ...good, validationSplit: 1.5 }, false], [{ ...good, lr: 1e300 }, false], [{ ...good, lr: -1 }, false],
        [{ ...good, optimizer: 'nope' }, false], [{ ...good, loss: 'nope' }, false], [{ ...good, shuffle: 'yes' }, false], [{ ...good, verbose: 'loud' }, false],
      ]);
      const yy = R.chance(0.1) ? f.tensor(new Int32Array(n + 1), [n + 1]) : y;
      const valid = ok && yy === y;
      return {
        op: 'model.fit', args: [x, yy, opts], expect: valid ? 'valid' : 'invalid', run: () => model.fit(x, yy, opts),
        check: (h) => {
          const losses = h?.loss ?? h?.history?.loss;
          if (!Array.isArray(losses) || losses.length !== opts.epochs) return `history.loss is ${JSON.stringify(losses)}`;
          return losses.every(Number.isFinite) ? '' : 'non-finite loss';
        },
      };
    }],
    ['layers', 'evaluate', () => {
      const model = new f.nn.Sequential(new f.nn.Linear(2, 2, { seed: 1 }));
      const n = R.pick([0, 1, 3, 8]);
      const x = T([n, 2]), y = f.tensor(new Int32Array(n), [n]);
      const opts = R.pick([{ loss: 'crossEntropy' }, { loss: 'crossEntropy', batchSize: 2 }, { loss: 'crossEntropy', batchSize: 0 }, { loss: 'mse' }]);
      const ok = n > 0 && opts.batchSize !== 0 && opts.loss === 'crossEntropy';
      return { op: 'model.evaluate', args: [x, y, opts], expect: ok ? 'valid' : 'invalid', run: () => model.evaluate(x, y, opts), check: (r) => (Number.isFinite(r?.loss) ? '' : `loss ${r?.loss}`) };
    }],
    ['layers', 'predict', () => {
      const model = new f.nn.Sequential(new f.nn.Linear(2, 3, { seed: 1 }), new f.nn.Tanh());
      const n = R.int(0, 6);
      const [x, opts, ok] = R.pick([[T([n, 2]), {}, true], [T([n, 2]), { batchSize: 2 }, true], [T([n, 2]), { batchSize: 0 }, false], [T([n, 2]), { batchSize: 'x' }, false], [T([n, 3]), {}, false], ['x', {}, false], [T([n, 2]), null, 'any']]);
      return { op: 'model.predict', args: [x, opts], expect: ok === 'any' ? 'any' : ok ? 'valid' : 'invalid', run: () => model.predict(x, opts), check: isTensor(f, [n, 3]) };
    }],
    // ---- save / load ------------------------------------------------------------------
    ['io', 'save', () => {
      const model = new f.nn.Sequential(new f.nn.Linear(2, 2, { seed: 1 }));
      const name = `m${R.int(0, 1e9)}.safetensors`;
      const [path, ok] = R.pick([
        [join(tmp, name), true], [pathToFileURL(join(tmp, 'u' + name)), true], [join(tmp, 'missing', 'dir', name), false], [tmp, false],
        ['', false], [null, false], [42, false],
      ]);
      return {
        op: 'save', args: [model, path], expect: ok ? 'valid' : 'invalid',
        run: async () => { await f.save(model, path); return f.load(path); },
        check: (m) => (m?.parameters?.().length === 2 ? '' : 'the loaded model has no parameters'),
      };
    }],
    ['io', 'load', () => {
      const kind = R.int(0, 7);
      const p = join(tmp, `bad${kind}-${R.int(0, 1e9)}.safetensors`);
      const make = () => {
        if (kind === 0) writeFileSync(p, 'this is not a safetensors file at all');
        if (kind === 1) writeFileSync(p, Buffer.alloc(0));
        if (kind === 2) { // a header declaring a 16384 x 16384 layer, no data
          const h = Buffer.from(JSON.stringify({ __metadata__: { format: 'fathom.model/1', 'fathom.architecture': JSON.stringify({ type: 'Linear', inFeatures: 16384, outFeatures: 16384 }) }, weight: { dtype: 'F32', shape: [16384, 16384], data_offsets: [0, 1073741824] } }));
          const len = Buffer.alloc(8); len.writeBigUInt64LE(BigInt(h.length));
          writeFileSync(p, Buffer.concat([len, h]));
        }
        if (kind === 3) { const len = Buffer.alloc(8); len.writeBigUInt64LE(2n ** 60n); writeFileSync(p, len); }
        if (kind === 4) mkdirSync(p, { recursive: true });
        if (kind === 5) writeFileSync(p, Buffer.from([8, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 34, 58, 49, 125, 32]));
      };
      const path = kind === 6 ? join(tmp, 'nope', 'x.safetensors') : kind === 7 ? R.pick([null, 3, {}]) : p;
      return { op: 'load', args: [path], expect: 'invalid', run: () => { make(); return f.load(path); } };
    }],
  ];
  const [area, op, gen] = R.pick(cases);
  const c = gen();
  return { area, op: `api.${c.op ?? op}`, args: c.args, expect: c.expect, run: c.run, check: c.check };
}
