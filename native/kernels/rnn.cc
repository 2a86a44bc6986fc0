// The whole-sequence recurrence (rnn.h) on a kernel table. [W_hh | b_hh] is packed
// once per sequence (gemm.h: pack_b_whole) and the batch rows are split over the
// pool for the whole sequence (rows are independent through time: no barrier per
// step; >= 8 rows a thread). Each thread, per step: one GEMM [h | 1] [W_hh | b_hh]ᵀ
// on its rows (gemm_prepacked_b, the bias in the product) and one fused pass of the
// gate non-linearities per row (the table's rnn_row_fwd: ref/rnn.cc, avx2/rnn.cc).
// Backward, the same split: the fused gate derivatives, dh_prev += dG W_hh on the
// packed W_hh, db_hh summed per thread; dW_hh as one threaded GEMM over all N·T rows.
// Results are bitwise the same for any thread count (db_hh: its per-thread double
// sums, added in thread order, almost always round alike). Tables with no GEMM
// configuration fall back to per-step threaded GEMMs.
#include <algorithm>
#include <cstring>
#include <new>
#include <vector>

#include "dispatch.h"
#include "gemm/gemm.h"
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

// ---- #11 lstmperf: the batch-split recurrence ----
// A 64-byte aligned float buffer (packed GEMM panels).
struct Aligned {
  float* p = nullptr;
  explicit Aligned(int64_t n) : p(static_cast<float*>(::operator new(sizeof(float) * (size_t)n, std::align_val_t{64}))) {}
  ~Aligned() { ::operator delete(p, std::align_val_t{64}); }
  Aligned(const Aligned&) = delete;
  Aligned& operator=(const Aligned&) = delete;
};

// Threads for the batch-split recurrence: each thread owns >= kMinRowsPerThread
// batch rows for the whole sequence (rows are independent through time), so a
// step needs no barrier; below that the rows run on the calling thread.
constexpr int64_t kMinRowsPerThread = 8;
int row_threads(int64_t n) {
  return (int)std::max<int64_t>(1, std::min<int64_t>((int64_t)num_threads(), n / kMinRowsPerThread));
}
// fn(i0, i1, ith) over contiguous shares of the batch rows, one per thread
// (ith < row_threads(n)).
template <class F>
void split_rows(int64_t n, const F& fn) {
  const int nth = row_threads(n);
  if (nth <= 1) return fn((int64_t)0, n, 0);
  parallel_run(nth, [&](int ith, int nthr) {
    int64_t b, e;
    partition(n, ith, nthr, 1, &b, &e);
    if (b < e) fn(b, e, ith);
  });
}

