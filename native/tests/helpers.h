// Shared helpers of the native kernel tests: seeded inputs, the ISA tables
// this CPU runs, and comparisons that report the worst index and both values.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "cpu/cpu.h"
#include "kernels/dispatch.h"
#include "test.h"

namespace fathom {
namespace kt {

inline const float kInf = std::numeric_limits<float>::infinity();
inline const float kNaN = std::numeric_limits<float>::quiet_NaN();
inline const int64_t kSizes[] = {0, 1, 7, 8, 9, 15, 16, 17, 33, 257, 1000};

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint32_t next() {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return (uint32_t)(s >> 16);
  }
  float uni(float lo, float hi) { return lo + (hi - lo) * (float)((next() >> 8) * (1.0 / 16777216.0)); }
};

inline std::vector<float> randv(int64_t n, float lo, float hi, uint64_t seed) {
  Rng r(seed);
  std::vector<float> v((size_t)n);
  for (auto& x : v) x = r.uni(lo, hi);
  return v;
}

// The ISA tables this CPU runs (not the reference).
inline std::vector<const KernelTable*> isa_tables() {
  std::vector<const KernelTable*> t;
  if (const KernelTable* k = avx2_table()) t.push_back(k);
  if (const KernelTable* k = avx512_table()) t.push_back(k);
  if (const KernelTable* k = neon_table()) t.push_back(k);
  return t;
}
inline std::vector<const KernelTable*> isa_tables_or_skip() {
  auto t = isa_tables();
  if (t.empty()) SKIP("no SIMD table on this CPU/binary");
  return t;
}

inline bool close(float got, float want, double rtol, double atol) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want) || std::isinf(got)) return got == want;
  if (rtol == 0 && atol == 0) return std::memcmp(&got, &want, 4) == 0 || (got == 0 && want == 0);
  return std::fabs((double)got - (double)want) <= rtol * std::fabs((double)want) + atol;
}

// Checks got against want; reports the worst index and both values.
inline bool check_all(const std::string& what, const float* got, const float* want, int64_t n,
               double rtol, double atol, const float* in = nullptr) {
  int64_t bad = 0, worst = -1;
  double worst_err = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (close(got[i], want[i], rtol, atol)) continue;
    ++bad;
    const double err = std::isfinite(got[i]) && std::isfinite(want[i])
                           ? std::fabs((double)got[i] - want[i]) / (std::fabs((double)want[i]) + 1e-30)
                           : 1e300;
    if (err > worst_err) worst_err = err, worst = i;
  }
  CHECK(bad == 0) << what << ": " << bad << "/" << n << " mismatches, worst at [" << worst
                  << "] got " << (worst >= 0 ? got[worst] : 0.0f) << " want "
                  << (worst >= 0 ? want[worst] : 0.0f)
                  << (in && worst >= 0 ? " input " + std::to_string(in[worst]) : std::string())
                  << " (rel " << worst_err << ")";
  return bad == 0;
}

inline const char* uname(Unary op) { return unary_name(op); }
inline int64_t numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t v : s) n *= v;
  return n;
}
inline const char* rname(Reduce op) { return op == Reduce::Sum ? "sum" : op == Reduce::Mean ? "mean" : "max"; }
inline const char* bname(Binary op) {
  static const char* n[] = {"add", "sub", "mul", "div", "max", "min", "eq",
                            // --- #11 natops ---
                            "ne", "lt", "le", "gt", "ge"};
  return n[(int)op];
}

// ISA-vs-ref tolerance of a unary op: {rtol, atol}; {0, 0} = bitwise.
inline void unary_tol(Unary op, double* rtol, double* atol) {
  *rtol = 0, *atol = 0;
  if (op == Unary::Exp || op == Unary::Log) *rtol = 3e-7, *atol = 1e-37;
  if (op == Unary::Sigmoid || op == Unary::Tanh) *rtol = 6e-7, *atol = 1e-37;
  if (op == Unary::Pow) *rtol = 0, *atol = 0;  // every ISA falls back to ref
  if (op == Unary::Silu) *rtol = 6e-7, *atol = 1e-37;  // x v_sigmoid(x)
  if (op == Unary::Elu) *rtol = 4e-7, *atol = 1e-37;   // p v_expm1(x)
  if (op == Unary::Gelu) *rtol = 3e-6, *atol = 1e-8;   // x Phi(x), as GeluTanh
  // x v_sigmoid(2u) with 2u in float: the relative error grows with |u| (<= 3e-6 while
  // |y| > 1e-8; an absolute 1e-8 below, x < -4)
  if (op == Unary::GeluTanh) *rtol = 3e-6, *atol = 1e-8;
}
inline void unary_bwd_tol(Unary op, double* rtol, double* atol) {
  *rtol = 0, *atol = 0;
  if (op == Unary::Sqrt || op == Unary::Sigmoid || op == Unary::Tanh) *rtol = 3e-7, *atol = 1e-37;
  // dx crosses 0 (silu' at x = -1.28, geluTanh' at x = -0.75): an absolute floor (dy in [-2, 2])
  if (op == Unary::Silu) *rtol = 1e-6, *atol = 1e-7;
  if (op == Unary::Elu) *rtol = 3e-7, *atol = 1e-37;
  if (op == Unary::Gelu) *rtol = 3e-6, *atol = 1e-7;
  if (op == Unary::GeluTanh) *rtol = 3e-6, *atol = 1e-7;
}

// Input range per unary op for random data (log/sqrt/pow mostly positive).
inline void unary_range(Unary op, float* lo, float* hi) {
  *lo = -6, *hi = 6;
  if (op == Unary::Log || op == Unary::Sqrt || op == Unary::Pow) *lo = -0.5f, *hi = 20;
  if (op == Unary::Exp) *lo = -90, *hi = 90;
}

inline std::vector<float> special_values() {
  return {0.0f, -0.0f, 1.0f, -1.0f, kInf, -kInf, kNaN, 1e-40f, -1e-40f, 1.17549435e-38f,
          3.4028235e38f, -3.4028235e38f, 88.72f, 88.73f, 89.0f, -87.3f, -87.4f, -100.0f,
          -103.0f, -104.0f, -110.0f, 100.0f, 50.0f, -50.0f, 20.0f, -20.0f, 0.625f, -0.625f,
          0.624f, 0.626f, 1e-4f, -1e-4f, 1e-20f, 0.5f, 2.0f, 0.70710677f, 0.7071068f,
          1.0000001f, 0.99999994f, 9.0f, -9.0f};
}

// Every op of the list (unary_ops.h), in id order.
inline const Unary kUnaryOps[] = {
#define FATHOM_X(Name, name, cost, fwd, bwd) Unary::Name,
    FATHOM_UNARY_OPS(FATHOM_X)
#undef FATHOM_X
};
inline const Binary kBinaryOps[] = {Binary::Add, Binary::Sub, Binary::Mul, Binary::Div,
                             Binary::Max, Binary::Min, Binary::Eq,
                             // --- #11 natops ---
                             Binary::Ne, Binary::Lt, Binary::Le, Binary::Gt, Binary::Ge};


}  // namespace kt
}  // namespace fathom
