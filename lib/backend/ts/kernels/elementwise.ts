/**
 * Element-wise kernels (the TS mirror of native/kernels/ref/elementwise.cc).
 *
 *   unary          y[i]  = f(x[i])                 x, y: (n)    x === y allowed
 *   unaryBackward  dx[i] = dy[i] * f'(x[i])        x, y = f(x), dy, dx: (n)   (writes dx)
 *   binary         out[i] = a[i] op b[i]           a, b, out: (n)
 *   binaryBroadcast out[idx] = a[idx·aStrides] op b[idx·bStrides]
 *                                                  out: contiguous `shape`; strides 0 on broadcast dims
 *
 * n is the length of the output. Arithmetic is done in float64 and rounded
 * once on the store into the Float32Array; for + - * / that is bit-identical
 * to float32 arithmetic.
 *
 * Pinned semantics:
 *   relu(x)  = x < 0 ? 0 : x, so NaN stays NaN and relu(-0) = -0;   relu'(x) = x > 0 ? 1 : 0 (so relu'(0) = 0, relu'(NaN) = 0)
 *   sign(x)  = Math.sign: sign(±0) = ±0, sign(NaN) = NaN;     sign'    = 0
 *   sigmoid  = stable form x >= 0 ? 1/(1+e^-x) : e^x/(1+e^x);  sigmoid' = y(1-y)
 *   tanh'    = 1 - y²;  exp' = y;  log' = 1/x;  sqrt' = 0.5/sqrt(x)
 *   pow(x)   = x^p;     pow'  = p·x^(p-1), and 0 when p = 0 (x^0 is constant; PyTorch agrees)
 *   abs'     = sign(x); square' = 2x;  neg' = -1
 *   max/min propagate NaN; eq gives 1 where a == b else 0 (NaN != NaN, -0 == +0).
 */
import type { BinaryOp, UnaryOp } from '../../backend.js';

/** The numerically stable logistic function (never overflows). */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

function relu(x: number): number {
  return x < 0 ? 0 : x;
}

export function unary(op: UnaryOp, x: Float32Array, y: Float32Array, p: number): void {
  const n = y.length;
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) y[i] = -x[i]; break;
    case 'exp': for (let i = 0; i < n; i++) y[i] = Math.exp(x[i]); break;
    case 'log': for (let i = 0; i < n; i++) y[i] = Math.log(x[i]); break;
    case 'sqrt': for (let i = 0; i < n; i++) y[i] = Math.sqrt(x[i]); break;
    case 'pow': for (let i = 0; i < n; i++) y[i] = Math.pow(x[i], p); break;
    case 'relu': for (let i = 0; i < n; i++) y[i] = relu(x[i]); break;
    case 'sigmoid': for (let i = 0; i < n; i++) y[i] = sigmoid(x[i]); break;
    case 'tanh': for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]); break;
    case 'sign': for (let i = 0; i < n; i++) y[i] = Math.sign(x[i]); break;
    case 'abs': for (let i = 0; i < n; i++) y[i] = Math.abs(x[i]); break;
    case 'square': for (let i = 0; i < n; i++) { const v = x[i]; y[i] = v * v; } break;
  }
}

export function unaryBackward(
  op: UnaryOp, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, p: number,
): void {
  const n = dx.length;
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) dx[i] = -dy[i]; break;
    case 'exp': for (let i = 0; i < n; i++) dx[i] = dy[i] * y[i]; break;
    case 'log': for (let i = 0; i < n; i++) dx[i] = dy[i] / x[i]; break;
    case 'sqrt': for (let i = 0; i < n; i++) dx[i] = dy[i] * (0.5 / Math.sqrt(x[i])); break;
    case 'pow': for (let i = 0; i < n; i++) dx[i] = p === 0 ? 0 : dy[i] * (p * Math.pow(x[i], p - 1)); break;
    case 'relu': for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0; break;
    case 'sigmoid': for (let i = 0; i < n; i++) { const s = y[i]; dx[i] = dy[i] * (s * (1 - s)); } break;
    case 'tanh': for (let i = 0; i < n; i++) { const t = y[i]; dx[i] = dy[i] * (1 - t * t); } break;
    case 'sign': for (let i = 0; i < n; i++) dx[i] = 0; break;
    case 'abs': for (let i = 0; i < n; i++) dx[i] = dy[i] * Math.sign(x[i]); break;
    case 'square': for (let i = 0; i < n; i++) dx[i] = dy[i] * (2 * x[i]); break;
  }
}

/**
 * out[o + i] = a[ao + i*as] op b[bo + i*bs] for i in [0, len): one strided
 * row. The contiguous `binary` is the case as = bs = 1 and offsets 0.
 */
function binaryRow(
  op: BinaryOp, len: number,
  a: Float32Array, ao: number, as: number,
  b: Float32Array, bo: number, bs: number,
  out: Float32Array, o: number,
): void {
  switch (op) {
    case 'add': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] + b[bo + i * bs]; break;
    case 'sub': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] - b[bo + i * bs]; break;
    case 'mul': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] * b[bo + i * bs]; break;
    case 'div': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] / b[bo + i * bs]; break;
    // Math.max/min return NaN when either argument is NaN.
    case 'max': for (let i = 0; i < len; i++) out[o + i] = Math.max(a[ao + i * as], b[bo + i * bs]); break;
    case 'min': for (let i = 0; i < len; i++) out[o + i] = Math.min(a[ao + i * as], b[bo + i * bs]); break;
    case 'eq': for (let i = 0; i < len; i++) out[o + i] = a[ao + i * as] === b[bo + i * bs] ? 1 : 0; break;
  }
}

export function binary(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array): void {
  binaryRow(op, out.length, a, 0, 1, b, 0, 1, out, 0);
}

export function binaryBroadcast(
  op: BinaryOp, shape: readonly number[],
  a: Float32Array, aStrides: readonly number[],
  b: Float32Array, bStrides: readonly number[],
  out: Float32Array,
): void {
  const ndim = shape.length;
  if (ndim === 0) { binaryRow(op, 1, a, 0, 0, b, 0, 0, out, 0); return; }
  for (let d = 0; d < ndim; d++) if (shape[d] === 0) return;

  // Walk the outer dims with an odometer; the last dim is one strided row.
  const last = ndim - 1;
  const len = shape[last];
  const rows = out.length / len;
  const idx = new Array<number>(last).fill(0);
  let ao = 0;
  let bo = 0;
  for (let r = 0; r < rows; r++) {
    binaryRow(op, len, a, ao, aStrides[last], b, bo, bStrides[last], out, r * len);
    // Advance the odometer over dims [0, last).
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++;
      ao += aStrides[d];
      bo += bStrides[d];
      if (idx[d] < shape[d]) break;
      ao -= idx[d] * aStrides[d];
      bo -= idx[d] * bStrides[d];
      idx[d] = 0;
    }
  }
}
