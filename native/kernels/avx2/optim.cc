// AVX2 optimizer steps: one fused pass, the formulas of ref/optim.cc (and
// kernels.h) in float with FMA (ref uses double). Each stored value agrees
// with ref to a few float ulp of the terms involved (tests: rel 1e-6 for sgd,
// 1e-5 for the others, where the sqrt/divide chain adds roundings).
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

namespace {

// max(a, b) that propagates a NaN in either (torch.maximum); _mm256_max_ps alone returns b when a is NaN.
static inline __m256 nan_max(__m256 a, __m256 b) {
  return _mm256_blendv_ps(_mm256_max_ps(a, b), a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q));
}

// Runs body(i, tail) over full vectors, then once masked over the tail.
template <class Body>
static inline void each8(int64_t n, Body&& body) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) body(i, std::false_type{});
  if (i < n) body(i, std::true_type{});
}

}  // namespace

void f32_adam_step__avx2(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h) {
  float *m = s[0], *v = s[1], *vmax = s[2];
  const double b1 = h.beta1, b2 = h.beta2;
  const double bc1 = 1.0 - std::pow(b1, (double)h.step), bc2 = 1.0 - std::pow(b2, (double)h.step);
  const __m256 vb1 = _mm256_set1_ps(h.beta1), vb2 = _mm256_set1_ps(h.beta2);
  const __m256 vc1 = _mm256_set1_ps((float)(1.0 - b1)), vc2 = _mm256_set1_ps((float)(1.0 - b2));
  const __m256 ib1 = _mm256_set1_ps((float)(1.0 / bc1)), ib2 = _mm256_set1_ps((float)(1.0 / bc2));
  const __m256 vlr = _mm256_set1_ps(h.lr), veps = _mm256_set1_ps(h.eps);
  const __m256 vwd = _mm256_set1_ps(h.weight_decay);
  const __m256 vlrwd = _mm256_set1_ps((float)((double)h.lr * (double)h.weight_decay));
  const bool adamw = h.decoupled, ams = h.amsgrad;
  each8(n, [&](int64_t i, auto tail) {
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
    __m256 uv = vv;
    if (ams) {
      uv = nan_max(ld<kTail>(vmax + i, mk), vv);
      st<kTail>(vmax + i, mk, uv);
    }
    const __m256 den = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(uv, ib2)), veps);
    const __m256 step = _mm256_div_ps(_mm256_mul_ps(vlr, _mm256_mul_ps(mv, ib1)), den);
    st<kTail>(w + i, mk, _mm256_sub_ps(wv, step));
  });
}

void f32_adagrad_step__avx2(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h) {
  float* sum = s[0];
  const __m256 vclr = _mm256_set1_ps((float)((double)h.lr / (1.0 + (double)(h.step - 1) * (double)h.lr_decay)));
  const __m256 vwd = _mm256_set1_ps(h.weight_decay), veps = _mm256_set1_ps(h.eps);
  each8(n, [&](int64_t i, auto tail) {
    constexpr bool kTail = decltype(tail)::value;
    const __m256i mk = kTail ? avx2::v_tail_mask(n - i) : _mm256_setzero_si256();
    const __m256 wv = ld<kTail>(w + i, mk);
    const __m256 gp = _mm256_fmadd_ps(vwd, wv, ld<kTail>(g + i, mk));
    const __m256 sv = _mm256_fmadd_ps(gp, gp, ld<kTail>(sum + i, mk));
    st<kTail>(sum + i, mk, sv);
    const __m256 d = _mm256_add_ps(_mm256_sqrt_ps(sv), veps);
    st<kTail>(w + i, mk, _mm256_fnmadd_ps(vclr, _mm256_div_ps(gp, d), wv));
  });
}

