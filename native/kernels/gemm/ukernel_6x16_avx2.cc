// AVX2 + FMA micro-kernel 6x16 and packing routines for it.
// Compiled with -mavx2 -mfma: only <immintrin.h>, <cstdint>, <cstddef> and
// gemm.h (declarations) are included, and every helper is static, so no
// AVX2 code can be merged into a baseline caller by the linker.
//
// Registers: 12 accumulators (6 rows x 2 ymm), 2 B vectors, 1 broadcast of A.
// Per k: 2 aligned loads of B, 6 broadcasts, 12 FMAs.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "gemm.h"
#include "transpose8_x86.h"

namespace fathom {
namespace gemm_detail {
namespace {

constexpr int MR = 6, NR = 16;

// C row (16 floats at c) = alpha * acc + beta * C; beta == 0 never reads C.
static inline void write_row(float* c, __m256 lo, __m256 hi, __m256 va, __m256 vb, bool read) {
  lo = _mm256_mul_ps(va, lo);
  hi = _mm256_mul_ps(va, hi);
  if (read) {
    lo = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), lo);
    hi = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + 8), hi);
  }
  _mm256_storeu_ps(c, lo);
  _mm256_storeu_ps(c + 8, hi);
}

}  // namespace

void ukernel_avx2_6x16(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                       float alpha, float beta, int64_t m, int64_t n) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();

  const bool full = m == MR && n == NR;
  if (full) {
    for (int i = 0; i < MR; ++i) {
      _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc + NR - 1), _MM_HINT_T0);
    }
  }

  const float* a = Ap;
  const float* b = Bp;
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
    __m256 av = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(av, b0, c00);
    c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(av, b0, c10);
    c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(av, b0, c20);
    c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(av, b0, c30);
    c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(av, b0, c40);
    c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(av, b0, c50);
    c51 = _mm256_fmadd_ps(av, b1, c51);
    // A streams from L2 (the B panel stays in L1): fetch ~10 k steps ahead.
    _mm_prefetch(reinterpret_cast<const char*>(a + 64), _MM_HINT_T0);
    a += MR;
    b += NR;
  }

  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
  const bool read = beta != 0.0f;
  if (full) {
    write_row(C + 0 * ldc, c00, c01, va, vb, read);
    write_row(C + 1 * ldc, c10, c11, va, vb, read);
    write_row(C + 2 * ldc, c20, c21, va, vb, read);
    write_row(C + 3 * ldc, c30, c31, va, vb, read);
    write_row(C + 4 * ldc, c40, c41, va, vb, read);
    write_row(C + 5 * ldc, c50, c51, va, vb, read);
    return;
  }
  // Edge tile: run the same arithmetic on a staged copy of the valid part.
  alignas(32) float t[MR * NR] = {};
  if (read)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) t[i * NR + j] = C[i * ldc + j];
  write_row(t + 0 * NR, c00, c01, va, vb, read);
  write_row(t + 1 * NR, c10, c11, va, vb, read);
  write_row(t + 2 * NR, c20, c21, va, vb, read);
  write_row(t + 3 * NR, c30, c31, va, vb, read);
  write_row(t + 4 * NR, c40, c41, va, vb, read);
  write_row(t + 5 * NR, c50, c51, va, vb, read);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) C[i * ldc + j] = t[i * NR + j];
}

