// AVX2 row kernels: softmax / log-softmax forward and backward, fused softmax
// cross-entropy forward (labels and probability targets). Semantics of
// ref/softmax.cc; differences:
//   exp is v_exp (<= 2 ulp) of the float difference x - m (one more rounding
//   of the argument: for |x - m| < 16 that is <= 1e-6 absolute), row sums in
//   double, probabilities scaled by float(1/s): prob agrees with ref to
//   ~1e-6 relative; log-softmax to ~2 ulp of max(|x - m|, log s).
//   softmax backward: dot product in double, the rest in double too (ref's
//   arithmetic up to the summation order). log-softmax backward uses v_exp.
//   losses: per-row terms in double from the float intermediates.
// The cross-entropy backward kernels stay on the reference (one cheap pass).
#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "avx2.h"
#include "vmath_avx2.h"

namespace fathom {
namespace {

using namespace avx2;

static float row_max(int64_t D, const float* x) {
  const __m256 ninf = _mm256_set1_ps(-__builtin_inff());
  __m256 m0 = ninf, m1 = ninf;
  int64_t d = 0;
  for (; d + 16 <= D; d += 16) {
    m0 = _mm256_max_ps(_mm256_loadu_ps(x + d), m0);  // x > m ? x : m (NaN ignored, as ref)
    m1 = _mm256_max_ps(_mm256_loadu_ps(x + d + 8), m1);
  }
  for (; d < D; d += 8) {
    const __m256i m = v_tail_mask(D - d);
    m0 = _mm256_max_ps(_mm256_blendv_ps(ninf, _mm256_maskload_ps(x + d, m), _mm256_castsi256_ps(m)),
                       m0);
  }
  return v_hmax_ps(_mm256_max_ps(m0, m1));
}

// e = exp(x - m) stored to y (when y) and summed in double.
static double exp_sum(int64_t D, const float* x, float m, float* y) {
  const __m256 vm = _mm256_set1_ps(m);
  __m256d a0 = _mm256_setzero_pd(), a1 = a0;
  int64_t d = 0;
  for (; d + 8 <= D; d += 8) {
    const __m256 e = v_exp(_mm256_sub_ps(_mm256_loadu_ps(x + d), vm));
    if (y) _mm256_storeu_ps(y + d, e);
    v_acc_pd(e, &a0, &a1);
  }
  if (d < D) {
    const __m256i mk = v_tail_mask(D - d);
    const __m256 e = _mm256_and_ps(
        v_exp(_mm256_sub_ps(_mm256_maskload_ps(x + d, mk), vm)), _mm256_castsi256_ps(mk));
    if (y) _mm256_maskstore_ps(y + d, mk, e);
    v_acc_pd(e, &a0, &a1);
  }
  return v_hsum_pd(_mm256_add_pd(a0, a1));
}

static void scale_row(int64_t D, float* y, float s) {
  const __m256 vs = _mm256_set1_ps(s);
  int64_t d = 0;
  for (; d + 8 <= D; d += 8) _mm256_storeu_ps(y + d, _mm256_mul_ps(_mm256_loadu_ps(y + d), vs));
  if (d < D) {
    const __m256i mk = v_tail_mask(D - d);
    _mm256_maskstore_ps(y + d, mk, _mm256_mul_ps(_mm256_maskload_ps(y + d, mk), vs));
  }
}

// prob row = softmax(x row); returns log(s), sets *m.
static double softmax_row(int64_t D, const float* x, float* y, float* m_out) {
  const float m = row_max(D, x);
  const double s = exp_sum(D, x, m, y);
  scale_row(D, y, (float)(1.0 / s));
  *m_out = m;
  return std::log(s);
}

// Two 4-double halves of 8 floats.
static inline __m256d lo_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
static inline __m256d hi_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }
static inline __m256 join_ps(__m256d lo, __m256d hi) {
  return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi), 1);
}

}  // namespace

void f32_softmax__avx2(int64_t N, int64_t D, const float* x, float* y, bool log) {
  for (int64_t n = 0; n < N; ++n) {
    const float* xr = x + n * D;
    float* yr = y + n * D;
    if (!log) {
      float m;
      softmax_row(D, xr, yr, &m);
      continue;
    }
    const float m = row_max(D, xr);
    const float ls = (float)std::log(exp_sum(D, xr, m, nullptr));
    const __m256 vm = _mm256_set1_ps(m), vl = _mm256_set1_ps(ls);
    int64_t d = 0;
    for (; d + 8 <= D; d += 8)
      _mm256_storeu_ps(yr + d, _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + d), vm), vl));
    if (d < D) {
      const __m256i mk = v_tail_mask(D - d);
      _mm256_maskstore_ps(yr + d, mk,
                          _mm256_sub_ps(_mm256_sub_ps(_mm256_maskload_ps(xr + d, mk), vm), vl));
    }
  }
}

