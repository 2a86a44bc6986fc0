// Tests of every non-GEMM kernel of kernels.h, on every table this CPU runs.
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
      (const void*)t.adam_step,   (const void*)t.bias_act,    (const void*)t.bias_act_bwd};
  for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); ++i)
    CHECK(entries[i] != nullptr) << t.isa << " entry " << i << " is null";
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

// The contract as a float64 twin computes it.
static float oracle_unary(Unary op, float xf, float p) {
  const double x = xf;
  switch (op) {
    case Unary::Neg: return -xf;
    case Unary::Exp: return (float)std::exp(x);
    case Unary::Log: return (float)std::log(x);
    case Unary::Sqrt: return (float)std::sqrt(x);
    case Unary::Pow: return (float)std::pow(x, (double)p);
    case Unary::Relu: return xf < 0 ? 0.0f : xf;
    case Unary::Sigmoid: return (float)(1.0 / (1.0 + std::exp(-x)));
    case Unary::Tanh: return (float)std::tanh(x);
    case Unary::Sign: return xf > 0 ? 1.0f : xf < 0 ? -1.0f : xf;
    case Unary::Abs: return std::fabs(xf);
    case Unary::Square: return (float)(x * x);
    default: return kNaN;
  }
}

TEST(ref_unary_oracle) {
  const auto sv = special_values();
  auto rnd = randv(1000, -30, 30, 1);
  std::vector<float> x = sv;
  x.insert(x.end(), rnd.begin(), rnd.end());
  const int64_t n = (int64_t)x.size();
  std::vector<float> y(x.size()), want(x.size());
  for (Unary op : kUnaryOps) {
    for (float p : {2.0f, 0.5f, -1.5f, 3.0f}) {
      if (op != Unary::Pow && p != 2.0f) continue;
      f32_unary__ref(op, n, x.data(), y.data(), p);
      for (int64_t i = 0; i < n; ++i) want[i] = oracle_unary(op, x[i], p);
      check_all(std::string("ref ") + uname(op), y.data(), want.data(), n, 1e-6, 1e-37, x.data());
    }
  }
}

TEST(ref_unary_special_values) {
  const float in[] = {kNaN, -100.0f, 100.0f, -50.0f, 50.0f, -kInf, kInf, 0.0f, -0.0f};
  float y[9];
  auto run = [&](Unary op) { f32_unary__ref(op, 9, in, y, 0); };
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
  f32_unary__ref(Unary::Relu, 4, x, yy, 0);
  f32_unary_bwd__ref(Unary::Relu, 4, x, yy, dy, dx, 0);
  CHECK(dx[0] == 0 && dx[1] == 1.5f && dx[2] == 0) << "relu'";
  f32_unary_bwd__ref(Unary::Sign, 4, x, yy, dy, dx, 0);
  CHECK(dx[0] == 0 && dx[1] == 0 && dx[2] == 0) << "sign'";
  f32_unary_bwd__ref(Unary::Abs, 4, x, yy, dy, dx, 0);
  CHECK(dx[0] == 0 && dx[1] == 1.5f && dx[2] == -1.5f) << "abs'";
  f32_unary_bwd__ref(Unary::Square, 4, x, yy, dy, dx, 0);  // 2x dy
  CHECK(dx[1] == 6.0f && dx[2] == -9.0f) << "square'";
  f32_unary_bwd__ref(Unary::Sqrt, 4, x, yy, dy, dx, 0);  // 0.5/sqrt(x) dy: x=4 -> 0.375
  CHECK(dx[3] == 0.375f) << "sqrt' " << dx[3];
  f32_unary_bwd__ref(Unary::Log, 4, x, yy, dy, dx, 0);  // dy/x: x=2 -> 0.75
  CHECK(dx[1] == 0.75f && dx[2] == -0.5f) << "log'";
  f32_unary_bwd__ref(Unary::Pow, 4, x, yy, dy, dx, 3.0f);  // 3 x^2 dy: x=2 -> 18
  CHECK(dx[1] == 18.0f && dx[2] == 40.5f) << "pow' " << dx[1] << " " << dx[2];
  f32_unary_bwd__ref(Unary::Pow, 4, x, yy, dy, dx, 0.0f);
  CHECK(dx[0] == 0 && dx[1] == 0) << "pow' p=0";
  const float s[] = {0.5f, 0.25f};  // sigmoid' = y(1-y) dy
  f32_unary_bwd__ref(Unary::Sigmoid, 2, x, s, dy, dx, 0);
  CHECK(dx[0] == 0.375f && dx[1] == 0.28125f) << "sigmoid'";
  f32_unary_bwd__ref(Unary::Tanh, 2, x, s, dy, dx, 0);  // (1 - y^2) dy
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
        f32_unary__ref(op, n, x.data(), want.data(), 2.5f);
        t->unary(op, n, x.data(), got.data(), 2.5f);
        const std::string what = std::string(t->isa) + " " + uname(op) + " n=" + std::to_string(n);
        check_all(what, got.data(), want.data(), n, rtol, atol, x.data());
        CHECK(got[n] == 7.0f) << what << ": wrote past the end";
        auto inplace = x;  // x == y
        t->unary(op, n, inplace.data(), inplace.data(), 2.5f);
        check_all(what + " in place", inplace.data(), got.data(), n, 0, 0);
      }
      auto sv = special_values();
      const int64_t n = (int64_t)sv.size();
      std::vector<float> want(n), got(n);
      f32_unary__ref(op, n, sv.data(), want.data(), 2.5f);
      t->unary(op, n, sv.data(), got.data(), 2.5f);
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
        f32_unary__ref(op, n, x.data(), y.data(), 2.5f);
        f32_unary_bwd__ref(op, n, x.data(), y.data(), dy.data(), want.data(), 2.5f);
        t->unary_bwd(op, n, x.data(), y.data(), dy.data(), got.data(), 2.5f);
        const std::string what =
            std::string(t->isa) + " " + uname(op) + "_bwd n=" + std::to_string(n);
        check_all(what, got.data(), want.data(), n, rtol, atol, x.data());
        CHECK(got[n] == 7.0f) << what << ": wrote past the end";
        auto inplace = dy;  // dx == dy
        t->unary_bwd(op, n, x.data(), y.data(), inplace.data(), inplace.data(), 2.5f);
        check_all(what + " in place", inplace.data(), got.data(), n, 0, 0);
      }
      auto sv = special_values();
      const int64_t n = (int64_t)sv.size();
      std::vector<float> y(n), dy(n, 1.25f), want(n), got(n);
      f32_unary__ref(op, n, sv.data(), y.data(), 2.5f);
      f32_unary_bwd__ref(op, n, sv.data(), y.data(), dy.data(), want.data(), 2.5f);
      t->unary_bwd(op, n, sv.data(), y.data(), dy.data(), got.data(), 2.5f);
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
      t->unary(c.op, n, x.data(), got.data(), 0);
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
static int64_t numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t v : s) n *= v;
  return n;
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

