// Tests of every non-GEMM kernel of kernels.h, on every table this CPU runs
// (this file: tables, unary, binary, broadcasting; test_rows.cc and
// test_misc.cc hold the rest).
//
// Three kinds of check:
//  1. ref_* : the scalar reference against an oracle written here from the
//     contract (double math, rounded once: what the TypeScript twin computes),
//     hand-computed known answers and special values.
//  2. isa_* : each compiled ISA table (avx2, avx512; SKIP when the CPU or the
//     binary lacks it) against the reference, at awkward sizes, in place
//     where legal, and on special values.
//  3. ops_* : the threaded entry points against one call of the table.
//
// Tolerances (ISA vs ref; |got - want| <= rtol * |want| + atol, NaN matches
// NaN, infinities must match exactly):
//   exact (bitwise)  neg relu sign abs square sqrt; every binary op and
//                    broadcast; reduce Max; fill copy argmax; the backward of
//                    neg exp log relu sign abs square
//   exp log          rtol 3e-7  (v_exp / v_log: <= 2 ulp), atol 1e-37 (denormals)
//   sigmoid tanh     rtol 6e-7  (<= 4 ulp), atol 1e-37
//   bwd sqrt sigmoid tanh   rtol 3e-7 (float vs double evaluation)
//   reduce Sum/Mean  rtol 2.5e-7 (double accumulation, summation order)
//   softmax prob     rtol 2e-6, atol 1e-12; log-softmax atol 2e-6
//   softmax bwd      rtol 1e-6, atol 1e-7; log-softmax bwd atol 2e-6
//   xent/mse loss    rtol 1e-6
//   sgd              rtol 1e-6, atol 1e-7;  adam  rtol 1e-5, atol 1e-7
// ref vs the oracle: rtol 1e-6 (libm may differ by an ulp of double).
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
#include "kernels/ref/unary_scalar.h"
#include "runtime/pool.h"
#include "helpers.h"
#include "test.h"

using namespace fathom;

using namespace kt;

// ---- tables -------------------------------------------------------------------

static void check_complete(const KernelTable& t) {
  const void* entries[] = {
      (const void*)t.unary,       (const void*)t.unary_bwd,   (const void*)t.binary,
      (const void*)t.binary_bcast, (const void*)t.reduce,     (const void*)t.softmax,
      (const void*)t.softmax_bwd, (const void*)t.xent_labels, (const void*)t.xent_labels_bwd,
      (const void*)t.xent_probs,  (const void*)t.xent_probs_bwd, (const void*)t.mse,
      (const void*)t.mse_bwd,     (const void*)t.transpose2d, (const void*)t.argmax,
      (const void*)t.fill,        (const void*)t.copy,        (const void*)t.rand_uniform,
      (const void*)t.rand_normal, (const void*)t.gemm,        (const void*)t.sgd_step,
      (const void*)t.bias_act,    (const void*)t.bias_act_bwd, (const void*)t.maxout,
      (const void*)t.maxout_bwd,  (const void*)t.dropout};
  for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); ++i)
    CHECK(entries[i] != nullptr) << t.isa << " entry " << i << " is null";
  for (int k = 0; k < (int)Optim::Count; ++k) CHECK(t.optim_step[k] != nullptr) << t.isa << " optim_step " << k << " is null";
}

TEST(tables_complete) {
  check_complete(ref_table());
  CHECK(std::strcmp(ref_table().isa, "scalar") == 0) << ref_table().isa;
  for (const KernelTable* t : isa_tables()) check_complete(*t);
  CHECK(&ops::table() == &active());
}

TEST(isa_avx2_available) {
  if (!cpu_features().avx2_fma) SKIP("CPU has no AVX2+FMA");
  const KernelTable* t = avx2_table();
  CHECK(t != nullptr) << "AVX2 CPU but no avx2 table";
  if (t) CHECK(std::strcmp(t->isa, "avx2") == 0) << t->isa;
}

