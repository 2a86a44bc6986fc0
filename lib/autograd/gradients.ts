/**
 * THE gradient table: one entry per differentiable op, keyed by the name the
 * op records on the tape. Each rule receives the recorded node, the op's
 * output and the upstream gradient `dy`, and returns one gradient per input
 * (null where an input needs none). Rules run with recording off and must
 * return gradients shaped like their inputs. test/ops/gradcheck.test.ts walks
 * this table and fails for any entry without a finite-difference check.
 */
import { kernels as backend } from '../backend/index.js';
import type { ActOp, UnaryOp } from '../backend/backend.js';
import type { ConvGeometry } from '../backend/backend.js';
import type { Pool2dGeom } from '../backend/backend.js';
import { UNARY_OP_NAMES } from '../backend/unary_table.js';
import { Tensor } from '../tensor/tensor.js';
import type { Node } from './tape.js';
import { binaryRaw } from '../ops/elementwise.js';
import { broadcastTo, sumToShape } from '../ops/reduce.js';
import { empty } from '../ops/record.js';
import { gemm } from '../ops/linalg.js';
// --- #11 tensor ops ---
import { flip, inversePermutation, narrowBackward, permute } from '../ops/shape.js';
import { gatherBackward, indexBackward, scan } from '../ops/index_ops.js';
import { matmulBatchedBackward } from '../ops/bmm.js';
import { gatherStrided } from '../ops/strided.js';
import { contiguousStrides } from '../tensor/shape.js';
// --- end #11 tensor ops ---
// --- #11 cells ---
import { rnnSequenceBackward } from '../ops/rnn.js';
// --- end #11 cells ---
// --- #11 rnn ---
import { embeddingBackward } from '../ops/embedding.js';
// --- end #11 rnn ---

/**
 * `acc[i]`, when given, is input i's existing `.grad` buffer (a leaf): a rule
 * may write its gradient straight into it — scaled onto what is there by
 * `accBeta[i]` (1: add; 0: the buffer is logically zero, overwrite) as a GEMM
 * with that beta does — and return ACCUMULATED for that input instead of a
 * fresh tensor. This saves allocating and zeroing large weight gradients on
 * every step.
 */
export type GradRule = (
  node: Node, y: Tensor, dy: Tensor, acc: (Tensor | null)[], accBeta: number[],
) => (Tensor | null | typeof ACCUMULATED)[];

/** Returned by a rule for an input whose gradient it added into `acc[i]`. */
export const ACCUMULATED = Symbol('accumulated');

/** dx = dy · f'(x) by the op's backward kernel, with the parameters p, q the op recorded. */
function unaryRule(op: UnaryOp): GradRule {
  return (node, y, dy) => {
    const x = node.inputs[0];
    const dx = empty(x.shape);
    const { p = 0, q = 0 } = node.saved as { p?: number; q?: number };
    backend().unaryBackward(op, x.f32(), y.f32(), dy.f32(), dx.f32(), p, q);
    return [dx];
  };
}

const mul = (a: Tensor, b: Tensor): Tensor => binaryRaw('mul', a, b);
const div = (a: Tensor, b: Tensor): Tensor => binaryRaw('div', a, b);
const negate = (a: Tensor): Tensor => binaryRaw('mul', a, new Tensor(new Float32Array([-1]), []));

/**
 * d/da and d/db of maximum/minimum: dy goes to the input that was selected;
 * on a tie (a == b) each input gets half, as PyTorch's maximum/minimum do.
 * pickA = [a == y] - [a == b] / 2, pickB = [b == y] - [a == b] / 2.
 */
function selectRule(): GradRule {
  return (node, y, dy) => {
    const [a, b] = node.inputs;
    const halfTie = mul(binaryRaw('eq', a, b), new Tensor(new Float32Array([0.5]), []));
    const pickA = binaryRaw('sub', binaryRaw('eq', a, y), halfTie);
    const pickB = binaryRaw('sub', binaryRaw('eq', b, y), halfTie);
    return [sumToShape(mul(dy, pickA), a.shape), sumToShape(mul(dy, pickB), b.shape)];
  };
}

