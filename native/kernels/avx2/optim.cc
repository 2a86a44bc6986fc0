// AVX2 optimizer steps: one fused pass, the formulas of ref/optim.cc in float
// with FMA (ref uses double). Each stored value (w, v, m) agrees with ref to
// a few float ulp of the terms involved (tests: rel 1e-6 for sgd, 1e-5 for
// adam, where the sqrt/divide chain adds roundings).
#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "avx2.h"
#include "vmath_avx2.h"

namespace fathom {
namespace {

// Full vectors use plain loads/stores; only the tail is masked (masked stores
// are microcoded and slow on AMD Zen).
template <bool kTail>
static inline __m256 ld(const float* p, __m256i mk) {
  return kTail ? _mm256_maskload_ps(p, mk) : _mm256_loadu_ps(p);
}
template <bool kTail>
static inline void st(float* p, __m256i mk, __m256 v) {
  if (kTail) _mm256_maskstore_ps(p, mk, v);
  else _mm256_storeu_ps(p, v);
}

}  // namespace

void f32_sgd_step__avx2(int64_t n, float* w, const float* g, float* v, float lr, float momentum,
                        float dampening, float weight_decay, bool nesterov, bool first) {
  const __m256 vlr = _mm256_set1_ps(lr), vmom = _mm256_set1_ps(momentum);
  const __m256 vdamp = _mm256_set1_ps((float)(1.0 - (double)dampening));
  const __m256 vwd = _mm256_set1_ps(weight_decay);
  const bool mom = momentum != 0.0f;
  auto body = [&](int64_t i, auto tail) {
    constexpr bool kTail = decltype(tail)::value;
    const __m256i mk = kTail ? avx2::v_tail_mask(n - i) : _mm256_setzero_si256();
    const __m256 wv = ld<kTail>(w + i, mk);
    const __m256 gp = _mm256_fmadd_ps(vwd, wv, ld<kTail>(g + i, mk));
    __m256 d = gp;
    if (mom) {
      const __m256 vv = first ? gp : _mm256_fmadd_ps(vmom, ld<kTail>(v + i, mk), _mm256_mul_ps(vdamp, gp));
      st<kTail>(v + i, mk, vv);
      d = nesterov ? _mm256_fmadd_ps(vmom, vv, gp) : vv;
    }
    st<kTail>(w + i, mk, _mm256_fnmadd_ps(vlr, d, wv));
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) body(i, std::false_type{});
  if (i < n) body(i, std::true_type{});
}

void f32_adam_step__avx2(int64_t n, float* w, const float* g, float* m, float* v, float lr,
                         float beta1, float beta2, float eps, float weight_decay, bool adamw,
                         int64_t t) {
  const double b1 = beta1, b2 = beta2;
  const double bc1 = 1.0 - std::pow(b1, (double)t), bc2 = 1.0 - std::pow(b2, (double)t);
  const __m256 vb1 = _mm256_set1_ps(beta1), vb2 = _mm256_set1_ps(beta2);
  const __m256 vc1 = _mm256_set1_ps((float)(1.0 - b1)), vc2 = _mm256_set1_ps((float)(1.0 - b2));
  const __m256 ib1 = _mm256_set1_ps((float)(1.0 / bc1)), ib2 = _mm256_set1_ps((float)(1.0 / bc2));
  const __m256 vlr = _mm256_set1_ps(lr), veps = _mm256_set1_ps(eps);
  const __m256 vwd = _mm256_set1_ps(weight_decay);
  const __m256 vlrwd = _mm256_set1_ps((float)((double)lr * (double)weight_decay));
  auto body = [&](int64_t i, auto tail) {
    constexpr bool kTail = decltype(tail)::value;
    const __m256i mk = kTail ? avx2::v_tail_mask(n - i) : _mm256_setzero_si256();
    __m256 wv = ld<kTail>(w + i, mk);
    __m256 gv = ld<kTail>(g + i, mk);
    if (adamw)
      wv = _mm256_fnmadd_ps(vlrwd, wv, wv);
    else
      gv = _mm256_fmadd_ps(vwd, wv, gv);
    const __m256 mv = _mm256_fmadd_ps(vb1, ld<kTail>(m + i, mk), _mm256_mul_ps(vc1, gv));
    const __m256 vv = _mm256_fmadd_ps(vb2, ld<kTail>(v + i, mk), _mm256_mul_ps(_mm256_mul_ps(vc2, gv), gv));
    st<kTail>(m + i, mk, mv);
    st<kTail>(v + i, mk, vv);
    const __m256 den = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(vv, ib2)), veps);
    const __m256 step = _mm256_div_ps(_mm256_mul_ps(vlr, _mm256_mul_ps(mv, ib1)), den);
    st<kTail>(w + i, mk, _mm256_sub_ps(wv, step));
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) body(i, std::false_type{});
  if (i < n) body(i, std::true_type{});
}

}  // namespace fathom
