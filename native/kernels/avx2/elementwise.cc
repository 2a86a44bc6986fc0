// AVX2+FMA element-wise kernels: the semantics are those of
// ref/elementwise.cc (read its header); only the evaluation differs.
//   bitwise equal to ref: neg, relu, sign, abs, square, sqrt, all binary ops,
//                         and the backward of neg, exp, log, relu, sign, abs, square
//   approximated (see vmath_avx2.h for the bounds): exp, log, sigmoid, tanh
//   float instead of double: sqrt/sigmoid/tanh backward (<= 2 ulp)
//   approximated with v_sigmoid: silu (x s(x), <= 5 ulp), geluTanh (x s(2u), 2u in float:
//     the relative error grows with |u|, <= 3e-6 while |y| > 1e-8, absolute 1e-8 below), and their
//     backward (absolute error <= 1e-7 |dy| near the zeros of the derivative)
//   exact select + multiply: leakyRelu forward and backward
//   elu: v_expm1 (Taylor near 0, v_exp - 1 elsewhere: <= 3 ulp), backward p e^x dy
//   gelu: x Phi(x), Phi by a Chebyshev erfc fit (< 1.2e-7) and v_exp; like geluTanh the
//     error of the exp argument (-z^2) grows in the left tail: <= 3e-6 while |y| > 1e-8
//   Every other op (pow, softplus) runs the generated scalar loop of
//   ref/ (unary_ops.h); a vector body is added only where bench/native/unary_bench.cc
//   shows it pays.
// Tails use masked loads/stores, so the last < 8 elements go through the same
// vector code as the rest (results do not depend on where a chunk starts).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "../ref/ref.h"
#include "avx2.h"
#include "vmath_avx2.h"

namespace fathom {
namespace {

using namespace avx2;

template <class F>
static void map1(int64_t n, const float* x, float* y, F f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i m = v_tail_mask(n - i);
    _mm256_maskstore_ps(y + i, m, f(_mm256_maskload_ps(x + i, m)));
  }
}

template <class F>
static void map2(int64_t n, const float* a, const float* b, float* y, F f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  if (i < n) {
    const __m256i m = v_tail_mask(n - i);
    _mm256_maskstore_ps(y + i, m, f(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m)));
  }
}

template <class F>
static void map3(int64_t n, const float* a, const float* b, const float* c, float* y, F f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i),
                              _mm256_loadu_ps(c + i)));
  if (i < n) {
    const __m256i m = v_tail_mask(n - i);
    _mm256_maskstore_ps(y + i, m, f(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m),
                                    _mm256_maskload_ps(c + i, m)));
  }
}

static inline __m256 v_neg(__m256 x) { return _mm256_xor_ps(x, _mm256_set1_ps(-0.0f)); }

// Math.sign: 1 / -1, and x itself for +-0 and NaN.
static inline __m256 v_sign(__m256 x) {
  const __m256 pos = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GT_OQ);
  const __m256 neg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
  const __m256 s = _mm256_or_ps(_mm256_and_ps(pos, _mm256_set1_ps(1.0f)),
                                _mm256_and_ps(neg, _mm256_set1_ps(-1.0f)));
  return _mm256_blendv_ps(x, s, _mm256_or_ps(pos, neg));
}

// 2u of GELU's tanh form: 2 sqrt(2/pi) (x + 0.044715 x^3).
static inline __m256 v_gelu_2u(__m256 x) {
  const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
  return _mm256_mul_ps(_mm256_set1_ps(2.0f * 0.7978845608f), _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
}

// e^x - 1 without cancellation near 0: Taylor to x^9 for |x| < 0.5 (truncation
// < 0.5^10/10! = 3e-10), else v_exp(x) - 1 (|e^x - 1| >= 0.39 there: <= 3 ulp).
static inline __m256 v_expm1(__m256 x) {
  const float c[] = {1.0f / 362880, 1.0f / 40320, 1.0f / 5040, 1.0f / 720, 1.0f / 120,
                     1.0f / 24,     1.0f / 6,     0.5f,         1.0f};
  __m256 p = _mm256_set1_ps(c[0]);
  for (int i = 1; i < 9; ++i) p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(c[i]));
  const __m256 small = _mm256_mul_ps(p, x);
  const __m256 big = _mm256_sub_ps(v_exp(x), _mm256_set1_ps(1.0f));
  return _mm256_blendv_ps(big, small, _mm256_cmp_ps(v_abs(x), _mm256_set1_ps(0.5f), _CMP_LT_OQ));
}

