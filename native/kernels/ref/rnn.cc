// The scalar reference of the whole-sequence recurrence (kernels/rnn.h): plain
// loops, double arithmetic within a step, no GEMM and no threads. The oracle of
// native/tests/test_rnn.cc; the TS twin (lib/backend/ts/kernels/rnn.ts) follows it.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../rnn.h"
#include "ref.h"
#include "unary_scalar.h"

namespace fathom {
namespace {

double sig(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

struct Layout {
  int64_t N, T, H, G;
  float* hprev;  // [N, T, H]
  float* gates;  // [N, T, G·H]
  float* extra;  // [N, T, H]
};
Layout layout(const RnnGeom& g, const float* ws) {
  const int64_t G = rnn_gates(g.mode), NTH = g.n * g.t * g.h;
  float* w = const_cast<float*>(ws);
  return {g.n, g.t, g.h, G, w, w ? w + NTH : nullptr, w ? w + NTH * (1 + G) : nullptr};
}
bool live(const RnnGeom& g, int64_t i, int64_t t) { return !g.lengths || t < g.lengths[i]; }

}  // namespace

void f32_rnn_fwd__ref(const RnnGeom& g, const float* xproj, const float* h0, const float* c0,
                      const float* whh, const float* bhh, float* out, float* hn, float* cn, float* ws) {
  const Layout L = layout(g, ws);
  const int64_t N = g.n, T = g.t, H = g.h, G = L.G, GH = G * H;
  const bool lstm = g.mode == RnnMode::Lstm;
  std::copy(h0, h0 + N * H, hn);
  if (lstm) std::copy(c0, c0 + N * H, cn);
  std::vector<double> a((size_t)GH), hp((size_t)H);
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = g.reverse ? T - 1 - s : s;
    for (int64_t i = 0; i < N; ++i) {
      const int64_t r = i * T + t;
      float* h = hn + i * H;
      float* o = out + r * H;
      if (ws) std::copy(h, h + H, L.hprev + r * H);
      if (!live(g, i, t)) {
        std::fill(o, o + H, 0.0f);
        if (ws) std::fill(L.gates + r * GH, L.gates + (r + 1) * GH, 0.0f);
        if (ws && lstm) std::copy(cn + i * H, cn + (i + 1) * H, L.extra + r * H);
        if (ws && g.mode == RnnMode::Gru) std::fill(L.extra + r * H, L.extra + (r + 1) * H, 0.0f);
        continue;
      }
      for (int64_t j = 0; j < GH; ++j) {  // a = h W_hhᵀ + b_hh
        double acc = bhh ? bhh[j] : 0.0;
        for (int64_t q = 0; q < H; ++q) acc += (double)h[q] * whh[j * H + q];
        a[(size_t)j] = acc;
      }
      const float* x = xproj + r * GH;
      float* gs = ws ? L.gates + r * GH : nullptr;
      for (int64_t q = 0; q < H; ++q) hp[(size_t)q] = h[q];
      for (int64_t j = 0; j < H; ++j) {
        double hv;
        if (lstm) {
          const double ig = sig(x[j] + a[j]), fg = sig(x[H + j] + a[H + j]);
          const double gg = std::tanh(x[2 * H + j] + a[2 * H + j]), og = sig(x[3 * H + j] + a[3 * H + j]);
          const float c = (float)(fg * cn[i * H + j] + ig * gg);
          cn[i * H + j] = c;
          hv = og * std::tanh((double)c);
          if (gs) { gs[j] = (float)ig; gs[H + j] = (float)fg; gs[2 * H + j] = (float)gg; gs[3 * H + j] = (float)og; }
          if (ws) L.extra[r * H + j] = c;
        } else if (g.mode == RnnMode::Gru) {
          const double rg = sig(x[j] + a[j]), zg = sig(x[H + j] + a[H + j]);
          const double ng = std::tanh(x[2 * H + j] + rg * a[2 * H + j]);
          hv = ng + zg * (hp[(size_t)j] - ng);
          if (gs) { gs[j] = (float)rg; gs[H + j] = (float)zg; gs[2 * H + j] = (float)ng; }
          if (ws) L.extra[r * H + j] = (float)a[2 * H + j];
        } else {
          const double v = x[j] + a[j];
          hv = g.mode == RnnMode::RnnTanh ? std::tanh(v) : (v < 0 ? 0.0 : v);
          if (gs) gs[j] = (float)hv;
        }
        h[j] = (float)hv;
        o[j] = (float)hv;
      }
    }
  }
}

void f32_rnn_bwd__ref(const RnnGeom& g, const float* whh, const float* ws, const float* c0,
                      const float* dout, const float* dhn, const float* dcn, float* dxproj, float* dh0,
                      float* dc0, float* dwhh, float* dbhh) {
  const Layout L = layout(g, ws);
  const int64_t N = g.n, T = g.t, H = g.h, G = L.G, GH = G * H;
  const bool lstm = g.mode == RnnMode::Lstm;
  std::vector<double> dh(dhn, dhn + N * H), dc((size_t)(lstm ? N * H : 0));
  if (lstm) std::copy(dcn, dcn + N * H, dc.begin());
  std::vector<double> dg((size_t)(N * T * GH), 0.0);  // dL/d(h W_hhᵀ + b_hh)
  std::fill(dxproj, dxproj + N * T * GH, 0.0f);
  for (int64_t s = T - 1; s >= 0; --s) {
    const int64_t t = g.reverse ? T - 1 - s : s;
    const int64_t tp = g.reverse ? t + 1 : t - 1;  // the step before, in processing order (s > 0)
    for (int64_t i = 0; i < N; ++i) {
      if (!live(g, i, t)) continue;  // state passed through: dh, dc unchanged
      const int64_t r = i * T + t;
      const float* gs = L.gates + r * GH;
      float* dx = dxproj + r * GH;
      double* d2 = dg.data() + r * GH;
      for (int64_t j = 0; j < H; ++j) {
        const double d = dh[(size_t)(i * H + j)] + dout[r * H + j];
        if (lstm) {
          const double ig = gs[j], fg = gs[H + j], gg = gs[2 * H + j], og = gs[3 * H + j];
          const double c = L.extra[r * H + j];
          const double cp = s == 0 ? c0[i * H + j] : L.extra[(i * T + tp) * H + j];
          const double tc = std::tanh(c);
          const double dcc = dc[(size_t)(i * H + j)] + d * og * (1 - tc * tc);
          d2[j] = dcc * gg * ig * (1 - ig);
          d2[H + j] = dcc * cp * fg * (1 - fg);
          d2[2 * H + j] = dcc * ig * (1 - gg * gg);
          d2[3 * H + j] = d * tc * og * (1 - og);
          for (int64_t q = 0; q < 4; ++q) dx[q * H + j] = (float)d2[q * H + j];
          dc[(size_t)(i * H + j)] = dcc * fg;
          dh[(size_t)(i * H + j)] = 0;
        } else if (g.mode == RnnMode::Gru) {
          const double rg = gs[j], zg = gs[H + j], ng = gs[2 * H + j];
          const double hp = L.hprev[r * H + j], ghn = L.extra[r * H + j];
          const double dan = d * (1 - zg) * (1 - ng * ng);
          const double dar = dan * ghn * rg * (1 - rg);
          const double daz = d * (hp - ng) * zg * (1 - zg);
          dx[j] = (float)dar; dx[H + j] = (float)daz; dx[2 * H + j] = (float)dan;
          d2[j] = dar; d2[H + j] = daz; d2[2 * H + j] = dan * rg;
          dh[(size_t)(i * H + j)] = d * zg;
        } else {
          const double y = gs[j];
          const double da = g.mode == RnnMode::RnnTanh ? d * (1 - y * y) : (y > 0 ? d : 0.0);
          dx[j] = (float)da;
          d2[j] = da;
          dh[(size_t)(i * H + j)] = 0;
        }
      }
      for (int64_t q = 0; q < H; ++q) {  // dh_prev += dG W_hh
        double acc = 0;
        for (int64_t j = 0; j < GH; ++j) acc += d2[j] * whh[j * H + q];
        dh[(size_t)(i * H + q)] += acc;
      }
    }
  }
  for (int64_t i = 0; i < N * H; ++i) dh0[i] = (float)dh[(size_t)i];
  if (lstm) for (int64_t i = 0; i < N * H; ++i) dc0[i] = (float)dc[(size_t)i];
  for (int64_t j = 0; j < GH; ++j) {
    for (int64_t q = 0; q < H; ++q) {
      double acc = 0;
      for (int64_t r = 0; r < N * T; ++r) acc += dg[(size_t)(r * GH + j)] * L.hprev[r * H + q];
      dwhh[j * H + q] = (float)acc;
    }
    if (dbhh) {
      double acc = 0;
      for (int64_t r = 0; r < N * T; ++r) acc += dg[(size_t)(r * GH + j)];
      dbhh[j] = (float)acc;
    }
  }
}

// ---- one batch row of the fused gate pass (kernels.h RnnRowFwdFn / RnnRowBwdFn) ----
// Float storage, each transcendental as the scalar unary kernels compute it (in double,
// rounded): the portable body of the threaded driver (kernels/rnn.cc).
namespace {
float sigf(float v) { return (float)us::sigmoid((double)v); }
float tanhf_(float v) { return (float)std::tanh((double)v); }
}  // namespace

void f32_rnn_row_fwd__ref(int32_t mode, int64_t H, const float* x, float* a, float* hs, float* c, float* out,
                          float* ext) {
  const RnnMode m = (RnnMode)mode;
  for (int64_t j = 0; j < H; ++j) {
    if (m == RnnMode::Lstm) {
      const float ig = sigf(a[j] + x[j]), fg = sigf(a[H + j] + x[H + j]);
      const float gg = tanhf_(a[2 * H + j] + x[2 * H + j]), og = sigf(a[3 * H + j] + x[3 * H + j]);
      a[j] = ig; a[H + j] = fg; a[2 * H + j] = gg; a[3 * H + j] = og;
      c[j] = fg * c[j] + ig * gg;
      if (ext) ext[j] = c[j];
      out[j] = hs[j] = og * tanhf_(c[j]);
    } else if (m == RnnMode::Gru) {
      const float ghn = a[2 * H + j];
      ext[j] = ghn;
      const float rg = sigf(a[j] + x[j]), zg = sigf(a[H + j] + x[H + j]);
      const float ng = tanhf_(x[2 * H + j] + rg * ghn);
      a[j] = rg; a[H + j] = zg; a[2 * H + j] = ng;
      out[j] = hs[j] = ng + zg * (hs[j] - ng);
    } else {
      const float v = a[j] + x[j];
      const float y = m == RnnMode::RnnTanh ? tanhf_(v) : (v < 0 ? 0.0f : v);
      out[j] = hs[j] = a[j] = y;
    }
  }
}

void f32_rnn_row_bwd__ref(int32_t mode, int64_t H, const float* gs, const float* dy, const float* c,
                          const float* cp, const float* hp, const float* ghn, float* dh, float* dc, float* dx,
                          float* dg) {
  const RnnMode m = (RnnMode)mode;
  for (int64_t j = 0; j < H; ++j) {
    const float d = dh[j] + dy[j];
    if (m == RnnMode::Lstm) {
      const float ig = gs[j], fg = gs[H + j], gg = gs[2 * H + j], og = gs[3 * H + j], th = tanhf_(c[j]);
      const float dcc = dc[j] + d * og * (1 - th * th);
      dx[j] = dcc * gg * ig * (1 - ig);
      dx[H + j] = dcc * cp[j] * fg * (1 - fg);
      dx[2 * H + j] = dcc * ig * (1 - gg * gg);
      dx[3 * H + j] = d * th * og * (1 - og);
      dc[j] = dcc * fg;
      dh[j] = 0;
    } else if (m == RnnMode::Gru) {
      const float rg = gs[j], zg = gs[H + j], ng = gs[2 * H + j];
      const float dan = d * (1 - zg) * (1 - ng * ng);
      const float dar = dan * ghn[j] * rg * (1 - rg);
      const float daz = d * (hp[j] - ng) * zg * (1 - zg);
      dx[j] = dg[j] = dar;
      dx[H + j] = dg[H + j] = daz;
      dx[2 * H + j] = dan;
      dg[2 * H + j] = dan * rg;
      dh[j] = d * zg;
    } else {
      const float y = gs[j];
      dx[j] = m == RnnMode::RnnTanh ? d * (1 - y * y) : (y > 0 ? d : 0.0f);
      dh[j] = 0;
    }
  }
}

}  // namespace fathom
