// Pooling reference kernels (twin: lib/backend/ts/kernels/pool.ts).
//
// Layout: x holds g.nc planes of g.h x g.w (NCHW with N*C planes), y holds
// g.nc planes of g.oh x g.ow. Output cell (i, j) of a max/avg pool covers
// rows i*sh - ph + a*dh (a < kh) and columns j*sw - pw + b*dw (b < kw);
// cells outside the input (padding, or a ceil-mode overhang) are skipped.
//   max_pool2d       y = max over the window's input cells; the winner is the
//                    FIRST maximal cell in row-major window order; NaN counts
//                    as the maximum and the LAST NaN of a window wins, exactly
//                    PyTorch's CPU rule (val > max || isnan(val)).
//                    A window with no input cell (only possible with dilation)
//                    gives -inf and passes no gradient (PyTorch: -inf too).
//   max_pool2d_bwd   dx = 0, then dx[winner] += dy (recomputed from x: no index
//                    buffer is kept between the passes). Written.
//   avg_pool2d       y = sum / d, d = divisor when divisor > 0, else the
//                    window's cell count clipped to the padded input
//                    (count_include_pad) or to the input (PyTorch's rule).
//   avg_pool2d_bwd   dx = 0, then every input cell of the window += dy / d.
//   adaptive_avg     window rows [floor(i*H/oh), ceil((i+1)*H/oh)), same for
//                    columns; y = mean. Backward spreads dy / count. Written.
#include "ref.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace fathom {
namespace {
// Taps a in [lo, hi) of a window starting at s with step d and k taps that land
// inside [0, n): the loops never walk over padding, so no size makes them spin.
inline void taps(int64_t s, int64_t d, int64_t k, int64_t n, int64_t* lo, int64_t* hi) {
  *lo = s < 0 ? (-s + d - 1) / d : 0;
  *hi = s < n ? std::min(k, (n - s + d - 1) / d) : 0;
}
}  // namespace

// Column taps [lo, hi) of every output column, computed once per call.
static std::vector<int64_t> col_taps(const Pool2d& g) {
  std::vector<int64_t> t((size_t)(2 * g.ow));
  for (int64_t j = 0; j < g.ow; ++j) taps(j * g.sw - g.pw, g.dw, g.kw, g.w, &t[(size_t)(2 * j)], &t[(size_t)(2 * j + 1)]);
  return t;
}

// Flat in-plane index of the winner of output (i, j) given its row taps, or -1 (empty window).
static inline int64_t max_winner(const Pool2d& g, const float* xp, int64_t h0, int64_t a0, int64_t a1, int64_t w0,
                                 int64_t b0, int64_t b1) {
  if (a0 >= a1 || b0 >= b1) return -1;
  int64_t bi = (h0 + a0 * g.dh) * g.w + w0 + b0 * g.dw;
  float best = xp[bi];
  for (int64_t a = a0; a < a1; ++a) {
    const float* row = xp + (h0 + a * g.dh) * g.w + w0;
    for (int64_t b = b0; b < b1; ++b) {
      const float v = row[b * g.dw];
      const bool t = (v > best) | (v != v);  // PyTorch's: a later NaN takes over from an earlier one
      best = t ? v : best;
      bi = t ? (h0 + a * g.dh) * g.w + w0 + b * g.dw : bi;
    }
  }
  return bi;
}

void f32_max_pool2d__ref(const Pool2d& g, const float* x, float* y) {
  const std::vector<int64_t> ct = col_taps(g);
  for (int64_t p = 0; p < g.nc; ++p) {
    const float* xp = x + p * g.h * g.w;
    float* yp = y + p * g.oh * g.ow;
    for (int64_t i = 0; i < g.oh; ++i) {
      const int64_t h0 = i * g.sh - g.ph;
      int64_t a0, a1;
      taps(h0, g.dh, g.kh, g.h, &a0, &a1);
      for (int64_t j = 0; j < g.ow; ++j) {
        const int64_t w = max_winner(g, xp, h0, a0, a1, j * g.sw - g.pw, ct[(size_t)(2 * j)], ct[(size_t)(2 * j + 1)]);
        yp[i * g.ow + j] = w < 0 ? -std::numeric_limits<float>::infinity() : xp[w];
      }
    }
  }
}

void f32_max_pool2d_bwd__ref(const Pool2d& g, const float* x, const float* dy, float* dx) {
  const std::vector<int64_t> ct = col_taps(g);
  for (int64_t p = 0; p < g.nc; ++p) {
    const float* xp = x + p * g.h * g.w;
    const float* dyp = dy + p * g.oh * g.ow;
    float* dxp = dx + p * g.h * g.w;
    for (int64_t k = 0; k < g.h * g.w; ++k) dxp[k] = 0.0f;
    for (int64_t i = 0; i < g.oh; ++i) {
      const int64_t h0 = i * g.sh - g.ph;
      int64_t a0, a1;
      taps(h0, g.dh, g.kh, g.h, &a0, &a1);
      for (int64_t j = 0; j < g.ow; ++j) {
        const int64_t w = max_winner(g, xp, h0, a0, a1, j * g.sw - g.pw, ct[(size_t)(2 * j)], ct[(size_t)(2 * j + 1)]);
        if (w >= 0) dxp[w] += dyp[i * g.ow + j];
      }
    }
  }
}