// The normal CDF Phi(x) = erfc(-x/sqrt2) / 2, erfc by the Chebyshev fit of Numerical
// Recipes (erfcc: fractional error < 1.2e-7 for every z >= 0; z < 0 by erfc(z) = 2 - erfc(-z)),
// its exp by v_exp. No cancellation for x << 0 (GELU's left tail).
static inline __m256 v_normal_cdf(__m256 x) {
  const __m256 z = _mm256_mul_ps(x, _mm256_set1_ps(-0.70710678f));
  const __m256 a = v_abs(z);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.5f), a, one));
  const float c[] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                     -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f};
  __m256 p = _mm256_set1_ps(c[0]);
  for (int i = 1; i < 10; ++i) p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(c[i]));
  const __m256 e = _mm256_mul_ps(t, v_exp(_mm256_fnmadd_ps(a, a, p)));  // erfc(|z|)
  const __m256 erfc = _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(2.0f), e), e,
                                       _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GE_OQ));
  return _mm256_mul_ps(_mm256_set1_ps(0.5f), erfc);
}

// max/min with NaN propagation, operand order as ref: a > b ? a : b.
static inline __m256 v_max_nan(__m256 a, __m256 b) {
  return _mm256_blendv_ps(_mm256_max_ps(a, b), _mm256_add_ps(a, b),
                          _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
}
static inline __m256 v_min_nan(__m256 a, __m256 b) {
  return _mm256_blendv_ps(_mm256_min_ps(a, b), _mm256_add_ps(a, b),
                          _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
}

// out[i] = a[i*sa] op b[i*sb] with sa, sb in {0, 1}.
template <class F>
static void bin_run(int64_t n, const float* a, int64_t sa, const float* b, int64_t sb, float* out,
                    F f) {
  if (sa == 1 && sb == 1) {
    map2(n, a, b, out, f);
  } else if (sa == 1) {
    const __m256 vb = _mm256_set1_ps(b[0]);
    map1(n, a, out, [&](__m256 x) { return f(x, vb); });
  } else if (sb == 1) {
    const __m256 va = _mm256_set1_ps(a[0]);
    map1(n, b, out, [&](__m256 x) { return f(va, x); });
  } else {
    const float r = _mm256_cvtss_f32(f(_mm256_set1_ps(a[0]), _mm256_set1_ps(b[0])));
    const __m256 vr = _mm256_set1_ps(r);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, vr);
    if (i < n) _mm256_maskstore_ps(out + i, v_tail_mask(n - i), vr);
  }
}

static void bin_dispatch(Binary op, int64_t n, const float* a, int64_t sa, const float* b,
                         int64_t sb, float* out) {
  switch (op) {
    case Binary::Add: bin_run(n, a, sa, b, sb, out, [](__m256 x, __m256 y) { return _mm256_add_ps(x, y); }); break;
    case Binary::Sub: bin_run(n, a, sa, b, sb, out, [](__m256 x, __m256 y) { return _mm256_sub_ps(x, y); }); break;
    case Binary::Mul: bin_run(n, a, sa, b, sb, out, [](__m256 x, __m256 y) { return _mm256_mul_ps(x, y); }); break;
    case Binary::Div: bin_run(n, a, sa, b, sb, out, [](__m256 x, __m256 y) { return _mm256_div_ps(x, y); }); break;
    case Binary::Max: bin_run(n, a, sa, b, sb, out, v_max_nan); break;
    case Binary::Min: bin_run(n, a, sa, b, sb, out, v_min_nan); break;
    case Binary::Eq:
      bin_run(n, a, sa, b, sb, out, [](__m256 x, __m256 y) {
        return _mm256_and_ps(_mm256_cmp_ps(x, y, _CMP_EQ_OQ), _mm256_set1_ps(1.0f));
      });
      break;
    // --- #11 natops --- (ordered predicates: NaN gives 0; Ne unordered: NaN gives 1)
    case Binary::Ne: bin_run(n, a, sa, b, sb, out, [](__m256 x, __m256 y) { return _mm256_and_ps(_mm256_cmp_ps(x, y, _CMP_NEQ_UQ), _mm256_set1_ps(1.0f)); }); break;
    case Binary::Lt: bin_run(n, a, sa, b, sb, out, [](__m256 x, __m256 y) { return _mm256_and_ps(_mm256_cmp_ps(x, y, _CMP_LT_OQ), _mm256_set1_ps(1.0f)); }); break;
    case Binary::Le: bin_run(n, a, sa, b, sb, out, [](__m256 x, __m256 y) { return _mm256_and_ps(_mm256_cmp_ps(x, y, _CMP_LE_OQ), _mm256_set1_ps(1.0f)); }); break;
    case Binary::Gt: bin_run(n, a, sa, b, sb, out, [](__m256 x, __m256 y) { return _mm256_and_ps(_mm256_cmp_ps(x, y, _CMP_GT_OQ), _mm256_set1_ps(1.0f)); }); break;
    case Binary::Ge: bin_run(n, a, sa, b, sb, out, [](__m256 x, __m256 y) { return _mm256_and_ps(_mm256_cmp_ps(x, y, _CMP_GE_OQ), _mm256_set1_ps(1.0f)); }); break;
    // --- end #11 natops ---
    default: break;
  }
}

}  // namespace