TEST(isa_avx512_available) {
  if (!cpu_features().avx512) SKIP("CPU has no AVX-512");
  const KernelTable* t = avx512_table();
  CHECK(t != nullptr) << "AVX-512 CPU but no avx512 table";
  if (t) CHECK(std::strcmp(t->isa, "avx512") == 0) << t->isa;
}

// ---- unary ----------------------------------------------------------------------

// The op list (unary_ops.h) evaluated in double and not rounded: the oracle
// of the ulp sweep below. The reference kernels are the same expressions
// rounded once, so they are checked against known answers instead
// (ref_unary_known_values: PyTorch's definitions, evaluated independently).
static double unary_f64(Unary op, double x, double p, double q) {
  switch (op) {
#define FATHOM_X(Name, name, cost, fwd, bwd) \
  case Unary::Name: return (fwd);
    FATHOM_UNARY_OPS(FATHOM_X)
#undef FATHOM_X
    default: return kNaN;
  }
}
static float oracle_unary(Unary op, float x, float p) { return (float)unary_f64(op, x, p, 0); }

// p, q the ISA tests pass to every op (pow: exponent; leakyRelu: slope;
// elu: alpha; softplus: beta, threshold — so its linear region is hit too).
constexpr float kP = 2.5f, kQ = 3.0f;

// y = f(x) and f'(x) (dy = 1) against values computed from PyTorch's formulas
// in float64 (Python's math.erf, expm1, log1p), rounded to float.
TEST(ref_unary_known_values) {
  struct Known { Unary op; float x, p, q; double y, d; };
  const Known known[] = {
      {Unary::Gelu, 1, 0, 0, 0.841344746, 1.08331547},        // x Phi(x); Phi + x phi
      {Unary::Gelu, -1, 0, 0, -0.158655254, -0.0833154706},
      {Unary::Gelu, -3, 0, 0, -0.00404969409, -0.0119456472},
      {Unary::GeluTanh, 1, 0, 0, 0.841191991, 1.08296408},    // PyTorch approximate='tanh'
      {Unary::GeluTanh, -1, 0, 0, -0.158808009, -0.0829640838},
      {Unary::GeluTanh, -3, 0, 0, -0.00363739208, -0.0115841666},
      {Unary::GeluTanh, 2.5f, 0, 0, 2.48491573, 1.03795158},
      {Unary::Elu, -1, 1, 0, -0.632120559, 0.367879441},      // alpha (e^x - 1); alpha e^x
      {Unary::Elu, -1, 0.5f, 0, -0.316060279, 0.183939721},
      {Unary::Elu, 2, 1, 0, 2, 1},
      {Unary::Softplus, 1, 1, 20, 1.31326169, 0.731058579},   // log(1 + e^x); sigmoid(x)
      {Unary::Softplus, -2, 1, 20, 0.126928011, 0.119202922},
      {Unary::Softplus, 25, 1, 20, 25, 1},                    // beta x > threshold: linear
      {Unary::Softplus, 0.3f, 2, 1, 0.518743975, 0.645656306},
      {Unary::Softplus, 0.6f, 2, 1, 0.6, 1},
      {Unary::Silu, 1, 0, 0, 0.731058579, 0.927670512},       // x s; s (1 + x (1 - s))
      {Unary::Silu, -1, 0, 0, -0.268941421, 0.0723294881},
      {Unary::Silu, 3, 0, 0, 2.85772238, 1.08810411},
      {Unary::LeakyRelu, -2, 0.01f, 0, -0.02, 0.01},
      {Unary::LeakyRelu, 3, 0.01f, 0, 3, 1},
      {Unary::LeakyRelu, -2, 0.2f, 0, -0.4, 0.2},
  };
  for (const Known& k : known) {
    float y, dx;
    const float one = 1.0f;
    f32_unary__ref(k.op, 1, &k.x, &y, k.p, k.q);
    f32_unary_bwd__ref(k.op, 1, &k.x, &y, &one, &dx, k.p, k.q);
    CHECK(std::fabs(y - k.y) <= 1e-6 * std::fabs(k.y) + 1e-9)
        << uname(k.op) << "(" << k.x << ", p=" << k.p << ", q=" << k.q << ") = " << y << ", want " << k.y;
    CHECK(std::fabs(dx - k.d) <= 1e-6 * std::fabs(k.d) + 1e-9)
        << uname(k.op) << "'(" << k.x << ", p=" << k.p << ", q=" << k.q << ") = " << dx << ", want " << k.d;
  }
  // Special values of the new activations.
  const float sp[] = {kNaN, -kInf, kInf, 0.0f, -0.0f, -100.0f, 100.0f};
  float y[7];
  f32_unary__ref(Unary::LeakyRelu, 7, sp, y, 0.01f, 0);
  CHECK(std::isnan(y[0]) && y[1] == -kInf && y[2] == kInf && y[3] == 0 && y[5] == -1.0f) << "leakyRelu";
  f32_unary__ref(Unary::Elu, 7, sp, y, 1, 0);
  CHECK(std::isnan(y[0]) && y[1] == -1 && y[2] == kInf && y[3] == 0 && y[5] == -1 && y[6] == 100) << "elu";
  for (Unary op : {Unary::Gelu, Unary::GeluTanh, Unary::Silu}) {
    f32_unary__ref(op, 7, sp, y, 0, 0);
    CHECK(std::isnan(y[0]) && y[2] == kInf && y[3] == 0 && std::fabs(y[5]) < 1e-30f && y[6] == 100) << uname(op) << " specials";
    CHECK(y[1] == 0 || std::isnan(y[1])) << uname(op) << "(-inf) = " << y[1];
  }
  f32_unary__ref(Unary::Softplus, 7, sp, y, 1, 20);
  CHECK(std::isnan(y[0]) && y[1] == 0 && y[2] == kInf && y[5] >= 0 && y[5] < 1e-40f && y[6] == 100) << "softplus";
  f32_unary__ref(Unary::Softplus, 7, sp, y, 1, 1000);  // threshold past float overflow: no Inf
  CHECK(y[6] == 100) << "softplus(100) with threshold 1000 = " << y[6];
  // The op names the addon exports (the TS table is checked against them).
  CHECK(std::string(unary_name(Unary::Neg)) == "neg" && std::string(unary_name(Unary::LeakyRelu)) == "leakyRelu" &&
        std::string(unary_name(Unary::Count)) == "?") << "unary_name";
}

