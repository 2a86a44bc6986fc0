// Element-wise reference kernels: unary, unary_bwd, binary, binary_bcast.
//
// Shape contract
//   unary      y[i]  = f(x[i])                 i in [0, n), x == y allowed
//   unary_bwd  dx[i] = dy[i] * f'(x[i])        (writes dx; y = f(x) is passed)
//   binary     out[i] = a[i] op b[i]           contiguous, same length
//   bcast      out (ndim dims `shape`, contiguous) = a op b, a/b read through
//              element strides (0 on broadcast dims, may be negative)
//
// Arithmetic: transcendental functions are evaluated in double and rounded
// once to float (what a float64 twin that rounds with Math.fround computes);
// + - * / and sqrt are IEEE float operations, which round identically.
//
// Pinned semantics (forward | backward, dx written, never accumulated)
//   Neg     -x                                | -dy
//   Exp     exp(x); overflow -> +Inf          | dy * y
//   Log     log(x); log(+-0) = -Inf, x<0 NaN  | dy / x
//   Sqrt    sqrt(x); sqrt(-0) = -0            | dy * 0.5 / sqrt(x)   (double)
//   Pow     C pow(x, p) (pow(1, NaN) = 1)     | dy * p * pow(x, p-1) (double); p == 0 -> 0
//   Relu    x < 0 ? 0 : x  (NaN -> NaN,       | x > 0 ? dy : 0   (a select: relu'(0) = 0,
//           -0 -> -0)                         |   NaN x -> 0, Inf dy on x<=0 -> 0)
//   Sigmoid 1/(1+exp(-x)), stable form:       | dy * y * (1 - y)  (double)
//           sigmoid(-100) ~ 3.7e-44, never NaN from overflow
//   Tanh    tanh(x); tanh(+-50) = +-1         | dy * (1 - y*y)    (double)
//   Sign    x>0: 1, x<0: -1, else x           | 0 (a select, for any dy)
//           (sign(+-0) = +-0, sign(NaN) = NaN, like JS Math.sign)
//   Abs     |x|                               | dy * sign(x)  (abs'(0) = 0, a multiply:
//                                             |   Inf dy at x = 0 gives NaN)
//   Square  x*x                               | dy 2x, computed in double (2x alone may overflow)
//
//   Add Sub Mul Div  IEEE float
//   Max Min          NaN if either operand is NaN, else a > b ? a : b (resp. <);
//                    max(+0, -0) returns the second operand
//   Eq               1.0f where a == b else 0.0f (NaN != NaN, +0 == -0)
#include <cmath>
#include <limits>

#include "ref.h"

