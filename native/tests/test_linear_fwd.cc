// #13 rawinfer: the fused inference layer ops::linear_fwd (y = act(x wᵀ + bias)) on every
// table (reference and each ISA): bitwise the same as gemm then bias_act on that table, close
// to the naive double-accumulation product, at sizes 0, 1, 7, 33, 257 on each of n, out, in;
// and the batch-1/2 MLP layers through it never wake the thread pool.
#include <cmath>
#include <string>
#include <vector>

#include "helpers.h"
#include "kernels/dispatch.h"
#include "kernels/gemm/gemm.h"
#include "kernels/ops.h"
#include "runtime/pool.h"
#include "test.h"

using namespace fathom;
using namespace fathom::kt;

namespace {

const Act kLinActs[] = {Act::None, Act::Relu, Act::Sigmoid, Act::Tanh};
const int64_t kLinSizes[] = {0, 1, 7, 33, 257};

std::vector<const KernelTable*> all_tables() {
  std::vector<const KernelTable*> t{&ref_table()};
  for (const KernelTable* k : isa_tables()) t.push_back(k);
  return t;
}

void check_case(const KernelTable& t, int64_t n, int64_t d, int64_t k, Act act, bool with_bias) {
  const std::vector<float> x = randv(n * k, -1, 1, 3 + n * 7 + k), w = randv(d * k, -1, 1, 5 + d * 11 + k),
                           bias = randv(d, -1, 1, 7 + d);
  const float* b = with_bias ? bias.data() : nullptr;
  std::vector<float> got(n * d, kNaN), want(n * d, kNaN), naive(n * d, kNaN);
  ops::linear_fwd(t, n, d, k, x.data(), w.data(), b, act, got.data());
  if (n * d > 0) {
    ops::gemm(t, false, true, n, d, k, 1.0f, x.data(), k, w.data(), k, 0.0f, want.data(), d);
    if (b || act != Act::None) ops::bias_act(t, n, d, want.data(), b, act);
  }
  const std::string what = std::string(t.isa) + " linear_fwd n=" + std::to_string(n) + " out=" +
                           std::to_string(d) + " in=" + std::to_string(k) + " act=" + std::to_string((int)act) +
                           (with_bias ? " bias" : "");
  check_all(what + " vs gemm+bias_act", got.data(), want.data(), n * d, 0, 0);
  // Against the naive product (double accumulation) then the reference epilogue.
  if (n * d > 0) {
    gemm_naive(false, true, n, d, k, 1.0f, x.data(), k, w.data(), k, 0.0f, naive.data(), d);
    if (b || act != Act::None) ops::bias_act(ref_table(), n, d, naive.data(), b, act);
    check_all(what + " vs naive", got.data(), naive.data(), n * d, 1e-5, 1e-6 * (double)(k + 1));
  }
}

}  // namespace

TEST(linear_fwd_every_table_matches_gemm_bias_act) {
  for (const KernelTable* t : all_tables())
    for (Act act : kLinActs)
      for (bool with_bias : {true, false})
        for (int64_t s : kLinSizes) {
          check_case(*t, s, 5, 9, act, with_bias);   // n
          check_case(*t, 3, s, 9, act, with_bias);   // out
          check_case(*t, 2, 5, s, act, with_bias);   // in (0: y = act(bias))
        }
}

TEST(linear_fwd_in_zero_is_act_of_bias) {
  // in = 0: x wᵀ is the empty sum 0, so y = relu(bias) row by row: [-1, 2] -> [0, 2].
  const float bias[2] = {-1.0f, 2.0f};
  float y[4] = {kNaN, kNaN, kNaN, kNaN};
  for (const KernelTable* t : all_tables()) {
    ops::linear_fwd(*t, 2, 2, 0, nullptr, nullptr, bias, Act::Relu, y);
    CHECK(y[0] == 0.0f && y[1] == 2.0f && y[2] == 0.0f && y[3] == 2.0f) << t->isa << " " << y[0] << " " << y[1];
  }
}

TEST(linear_fwd_batch1_mlp_stays_on_caller) {
  if (max_threads() < 2) SKIP("pool has one thread");
  const int saved = num_threads();
  set_num_threads(max_threads());
  const int64_t layers[][2] = {{784, 256}, {256, 256}, {256, 10}};  // in, out
  std::vector<float> x(2 * 784, 0.5f), w(784 * 256, 0.25f), bias(256, 1.0f), y(2 * 256);
  for (const KernelTable* t : isa_tables_or_skip())
    for (int64_t n : {1, 2})
      for (const auto& l : layers) {
        const uint64_t before = pool_jobs_started();
        ops::linear_fwd(*t, n, l[1], l[0], x.data(), w.data(), bias.data(), Act::Relu, y.data());
        CHECK(pool_jobs_started() == before) << t->isa << " batch " << n << " layer " << l[0] << " woke the pool";
        CHECK(y[0] == 0.5f * 0.25f * (float)l[0] + 1.0f) << t->isa << " y[0] = " << y[0];
      }
  set_num_threads(saved);
}
