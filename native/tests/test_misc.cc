// Layout, random numbers (Philox KAT), optimizer steps, threaded ops:: entries.
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

// ---- layout -------------------------------------------------------------------------

TEST(layout_kernels) {
  std::vector<const KernelTable*> tables = {&ref_table()};
  for (const KernelTable* t : isa_tables()) tables.push_back(t);
  for (const KernelTable* t : tables) {
    const std::string isa = t->isa;
    for (int64_t N : {1, 7, 33}) {
      for (int64_t D : {1, 8, 17, 257}) {
        auto x = randv(N * D, -1, 1, N * 1000 + D);
        std::vector<float> y(N * D + 1, 7.0f);
        t->transpose2d(N, D, x.data(), y.data());
        bool ok = y[N * D] == 7.0f;
        for (int64_t n = 0; n < N; ++n)
          for (int64_t d = 0; d < D; ++d) ok &= y[d * N + n] == x[n * D + d];
        CHECK(ok) << isa << " transpose " << N << "x" << D;
      }
    }
    // argmax: first maximum; NaN counts as the maximum (PyTorch / NumPy), the
    // first NaN of a row wins; D == 0 gives 0.
    const float a[] = {1, 3, 3, 2,  kNaN, 1, 5, kNaN,  kNaN, kNaN, kNaN, kNaN,  -kInf, -kInf, -kInf, -kInf,
                       -1, -0.5f, kInf, kInf,  1, 9, kNaN, kNaN,  kInf, 2, 3, kNaN};
    int32_t out[7] = {-1, -1, -1, -1, -1, -1, -1};
    t->argmax(7, 4, a, out);
    CHECK(out[0] == 1 && out[1] == 0 && out[2] == 0 && out[3] == 0 && out[4] == 2 && out[5] == 2 && out[6] == 3)
        << isa << " argmax " << out[0] << out[1] << out[2] << out[3] << out[4] << out[5] << out[6];
    t->argmax(2, 0, a, out);
    CHECK(out[0] == 0 && out[1] == 0) << isa << " argmax D=0";
    for (int64_t n : kSizes) {
      std::vector<float> y(n + 1, 7.0f);
      t->fill(n, -2.5f, y.data());
      bool ok = y[n] == 7.0f;
      for (int64_t i = 0; i < n; ++i) ok &= y[i] == -2.5f;
      CHECK(ok) << isa << " fill n=" << n;
      auto x = randv(n, -1, 1, n);
      std::vector<float> z(n + 1, 7.0f);
      t->copy(n, x.data(), z.data());
      check_all(isa + " copy n=" + std::to_string(n), z.data(), x.data(), n, 0, 0);
      CHECK(z[n] == 7.0f) << isa << " copy wrote past the end";
      t->copy(n, x.data(), x.data());  // in place: no-op
    }
  }
}

// ---- random ---------------------------------------------------------------------------

TEST(philox_known_answers) {
  // Random123 kat_vectors, philox4x32 10 rounds.
  struct Kat { uint32_t ctr[4], key[2], out[4]; };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}};
  for (const Kat& k : kats) {
    uint32_t out[4];
    philox4x32_10(k.ctr, k.key, out);
    CHECK(out[0] == k.out[0] && out[1] == k.out[1] && out[2] == k.out[2] && out[3] == k.out[3])
        << "philox ctr0=" << std::hex << k.ctr[0] << " got " << out[0] << " " << out[1] << " "
        << out[2] << " " << out[3];
  }
  // Through the kernel: u * 2^24 = word >> 8 exactly (lo 0, hi 2^24).
  for (const KernelTable* t : [] {
         std::vector<const KernelTable*> v = {&ref_table()};
         for (const KernelTable* k : isa_tables()) v.push_back(k);
         return v;
       }()) {
    float y[4];
    t->rand_uniform(4, 0, 0, 0.0f, 16777216.0f, y);
    CHECK(y[0] == (float)(0x6627e8d5u >> 8) && y[1] == (float)(0xe169c58du >> 8) &&
          y[2] == (float)(0xbc57ac4cu >> 8) && y[3] == (float)(0x9b00dbd8u >> 8))
        << t->isa << " uniform words";
    // Seed and offset map to key (lo, hi) and counter (lo, hi, 0, 0).
    const uint64_t seed = 0x0123456789abcdefull, offset = 0x100000002ull;
    const uint32_t ctr[4] = {2, 1, 0, 0}, key[2] = {0x89abcdef, 0x01234567};
    uint32_t w[4];
    philox4x32_10(ctr, key, w);
    t->rand_uniform(4, seed, offset, 0.0f, 16777216.0f, y);
    CHECK(y[0] == (float)(w[0] >> 8) && y[3] == (float)(w[3] >> 8)) << t->isa << " seed/offset mapping";
    // Box-Muller on the pair (w0, w1).
    float z[3];
    t->rand_normal(3, seed, offset, 1.0f, 2.0f, z);
    const double u0 = (w[0] >> 8) / 16777216.0, u1 = (w[1] >> 8) / 16777216.0;
    const double r = std::sqrt(-2.0 * std::log(1.0 - u0));
    const double u2 = (w[2] >> 8) / 16777216.0, u3 = (w[3] >> 8) / 16777216.0;
    const double r2 = std::sqrt(-2.0 * std::log(1.0 - u2));
    CHECK(z[0] == (float)(1.0 + 2.0 * (r * std::cos(2 * M_PI * u1))) &&
          z[1] == (float)(1.0 + 2.0 * (r * std::sin(2 * M_PI * u1))) &&
          z[2] == (float)(1.0 + 2.0 * (r2 * std::cos(2 * M_PI * u3))))
        << t->isa << " box-muller " << z[0] << " " << z[1] << " " << z[2];
  }
}

