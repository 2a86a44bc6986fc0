// Reductions, softmax, cross-entropy and mse: reference vs oracle, ISA vs reference.
// Tolerances: see test_kernels.cc.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>
#include "cpu/cpu.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"
#include "kernels/ref/ref.h"
#include "runtime/pool.h"
#include "helpers.h"
#include "test.h"
using namespace fathom;
using namespace kt;

// ---- reduce -----------------------------------------------------------------------

struct ReduceCase {
  std::vector<int64_t> shape;
  std::vector<int> axes;  // reduced axes
};

// ostride (row-major over the kept dims, 0 on reduced dims) and out_n.
static std::vector<int64_t> reduce_ostride(const ReduceCase& c, int64_t* out_n) {
  const int nd = (int)c.shape.size();
  std::vector<int64_t> os(nd, 0);
  int64_t acc = 1;
  for (int d = nd - 1; d >= 0; --d) {
    bool red = false;
    for (int a : c.axes) red |= a == d;
    if (!red) os[d] = acc, acc *= c.shape[d];
  }
  *out_n = acc;
  return os;
}

static void oracle_reduce(Reduce op, const ReduceCase& c, const float* x,
                          const std::vector<int64_t>& os, float* out, int64_t out_n) {
  const int64_t n = numel(c.shape);
  std::vector<double> sum(out_n, 0.0);
  std::vector<float> mx(out_n, -kInf);
  const int nd = (int)c.shape.size();
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, o = 0;
    for (int d = nd - 1; d >= 0; --d) {
      o += (rem % c.shape[d]) * os[d];
      rem /= c.shape[d];
    }
    sum[o] += x[i];
    if (std::isnan(x[i]) || std::isnan(mx[o])) mx[o] = kNaN;
    else if (x[i] > mx[o]) mx[o] = x[i];
  }
  for (int64_t o = 0; o < out_n; ++o)
    out[o] = op == Reduce::Max ? mx[o]
             : op == Reduce::Sum ? (float)sum[o]
                                 : (float)(sum[o] / ((double)n / (double)out_n));
}

static std::vector<ReduceCase> reduce_cases() {
  std::vector<ReduceCase> c;
  for (int64_t R : {1, 3, 17}) {
    for (int64_t C : {1, 7, 8, 9, 15, 16, 17, 33, 257, 1000}) {
      c.push_back({{R, C}, {1}});     // last axis
      c.push_back({{R, C}, {0}});     // first axis
      c.push_back({{R, C}, {0, 1}});  // everything
    }
  }
  c.push_back({{4, 5, 6}, {1}});
  c.push_back({{4, 5, 6}, {0, 2}});
  c.push_back({{4, 5, 6}, {1, 2}});
  c.push_back({{4, 5, 6}, {0, 1}});
  c.push_back({{2, 1, 3, 1, 40}, {4}});
  c.push_back({{2, 1, 3, 1, 40}, {0, 2}});
  c.push_back({{1000}, {0}});
  c.push_back({{1000}, {}});  // nothing reduced
  c.push_back({{}, {}});      // rank 0
  return c;
}


TEST(ref_reduce_oracle) {
  for (const ReduceCase& c : reduce_cases()) {
    int64_t out_n;
    const auto os = reduce_ostride(c, &out_n);
    auto x = randv(numel(c.shape), -1, 1, 31);
    for (Reduce op : {Reduce::Sum, Reduce::Mean, Reduce::Max}) {
      std::vector<float> want(out_n), got(out_n + 1, 7.0f);
      oracle_reduce(op, c, x.data(), os, want.data(), out_n);
      f32_reduce__ref(op, (int)c.shape.size(), c.shape.data(), x.data(), os.data(), got.data(), out_n);
      check_all(std::string("ref reduce ") + rname(op), got.data(), want.data(), out_n, 1e-7, 1e-12);
      CHECK(got[out_n] == 7.0f) << "reduce wrote past the end";
    }
  }
  // Empty input: sum 0, mean NaN, max -Inf.
  const int64_t shape[2] = {3, 0}, os[2] = {1, 0};
  float out[3];
  f32_reduce__ref(Reduce::Sum, 2, shape, nullptr, os, out, 3);
  CHECK(out[0] == 0 && out[2] == 0) << "empty sum";
  f32_reduce__ref(Reduce::Mean, 2, shape, nullptr, os, out, 3);
  CHECK(std::isnan(out[0]) && std::isnan(out[2])) << "empty mean";
  f32_reduce__ref(Reduce::Max, 2, shape, nullptr, os, out, 3);
  CHECK(out[0] == -kInf && out[2] == -kInf) << "empty max";
  // Max propagates NaN; sum is exact in double: 1e8 + 1 - 1e8 = 1.
  const float x[4] = {1e8f, 1.0f, -1e8f, 0.0f};
  const int64_t s1[1] = {4}, o1[1] = {0};
  f32_reduce__ref(Reduce::Sum, 1, s1, x, o1, out, 1);
  CHECK(out[0] == 1.0f) << "double accumulation " << out[0];
  const float xn[4] = {1.0f, kNaN, 3.0f, 2.0f};
  f32_reduce__ref(Reduce::Max, 1, s1, xn, o1, out, 1);
  CHECK(std::isnan(out[0])) << "max with NaN";
}

