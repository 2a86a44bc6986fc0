/**
 * The one validation spec of the raw kernels, shared by both backends:
 * `checked(inner)` wraps a Backend so that every method validates its
 * arguments (in the table below, one entry per kernel) before `inner` runs a
 * single loop. Both `tsBackend` and the native backend are handed out wrapped,
 * so `backend().transpose2d(n, d, a, a)` is refused the same way on both; the
 * native binding re-checks what could crash or corrupt memory (args.h).
 *
 * What every entry checks, before any loop:
 *  - sizes are non-negative safe integers (numbers, not strings or 1.5) and
 *    their products stay <= 2^53 - 1;
 *  - every array is of the expected type (Float32Array / Int32Array), is not
 *    backed by a detached (transferred) buffer, and holds exactly the number
 *    of values the sizes declare;
 *  - an output never overlaps another argument, except where the kernel's
 *    contract (native/kernels/kernels.h) documents in-place use: element-wise
 *    kernels may write into one of their inputs when it is the very same view
 *    (unary y = x, binary out = a, dz = dy of biasActBackward, copy x = y);
 *    partial overlap is always refused;
 *  - scalars that the native contract rounds to float32 (p, alpha, beta, g,
 *    the random bounds, the optimizer hyper-parameters) are finite in float32,
 *    in their documented ranges (lr >= 0, beta in [0, 1), eps > 0, ...);
 *  - enum names are known, labels lie in [0, D), step counts are >= 1.
 * Work that would only loop over empty rows (D = 0 beside a huge N) returns
 * at once, so no size can make a kernel spin.
 *
 * Errors name the op and the argument, what was expected and what came:
 *   fathom.backend.transpose2d: y overlaps x (same buffer, bytes 0..64); the output must not alias the input
 */
import { Act, Binary, OPTIM_STATES, Optim, Reduce, Unary, type Backend, type ConvGeometry } from './backend.js';
import {
  F32_MAX, describe, isDetached, NORMAL_REACH, fail, size, product, f32, i32, bool, unaryParams, num32, enumName, u64, ints, shapeSize, reach, apart, channels, normEps, normRows, disjoint, rows, groups, sgdOptions, optimOptions, labels, convSizes, args, I32_MAX, poolGeom,
} from './validate.js';
import { sequenceSpecs } from './checked_seq.js';

export { F32_MAX, describe, isDetached };

const innerOf = new WeakMap<Backend, Backend>();

/**
 * The unchecked kernels behind a checked backend (or `b` itself). fathom's own
 * ops call these: they build every argument themselves after validating the
 * user's input at the op level, so checking again per kernel call only costs
 * (about 4 µs of a 36 µs small training step); the addon still re-checks what
 * could crash.
 */
export function uncheckedOf(b: Backend): Backend {
  return innerOf.get(b) ?? b;
}

