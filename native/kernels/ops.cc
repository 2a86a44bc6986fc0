// Threaded entry points: see ops.h for how each family is split.
#include "ops.h"

#include <algorithm>
#include <vector>

#include "../runtime/pool.h"
#include "dispatch.h"

namespace fathom {
namespace ops {
namespace {

constexpr int64_t kCheap = 32768;   // elements per thread, cheap element-wise ops
constexpr int64_t kCostly = 8192;   // elements per thread, transcendental ops
constexpr int64_t kRowWork = 16384; // elements per thread, row kernels
constexpr int64_t kAlign = 16;      // chunk starts: whole vectors / Philox blocks

// Threads worth using for n items at `grain` items per thread (>= 1).
int threads_for(int64_t n, int64_t grain) {
  const int nt = num_threads();
  if (nt <= 1 || n < 2 * grain) return 1;
  const int64_t want = n / grain;
  return want < nt ? (int)want : nt;
}

// fn(begin, end) over a deterministic partition of [0, n).
template <class F>
void split(int64_t n, int64_t grain, int64_t align, const F& fn) {
  const int nth = threads_for(n, grain);
  if (nth <= 1) {
    if (n > 0) fn((int64_t)0, n);
    return;
  }
  parallel_run(nth, [&](int ith, int nt) {
    int64_t b, e;
    partition(n, ith, nt, align, &b, &e);
    if (b < e) fn(b, e);
  });
}

// Sum of fn(begin, end) over the chunks, added in chunk order.
template <class F>
double split_sum(int64_t n, int64_t grain, int64_t align, const F& fn) {
  const int nth = threads_for(n, grain);
  if (nth <= 1) return n > 0 ? fn((int64_t)0, n) : 0.0;
  std::vector<double> part((size_t)nth, 0.0);
  parallel_run(nth, [&](int ith, int nt) {
    int64_t b, e;
    partition(n, ith, nt, align, &b, &e);
    if (b < e) part[(size_t)ith] = fn(b, e);
  });
  double s = 0;
  for (double v : part) s += v;
  return s;
}

// Elements per thread for a unary op: its cost column in unary_ops.h.
int64_t unary_grain(Unary op) {
  switch (op) {
#define FATHOM_X(Name, name, cost, fwd, bwd) \
  case Unary::Name: return cost;
    FATHOM_UNARY_OPS(FATHOM_X)
#undef FATHOM_X
    default: return kCheap;
  }
}

int64_t row_grain(int64_t D) { return D > 0 && D < kRowWork ? kRowWork / D : 1; }

// Index of the outermost dim of size > 1, or -1.
int outer_dim(int ndim, const int64_t* shape) {
  for (int d = 0; d < ndim; ++d)
    if (shape[d] > 1) return d;
  return -1;
}

}  // namespace

const KernelTable& table() { return active(); }

// ---- element-wise -----------------------------------------------------------

void unary(const KernelTable& k, Unary op, int64_t n, const float* x, float* y, float p,
           float q) {
  split(n, unary_grain(op), kAlign,
        [&](int64_t b, int64_t e) { k.unary(op, e - b, x + b, y + b, p, q); });
}

void unary_bwd(const KernelTable& k, Unary op, int64_t n, const float* x, const float* y,
               const float* dy, float* dx, float p, float q) {
  split(n, unary_grain(op), kAlign, [&](int64_t b, int64_t e) {
    k.unary_bwd(op, e - b, x + b, y + b, dy + b, dx + b, p, q);
  });
}

void binary(const KernelTable& k, Binary op, int64_t n, const float* a, const float* b,
            float* out) {
  split(n, kCheap, kAlign,
        [&](int64_t s, int64_t e) { k.binary(op, e - s, a + s, b + s, out + s); });
}

void binary_bcast(const KernelTable& k, Binary op, int ndim, const int64_t* shape,
                  const float* a, const int64_t* astride, const float* b,
                  const int64_t* bstride, float* out) {
  int64_t total = 1;
  for (int d = 0; d < ndim; ++d) total *= shape[d];
  const int d0 = outer_dim(ndim, shape);
  if (total == 0 || d0 < 0 || ndim > kMaxDims) return k.binary_bcast(op, ndim, shape, a, astride, b, bstride, out);
  const int64_t inner = total / shape[d0];
  split(shape[d0], (kCheap + inner - 1) / inner, 1, [&](int64_t s, int64_t e) {
    int64_t sh[kMaxDims];
    for (int d = 0; d < ndim; ++d) sh[d] = shape[d];
    sh[d0] = e - s;
    k.binary_bcast(op, ndim, sh, a + s * astride[d0], astride, b + s * bstride[d0], bstride,
                   out + s * inner);
  });
}

void reduce(const KernelTable& k, Reduce op, int ndim, const int64_t* shape, const float* x,
            const int64_t* ostride, float* out, int64_t out_n) {
  int64_t in_n = 1;
  for (int d = 0; d < ndim; ++d) in_n *= shape[d];
  const int d0 = outer_dim(ndim, shape);
  // Split the outermost dim only when it is kept and owns a contiguous block
  // of out: out[s*os0, e*os0) for rows [s, e).
  bool ok = in_n >= 2 * kCheap && d0 >= 0 && ndim <= kMaxDims && ostride[d0] > 0 &&
            ostride[d0] * shape[d0] == out_n;
  for (int d = d0 + 1; ok && d < ndim; ++d) {
    const int64_t s = ostride[d] < 0 ? -ostride[d] : ostride[d];
    if (ostride[d] < 0 || (shape[d] - 1) * s >= ostride[d0]) ok = false;
  }
  if (!ok) return k.reduce(op, ndim, shape, x, ostride, out, out_n);
  const int64_t inner = in_n / shape[d0], os0 = ostride[d0];
  split(shape[d0], (kCheap + inner - 1) / inner, 1, [&](int64_t s, int64_t e) {
    int64_t sh[kMaxDims];
    for (int d = 0; d < ndim; ++d) sh[d] = shape[d];
    sh[d0] = e - s;
    k.reduce(op, ndim, sh, x + s * inner, ostride, out + s * os0, (e - s) * os0);
  });
}

// ---- rows -------------------------------------------------------------------

void softmax(const KernelTable& k, int64_t N, int64_t D, const float* x, float* y, bool log) {
  split(N, row_grain(D), 1,
        [&](int64_t b, int64_t e) { k.softmax(e - b, D, x + b * D, y + b * D, log); });
}

void softmax_bwd(const KernelTable& k, int64_t N, int64_t D, const float* y, const float* dy,
                 float* dx, bool log) {
  split(N, row_grain(D), 1, [&](int64_t b, int64_t e) {
    k.softmax_bwd(e - b, D, y + b * D, dy + b * D, dx + b * D, log);
  });
}

double xent_labels(const KernelTable& k, int64_t N, int64_t D, const float* logits,
                   const int32_t* labels, float* prob) {
  if (threads_for(N, row_grain(D)) <= 1) return k.xent_labels(N, D, logits, labels, prob);
  const double s = split_sum(N, row_grain(D), 1, [&](int64_t b, int64_t e) {
    return k.xent_labels(e - b, D, logits + b * D, labels + b, prob + b * D) * (double)(e - b);
  });
  return s / (double)N;
}

void xent_labels_bwd(const KernelTable& k, int64_t N, int64_t D, const float* prob,
                     const int32_t* labels, float g, float* dlogits) {
  split(N, row_grain(D), 1, [&](int64_t b, int64_t e) {
    const float gc = e - b == N ? g : (float)((double)g * (double)(e - b) / (double)N);
    k.xent_labels_bwd(e - b, D, prob + b * D, labels + b, gc, dlogits + b * D);
  });
}

double xent_probs(const KernelTable& k, int64_t N, int64_t D, const float* logits,
                  const float* target, float* prob) {
  if (threads_for(N, row_grain(D)) <= 1) return k.xent_probs(N, D, logits, target, prob);
  const double s = split_sum(N, row_grain(D), 1, [&](int64_t b, int64_t e) {
    return k.xent_probs(e - b, D, logits + b * D, target + b * D, prob + b * D) * (double)(e - b);
  });
  return s / (double)N;
}

void xent_probs_bwd(const KernelTable& k, int64_t N, int64_t D, const float* prob,
                    const float* target, float g, float* dlogits) {
  split(N, row_grain(D), 1, [&](int64_t b, int64_t e) {
    const float gc = e - b == N ? g : (float)((double)g * (double)(e - b) / (double)N);
    k.xent_probs_bwd(e - b, D, prob + b * D, target + b * D, gc, dlogits + b * D);
  });
}

double mse(const KernelTable& k, int64_t n, const float* a, const float* b) {
  if (threads_for(n, kCheap) <= 1) return k.mse(n, a, b);
  const double s = split_sum(n, kCheap, kAlign, [&](int64_t s0, int64_t e) {
    return k.mse(e - s0, a + s0, b + s0) * (double)(e - s0);
  });
  return s / (double)n;
}

void mse_bwd(const KernelTable& k, int64_t n, const float* a, const float* b, float g, float* da) {
  split(n, kCheap, kAlign, [&](int64_t s, int64_t e) {
    const float gc = e - s == n ? g : (float)((double)g * (double)(e - s) / (double)n);
    k.mse_bwd(e - s, a + s, b + s, gc, da + s);
  });
}

// ---- layout -----------------------------------------------------------------

void transpose2d(const KernelTable& k, int64_t N, int64_t D, const float* x, float* y) {
  k.transpose2d(N, D, x, y);
}

void argmax(const KernelTable& k, int64_t N, int64_t D, const float* x, int32_t* out) {
  split(N, row_grain(D) * 2, 1,
        [&](int64_t b, int64_t e) { k.argmax(e - b, D, x + b * D, out + b); });
}

void fill(const KernelTable& k, int64_t n, float value, float* y) {
  split(n, kCheap * 2, kAlign, [&](int64_t b, int64_t e) { k.fill(e - b, value, y + b); });
}

void copy(const KernelTable& k, int64_t n, const float* x, float* y) {
  if (x == y) return;
  split(n, kCheap * 2, kAlign, [&](int64_t b, int64_t e) { k.copy(e - b, x + b, y + b); });
}

// ---- random -----------------------------------------------------------------

void rand_uniform(const KernelTable& k, int64_t n, uint64_t seed, uint64_t offset, float lo,
                  float hi, float* y) {
  split(n, kCostly, kAlign, [&](int64_t b, int64_t e) {
    k.rand_uniform(e - b, seed, offset + (uint64_t)(b / 4), lo, hi, y + b);
  });
}

void rand_normal(const KernelTable& k, int64_t n, uint64_t seed, uint64_t offset, float mean,
                 float std, float* y) {
  split(n, kCostly / 2, kAlign, [&](int64_t b, int64_t e) {
    k.rand_normal(e - b, seed, offset + (uint64_t)(b / 4), mean, std, y + b);
  });
}

// ---- gemm / optimizers ------------------------------------------------------

void gemm(const KernelTable& k, bool transA, bool transB, int64_t M, int64_t N, int64_t K,
          float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
          float* C, int64_t ldc) {
  k.gemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void sgd_step(const KernelTable& k, int64_t n, float* w, const float* g, float* v, float lr,
              float momentum, float dampening, float weight_decay, bool nesterov, bool first) {
  split(n, kCheap, kAlign, [&](int64_t b, int64_t e) {
    k.sgd_step(e - b, w + b, g + b, v ? v + b : nullptr, lr, momentum, dampening, weight_decay,
               nesterov, first);
  });
}

void optim_step(const KernelTable& k, Optim kind, int64_t n, float* w, const float* g,
                float* const* s, const OptimHyper& h) {
  const OptimStepFn f = k.optim_step[(int)kind];
  split(n, kCheap / 2, kAlign, [&](int64_t b, int64_t e) {
    float* sb[kOptimStates];
    for (int j = 0; j < kOptimStates; ++j) sb[j] = s[j] ? s[j] + b : nullptr;
    f(e - b, w + b, g + b, sb, h);
  });
}

// ---- dropout -------------------------------------------------
// As random: chunk starts are multiples of 16 elements (whole Philox blocks), so the
// mask does not depend on the thread count.
void dropout(const KernelTable& k, int64_t n, uint64_t seed, uint64_t offset, double p,
             float scale, const float* x, float* y, float* mask) {
  split(n, kCostly, kAlign, [&](int64_t b, int64_t e) {
    k.dropout(e - b, seed, offset + (uint64_t)(b / 4), p, scale, x + b, y + b, mask + b);
  });
}

// ---- fused layer epilogue ------------------------------------------------------

void maxout(const KernelTable& k, int64_t N, int64_t K, const float* x, float* y) {
  split(N, row_grain(K), 1, [&](int64_t b, int64_t e) { k.maxout(e - b, K, x + b * K, y + b); });
}

void maxout_bwd(const KernelTable& k, int64_t N, int64_t K, const float* x, const float* dy,
                float* dx) {
  split(N, row_grain(K), 1,
        [&](int64_t b, int64_t e) { k.maxout_bwd(e - b, K, x + b * K, dy + b, dx + b * K); });
}

void bias_act(const KernelTable& k, int64_t N, int64_t D, float* y, const float* bias, Act act) {
  const int64_t grain = act == Act::Sigmoid || act == Act::Tanh ? kCostly : kCheap;
  split(N, D > 0 && D < grain ? grain / D : 1, 1,
        [&](int64_t b, int64_t e) { k.bias_act(e - b, D, y + b * D, bias, act); });
}

// ---- #13 rawinfer ----
void linear_fwd(const KernelTable& k, int64_t N, int64_t D, int64_t K, const float* x,
                const float* w, const float* bias, Act act, float* y) {
  if (N <= 0 || D <= 0) return;
  gemm(k, false, true, N, D, K, 1.0f, x, K, w, K, 0.0f, y, D);
  if (bias || act != Act::None) bias_act(k, N, D, y, bias, act);
}
// ---- end #13 rawinfer ----

void bias_act_bwd(const KernelTable& k, int64_t N, int64_t D, const float* y, const float* dy,
                  float* dz, float* dbias, Act act) {
  // No rows: dbias (D values, bounded by its buffer) is zeros; never a walk over D
  // columns of nothing (D may be 2^53 - 1 when dbias is null).
  if (N == 0) {
    if (dbias) std::fill(dbias, dbias + D, 0.0f);
    return;
  }
  const int nth = N * D < 262144 ? 1 : threads_for(N, D > 0 && D < kCheap ? kCheap / D : 1);
  if (nth <= 1 || !dbias) {
    if (nth <= 1) return k.bias_act_bwd(N, D, y, dy, dz, dbias, act);
    return split(N, 1, 1, [&](int64_t b, int64_t e) {
      k.bias_act_bwd(e - b, D, y + b * D, dy + b * D, dz + b * D, nullptr, act);
    });
  }
  std::vector<float> part((size_t)nth * (size_t)D, 0.0f);
  parallel_run(nth, [&](int ith, int nt) {
    int64_t b, e;
    partition(N, ith, nt, 1, &b, &e);
    if (b < e) k.bias_act_bwd(e - b, D, y + b * D, dy + b * D, dz + b * D, &part[(size_t)ith * D], act);
  });
  for (int64_t d = 0; d < D; ++d) {
    double s = 0;
    for (int t = 0; t < nth; ++t) s += part[(size_t)t * D + d];
    dbias[d] = (float)s;
  }
}

// ---- normalisation ----------------------------------------------
// Batch norm: whole channels per thread (each channel's statistics in one double
// sum: the same bits on any thread count). Layer norm: whole rows for dx; column
// ranges (multiples of 16) for dweight / dbias, each column summed over every row in order.
namespace {
int64_t chan_grain(int64_t N, int64_t S) {
  const int64_t per = N * S;
  return per > 0 && per < kRowWork ? kRowWork / per : 1;
}
}  // namespace

void bn_stats(const KernelTable& k, int64_t N, int64_t C, int64_t S, const float* x, float* mean,
              float* var) {
  split(C, chan_grain(N, S), 1, [&](int64_t b, int64_t e) { k.bn_stats(N, C, S, b, e, x, mean, var); });
}

void bn_fwd(const KernelTable& k, int64_t N, int64_t C, int64_t S, const float* x,
            const float* mean, const float* var, float eps, const float* w, const float* b, float* y) {
  split(C, chan_grain(N, S), 1,
        [&](int64_t c0, int64_t c1) { k.bn_fwd(N, C, S, c0, c1, x, mean, var, eps, w, b, y); });
}

void bn_bwd(const KernelTable& k, int64_t N, int64_t C, int64_t S, const float* x, const float* dy,
            const float* mean, const float* var, float eps, const float* w, bool training,
            float* dx, float* dweight, float* dbias) {
  split(C, chan_grain(N, S), 1, [&](int64_t c0, int64_t c1) {
    k.bn_bwd(N, C, S, c0, c1, x, dy, mean, var, eps, w, training, dx, dweight, dbias);
  });
}

void ln_fwd(const KernelTable& k, int64_t R, int64_t D, const float* x, const float* w,
            const float* b, float eps, float* y, float* mean, float* rstd) {
  split(R, row_grain(D), 1, [&](int64_t r0, int64_t r1) {
    k.ln_fwd(r1 - r0, D, x + r0 * D, w, b, eps, y + r0 * D, mean + r0, rstd + r0);
  });
}

void ln_bwd(const KernelTable& k, int64_t R, int64_t D, const float* x, const float* dy,
            const float* mean, const float* rstd, const float* w, float* dx, float* dweight,
            float* dbias) {
  if (dx)
    split(R, row_grain(D), 1, [&](int64_t r0, int64_t r1) {
      k.ln_bwd_rows(r1 - r0, D, x + r0 * D, dy + r0 * D, mean + r0, rstd + r0, w, dx + r0 * D);
    });
  if (dweight || dbias)
    split(D, R > 0 && R < kRowWork ? kRowWork / R : 1, kAlign, [&](int64_t j0, int64_t j1) {
      k.ln_bwd_cols(R, j1 - j0, D, x + j0, dy + j0, mean, rstd, dweight ? dweight + j0 : nullptr,
                    dbias ? dbias + j0 : nullptr);
    });
}

void bn_stats(int64_t N, int64_t C, int64_t S, const float* x, float* mean, float* var) {
  bn_stats(active(), N, C, S, x, mean, var);
}
void bn_fwd(int64_t N, int64_t C, int64_t S, const float* x, const float* mean, const float* var,
            float eps, const float* w, const float* b, float* y) {
  bn_fwd(active(), N, C, S, x, mean, var, eps, w, b, y);
}
void bn_bwd(int64_t N, int64_t C, int64_t S, const float* x, const float* dy, const float* mean,
            const float* var, float eps, const float* w, bool training, float* dx, float* dweight,
            float* dbias) {
  bn_bwd(active(), N, C, S, x, dy, mean, var, eps, w, training, dx, dweight, dbias);
}
void ln_fwd(int64_t R, int64_t D, const float* x, const float* w, const float* b, float eps, float* y,
            float* mean, float* rstd) {
  ln_fwd(active(), R, D, x, w, b, eps, y, mean, rstd);
}
void ln_bwd(int64_t R, int64_t D, const float* x, const float* dy, const float* mean,
            const float* rstd, const float* w, float* dx, float* dweight, float* dbias) {
  ln_bwd(active(), R, D, x, dy, mean, rstd, w, dx, dweight, dbias);
}
// ---- end normalisation ----------------------------------------------------------

// ---- on the active table ------------------------------------------------------

void maxout(int64_t N, int64_t K, const float* x, float* y) { maxout(active(), N, K, x, y); }
void maxout_bwd(int64_t N, int64_t K, const float* x, const float* dy, float* dx) {
  maxout_bwd(active(), N, K, x, dy, dx);
}

void unary(Unary op, int64_t n, const float* x, float* y, float p, float q) {
  unary(active(), op, n, x, y, p, q);
}
void unary_bwd(Unary op, int64_t n, const float* x, const float* y, const float* dy, float* dx,
               float p, float q) {
  unary_bwd(active(), op, n, x, y, dy, dx, p, q);
}
void binary(Binary op, int64_t n, const float* a, const float* b, float* out) {
  binary(active(), op, n, a, b, out);
}
void binary_bcast(Binary op, int ndim, const int64_t* shape, const float* a,
                  const int64_t* astride, const float* b, const int64_t* bstride, float* out) {
  binary_bcast(active(), op, ndim, shape, a, astride, b, bstride, out);
}
void reduce(Reduce op, int ndim, const int64_t* shape, const float* x, const int64_t* ostride,
            float* out, int64_t out_n) {
  reduce(active(), op, ndim, shape, x, ostride, out, out_n);
}
void softmax(int64_t N, int64_t D, const float* x, float* y, bool log) {
  softmax(active(), N, D, x, y, log);
}
void softmax_bwd(int64_t N, int64_t D, const float* y, const float* dy, float* dx, bool log) {
  softmax_bwd(active(), N, D, y, dy, dx, log);
}
double xent_labels(int64_t N, int64_t D, const float* logits, const int32_t* labels, float* prob) {
  return xent_labels(active(), N, D, logits, labels, prob);
}
void xent_labels_bwd(int64_t N, int64_t D, const float* prob, const int32_t* labels, float g,
                     float* dlogits) {
  xent_labels_bwd(active(), N, D, prob, labels, g, dlogits);
}
double xent_probs(int64_t N, int64_t D, const float* logits, const float* target, float* prob) {
  return xent_probs(active(), N, D, logits, target, prob);
}
void xent_probs_bwd(int64_t N, int64_t D, const float* prob, const float* target, float g,
                    float* dlogits) {
  xent_probs_bwd(active(), N, D, prob, target, g, dlogits);
}
double mse(int64_t n, const float* a, const float* b) { return mse(active(), n, a, b); }
void mse_bwd(int64_t n, const float* a, const float* b, float g, float* da) {
  mse_bwd(active(), n, a, b, g, da);
}
void transpose2d(int64_t N, int64_t D, const float* x, float* y) {
  transpose2d(active(), N, D, x, y);
}
void argmax(int64_t N, int64_t D, const float* x, int32_t* out) { argmax(active(), N, D, x, out); }
void fill(int64_t n, float value, float* y) { fill(active(), n, value, y); }
void copy(int64_t n, const float* x, float* y) { copy(active(), n, x, y); }
void rand_uniform(int64_t n, uint64_t seed, uint64_t offset, float lo, float hi, float* y) {
  rand_uniform(active(), n, seed, offset, lo, hi, y);
}
void rand_normal(int64_t n, uint64_t seed, uint64_t offset, float mean, float std, float* y) {
  rand_normal(active(), n, seed, offset, mean, std, y);
}
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm(active(), transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
void bias_act(int64_t N, int64_t D, float* y, const float* bias, Act act) {
  bias_act(active(), N, D, y, bias, act);
}
void bias_act_bwd(int64_t N, int64_t D, const float* y, const float* dy, float* dz, float* dbias,
                  Act act) {
  bias_act_bwd(active(), N, D, y, dy, dz, dbias, act);
}
void linear_fwd(int64_t N, int64_t D, int64_t K, const float* x, const float* w, const float* bias,
                Act act, float* y) {
  linear_fwd(active(), N, D, K, x, w, bias, act, y);  // #13 rawinfer
}
void sgd_step(int64_t n, float* w, const float* g, float* v, float lr, float momentum,
              float dampening, float weight_decay, bool nesterov, bool first) {
  sgd_step(active(), n, w, g, v, lr, momentum, dampening, weight_decay, nesterov, first);
}
void optim_step(Optim kind, int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h) {
  optim_step(active(), kind, n, w, g, s, h);
}
void dropout(int64_t n, uint64_t seed, uint64_t offset, double p, float scale, const float* x,
             float* y, float* mask) {
  dropout(active(), n, seed, offset, p, scale, x, y, mask);
}

// ---- pooling: chunks of whole planes ----
namespace {
// Planes per thread: about kRowWork input + output values each.
int64_t plane_grain(const Pool2d& g) {
  const int64_t per = g.h * g.w + g.oh * g.ow * std::max<int64_t>(1, g.kh * g.kw / 4);
  return per > 0 && per < kRowWork ? kRowWork / per : 1;
}
Pool2d planes(const Pool2d& g, int64_t n) {
  Pool2d s = g;
  s.nc = n;
  return s;
}
}  // namespace
void max_pool2d(const KernelTable& k, const Pool2d& g, const float* x, float* y) {
  const int64_t in = g.h * g.w, out = g.oh * g.ow;
  split(g.nc, plane_grain(g), 1,
        [&](int64_t b, int64_t e) { k.max_pool2d(planes(g, e - b), x + b * in, y + b * out); });
}
void max_pool2d_bwd(const KernelTable& k, const Pool2d& g, const float* x, const float* dy, float* dx) {
  const int64_t in = g.h * g.w, out = g.oh * g.ow;
  split(g.nc, plane_grain(g), 1, [&](int64_t b, int64_t e) {
    k.max_pool2d_bwd(planes(g, e - b), x + b * in, dy + b * out, dx + b * in);
  });
}
void avg_pool2d(const KernelTable& k, const Pool2d& g, bool cip, int64_t divisor, const float* x, float* y) {
  const int64_t in = g.h * g.w, out = g.oh * g.ow;
  split(g.nc, plane_grain(g), 1,
        [&](int64_t b, int64_t e) { k.avg_pool2d(planes(g, e - b), cip, divisor, x + b * in, y + b * out); });
}
void avg_pool2d_bwd(const KernelTable& k, const Pool2d& g, bool cip, int64_t divisor, const float* dy,
                    float* dx) {
  const int64_t in = g.h * g.w, out = g.oh * g.ow;
  split(g.nc, plane_grain(g), 1, [&](int64_t b, int64_t e) {
    k.avg_pool2d_bwd(planes(g, e - b), cip, divisor, dy + b * out, dx + b * in);
  });
}
void adaptive_avg_pool2d(const KernelTable& k, const Pool2d& g, const float* x, float* y) {
  const int64_t in = g.h * g.w, out = g.oh * g.ow;
  split(g.nc, plane_grain(g), 1,
        [&](int64_t b, int64_t e) { k.adaptive_avg_pool2d(planes(g, e - b), x + b * in, y + b * out); });
}
void adaptive_avg_pool2d_bwd(const KernelTable& k, const Pool2d& g, const float* dy, float* dx) {
  const int64_t in = g.h * g.w, out = g.oh * g.ow;
  split(g.nc, plane_grain(g), 1,
        [&](int64_t b, int64_t e) { k.adaptive_avg_pool2d_bwd(planes(g, e - b), dy + b * out, dx + b * in); });
}
void max_pool2d(const Pool2d& g, const float* x, float* y) { max_pool2d(active(), g, x, y); }
void max_pool2d_bwd(const Pool2d& g, const float* x, const float* dy, float* dx) {
  max_pool2d_bwd(active(), g, x, dy, dx);
}
void avg_pool2d(const Pool2d& g, bool cip, int64_t divisor, const float* x, float* y) {
  avg_pool2d(active(), g, cip, divisor, x, y);
}
void avg_pool2d_bwd(const Pool2d& g, bool cip, int64_t divisor, const float* dy, float* dx) {
  avg_pool2d_bwd(active(), g, cip, divisor, dy, dx);
}
void adaptive_avg_pool2d(const Pool2d& g, const float* x, float* y) { adaptive_avg_pool2d(active(), g, x, y); }
void adaptive_avg_pool2d_bwd(const Pool2d& g, const float* dy, float* dx) {
  adaptive_avg_pool2d_bwd(active(), g, dy, dx);
}
// ---- end pooling ----

}  // namespace ops
}  // namespace fathom