TEST(ref_unary_special_values) {
  const float in[] = {kNaN, -100.0f, 100.0f, -50.0f, 50.0f, -kInf, kInf, 0.0f, -0.0f};
  float y[9];
  auto run = [&](Unary op) { f32_unary__ref(op, 9, in, y, 0, 0); };
  run(Unary::Relu);
  CHECK(std::isnan(y[0])) << "relu(NaN) = " << y[0];
  CHECK(y[1] == 0 && y[2] == 100 && y[5] == 0 && y[6] == kInf && y[7] == 0) << "relu";
  run(Unary::Sigmoid);
  CHECK(std::isnan(y[0]));
  CHECK(y[1] >= 0 && y[1] < 1e-40f) << "sigmoid(-100) = " << y[1];
  CHECK(y[2] == 1.0f && y[5] == 0.0f && y[6] == 1.0f && y[7] == 0.5f) << "sigmoid";
  run(Unary::Tanh);
  CHECK(y[3] == -1.0f && y[4] == 1.0f && y[5] == -1.0f && y[6] == 1.0f && y[7] == 0) << "tanh";
  run(Unary::Exp);
  CHECK(y[2] == kInf && y[5] == 0 && y[6] == kInf && y[7] == 1.0f) << "exp overflow";
  run(Unary::Log);
  CHECK(y[7] == -kInf && y[8] == -kInf && std::isnan(y[1]) && y[6] == kInf) << "log";
  run(Unary::Sign);
  CHECK(std::isnan(y[0]) && y[7] == 0 && y[1] == -1 && y[2] == 1) << "sign";
  // Backward: relu'(0) = 0, sign' = 0, abs'(0) = 0, and the calculus of the others.
  const float x[] = {0.0f, 2.0f, -3.0f, 4.0f};
  const float dy[] = {1.5f, 1.5f, 1.5f, 1.5f};
  float yy[4], dx[4];
  f32_unary__ref(Unary::Relu, 4, x, yy, 0, 0);
  f32_unary_bwd__ref(Unary::Relu, 4, x, yy, dy, dx, 0, 0);
  CHECK(dx[0] == 0 && dx[1] == 1.5f && dx[2] == 0) << "relu'";
  f32_unary_bwd__ref(Unary::Sign, 4, x, yy, dy, dx, 0, 0);
  CHECK(dx[0] == 0 && dx[1] == 0 && dx[2] == 0) << "sign'";
  f32_unary_bwd__ref(Unary::Abs, 4, x, yy, dy, dx, 0, 0);
  CHECK(dx[0] == 0 && dx[1] == 1.5f && dx[2] == -1.5f) << "abs'";
  f32_unary_bwd__ref(Unary::Square, 4, x, yy, dy, dx, 0, 0);  // 2x dy
  CHECK(dx[1] == 6.0f && dx[2] == -9.0f) << "square'";
  f32_unary_bwd__ref(Unary::Sqrt, 4, x, yy, dy, dx, 0, 0);  // 0.5/sqrt(x) dy: x=4 -> 0.375
  CHECK(dx[3] == 0.375f) << "sqrt' " << dx[3];
  f32_unary_bwd__ref(Unary::Log, 4, x, yy, dy, dx, 0, 0);  // dy/x: x=2 -> 0.75
  CHECK(dx[1] == 0.75f && dx[2] == -0.5f) << "log'";
  f32_unary_bwd__ref(Unary::Pow, 4, x, yy, dy, dx, 3.0f, 0);  // 3 x^2 dy: x=2 -> 18
  CHECK(dx[1] == 18.0f && dx[2] == 40.5f) << "pow' " << dx[1] << " " << dx[2];
  f32_unary_bwd__ref(Unary::Pow, 4, x, yy, dy, dx, 0.0f, 0);
  CHECK(dx[0] == 0 && dx[1] == 0) << "pow' p=0";
  const float s[] = {0.5f, 0.25f};  // sigmoid' = y(1-y) dy
  f32_unary_bwd__ref(Unary::Sigmoid, 2, x, s, dy, dx, 0, 0);
  CHECK(dx[0] == 0.375f && dx[1] == 0.28125f) << "sigmoid'";
  f32_unary_bwd__ref(Unary::Tanh, 2, x, s, dy, dx, 0, 0);  // (1 - y^2) dy
  CHECK(dx[0] == 1.125f && dx[1] == 1.40625f) << "tanh'";
}