namespace {
// The window of output (i, j) clipped to the input, and its divisor.
struct Win {
  int64_t r0, r1, c0, c1;
  float div;
};
inline Win avg_win(const Pool2d& g, bool cip, int64_t divisor, int64_t i, int64_t j) {
  int64_t r0 = i * g.sh - g.ph, c0 = j * g.sw - g.pw;
  int64_t r1 = std::min(r0 + g.kh, g.h + g.ph), c1 = std::min(c0 + g.kw, g.w + g.pw);
  const int64_t padded = (r1 - r0) * (c1 - c0);
  r0 = std::max<int64_t>(r0, 0);
  c0 = std::max<int64_t>(c0, 0);
  r1 = std::min(r1, g.h);
  c1 = std::min(c1, g.w);
  const int64_t inside = (r1 > r0 && c1 > c0) ? (r1 - r0) * (c1 - c0) : 0;
  const int64_t d = divisor > 0 ? divisor : (cip ? padded : inside);
  return {r0, r1, c0, c1, (float)d};
}
}  // namespace

void f32_avg_pool2d__ref(const Pool2d& g, bool cip, int64_t divisor, const float* x, float* y) {
  for (int64_t p = 0; p < g.nc; ++p) {
    const float* xp = x + p * g.h * g.w;
    float* yp = y + p * g.oh * g.ow;
    for (int64_t i = 0; i < g.oh; ++i)
      for (int64_t j = 0; j < g.ow; ++j) {
        const Win w = avg_win(g, cip, divisor, i, j);
        float s = 0.0f;
        for (int64_t r = w.r0; r < w.r1; ++r)
          for (int64_t c = w.c0; c < w.c1; ++c) s += xp[r * g.w + c];
        yp[i * g.ow + j] = s / w.div;
      }
  }
}

void f32_avg_pool2d_bwd__ref(const Pool2d& g, bool cip, int64_t divisor, const float* dy, float* dx) {
  for (int64_t p = 0; p < g.nc; ++p) {
    const float* dyp = dy + p * g.oh * g.ow;
    float* dxp = dx + p * g.h * g.w;
    for (int64_t k = 0; k < g.h * g.w; ++k) dxp[k] = 0.0f;
    for (int64_t i = 0; i < g.oh; ++i)
      for (int64_t j = 0; j < g.ow; ++j) {
        const Win w = avg_win(g, cip, divisor, i, j);
        const float d = dyp[i * g.ow + j] / w.div;
        for (int64_t r = w.r0; r < w.r1; ++r)
          for (int64_t c = w.c0; c < w.c1; ++c) dxp[r * g.w + c] += d;
      }
  }
}

void f32_adaptive_avg_pool2d__ref(const Pool2d& g, const float* x, float* y) {
  for (int64_t p = 0; p < g.nc; ++p) {
    const float* xp = x + p * g.h * g.w;
    float* yp = y + p * g.oh * g.ow;
    for (int64_t i = 0; i < g.oh; ++i) {
      const int64_t r0 = i * g.h / g.oh, r1 = ((i + 1) * g.h + g.oh - 1) / g.oh;
      for (int64_t j = 0; j < g.ow; ++j) {
        const int64_t c0 = j * g.w / g.ow, c1 = ((j + 1) * g.w + g.ow - 1) / g.ow;
        float s = 0.0f;
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t c = c0; c < c1; ++c) s += xp[r * g.w + c];
        yp[i * g.ow + j] = s / (float)((r1 - r0) * (c1 - c0));
      }
    }
  }
}

void f32_adaptive_avg_pool2d_bwd__ref(const Pool2d& g, const float* dy, float* dx) {
  for (int64_t p = 0; p < g.nc; ++p) {
    const float* dyp = dy + p * g.oh * g.ow;
    float* dxp = dx + p * g.h * g.w;
    for (int64_t k = 0; k < g.h * g.w; ++k) dxp[k] = 0.0f;
    for (int64_t i = 0; i < g.oh; ++i) {
      const int64_t r0 = i * g.h / g.oh, r1 = ((i + 1) * g.h + g.oh - 1) / g.oh;
      for (int64_t j = 0; j < g.ow; ++j) {
        const int64_t c0 = j * g.w / g.ow, c1 = ((j + 1) * g.w + g.ow - 1) / g.ow;
        const float d = dyp[i * g.ow + j] / (float)((r1 - r0) * (c1 - c0));
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t c = c0; c < c1; ++c) dxp[r * g.w + c] += d;
      }
    }
  }
}

}  // namespace fathom
