// AVX2 reductions: the semantics of ref/reduce.cc (double accumulation for
// Sum/Mean, NaN-propagating Max), with two fast paths after collapsing
// adjacent dims and dropping size-1 dims:
//   rows:    x is R x C, C reduced, out[r * os]  (sum over the last axis)
//   columns: x is R x C, R reduced, out[c * os]  (sum over the first axis)
// Everything else, empty inputs included, goes to the reference.
// Sums may differ from ref in the last bit of the double accumulator (the
// order of the additions differs), i.e. results agree to ~1e-7 relative to
// sum |x| after rounding to float; Max is bitwise equal.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "../ref/ref.h"
#include "avx2.h"
#include "vmath_avx2.h"

namespace fathom {
namespace {

using namespace avx2;

static double row_sum(int64_t C, const float* x) {
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int64_t c = 0;
  for (; c + 16 <= C; c += 16) {
    v_acc_pd(_mm256_loadu_ps(x + c), &a0, &a1);
    v_acc_pd(_mm256_loadu_ps(x + c + 8), &a2, &a3);
  }
  for (; c < C; c += 8) {
    const __m256i m = v_tail_mask(C - c);
    v_acc_pd(_mm256_maskload_ps(x + c, m), &a0, &a1);
  }
  return v_hsum_pd(_mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
}

static float row_max(int64_t C, const float* x) {
  const __m256 ninf = _mm256_set1_ps(-__builtin_inff());
  __m256 m0 = ninf, m1 = ninf, nan = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= C; c += 16) {
    const __m256 v0 = _mm256_loadu_ps(x + c), v1 = _mm256_loadu_ps(x + c + 8);
    m0 = _mm256_max_ps(v0, m0);
    m1 = _mm256_max_ps(v1, m1);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v0, v1, _CMP_UNORD_Q));
  }
  for (; c < C; c += 8) {
    const __m256i m = v_tail_mask(C - c);
    const __m256 v = _mm256_blendv_ps(ninf, _mm256_maskload_ps(x + c, m), _mm256_castsi256_ps(m));
    m0 = _mm256_max_ps(v, m0);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  if (_mm256_movemask_ps(nan)) return __builtin_nanf("");
  return v_hmax_ps(_mm256_max_ps(m0, m1));
}

// out[c * os] = reduction of column c of the R x C matrix x.
static void col_reduce(Reduce op, int64_t R, int64_t C, const float* x, int64_t os, float* out,
                       double count) {
  int64_t c0 = 0;
  if (op == Reduce::Max) {
    const __m256 ninf = _mm256_set1_ps(-__builtin_inff());
    for (; c0 < C; c0 += 32) {
      const int64_t w = C - c0 < 32 ? C - c0 : 32;
      __m256 m[4] = {ninf, ninf, ninf, ninf};
      __m256 nan[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                       _mm256_setzero_ps()};
      __m256i mask[4];
      for (int j = 0; j < 4; ++j) mask[j] = v_tail_mask(w - 8 * j);
      const int nb = (int)((w + 7) / 8);
      for (int64_t r = 0; r < R; ++r) {
        const float* xr = x + r * C + c0;
        for (int j = 0; j < nb; ++j) {
          const __m256 v = _mm256_blendv_ps(ninf, _mm256_maskload_ps(xr + 8 * j, mask[j]),
                                            _mm256_castsi256_ps(mask[j]));
          m[j] = _mm256_max_ps(v, m[j]);
          nan[j] = _mm256_or_ps(nan[j], _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        }
      }
      for (int j = 0; j < nb; ++j) {
        float mv[8];
        _mm256_storeu_ps(mv, _mm256_blendv_ps(m[j], _mm256_set1_ps(__builtin_nanf("")), nan[j]));
        for (int k = 0; k < 8 && 8 * j + k < w; ++k) out[(c0 + 8 * j + k) * os] = mv[k];
      }
    }
    return;
  }
  for (; c0 < C; c0 += 32) {
    const int64_t w = C - c0 < 32 ? C - c0 : 32;
    __m256d acc[8];
    for (int j = 0; j < 8; ++j) acc[j] = _mm256_setzero_pd();
    if (w == 32) {
      for (int64_t r = 0; r < R; ++r) {
        const float* xr = x + r * C + c0;
        v_acc_pd(_mm256_loadu_ps(xr), &acc[0], &acc[1]);
        v_acc_pd(_mm256_loadu_ps(xr + 8), &acc[2], &acc[3]);
        v_acc_pd(_mm256_loadu_ps(xr + 16), &acc[4], &acc[5]);
        v_acc_pd(_mm256_loadu_ps(xr + 24), &acc[6], &acc[7]);
      }
    } else {
      __m256i mask[4];
      for (int j = 0; j < 4; ++j) mask[j] = v_tail_mask(w - 8 * j);
      const int nb = (int)((w + 7) / 8);
      for (int64_t r = 0; r < R; ++r) {
        const float* xr = x + r * C + c0;
        for (int j = 0; j < nb; ++j)
          v_acc_pd(_mm256_maskload_ps(xr + 8 * j, mask[j]), &acc[2 * j], &acc[2 * j + 1]);
      }
    }
    double s[32];
    for (int j = 0; j < 8; ++j) _mm256_storeu_pd(s + 4 * j, acc[j]);
    for (int64_t k = 0; k < w; ++k)
      out[(c0 + k) * os] = op == Reduce::Mean ? (float)(s[k] / count) : (float)s[k];
  }
}

}  // namespace

void f32_reduce__avx2(Reduce op, int ndim, const int64_t* shape, const float* x,
                      const int64_t* ostride, float* out, int64_t out_n) {
  int64_t in_n = 1;
  for (int d = 0; d < ndim; ++d) in_n *= shape[d];
  // Collapse (x is contiguous, so only ostride decides what merges).
  int64_t sh[kMaxDims], os[kMaxDims];
  int nd = 0;
  for (int d = 0; d < ndim && in_n > 0; ++d) {
    if (shape[d] == 1) continue;
    if (nd > 0 && os[nd - 1] == ostride[d] * shape[d]) {
      sh[nd - 1] *= shape[d];
      os[nd - 1] = ostride[d];
      continue;
    }
    sh[nd] = shape[d];
    os[nd] = ostride[d];
    ++nd;
  }
  if (in_n == 0 || out_n <= 0 || (int)op < 0 || op >= Reduce::Count || nd == 0 || nd > 2)
    return f32_reduce__ref(op, ndim, shape, x, ostride, out, out_n);
  int64_t R, C;
  bool rows;
  if (nd == 1) {
    if (os[0] != 0) return f32_reduce__ref(op, ndim, shape, x, ostride, out, out_n);
    R = 1, C = sh[0], rows = true;
  } else if (os[0] != 0 && os[1] == 0) {
    R = sh[0], C = sh[1], rows = true;
  } else if (os[0] == 0 && os[1] != 0) {
    R = sh[0], C = sh[1], rows = false;
  } else {
    return f32_reduce__ref(op, ndim, shape, x, ostride, out, out_n);
  }
  const int64_t kept = rows ? R : C;
  if (kept != out_n) return f32_reduce__ref(op, ndim, shape, x, ostride, out, out_n);
  const double count = (double)in_n / (double)out_n;
  if (rows) {
    const int64_t o = nd == 1 ? 0 : os[0];
    for (int64_t r = 0; r < R; ++r) {
      const float* xr = x + r * C;
      float v;
      if (op == Reduce::Max) {
        v = row_max(C, xr);
      } else {
        const double s = row_sum(C, xr);
        v = op == Reduce::Mean ? (float)(s / count) : (float)s;
      }
      out[r * o] = v;
    }
  } else {
    col_reduce(op, R, C, x, os[1], out, count);
  }
}

}  // namespace fathom
