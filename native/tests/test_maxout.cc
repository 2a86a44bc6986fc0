// Maxout (kernels.h: maxout, maxout_bwd): the reference against an oracle
// written from the contract (first maximum wins, NaN wins), known answers
// with ties and NaN, every ISA table against the reference, and the threaded
// ops:: entry against one table call.
#include <cmath>
#include <string>
#include <vector>

#include "helpers.h"
#include "kernels/ops.h"
#include "kernels/ref/ref.h"
#include "runtime/pool.h"
#include "test.h"

using namespace fathom;
using namespace fathom::kt;

namespace {

// The winner of a group, written independently: the first k with x[k] NaN if any,
// else the first k with x[k] equal to the largest value.
int64_t oracle_winner(const float* g, int64_t K) {
  for (int64_t k = 0; k < K; ++k)
    if (std::isnan(g[k])) return k;
  float m = g[0];
  for (int64_t k = 1; k < K; ++k) m = g[k] > m ? g[k] : m;
  for (int64_t k = 0; k < K; ++k)
    if (g[k] == m) return k;
  return 0;
}

}  // namespace

TEST(ref_maxout_known_values) {
  // Groups of 3: [1, 5, 5] -> 5 (first of the tie: index 1), [-2, NaN, 7] -> NaN (index 1),
  // [-0, 0, -1] -> -0 (equal zeros: the first), [-inf, -inf, -inf] -> -inf (index 0).
  const float x[] = {1, 5, 5, -2, kNaN, 7, -0.0f, 0.0f, -1, -kInf, -kInf, -kInf};
  float y[4];
  f32_maxout__ref(4, 3, x, y);
  CHECK(y[0] == 5 && std::isnan(y[1]) && y[2] == 0 && std::signbit(y[2]) && y[3] == -kInf)
      << y[0] << " " << y[1] << " " << y[2] << " " << y[3];
  const float dy[] = {1.5f, 2.5f, 3.5f, 4.5f};
  float dx[12];
  f32_maxout_bwd__ref(4, 3, x, dy, dx);
  const float want[] = {0, 1.5f, 0, 0, 2.5f, 0, 3.5f, 0, 0, 4.5f, 0, 0};
  for (int i = 0; i < 12; ++i) CHECK(dx[i] == want[i]) << "dx[" << i << "] = " << dx[i] << ", want " << want[i];
  // K = 1 is the identity; N = 0 touches nothing.
  float one[3] = {7, -8, kNaN}, y1[3], d1[3];
  f32_maxout__ref(3, 1, one, y1);
  CHECK(y1[0] == 7 && y1[1] == -8 && std::isnan(y1[2])) << "k=1";
  f32_maxout_bwd__ref(3, 1, one, dy, d1);
  CHECK(d1[0] == 1.5f && d1[1] == 2.5f && d1[2] == 3.5f) << "k=1 backward";
  f32_maxout__ref(0, 4, nullptr, nullptr);
  f32_maxout_bwd__ref(0, 4, nullptr, nullptr, nullptr);
}

TEST(ref_maxout_oracle) {
  for (int64_t K : {1, 2, 3, 4, 5, 8, 9, 17}) {
    for (int64_t N : {1, 7, 33, 257}) {
      // Values on a coarse grid (many ties) plus some NaN.
      auto x = randv(N * K, -4, 4, 7 * N + K);
      for (auto& v : x) v = std::round(v);
      for (int64_t i = 5; i < N * K; i += 37) x[(size_t)i] = kNaN;
      auto dy = randv(N, -2, 2, 11 * N + K);
      std::vector<float> y(N + 1, 9.0f), dx(N * K + 1, 9.0f);
      f32_maxout__ref(N, K, x.data(), y.data());
      f32_maxout_bwd__ref(N, K, x.data(), dy.data(), dx.data());
      const std::string what = "maxout N=" + std::to_string(N) + " K=" + std::to_string(K);
      for (int64_t n = 0; n < N; ++n) {
        const int64_t w = oracle_winner(&x[(size_t)(n * K)], K);
        const float want = x[(size_t)(n * K + w)];
        CHECK(y[(size_t)n] == want || (std::isnan(want) && std::isnan(y[(size_t)n]))) << what << " y[" << n << "]";
        for (int64_t k = 0; k < K; ++k)
          CHECK(dx[(size_t)(n * K + k)] == (k == w ? dy[(size_t)n] : 0.0f)) << what << " dx[" << n << "," << k << "]";
      }
      CHECK(y[(size_t)N] == 9.0f && dx[(size_t)(N * K)] == 9.0f) << what << ": wrote past the end";
    }
  }
}

TEST(isa_maxout_vs_ref) {
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (int64_t K : {1, 2, 3, 4, 5, 8, 9, 16}) {
      for (int64_t N : {0, 1, 7, 8, 9, 33, 257}) {
        auto x = randv(N * K, -3, 3, 3 * N + K);
        for (auto& v : x) v = std::round(v * 2) / 2;  // ties
        for (int64_t i = 3; i < N * K; i += 13) x[(size_t)i] = (i / 13) % 3 == 0 ? kNaN : (i / 13) % 3 == 1 ? -kInf : -0.0f;
        auto dy = randv(N, -1, 1, 5 * N + K);
        std::vector<float> a(N), b(N), da(N * K), db(N * K);
        t->maxout(N, K, x.data(), a.data());
        f32_maxout__ref(N, K, x.data(), b.data());
        t->maxout_bwd(N, K, x.data(), dy.data(), da.data());
        f32_maxout_bwd__ref(N, K, x.data(), dy.data(), db.data());
        const std::string what = std::string(t->isa) + " maxout N=" + std::to_string(N) + " K=" + std::to_string(K);
        check_all(what, a.data(), b.data(), N, 0, 0);
        check_all(what + " bwd", da.data(), db.data(), N * K, 0, 0);
        for (int64_t i = 0; i < N; ++i)  // the same zero: -0 and +0 tie, the first wins
          CHECK(std::signbit(a[(size_t)i]) == std::signbit(b[(size_t)i])) << what << " sign of y[" << i << "]";
      }
    }
  }
}

TEST(ops_maxout_threaded) {
  set_num_threads(max_threads());
  const int64_t N = 100003, K = 3;
  auto x = randv(N * K, -3, 3, 1);
  auto dy = randv(N, -1, 1, 2);
  std::vector<float> a(N), b(N), da(N * K), db(N * K);
  const KernelTable& k = ops::table();
  k.maxout(N, K, x.data(), a.data());
  ops::maxout(N, K, x.data(), b.data());
  check_all("ops::maxout", b.data(), a.data(), N, 0, 0);
  k.maxout_bwd(N, K, x.data(), dy.data(), da.data());
  ops::maxout_bwd(N, K, x.data(), dy.data(), db.data());
  check_all("ops::maxout_bwd", db.data(), da.data(), N * K, 0, 0);
}