void f32_softmax_bwd__avx2(int64_t N, int64_t D, const float* y, const float* dy, float* dx,
                           bool log) {
  for (int64_t n = 0; n < N; ++n) {
    const float* yr = y + n * D;
    const float* gr = dy + n * D;
    float* dr = dx + n * D;
    __m256d a0 = _mm256_setzero_pd(), a1 = a0;
    int64_t d = 0;
    if (!log) {
      // s = sum dy*y (double); dx = y * (dy - s) in double.
      for (; d < D; d += 8) {
        const __m256i mk = v_tail_mask(D - d);
        const __m256 yv = _mm256_maskload_ps(yr + d, mk), gv = _mm256_maskload_ps(gr + d, mk);
        a0 = _mm256_fmadd_pd(lo_pd(gv), lo_pd(yv), a0);
        a1 = _mm256_fmadd_pd(hi_pd(gv), hi_pd(yv), a1);
      }
      const __m256d s = _mm256_set1_pd(v_hsum_pd(_mm256_add_pd(a0, a1)));
      for (d = 0; d < D; d += 8) {
        const __m256i mk = v_tail_mask(D - d);
        const __m256 yv = _mm256_maskload_ps(yr + d, mk), gv = _mm256_maskload_ps(gr + d, mk);
        const __m256d lo = _mm256_mul_pd(lo_pd(yv), _mm256_sub_pd(lo_pd(gv), s));
        const __m256d hi = _mm256_mul_pd(hi_pd(yv), _mm256_sub_pd(hi_pd(gv), s));
        _mm256_maskstore_ps(dr + d, mk, join_ps(lo, hi));
      }
    } else {
      // dx = dy - exp(y) * sum(dy)
      for (; d < D; d += 8) v_acc_pd(_mm256_maskload_ps(gr + d, v_tail_mask(D - d)), &a0, &a1);
      const __m256 s = _mm256_set1_ps((float)v_hsum_pd(_mm256_add_pd(a0, a1)));
      for (d = 0; d < D; d += 8) {
        const __m256i mk = v_tail_mask(D - d);
        const __m256 e = v_exp(_mm256_maskload_ps(yr + d, mk));
        _mm256_maskstore_ps(dr + d, mk, _mm256_fnmadd_ps(e, s, _mm256_maskload_ps(gr + d, mk)));
      }
    }
  }
}

double f32_xent_labels__avx2(int64_t N, int64_t D, const float* logits, const int32_t* labels,
                             float* prob) {
  double total = 0;
  for (int64_t n = 0; n < N; ++n) {
    float m;
    const double ls = softmax_row(D, logits + n * D, prob + n * D, &m);
    total += ((double)m - (double)logits[n * D + labels[n]]) + ls;
  }
  return total / (double)N;
}

double f32_xent_probs__avx2(int64_t N, int64_t D, const float* logits, const float* target,
                            float* prob) {
  double total = 0;
  for (int64_t n = 0; n < N; ++n) {
    const float* x = logits + n * D;
    const float* t = target + n * D;
    float m;
    const double ls = softmax_row(D, x, prob + n * D, &m);
    // row = sum t * ((x - m) - ls) = sum t*(x - m) - ls * sum t, in double.
    const __m256d vm = _mm256_set1_pd((double)m);
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, t0 = a0, t1 = a0;
    for (int64_t d = 0; d < D; d += 8) {
      const __m256i mk = v_tail_mask(D - d);
      const __m256 xv = _mm256_maskload_ps(x + d, mk), tv = _mm256_maskload_ps(t + d, mk);
      a0 = _mm256_fmadd_pd(lo_pd(tv), _mm256_sub_pd(lo_pd(xv), vm), a0);
      a1 = _mm256_fmadd_pd(hi_pd(tv), _mm256_sub_pd(hi_pd(xv), vm), a1);
      t0 = _mm256_add_pd(t0, lo_pd(tv));
      t1 = _mm256_add_pd(t1, hi_pd(tv));
    }
    total -= v_hsum_pd(_mm256_add_pd(a0, a1)) - ls * v_hsum_pd(_mm256_add_pd(t0, t1));
  }
  return total / (double)N;
}

}  // namespace fathom
