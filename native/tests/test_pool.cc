// Pooling (kernels.h Pool2d): every ISA table's max/avg pool forward and
// backward against the scalar reference table, bitwise. The SIMD kernels
// cover 2x2 stride-2 windows 8, then 4, then 1 output wide, so the widths run
// over every mix of those steps (ow 1 .. 19), odd H/W (a row/column left out),
// and the special values: ties (first maximal cell wins), NaN (the last NaN of a
// window wins), -inf, -0 and +0.
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "helpers.h"
#include "test.h"

using namespace fathom;
using namespace fathom::kt;

namespace {

Pool2d pool2x2(int64_t nc, int64_t h, int64_t w) {
  return Pool2d{nc, h, w, h / 2, w / 2, 2, 2, 2, 2, 0, 0, 1, 1};
}

// Values drawn from a small set so that windows tie often, with specials sprinkled in.
std::vector<float> pool_input(int64_t n, uint64_t seed) {
  Rng r(seed);
  const float pick[] = {-1.0f, 0.5f, 2.0f, -0.0f, 0.0f, 2.0f, 3.0f, -kInf, kNaN, 1.25f};
  std::vector<float> v((size_t)n);
  for (auto& x : v) {
    const uint32_t k = r.next() % 40;
    x = k < 10 ? pick[k] : r.uni(-2, 2);
  }
  return v;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, 4) == 0 || (a != a && b != b); }

void bitwise(const std::string& what, const std::vector<float>& got, const std::vector<float>& want) {
  for (size_t i = 0; i < want.size(); ++i)
    CHECK(same_bits(got[i], want[i])) << what << "[" << i << "] = " << got[i] << ", want " << want[i];
}

}  // namespace

TEST(pool_2x2_every_isa_vs_ref_bitwise) {
  const KernelTable& ref = ref_table();
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (int64_t w = 2; w <= 39; ++w) {
      for (int64_t h : {2, 3, 8, 9}) {
        const Pool2d g = pool2x2(3, h, w);
        const int64_t xs = g.nc * h * w, ys = g.nc * g.oh * g.ow;
        const auto x = pool_input(xs, (uint64_t)(w * 31 + h));
        const auto dy = randv(ys, -1, 1, (uint64_t)(w + 7 * h));
        const std::string what = std::string(t->isa) + " 2x2/2 h=" + std::to_string(h) + " w=" + std::to_string(w);
        std::vector<float> y(ys, 9.0f), ye(ys, 9.0f), dx(xs, 9.0f), dxe(xs, 9.0f);
        t->max_pool2d(g, x.data(), y.data());
        ref.max_pool2d(g, x.data(), ye.data());
        bitwise(what + " max y", y, ye);
        t->max_pool2d_bwd(g, x.data(), dy.data(), dx.data());
        ref.max_pool2d_bwd(g, x.data(), dy.data(), dxe.data());
        bitwise(what + " max dx", dx, dxe);
        std::vector<float> a(ys, 9.0f), ae(ys, 9.0f), da(xs, 9.0f), dae(xs, 9.0f);
        t->avg_pool2d(g, true, 0, x.data(), a.data());
        ref.avg_pool2d(g, true, 0, x.data(), ae.data());
        bitwise(what + " avg y", a, ae);
        t->avg_pool2d_bwd(g, true, 0, dy.data(), da.data());
        ref.avg_pool2d_bwd(g, true, 0, dy.data(), dae.data());
        bitwise(what + " avg dx", da, dae);
      }
    }
  }
}

// Other geometries go to the reference on every table: same bits too.
TEST(pool_other_geometries_every_isa_vs_ref) {
  const KernelTable& ref = ref_table();
  const Pool2d cases[] = {
      {2, 7, 9, 3, 4, 3, 3, 2, 2, 1, 1, 1, 1},  // 3x3/2, padded
      {2, 8, 8, 7, 7, 2, 2, 1, 1, 0, 0, 1, 1},  // overlapping windows
      {1, 9, 9, 3, 3, 2, 2, 3, 3, 0, 0, 2, 2},  // dilation, stride > kernel
  };
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (const Pool2d& g : cases) {
      const int64_t xs = g.nc * g.h * g.w, ys = g.nc * g.oh * g.ow;
      const auto x = pool_input(xs, 5), dy = randv(ys, -1, 1, 6);
      std::vector<float> y(ys), ye(ys), dx(xs), dxe(xs);
      t->max_pool2d(g, x.data(), y.data());
      ref.max_pool2d(g, x.data(), ye.data());
      bitwise(std::string(t->isa) + " max y", y, ye);
      t->max_pool2d_bwd(g, x.data(), dy.data(), dx.data());
      ref.max_pool2d_bwd(g, x.data(), dy.data(), dxe.data());
      bitwise(std::string(t->isa) + " max dx", dx, dxe);
    }
  }
}

