// AVX2+FMA batch and layer normalisation. Same contract and the same algorithm as
// ref/norm.cc (kernels.h: bn_*, ln_*): statistics in double, two passes (mean, then
// the sum of squared deviations: no one-pass cancellation), per-channel (per-row)
// float coefficients for the element loops. What differs: floats are widened 4 at a
// time (_mm256_cvtps_pd) into 4 double accumulators of 4 lanes (16 partial sums
// instead of the reference's 8), products are FMAs, and the backward's two sums
// (dy, dy*(x - mean)) share one pass. So results match the reference to rounding
// (test_norm.cc: every ISA vs the reference), not bitwise.
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "avx2.h"

namespace fathom {
namespace {

inline double hsum(__m256d a) {
  const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
inline __m256d lo4(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
inline __m256d hi4(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }

// sum p[i]
double sum_d(const float* p, int64_t n) {
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 u = _mm256_loadu_ps(p + i), v = _mm256_loadu_ps(p + i + 8);
    a0 = _mm256_add_pd(a0, lo4(u));
    a1 = _mm256_add_pd(a1, hi4(u));
    a2 = _mm256_add_pd(a2, lo4(v));
    a3 = _mm256_add_pd(a3, hi4(v));
  }
  if (i + 8 <= n) {
    const __m256 u = _mm256_loadu_ps(p + i);
    a0 = _mm256_add_pd(a0, lo4(u));
    a1 = _mm256_add_pd(a1, hi4(u));
    i += 8;
  }
  double s = hsum(_mm256_add_pd(_mm256_add_pd(a0, a2), _mm256_add_pd(a1, a3)));
  for (; i < n; ++i) s += (double)p[i];
  return s;
}

// sum (p[i] - mu)^2
double sum_sq_dev(const float* p, int64_t n, double mu) {
  const __m256d m = _mm256_set1_pd(mu);
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 u = _mm256_loadu_ps(p + i), v = _mm256_loadu_ps(p + i + 8);
    const __m256d d0 = _mm256_sub_pd(lo4(u), m), d1 = _mm256_sub_pd(hi4(u), m);
    const __m256d d2 = _mm256_sub_pd(lo4(v), m), d3 = _mm256_sub_pd(hi4(v), m);
    a0 = _mm256_fmadd_pd(d0, d0, a0);
    a1 = _mm256_fmadd_pd(d1, d1, a1);
    a2 = _mm256_fmadd_pd(d2, d2, a2);
    a3 = _mm256_fmadd_pd(d3, d3, a3);
  }
  if (i + 8 <= n) {
    const __m256 u = _mm256_loadu_ps(p + i);
    const __m256d d0 = _mm256_sub_pd(lo4(u), m), d1 = _mm256_sub_pd(hi4(u), m);
    a0 = _mm256_fmadd_pd(d0, d0, a0);
    a1 = _mm256_fmadd_pd(d1, d1, a1);
    i += 8;
  }
  double s = hsum(_mm256_add_pd(_mm256_add_pd(a0, a2), _mm256_add_pd(a1, a3)));
  for (; i < n; ++i) {
    const double d = (double)p[i] - mu;
    s += d * d;
  }
  return s;
}

// *sg += sum g[i], *sgd += sum g[i] * (p[i] - mu), one pass.
void sum_g_and_dev(const float* g, const float* p, int64_t n, double mu, double* sg, double* sgd) {
  const __m256d m = _mm256_set1_pd(mu);
  __m256d s0 = _mm256_setzero_pd(), s1 = s0, t0 = s0, t1 = s0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 gv = _mm256_loadu_ps(g + i), pv = _mm256_loadu_ps(p + i);
    const __m256d g0 = lo4(gv), g1 = hi4(gv);
    s0 = _mm256_add_pd(s0, g0);
    s1 = _mm256_add_pd(s1, g1);
    t0 = _mm256_fmadd_pd(g0, _mm256_sub_pd(lo4(pv), m), t0);
    t1 = _mm256_fmadd_pd(g1, _mm256_sub_pd(hi4(pv), m), t1);
  }
  double a = hsum(_mm256_add_pd(s0, s1)), b = hsum(_mm256_add_pd(t0, t1));
  for (; i < n; ++i) {
    a += (double)g[i];
    b += (double)g[i] * ((double)p[i] - mu);
  }
  *sg += a;
  *sgd += b;
}

// Keeps v opaque so that the compiler cannot fuse the product it holds into an FMA.
template <class V>
inline V no_contract(V v) {
#if defined(__GNUC__)
  __asm__("" : "+x"(v));
#endif
  return v;
}

// q = p * s + t, rounded twice as the reference (a product and a sum, no FMA): when
// var = 0 (M = 1, constant channels) x*s and t cancel to exactly 0 there, and here.
void scale_shift(const float* p, int64_t n, float s, float t, float* q) {
  const __m256 vs = _mm256_set1_ps(s), vt = _mm256_set1_ps(t);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = no_contract(_mm256_mul_ps(_mm256_loadu_ps(p + i), vs));
    const __m256 b = no_contract(_mm256_mul_ps(_mm256_loadu_ps(p + i + 8), vs));
    _mm256_storeu_ps(q + i, _mm256_add_ps(a, vt));
    _mm256_storeu_ps(q + i + 8, _mm256_add_ps(b, vt));
  }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(q + i, _mm256_add_ps(no_contract(_mm256_mul_ps(_mm256_loadu_ps(p + i), vs)), vt));
  for (; i < n; ++i) {
    q[i] = no_contract(p[i] * s) + t;
  }
}

}  // namespace

