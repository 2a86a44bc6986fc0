/**
 * Pooling (twin of native/kernels/ref/pool.cc; the formulas are documented there).
 *
 * x holds g.nc planes of g.h × g.w, y holds g.nc planes of g.oh × g.ow. Output
 * cell (i, j) of a max/avg pool covers rows i·sh − ph + a·dh (a < kh) and
 * columns j·sw − pw + b·dw (b < kw); cells outside the input are skipped.
 *   maxPool2d                  y = max over the window; the FIRST maximal cell (row-major) wins;
 *                              NaN counts as the maximum, the LAST NaN of a window winning
 *                              (PyTorch's CPU rule, val > max || isnan(val)); an empty window gives −Infinity
 *   maxPool2dBackward          dx = 0, then dx[winner] += dy (winner recomputed from x)       (writes dx)
 *   avgPool2d                  y = sum / d; d = divisor when > 0, else the window's count
 *                              clipped to the padded input (countIncludePad) or to the input
 *   avgPool2dBackward          dx = 0, then each input cell of the window += dy / d          (writes dx)
 *   adaptiveAvgPool2d          rows [⌊i·h/oh⌋, ⌈(i+1)·h/oh⌉), columns likewise; y = mean
 *   adaptiveAvgPool2dBackward  dx = 0, then dy / count spread over the window               (writes dx)
 */
import type { Pool2dGeom } from '../../backend.js';

/** Taps [lo, hi) of a window starting at s, step d, k taps, that land inside [0, n). */
function taps(s: number, d: number, k: number, n: number): [number, number] {
  const lo = s < 0 ? Math.floor((-s + d - 1) / d) : 0;
  const hi = s < n ? Math.min(k, Math.floor((n - s + d - 1) / d)) : 0;
  return [lo, hi];
}

/** Flat index (in the plane) of the winner of output (i, j), or −1 for an empty window. */
function winner(g: Pool2dGeom, x: Float32Array, base: number, i: number, j: number): number {
  const h0 = i * g.sh - g.ph, w0 = j * g.sw - g.pw;
  const [a0, a1] = taps(h0, g.dh, g.kh, g.h);
  const [b0, b1] = taps(w0, g.dw, g.kw, g.w);
  let bi = -1;
  let best = 0;
  for (let a = a0; a < a1; a++) {
    const r = h0 + a * g.dh;
    for (let b = b0; b < b1; b++) {
      const c = w0 + b * g.dw;
      const v = x[base + r * g.w + c];
      if (bi < 0 || v > best || v !== v) {
        best = v;
        bi = r * g.w + c;
      }
    }
  }
  return bi;
}

export function maxPool2d(g: Pool2dGeom, x: Float32Array, y: Float32Array): void {
  const hw = g.h * g.w, o = g.oh * g.ow;
  for (let p = 0; p < g.nc; p++) {
    for (let i = 0; i < g.oh; i++) {
      for (let j = 0; j < g.ow; j++) {
        const w = winner(g, x, p * hw, i, j);
        y[p * o + i * g.ow + j] = w < 0 ? -Infinity : x[p * hw + w];
      }
    }
  }
}

export function maxPool2dBackward(g: Pool2dGeom, x: Float32Array, dy: Float32Array, dx: Float32Array): void {
  const hw = g.h * g.w, o = g.oh * g.ow;
  dx.fill(0);
  for (let p = 0; p < g.nc; p++) {
    for (let i = 0; i < g.oh; i++) {
      for (let j = 0; j < g.ow; j++) {
        const w = winner(g, x, p * hw, i, j);
        // float32 accumulation, as the native kernel
        if (w >= 0) dx[p * hw + w] = Math.fround(dx[p * hw + w] + dy[p * o + i * g.ow + j]);
      }
    }
  }
}