TEST(random_streams) {
  // A slice of the stream can be generated alone: offset counts 4-element blocks.
  std::vector<float> all(400), part(200), n_all(400), n_part(200);
  f32_rand_uniform__ref(400, 42, 7, -1.0f, 3.0f, all.data());
  f32_rand_uniform__ref(200, 42, 7 + 50, -1.0f, 3.0f, part.data());
  check_all("uniform slice", part.data(), all.data() + 200, 200, 0, 0);
  f32_rand_normal__ref(400, 42, 7, 0.0f, 1.0f, n_all.data());
  f32_rand_normal__ref(199, 42, 7 + 50, 0.0f, 1.0f, n_part.data());  // odd n
  check_all("normal slice", n_part.data(), n_all.data() + 200, 199, 0, 0);
  bool in_range = true;
  for (float v : all) in_range &= v >= -1.0f && v < 3.0f;
  CHECK(in_range) << "uniform range";
  // Moments of 2^18 normals: mean 0 +- 0.01, variance 1 +- 0.02.
  const int64_t n = 1 << 18;
  std::vector<float> z(n);
  f32_rand_normal__ref(n, 1234, 0, 0.0f, 1.0f, z.data());
  double s = 0, s2 = 0;
  for (float v : z) s += v, s2 += (double)v * v;
  const double mean = s / n, var = s2 / n - mean * mean;
  CHECK(std::fabs(mean) < 0.01 && std::fabs(var - 1) < 0.02) << "normal moments " << mean << " " << var;
  for (const KernelTable* t : isa_tables()) {  // every table draws the same numbers
    std::vector<float> u(1001), v(1001);
    t->rand_uniform(1001, 9, 3, -2.0f, 2.0f, u.data());
    f32_rand_uniform__ref(1001, 9, 3, -2.0f, 2.0f, v.data());
    check_all(std::string(t->isa) + " uniform", u.data(), v.data(), 1001, 0, 0);
    t->rand_normal(1001, 9, 3, 0.5f, 2.0f, u.data());
    f32_rand_normal__ref(1001, 9, 3, 0.5f, 2.0f, v.data());
    check_all(std::string(t->isa) + " normal", u.data(), v.data(), 1001, 0, 0);
  }
}

// ---- optimizers ----------------------------------------------------------------------------