// Adaptive average pooling on every table vs the reference: 1x1 outputs (global average
// pooling: a vectorised sum, equal to rounding) at plane sizes around the 8- and 32-lane
// steps, and other output sizes (the reference on every table: bitwise). The backward is
// bitwise everywhere. Sentinels (9) check that every element is written.
TEST(adaptive_avg_pool_every_isa_vs_ref) {
  const KernelTable& ref = ref_table();
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (int64_t nc : {0, 1, 7, 33}) {
      for (auto hw : {std::pair<int64_t, int64_t>{1, 1}, {1, 7}, {7, 1}, {3, 11}, {4, 8}, {5, 7}, {12, 12}, {16, 16},
                      {1, 257}, {17, 19}}) {
        for (auto o : {std::pair<int64_t, int64_t>{1, 1}, {2, 3}}) {
          const Pool2d g{nc, hw.first, hw.second, o.first, o.second, 1, 1, 1, 1, 0, 0, 1, 1};
          const int64_t xs = nc * g.h * g.w, ys = nc * g.oh * g.ow;
          const auto x = randv(xs, -2, 2, (uint64_t)(xs + 3));
          const auto dy = randv(ys, -1, 1, (uint64_t)(ys + 5));
          const std::string what = std::string(t->isa) + " adaptive nc=" + std::to_string(nc) + " " +
                                   std::to_string(g.h) + "x" + std::to_string(g.w) + " -> " +
                                   std::to_string(g.oh) + "x" + std::to_string(g.ow);
          std::vector<float> y(ys, 9.0f), ye(ys, 9.0f), dx(xs, 9.0f), dxe(xs, 9.0f);
          t->adaptive_avg_pool2d(g, x.data(), y.data());
          ref.adaptive_avg_pool2d(g, x.data(), ye.data());
          if (g.oh == 1 && g.ow == 1)
            check_all(what + " y", y.data(), ye.data(), ys, 1e-5, 1e-6);
          else
            bitwise(what + " y", y, ye);
          t->adaptive_avg_pool2d_bwd(g, dy.data(), dx.data());
          ref.adaptive_avg_pool2d_bwd(g, dy.data(), dxe.data());
          bitwise(what + " dx", dx, dxe);
        }
      }
    }
  }
}

// Max pooling at geometries the 2x2/2 path does not take, wide enough (ow >= 8) for the
// AVX2 8-output blocks, with edge columns (padding, ceilMode overhang) on the scalar path:
// every table bitwise against the reference, forward and backward (overlapping windows add
// dy into dx in the reference's order), on inputs full of ties, NaN and -inf.
TEST(max_pool_generic_every_isa_vs_ref_bitwise) {
  const KernelTable& ref = ref_table();
  struct G { int64_t h, w, k0, k1, s0, s1, p0, p1, d0, d1; bool ceil; };
  const G cases[] = {
      {24, 24, 3, 3, 2, 2, 1, 1, 1, 1, false}, {29, 31, 3, 3, 2, 2, 1, 1, 1, 1, true},
      {13, 37, 3, 3, 1, 1, 1, 1, 1, 1, false}, {9, 40, 3, 3, 1, 1, 0, 0, 1, 1, false},
      {20, 45, 2, 2, 3, 3, 0, 0, 2, 2, false}, {11, 33, 1, 1, 1, 1, 0, 0, 1, 1, false},
      {10, 50, 5, 2, 2, 1, 2, 1, 1, 3, true},  {8, 26, 2, 2, 2, 2, 0, 0, 1, 1, true},
      {5, 64, 3, 5, 1, 3, 1, 2, 2, 1, false},  {6, 17, 2, 3, 1, 2, 0, 1, 1, 1, true},
  };
  auto out = [](int64_t n, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil) {
    const int64_t span = n + 2 * p - d * (k - 1) - 1;
    int64_t o = (ceil ? (span + s - 1) / s : span / s) + 1;
    if (ceil && (o - 1) * s >= n + p) --o;  // PyTorch: the last window starts inside
    return o;
  };
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (const G& c : cases) {
      const Pool2d g{3, c.h, c.w, out(c.h, c.k0, c.s0, c.p0, c.d0, c.ceil), out(c.w, c.k1, c.s1, c.p1, c.d1, c.ceil),
                     c.k0, c.k1, c.s0, c.s1, c.p0, c.p1, c.d0, c.d1};
      const int64_t xs = g.nc * g.h * g.w, ys = g.nc * g.oh * g.ow;
      const auto x = pool_input(xs, (uint64_t)(c.h * 100 + c.w));
      const auto dy = randv(ys, -1, 1, (uint64_t)(c.w + 3));
      const std::string what = std::string(t->isa) + " " + std::to_string(c.h) + "x" + std::to_string(c.w) + " k" +
                               std::to_string(c.k0) + "x" + std::to_string(c.k1) + " s" + std::to_string(c.s0) + "," +
                               std::to_string(c.s1) + " -> " + std::to_string(g.oh) + "x" + std::to_string(g.ow);
      std::vector<float> y(ys, 9.0f), ye(ys, 9.0f), dx(xs, 9.0f), dxe(xs, 9.0f);
      t->max_pool2d(g, x.data(), y.data());
      ref.max_pool2d(g, x.data(), ye.data());
      bitwise(what + " max y", y, ye);
      t->max_pool2d_bwd(g, x.data(), dy.data(), dx.data());
      ref.max_pool2d_bwd(g, x.data(), dy.data(), dxe.data());
      bitwise(what + " max dx", dx, dxe);
    }
  }
}
