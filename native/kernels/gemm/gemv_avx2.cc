// AVX2+FMA small-M GEMM path (one row of C, B read unpacked): see GemvFn in
// gemm.h. Two layouts:
//   rs == 1 (op(B) = Bᵀ, B rows contiguous over k): c[j] = dot(a, B[j*cs ...])
//     - four j at a time, 2 accumulators each over k;
//   cs == 1 (B rows contiguous over j): c[j0:j1] = sum_k a[k] * B[k*rs + j0 : j1]
//     - 32 columns of C held in registers while k streams.
// Sums are float with FMA, in a different order from the packed path, so
// results match it to rounding (tests: the GEMM tolerance).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "gemm.h"

namespace fathom {
namespace gemm_detail {
namespace {

static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

static inline void store(float* c, float v, float alpha, float beta) {
  *c = beta == 0.0f ? alpha * v : alpha * v + beta * *c;
}

// a contiguous (inca == 1) dot products against rows of B.
static void dots(int64_t j0, int64_t j1, int64_t K, float alpha, const float* a, const float* B,
                 int64_t ldb, float beta, float* c) {
  const int64_t K8 = K & ~(int64_t)7;
  int64_t j = j0;
  for (; j + 4 <= j1; j += 4) {
    const float* b0 = B + j * ldb;
    const float* b1 = b0 + ldb;
    const float* b2 = b1 + ldb;
    const float* b3 = b2 + ldb;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(),
           s3 = _mm256_setzero_ps();
    for (int64_t k = 0; k < K8; k += 8) {
      const __m256 av = _mm256_loadu_ps(a + k);
      s0 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b0 + k), s0);
      s1 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b1 + k), s1);
      s2 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b2 + k), s2);
      s3 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b3 + k), s3);
    }
    float r0 = hsum(s0), r1 = hsum(s1), r2 = hsum(s2), r3 = hsum(s3);
    for (int64_t k = K8; k < K; ++k) {
      r0 += a[k] * b0[k];
      r1 += a[k] * b1[k];
      r2 += a[k] * b2[k];
      r3 += a[k] * b3[k];
    }
    store(c + j, r0, alpha, beta);
    store(c + j + 1, r1, alpha, beta);
    store(c + j + 2, r2, alpha, beta);
    store(c + j + 3, r3, alpha, beta);
  }
  for (; j < j1; ++j) {
    const float* b0 = B + j * ldb;
    __m256 s0 = _mm256_setzero_ps();
    for (int64_t k = 0; k < K8; k += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b0 + k), s0);
    float r0 = hsum(s0);
    for (int64_t k = K8; k < K; ++k) r0 += a[k] * b0[k];
    store(c + j, r0, alpha, beta);
  }
}

// c[j0:j1] = alpha * sum_k a[k*inca] * B[k*ldb + j] + beta * c.
static void axpys(int64_t j0, int64_t j1, int64_t K, float alpha, const float* a, int64_t inca,
                  const float* B, int64_t ldb, float beta, float* c) {
  int64_t j = j0;
  for (; j + 32 <= j1; j += 32) {
    __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps(), c2 = _mm256_setzero_ps(),
           c3 = _mm256_setzero_ps();
    for (int64_t k = 0; k < K; ++k) {
      const __m256 av = _mm256_broadcast_ss(a + k * inca);
      const float* b = B + k * ldb + j;
      c0 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b), c0);
      c1 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b + 8), c1);
      c2 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b + 16), c2);
      c3 = _mm256_fmadd_ps(av, _mm256_loadu_ps(b + 24), c3);
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    __m256 r[4] = {c0, c1, c2, c3};
    for (int q = 0; q < 4; ++q) {
      __m256 v = _mm256_mul_ps(va, r[q]);
      if (beta != 0.0f) v = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + j + 8 * q), v);
      _mm256_storeu_ps(c + j + 8 * q, v);
    }
  }
  for (; j + 8 <= j1; j += 8) {
    __m256 c0 = _mm256_setzero_ps();
    for (int64_t k = 0; k < K; ++k)
      c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a + k * inca), _mm256_loadu_ps(B + k * ldb + j), c0);
    __m256 v = _mm256_mul_ps(_mm256_set1_ps(alpha), c0);
    if (beta != 0.0f) v = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(c + j), v);
    _mm256_storeu_ps(c + j, v);
  }
  for (; j < j1; ++j) {
    float s = 0;
    for (int64_t k = 0; k < K; ++k) s += a[k * inca] * B[k * ldb + j];
    store(c + j, s, alpha, beta);
  }
}

}  // namespace

void gemv_avx2(int64_t j0, int64_t j1, int64_t K, float alpha, const float* a, int64_t inca,
               const float* B, int64_t rs, int64_t cs, float beta, float* c) {
  if (cs == 1) return axpys(j0, j1, K, alpha, a, inca, B, rs, beta, c);
  if (inca == 1) return dots(j0, j1, K, alpha, a, B, cs, beta, c);
  // op(B) = Bᵀ with a strided (transposed-A) row: scalar, rare (M <= 2, transA).
  for (int64_t j = j0; j < j1; ++j) {
    float s = 0;
    for (int64_t k = 0; k < K; ++k) s += a[k * inca] * B[k * rs + j * cs];
    store(c + j, s, alpha, beta);
  }
}

}  // namespace gemm_detail
}  // namespace fathom
