// #11 natops: the tensor-op kernels (kernels/tensorops.h): index_select against an oracle
// written from the definition (repeats, every axis split), its backward (index-add with
// repeats, dx overwritten, the fixed order), gather and its backward likewise, and cumsum forward / reverse against a double
// oracle, known answers included.
#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/tensorops.h"
#include "test.h"

using namespace fathom;

namespace {

float kNaNf() { return std::nanf(""); }

std::vector<float> pattern(int64_t len, uint32_t seed) {
  std::vector<float> v((size_t)len);
  uint32_t s = seed ? seed : 1;
  for (auto& f : v) {
    s = s * 1664525u + 1013904223u;
    f = (float)((double)s / 4294967296.0 * 4.0 - 2.0);
  }
  return v;
}

}  // namespace

TEST(tensorops_index_select_known_values) {
  // x (1, 3, 2) = [[0, 1], [2, 3], [4, 5]]; idx [2, 0, 2] -> [[4, 5], [0, 1], [4, 5]].
  const float x[] = {0, 1, 2, 3, 4, 5};
  const int32_t idx[] = {2, 0, 2};
  float y[6];
  ops::index_select(1, 3, 2, x, idx, 3, y);
  const float want[] = {4, 5, 0, 1, 4, 5};
  for (int i = 0; i < 6; ++i) CHECK(y[i] == want[i]) << "y[" << i << "] = " << y[i] << ", want " << want[i];
  // backward: dy = [1, 2, 3, 4, 5, 6] -> dx = [[3, 4], [0, 0], [1 + 5, 2 + 6]].
  const float dy[] = {1, 2, 3, 4, 5, 6};
  float dx[6] = {9, 9, 9, 9, 9, 9};  // overwritten, not accumulated into
  ops::index_select_backward(1, 3, 2, dy, idx, 3, dx);
  const float wantd[] = {3, 4, 0, 0, 6, 8};
  for (int i = 0; i < 6; ++i) CHECK(dx[i] == wantd[i]) << "dx[" << i << "] = " << dx[i] << ", want " << wantd[i];
}

TEST(tensorops_index_select_against_oracle) {
  for (int64_t outer : {1, 3, 7})
    for (int64_t n : {1, 5, 33})
      for (int64_t inner : {1, 4, 257})
        for (int64_t m : {0, 1, 9}) {
          const auto x = pattern(outer * n * inner, (uint32_t)(outer * 131 + n * 17 + inner));
          std::vector<int32_t> idx((size_t)m);
          for (int64_t i = 0; i < m; ++i) idx[(size_t)i] = (int32_t)((i * 7 + 3) % n);
          std::vector<float> y((size_t)(outer * m * inner), NAN);
          ops::index_select(outer, n, inner, x.data(), idx.data(), m, y.data());
          for (int64_t a = 0; a < outer; ++a)
            for (int64_t i = 0; i < m; ++i)
              for (int64_t b = 0; b < inner; ++b)
                CHECK(y[(size_t)((a * m + i) * inner + b)] == x[(size_t)((a * n + idx[(size_t)i]) * inner + b)])
                    << "outer " << outer << " n " << n << " inner " << inner << " at " << a << "," << i << "," << b;
          const auto dy = pattern(outer * m * inner, 99);
          std::vector<float> dx((size_t)(outer * n * inner), NAN), want((size_t)(outer * n * inner), 0.0f);
          ops::index_select_backward(outer, n, inner, dy.data(), idx.data(), m, dx.data());
          for (int64_t a = 0; a < outer; ++a)
            for (int64_t i = 0; i < m; ++i)
              for (int64_t b = 0; b < inner; ++b)
                want[(size_t)((a * n + idx[(size_t)i]) * inner + b)] += dy[(size_t)((a * m + i) * inner + b)];
          for (size_t p = 0; p < dx.size(); ++p) CHECK(dx[p] == want[p]) << "dx[" << p << "] = " << dx[p] << ", want " << want[p];
        }
}

TEST(tensorops_gather_known_values) {
  // x (1, 3, 2) = [[0, 1], [2, 3], [4, 5]]; idx (1, 2, 2) = [[2, 0], [2, 2]] -> [[4, 1], [4, 5]].
  const float x[] = {0, 1, 2, 3, 4, 5};
  const int32_t idx[] = {2, 0, 2, 2};
  float y[4];
  ops::gather(1, 3, 2, x, idx, 2, y);
  const float want[] = {4, 1, 4, 5};
  for (int i = 0; i < 4; ++i) CHECK(y[i] == want[i]) << "y[" << i << "] = " << y[i] << ", want " << want[i];
  // backward: dy = [1, 2, 3, 4] -> dx = [[0, 2], [0, 0], [1 + 3, 4]].
  const float dy[] = {1, 2, 3, 4};
  float dx[6] = {9, 9, 9, 9, 9, 9};  // overwritten, not accumulated into
  ops::gather_backward(1, 3, 2, dy, idx, 2, dx);
  const float wantd[] = {0, 2, 0, 0, 4, 4};
  for (int i = 0; i < 6; ++i) CHECK(dx[i] == wantd[i]) << "dx[" << i << "] = " << dx[i] << ", want " << wantd[i];
}

