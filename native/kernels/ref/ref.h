// The portable scalar reference kernels (one .cc per family in this folder).
// fill.cc puts them into the table; the ISA variants call them for the cases
// they do not specialise (e.g. Unary::Pow, odd broadcast patterns).
//
// Declarations only, no inline functions: this header is also included by
// translation units compiled with -mavx2 -mfma (an inline body instantiated
// there could be the copy the linker keeps for baseline callers).
#pragma once
#include <cstddef>
#include <cstdint>

#include "../kernels.h"

namespace fathom {

// elementwise.cc
void f32_unary__ref(Unary op, int64_t n, const float* x, float* y, float p, float q);
void f32_unary_bwd__ref(Unary op, int64_t n, const float* x, const float* y, const float* dy,
                        float* dx, float p, float q);
void f32_binary__ref(Binary op, int64_t n, const float* a, const float* b, float* out);
// Broadcast layout collapse shared by every ISA: drops size-1 dims and merges
// neighbours contiguous in a and b; returns the new rank (0: one element) or
// -1 when the output is empty.
int collapse_bcast_dims(int ndim, const int64_t* shape, const int64_t* astride,
                        const int64_t* bstride, int64_t* sh, int64_t* as, int64_t* bs);
// Walks the rows of a collapsed broadcast (nd >= 1 dims) calling row() on
// each innermost run: row(op, L, a, a_stride, b, b_stride, out).
using BcastRowFn = void (*)(Binary op, int64_t n, const float* a, int64_t sa, const float* b,
                            int64_t sb, float* out);
void bcast_rows(Binary op, int nd, const int64_t* sh, const int64_t* as, const int64_t* bs,
                const float* a, const float* b, float* out, BcastRowFn row);
void f32_binary_bcast__ref(Binary op, int ndim, const int64_t* shape, const float* a,
                           const int64_t* astride, const float* b, const int64_t* bstride,
                           float* out);

// --- #11 cells --- rnn.cc: one batch row of the recurrence's gate pass (kernels.h)
void f32_rnn_row_fwd__ref(int32_t mode, int64_t h, const float* x, float* a, float* hs, float* c, float* out, float* ext);
void f32_rnn_row_bwd__ref(int32_t mode, int64_t h, const float* gates, const float* dy, const float* c, const float* cprev,
                          const float* hprev, const float* ghn, float* dh, float* dc, float* dx, float* dg);
// --- end #11 cells ---
// pool.cc
void f32_max_pool2d__ref(const Pool2d& g, const float* x, float* y);
void f32_max_pool2d_bwd__ref(const Pool2d& g, const float* x, const float* dy, float* dx);
void f32_avg_pool2d__ref(const Pool2d& g, bool cip, int64_t divisor, const float* x, float* y);
void f32_avg_pool2d_bwd__ref(const Pool2d& g, bool cip, int64_t divisor, const float* dy, float* dx);
void f32_adaptive_avg_pool2d__ref(const Pool2d& g, const float* x, float* y);
void f32_adaptive_avg_pool2d_bwd__ref(const Pool2d& g, const float* dy, float* dx);
// end pool.cc
// maxout.cc
void f32_maxout__ref(int64_t N, int64_t K, const float* x, float* y);
void f32_maxout_bwd__ref(int64_t N, int64_t K, const float* x, const float* dy, float* dx);

// bias_act.cc
void f32_bias_act__ref(int64_t N, int64_t D, float* y, const float* bias, Act act);
void f32_bias_act_bwd__ref(int64_t N, int64_t D, const float* y, const float* dy, float* dz,
                           float* dbias, Act act);

// reduce.cc
void f32_reduce__ref(Reduce op, int ndim, const int64_t* shape, const float* x,
                     const int64_t* ostride, float* out, int64_t out_n);

// softmax.cc (softmax, cross-entropy, mse)
void f32_softmax__ref(int64_t N, int64_t D, const float* x, float* y, bool log);
void f32_softmax_bwd__ref(int64_t N, int64_t D, const float* y, const float* dy, float* dx,
                          bool log);
double f32_xent_labels__ref(int64_t N, int64_t D, const float* logits, const int32_t* labels,
                            float* prob);
void f32_xent_labels_bwd__ref(int64_t N, int64_t D, const float* prob, const int32_t* labels,
                              float g, float* dlogits);
double f32_xent_probs__ref(int64_t N, int64_t D, const float* logits, const float* target,
                           float* prob);
void f32_xent_probs_bwd__ref(int64_t N, int64_t D, const float* prob, const float* target,
                             float g, float* dlogits);
double f32_mse__ref(int64_t n, const float* a, const float* b);
void f32_mse_bwd__ref(int64_t n, const float* a, const float* b, float g, float* da);

// layout.cc
void f32_transpose2d__ref(int64_t N, int64_t D, const float* x, float* y);
void f32_argmax__ref(int64_t N, int64_t D, const float* x, int32_t* out);
void f32_fill__ref(int64_t n, float value, float* y);
void f32_copy__ref(int64_t n, const float* x, float* y);

// random.cc
// One Philox4x32-10 block: out = philox(ctr, key). Exposed for known-answer tests.
void philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
void f32_rand_uniform__ref(int64_t n, uint64_t seed, uint64_t offset, float lo, float hi,
                           float* y);
void f32_rand_normal__ref(int64_t n, uint64_t seed, uint64_t offset, float mean, float std,
                          float* y);

// dropout.cc
void f32_dropout__ref(int64_t n, uint64_t seed, uint64_t offset, double p, float scale,
                      const float* x, float* y, float* mask);

// optim.cc
void f32_sgd_step__ref(int64_t n, float* w, const float* g, float* v, float lr, float momentum,
                       float dampening, float weight_decay, bool nesterov, bool first);
void f32_adam_step__ref(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h);
void f32_adagrad_step__ref(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h);
void f32_rmsprop_step__ref(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h);
void f32_adadelta_step__ref(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h);
void f32_adamax_step__ref(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h);

// norm.cc
void f32_bn_stats__ref(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, float* mean, float* var);
void f32_bn_fwd__ref(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, const float* mean,
                     const float* var, float eps, const float* w, const float* b, float* y);
void f32_bn_bwd__ref(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, const float* dy,
                     const float* mean, const float* var, float eps, const float* w, bool training,
                     float* dx, float* dweight, float* dbias);
void f32_ln_fwd__ref(int64_t R, int64_t D, const float* x, const float* w, const float* b, float eps,
                     float* y, float* mean, float* rstd);
void f32_ln_bwd_rows__ref(int64_t R, int64_t D, const float* x, const float* dy, const float* mean,
                          const float* rstd, const float* w, float* dx);
void f32_ln_bwd_cols__ref(int64_t R, int64_t D, int64_t ld, const float* x, const float* dy,
                          const float* mean, const float* rstd, float* dweight, float* dbias);

}  // namespace fathom
