/**
 * The whole-sequence recurrence, the readable reference (native/kernels/rnn.h,
 * ref/rnn.cc): plain loops, float64 arithmetic within a step, rounded on store.
 *
 * Per step t (t = T−1 … 0 when reverse), for each sequence i with t < lengths[i]:
 *   a = xProj[i, t] + h W_hhᵀ + b_hh, then
 *   lstm  i, f, g, o = σ, σ, tanh, σ (a);  c' = f c + i g;  h' = o tanh(c')
 *   gru   r, z = σ(a_r), σ(a_z);  n = tanh(x_n + r (W_hn h + b_hn));  h' = n + z (h − n)
 *   rnn   h' = tanh(a) or relu(a)
 * and output[i, t] = h'; past a sequence's length its state is kept and output 0.
 * Workspace (what backward needs): hprev [N, T, H] | gates [N, T, G·H] (activated;
 * 0 at masked steps) | extra [N, T, H] (lstm: c after the step; gru: W_hn h + b_hn, 0 when masked).
 */
import { rnnGateCount, type RnnGeometry } from '../../backend.js';

const sig = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const live = (g: RnnGeometry, i: number, t: number): boolean => !g.lengths || t < g.lengths[i];

function sections(g: RnnGeometry, ws: Float32Array | null) {
  const nth = g.n * g.t * g.h, G = rnnGateCount(g.mode);
  return ws
    ? { hprev: ws.subarray(0, nth), gates: ws.subarray(nth, nth * (1 + G)), extra: ws.subarray(nth * (1 + G)) }
    : null;
}

export function rnnForward(
  g: RnnGeometry, xProj: Float32Array, h0: Float32Array, c0: Float32Array | null, wHh: Float32Array, bHh: Float32Array | null,
  output: Float32Array, hN: Float32Array, cN: Float32Array | null, ws: Float32Array | null,
): void {
  const { n: N, t: T, h: H } = g;
  const GH = rnnGateCount(g.mode) * H;
  const lstm = g.mode === 'lstm', gru = g.mode === 'gru';
  const S = sections(g, ws);
  hN.set(h0);
  if (lstm) cN!.set(c0!);
  const a = new Float64Array(GH), hp = new Float64Array(H);
  for (let s = 0; s < T; s++) {
    const t = g.reverse ? T - 1 - s : s;
    for (let i = 0; i < N; i++) {
      const r = i * T + t;
      const hOff = i * H, oOff = r * H;
      if (S) S.hprev.set(hN.subarray(hOff, hOff + H), r * H);
      if (!live(g, i, t)) {
        output.fill(0, oOff, oOff + H);
        if (S) {
          S.gates.fill(0, r * GH, (r + 1) * GH);
          if (lstm) S.extra.set(cN!.subarray(hOff, hOff + H), r * H);
          if (gru) S.extra.fill(0, r * H, (r + 1) * H);
        }
        continue;
      }
      for (let j = 0; j < GH; j++) { // a = h W_hhᵀ + b_hh
        let acc = bHh ? bHh[j] : 0;
        for (let q = 0; q < H; q++) acc += hN[hOff + q] * wHh[j * H + q];
        a[j] = acc;
      }
      const x = r * GH, gs = r * GH;
      for (let q = 0; q < H; q++) hp[q] = hN[hOff + q];
      for (let j = 0; j < H; j++) {
        let hv: number;
        if (lstm) {
          const ig = sig(xProj[x + j] + a[j]), fg = sig(xProj[x + H + j] + a[H + j]);
          const gg = Math.tanh(xProj[x + 2 * H + j] + a[2 * H + j]), og = sig(xProj[x + 3 * H + j] + a[3 * H + j]);
          const c = Math.fround(fg * cN![hOff + j] + ig * gg);
          cN![hOff + j] = c;
          hv = og * Math.tanh(c);
          if (S) {
            S.gates[gs + j] = ig; S.gates[gs + H + j] = fg; S.gates[gs + 2 * H + j] = gg; S.gates[gs + 3 * H + j] = og;
            S.extra[r * H + j] = c;
          }
        } else if (gru) {
          const rg = sig(xProj[x + j] + a[j]), zg = sig(xProj[x + H + j] + a[H + j]);
          const ng = Math.tanh(xProj[x + 2 * H + j] + rg * a[2 * H + j]);
          hv = ng + zg * (hp[j] - ng);
          if (S) {
            S.gates[gs + j] = rg; S.gates[gs + H + j] = zg; S.gates[gs + 2 * H + j] = ng;
            S.extra[r * H + j] = a[2 * H + j];
          }
        } else {
          const v = xProj[x + j] + a[j];
          hv = g.mode === 'rnnTanh' ? Math.tanh(v) : v < 0 ? 0 : v;
          if (S) S.gates[gs + j] = hv;
        }
        hN[hOff + j] = hv;
        output[oOff + j] = hv;
      }
    }
  }
}

