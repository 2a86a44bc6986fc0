// Tests of the GEMM building blocks one by one, per ISA configuration:
//   - packing (pack_a / pack_b of every config, the vectorised AVX2 and
//     AVX-512 ones included) against the packed-layout definition, bitwise,
//     at tile edges (0, 1, 7, MR-1, MR, MR+1, 33, 257), for op(X) = X and X^T
//     and padded leading dimensions, never writing past the panels;
//   - the small-M gemv path against a double oracle for every B layout,
//     sub-ranges [j0, j1), alpha/beta, beta == 0 over NaN;
//   - which GEMM the avx512 table picks, and that a batch-1 MLP layer stays
//     on the calling thread (no pool job) while a large gemv may split.
// ISAs this CPU lacks are skipped.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

#include "cpu/cpu.h"
#include "kernels/dispatch.h"
#include "kernels/gemm/gemm.h"
#include "runtime/pool.h"
#include "test.h"

namespace {

using fathom::gemm_detail::Config;

const float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kGuard = -7777.0f;  // packed-buffer cells past the panels

const Config* get_config(const char* isa) {
  const auto& cpu = fathom::cpu_features();
  if (std::strcmp(isa, "avx2") == 0 && !cpu.avx2_fma) SKIP("CPU lacks AVX2+FMA");
  if (std::strcmp(isa, "avx512") == 0 && !cpu.avx512) SKIP("CPU lacks AVX-512 F/BW/DQ/VL");
  if (std::strcmp(isa, "neon") == 0 && !cpu.neon) SKIP("CPU lacks NEON");
  const Config* c = fathom::gemm_detail::config_for(isa);
  if (!c) SKIP("not compiled for this architecture");
  return c;
}

// 64-byte aligned float buffer (pack_b's contract), filled with `fill`.
struct Aligned {
  float* p;
  size_t n;
  Aligned(size_t count, float fill) : n(count) {
    p = static_cast<float*>(::operator new((n ? n : 1) * sizeof(float), std::align_val_t{64}));
    for (size_t i = 0; i < n; ++i) p[i] = fill;
  }
  ~Aligned() { ::operator delete(p, std::align_val_t{64}); }
  Aligned(const Aligned&) = delete;
  Aligned& operator=(const Aligned&) = delete;
};

// Distinct, exactly representable values: v(i, k) identifies the element.
float val(int64_t i, int64_t k) { return (float)(i * 1000 + k + 1); }

// Builds an R x C matrix (row-major, leading dimension ld >= C) whose logical
// element (i, k) of op(X) is val(i, k); op(X) is rows x cols, X = op(X)^T
// when trans. Padding holds NaN.
std::vector<float> make_op(int64_t rows, int64_t cols, bool trans, int64_t pad, int64_t* rs,
                           int64_t* cs) {
  const int64_t R = trans ? cols : rows, C = trans ? rows : cols, ld = C + pad;
  std::vector<float> X((size_t)std::max<int64_t>(1, R * ld), kNaN);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t k = 0; k < cols; ++k) X[(size_t)(trans ? k * ld + i : i * ld + k)] = val(i, k);
  *rs = trans ? 1 : ld;
  *cs = trans ? ld : 1;
  return X;
}

// Both packings write ceil(n / R) panels of R x kc, element (k, r) at
// panel * R * kc + k * R + r, zero padded past n: A packs rows of op(A) (R = MR),
// B packs columns of op(B) (R = NR). One sweep checks either, bitwise, at tile
// edges, for both layouts and padded leading dimensions, and that nothing is
// written past the panels.
void pack_sweep(const char* isa, bool b_side) {
  const Config* cfg = get_config(isa);
  const int64_t R = b_side ? cfg->nr : cfg->mr;
  const char* what = b_side ? "pack_b" : "pack_a";
  int fails = 0;
  for (int64_t n : {int64_t(0), int64_t(1), int64_t(7), R - 1, R, R + 1, int64_t(33), int64_t(257)})
    for (int64_t kc : {1, 7, 8, 9, 33, 257})
      for (int t = 0; t < 2 && fails < 5; ++t)
        for (int64_t pad : {0, 5}) {
          // The packed index r runs over rows of op(A), or over columns of op(B):
          // op(B) (k, j) = val(j, k) is built as the transpose of an n x kc op-matrix.
          int64_t rs, cs;
          const std::vector<float> X = b_side ? make_op(n, kc, t == 0, pad, &cs, &rs) : make_op(n, kc, t == 1, pad, &rs, &cs);
          const int64_t panels = (n + R - 1) / R, used = panels * R * kc, guard = 64;
          Aligned P((size_t)(used + guard), kGuard);
          if (b_side) cfg->pack_b(kc, n, X.data(), rs, cs, P.p);
          else cfg->pack_a(n, kc, X.data(), rs, cs, P.p);
          for (int64_t p = 0; p < panels; ++p)
            for (int64_t k = 0; k < kc; ++k)
              for (int64_t r = 0; r < R; ++r) {
                const int64_t idx = p * R + r;
                const float got = P.p[p * R * kc + k * R + r];
                const float want = idx < n ? val(idx, k) : 0.0f;
                if (!(got == want) && fails++ < 5)
                  CHECK(false) << isa << " " << what << " n=" << n << " kc=" << kc << " trans=" << t
                               << " pad=" << pad << ": panel " << p << " k " << k << " index " << r
                               << " = " << got << ", want " << want;
              }
          for (int64_t g = used; g < used + guard; ++g)
            if (P.p[g] != kGuard && fails++ < 5)
              CHECK(false) << isa << " " << what << " n=" << n << " kc=" << kc << " trans=" << t
                           << " wrote past its panels at " << g;
        }
}

