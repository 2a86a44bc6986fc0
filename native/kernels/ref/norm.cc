// Batch and layer normalisation reference kernels (twin: lib/backend/ts/kernels/norm.ts;
// semantics in kernels.h). Statistics and reductions are accumulated in double;
// the element loops run in float with per-channel (per-row) coefficients, so
// they vectorise as written.
#include <cmath>

#include "ref.h"

namespace fathom {

void f32_bn_stats__ref(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, float* mean, float* var) {
  const double M = (double)(N * S);
  for (int64_t c = c0; c < c1; ++c) {
    double sum = 0;
    for (int64_t n = 0; n < N; ++n) {
      const float* p = x + (n * C + c) * S;
      for (int64_t s = 0; s < S; ++s) sum += p[s];
    }
    const double mu = sum / M;
    double sq = 0;
    for (int64_t n = 0; n < N; ++n) {
      const float* p = x + (n * C + c) * S;
      for (int64_t s = 0; s < S; ++s) {
        const double d = p[s] - mu;
        sq += d * d;
      }
    }
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
      const float* p = x + (n * C + c) * S;
      const float* g = dy + (n * C + c) * S;
      for (int64_t s = 0; s < S; ++s) {
        sdy += g[s];
        sdyx += (double)g[s] * ((double)p[s] - mu);
      }
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
    double sum = 0;
    for (int64_t j = 0; j < D; ++j) sum += p[j];
    const double mu = sum / (double)D;
    double sq = 0;
    for (int64_t j = 0; j < D; ++j) {
      const double t = p[j] - mu;
      sq += t * t;
    }
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
