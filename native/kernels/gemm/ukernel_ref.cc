// Scalar reference micro-kernel, 4x8: the readable spec of the micro-kernel
// contract (gemm.h) and the fallback for CPUs without a SIMD variant.
#include "gemm.h"

namespace fathom {
namespace gemm_detail {

void ukernel_ref_4x8(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                     float alpha, float beta, int64_t m, int64_t n) {
  constexpr int MR = 4, NR = 8;
  float acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k) {
    const float* a = Ap + k * MR;
    const float* b = Bp + k * NR;
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] += a[i] * b[j];
  }
  for (int64_t i = 0; i < m; ++i) {
    float* c = C + i * ldc;
    if (beta == 0.0f) {
      for (int64_t j = 0; j < n; ++j) c[j] = alpha * acc[i][j];
    } else {
      for (int64_t j = 0; j < n; ++j) c[j] = alpha * acc[i][j] + beta * c[j];
    }
  }
}

}  // namespace gemm_detail
}  // namespace fathom