void f32_rmsprop_step__avx2(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h) {
  float *sq = s[0], *buf = s[1], *gavg = s[2];
  const __m256 va = _mm256_set1_ps(h.alpha), vc = _mm256_set1_ps((float)(1.0 - (double)h.alpha));
  const __m256 vlr = _mm256_set1_ps(h.lr), vwd = _mm256_set1_ps(h.weight_decay);
  const __m256 veps = _mm256_set1_ps(h.eps), vmom = _mm256_set1_ps(h.momentum);
  const bool use_mom = h.momentum > 0, centered = h.centered;
  each8(n, [&](int64_t i, auto tail) {
    constexpr bool kTail = decltype(tail)::value;
    const __m256i mk = kTail ? avx2::v_tail_mask(n - i) : _mm256_setzero_si256();
    const __m256 wv = ld<kTail>(w + i, mk);
    const __m256 gp = _mm256_fmadd_ps(vwd, wv, ld<kTail>(g + i, mk));
    const __m256 sv = _mm256_fmadd_ps(va, ld<kTail>(sq + i, mk), _mm256_mul_ps(_mm256_mul_ps(vc, gp), gp));
    st<kTail>(sq + i, mk, sv);
    __m256 avg = sv;
    if (centered) {
      const __m256 ga = _mm256_fmadd_ps(va, ld<kTail>(gavg + i, mk), _mm256_mul_ps(vc, gp));
      st<kTail>(gavg + i, mk, ga);
      avg = _mm256_max_ps(_mm256_fnmadd_ps(ga, ga, sv), _mm256_setzero_ps());  // rounding can leave sq − gavg² below 0
    }
    const __m256 q = _mm256_div_ps(gp, _mm256_add_ps(_mm256_sqrt_ps(avg), veps));
    if (use_mom) {
      const __m256 bv = _mm256_fmadd_ps(vmom, ld<kTail>(buf + i, mk), q);
      st<kTail>(buf + i, mk, bv);
      st<kTail>(w + i, mk, _mm256_fnmadd_ps(vlr, bv, wv));
    } else {
      st<kTail>(w + i, mk, _mm256_fnmadd_ps(vlr, q, wv));
    }
  });
}

void f32_adadelta_step__avx2(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h) {
  float *sq = s[0], *acc = s[1];
  const __m256 vr = _mm256_set1_ps(h.rho), vc = _mm256_set1_ps((float)(1.0 - (double)h.rho));
  const __m256 vlr = _mm256_set1_ps(h.lr), vwd = _mm256_set1_ps(h.weight_decay), veps = _mm256_set1_ps(h.eps);
  each8(n, [&](int64_t i, auto tail) {
    constexpr bool kTail = decltype(tail)::value;
    const __m256i mk = kTail ? avx2::v_tail_mask(n - i) : _mm256_setzero_si256();
    const __m256 wv = ld<kTail>(w + i, mk);
    const __m256 gp = _mm256_fmadd_ps(vwd, wv, ld<kTail>(g + i, mk));
    const __m256 sv = _mm256_fmadd_ps(vr, ld<kTail>(sq + i, mk), _mm256_mul_ps(_mm256_mul_ps(vc, gp), gp));
    st<kTail>(sq + i, mk, sv);
    const __m256 av = ld<kTail>(acc + i, mk);
    const __m256 delta = _mm256_mul_ps(
        _mm256_div_ps(_mm256_sqrt_ps(_mm256_add_ps(av, veps)), _mm256_sqrt_ps(_mm256_add_ps(sv, veps))), gp);
    st<kTail>(acc + i, mk, _mm256_fmadd_ps(vr, av, _mm256_mul_ps(_mm256_mul_ps(vc, delta), delta)));
    st<kTail>(w + i, mk, _mm256_fnmadd_ps(vlr, delta, wv));
  });
}

void f32_adamax_step__avx2(int64_t n, float* w, const float* g, float* const* s, const OptimHyper& h) {
  float *m = s[0], *u = s[1];
  const double b1 = h.beta1;
  const __m256 vb1 = _mm256_set1_ps(h.beta1), vc1 = _mm256_set1_ps((float)(1.0 - b1));
  const __m256 vb2 = _mm256_set1_ps(h.beta2), veps = _mm256_set1_ps(h.eps), vwd = _mm256_set1_ps(h.weight_decay);
  const __m256 vclr = _mm256_set1_ps((float)((double)h.lr / (1.0 - std::pow(b1, (double)h.step))));
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  each8(n, [&](int64_t i, auto tail) {
    constexpr bool kTail = decltype(tail)::value;
    const __m256i mk = kTail ? avx2::v_tail_mask(n - i) : _mm256_setzero_si256();
    const __m256 wv = ld<kTail>(w + i, mk);
    const __m256 gp = _mm256_fmadd_ps(vwd, wv, ld<kTail>(g + i, mk));
    const __m256 mv = _mm256_fmadd_ps(vb1, ld<kTail>(m + i, mk), _mm256_mul_ps(vc1, gp));
    st<kTail>(m + i, mk, mv);
    const __m256 uv = nan_max(_mm256_mul_ps(vb2, ld<kTail>(u + i, mk)), _mm256_add_ps(_mm256_and_ps(gp, absmask), veps));
    st<kTail>(u + i, mk, uv);
    st<kTail>(w + i, mk, _mm256_fnmadd_ps(vclr, _mm256_div_ps(mv, uv), wv));
  });
}

}  // namespace fathom
