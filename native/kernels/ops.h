// Threaded entry points over the kernel table: what the Node binding calls.
//
// Every function has the signature of its KernelTable entry (kernels.h holds
// the semantics) and a twin taking the table explicitly (tests, benchmarks);
// the plain form uses the active table (dispatch.h: active()).
//
// Splitting (fathom::parallel_run, deterministic (ith, nth) partition):
//   element-wise (unary, binary, fill, copy, optimizers, mse_bwd): chunks of
//     >= 32K elements (>= 8K for the ops unary_ops.h marks kCostly), chunk starts a
//     multiple of 16 elements;
//   rows (softmax, xent, argmax, maxout groups): chunks of whole rows, >= 16K elements each;
//   binary_bcast, reduce: the outermost non-trivial dim, when it is kept by
//     the reduction (a first-axis reduction runs on one thread);
//   random: chunks start at a multiple of 16 elements (4 Philox blocks), so
//     the values do not depend on the thread count;
//   bias_act: whole rows; bias_act_bwd: whole rows with per-thread bias
//     partials (float) added in chunk order, one call below 256K elements;
//   transpose2d, gemm: one call (gemm threads itself).
// Element-wise and row results are bitwise identical to one table call. The
// scalar losses (xent, mse) sum per-chunk partials in chunk order and the
// backward kernels that scale by g/N (xent, mse) receive g * N_chunk / N:
// both are deterministic for a given thread count and within ~1 float ulp
// (losses: the order of a double summation, ~1e-12 relative) of the single call.
#pragma once
#include <cstdint>

#include "kernels.h"

