// The whole-sequence recurrence (rnn.h) on a kernel table: per step one packed
// GEMM for h W_hhᵀ (+ b_hh) and one fused pass of the gate non-linearities per
// batch row (the table's rnn_row_fwd: ref/rnn.cc, avx2/rnn.cc with the vector
// sigmoid / tanh), the batch split over the pool when a step is large. Backward: per step
// the fused gate derivatives and one GEMM dh_prev += dG W_hh; dW_hh as one GEMM
// over all N·T rows at the end, db_hh a column sum.
#include <algorithm>
#include <cstring>
#include <vector>

#include "dispatch.h"
#include "ops.h"
#include "rnn.h"
#include "../runtime/pool.h"

namespace fathom {
namespace ops {
namespace {

struct Sections {
  float *hprev, *gates, *extra;
};
Sections sections(const RnnGeom& g, const float* ws) {
  float* w = const_cast<float*>(ws);
  const int64_t NTH = g.n * g.t * g.h;
  if (!w) return {nullptr, nullptr, nullptr};
  return {w, w + NTH, w + NTH * (1 + rnn_gates(g.mode))};
}
bool live(const RnnGeom& g, int64_t i, int64_t t) { return !g.lengths || t < g.lengths[i]; }

// fn(i0, i1) over batch rows; threaded when a step's pointwise work is large
// (>= 16K gate values per thread).
template <class F>
void over_rows(int64_t n, int64_t per_row, const F& fn) {
  const int nt = num_threads();
  int nth = (int)std::min<int64_t>({(int64_t)nt, n, n * per_row / 16384});
  if (nth <= 1) {
    fn((int64_t)0, n);
    return;
  }
  parallel_run(nth, [&](int ith, int nthr) {
    int64_t b, e;
    partition(n, ith, nthr, 1, &b, &e);
    if (b < e) fn(b, e);
  });
}

}  // namespace

void rnn_fwd(const KernelTable& k, const RnnGeom& g, const float* xproj, const float* h0, const float* c0,
             const float* whh, const float* bhh, float* out, float* hn, float* cn, float* ws) {
  const int64_t N = g.n, T = g.t, H = g.h, G = rnn_gates(g.mode), GH = G * H;
  if (N == 0 || T == 0 || H == 0) return;
  const bool lstm = g.mode == RnnMode::Lstm, gru = g.mode == RnnMode::Gru;
  const Sections S = sections(g, ws);
  std::memcpy(hn, h0, sizeof(float) * (size_t)(N * H));
  if (lstm) std::memcpy(cn, c0, sizeof(float) * (size_t)(N * H));
  // The step's gate rows: in the workspace (row (n, t), stride T·G·H) or a scratch block.
  std::vector<float> scratch(ws ? 0 : (size_t)(N * GH)), ghn_scratch(gru && !ws ? (size_t)(N * H) : 0);
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = g.reverse ? T - 1 - s : s;
    float* A = ws ? S.gates + t * GH : scratch.data();
    const int64_t lda = ws ? T * GH : GH;
    if (ws)
      for (int64_t i = 0; i < N; ++i) std::memcpy(S.hprev + (i * T + t) * H, hn + i * H, sizeof(float) * (size_t)H);
    if (bhh)
      for (int64_t i = 0; i < N; ++i) std::memcpy(A + i * lda, bhh, sizeof(float) * (size_t)GH);
    gemm(k, false, true, N, GH, H, 1.0f, hn, H, whh, H, bhh ? 1.0f : 0.0f, A, lda);
    over_rows(N, GH, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t r = i * T + t;
        float* o = out + r * H;
        float* h = hn + i * H;
        if (!live(g, i, t)) {
          std::fill(o, o + H, 0.0f);
          if (ws) std::fill(A + i * lda, A + i * lda + GH, 0.0f);
          if (ws && lstm) std::memcpy(S.extra + r * H, cn + i * H, sizeof(float) * (size_t)H);
          if (ws && gru) std::fill(S.extra + r * H, S.extra + (r + 1) * H, 0.0f);
          continue;
        }
        float* ext = lstm ? (ws ? S.extra + r * H : nullptr) : gru ? (ws ? S.extra + r * H : ghn_scratch.data() + i * H) : nullptr;
        k.rnn_row_fwd((int32_t)g.mode, H, xproj + r * GH, A + i * lda, h, lstm ? cn + i * H : nullptr, o, ext);
      }
    });
  }
}

