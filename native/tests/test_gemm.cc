// SGEMM tests: every compiled ISA driver against the naive double-precision
// oracle, at micro-tile and cache-block edges, all four transpose
// combinations, padded leading dimensions, alpha/beta (beta == 0 over a NaN
// filled C), K == 0, and multi-threaded == single-threaded bitwise.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu/cpu.h"
#include "kernels/gemm/gemm.h"
#include "runtime/pool.h"
#include "test.h"

namespace {

using fathom::GemmFn;
using fathom::KernelTable;
using fathom::gemm_detail::Config;

struct Variant {
  const char* isa;
  GemmFn fn;
  const Config* cfg;
};

// Returns the variant for isa, or SKIPs when this binary/CPU cannot run it.
Variant get_variant(const char* isa) {
  KernelTable t{};
  const auto& cpu = fathom::cpu_features();
  if (std::strcmp(isa, "scalar") == 0) {
    fathom::gemm_fill_ref(t);
  }
#if defined(__x86_64__) || defined(_M_X64)
  else if (std::strcmp(isa, "avx2") == 0) {
    if (!cpu.avx2_fma) SKIP("CPU lacks AVX2+FMA");
    fathom::gemm_fill_avx2(t);
  } else if (std::strcmp(isa, "avx512") == 0) {
    if (!cpu.avx512) SKIP("CPU lacks AVX-512 F/BW/DQ/VL");
    fathom::gemm_fill_avx512(t);
  }
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
  else if (std::strcmp(isa, "neon") == 0) {
    if (!cpu.neon) SKIP("CPU lacks NEON");
    fathom::gemm_fill_neon(t);
  }
#endif
  else {
    SKIP("not compiled for this architecture");
  }
  (void)cpu;
  return {isa, t.gemm, fathom::gemm_detail::config_for(isa)};
}

// Deterministic values in [-1, 1).
struct Lcg {
  uint64_t s;
  float next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((s >> 40) * (1.0 / (1 << 23)) - 1.0);
  }
};

const float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kSentinel = 12345.0f;  // C's row padding: must never be written

struct Case {
  bool ta, tb;
  int64_t M, N, K;
  float alpha, beta;
  int64_t pad;  // extra elements per row of A, B and C (odd leading dimensions)
};

// Runs one case; returns false and fills msg on the first mismatch.
//
// Tolerance: the kernels accumulate K float products in float (in KC blocks);
// with |a| <= amax, |b| <= bmax the rounding error is bounded by about
// K * eps * K * amax * bmax in the worst case and ~sqrt(K) * eps * ... in
// practice, so we allow |c - ref| <= 1e-5 * (K + 1) * amax * bmax * |alpha|
// + 1e-6 * |beta| * cmax (the beta * C term rounds once or twice).
bool run_case(GemmFn fn, const Case& c, uint64_t seed, std::ostringstream& msg) {
  const int64_t ra = c.ta ? c.K : c.M, ca = c.ta ? c.M : c.K;
  const int64_t rb = c.tb ? c.N : c.K, cb = c.tb ? c.K : c.N;
  const int64_t lda = ca + c.pad, ldb = cb + c.pad, ldc = c.N + c.pad;
  // Padding of A and B holds NaN: reading it would poison results.
  std::vector<float> A((size_t)std::max<int64_t>(1, ra * lda), kNaN);
  std::vector<float> B((size_t)std::max<int64_t>(1, rb * ldb), kNaN);
  std::vector<float> C((size_t)std::max<int64_t>(1, c.M * ldc), kSentinel);
  Lcg g{seed};
  float amax = 0, bmax = 0, cmax = 0;
  for (int64_t i = 0; i < ra; ++i)
    for (int64_t j = 0; j < ca; ++j) amax = std::max(amax, std::fabs(A[i * lda + j] = g.next()));
  for (int64_t i = 0; i < rb; ++i)
    for (int64_t j = 0; j < cb; ++j) bmax = std::max(bmax, std::fabs(B[i * ldb + j] = g.next()));
  for (int64_t i = 0; i < c.M; ++i)
    for (int64_t j = 0; j < c.N; ++j) {
      float v = c.beta == 0.0f ? kNaN : g.next();
      C[i * ldc + j] = v;
      if (c.beta != 0.0f) cmax = std::max(cmax, std::fabs(v));
    }
  std::vector<float> R = C;
  fathom::gemm_naive(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb, c.beta,
                     R.data(), ldc);
  fn(c.ta, c.tb, c.M, c.N, c.K, c.alpha, A.data(), lda, B.data(), ldb, c.beta, C.data(), ldc);
  const double tol = 1e-5 * (double)(c.K + 1) * amax * bmax * std::fabs(c.alpha) +
                     1e-6 * std::fabs(c.beta) * cmax + 1e-30;
  for (int64_t i = 0; i < c.M; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const float got = C[i * ldc + j], want = R[i * ldc + j];
      const bool bad = j < c.N ? !(std::fabs((double)got - (double)want) <= tol)
                               : got != kSentinel;
      if (bad) {
        msg << "ta=" << c.ta << " tb=" << c.tb << " M=" << c.M << " N=" << c.N << " K=" << c.K
            << " alpha=" << c.alpha << " beta=" << c.beta << " pad=" << c.pad << ": C[" << i
            << "," << j << "] = " << got << ", want " << want
            << (j < c.N ? "" : " (row padding written)") << ", tol " << tol;
        return false;
      }
    }
  }
  return true;
}