TEST(isa_unary_vs_ref) {
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (Unary op : kUnaryOps) {
      double rtol, atol;
      unary_tol(op, &rtol, &atol);
      float lo, hi;
      unary_range(op, &lo, &hi);
      for (int64_t n : kSizes) {
        auto x = randv(n, lo, hi, 100 + n);
        std::vector<float> want(n + 1, 7.0f), got(n + 1, 7.0f);
        f32_unary__ref(op, n, x.data(), want.data(), kP, kQ);
        t->unary(op, n, x.data(), got.data(), kP, kQ);
        const std::string what = std::string(t->isa) + " " + uname(op) + " n=" + std::to_string(n);
        check_all(what, got.data(), want.data(), n, rtol, atol, x.data());
        CHECK(got[n] == 7.0f) << what << ": wrote past the end";
        auto inplace = x;  // x == y
        t->unary(op, n, inplace.data(), inplace.data(), kP, kQ);
        check_all(what + " in place", inplace.data(), got.data(), n, 0, 0);
      }
      auto sv = special_values();
      const int64_t n = (int64_t)sv.size();
      std::vector<float> want(n), got(n);
      f32_unary__ref(op, n, sv.data(), want.data(), kP, kQ);
      t->unary(op, n, sv.data(), got.data(), kP, kQ);
      check_all(std::string(t->isa) + " " + uname(op) + " special values", got.data(),
                want.data(), n, rtol, atol, sv.data());
    }
  }
}

