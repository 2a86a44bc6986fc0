// THE list of element-wise unary ops: one line per op. Everything else is
// generated from it: the Unary enum (kernels.h), the scalar reference forward
// and backward kernels (ref/elementwise.cc), the SIMD fall-back (avx2/: an op
// without a vector body runs this scalar form), the op names the addon
// exports (unaryOpNames(), checked against lib/backend/backend.ts), the
// thread-split grain (ops.cc) and the C++ kernel tests (native/tests).
//
//   X(Name, name, cost, forward, backward)
//
//   forward   an expression in double of x and the op's scalar parameters
//             p, q; the kernel stores (float)(forward)
//   backward  dx = (float)(backward), an expression in double of x, the
//             forward output y = f(x) (as stored, float), the upstream
//             gradient dy and p, q. Backward kernels WRITE dx.
//   cost      kCheap (a few flops) or kCostly (a transcendental): the
//             element count per thread of the threaded entry point
//
// All arithmetic is double and rounded once to float, which is what the
// TypeScript twin (float64 then Math.fround on store) computes; for
// + - * / and sqrt double-then-round equals the IEEE float operation.
//
// Parameters (0 where an op has none; finite, checked by the caller):
//   Pow        p = exponent                  LeakyRelu  p = negativeSlope
//   Elu        p = alpha                     Softplus   p = beta (> 0), q = threshold
//
// Pinned semantics (PyTorch's definitions; forward | backward):
//   Neg       -x                                    | -dy
//   Exp       exp(x); overflow -> +Inf              | dy * y
//   Log       log(x); log(+-0) = -Inf, x<0 NaN      | dy / x
//   Sqrt      sqrt(x); sqrt(-0) = -0                | dy * 0.5 / sqrt(x)
//   Pow       C pow(x, p) (pow(1, NaN) = 1)         | dy * p * pow(x, p-1); p == 0 -> 0
//   Relu      x < 0 ? 0 : x (NaN -> NaN, -0 -> -0)  | x > 0 ? dy : 0 (a select: relu'(0) = 0)
//   Sigmoid   stable 1/(1+exp(-x)), never NaN       | dy * y * (1 - y)
//             from overflow
//   Tanh      tanh(x)                               | dy * (1 - y*y)
//   Sign      x>0: 1, x<0: -1, else x (Math.sign)   | 0 (a select, for any dy)
//   Abs       |x|                                   | dy * sign(x) (abs'(0) = 0; a multiply)
//   Square    x*x                                   | dy * 2x
//   LeakyRelu x > 0 ? x : p x                       | x > 0 ? dy : p dy  (NaN x: p dy, as PyTorch)
//   Elu       x <= 0 ? p expm1(x) : x               | x <= 0 ? p exp(x) dy : dy   (from x, as PyTorch)
//   Gelu      x Phi(x) = x (1 + erf(x/sqrt2)) / 2   | dy (Phi(x) + x phi(x))
//             (Phi(x) as erfc(-x/sqrt2)/2: no cancellation for x << 0)
//   GeluTanh  x/2 (1 + tanh(u)), u = sqrt(2/pi)     | dy (s + 2 x s (1-s) u'), s = sigmoid(2u),
//             (x + 0.044715 x^3), computed as       |   u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
//             x sigmoid(2u) (no cancellation for x << 0)
//   Softplus  p x > q ? x : log(1 + exp(p x)) / p    | p x > q ? dy : dy sigmoid(p x)
//             (the log term in the stable form max(z,0) + log1p(exp(-|z|)), z = p x, so a
//             threshold above 88 never overflows to Inf as float32 PyTorch would)
//   Silu      x sigmoid(x)                          | dy s (1 + x (1 - s)), s = sigmoid(x)
//
// To add an op: append ONE line at the end (an op's id is its position; the
// TS table, lib/backend/unary_table.ts, lists the same names in the same
// order, which test/backend/parity.test.ts checks against unaryOpNames()).
// A vector body in avx2/elementwise.cc is optional, and only where
// bench/native/unary_bench.cc shows it pays.
#pragma once

// The helpers the expressions name (us::) live in ref/unary_scalar.h: only
// baseline (non-ISA) translation units expand this list.

// clang-format off
#define FATHOM_UNARY_OPS(X)                                                                         \
  X(Neg,       neg,       kCheap,  -x,                                  -dy)                        \
  X(Exp,       exp,       kCostly, std::exp(x),                         dy * y)                     \
  X(Log,       log,       kCostly, std::log(x),                         dy / x)                     \
  X(Sqrt,      sqrt,      kCheap,  std::sqrt((float)x),                 dy * 0.5 / std::sqrt(x))    \
  X(Pow,       pow,       kCostly, std::pow(x, p),                                                  \
                                   p == 0 ? 0.0 : dy * p * std::pow(x, p - 1.0))                    \
  X(Relu,      relu,      kCheap,  x < 0 ? 0.0 : x,                     x > 0 ? dy : 0.0)           \
  X(Sigmoid,   sigmoid,   kCostly, us::sigmoid(x),                      dy * y * (1.0 - y))         \
  X(Tanh,      tanh,      kCostly, std::tanh(x),                        dy * (1.0 - y * y))         \
  X(Sign,      sign,      kCheap,  us::sign(x),                         0.0)                        \
  X(Abs,       abs,       kCheap,  std::fabs(x),                        dy * us::sign(x))           \
  X(Square,    square,    kCheap,  x * x,                               2.0 * dy * x)               \
  X(LeakyRelu, leakyRelu, kCheap,  x > 0 ? x : x * p,                   x > 0 ? dy : dy * p)        \
  X(Elu,       elu,       kCostly, x <= 0 ? p * std::expm1(x) : x,                                  \
                                   x <= 0 ? dy * p * std::exp(x) : dy)                              \
  X(Gelu,      gelu,      kCostly, 0.5 * x * std::erfc(-x * us::kSqrt1_2),                          \
                                   dy * (0.5 * std::erfc(-x * us::kSqrt1_2) +                       \
                                         x * us::kInvSqrt2Pi * std::exp(-0.5 * x * x)))             \
  X(GeluTanh,  geluTanh,  kCostly, x * us::sigmoid(2.0 * us::gelu_tanh_u(x)),                       \
                                   us::gelu_tanh_bwd(x, dy))                                        \
  X(Softplus,  softplus,  kCostly, p * x > q ? x : us::softplus_log(p * x) / p,                     \
                                   p * x > q ? dy : dy * us::sigmoid(p * x))                        \
  X(Silu,      silu,      kCostly, x * us::sigmoid(x),                                              \
                                   dy * us::sigmoid(x) * (1.0 + x * (1.0 - us::sigmoid(x))))
// clang-format on