const float kAlphas[3] = {1.0f, 0.5f, -2.0f};
const float kBetas[3] = {0.0f, 1.0f, 0.25f};
const int64_t kPads[3] = {0, 3, 17};

// Sweeps sizes around the variant's micro-tile and cache blocks.
void sweep(const char* isa) {
  const Variant v = get_variant(isa);
  CHECK(v.fn != nullptr && v.cfg != nullptr) << isa << ": no gemm";
  if (!v.fn || !v.cfg) return;
  const int64_t mr = v.cfg->mr, nr = v.cfg->nr;
  std::vector<int64_t> dims = {1, 2, 5, 6, 7, mr - 1, mr, mr + 1, nr - 1, nr, nr + 1, 33, 64, 65};
  std::vector<Case> cases;
  for (int t = 0; t < 4; ++t)
    for (int64_t M : dims)
      for (int64_t N : dims)
        for (int64_t K : {int64_t(1), int64_t(7), int64_t(64)})
          cases.push_back({(t & 1) != 0, (t & 2) != 0, M, N, K, 0, 0, 0});
  const int64_t kc = v.cfg->kc, mc = v.cfg->mc, nc = v.cfg->nc;
  const int64_t big[][3] = {
      {257, 65, 257},       {65, 257, 33},          {33, 31, kc + 1},
      {mr + 1, nr + 1, 2 * kc + 3}, {mc + 1, 2 * nr + 3, 9}, {2 * mc + mr + 1, 20, kc + 1},
      {7, nc + 1, 3},        {mr * 2 + 1, nc + nr + 5, kc - 1}, {1, 1, 3 * kc + 1},
      {257, 1, 100},         {1, 257, 100},
  };
  for (int t = 0; t < 4; ++t)
    for (const auto& s : big) cases.push_back({(t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], 0, 0, 0});
  int fails = 0;
  for (size_t idx = 0; idx < cases.size() && fails < 5; ++idx) {
    Case c = cases[idx];
    c.alpha = kAlphas[idx % 3];
    c.beta = kBetas[(idx / 3) % 3];
    c.pad = kPads[(idx / 9) % 3];
    std::ostringstream msg;
    if (!run_case(v.fn, c, 1000 + idx, msg)) {
      ++fails;
      CHECK(false) << isa << " " << msg.str();
    }
  }
}

TEST(gemm_scalar_vs_naive) { sweep("scalar"); }
TEST(gemm_avx2_vs_naive) { sweep("avx2"); }
TEST(gemm_avx512_vs_naive) { sweep("avx512"); }
TEST(gemm_neon_vs_naive) { sweep("neon"); }

// Zero-sized problems: M == 0 or N == 0 touch nothing; K == 0 gives
// C = beta * C and beta == 0 writes zeros over NaN.
void zero_sizes(const char* isa) {
  const Variant v = get_variant(isa);
  for (float beta : {0.0f, 1.0f, 0.25f}) {
    std::vector<float> A(64, 1.0f), B(64, 1.0f), C(64, kSentinel);
    v.fn(false, false, 0, 5, 3, 1.0f, A.data(), 3, B.data(), 5, beta, C.data(), 5);
    v.fn(true, true, 5, 0, 3, 1.0f, A.data(), 5, B.data(), 3, beta, C.data(), 1);
    for (float x : C) CHECK(x == kSentinel) << isa << " M or N == 0 wrote C";
    // K == 0, 3 x 4 with ldc 6.
    for (int i = 0; i < 18; ++i) C[i] = (i % 6) < 4 ? (beta == 0.0f ? kNaN : 2.0f) : kSentinel;
    v.fn(false, true, 3, 4, 0, 1.0f, A.data(), 1, B.data(), 1, beta, C.data(), 6);
    for (int i = 0; i < 18; ++i) {
      const float want = (i % 6) < 4 ? 2.0f * beta : kSentinel;
      CHECK(C[i] == want) << isa << " K == 0, beta " << beta << ": C[" << i << "] = " << C[i];
    }
    // alpha == 0: A and B are not read (BLAS), C = beta * C.
    std::vector<float> An(64, kNaN);
    for (int i = 0; i < 18; ++i) C[i] = (i % 6) < 4 ? (beta == 0.0f ? kNaN : 2.0f) : kSentinel;
    v.fn(false, false, 3, 4, 2, 0.0f, An.data(), 2, An.data(), 4, beta, C.data(), 6);
    for (int i = 0; i < 18; ++i) {
      const float want = (i % 6) < 4 ? 2.0f * beta : kSentinel;
      CHECK(C[i] == want) << isa << " alpha == 0, beta " << beta << ": C[" << i << "] = " << C[i];
    }
  }
}

