// Inverted dropout, the reference build of ref/dropout.h (shape contract in kernels.h).
#include "dropout.h"

#include "ref.h"

namespace fathom {

void f32_dropout__ref(int64_t n, uint64_t seed, uint64_t offset, double p, float scale,
                      const float* x, float* y, float* mask) {
  dropout_body(n, seed, offset, p, scale, x, y, mask);
}

}  // namespace fathom
