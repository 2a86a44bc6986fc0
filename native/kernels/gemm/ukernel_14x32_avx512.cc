// AVX-512F micro-kernel 14x32. Compiled with AVX-512 F/BW/DQ/VL flags: only
// <immintrin.h>, <cstdint>, <cstddef> and gemm.h (declarations) included,
// every helper static.
//
// Registers: 28 accumulators (14 rows x 2 zmm), 2 B vectors, 1 broadcast.
// Per k: 2 aligned loads of B (the packed panel is 64-byte aligned and each
// k row is 128 bytes), 14 broadcasts, 28 FMAs.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "gemm.h"

namespace fathom {
namespace gemm_detail {
namespace {

constexpr int MR = 14, NR = 32;

static inline void write_row(float* c, __m512 lo, __m512 hi, __m512 va, __m512 vb, bool read) {
  lo = _mm512_mul_ps(va, lo);
  hi = _mm512_mul_ps(va, hi);
  if (read) {
    lo = _mm512_fmadd_ps(vb, _mm512_loadu_ps(c), lo);
    hi = _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + 16), hi);
  }
  _mm512_storeu_ps(c, lo);
  _mm512_storeu_ps(c + 16, hi);
}

}  // namespace

void ukernel_avx512_14x32(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                          float alpha, float beta, int64_t m, int64_t n) {
  // acc[2*i], acc[2*i+1]: row i. Fully unrolled constant indices keep them in
  // registers (GCC scalar-replaces the array).
  __m512 acc[2 * MR];
#pragma GCC unroll 28
  for (int r = 0; r < 2 * MR; ++r) acc[r] = _mm512_setzero_ps();

  const float* a = Ap;
  const float* b = Bp;
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(a[i]);
      acc[2 * i] = _mm512_fmadd_ps(av, b0, acc[2 * i]);
      acc[2 * i + 1] = _mm512_fmadd_ps(av, b1, acc[2 * i + 1]);
    }
    a += MR;
    b += NR;
  }

  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  const bool read = beta != 0.0f;
  if (m == MR && n == NR) {
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) write_row(C + i * ldc, acc[2 * i], acc[2 * i + 1], va, vb, read);
    return;
  }
  // Edge tile: same arithmetic on a staged copy of the valid part.
  alignas(64) float t[MR * NR] = {};
  if (read)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) t[i * NR + j] = C[i * ldc + j];
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) write_row(t + i * NR, acc[2 * i], acc[2 * i + 1], va, vb, read);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) C[i * ldc + j] = t[i * NR + j];
}

}  // namespace gemm_detail
}  // namespace fathom
