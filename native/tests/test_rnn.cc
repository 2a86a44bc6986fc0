// The whole-sequence recurrence (kernels/rnn.h): the threaded GEMM drivers on
// every ISA table against the scalar reference (ref/rnn.cc) at awkward sizes
// (hidden 1, 7, 33; T = 1; batch 1; lengths with a 0 and a T; reverse), every
// mode, forward, workspace and backward; and the reference's backward against
// central differences of its forward (double probe loss).
#include <cmath>
#include <string>
#include <vector>

#include "helpers.h"
#include "kernels/dispatch.h"
#include "kernels/gemm/gemm.h"
#include "kernels/rnn.h"
#include "runtime/pool.h"
#include "test.h"

using namespace fathom;
using namespace fathom::kt;

namespace {

struct Case {
  int64_t n, t, h;
  bool bias, reverse;
  std::vector<int32_t> lengths;  // empty: none
};
const Case kCases[] = {
    {1, 1, 1, true, false, {}},       {2, 3, 7, true, false, {3, 0}},  {3, 4, 7, false, true, {2, 4, 0}},
    {1, 5, 33, true, true, {}},       {2, 1, 33, true, false, {1, 0}}, {5, 3, 8, true, false, {}},
    {40, 6, 40, true, true, {6, 1, 3, 0, 5, 2, 6, 4, 1, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4,
                               5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3}},
    // #11 lstmperf: 60 rows a thread (AVX-512's own tile in the batch-split recurrence),
    // and G·H > 256 (two K blocks in the backward's pre-packed W_hh).
    {120, 3, 20, true, false, {}},    {17, 2, 70, true, false, {}},
};
const RnnMode kModes[] = {RnnMode::Lstm, RnnMode::Gru, RnnMode::RnnTanh, RnnMode::RnnRelu};
const char* mname(RnnMode m) {
  return m == RnnMode::Lstm ? "lstm" : m == RnnMode::Gru ? "gru" : m == RnnMode::RnnTanh ? "rnnTanh" : "rnnRelu";
}

struct Run {
  std::vector<float> out, hn, cn, ws, dxp, dh0, dc0, dw, db;
};
struct Inputs {
  std::vector<float> xp, h0, c0, w, b, dout, dhn, dcn;
};
Inputs inputs(RnnMode m, const Case& c) {
  const int64_t GH = rnn_gates(m) * c.h, NH = c.n * c.h;
  return {randv(c.n * c.t * GH, -1, 1, 1), randv(NH, -1, 1, 2), randv(NH, -1, 1, 3),
          randv(GH * c.h, -0.6f, 0.6f, 4), randv(GH, -0.5f, 0.5f, 5), randv(c.n * c.t * c.h, -1, 1, 6),
          randv(NH, -1, 1, 7), randv(NH, -1, 1, 8)};
}
RnnGeom geom(RnnMode m, const Case& c) {
  return {m, c.n, c.t, c.h, c.reverse, c.lengths.empty() ? nullptr : c.lengths.data()};
}

// ref: the scalar reference; else the driver on table k.
Run run(const KernelTable* k, RnnMode m, const Case& c, const Inputs& in) {
  const RnnGeom g = geom(m, c);
  const int64_t GH = rnn_gates(m) * c.h, NH = c.n * c.h;
  const bool lstm = m == RnnMode::Lstm;
  Run r{std::vector<float>((size_t)(c.n * c.t * c.h), 9.0f), std::vector<float>((size_t)NH, 9.0f),
        std::vector<float>((size_t)NH, 9.0f), std::vector<float>((size_t)rnn_ws_size(g), 9.0f),
        std::vector<float>((size_t)(c.n * c.t * GH), 9.0f), std::vector<float>((size_t)NH, 9.0f),
        std::vector<float>((size_t)NH, 9.0f), std::vector<float>((size_t)(GH * c.h), 9.0f),
        std::vector<float>((size_t)GH, 9.0f)};
  const float* b = c.bias ? in.b.data() : nullptr;
  float* db = c.bias ? r.db.data() : nullptr;
  const float* c0 = lstm ? in.c0.data() : nullptr;
  if (!k) {
    f32_rnn_fwd__ref(g, in.xp.data(), in.h0.data(), c0, in.w.data(), b, r.out.data(), r.hn.data(),
                     lstm ? r.cn.data() : nullptr, r.ws.data());
    f32_rnn_bwd__ref(g, in.w.data(), r.ws.data(), c0, in.dout.data(), in.dhn.data(), lstm ? in.dcn.data() : nullptr,
                     r.dxp.data(), r.dh0.data(), lstm ? r.dc0.data() : nullptr, r.dw.data(), db);
  } else {
    ops::rnn_fwd(*k, g, in.xp.data(), in.h0.data(), c0, in.w.data(), b, r.out.data(), r.hn.data(),
                 lstm ? r.cn.data() : nullptr, r.ws.data());
    ops::rnn_bwd(*k, g, in.w.data(), r.ws.data(), c0, in.dout.data(), in.dhn.data(), lstm ? in.dcn.data() : nullptr,
                 r.dxp.data(), r.dh0.data(), lstm ? r.dc0.data() : nullptr, r.dw.data(), db);
  }
  return r;
}

void same(const std::string& what, const std::vector<float>& got, const std::vector<float>& want, double tol) {
  for (size_t i = 0; i < want.size(); ++i)
    CHECK(std::fabs(got[i] - want[i]) <= tol * (1 + std::fabs(want[i])))
        << what << "[" << i << "] = " << got[i] << ", want " << want[i];
}

}  // namespace

