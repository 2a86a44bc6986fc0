// NEON micro-kernel 8x12 (aarch64). Only <arm_neon.h>, <cstdint>, <cstddef>
// and gemm.h (declarations) included, every helper static.
//
// Registers: 24 accumulators (8 rows x 3 q), 3 B vectors, 2 A vectors
// (8 rows, used by lane). Per k: 5 loads, 24 FMAs.
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "gemm.h"

namespace fathom {
namespace gemm_detail {
namespace {

constexpr int MR = 8, NR = 12;

static inline void write_row(float* c, float32x4_t x0, float32x4_t x1, float32x4_t x2,
                             float alpha, float beta, bool read) {
  x0 = vmulq_n_f32(x0, alpha);
  x1 = vmulq_n_f32(x1, alpha);
  x2 = vmulq_n_f32(x2, alpha);
  if (read) {
    const float32x4_t vb = vdupq_n_f32(beta);
    x0 = vfmaq_f32(x0, vb, vld1q_f32(c));
    x1 = vfmaq_f32(x1, vb, vld1q_f32(c + 4));
    x2 = vfmaq_f32(x2, vb, vld1q_f32(c + 8));
  }
  vst1q_f32(c, x0);
  vst1q_f32(c + 4, x1);
  vst1q_f32(c + 8, x2);
}

}  // namespace

void ukernel_neon_8x12(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                       float alpha, float beta, int64_t m, int64_t n) {
  float32x4_t acc[3 * MR];
#pragma GCC unroll 24
  for (int r = 0; r < 3 * MR; ++r) acc[r] = vdupq_n_f32(0.0f);

  const float* a = Ap;
  const float* b = Bp;
  for (int64_t k = 0; k < kc; ++k) {
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
    const float32x4_t alo = vld1q_f32(a), ahi = vld1q_f32(a + 4);
#define FATHOM_ROW(i, av, lane)                                  \
  acc[3 * (i) + 0] = vfmaq_laneq_f32(acc[3 * (i) + 0], b0, av, lane); \
  acc[3 * (i) + 1] = vfmaq_laneq_f32(acc[3 * (i) + 1], b1, av, lane); \
  acc[3 * (i) + 2] = vfmaq_laneq_f32(acc[3 * (i) + 2], b2, av, lane);
    FATHOM_ROW(0, alo, 0)
    FATHOM_ROW(1, alo, 1)
    FATHOM_ROW(2, alo, 2)
    FATHOM_ROW(3, alo, 3)
    FATHOM_ROW(4, ahi, 0)
    FATHOM_ROW(5, ahi, 1)
    FATHOM_ROW(6, ahi, 2)
    FATHOM_ROW(7, ahi, 3)
#undef FATHOM_ROW
    a += MR;
    b += NR;
  }

  const bool read = beta != 0.0f;
  if (m == MR && n == NR) {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
      write_row(C + i * ldc, acc[3 * i], acc[3 * i + 1], acc[3 * i + 2], alpha, beta, read);
    return;
  }
  // Edge tile: same arithmetic on a staged copy of the valid part.
  float t[MR * NR] = {};
  if (read)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) t[i * NR + j] = C[i * ldc + j];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
    write_row(t + i * NR, acc[3 * i], acc[3 * i + 1], acc[3 * i + 2], alpha, beta, read);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) C[i * ldc + j] = t[i * NR + j];
}

}  // namespace gemm_detail
}  // namespace fathom
