// Layout reference kernels: transpose2d, argmax, fill, copy.
//
// Shape contract
//   transpose2d  x: N x D, y: D x N, y[d*N + n] = x[n*D + d]; x != y
//   argmax       out[n] = first index of the maximum of row n of x (N x D);
//                NaN counts as the maximum (PyTorch / NumPy): the first NaN
//                of a row wins; D == 0 gives 0 (the binding refuses N > 0, D == 0)
//   fill         y[i] = value
//   copy         y[i] = x[i]; x == y allowed (no-op), partial overlap is not
//   transpose2d and argmax: the output never overlaps the input
#include <cstring>

#include "ref.h"

namespace fathom {

void f32_transpose2d__ref(int64_t N, int64_t D, const float* x, float* y) {
  constexpr int64_t B = 32;  // cache tile
  for (int64_t n0 = 0; n0 < N; n0 += B) {
    const int64_t n1 = n0 + B < N ? n0 + B : N;
    for (int64_t d0 = 0; d0 < D; d0 += B) {
      const int64_t d1 = d0 + B < D ? d0 + B : D;
      for (int64_t n = n0; n < n1; ++n)
        for (int64_t d = d0; d < d1; ++d) y[d * N + n] = x[n * D + d];
    }
  }
}

void f32_argmax__ref(int64_t N, int64_t D, const float* x, int32_t* out) {
  for (int64_t n = 0; n < N; ++n) {
    const float* r = x + n * D;
    int64_t best = 0;
    float bv = D > 0 ? r[0] : 0.0f;
    for (int64_t d = 1; d < D && bv == bv; ++d) {  // stop at the first NaN: it wins
      const float v = r[d];
      if (v > bv || v != v) best = d, bv = v;
    }
    out[n] = (int32_t)best;
  }
}

void f32_fill__ref(int64_t n, float value, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = value;
}

void f32_copy__ref(int64_t n, const float* x, float* y) {
  if (n <= 0 || x == y) return;
  std::memcpy(y, x, (size_t)n * sizeof(float));
}

}  // namespace fathom