TEST(isa_unary_bwd_vs_ref) {
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (Unary op : kUnaryOps) {
      double rtol, atol;
      unary_bwd_tol(op, &rtol, &atol);
      float lo, hi;
      unary_range(op, &lo, &hi);
      if (op == Unary::Exp) lo = -20, hi = 20;
      for (int64_t n : kSizes) {
        auto x = randv(n, lo, hi, 200 + n);
        auto dy = randv(n, -2, 2, 300 + n);
        std::vector<float> y(n), want(n + 1, 7.0f), got(n + 1, 7.0f);
        f32_unary__ref(op, n, x.data(), y.data(), kP, kQ);
        f32_unary_bwd__ref(op, n, x.data(), y.data(), dy.data(), want.data(), kP, kQ);
        t->unary_bwd(op, n, x.data(), y.data(), dy.data(), got.data(), kP, kQ);
        const std::string what =
            std::string(t->isa) + " " + uname(op) + "_bwd n=" + std::to_string(n);
        check_all(what, got.data(), want.data(), n, rtol, atol, x.data());
        CHECK(got[n] == 7.0f) << what << ": wrote past the end";
        auto inplace = dy;  // dx == dy
        t->unary_bwd(op, n, x.data(), y.data(), inplace.data(), inplace.data(), kP, kQ);
        check_all(what + " in place", inplace.data(), got.data(), n, 0, 0);
      }
      auto sv = special_values();
      const int64_t n = (int64_t)sv.size();
      std::vector<float> y(n), dy(n, 1.25f), want(n), got(n);
      f32_unary__ref(op, n, sv.data(), y.data(), kP, kQ);
      f32_unary_bwd__ref(op, n, sv.data(), y.data(), dy.data(), want.data(), kP, kQ);
      t->unary_bwd(op, n, sv.data(), y.data(), dy.data(), got.data(), kP, kQ);
      check_all(std::string(t->isa) + " " + uname(op) + "_bwd special values", got.data(),
                want.data(), n, rtol, atol, sv.data());
    }
  }
}

// Max ulp distance of the AVX2 transcendental functions against double libm
// over a sweep of float bit patterns (the bounds stated in vmath_avx2.h).
static int64_t ulp_dist(float a, float b) {
  if (a == b) return 0;
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  if (ia < 0) ia = INT32_MIN - ia;
  if (ib < 0) ib = INT32_MIN - ib;
  return ia > ib ? (int64_t)ia - ib : (int64_t)ib - ia;
}

static float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