// The GEMM configuration of the per-step products with `rows` batch rows per thread:
// the table's own, except AVX-512's 14-row tile below 56 rows (16 rows pad to 28
// there, to 18 with AVX2's 6×16; an AVX-512 table implies AVX2 + FMA). Null: none.
const gemm_detail::Config* step_config(const KernelTable& k, int64_t n) {
  const int nth = row_threads(n);
  const int64_t rows = (n + nth - 1) / nth;
  if (std::strcmp(k.isa, "avx512") == 0 && rows < 56) return gemm_detail::config_for("avx2");
  return gemm_detail::config_for(k.isa);
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
  if (const gemm_detail::Config* cfg = step_config(k, N)) {
    // W_hh (with b_hh as column H: [W_hh | b_hh], K = H + 1) packed once as op(B)
    // for every step; each thread keeps its rows' state as [h | 1] so the
    // step's GEMM adds the bias (beta 0: the gate rows are not read first).
    const int64_t K1 = H + 1;
    std::vector<float> wb((size_t)(GH * K1));
    for (int64_t j = 0; j < GH; ++j) {
      std::memcpy(wb.data() + j * K1, whh + j * H, sizeof(float) * (size_t)H);
      wb[(size_t)(j * K1 + H)] = bhh ? bhh[j] : 0.0f;
    }
    Aligned wp(gemm_detail::packed_b_floats(*cfg, K1, GH));
    gemm_detail::pack_b_whole(*cfg, true, K1, GH, wb.data(), K1, wp.p);
    split_rows(N, [&](int64_t b, int64_t e, int) {
      const int64_t R = e - b;
      std::vector<float> hb((size_t)(R * K1)), scr(ws ? 0 : (size_t)(R * GH)), gx(gru && !ws ? (size_t)(R * H) : 0);
      for (int64_t i = 0; i < R; ++i) {
        std::memcpy(hb.data() + i * K1, hn + (b + i) * H, sizeof(float) * (size_t)H);
        hb[(size_t)(i * K1 + H)] = 1.0f;
      }
      for (int64_t s = 0; s < T; ++s) {
        const int64_t t = g.reverse ? T - 1 - s : s;
        float* A = ws ? S.gates + (b * T + t) * GH : scr.data();
        const int64_t lda = ws ? T * GH : GH;
        if (ws)
          for (int64_t i = 0; i < R; ++i)
            std::memcpy(S.hprev + ((b + i) * T + t) * H, hb.data() + i * K1, sizeof(float) * (size_t)H);
        gemm_detail::gemm_prepacked_b(*cfg, false, R, GH, K1, 1.0f, hb.data(), K1, wp.p, 0.0f, A, lda);
        for (int64_t i = b; i < e; ++i) {
          const int64_t r = i * T + t;
          float* o = out + r * H;
          float* a = A + (i - b) * lda;
          if (!live(g, i, t)) {
            std::fill(o, o + H, 0.0f);
            if (ws) std::fill(a, a + GH, 0.0f);
            if (ws && lstm) std::memcpy(S.extra + r * H, cn + i * H, sizeof(float) * (size_t)H);
            if (ws && gru) std::fill(S.extra + r * H, S.extra + (r + 1) * H, 0.0f);
            continue;
          }
          float* ext = lstm ? (ws ? S.extra + r * H : nullptr) : gru ? (ws ? S.extra + r * H : gx.data() + (i - b) * H) : nullptr;
          k.rnn_row_fwd((int32_t)g.mode, H, xproj + r * GH, a, hb.data() + (i - b) * K1, lstm ? cn + i * H : nullptr, o, ext);
        }
      }
      for (int64_t i = 0; i < R; ++i)
        std::memcpy(hn + (b + i) * H, hb.data() + i * K1, sizeof(float) * (size_t)H);
    });
    return;
  }
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
  if (const gemm_detail::Config* cfg = step_config(k, N)) {
    // W_hh packed once as op(B) of dh_prev += dG_t W_hh; each thread runs its
    // batch rows back through time with no barrier per step.
    // db_hh: each thread sums its rows of dG while they are in cache (double), the
    // threads' sums added in thread order.
    Aligned wp(gemm_detail::packed_b_floats(*cfg, GH, H));
    gemm_detail::pack_b_whole(*cfg, false, GH, H, whh, H, wp.p);
    const int nth = row_threads(N);
    std::vector<double> part(dbhh ? (size_t)(nth * GH) : 0, 0.0);
    split_rows(N, [&](int64_t b, int64_t e, int ith) {
      double* acc = dbhh ? part.data() + ith * GH : nullptr;
      for (int64_t s = T - 1; s >= 0; --s) {
        const int64_t t = g.reverse ? T - 1 - s : s;
        const int64_t tp = g.reverse ? t + 1 : t - 1;
        for (int64_t i = b; i < e; ++i) {
          const int64_t r = i * T + t;
          float* dx = dxproj + r * GH;
          float* d2 = dG + r * GH;
          if (!live(g, i, t)) {
            std::fill(dx, dx + GH, 0.0f);
            if (gru) std::fill(d2, d2 + GH, 0.0f);
            continue;
          }
          const float* cp = lstm ? (s == 0 ? c0 + i * H : S.extra + (i * T + tp) * H) : nullptr;
          k.rnn_row_bwd((int32_t)g.mode, H, S.gates + r * GH, dout + r * H, lstm ? S.extra + r * H : nullptr, cp,
                        S.hprev + r * H, gru ? S.extra + r * H : nullptr, dh + i * H, lstm ? dc + i * H : nullptr,
                        dx, gru ? d2 : nullptr);
          if (acc)
            for (int64_t j = 0; j < GH; ++j) acc[j] += d2[j];
        }
        gemm_detail::gemm_prepacked_b(*cfg, false, e - b, H, GH, 1.0f, dG + (b * T + t) * GH, T * GH, wp.p, 1.0f,
                                      dh + b * H, H);
      }
    });
    gemm(k, true, false, GH, H, NT, 1.0f, dG, GH, S.hprev, H, 0.0f, dwhh, H);
    if (dbhh)
      for (int64_t j = 0; j < GH; ++j) {
        double v = 0.0;
        for (int ith = 0; ith < nth; ++ith) v += part[(size_t)(ith * GH + j)];
        dbhh[j] = (float)v;
      }
    return;
  } else
  for (int64_t s = T - 1; s >= 0; --s) {  // no GEMM configuration for this table: per-step GEMMs
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
