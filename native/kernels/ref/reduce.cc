// Reduction reference kernel.
//
// Shape contract
//   x: ndim dims `shape`, contiguous. Element x[idx] goes to
//   out[sum_d idx[d] * ostride[d]] (ostride[d] == 0 on reduced axes).
//   out holds out_n elements and is overwritten (never accumulated into).
//   Sum   double accumulator, rounded once to float.
//   Mean  Sum / (in_n / out_n), in double.
//   Max   NaN if any element of the slice is NaN, else the maximum.
//   Empty input (in_n == 0, out_n > 0): sum -> 0, mean -> NaN, max -> -Inf.
//   ndim == 0: x is one element, out[0] = op(x[0]).
#include <cmath>
#include <limits>

#include "ref.h"

namespace fathom {

void f32_reduce__ref(Reduce op, int ndim, const int64_t* shape, const float* x,
                     const int64_t* ostride, float* out, int64_t out_n) {
  int64_t in_n = 1;
  for (int d = 0; d < ndim; ++d) in_n *= shape[d];
  const float inf = std::numeric_limits<float>::infinity();
  const float init = op == Reduce::Max ? -inf
                     : (op == Reduce::Mean && in_n == 0) ? std::numeric_limits<float>::quiet_NaN()
                                                         : 0.0f;
  for (int64_t i = 0; i < out_n; ++i) out[i] = init;
  if (in_n == 0 || out_n <= 0) return;

  // Split the dims (size > 1 only) into kept and reduced, with x's strides.
  int64_t kshape[kMaxDims], kx[kMaxDims], ko[kMaxDims];
  int64_t rshape[kMaxDims], rx[kMaxDims];
  int nk = 0, nr = 0;
  int64_t xs = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    if (shape[d] > 1) {
      if (ostride[d] != 0) {
        kshape[nk] = shape[d], kx[nk] = xs, ko[nk] = ostride[d];
        ++nk;
      } else {
        rshape[nr] = shape[d], rx[nr] = xs;
        ++nr;
      }
    }
    xs *= shape[d];
  }
  // Index 0 of k*/r* is the innermost dim.
  int64_t kept_n = 1, red_n = 1;
  for (int i = 0; i < nk; ++i) kept_n *= kshape[i];
  for (int i = 0; i < nr; ++i) red_n *= rshape[i];
  const double count = (double)in_n / (double)out_n;

  int64_t kidx[kMaxDims] = {0};
  int64_t xo = 0, oo = 0;
  for (int64_t k = 0; k < kept_n; ++k) {
    int64_t ridx[kMaxDims] = {0};
    int64_t xr = xo;
    double sum = 0;
    float mx = -inf;
    for (int64_t r = 0; r < red_n; ++r) {
      const float v = x[xr];
      if (op == Reduce::Max) {
        if (v > mx || v != v) mx = (mx != mx) ? mx : v;
      } else {
        sum += v;
      }
      for (int i = 0; i < nr; ++i) {
        xr += rx[i];
        if (++ridx[i] < rshape[i]) break;
        xr -= rx[i] * rshape[i];
        ridx[i] = 0;
      }
    }
    out[oo] = op == Reduce::Max ? mx : op == Reduce::Mean ? (float)(sum / count) : (float)sum;
    for (int i = 0; i < nk; ++i) {
      xo += kx[i];
      oo += ko[i];
      if (++kidx[i] < kshape[i]) break;
      xo -= kx[i] * kshape[i];
      oo -= ko[i] * kshape[i];
      kidx[i] = 0;
    }
  }
}

}  // namespace fathom