void f32_unary__avx2(Unary op, int64_t n, const float* x, float* y, float p, float q) {
  switch (op) {
    case Unary::Neg: map1(n, x, y, v_neg); break;
    case Unary::Exp: map1(n, x, y, v_exp); break;
    case Unary::Log: map1(n, x, y, v_log); break;
    case Unary::Sqrt: map1(n, x, y, [](__m256 v) { return _mm256_sqrt_ps(v); }); break;
    case Unary::Relu:
      map1(n, x, y, [](__m256 v) { return _mm256_max_ps(_mm256_setzero_ps(), v); });
      break;
    case Unary::Sigmoid: map1(n, x, y, v_sigmoid); break;
    case Unary::Tanh: map1(n, x, y, v_tanh); break;
    case Unary::Sign: map1(n, x, y, v_sign); break;
    case Unary::Abs: map1(n, x, y, v_abs); break;
    case Unary::Square: map1(n, x, y, [](__m256 v) { return _mm256_mul_ps(v, v); }); break;
    case Unary::LeakyRelu: {
      const __m256 vp = _mm256_set1_ps(p);
      map1(n, x, y, [&](__m256 v) {
        return _mm256_blendv_ps(_mm256_mul_ps(v, vp), v, _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ));
      });
      break;
    }
    case Unary::Silu: map1(n, x, y, [](__m256 v) { return _mm256_mul_ps(v, v_sigmoid(v)); }); break;
    case Unary::Gelu: map1(n, x, y, [](__m256 v) { return _mm256_mul_ps(v, v_normal_cdf(v)); }); break;
    case Unary::Elu: {  // x <= 0 ? p expm1(x) : x (NaN: x)
      const __m256 vp = _mm256_set1_ps(p);
      map1(n, x, y, [&](__m256 v) {
        return _mm256_blendv_ps(v, _mm256_mul_ps(vp, v_expm1(v)), _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LE_OQ));
      });
      break;
    }
    case Unary::GeluTanh: map1(n, x, y, [](__m256 v) { return _mm256_mul_ps(v, v_sigmoid(v_gelu_2u(v))); }); break;
    default: f32_unary__ref(op, n, x, y, p, q);  // no vector body: the generated scalar loop
  }
}

