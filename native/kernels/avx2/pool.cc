// AVX2 max pooling, the CNN's common case: 2×2 windows, stride 2, no padding,
// no dilation (any other geometry goes to ref/pool.cc). Per output row, 8
// outputs at a time (then 4, then one): the two input rows are loaded as 16
// (8) floats each and split into even/odd columns, then the four window cells are met in
// row-major order with ref/pool.cc's select (v replaces best when v > best
// or v is NaN: PyTorch's rule, the last NaN wins), so values and winners are bitwise the
// reference's. The backward writes dy to the winner (windows do not overlap)
// and 0 to the rest; the last row/column an odd H/W leaves out is zeroed.
#include <immintrin.h>

#include <cstdint>
#include <algorithm>
#include <climits>
#include <cstring>
#include <limits>

#include "../ref/ref.h"
#include "avx2.h"

namespace fathom {
namespace {

inline bool is_2x2s2(const Pool2d& g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && g.dh == 1 && g.dw == 1 &&
         g.oh == g.h / 2 && g.ow == g.w / 2;
}

// Even and odd columns of 16 consecutive floats at p, in order.
inline void split16(const float* p, __m256* even, __m256* odd) {
  const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
  *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
  *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
}

inline __m256 take(__m256 v, __m256 best) {
  return _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}

// The same, 4 outputs wide (8 input columns): the tail after the 8-wide loop,
// and the whole row when the output is 4 to 7 wide (LeNet's second pool, 8x8 -> 4x4).
inline void split8(const float* p, __m128* even, __m128* odd) {
  const __m128 a = _mm_loadu_ps(p), b = _mm_loadu_ps(p + 4);
  *even = _mm_shuffle_ps(a, b, 0x88);
  *odd = _mm_shuffle_ps(a, b, 0xDD);
}
inline __m128 take4(__m128 v, __m128 best) {
  return _mm_or_ps(_mm_cmp_ps(v, best, _CMP_GT_OQ), _mm_cmp_ps(v, v, _CMP_UNORD_Q));
}

// Scalar winner (0..3, row-major) of the window at r0 (row) / r1 (next row), columns c, c+1.
inline int win1(const float* r0, const float* r1, int64_t c, float* best_out) {
  const float v[4] = {r0[c], r0[c + 1], r1[c], r1[c + 1]};
  int bi = 0;
  float best = v[0];
  for (int k = 1; k < 4; ++k) {
    const bool t = (v[k] > best) | (v[k] != v[k]);
    best = t ? v[k] : best;
    bi = t ? k : bi;
  }
  *best_out = best;
  return bi;
}


// ---- any other max-pool geometry (kernel, stride, padding, dilation, ceilMode) ----
// Per output row, 8 outputs at a time over the columns whose windows lie wholly inside
// the row (no padding, no overhang; the row's last block overlaps the one before it):
// the window's cells are met in ref/pool.cc's
// row-major order with its select, the winner's flat in-plane index carried beside the
// value, so values and winners are bitwise the reference's. Stride 1 loads 8 consecutive
// floats per cell, other strides gather them. The edge columns and rows whose window
// clips take the scalar path, the reference's loop. Backward: dx = 0, then dy added at
// the winners in the reference's output order (overlapping windows add in the same order).
inline void taps1(int64_t s, int64_t d, int64_t k, int64_t n, int64_t* lo, int64_t* hi) {
  *lo = s < 0 ? (-s + d - 1) / d : 0;
  *hi = s < n ? std::min(k, (n - s + d - 1) / d) : 0;
}

int64_t winner1(const Pool2d& g, const float* xp, int64_t h0, int64_t a0, int64_t a1, int64_t j) {
  const int64_t w0 = j * g.sw - g.pw;
  int64_t b0, b1;
  taps1(w0, g.dw, g.kw, g.w, &b0, &b1);
  if (a0 >= a1 || b0 >= b1) return -1;
  int64_t bi = (h0 + a0 * g.dh) * g.w + w0 + b0 * g.dw;
  float best = xp[bi];
  for (int64_t a = a0; a < a1; ++a) {
    const int64_t r = (h0 + a * g.dh) * g.w + w0;
    for (int64_t b = b0; b < b1; ++b) {
      const float v = xp[r + b * g.dw];
      const bool t = (v > best) | (v != v);
      best = t ? v : best;
      bi = t ? r + b * g.dw : bi;
    }
  }
  return bi;
}

// Winners (values, flat indices) of outputs j .. j+7 of a row, all 8 windows inside the row.
inline void winners8(const Pool2d& g, const float* xp, int64_t h0, int64_t a0, int64_t a1, int64_t j, __m256i lane,
                     __m256* best_out, __m256i* idx_out) {
  const int64_t w0 = j * g.sw - g.pw;
  __m256 best = _mm256_setzero_ps();
  __m256i bi = _mm256_setzero_si256();
  bool first = true;
  for (int64_t a = a0; a < a1; ++a) {
    const int64_t r = (h0 + a * g.dh) * g.w + w0;
    for (int64_t b = 0; b < g.kw; ++b) {
      const int64_t off = r + b * g.dw;
      const __m256 v = g.sw == 1 ? _mm256_loadu_ps(xp + off) : _mm256_i32gather_ps(xp + off, lane, 4);
      const __m256i vi = _mm256_add_epi32(_mm256_set1_epi32((int32_t)off), lane);
      if (first) {  // the reference starts from the first cell (meeting it again changes nothing)
        best = v, bi = vi, first = false;
        continue;
      }
      const __m256 t = take(v, best);
      best = _mm256_blendv_ps(best, v, t);
      bi = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bi), _mm256_castsi256_ps(vi), t));
    }
  }
  *best_out = best;
  *idx_out = bi;
}

