// Standalone SGEMM timing: GFLOP/s per shape, 1 and max threads, best of
// several runs, % of the FMA peak given by --peak (GFLOP/s per core; default
// the project's Zen 4 VM: 3.66 GHz measured x 32 FLOP/cycle = 117; npm run bench
// measures the clock itself).
//
// Build (not part of the default build; see native/kernels/gemm/README.md):
//   g++ -O2 -std=c++17 -pthread -Inative bench/native/gemm_bench.cc -Lbuild -lfathom_core
// Usage: gemm_bench [--isa avx2] [--peak 117] [--reps 5]
//        gemm_bench --compare avx2,avx512[,avx512:kc=128] [--threads 2] [--reps 21]
//          (interleaved A/B timing: the way to compare ISAs or blockings on a busy box)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "kernels/gemm/gemm.h"
#include "runtime/pool.h"

namespace {

struct Shape {
  const char* name;
  bool ta, tb;
  int64_t M, N, K;
};

// Fixed, deterministic operands for one shape (row-major, leading dimensions
// from the transposes) and its output.
struct Operands {
  int64_t lda, ldb;
  std::vector<float> A, B, C;
  explicit Operands(const Shape& s)
      : lda(s.ta ? s.M : s.K), ldb(s.tb ? s.K : s.N),
        A((size_t)(s.M * s.K)), B((size_t)(s.K * s.N)), C((size_t)(s.M * s.N)) {
    for (size_t i = 0; i < A.size(); ++i) A[i] = (float)((i * 7 + 3) % 17) * 0.01f - 0.08f;
    for (size_t i = 0; i < B.size(); ++i) B[i] = (float)((i * 5 + 1) % 13) * 0.01f - 0.06f;
  }
};

// Block-size overrides for tuning (--mc/--kc/--nc): run the ISA's config
// with other cache blocks through gemm_run directly.
int64_t g_mc = 0, g_kc = 0, g_nc = 0;
fathom::gemm_detail::Config g_cfg;
void gemm_tuned(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  fathom::gemm_detail::gemm_run(g_cfg, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// --compare isa1,isa2[,...]: the ISAs' drivers (or the --mc/--kc/--nc variant
// of the first, written "isa:kc=128", or another thread count: "isa:t=2") timed INTERLEAVED on every shape (A, B,
// A, B, ... so load from other processes hits all alike); prints the median
// GFLOP/s of each and the median of the per-round ratios to the first.
int compare(const char* list, int reps, int threads, const char* only, const Shape* shapes,
            size_t nshapes) {
  struct V {
    std::string name;
    fathom::gemm_detail::Config cfg;
    int threads;
  };
  std::vector<V> vs;
  std::string l(list);
  for (size_t p = 0; p <= l.size();) {
    size_t q = l.find(',', p);
    if (q == std::string::npos) q = l.size();
    std::string name = l.substr(p, q - p), isa = name.substr(0, name.find(':'));
    const fathom::gemm_detail::Config* c = fathom::gemm_detail::config_for(isa.c_str());
    if (!c) {
      std::fprintf(stderr, "unknown isa %s\n", isa.c_str());
      return 1;
    }
    V v{name, *c, threads};
    // Overrides "isa:mc=..:kc=..:nc=.."
    for (size_t e = name.find(':'); e != std::string::npos; e = name.find(':', e + 1)) {
      long long x;
      if (std::sscanf(name.c_str() + e + 1, "mc=%lld", &x) == 1) v.cfg.mc = x;
      if (std::sscanf(name.c_str() + e + 1, "kc=%lld", &x) == 1) v.cfg.kc = x;
      if (std::sscanf(name.c_str() + e + 1, "nc=%lld", &x) == 1) v.cfg.nc = x;
      if (std::sscanf(name.c_str() + e + 1, "t=%lld", &x) == 1) v.threads = (int)x;
    }
    vs.push_back(v);
    p = q + 1;
  }
  fathom::set_num_threads(threads);
  std::printf("interleaved, %d threads, %d rounds: median GFLOP/s (ratio to %s, median of rounds)\n",
              fathom::num_threads(), reps, vs[0].name.c_str());
  for (size_t si = 0; si < nshapes; ++si) {
    const Shape& s = shapes[si];
    if (only && !std::strstr(s.name, only)) continue;
    Operands o(s);
    const int64_t lda = o.lda, ldb = o.ldb;
    std::vector<float>&A = o.A, &B = o.B, &C = o.C;
    const double flop = 2.0 * s.M * s.N * s.K;
    const int inner = (int)std::max(1.0, 0.02 * 50e9 / flop);  // ~20 ms per timing
    std::vector<std::vector<double>> gf(vs.size()), rat(vs.size());
    for (int r = 0; r < reps; ++r) {
      std::vector<double> g(vs.size());
      for (size_t v = 0; v < vs.size(); ++v) {
        auto run = [&] {
          fathom::gemm_detail::gemm_run(vs[v].cfg, s.ta, s.tb, s.M, s.N, s.K, 1.0f, A.data(), lda,
                                        B.data(), ldb, 0.0f, C.data(), s.N);
        };
        fathom::set_num_threads(vs[v].threads);
        run();
        const double t0 = now();
        for (int i = 0; i < inner; ++i) run();
        g[v] = flop * inner / (now() - t0) * 1e-9;
        gf[v].push_back(g[v]);
      }
      for (size_t v = 0; v < vs.size(); ++v) rat[v].push_back(g[v] / g[0]);
    }
    std::printf("%-26s", s.name);
    for (size_t v = 0; v < vs.size(); ++v)
      std::printf("  %s %7.1f (%.3fx)", vs[v].name.c_str(), median(gf[v]), median(rat[v]));
    std::printf("\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* isa = "avx2";
  double peak = 117.0;
  int reps = 5;
  const char* only = nullptr;
  const char* cmp = nullptr;
  int threads = 1;
  Shape custom{nullptr, false, false, 0, 0, 0};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--isa")) isa = argv[i + 1];
    else if (!std::strcmp(argv[i], "--peak")) peak = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    else if (!std::strcmp(argv[i], "--compare")) cmp = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--mnk")) {
      long long m, n, k;
      if (std::sscanf(argv[i + 1], "%lld,%lld,%lld", &m, &n, &k) == 3) custom = {"custom", false, false, m, n, k};
    }
    else if (!std::strcmp(argv[i], "--mc")) g_mc = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--kc")) g_kc = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--nc")) g_nc = std::atoll(argv[i + 1]);
  }
  fathom::KernelTable t{};
  if (cmp) {
    const Shape cshapes[] = {
        {"sq256", 0, 0, 256, 256, 256},     {"sq512", 0, 0, 512, 512, 512},
        {"sq1024", 0, 0, 1024, 1024, 1024},
        {"mlp_fwd1 NT 128x256x784", 0, 1, 128, 256, 784},
        {"mlp_fwd2 NT 128x256x256", 0, 1, 128, 256, 256},
        {"mlp_fwd3 NT 128x10x256", 0, 1, 128, 10, 256},
        {"mlp_dW1 TN 256x784x128", 1, 0, 256, 784, 128},
        {"mlp_dW2 TN 256x256x128", 1, 0, 256, 256, 128},
        {"mlp_dX2 NN 128x256x256", 0, 0, 128, 256, 256},
        {"mlp_dX3 NN 128x256x10", 0, 0, 128, 256, 10},
        {"b256_fwd1 NT 256x256x784", 0, 1, 256, 256, 784},
        {"b1_fwd1 NT 1x256x784", 0, 1, 1, 256, 784},
        {"b1_fwd2 NT 1x256x256", 0, 1, 1, 256, 256},
        {"b1 NT 1x1024x1024", 0, 1, 1, 1024, 1024},
        {"b1 NN 1x1024x1024", 0, 0, 1, 1024, 1024},
        {"b1 NT 1x2048x1024", 0, 1, 1, 2048, 1024},
        {"b1 NT 1x4096x2048", 0, 1, 1, 4096, 2048},
        {"b2 NN 2x4096x2048", 0, 0, 2, 4096, 2048},
        {"sq1024 TT", 1, 1, 1024, 1024, 1024},
    };
    return compare(cmp, reps, threads, only, cshapes, std::size(cshapes));
  }
  if (!std::strcmp(isa, "scalar")) fathom::gemm_fill_ref(t);
#if defined(__x86_64__) || defined(_M_X64)
  else if (!std::strcmp(isa, "avx2")) fathom::gemm_fill_avx2(t);
  else if (!std::strcmp(isa, "avx512")) fathom::gemm_fill_avx512(t);
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
  else if (!std::strcmp(isa, "neon")) fathom::gemm_fill_neon(t);
#endif
  if (!t.gemm) {
    std::fprintf(stderr, "unknown isa %s\n", isa);
    return 1;
  }
  if (g_mc || g_kc || g_nc) {
    g_cfg = *fathom::gemm_detail::config_for(isa);
    if (g_mc) g_cfg.mc = g_mc;
    if (g_kc) g_cfg.kc = g_kc;
    if (g_nc) g_cfg.nc = g_nc;
    t.gemm = gemm_tuned;
    std::printf("blocks mc %lld kc %lld nc %lld\n", (long long)g_cfg.mc, (long long)g_cfg.kc,
                (long long)g_cfg.nc);
  }
  const Shape shapes[] = {
      {"sq64", 0, 0, 64, 64, 64},          {"sq128", 0, 0, 128, 128, 128},
      {"sq256", 0, 0, 256, 256, 256},      {"sq512", 0, 0, 512, 512, 512},
      {"sq1024", 0, 0, 1024, 1024, 1024},  {"sq2048", 0, 0, 2048, 2048, 2048},
      {"mlp_fwd NN 128x256x784", 0, 0, 128, 256, 784},
      {"mlp_dW TN 784x256x128", 1, 0, 784, 256, 128},
      {"mlp_dX NT 128x784x256", 0, 1, 128, 784, 256},
      {"sq1024 TT", 1, 1, 1024, 1024, 1024},
  };
  const int maxth = fathom::max_threads();
  std::printf("isa %s, peak %.1f GFLOP/s/core, %d threads max\n", isa, peak, maxth);
  std::printf("%-26s %10s %7s %10s %7s\n", "shape", "1T GF/s", "%peak", "NT GF/s", "%peak");
  std::vector<Shape> list(std::begin(shapes), std::end(shapes));
  if (custom.name) list = {custom};
  for (const Shape& s : list) {
    if (only && !std::strstr(s.name, only)) continue;
    Operands o(s);
    const int64_t lda = o.lda, ldb = o.ldb;
    std::vector<float>&A = o.A, &B = o.B, &C = o.C;
    const double flop = 2.0 * s.M * s.N * s.K;
    double gf[2] = {0, 0};
    int ths[2] = {1, maxth};
    for (int v = 0; v < 2; ++v) {
      fathom::set_num_threads(ths[v]);
      // Calls per timed run: about 0.1 s of work.
      const int inner = (int)std::max(1.0, 0.1 * 50e9 / flop);
      t.gemm(s.ta, s.tb, s.M, s.N, s.K, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), s.N);
      double best = 1e30;
      for (int r = 0; r < reps; ++r) {
        const double t0 = now();
        for (int i = 0; i < inner; ++i)
          t.gemm(s.ta, s.tb, s.M, s.N, s.K, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(),
                 s.N);
        best = std::min(best, (now() - t0) / inner);
      }
      gf[v] = flop / best * 1e-9;
    }
    std::printf("%-26s %10.1f %6.1f%% %10.1f %6.1f%%\n", s.name, gf[0], 100 * gf[0] / peak, gf[1],
                100 * gf[1] / (peak * maxth));
  }
  return 0;
}