TEST(rnn_drivers_vs_reference_every_isa) {
  set_num_threads(max_threads());
  std::vector<const KernelTable*> tables = isa_tables();
  tables.insert(tables.begin(), &ref_table());  // the portable driver on the scalar row kernels too
  for (const KernelTable* t : tables) {
    for (RnnMode m : kModes) {
      for (const Case& c : kCases) {
        const Inputs in = inputs(m, c);
        const Run want = run(nullptr, m, c, in), got = run(t, m, c, in);
        const std::string what = std::string(t->isa) + " " + mname(m) + " n=" + std::to_string(c.n) +
                                 " t=" + std::to_string(c.t) + " h=" + std::to_string(c.h) +
                                 (c.reverse ? " reverse" : "") + (c.lengths.empty() ? "" : " lengths");
        same(what + " output", got.out, want.out, 2e-5);
        same(what + " h", got.hn, want.hn, 2e-5);
        same(what + " ws", got.ws, want.ws, 2e-5);
        same(what + " dxProj", got.dxp, want.dxp, 1e-4);
        same(what + " dh0", got.dh0, want.dh0, 1e-4);
        same(what + " dwHh", got.dw, want.dw, 1e-4);
        if (c.bias) same(what + " dbHh", got.db, want.db, 1e-4);
        if (m == RnnMode::Lstm) {
          same(what + " c", got.cn, want.cn, 2e-5);
          same(what + " dc0", got.dc0, want.dc0, 1e-4);
        }
        // Inference (no workspace) gives the same forward.
        std::vector<float> out((size_t)(c.n * c.t * c.h)), hn((size_t)(c.n * c.h)), cn((size_t)(c.n * c.h));
        ops::rnn_fwd(*t, geom(m, c), in.xp.data(), in.h0.data(), in.c0.data(), in.w.data(),
                     c.bias ? in.b.data() : nullptr, out.data(), hn.data(), cn.data(), nullptr);
        same(what + " output without ws", out, got.out, 0);
        same(what + " h without ws", hn, got.hn, 0);
      }
    }
  }
}