export function rnnBackward(
  g: RnnGeometry, wHh: Float32Array, ws: Float32Array, c0: Float32Array | null,
  dOutput: Float32Array, dhN: Float32Array, dcN: Float32Array | null,
  dxProj: Float32Array, dh0: Float32Array, dc0: Float32Array | null, dwHh: Float32Array, dbHh: Float32Array | null,
): void {
  const { n: N, t: T, h: H } = g;
  const GH = rnnGateCount(g.mode) * H;
  const lstm = g.mode === 'lstm', gru = g.mode === 'gru';
  const S = sections(g, ws)!;
  const dh = Float64Array.from(dhN);
  const dc = lstm ? Float64Array.from(dcN!) : new Float64Array(0);
  const dg = new Float64Array(N * T * GH); // dL/d(h W_hhᵀ + b_hh)
  dxProj.fill(0);
  for (let s = T - 1; s >= 0; s--) {
    const t = g.reverse ? T - 1 - s : s;
    const tp = g.reverse ? t + 1 : t - 1; // the step before in processing order (s > 0)
    for (let i = 0; i < N; i++) {
      if (!live(g, i, t)) continue; // state passed through: dh, dc unchanged
      const r = i * T + t, gs = r * GH, hOff = i * H;
      for (let j = 0; j < H; j++) {
        const d = dh[hOff + j] + dOutput[r * H + j];
        if (lstm) {
          const ig = S.gates[gs + j], fg = S.gates[gs + H + j], gg = S.gates[gs + 2 * H + j], og = S.gates[gs + 3 * H + j];
          const c = S.extra[r * H + j];
          const cp = s === 0 ? c0![hOff + j] : S.extra[(i * T + tp) * H + j];
          const tc = Math.tanh(c);
          const dcc = dc[hOff + j] + d * og * (1 - tc * tc);
          dg[gs + j] = dcc * gg * ig * (1 - ig);
          dg[gs + H + j] = dcc * cp * fg * (1 - fg);
          dg[gs + 2 * H + j] = dcc * ig * (1 - gg * gg);
          dg[gs + 3 * H + j] = d * tc * og * (1 - og);
          for (let q = 0; q < 4; q++) dxProj[gs + q * H + j] = dg[gs + q * H + j];
          dc[hOff + j] = dcc * fg;
          dh[hOff + j] = 0;
        } else if (gru) {
          const rg = S.gates[gs + j], zg = S.gates[gs + H + j], ng = S.gates[gs + 2 * H + j];
          const hp = S.hprev[r * H + j], ghn = S.extra[r * H + j];
          const dan = d * (1 - zg) * (1 - ng * ng);
          const dar = dan * ghn * rg * (1 - rg);
          const daz = d * (hp - ng) * zg * (1 - zg);
          dxProj[gs + j] = dar; dxProj[gs + H + j] = daz; dxProj[gs + 2 * H + j] = dan;
          dg[gs + j] = dar; dg[gs + H + j] = daz; dg[gs + 2 * H + j] = dan * rg;
          dh[hOff + j] = d * zg;
        } else {
          const y = S.gates[gs + j];
          const da = g.mode === 'rnnTanh' ? d * (1 - y * y) : y > 0 ? d : 0;
          dxProj[gs + j] = da;
          dg[gs + j] = da;
          dh[hOff + j] = 0;
        }
      }
      for (let q = 0; q < H; q++) { // dh_prev += dG W_hh
        let acc = 0;
        for (let j = 0; j < GH; j++) acc += dg[gs + j] * wHh[j * H + q];
        dh[hOff + q] += acc;
      }
    }
  }
  dh0.set(dh);
  if (lstm) dc0!.set(dc);
  const rows = N * T;
  for (let j = 0; j < GH; j++) {
    for (let q = 0; q < H; q++) { // dW_hh = dGᵀ hprev
      let acc = 0;
      for (let r = 0; r < rows; r++) acc += dg[r * GH + j] * S.hprev[r * H + q];
      dwHh[j * H + q] = acc;
    }
    if (dbHh) {
      let acc = 0;
      for (let r = 0; r < rows; r++) acc += dg[r * GH + j];
      dbHh[j] = acc;
    }
  }
}