TEST(ref_sgd_known_answers) {
  // lr 0.1, momentum 0.9, wd 0.01, w 1, g 0.5: g' = 0.51.
  float w = 1, v = 0;
  const float g = 0.5f;
  f32_sgd_step__ref(1, &w, &g, &v, 0.1f, 0.9f, 0.0f, 0.01f, false, true);
  CHECK(std::fabs(v - 0.51f) < 1e-7f && std::fabs(w - 0.949f) < 1e-7f) << "sgd first " << v << " " << w;
  // g' = 0.5 + 0.00949 = 0.50949; v = 0.9 * 0.51 + 0.50949 = 0.96849; w = 0.949 - 0.096849.
  f32_sgd_step__ref(1, &w, &g, &v, 0.1f, 0.9f, 0.0f, 0.01f, false, false);
  CHECK(std::fabs(v - 0.96849f) < 1e-6f && std::fabs(w - 0.852151f) < 1e-6f) << "sgd second " << v << " " << w;
  w = 1, v = 0;  // nesterov: d = g' + 0.9 v = 0.969
  f32_sgd_step__ref(1, &w, &g, &v, 0.1f, 0.9f, 0.0f, 0.01f, true, true);
  CHECK(std::fabs(w - 0.9031f) < 1e-6f) << "sgd nesterov " << w;
  w = 1;  // dampening 0.5, not first: v = 0.9 * 0.51 + 0.5 * 0.50969 (g' = 0.5 + 0.01 * 0.9031)
  v = 0.51f;
  f32_sgd_step__ref(1, &w, &g, &v, 0.1f, 0.9f, 0.5f, 0.01f, false, false);
  CHECK(std::fabs(v - (0.459f + 0.5f * 0.51f)) < 1e-6f) << "sgd dampening " << v;
  w = 1;  // momentum 0: plain SGD, v untouched (may be null)
  f32_sgd_step__ref(1, &w, &g, nullptr, 0.1f, 0.0f, 0.0f, 0.01f, false, true);
  CHECK(std::fabs(w - 0.949f) < 1e-7f) << "sgd plain " << w;
  // Adam and the other stateful optimizers: test_optim.cc.
}

TEST(isa_optim_vs_ref) {
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (int64_t n : kSizes) {
      const auto w0 = randv(n, -1, 1, n + 1), g = randv(n, -1, 1, n + 2);
      const auto v0 = randv(n, -0.5f, 0.5f, n + 3);
      for (int flags = 0; flags < 8; ++flags) {
        const bool nesterov = flags & 1, first = flags & 2;
        const float mom = (flags & 4) ? 0.9f : 0.0f, damp = nesterov ? 0.0f : 0.1f;
        auto wr = w0, wg = w0, vr = v0, vg = v0;
        wr.push_back(7), wg.push_back(7), vr.push_back(7), vg.push_back(7);
        for (int step = 0; step < 3; ++step) {
          f32_sgd_step__ref(n, wr.data(), g.data(), vr.data(), 0.05f, mom, damp, 1e-3f, nesterov, first && step == 0);
          t->sgd_step(n, wg.data(), g.data(), vg.data(), 0.05f, mom, damp, 1e-3f, nesterov, first && step == 0);
        }
        const std::string what = std::string(t->isa) + " sgd flags=" + std::to_string(flags) + " n=" + std::to_string(n);
        check_all(what + " w", wg.data(), wr.data(), n + 1, 1e-6, 1e-7);
        check_all(what + " v", vg.data(), vr.data(), n + 1, 1e-6, 1e-7);
      }
    }
  }
}

// ---- threaded entry points ---------------------------------------------------------------