// The reference's backward is the gradient of its forward: central differences of
// L = Σ out·dout + Σ hN·dhN (+ Σ cN·dcN) with respect to xProj, h0 and W_hh.
TEST(rnn_reference_backward_is_the_gradient) {
  for (RnnMode m : kModes) {
    const Case c{2, 3, 3, true, true, {3, 1}};
    Inputs in = inputs(m, c);
    const Run base = run(nullptr, m, c, in);
    const bool lstm = m == RnnMode::Lstm;
    auto loss = [&](Inputs& x) {
      const Run r = run(nullptr, m, c, x);
      double s = 0;
      for (size_t i = 0; i < r.out.size(); ++i) s += (double)r.out[i] * x.dout[i];
      for (size_t i = 0; i < r.hn.size(); ++i) s += (double)r.hn[i] * x.dhn[i];
      if (lstm) for (size_t i = 0; i < r.cn.size(); ++i) s += (double)r.cn[i] * x.dcn[i];
      return s;
    };
    auto check = [&](const char* name, std::vector<float>& v, const std::vector<float>& grad) {
      for (size_t i = 0; i < v.size(); ++i) {
        const float orig = v[i], e = 1e-2f;
        v[i] = orig + e;
        const double p = loss(in);
        v[i] = orig - e;
        const double q = loss(in);
        v[i] = orig;
        const double fd = (p - q) / (2.0 * e);
        CHECK(std::fabs(fd - grad[i]) <= 3e-3 + 3e-2 * std::fabs(fd))
            << mname(m) << " d" << name << "[" << i << "]: analytic " << grad[i] << ", finite difference " << fd;
      }
    };
    check("xProj", in.xp, base.dxp);
    check("h0", in.h0, base.dh0);
    check("wHh", in.w, base.dw);
    check("bHh", in.b, base.db);
    if (lstm) check("c0", in.c0, base.dc0);
  }
}

// The row kernels of every table on special values (0, −0, a denormal, ±30, ±88, ±Inf) at
// a hidden size with a vector tail (9): the same as the scalar reference within 1e-6 (the
// gates saturate to 0 / 1 / ±1, never NaN from a finite state).
TEST(rnn_row_kernels_special_values_every_isa) {
  const float sv[] = {0.0f, -0.0f, 1e-40f, -1e-40f, 30.0f, -30.0f, 88.0f, -88.0f, kInf, -kInf, 0.5f, -2.0f};
  const int64_t H = 9;
  const KernelTable& ref = ref_table();
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (RnnMode m : kModes) {
      const int64_t GH = rnn_gates(m) * H;
      std::vector<float> x((size_t)GH), a0((size_t)GH);
      for (int64_t j = 0; j < GH; ++j) {
        x[(size_t)j] = sv[j % 12];
        a0[(size_t)j] = sv[(j * 5 + 3) % 12] * 0.5f;
        if (std::isinf(a0[(size_t)j]) && std::isinf(x[(size_t)j])) a0[(size_t)j] = 0;  // no Inf − Inf
      }
      std::vector<float> h0 = randv(H, -1, 1, 9), c0 = randv(H, -1, 1, 10);
      std::vector<float> aw = a0, ag = a0, hw = h0, hg = h0, cw = c0, cg = c0, ow((size_t)H), og((size_t)H),
                         ew((size_t)H), eg((size_t)H);
      const bool lstm = m == RnnMode::Lstm;
      float* cwp = lstm ? cw.data() : nullptr;
      float* cgp = lstm ? cg.data() : nullptr;
      float* ewp = m == RnnMode::Lstm || m == RnnMode::Gru ? ew.data() : nullptr;
      float* egp = m == RnnMode::Lstm || m == RnnMode::Gru ? eg.data() : nullptr;
      ref.rnn_row_fwd((int32_t)m, H, x.data(), aw.data(), hw.data(), cwp, ow.data(), ewp);
      t->rnn_row_fwd((int32_t)m, H, x.data(), ag.data(), hg.data(), cgp, og.data(), egp);
      const std::string what = std::string(t->isa) + " " + mname(m) + " row special values";
      for (int64_t j = 0; j < H; ++j) {
        if (m != RnnMode::RnnRelu) CHECK(!std::isnan(og[(size_t)j])) << what << " h[" << j << "] is NaN";
        CHECK(std::fabs(og[(size_t)j] - ow[(size_t)j]) <= 1e-6 || (og[(size_t)j] == ow[(size_t)j]))
            << what << " h[" << j << "] = " << og[(size_t)j] << ", want " << ow[(size_t)j];
      }
      for (int64_t j = 0; j < GH; ++j)
        CHECK(std::fabs(ag[(size_t)j] - aw[(size_t)j]) <= 1e-6 || ag[(size_t)j] == aw[(size_t)j])
            << what << " gate[" << j << "] = " << ag[(size_t)j] << ", want " << aw[(size_t)j];
    }
  }
}