TEST(tensorops_gather_against_oracle) {
  for (int64_t outer : {1, 3, 7})
    for (int64_t n : {1, 5, 33})
      for (int64_t inner : {1, 4, 257})
        for (int64_t m : {0, 1, 9}) {
          const auto x = pattern(outer * n * inner, (uint32_t)(outer * 137 + n * 19 + inner));
          const int64_t yl = outer * m * inner;
          std::vector<int32_t> idx((size_t)yl);
          for (int64_t p = 0; p < yl; ++p) idx[(size_t)p] = (int32_t)((p * 7 + 3) % n);
          std::vector<float> y((size_t)yl, NAN);
          ops::gather(outer, n, inner, x.data(), idx.data(), m, y.data());
          for (int64_t a = 0; a < outer; ++a)
            for (int64_t j = 0; j < m; ++j)
              for (int64_t b = 0; b < inner; ++b) {
                const int64_t p = (a * m + j) * inner + b;
                CHECK(y[(size_t)p] == x[(size_t)((a * n + idx[(size_t)p]) * inner + b)])
                    << "outer " << outer << " n " << n << " inner " << inner << " at " << a << "," << j << "," << b;
              }
          const auto dy = pattern(yl, 101);
          std::vector<float> dx((size_t)(outer * n * inner), NAN), want((size_t)(outer * n * inner), 0.0f);
          ops::gather_backward(outer, n, inner, dy.data(), idx.data(), m, dx.data());
          for (int64_t a = 0; a < outer; ++a)
            for (int64_t j = 0; j < m; ++j)
              for (int64_t b = 0; b < inner; ++b) {
                const int64_t p = (a * m + j) * inner + b;
                want[(size_t)((a * n + idx[(size_t)p]) * inner + b)] += dy[(size_t)p];
              }
          for (size_t p = 0; p < dx.size(); ++p) CHECK(dx[p] == want[p]) << "dx[" << p << "] = " << dx[p] << ", want " << want[p];
        }
}

TEST(tensorops_cumsum) {
  const float x[] = {1, 10, 2, 20, 3, 30};  // (1, 3, 2): columns [1, 2, 3] and [10, 20, 30]
  float y[6];
  ops::cumsum(1, 3, 2, x, false, y);
  const float fwd[] = {1, 10, 3, 30, 6, 60};
  for (int i = 0; i < 6; ++i) CHECK(y[i] == fwd[i]) << "y[" << i << "] = " << y[i];
  ops::cumsum(1, 3, 2, x, true, y);
  const float rev[] = {6, 60, 5, 50, 3, 30};
  for (int i = 0; i < 6; ++i) CHECK(y[i] == rev[i]) << "reverse y[" << i << "] = " << y[i];
  // double accumulation: 1e8 + 1 + ... stays exact before the rounding on store.
  for (int64_t outer : {1, 4})
    for (int64_t n : {1, 7, 257})
      for (int64_t inner : {1, 33}) {
        const auto v = pattern(outer * n * inner, (uint32_t)(n * 3 + inner));
        std::vector<float> out(v.size());
        for (bool reverse : {false, true}) {
          ops::cumsum(outer, n, inner, v.data(), reverse, out.data());
          for (int64_t a = 0; a < outer; ++a)
            for (int64_t b = 0; b < inner; ++b) {
              double acc = 0;
              for (int64_t s = 0; s < n; ++s) {
                const int64_t j = reverse ? n - 1 - s : s;
                acc += v[(size_t)((a * n + j) * inner + b)];
                CHECK(out[(size_t)((a * n + j) * inner + b)] == (float)acc) << "n " << n << " inner " << inner;
              }
            }
        }
      }
}

TEST(tensorops_where_broadcast) {
  // cond (2, 1) = [1, NaN] -> both rows pick a; cond [0, 1] per column against a (1, 3), b (2, 3).
  const float a[] = {1, 2, 3}, b[] = {10, 20, 30, 40, 50, 60};
  float out[6];
  const int64_t shape[] = {2, 3};
  const float c1[] = {0, kNaNf()};
  const int64_t cs1[] = {1, 0}, as[] = {0, 1}, bs[] = {3, 1};
  ops::where(2, shape, c1, cs1, a, as, b, bs, out);
  const float want1[] = {10, 20, 30, 1, 2, 3};  // row 0: cond 0 -> b; row 1: NaN != 0 -> a
  for (int i = 0; i < 6; ++i) CHECK(out[i] == want1[i]) << "out[" << i << "] = " << out[i] << ", want " << want1[i];
  const float c2[] = {1, -0.0f, 2};
  const int64_t cs2[] = {0, 1};
  ops::where(2, shape, c2, cs2, a, as, b, bs, out);
  const float want2[] = {1, 20, 3, 1, 50, 3};  // -0 counts as zero
  for (int i = 0; i < 6; ++i) CHECK(out[i] == want2[i]) << "out[" << i << "] = " << out[i] << ", want " << want2[i];
  // rank 0
  const float c0 = 0, a0 = 5, b0 = 6;
  float o0 = 0;
  ops::where(0, nullptr, &c0, nullptr, &a0, nullptr, &b0, nullptr, &o0);
  CHECK(o0 == 6) << o0;
}