// Output columns [*jlo, *jhi) whose windows lie inside the row.
inline void inner_cols(const Pool2d& g, int64_t* jlo, int64_t* jhi) {
  const int64_t span = (g.kw - 1) * g.dw;
  *jlo = std::min(g.ow, (g.pw + g.sw - 1) / g.sw);
  const int64_t last = g.w - 1 - span + g.pw;  // j*sw <= last
  *jhi = last < 0 ? *jlo : std::max(*jlo, std::min(g.ow, last / g.sw + 1));
}

inline bool generic_ok(const Pool2d& g) { return g.h * g.w <= INT32_MAX && g.sw * 8 <= INT32_MAX; }


void max_pool2d_generic(const Pool2d& g, const float* x, float* y) {
  if (!generic_ok(g)) return f32_max_pool2d__ref(g, x, y);
  const float ninf = -std::numeric_limits<float>::infinity();
  const __m256i lane = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int32_t)g.sw));
  int64_t jlo, jhi;
  inner_cols(g, &jlo, &jhi);
  for (int64_t p = 0; p < g.nc; ++p) {
    const float* xp = x + p * g.h * g.w;
    float* yp = y + p * g.oh * g.ow;
    for (int64_t i = 0; i < g.oh; ++i) {
      const int64_t h0 = i * g.sh - g.ph;
      int64_t a0, a1;
      taps1(h0, g.dh, g.kh, g.h, &a0, &a1);
      float* yr = yp + i * g.ow;
      int64_t j = 0;
      for (; j < g.ow; ++j) {
        if (j >= jlo && j < jhi && jhi - jlo >= 8 && a0 < a1) {
          // the last block of the row ends at jhi, overlapping the one before: same values
          const int64_t j0 = std::min(j, jhi - 8);
          __m256 best;
          __m256i bi;
          winners8(g, xp, h0, a0, a1, j0, lane, &best, &bi);
          _mm256_storeu_ps(yr + j0, best);
          j = j0 + 7;
          continue;
        }
        const int64_t w = winner1(g, xp, h0, a0, a1, j);
        yr[j] = w < 0 ? ninf : xp[w];
      }
    }
  }
}

void max_pool2d_bwd_generic(const Pool2d& g, const float* x, const float* dy, float* dx) {
  if (!generic_ok(g)) return f32_max_pool2d_bwd__ref(g, x, dy, dx);
  const __m256i lane = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int32_t)g.sw));
  int64_t jlo, jhi;
  inner_cols(g, &jlo, &jhi);
  alignas(32) int32_t idx[8];
  for (int64_t p = 0; p < g.nc; ++p) {
    const float* xp = x + p * g.h * g.w;
    const float* dyp = dy + p * g.oh * g.ow;
    float* dxp = dx + p * g.h * g.w;
    std::memset(dxp, 0, sizeof(float) * (size_t)(g.h * g.w));
    for (int64_t i = 0; i < g.oh; ++i) {
      const int64_t h0 = i * g.sh - g.ph;
      int64_t a0, a1;
      taps1(h0, g.dh, g.kh, g.h, &a0, &a1);
      const float* dyr = dyp + i * g.ow;
      for (int64_t j = 0; j < g.ow; ++j) {
        if (j >= jlo && j < jhi && jhi - jlo >= 8 && a0 < a1) {
          // the last block ends at jhi; its lanes before j were added by the block before
          const int64_t j0 = std::min(j, jhi - 8);
          __m256 best;
          __m256i bi;
          winners8(g, xp, h0, a0, a1, j0, lane, &best, &bi);
          _mm256_store_si256((__m256i*)idx, bi);
          for (int64_t l = j - j0; l < 8; ++l) dxp[idx[l]] += dyr[j0 + l];  // the reference's order
          j = j0 + 7;
          continue;
        }
        const int64_t w = winner1(g, xp, h0, a0, a1, j);
        if (w >= 0) dxp[w] += dyr[j];
      }
    }
  }
}

}  // namespace

