// Batch and layer normalisation (kernels.h: bn_*, ln_*): the reference
// against known answers, every ISA table complete, and the threaded ops:: entries
// bit-for-bit against one table call (the split never changes a sum's order).
#include <cmath>
#include <string>
#include <vector>

#include "helpers.h"
#include "kernels/ops.h"
#include "kernels/ref/ref.h"
#include "runtime/pool.h"
#include "test.h"

using namespace fathom;
using namespace fathom::kt;

TEST(ref_norm_known_values) {
  // x [2, 2, 2]: channel 0 holds 1, 2, 5, 6 (mean 3.5, var 4.25), channel 1 holds 3, 3, 3, 3.
  const float x[8] = {1, 2, 3, 3, 5, 6, 3, 3};
  float mean[2], var[2];
  f32_bn_stats__ref(2, 2, 2, 0, 2, x, mean, var);
  CHECK(mean[0] == 3.5f && var[0] == 4.25f && mean[1] == 3.0f && var[1] == 0.0f) << mean[0] << " " << var[0];
  float y[8];
  const float w[2] = {2, 1}, b[2] = {0, 7};
  f32_bn_fwd__ref(2, 2, 2, 0, 2, x, mean, var, 1e-5f, w, b, y);
  CHECK(close(y[0], (float)(2 * -2.5 / std::sqrt(4.25 + 1e-5)), 1e-6, 1e-6)) << y[0];
  CHECK(y[2] == 7.0f) << y[2];
  // dy = 1 everywhere: in training dx = 0 (the mean absorbs it), dbias = 4, dweight = sum xhat = 0
  const float dy[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  float dx[8], dw[2], db[2];
  f32_bn_bwd__ref(2, 2, 2, 0, 2, x, dy, mean, var, 1e-5f, w, true, dx, dw, db);
  for (int i = 0; i < 8; ++i) CHECK(std::fabs(dx[i]) < 1e-6f) << i << " " << dx[i];
  CHECK(db[0] == 4.0f && std::fabs(dw[0]) < 1e-6f) << db[0] << " " << dw[0];
  // eval: dx = w / sqrt(var + eps) * dy
  f32_bn_bwd__ref(2, 2, 2, 0, 2, x, dy, mean, var, 1e-5f, w, false, dx, nullptr, nullptr);
  CHECK(close(dx[0], (float)(2 / std::sqrt(4.25 + 1e-5)), 1e-6, 0)) << dx[0];
  // layer norm of one row [1, 2, 3, 6]: mean 3, var 3.5
  const float r[4] = {1, 2, 3, 6};
  float ly[4], lm, ls;
  f32_ln_fwd__ref(1, 4, r, nullptr, nullptr, 1e-5f, ly, &lm, &ls);
  CHECK(lm == 3.0f && close(ls, (float)(1 / std::sqrt(3.5 + 1e-5)), 1e-7, 0)) << lm << " " << ls;
  CHECK(close(ly[3], (float)(3 / std::sqrt(3.5 + 1e-5)), 1e-6, 0)) << ly[3];
  // a single-value row has a zero gradient, exactly
  const float one = 4, g1 = 3;
  float m1, s1, y1, d1;
  f32_ln_fwd__ref(1, 1, &one, nullptr, nullptr, 1e-5f, &y1, &m1, &s1);
  f32_ln_bwd_rows__ref(1, 1, &one, &g1, &m1, &s1, nullptr, &d1);
  CHECK(y1 == 0.0f && d1 == 0.0f) << y1 << " " << d1;
}

TEST(tables_have_norm) {
  std::vector<const KernelTable*> all = isa_tables();
  all.push_back(&ref_table());
  for (const KernelTable* t : all)
    CHECK(t->bn_stats && t->bn_fwd && t->bn_bwd && t->ln_fwd && t->ln_bwd_rows && t->ln_bwd_cols) << t->isa;
}

TEST(ops_norm_threaded) {
  set_num_threads(max_threads());
  const int64_t N = 16, C = 24, S = 1000;
  auto x = randv(N * C * S, -3, 5, 11);
  auto dy = randv(N * C * S, -1, 1, 12);
  auto w = randv(C, 0.5f, 1.5f, 13), b = randv(C, -1, 1, 14);
  const KernelTable& k = ops::table();
  std::vector<float> m1(C), v1(C), m2(C), v2(C);
  k.bn_stats(N, C, S, 0, C, x.data(), m1.data(), v1.data());
  ops::bn_stats(N, C, S, x.data(), m2.data(), v2.data());
  check_all("ops::bn_stats mean", m2.data(), m1.data(), C, 0, 0);
  check_all("ops::bn_stats var", v2.data(), v1.data(), C, 0, 0);
  std::vector<float> y1(N * C * S), y2(N * C * S);
  k.bn_fwd(N, C, S, 0, C, x.data(), m1.data(), v1.data(), 1e-5f, w.data(), b.data(), y1.data());
  ops::bn_fwd(N, C, S, x.data(), m1.data(), v1.data(), 1e-5f, w.data(), b.data(), y2.data());
  check_all("ops::bn_fwd", y2.data(), y1.data(), N * C * S, 0, 0);
  std::vector<float> dx1(N * C * S), dx2(N * C * S), dw1(C), dw2(C), db1(C), db2(C);
  k.bn_bwd(N, C, S, 0, C, x.data(), dy.data(), m1.data(), v1.data(), 1e-5f, w.data(), true, dx1.data(), dw1.data(), db1.data());
  ops::bn_bwd(N, C, S, x.data(), dy.data(), m1.data(), v1.data(), 1e-5f, w.data(), true, dx2.data(), dw2.data(), db2.data());
  check_all("ops::bn_bwd dx", dx2.data(), dx1.data(), N * C * S, 0, 0);
  check_all("ops::bn_bwd dweight", dw2.data(), dw1.data(), C, 0, 0);
  check_all("ops::bn_bwd dbias", db2.data(), db1.data(), C, 0, 0);
  const int64_t R = 4001, D = 300;
  auto lx = randv(R * D, -3, 5, 15), ldy = randv(R * D, -1, 1, 16), lw = randv(D, 0.5f, 1.5f, 17);
  std::vector<float> ly1(R * D), ly2(R * D), lm1(R), lm2(R), ls1(R), ls2(R);
  k.ln_fwd(R, D, lx.data(), lw.data(), nullptr, 1e-5f, ly1.data(), lm1.data(), ls1.data());
  ops::ln_fwd(R, D, lx.data(), lw.data(), nullptr, 1e-5f, ly2.data(), lm2.data(), ls2.data());
  check_all("ops::ln_fwd", ly2.data(), ly1.data(), R * D, 0, 0);
  std::vector<float> ldx1(R * D), ldx2(R * D), ldw1(D), ldw2(D), ldb1(D), ldb2(D);
  k.ln_bwd_rows(R, D, lx.data(), ldy.data(), lm1.data(), ls1.data(), lw.data(), ldx1.data());
  k.ln_bwd_cols(R, D, D, lx.data(), ldy.data(), lm1.data(), ls1.data(), ldw1.data(), ldb1.data());
  ops::ln_bwd(R, D, lx.data(), ldy.data(), lm1.data(), ls1.data(), lw.data(), ldx2.data(), ldw2.data(), ldb2.data());
  check_all("ops::ln_bwd dx", ldx2.data(), ldx1.data(), R * D, 0, 0);
  check_all("ops::ln_bwd dweight", ldw2.data(), ldw1.data(), D, 0, 0);
  check_all("ops::ln_bwd dbias", ldb2.data(), ldb1.data(), D, 0, 0);
}

// Every ISA table against the reference at awkward sizes of the per-channel count
// M = N*S (and of C), split both ways (N = 1: one long plane; S = 1: [N, C] input),
// plus layer norm rows of D = the same sizes. The SIMD bodies keep the reference's
// double statistics but add in another order and use FMA: equal to rounding.
// A mean far from 0 (x in [97, 103]) checks that the variance has no one-pass
// cancellation. Sentinels (9) in the outputs check that every element is written.
TEST(norm_every_isa_vs_ref) {
  const KernelTable& ref = ref_table();
  const double rt = 2e-5, at = 2e-6;
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (int64_t m : {0, 1, 7, 33, 257}) {
      for (int64_t C : {1, 7, 33}) {
        for (int split = 0; split < 2; ++split) {
          const int64_t N = split ? (m > 1 ? 3 : 1) : 1, S = split ? (m > 1 ? (m + 2) / 3 : m) : m;
          const int64_t n = N * C * S;
          const float lo = (C % 2) ? 97.0f : -3.0f, hi = lo + 6.0f;
          const auto x = randv(n, lo, hi, (uint64_t)(m * 7 + C));
          const auto dy = randv(n, -1, 1, (uint64_t)(m + 3 * C));
          const auto w = randv(C, 0.5f, 1.5f, 5), b = randv(C, -1, 1, 6);
          const std::string what = std::string(t->isa) + " N=" + std::to_string(N) + " C=" + std::to_string(C) +
                                   " S=" + std::to_string(S);
          std::vector<float> mr(C, 9), vr(C, 9), mt(C, 9), vt(C, 9);
          if (N * S > 0) {
            ref.bn_stats(N, C, S, 0, C, x.data(), mr.data(), vr.data());
            t->bn_stats(N, C, S, 0, C, x.data(), mt.data(), vt.data());
            check_all(what + " bn mean", mt.data(), mr.data(), C, rt, at);
            check_all(what + " bn var", vt.data(), vr.data(), C, 1e-4, 1e-6);
          } else {
            std::fill(mr.begin(), mr.end(), 0.5f), std::fill(vr.begin(), vr.end(), 2.0f);
          }
          for (int affine = 0; affine < 2; ++affine) {
            const float* wp = affine ? w.data() : nullptr;
            const float* bp = affine ? b.data() : nullptr;
            std::vector<float> yr(n, 9), yt(n, 9);
            ref.bn_fwd(N, C, S, 0, C, x.data(), mr.data(), vr.data(), 1e-5f, wp, bp, yr.data());
            t->bn_fwd(N, C, S, 0, C, x.data(), mr.data(), vr.data(), 1e-5f, wp, bp, yt.data());
            check_all(what + " bn y", yt.data(), yr.data(), n, rt, 1e-4);
            for (int training = 0; training < 2; ++training) {
              std::vector<float> dxr(n, 9), dxt(n, 9), dwr(C, 9), dwt(C, 9), dbr(C, 9), dbt(C, 9);
              ref.bn_bwd(N, C, S, 0, C, x.data(), dy.data(), mr.data(), vr.data(), 1e-5f, wp, training, dxr.data(),
                         dwr.data(), dbr.data());
              t->bn_bwd(N, C, S, 0, C, x.data(), dy.data(), mr.data(), vr.data(), 1e-5f, wp, training, dxt.data(),
                        dwt.data(), dbt.data());
              const std::string wt = what + (training ? " train" : " eval") + (affine ? " affine" : "");
              check_all(wt + " bn dx", dxt.data(), dxr.data(), n, 1e-4, 1e-4);
              check_all(wt + " bn dweight", dwt.data(), dwr.data(), C, 1e-4, 1e-4);
              check_all(wt + " bn dbias", dbt.data(), dbr.data(), C, rt, 1e-5);
            }
          }
          // layer norm: R = C rows of D = m
          const int64_t R = C, D = m;
          if (D == 0) continue;
          const auto lw = randv(D, 0.5f, 1.5f, 7), lb = randv(D, -1, 1, 8);
          for (int affine = 0; affine < 3; ++affine) {
            const float* wp = affine ? lw.data() : nullptr;
            const float* bp = affine == 1 ? lb.data() : nullptr;
            const std::string wl = std::string(t->isa) + " ln R=" + std::to_string(R) + " D=" + std::to_string(D) +
                                   " affine=" + std::to_string(affine);
            std::vector<float> yr(R * D, 9), yt(R * D, 9), mr2(R, 9), mt2(R, 9), sr(R, 9), st(R, 9);
            ref.ln_fwd(R, D, x.data(), wp, bp, 1e-5f, yr.data(), mr2.data(), sr.data());
            t->ln_fwd(R, D, x.data(), wp, bp, 1e-5f, yt.data(), mt2.data(), st.data());
            check_all(wl + " mean", mt2.data(), mr2.data(), R, rt, at);
            check_all(wl + " rstd", st.data(), sr.data(), R, 1e-4, 1e-6);
            check_all(wl + " y", yt.data(), yr.data(), R * D, 1e-4, 1e-4);
            std::vector<float> dxr(R * D, 9), dxt(R * D, 9), dwr(D, 9), dwt(D, 9), dbr(D, 9), dbt(D, 9);
            ref.ln_bwd_rows(R, D, x.data(), dy.data(), mr2.data(), sr.data(), wp, dxr.data());
            t->ln_bwd_rows(R, D, x.data(), dy.data(), mr2.data(), sr.data(), wp, dxt.data());
            check_all(wl + " dx", dxt.data(), dxr.data(), R * D, 1e-4, 1e-4);
            ref.ln_bwd_cols(R, D, D, x.data(), dy.data(), mr2.data(), sr.data(), dwr.data(), dbr.data());
            t->ln_bwd_cols(R, D, D, x.data(), dy.data(), mr2.data(), sr.data(), dwt.data(), dbt.data());
            check_all(wl + " dweight", dwt.data(), dwr.data(), D, 1e-4, 1e-5);
            check_all(wl + " dbias", dbt.data(), dbr.data(), D, rt, 1e-5);
          }
        }
      }
    }
  }
}