TEST(isa_math_accuracy) {
  for (const KernelTable* t : isa_tables_or_skip()) {
    struct Case { Unary op; float lo, hi; int64_t bound; };
    const Case cases[] = {{Unary::Exp, -104.0f, 88.72f, 2}, {Unary::Log, 0, 0, 2},
                          {Unary::Sigmoid, -100.0f, 40.0f, 4}, {Unary::Tanh, -12.0f, 12.0f, 4}};
    for (const Case& c : cases) {
      std::vector<float> x;
      if (c.op == Unary::Log) {
        for (uint32_t b = 1; b < 0x7F800000u; b += 997) x.push_back(from_bits(b));  // all finite > 0
      } else {
        const int64_t S = 1000000;
        for (int64_t i = 0; i <= S; ++i) x.push_back(c.lo + (float)((c.hi - c.lo) * (double)i / S));
        for (uint32_t b = 0x30000000u; b < 0x3F400000u; b += 491) {  // |x| in [5e-10, 0.75)
          x.push_back(from_bits(b));
          x.push_back(-from_bits(b));
        }
      }
      const int64_t n = (int64_t)x.size();
      std::vector<float> got(n);
      t->unary(c.op, n, x.data(), got.data(), 0, 0);
      int64_t worst = 0, at = 0;
      for (int64_t i = 0; i < n; ++i) {
        const float want = oracle_unary(c.op, x[i], 0);
        if (std::fabs(want) < 1.2e-38f) continue;  // denormal results: absolute check elsewhere
        const int64_t d = ulp_dist(got[i], want);
        if (d > worst) worst = d, at = i;
      }
      std::printf("     %s %s: max %lld ulp over %lld inputs (at x=%.9g)\n", t->isa, uname(c.op),
                  (long long)worst, (long long)n, (double)x[at]);
      CHECK(worst <= c.bound) << t->isa << " " << uname(c.op) << ": " << worst << " ulp at x=" << x[at];
    }
  }
}

// ---- binary ---------------------------------------------------------------------

static float oracle_binary(Binary op, float a, float b) {
  switch (op) {
    case Binary::Add: return a + b;
    case Binary::Sub: return a - b;
    case Binary::Mul: return a * b;
    case Binary::Div: return a / b;
    case Binary::Max: return std::isnan(a) || std::isnan(b) ? kNaN : (a > b ? a : b);
    case Binary::Min: return std::isnan(a) || std::isnan(b) ? kNaN : (a < b ? a : b);
    case Binary::Eq: return a == b ? 1.0f : 0.0f;
    // --- #11 natops --- (NaN compares false except Ne)
    case Binary::Ne: return std::isnan(a) || std::isnan(b) ? 1.0f : (a == b ? 0.0f : 1.0f);
    case Binary::Lt: return std::isnan(a) || std::isnan(b) ? 0.0f : (a < b ? 1.0f : 0.0f);
    case Binary::Le: return std::isnan(a) || std::isnan(b) ? 0.0f : (a <= b ? 1.0f : 0.0f);
    case Binary::Gt: return std::isnan(a) || std::isnan(b) ? 0.0f : (a > b ? 1.0f : 0.0f);
    case Binary::Ge: return std::isnan(a) || std::isnan(b) ? 0.0f : (a >= b ? 1.0f : 0.0f);
    // --- end #11 natops ---
    default: return kNaN;
  }
}

// Pairs of special values: every combination of a small set.
static void special_pairs(std::vector<float>* a, std::vector<float>* b) {
  const float v[] = {0.0f, -0.0f, 1.0f, -2.0f, kInf, -kInf, kNaN, 1e-40f, 3.4028235e38f};
  for (float x : v)
    for (float y : v) a->push_back(x), b->push_back(y);
}

TEST(ref_binary_oracle) {
  std::vector<float> a, b;
  special_pairs(&a, &b);
  auto ra = randv(500, -3, 3, 5), rb = randv(500, -3, 3, 6);
  a.insert(a.end(), ra.begin(), ra.end());
  b.insert(b.end(), rb.begin(), rb.end());
  for (int i = 0; i < 50; ++i) b[a.size() - 1 - i] = a[a.size() - 1 - i];  // equal pairs for eq
  const int64_t n = (int64_t)a.size();
  std::vector<float> out(n), want(n);
  for (Binary op : kBinaryOps) {
    f32_binary__ref(op, n, a.data(), b.data(), out.data());
    for (int64_t i = 0; i < n; ++i) want[i] = oracle_binary(op, a[i], b[i]);
    check_all(std::string("ref ") + bname(op), out.data(), want.data(), n, 0, 0, a.data());
  }
  const float x = 1.0f, y = kNaN;
  float o;
  f32_binary__ref(Binary::Max, 1, &x, &y, &o);
  CHECK(std::isnan(o)) << "max(1, NaN)";
  f32_binary__ref(Binary::Min, 1, &y, &x, &o);
  CHECK(std::isnan(o)) << "min(NaN, 1)";
}