void f32_max_pool2d__avx2(const Pool2d& g, const float* x, float* y) {
  if (!is_2x2s2(g)) return max_pool2d_generic(g, x, y);
  for (int64_t p = 0; p < g.nc; ++p) {
    const float* xp = x + p * g.h * g.w;
    float* yp = y + p * g.oh * g.ow;
    for (int64_t i = 0; i < g.oh; ++i) {
      const float* r0 = xp + 2 * i * g.w;
      const float* r1 = r0 + g.w;
      float* yr = yp + i * g.ow;
      int64_t j = 0;
      for (; j + 8 <= g.ow; j += 8) {
        __m256 e0, o0, e1, o1;
        split16(r0 + 2 * j, &e0, &o0);
        split16(r1 + 2 * j, &e1, &o1);
        __m256 best = e0;
        best = _mm256_blendv_ps(best, o0, take(o0, best));
        best = _mm256_blendv_ps(best, e1, take(e1, best));
        best = _mm256_blendv_ps(best, o1, take(o1, best));
        _mm256_storeu_ps(yr + j, best);
      }
      if (j + 4 <= g.ow) {
        __m128 e0, o0, e1, o1;
        split8(r0 + 2 * j, &e0, &o0);
        split8(r1 + 2 * j, &e1, &o1);
        __m128 best = e0;
        best = _mm_blendv_ps(best, o0, take4(o0, best));
        best = _mm_blendv_ps(best, e1, take4(e1, best));
        best = _mm_blendv_ps(best, o1, take4(o1, best));
        _mm_storeu_ps(yr + j, best);
        j += 4;
      }
      for (; j < g.ow; ++j) win1(r0, r1, 2 * j, yr + j);
    }
  }
}