export const gradients: Record<string, GradRule> = {
  // ---- unary: dx = dy * f'(x), one rule per entry of THE op table ---------
  // (lib/backend/unary_table.ts; sign's derivative is zero almost everywhere)
  ...Object.fromEntries(UNARY_OP_NAMES.map((op) => [op, unaryRule(op)])),

  // ---- broadcasting binary: reduce each gradient back to its input's shape -
  add: (node, _y, dy) => [sumToShape(dy, node.inputs[0].shape), sumToShape(dy, node.inputs[1].shape)],
  sub: (node, _y, dy) => [sumToShape(dy, node.inputs[0].shape), sumToShape(negate(dy), node.inputs[1].shape)],
  // d(ab) = b da + a db
  mul: (node, _y, dy) => {
    const [a, b] = node.inputs;
    return [sumToShape(mul(dy, b), a.shape), sumToShape(mul(dy, a), b.shape)];
  },
  // d(a/b) = da / b - a db / b^2 = da / b - y db / b
  div: (node, y, dy) => {
    const [a, b] = node.inputs;
    const da = div(dy, b);
    return [sumToShape(da, a.shape), sumToShape(negate(mul(da, y)), b.shape)];
  },
  maximum: selectRule(),
  minimum: selectRule(),

  // ---- reductions ---------------------------------------------------------
  // sum: every input element gets dy of its output slot
  sum: (node, _y, dy) => [broadcastTo(dy.reshape(node.saved.kept as number[]), node.inputs[0].shape)],
  // mean: the same, divided by the number of elements reduced into each slot
  mean: (node, y, dy) => {
    const x = node.inputs[0];
    const count = y.size === 0 ? 1 : x.size / y.size;
    return [broadcastTo(dy.reshape(node.saved.kept as number[]), x.shape, 1 / count)];
  },
  // max (amax): dy is split evenly among the elements equal to the maximum of their slot,
  // dx = mask dy / count with mask = [x == y] and count = the sum of mask over the reduced axes
  // (PyTorch's amax backward). E.g. max([1, 3, 3]) = 3: dx = [0, dy/2, dy/2]; max([1, NaN, 3]) = NaN:
  // dx = [0, dy, 0].
  max: (node, y, dy) => {
    const x = node.inputs[0];
    const kept = node.saved.kept as number[];
    let mask = binaryRaw('eq', x, y.reshape(kept));
    // A NaN maximum (NaN propagates) equals nothing: give dy to the NaN elements of its slot
    // instead, as PyTorch's max does (0 / 0 would spread NaN over every element).
    if ((y.data as Float32Array).some(Number.isNaN)) {
      const isNan = (t: Tensor): Tensor => new Tensor((t.data as Float32Array).map((v) => (Number.isNaN(v) ? 1 : 0)), t.shape);
      mask = binaryRaw('max', mask, binaryRaw('mul', isNan(x), isNan(y).reshape(kept)));
    }
    const count = sumToShape(mask, kept);
    return [mul(mask, div(dy.reshape(kept), count))];
  },

  // maxout: dy of each group goes to its first maximal element (NaN first), the rest 0
  maxout: (node, y, dy) => {
    const x = node.inputs[0];
    const dx = empty(x.shape);
    if (y.size > 0) backend().maxoutBackward(y.size, node.saved.pieces as number, x.f32(), dy.f32(), dx.f32());
    return [dx];
  },

  // ---- pooling: kernels recompute windows from the saved geometry ----
  // maxPool2d: dy of each window goes to its first maximal element (NaN first)
  maxPool2d: (node, _y, dy) => {
    const x = node.inputs[0];
    const dx = empty(x.shape);
    if (x.size > 0) backend().maxPool2dBackward(node.saved.g as Pool2dGeom, x.f32(), dy.f32(), dx.f32());
    return [dx];
  },
  // avgPool2d: dy / divisor spread over each window's input cells
  avgPool2d: (node, _y, dy) => {
    const x = node.inputs[0];
    const dx = empty(x.shape);
    const s = node.saved as { g: Pool2dGeom; cip: boolean; divisor: number };
    if (x.size > 0) backend().avgPool2dBackward(s.g, s.cip, s.divisor, dy.f32(), dx.f32());
    return [dx];
  },
  // adaptiveAvgPool2d: dy / count spread over each adaptive window
  adaptiveAvgPool2d: (node, _y, dy) => {
    const x = node.inputs[0];
    const dx = empty(x.shape);
    if (x.size > 0) backend().adaptiveAvgPool2dBackward(node.saved.g as Pool2dGeom, dy.f32(), dx.f32());
    return [dx];
  },
  // ---- end pooling ----

  // ---- linear algebra -------------------------------------------------------
  // C = op(A) op(B): dA = dC op(B)^T (transposed back when transA), dB likewise.
  matmul: (node, _y, dy, acc, accBeta) => {
    const [a, b] = node.inputs;
    const { transA, transB } = node.saved as { transA: boolean; transB: boolean };
    const [m, n] = dy.shape;
    const k = transA ? a.shape[0] : a.shape[1];
    const out: (Tensor | null | typeof ACCUMULATED)[] = [null, null];
    if (a.requiresGrad) {
      const da = acc[0] ?? empty(a.shape);
      const beta = acc[0] ? accBeta[0] : 0;
      if (!transA) gemm(false, !transB, m, k, n, 1, dy.f32(), b.f32(), beta, da.f32()); // dA = dC · op(B)ᵀ
      else gemm(transB, true, k, m, n, 1, b.f32(), dy.f32(), beta, da.f32()); // dAᵀ = op(B) · dCᵀ
      out[0] = acc[0] ? ACCUMULATED : da;
    }
    if (b.requiresGrad) {
      const db = acc[1] ?? empty(b.shape);
      const beta = acc[1] ? accBeta[1] : 0;
      if (!transB) gemm(!transA, false, k, n, m, 1, a.f32(), dy.f32(), beta, db.f32()); // dB = op(A)ᵀ · dC
      else gemm(true, transA, n, k, m, 1, dy.f32(), a.f32(), beta, db.f32()); // dBᵀ = dCᵀ · op(A)
      out[1] = acc[1] ? ACCUMULATED : db;
    }
    return out;
  },
  // y = act(z), z = x Wᵀ + b: dz = dy act'(y) (fused with db = sum over rows of dz),
  // dx = dz W, dW = dzᵀ x (added straight into an existing W.grad).
  linear: (node, y, dy, acc, accBeta) => {
    const [x, w, bias] = node.inputs;
    const act = node.saved.activation as ActOp;
    const [n, out] = y.shape;
    const inF = w.shape[1];
    const be = backend();
    const db = bias?.requiresGrad ? empty(bias.shape) : null;
    let dz = dy;
    if (act !== 'none' || db) {
      dz = act === 'none' ? dy : empty(y.shape);
      be.biasActBackward(n, out, y.f32(), dy.f32(), dz.f32(), db ? db.f32() : null, act);
    }
    let dx: Tensor | null = null;
    let dw: Tensor | null | typeof ACCUMULATED = null;
    if (x.requiresGrad) {
      dx = empty(x.shape);
      gemm(false, false, n, inF, out, 1, dz.f32(), w.f32(), 0, dx.f32());
    }
    if (w.requiresGrad) {
      const into = acc[1] ?? empty(w.shape);
      gemm(true, false, out, inF, n, 1, dz.f32(), x.f32(), acc[1] ? accBeta[1] : 0, into.f32());
      dw = acc[1] ? ACCUMULATED : into;
    }
    return [dx, dw, db];
  },
  transpose: (_node, _y, dy) => {
    const [n, d] = dy.shape;
    const dx = empty([d, n]);
    backend().transpose2d(n, d, dy.f32(), dx.f32());
    return [dx];
  },
  // rows [begin, begin + dy rows) of dx receive dy, the rest zero
  slice: (node, _y, dy) => {
    const x = node.inputs[0];
    const dx = empty(x.shape); // zero-filled
    const per = x.rank > 1 ? x.size / x.shape[0] : 1;
    const at = (node.saved.begin as number) * per;
    backend().copy(dy.f32(), dx.f32().subarray(at, at + dy.size));
    return [dx];
  },
  reshape: (node, _y, dy) => [new Tensor(dy.data, node.saved.from as number[])],

  // ---- softmax family and losses -----------------------------------------
  softmax: (_node, y, dy) => {
    const d = y.shape[y.rank - 1];
    const dx = empty(y.shape);
    backend().softmaxBackward(d === 0 ? 0 : y.size / d, d, y.f32(), dy.f32(), dx.f32(), false);
    return [dx];
  },
  logSoftmax: (_node, y, dy) => {
    const d = y.shape[y.rank - 1];
    const dx = empty(y.shape);
    backend().softmaxBackward(d === 0 ? 0 : y.size / d, d, y.f32(), dy.f32(), dx.f32(), true);
    return [dx];
  },
  softmaxCrossEntropy: (node, _y, dy) => {
    const logits = node.inputs[0];
    const { prob, target } = node.saved as { prob: Tensor; target: Tensor };
    const [n, d] = logits.shape;
    const dl = empty(logits.shape);
    if (target.dtype === 'int32') backend().xentLabelsBackward(n, d, prob.f32(), target.data as Int32Array, dy.item(), dl.f32());
    else backend().xentProbsBackward(n, d, prob.f32(), target.f32(), dy.item(), dl.f32());
    return [dl];
  },
  // d/dz mean(bce(z, t)) = (sigmoid(z) - t) / n
  binaryCrossEntropy: (node, _y, dy) => {
    const z = node.inputs[0];
    const t = node.saved.target as Tensor;
    const dz = empty(z.shape);
    const be = backend();
    be.unary('sigmoid', z.f32(), dz.f32(), 0, 0);
    be.binary('sub', dz.f32(), t.f32(), dz.f32());
    be.binaryBroadcast('mul', [z.size], dz.f32(), [1], new Float32Array([dy.item() / z.size]), [0], dz.f32());
    return [dz];
  },
  // PyTorch's BCELoss backward: dp = dy (p - t) / max(p (1 - p), 1e-12)
  bceProbs: (node, _y, dy) => {
    const p = node.inputs[0];
    const t = node.saved.target as Tensor;
    const n = p.size;
    const dp = empty(p.shape);
    if (n > 0) {
      const be = backend();
      const den = new Float32Array(n);
      be.binaryBroadcast('sub', [n], new Float32Array([1]), [0], p.f32(), [1], den);
      be.binary('mul', p.f32(), den, den);
      be.binaryBroadcast('max', [n], den, [1], new Float32Array([1e-12]), [0], den);
      be.binary('sub', p.f32(), t.f32(), dp.f32());
      be.binary('div', dp.f32(), den, dp.f32());
      be.binary('mul', dp.f32(), dy.f32(), dp.f32());
    }
    return [dp];
  },
  mse: (node, _y, dy) => {
    const [a, b] = node.inputs;
    const da = empty(a.shape);
    backend().mseBackward(a.f32(), b.f32(), dy.item(), da.f32());
    return [da, b.requiresGrad ? negate(da) : null];
  },

  // ---- normalisation ----
  // inputs [x, weight?, bias?]; training: through the batch statistics, eval: the affine map
  batchNorm: (node, _y, dy) => {
    const { n, c, s, mean, variance, eps, training, hasWeight, hasBias } = node.saved as {
      n: number; c: number; s: number; mean: Float32Array; variance: Float32Array; eps: number; training: boolean; hasWeight: boolean; hasBias: boolean;
    };
    const [x] = node.inputs;
    const w = hasWeight ? node.inputs[1] : null;
    const b = hasBias ? node.inputs[hasWeight ? 2 : 1] : null;
    const dx = x.requiresGrad ? empty(x.shape) : null;
    const dw = w?.requiresGrad ? empty(w.shape) : null;
    const db = b?.requiresGrad ? empty(b.shape) : null;
    backend().batchNormBackward(n, c, s, x.f32(), dy.f32(), mean, variance, eps, w ? w.f32() : null, training,
      dx ? dx.f32() : null, dw ? dw.f32() : null, db ? db.f32() : null);
    const out: (Tensor | null)[] = [dx];
    if (w) out.push(dw);
    if (b) out.push(db);
    return out;
  },
  layerNorm: (node, _y, dy) => {
    const { r, d, mean, rstd, hasWeight, hasBias } = node.saved as {
      r: number; d: number; mean: Float32Array; rstd: Float32Array; hasWeight: boolean; hasBias: boolean;
    };
    const [x] = node.inputs;
    const w = hasWeight ? node.inputs[1] : null;
    const b = hasBias ? node.inputs[hasWeight ? 2 : 1] : null;
    const dx = x.requiresGrad ? empty(x.shape) : null;
    const dw = w?.requiresGrad ? empty(w.shape) : null;
    const db = b?.requiresGrad ? empty(b.shape) : null;
    backend().layerNormBackward(r, d, x.f32(), dy.f32(), mean, rstd, w ? w.f32() : null,
      dx ? dx.f32() : null, dw ? dw.f32() : null, db ? db.f32() : null);
    const out: (Tensor | null)[] = [dx];
    if (w) out.push(dw);
    if (b) out.push(db);
    return out;
  },
  // ---- end normalisation ----
  // ---- conv ---------------------------------------------------------
  // conv2d (and conv1d, recorded as conv2d with H = 1): dx = the data-gradient kernel
  // (a transposed convolution of dy), dw = the weight-gradient kernel; the bias is a
  // broadcast add recorded on its own.
  // With the fused epilogue y = act(conv + b): dz = dy·act'(y) first, db = Σ_{n, h, w} dz.
  conv2d: (node, y, dy) => {
    const [x, w, b] = node.inputs;
    const g = node.saved.geom as ConvGeometry;
    const act = node.saved.activation as ActOp;
    let dz = dy;
    if (act !== 'none' && dy.size > 0) {
      dz = empty(dy.shape);
      backend().biasActBackward(1, dy.size, y.f32(), dy.f32(), dz.f32(), null, act);
    }
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (x.requiresGrad) {
      dx = empty(x.shape);
      if (dx.size > 0) backend().conv2dBackwardData(g, dz.f32(), w.f32(), dx.f32());
    }
    if (w.requiresGrad) {
      dw = empty(w.shape);
      backend().conv2dBackwardWeight(g, x.f32(), dz.f32(), dw.f32());
    }
    if (b?.requiresGrad) {
      db = empty(b.shape);
      if (dz.size > 0) {
        // [kern, issue #10] In two passes that the SIMD reductions cover (per-row sums, then
        // a column sum): the one-pass [N, C, HW] → [C] pattern runs on the scalar reference
        // (5 % of a LeNet training step in perf). The row sums round to float32 once.
        const rows = empty([g.n * g.o]);
        backend().reduce('sum', [g.n * g.o, g.oh * g.ow], dz.f32(), [1, 0], rows.f32());
        backend().reduce('sum', [g.n, g.o], rows.f32(), [0, 1], db.f32());
      }
    }
    return b ? [dx, dw, db] : [dx, dw];
  },
  // convTranspose2d(x, w) = conv2dBackwardData(g, x, w) for the conv geometry g seen from
  // the output: dx = conv2d(g, dy, w), dw = conv2dBackwardWeight(g, dy, x).
  convTranspose2d: (node, _y, dy) => {
    const [x, w] = node.inputs;
    const g = node.saved.geom as ConvGeometry;
    let dx: Tensor | null = null, dw: Tensor | null = null;
    if (x.requiresGrad) {
      dx = empty(x.shape);
      if (dx.size > 0) backend().conv2d(g, dy.f32(), w.f32(), null, 'none', dx.f32());
    }
    if (w.requiresGrad) {
      dw = empty(w.shape);
      backend().conv2dBackwardWeight(g, dy.f32(), x.f32(), dw.f32());
    }
    return [dx, dw];
  },
  // --- #11 tensor ops (lib/ops/shape.ts, index_ops.ts, bmm.ts) ---
  // permute: dx = dy permuted back by the inverse permutation
  permute: (node, _y, dy) => [permute(dy, inversePermutation(node.saved.dims as number[]))],
  // expand: every copy of an element adds its dy (a sum over the broadcast axes)
  expand: (node, _y, dy) => [sumToShape(dy, node.inputs[0].shape)],
  // flip: dx = dy flipped back along the same axes
  flip: (node, _y, dy) => [flip(dy, node.saved.dims as number[])],
  // narrow (and slice on an axis > 0): dy written at [start, start + len) along the axis, zeros elsewhere
  narrow: (node, _y, dy) => [narrowBackward(node.inputs[0].shape, dy, node.saved.axis as number, node.saved.start as number)],
  // concat: input i receives the slab of dy it filled along the axis
  concat: (node, _y, dy) => {
    const { axis, sizes } = node.saved as { axis: number; sizes: number[] };
    const cs = contiguousStrides(dy.shape);
    let at = 0;
    return node.inputs.map((x, i) => {
      const start = at;
      at += sizes[i];
      return x.requiresGrad ? gatherStrided('backward', dy, x.shape, cs, x.size === 0 ? 0 : start * cs[axis]) : null;
    });
  },
  // index: dy's slices added back at their indices (repeats add up; unselected rows get 0)
  index: (node, _y, dy) => [indexBackward(node.inputs[0].shape, dy, node.saved.axis as number, node.saved.indices as Int32Array)],
  // gather (torch.gather): dy added back at the positions it was read from (repeats add up)
  gather: (node, _y, dy) => [gatherBackward(node.inputs[0].shape, dy, node.saved as { offsets?: Int32Array; axis?: number; index?: Int32Array })],
  // where: da = dy·[cond], db = dy·[!cond], each summed back to its operand's shape
  where: (node, _y, dy) => {
    const [a, b] = node.inputs;
    const m = node.saved.mask as Float32Array;
    const g = dy.f32();
    const ga = new Tensor(Float32Array.from(g, (v, i) => (m[i] ? v : 0)), dy.shape);
    const gb = new Tensor(Float32Array.from(g, (v, i) => (m[i] ? 0 : v)), dy.shape);
    return [a.requiresGrad ? sumToShape(ga, a.shape) : null, b.requiresGrad ? sumToShape(gb, b.shape) : null];
  },
  // clamp: dx = dy where min <= x <= max (bounds included, PyTorch's rule), 0 elsewhere and at NaN
  clamp: (node, _y, dy) => {
    const x = node.inputs[0].f32();
    const { lo, hi } = node.saved as { lo: number; hi: number };
    const lf = Math.fround(lo), hf = Math.fround(hi);
    return [new Tensor(Float32Array.from(dy.f32(), (v, i) => (x[i] >= lf && x[i] <= hf ? v : 0)), dy.shape)];
  },
  // cumsum: y_i = Σ_{j<=i} x_j, so dx_j = Σ_{i>=j} dy_i, the running sum from the end
  cumsum: (node, _y, dy) => {
    const dx = empty(dy.shape);
    scan(dy.shape, node.saved.axis as number, dy.f32(), dx.f32(), true);
    return [dx];
  },
  // batched matmul: per batch entry as matmul's rule, summed over broadcast batch axes
  matmulBatched: (node, _y, dy) => {
    const [a, b] = node.inputs;
    const { transA, transB } = node.saved as { transA: boolean; transB: boolean };
    return matmulBatchedBackward(a, b, dy, transA, transB);
  },
  // --- end #11 tensor ops ---
  // --- #11 cells ---
  // rnnSequence: one backward kernel call through time (lib/ops/rnn.ts, kernels/rnn.h): from
  // d[output | h | c] to dxProj, dh0, dwHh (= Σ_steps dGᵀ h_prev), dc0 and dbHh (= Σ dG).
  rnnSequence: (node, _y, dy) => rnnSequenceBackward(node, dy),
  // --- end #11 cells ---
  // --- #11 rnn ---
  // embedding: dy's rows added into the looked-up rows of dW only (none into paddingIdx), straight
  // into the weight's .grad buffer when it has one
  embedding: (node, _y, dy, acc, accBeta) => {
    const { indices, paddingIdx } = node.saved as { indices: Int32Array; paddingIdx: number | null };
    const dw = embeddingBackward(node.inputs[0].shape, dy, indices, paddingIdx, acc[0], accBeta[0]);
    return [acc[0] ? ACCUMULATED : dw];
  },
  // --- end #11 rnn ---
};
