// Element-wise reference kernels: unary, unary_bwd, binary, binary_bcast.
//
// Shape contract
//   unary      y[i]  = f(x[i])                 i in [0, n), x == y allowed
//   unary_bwd  dx[i] = dy[i] * f'(x[i])        (writes dx; y = f(x) is passed)
//   binary     out[i] = a[i] op b[i]           contiguous, same length
//   bcast      out (ndim dims `shape`, contiguous) = a op b, a/b read through
//              element strides (0 on broadcast dims, may be negative)
//
// Unary ops: generated from THE op list, unary_ops.h (the semantics of each
// op are pinned there). Every op is evaluated in double and rounded once to
// float (what a float64 twin that rounds with Math.fround computes).
//
//   Add Sub Mul Div  IEEE float
//   Max Min          NaN if either operand is NaN, else a > b ? a : b (resp. <);
//                    max(+0, -0) returns the second operand
//   Eq               1.0f where a == b else 0.0f (NaN != NaN, +0 == -0)
#include <cmath>
#include <limits>

#include "ref.h"
#include "unary_scalar.h"

namespace fathom {
namespace {

inline float binop(Binary op, float a, float b) {
  switch (op) {
    case Binary::Add: return a + b;
    case Binary::Sub: return a - b;
    case Binary::Mul: return a * b;
    case Binary::Div: return a / b;
    case Binary::Max: return (a != a || b != b) ? a + b : (a > b ? a : b);
    case Binary::Min: return (a != a || b != b) ? a + b : (a < b ? a : b);
    case Binary::Eq: return a == b ? 1.0f : 0.0f;
    // --- #11 natops ---
    case Binary::Ne: return a != b ? 1.0f : 0.0f;
    case Binary::Lt: return a < b ? 1.0f : 0.0f;
    case Binary::Le: return a <= b ? 1.0f : 0.0f;
    case Binary::Gt: return a > b ? 1.0f : 0.0f;
    case Binary::Ge: return a >= b ? 1.0f : 0.0f;
    // --- end #11 natops ---
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
    // --- #11 natops ---
    case Binary::Ne: FATHOM_LOOP(x != y ? 1.0f : 0.0f)
    case Binary::Lt: FATHOM_LOOP(x < y ? 1.0f : 0.0f)
    case Binary::Le: FATHOM_LOOP(x <= y ? 1.0f : 0.0f)
    case Binary::Gt: FATHOM_LOOP(x > y ? 1.0f : 0.0f)
    case Binary::Ge: FATHOM_LOOP(x >= y ? 1.0f : 0.0f)
    // --- end #11 natops ---
    default: FATHOM_LOOP(binop(op, x, y))
  }
#undef FATHOM_LOOP
}

}  // namespace

const char* unary_name(Unary op) {
  static const char* const names[] = {
#define FATHOM_X(Name, name, cost, fwd, bwd) #name,
      FATHOM_UNARY_OPS(FATHOM_X)
#undef FATHOM_X
  };
  return (int)op >= 0 && op < Unary::Count ? names[(int)op] : "?";
}

// One loop per op: the switch is outside, so the simple ops vectorise.
void f32_unary__ref(Unary op, int64_t n, const float* xs, float* ys, float pf, float qf) {
  [[maybe_unused]] const double p = pf, q = qf;
  switch (op) {
#define FATHOM_X(Name, name, cost, fwd, bwd)    \
  case Unary::Name:                             \
    for (int64_t i = 0; i < n; ++i) {           \
      const double x = xs[i];                   \
      ys[i] = (float)(fwd);                     \
    }                                           \
    break;
    FATHOM_UNARY_OPS(FATHOM_X)
#undef FATHOM_X
    default:
      for (int64_t i = 0; i < n; ++i) ys[i] = std::numeric_limits<float>::quiet_NaN();
  }
}

void f32_unary_bwd__ref(Unary op, int64_t n, const float* xs, const float* ys, const float* dys,
                        float* dxs, float pf, float qf) {
  [[maybe_unused]] const double p = pf, q = qf;
  switch (op) {
#define FATHOM_X(Name, name, cost, fwd, bwd)    \
  case Unary::Name:                             \
    for (int64_t i = 0; i < n; ++i) {           \
      [[maybe_unused]] const double x = xs[i];  \
      [[maybe_unused]] const double y = ys[i];  \
      [[maybe_unused]] const double dy = dys[i]; \
      dxs[i] = (float)(bwd);                    \
    }                                           \
    break;
    FATHOM_UNARY_OPS(FATHOM_X)
#undef FATHOM_X
    default:
      for (int64_t i = 0; i < n; ++i) dxs[i] = std::numeric_limits<float>::quiet_NaN();
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
