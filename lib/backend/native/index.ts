/**
 * The native backend: each kernel family forwards to the addon, behind the
 * same argument checks as the TS backend (checked.ts); the addon re-checks.
 */
import { Act, Binary, Optim, Reduce, Unary } from '../backend.js';
import type { ActOp, Backend, BinaryOp, OptimKind, OptimOptions, ReduceOp, SgdOptions, UnaryOp } from '../backend.js';
import type { NativeBinding } from './binding.js';
import { checked } from '../checked.js';
// --- #11 cells ---
import { RnnKind } from '../backend.js';
// --- end #11 cells ---
// conv
import { CONV_GEOMETRY_FIELDS, type ConvGeometry } from '../backend.js';

/** A checked ConvGeometry as the binding's Int32Array (checked.ts bounds every field below 2^31). */
function convGeom(g: ConvGeometry): Int32Array {
  return Int32Array.from(CONV_GEOMETRY_FIELDS, (k) => g[k]);
}

export function nativeBackend(b: NativeBinding): Backend {
  return checked({
    name: 'native',
    unary: (op: UnaryOp, x, y, p, q) => b.unary(Unary[op], x, y, p, q),
    unaryBackward: (op: UnaryOp, x, y, dy, dx, p, q) => b.unaryBackward(Unary[op], x, y, dy, dx, p, q),
    binary: (op: BinaryOp, a, c, out) => b.binary(Binary[op], a, c, out),
    binaryBroadcast: (op: BinaryOp, shape, a, as, c, cs, out) => b.binaryBroadcast(Binary[op], shape, a, as, c, cs, out),
    reduce: (op: ReduceOp, shape, x, os, out) => b.reduce(Reduce[op], shape, x, os, out),
    softmax: (n, d, x, y, log) => b.softmax(n, d, x, y, log),
    softmaxBackward: (n, d, y, dy, dx, log) => b.softmaxBackward(n, d, y, dy, dx, log),
    xentLabels: (n, d, logits, labels, prob) => b.xentLabels(n, d, logits, labels, prob),
    xentLabelsBackward: (n, d, prob, labels, g, dl) => b.xentLabelsBackward(n, d, prob, labels, g, dl),
    xentProbs: (n, d, logits, t, prob) => b.xentProbs(n, d, logits, t, prob),
    xentProbsBackward: (n, d, prob, t, g, dl) => b.xentProbsBackward(n, d, prob, t, g, dl),
    mse: (a, c) => b.mse(a, c),
    mseBackward: (a, c, g, da) => b.mseBackward(a, c, g, da),
    transpose2d: (n, d, x, y) => b.transpose2d(n, d, x, y),
    argmax: (n, d, x, out) => b.argmax(n, d, x, out),
    fill: (y, v) => b.fill(y, v),
    copy: (x, y) => b.copy(x, y),
    randUniform: (y, seed, offset, lo, hi) => b.randUniform(y, seed, offset, lo, hi),
    randNormal: (y, seed, offset, mean, std) => b.randNormal(y, seed, offset, mean, std),
    gemm: (ta, tb, m, n, k, alpha, a, c, beta, out) => b.gemm(ta, tb, m, n, k, alpha, a, c, beta, out),
    biasAct: (n, d, y, bias, act: ActOp) => b.biasAct(n, d, y, bias, Act[act]),
    // --- #13 rawinfer ---
    // An addon built before #13 (an old prebuild) lacks it: the same two kernels, two calls.
    linearForward: typeof b.linearForward === 'function'
      ? (n, out, inF, x, w, bias, act: ActOp, y) => b.linearForward(n, out, inF, x, w, bias, Act[act], y)
      : (n, out, inF, x, w, bias, act: ActOp, y) => {
        b.gemm(false, true, n, out, inF, 1, x, w, 0, y);
        if (bias || act !== 'none') b.biasAct(n, out, y, bias, Act[act]);
      },
    // --- end #13 rawinfer ---
    // --- #13 infer ---
    linearChain: typeof b.linearChain === 'function'
      ? (n, dims, ws, biases, acts, x, y) => {
        const f = b.linearChain!;
        // Positional arguments (the addon reads no arrays); the common depths without a spread.
        switch (ws.length) {
          case 2:
            return f(n, x, y, dims[0], dims[1], Act[acts[0]], ws[0], biases[0], dims[2], Act[acts[1]], ws[1], biases[1]);
          case 3:
            return f(n, x, y, dims[0], dims[1], Act[acts[0]], ws[0], biases[0], dims[2], Act[acts[1]], ws[1], biases[1],
              dims[3], Act[acts[2]], ws[2], biases[2]);
          default: {
            const rest: (number | Float32Array | null)[] = [];
            for (let l = 0; l < ws.length; l++) rest.push(dims[l + 1], Act[acts[l]], ws[l], biases[l]);
            return f(n, x, y, dims[0], ...rest);
          }
        }
      }
      // An addon built before it (an old prebuild): linearForward layer after layer.
      : (n, dims, ws, biases, acts, x, y) => {
        let cur = x;
        for (let l = 0; l < ws.length; l++) {
          const next = l === ws.length - 1 ? y : new Float32Array(n * dims[l + 1]);
          b.linearForward(n, dims[l + 1], dims[l], cur, ws[l], biases[l], Act[acts[l]], next);
          cur = next;
        }
      },
    // --- end #13 infer ---
    maxout: (n, k, x, y) => b.maxout(n, k, x, y),
    maxoutBackward: (n, k, x, dy, dx) => b.maxoutBackward(n, k, x, dy, dx),
    biasActBackward: (n, d, y, dy, dz, dbias, act: ActOp) => b.biasActBackward(n, d, y, dy, dz, dbias, Act[act]),
    sgdStep: (w, g, v, o: SgdOptions, first) =>
      b.sgdStep(w, g, v, o.lr, o.momentum, o.dampening, o.weightDecay, o.nesterov, first),
    optimStep: (kind: OptimKind, w, g, s, o: OptimOptions) =>
      b.optimStep(
        Optim[kind].id, w, g, s[0], s[1], s[2], o.step, o.lr, o.weightDecay, o.eps, o.beta1 ?? 0, o.beta2 ?? 0,
        o.alpha ?? 0, o.rho ?? 0, o.momentum ?? 0, o.lrDecay ?? 0, o.decoupled ?? false, o.amsgrad ?? false, o.centered ?? false,
      ),
    dropout: (x, y, mask, seed, offset, p, scale) => b.dropout(x, y, mask, seed, offset, p, scale),
    // normalisation
    batchNormStats: (n, c, s, x, mean, v) => b.batchNormStats(n, c, s, x, mean, v),
    batchNormForward: (n, c, s, x, mean, v, eps, w, bias, y) => b.batchNormForward(n, c, s, x, mean, v, eps, w, bias, y),
    batchNormBackward: (n, c, s, x, dy, mean, v, eps, w, training, dx, dw, db) =>
      b.batchNormBackward(n, c, s, x, dy, mean, v, eps, w, training, dx, dw, db),
    layerNormForward: (r, d, x, w, bias, eps, y, mean, rstd) => b.layerNormForward(r, d, x, w, bias, eps, y, mean, rstd),
    layerNormBackward: (r, d, x, dy, mean, rstd, w, dx, dw, db) => b.layerNormBackward(r, d, x, dy, mean, rstd, w, dx, dw, db),
   
    conv2d: (g, x, w, bias, act: ActOp, y) => b.conv2d(convGeom(g), x, w, bias, Act[act], y),
    conv2dBackwardData: (g, dy, w, dx) => b.conv2dBackwardData(convGeom(g), dy, w, dx),
    conv2dBackwardWeight: (g, x, dy, dw) => b.conv2dBackwardWeight(convGeom(g), x, dy, dw),
    // ---- pooling ----
    maxPool2d: (g, x, y) => b.maxPool2d(g.nc, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, x, y),
    maxPool2dBackward: (g, x, dy, dx) =>
      b.maxPool2dBackward(g.nc, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, x, dy, dx),
    avgPool2d: (g, cip, div, x, y) => b.avgPool2d(g.nc, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, cip, div, x, y),
    avgPool2dBackward: (g, cip, div, dy, dx) =>
      b.avgPool2dBackward(g.nc, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, cip, div, dy, dx),
    adaptiveAvgPool2d: (g, x, y) => b.adaptiveAvgPool2d(g.nc, g.h, g.w, g.oh, g.ow, x, y),
    adaptiveAvgPool2dBackward: (g, dy, dx) => b.adaptiveAvgPool2dBackward(g.nc, g.h, g.w, g.oh, g.ow, dy, dx),
    // ---- end pooling ----
    // --- #11 cells ---
    rnnForward: (g, xp, h0, c0, w, bias, out, hN, cN, ws) =>
      b.rnnForward(RnnKind[g.mode], g.n, g.t, g.h, g.lengths, g.reverse, xp, h0, c0, w, bias, out, hN, cN, ws),
    rnnBackward: (g, w, ws, c0, dout, dhN, dcN, dxp, dh0, dc0, dw, db) =>
      b.rnnBackward(RnnKind[g.mode], g.n, g.t, g.h, g.lengths, g.reverse, w, ws, c0, dout, dhN, dcN, dxp, dh0, dc0, dw, db),
    // --- end #11 cells ---
    // --- #11 natops ---
    indexSelect: (outer, n, inner, x, idx, m, y) => b.indexSelect(outer, n, inner, x, idx, m, y),
    indexSelectBackward: (outer, n, inner, dy, idx, m, dx) => b.indexSelectBackward(outer, n, inner, dy, idx, m, dx),
    gather: (outer, n, inner, x, idx, m, y) => b.gather(outer, n, inner, x, idx, m, y),
    gatherBackward: (outer, n, inner, dy, idx, m, dx) => b.gatherBackward(outer, n, inner, dy, idx, m, dx),
    cumsum: (outer, n, inner, x, reverse, y) => b.cumsum(outer, n, inner, x, reverse, y),
    whereBroadcast: (shape, c, cs, x, xs, y, ys, out) => b.whereBroadcast(shape, c, cs, x, xs, y, ys, out),
    // --- end #11 natops ---
  });
}