// ops:: on table k against one call of k: bitwise for element-wise and row
// results, close for the losses and the g/N-scaled backward kernels.
static void check_ops(const KernelTable& k) {
  set_num_threads(max_threads());
  const std::string isa = k.isa;
  const int64_t n = 300007;
  auto x = randv(n, -3, 3, 1), y = randv(n, -3, 3, 2), dy = randv(n, -1, 1, 3);
  std::vector<float> a(n), b(n);
  for (Unary op : kUnaryOps) {
    k.unary(op, n, x.data(), a.data(), 1.5f, 2.0f);
    ops::unary(k, op, n, x.data(), b.data(), 1.5f, 2.0f);
    check_all(isa + " ops::unary " + uname(op), b.data(), a.data(), n, 0, 0);
    k.unary_bwd(op, n, x.data(), y.data(), dy.data(), a.data(), 1.5f, 2.0f);
    ops::unary_bwd(k, op, n, x.data(), y.data(), dy.data(), b.data(), 1.5f, 2.0f);
    check_all(isa + " ops::unary_bwd " + uname(op), b.data(), a.data(), n, 0, 0);
  }
  for (Binary op : kBinaryOps) {
    k.binary(op, n, x.data(), y.data(), a.data());
    ops::binary(k, op, n, x.data(), y.data(), b.data());
    check_all(isa + " ops::binary " + bname(op), b.data(), a.data(), n, 0, 0);
  }
  {  // broadcast: (300, 1000) + (1000), and a (2, 150, 1000) + (1, 150, 1) mix
    const int64_t s2[2] = {300, 1000}, as2[2] = {1000, 1}, bs2[2] = {0, 1};
    k.binary_bcast(Binary::Add, 2, s2, x.data(), as2, y.data(), bs2, a.data());
    ops::binary_bcast(k, Binary::Add, 2, s2, x.data(), as2, y.data(), bs2, b.data());
    check_all(isa + " ops::binary_bcast row", b.data(), a.data(), 300000, 0, 0);
    const int64_t s3[3] = {2, 150, 1000}, as3[3] = {150000, 1000, 1}, bs3[3] = {0, 1, 0};
    k.binary_bcast(Binary::Mul, 3, s3, x.data(), as3, y.data(), bs3, a.data());
    ops::binary_bcast(k, Binary::Mul, 3, s3, x.data(), as3, y.data(), bs3, b.data());
    check_all(isa + " ops::binary_bcast 3d", b.data(), a.data(), 300000, 0, 0);
  }
  {  // reductions: last axis (split), first axis (one call), middle of 3-D (split)
    const int64_t s2[2] = {300, 1000}, last[2] = {1, 0}, first[2] = {0, 1};
    const int64_t s3[3] = {100, 30, 100}, mid[3] = {100, 0, 1};
    for (Reduce op : {Reduce::Sum, Reduce::Mean, Reduce::Max}) {
      k.reduce(op, 2, s2, x.data(), last, a.data(), 300);
      ops::reduce(k, op, 2, s2, x.data(), last, b.data(), 300);
      check_all(isa + " ops::reduce last " + rname(op), b.data(), a.data(), 300, 0, 0);
      k.reduce(op, 2, s2, x.data(), first, a.data(), 1000);
      ops::reduce(k, op, 2, s2, x.data(), first, b.data(), 1000);
      check_all(isa + " ops::reduce first " + rname(op), b.data(), a.data(), 1000, 0, 0);
      k.reduce(op, 3, s3, x.data(), mid, a.data(), 10000);
      ops::reduce(k, op, 3, s3, x.data(), mid, b.data(), 10000);
      check_all(isa + " ops::reduce middle " + rname(op), b.data(), a.data(), 10000, 0, 0);
    }
  }
  {  // rows
    const int64_t N = 300, D = 1000;
    for (bool log : {false, true}) {
      k.softmax(N, D, x.data(), a.data(), log);
      ops::softmax(k, N, D, x.data(), b.data(), log);
      check_all(isa + " ops::softmax", b.data(), a.data(), N * D, 0, 0);
      std::vector<float> p = a;
      k.softmax_bwd(N, D, p.data(), dy.data(), a.data(), log);
      ops::softmax_bwd(k, N, D, p.data(), dy.data(), b.data(), log);
      check_all(isa + " ops::softmax_bwd", b.data(), a.data(), N * D, 0, 0);
    }
    std::vector<int32_t> labels(N);
    for (int64_t i = 0; i < N; ++i) labels[i] = (int32_t)((i * 37) % D);
    const double l1 = k.xent_labels(N, D, x.data(), labels.data(), a.data());
    const double l2 = ops::xent_labels(k, N, D, x.data(), labels.data(), b.data());
    CHECK(std::fabs(l1 - l2) <= 1e-11 * std::fabs(l1)) << isa << " ops::xent_labels " << l2 << " vs " << l1;
    check_all(isa + " ops::xent_labels prob", b.data(), a.data(), N * D, 0, 0);
    std::vector<float> p = a;
    k.xent_labels_bwd(N, D, p.data(), labels.data(), 1.3f, a.data());
    ops::xent_labels_bwd(k, N, D, p.data(), labels.data(), 1.3f, b.data());
    check_all(isa + " ops::xent_labels_bwd", b.data(), a.data(), N * D, 2.5e-7, 1e-30);
    auto tg = randv(N * D, 0, 1, 9);
    const double q1 = k.xent_probs(N, D, x.data(), tg.data(), a.data());
    const double q2 = ops::xent_probs(k, N, D, x.data(), tg.data(), b.data());
    CHECK(std::fabs(q1 - q2) <= 1e-11 * std::fabs(q1)) << isa << " ops::xent_probs " << q2 << " vs " << q1;
    p = a;
    k.xent_probs_bwd(N, D, p.data(), tg.data(), 1.3f, a.data());
    ops::xent_probs_bwd(k, N, D, p.data(), tg.data(), 1.3f, b.data());
    check_all(isa + " ops::xent_probs_bwd", b.data(), a.data(), N * D, 2.5e-7, 1e-30);
    std::vector<int32_t> i1(3000), i2(3000);
    k.argmax(3000, 100, x.data(), i1.data());
    ops::argmax(k, 3000, 100, x.data(), i2.data());
    CHECK(i1 == i2) << isa << " ops::argmax";
  }
  {
    const double m1 = k.mse(n, x.data(), y.data()), m2 = ops::mse(k, n, x.data(), y.data());
    CHECK(std::fabs(m1 - m2) <= 1e-11 * m1) << isa << " ops::mse " << m2 << " vs " << m1;
    k.mse_bwd(n, x.data(), y.data(), 0.7f, a.data());
    ops::mse_bwd(k, n, x.data(), y.data(), 0.7f, b.data());
    check_all(isa + " ops::mse_bwd", b.data(), a.data(), n, 2.5e-7, 1e-30);
    k.fill(n, 3.25f, a.data());
    ops::fill(k, n, 3.25f, b.data());
    check_all(isa + " ops::fill", b.data(), a.data(), n, 0, 0);
    ops::copy(k, n, x.data(), b.data());
    check_all(isa + " ops::copy", b.data(), x.data(), n, 0, 0);
    k.rand_uniform(n, 77, 5, -1.0f, 1.0f, a.data());
    ops::rand_uniform(k, n, 77, 5, -1.0f, 1.0f, b.data());
    check_all(isa + " ops::rand_uniform", b.data(), a.data(), n, 0, 0);
    k.rand_normal(n, 77, 5, 0.0f, 1.0f, a.data());
    ops::rand_normal(k, n, 77, 5, 0.0f, 1.0f, b.data());
    check_all(isa + " ops::rand_normal", b.data(), a.data(), n, 0, 0);
    std::vector<float> tx(1000 * 300);
    k.transpose2d(300, 1000, x.data(), a.data());
    ops::transpose2d(k, 300, 1000, x.data(), tx.data());
    check_all(isa + " ops::transpose2d", tx.data(), a.data(), 300000, 0, 0);
  }
  {  // optimizers
    auto w1 = x, w2 = x, v1 = dy, v2 = dy;
    k.sgd_step(n, w1.data(), y.data(), v1.data(), 0.1f, 0.9f, 0.0f, 1e-4f, true, false);
    ops::sgd_step(k, n, w2.data(), y.data(), v2.data(), 0.1f, 0.9f, 0.0f, 1e-4f, true, false);
    check_all(isa + " ops::sgd_step w", w2.data(), w1.data(), n, 0, 0);
    check_all(isa + " ops::sgd_step v", v2.data(), v1.data(), n, 0, 0);
    // ops::optim_step: test_optim.cc.
  }
  {  // gemm goes straight to the table (it threads itself)
    auto A = randv(64 * 48, -1, 1, 11), B = randv(48 * 40, -1, 1, 12);
    std::vector<float> c1(64 * 40), c2(64 * 40);
    k.gemm(false, false, 64, 40, 48, 1.0f, A.data(), 48, B.data(), 40, 0.0f, c1.data(), 40);
    ops::gemm(k, false, false, 64, 40, 48, 1.0f, A.data(), 48, B.data(), 40, 0.0f, c2.data(), 40);
    check_all(isa + " ops::gemm", c2.data(), c1.data(), 64 * 40, 0, 0);
  }
  // Zero sizes do nothing (and do not crash).
  ops::unary(k, Unary::Exp, 0, nullptr, nullptr, 0, 0);
  ops::softmax(k, 0, 10, nullptr, nullptr, false);
  ops::rand_normal(k, 0, 1, 0, 0, 1, nullptr);
}

