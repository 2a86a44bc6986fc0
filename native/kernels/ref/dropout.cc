// Inverted dropout, fused (the reference; contract in kernels.h, DropoutFn):
// the Philox4x32-10 stream of rand_uniform, the keep test and the scale in
// one pass. Element i uses word i % 4 of block offset + i / 4 and is kept when
// (word >> 8) >= ceil(p 2^24), which is u >= p for rand_uniform's
// u = (word >> 8) 2^-24 (exact: p 2^24 is exact in double).
//   mask[i] = kept ? scale : 0,  y[i] = x[i] * mask[i]   (y may be x)
// SIMD twins: avx2/dropout.cc, avx512/dropout.cc (bitwise equal).
#include <cmath>

#include "ref.h"

namespace fathom {

void f32_dropout__ref(int64_t n, uint64_t seed, uint64_t offset, double p, float scale,
                      const float* x, float* y, float* mask) {
  const uint32_t keep_from = (uint32_t)std::ceil(p * 16777216.0);  // in [0, 2^24]
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  uint32_t w[4];
  for (int64_t i = 0; i < n; ++i) {
    if ((i & 3) == 0) {
      const uint64_t c = offset + (uint64_t)(i >> 2);  // wraps mod 2^64
      const uint32_t ctr[4] = {(uint32_t)c, (uint32_t)(c >> 32), 0, 0};
      philox4x32_10(ctr, key, w);
    }
    const float m = (w[i & 3] >> 8) >= keep_from ? scale : 0.0f;
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

}  // namespace fathom
