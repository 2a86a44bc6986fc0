// im2col / col2im for conv.h: the scalar reference (portable C++). The
// stride-1 rows are short contiguous runs (ow floats, 8 on LeNet's second
// layer): plain loops the compiler vectorises, not memcpy calls, whose call
// overhead dominated at those lengths (5 % of a training step in perf).
#include <algorithm>
#include <cstring>

#include "../conv.h"

namespace fathom {

namespace {
// Output columns j in [*j0, *j1) whose input column j*s - p + off lies in [0, w).
inline void valid_cols(int64_t ow, int64_t s, int64_t p, int64_t off, int64_t w, int64_t* j0, int64_t* j1) {
  const int64_t a = p - off;          // need j*s >= a
  const int64_t b = w + p - off;      // need j*s < b
  int64_t lo = a <= 0 ? 0 : s == 1 ? a : (a + s - 1) / s;
  int64_t hi = b <= 0 ? 0 : s == 1 ? b : (b + s - 1) / s;
  lo = std::min(lo, ow);
  hi = std::min(std::max(hi, lo), ow);
  *j0 = lo;
  *j1 = hi;
}
}  // namespace

// Rows i in [*i0, *i1) whose input row i*s - p + off lies in [0, h).
inline void valid_rows(int64_t oh, int64_t s, int64_t p, int64_t off, int64_t h, int64_t* i0, int64_t* i1) {
  valid_cols(oh, s, p, off, h, i0, i1);
}

// d[0, n) = s[0, n) for short runs: fixed 8-float blocks the compiler turns
// into vector moves, then the tail.
inline void copy_run(float* __restrict d, const float* __restrict s, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) std::memcpy(d + j, s + j, 8 * sizeof(float));
  for (; j < n; ++j) d[j] = s[j];
}
inline void add_run(float* __restrict d, const float* __restrict s, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; ++k) d[j + k] += s[j + k];
  for (; j < n; ++j) d[j] += s[j];
}

// Walks rows k in [k0, k1) of col as (c, u, v) without divisions per row.
struct RowWalk {
  int64_t c, u, v;
  RowWalk(const ConvGeom& g, int64_t k0) : c(k0 / (g.kh * g.kw)), u(k0 / g.kw % g.kh), v(k0 % g.kw) {}
  void next(const ConvGeom& g) {
    if (++v == g.kw) {
      v = 0;
      if (++u == g.kh) {
        u = 0;
        ++c;
      }
    }
  }
};

void f32_im2col_rows__ref(const ConvGeom& g, int64_t k0, int64_t k1, const float* x, float* col,
                          int64_t ldcol) {
  const int64_t ohw = g.oh * g.ow, ow = g.ow;
  RowWalk at(g, k0);
  for (int64_t k = k0; k < k1; ++k, at.next(g)) {
    float* row = col + (k - k0) * ldcol;
    int64_t i0, i1, j0, j1;  // output rows/columns reading inside the image
    valid_rows(g.oh, g.sh, g.ph, at.u * g.dh, g.h, &i0, &i1);
    valid_cols(ow, g.sw, g.pw, at.v * g.dw, g.w, &j0, &j1);
    if (j0 >= j1 || i0 >= i1) {
      std::fill(row, row + ohw, 0.0f);
      continue;
    }
    const int64_t off = at.v * g.dw - g.pw;  // r[j] = xr[j*sw + off], in range for j in [j0, j1)
    const float* xr = x + (at.c * g.h + i0 * g.sh + at.u * g.dh - g.ph) * g.w;  // input row of output row i0
    const int64_t xstep = g.sh * g.w;
    std::fill(row, row + i0 * ow, 0.0f);
    std::fill(row + i1 * ow, row + ohw, 0.0f);
    float* r = row + i0 * ow;
    if (g.sw == 1 && j0 == 0 && j1 == ow) {  // the common case: whole output rows are input runs
      if (ow == 8) {
        for (int64_t i = i0; i < i1; ++i, r += 8, xr += xstep) std::memcpy(r, xr + off, 8 * sizeof(float));
      } else {
        for (int64_t i = i0; i < i1; ++i, r += ow, xr += xstep) copy_run(r, xr + off, ow);
      }
      continue;
    }
    for (int64_t i = i0; i < i1; ++i, r += ow, xr += xstep) {
      for (int64_t j = 0; j < j0; ++j) r[j] = 0.0f;
      if (g.sw == 1) {
        copy_run(r + j0, xr + j0 + off, j1 - j0);
      } else {
        for (int64_t j = j0; j < j1; ++j) r[j] = xr[j * g.sw + off];
      }
      for (int64_t j = j1; j < ow; ++j) r[j] = 0.0f;
    }
  }
}

void f32_col2im_rows__ref(const ConvGeom& g, int64_t k0, int64_t k1, const float* col, int64_t ldcol,
                          float* dx) {
  const int64_t ow = g.ow;
  RowWalk at(g, k0);
  for (int64_t k = k0; k < k1; ++k, at.next(g)) {
    const float* row = col + (k - k0) * ldcol;
    int64_t i0, i1, j0, j1;
    valid_rows(g.oh, g.sh, g.ph, at.u * g.dh, g.h, &i0, &i1);
    valid_cols(ow, g.sw, g.pw, at.v * g.dw, g.w, &j0, &j1);
    if (j0 >= j1 || i0 >= i1) continue;
    const int64_t off = at.v * g.dw - g.pw;
    float* xr = dx + (at.c * g.h + i0 * g.sh + at.u * g.dh - g.ph) * g.w;
    const int64_t xstep = g.sh * g.w;
    const float* r = row + i0 * ow;
    if (g.sw == 1) {
      for (int64_t i = i0; i < i1; ++i, r += ow, xr += xstep) add_run(xr + j0 + off, r + j0, j1 - j0);
    } else {
      for (int64_t i = i0; i < i1; ++i, r += ow, xr += xstep)
        for (int64_t j = j0; j < j1; ++j) xr[j * g.sw + off] += r[j];
    }
  }
}

void f32_im2col_ld__ref(const ConvGeom& g, int64_t cg, const float* x, float* col, int64_t ldcol) {
  f32_im2col_rows__ref(g, 0, cg * g.kh * g.kw, x, col, ldcol);
}

void f32_col2im_ld__ref(const ConvGeom& g, int64_t cg, const float* col, int64_t ldcol, float* dx) {
  f32_col2im_rows__ref(g, 0, cg * g.kh * g.kw, col, ldcol, dx);
}

void f32_im2col__ref(const ConvGeom& g, int64_t cg, const float* x, float* col) {
  f32_im2col_ld__ref(g, cg, x, col, g.oh * g.ow);
}

void f32_col2im__ref(const ConvGeom& g, int64_t cg, const float* col, float* dx) {
  f32_col2im_ld__ref(g, cg, col, g.oh * g.ow, dx);
}

}  // namespace fathom
