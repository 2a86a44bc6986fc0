// #11 natops: scalar tensor-op kernels (declared and specified in kernels/tensorops.h).
#include "kernels/tensorops.h"

#include <cstring>
#include <vector>

namespace fathom::ops {

void index_select(int64_t outer, int64_t n, int64_t inner, const float* x, const int32_t* idx, int64_t m, float* y) {
  if (inner == 0 || m == 0 || outer == 0) return;
  const size_t row = (size_t)inner * sizeof(float);
  for (int64_t a = 0; a < outer; ++a) {
    const float* xa = x + a * n * inner;
    float* ya = y + a * m * inner;
    for (int64_t i = 0; i < m; ++i) std::memcpy(ya + i * inner, xa + (int64_t)idx[i] * inner, row);
  }
}

void index_select_backward(int64_t outer, int64_t n, int64_t inner, const float* dy, const int32_t* idx, int64_t m,
                           float* dx) {
  if (outer * n * inner > 0) std::memset(dx, 0, (size_t)(outer * n * inner) * sizeof(float));
  if (inner == 0 || m == 0) return;
  for (int64_t a = 0; a < outer; ++a) {
    float* da = dx + a * n * inner;
    const float* ga = dy + a * m * inner;
    for (int64_t i = 0; i < m; ++i) {
      float* d = da + (int64_t)idx[i] * inner;
      const float* g = ga + i * inner;
      for (int64_t b = 0; b < inner; ++b) d[b] += g[b];
    }
  }
}

void cumsum(int64_t outer, int64_t n, int64_t inner, const float* x, bool reverse, float* y) {
  if (outer == 0 || n == 0 || inner == 0) return;
  std::vector<double> acc((size_t)inner);
  for (int64_t a = 0; a < outer; ++a) {
    const float* xa = x + a * n * inner;
    float* ya = y + a * n * inner;
    for (int64_t b = 0; b < inner; ++b) acc[(size_t)b] = 0.0;
    for (int64_t s = 0; s < n; ++s) {
      const int64_t j = reverse ? n - 1 - s : s;
      const float* xr = xa + j * inner;
      float* yr = ya + j * inner;
      for (int64_t b = 0; b < inner; ++b) {
        acc[(size_t)b] += (double)xr[b];
        yr[b] = (float)acc[(size_t)b];
      }
    }
  }
}

}  // namespace fathom::ops