// Packs op(A) rows into 6 x kc panels (see PackAFn).
void pack_a_avx2_6(int64_t mc, int64_t kc, const float* A, int64_t rs, int64_t cs, float* Ap) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR, Ap += MR * kc) {
    const int64_t m = mc - i0 < MR ? mc - i0 : MR;
    const float* a = A + i0 * rs;
    if (m == MR && cs == 1) {
      // Rows contiguous in k: transpose 8 k at a time (rows 6, 7 are zero).
      const float *a0 = a, *a1 = a + rs, *a2 = a + 2 * rs, *a3 = a + 3 * rs, *a4 = a + 4 * rs,
                  *a5 = a + 5 * rs;
      int64_t k = 0;
      for (; k + 8 <= kc; k += 8) {
        __m256 r0 = _mm256_loadu_ps(a0 + k), r1 = _mm256_loadu_ps(a1 + k);
        __m256 r2 = _mm256_loadu_ps(a2 + k), r3 = _mm256_loadu_ps(a3 + k);
        __m256 r4 = _mm256_loadu_ps(a4 + k), r5 = _mm256_loadu_ps(a5 + k);
        __m256 r6 = _mm256_setzero_ps(), r7 = _mm256_setzero_ps();
        transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
        float* d = Ap + k * MR;
        // Overlapping stores: each writes 6 valid + 2 values the next overwrites.
        _mm256_storeu_ps(d + 0, r0);
        _mm256_storeu_ps(d + 6, r1);
        _mm256_storeu_ps(d + 12, r2);
        _mm256_storeu_ps(d + 18, r3);
        _mm256_storeu_ps(d + 24, r4);
        _mm256_storeu_ps(d + 30, r5);
        _mm256_storeu_ps(d + 36, r6);
        _mm_storeu_ps(d + 42, _mm256_castps256_ps128(r7));
        _mm_storel_pi(reinterpret_cast<__m64*>(d + 46), _mm256_extractf128_ps(r7, 1));
      }
      for (; k < kc; ++k) {
        float* d = Ap + k * MR;
        d[0] = a0[k];
        d[1] = a1[k];
        d[2] = a2[k];
        d[3] = a3[k];
        d[4] = a4[k];
        d[5] = a5[k];
      }
    } else if (m == MR && rs == 1) {
      // op(A) = A^T: 6 contiguous values per k.
      for (int64_t k = 0; k < kc; ++k) {
        const float* s = a + k * cs;
        float* d = Ap + k * MR;
        _mm_storeu_ps(d, _mm_loadu_ps(s));
        d[4] = s[4];
        d[5] = s[5];
      }
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t i = 0; i < MR; ++i) Ap[k * MR + i] = i < m ? a[i * rs + k * cs] : 0.0f;
    }
  }
}

// Packs op(B) columns into kc x 16 panels (see PackBFn); Bp is 64-byte aligned.
void pack_b_avx2_16(int64_t kc, int64_t nc, const float* B, int64_t rs, int64_t cs, float* Bp) {
  for (int64_t j0 = 0; j0 < nc; j0 += NR, Bp += NR * kc) {
    const int64_t n = nc - j0 < NR ? nc - j0 : NR;
    const float* b = B + j0 * cs;
    if (n == NR && cs == 1) {
      for (int64_t k = 0; k < kc; ++k) {
        const float* s = b + k * rs;
        _mm256_store_ps(Bp + k * NR, _mm256_loadu_ps(s));
        _mm256_store_ps(Bp + k * NR + 8, _mm256_loadu_ps(s + 8));
      }
    } else if (n == NR && rs == 1) {
      // op(B) = B^T: 16 columns, each contiguous in k; transpose 8x8 blocks.
      int64_t k = 0;
      for (; k + 8 <= kc; k += 8) {
        for (int h = 0; h < 2; ++h) {
          const float* s = b + (h * 8) * cs + k;
          __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + cs);
          __m256 r2 = _mm256_loadu_ps(s + 2 * cs), r3 = _mm256_loadu_ps(s + 3 * cs);
          __m256 r4 = _mm256_loadu_ps(s + 4 * cs), r5 = _mm256_loadu_ps(s + 5 * cs);
          __m256 r6 = _mm256_loadu_ps(s + 6 * cs), r7 = _mm256_loadu_ps(s + 7 * cs);
          transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
          float* d = Bp + k * NR + h * 8;
          _mm256_store_ps(d + 0 * NR, r0);
          _mm256_store_ps(d + 1 * NR, r1);
          _mm256_store_ps(d + 2 * NR, r2);
          _mm256_store_ps(d + 3 * NR, r3);
          _mm256_store_ps(d + 4 * NR, r4);
          _mm256_store_ps(d + 5 * NR, r5);
          _mm256_store_ps(d + 6 * NR, r6);
          _mm256_store_ps(d + 7 * NR, r7);
        }
      }
      for (; k < kc; ++k)
        for (int64_t j = 0; j < NR; ++j) Bp[k * NR + j] = b[j * cs + k];
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t j = 0; j < NR; ++j) Bp[k * NR + j] = j < n ? b[k * rs + j * cs] : 0.0f;
    }
  }
}

}  // namespace gemm_detail
}  // namespace fathom