void rnn_bwd(const KernelTable& k, const RnnGeom& g, const float* whh, const float* ws, const float* c0,
             const float* dout, const float* dhn, const float* dcn, float* dxproj, float* dh0, float* dc0,
             float* dwhh, float* dbhh) {
  const int64_t N = g.n, T = g.t, H = g.h, G = rnn_gates(g.mode), GH = G * H, NT = N * T;
  if (GH == 0) return;
  const bool lstm = g.mode == RnnMode::Lstm, gru = g.mode == RnnMode::Gru;
  const Sections S = sections(g, ws);
  float* dh = dh0;  // the running dL/dh, [N, H]
  float* dc = dc0;  // lstm: the running dL/dc
  std::memcpy(dh, dhn, sizeof(float) * (size_t)(N * H));
  if (lstm) std::memcpy(dc, dcn, sizeof(float) * (size_t)(N * H));
  // dG (the gradient of h W_hhᵀ + b_hh): dxProj itself except for gru.
  std::vector<float> dg_gru(gru ? (size_t)(NT * GH) : 0);
  float* dG = gru ? dg_gru.data() : dxproj;
  for (int64_t s = T - 1; s >= 0; --s) {
    const int64_t t = g.reverse ? T - 1 - s : s;
    const int64_t tp = g.reverse ? t + 1 : t - 1;
    over_rows(N, GH, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t r = i * T + t;
        float* dx = dxproj + r * GH;
        float* d2 = dG + r * GH;
        if (!live(g, i, t)) {  // state passed through: dh, dc unchanged
          std::fill(dx, dx + GH, 0.0f);
          if (gru) std::fill(d2, d2 + GH, 0.0f);
          continue;
        }
        const float* cp = lstm ? (s == 0 ? c0 + i * H : S.extra + (i * T + tp) * H) : nullptr;
        k.rnn_row_bwd((int32_t)g.mode, H, S.gates + r * GH, dout + r * H, lstm ? S.extra + r * H : nullptr, cp,
                      S.hprev + r * H, gru ? S.extra + r * H : nullptr, dh + i * H, lstm ? dc + i * H : nullptr, dx,
                      gru ? d2 : nullptr);
      }
    });
    // dh_prev += dG_t W_hh (rows past their length have dG = 0).
    gemm(k, false, false, N, H, GH, 1.0f, dG + t * GH, T * GH, whh, H, 1.0f, dh, H);
  }
  // dW_hh = dGᵀ [G·H, N·T] · hprev [N·T, H]; db_hh = Σ_rows dG.
  gemm(k, true, false, GH, H, NT, 1.0f, dG, GH, S.hprev, H, 0.0f, dwhh, H);
  if (dbhh) {
    std::vector<double> acc((size_t)GH, 0.0);
    for (int64_t r = 0; r < NT; ++r)
      for (int64_t j = 0; j < GH; ++j) acc[(size_t)j] += dG[r * GH + j];
    for (int64_t j = 0; j < GH; ++j) dbhh[j] = (float)acc[(size_t)j];
  }
}

void rnn_fwd(const RnnGeom& g, const float* xproj, const float* h0, const float* c0, const float* whh,
             const float* bhh, float* out, float* hn, float* cn, float* ws) {
  rnn_fwd(active(), g, xproj, h0, c0, whh, bhh, out, hn, cn, ws);
}
void rnn_bwd(const RnnGeom& g, const float* whh, const float* ws, const float* c0, const float* dout,
             const float* dhn, const float* dcn, float* dxproj, float* dh0, float* dc0, float* dwhh,
             float* dbhh) {
  rnn_bwd(active(), g, whh, ws, c0, dout, dhn, dcn, dxproj, dh0, dc0, dwhh, dbhh);
}

}  // namespace ops
}  // namespace fathom