TEST(ops_threaded_ref) {
  if (max_threads() < 2) std::printf("     (pool has 1 thread: splits are trivial)\n");
  check_ops(ref_table());
}

TEST(ops_threaded_isa) {
  for (const KernelTable* t : isa_tables_or_skip()) check_ops(*t);
}

TEST(ops_active_table) {
  // The plain forms use the active table.
  float x[3] = {1, 2, 3}, y[3];
  ops::unary(Unary::Square, 3, x, y, 0, 0);
  CHECK(y[0] == 1 && y[1] == 4 && y[2] == 9) << "ops::unary on the active table";
  std::printf("     active table: %s%s%s\n", active().isa, *active_isa_error() ? " -- " : "",
              active_isa_error());
}

// ops::bias_act_bwd with no rows: dbias is zeroed and a huge D with no dbias
// returns at once (it walked 2^53 - 1 columns of nothing).
TEST(bias_act_bwd_no_rows) {
  float dbias[3] = {5, 5, 5};
  fathom::ops::bias_act_bwd(0, 3, nullptr, nullptr, nullptr, dbias, fathom::Act::Relu);
  CHECK(dbias[0] == 0 && dbias[1] == 0 && dbias[2] == 0) << "dbias not zeroed";
  fathom::ops::bias_act_bwd(0, (int64_t(1) << 53) - 1, nullptr, nullptr, nullptr, nullptr, fathom::Act::Tanh);
}
