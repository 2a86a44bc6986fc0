// fathom kernel contract. Every kernel family has one entry in the table
// below; dispatch fills the table with the scalar reference (ref/) first and
// then overrides entries with the best variant the CPU supports (avx2/,
// avx512/, neon/). The binding, the C++ tests and the benchmarks all walk
// this one table, so a variant cannot be added without being tested.
//
// Conventions
//  - float32 data, row-major, contiguous unless a stride says otherwise.
//  - Dimension names: N batch / rows, D features / columns, M,N,K for GEMM.
//  - Sizes are int64_t; n == 0 is legal everywhere and does nothing.
//  - Backward kernels WRITE their d* output (they do not accumulate); the
//    TypeScript autograd accumulates gradients across uses of a tensor.
//  - Kernels never allocate memory they hand back, never free what they were
//    given, and know nothing of Node. They are safe to call from any thread.
//  - Outputs never overlap inputs, except where an entry says so: the
//    element-wise kernels (unary, unary_bwd, binary, mse_bwd) may write into
//    an input that is the very same array (y == x, out == a, dx == dy), as may
//    copy (x == y is a no-op) and bias_act_bwd (dz == dy); bias_act works in
//    place on y. Partial overlap is never allowed. The binding and the
//    TypeScript wrapper (lib/backend/checked.ts) refuse everything else.
#pragma once
#include <cstddef>
#include <cstdint>

#include "unary_ops.h"

