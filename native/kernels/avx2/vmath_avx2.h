// AVX2+FMA vector math shared by the avx2/*.cc translation units.
//
// Every function here is `static`: internal linkage, so each including TU
// (all compiled with -mavx2 -mfma) gets its own private copy and the linker
// can never pick one of them for a baseline caller (the COMDAT pitfall of
// inline/template helpers). Include this header ONLY from avx2/*.cc.
//
// Accuracy against double libm rounded to float (test isa_math_accuracy
// sweeps ~2M inputs per function; measured max in brackets):
//   v_exp     Cephes expf polynomial: <= 2 ulp [1 ulp] for normal results;
//             denormal results rounded once (2^n split in two factors);
//             x > 88.7228 -> +Inf, x < -104 -> 0, NaN -> NaN.
//   v_log     Cephes logf polynomial: <= 2 ulp [1 ulp], denormal inputs too;
//             log(+-0) = -Inf, log(x < 0) = NaN, log(+Inf) = +Inf.
//   v_sigmoid e = exp(-|x|); x >= 0: 1/(1+e), else e/(1+e): <= 4 ulp [2 ulp];
//             never NaN from overflow (sigmoid(-100) ~ 3.7e-44; +-Inf -> 1, 0).
//   v_tanh    |x| < 0.625: Cephes odd polynomial; else 1 - 2/(exp(2|x|)+1)
//             with the sign of x: <= 4 ulp [1 ulp]; tanh(+-50) = +-1 exactly.
// (1 ulp of float = 6e-8 .. 1.2e-7 relative.)
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace fathom {
namespace avx2 {

// Masks for a tail of r (0..8) lanes: lanes [0, r) all-ones.
static inline __m256i v_tail_mask(int64_t r) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r), idx);
}

static inline __m256 v_exp(__m256 x) {
  // Clamp (min/max return the second operand on NaN: keep NaN flowing).
  x = _mm256_min_ps(_mm256_set1_ps(89.0f), x);
  x = _mm256_max_ps(_mm256_set1_ps(-105.0f), x);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 r2 = _mm256_mul_ps(r, r);
  __m256 y = _mm256_fmadd_ps(p, r2, r);
  y = _mm256_add_ps(y, _mm256_set1_ps(1.0f));
  // 2^n as 2^n1 * 2^n2 (both normal for n in [-151, 128]): denormal results
  // are rounded once, overflow gives +Inf.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(y, s1), s2);
}

static inline __m256 v_log(__m256 x0) {
  const __m256 one = _mm256_set1_ps(1.0f);
  // Denormal inputs: scale into the normal range first.
  const __m256 den = _mm256_cmp_ps(x0, _mm256_set1_ps(1.17549435e-38f), _CMP_LT_OQ);
  const __m256 x = _mm256_blendv_ps(x0, _mm256_mul_ps(x0, _mm256_set1_ps(8388608.0f)), den);
  const __m256i xi = _mm256_castps_si256(x);
  __m256 e = _mm256_cvtepi32_ps(
      _mm256_sub_epi32(_mm256_srli_epi32(xi, 23), _mm256_set1_epi32(126)));
  e = _mm256_sub_ps(e, _mm256_and_ps(den, _mm256_set1_ps(23.0f)));
  // Mantissa in [0.5, 1).
  __m256 mant = _mm256_castsi256_ps(_mm256_or_si256(
      _mm256_and_si256(xi, _mm256_set1_epi32(0x007FFFFF)), _mm256_set1_epi32(0x3F000000)));
  const __m256 small = _mm256_cmp_ps(mant, _mm256_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
  e = _mm256_sub_ps(e, _mm256_and_ps(small, one));
  const __m256 m = _mm256_add_ps(_mm256_sub_ps(mant, one), _mm256_and_ps(small, mant));
  const __m256 z = _mm256_mul_ps(m, m);
  __m256 p = _mm256_set1_ps(7.0376836292e-2f);
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(-1.1514610310e-1f));
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(1.1676998740e-1f));
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(-1.2420140846e-1f));
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(1.4249322787e-1f));
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(-1.6668057665e-1f));
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(2.0000714765e-1f));
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(-2.4999993993e-1f));
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(3.3333331174e-1f));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, m), z);
  y = _mm256_fmadd_ps(e, _mm256_set1_ps(-2.12194440e-4f), y);
  y = _mm256_fnmadd_ps(_mm256_set1_ps(0.5f), z, y);
  __m256 r = _mm256_add_ps(m, y);
  r = _mm256_fmadd_ps(e, _mm256_set1_ps(0.693359375f), r);
  // Special values.
  const __m256 inf = _mm256_set1_ps(__builtin_inff());
  const __m256 pass = _mm256_or_ps(_mm256_cmp_ps(x0, inf, _CMP_EQ_OQ),
                                   _mm256_cmp_ps(x0, x0, _CMP_UNORD_Q));
  r = _mm256_blendv_ps(r, x0, pass);
  r = _mm256_blendv_ps(r, _mm256_sub_ps(_mm256_setzero_ps(), inf),
                       _mm256_cmp_ps(x0, _mm256_setzero_ps(), _CMP_EQ_OQ));
  r = _mm256_blendv_ps(r, _mm256_set1_ps(__builtin_nanf("")),
                       _mm256_cmp_ps(x0, _mm256_setzero_ps(), _CMP_LT_OQ));
  return r;
}

static inline __m256 v_abs(__m256 x) {
  return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
}

// σ(x) = num / den with e = exp(−|x|): x >= 0: 1 / (1 + e), else e / (1 + e) (tiny, never 0, for x
// down to −104, so 0 · Inf cannot appear downstream). v_sigmoid divides; rnn.cc's gate pass uses a
// reciprocal instead.
static inline void v_sigmoid_parts(__m256 x, __m256* num, __m256* den) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = v_exp(_mm256_sub_ps(_mm256_setzero_ps(), v_abs(x)));
  *den = _mm256_add_ps(one, e);
  *num = _mm256_blendv_ps(e, one, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
}

static inline __m256 v_sigmoid(__m256 x) {
  __m256 num, den;
  v_sigmoid_parts(x, &num, &den);
  return _mm256_div_ps(num, den);
}

// tanh for |x| < 0.625: x + x z P(z), z = x^2 (v_tanh's small branch; rnn.cc's g_tanh too).
static inline __m256 v_tanh_small(__m256 x) {
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
  return _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
}

static inline __m256 v_tanh(__m256 x) {
  const __m256 sgn = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 ax = v_abs(x);
  const __m256 ys = v_tanh_small(x);
  // Large |x|: 1 - 2 / (exp(2|x|) + 1), sign of x.
  const __m256 e = v_exp(_mm256_add_ps(ax, ax));
  const __m256 yl = _mm256_sub_ps(_mm256_set1_ps(1.0f),
                                  _mm256_div_ps(_mm256_set1_ps(2.0f),
                                                _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
  const __m256 small = _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ);
  return _mm256_blendv_ps(_mm256_or_ps(yl, sgn), ys, small);
}

// Horizontal sums.
static inline double v_hsum_pd(__m256d v) {
  const __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
  const __m128d s = _mm_add_pd(lo, hi);
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
static inline float v_hmax_ps(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}
// acc += the 8 floats of v widened to double (two accumulators).
static inline void v_acc_pd(__m256 v, __m256d* a0, __m256d* a1) {
  *a0 = _mm256_add_pd(*a0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  *a1 = _mm256_add_pd(*a1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

}  // namespace avx2
}  // namespace fathom