void f32_unary_bwd__avx2(Unary op, int64_t n, const float* x, const float* y, const float* dy,
                         float* dx, float p, float q) {
  const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  switch (op) {
    case Unary::Neg: map1(n, dy, dx, v_neg); break;
    case Unary::Exp: map2(n, y, dy, dx, [](__m256 yv, __m256 g) { return _mm256_mul_ps(g, yv); }); break;
    case Unary::Log: map2(n, x, dy, dx, [](__m256 xv, __m256 g) { return _mm256_div_ps(g, xv); }); break;
    case Unary::Sqrt:
      map2(n, x, dy, dx, [](__m256 xv, __m256 g) {
        return _mm256_div_ps(_mm256_mul_ps(g, _mm256_set1_ps(0.5f)), _mm256_sqrt_ps(xv));
      });
      break;
    case Unary::Relu:
      map2(n, x, dy, dx, [&](__m256 xv, __m256 g) {
        return _mm256_and_ps(_mm256_cmp_ps(xv, zero, _CMP_GT_OQ), g);
      });
      break;
    case Unary::Sigmoid:
      map2(n, y, dy, dx, [&](__m256 s, __m256 g) {
        return _mm256_mul_ps(_mm256_mul_ps(g, s), _mm256_sub_ps(one, s));
      });
      break;
    case Unary::Tanh:
      map2(n, y, dy, dx, [&](__m256 t, __m256 g) {
        return _mm256_mul_ps(g, _mm256_fnmadd_ps(t, t, one));
      });
      break;
    case Unary::Sign: map1(n, dy, dx, [&](__m256) { return zero; }); break;
    case Unary::Abs:
      map2(n, x, dy, dx, [](__m256 xv, __m256 g) { return _mm256_mul_ps(g, v_sign(xv)); });
      break;
    case Unary::LeakyRelu: {
      const __m256 vp = _mm256_set1_ps(p);
      map2(n, x, dy, dx, [&](__m256 xv, __m256 g) {
        return _mm256_blendv_ps(_mm256_mul_ps(g, vp), g, _mm256_cmp_ps(xv, zero, _CMP_GT_OQ));
      });
      break;
    }
    case Unary::Elu: {  // x <= 0 ? dy p e^x : dy
      const __m256 vp = _mm256_set1_ps(p);
      map2(n, x, dy, dx, [&](__m256 xv, __m256 g) {
        return _mm256_blendv_ps(g, _mm256_mul_ps(_mm256_mul_ps(g, vp), v_exp(xv)), _mm256_cmp_ps(xv, zero, _CMP_LE_OQ));
      });
      break;
    }
    case Unary::Gelu:  // dy (Phi(x) + x phi(x)), phi(x) = e^(-x^2/2) / sqrt(2 pi)
      map2(n, x, dy, dx, [&](__m256 xv, __m256 g) {
        const __m256 phi = _mm256_mul_ps(_mm256_set1_ps(0.39894228f),
                                         v_exp(_mm256_mul_ps(_mm256_set1_ps(-0.5f), _mm256_mul_ps(xv, xv))));
        return _mm256_mul_ps(g, _mm256_fmadd_ps(xv, phi, v_normal_cdf(xv)));
      });
      break;
    case Unary::Silu:  // dy s (1 + x (1 - s))
      map2(n, x, dy, dx, [&](__m256 xv, __m256 g) {
        const __m256 s = v_sigmoid(xv);
        return _mm256_mul_ps(_mm256_mul_ps(g, s), _mm256_fmadd_ps(xv, _mm256_sub_ps(one, s), one));
      });
      break;
    case Unary::GeluTanh:  // dy (s + 2 x s (1 - s) k (1 + 3 c x^2)), s = sigmoid(2u)
      map2(n, x, dy, dx, [&](__m256 xv, __m256 g) {
        const __m256 s = v_sigmoid(v_gelu_2u(xv));
        const __m256 du = _mm256_fmadd_ps(_mm256_mul_ps(xv, xv), _mm256_set1_ps(2.0f * 0.7978845608f * 3.0f * 0.044715f),
                                          _mm256_set1_ps(2.0f * 0.7978845608f));  // 2u'
        const __m256 ss = _mm256_mul_ps(s, _mm256_sub_ps(one, s));
        const __m256 t = _mm256_mul_ps(_mm256_mul_ps(xv, ss), du);  // 0 where ss == 0 (as ref)
        return _mm256_mul_ps(g, _mm256_add_ps(s, _mm256_andnot_ps(_mm256_cmp_ps(ss, zero, _CMP_EQ_OQ), t)));
      });
      break;
    default: f32_unary_bwd__ref(op, n, x, y, dy, dx, p, q);  // no vector body: the generated scalar loop
  }
}

void f32_binary__avx2(Binary op, int64_t n, const float* a, const float* b, float* out) {
  if ((int)op < 0 || op >= Binary::Count) return f32_binary__ref(op, n, a, b, out);
  bin_dispatch(op, n, a, 1, b, 1, out);
}

void f32_binary_bcast__avx2(Binary op, int ndim, const int64_t* shape, const float* a,
                            const int64_t* astride, const float* b, const int64_t* bstride,
                            float* out) {
  int64_t sh[kMaxDims], as[kMaxDims], bs[kMaxDims];
  const int nd = collapse_bcast_dims(ndim, shape, astride, bstride, sh, as, bs);
  if (nd < 0) return;  // empty
  const int last = nd - 1;
  // Fast paths: the innermost run reads a and b with strides 0 or 1
  // (same shape, row broadcast of a vector over the last axis, scalar).
  if (nd == 0 || (int)op < 0 || op >= Binary::Count || (as[last] != 0 && as[last] != 1) ||
      (bs[last] != 0 && bs[last] != 1) || sh[last] < 4) {
    return f32_binary_bcast__ref(op, ndim, shape, a, astride, b, bstride, out);
  }
  bcast_rows(op, nd, sh, as, bs, a, b, out, bin_dispatch);
}

}  // namespace fathom
