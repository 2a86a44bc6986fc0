// Convolution (kernels/conv.h): the threaded im2col + GEMM drivers on every
// ISA table against a direct-loop oracle (double accumulation) written from
// the formula, at awkward geometries (odd sizes, stride > kernel, dilation,
// groups, depthwise, 1x1, asymmetric padding, N = 0).
#include <cmath>
#include <string>
#include <vector>

#include "helpers.h"
#include "kernels/conv.h"
#include "runtime/pool.h"
#include "test.h"

using namespace fathom;
using namespace fathom::kt;

namespace {

ConvGeom mk(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw, int64_t s,
            int64_t p, int64_t d, int64_t groups, int64_t oh = -1, int64_t ow = -1) {
  ConvGeom g{n, c, h, w, o, kh, kw, s, s, p, p, d, d, groups, 0, 0};
  g.oh = oh >= 0 ? oh : (h + 2 * p - d * (kh - 1) - 1) / s + 1;
  g.ow = ow >= 0 ? ow : (w + 2 * p - d * (kw - 1) - 1) / s + 1;
  return g;
}

// The three oracles: y, dx, dw by direct loops over the formula in conv.h.
void oracle(const ConvGeom& g, const float* x, const float* w, const float* dy, std::vector<double>& y,
            std::vector<double>& dx, std::vector<double>& dw) {
  const int64_t cg = g.c / g.groups, og = g.o / g.groups;
  y.assign((size_t)(g.n * g.o * g.oh * g.ow), 0.0);
  dx.assign((size_t)(g.n * g.c * g.h * g.w), 0.0);
  dw.assign((size_t)(g.o * cg * g.kh * g.kw), 0.0);
  for (int64_t b = 0; b < g.n; ++b)
    for (int64_t oc = 0; oc < g.o; ++oc)
      for (int64_t i = 0; i < g.oh; ++i)
        for (int64_t j = 0; j < g.ow; ++j) {
          const int64_t yi = ((b * g.o + oc) * g.oh + i) * g.ow + j;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t u = 0; u < g.kh; ++u)
              for (int64_t v = 0; v < g.kw; ++v) {
                const int64_t yy = i * g.sh - g.ph + u * g.dh, xx = j * g.sw - g.pw + v * g.dw;
                if (yy < 0 || yy >= g.h || xx < 0 || xx >= g.w) continue;
                const int64_t xi = ((b * g.c + (oc / og) * cg + ci) * g.h + yy) * g.w + xx;
                const int64_t wi = ((oc * cg + ci) * g.kh + u) * g.kw + v;
                y[(size_t)yi] += (double)w[wi] * x[xi];
                dx[(size_t)xi] += (double)w[wi] * dy[yi];
                dw[(size_t)wi] += (double)x[xi] * dy[yi];
              }
        }
}

void close(const std::string& what, const float* got, const std::vector<double>& want, double tol) {
  for (size_t i = 0; i < want.size(); ++i)
    CHECK(std::fabs(got[i] - want[i]) <= tol * (1 + std::fabs(want[i]))) << what << "[" << i << "] = " << got[i]
                                                                          << ", want " << want[i];
}

}  // namespace