// ---- #11 lstmperf ----
// The pre-packed-B GEMM (gemm.h: pack_b_whole + gemm_prepacked_b) against the naive
// product on every configuration compiled in: both op(A), both op(B), K over one
// kc block (300 > 256), edge tiles in M and N, beta 0 (C not read: NaN there) and 1.
TEST(gemm_prepacked_b_vs_naive_every_config) {
  for (const char* isa : {"scalar", "avx2", "avx512", "neon"}) {
    const gemm_detail::Config* cfg = gemm_detail::config_for(isa);
    if (!cfg) continue;
    for (int64_t K : {1, 37, 300}) {
      for (int tA = 0; tA < 2; ++tA) {
        for (int tB = 0; tB < 2; ++tB) {
          const int64_t M = 13, N = 37;
          const std::vector<float> A = randv(M * K, -1, 1, 21), B = randv(K * N, -1, 1, 22), C0 = randv(M * N, -1, 1, 23);
          std::vector<float> bp((size_t)gemm_detail::packed_b_floats(*cfg, K, N) + 16);
          float* Bp = bp.data();
          while (reinterpret_cast<uintptr_t>(Bp) % 64) ++Bp;
          gemm_detail::pack_b_whole(*cfg, tB, K, N, B.data(), tB ? K : N, Bp);
          for (float beta : {0.0f, 1.0f}) {
            std::vector<float> got = C0, want = C0;
            if (beta == 0.0f) std::fill(got.begin(), got.end(), std::nanf(""));
            gemm_detail::gemm_prepacked_b(*cfg, tA, M, N, K, 0.5f, A.data(), tA ? M : K, Bp, beta, got.data(), N);
            gemm_naive(tA, tB, M, N, K, 0.5f, A.data(), tA ? M : K, B.data(), tB ? K : N, beta, want.data(), N);
            same(std::string(isa) + " prepacked K=" + std::to_string(K) + (tA ? " tA" : "") + (tB ? " tB" : "") +
                     " beta=" + std::to_string(beta),
                 got, want, 1e-5);
          }
        }
      }
    }
  }
}

// The batch-split recurrence gives bitwise the same results on 1 thread and on the pool.
TEST(rnn_drivers_same_bits_for_any_thread_count) {
  if (max_threads() < 2) return;
  std::vector<const KernelTable*> tables = isa_tables();
  tables.insert(tables.begin(), &ref_table());
  const Case c{40, 5, 24, true, true, {}};
  for (const KernelTable* t : tables) {
    for (RnnMode m : kModes) {
      const Inputs in = inputs(m, c);
      set_num_threads(1);
      const Run one = run(t, m, c, in);
      set_num_threads(max_threads());
      const Run all = run(t, m, c, in);
      const std::string what = std::string(t->isa) + " " + mname(m) + " 1 vs " + std::to_string(max_threads()) + " threads";
      same(what + " output", all.out, one.out, 0);
      same(what + " ws", all.ws, one.ws, 0);
      same(what + " dxProj", all.dxp, one.dxp, 0);
      same(what + " dh0", all.dh0, one.dh0, 0);
      same(what + " dwHh", all.dw, one.dw, 0);
    }
  }
}