TEST(gemm_pack_a_scalar) { pack_sweep("scalar", false); }
TEST(gemm_pack_a_avx2) { pack_sweep("avx2", false); }
TEST(gemm_pack_a_avx512) { pack_sweep("avx512", false); }
TEST(gemm_pack_a_neon) { pack_sweep("neon", false); }
TEST(gemm_pack_b_scalar) { pack_sweep("scalar", true); }
TEST(gemm_pack_b_avx2) { pack_sweep("avx2", true); }
TEST(gemm_pack_b_avx512) { pack_sweep("avx512", true); }
TEST(gemm_pack_b_neon) { pack_sweep("neon", true); }

// Deterministic values in [-1, 1).
struct Lcg {
  uint64_t s;
  float next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((s >> 40) * (1.0 / (1 << 23)) - 1.0);
  }
};

// cfg->gemv on one row: every layout it accepts (rs == 1 with inca 1 and
// inca > 1, cs == 1 with inca 1 and > 1), sub-ranges [j0, j1) (cells outside
// untouched), alpha/beta, beta == 0 over NaN.
void gemv_sweep(const char* isa) {
  const Config* cfg = get_config(isa);
  if (!cfg->gemv) SKIP("no gemv path in this configuration");
  int fails = 0, idx = 0;
  for (int64_t N : {1, 7, 15, 16, 17, 31, 32, 33, 257})
    for (int64_t K : {1, 7, 8, 9, 33, 257})
      for (int layout = 0; layout < 4 && fails < 5; ++layout, ++idx) {
        const bool transB = layout < 2;   // op(B) = B^T: rs == 1
        const int64_t inca = layout % 2 ? 3 : 1;
        const float alpha = idx % 3 == 0 ? 1.0f : idx % 3 == 1 ? -0.5f : 2.0f;
        const float beta = idx % 4 == 0 ? 0.0f : idx % 4 == 1 ? 1.0f : 0.25f;
        const int64_t pad = idx % 2 ? 3 : 0;
        const int64_t ldb = (transB ? K : N) + pad;
        std::vector<float> B((size_t)((transB ? N : K) * ldb), kNaN), a((size_t)(K * inca), kNaN);
        Lcg g{(uint64_t)(500 + idx)};
        for (int64_t k = 0; k < K; ++k) a[(size_t)(k * inca)] = g.next();
        for (int64_t k = 0; k < K; ++k)
          for (int64_t j = 0; j < N; ++j) B[(size_t)(transB ? j * ldb + k : k * ldb + j)] = g.next();
        const int64_t rs = transB ? 1 : ldb, cs = transB ? ldb : 1;
        // Whole row, then an inner sub-range starting at a multiple of 16
        // (the driver's thread shares are aligned to 16 columns).
        const int64_t ranges[2][2] = {{0, N}, {N > 16 ? 16 : 0, N > 20 ? N - 3 : N}};
        for (const auto& r : ranges) {
          const int64_t j0 = r[0], j1 = r[1];
          std::vector<float> c((size_t)N), c0((size_t)N);
          for (int64_t j = 0; j < N; ++j) c0[(size_t)j] = beta == 0.0f ? kNaN : g.next();
          c = c0;
          cfg->gemv(j0, j1, K, alpha, a.data(), inca, B.data(), rs, cs, beta, c.data());
          for (int64_t j = 0; j < N; ++j) {
            const float got = c[(size_t)j];
            if (j < j0 || j >= j1) {
              const bool same = std::memcmp(&got, &c0[(size_t)j], sizeof(float)) == 0;
              if (!same && fails++ < 5)
                CHECK(false) << isa << " gemv wrote c[" << j << "] outside [" << j0 << ", " << j1
                             << ")";
              continue;
            }
            double s = 0;
            for (int64_t k = 0; k < K; ++k)
              s += (double)a[(size_t)(k * inca)] * (double)B[(size_t)(k * rs + j * cs)];
            double want = alpha * s;
            if (beta != 0.0f) want += (double)beta * c0[(size_t)j];
            const double tol = 1e-5 * (double)(K + 1) * std::fabs(alpha) + 1e-6;
            if (!(std::fabs((double)got - want) <= tol) && fails++ < 5)
              CHECK(false) << isa << " gemv N=" << N << " K=" << K << " transB=" << transB
                           << " inca=" << inca << " alpha=" << alpha << " beta=" << beta
                           << " range [" << j0 << ", " << j1 << "): c[" << j << "] = " << got
                           << ", want " << want;
          }
        }
      }
}