TEST(gemm_zero_sizes_scalar) { zero_sizes("scalar"); }
TEST(gemm_zero_sizes_avx2) { zero_sizes("avx2"); }
TEST(gemm_zero_sizes_avx512) { zero_sizes("avx512"); }
TEST(gemm_zero_sizes_neon) { zero_sizes("neon"); }

// A NaN / Inf in row r of A reaches row r of C only: zero padding of the
// packed panels must not spread it into neighbouring tiles.
void special_values(const char* isa) {
  const Variant v = get_variant(isa);
  const int64_t M = 2 * v.cfg->mr + 3, N = 2 * v.cfg->nr + 3, K = 19;
  std::vector<float> A((size_t)(M * K), 0.5f), B((size_t)(K * N), 0.25f), C((size_t)(M * N));
  const int64_t bad_nan = M - 1, bad_inf = v.cfg->mr;
  A[bad_nan * K + 3] = kNaN;
  A[bad_inf * K + 5] = std::numeric_limits<float>::infinity();
  v.fn(false, false, M, N, K, 1.0f, A.data(), K, B.data(), N, 0.0f, C.data(), N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      const float c = C[i * N + j];
      if (i == bad_nan)
        CHECK(std::isnan(c)) << isa << " C[" << i << "," << j << "] = " << c << ", want NaN";
      else if (i == bad_inf)
        CHECK(std::isinf(c) && c > 0) << isa << " C[" << i << "," << j << "] = " << c;
      else
        CHECK(c == 0.5f * 0.25f * K) << isa << " C[" << i << "," << j << "] = " << c;
    }
}

TEST(gemm_special_values_scalar) { special_values("scalar"); }
TEST(gemm_special_values_avx2) { special_values("avx2"); }
TEST(gemm_special_values_avx512) { special_values("avx512"); }
TEST(gemm_special_values_neon) { special_values("neon"); }

// Multi-threaded results equal single-threaded ones bit for bit, run to run,
// and when called from inside a pool task (the pool then runs the shares
// one after another on the calling thread).
void threads_bitwise(const char* isa) {
  const Variant v = get_variant(isa);
  const int saved = fathom::num_threads();
  const int64_t shapes[][5] = {
      // ta, tb, M, N, K
      {0, 0, 300, 200, 300}, {0, 0, 128, 256, 784}, {1, 0, 784, 256, 128},
      {0, 1, 128, 784, 256}, {1, 1, 1000, 17, 50},  {0, 0, 17, 1000, 50},
      {0, 0, 515, 513, 517},
      // gemv path (M <= 2), large enough to split N across threads.
      {0, 1, 1, 2048, 1024}, {0, 0, 2, 2048, 1024}, {1, 1, 2, 1500, 700},
  };
  for (const auto& s : shapes) {
    const bool ta = s[0] != 0, tb = s[1] != 0;
    const int64_t M = s[2], N = s[3], K = s[4];
    const int64_t lda = ta ? M : K, ldb = tb ? K : N;
    std::vector<float> A((size_t)(M * K)), B((size_t)(K * N)), C0((size_t)(M * N));
    Lcg g{77};
    for (float& x : A) x = g.next();
    for (float& x : B) x = g.next();
    for (float& x : C0) x = g.next();
    auto run = [&](int nth) {
      fathom::set_num_threads(nth);
      std::vector<float> C = C0;
      v.fn(ta, tb, M, N, K, 0.75f, A.data(), lda, B.data(), ldb, 0.5f, C.data(), N);
      return C;
    };
    const std::vector<float> one = run(1);
    for (int nth = 2; nth <= fathom::max_threads() && nth <= 8; ++nth) {
      const std::vector<float> a = run(nth), b = run(nth);
      CHECK(std::memcmp(a.data(), one.data(), a.size() * sizeof(float)) == 0)
          << isa << " " << nth << " threads differ from 1 thread, M=" << M << " N=" << N
          << " K=" << K;
      CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0)
          << isa << " " << nth << " threads differ run to run";
    }
    // Nested: gemm called from each of several pool tasks.
    fathom::set_num_threads(fathom::max_threads());
    std::vector<std::vector<float>> outs((size_t)fathom::max_threads(), C0);
    fathom::parallel_run(fathom::max_threads(), [&](int ith, int) {
      v.fn(ta, tb, M, N, K, 0.75f, A.data(), lda, B.data(), ldb, 0.5f, outs[(size_t)ith].data(), N);
    });
    for (const auto& o : outs)
      CHECK(std::memcmp(o.data(), one.data(), o.size() * sizeof(float)) == 0)
          << isa << " nested call differs, M=" << M << " N=" << N << " K=" << K;
  }
  fathom::set_num_threads(saved);
}

TEST(gemm_threads_bitwise_scalar) { threads_bitwise("scalar"); }
TEST(gemm_threads_bitwise_avx2) { threads_bitwise("avx2"); }
TEST(gemm_threads_bitwise_avx512) { threads_bitwise("avx512"); }
TEST(gemm_threads_bitwise_neon) { threads_bitwise("neon"); }

}  // namespace