void f32_max_pool2d_bwd__avx2(const Pool2d& g, const float* x, const float* dy, float* dx) {
  if (!is_2x2s2(g)) return max_pool2d_bwd_generic(g, x, dy, dx);
  const __m256 one = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  for (int64_t p = 0; p < g.nc; ++p) {
    const float* xp = x + p * g.h * g.w;
    const float* dyp = dy + p * g.oh * g.ow;
    float* dxp = dx + p * g.h * g.w;
    if (g.h % 2 || g.w % 2) std::memset(dxp, 0, sizeof(float) * (size_t)(g.h * g.w));
    for (int64_t i = 0; i < g.oh; ++i) {
      const float* r0 = xp + 2 * i * g.w;
      const float* r1 = r0 + g.w;
      float* d0 = dxp + 2 * i * g.w;
      float* d1 = d0 + g.w;
      const float* dyr = dyp + i * g.ow;
      int64_t j = 0;
      for (; j + 8 <= g.ow; j += 8) {
        __m256 e0, o0, e1, o1;
        split16(r0 + 2 * j, &e0, &o0);
        split16(r1 + 2 * j, &e1, &o1);
        // w_k: lanes where cell k is the winner so far (one-hot at the end)
        __m256 best = e0, w0 = one, w1 = _mm256_setzero_ps(), w2 = w1, w3 = w1;
        __m256 t = take(o0, best);
        best = _mm256_blendv_ps(best, o0, t);
        w0 = _mm256_andnot_ps(t, w0);
        w1 = t;
        t = take(e1, best);
        best = _mm256_blendv_ps(best, e1, t);
        w0 = _mm256_andnot_ps(t, w0);
        w1 = _mm256_andnot_ps(t, w1);
        w2 = t;
        t = take(o1, best);
        w0 = _mm256_andnot_ps(t, w0);
        w1 = _mm256_andnot_ps(t, w1);
        w2 = _mm256_andnot_ps(t, w2);
        w3 = t;
        const __m256 d = _mm256_loadu_ps(dyr + j);
        const __m256 a0 = _mm256_and_ps(w0, d), b0 = _mm256_and_ps(w1, d);
        const __m256 a1 = _mm256_and_ps(w2, d), b1 = _mm256_and_ps(w3, d);
        __m256 lo = _mm256_unpacklo_ps(a0, b0), hi = _mm256_unpackhi_ps(a0, b0);
        _mm256_storeu_ps(d0 + 2 * j, _mm256_permute2f128_ps(lo, hi, 0x20));
        _mm256_storeu_ps(d0 + 2 * j + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
        lo = _mm256_unpacklo_ps(a1, b1);
        hi = _mm256_unpackhi_ps(a1, b1);
        _mm256_storeu_ps(d1 + 2 * j, _mm256_permute2f128_ps(lo, hi, 0x20));
        _mm256_storeu_ps(d1 + 2 * j + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
      }
      if (j + 4 <= g.ow) {
        const __m128 one4 = _mm_castsi128_ps(_mm_set1_epi32(-1));
        __m128 e0, o0, e1, o1;
        split8(r0 + 2 * j, &e0, &o0);
        split8(r1 + 2 * j, &e1, &o1);
        __m128 best = e0, w0 = one4, w1 = _mm_setzero_ps(), w2 = w1, w3 = w1;
        __m128 t = take4(o0, best);
        best = _mm_blendv_ps(best, o0, t);
        w0 = _mm_andnot_ps(t, w0);
        w1 = t;
        t = take4(e1, best);
        best = _mm_blendv_ps(best, e1, t);
        w0 = _mm_andnot_ps(t, w0);
        w1 = _mm_andnot_ps(t, w1);
        w2 = t;
        t = take4(o1, best);
        w0 = _mm_andnot_ps(t, w0);
        w1 = _mm_andnot_ps(t, w1);
        w2 = _mm_andnot_ps(t, w2);
        w3 = t;
        const __m128 d = _mm_loadu_ps(dyr + j);
        const __m128 a0 = _mm_and_ps(w0, d), b0 = _mm_and_ps(w1, d);
        const __m128 a1 = _mm_and_ps(w2, d), b1 = _mm_and_ps(w3, d);
        _mm_storeu_ps(d0 + 2 * j, _mm_unpacklo_ps(a0, b0));
        _mm_storeu_ps(d0 + 2 * j + 4, _mm_unpackhi_ps(a0, b0));
        _mm_storeu_ps(d1 + 2 * j, _mm_unpacklo_ps(a1, b1));
        _mm_storeu_ps(d1 + 2 * j + 4, _mm_unpackhi_ps(a1, b1));
        j += 4;
      }
      for (; j < g.ow; ++j) {
        float best;
        const int w = win1(r0, r1, 2 * j, &best);
        const float v = dyr[j];
        d0[2 * j] = w == 0 ? v : 0.0f;
        d0[2 * j + 1] = w == 1 ? v : 0.0f;
        d1[2 * j] = w == 2 ? v : 0.0f;
        d1[2 * j + 1] = w == 3 ? v : 0.0f;
      }
    }
  }
}

// Average pool, same 2×2 stride-2 unpadded geometry: the sum in ref/pool.cc's
// order (0 + cell 0 + cell 1 + cell 2 + cell 3, so -0 sums as there) divided
// by the divisor (4, or divisorOverride): bitwise the reference.
void f32_avg_pool2d__avx2(const Pool2d& g, bool cip, int64_t divisor, const float* x, float* y) {
  if (!is_2x2s2(g)) return f32_avg_pool2d__ref(g, cip, divisor, x, y);
  const float d = divisor > 0 ? (float)divisor : 4.0f;
  const __m256 vd = _mm256_set1_ps(d), zero = _mm256_setzero_ps();
  for (int64_t p = 0; p < g.nc; ++p) {
    const float* xp = x + p * g.h * g.w;
    float* yp = y + p * g.oh * g.ow;
    for (int64_t i = 0; i < g.oh; ++i) {
      const float* r0 = xp + 2 * i * g.w;
      const float* r1 = r0 + g.w;
      float* yr = yp + i * g.ow;
      int64_t j = 0;
      for (; j + 8 <= g.ow; j += 8) {
        __m256 e0, o0, e1, o1;
        split16(r0 + 2 * j, &e0, &o0);
        split16(r1 + 2 * j, &e1, &o1);
        const __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(_mm256_add_ps(zero, e0), o0), e1), o1);
        _mm256_storeu_ps(yr + j, _mm256_div_ps(s, vd));
      }
      for (; j < g.ow; ++j) {
        float s = 0.0f;
        s += r0[2 * j];
        s += r0[2 * j + 1];
        s += r1[2 * j];
        s += r1[2 * j + 1];
        yr[j] = s / d;
      }
    }
  }
}