TEST(isa_reduce_vs_ref) {
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (const ReduceCase& c : reduce_cases()) {
      int64_t out_n;
      const auto os = reduce_ostride(c, &out_n);
      for (int pass = 0; pass < 2; ++pass) {
        auto x = randv(numel(c.shape), -1, 1, 41 + pass);
        if (pass == 1 && x.size() > 5) x[5] = kNaN, x[x.size() / 2] = -kInf;
        for (Reduce op : {Reduce::Sum, Reduce::Mean, Reduce::Max}) {
          std::vector<float> want(out_n + 1, 7.0f), got(out_n + 1, 7.0f);
          f32_reduce__ref(op, (int)c.shape.size(), c.shape.data(), x.data(), os.data(),
                          want.data(), out_n);
          t->reduce(op, (int)c.shape.size(), c.shape.data(), x.data(), os.data(), got.data(), out_n);
          std::string what = std::string(t->isa) + " reduce " + rname(op) + " [";
          for (int64_t v : c.shape) what += std::to_string(v) + ",";
          check_all(what + "]", got.data(), want.data(), out_n + 1,
                    op == Reduce::Max ? 0 : 2.5e-7, op == Reduce::Max ? 0 : 1e-30);
        }
      }
    }
  }
}

// ---- softmax, cross-entropy, mse ----------------------------------------------------

static void oracle_softmax(int64_t N, int64_t D, const float* x, float* y, bool log) {
  for (int64_t n = 0; n < N; ++n) {
    const float* r = x + n * D;
    double m = -INFINITY, s = 0;
    for (int64_t d = 0; d < D; ++d) m = r[d] > m ? r[d] : m;
    for (int64_t d = 0; d < D; ++d) s += std::exp(r[d] - m);
    for (int64_t d = 0; d < D; ++d)
      y[n * D + d] = log ? (float)(r[d] - m - std::log(s)) : (float)(std::exp(r[d] - m) / s);
  }
}

TEST(ref_softmax_oracle) {
  for (int64_t D : kSizes) {
    for (bool log : {false, true}) {
      const int64_t N = 5;
      auto x = randv(N * D, -8, 8, 50 + D);
      std::vector<float> want(N * D), got(N * D);
      oracle_softmax(N, D, x.data(), want.data(), log);
      f32_softmax__ref(N, D, x.data(), got.data(), log);
      check_all(std::string("ref softmax log=") + (log ? "1" : "0"), got.data(), want.data(), N * D,
                1e-6, 1e-7);
    }
  }
  // Stable for large logits: the row max is subtracted.
  const float big[4] = {1000.0f, 1001.0f, 999.0f, -1000.0f};
  float y[4];
  f32_softmax__ref(1, 4, big, y, false);
  CHECK(std::fabs(y[1] - 0.66524096f) < 1e-6f && std::fabs(y[0] - 0.24472847f) < 1e-6f &&
        std::fabs(y[2] - 0.09003057f) < 1e-6f && y[3] == 0.0f)
      << "softmax(1000, 1001, 999, -1000) = " << y[0] << " " << y[1] << " " << y[2] << " " << y[3];
  f32_softmax__ref(1, 4, big, y, true);
  CHECK(std::fabs(y[1] + 0.40760596f) < 1e-6f && y[3] == -2001.4076f) << "log_softmax big " << y[1] << " " << y[3];
  // Backward: softmax dx = y (dy - sum dy y); log: dx = dy - exp(y) sum dy.
  const float ys[2] = {0.25f, 0.75f}, dy[2] = {1.0f, 3.0f};
  float dx[2];
  f32_softmax_bwd__ref(1, 2, ys, dy, dx, false);  // s = 2.5: dx = (-0.375, 0.375)
  CHECK(dx[0] == -0.375f && dx[1] == 0.375f) << "softmax_bwd " << dx[0] << " " << dx[1];
  const float ly[2] = {std::log(0.25f), std::log(0.75f)};
  f32_softmax_bwd__ref(1, 2, ly, dy, dx, true);  // sum dy = 4: dx = (0, 0)
  CHECK(std::fabs(dx[0]) < 1e-6f && std::fabs(dx[1]) < 1e-6f) << "log_softmax_bwd " << dx[0] << " " << dx[1];
}