TEST(isa_binary_vs_ref) {
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (Binary op : kBinaryOps) {
      for (int64_t n : kSizes) {
        auto a = randv(n, -3, 3, 10 + n), b = randv(n, -3, 3, 20 + n);
        for (int64_t i = 0; i < n; i += 3) b[i] = a[i];
        std::vector<float> want(n + 1, 7.0f), got(n + 1, 7.0f);
        f32_binary__ref(op, n, a.data(), b.data(), want.data());
        t->binary(op, n, a.data(), b.data(), got.data());
        const std::string what = std::string(t->isa) + " " + bname(op) + " n=" + std::to_string(n);
        check_all(what, got.data(), want.data(), n, 0, 0, a.data());
        CHECK(got[n] == 7.0f) << what << ": wrote past the end";
        auto ia = a, ib = b;  // out == a, out == b
        t->binary(op, n, ia.data(), b.data(), ia.data());
        t->binary(op, n, a.data(), ib.data(), ib.data());
        check_all(what + " out==a", ia.data(), want.data(), n, 0, 0);
        check_all(what + " out==b", ib.data(), want.data(), n, 0, 0);
      }
      std::vector<float> a, b;
      special_pairs(&a, &b);
      const int64_t n = (int64_t)a.size();
      std::vector<float> want(n), got(n);
      f32_binary__ref(op, n, a.data(), b.data(), want.data());
      t->binary(op, n, a.data(), b.data(), got.data());
      check_all(std::string(t->isa) + " " + bname(op) + " special values", got.data(), want.data(),
                n, 0, 0, a.data());
    }
  }
}

// ---- broadcasting ---------------------------------------------------------------

struct Bcast {
  std::vector<int64_t> shape, ashape, bshape;  // a/b shapes: same rank, 1 = broadcast
};

// Row-major strides of `s`, 0 where s[d] == 1 and out[d] != 1.
static std::vector<int64_t> bstrides(const std::vector<int64_t>& s, const std::vector<int64_t>& out) {
  std::vector<int64_t> st(s.size());
  int64_t acc = 1;
  for (int d = (int)s.size() - 1; d >= 0; --d) {
    st[d] = (s[d] == 1 && out[d] != 1) ? 0 : acc;
    acc *= s[d];
  }
  return st;
}

// out[idx] = a[idx . astride] op b[idx . bstride], the obvious loop.
static void oracle_bcast(Binary op, const std::vector<int64_t>& shape, const float* a,
                         const std::vector<int64_t>& as, const float* b,
                         const std::vector<int64_t>& bs, float* out) {
  const int64_t n = numel(shape);
  const int nd = (int)shape.size();
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, oa = 0, ob = 0;
    for (int d = nd - 1; d >= 0; --d) {
      const int64_t id = rem % shape[d];
      rem /= shape[d];
      oa += id * as[d];
      ob += id * bs[d];
    }
    out[i] = oracle_binary(op, a[oa], b[ob]);
  }
}

static std::vector<Bcast> bcast_cases() {
  std::vector<Bcast> c;
  for (int64_t D : {1, 7, 8, 9, 17, 33, 257}) {
    for (int64_t N : {1, 3, 16}) {
      c.push_back({{N, D}, {N, D}, {N, D}});        // same shape
      c.push_back({{N, D}, {N, D}, {1, D}});        // row vector b
      c.push_back({{N, D}, {1, D}, {N, D}});        // row vector a
      c.push_back({{N, D}, {N, D}, {N, 1}});        // column b
      c.push_back({{N, D}, {N, D}, {1, 1}});        // scalar b
      c.push_back({{N, D}, {1, 1}, {N, D}});        // scalar a
      c.push_back({{N, D}, {N, 1}, {1, D}});        // outer product
    }
  }
  c.push_back({{2, 3, 5, 9}, {2, 1, 5, 9}, {1, 3, 1, 9}});
  c.push_back({{4, 1, 17}, {4, 1, 17}, {1, 1, 17}});
  c.push_back({{3, 0, 5}, {3, 0, 5}, {1, 1, 5}});  // empty
  c.push_back({{}, {}, {}});                       // rank 0
  c.push_back({{1, 1, 1}, {1, 1, 1}, {1, 1, 1}});
  return c;
}