void f32_avg_pool2d_bwd__avx2(const Pool2d& g, bool cip, int64_t divisor, const float* dy, float* dx) {
  if (!is_2x2s2(g)) return f32_avg_pool2d_bwd__ref(g, cip, divisor, dy, dx);
  const float d = divisor > 0 ? (float)divisor : 4.0f;
  const __m256 vd = _mm256_set1_ps(d), zero = _mm256_setzero_ps();
  for (int64_t p = 0; p < g.nc; ++p) {
    const float* dyp = dy + p * g.oh * g.ow;
    float* dxp = dx + p * g.h * g.w;
    if (g.h % 2 || g.w % 2) std::memset(dxp, 0, sizeof(float) * (size_t)(g.h * g.w));
    for (int64_t i = 0; i < g.oh; ++i) {
      float* d0 = dxp + 2 * i * g.w;
      float* d1 = d0 + g.w;
      const float* dyr = dyp + i * g.ow;
      int64_t j = 0;
      for (; j + 8 <= g.ow; j += 8) {
        // 0 + dy/d: the reference accumulates into zeros (-0 becomes +0 there too)
        const __m256 v = _mm256_add_ps(zero, _mm256_div_ps(_mm256_loadu_ps(dyr + j), vd));
        const __m256 lo = _mm256_unpacklo_ps(v, v), hi = _mm256_unpackhi_ps(v, v);
        const __m256 a = _mm256_permute2f128_ps(lo, hi, 0x20), b = _mm256_permute2f128_ps(lo, hi, 0x31);
        _mm256_storeu_ps(d0 + 2 * j, a);
        _mm256_storeu_ps(d0 + 2 * j + 8, b);
        _mm256_storeu_ps(d1 + 2 * j, a);
        _mm256_storeu_ps(d1 + 2 * j + 8, b);
      }
      for (; j < g.ow; ++j) {
        const float v = 0.0f + dyr[j] / d;
        d0[2 * j] = v;
        d0[2 * j + 1] = v;
        d1[2 * j] = v;
        d1[2 * j + 1] = v;
      }
    }
  }
}

// Adaptive average pooling to 1x1 (global average pooling, the head of most CNNs): one
// window per plane, the whole contiguous plane. The sum runs over 32 float lanes (4
// accumulators) folded in a fixed order, so it rounds differently from the reference's
// row-major running sum: equal to rounding, not bitwise (test_pool.cc). The backward
// spreads 0 + dy / count over the plane, bitwise the reference (-0 becomes +0 there too).
// Other output sizes go to the reference.
void f32_adaptive_avg_pool2d__avx2(const Pool2d& g, const float* x, float* y) {
  if (g.oh != 1 || g.ow != 1) return f32_adaptive_avg_pool2d__ref(g, x, y);
  const int64_t n = g.h * g.w;
  const float cnt = (float)n;
  for (int64_t p = 0; p < g.nc; ++p) {
    const float* xp = x + p * n;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
      a0 = _mm256_add_ps(a0, _mm256_loadu_ps(xp + i));
      a1 = _mm256_add_ps(a1, _mm256_loadu_ps(xp + i + 8));
      a2 = _mm256_add_ps(a2, _mm256_loadu_ps(xp + i + 16));
      a3 = _mm256_add_ps(a3, _mm256_loadu_ps(xp + i + 24));
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_add_ps(a0, _mm256_loadu_ps(xp + i));
    const __m256 a = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    float s = _mm_cvtss_f32(h);
    for (; i < n; ++i) s += xp[i];
    y[p] = s / cnt;
  }
}

void f32_adaptive_avg_pool2d_bwd__avx2(const Pool2d& g, const float* dy, float* dx) {
  if (g.oh != 1 || g.ow != 1) return f32_adaptive_avg_pool2d_bwd__ref(g, dy, dx);
  const int64_t n = g.h * g.w;
  const float cnt = (float)n;
  for (int64_t p = 0; p < g.nc; ++p) {
    const float d = 0.0f + dy[p] / cnt;
    const __m256 v = _mm256_set1_ps(d);
    float* q = dx + p * n;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(q + i, v);
    for (; i < n; ++i) q[i] = d;
  }
}

}  // namespace fathom
