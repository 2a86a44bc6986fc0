// #13 infer: the MNIST MLP 784-256-256-10 forward in C++ (no Node), the layers
// one by one (ops::linear_fwd x3, each threading its own GEMM and epilogue)
// against ops::linear_chain (one call), timed INTERLEAVED (A, B, A, B, ...) on
// 1 and 2 threads: median and best round, % of the FP32 peak of the threads
// used. Checks that both give the same bits first.
//
// Build: cmake -S . -B build-bench -DFATHOM_BUILD_BENCH=ON && cmake --build build-bench --target chain_bench
// or by hand, after a build of the addon (which leaves build/libfathom_core.a):
//   g++ -O2 -std=c++17 -pthread -Inative bench/native/chain_bench.cc -Lbuild -lfathom_core -o chain_bench
//   FATHOM_ISA=avx2 ./chain_bench [--batch 256] [--rounds 61] [--peak 115]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "kernels/ops.h"
#include "runtime/pool.h"

using namespace fathom;

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

int main(int argc, char** argv) {
  int64_t M = 256;
  int rounds = 61;
  double peak = 115;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--batch")) M = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--peak")) peak = std::atof(argv[i + 1]);
  }
  const int64_t K[3] = {784, 256, 256}, N[3] = {256, 256, 10};
  std::vector<float> W[3], bias[3], h[3], x((size_t)(M * 784)), y((size_t)(M * 10));
  for (int l = 0; l < 3; ++l) {
    W[l].resize((size_t)(N[l] * K[l]));
    bias[l].resize((size_t)N[l]);
    h[l].resize((size_t)(M * N[l]));
    for (size_t i = 0; i < W[l].size(); ++i) W[l][i] = (float)((i * 7 + 3) % 17) * 0.01f - 0.08f;
    for (size_t i = 0; i < bias[l].size(); ++i) bias[l][i] = (float)(i % 5) * 0.01f - 0.02f;
  }
  for (size_t i = 0; i < x.size(); ++i) x[i] = (float)((i * 3) % 11) * 0.1f;
  ops::LinearLayer layers[3];
  for (int l = 0; l < 3; ++l) layers[l] = {N[l], K[l], W[l].data(), bias[l].data(), l < 2 ? Act::Relu : Act::None};
  const std::function<void()> fns[2] = {
      [&] {
        const float* in = x.data();
        for (int l = 0; l < 3; ++l) {
          ops::linear_fwd(M, N[l], K[l], in, W[l].data(), bias[l].data(), layers[l].act, h[l].data());
          in = h[l].data();
        }
      },
      [&] { ops::linear_chain(M, 3, layers, x.data(), y.data()); }};
  const char* names[2] = {"linear_fwd x3 (layer by layer)", "linear_chain (one call)"};
  fns[0]();
  fns[1]();
  if (std::memcmp(h[2].data(), y.data(), y.size() * sizeof(float)) != 0) {
    std::printf("linear_chain differs from linear_fwd x3\n");
    return 1;
  }
  const double flop = 2.0 * (double)M * (784 * 256 + 256 * 256 + 256 * 10);
  std::printf("MLP 784-256-256-10, batch %lld, isa %s, %d interleaved rounds\n", (long long)M, ops::table().isa, rounds);
  for (int th : {1, max_threads()}) {
    set_num_threads(th);
    std::vector<double> t[2];
    const int reps = std::max(1, (int)(2e9 / flop / th));  // ~10-20 ms per timing
    for (int r = 0; r < rounds; ++r)
      for (int v = 0; v < 2; ++v) {
        const double t0 = now();
        for (int i = 0; i < reps; ++i) fns[v]();
        t[v].push_back((now() - t0) / reps);
      }
    for (int v = 0; v < 2; ++v) {
      std::sort(t[v].begin(), t[v].end());
      const double m = t[v][t[v].size() / 2], b = t[v][0];
      std::printf("%dT %-32s median %8.1f us %5.1f %% | best %8.1f us %5.1f %% of the peak (%g GFLOP/s per core)\n", th,
                  names[v], m * 1e6, flop / m / 1e9 / (peak * th) * 100, b * 1e6, flop / b / 1e9 / (peak * th) * 100, peak);
    }
    if (max_threads() == 1) break;
  }
  return 0;
}