TEST(ref_xent_known_answers) {
  // Row (0, 0), label 0: loss log 2. Row (1000, 0), label 1: loss 1000.
  const float logits[4] = {0.0f, 0.0f, 1000.0f, 0.0f};
  const int32_t labels[2] = {0, 1};
  float prob[4], dl[4];
  const double loss = f32_xent_labels__ref(2, 2, logits, labels, prob);
  CHECK(std::fabs(loss - (std::log(2.0) + 1000.0) / 2) < 1e-9) << "xent loss " << loss;
  CHECK(prob[0] == 0.5f && prob[1] == 0.5f && prob[2] == 1.0f && prob[3] == 0.0f) << "xent prob";
  f32_xent_labels_bwd__ref(2, 2, prob, labels, 4.0f, dl);  // g/N = 2: 2 (p - onehot)
  CHECK(dl[0] == -1.0f && dl[1] == 1.0f && dl[2] == 2.0f && dl[3] == -2.0f) << "xent bwd";
  // One-hot probability targets give the same loss and gradient.
  const float target[4] = {1.0f, 0.0f, 0.0f, 1.0f};
  float prob2[4], dl2[4];
  const double loss2 = f32_xent_probs__ref(2, 2, logits, target, prob2);
  CHECK(std::fabs(loss2 - loss) < 1e-9) << "xent_probs " << loss2 << " vs " << loss;
  f32_xent_probs_bwd__ref(2, 2, prob2, target, 4.0f, dl2);
  check_all("xent_probs_bwd one-hot", dl2, dl, 4, 0, 0);
  // Soft targets (0.25, 0.75) on logits (0, ln 3): loss = -(0.25 ln .25 + 0.75 ln .75).
  const float lg[2] = {0.0f, (float)std::log(3.0)}, tt[2] = {0.25f, 0.75f};
  const double l3 = f32_xent_probs__ref(1, 2, lg, tt, prob2);
  CHECK(std::fabs(l3 - -(0.25 * std::log(0.25) + 0.75 * std::log(0.75))) < 1e-7) << "soft xent " << l3;
  CHECK(std::isnan(f32_xent_labels__ref(0, 3, nullptr, nullptr, nullptr))) << "N == 0 gives NaN";
  // mse: ((1-0)^2 + (2-4)^2) / 2 = 2.5; da = g 2 (a - b) / n.
  const float a[2] = {1.0f, 2.0f}, b[2] = {0.0f, 4.0f};
  float da[2];
  CHECK(f32_mse__ref(2, a, b) == 2.5) << "mse";
  f32_mse_bwd__ref(2, a, b, 3.0f, da);
  CHECK(da[0] == 3.0f && da[1] == -6.0f) << "mse_bwd " << da[0] << " " << da[1];
  CHECK(std::isnan(f32_mse__ref(0, a, b))) << "mse of nothing is NaN";
}