TEST(conv_vs_oracle_every_isa) {
  const ConvGeom cases[] = {
      mk(2, 3, 7, 9, 4, 3, 3, 1, 0, 1, 1),    mk(3, 2, 9, 8, 5, 3, 3, 2, 1, 1, 1),
      mk(2, 2, 11, 10, 3, 2, 2, 3, 0, 1, 1),  mk(1, 3, 9, 10, 2, 3, 3, 1, 2, 2, 1),
      mk(2, 6, 8, 7, 6, 3, 3, 1, 1, 1, 6),    mk(2, 4, 6, 5, 6, 3, 2, 1, 1, 1, 2),
      mk(3, 5, 4, 6, 7, 1, 1, 1, 0, 1, 1),    mk(2, 5, 5, 6, 3, 1, 1, 2, 0, 1, 1),
      mk(0, 3, 5, 5, 2, 3, 3, 1, 0, 1, 1),    mk(2, 2, 5, 6, 3, 4, 2, 1, 1, 1, 1, 5, 6),
      mk(9, 8, 12, 12, 16, 5, 5, 1, 2, 1, 2), mk(1, 16, 20, 20, 8, 3, 3, 1, 1, 1, 1),
      // several images per GEMM (oh*ow well under 256 columns), odd counts
      mk(37, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1),  mk(11, 3, 10, 9, 4, 3, 3, 2, 1, 2, 1),
      // kk = c/groups*kh*kw over one 256-row block: col built in row blocks
      mk(5, 40, 6, 7, 6, 3, 3, 1, 1, 1, 1),   mk(7, 64, 5, 5, 8, 3, 3, 1, 1, 1, 2),
      mk(13, 33, 4, 5, 3, 3, 3, 1, 1, 1, 1),  mk(6, 3, 7, 7, 4, 1, 1, 1, 0, 1, 1),
      // unpadded stride 1 (the forward's interior packing): runs of 8, 16 and others
      // across panels and images, dilation, kk over a K block, og over MR
      mk(19, 4, 12, 12, 6, 5, 5, 1, 0, 1, 1), mk(9, 2, 20, 20, 5, 3, 3, 1, 0, 1, 1),
      mk(7, 3, 11, 11, 4, 3, 3, 1, 0, 2, 1),  mk(6, 40, 7, 8, 5, 3, 3, 1, 0, 1, 1),
      mk(5, 2, 9, 30, 15, 2, 3, 1, 0, 1, 1),
  };
  set_num_threads(max_threads());
  std::vector<const KernelTable*> tables = isa_tables();
  tables.insert(tables.begin(), &ref_table());  // the drivers are portable: check them on the scalar GEMM too
  for (const KernelTable* t : tables) {
    for (const ConvGeom& g : cases) {
      const int64_t xs = g.n * g.c * g.h * g.w, ws = g.o * (g.c / g.groups) * g.kh * g.kw;
      const int64_t ys = g.n * g.o * g.oh * g.ow;
      auto x = randv(xs, -1, 1, 1), w = randv(ws, -1, 1, 2), dy = randv(ys, -1, 1, 3);
      std::vector<double> ey, edx, edw;
      oracle(g, x.data(), w.data(), dy.data(), ey, edx, edw);
      std::vector<float> y((size_t)ys, 7.0f), dx((size_t)xs, 7.0f), dw((size_t)ws, 7.0f);
      ops::conv2d(*t, g, x.data(), w.data(), nullptr, Act::None, y.data());
      // the fused epilogue: relu(conv + bias)
      auto bias = randv(g.o, -1, 1, 4);
      std::vector<float> yr((size_t)ys, 7.0f);
      ops::conv2d(*t, g, x.data(), w.data(), bias.data(), Act::Relu, yr.data());
      std::vector<double> er(ey);
      for (size_t i = 0; i < er.size(); ++i) {
        const double v = er[i] + bias[(size_t)((int64_t)i / (g.oh * g.ow) % g.o)];
        er[i] = v > 0 ? v : 0;
      }
      ops::conv2d_bwd_data(*t, g, dy.data(), w.data(), dx.data());
      ops::conv2d_bwd_weight(*t, g, x.data(), dy.data(), dw.data());
      const std::string what = std::string(t->isa) + " conv n=" + std::to_string(g.n) + " c=" + std::to_string(g.c) +
                               " h=" + std::to_string(g.h) + " k=" + std::to_string(g.kh) + " groups=" +
                               std::to_string(g.groups);
      close(what + " y", y.data(), ey, 1e-4);
      close(what + " relu(y + bias)", yr.data(), er, 1e-4);
      close(what + " dx", dx.data(), edx, 1e-4);
      close(what + " dw", dw.data(), edw, 1e-4);
    }
  }
}

// The weight gradient sums the batch's images in a fixed order for a given
// thread count (per-thread partials added in thread order): bitwise repeatable.
TEST(conv_bwd_weight_repeatable) {
  const ConvGeom g = mk(23, 6, 9, 9, 8, 3, 3, 1, 1, 1, 1);
  const int64_t xs = g.n * g.c * g.h * g.w, ws = g.o * g.c * g.kh * g.kw, ys = g.n * g.o * g.oh * g.ow;
  auto x = randv(xs, -1, 1, 5), dy = randv(ys, -1, 1, 6);
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (int nt = 1; nt <= max_threads(); ++nt) {
      set_num_threads(nt);
      std::vector<float> a((size_t)ws), b((size_t)ws, 3.0f);
      ops::conv2d_bwd_weight(*t, g, x.data(), dy.data(), a.data());
      ops::conv2d_bwd_weight(*t, g, x.data(), dy.data(), b.data());
      for (int64_t i = 0; i < ws; ++i)
        CHECK(a[(size_t)i] == b[(size_t)i]) << t->isa << " threads=" << nt << " dw[" << i << "] " << a[(size_t)i]
                                            << " then " << b[(size_t)i];
    }
  }
  set_num_threads(max_threads());
}
