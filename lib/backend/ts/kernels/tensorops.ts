/**
 * Tensor-op kernels (#11; the TS mirror of native/kernels/ref/tensorops.cc), on x viewed as
 * (outer, n, inner) around one axis:
 *
 *   indexSelect          x (outer, n, inner), idx [m] -> y (outer, m, inner)
 *                        y[a, i, b] = x[a, idx[i], b]   (torch.index_select; idx in [0, n))
 *   indexSelectBackward  dy (outer, m, inner), idx [m] -> dx (outer, n, inner): dx = 0, then
 *                        dx[a, idx[i], b] += dy[a, i, b] for a, then i ascending (float32 adds)
 *   gather               x (outer, n, inner), idx (outer, m, inner) -> y (outer, m, inner)
 *                        y[a, j, b] = x[a, idx[a, j, b], b]   (torch.gather; idx in [0, n))
 *   gatherBackward       dy, idx (outer, m, inner) -> dx (outer, n, inner): dx = 0, then
 *                        dx[a, idx[a, j, b], b] += dy[a, j, b] for a, j, b ascending (float32 adds)
 *   cumsum               x (outer, n, inner) -> y: y[a, j, b] = Σ_{k <= j} x[a, k, b]
 *                        (reverse: Σ_{k >= j}), accumulated in float64, rounded on store
 *   whereBroadcast       out (contiguous, shape) = cond[idx·cs] != 0 ? a[idx·as] : b[idx·bs]
 *                        (torch.where; strides as binaryBroadcast's; a NaN cond selects a)
 */

export function indexSelect(outer: number, n: number, inner: number, x: Float32Array, idx: Int32Array, m: number, y: Float32Array): void {
  if (inner === 0) return;
  for (let a = 0; a < outer; a++) {
    const xa = a * n * inner;
    const ya = a * m * inner;
    for (let i = 0; i < m; i++) {
      const from = xa + idx[i] * inner;
      y.set(x.subarray(from, from + inner), ya + i * inner);
    }
  }
}

export function indexSelectBackward(outer: number, n: number, inner: number, dy: Float32Array, idx: Int32Array, m: number, dx: Float32Array): void {
  dx.fill(0);
  if (inner === 0) return;
  for (let a = 0; a < outer; a++) {
    const da = a * n * inner;
    const ga = a * m * inner;
    for (let i = 0; i < m; i++) {
      const to = da + idx[i] * inner;
      const from = ga + i * inner;
      for (let b = 0; b < inner; b++) dx[to + b] += dy[from + b];
    }
  }
}

export function gather(outer: number, n: number, inner: number, x: Float32Array, idx: Int32Array, m: number, y: Float32Array): void {
  for (let a = 0; a < outer; a++) {
    const xa = a * n * inner;
    const ya = a * m * inner;
    for (let j = 0; j < m; j++) {
      const r = ya + j * inner;
      for (let b = 0; b < inner; b++) y[r + b] = x[xa + idx[r + b] * inner + b];
    }
  }
}

export function gatherBackward(outer: number, n: number, inner: number, dy: Float32Array, idx: Int32Array, m: number, dx: Float32Array): void {
  dx.fill(0);
  for (let a = 0; a < outer; a++) {
    const da = a * n * inner;
    const ga = a * m * inner;
    for (let j = 0; j < m; j++) {
      const r = ga + j * inner;
      for (let b = 0; b < inner; b++) dx[da + idx[r + b] * inner + b] += dy[r + b];
    }
  }
}

export function cumsum(outer: number, n: number, inner: number, x: Float32Array, reverse: boolean, y: Float32Array): void {
  const acc = new Float64Array(inner);
  for (let a = 0; a < outer; a++) {
    acc.fill(0);
    for (let s = 0; s < n; s++) {
      const j = reverse ? n - 1 - s : s;
      const base = (a * n + j) * inner;
      for (let b = 0; b < inner; b++) {
        acc[b] += x[base + b];
        y[base + b] = acc[b];
      }
    }
  }
}

export function whereBroadcast(
  shape: readonly number[], cond: Float32Array, cs: readonly number[],
  a: Float32Array, as: readonly number[], b: Float32Array, bs: readonly number[], out: Float32Array,
): void {
  const nd = shape.length;
  if (nd === 0) { out[0] = cond[0] !== 0 ? a[0] : b[0]; return; }
  for (let d = 0; d < nd; d++) if (shape[d] === 0) return;
  const last = nd - 1;
  const len = shape[last], sc = cs[last], sa = as[last], sb = bs[last];
  const rows = out.length / len;
  const idx = new Array<number>(last).fill(0);
  let co = 0, ao = 0, bo = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * len;
    for (let i = 0; i < len; i++) out[o + i] = cond[co + i * sc] !== 0 ? a[ao + i * sa] : b[bo + i * sb];
    for (let d = last - 1; d >= 0; d--) { // the odometer over dims [0, last)
      idx[d]++; co += cs[d]; ao += as[d]; bo += bs[d];
      if (idx[d] < shape[d]) break;
      co -= idx[d] * cs[d]; ao -= idx[d] * as[d]; bo -= idx[d] * bs[d];
      idx[d] = 0;
    }
  }
}
