/**
 * Batched matmul (issue #11): `matmul(a, b)` when either operand has rank > 2,
 * as torch.matmul — a [..., M, K] × b [..., K, N] → [batch..., M, N], the batch
 * axes broadcast together (NumPy rules). Every product runs on the backend's
 * packed GEMM (native: the BLIS-style driver): when b has no batch (or a batch
 * of 1) and a is not transposed, the whole batch is ONE GEMM of (B·M) × K by
 * K × N, forward and backward; otherwise one GEMM per batch entry.
 */
import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, contiguousStrides, fmt, sizeOf, type Shape } from '../tensor/shape.js';
import { empty, record } from './record.js';
import { gemm } from './linalg.js';
import { sumToShape } from './reduce.js';

interface Plan {
  batch: number[];
  m: number; n: number; k: number;
  /** Matrix offsets (in matrices) of a and b for each batch entry, row-major over `batch`. */
  aAt: Int32Array | null; bAt: Int32Array | null;
}

/** Offsets (in matrices) of an operand with batch shape `from` read as the broadcast batch `to`. */
function matrixOffsets(from: Shape, to: Shape): Int32Array {
  const cs = contiguousStrides(from);
  const off = to.length - from.length;
  const total = sizeOf(to);
  const out = new Int32Array(total);
  const idx = new Array<number>(to.length).fill(0);
  for (let i = 0; i < total; i++) {
    let o = 0;
    for (let d = 0; d < from.length; d++) if (from[d] !== 1) o += idx[d + off] * cs[d];
    out[i] = o;
    for (let d = to.length - 1; d >= 0; d--) {
      if (++idx[d] < to[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

function plan(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Plan {
  const ra = a.rank, rb = b.rank;
  const [m, ka] = transA ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
  const [kb, n] = transB ? [b.shape[rb - 1], b.shape[rb - 2]] : [b.shape[rb - 2], b.shape[rb - 1]];
  if (ka !== kb) {
    throw new Error(
      `fathom.matmul: inner dimensions differ: ${transA ? 'aᵀ' : 'a'} is ${m}x${ka} (a ${fmt(a.shape)}), ` +
        `${transB ? 'bᵀ' : 'b'} is ${kb}x${n} (b ${fmt(b.shape)}); expected a [..., M, K] and b [..., K, N]`,
    );
  }
  const aBatch = a.shape.slice(0, ra - 2), bBatch = b.shape.slice(0, rb - 2);
  let batch: number[];
  try {
    batch = broadcastShapes('matmul', aBatch, bBatch);
  } catch {
    throw new Error(`fathom.matmul: the batch axes ${fmt(aBatch)} of a ${fmt(a.shape)} and ${fmt(bBatch)} of b ${fmt(b.shape)} cannot be broadcast together`);
  }
  // One GEMM over the whole batch: b shared by every entry, a's rows stacked.
  const folded = !transA && sizeOf(bBatch) === 1 && sizeOf(aBatch) === sizeOf(batch);
  return { batch, m, n, k: ka, aAt: folded ? null : matrixOffsets(aBatch, batch), bAt: folded ? null : matrixOffsets(bBatch, batch) };
}

/** torch.matmul for operands of rank >= 2, one of them > 2 (called by matmul). */
export function matmulBatched(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const p = plan(a, b, transA, transB);
  const { m, n, k } = p;
  const c = empty([...p.batch, m, n], 'matmul');
  const B = sizeOf(p.batch);
  if (c.size > 0) {
    const A = a.f32(), Bm = b.f32(), C = c.f32();
    if (!p.aAt) gemm(false, transB, B * m, n, k, 1, A, Bm, 0, C);
    else {
      for (let i = 0; i < B; i++) {
        gemm(transA, transB, m, n, k, 1, A.subarray(p.aAt[i] * m * k, (p.aAt[i] + 1) * m * k),
          Bm.subarray(p.bAt![i] * k * n, (p.bAt![i] + 1) * k * n), 0, C.subarray(i * m * n, (i + 1) * m * n));
      }
    }
  }
  return record(c, 'matmulBatched', [a, b], { transA, transB });
}

/** The gradients of matmulBatched: [da, db] (null where not required), summed over broadcast batch axes. */
export function matmulBatchedBackward(a: Tensor, b: Tensor, dy: Tensor, transA: boolean, transB: boolean): (Tensor | null)[] {
  const p = plan(a, b, transA, transB);
  const { m, n, k } = p;
  const B = sizeOf(p.batch);
  const wantA = a.requiresGrad, wantB = b.requiresGrad;
  const G = dy.f32(), A = a.f32(), Bm = b.f32();
  if (!p.aAt) {
    const da = wantA ? empty(a.shape) : null;
    const db = wantB ? empty(b.shape) : null;
    if (da) gemm(false, !transB, B * m, k, n, 1, G, Bm, 0, da.f32()); // dA = dC · op(B)ᵀ
    if (db && !transB) gemm(true, false, k, n, B * m, 1, A, G, 0, db.f32()); // dB = Aᵀ · dC over all rows
    if (db && transB) gemm(true, false, n, k, B * m, 1, G, A, 0, db.f32()); // dBᵀ = dCᵀ · A
    return [da, db];
  }
  const aMat = transA ? [k, m] : [m, k];
  const bMat = transB ? [n, k] : [k, n];
  const daFull = wantA ? empty([...p.batch, ...aMat]) : null;
  const dbFull = wantB ? empty([...p.batch, ...bMat]) : null;
  for (let i = 0; i < B; i++) {
    const ai = A.subarray(p.aAt[i] * m * k, (p.aAt[i] + 1) * m * k);
    const bi = Bm.subarray(p.bAt![i] * k * n, (p.bAt![i] + 1) * k * n);
    const gi = G.subarray(i * m * n, (i + 1) * m * n);
    if (daFull) {
      const da = daFull.f32().subarray(i * m * k, (i + 1) * m * k);
      if (!transA) gemm(false, !transB, m, k, n, 1, gi, bi, 0, da);
      else gemm(transB, true, k, m, n, 1, bi, gi, 0, da);
    }
    if (dbFull) {
      const db = dbFull.f32().subarray(i * k * n, (i + 1) * k * n);
      if (!transB) gemm(!transA, false, k, n, m, 1, ai, gi, 0, db);
      else gemm(true, transA, n, k, m, 1, gi, ai, 0, db);
    }
  }
  return [daFull ? sumToShape(daFull, a.shape) : null, dbFull ? sumToShape(dbFull, b.shape) : null];
}
