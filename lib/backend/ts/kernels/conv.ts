/**
 * Convolution, the readable reference (native/kernels/conv.h, ref/conv.cc):
 * direct loops over the output, float64 accumulation rounded on store.
 *
 *   y[b, g·og + q, i, j] = Σ_{ci < cg, u < kh, v < kw} w[g·og + q, ci, u, v] ·
 *       x[b, g·cg + ci, i·sh − ph + u·dh, j·sw − pw + v·dw]      (0 outside x)
 *
 * with cg = c / groups, og = o / groups. The two backward kernels are the
 * adjoints of this sum: the data gradient scatters dy·w into dx (it is the
 * transposed convolution), the weight gradient sums dy·x over the batch.
 */
import type { ActOp, ConvGeometry } from '../../backend.js';
import { biasAct } from './bias_act.js';

/** y = act(conv(x, w) + bias): the bias starts each sum, the activation is biasAct's. */
export function conv2d(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array | null, act: ActOp, y: Float32Array): void {
  const { n, c, h, w: W, o, kh, kw, strideH: sh, strideW: sw, padH: ph, padW: pw, dilationH: dh, dilationW: dw, groups, oh, ow } = g;
  const cg = c / groups, og = o / groups;
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < o; oc++) {
      const c0 = Math.floor(oc / og) * cg;
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let s = bias ? bias[oc] : 0;
          for (let ci = 0; ci < cg; ci++) {
            for (let u = 0; u < kh; u++) {
              const yy = i * sh - ph + u * dh;
              if (yy < 0 || yy >= h) continue;
              for (let v = 0; v < kw; v++) {
                const xx = j * sw - pw + v * dw;
                if (xx < 0 || xx >= W) continue;
                s += w[((oc * cg + ci) * kh + u) * kw + v] * x[((b * c + c0 + ci) * h + yy) * W + xx];
              }
            }
          }
          y[((b * o + oc) * oh + i) * ow + j] = s;
        }
      }
    }
  }
  if (act !== 'none') biasAct(1, y.length, y, null, act);
}

export function conv2dBackwardData(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void {
  const { n, c, h, w: W, o, kh, kw, strideH: sh, strideW: sw, padH: ph, padW: pw, dilationH: dh, dilationW: dw, groups, oh, ow } = g;
  const cg = c / groups, og = o / groups;
  const acc = new Float64Array(c * h * W);
  for (let b = 0; b < n; b++) {
    acc.fill(0);
    for (let oc = 0; oc < o; oc++) {
      const c0 = Math.floor(oc / og) * cg;
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const d = dy[((b * o + oc) * oh + i) * ow + j];
          for (let ci = 0; ci < cg; ci++) {
            for (let u = 0; u < kh; u++) {
              const yy = i * sh - ph + u * dh;
              if (yy < 0 || yy >= h) continue;
              for (let v = 0; v < kw; v++) {
                const xx = j * sw - pw + v * dw;
                if (xx < 0 || xx >= W) continue;
                acc[((c0 + ci) * h + yy) * W + xx] += d * w[((oc * cg + ci) * kh + u) * kw + v];
              }
            }
          }
        }
      }
    }
    dx.set(acc, b * c * h * W);
  }
}

export function conv2dBackwardWeight(g: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array): void {
  const { n, c, h, w: W, o, kh, kw, strideH: sh, strideW: sw, padH: ph, padW: pw, dilationH: dh, dilationW: dW, groups, oh, ow } = g;
  const cg = c / groups, og = o / groups;
  for (let oc = 0; oc < o; oc++) {
    const c0 = Math.floor(oc / og) * cg;
    for (let ci = 0; ci < cg; ci++) {
      for (let u = 0; u < kh; u++) {
        for (let v = 0; v < kw; v++) {
          let s = 0;
          for (let b = 0; b < n; b++) {
            for (let i = 0; i < oh; i++) {
              const yy = i * sh - ph + u * dh;
              if (yy < 0 || yy >= h) continue;
              const xrow = ((b * c + c0 + ci) * h + yy) * W;
              const drow = ((b * o + oc) * oh + i) * ow;
              for (let j = 0; j < ow; j++) {
                const xx = j * sw - pw + v * dW;
                if (xx < 0 || xx >= W) continue;
                s += dy[drow + j] * x[xrow + xx];
              }
            }
          }
          dw[((oc * cg + ci) * kh + u) * kw + v] = s;
        }
      }
    }
  }
}