static const char* rname(Reduce op) { return op == Reduce::Sum ? "sum" : op == Reduce::Mean ? "mean" : "max"; }

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
    // argmax: first maximum, NaN never wins, all-NaN and D == 0 give 0.
    const float a[] = {1, 3, 3, 2,  kNaN, 1, 5, kNaN,  kNaN, kNaN, kNaN, kNaN,  -kInf, -kInf, -kInf, -kInf,
                       -1, -0.5f, kInf, kInf};
    int32_t out[5] = {-1, -1, -1, -1, -1};
    t->argmax(5, 4, a, out);
    CHECK(out[0] == 1 && out[1] == 2 && out[2] == 0 && out[3] == 0 && out[4] == 2)
        << isa << " argmax " << out[0] << out[1] << out[2] << out[3] << out[4];
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

TEST(ref_sgd_adam_known_answers) {
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
  // Adam t = 1 from zero state: mhat = g', vhat = g'^2, step = lr * sign(g').
  // (m, v within the float rounding of the hyper-parameters: 1 - 0.999f = 0.000999987.)
  float m = 0, s = 0;
  w = 1;
  f32_adam_step__ref(1, &w, &g, &m, &s, 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f, false, 1);
  CHECK(std::fabs(m - 0.05f) < 5e-8f && std::fabs(s - 0.00025f) < 5e-9f && std::fabs(w - 0.9f) < 1e-6f)
      << "adam " << m << " " << s << " " << w;
  m = 0, s = 0, w = 1;  // L2: g' = 0.5 + 0.1 = 0.6, still a step of lr
  f32_adam_step__ref(1, &w, &g, &m, &s, 0.1f, 0.9f, 0.999f, 1e-8f, 0.1f, false, 1);
  CHECK(std::fabs(m - 0.06f) < 5e-8f && std::fabs(w - 0.9f) < 1e-6f) << "adam L2 " << m << " " << w;
  m = 0, s = 0, w = 1;  // AdamW: w = 1 - 0.1 * 0.1 * 1 = 0.99, then - 0.1
  f32_adam_step__ref(1, &w, &g, &m, &s, 0.1f, 0.9f, 0.999f, 1e-8f, 0.1f, true, 1);
  CHECK(std::fabs(m - 0.05f) < 5e-8f && std::fabs(w - 0.89f) < 1e-6f) << "adamw " << m << " " << w;
  // t = 2 with g = 0.5 again (no decay): m = 0.095, v = 0.00049975,
  // mhat = 0.095 / 0.19 = 0.5, vhat = 0.00049975 / 0.001999 = 0.25 -> step 0.1 again.
  m = 0, s = 0, w = 1;
  f32_adam_step__ref(1, &w, &g, &m, &s, 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f, false, 1);
  f32_adam_step__ref(1, &w, &g, &m, &s, 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f, false, 2);
  CHECK(std::fabs(m - 0.095f) < 1e-7f && std::fabs(w - 0.8f) < 2e-6f) << "adam t=2 " << m << " " << w;
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
      for (int adamw = 0; adamw < 2; ++adamw) {
        auto wr = w0, wg = w0;
        std::vector<float> mr(n + 1, 0), mg(n + 1, 0), sr(n + 1, 0), sg(n + 1, 0);
        wr.push_back(7), wg.push_back(7);
        for (int64_t step = 1; step <= 4; ++step) {
          f32_adam_step__ref(n, wr.data(), g.data(), mr.data(), sr.data(), 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, adamw, step);
          t->adam_step(n, wg.data(), g.data(), mg.data(), sg.data(), 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, adamw, step);
        }
        const std::string what = std::string(t->isa) + " adam adamw=" + std::to_string(adamw) + " n=" + std::to_string(n);
        check_all(what + " w", wg.data(), wr.data(), n + 1, 1e-5, 1e-7);
        check_all(what + " m", mg.data(), mr.data(), n + 1, 1e-6, 1e-9);
        check_all(what + " v", sg.data(), sr.data(), n + 1, 1e-6, 1e-12);
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
    k.unary(op, n, x.data(), a.data(), 1.5f);
    ops::unary(k, op, n, x.data(), b.data(), 1.5f);
    check_all(isa + " ops::unary " + uname(op), b.data(), a.data(), n, 0, 0);
    k.unary_bwd(op, n, x.data(), y.data(), dy.data(), a.data(), 1.5f);
    ops::unary_bwd(k, op, n, x.data(), y.data(), dy.data(), b.data(), 1.5f);
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
    auto w1 = x, w2 = x, v1 = dy, v2 = dy, m1 = y, m2 = y;
    k.sgd_step(n, w1.data(), y.data(), v1.data(), 0.1f, 0.9f, 0.0f, 1e-4f, true, false);
    ops::sgd_step(k, n, w2.data(), y.data(), v2.data(), 0.1f, 0.9f, 0.0f, 1e-4f, true, false);
    check_all(isa + " ops::sgd_step w", w2.data(), w1.data(), n, 0, 0);
    check_all(isa + " ops::sgd_step v", v2.data(), v1.data(), n, 0, 0);
    for (auto& v : v1) v = std::fabs(v);
    v2 = v1;
    k.adam_step(n, w1.data(), y.data(), m1.data(), v1.data(), 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, true, 3);
    ops::adam_step(k, n, w2.data(), y.data(), m2.data(), v2.data(), 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, true, 3);
    check_all(isa + " ops::adam_step w", w2.data(), w1.data(), n, 0, 0);
    check_all(isa + " ops::adam_step m", m2.data(), m1.data(), n, 0, 0);
  }
  {  // gemm goes straight to the table (it threads itself)
    auto A = randv(64 * 48, -1, 1, 11), B = randv(48 * 40, -1, 1, 12);
    std::vector<float> c1(64 * 40), c2(64 * 40);
    k.gemm(false, false, 64, 40, 48, 1.0f, A.data(), 48, B.data(), 40, 0.0f, c1.data(), 40);
    ops::gemm(k, false, false, 64, 40, 48, 1.0f, A.data(), 48, B.data(), 40, 0.0f, c2.data(), 40);
    check_all(isa + " ops::gemm", c2.data(), c1.data(), 64 * 40, 0, 0);
  }
  // Zero sizes do nothing (and do not crash).
  ops::unary(k, Unary::Exp, 0, nullptr, nullptr, 0);
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
  ops::unary(Unary::Square, 3, x, y, 0);
  CHECK(y[0] == 1 && y[1] == 4 && y[2] == 9) << "ops::unary on the active table";
  std::printf("     active table: %s%s%s\n", active().isa, *active_isa_error() ? " -- " : "",
              active_isa_error());
}
