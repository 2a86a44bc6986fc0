// AVX2 fill and copy (same results as ref/layout.cc, bit for bit).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "avx2.h"
#include "vmath_avx2.h"

namespace fathom {

void f32_fill__avx2(int64_t n, float value, float* y) {
  const __m256 v = _mm256_set1_ps(value);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm256_storeu_ps(y + i, v);
    _mm256_storeu_ps(y + i + 8, v);
    _mm256_storeu_ps(y + i + 16, v);
    _mm256_storeu_ps(y + i + 24, v);
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, v);
  if (i < n) _mm256_maskstore_ps(y + i, avx2::v_tail_mask(n - i), v);
}

void f32_copy__avx2(int64_t n, const float* x, float* y) {
  if (n <= 0 || x == y) return;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    const __m256 c = _mm256_loadu_ps(x + i + 16), d = _mm256_loadu_ps(x + i + 24);
    _mm256_storeu_ps(y + i, a);
    _mm256_storeu_ps(y + i + 8, b);
    _mm256_storeu_ps(y + i + 16, c);
    _mm256_storeu_ps(y + i + 24, d);
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_loadu_ps(x + i));
  if (i < n) {
    const __m256i m = avx2::v_tail_mask(n - i);
    _mm256_maskstore_ps(y + i, m, _mm256_maskload_ps(x + i, m));
  }
}

}  // namespace fathom
