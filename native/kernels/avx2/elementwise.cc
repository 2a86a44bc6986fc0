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
//   Every other op (pow, elu, gelu, softplus) runs the generated scalar loop of
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