TEST(ref_bcast_oracle) {
  for (const Bcast& c : bcast_cases()) {
    const auto as = bstrides(c.ashape, c.shape), bs = bstrides(c.bshape, c.shape);
    auto a = randv(numel(c.ashape), -2, 2, 1), b = randv(numel(c.bshape), -2, 2, 2);
    const int64_t n = numel(c.shape);
    for (Binary op : kBinaryOps) {
      std::vector<float> want(n), got(n + 1, 7.0f);
      oracle_bcast(op, c.shape, a.data(), as, b.data(), bs, want.data());
      f32_binary_bcast__ref(op, (int)c.shape.size(), c.shape.data(), a.data(), as.data(), b.data(),
                            bs.data(), got.data());
      check_all(std::string("ref bcast ") + bname(op), got.data(), want.data(), n, 0, 0);
      CHECK(got[n] == 7.0f) << "bcast wrote past the end";
    }
  }
  // A transposed (non-unit inner stride) and a negative-stride operand.
  const int64_t shape[2] = {5, 6};
  auto a = randv(30, -2, 2, 3), b = randv(30, -2, 2, 4);
  const int64_t as[2] = {6, 1}, bt[2] = {1, 5}, bneg[2] = {-6, 1};
  std::vector<float> want(30), got(30);
  oracle_bcast(Binary::Sub, {5, 6}, a.data(), {6, 1}, b.data(), {1, 5}, want.data());
  f32_binary_bcast__ref(Binary::Sub, 2, shape, a.data(), as, b.data(), bt, got.data());
  check_all("ref bcast transposed b", got.data(), want.data(), 30, 0, 0);
  oracle_bcast(Binary::Sub, {5, 6}, a.data(), {6, 1}, b.data() + 24, {-6, 1}, want.data());
  f32_binary_bcast__ref(Binary::Sub, 2, shape, a.data(), as, b.data() + 24, bneg, got.data());
  check_all("ref bcast negative stride", got.data(), want.data(), 30, 0, 0);
}

TEST(isa_bcast_vs_ref) {
  for (const KernelTable* t : isa_tables_or_skip()) {
    for (const Bcast& c : bcast_cases()) {
      const auto as = bstrides(c.ashape, c.shape), bs = bstrides(c.bshape, c.shape);
      auto a = randv(numel(c.ashape), -2, 2, 7), b = randv(numel(c.bshape), -2, 2, 8);
      if (!a.empty() && !b.empty()) a[0] = kNaN, b[b.size() - 1] = -kInf;
      const int64_t n = numel(c.shape);
      for (Binary op : kBinaryOps) {
        std::vector<float> want(n + 1, 7.0f), got(n + 1, 7.0f);
        f32_binary_bcast__ref(op, (int)c.shape.size(), c.shape.data(), a.data(), as.data(),
                              b.data(), bs.data(), want.data());
        t->binary_bcast(op, (int)c.shape.size(), c.shape.data(), a.data(), as.data(), b.data(),
                        bs.data(), got.data());
        std::string what = std::string(t->isa) + " bcast " + bname(op) + " [";
        for (int64_t v : c.shape) what += std::to_string(v) + ",";
        check_all(what + "]", got.data(), want.data(), n + 1, 0, 0);
      }
    }
  }
}
