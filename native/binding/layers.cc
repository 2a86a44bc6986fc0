// The binding's entries for the convolutional-network kernels: convolution,
// pooling, batch and layer normalisation (kernels/conv.h, kernels/ops.h). As
// addon.cc: each converts and validates its arguments (sizes, lengths,
// overlap, overflow), then calls one kernel entry point. No math lives here.
#include "layers.h"

#include <cstdint>
#include <string>

#include "args.h"
#include "kernels/conv.h"
#include "kernels/kernels.h"
#include "kernels/ops.h"

namespace fathom::binding {
namespace {

using Info = const Napi::CallbackInfo&;

Napi::Value Undefined(Info info) { return info.Env().Undefined(); }

// Rows of a (n x d) matrix.
struct Rows {
  int64_t n, d;
};

// ---- conv ------------------------------------------------------
// geom: Int32Array(16) = n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, groups, oh, ow
// (kernels/conv.h). Re-checked here: everything that sizes a buffer or an index.
struct ConvSizes {
  ConvGeom g;
  int64_t x, w, y;
};
ConvSizes conv_geom(const Args& a) {
  const int32_t* v = a.i32(0, "geom", kConvGeomLen);
  for (int i = 0; i < kConvGeomLen; ++i)
    if (v[i] < 0) a.fail("geom[" + std::to_string(i) + "] must be >= 0, got " + std::to_string(v[i]));
  ConvGeom g{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]};
  if (g.c < 1 || g.o < 1) a.fail("channels must be >= 1, got c = " + std::to_string(g.c) + ", o = " + std::to_string(g.o));
  if (g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1)
    a.fail("kernel size, stride and dilation must be >= 1");
  if (g.groups < 1 || g.c % g.groups != 0 || g.o % g.groups != 0)
    a.fail("groups = " + std::to_string(g.groups) + " must divide c = " + std::to_string(g.c) + " and o = " + std::to_string(g.o));
  // Every factor is < 2^31: products of two fit int64; check the rest against 2^53.
  const double lim = 9007199254740991.0;
  const double xs = (double)g.n * (double)g.c * (double)g.h * (double)g.w;
  const double ys = (double)g.n * (double)g.o * (double)g.oh * (double)g.ow;
  const double ws = (double)g.o * (double)(g.c / g.groups) * (double)g.kh * (double)g.kw;
  const double col = (double)(g.c / g.groups) * (double)g.kh * (double)g.kw * (double)g.oh * (double)g.ow;
  if (xs > lim || ys > lim || ws > lim || col > lim) a.fail("sizes overflow");
  return {g, g.n * g.c * g.h * g.w, g.o * (g.c / g.groups) * g.kh * g.kw, g.n * g.o * g.oh * g.ow};
}
// conv2d(geom, x, w, bias | null, act, y)
Napi::Value Conv2d(Info info) {
  Args a(info, "conv2d", 6);
  const ConvSizes s = conv_geom(a);
  const float* x = a.f32(1, "x", s.x);
  const float* w = a.f32(2, "w", s.w);
  const float* bias = a.f32_or_null(3, "bias", s.g.o);
  const Act act = (Act)a.enumv(4, "act", (int32_t)Act::Count);
  float* y = a.f32(5, "y", s.y);
  a.apart("y", y, 4 * s.y, "x", x, 4 * s.x);
  a.apart("y", y, 4 * s.y, "w", w, 4 * s.w);
  a.apart("y", y, 4 * s.y, "bias", bias, 4 * s.g.o);
  ops::conv2d(s.g, x, w, bias, act, y);
  return Undefined(info);
}
// conv2dBackwardData(geom, dy, w, dx)
Napi::Value Conv2dBackwardData(Info info) {
  Args a(info, "conv2dBackwardData", 4);
  const ConvSizes s = conv_geom(a);
  const float* dy = a.f32(1, "dy", s.y);
  const float* w = a.f32(2, "w", s.w);
  float* dx = a.f32(3, "dx", s.x);
  a.apart("dx", dx, 4 * s.x, "dy", dy, 4 * s.y);
  a.apart("dx", dx, 4 * s.x, "w", w, 4 * s.w);
  ops::conv2d_bwd_data(s.g, dy, w, dx);
  return Undefined(info);
}
// conv2dBackwardWeight(geom, x, dy, dw)
Napi::Value Conv2dBackwardWeight(Info info) {
  Args a(info, "conv2dBackwardWeight", 4);
  const ConvSizes s = conv_geom(a);
  const float* x = a.f32(1, "x", s.x);
  const float* dy = a.f32(2, "dy", s.y);
  float* dw = a.f32(3, "dw", s.w);
  a.apart("dw", dw, 4 * s.w, "x", x, 4 * s.x);
  a.apart("dw", dw, 4 * s.w, "dy", dy, 4 * s.y);
  ops::conv2d_bwd_weight(s.g, x, dy, dw);
  return Undefined(info);
}
// ---- end conv ----------------------------------------------------------------


// x viewed as [n, c, s]: sizes with n*c*s representable; `per_channel` (batch
// statistics divide by n*s) refuses n*s = 0 when c > 0.
struct Chan {
  int64_t n, c, s, ns, ncs;
};
Chan chan(const Args& a, bool per_channel) {
  Chan r{a.dim(0, "n"), a.dim(1, "c"), a.dim(2, "s"), 0, 0};
  const int64_t kMax = INT64_C(9007199254740991);
  if (r.s != 0 && r.n > kMax / r.s) a.fail("n*s overflows");
  r.ns = r.n * r.s;
  if (r.c != 0 && r.ns > kMax / r.c) a.fail("n*c*s overflows");
  r.ncs = r.ns * r.c;
  if (per_channel && r.c > 0 && r.ns == 0) a.fail("the batch statistics need n*s >= 1 value per channel");
  return r;
}
float pos_eps(const Args& a, size_t i) {
  const double e = a.finite32(i, "eps", 0);
  if (!(e > 0) || !((float)e > 0)) a.fail("eps must be > 0 in float32, got " + Args::show(e));
  return (float)e;
}
// batchNormStats(n, c, s, x, mean, varOut)
Napi::Value BatchNormStats(Info info) {
  Args a(info, "batchNormStats", 6);
  const Chan r = chan(a, true);
  const float* x = a.f32(3, "x", r.ncs);
  float* mean = a.f32(4, "mean", r.c);
  float* var = a.f32(5, "varOut", r.c);
  a.apart("mean", mean, 4 * r.c, "x", x, 4 * r.ncs);
  a.apart("varOut", var, 4 * r.c, "x", x, 4 * r.ncs);
  a.apart("varOut", var, 4 * r.c, "mean", mean, 4 * r.c);
  if (r.c == 0) return Undefined(info);
  ops::bn_stats(r.n, r.c, r.s, x, mean, var);
  return Undefined(info);
}
// batchNormForward(n, c, s, x, mean, variance, eps, weight, bias, y)
Napi::Value BatchNormForward(Info info) {
  Args a(info, "batchNormForward", 10);
  const Chan r = chan(a, false);
  const float* x = a.f32(3, "x", r.ncs);
  const float* mean = a.f32(4, "mean", r.c);
  const float* var = a.f32(5, "variance", r.c);
  const float eps = pos_eps(a, 6);
  const float* w = a.f32_or_null(7, "weight", r.c);
  const float* b = a.f32_or_null(8, "bias", r.c);
  float* y = a.f32(9, "y", r.ncs);
  a.apart("y", y, 4 * r.ncs, "x", x, 4 * r.ncs, true);
  a.apart("y", y, 4 * r.ncs, "mean", mean, 4 * r.c);
  a.apart("y", y, 4 * r.ncs, "variance", var, 4 * r.c);
  a.apart("y", y, 4 * r.ncs, "weight", w, 4 * r.c);
  a.apart("y", y, 4 * r.ncs, "bias", b, 4 * r.c);
  if (r.ncs == 0) return Undefined(info);
  ops::bn_fwd(r.n, r.c, r.s, x, mean, var, eps, w, b, y);
  return Undefined(info);
}
// batchNormBackward(n, c, s, x, dy, mean, variance, eps, weight, training, dx, dweight, dbias)
Napi::Value BatchNormBackward(Info info) {
  Args a(info, "batchNormBackward", 13);
  const bool training = a.flag(9, "training");
  const Chan r = chan(a, training);
  const float* x = a.f32(3, "x", r.ncs);
  const float* dy = a.f32(4, "dy", r.ncs);
  const float* mean = a.f32(5, "mean", r.c);
  const float* var = a.f32(6, "variance", r.c);
  const float eps = pos_eps(a, 7);
  const float* w = a.f32_or_null(8, "weight", r.c);
  float* dx = a.f32_or_null(10, "dx", r.ncs);
  float* dw = a.f32_or_null(11, "dweight", r.c);
  float* db = a.f32_or_null(12, "dbias", r.c);
  const struct { const char* name; const void* p; int64_t bytes; } ins[] = {
      {"x", x, 4 * r.ncs}, {"dy", dy, 4 * r.ncs}, {"mean", mean, 4 * r.c},
      {"variance", var, 4 * r.c}, {"weight", w, 4 * r.c}};
  const struct { const char* name; void* p; int64_t bytes; } outs[] = {
      {"dx", dx, 4 * r.ncs}, {"dweight", dw, 4 * r.c}, {"dbias", db, 4 * r.c}};
  for (size_t i = 0; i < 3; ++i) {
    for (const auto& in : ins) a.apart(outs[i].name, outs[i].p, outs[i].bytes, in.name, in.p, in.bytes);
    for (size_t j = i + 1; j < 3; ++j) a.apart(outs[i].name, outs[i].p, outs[i].bytes, outs[j].name, outs[j].p, outs[j].bytes);
  }
  if (r.c == 0) return Undefined(info);
  ops::bn_bwd(r.n, r.c, r.s, x, dy, mean, var, eps, w, training, dx, dw, db);
  return Undefined(info);
}
// Layer norm rows: d >= 1 when r > 0, r*d representable.
Rows norm_rows(const Args& a) {
  Rows r{a.dim(0, "r"), a.dim(1, "d")};
  if (r.n > 0 && r.d == 0) a.fail("d must be >= 1 when r > 0, got 0");
  if (r.d != 0 && r.n > INT64_C(9007199254740991) / r.d) a.fail("r*d overflows");
  return r;
}
// layerNormForward(r, d, x, weight, bias, eps, y, mean, rstd)
Napi::Value LayerNormForward(Info info) {
  Args a(info, "layerNormForward", 9);
  const Rows r = norm_rows(a);
  const int64_t rd = r.n * r.d;
  const float* x = a.f32(2, "x", rd);
  const float* w = a.f32_or_null(3, "weight", r.d);
  const float* b = a.f32_or_null(4, "bias", r.d);
  const float eps = pos_eps(a, 5);
  float* y = a.f32(6, "y", rd);
  float* mean = a.f32(7, "mean", r.n);
  float* rstd = a.f32(8, "rstd", r.n);
  a.apart("y", y, 4 * rd, "x", x, 4 * rd, true);
  const struct { const char* name; const void* p; int64_t bytes; } ins[] = {{"weight", w, 4 * r.d}, {"bias", b, 4 * r.d}};
  const struct { const char* name; void* p; int64_t bytes; } outs[] = {{"y", y, 4 * rd}, {"mean", mean, 4 * r.n}, {"rstd", rstd, 4 * r.n}};
  for (size_t i = 0; i < 3; ++i) {
    for (const auto& in : ins) a.apart(outs[i].name, outs[i].p, outs[i].bytes, in.name, in.p, in.bytes);
    for (size_t j = i + 1; j < 3; ++j) a.apart(outs[i].name, outs[i].p, outs[i].bytes, outs[j].name, outs[j].p, outs[j].bytes);
  }
  a.apart("mean", mean, 4 * r.n, "x", x, 4 * rd);
  a.apart("rstd", rstd, 4 * r.n, "x", x, 4 * rd);
  if (r.n == 0) return Undefined(info);
  ops::ln_fwd(r.n, r.d, x, w, b, eps, y, mean, rstd);
  return Undefined(info);
}
// layerNormBackward(r, d, x, dy, mean, rstd, weight, dx, dweight, dbias)
Napi::Value LayerNormBackward(Info info) {
  Args a(info, "layerNormBackward", 10);
  const Rows r = norm_rows(a);
  const int64_t rd = r.n * r.d;
  const float* x = a.f32(2, "x", rd);
  const float* dy = a.f32(3, "dy", rd);
  const float* mean = a.f32(4, "mean", r.n);
  const float* rstd = a.f32(5, "rstd", r.n);
  const float* w = a.f32_or_null(6, "weight", r.d);
  float* dx = a.f32_or_null(7, "dx", rd);
  float* dw = a.f32_or_null(8, "dweight", r.d);
  float* db = a.f32_or_null(9, "dbias", r.d);
  const struct { const char* name; const void* p; int64_t bytes; } ins[] = {
      {"x", x, 4 * rd}, {"dy", dy, 4 * rd}, {"mean", mean, 4 * r.n}, {"rstd", rstd, 4 * r.n}, {"weight", w, 4 * r.d}};
  const struct { const char* name; void* p; int64_t bytes; } outs[] = {
      {"dx", dx, 4 * rd}, {"dweight", dw, 4 * r.d}, {"dbias", db, 4 * r.d}};
  for (size_t i = 0; i < 3; ++i) {
    for (const auto& in : ins) a.apart(outs[i].name, outs[i].p, outs[i].bytes, in.name, in.p, in.bytes);
    for (size_t j = i + 1; j < 3; ++j) a.apart(outs[i].name, outs[i].p, outs[i].bytes, outs[j].name, outs[j].p, outs[j].bytes);
  }
  if (r.d == 0) return Undefined(info);
  ops::ln_bwd(r.n, r.d, x, dy, mean, rstd, w, dx, dw, db);
  return Undefined(info);
}

// Geometry from arguments 0..count-1: nc, h, w, oh, ow[, kh, kw, sh, sw, ph, pw[, dh, dw]].
// Every value < 2^31 (so window arithmetic never overflows int64), kernel,
// stride, dilation >= 1, and the plane products representable. The kernels
// only read cells inside [0, h) x [0, w), so lengths are all memory needs.
Pool2d pool_geom(const Args& a, int count) {
  static const char* names[] = {"nc", "h", "w", "oh", "ow", "kh", "kw", "sh", "sw", "ph", "pw", "dh", "dw"};
  int64_t v[13] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1};
  for (int i = 0; i < count; ++i) {
    v[i] = a.dim(i, names[i]);
    if (v[i] > INT32_MAX) a.fail(std::string(names[i]) + " must be < 2^31, got " + std::to_string(v[i]));
    const bool pos = (i >= 5 && i <= 8) || i >= 11;
    if (pos && v[i] < 1) a.fail(std::string(names[i]) + " must be >= 1, got 0");
  }
  const int64_t lim = INT64_C(9007199254740991);
  if (v[1] * v[2] != 0 && v[0] > lim / (v[1] * v[2])) a.fail("nc*h*w overflows");
  if (v[3] * v[4] != 0 && v[0] > lim / (v[3] * v[4])) a.fail("nc*oh*ow overflows");
  return Pool2d{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]};
}
Napi::Value MaxPool2d(Info info) {
  Args a(info, "maxPool2d", 15);
  const Pool2d g = pool_geom(a, 13);
  const float* x = a.f32(13, "x", g.nc * g.h * g.w);
  float* y = a.f32(14, "y", g.nc * g.oh * g.ow);
  a.apart("y", y, 4 * g.nc * g.oh * g.ow, "x", x, 4 * g.nc * g.h * g.w);
  if (g.nc * g.oh * g.ow == 0) return Undefined(info);
  ops::max_pool2d(g, x, y);
  return Undefined(info);
}
Napi::Value MaxPool2dBackward(Info info) {
  Args a(info, "maxPool2dBackward", 16);
  const Pool2d g = pool_geom(a, 13);
  const int64_t in = g.nc * g.h * g.w, out = g.nc * g.oh * g.ow;
  const float* x = a.f32(13, "x", in);
  const float* dy = a.f32(14, "dy", out);
  float* dx = a.f32(15, "dx", in);
  a.apart("dx", dx, 4 * in, "x", x, 4 * in);
  a.apart("dx", dx, 4 * in, "dy", dy, 4 * out);
  if (in == 0) return Undefined(info);
  ops::max_pool2d_bwd(g, x, dy, dx);
  return Undefined(info);
}
Napi::Value AvgPool2d(Info info) {
  Args a(info, "avgPool2d", 15);
  const Pool2d g = pool_geom(a, 11);
  const bool cip = a.flag(11, "countIncludePad");
  const int64_t div = a.dim(12, "divisor");
  if (div > INT32_MAX) a.fail("divisor must be < 2^31, got " + std::to_string(div));
  const float* x = a.f32(13, "x", g.nc * g.h * g.w);
  float* y = a.f32(14, "y", g.nc * g.oh * g.ow);
  a.apart("y", y, 4 * g.nc * g.oh * g.ow, "x", x, 4 * g.nc * g.h * g.w);
  if (g.nc * g.oh * g.ow == 0) return Undefined(info);
  ops::avg_pool2d(g, cip, div, x, y);
  return Undefined(info);
}
Napi::Value AvgPool2dBackward(Info info) {
  Args a(info, "avgPool2dBackward", 15);
  const Pool2d g = pool_geom(a, 11);
  const bool cip = a.flag(11, "countIncludePad");
  const int64_t div = a.dim(12, "divisor");
  if (div > INT32_MAX) a.fail("divisor must be < 2^31, got " + std::to_string(div));
  const int64_t in = g.nc * g.h * g.w, out = g.nc * g.oh * g.ow;
  const float* dy = a.f32(13, "dy", out);
  float* dx = a.f32(14, "dx", in);
  a.apart("dx", dx, 4 * in, "dy", dy, 4 * out);
  if (in == 0) return Undefined(info);
  ops::avg_pool2d_bwd(g, cip, div, dy, dx);
  return Undefined(info);
}
Napi::Value AdaptiveAvgPool2d(Info info) {
  Args a(info, "adaptiveAvgPool2d", 7);
  const Pool2d g = pool_geom(a, 5);
  const float* x = a.f32(5, "x", g.nc * g.h * g.w);
  float* y = a.f32(6, "y", g.nc * g.oh * g.ow);
  a.apart("y", y, 4 * g.nc * g.oh * g.ow, "x", x, 4 * g.nc * g.h * g.w);
  if (g.nc * g.oh * g.ow == 0) return Undefined(info);
  ops::adaptive_avg_pool2d(g, x, y);
  return Undefined(info);
}
Napi::Value AdaptiveAvgPool2dBackward(Info info) {
  Args a(info, "adaptiveAvgPool2dBackward", 7);
  const Pool2d g = pool_geom(a, 5);
  const int64_t in = g.nc * g.h * g.w, out = g.nc * g.oh * g.ow;
  const float* dy = a.f32(5, "dy", out);
  float* dx = a.f32(6, "dx", in);
  a.apart("dx", dx, 4 * in, "dy", dy, 4 * out);
  if (in == 0) return Undefined(info);
  if (g.oh == 0 || g.ow == 0) a.fail("oh and ow must be >= 1 when nc*h*w > 0");
  ops::adaptive_avg_pool2d_bwd(g, dy, dx);
  return Undefined(info);
}

}  // namespace