namespace fathom {
namespace {

inline float sign_of(float x) { return x > 0 ? 1.0f : (x < 0 ? -1.0f : x); }

inline float sigmoid_d(float xf) {
  const double x = xf;
  if (x >= 0) return (float)(1.0 / (1.0 + std::exp(-x)));
  const double e = std::exp(x);  // x < 0 or NaN
  return (float)(e / (1.0 + e));
}

inline float binop(Binary op, float a, float b) {
  switch (op) {
    case Binary::Add: return a + b;
    case Binary::Sub: return a - b;
    case Binary::Mul: return a * b;
    case Binary::Div: return a / b;
    case Binary::Max: return (a != a || b != b) ? a + b : (a > b ? a : b);
    case Binary::Min: return (a != a || b != b) ? a + b : (a < b ? a : b);
    case Binary::Eq: return a == b ? 1.0f : 0.0f;
    default: return std::numeric_limits<float>::quiet_NaN();
  }
}

// out[i] = a[i*sa] op b[i*sb]; the switch is outside the loop so the common
// contiguous cases vectorise.
void binary_strided(Binary op, int64_t n, const float* a, int64_t sa, const float* b, int64_t sb,
                    float* out) {
#define FATHOM_LOOP(expr)                                   \
  for (int64_t i = 0; i < n; ++i) {                         \
    const float x = a[i * sa], y = b[i * sb];               \
    out[i] = (expr);                                        \
  }                                                         \
  break;
  switch (op) {
    case Binary::Add: FATHOM_LOOP(x + y)
    case Binary::Sub: FATHOM_LOOP(x - y)
    case Binary::Mul: FATHOM_LOOP(x * y)
    case Binary::Div: FATHOM_LOOP(x / y)
    case Binary::Max: FATHOM_LOOP((x != x || y != y) ? x + y : (x > y ? x : y))
    case Binary::Min: FATHOM_LOOP((x != x || y != y) ? x + y : (x < y ? x : y))
    case Binary::Eq: FATHOM_LOOP(x == y ? 1.0f : 0.0f)
    default: FATHOM_LOOP(binop(op, x, y))
  }
#undef FATHOM_LOOP
}

}  // namespace

void f32_unary__ref(Unary op, int64_t n, const float* x, float* y, float p) {
  const double pd = p;
  switch (op) {
    case Unary::Neg: for (int64_t i = 0; i < n; ++i) y[i] = -x[i]; break;
    case Unary::Exp: for (int64_t i = 0; i < n; ++i) y[i] = (float)std::exp((double)x[i]); break;
    case Unary::Log: for (int64_t i = 0; i < n; ++i) y[i] = (float)std::log((double)x[i]); break;
    case Unary::Sqrt: for (int64_t i = 0; i < n; ++i) y[i] = std::sqrt(x[i]); break;
    case Unary::Pow: for (int64_t i = 0; i < n; ++i) y[i] = (float)std::pow((double)x[i], pd); break;
    case Unary::Relu: for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0 ? 0.0f : x[i]; break;
    case Unary::Sigmoid: for (int64_t i = 0; i < n; ++i) y[i] = sigmoid_d(x[i]); break;
    case Unary::Tanh: for (int64_t i = 0; i < n; ++i) y[i] = (float)std::tanh((double)x[i]); break;
    case Unary::Sign: for (int64_t i = 0; i < n; ++i) y[i] = sign_of(x[i]); break;
    case Unary::Abs: for (int64_t i = 0; i < n; ++i) y[i] = std::fabs(x[i]); break;
    case Unary::Square: for (int64_t i = 0; i < n; ++i) y[i] = x[i] * x[i]; break;
    default:
      for (int64_t i = 0; i < n; ++i) y[i] = std::numeric_limits<float>::quiet_NaN();
  }
}

void f32_unary_bwd__ref(Unary op, int64_t n, const float* x, const float* y, const float* dy,
                        float* dx, float p) {
  const double pd = p;
  switch (op) {
    case Unary::Neg: for (int64_t i = 0; i < n; ++i) dx[i] = -dy[i]; break;
    case Unary::Exp: for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i]; break;
    case Unary::Log: for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] / x[i]; break;
    case Unary::Sqrt:
      for (int64_t i = 0; i < n; ++i)
        dx[i] = (float)((double)dy[i] * 0.5 / std::sqrt((double)x[i]));
      break;
    case Unary::Pow:
      if (p == 0.0f) {
        for (int64_t i = 0; i < n; ++i) dx[i] = 0.0f;
      } else {
        for (int64_t i = 0; i < n; ++i)
          dx[i] = (float)((double)dy[i] * pd * std::pow((double)x[i], pd - 1.0));
      }
      break;
    case Unary::Relu: for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > 0 ? dy[i] : 0.0f; break;
    case Unary::Sigmoid:
      for (int64_t i = 0; i < n; ++i) {
        const double s = y[i];
        dx[i] = (float)((double)dy[i] * s * (1.0 - s));
      }
      break;
    case Unary::Tanh:
      for (int64_t i = 0; i < n; ++i) {
        const double t = y[i];
        dx[i] = (float)((double)dy[i] * (1.0 - t * t));
      }
      break;
    case Unary::Sign: for (int64_t i = 0; i < n; ++i) dx[i] = 0.0f; break;
    case Unary::Abs: for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * sign_of(x[i]); break;
    case Unary::Square: for (int64_t i = 0; i < n; ++i) dx[i] = (float)(2.0 * dy[i] * x[i]); break;  // in double: 2x alone may overflow
    default:
      for (int64_t i = 0; i < n; ++i) dx[i] = std::numeric_limits<float>::quiet_NaN();
  }
}

void f32_binary__ref(Binary op, int64_t n, const float* a, const float* b, float* out) {
  binary_strided(op, n, a, 1, b, 1, out);
}

int collapse_bcast_dims(int ndim, const int64_t* shape, const int64_t* astride,
                        const int64_t* bstride, int64_t* sh, int64_t* as, int64_t* bs) {
  int nd = 0;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 0) return -1;
    if (shape[d] == 1) continue;
    if (nd > 0 && as[nd - 1] == astride[d] * shape[d] && bs[nd - 1] == bstride[d] * shape[d]) {
      sh[nd - 1] *= shape[d];
      as[nd - 1] = astride[d];
      bs[nd - 1] = bstride[d];
      continue;
    }
    sh[nd] = shape[d];
    as[nd] = astride[d];
    bs[nd] = bstride[d];
    ++nd;
  }
  return nd;
}

void bcast_rows(Binary op, int nd, const int64_t* sh, const int64_t* as, const int64_t* bs,
                const float* a, const float* b, float* out, BcastRowFn row) {
  const int last = nd - 1;
  const int64_t L = sh[last];
  int64_t rows = 1;
  for (int d = 0; d < last; ++d) rows *= sh[d];
  int64_t idx[kMaxDims] = {0};
  const float* pa = a;
  const float* pb = b;
  for (int64_t r = 0; r < rows; ++r) {
    row(op, L, pa, as[last], pb, bs[last], out + r * L);
    for (int d = last - 1; d >= 0; --d) {
      pa += as[d];
      pb += bs[d];
      if (++idx[d] < sh[d]) break;
      pa -= as[d] * sh[d];
      pb -= bs[d] * sh[d];
      idx[d] = 0;
    }
  }
}

void f32_binary_bcast__ref(Binary op, int ndim, const int64_t* shape, const float* a,
                           const int64_t* astride, const float* b, const int64_t* bstride,
                           float* out) {
  int64_t sh[kMaxDims], as[kMaxDims], bs[kMaxDims];
  const int nd = collapse_bcast_dims(ndim, shape, astride, bstride, sh, as, bs);
  if (nd < 0) return;  // empty
  if (nd == 0) {  // a single element
    out[0] = binop(op, a[0], b[0]);
    return;
  }
  bcast_rows(op, nd, sh, as, bs, a, b, out, binary_strided);
}

}  // namespace fathom
