// #13 infer: linearChain, a Sequential of nn.Linear + activation in one call
// (ops::linear_chain). As addon.cc: converts and validates every argument
// (counts, sizes, lengths, overlap, overflow), then calls the kernel entry.
#include "chain.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "args.h"
#include "kernels/kernels.h"
#include "kernels/ops.h"

namespace fathom::binding {
namespace {

// The most layers one call takes (a bound for the argument arrays, not a limit of the kernel).
constexpr uint32_t kMaxLayers = 4096;
constexpr uint32_t kNoIndex = UINT32_MAX;

// Argument i: a Float32Array of want values (or null when nullable), read with ONE
// napi_get_typedarray_info call (names are built only on failure: this runs
// for every layer of every batch-1 call).
const float* f32_arg(const Args& a, const Napi::CallbackInfo& info, size_t i, const char* base, uint32_t l,
                     int64_t want, bool nullable) {
  const auto name = [&] { return std::string(base) + (l == kNoIndex ? "" : "[" + std::to_string(l) + "]"); };
  napi_value v = info[i];
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value ab;
  size_t offset = 0;
  if (napi_get_typedarray_info(info.Env(), v, &type, &length, &data, &ab, &offset) != napi_ok ||
      type != napi_float32_array) {
    if (nullable && info[i].IsNull()) return nullptr;
    a.fail(name() + " must be a Float32Array" + (nullable ? " or null" : "") + ", got " + Args::describe(info[i]));
  }
  if (length == 0 && Napi::ArrayBuffer(info.Env(), ab).IsDetached()) a.fail(name() + " is backed by a detached ArrayBuffer");
  if ((int64_t)length != want)
    a.fail(name() + " must hold " + std::to_string(want) + " float32 values, got " + std::to_string(length));
  return static_cast<const float*>(data);
}

// linearChain(n, x, y, in_0, then per layer l: out_l, act_l, w_l, bias_l | null): y = the chain's
// output (positional arguments: no JS arrays to walk, one call per batch-1 forward).
Napi::Value LinearChain(const Napi::CallbackInfo& info) {
  Args a(info, "linearChain", 8);
  const size_t argc = info.Length();
  if ((argc - 4) % 4 != 0)
    a.fail("expected n, x, y, in and 4 arguments per layer (out, act, w, bias), got " + std::to_string(argc) + " arguments");
  const uint32_t L = (uint32_t)((argc - 4) / 4);
  if (L > kMaxLayers) a.fail("at most " + std::to_string(kMaxLayers) + " layers, got " + std::to_string(L));
  const int64_t n = a.dim(0, "n");
  const int64_t lim = INT64_C(1) << 40;
  if (n > lim) a.fail("n = " + std::to_string(n) + " is too large");
  ops::LinearLayer small[16];
  std::vector<ops::LinearLayer> heap(L > 16 ? L : 0);
  ops::LinearLayer* layers = L > 16 ? heap.data() : small;
  int64_t in = a.dim(3, "in");
  const int64_t in0 = in;
  for (uint32_t l = 0; l < L; ++l) {
    const size_t at = 4 + 4 * (size_t)l;
    const int64_t out = a.dim(at, "out");
    const int64_t act = a.dim(at + 1, "act");
    if (in < 1 || out < 1)
      a.fail("layer " + std::to_string(l) + " must have in, out >= 1, got in = " + std::to_string(in) + ", out = " + std::to_string(out));
    if (act >= (int64_t)Act::Count) a.fail("act of layer " + std::to_string(l) + " out of range: " + std::to_string(act));
    if (in > lim || out > lim || (n && in > lim / n) || out > lim / in || (n && out > lim / n)) a.fail("matrix too large");
    layers[l] = {out, in, f32_arg(a, info, at + 2, "w", l, out * in, false), f32_arg(a, info, at + 3, "bias", l, out, true),
                 (Act)act};
    in = out;
  }
  const float* x = f32_arg(a, info, 1, "x", kNoIndex, n * in0, false);
  float* y = const_cast<float*>(f32_arg(a, info, 2, "y", kNoIndex, n * in, false));
  a.apart("y", y, 4 * n * in, "x", x, 4 * n * in0);
  const auto y0 = (uintptr_t)y, y1 = y0 + (uintptr_t)(4 * n * in);
  const auto overlaps = [&](const void* p, int64_t bytes) {
    const auto p0 = (uintptr_t)p;
    return p && bytes > 0 && n * in > 0 && std::max(y0, p0) < std::min(y1, p0 + (uintptr_t)bytes);
  };
  for (uint32_t l = 0; l < L; ++l) {
    const int64_t wb = 4 * layers[l].out * layers[l].in, bb = 4 * layers[l].out;
    if (overlaps(layers[l].w, wb))
      a.apart("y", y, 4 * n * in, ("w[" + std::to_string(l) + "]").c_str(), layers[l].w, wb);
    if (overlaps(layers[l].bias, bb))
      a.apart("y", y, 4 * n * in, ("bias[" + std::to_string(l) + "]").c_str(), layers[l].bias, bb);
  }
  ops::linear_chain(n, (int)L, layers, x, y);
  return info.Env().Undefined();
}

}  // namespace

void define_chain_entries(Napi::Env env, Napi::Object exports) {
  exports.Set("linearChain", Napi::Function::New(env, LinearChain, "linearChain"));
}

}  // namespace fathom::binding