void define_layer_entries(Napi::Env env, Napi::Object exports) {
  exports.Set("batchNormStats", Napi::Function::New(env, BatchNormStats, "batchNormStats"));
  exports.Set("batchNormForward", Napi::Function::New(env, BatchNormForward, "batchNormForward"));
  exports.Set("batchNormBackward", Napi::Function::New(env, BatchNormBackward, "batchNormBackward"));
  exports.Set("layerNormForward", Napi::Function::New(env, LayerNormForward, "layerNormForward"));
  exports.Set("layerNormBackward", Napi::Function::New(env, LayerNormBackward, "layerNormBackward"));
  exports.Set("conv2d", Napi::Function::New(env, Conv2d, "conv2d"));
  exports.Set("conv2dBackwardData", Napi::Function::New(env, Conv2dBackwardData, "conv2dBackwardData"));
  exports.Set("conv2dBackwardWeight", Napi::Function::New(env, Conv2dBackwardWeight, "conv2dBackwardWeight"));
  exports.Set("maxPool2d", Napi::Function::New(env, MaxPool2d, "maxPool2d"));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, MaxPool2dBackward, "maxPool2dBackward"));
  exports.Set("avgPool2d", Napi::Function::New(env, AvgPool2d, "avgPool2d"));
  exports.Set("avgPool2dBackward", Napi::Function::New(env, AvgPool2dBackward, "avgPool2dBackward"));
  exports.Set("adaptiveAvgPool2d", Napi::Function::New(env, AdaptiveAvgPool2d, "adaptiveAvgPool2d"));
  exports.Set("adaptiveAvgPool2dBackward", Napi::Function::New(env, AdaptiveAvgPool2dBackward, "adaptiveAvgPool2dBackward"));
}

}  // namespace fathom::binding
