// AVX2 maxout: 8 groups at a time, lane j holding group g + j, its K values
// gathered (stride K). The winner logic is ref/maxout.cc's as selects: v
// replaces best when v > best, or v is NaN while best is not, so results
// (and the winning index) are bitwise those of the reference. Fewer than 8
// remaining groups go to the reference.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "../ref/ref.h"
#include "avx2.h"

namespace fathom {
namespace {

// best value and winning index of groups g .. g+7 (x points at group g).
static inline void max8(const float* x, int64_t K, __m256* best_out, __m256i* idx_out) {
  const __m256i lane = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)K));
  __m256 best = _mm256_i32gather_ps(x, lane, 4);
  __m256i bi = _mm256_setzero_si256();
  for (int64_t k = 1; k < K; ++k) {
    const __m256 v = _mm256_i32gather_ps(x + k, lane, 4);
    const __m256 take = _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ),
                                     _mm256_andnot_ps(_mm256_cmp_ps(best, best, _CMP_UNORD_Q),
                                                      _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
    best = _mm256_blendv_ps(best, v, take);
    bi = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bi), _mm256_castsi256_ps(_mm256_set1_epi32((int)k)), take));
  }
  *best_out = best;
  *idx_out = bi;
}

}  // namespace

void f32_maxout__avx2(int64_t N, int64_t K, const float* x, float* y) {
  // The gather offsets are int32 lane * K: fine while 8 K < 2^31 (else: reference).
  if (K < 2 || K > (INT32_MAX / 8)) return f32_maxout__ref(N, K, x, y);
  int64_t n = 0;
  for (; n + 8 <= N; n += 8) {
    __m256 best;
    __m256i bi;
    max8(x + n * K, K, &best, &bi);
    _mm256_storeu_ps(y + n, best);
  }
  if (n < N) f32_maxout__ref(N - n, K, x + n * K, y + n);
}

void f32_maxout_bwd__avx2(int64_t N, int64_t K, const float* x, const float* dy, float* dx) {
  if (K < 2 || K > (INT32_MAX / 8)) return f32_maxout_bwd__ref(N, K, x, dy, dx);
  int64_t n = 0;
  alignas(32) int32_t w[8];
  for (; n + 8 <= N; n += 8) {
    __m256 best;
    __m256i bi;
    max8(x + n * K, K, &best, &bi);
    _mm256_store_si256((__m256i*)w, bi);
    float* d = dx + n * K;
    std::memset(d, 0, sizeof(float) * (size_t)(8 * K));
    for (int j = 0; j < 8; ++j) d[j * K + w[j]] = dy[n + j];
  }
  if (n < N) f32_maxout_bwd__ref(N - n, K, x + n * K, dy + n, dx + n * K);
}

}  // namespace fathom
