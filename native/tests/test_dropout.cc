// The fused dropout kernel: each ISA table against the
// reference at the 64-element group edges, in place, on special values; the
// mask against rand_uniform's numbers (u >= p); and the threaded ops:: entry
// against one table call (the mask must not depend on the thread count).
#include <cmath>
#include <cstdint>
#include <vector>

#include "helpers.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"
#include "kernels/ref/ref.h"
#include "runtime/pool.h"
#include "test.h"

using namespace fathom;
using namespace kt;

namespace {
const int64_t kDropSizes[] = {0, 1, 3, 4, 5, 63, 64, 65, 127, 128, 129, 1000, 40003};
const double kPs[] = {0.0, 0.2, 1.0 / 3.0, 0.5, 1.0};
float scale_of(double p) { return p == 1.0 ? 0.0f : (float)(1.0 / (1.0 - p)); }
}  // namespace

TEST(dropout_mask_is_uniform_ge_p) {
  for (double p : kPs) {
    for (int64_t n : kDropSizes) {
      std::vector<float> x = randv(n, -2, 2, 40 + n), y(n), mask(n), u(n), want_mask(n), want_y(n);
      f32_dropout__ref(n, 42, 7, p, scale_of(p), x.data(), y.data(), mask.data());
      f32_rand_uniform__ref(n, 42, 7, 0.0f, 1.0f, u.data());
      for (int64_t i = 0; i < n; ++i) {
        want_mask[i] = (double)u[i] >= p ? scale_of(p) : 0.0f;
        want_y[i] = x[i] * want_mask[i];
      }
      check_all("dropout mask vs uniform p=" + std::to_string(p) + " n=" + std::to_string(n), mask.data(), want_mask.data(), n, 0, 0);
      check_all("dropout y p=" + std::to_string(p) + " n=" + std::to_string(n), y.data(), want_y.data(), n, 0, 0);
    }
  }
}

TEST(dropout_isa_tables_match_ref) {
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (double p : kPs) {
      for (int64_t n : kDropSizes) {
        std::vector<float> x = randv(n, -2, 2, 50 + n), yr(n), mr(n), yt(n), mt(n);
        // a 64-bit counter that wraps inside the call
        const uint64_t seed = 0x0123456789abcdefull, offset = ~0ull - 5;
        f32_dropout__ref(n, seed, offset, p, scale_of(p), x.data(), yr.data(), mr.data());
        t->dropout(n, seed, offset, p, scale_of(p), x.data(), yt.data(), mt.data());
        const std::string what = std::string(t->isa) + " dropout p=" + std::to_string(p) + " n=" + std::to_string(n);
        check_all(what + " y", yt.data(), yr.data(), n, 0, 0);
        check_all(what + " mask", mt.data(), mr.data(), n, 0, 0);
      }
    }
    // in place (y = x) on special values
    std::vector<float> sx = {0.0f, -0.0f, kInf, -kInf, kNaN, 1e-40f, -1e-45f, 3e38f, 1, -1, 0.5f};
    sx.resize(200, 2.0f);
    std::vector<float> a = sx, b = sx, ma(sx.size()), mb(sx.size());
    f32_dropout__ref((int64_t)a.size(), 9, 3, 0.25, scale_of(0.25), a.data(), a.data(), ma.data());
    t->dropout((int64_t)b.size(), 9, 3, 0.25, scale_of(0.25), b.data(), b.data(), mb.data());
    check_all(std::string(t->isa) + " dropout in place, special values", b.data(), a.data(), (int64_t)a.size(), 0, 0);
  }
}

TEST(dropout_threads_do_not_change_the_mask) {
  const int64_t n = 100003;
  std::vector<float> x = randv(n, -1, 1, 60), y1(n), m1(n), yk(n), mk(n);
  ref_table().dropout(n, 5, 11, 0.3, scale_of(0.3), x.data(), y1.data(), m1.data());
  const int before = num_threads();
  for (int threads : {1, 2, 3, 8}) {
    set_num_threads(threads);
    ops::dropout(ref_table(), n, 5, 11, 0.3, scale_of(0.3), x.data(), yk.data(), mk.data());
    check_all("ops::dropout threads=" + std::to_string(threads), mk.data(), m1.data(), n, 0, 0);
    check_all("ops::dropout y threads=" + std::to_string(threads), yk.data(), y1.data(), n, 0, 0);
  }
  set_num_threads(before);
}
