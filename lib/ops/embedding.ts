/**
 * embedding(indices, weight, { paddingIdx }): a lookup table (PyTorch's
 * F.embedding). indices: int32 of any shape I; weight: float32 [V, D]
 * (V = numEmbeddings, D = embeddingDim); result [...I, D] with
 * y[i, :] = weight[indices[i], :].
 *
 * The gradient is sparse-aware: the backward rule adds dy's rows into the
 * rows of dW that were looked up and touches no other row (O(|I|·D) work,
 * not O(V·D)); when the weight already has a .grad buffer (kept by
 * zeroGrad), it adds straight into it. Rows equal to paddingIdx receive no
 * gradient (PyTorch's padding_idx), so that row keeps its value in training.
 */
import { Tensor } from '../tensor/tensor.js';
import { describeValue, fmt, type Shape } from '../tensor/shape.js';
import { checkOptions } from './options.js';
import { checkTensor, empty, record } from './record.js';
import { alloc } from './strided.js';

export interface EmbeddingOptions {
  /**
   * A row index whose entries get no gradient (PyTorch's padding_idx); a
   * negative value counts from the end (−1 is row V − 1). Default none.
   */
  paddingIdx?: number | null;
}

/**
 * paddingIdx normalised to [0, V) (null when absent), PyTorch's rule:
 * it must lie in [−V, V).
 * @throws `fathom.<op>: paddingIdx must be an integer in [−V, V)…`.
 */
export function checkPaddingIdx(op: string, paddingIdx: unknown, v: number): number | null {
  if (paddingIdx === undefined || paddingIdx === null) return null;
  if (typeof paddingIdx !== 'number' || !Number.isInteger(paddingIdx) || paddingIdx < -v || paddingIdx >= v) {
    throw new Error(`fathom.${op}: paddingIdx must be an integer in [${-v}, ${v - 1}] (numEmbeddings = ${v}), got ${describeValue(paddingIdx)}`);
  }
  return paddingIdx < 0 ? paddingIdx + v : paddingIdx;
}

/**
 * The rows of `weight` at `indices`: int32 indices of any shape I, float32
 * weight [V, D] → [...I, D] (torch.nn.functional.embedding). Gradients flow
 * to weight only, into the rows used (see the file comment); rows equal to
 * paddingIdx get none.
 * @throws `fathom.embedding: …` when indices is not int32, weight is not a
 *   float32 [V, D], paddingIdx is not an integer in [−V, V), or an index is
 *   outside [0, V) (naming its position and value).
 */
export function embedding(indices: Tensor, weight: Tensor, options?: EmbeddingOptions): Tensor {
  const op = 'embedding';
  checkTensor(op, 'indices', indices);
  checkTensor(op, 'weight', weight);
  if (indices.dtype !== 'int32') throw new Error(`fathom.${op}: indices must be an int32 Tensor, got ${indices.dtype} ${fmt(indices.shape)}`);
  if (weight.dtype !== 'float32' || weight.rank !== 2) {
    throw new Error(`fathom.${op}: weight must be a float32 [numEmbeddings, embeddingDim], got ${weight.dtype} ${fmt(weight.shape)}`);
  }
  const o = checkOptions(op, options, ['paddingIdx']);
  const [v, d] = weight.shape;
  const pad = checkPaddingIdx(op, o.paddingIdx, v);
  const idx = indices.data as Int32Array;
  checkRows(op, idx, v);
  const shape = [...indices.shape, d];
  const out = alloc(op, 'float32', shape) as Float32Array;
  const w = weight.f32();
  for (let i = 0; i < idx.length; i++) out.set(w.subarray(idx[i] * d, idx[i] * d + d), i * d);
  return record(new Tensor(out, shape), 'embedding', [weight], { indices: idx.slice(), paddingIdx: pad });
}

/** Every index in [0, v); the error names the first bad position and its value. */
function checkRows(op: string, idx: Int32Array, v: number): void {
  for (let i = 0; i < idx.length; i++) {
    const k = idx[i];
    if (k < 0 || k >= v) {
      throw new Error(`fathom.${op}: index ${k} at position ${i} of indices is out of range for ${v} embeddings (expected an integer in [0, ${v - 1}])`);
    }
  }
}

/**
 * dW of embedding: dy's rows [|I|, D] added into rows indices[i] of `into`
 * (a zero-filled [V, D] when `into` is null, else the weight's existing
 * .grad buffer; `beta` 0 means that buffer is logically zero and is cleared
 * first). Rows equal to paddingIdx are skipped. Returns the tensor written.
 */
export function embeddingBackward(wShape: Shape, dy: Tensor, idx: Int32Array, paddingIdx: number | null, into: Tensor | null, beta: number): Tensor {
  const d = wShape[1];
  const dw = into ?? empty(wShape, 'backward');
  const g = dw.f32();
  if (into && beta === 0) g.fill(0);
  const src = dy.f32();
  for (let i = 0; i < idx.length; i++) {
    const row = idx[i];
    if (row === paddingIdx) continue;
    const to = row * d, from = i * d;
    for (let j = 0; j < d; j++) g[to + j] += src[from + j];
  }
  return dw;
}
