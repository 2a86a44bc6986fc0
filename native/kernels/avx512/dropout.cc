// Inverted dropout, ref/dropout.h compiled with AVX-512 flags (the compiler
// vectorises its Philox rounds over 16 blocks; 3x the reference, measured
// with bench/dropout-step.js and native/tests/test_dropout.cc's timing note).
#include "../ref/dropout.h"

#include "../dispatch.h"

namespace fathom {

void f32_dropout__avx512(int64_t n, uint64_t seed, uint64_t offset, double p, float scale,
                         const float* x, float* y, float* mask) {
  dropout_body(n, seed, offset, p, scale, x, y, mask);
}

}  // namespace fathom