/** The window of output (i, j) clipped to the input, and its divisor. */
function avgWin(g: Pool2dGeom, cip: boolean, divisor: number, i: number, j: number): [number, number, number, number, number] {
  let r0 = i * g.sh - g.ph, c0 = j * g.sw - g.pw;
  let r1 = Math.min(r0 + g.kh, g.h + g.ph), c1 = Math.min(c0 + g.kw, g.w + g.pw);
  const padded = (r1 - r0) * (c1 - c0);
  r0 = Math.max(r0, 0);
  c0 = Math.max(c0, 0);
  r1 = Math.min(r1, g.h);
  c1 = Math.min(c1, g.w);
  const inside = r1 > r0 && c1 > c0 ? (r1 - r0) * (c1 - c0) : 0;
  return [r0, r1, c0, c1, divisor > 0 ? divisor : cip ? padded : inside];
}

export function avgPool2d(g: Pool2dGeom, countIncludePad: boolean, divisor: number, x: Float32Array, y: Float32Array): void {
  const hw = g.h * g.w, o = g.oh * g.ow;
  for (let p = 0; p < g.nc; p++) {
    for (let i = 0; i < g.oh; i++) {
      for (let j = 0; j < g.ow; j++) {
        const [r0, r1, c0, c1, d] = avgWin(g, countIncludePad, divisor, i, j);
        let s = 0;
        for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) s = Math.fround(s + x[p * hw + r * g.w + c]);
        y[p * o + i * g.ow + j] = s / d;
      }
    }
  }
}

export function avgPool2dBackward(g: Pool2dGeom, countIncludePad: boolean, divisor: number, dy: Float32Array, dx: Float32Array): void {
  const hw = g.h * g.w, o = g.oh * g.ow;
  dx.fill(0);
  for (let p = 0; p < g.nc; p++) {
    for (let i = 0; i < g.oh; i++) {
      for (let j = 0; j < g.ow; j++) {
        const [r0, r1, c0, c1, d] = avgWin(g, countIncludePad, divisor, i, j);
        const v = Math.fround(dy[p * o + i * g.ow + j] / d);
        for (let r = r0; r < r1; r++) {
          for (let c = c0; c < c1; c++) dx[p * hw + r * g.w + c] = Math.fround(dx[p * hw + r * g.w + c] + v);
        }
      }
    }
  }
}

export function adaptiveAvgPool2d(g: Pool2dGeom, x: Float32Array, y: Float32Array): void {
  const hw = g.h * g.w, o = g.oh * g.ow;
  for (let p = 0; p < g.nc; p++) {
    for (let i = 0; i < g.oh; i++) {
      const r0 = Math.floor((i * g.h) / g.oh), r1 = Math.ceil(((i + 1) * g.h) / g.oh);
      for (let j = 0; j < g.ow; j++) {
        const c0 = Math.floor((j * g.w) / g.ow), c1 = Math.ceil(((j + 1) * g.w) / g.ow);
        let s = 0;
        for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) s = Math.fround(s + x[p * hw + r * g.w + c]);
        y[p * o + i * g.ow + j] = s / ((r1 - r0) * (c1 - c0));
      }
    }
  }
}

export function adaptiveAvgPool2dBackward(g: Pool2dGeom, dy: Float32Array, dx: Float32Array): void {
  const hw = g.h * g.w, o = g.oh * g.ow;
  dx.fill(0);
  for (let p = 0; p < g.nc; p++) {
    for (let i = 0; i < g.oh; i++) {
      const r0 = Math.floor((i * g.h) / g.oh), r1 = Math.ceil(((i + 1) * g.h) / g.oh);
      for (let j = 0; j < g.ow; j++) {
        const c0 = Math.floor((j * g.w) / g.ow), c1 = Math.ceil(((j + 1) * g.w) / g.ow);
        const v = Math.fround(dy[p * o + i * g.ow + j] / ((r1 - r0) * (c1 - c0)));
        for (let r = r0; r < r1; r++) {
          for (let c = c0; c < c1; c++) dx[p * hw + r * g.w + c] = Math.fround(dx[p * hw + r * g.w + c] + v);
        }
      }
    }
  }
}