namespace fathom {

// ---- element-wise ---------------------------------------------------------
// The unary ops, in the order of THE op list (unary_ops.h: semantics,
// parameters p and q, forward and backward of each op).
enum class Unary : int32_t {
#define FATHOM_X(Name, name, cost, fwd, bwd) Name,
  FATHOM_UNARY_OPS(FATHOM_X)
#undef FATHOM_X
  Count
};
// The op's name as the TypeScript side spells it ("leakyRelu"), or "?".
const char* unary_name(Unary op);
enum class Binary : int32_t {
  Add = 0, Sub = 1, Mul = 2, Div = 3,
  Max = 4, Min = 5, Eq = 6,  // Eq: 1.0f where a == b else 0.0f
  // --- #11 natops --- comparisons: 1.0f where true else 0.0f; NaN compares false except Ne (IEEE, PyTorch)
  Ne = 7, Lt = 8, Le = 9, Gt = 10, Ge = 11,
  // --- end #11 natops ---
  Count
};
enum class Reduce : int32_t { Sum = 0, Mean = 1, Max = 2, Count };
// Activations fused into a layer's bias add (bias_act).
enum class Act : int32_t { None = 0, Relu = 1, Sigmoid = 2, Tanh = 3, Count };

constexpr int kMaxDims = 8;

// y[i] = f(x[i]) for i in [0, n); p, q are the op's scalar parameters (0
// where it has none, unary_ops.h). x == y allowed.
using UnaryFn = void (*)(Unary op, int64_t n, const float* x, float* y, float p, float q);
// dx[i] = dy[i] * f'(x[i]); y = f(x) is passed too (sigmoid/tanh/exp use it).
using UnaryBwdFn = void (*)(Unary op, int64_t n, const float* x, const float* y,
                            const float* dy, float* dx, float p, float q);
// Contiguous same-length operands: out[i] = a[i] (op) b[i].
using BinaryFn = void (*)(Binary op, int64_t n, const float* a, const float* b, float* out);
// Broadcasting: out has `ndim` dims `shape` (contiguous); a and b are read
// with element strides astride/bstride (0 on broadcast dims).
using BinaryBcastFn = void (*)(Binary op, int ndim, const int64_t* shape,
                               const float* a, const int64_t* astride,
                               const float* b, const int64_t* bstride, float* out);
// x has `ndim` dims `shape` (contiguous). Element x[idx] goes to
// out[sum(idx[d] * ostride[d])], ostride[d] == 0 on reduced axes. out holds
// `out_n` elements and is overwritten. Mean divides by in_n / out_n.
using ReduceFn = void (*)(Reduce op, int ndim, const int64_t* shape, const float* x,
                          const int64_t* ostride, float* out, int64_t out_n);

// ---- rows (last axis) ----------------------------------------------------
// y = softmax(x) (or log_softmax when log) over each row of D.
using SoftmaxFn = void (*)(int64_t N, int64_t D, const float* x, float* y, bool log);
// dx = y * (dy - sum(dy*y))            (softmax)
// dx = dy - exp(y) * sum(dy)           (log-softmax, y = log_softmax(x))
using SoftmaxBwdFn = void (*)(int64_t N, int64_t D, const float* y, const float* dy,
                              float* dx, bool log);
// Fused softmax cross-entropy, mean over N rows. Writes the softmax
// probabilities to prob (kept for backward) and returns the mean loss.
// Integer labels must be in [0, D) (checked by the caller).
using XentLabelsFn = double (*)(int64_t N, int64_t D, const float* logits,
                                const int32_t* labels, float* prob);
// dlogits = g / N * (prob - onehot(label))
using XentLabelsBwdFn = void (*)(int64_t N, int64_t D, const float* prob,
                                 const int32_t* labels, float g, float* dlogits);
// Probability targets: loss = -mean_n sum_d t[n,d] * log_softmax(logits)[n,d]
using XentProbsFn = double (*)(int64_t N, int64_t D, const float* logits,
                               const float* target, float* prob);
// dlogits = g / N * (prob * sum_d t[n,d] - t)
using XentProbsBwdFn = void (*)(int64_t N, int64_t D, const float* prob,
                                const float* target, float g, float* dlogits);
// mean((a - b)^2) over n elements; backward da = g * 2 (a - b) / n.
using MseFn = double (*)(int64_t n, const float* a, const float* b);
using MseBwdFn = void (*)(int64_t n, const float* a, const float* b, float g, float* da);

// Maxout: x holds N groups of K consecutive values (the last axis of a
// [..., U*K] tensor cut into U groups), y holds N: y[n] = max_k x[n*K + k].
// The winner is the FIRST maximal element; NaN counts as the maximum (the
// first NaN of a group wins), as argmax. K >= 1 when N > 0; y must not overlap x.
using MaxoutFn = void (*)(int64_t N, int64_t K, const float* x, float* y);
// dx[n*K + k] = dy[n] at the winner of group n (recomputed from x), 0 elsewhere (written).
using MaxoutBwdFn = void (*)(int64_t N, int64_t K, const float* x, const float* dy, float* dx);

// ---- normalisation ---------------------------------------
// Batch norm views x as [N, C, S] (S: product of the spatial dims, 1 for [N, C]);
// each channel's M = N*S values are x[(n*C + c)*S + s]; a call handles channels [c0, c1)
// (the threaded entry splits C). Twin: lib/backend/ts/kernels/norm.ts (all channels).
// mean[c] = sum x / M, var[c] = sum (x - mean)^2 / M (biased), double, two passes; M >= 1 when C > 0.
using BnStatsFn = void (*)(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, float* mean, float* var);
// y = x * scale[c] + shift[c], scale = w[c] / sqrt(var[c] + eps), shift = b[c] - mean[c] * scale
// (float, computed in double; w = 1, b = 0 when null). y may be x.
using BnFwdFn = void (*)(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, const float* mean,
                         const float* var, float eps, const float* w, const float* b, float* y);
// invstd = 1 / sqrt(var + eps), xhat = (x - mean) * invstd; dbias[c] = sum dy,
// dweight[c] = sum dy * xhat (double); training: dx = w*invstd*(dy - sum dy/M - xhat*sum(dy*xhat)/M),
// eval: dx = w*invstd*dy; as dx = a*(dy - mean dy) + b*(x - mean) with per-channel float a, b
// (eval: a*dy). Null outputs skipped.
using BnBwdFn = void (*)(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, const float* dy,
                         const float* mean, const float* var, float eps, const float* w,
                         bool training, float* dx, float* dweight, float* dbias);
// Layer norm over R rows of D (D >= 1 when R > 0): mean[r], rstd[r] = 1/sqrt(biased var + eps)
// in double; y = (x - mean) * rstd * w[j] + b[j] (w, b may be null).
using LnFwdFn = void (*)(int64_t R, int64_t D, const float* x, const float* w, const float* b,
                         float eps, float* y, float* mean, float* rstd);
// dx rows: g = dy*w, xhat = (x - mean)*rstd, dx = rstd*(g - mean_j g - xhat*mean_j(g*xhat)),
// as A*(g - mean_j g) + B*(x - mean) with per-row float A, B.
// Rows [r0, r1) of dx only (threaded over rows); dx non-null.
using LnBwdRowsFn = void (*)(int64_t R, int64_t D, const float* x, const float* dy,
                             const float* mean, const float* rstd, const float* w, float* dx);
// Columns [0, D) of dweight[j] = sum_r dy*xhat, dbias[j] = sum_r dy over R rows of stride ld
// (double accumulators; the threaded entry hands each thread a column range). Null outputs skipped.
using LnBwdColsFn = void (*)(int64_t R, int64_t D, int64_t ld, const float* x, const float* dy,
                             const float* mean, const float* rstd, float* dweight, float* dbias);
// ---- end normalisation ----

// ---- fused layer epilogue -------------------------------------------------
// In place over rows of D: y[n,d] = act(y[n,d] + bias[d]); bias may be null.
// relu(z) = z < 0 ? 0 : z; sigmoid and tanh as the Unary ops.
using BiasActFn = void (*)(int64_t N, int64_t D, float* y, const float* bias, Act act);
// dz[n,d] = dy[n,d] * act'(y[n,d]) from the activation's OUTPUT y
// (relu' = y > 0, sigmoid' = y (1 - y), tanh' = 1 - y^2, none' = 1);
// dbias[d] = sum_n dz[n,d] (written, accumulated in double), dbias may be null.
// dz may alias dy.
using BiasActBwdFn = void (*)(int64_t N, int64_t D, const float* y, const float* dy, float* dz,
                              float* dbias, Act act);

// ---- layout ---------------------------------------------------------------
// y (D x N) = x (N x D) transposed; y must not overlap x.
using Transpose2dFn = void (*)(int64_t N, int64_t D, const float* x, float* y);
// out[n] = first index of the maximum of row n. NaN counts as the maximum
// (PyTorch / NumPy semantics): the first NaN of a row wins. D == 0 gives 0.
using ArgmaxFn = void (*)(int64_t N, int64_t D, const float* x, int32_t* out);
using FillFn = void (*)(int64_t n, float value, float* y);
using CopyFn = void (*)(int64_t n, const float* x, float* y);

// ---- random ---------------------------------------------------------------
// Philox4x32-10, key = seed (64 bit), counter = (offset + i/4) as 64 bit,
// element i uses output word i%4. u = (word >> 8) * 2^-24 in [0, 1).
// Uniform: y = float(lo + (hi - lo) * u) computed in double.
// Normal: Box-Muller on word pairs (2k, 2k+1) of the stream, computed in
//         double: r = sqrt(-2 ln(1 - u0)), y0 = r cos(2 pi u1), y1 = r sin(2 pi u1).
using RandUniformFn = void (*)(int64_t n, uint64_t seed, uint64_t offset, float lo,
                               float hi, float* y);
using RandNormalFn = void (*)(int64_t n, uint64_t seed, uint64_t offset, float mean,
                              float std, float* y);

// ---- dropout ------------------------------------------
// Inverted dropout over n elements, fused: the Philox stream of rand_uniform
// (key = seed, counter = offset + i/4, word i%4); element i is kept when
// (word >> 8) >= ceil(p * 2^24), i.e. u >= p for the uniform u of rand_uniform.
// mask[i] = kept ? scale : 0; y[i] = x[i] * mask[i]. 0 <= p <= 1 (p = 1 keeps
// nothing, p = 0 everything). y may be x; mask overlaps neither.
using DropoutFn = void (*)(int64_t n, uint64_t seed, uint64_t offset, double p, float scale,
                           const float* x, float* y, float* mask);

// ---- GEMM -----------------------------------------------------------------
// C = alpha * op(A) * op(B) + beta * C, op(A) is M x K, op(B) is K x N,
// row-major with leading dimensions lda/ldb/ldc. beta == 0 never reads C.
using GemmFn = void (*)(bool transA, bool transB, int64_t M, int64_t N, int64_t K,
                        float alpha, const float* A, int64_t lda, const float* B,
                        int64_t ldb, float beta, float* C, int64_t ldc);

// ---- optimizers (one pass over each parameter) ----------------------------
// SGD (PyTorch semantics): g' = g + wd * w; v = momentum * v + (1 - dampening) * g'
// (v = g' on the first step, signalled by first); d = nesterov ? g' + momentum * v : v
// (d = g' when momentum == 0); w -= lr * d.
using SgdStepFn = void (*)(int64_t n, float* w, const float* g, float* v, float lr,
                           float momentum, float dampening, float weight_decay,
                           bool nesterov, bool first);
// Optimizers with per-parameter state, one signature for all (a new optimizer
// is one enum entry, its fields in OptimHyper, a ref kernel and a TS twin).
// s[0..2]: the state buffers (n floats each, updated in place; nullptr where
// the kind does not use one under h), in the order listed below. g' = g + wd*w
// (L2) unless said otherwise; t = h.step >= 1 counts this parameter's steps.
//   Adam      s = {m, v, vmax (amsgrad only)}. decoupled (AdamW): w -= lr*wd*w
//             first and g' = g. m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
//             amsgrad: vmax = max(vmax, v), u = vmax, else u = v;
//             w -= lr * (m / (1 - b1^t)) / (sqrt(u / (1 - b2^t)) + eps)
//   Adagrad   s = {sum}. clr = lr / (1 + (t-1) lr_decay); sum += g'^2;
//             w -= clr * g' / (sqrt(sum) + eps)
//   RMSprop   s = {sq, buf (momentum > 0), gavg (centered)}. sq = a sq + (1-a) g'^2;
//             centered: gavg = a gavg + (1-a) g', d = sqrt(max(sq - gavg^2, 0)) + eps,
//             else d = sqrt(sq) + eps; momentum > 0: buf = momentum buf + g'/d,
//             w -= lr buf; else w -= lr g'/d
//   Adadelta  s = {sq, acc}. sq = rho sq + (1-rho) g'^2;
//             delta = sqrt(acc + eps) / sqrt(sq + eps) * g'; acc = rho acc + (1-rho) delta^2;
//             w -= lr delta
//   Adamax    s = {m, u}. m = b1 m + (1-b1) g'; u = max(b2 u, |g'| + eps);
//             w -= lr / (1 - b1^t) * m / u
// max() propagates NaN (as torch.maximum). w, g and the buffers are separate arrays.
enum class Optim : int32_t { Adam = 0, Adagrad = 1, RMSprop = 2, Adadelta = 3, Adamax = 4, Count };
constexpr int kOptimStates = 3;
struct OptimHyper {
  float lr = 0, weight_decay = 0, eps = 0;
  float beta1 = 0, beta2 = 0;  // Adam, Adamax
  float alpha = 0;             // RMSprop
  float rho = 0;               // Adadelta
  float momentum = 0;          // RMSprop
  float lr_decay = 0;          // Adagrad
  int64_t step = 1;            // t >= 1
  bool decoupled = false;      // Adam: AdamW's decoupled weight decay
  bool amsgrad = false;        // Adam
  bool centered = false;       // RMSprop
};
// Whether kind k reads and writes state buffer i under h (the others may be null).
inline bool optim_uses_state(Optim k, const OptimHyper& h, int i) {
  switch (k) {
    case Optim::Adam: return i < 2 || (i == 2 && h.amsgrad);
    case Optim::Adagrad: return i == 0;
    case Optim::RMSprop: return i == 0 || (i == 1 && h.momentum > 0) || (i == 2 && h.centered);
    case Optim::Adadelta: case Optim::Adamax: return i < 2;
    default: return false;
  }
}
using OptimStepFn = void (*)(int64_t n, float* w, const float* g, float* const* s,
                             const OptimHyper& h);

// ---- pooling -----------------------------------------
// Geometry of a 2-D pool over nc planes h x w giving oh x ow (ref/pool.cc has
// the formulas; max pool: first maximal cell wins, NaN wins and the last NaN of a
// window, as PyTorch). kh, kw, sh, sw, dh, dw >= 1; ph, pw >= 0; a window with no input cell
// gives -inf (max) and passes no gradient. Outputs never overlap inputs.
struct Pool2d {
  int64_t nc, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw;
};
using MaxPool2dFn = void (*)(const Pool2d& g, const float* x, float* y);
using MaxPool2dBwdFn = void (*)(const Pool2d& g, const float* x, const float* dy, float* dx);
// divisor > 0: PyTorch's divisor_override; else the window count (count_include_pad or not).
using AvgPool2dFn = void (*)(const Pool2d& g, bool count_include_pad, int64_t divisor, const float* x,
                             float* y);
using AvgPool2dBwdFn = void (*)(const Pool2d& g, bool count_include_pad, int64_t divisor,
                                const float* dy, float* dx);
// Adaptive average pooling reads only nc, h, w, oh, ow (oh, ow >= 1 when nc*h*w > 0).
using AdaptiveAvgPool2dFn = void (*)(const Pool2d& g, const float* x, float* y);
using AdaptiveAvgPool2dBwdFn = void (*)(const Pool2d& g, const float* dy, float* dx);
// ---- end pooling ----------------------------------------------------------------
// --- #11 cells ---
// One batch row of the recurrence's fused gate pass (kernels/rnn.h has the equations);
// mode is an RnnMode (0 lstm, 1 gru, 2 rnnTanh, 3 rnnRelu), h the hidden size.
// Forward: a [G·h] holds h W_hhᵀ + b_hh on entry and the activated gates on return; x [G·h]
// is the projected input; hs [h] (the state) and c [h] (lstm) are updated in place, out [h]
// gets the new h; ext [h]: lstm c after the step (null: not kept), gru W_hn h + b_hn (required).
using RnnRowFwdFn = void (*)(int32_t mode, int64_t h, const float* x, float* a, float* hs, float* c,
                             float* out, float* ext);
// Backward, from d = dh + dy (dL/dh' of the step) and the saved gates (lstm: c after the step and
// cprev before it; gru: hprev and ghn = W_hn h + b_hn): dx [G·h] = dL/d(pre-activations) (gru:
// its n third is dL/dx_n), dg [G·h] (gru only, else null) = dL/d(h W_hhᵀ + b_hh); dh [h] becomes
// the direct part of dL/dh_prev (gru d·z, else 0), dc [h] (lstm) dL/dc_prev.
using RnnRowBwdFn = void (*)(int32_t mode, int64_t h, const float* gates, const float* dy, const float* c,
                             const float* cprev, const float* hprev, const float* ghn, float* dh, float* dc,
                             float* dx, float* dg);
// --- end #11 cells ---

struct KernelTable {
  const char* isa;  // "scalar", "avx2", "avx512", "neon"
  UnaryFn unary;
  UnaryBwdFn unary_bwd;
  BinaryFn binary;
  BinaryBcastFn binary_bcast;
  ReduceFn reduce;
  SoftmaxFn softmax;
  SoftmaxBwdFn softmax_bwd;
  XentLabelsFn xent_labels;
  XentLabelsBwdFn xent_labels_bwd;
  XentProbsFn xent_probs;
  XentProbsBwdFn xent_probs_bwd;
  MseFn mse;
  MseBwdFn mse_bwd;
  Transpose2dFn transpose2d;
  ArgmaxFn argmax;
  FillFn fill;
  CopyFn copy;
  RandUniformFn rand_uniform;
  RandNormalFn rand_normal;
  GemmFn gemm;
  BiasActFn bias_act;
  BiasActBwdFn bias_act_bwd;
  SgdStepFn sgd_step;
  OptimStepFn optim_step[(int)Optim::Count];  // indexed by Optim
  MaxoutFn maxout;
  MaxoutBwdFn maxout_bwd;
  DropoutFn dropout;
  // normalisation
  BnStatsFn bn_stats;
  BnFwdFn bn_fwd;
  BnBwdFn bn_bwd;
  LnFwdFn ln_fwd;
  LnBwdRowsFn ln_bwd_rows;
  LnBwdColsFn ln_bwd_cols;
  // ---- pooling ----
  MaxPool2dFn max_pool2d;
  MaxPool2dBwdFn max_pool2d_bwd;
  AvgPool2dFn avg_pool2d;
  AvgPool2dBwdFn avg_pool2d_bwd;
  AdaptiveAvgPool2dFn adaptive_avg_pool2d;
  AdaptiveAvgPool2dBwdFn adaptive_avg_pool2d_bwd;
  // ---- end pooling ----
  // --- #11 cells ---
  RnnRowFwdFn rnn_row_fwd;
  RnnRowBwdFn rnn_row_bwd;
  // --- end #11 cells ---
};

}  // namespace fathom
