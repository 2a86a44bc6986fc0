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

// Element i of a JS array: a Float32Array of want values (or null when nullable).
// (Names are built only on failure: this runs per layer on every batch-1 call.)
const float* elem_f32(const Args& a, const Napi::Array& arr, uint32_t i, const char* base, int64_t want,
                      bool nullable) {
  Napi::Value v = arr.Get(i);
  const auto name = [&] { return std::string(base) + "[" + std::to_string(i) + "]"; };
  if (nullable && v.IsNull()) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    a.fail(name() + " must be a Float32Array" + (nullable ? " or null" : "") + ", got " + Args::describe(v));
  Napi::Float32Array t = v.As<Napi::Float32Array>();
  if (t.ElementLength() == 0 && t.ArrayBuffer().IsDetached()) a.fail(name() + " is backed by a detached ArrayBuffer");
  if ((int64_t)t.ElementLength() != want)
    a.fail(name() + " must hold " + std::to_string(want) + " float32 values, got " + std::to_string(t.ElementLength()));
  return t.Data();
}

Napi::Array array_arg(const Args& a, const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsArray()) a.fail(std::string(name) + " must be an Array, got " + Args::describe(info[i]));
  return info[i].As<Napi::Array>();
}

// linearChain(n, meta, ws, biases, x, y): meta = Int32Array [in_0, out_0, act_0, out_1, act_1, ...]
// (1 + 2L values), ws / biases: Arrays of L Float32Arrays (biases: or null). y = the chain's output.
Napi::Value LinearChain(const Napi::CallbackInfo& info) {
  Args a(info, "linearChain", 6);
  const int64_t n = a.dim(0, "n");
  Napi::Array ws = array_arg(a, info, 2, "ws"), bs = array_arg(a, info, 3, "biases");
  const uint32_t L = ws.Length();
  if (L < 1 || L > kMaxLayers)
    a.fail("ws must hold 1 to " + std::to_string(kMaxLayers) + " weights, got " + std::to_string(L));
  if (bs.Length() != L)
    a.fail("biases must hold one entry per layer (" + std::to_string(L) + "), got " + std::to_string(bs.Length()));
  const int32_t* meta = a.i32(1, "meta", 1 + 2 * (int64_t)L);
  const int64_t lim = INT64_C(1) << 40;
  if (n > lim) a.fail("n = " + std::to_string(n) + " is too large");
  ops::LinearLayer small[16];
  std::vector<ops::LinearLayer> heap(L > 16 ? L : 0);
  ops::LinearLayer* layers = L > 16 ? heap.data() : small;
  int64_t in = meta[0];
  const int64_t in0 = in;
  for (uint32_t l = 0; l < L; ++l) {
    const int64_t out = meta[1 + 2 * l];
    const int32_t act = meta[2 + 2 * l];
    if (in < 1 || out < 1)
      a.fail("layer " + std::to_string(l) + " must have in, out >= 1, got in = " + std::to_string(in) + ", out = " + std::to_string(out));
    if (act < 0 || act >= (int32_t)Act::Count)
      a.fail("act of layer " + std::to_string(l) + " out of range: " + std::to_string(act));
    if ((n && in > lim / n) || out > lim / in || (n && out > lim / n)) a.fail("matrix too large");
    layers[l] = {out, in, elem_f32(a, ws, l, "ws", out * in, false), elem_f32(a, bs, l, "biases", out, true),
                 (Act)act};
    in = out;
  }
  const float* x = a.f32(4, "x", n * in0);
  float* y = a.f32(5, "y", n * in);
  a.apart("y", y, 4 * n * in, "x", x, 4 * n * in0);
  const auto y0 = (uintptr_t)y, y1 = y0 + (uintptr_t)(4 * n * in);
  const auto overlaps = [&](const void* p, int64_t bytes) {
    const auto p0 = (uintptr_t)p;
    return p && bytes > 0 && n * in > 0 && std::max(y0, p0) < std::min(y1, p0 + (uintptr_t)bytes);
  };
  for (uint32_t l = 0; l < L; ++l) {
    const int64_t wb = 4 * layers[l].out * layers[l].in, bb = 4 * layers[l].out;
    if (overlaps(layers[l].w, wb))
      a.apart("y", y, 4 * n * in, ("ws[" + std::to_string(l) + "]").c_str(), layers[l].w, wb);
    if (overlaps(layers[l].bias, bb))
      a.apart("y", y, 4 * n * in, ("biases[" + std::to_string(l) + "]").c_str(), layers[l].bias, bb);
  }
  ops::linear_chain(n, (int)L, layers, x, y);
  return info.Env().Undefined();
}

}  // namespace

void define_chain_entries(Napi::Env env, Napi::Object exports) {
  exports.Set("linearChain", Napi::Function::New(env, LinearChain, "linearChain"));
}

}  // namespace fathom::binding
