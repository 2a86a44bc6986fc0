// Threaded convolution drivers (conv.h): im2col + the packed GEMM per image
// and group, the batch split over the pool.
#include "conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "dispatch.h"
#include "ops.h"
#include "../runtime/pool.h"

namespace fathom {
namespace ops {
namespace {

// 1x1, stride 1, no padding, output as large as the input: col is x itself.
bool pointwise(const ConvGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && g.oh == g.h &&
         g.ow == g.w;
}

// Threads for the batch: one image per share at least, and about 256K
// multiply-adds per thread so that small problems stay on the calling thread.
int batch_threads(const ConvGeom& g) {
  const int nt = num_threads();
  if (nt <= 1 || g.n < 2) return 1;
  const double work = (double)g.n * (double)g.o * (double)(g.oh * g.ow) * (double)(g.c / g.groups) *
                      (double)(g.kh * g.kw);
  const double want = work / 262144.0;
  int nth = (int)std::min<double>({(double)nt, (double)g.n, want});
  return nth < 1 ? 1 : nth;
}

// fn(b0, b1, ith) over the images of each thread's share.
template <class F>
void over_batch(int nth, int64_t n, const F& fn) {
  if (nth <= 1) {
    if (n > 0) fn((int64_t)0, n, 0);
    return;
  }
  parallel_run(nth, [&](int ith, int nt) {
    int64_t b, e;
    partition(n, ith, nt, 1, &b, &e);
    if (b < e) fn(b, e, ith);
  });
}

}  // namespace

void conv2d(const KernelTable& k, const ConvGeom& g, const float* x, const float* w, const float* bias,
            Act act, float* y) {
  const int64_t G = g.groups, cg = g.c / G, og = g.o / G, kk = cg * g.kh * g.kw;
  const int64_t hw = g.h * g.w, ohw = g.oh * g.ow;
  if (g.n == 0 || g.o == 0 || ohw == 0) return;
  const bool pw1 = pointwise(g);
  over_batch(batch_threads(g), g.n, [&](int64_t b0, int64_t b1, int) {
    std::vector<float> col(pw1 ? 0 : (size_t)(kk * ohw));
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t gi = 0; gi < G; ++gi) {
        const float* xg = x + (b * g.c + gi * cg) * hw;
        const float* B = xg;
        if (!pw1) {
          f32_im2col__ref(g, cg, xg, col.data());
          B = col.data();
        }
        float* yg = y + (b * g.o + gi * og) * ohw;
        if (bias)
          for (int64_t q = 0; q < og; ++q) std::fill(yg + q * ohw, yg + (q + 1) * ohw, bias[gi * og + q]);
        gemm(k, false, false, og, ohw, kk, 1.0f, w + gi * og * kk, kk, B, ohw, bias ? 1.0f : 0.0f, yg, ohw);
      }
      if (act != Act::None) k.bias_act(1, g.o * ohw, y + b * g.o * ohw, nullptr, act);
    }
  });
}

void conv2d_bwd_data(const KernelTable& k, const ConvGeom& g, const float* dy, const float* w, float* dx) {
  const int64_t G = g.groups, cg = g.c / G, og = g.o / G, kk = cg * g.kh * g.kw;
  const int64_t hw = g.h * g.w, ohw = g.oh * g.ow;
  if (g.n == 0 || g.c == 0 || hw == 0) return;
  if (ohw == 0 || g.o == 0) {
    std::fill(dx, dx + g.n * g.c * hw, 0.0f);
    return;
  }
  const bool pw1 = pointwise(g);
  over_batch(batch_threads(g), g.n, [&](int64_t b0, int64_t b1, int) {
    std::vector<float> col(pw1 ? 0 : (size_t)(kk * ohw));
    for (int64_t b = b0; b < b1; ++b) {
      float* dxb = dx + b * g.c * hw;
      if (!pw1) std::fill(dxb, dxb + g.c * hw, 0.0f);
      for (int64_t gi = 0; gi < G; ++gi) {
        const float* dyg = dy + (b * g.o + gi * og) * ohw;
        const float* wg = w + gi * og * kk;
        if (pw1) {  // dx_g [cg, hw] = w_g^T [cg, og] dy_g [og, hw]
          gemm(k, true, false, cg, ohw, og, 1.0f, wg, kk, dyg, ohw, 0.0f, dxb + gi * cg * hw, hw);
        } else {
          gemm(k, true, false, kk, ohw, og, 1.0f, wg, kk, dyg, ohw, 0.0f, col.data(), ohw);
          f32_col2im__ref(g, cg, col.data(), dxb + gi * cg * hw);
        }
      }
    }
  });
}

void conv2d_bwd_weight(const KernelTable& k, const ConvGeom& g, const float* x, const float* dy, float* dw) {
  const int64_t G = g.groups, cg = g.c / G, og = g.o / G, kk = cg * g.kh * g.kw;
  const int64_t hw = g.h * g.w, ohw = g.oh * g.ow, wn = g.o * kk;
  if (wn == 0) return;
  if (g.n == 0 || ohw == 0) {
    std::fill(dw, dw + wn, 0.0f);
    return;
  }
  const bool pw1 = pointwise(g);
  const int nth = batch_threads(g);
  std::vector<float> part(nth > 1 ? (size_t)(nth - 1) * (size_t)wn : 0);
  over_batch(nth, g.n, [&](int64_t b0, int64_t b1, int ith) {
    float* acc = ith == 0 ? dw : part.data() + (size_t)(ith - 1) * (size_t)wn;
    std::vector<float> col(pw1 ? 0 : (size_t)(kk * ohw));
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t gi = 0; gi < G; ++gi) {
        const float* xg = x + (b * g.c + gi * cg) * hw;
        const float* B = xg;
        if (!pw1) {
          f32_im2col__ref(g, cg, xg, col.data());
          B = col.data();
        }
        // dw_g [og, kk] (+)= dy_g [og, ohw] col^T [ohw, kk]
        gemm(k, false, true, og, kk, ohw, 1.0f, dy + (b * g.o + gi * og) * ohw, ohw, B, ohw,
             b == b0 ? 0.0f : 1.0f, acc + gi * og * kk, kk);
      }
    }
  });
  // Shares are contiguous image ranges in thread order: add them in that order.
  for (int t = 1; t < nth; ++t) {
    int64_t b, e;
    partition(g.n, t, nth, 1, &b, &e);
    if (b >= e) continue;
    const float* p = part.data() + (size_t)(t - 1) * (size_t)wn;
    for (int64_t i = 0; i < wn; ++i) dw[i] += p[i];
  }
}

void conv2d(const ConvGeom& g, const float* x, const float* w, const float* bias, Act act, float* y) {
  conv2d(active(), g, x, w, bias, act, y);
}
void conv2d_bwd_data(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  conv2d_bwd_data(active(), g, dy, w, dx);
}
void conv2d_bwd_weight(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  conv2d_bwd_weight(active(), g, x, dy, dw);
}

}  // namespace ops
}  // namespace fathom