void f32_bn_stats__avx2(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, float* mean,
                        float* var) {
  const double M = (double)(N * S);
  for (int64_t c = c0; c < c1; ++c) {
    // One channel is N planes of S floats; for the CNN sizes (64 x 24 x 24) that is
    // 147 KB, so the second pass reads from L2.
    double sum = 0;
    for (int64_t n = 0; n < N; ++n) sum += sum_d(x + (n * C + c) * S, S);
    const double mu = sum / M;
    double sq = 0;
    for (int64_t n = 0; n < N; ++n) sq += sum_sq_dev(x + (n * C + c) * S, S, mu);
    mean[c] = (float)mu;
    var[c] = (float)(sq / M);
  }
}

void f32_bn_fwd__avx2(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, const float* mean,
                      const float* var, float eps, const float* w, const float* b, float* y) {
  for (int64_t c = c0; c < c1; ++c) {
    const double invstd = 1.0 / std::sqrt((double)var[c] + (double)eps);
    const float scale = (float)((w ? (double)w[c] : 1.0) * invstd);
    const float shift = (float)((b ? (double)b[c] : 0.0) - (double)mean[c] * (double)scale);
    for (int64_t n = 0; n < N; ++n) scale_shift(x + (n * C + c) * S, S, scale, shift, y + (n * C + c) * S);
  }
}

void f32_bn_bwd__avx2(int64_t N, int64_t C, int64_t S, int64_t c0, int64_t c1, const float* x, const float* dy,
                      const float* mean, const float* var, float eps, const float* w, bool training, float* dx,
                      float* dweight, float* dbias) {
  const double M = (double)(N * S);
  for (int64_t c = c0; c < c1; ++c) {
    const double mu = mean[c];
    const double invstd = 1.0 / std::sqrt((double)var[c] + (double)eps);
    double sdy = 0, sdyx = 0;
    if (training || dweight || dbias)
      for (int64_t n = 0; n < N; ++n) sum_g_and_dev(dy + (n * C + c) * S, x + (n * C + c) * S, S, mu, &sdy, &sdyx);
    if (dbias) dbias[c] = (float)sdy;
    if (dweight) dweight[c] = (float)(sdyx * invstd);
    if (!dx) continue;
    // dx = a*(dy - mean dy) + b*(x - mean) = a*dy + b*x + k, k = -(a*mdy + b*mu) (training); a*dy (eval).
    const double a = (w ? (double)w[c] : 1.0) * invstd;
    const float af = (float)a;
    const float bf = training ? (float)(-a * invstd * invstd * sdyx / M) : 0.0f;
    const float mdy = training ? (float)(sdy / M) : 0.0f, muf = training ? (float)mu : 0.0f;
    const __m256 va = _mm256_set1_ps(af), vb = _mm256_set1_ps(bf), vm = _mm256_set1_ps(mdy), vu = _mm256_set1_ps(muf);
    for (int64_t n = 0; n < N; ++n) {
      const float* p = x + (n * C + c) * S;
      const float* g = dy + (n * C + c) * S;
      float* q = dx + (n * C + c) * S;
      int64_t s = 0;
      if (training) {
        for (; s + 8 <= S; s += 8) {
          const __m256 t = _mm256_mul_ps(vb, _mm256_sub_ps(_mm256_loadu_ps(p + s), vu));
          _mm256_storeu_ps(q + s, _mm256_fmadd_ps(va, _mm256_sub_ps(_mm256_loadu_ps(g + s), vm), t));
        }
        for (; s < S; ++s) q[s] = std::fma(af, g[s] - mdy, bf * (p[s] - muf));
      } else {
        for (; s + 8 <= S; s += 8) _mm256_storeu_ps(q + s, _mm256_mul_ps(va, _mm256_loadu_ps(g + s)));
        for (; s < S; ++s) q[s] = af * g[s];
      }
    }
  }
}

void f32_ln_fwd__avx2(int64_t R, int64_t D, const float* x, const float* w, const float* b, float eps, float* y,
                      float* mean, float* rstd) {
  for (int64_t r = 0; r < R; ++r) {
    const float* p = x + r * D;
    float* q = y + r * D;
    const double mu = sum_d(p, D) / (double)D;
    const double rs = 1.0 / std::sqrt(sum_sq_dev(p, D, mu) / (double)D + (double)eps);
    mean[r] = (float)mu;
    rstd[r] = (float)rs;
    const float muf = (float)mu, rsf = (float)rs;
    const __m256 vm = _mm256_set1_ps(muf), vr = _mm256_set1_ps(rsf), one = _mm256_set1_ps(1.0f),
                 zero = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 8 <= D; j += 8) {
      const __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(p + j), vm), vr);
      const __m256 wv = w ? _mm256_loadu_ps(w + j) : one, bv = b ? _mm256_loadu_ps(b + j) : zero;
      _mm256_storeu_ps(q + j, _mm256_fmadd_ps(xh, wv, bv));
    }
    for (; j < D; ++j) {
      const float xh = (p[j] - muf) * rsf;
      q[j] = std::fma(xh, w ? w[j] : 1.0f, b ? b[j] : 0.0f);
    }
  }
}

