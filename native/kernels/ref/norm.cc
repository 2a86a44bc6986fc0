// Batch and layer normalisation reference kernels (twin: lib/backend/ts/kernels/norm.ts;
// semantics in kernels.h). Statistics and reductions are accumulated in double;
// the element loops run in float with per-channel (per-row) coefficients, so
// they vectorise as written.
#include <cmath>

#include "ref.h"

namespace fathom {
namespace {

// Double sums with 8 independent accumulators: no loop-carried latency chain, and the
// fixed-width inner loop vectorises (float -> double converts, packed adds) without
// reassociating anything the source does not already say. Lanes are added in a fixed
// order, so a result does not depend on alignment or threads.
constexpr int kLanes = 8;

inline double fold(const double* a) {
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

// sum p[i]
inline double sum_d(const float* p, int64_t n) {
  double a[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) a[k] += (double)p[i + k];
  double s = fold(a);
  for (; i < n; ++i) s += (double)p[i];
  return s;
}

// sum (p[i] - mu)^2
inline double sum_sq_dev(const float* p, int64_t n, double mu) {
  double a[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      const double d = (double)p[i + k] - mu;
      a[k] += d * d;
    }
  double s = fold(a);
  for (; i < n; ++i) {
    const double d = (double)p[i] - mu;
    s += d * d;
  }
  return s;
}

// sum g[i] * (p[i] - mu)
inline double sum_g_dev(const float* g, const float* p, int64_t n, double mu) {
  double a[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) a[k] += (double)g[i + k] * ((double)p[i + k] - mu);
  double s = fold(a);
  for (; i < n; ++i) s += (double)g[i] * ((double)p[i] - mu);
  return s;
}

}  // namespace

void f32_bn_stats__ref(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, float* mean, float* var) {
  const double M = (double)(N * S);
  for (int64_t c = c0; c < c1; ++c) {
    double sum = 0;
    for (int64_t n = 0; n < N; ++n) sum += sum_d(x + (n * C + c) * S, S);
    const double mu = sum / M;
    double sq = 0;
    for (int64_t n = 0; n < N; ++n) sq += sum_sq_dev(x + (n * C + c) * S, S, mu);
    mean[c] = (float)mu;
    var[c] = (float)(sq / M);
  }
}

void f32_bn_fwd__ref(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, const float* mean,
                     const float* var, float eps, const float* w, const float* b, float* y) {
  for (int64_t c = c0; c < c1; ++c) {
    const double invstd = 1.0 / std::sqrt((double)var[c] + (double)eps);
    const float scale = (float)((w ? (double)w[c] : 1.0) * invstd);
    const float shift = (float)((b ? (double)b[c] : 0.0) - (double)mean[c] * (double)scale);
    for (int64_t n = 0; n < N; ++n) {
      const float* p = x + (n * C + c) * S;
      float* q = y + (n * C + c) * S;
      for (int64_t s = 0; s < S; ++s) q[s] = p[s] * scale + shift;
    }
  }
}

void f32_bn_bwd__ref(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, const float* dy,
                     const float* mean, const float* var, float eps, const float* w, bool training,
                     float* dx, float* dweight, float* dbias) {
  const double M = (double)(N * S);
  for (int64_t c = c0; c < c1; ++c) {
    const double mu = mean[c];
    const double invstd = 1.0 / std::sqrt((double)var[c] + (double)eps);
    double sdy = 0, sdyx = 0;
    for (int64_t n = 0; n < N; ++n) {
      sdy += sum_d(dy + (n * C + c) * S, S);
      sdyx += sum_g_dev(dy + (n * C + c) * S, x + (n * C + c) * S, S, mu);
    }
    if (dbias) dbias[c] = (float)sdy;
    if (dweight) dweight[c] = (float)(sdyx * invstd);
    if (!dx) continue;
    // Centred: dx = a*(dy - mean dy) + b*(x - mean) (training), a*dy (eval).
    const double a = (w ? (double)w[c] : 1.0) * invstd;
    const float af = (float)a;
    const float bf = training ? (float)(-a * invstd * invstd * sdyx / M) : 0.0f;
    const float mdy = training ? (float)(sdy / M) : 0.0f, muf = training ? (float)mu : 0.0f;
    for (int64_t n = 0; n < N; ++n) {
      const float* p = x + (n * C + c) * S;
      const float* g = dy + (n * C + c) * S;
      float* q = dx + (n * C + c) * S;
      if (training)
        for (int64_t s = 0; s < S; ++s) q[s] = af * (g[s] - mdy) + bf * (p[s] - muf);
      else
        for (int64_t s = 0; s < S; ++s) q[s] = af * g[s];
    }
  }
}

void f32_ln_fwd__ref(int64_t R, int64_t D, const float* x, const float* w, const float* b, float eps,
                     float* y, float* mean, float* rstd) {
  for (int64_t r = 0; r < R; ++r) {
    const float* p = x + r * D;
    float* q = y + r * D;
    const double mu = sum_d(p, D) / (double)D;
    const double sq = sum_sq_dev(p, D, mu);
    const double rs = 1.0 / std::sqrt(sq / (double)D + (double)eps);
    mean[r] = (float)mu;
    rstd[r] = (float)rs;
    const float muf = (float)mu, rsf = (float)rs;
    for (int64_t j = 0; j < D; ++j) {
      const float xh = (p[j] - muf) * rsf;
      q[j] = w ? (b ? xh * w[j] + b[j] : xh * w[j]) : (b ? xh + b[j] : xh);
    }
  }
}

void f32_ln_bwd_rows__ref(int64_t R, int64_t D, const float* x, const float* dy, const float* mean,
                          const float* rstd, const float* w, float* dx) {
  for (int64_t r = 0; r < R; ++r) {
    const float* p = x + r * D;
    const float* g0 = dy + r * D;
    float* q = dx + r * D;
    const double mu = mean[r], rs = rstd[r];
    double sg = 0, sgx = 0;
    for (int64_t j = 0; j < D; ++j) {
      const double g = (double)g0[j] * (w ? (double)w[j] : 1.0);
      sg += g;
      sgx += g * ((double)p[j] - mu) * rs;
    }
    const double mg = sg / (double)D, mgx = sgx / (double)D;
    // dx = A*(g - mg) + B*(x - mu), A = rs, B = -rs*rs*mgx: centred, so a row whose
    // gradient is 0 (D = 1, constant rows) gets exactly 0.
    const float A = (float)rs, B = (float)(-rs * rs * mgx), mgf = (float)mg, muf = (float)mu;
    for (int64_t j = 0; j < D; ++j) q[j] = A * (g0[j] * (w ? w[j] : 1.0f) - mgf) + B * (p[j] - muf);
  }
}

void f32_ln_bwd_cols__ref(int64_t R, int64_t D, int64_t ld, const float* x, const float* dy,
                          const float* mean, const float* rstd, float* dweight, float* dbias) {
  if (D <= 0) return;
  // Per-column double accumulators, rows walked in order (contiguous per row).
  constexpr int64_t kBlock = 256;
  double sw[kBlock], sb[kBlock];
  for (int64_t j0 = 0; j0 < D; j0 += kBlock) {
    const int64_t nj = D - j0 < kBlock ? D - j0 : kBlock;
    for (int64_t j = 0; j < nj; ++j) sw[j] = sb[j] = 0;
    for (int64_t r = 0; r < R; ++r) {
      const float* p = x + r * ld + j0;
      const float* g = dy + r * ld + j0;
      const double mu = mean[r], rs = rstd[r];
      for (int64_t j = 0; j < nj; ++j) {
        sb[j] += g[j];
        sw[j] += (double)g[j] * (((double)p[j] - mu) * rs);
      }
    }
    for (int64_t j = 0; j < nj; ++j) {
      if (dweight) dweight[j0 + j] = (float)sw[j];
      if (dbias) dbias[j0 + j] = (float)sb[j];
    }
  }
}

}  // namespace fathom