TEST(isa_rows_vs_ref) {
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (int64_t D : kSizes) {
      if (D == 0) continue;
      for (int64_t N : {1, 3, 8}) {
        const std::string sz = std::string(t->isa) + " N=" + std::to_string(N) + " D=" + std::to_string(D);
        auto x = randv(N * D, -6, 6, 60 + D);
        if (D > 3 && N > 1) x[2] = 80.0f, x[D + 1] = -90.0f;  // a dominant and a negligible logit
        const int64_t M = N * D;
        std::vector<float> want(M + 1, 7.0f), got(M + 1, 7.0f);
        for (bool log : {false, true}) {
          const std::string tag = sz + (log ? " log_softmax" : " softmax");
          f32_softmax__ref(N, D, x.data(), want.data(), log);
          t->softmax(N, D, x.data(), got.data(), log);
          check_all(tag, got.data(), want.data(), M + 1, log ? 1e-6 : 2e-6, log ? 2e-6 : 1e-12);
          auto inplace = x;
          t->softmax(N, D, inplace.data(), inplace.data(), log);
          check_all(tag + " in place", inplace.data(), got.data(), M, 0, 0);
          // Backward, from the reference forward.
          auto dy = randv(M, -1, 1, 70 + D);
          std::vector<float> bw(M + 1, 7.0f), bg(M + 1, 7.0f);
          f32_softmax_bwd__ref(N, D, want.data(), dy.data(), bw.data(), log);
          t->softmax_bwd(N, D, want.data(), dy.data(), bg.data(), log);
          check_all(tag + "_bwd", bg.data(), bw.data(), M + 1, 1e-6, log ? 2e-6 : 1e-7);
        }
        // Cross-entropy, labels and probability targets.
        std::vector<int32_t> labels(N);
        for (int64_t n = 0; n < N; ++n) labels[n] = (int32_t)((n * 7 + 3) % D);
        std::vector<float> pw(M), pg(M), dw(M), dg(M);
        const double lw = f32_xent_labels__ref(N, D, x.data(), labels.data(), pw.data());
        const double lgot = t->xent_labels(N, D, x.data(), labels.data(), pg.data());
        CHECK(std::fabs(lgot - lw) <= 1e-6 * std::fabs(lw) + 1e-9) << sz << " xent_labels " << lgot << " vs " << lw;
        check_all(sz + " xent_labels prob", pg.data(), pw.data(), M, 2e-6, 1e-12);
        f32_xent_labels_bwd__ref(N, D, pw.data(), labels.data(), 0.7f, dw.data());
        t->xent_labels_bwd(N, D, pw.data(), labels.data(), 0.7f, dg.data());
        check_all(sz + " xent_labels_bwd", dg.data(), dw.data(), M, 1e-6, 1e-12);
        auto tg = randv(M, 0, 1, 80 + D);
        const double pw2 = f32_xent_probs__ref(N, D, x.data(), tg.data(), pw.data());
        const double pg2 = t->xent_probs(N, D, x.data(), tg.data(), pg.data());
        CHECK(std::fabs(pg2 - pw2) <= 1e-6 * std::fabs(pw2) + 1e-9) << sz << " xent_probs " << pg2 << " vs " << pw2;
        check_all(sz + " xent_probs prob", pg.data(), pw.data(), M, 2e-6, 1e-12);
        f32_xent_probs_bwd__ref(N, D, pw.data(), tg.data(), 0.7f, dw.data());
        t->xent_probs_bwd(N, D, pw.data(), tg.data(), 0.7f, dg.data());
        check_all(sz + " xent_probs_bwd", dg.data(), dw.data(), M, 1e-6, 1e-12);
      }
    }
    // Large logits stay finite; special rows agree (NaN, all -Inf).
    const float big[8] = {1000.0f, 1001.0f, 999.0f, -1000.0f, 3e38f, 3e38f, -3e38f, 0.0f};
    float yw[8], yg[8];
    f32_softmax__ref(2, 4, big, yw, false);
    t->softmax(2, 4, big, yg, false);
    check_all(std::string(t->isa) + " softmax large logits", yg, yw, 8, 2e-6, 1e-12);
    const float odd[8] = {kNaN, 1.0f, 2.0f, 3.0f, -kInf, -kInf, -kInf, -kInf};
    f32_softmax__ref(2, 4, odd, yw, false);
    t->softmax(2, 4, odd, yg, false);
    check_all(std::string(t->isa) + " softmax NaN / -Inf rows", yg, yw, 8, 0, 0);
    // mse
    for (int64_t n : kSizes) {
      auto a = randv(n, -2, 2, 90 + n), b = randv(n, -2, 2, 91 + n);
      const double w = f32_mse__ref(n, a.data(), b.data()), g = t->mse(n, a.data(), b.data());
      CHECK((std::isnan(w) && std::isnan(g)) || std::fabs(g - w) <= 1e-6 * std::fabs(w))
          << t->isa << " mse n=" << n << " " << g << " vs " << w;
      std::vector<float> dw(n), dg(n);
      f32_mse_bwd__ref(n, a.data(), b.data(), 0.3f, dw.data());
      t->mse_bwd(n, a.data(), b.data(), 0.3f, dg.data());
      check_all(std::string(t->isa) + " mse_bwd", dg.data(), dw.data(), n, 1e-6, 1e-12);
    }
  }
}
