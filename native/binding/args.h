// Argument conversion and validation for the binding. Every failure throws a
// JS Error naming the operation and what was expected vs. what was given.
#pragma once
#include <napi.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "runtime/malloc_trim.h"

namespace fathom::binding {

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* op, size_t count) : info_(info), op_(op) {
    release_free_memory();  // malloc_trim at most every 2 s: runtime/malloc_trim.h (FATHOM_MALLOC_TRIM=0: off)
    if (info.Length() < count)
      fail("expected " + std::to_string(count) + " arguments, got " + std::to_string(info.Length()));
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw Napi::Error::New(info_.Env(), std::string("fathom.") + op_ + ": " + what);
  }

  float* f32(size_t i, const char* name, int64_t want_len) const {
    Napi::Float32Array a = f32array(i, name);
    if ((int64_t)a.ElementLength() != want_len)
      fail(std::string(name) + " must hold " + std::to_string(want_len) + " float32 values, got " +
           std::to_string(a.ElementLength()));
    return want_len == 0 ? nullptr : a.Data();
  }
  // A Float32Array of want_len values, or null (returns nullptr). undefined is
  // refused like any other non-array: a forgotten argument is not "none".
  float* f32_or_null(size_t i, const char* name, int64_t want_len) const {
    if (info_[i].IsNull()) return nullptr;
    float* p = f32(i, name, want_len);
    if (!p && want_len == 0) return nullptr;
    return p;
  }
  Napi::Float32Array f32array(size_t i, const char* name) const {
    Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      fail(std::string(name) + " must be a Float32Array, got " + describe(v));
    Napi::Float32Array a = v.As<Napi::Float32Array>();
    if (a.ElementLength() == 0 && a.ArrayBuffer().IsDetached())
      fail(std::string(name) + " is backed by a detached ArrayBuffer");
    return a;
  }
  int32_t* i32(size_t i, const char* name, int64_t want_len) const {
    Napi::Value v = info_[i];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      fail(std::string(name) + " must be an Int32Array, got " + describe(v));
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    if (a.ElementLength() == 0 && a.ArrayBuffer().IsDetached())
      fail(std::string(name) + " is backed by a detached ArrayBuffer");
    if ((int64_t)a.ElementLength() != want_len)
      fail(std::string(name) + " must hold " + std::to_string(want_len) + " int32 values, got " +
           std::to_string(a.ElementLength()));
    return want_len == 0 ? nullptr : a.Data();
  }
  int64_t len(size_t i, const char* name) const { return (int64_t)f32array(i, name).ElementLength(); }

  double num(size_t i, const char* name) const {
    Napi::Value v = info_[i];
    if (!v.IsNumber()) fail(std::string(name) + " must be a number, got " + describe(v));
    return v.As<Napi::Number>().DoubleValue();
  }
  // A number that stays finite once rounded to float32 (the kernels' type),
  // inside [lo, hi] (open at hi when hi_open).
  double finite32(size_t i, const char* name, double lo = -HUGE_VAL, double hi = HUGE_VAL,
                  bool hi_open = false) const {
    double d = num(i, name);
    if (!std::isfinite(d) || !std::isfinite((float)d))
      fail(std::string(name) + " must be finite in float32 (|x| <= 3.4028234663852886e38), got " + show(d));
    if (d < lo || d > hi || (hi_open && (d >= hi || (float)d >= (float)hi)))
      fail(std::string(name) + " must be in [" + show(lo) + ", " + show(hi) + (hi_open ? ")" : "]") + ", got " +
           show(d));
    return d;
  }
  // Refuses an output that overlaps another argument; same_ok allows the very
  // same array (same start and length) for kernels documented in place.
  void apart(const char* out_name, const void* out, int64_t out_bytes, const char* in_name, const void* in,
             int64_t in_bytes, bool same_ok = false) const {
    if (!out || !in || out_bytes <= 0 || in_bytes <= 0) return;
    const auto o0 = (uintptr_t)out, o1 = o0 + (uintptr_t)out_bytes;
    const auto i0 = (uintptr_t)in, i1 = i0 + (uintptr_t)in_bytes;
    if (std::max(o0, i0) >= std::min(o1, i1)) return;
    if (same_ok && o0 == i0 && o1 == i1) return;
    fail(std::string(out_name) + " overlaps " + in_name + " (" + std::to_string(std::min(o1, i1) - std::max(o0, i0)) +
         " bytes in common); " +
         (same_ok ? std::string(out_name) + " may be " + in_name + " itself but must not partly overlap it"
                  : std::string("the output must not alias the input")));
  }
  // The shortest text that reads back as d (as JavaScript prints numbers).
  static std::string show(double d) {
    char buf[32];
    for (int prec = 1; prec <= 17; ++prec) {
      std::snprintf(buf, sizeof buf, "%.*g", prec, d);
      if (std::strtod(buf, nullptr) == d || d != d) break;
    }
    return buf;
  }
  int64_t dim(size_t i, const char* name) const {
    double d = num(i, name);
    if (!(d >= 0) || d != std::floor(d) || d > 9007199254740991.0)
      fail(std::string(name) + " must be a non-negative integer, got " + std::to_string(d));
    return (int64_t)d;
  }
  bool flag(size_t i, const char* name) const {
    Napi::Value v = info_[i];
    if (!v.IsBoolean()) fail(std::string(name) + " must be a boolean, got " + describe(v));
    return v.As<Napi::Boolean>().Value();
  }
  uint64_t u64(size_t i, const char* name) const {
    Napi::Value v = info_[i];
    if (!v.IsBigInt()) fail(std::string(name) + " must be a bigint, got " + describe(v));
    bool lossless = false;
    uint64_t r = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) fail(std::string(name) + " must fit in 64 unsigned bits");
    return r;
  }
  int32_t enumv(size_t i, const char* name, int32_t count) const {
    int64_t d = dim(i, name);
    if (d >= count) fail(std::string(name) + " out of range: " + std::to_string(d));
    return (int32_t)d;
  }
  // An array of non-negative integers (a shape or a stride list).
  std::vector<int64_t> ints(size_t i, const char* name, size_t max_len) const {
    Napi::Value v = info_[i];
    if (!v.IsArray()) fail(std::string(name) + " must be an array of integers, got " + describe(v));
    Napi::Array a = v.As<Napi::Array>();
    if (a.Length() > max_len)
      fail(std::string(name) + " has " + std::to_string(a.Length()) + " entries, at most " +
           std::to_string(max_len) + " supported");
    std::vector<int64_t> out(a.Length());
    for (uint32_t k = 0; k < a.Length(); ++k) {
      Napi::Value e = a.Get(k);
      double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
      if (!(d >= 0) || d != std::floor(d) || d > 9007199254740991.0)
        fail(std::string(name) + "[" + std::to_string(k) + "] must be a non-negative integer");
      out[k] = (int64_t)d;
    }
    return out;
  }

  static std::string describe(const Napi::Value& v) {
    if (v.IsUndefined()) return "undefined";
    if (v.IsNull()) return "null";
    if (v.IsTypedArray()) {
      switch (v.As<Napi::TypedArray>().TypedArrayType()) {
        case napi_float32_array: return "Float32Array";
        case napi_float64_array: return "Float64Array";
        case napi_int32_array: return "Int32Array";
        case napi_uint8_array: return "Uint8Array";
        default: return "another TypedArray";
      }
    }
    if (v.IsArray()) return "Array";
    if (v.IsNumber()) return "number";
    if (v.IsString()) return "string";
    if (v.IsBoolean()) return "boolean";
    if (v.IsBigInt()) return "bigint";
    return "object";
  }

 private:
  const Napi::CallbackInfo& info_;
  const char* op_;
};

// Product of a shape with overflow checking (returns -1 on overflow).
inline int64_t shape_size(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d != 0 && n > INT64_C(9007199254740991) / d) return -1;
    n *= d;
  }
  return n;
}

}  // namespace fathom::binding
