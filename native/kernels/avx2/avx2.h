// The AVX2+FMA kernels (avx2/*.cc). Declarations only: fill.cc installs them.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../kernels.h"

namespace fathom {

void f32_unary__avx2(Unary op, int64_t n, const float* x, float* y, float p, float q);
// dropout.cc
void f32_dropout__avx2(int64_t n, uint64_t seed, uint64_t offset, double p, float scale,
                       const float* x, float* y, float* mask);

void f32_unary_bwd__avx2(Unary op, int64_t n, const float* x, const float* y, const float* dy,
                         float* dx, float p, float q);
void f32_binary__avx2(Binary op, int64_t n, const float* a, const float* b, float* out);
void f32_binary_bcast__avx2(Binary op, int ndim, const int64_t* shape, const float* a,
                            const int64_t* astride, const float* b, const int64_t* bstride,
                            float* out);
void f32_reduce__avx2(Reduce op, int ndim, const int64_t* shape, const float* x,
                      const int64_t* ostride, float* out, int64_t out_n);
void f32_softmax__avx2(int64_t N, int64_t D, const float* x, float* y, bool log);
void f32_softmax_bwd__avx2(int64_t N, int64_t D, const float* y, const float* dy, float* dx,
                           bool log);
double f32_xent_labels__avx2(int64_t N, int64_t D, const float* logits, const int32_t* labels,
                             float* prob);
double f32_xent_probs__avx2(int64_t N, int64_t D, const float* logits, const float* target,
                            float* prob);
void f32_bias_act__avx2(int64_t N, int64_t D, float* y, const float* bias, Act act);
void f32_bias_act_bwd__avx2(int64_t N, int64_t D, const float* y, const float* dy, float* dz,
                            float* dbias, Act act);
// --- #11 cells --- rnn.cc: the recurrence's fused gate pass, one batch row (kernels.h)
void f32_rnn_row_fwd__avx2(int32_t mode, int64_t h, const float* x, float* a, float* hs, float* c, float* out, float* ext);
void f32_rnn_row_bwd__avx2(int32_t mode, int64_t h, const float* gates, const float* dy, const float* c, const float* cprev,
                           const float* hprev, const float* ghn, float* dh, float* dc, float* dx, float* dg);
// --- end #11 cells ---
// norm.cc: batch and layer norm (ref/norm.cc's algorithm, double statistics)
void f32_bn_stats__avx2(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, float* mean,
                        float* var);
void f32_bn_fwd__avx2(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, const float* mean,
                      const float* var, float eps, const float* w, const float* b, float* y);
void f32_bn_bwd__avx2(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, const float* dy,
                      const float* mean, const float* var, float eps, const float* w, bool training, float* dx,
                      float* dweight, float* dbias);
void f32_ln_fwd__avx2(int64_t R, int64_t D, const float* x, const float* w, const float* b, float eps, float* y,
                      float* mean, float* rstd);
void f32_ln_bwd_rows__avx2(int64_t R, int64_t D, const float* x, const float* dy, const float* mean,
                           const float* rstd, const float* w, float* dx);
void f32_ln_bwd_cols__avx2(int64_t R, int64_t D, int64_t ld, const float* x, const float* dy, const float* mean,
                           const float* rstd, float* dweight, float* dbias);
// pool.cc: 2×2 stride-2 max pool; other geometries go to the reference
void f32_max_pool2d__avx2(const Pool2d& g, const float* x, float* y);
void f32_max_pool2d_bwd__avx2(const Pool2d& g, const float* x, const float* dy, float* dx);
void f32_avg_pool2d__avx2(const Pool2d& g, bool cip, int64_t divisor, const float* x, float* y);
void f32_avg_pool2d_bwd__avx2(const Pool2d& g, bool cip, int64_t divisor, const float* dy, float* dx);
void f32_adaptive_avg_pool2d__avx2(const Pool2d& g, const float* x, float* y);  // 1x1 output
void f32_adaptive_avg_pool2d_bwd__avx2(const Pool2d& g, const float* dy, float* dx);
void f32_maxout__avx2(int64_t N, int64_t K, const float* x, float* y);
void f32_maxout_bwd__avx2(int64_t N, int64_t K, const float* x, const float* dy, float* dx);
void f32_fill__avx2(int64_t n, float value, float* y);
void f32_copy__avx2(int64_t n, const float* x, float* y);
void f32_sgd_step__avx2(int64_t n, float* w, const float* g, float* v, float lr, float momentum,
                        float dampening, float weight_decay, bool nesterov, bool first);
void f32_adam_step__avx2(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h);
void f32_adagrad_step__avx2(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h);
void f32_rmsprop_step__avx2(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h);
void f32_adadelta_step__avx2(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h);
void f32_adamax_step__avx2(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h);

}  // namespace fathom
