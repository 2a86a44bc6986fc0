// im2col / col2im for conv.h: the scalar reference (portable C++; the compiler
// vectorises the contiguous stride-1 copies).
#include <algorithm>
#include <cstring>

#include "../conv.h"

namespace fathom {

namespace {
// Output columns j in [*j0, *j1) whose input column j*s - p + off lies in [0, w).
inline void valid_cols(int64_t ow, int64_t s, int64_t p, int64_t off, int64_t w, int64_t* j0, int64_t* j1) {
  const int64_t a = p - off;          // need j*s >= a
  const int64_t b = w + p - off;      // need j*s < b
  int64_t lo = a <= 0 ? 0 : (a + s - 1) / s;
  int64_t hi = b <= 0 ? 0 : (b + s - 1) / s;
  lo = std::min(lo, ow);
  hi = std::min(std::max(hi, lo), ow);
  *j0 = lo;
  *j1 = hi;
}
}  // namespace

void f32_im2col__ref(const ConvGeom& g, int64_t cg, const float* x, float* col) {
  const int64_t ohw = g.oh * g.ow;
  for (int64_t c = 0; c < cg; ++c) {
    for (int64_t u = 0; u < g.kh; ++u) {
      for (int64_t v = 0; v < g.kw; ++v) {
        float* row = col + ((c * g.kh + u) * g.kw + v) * ohw;
        int64_t j0, j1;
        valid_cols(g.ow, g.sw, g.pw, v * g.dw, g.w, &j0, &j1);
        for (int64_t i = 0; i < g.oh; ++i) {
          float* r = row + i * g.ow;
          const int64_t y = i * g.sh - g.ph + u * g.dh;
          if (y < 0 || y >= g.h || j0 >= j1) {
            std::fill(r, r + g.ow, 0.0f);
            continue;
          }
          const float* xr = x + (c * g.h + y) * g.w;  // row y of channel c
          const int64_t off = v * g.dw - g.pw;           // r[j] = xr[j*sw + off], in range for j in [j0, j1)
          std::fill(r, r + j0, 0.0f);
          if (g.sw == 1) {
            std::memcpy(r + j0, xr + j0 + off, (size_t)(j1 - j0) * sizeof(float));
          } else {
            for (int64_t j = j0; j < j1; ++j) r[j] = xr[j * g.sw + off];
          }
          std::fill(r + j1, r + g.ow, 0.0f);
        }
      }
    }
  }
}

void f32_col2im__ref(const ConvGeom& g, int64_t cg, const float* col, float* dx) {
  const int64_t ohw = g.oh * g.ow;
  for (int64_t c = 0; c < cg; ++c) {
    for (int64_t u = 0; u < g.kh; ++u) {
      for (int64_t v = 0; v < g.kw; ++v) {
        const float* row = col + ((c * g.kh + u) * g.kw + v) * ohw;
        int64_t j0, j1;
        valid_cols(g.ow, g.sw, g.pw, v * g.dw, g.w, &j0, &j1);
        if (j0 >= j1) continue;
        for (int64_t i = 0; i < g.oh; ++i) {
          const int64_t y = i * g.sh - g.ph + u * g.dh;
          if (y < 0 || y >= g.h) continue;
          const float* r = row + i * g.ow;
          float* xr = dx + (c * g.h + y) * g.w;
          const int64_t off = v * g.dw - g.pw;
          if (g.sw == 1) {
            float* xo = xr + j0 + off;
            for (int64_t j = 0; j < j1 - j0; ++j) xo[j] += r[j0 + j];
          } else {
            for (int64_t j = j0; j < j1; ++j) xr[j * g.sw + off] += r[j];
          }
        }
      }
    }
  }
}

}  // namespace fathom