TEST(gemm_gemv_avx2) { gemv_sweep("avx2"); }
TEST(gemm_gemv_avx512) { gemv_sweep("avx512"); }

// The avx512 table's GEMM: the AVX2 driver where AVX-512 is double-pumped
// (Zen 4, where it measured faster; see avx512/fill.cc), else the 14x32 one.
TEST(gemm_avx512_table_choice) {
  const fathom::KernelTable* t = fathom::avx512_table();
  if (!t) SKIP("CPU lacks AVX-512 F/BW/DQ/VL");
  fathom::KernelTable a2{}, a5{};
  fathom::gemm_fill_avx2(a2);
  fathom::gemm_fill_avx512(a5);
  if (fathom::cpu_features().avx512_double_pumped)
    CHECK(t->gemm == a2.gemm) << "double-pumped AVX-512 (Zen 4) should keep the AVX2 GEMM";
  else
    CHECK(t->gemm == a5.gemm) << "full-width AVX-512 should use the 14x32 GEMM";
}

// Batch-1 MLP 784-256-256-10 layers (y = x W^T, W [out, in]) and their
// batch-2 twins never wake the pool, whatever the thread count; a gemv over
// 8 MiB of B may (so the counter is live and the test can fail).
TEST(gemm_small_m_stays_on_caller) {
  if (fathom::max_threads() < 2) SKIP("pool has one thread");
  const int saved = fathom::num_threads();
  fathom::set_num_threads(fathom::max_threads());
  const int64_t layers[][2] = {{784, 256}, {256, 256}, {256, 10}};  // in, out
  std::vector<float> x(2 * 2048, 0.5f), W(4096 * 2048, 0.25f), y(2 * 4096);
  // Tables with a gemv path (the scalar one has none: its blocked driver is
  // ~30x slower per FMA, so splitting a 784x256 layer pays there).
  std::vector<const fathom::KernelTable*> tables;
  if (fathom::avx2_table()) tables.push_back(fathom::avx2_table());
  if (fathom::avx512_table()) tables.push_back(fathom::avx512_table());
  if (tables.empty()) SKIP("no table with a gemv path on this CPU");
  for (const fathom::KernelTable* t : tables) {
    for (int64_t M : {1, 2})
      for (const auto& l : layers) {
        const uint64_t before = fathom::pool_jobs_started();
        t->gemm(false, true, M, l[1], l[0], 1.0f, x.data(), l[0], W.data(), l[0], 0.0f, y.data(),
                l[1]);
        CHECK(fathom::pool_jobs_started() == before)
            << t->isa << " batch " << M << " layer " << l[0] << "->" << l[1] << " woke the pool";
        CHECK(y[0] == 0.5f * 0.25f * (float)l[0]) << t->isa << " y[0] = " << y[0];
      }
    const uint64_t before = fathom::pool_jobs_started();
    t->gemm(false, true, 1, 2048, 1024, 1.0f, x.data(), 1024, W.data(), 1024, 0.0f, y.data(), 2048);
    CHECK(fathom::pool_jobs_started() > before) << t->isa << " 8 MiB gemv did not split";
  }
  fathom::set_num_threads(saved);
}

}  // namespace