void f32_ln_bwd_rows__avx2(int64_t R, int64_t D, const float* x, const float* dy, const float* mean,
                           const float* rstd, const float* w, float* dx) {
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int64_t r = 0; r < R; ++r) {
    const float* p = x + r * D;
    const float* g0 = dy + r * D;
    float* q = dx + r * D;
    const double mu = mean[r], rs = rstd[r];
    const __m256d m = _mm256_set1_pd(mu);
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, t0 = s0, t1 = s0;
    int64_t j = 0;
    for (; j + 8 <= D; j += 8) {
      const __m256 gv = _mm256_loadu_ps(g0 + j), pv = _mm256_loadu_ps(p + j);
      const __m256 wv = w ? _mm256_loadu_ps(w + j) : one;
      // g = dy * w in double, as the reference
      const __m256d ga = _mm256_mul_pd(lo4(gv), lo4(wv)), gb = _mm256_mul_pd(hi4(gv), hi4(wv));
      s0 = _mm256_add_pd(s0, ga);
      s1 = _mm256_add_pd(s1, gb);
      t0 = _mm256_fmadd_pd(ga, _mm256_sub_pd(lo4(pv), m), t0);
      t1 = _mm256_fmadd_pd(gb, _mm256_sub_pd(hi4(pv), m), t1);
    }
    double sg = hsum(_mm256_add_pd(s0, s1)), sgd = hsum(_mm256_add_pd(t0, t1));
    for (; j < D; ++j) {
      const double g = (double)g0[j] * (w ? (double)w[j] : 1.0);
      sg += g;
      sgd += g * ((double)p[j] - mu);
    }
    const double mg = sg / (double)D, mgx = sgd * rs / (double)D;
    // dx = A*(g - mg) + B*(x - mu): centred as the reference (0 for D = 1 and constant rows).
    const float A = (float)rs, B = (float)(-rs * rs * mgx), mgf = (float)mg, muf = (float)mu;
    const __m256 vA = _mm256_set1_ps(A), vB = _mm256_set1_ps(B), vg = _mm256_set1_ps(mgf), vu = _mm256_set1_ps(muf);
    j = 0;
    for (; j + 8 <= D; j += 8) {
      const __m256 g = _mm256_mul_ps(_mm256_loadu_ps(g0 + j), w ? _mm256_loadu_ps(w + j) : one);
      const __m256 t = _mm256_mul_ps(vB, _mm256_sub_ps(_mm256_loadu_ps(p + j), vu));
      _mm256_storeu_ps(q + j, _mm256_fmadd_ps(vA, _mm256_sub_ps(g, vg), t));
    }
    for (; j < D; ++j) q[j] = std::fma(A, g0[j] * (w ? w[j] : 1.0f) - mgf, B * (p[j] - muf));
  }
}

void f32_ln_bwd_cols__avx2(int64_t R, int64_t D, int64_t ld, const float* x, const float* dy, const float* mean,
                           const float* rstd, float* dweight, float* dbias) {
  if (D <= 0) return;
  // Per-column double accumulators (blocks of 256 columns, 4 KiB: L1), rows in order.
  constexpr int64_t kBlock = 256;
  alignas(32) double sw[kBlock], sb[kBlock];
  for (int64_t j0 = 0; j0 < D; j0 += kBlock) {
    const int64_t nj = D - j0 < kBlock ? D - j0 : kBlock;
    for (int64_t j = 0; j < nj; ++j) sw[j] = sb[j] = 0;
    for (int64_t r = 0; r < R; ++r) {
      const float* p = x + r * ld + j0;
      const float* g = dy + r * ld + j0;
      const double mu = mean[r], rs = rstd[r];
      const __m256d m = _mm256_set1_pd(mu), vr = _mm256_set1_pd(rs);
      int64_t j = 0;
      for (; j + 4 <= nj; j += 4) {
        const __m256d gv = _mm256_cvtps_pd(_mm_loadu_ps(g + j));
        const __m256d xh = _mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(p + j)), m), vr);
        _mm256_store_pd(sb + j, _mm256_add_pd(_mm256_load_pd(sb + j), gv));
        _mm256_store_pd(sw + j, _mm256_fmadd_pd(gv, xh, _mm256_load_pd(sw + j)));
      }
      for (; j < nj; ++j) {
        sb[j] += g[j];
        sw[j] = std::fma((double)g[j], ((double)p[j] - mu) * rs, sw[j]);
      }
    }
    for (int64_t j = 0; j < nj; ++j) {
      if (dweight) dweight[j0 + j] = (float)sw[j];
      if (dbias) dbias[j0 + j] = (float)sb[j];
    }
  }
}

}  // namespace fathom