/** Wraps a backend so every raw kernel validates its arguments first (see the file comment). */
export function checked(inner: Backend): Backend {
  const k = inner;
  const b: Backend = {
    name: inner.name,

    unary(op, x, y, p, q) {
      args('unary', arguments, 5);
      enumName('unary', 'op', op, Unary);
      const n = f32('unary', 'x', x).length;
      f32('unary', 'y', y, n);
      num32('unary', 'p', p);
      num32('unary', 'q', q);
      unaryParams('unary', op, p, q);
      apart('unary', 'y', y, 'x', x, true);
      k.unary(op, x, y, p, q);
    },

    unaryBackward(op, x, y, dy, dx, p, q) {
      const o = 'unaryBackward';
      args(o, arguments, 7);
      enumName(o, 'op', op, Unary);
      const n = f32(o, 'x', x).length;
      f32(o, 'y', y, n);
      f32(o, 'dy', dy, n);
      f32(o, 'dx', dx, n);
      num32(o, 'p', p);
      num32(o, 'q', q);
      unaryParams(o, op, p, q);
      apart(o, 'dx', dx, 'x', x, true);
      apart(o, 'dx', dx, 'y', y, true);
      apart(o, 'dx', dx, 'dy', dy, true);
      k.unaryBackward(op, x, y, dy, dx, p, q);
    },

    binary(op, x, y, out) {
      args('binary', arguments, 4);
      enumName('binary', 'op', op, Binary);
      const n = f32('binary', 'a', x).length;
      f32('binary', 'b', y, n);
      f32('binary', 'out', out, n);
      apart('binary', 'out', out, 'a', x, true);
      apart('binary', 'out', out, 'b', y, true);
      k.binary(op, x, y, out);
    },

    binaryBroadcast(op, shape, x, xs, y, ys, out) {
      const o = 'binaryBroadcast';
      args(o, arguments, 7);
      enumName(o, 'op', op, Binary);
      ints(o, 'shape', shape);
      ints(o, 'aStrides', xs);
      ints(o, 'bStrides', ys);
      if (xs.length !== shape.length || ys.length !== shape.length) {
        fail(o, `shape, aStrides and bStrides must have the same length, got ${shape.length}, ${xs.length}, ${ys.length}`);
      }
      const n = shapeSize(o, shape);
      f32(o, 'a', x);
      f32(o, 'b', y);
      f32(o, 'out', out, n);
      const ar = reach(o, 'aStrides', shape, xs), br = reach(o, 'bStrides', shape, ys);
      if (n > 0 && (ar >= x.length || br >= y.length)) {
        fail(o, `strides reach past the operands: a needs ${ar + 1} values (has ${x.length}), b needs ${br + 1} (has ${y.length})`);
      }
      // In place only where the operand is read exactly as out is written.
      const contiguous = (s: readonly number[]): boolean => {
        let st = 1;
        for (let d = shape.length - 1; d >= 0; d--) {
          if (shape[d] !== 1 && s[d] !== st) return false;
          st *= shape[d];
        }
        return true;
      };
      apart(o, 'out', out, 'a', x, contiguous(xs));
      apart(o, 'out', out, 'b', y, contiguous(ys));
      if (n === 0) return;
      k.binaryBroadcast(op, shape, x, xs, y, ys, out);
    },

    reduce(op, shape, x, os, out) {
      const o = 'reduce';
      args(o, arguments, 5);
      enumName(o, 'op', op, Reduce);
      ints(o, 'shape', shape);
      ints(o, 'outStrides', os);
      if (os.length !== shape.length) fail(o, `outStrides must have ${shape.length} entries, got ${os.length}`);
      const n = shapeSize(o, shape);
      f32(o, 'x', x, n);
      f32(o, 'out', out);
      // out holds exactly what the walk reaches (mean divides by x.length / out.length).
      const r = reach(o, 'outStrides', shape, os);
      if (n > 0 && r + 1 !== out.length) {
        fail(o, `outStrides reach index ${r}, so out must hold ${r + 1} values, got ${out.length}`);
      }
      apart(o, 'out', out, 'x', x);
      // An empty input only initialises out: walk a shape with nothing in it.
      if (n === 0) k.reduce(op, [0], x, [0], out);
      else k.reduce(op, shape, x, os, out);
    },

    softmax(n, d, x, y, log) {
      const o = 'softmax';
      args(o, arguments, 5);
      const nd = rows(o, n, d);
      f32(o, 'x', x, nd);
      f32(o, 'y', y, nd);
      bool(o, 'log', log);
      apart(o, 'y', y, 'x', x);
      if (nd === 0) return;
      k.softmax(n, d, x, y, log);
    },

    softmaxBackward(n, d, y, dy, dx, log) {
      const o = 'softmaxBackward';
      args(o, arguments, 6);
      const nd = rows(o, n, d);
      f32(o, 'y', y, nd);
      f32(o, 'dy', dy, nd);
      f32(o, 'dx', dx, nd);
      bool(o, 'log', log);
      apart(o, 'dx', dx, 'y', y);
      apart(o, 'dx', dx, 'dy', dy);
      if (nd === 0) return;
      k.softmaxBackward(n, d, y, dy, dx, log);
    },

    xentLabels(n, d, logits, lab, prob) {
      const o = 'xentLabels';
      args(o, arguments, 5);
      const nd = rows(o, n, d);
      if (n > 0 && d === 0) fail(o, `d (the class count) must be > 0 when n > 0, got n = ${n}, d = 0`);
      f32(o, 'logits', logits, nd);
      f32(o, 'prob', prob, nd);
      labels(o, lab, n, d);
      apart(o, 'prob', prob, 'logits', logits);
      apart(o, 'prob', prob, 'labels', lab);
      return k.xentLabels(n, d, logits, lab, prob);
    },

    xentLabelsBackward(n, d, prob, lab, g, dl) {
      const o = 'xentLabelsBackward';
      args(o, arguments, 6);
      const nd = rows(o, n, d);
      f32(o, 'prob', prob, nd);
      labels(o, lab, n, d);
      num32(o, 'g', g);
      f32(o, 'dlogits', dl, nd);
      apart(o, 'dlogits', dl, 'prob', prob);
      apart(o, 'dlogits', dl, 'labels', lab);
      if (nd === 0) return;
      k.xentLabelsBackward(n, d, prob, lab, g, dl);
    },

    xentProbs(n, d, logits, target, prob) {
      const o = 'xentProbs';
      args(o, arguments, 5);
      const nd = rows(o, n, d);
      if (n > 0 && d === 0) fail(o, `d (the class count) must be > 0 when n > 0, got n = ${n}, d = 0`);
      f32(o, 'logits', logits, nd);
      f32(o, 'target', target, nd);
      f32(o, 'prob', prob, nd);
      apart(o, 'prob', prob, 'logits', logits);
      apart(o, 'prob', prob, 'target', target);
      return k.xentProbs(n, d, logits, target, prob);
    },

    xentProbsBackward(n, d, prob, target, g, dl) {
      const o = 'xentProbsBackward';
      args(o, arguments, 6);
      const nd = rows(o, n, d);
      f32(o, 'prob', prob, nd);
      f32(o, 'target', target, nd);
      num32(o, 'g', g);
      f32(o, 'dlogits', dl, nd);
      apart(o, 'dlogits', dl, 'prob', prob);
      apart(o, 'dlogits', dl, 'target', target);
      if (nd === 0) return;
      k.xentProbsBackward(n, d, prob, target, g, dl);
    },

    mse(x, y) {
      args('mse', arguments, 2);
      f32('mse', 'b', y, f32('mse', 'a', x).length);
      return k.mse(x, y);
    },

    mseBackward(x, y, g, da) {
      const o = 'mseBackward';
      args(o, arguments, 4);
      const n = f32(o, 'a', x).length;
      f32(o, 'b', y, n);
      num32(o, 'g', g);
      f32(o, 'da', da, n);
      apart(o, 'da', da, 'a', x, true);
      apart(o, 'da', da, 'b', y, true);
      k.mseBackward(x, y, g, da);
    },

    transpose2d(n, d, x, y) {
      const o = 'transpose2d';
      args(o, arguments, 4);
      const nd = rows(o, n, d);
      f32(o, 'x', x, nd);
      f32(o, 'y', y, nd);
      apart(o, 'y', y, 'x', x);
      if (nd === 0) return;
      k.transpose2d(n, d, x, y);
    },

    argmax(n, d, x, out) {
      const o = 'argmax';
      args(o, arguments, 4);
      const nd = rows(o, n, d);
      if (n > 0 && d === 0) fail(o, `d must be > 0 when n > 0 (an empty row has no maximum), got n = ${n}, d = 0`);
      if (d > 2147483647) fail(o, `d must be at most 2^31 - 1 (indices are int32), got ${d}`);
      f32(o, 'x', x, nd);
      i32(o, 'out', out, n);
      apart(o, 'out', out, 'x', x);
      if (nd === 0) return;
      k.argmax(n, d, x, out);
    },

    fill(y, value) {
      args('fill', arguments, 2);
      f32('fill', 'y', y);
      if (typeof value !== 'number') fail('fill', `value must be a number, got ${describe(value)}`);
      if (Number.isFinite(value) && !Number.isFinite(Math.fround(value))) {
        fail('fill', `value ${value} is finite but overflows float32 (|x| <= ${F32_MAX}); pass ±Infinity explicitly if meant`);
      }
      k.fill(y, value);
    },

    copy(x, y) {
      args('copy', arguments, 2);
      f32('copy', 'y', y, f32('copy', 'x', x).length);
      apart('copy', 'y', y, 'x', x, true);
      k.copy(x, y);
    },

    randUniform(y, seed, offset, lo, hi) {
      const o = 'randUniform';
      args(o, arguments, 5);
      f32(o, 'y', y);
      u64(o, 'seed', seed);
      u64(o, 'offset', offset);
      const l = Math.fround(num32(o, 'lo', lo)), h = Math.fround(num32(o, 'hi', hi));
      if (l > h) fail(o, `lo must be <= hi, got lo = ${lo}, hi = ${hi}`);
      // hi - lo may exceed float32's range: the kernels compute lo + (hi - lo) * u in
      // float64, and the result lies in [lo, hi], so it is always finite as float32.
      k.randUniform(y, seed, offset, lo, hi);
    },

    randNormal(y, seed, offset, mean, std) {
      const o = 'randNormal';
      args(o, arguments, 5);
      f32(o, 'y', y);
      u64(o, 'seed', seed);
      u64(o, 'offset', offset);
      const m = Math.fround(num32(o, 'mean', mean)), s = Math.fround(num32(o, 'std', std, { min: 0 }));
      if (Math.abs(m) + NORMAL_REACH * s > F32_MAX) {
        fail(o, `mean ± ${NORMAL_REACH} std (mean = ${mean}, std = ${std}) overflows float32 (at most ${F32_MAX})`);
      }
      k.randNormal(y, seed, offset, mean, std);
    },

    gemm(ta, tb, m, n, kk, alpha, a, bb, beta, c) {
      const o = 'gemm';
      args(o, arguments, 10);
      bool(o, 'transA', ta);
      bool(o, 'transB', tb);
      size(o, 'm', m);
      size(o, 'n', n);
      size(o, 'k', kk);
      const mk = product(o, 'm * k', m, kk), kn = product(o, 'k * n', kk, n), mn = product(o, 'm * n', m, n);
      num32(o, 'alpha', alpha);
      num32(o, 'beta', beta);
      f32(o, 'a', a, mk);
      f32(o, 'b', bb, kn);
      f32(o, 'c', c, mn);
      apart(o, 'c', c, 'a', a);
      apart(o, 'c', c, 'b', bb);
      if (mn === 0) return;
      k.gemm(ta, tb, m, n, kk, alpha, a, bb, beta, c);
    },

    maxout(n, k, x, y) {
      const o = 'maxout';
      args(o, arguments, 4);
      const nk = groups(o, n, k);
      f32(o, 'x', x, nk);
      f32(o, 'y', y, n);
      apart(o, 'y', y, 'x', x);
      if (n === 0) return;
      inner.maxout(n, k, x, y); // (k here is the group size: the backend is `inner`)
    },

    maxoutBackward(n, k, x, dy, dx) {
      const o = 'maxoutBackward';
      args(o, arguments, 5);
      const nk = groups(o, n, k);
      f32(o, 'x', x, nk);
      f32(o, 'dy', dy, n);
      f32(o, 'dx', dx, nk);
      apart(o, 'dx', dx, 'x', x);
      apart(o, 'dx', dx, 'dy', dy);
      if (n === 0) return;
      inner.maxoutBackward(n, k, x, dy, dx);
    },

    biasAct(n, d, y, bias, act) {
      const o = 'biasAct';
      args(o, arguments, 5);
      const nd = rows(o, n, d);
      f32(o, 'y', y, nd);
      if (bias !== null) f32(o, 'bias', bias, d);
      enumName(o, 'act', act, Act);
      apart(o, 'y', y, 'bias', bias);
      if (nd === 0) return;
      k.biasAct(n, d, y, bias, act);
    },

    // --- #13 rawinfer ---
    linearForward(n, out, inF, x, w, bias, act, y) {
      const o = 'linearForward';
      args(o, arguments, 8);
      size(o, 'n', n);
      size(o, 'out', out);
      size(o, 'in', inF);
      const nk = product(o, 'n * in', n, inF), dk = product(o, 'out * in', out, inF), nd = product(o, 'n * out', n, out);
      f32(o, 'x', x, nk);
      f32(o, 'w', w, dk);
      if (bias !== null) f32(o, 'bias', bias, out);
      enumName(o, 'act', act, Act);
      f32(o, 'y', y, nd);
      apart(o, 'y', y, 'x', x);
      apart(o, 'y', y, 'w', w);
      apart(o, 'y', y, 'bias', bias);
      if (nd === 0) return;
      k.linearForward(n, out, inF, x, w, bias, act, y);
    },
    // --- end #13 rawinfer ---
    // --- #13 infer ---
    linearChain(n, dims, ws, biases, acts, x, y) {
      const o = 'linearChain';
      args(o, arguments, 7);
      size(o, 'n', n);
      if (!Array.isArray(ws) || ws.length < 1 || ws.length > 4096) fail(o, `ws must be an Array of 1 to 4096 Float32Arrays, got ${Array.isArray(ws) ? `${ws.length} entries` : describe(ws)}`);
      const L = ws.length;
      if (!Array.isArray(dims) || dims.length !== L + 1) fail(o, `dims must be an Array of ${L + 1} sizes (in, then each layer's out), got ${Array.isArray(dims) ? `${dims.length} entries` : describe(dims)}`);
      if (!Array.isArray(biases) || biases.length !== L) fail(o, `biases must be an Array of ${L} entries (Float32Array or null), got ${Array.isArray(biases) ? `${biases.length} entries` : describe(biases)}`);
      if (!Array.isArray(acts) || acts.length !== L) fail(o, `acts must be an Array of ${L} activation names, got ${Array.isArray(acts) ? `${acts.length} entries` : describe(acts)}`);
      for (let i = 0; i <= L; i++) {
        size(o, `dims[${i}]`, dims[i]);
        if (dims[i] < 1 || dims[i] > 2 ** 31 - 1) fail(o, `dims[${i}] must be in [1, 2^31 - 1], got ${dims[i]}`);
      }
      f32(o, 'x', x, product(o, 'n * dims[0]', n, dims[0]));
      const nd = product(o, `n * dims[${L}]`, n, dims[L]);
      f32(o, 'y', y, nd);
      apart(o, 'y', y, 'x', x);
      for (let l = 0; l < L; l++) {
        product(o, `n * dims[${l + 1}]`, n, dims[l + 1]);
        f32(o, `ws[${l}]`, ws[l], product(o, `dims[${l + 1}] * dims[${l}]`, dims[l + 1], dims[l]));
        if (biases[l] !== null) f32(o, `biases[${l}]`, biases[l], dims[l + 1]);
        enumName(o, `acts[${l}]`, acts[l], Act);
        apart(o, 'y', y, `ws[${l}]`, ws[l]);
        apart(o, 'y', y, `biases[${l}]`, biases[l]);
      }
      if (n === 0) return;
      k.linearChain(n, dims, ws, biases, acts, x, y);
    },
    // --- end #13 infer ---

    biasActBackward(n, d, y, dy, dz, dbias, act) {
      const o = 'biasActBackward';
      args(o, arguments, 7);
      const nd = rows(o, n, d);
      f32(o, 'y', y, nd);
      f32(o, 'dy', dy, nd);
      f32(o, 'dz', dz, nd);
      if (dbias !== null) f32(o, 'dbias', dbias, d);
      enumName(o, 'act', act, Act);
      apart(o, 'dz', dz, 'y', y);
      apart(o, 'dz', dz, 'dy', dy, true);
      if (dbias) {
        apart(o, 'dbias', dbias, 'y', y);
        apart(o, 'dbias', dbias, 'dy', dy);
        apart(o, 'dbias', dbias, 'dz', dz);
      }
      if (d === 0) return; // nothing to write (dbias is empty too)
      k.biasActBackward(n, d, y, dy, dz, dbias, act);
    },

    sgdStep(w, g, v, opts, first) {
      const o = 'sgdStep';
      args(o, arguments, 5);
      const n = f32(o, 'w', w).length;
      f32(o, 'g', g, n);
      f32(o, 'v', v, n);
      sgdOptions(o, opts);
      bool(o, 'first', first);
      apart(o, 'w', w, 'g', g);
      apart(o, 'w', w, 'v', v);
      apart(o, 'v', v, 'g', g);
      k.sgdStep(w, g, v, opts, first);
    },

    optimStep(kind, w, g, s, opts) {
      const o = 'optimStep';
      args(o, arguments, 5);
      enumName(o, 'kind', kind, Optim);
      const n = f32(o, 'w', w).length;
      f32(o, 'g', g, n);
      if (!Array.isArray(s) || s.length !== OPTIM_STATES) fail(o, `s must be an array of ${OPTIM_STATES} state buffers (null where unused), got ${describe(s)}`);
      const h = optimOptions(o, kind, opts);
      const uses = Optim[kind].states(h);
      for (let i = 0; i < OPTIM_STATES; i++) {
        if (s[i] === null && !uses[i]) continue;
        f32(o, `s[${i}]`, s[i], n);
        apart(o, `s[${i}]`, s[i]!, 'w', w);
        apart(o, `s[${i}]`, s[i]!, 'g', g);
        for (let j = 0; j < i; j++) if (s[j]) apart(o, `s[${i}]`, s[i]!, `s[${j}]`, s[j]);
      }
      apart(o, 'w', w, 'g', g);
      k.optimStep(kind, w, g, s, opts);
    },

    dropout(x, y, mask, seed, offset, p, scale) {
      const o = 'dropout';
      args(o, arguments, 7);
      const n = f32(o, 'x', x).length;
      f32(o, 'y', y, n);
      f32(o, 'mask', mask, n);
      u64(o, 'seed', seed);
      u64(o, 'offset', offset);
      num32(o, 'p', p, { min: 0, max: 1 });
      num32(o, 'scale', scale);
      apart(o, 'y', y, 'x', x, true);
      apart(o, 'mask', mask, 'x', x);
      apart(o, 'mask', mask, 'y', y);
      k.dropout(x, y, mask, seed, offset, p, scale);
    },

    // ---- normalisation ----
    batchNormStats(n, c, sp, x, mean, varOut) {
      const o = 'batchNormStats';
      args(o, arguments, 6);
      const { ncs } = channels(o, n, c, sp, true);
      f32(o, 'x', x, ncs);
      f32(o, 'mean', mean, c);
      f32(o, 'varOut', varOut, c);
      disjoint(o, [['mean', mean], ['varOut', varOut]], [['x', x]]);
      if (c === 0) return;
      k.batchNormStats(n, c, sp, x, mean, varOut);
    },

    batchNormForward(n, c, sp, x, mean, variance, eps, weight, bias, y) {
      const o = 'batchNormForward';
      args(o, arguments, 10);
      const { ncs } = channels(o, n, c, sp, false);
      f32(o, 'x', x, ncs);
      f32(o, 'mean', mean, c);
      f32(o, 'variance', variance, c);
      normEps(o, eps);
      if (weight !== null) f32(o, 'weight', weight, c);
      if (bias !== null) f32(o, 'bias', bias, c);
      f32(o, 'y', y, ncs);
      apart(o, 'y', y, 'x', x, true);
      disjoint(o, [['y', y]], [['mean', mean], ['variance', variance], ['weight', weight], ['bias', bias]]);
      if (ncs === 0) return;
      k.batchNormForward(n, c, sp, x, mean, variance, eps, weight, bias, y);
    },

    batchNormBackward(n, c, sp, x, dy, mean, variance, eps, weight, training, dx, dweight, dbias) {
      const o = 'batchNormBackward';
      args(o, arguments, 13);
      bool(o, 'training', training);
      const { ncs } = channels(o, n, c, sp, training);
      f32(o, 'x', x, ncs);
      f32(o, 'dy', dy, ncs);
      f32(o, 'mean', mean, c);
      f32(o, 'variance', variance, c);
      normEps(o, eps);
      if (weight !== null) f32(o, 'weight', weight, c);
      if (dx !== null) f32(o, 'dx', dx, ncs);
      if (dweight !== null) f32(o, 'dweight', dweight, c);
      if (dbias !== null) f32(o, 'dbias', dbias, c);
      disjoint(o, [['dx', dx], ['dweight', dweight], ['dbias', dbias]],
        [['x', x], ['dy', dy], ['mean', mean], ['variance', variance], ['weight', weight]]);
      if (c === 0) return;
      k.batchNormBackward(n, c, sp, x, dy, mean, variance, eps, weight, training, dx, dweight, dbias);
    },

    layerNormForward(r, d, x, weight, bias, eps, y, mean, rstd) {
      const o = 'layerNormForward';
      args(o, arguments, 9);
      const rd = normRows(o, r, d);
      f32(o, 'x', x, rd);
      if (weight !== null) f32(o, 'weight', weight, d);
      if (bias !== null) f32(o, 'bias', bias, d);
      normEps(o, eps);
      f32(o, 'y', y, rd);
      f32(o, 'mean', mean, r);
      f32(o, 'rstd', rstd, r);
      apart(o, 'y', y, 'x', x, true);
      disjoint(o, [['y', y], ['mean', mean], ['rstd', rstd]], [['weight', weight], ['bias', bias]]);
      apart(o, 'mean', mean, 'x', x);
      apart(o, 'rstd', rstd, 'x', x);
      if (r === 0) return;
      k.layerNormForward(r, d, x, weight, bias, eps, y, mean, rstd);
    },

    layerNormBackward(r, d, x, dy, mean, rstd, weight, dx, dweight, dbias) {
      const o = 'layerNormBackward';
      args(o, arguments, 10);
      const rd = normRows(o, r, d);
      f32(o, 'x', x, rd);
      f32(o, 'dy', dy, rd);
      f32(o, 'mean', mean, r);
      f32(o, 'rstd', rstd, r);
      if (weight !== null) f32(o, 'weight', weight, d);
      if (dx !== null) f32(o, 'dx', dx, rd);
      if (dweight !== null) f32(o, 'dweight', dweight, d);
      if (dbias !== null) f32(o, 'dbias', dbias, d);
      disjoint(o, [['dx', dx], ['dweight', dweight], ['dbias', dbias]],
        [['x', x], ['dy', dy], ['mean', mean], ['rstd', rstd], ['weight', weight]]);
      if (d === 0) return;
      k.layerNormBackward(r, d, x, dy, mean, rstd, weight, dx, dweight, dbias);
    },
    // ---- end normalisation ----
    // ---- conv ----
    conv2d(g, x, w, bias, act, y) {
      const o = 'conv2d';
      args(o, arguments, 6);
      const z = convSizes(o, g);
      f32(o, 'x', x, z.x);
      f32(o, 'w', w, z.w);
      if (bias !== null) f32(o, 'bias', bias, (g as ConvGeometry).o);
      enumName(o, 'act', act, Act);
      f32(o, 'y', y, z.y);
      apart(o, 'y', y, 'x', x);
      apart(o, 'y', y, 'w', w);
      apart(o, 'y', y, 'bias', bias);
      if (z.y === 0) return;
      k.conv2d(g, x, w, bias, act, y);
    },

    conv2dBackwardData(g, dy, w, dx) {
      const o = 'conv2dBackwardData';
      args(o, arguments, 4);
      const z = convSizes(o, g);
      f32(o, 'dy', dy, z.y);
      f32(o, 'w', w, z.w);
      f32(o, 'dx', dx, z.x);
      apart(o, 'dx', dx, 'dy', dy);
      apart(o, 'dx', dx, 'w', w);
      if (z.x === 0) return;
      if (z.y === 0) { dx.fill(0); return; }
      k.conv2dBackwardData(g, dy, w, dx);
    },

    conv2dBackwardWeight(g, x, dy, dw) {
      const o = 'conv2dBackwardWeight';
      args(o, arguments, 4);
      const z = convSizes(o, g);
      f32(o, 'x', x, z.x);
      f32(o, 'dy', dy, z.y);
      f32(o, 'dw', dw, z.w);
      apart(o, 'dw', dw, 'x', x);
      apart(o, 'dw', dw, 'dy', dy);
      if (z.y === 0) { dw.fill(0); return; }
      k.conv2dBackwardWeight(g, x, dy, dw);
    },
    // ---- pooling ----
    maxPool2d(g, x, y) {
      const o = 'maxPool2d';
      args(o, arguments, 3);
      const [, n, m] = poolGeom(o, g, 'max');
      f32(o, 'x', x, n);
      f32(o, 'y', y, m);
      apart(o, 'y', y, 'x', x);
      if (m === 0) return;
      k.maxPool2d(g, x, y);
    },
    maxPool2dBackward(g, x, dy, dx) {
      const o = 'maxPool2dBackward';
      args(o, arguments, 4);
      const [, n, m] = poolGeom(o, g, 'max');
      f32(o, 'x', x, n);
      f32(o, 'dy', dy, m);
      f32(o, 'dx', dx, n);
      apart(o, 'dx', dx, 'x', x);
      apart(o, 'dx', dx, 'dy', dy);
      if (n === 0) return;
      k.maxPool2dBackward(g, x, dy, dx);
    },
    avgPool2d(g, cip, divisor, x, y) {
      const o = 'avgPool2d';
      args(o, arguments, 5);
      const [, n, m] = poolGeom(o, g, 'avg');
      bool(o, 'countIncludePad', cip);
      if (size(o, 'divisor', divisor) > I32_MAX) fail(o, `divisor must be < 2^31, got ${divisor}`);
      f32(o, 'x', x, n);
      f32(o, 'y', y, m);
      apart(o, 'y', y, 'x', x);
      if (m === 0) return;
      k.avgPool2d(g, cip, divisor, x, y);
    },
    avgPool2dBackward(g, cip, divisor, dy, dx) {
      const o = 'avgPool2dBackward';
      args(o, arguments, 5);
      const [, n, m] = poolGeom(o, g, 'avg');
      bool(o, 'countIncludePad', cip);
      if (size(o, 'divisor', divisor) > I32_MAX) fail(o, `divisor must be < 2^31, got ${divisor}`);
      f32(o, 'dy', dy, m);
      f32(o, 'dx', dx, n);
      apart(o, 'dx', dx, 'dy', dy);
      if (n === 0) return;
      k.avgPool2dBackward(g, cip, divisor, dy, dx);
    },
    adaptiveAvgPool2d(g, x, y) {
      const o = 'adaptiveAvgPool2d';
      args(o, arguments, 3);
      const [, n, m] = poolGeom(o, g, 'adaptive');
      f32(o, 'x', x, n);
      f32(o, 'y', y, m);
      apart(o, 'y', y, 'x', x);
      if (m === 0) return;
      k.adaptiveAvgPool2d(g, x, y);
    },
    adaptiveAvgPool2dBackward(g, dy, dx) {
      const o = 'adaptiveAvgPool2dBackward';
      args(o, arguments, 3);
      const [, n, m] = poolGeom(o, g, 'adaptive');
      f32(o, 'dy', dy, m);
      f32(o, 'dx', dx, n);
      apart(o, 'dx', dx, 'dy', dy);
      if (n === 0) return;
      k.adaptiveAvgPool2dBackward(g, dy, dx);
    },
    // ---- end pooling ----
    // the sequence kernels (#11): recurrences, index/gather, cumsum, where
    ...sequenceSpecs(k),
  };
  innerOf.set(b, inner);
  return b;
}
