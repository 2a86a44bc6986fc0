// Scalar helpers named (as us::) by the expressions of the unary op list,
// unary_ops.h. Internal linkage (an unnamed namespace): each baseline
// translation unit that expands the list gets its own copy, and no
// ISA-flagged unit includes this file (see ref.h on inline functions).
#pragma once
#include <cmath>

namespace fathom {
namespace unary_scalar {
namespace {

constexpr double kSqrt1_2 = 0.70710678118654752440;      // 1/sqrt(2)
constexpr double kInvSqrt2Pi = 0.39894228040143267794;   // 1/sqrt(2 pi)
constexpr double kSqrt2OverPi = 0.79788456080286535588;  // sqrt(2/pi)
constexpr double kGeluC = 0.044715;

// The logistic function in the stable form (never overflows).
inline double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);  // x < 0 or NaN
  return e / (1.0 + e);
}
inline double sign(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : x); }
inline double gelu_tanh_u(double x) { return kSqrt2OverPi * (x + kGeluC * x * x * x); }
// Where s (1 - s) is 0 (|x| > ~10, ±Inf) the second term is 0, its limit (not 0 · Inf).
inline double gelu_tanh_bwd(double x, double dy) {
  const double s = sigmoid(2.0 * gelu_tanh_u(x));
  const double ss = s * (1.0 - s);
  return dy * (s + (ss == 0 ? 0.0 : 2.0 * x * ss * kSqrt2OverPi * (1.0 + 3.0 * kGeluC * x * x)));
}
// log(1 + exp(z)) without overflow.
inline double softplus_log(double z) { return (z > 0 ? z : 0.0) + std::log1p(std::exp(-std::fabs(z))); }

}  // namespace
}  // namespace unary_scalar
namespace us = unary_scalar;
}  // namespace fathom

