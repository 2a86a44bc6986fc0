// AVX-512F micro-kernel 14x32 and packing routines for it. Compiled with
// AVX-512 F/BW/DQ/VL flags: only <immintrin.h>, <cstdint>, <cstddef> and
// gemm.h (declarations) included, every helper static.
//
// Registers: 28 accumulators (14 rows x 2 zmm), 2 B vectors, 1 broadcast.
// Per k: 2 aligned loads of B (the packed panel is 64-byte aligned and each
// k row is 128 bytes), 14 broadcasts, 28 FMAs.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "gemm.h"
#include "transpose8_x86.h"

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

// Loads 8 floats at p + k, or zeros when p is null (a padding row/column).
static inline __m256 load8_or_zero(const float* p, int64_t k) {
  return p ? _mm256_loadu_ps(p + k) : _mm256_setzero_ps();
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

// Packs op(A) rows into 14 x kc panels (see PackAFn). Each packed k step is
// 14 floats (56 bytes, not 64-byte aligned): written with masked stores.
void pack_a_avx512_14(int64_t mc, int64_t kc, const float* A, int64_t rs, int64_t cs, float* Ap) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR, Ap += MR * kc) {
    const int64_t m = mc - i0 < MR ? mc - i0 : MR;
    const float* a = A + i0 * rs;
    if (cs == 1) {
      // Rows contiguous in k (op(A) = A): transpose 8 k at a time, rows 0-7
      // then rows 8-13 (+ 2 zero rows); missing rows (m < 14) read as zero.
      const float* row[16];
      for (int i = 0; i < 16; ++i) row[i] = i < m ? a + i * rs : nullptr;
      int64_t k = 0;
      for (; k + 8 <= kc; k += 8) {
        __m256 r0 = load8_or_zero(row[0], k), r1 = load8_or_zero(row[1], k);
        __m256 r2 = load8_or_zero(row[2], k), r3 = load8_or_zero(row[3], k);
        __m256 r4 = load8_or_zero(row[4], k), r5 = load8_or_zero(row[5], k);
        __m256 r6 = load8_or_zero(row[6], k), r7 = load8_or_zero(row[7], k);
        transpose8(r0, r1, r2, r3, r4, r5, r6, r7);
        __m256 s0 = load8_or_zero(row[8], k), s1 = load8_or_zero(row[9], k);
        __m256 s2 = load8_or_zero(row[10], k), s3 = load8_or_zero(row[11], k);
        __m256 s4 = load8_or_zero(row[12], k), s5 = load8_or_zero(row[13], k);
        __m256 s6 = _mm256_setzero_ps(), s7 = _mm256_setzero_ps();
        transpose8(s0, s1, s2, s3, s4, s5, s6, s7);
        float* d = Ap + k * MR;
        const __m256 lo[8] = {r0, r1, r2, r3, r4, r5, r6, r7};
        const __m256 hi[8] = {s0, s1, s2, s3, s4, s5, s6, s7};
#pragma GCC unroll 8
        for (int q = 0; q < 8; ++q) {
          _mm256_storeu_ps(d + q * MR, lo[q]);
          _mm256_mask_storeu_ps(d + q * MR + 8, 0x3F, hi[q]);
        }
      }
      for (; k < kc; ++k)
        for (int i = 0; i < MR; ++i) Ap[k * MR + i] = row[i] ? row[i][k] : 0.0f;
    } else if (rs == 1) {
      // op(A) = A^T: the m values of a k step are contiguous; masked load
      // (never touches memory past row m) and a 14-float masked store.
      const __mmask16 lm = (__mmask16)((1u << m) - 1u);
      for (int64_t k = 0; k < kc; ++k)
        _mm512_mask_storeu_ps(Ap + k * MR, 0x3FFF, _mm512_maskz_loadu_ps(lm, a + k * cs));
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t i = 0; i < MR; ++i) Ap[k * MR + i] = i < m ? a[i * rs + k * cs] : 0.0f;
    }
  }
}

// Packs op(B) columns into kc x 32 panels (see PackBFn); Bp is 64-byte
// aligned and a k step is 128 bytes, so every panel row is aligned.
void pack_b_avx512_32(int64_t kc, int64_t nc, const float* B, int64_t rs, int64_t cs, float* Bp) {
  for (int64_t j0 = 0; j0 < nc; j0 += NR, Bp += NR * kc) {
    const int64_t n = nc - j0 < NR ? nc - j0 : NR;
    const float* b = B + j0 * cs;
    if (cs == 1) {
      // Rows contiguous in j: two 16-float copies per k; an edge panel
      // (n < 32) loads under a mask and stores zeros in the padding.
      const __mmask16 m0 = (__mmask16)(n >= 16 ? 0xFFFFu : (1u << n) - 1u);
      const __mmask16 m1 = (__mmask16)(n >= 32 ? 0xFFFFu : n > 16 ? (1u << (n - 16)) - 1u : 0u);
      for (int64_t k = 0; k < kc; ++k) {
        const float* s = b + k * rs;
        _mm512_store_ps(Bp + k * NR, _mm512_maskz_loadu_ps(m0, s));
        _mm512_store_ps(Bp + k * NR + 16, _mm512_maskz_loadu_ps(m1, s + 16));
      }
    } else if (rs == 1) {
      // op(B) = B^T: each column contiguous in k; 8x8 transposes, columns
      // past n read as zero.
      const float* col[NR];
      for (int j = 0; j < NR; ++j) col[j] = j < n ? b + j * cs : nullptr;
      int64_t k = 0;
      for (; k + 8 <= kc; k += 8) {
        for (int h = 0; h < NR / 8; ++h) {
          const float* const* c = col + h * 8;
          __m256 r0 = load8_or_zero(c[0], k), r1 = load8_or_zero(c[1], k);
          __m256 r2 = load8_or_zero(c[2], k), r3 = load8_or_zero(c[3], k);
          __m256 r4 = load8_or_zero(c[4], k), r5 = load8_or_zero(c[5], k);
          __m256 r6 = load8_or_zero(c[6], k), r7 = load8_or_zero(c[7], k);
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
        for (int j = 0; j < NR; ++j) Bp[k * NR + j] = col[j] ? col[j][k] : 0.0f;
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t j = 0; j < NR; ++j) Bp[k * NR + j] = j < n ? b[k * rs + j * cs] : 0.0f;
    }
  }
}

}  // namespace gemm_detail
}  // namespace fathom
