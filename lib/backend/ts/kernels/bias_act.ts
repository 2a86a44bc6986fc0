/**
 * Fused layer epilogue (twin of native/kernels/ref/bias_act.cc).
 *
 * Shape contract (n rows of d features)
 *   biasAct          y[r,j] = act(y[r,j] + bias[j])      in place; bias may be null
 *   biasActBackward  dz[r,j] = dy[r,j] * act'(y[r,j])    from the OUTPUT y; dz may be dy
 *                    dbias[j] = sum_r dz[r,j]             written, float64 accumulation
 *   relu(z) = z < 0 ? 0 : z; relu' = y > 0 (a select: NaN/Inf upstream is zeroed where y <= 0);
 *   sigmoid' = y (1 - y); tanh' = 1 - y^2; none' = 1.
 */
import type { ActOp } from '../../backend.js';

function act(op: ActOp, z: number): number {
  switch (op) {
    case 'relu': return z < 0 ? 0 : z;
    case 'sigmoid': {
      if (z >= 0) return 1 / (1 + Math.exp(-z));
      const e = Math.exp(z);
      return e / (1 + e);
    }
    case 'tanh': return Math.tanh(z);
    default: return z;
  }
}

export function biasAct(n: number, d: number, y: Float32Array, bias: Float32Array | null, op: ActOp): void {
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) {
      const z = bias ? Math.fround(y[o + j] + bias[j]) : y[o + j];
      y[o + j] = act(op, z);
    }
  }
}

export function biasActBackward(
  n: number, d: number, y: Float32Array, dy: Float32Array, dz: Float32Array, dbias: Float32Array | null, op: ActOp,
): void {
  const acc = dbias ? new Float64Array(d) : null;
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) {
      const yv = y[o + j];
      let g: number;
      switch (op) {
        case 'relu': g = yv > 0 ? dy[o + j] : 0; break;
        case 'sigmoid': g = dy[o + j] * Math.fround(yv * (1 - yv)); break;
        case 'tanh': g = dy[o + j] * Math.fround(1 - yv * yv); break;
        default: g = dy[o + j];
      }
      dz[o + j] = g;
      if (acc) acc[j] += dz[o + j];
    }
  }
  if (dbias && acc) for (let j = 0; j < d; j++) dbias[j] = acc[j];
}
