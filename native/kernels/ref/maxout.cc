// Maxout reference kernels (twin: lib/backend/ts/kernels/maxout.ts).
//
// Shape contract: x holds N groups of K consecutive values (for a tensor
// [..., U*K] that is N = prod(...) * U groups over the last axis), y holds N.
//   maxout      y[n]        = max_k x[n*K + k]
//   maxout_bwd  dx[n*K + k] = k == first_argmax(x[n*K .. n*K+K)) ? dy[n] : 0   (written)
// The winner is the FIRST maximal element of a group, and NaN counts as the
// maximum (the first NaN of a group wins, y is NaN), as max/argmax do
// (PyTorch / NumPy semantics). The backward recomputes the winner from x, so
// no index buffer is kept between the passes. K >= 1 when N > 0.
#include "ref.h"

namespace fathom {
namespace {

// Index of the first maximum of g[0..K), NaN winning: v replaces best when it
// is larger, or NaN while best is not (the same selects as the AVX2 body).
inline int64_t first_max(const float* g, int64_t K) {
  int64_t bi = 0;
  float best = g[0];
  for (int64_t k = 1; k < K; ++k) {
    const float v = g[k];
    const bool take = (v > best) | ((v != v) & (best == best));
    best = take ? v : best;
    bi = take ? k : bi;
  }
  return bi;
}

}  // namespace

void f32_maxout__ref(int64_t N, int64_t K, const float* x, float* y) {
  for (int64_t n = 0; n < N; ++n) y[n] = x[n * K + first_max(x + n * K, K)];
}

void f32_maxout_bwd__ref(int64_t N, int64_t K, const float* x, const float* dy, float* dx) {
  for (int64_t n = 0; n < N; ++n) {
    const int64_t w = first_max(x + n * K, K);
    float* d = dx + n * K;
    for (int64_t k = 0; k < K; ++k) d[k] = 0.0f;
    d[w] = dy[n];
  }
}

}  // namespace fathom