namespace fathom {
namespace ops {

const KernelTable& table();

void unary(Unary op, int64_t n, const float* x, float* y, float p, float q);
void unary_bwd(Unary op, int64_t n, const float* x, const float* y, const float* dy, float* dx,
               float p, float q);
void binary(Binary op, int64_t n, const float* a, const float* b, float* out);
void binary_bcast(Binary op, int ndim, const int64_t* shape, const float* a,
                  const int64_t* astride, const float* b, const int64_t* bstride, float* out);
void reduce(Reduce op, int ndim, const int64_t* shape, const float* x, const int64_t* ostride,
            float* out, int64_t out_n);
void softmax(int64_t N, int64_t D, const float* x, float* y, bool log);
void softmax_bwd(int64_t N, int64_t D, const float* y, const float* dy, float* dx, bool log);
double xent_labels(int64_t N, int64_t D, const float* logits, const int32_t* labels, float* prob);
void xent_labels_bwd(int64_t N, int64_t D, const float* prob, const int32_t* labels, float g,
                     float* dlogits);
double xent_probs(int64_t N, int64_t D, const float* logits, const float* target, float* prob);
void xent_probs_bwd(int64_t N, int64_t D, const float* prob, const float* target, float g,
                    float* dlogits);
double mse(int64_t n, const float* a, const float* b);
void mse_bwd(int64_t n, const float* a, const float* b, float g, float* da);
void transpose2d(int64_t N, int64_t D, const float* x, float* y);
void argmax(int64_t N, int64_t D, const float* x, int32_t* out);
void fill(int64_t n, float value, float* y);
void copy(int64_t n, const float* x, float* y);
void rand_uniform(int64_t n, uint64_t seed, uint64_t offset, float lo, float hi, float* y);
void rand_normal(int64_t n, uint64_t seed, uint64_t offset, float mean, float std, float* y);
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void bn_stats(int64_t N, int64_t C, int64_t S, const float* x, float* mean, float* var);
void bn_fwd(int64_t N, int64_t C, int64_t S, const float* x, const float* mean, const float* var,
            float eps, const float* w, const float* b, float* y);
void bn_bwd(int64_t N, int64_t C, int64_t S, const float* x, const float* dy, const float* mean,
            const float* var, float eps, const float* w, bool training, float* dx, float* dweight,
            float* dbias);
void ln_fwd(int64_t R, int64_t D, const float* x, const float* w, const float* b, float eps, float* y,
            float* mean, float* rstd);
void ln_bwd(int64_t R, int64_t D, const float* x, const float* dy, const float* mean,
            const float* rstd, const float* w, float* dx, float* dweight, float* dbias);
void maxout(int64_t N, int64_t K, const float* x, float* y);
void maxout_bwd(int64_t N, int64_t K, const float* x, const float* dy, float* dx);
void bias_act(int64_t N, int64_t D, float* y, const float* bias, Act act);
// ---- #13 rawinfer ----
// Fused inference layer (nn.Linear + its activation without autograd), one call:
//   x (N x K), w (D x K, PyTorch's [out, in]), bias (D) or null -> y (N x D)
//   y = act(x · wᵀ + bias)
// The GEMM (alpha 1, beta 0: y is not read) then, when bias or act is given,
// the bias + activation epilogue over y: the same kernels in the same order as
// gemm + bias_act, so bitwise the same values. y must not overlap x, w, bias.
void linear_fwd(int64_t N, int64_t D, int64_t K, const float* x, const float* w, const float* bias,
                Act act, float* y);
// ---- end #13 rawinfer ----
// ---- #13 infer ----
// A chain of fully connected layers (a Sequential of nn.Linear + activation,
// inference only), one call (gemm/chain.cc):
//   x (N x layers[0].in), layer l: w (out x in), bias (out) or null, act;
//   layers[l + 1].in == layers[l].out; y (N x layers[L-1].out)
// Bitwise the same values as linear_fwd layer after layer, for any thread
// count. N <= 2 stays on the calling thread; larger N is one pool job (the
// threads share the weight packing, then each runs every layer on its rows).
// Intermediate activations live in native scratch. y must not overlap x or
// any w / bias.
struct LinearLayer {
  int64_t out, in;
  const float* w;
  const float* bias;  // or nullptr
  Act act;
};
void linear_chain(int64_t N, int L, const LinearLayer* layers, const float* x, float* y);
// ---- end #13 infer ----
void bias_act_bwd(int64_t N, int64_t D, const float* y, const float* dy, float* dz, float* dbias,
                  Act act);
void sgd_step(int64_t n, float* w, const float* g, float* v, float lr, float momentum,
              float dampening, float weight_decay, bool nesterov, bool first);
// One step of optimizer `kind` (kernels.h: Optim, OptimHyper); s[kOptimStates] as the kind lists them.
void optim_step(Optim kind, int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h);
// Split as random (chunks start at multiples of 16 elements).
void dropout(int64_t n, uint64_t seed, uint64_t offset, double p, float scale, const float* x,
             float* y, float* mask);

// The same on an explicit table.
void unary(const KernelTable& k, Unary op, int64_t n, const float* x, float* y, float p,
           float q);
void unary_bwd(const KernelTable& k, Unary op, int64_t n, const float* x, const float* y,
               const float* dy, float* dx, float p, float q);
void binary(const KernelTable& k, Binary op, int64_t n, const float* a, const float* b,
            float* out);
void binary_bcast(const KernelTable& k, Binary op, int ndim, const int64_t* shape,
                  const float* a, const int64_t* astride, const float* b,
                  const int64_t* bstride, float* out);
void reduce(const KernelTable& k, Reduce op, int ndim, const int64_t* shape, const float* x,
            const int64_t* ostride, float* out, int64_t out_n);
void softmax(const KernelTable& k, int64_t N, int64_t D, const float* x, float* y, bool log);
void softmax_bwd(const KernelTable& k, int64_t N, int64_t D, const float* y, const float* dy,
                 float* dx, bool log);
double xent_labels(const KernelTable& k, int64_t N, int64_t D, const float* logits,
                   const int32_t* labels, float* prob);
void xent_labels_bwd(const KernelTable& k, int64_t N, int64_t D, const float* prob,
                     const int32_t* labels, float g, float* dlogits);
double xent_probs(const KernelTable& k, int64_t N, int64_t D, const float* logits,
                  const float* target, float* prob);
void xent_probs_bwd(const KernelTable& k, int64_t N, int64_t D, const float* prob,
                    const float* target, float g, float* dlogits);
double mse(const KernelTable& k, int64_t n, const float* a, const float* b);
void mse_bwd(const KernelTable& k, int64_t n, const float* a, const float* b, float g, float* da);
void transpose2d(const KernelTable& k, int64_t N, int64_t D, const float* x, float* y);
void argmax(const KernelTable& k, int64_t N, int64_t D, const float* x, int32_t* out);
void fill(const KernelTable& k, int64_t n, float value, float* y);
void copy(const KernelTable& k, int64_t n, const float* x, float* y);
void rand_uniform(const KernelTable& k, int64_t n, uint64_t seed, uint64_t offset, float lo,
                  float hi, float* y);
void rand_normal(const KernelTable& k, int64_t n, uint64_t seed, uint64_t offset, float mean,
                 float std, float* y);
void gemm(const KernelTable& k, bool transA, bool transB, int64_t M, int64_t N, int64_t K,
          float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
          float* C, int64_t ldc);
void maxout(const KernelTable& k, int64_t N, int64_t K, const float* x, float* y);
void maxout_bwd(const KernelTable& k, int64_t N, int64_t K, const float* x, const float* dy,
                float* dx);
void bias_act(const KernelTable& k, int64_t N, int64_t D, float* y, const float* bias, Act act);
void linear_fwd(const KernelTable& k, int64_t N, int64_t D, int64_t K, const float* x,
                const float* w, const float* bias, Act act, float* y);  // #13 rawinfer
void linear_chain(const KernelTable& k, int64_t N, int L, const LinearLayer* layers, const float* x,
                  float* y);  // #13 infer
void bias_act_bwd(const KernelTable& k, int64_t N, int64_t D, const float* y, const float* dy,
                  float* dz, float* dbias, Act act);
void sgd_step(const KernelTable& k, int64_t n, float* w, const float* g, float* v, float lr,
              float momentum, float dampening, float weight_decay, bool nesterov, bool first);
void optim_step(const KernelTable& k, Optim kind, int64_t n, float* w, const float* g,
                float* const* s, const OptimHyper& h);
void dropout(const KernelTable& k, int64_t n, uint64_t seed, uint64_t offset, double p,
             float scale, const float* x, float* y, float* mask);
// normalisation: batch norm threaded over channels, layer norm
// over rows (dx) and over column ranges (dweight, dbias); results do not depend
// on the thread count.
void bn_stats(const KernelTable& k, int64_t N, int64_t C, int64_t S, const float* x, float* mean,
              float* var);
void bn_fwd(const KernelTable& k, int64_t N, int64_t C, int64_t S, const float* x,
            const float* mean, const float* var, float eps, const float* w, const float* b, float* y);
void bn_bwd(const KernelTable& k, int64_t N, int64_t C, int64_t S, const float* x, const float* dy,
            const float* mean, const float* var, float eps, const float* w, bool training,
            float* dx, float* dweight, float* dbias);
void ln_fwd(const KernelTable& k, int64_t R, int64_t D, const float* x, const float* w,
            const float* b, float eps, float* y, float* mean, float* rstd);
void ln_bwd(const KernelTable& k, int64_t R, int64_t D, const float* x, const float* dy,
            const float* mean, const float* rstd, const float* w, float* dx, float* dweight,
            float* dbias);

// ---- pooling: threaded over the g.nc planes ----
void max_pool2d(const Pool2d& g, const float* x, float* y);
void max_pool2d_bwd(const Pool2d& g, const float* x, const float* dy, float* dx);
void avg_pool2d(const Pool2d& g, bool count_include_pad, int64_t divisor, const float* x, float* y);
void avg_pool2d_bwd(const Pool2d& g, bool count_include_pad, int64_t divisor, const float* dy, float* dx);
void adaptive_avg_pool2d(const Pool2d& g, const float* x, float* y);
void adaptive_avg_pool2d_bwd(const Pool2d& g, const float* dy, float* dx);
void max_pool2d(const KernelTable& k, const Pool2d& g, const float* x, float* y);
void max_pool2d_bwd(const KernelTable& k, const Pool2d& g, const float* x, const float* dy, float* dx);
void avg_pool2d(const KernelTable& k, const Pool2d& g, bool count_include_pad, int64_t divisor, const float* x,
                float* y);
void avg_pool2d_bwd(const KernelTable& k, const Pool2d& g, bool count_include_pad, int64_t divisor,
                    const float* dy, float* dx);
void adaptive_avg_pool2d(const KernelTable& k, const Pool2d& g, const float* x, float* y);
void adaptive_avg_pool2d_bwd(const KernelTable& k, const Pool2d& g, const float* dy, float* dx);
// ---- end pooling ----

}  // namespace ops
}  // namespace fathom
