// #11 natops: the binding's entries for the tensor-op kernels (kernels/tensorops.h). As
// addon.cc: each converts and re-checks its arguments (sizes and their products, buffer
// lengths, every index in range, the output apart from the inputs) before any kernel reads
// memory. JS owns every buffer.
#include "tensorops.h"

#include <cstdint>
#include <string>

#include "args.h"
#include "kernels/kernels.h"
#include "kernels/tensorops.h"

namespace fathom::binding {
namespace {

using Info = const Napi::CallbackInfo&;

struct Axis3 {
  int64_t outer, n, inner;
};

// outer, n, inner at arguments 0..2; outer * max(n, m) * inner must stay below 2^53.
Axis3 axis3(const Args& a, int64_t m_extra = 0) {
  Axis3 r{a.dim(0, "outer"), a.dim(1, "n"), a.dim(2, "inner")};
  const double big = (double)(r.n > m_extra ? r.n : m_extra);
  if ((double)r.outer * big * (double)r.inner > 9007199254740991.0) a.fail("outer * n * inner exceeds 2^53 - 1");
  return r;
}

void check_indices(const Args& a, const int32_t* idx, int64_t m, int64_t n) {
  for (int64_t i = 0; i < m; ++i)
    if (idx[i] < 0 || idx[i] >= n)
      a.fail("idx[" + std::to_string(i) + "] = " + std::to_string(idx[i]) + " is out of range (expected an integer in [0, " +
             std::to_string(n) + "))");
}

// indexSelect(outer, n, inner, x, idx, m, y)
Napi::Value IndexSelect(Info info) {
  Args a(info, "indexSelect", 7);
  const int64_t m = a.dim(5, "m");
  const Axis3 s = axis3(a, m);
  const float* x = a.f32(3, "x", s.outer * s.n * s.inner);
  const int32_t* idx = a.i32(4, "idx", m);
  float* y = a.f32(6, "y", s.outer * m * s.inner);
  a.apart("y", y, 4 * s.outer * m * s.inner, "x", x, 4 * s.outer * s.n * s.inner);
  a.apart("y", y, 4 * s.outer * m * s.inner, "idx", idx, 4 * m);
  check_indices(a, idx, m, s.n);
  ops::index_select(s.outer, s.n, s.inner, x, idx, m, y);
  return info.Env().Undefined();
}

// indexSelectBackward(outer, n, inner, dy, idx, m, dx)
Napi::Value IndexSelectBackward(Info info) {
  Args a(info, "indexSelectBackward", 7);
  const int64_t m = a.dim(5, "m");
  const Axis3 s = axis3(a, m);
  const float* dy = a.f32(3, "dy", s.outer * m * s.inner);
  const int32_t* idx = a.i32(4, "idx", m);
  float* dx = a.f32(6, "dx", s.outer * s.n * s.inner);
  a.apart("dx", dx, 4 * s.outer * s.n * s.inner, "dy", dy, 4 * s.outer * m * s.inner);
  a.apart("dx", dx, 4 * s.outer * s.n * s.inner, "idx", idx, 4 * m);
  check_indices(a, idx, m, s.n);
  ops::index_select_backward(s.outer, s.n, s.inner, dy, idx, m, dx);
  return info.Env().Undefined();
}

// gather(outer, n, inner, x, idx, m, y): idx and y are (outer, m, inner).
Napi::Value Gather(Info info) {
  Args a(info, "gather", 7);
  const int64_t m = a.dim(5, "m");
  const Axis3 s = axis3(a, m);
  const int64_t yl = s.outer * m * s.inner;
  const float* x = a.f32(3, "x", s.outer * s.n * s.inner);
  const int32_t* idx = a.i32(4, "idx", yl);
  float* y = a.f32(6, "y", yl);
  a.apart("y", y, 4 * yl, "x", x, 4 * s.outer * s.n * s.inner);
  a.apart("y", y, 4 * yl, "idx", idx, 4 * yl);
  check_indices(a, idx, yl, s.n);
  ops::gather(s.outer, s.n, s.inner, x, idx, m, y);
  return info.Env().Undefined();
}

// gatherBackward(outer, n, inner, dy, idx, m, dx): dy and idx are (outer, m, inner).
Napi::Value GatherBackward(Info info) {
  Args a(info, "gatherBackward", 7);
  const int64_t m = a.dim(5, "m");
  const Axis3 s = axis3(a, m);
  const int64_t yl = s.outer * m * s.inner, xl = s.outer * s.n * s.inner;
  const float* dy = a.f32(3, "dy", yl);
  const int32_t* idx = a.i32(4, "idx", yl);
  float* dx = a.f32(6, "dx", xl);
  a.apart("dx", dx, 4 * xl, "dy", dy, 4 * yl);
  a.apart("dx", dx, 4 * xl, "idx", idx, 4 * yl);
  check_indices(a, idx, yl, s.n);
  ops::gather_backward(s.outer, s.n, s.inner, dy, idx, m, dx);
  return info.Env().Undefined();
}

// cumsum(outer, n, inner, x, reverse, y)
Napi::Value Cumsum(Info info) {
  Args a(info, "cumsum", 6);
  const Axis3 s = axis3(a);
  const int64_t len = s.outer * s.n * s.inner;
  const float* x = a.f32(3, "x", len);
  const bool reverse = a.flag(4, "reverse");
  float* y = a.f32(5, "y", len);
  a.apart("y", y, 4 * len, "x", x, 4 * len);
  ops::cumsum(s.outer, s.n, s.inner, x, reverse, y);
  return info.Env().Undefined();
}

// The largest element index a walk of `shape` with `stride` reads (overflow-checked).
int64_t reach(const Args& a, const std::vector<int64_t>& shape, const std::vector<int64_t>& stride, const char* name) {
  int64_t m = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return 0;
    const int64_t k = shape[d] - 1;
    if (k > 0 && stride[d] > (INT64_MAX - m) / k) a.fail(std::string(name) + " reach past any addressable index");
    m += k * stride[d];
  }
  return m;
}

// whereBroadcast(shape, cond, condStrides, a, aStrides, b, bStrides, out)
Napi::Value WhereBroadcast(Info info) {
  Args a(info, "whereBroadcast", 8);
  const std::vector<int64_t> shape = a.ints(0, "shape", kMaxDims);
  const std::vector<int64_t> cs = a.ints(2, "condStrides", kMaxDims), as = a.ints(4, "aStrides", kMaxDims),
                             bs = a.ints(6, "bStrides", kMaxDims);
  if (cs.size() != shape.size() || as.size() != shape.size() || bs.size() != shape.size())
    a.fail("shape, condStrides, aStrides and bStrides must have the same length");
  const int64_t n = shape_size(shape);
  if (n < 0) a.fail("shape is too large");
  const int64_t clen = a.len(1, "cond"), alen = a.len(3, "a"), blen = a.len(5, "b");
  if (n > 0) {
    const int64_t cmax = reach(a, shape, cs, "condStrides"), amax = reach(a, shape, as, "aStrides"),
                  bmax = reach(a, shape, bs, "bStrides");
    if (cmax >= clen || amax >= alen || bmax >= blen)
      a.fail("strides reach past the operands: cond needs " + std::to_string(cmax + 1) + " values (has " +
             std::to_string(clen) + "), a needs " + std::to_string(amax + 1) + " (has " + std::to_string(alen) +
             "), b needs " + std::to_string(bmax + 1) + " (has " + std::to_string(blen) + ")");
  }
  const float* c = a.f32(1, "cond", clen);
  const float* x = a.f32(3, "a", alen);
  const float* y = a.f32(5, "b", blen);
  float* out = a.f32(7, "out", n);
  a.apart("out", out, 4 * n, "cond", c, 4 * clen);
  a.apart("out", out, 4 * n, "a", x, 4 * alen);
  a.apart("out", out, 4 * n, "b", y, 4 * blen);
  if (n > 0) ops::where((int)shape.size(), shape.data(), c, cs.data(), x, as.data(), y, bs.data(), out);
  return info.Env().Undefined();
}

}  // namespace

void define_tensorop_entries(Napi::Env env, Napi::Object exports) {
  exports.Set("indexSelect", Napi::Function::New(env, IndexSelect, "indexSelect"));
  exports.Set("indexSelectBackward", Napi::Function::New(env, IndexSelectBackward, "indexSelectBackward"));
  exports.Set("gather", Napi::Function::New(env, Gather, "gather"));
  exports.Set("gatherBackward", Napi::Function::New(env, GatherBackward, "gatherBackward"));
  exports.Set("cumsum", Napi::Function::New(env, Cumsum, "cumsum"));
  exports.Set("whereBroadcast", Napi::Function::New(env, WhereBroadcast, "whereBroadcast"));
}

}  // namespace fathom::binding
