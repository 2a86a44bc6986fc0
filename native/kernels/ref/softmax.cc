// Row kernels over the last axis: softmax / log-softmax, fused softmax
// cross-entropy (integer labels, probability targets), and mean squared error.
//
// Shape contract (x, y, prob, dx: N x D row-major; labels: N; mse: n elements)
//   softmax       m = max_d x (NaN ignored), s = sum_d exp(x - m) (double)
//                 y = exp(x - m) / s            | log: y = (x - m) - log(s)
//                 A row holding NaN gives NaN; a row of all -Inf gives NaN.
//                 x == y allowed.
//   softmax_bwd   dx = y * (dy - sum_d dy*y)    | log: dx = dy - exp(y) * sum_d dy
//   xent_labels   prob = softmax(x); loss_n = (m - x[label]) + log(s);
//                 returns sum_n loss_n / N (double); N == 0 returns NaN (0/0).
//   xent_labels_bwd  dlogits = (g / N) * (prob - onehot(label))
//   xent_probs    prob = softmax(x); loss_n = -sum_d t * ((x - m) - log(s))
//                 (a direct sum: t == 0 with x == -Inf gives NaN, like PyTorch)
//   xent_probs_bwd   dlogits = (g / N) * (prob * sum_d t - t)
//   mse           sum_i (a - b)^2 / n (double); n == 0 returns NaN
//   mse_bwd       da = ((g * 2) * (a - b)) / n
// All arithmetic in double, rounded once to float on store.
#include <cmath>
#include <limits>

#include "ref.h"

namespace fathom {
namespace {

inline float row_max(int64_t D, const float* x) {
  float m = -std::numeric_limits<float>::infinity();
  for (int64_t d = 0; d < D; ++d) m = x[d] > m ? x[d] : m;
  return m;
}

// prob = softmax(x) for one row; returns log(s) and sets *m.
double softmax_row(int64_t D, const float* x, float* y, double* m_out) {
  const double m = row_max(D, x);
  double s = 0;
  for (int64_t d = 0; d < D; ++d) s += std::exp((double)x[d] - m);
  for (int64_t d = 0; d < D; ++d) y[d] = (float)(std::exp((double)x[d] - m) / s);
  *m_out = m;
  return std::log(s);
}

}  // namespace

void f32_softmax__ref(int64_t N, int64_t D, const float* x, float* y, bool log) {
  for (int64_t n = 0; n < N; ++n) {
    const float* xr = x + n * D;
    float* yr = y + n * D;
    if (!log) {
      double m;
      softmax_row(D, xr, yr, &m);
      continue;
    }
    const double m = row_max(D, xr);
    double s = 0;
    for (int64_t d = 0; d < D; ++d) s += std::exp((double)xr[d] - m);
    const double ls = std::log(s);
    for (int64_t d = 0; d < D; ++d) yr[d] = (float)(((double)xr[d] - m) - ls);
  }
}

void f32_softmax_bwd__ref(int64_t N, int64_t D, const float* y, const float* dy, float* dx,
                          bool log) {
  for (int64_t n = 0; n < N; ++n) {
    const float* yr = y + n * D;
    const float* gr = dy + n * D;
    float* dr = dx + n * D;
    double s = 0;
    if (!log) {
      for (int64_t d = 0; d < D; ++d) s += (double)gr[d] * yr[d];
      for (int64_t d = 0; d < D; ++d) dr[d] = (float)((double)yr[d] * ((double)gr[d] - s));
    } else {
      for (int64_t d = 0; d < D; ++d) s += gr[d];
      for (int64_t d = 0; d < D; ++d) dr[d] = (float)((double)gr[d] - std::exp((double)yr[d]) * s);
    }
  }
}

double f32_xent_labels__ref(int64_t N, int64_t D, const float* logits, const int32_t* labels,
                            float* prob) {
  double total = 0;
  for (int64_t n = 0; n < N; ++n) {
    double m;
    const double ls = softmax_row(D, logits + n * D, prob + n * D, &m);
    total += (m - (double)logits[n * D + labels[n]]) + ls;
  }
  return total / (double)N;
}

void f32_xent_labels_bwd__ref(int64_t N, int64_t D, const float* prob, const int32_t* labels,
                              float g, float* dlogits) {
  const double scale = (double)g / (double)N;
  for (int64_t n = 0; n < N; ++n) {
    const float* p = prob + n * D;
    float* dl = dlogits + n * D;
    const int64_t l = labels[n];
    for (int64_t d = 0; d < D; ++d) dl[d] = (float)(scale * ((double)p[d] - (d == l ? 1.0 : 0.0)));
  }
}

double f32_xent_probs__ref(int64_t N, int64_t D, const float* logits, const float* target,
                           float* prob) {
  double total = 0;
  for (int64_t n = 0; n < N; ++n) {
    const float* x = logits + n * D;
    const float* t = target + n * D;
    double m;
    const double ls = softmax_row(D, x, prob + n * D, &m);
    double row = 0;
    for (int64_t d = 0; d < D; ++d) row += (double)t[d] * (((double)x[d] - m) - ls);
    total -= row;
  }
  return total / (double)N;
}

void f32_xent_probs_bwd__ref(int64_t N, int64_t D, const float* prob, const float* target,
                             float g, float* dlogits) {
  const double scale = (double)g / (double)N;
  for (int64_t n = 0; n < N; ++n) {
    const float* p = prob + n * D;
    const float* t = target + n * D;
    float* dl = dlogits + n * D;
    double ts = 0;
    for (int64_t d = 0; d < D; ++d) ts += t[d];
    for (int64_t d = 0; d < D; ++d) dl[d] = (float)(scale * ((double)p[d] * ts - (double)t[d]));
  }
}

double f32_mse__ref(int64_t n, const float* a, const float* b) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = (double)a[i] - (double)b[i];
    s += d * d;
  }
  return s / (double)n;
}

void f32_mse_bwd__ref(int64_t n, const float* a, const float* b, float g, float* da) {
  const double g2 = (double)g * 2.0, nd = (double)n;
  for (int64_t i = 0; i < n; ++i) da[i] = (float)((g2 * ((double)a[i] - (double)b[i])) / nd);
}

}  // namespace fathom
