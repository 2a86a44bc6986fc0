// Element-wise unary timing: every op of THE op list (native/kernels/unary_ops.h),
// forward and backward, on the scalar reference table and on each ISA table this
// CPU runs, one thread, n floats in L2 (default 16K) so the numbers show the
// arithmetic rather than memory bandwidth. Prints ns per element and the speed-up
// over the reference: the evidence for (or against) an op's SIMD body.
//
// Build: cmake -S . -B build-bench -DFATHOM_BUILD_BENCH=ON && cmake --build build-bench --target unary_bench
// Usage: unary_bench [--n 16384] [--reps 15]
//   Runs are interleaved (ref, isa, ref, isa, ...) and the median is kept, so a
//   busy machine slows both sides alike.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/kernels.h"

using namespace fathom;

namespace {

double now() {
  using namespace std::chrono;
  return std::chrono::duration<double>(steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Parameters per op: pow 2.5, leakyRelu 0.01, elu 1, softplus (1, 20).
void params(Unary op, float* p, float* q) {
  *p = 0, *q = 0;
  if (op == Unary::Pow) *p = 2.5f;
  if (op == Unary::LeakyRelu) *p = 0.01f;
  if (op == Unary::Elu) *p = 1.0f;
  if (op == Unary::Softplus) *p = 1.0f, *q = 20.0f;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 16384;
  int reps = 15;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--n")) n = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
  }
  std::vector<const KernelTable*> tables;
  for (const char* name : {"avx2", "avx512", "neon"})
    if (const KernelTable* t = table_by_name(name)) tables.push_back(t);
  const KernelTable& ref = ref_table();

  std::vector<float> x((size_t)n), y((size_t)n), dy((size_t)n), dx((size_t)n);
  for (int64_t i = 0; i < n; ++i) {
    x[(size_t)i] = (float)((i * 7919) % 2001) / 250.0f - 4.0f;  // [-4, 4]
    if (i % 3 == 0) x[(size_t)i] = std::abs(x[(size_t)i]) + 0.01f;  // log/sqrt/pow see positives
    dy[(size_t)i] = (float)((i * 104729) % 997) / 500.0f - 1.0f;
  }
  // Enough calls per timing that one run takes ~2 ms.
  const int inner = (int)std::max<int64_t>(1, 2000000 / std::max<int64_t>(n, 1) / 8);

  std::printf("unary ops, n = %lld, 1 thread, ns/element (median of %d), speed-up vs scalar\n", (long long)n, reps);
  std::printf("%-10s %9s", "op", "ref fwd");
  for (const KernelTable* t : tables) std::printf(" %9s %6s", (std::string(t->isa) + " fwd").c_str(), "x");
  std::printf(" %9s", "ref bwd");
  for (const KernelTable* t : tables) std::printf(" %9s %6s", (std::string(t->isa) + " bwd").c_str(), "x");
  std::printf("\n");

  for (int o = 0; o < (int)Unary::Count; ++o) {
    const Unary op = (Unary)o;
    float p, q;
    params(op, &p, &q);
    auto time = [&](const KernelTable& k, bool bwd) {
      const double t0 = now();
      for (int r = 0; r < inner; ++r) {
        if (bwd) k.unary_bwd(op, n, x.data(), y.data(), dy.data(), dx.data(), p, q);
        else k.unary(op, n, x.data(), y.data(), p, q);
      }
      return (now() - t0) / inner / (double)n * 1e9;
    };
    std::vector<double> fr, br;
    std::vector<std::vector<double>> ft(tables.size()), bt(tables.size());
    ref.unary(op, n, x.data(), y.data(), p, q);  // y = f(x) for the backward
    for (int r = 0; r < reps; ++r) {
      fr.push_back(time(ref, false));
      br.push_back(time(ref, true));
      for (size_t i = 0; i < tables.size(); ++i) {
        ft[i].push_back(time(*tables[i], false));
        bt[i].push_back(time(*tables[i], true));
      }
      ref.unary(op, n, x.data(), y.data(), p, q);
    }
    const double f0 = median(fr), b0 = median(br);
    std::printf("%-10s %9.3f", unary_name(op), f0);
    for (size_t i = 0; i < tables.size(); ++i) std::printf(" %9.3f %5.1fx", median(ft[i]), f0 / median(ft[i]));
    std::printf(" %9.3f", b0);
    for (size_t i = 0; i < tables.size(); ++i) std::printf(" %9.3f %5.1fx", median(bt[i]), b0 / median(bt[i]));
    std::printf("\n");
  }

  // Maxout (kernels.h): N groups of K, ns per INPUT element.
  std::printf("\nmaxout, %lld input values, ns/element (median of %d), speed-up vs scalar\n", (long long)n, reps);
  for (int64_t K : {2, 3, 4, 8}) {
    const int64_t N = n / K;
    std::vector<float> my((size_t)N);
    auto time = [&](const KernelTable& k, bool bwd) {
      const double t0 = now();
      for (int r = 0; r < inner; ++r) {
        if (bwd) k.maxout_bwd(N, K, x.data(), dy.data(), dx.data());
        else k.maxout(N, K, x.data(), my.data());
      }
      return (now() - t0) / inner / (double)(N * K) * 1e9;
    };
    std::vector<double> fr, br;
    std::vector<std::vector<double>> ft(tables.size()), bt(tables.size());
    for (int r = 0; r < reps; ++r) {
      fr.push_back(time(ref, false));
      br.push_back(time(ref, true));
      for (size_t i = 0; i < tables.size(); ++i) {
        ft[i].push_back(time(*tables[i], false));
        bt[i].push_back(time(*tables[i], true));
      }
    }
    std::printf("K=%-8lld %9.3f", (long long)K, median(fr));
    for (size_t i = 0; i < tables.size(); ++i) std::printf(" %9.3f %5.1fx", median(ft[i]), median(fr) / median(ft[i]));
    std::printf(" %9.3f", median(br));
    for (size_t i = 0; i < tables.size(); ++i) std::printf(" %9.3f %5.1fx", median(bt[i]), median(br) / median(bt[i]));
    std::printf("\n");
  }
  return 0;
}
