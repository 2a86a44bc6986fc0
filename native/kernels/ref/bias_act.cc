// Fused layer epilogue, reference: bias add + activation, and its backward.
//
// Shape contract (N rows of D features)
//   bias_act      y[n,d] = act(y[n,d] + bias[d])          in place; bias may be null
//   bias_act_bwd  dz[n,d] = dy[n,d] * act'(y[n,d])         from the OUTPUT y; dz may alias dy
//                 dbias[d] = sum_n dz[n,d]                  written (double accumulation); may be null
//   act: None (z), Relu (z < 0 ? 0 : z), Sigmoid, Tanh;  relu' = y > 0 ? 1 : 0,
//   sigmoid' = y (1 - y), tanh' = 1 - y^2, none' = 1.
#include <cmath>
#include <vector>

#include "ref.h"

namespace fathom {

static float act_fwd(Act act, float z) {
  switch (act) {
    case Act::Relu: return z < 0 ? 0.0f : z;
    case Act::Sigmoid:
      // Stable form (no overflow for large |z|).
      if (z >= 0) return (float)(1.0 / (1.0 + std::exp(-(double)z)));
      else {
        const double e = std::exp((double)z);
        return (float)(e / (1.0 + e));
      }
    case Act::Tanh: return (float)std::tanh((double)z);
    default: return z;
  }
}

static float act_grad(Act act, float y) {
  switch (act) {
    case Act::Relu: return y > 0 ? 1.0f : 0.0f;
    case Act::Sigmoid: return (float)((double)y * (1.0 - (double)y));
    case Act::Tanh: return (float)(1.0 - (double)y * y);
    default: return 1.0f;
  }
}

void f32_bias_act__ref(int64_t N, int64_t D, float* y, const float* bias, Act act) {
  for (int64_t n = 0; n < N; ++n) {
    float* r = y + n * D;
    for (int64_t d = 0; d < D; ++d) r[d] = act_fwd(act, bias ? r[d] + bias[d] : r[d]);
  }
}

void f32_bias_act_bwd__ref(int64_t N, int64_t D, const float* y, const float* dy, float* dz,
                           float* dbias, Act act) {
  std::vector<double> acc(dbias ? (size_t)D : 0, 0.0);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t d = 0; d < D; ++d) {
      const int64_t i = n * D + d;
      // relu's gradient is a select, so an Inf/NaN upstream gradient is zeroed where y <= 0.
      const float g = act == Act::Relu ? (y[i] > 0 ? dy[i] : 0.0f) : dy[i] * act_grad(act, y[i]);
      dz[i] = g;
      if (dbias) acc[(size_t)d] += g;
    }
  }
  for (int64_t d = 0; dbias && d < D; ++d) dbias[d] = (float)acc[(size_t)d];
}

}  // namespace fathom
