// Fused layer epilogue, AVX2+FMA: bias add + activation, and its backward.
// Same contract as ref/bias_act.cc. The bias gradient accumulates in double
// (two __m256d per 8 columns) like the reference, so results agree to the
// last float rounding; sigmoid/tanh use the vmath_avx2.h approximations
// (<= 2 ulp).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "avx2.h"
#include "../ref/ref.h"
#include "vmath_avx2.h"

namespace fathom {
namespace {

using namespace avx2;

static inline __m256 act8(Act act, __m256 z) {
  switch (act) {
    case Act::Relu: {
      // z < 0 ? 0 : z  (keeps NaN and -0 like the reference)
      const __m256 neg = _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_LT_OQ);
      return _mm256_andnot_ps(neg, z);
    }
    case Act::Sigmoid: return v_sigmoid(z);
    case Act::Tanh: return v_tanh(z);
    default: return z;
  }
}

static inline __m256 grad8(Act act, __m256 y, __m256 dy) {
  const __m256 one = _mm256_set1_ps(1.0f);
  switch (act) {
    case Act::Relu: return _mm256_and_ps(_mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GT_OQ), dy);
    // y - y*y with one rounding = y (1 - y) correctly rounded, like the reference.
    case Act::Sigmoid: return _mm256_mul_ps(dy, _mm256_fnmadd_ps(y, y, y));
    case Act::Tanh: return _mm256_mul_ps(dy, _mm256_fnmadd_ps(y, y, one));
    default: return dy;
  }
}

}  // namespace

void f32_bias_act__avx2(int64_t N, int64_t D, float* y, const float* bias, Act act) {
  if (D < 8) return f32_bias_act__ref(N, D, y, bias, act);  // rows shorter than a vector
  const int64_t D8 = D & ~(int64_t)7;
  for (int64_t n = 0; n < N; ++n) {
    float* r = y + n * D;
    int64_t d = 0;
    for (; d < D8; d += 8) {
      __m256 z = _mm256_loadu_ps(r + d);
      if (bias) z = _mm256_add_ps(z, _mm256_loadu_ps(bias + d));
      _mm256_storeu_ps(r + d, act8(act, z));
    }
    if (d < D) {
      const __m256i m = v_tail_mask(D - d);
      __m256 z = _mm256_maskload_ps(r + d, m);
      if (bias) z = _mm256_add_ps(z, _mm256_maskload_ps(bias + d, m));
      _mm256_maskstore_ps(r + d, m, act8(act, z));
    }
  }
}

void f32_bias_act_bwd__avx2(int64_t N, int64_t D, const float* y, const float* dy, float* dz,
                            float* dbias, Act act) {
  if (D < 8) return f32_bias_act_bwd__ref(N, D, y, dy, dz, dbias, act);
  // Column blocks of 8: one pass over the rows per block writes dz and sums it.
  for (int64_t d = 0; d < D; d += 8) {
    const int64_t w = D - d < 8 ? D - d : 8;
    const __m256i m = v_tail_mask(w);
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    if (w == 8) {
      for (int64_t n = 0; n < N; ++n) {
        const int64_t i = n * D + d;
        const __m256 g = grad8(act, _mm256_loadu_ps(y + i), _mm256_loadu_ps(dy + i));
        _mm256_storeu_ps(dz + i, g);
        v_acc_pd(g, &a0, &a1);
      }
    } else {  // masked stores are slow on Zen: only for the last partial block
      for (int64_t n = 0; n < N; ++n) {
        const int64_t i = n * D + d;
        const __m256 g = grad8(act, _mm256_maskload_ps(y + i, m), _mm256_maskload_ps(dy + i, m));
        _mm256_maskstore_ps(dz + i, m, g);
        v_acc_pd(g, &a0, &a1);
      }
    }
    if (dbias) {
      float out[8];
      const __m128 lo = _mm256_cvtpd_ps(a0), hi = _mm256_cvtpd_ps(a1);
      _mm_storeu_ps(out, lo);
      _mm_storeu_ps(out + 4, hi);
      for (int64_t k = 0; k < w; ++k) dbias[d + k] = out[k];
    }
  }
}

}  // namespace fathom
