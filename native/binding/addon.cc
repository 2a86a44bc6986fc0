// fathom's Node binding: the only file family that includes napi.h. Each
// function converts and validates its arguments, then calls one kernel entry
// point in native/kernels/ops.h. No math lives here.
//
// Memory: JS owns every tensor (Float32Array / Int32Array); native code only
// borrows the pointers for the length of a call (or, for async calls, holds a
// reference to the arrays until the work completes).
#include <napi.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "args.h"
#include "cpu/cpu.h"
#include "kernels/dispatch.h"
#include "kernels/kernels.h"
#include "kernels/ops.h"
#include "kernels/conv.h" 
#include "runtime/pool.h"

namespace fathom::binding {
namespace {

using Info = const Napi::CallbackInfo&;

Napi::Value Undefined(Info info) { return info.Env().Undefined(); }

// sum((shape[d] - 1) * stride[d]): the largest element index a strided walk
// over `shape` reaches; fails (instead of wrapping) when it overflows int64.
int64_t max_index(const Args& a, const std::vector<int64_t>& shape, const std::vector<int64_t>& stride,
                  const char* name) {
  int64_t m = 0;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return 0;  // an empty walk reads nothing
    const int64_t k = shape[d] - 1;  // shape and strides are non-negative (Args::ints)
    if (k > 0 && stride[d] > (INT64_MAX - m) / k)
      a.fail(std::string(name) + " reach past any addressable index");
    m += k * stride[d];
  }
  return m;
}

// ---- async GEMM: runs on a libuv worker thread, the event loop stays free ----
// The operands are copied into native buffers on the JS thread and the result
// is copied back in OnOK (on the JS thread again), so JS may detach or
// transfer its arrays while the job runs without native code touching freed
// memory: a detached output rejects the promise instead.
struct GemmBaton {
  bool transA, transB;
  int64_t m, n, k;
  float alpha, beta;
  const float* a;
  const float* b;
  float* c;
};

class GemmWorker : public Napi::AsyncWorker {
 public:
  GemmWorker(Napi::Env env, const GemmBaton& g, Napi::Float32Array c)
      : Napi::AsyncWorker(env, "fathom:gemm"),
        deferred_(Napi::Promise::Deferred::New(env)),
        g_(g),
        a_(g.a, g.a + g.m * g.k),
        b_(g.b, g.b + g.k * g.n),
        c_(g.beta != 0.0f ? std::vector<float>(g.c, g.c + g.m * g.n) : std::vector<float>((size_t)(g.m * g.n))),
        cref_(Napi::Persistent(c)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {  // libuv thread: native buffers only
    ops::gemm(g_.transA, g_.transB, g_.m, g_.n, g_.k, g_.alpha, a_.data(), g_.transA ? g_.m : g_.k,
              b_.data(), g_.transB ? g_.k : g_.n, g_.beta, c_.data(), g_.n);
  }
  void OnOK() override {
    Napi::Float32Array c = cref_.Value();
    if ((int64_t)c.ElementLength() != g_.m * g_.n) {
      deferred_.Reject(Napi::Error::New(Env(), "fathom.gemmAsync: c was detached or resized while the job ran").Value());
      return;
    }
    if (!c_.empty()) std::memcpy(c.Data(), c_.data(), c_.size() * sizeof(float));
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  GemmBaton g_;
  std::vector<float> a_, b_, c_;
  Napi::Reference<Napi::Float32Array> cref_;
};

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {
        InstanceMethod("info", &Addon::InfoFn),
        InstanceMethod("setNumThreads", &Addon::SetNumThreads),
        InstanceMethod("unaryOpNames", &Addon::UnaryOpNames),
        InstanceMethod("unary", &Addon::UnaryFn),
        InstanceMethod("unaryBackward", &Addon::UnaryBackward),
        InstanceMethod("binary", &Addon::BinaryFn),
        InstanceMethod("binaryBroadcast", &Addon::BinaryBroadcast),
        InstanceMethod("reduce", &Addon::ReduceFn),
        InstanceMethod("softmax", &Addon::Softmax),
        InstanceMethod("softmaxBackward", &Addon::SoftmaxBackward),
        InstanceMethod("xentLabels", &Addon::XentLabels),
        InstanceMethod("xentLabelsBackward", &Addon::XentLabelsBackward),
        InstanceMethod("xentProbs", &Addon::XentProbs),
        InstanceMethod("xentProbsBackward", &Addon::XentProbsBackward),
        InstanceMethod("mse", &Addon::Mse),
        InstanceMethod("mseBackward", &Addon::MseBackward),
        InstanceMethod("transpose2d", &Addon::Transpose2d),
        InstanceMethod("argmax", &Addon::Argmax),
        InstanceMethod("fill", &Addon::Fill),
        InstanceMethod("copy", &Addon::Copy),
        InstanceMethod("randUniform", &Addon::RandUniform),
        InstanceMethod("randNormal", &Addon::RandNormal),
        InstanceMethod("gemm", &Addon::Gemm),
        InstanceMethod("gemmAsync", &Addon::GemmAsync),
        InstanceMethod("maxout", &Addon::Maxout),
        InstanceMethod("maxoutBackward", &Addon::MaxoutBackward),
        InstanceMethod("biasAct", &Addon::BiasAct),
        InstanceMethod("biasActBackward", &Addon::BiasActBackward),
        InstanceMethod("sgdStep", &Addon::SgdStep),
        InstanceMethod("optimStep", &Addon::OptimStep),
        InstanceMethod("dropout", &Addon::Dropout),
        // normalisation
        InstanceMethod("batchNormStats", &Addon::BatchNormStats),
        InstanceMethod("batchNormForward", &Addon::BatchNormForward),
        InstanceMethod("batchNormBackward", &Addon::BatchNormBackward),
        InstanceMethod("layerNormForward", &Addon::LayerNormForward),
        InstanceMethod("layerNormBackward", &Addon::LayerNormBackward),
        // ---- conv ----
        InstanceMethod("conv2d", &Addon::Conv2d),
        InstanceMethod("conv2dBackwardData", &Addon::Conv2dBackwardData),
        InstanceMethod("conv2dBackwardWeight", &Addon::Conv2dBackwardWeight),
        // ---- pooling ----
        InstanceMethod("maxPool2d", &Addon::MaxPool2d),
        InstanceMethod("maxPool2dBackward", &Addon::MaxPool2dBackward),
        InstanceMethod("avgPool2d", &Addon::AvgPool2d),
        InstanceMethod("avgPool2dBackward", &Addon::AvgPool2dBackward),
        InstanceMethod("adaptiveAvgPool2d", &Addon::AdaptiveAvgPool2d),
        InstanceMethod("adaptiveAvgPool2dBackward", &Addon::AdaptiveAvgPool2dBackward),
        // ---- end pooling ----
    });
  }

 private:
  Napi::Value InfoFn(Info info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("isa", active().isa);
    o.Set("isaError", active_isa_error());
    o.Set("threads", num_threads());
    o.Set("maxThreads", max_threads());
    Napi::Array isas = Napi::Array::New(env);
    uint32_t k = 0;
    for (const char* name : {"scalar", "avx2", "avx512", "neon"})
      if (table_by_name(name)) isas.Set(k++, name);
    o.Set("isas", isas);
    const CpuFeatures& f = cpu_features();
    Napi::Object cpu = Napi::Object::New(env);
    cpu.Set("avx2", f.avx2_fma);
    cpu.Set("avx512", f.avx512);
    cpu.Set("neon", f.neon);
    o.Set("cpu", cpu);
    return o;
  }

  Napi::Value SetNumThreads(Info info) {
    Args a(info, "setNumThreads", 1);
    int64_t n = a.dim(0, "threads");
    if (n < 1) a.fail("threads must be >= 1, got 0");
    set_num_threads((int)std::min<int64_t>(n, 1 << 16));
    return Napi::Number::New(info.Env(), num_threads());
  }

  // unaryOpNames(): the op list's names in id order (unary_ops.h), so the TS
  // table can check it agrees.
  Napi::Value UnaryOpNames(Info info) {
    Napi::Array names = Napi::Array::New(info.Env(), (size_t)Unary::Count);
    for (int32_t i = 0; i < (int32_t)Unary::Count; ++i) names.Set((uint32_t)i, unary_name((Unary)i));
    return names;
  }

  // unary(op, x, y, p, q)
  Napi::Value UnaryFn(Info info) {
    Args a(info, "unary", 5);
    auto op = (Unary)a.enumv(0, "op", (int32_t)Unary::Count);
    int64_t n = a.len(1, "x");
    const float* x = a.f32(1, "x", n);
    float* y = a.f32(2, "y", n);
    a.apart("y", y, 4 * n, "x", x, 4 * n, true);
    ops::unary(op, n, x, y, (float)a.finite32(3, "p"), (float)a.finite32(4, "q"));
    return Undefined(info);
  }

  // unaryBackward(op, x, y, dy, dx, p, q)
  Napi::Value UnaryBackward(Info info) {
    Args a(info, "unaryBackward", 7);
    auto op = (Unary)a.enumv(0, "op", (int32_t)Unary::Count);
    int64_t n = a.len(1, "x");
    const float *x = a.f32(1, "x", n), *y = a.f32(2, "y", n), *dy = a.f32(3, "dy", n);
    float* dx = a.f32(4, "dx", n);
    a.apart("dx", dx, 4 * n, "x", x, 4 * n, true);
    a.apart("dx", dx, 4 * n, "y", y, 4 * n, true);
    a.apart("dx", dx, 4 * n, "dy", dy, 4 * n, true);
    ops::unary_bwd(op, n, x, y, dy, dx, (float)a.finite32(5, "p"), (float)a.finite32(6, "q"));
    return Undefined(info);
  }

  // binary(op, a, b, out)
  Napi::Value BinaryFn(Info info) {
    Args a(info, "binary", 4);
    auto op = (Binary)a.enumv(0, "op", (int32_t)Binary::Count);
    int64_t n = a.len(1, "a");
    const float *x = a.f32(1, "a", n), *y = a.f32(2, "b", n);
    float* out = a.f32(3, "out", n);
    a.apart("out", out, 4 * n, "a", x, 4 * n, true);
    a.apart("out", out, 4 * n, "b", y, 4 * n, true);
    ops::binary(op, n, x, y, out);
    return Undefined(info);
  }

  // binaryBroadcast(op, shape, a, aStrides, b, bStrides, out)
  Napi::Value BinaryBroadcast(Info info) {
    Args a(info, "binaryBroadcast", 7);
    auto op = (Binary)a.enumv(0, "op", (int32_t)Binary::Count);
    std::vector<int64_t> shape = a.ints(1, "shape", kMaxDims);
    std::vector<int64_t> as = a.ints(3, "aStrides", kMaxDims), bs = a.ints(5, "bStrides", kMaxDims);
    if (as.size() != shape.size() || bs.size() != shape.size())
      a.fail("shape, aStrides and bStrides must have the same length, got " + std::to_string(shape.size()) +
             ", " + std::to_string(as.size()) + ", " + std::to_string(bs.size()));
    int64_t n = shape_size(shape);
    if (n < 0) a.fail("shape is too large");
    // The largest index each operand can be read at must lie inside it
    // (computed with overflow checks: huge strides must not wrap around).
    int64_t alen = a.len(2, "a"), blen = a.len(4, "b");
    int64_t amax = max_index(a, shape, as, "aStrides"), bmax = max_index(a, shape, bs, "bStrides");
    if (n > 0 && (amax >= alen || bmax >= blen))
      a.fail("strides reach past the operands: a needs " + std::to_string(amax + 1) + " values (has " +
             std::to_string(alen) + "), b needs " + std::to_string(bmax + 1) + " (has " +
             std::to_string(blen) + ")");
    const float *x = a.f32(2, "a", alen), *y = a.f32(4, "b", blen);
    float* out = a.f32(6, "out", n);
    // In place only where the operand is read exactly as out is written (contiguous strides).
    auto contiguous = [&](const std::vector<int64_t>& s) {
      int64_t st = 1;
      for (size_t d = shape.size(); d-- > 0;) {
        if (shape[d] != 1 && s[d] != st) return false;
        st *= shape[d];
      }
      return true;
    };
    a.apart("out", out, 4 * n, "a", x, 4 * alen, contiguous(as));
    a.apart("out", out, 4 * n, "b", y, 4 * blen, contiguous(bs));
    if (n == 0) return Undefined(info);  // nothing to write, however large the other dims
    ops::binary_bcast(op, (int)shape.size(), shape.data(), x, as.data(), y, bs.data(), out);
    return Undefined(info);
  }

  // reduce(op, shape, x, outStrides, out)
  Napi::Value ReduceFn(Info info) {
    Args a(info, "reduce", 5);
    auto op = (Reduce)a.enumv(0, "op", (int32_t)Reduce::Count);
    std::vector<int64_t> shape = a.ints(1, "shape", kMaxDims), os = a.ints(3, "outStrides", kMaxDims);
    if (os.size() != shape.size())
      a.fail("outStrides must have " + std::to_string(shape.size()) + " entries, got " + std::to_string(os.size()));
    int64_t n = shape_size(shape);
    if (n < 0) a.fail("shape is too large");
    int64_t omax = max_index(a, shape, os, "outStrides");
    int64_t out_n = a.len(4, "out");
    // out holds exactly what the walk reaches (mean divides by in_n / out_n).
    if (n > 0 && omax + 1 != out_n)
      a.fail("outStrides reach index " + std::to_string(omax) + ", so out must hold " + std::to_string(omax + 1) +
             " values, got " + std::to_string(out_n));
    const float* x = a.f32(2, "x", n);
    float* out = a.f32(4, "out", out_n);
    a.apart("out", out, 4 * out_n, "x", x, 4 * n);
    if (n == 0) {  // an empty input only initialises out: walk a shape with nothing in it
      const int64_t zero = 0;
      ops::reduce(op, 1, &zero, x, &zero, out, out_n);
    } else {
      ops::reduce(op, (int)shape.size(), shape.data(), x, os.data(), out, out_n);
    }
    return Undefined(info);
  }

  // Rows of a (n x d) matrix.
  struct Rows {
    int64_t n, d;
  };
  static Rows rows(const Args& a, const char* what) {
    Rows r{a.dim(0, "n"), a.dim(1, "d")};
    if (r.d != 0 && r.n > INT64_C(9007199254740991) / r.d) a.fail(std::string(what) + ": n*d overflows");
    return r;
  }

  // n groups of k values: k >= 1 when n > 0, n*k representable.
  static Rows groups(const Args& a, const char* what) {
    Rows r{a.dim(0, "n"), a.dim(1, "k")};
    if (r.n > 0 && r.d == 0) a.fail("k must be >= 1 when n > 0, got 0");
    if (r.d != 0 && r.n > INT64_C(9007199254740991) / r.d) a.fail(std::string(what) + ": n*k overflows");
    return r;
  }

  // maxout(n, k, x, y): n groups of k
  Napi::Value Maxout(Info info) {
    Args a(info, "maxout", 4);
    const Rows r = groups(a, "maxout");
    const int64_t nk = r.n * r.d;
    const float* x = a.f32(2, "x", nk);
    float* y = a.f32(3, "y", r.n);
    a.apart("y", y, 4 * r.n, "x", x, 4 * nk);
    if (r.n == 0) return Undefined(info);
    ops::maxout(r.n, r.d, x, y);
    return Undefined(info);
  }
  // maxoutBackward(n, k, x, dy, dx)
  Napi::Value MaxoutBackward(Info info) {
    Args a(info, "maxoutBackward", 5);
    const Rows r = groups(a, "maxoutBackward");
    const int64_t nk = r.n * r.d;
    const float* x = a.f32(2, "x", nk);
    const float* dy = a.f32(3, "dy", r.n);
    float* dx = a.f32(4, "dx", nk);
    a.apart("dx", dx, 4 * nk, "x", x, 4 * nk);
    a.apart("dx", dx, 4 * nk, "dy", dy, 4 * r.n);
    if (r.n == 0) return Undefined(info);
    ops::maxout_bwd(r.n, r.d, x, dy, dx);
    return Undefined(info);
  }

  // softmax(n, d, x, y, log)
  Napi::Value Softmax(Info info) {
    Args a(info, "softmax", 5);
    Rows r = rows(a, "softmax");
    const int64_t nd = r.n * r.d;
    const float* x = a.f32(2, "x", nd);
    float* y = a.f32(3, "y", nd);
    const bool log = a.flag(4, "log");
    a.apart("y", y, 4 * nd, "x", x, 4 * nd);
    if (nd == 0) return Undefined(info);  // empty rows: nothing to write, no loop over n
    ops::softmax(r.n, r.d, x, y, log);
    return Undefined(info);
  }
  // softmaxBackward(n, d, y, dy, dx, log)
  Napi::Value SoftmaxBackward(Info info) {
    Args a(info, "softmaxBackward", 6);
    Rows r = rows(a, "softmaxBackward");
    int64_t nd = r.n * r.d;
    const float *y = a.f32(2, "y", nd), *dy = a.f32(3, "dy", nd);
    float* dx = a.f32(4, "dx", nd);
    const bool log = a.flag(5, "log");
    a.apart("dx", dx, 4 * nd, "y", y, 4 * nd);
    a.apart("dx", dx, 4 * nd, "dy", dy, 4 * nd);
    if (nd == 0) return Undefined(info);
    ops::softmax_bwd(r.n, r.d, y, dy, dx, log);
    return Undefined(info);
  }

  static const int32_t* labels(const Args& a, size_t i, Rows r) {
    const int32_t* l = a.i32(i, "labels", r.n);
    for (int64_t k = 0; k < r.n; ++k)
      if (l[k] < 0 || l[k] >= r.d)
        a.fail("labels[" + std::to_string(k) + "] = " + std::to_string(l[k]) + " is outside [0, " +
               std::to_string(r.d) + ")");
    return l;
  }

  // xentLabels(n, d, logits, labels, prob) -> mean loss
  Napi::Value XentLabels(Info info) {
    Args a(info, "xentLabels", 5);
    Rows r = rows(a, "xentLabels");
    if (r.n > 0 && r.d == 0) a.fail("d must be > 0");
    const int64_t nd = r.n * r.d;
    const float* logits = a.f32(2, "logits", nd);
    const int32_t* l = labels(a, 3, r);
    float* prob = a.f32(4, "prob", nd);
    a.apart("prob", prob, 4 * nd, "logits", logits, 4 * nd);
    a.apart("prob", prob, 4 * nd, "labels", l, 4 * r.n);
    double loss = ops::xent_labels(r.n, r.d, logits, l, prob);
    return Napi::Number::New(info.Env(), loss);
  }
  // xentLabelsBackward(n, d, prob, labels, g, dlogits)
  Napi::Value XentLabelsBackward(Info info) {
    Args a(info, "xentLabelsBackward", 6);
    Rows r = rows(a, "xentLabelsBackward");
    const int64_t nd = r.n * r.d;
    const float* prob = a.f32(2, "prob", nd);
    const int32_t* l = labels(a, 3, r);
    const float g = (float)a.finite32(4, "g");
    float* dl = a.f32(5, "dlogits", nd);
    a.apart("dlogits", dl, 4 * nd, "prob", prob, 4 * nd);
    a.apart("dlogits", dl, 4 * nd, "labels", l, 4 * r.n);
    if (nd == 0) return Undefined(info);
    ops::xent_labels_bwd(r.n, r.d, prob, l, g, dl);
    return Undefined(info);
  }
  // xentProbs(n, d, logits, target, prob) -> mean loss
  Napi::Value XentProbs(Info info) {
    Args a(info, "xentProbs", 5);
    Rows r = rows(a, "xentProbs");
    if (r.n > 0 && r.d == 0) a.fail("d must be > 0");
    int64_t nd = r.n * r.d;
    const float *logits = a.f32(2, "logits", nd), *target = a.f32(3, "target", nd);
    float* prob = a.f32(4, "prob", nd);
    a.apart("prob", prob, 4 * nd, "logits", logits, 4 * nd);
    a.apart("prob", prob, 4 * nd, "target", target, 4 * nd);
    double loss = ops::xent_probs(r.n, r.d, logits, target, prob);
    return Napi::Number::New(info.Env(), loss);
  }
  // xentProbsBackward(n, d, prob, target, g, dlogits)
  Napi::Value XentProbsBackward(Info info) {
    Args a(info, "xentProbsBackward", 6);
    Rows r = rows(a, "xentProbsBackward");
    int64_t nd = r.n * r.d;
    const float *prob = a.f32(2, "prob", nd), *target = a.f32(3, "target", nd);
    const float g = (float)a.finite32(4, "g");
    float* dl = a.f32(5, "dlogits", nd);
    a.apart("dlogits", dl, 4 * nd, "prob", prob, 4 * nd);
    a.apart("dlogits", dl, 4 * nd, "target", target, 4 * nd);
    if (nd == 0) return Undefined(info);
    ops::xent_probs_bwd(r.n, r.d, prob, target, g, dl);
    return Undefined(info);
  }
  // mse(a, b) -> mean squared error
  Napi::Value Mse(Info info) {
    Args a(info, "mse", 2);
    int64_t n = a.len(0, "a");
    return Napi::Number::New(info.Env(), ops::mse(n, a.f32(0, "a", n), a.f32(1, "b", n)));
  }
  // mseBackward(a, b, g, da)
  Napi::Value MseBackward(Info info) {
    Args a(info, "mseBackward", 4);
    int64_t n = a.len(0, "a");
    const float *x = a.f32(0, "a", n), *y = a.f32(1, "b", n);
    const float g = (float)a.finite32(2, "g");
    float* da = a.f32(3, "da", n);
    a.apart("da", da, 4 * n, "a", x, 4 * n, true);
    a.apart("da", da, 4 * n, "b", y, 4 * n, true);
    ops::mse_bwd(n, x, y, g, da);
    return Undefined(info);
  }

  // transpose2d(n, d, x, y)
  Napi::Value Transpose2d(Info info) {
    Args a(info, "transpose2d", 4);
    Rows r = rows(a, "transpose2d");
    const int64_t nd = r.n * r.d;
    const float* x = a.f32(2, "x", nd);
    float* y = a.f32(3, "y", nd);
    a.apart("y", y, 4 * nd, "x", x, 4 * nd);
    if (nd == 0) return Undefined(info);
    ops::transpose2d(r.n, r.d, x, y);
    return Undefined(info);
  }
  // argmax(n, d, x, out)
  Napi::Value Argmax(Info info) {
    Args a(info, "argmax", 4);
    Rows r = rows(a, "argmax");
    if (r.n > 0 && r.d == 0) a.fail("d must be > 0 when n > 0 (an empty row has no maximum)");
    if (r.d > INT32_MAX) a.fail("d must be at most 2^31 - 1 (indices are int32)");
    const int64_t nd = r.n * r.d;
    const float* x = a.f32(2, "x", nd);
    int32_t* out = a.i32(3, "out", r.n);
    a.apart("out", out, 4 * r.n, "x", x, 4 * nd);
    ops::argmax(r.n, r.d, x, out);
    return Undefined(info);
  }
  // fill(y, value)
  Napi::Value Fill(Info info) {
    Args a(info, "fill", 2);
    int64_t n = a.len(0, "y");
    const double v = a.num(1, "value");
    if (std::isfinite(v) && !std::isfinite((float)v))
      a.fail("value " + Args::show(v) + " is finite but overflows float32; pass +-Infinity explicitly if meant");
    ops::fill(n, (float)v, a.f32(0, "y", n));
    return Undefined(info);
  }
  // copy(x, y)
  Napi::Value Copy(Info info) {
    Args a(info, "copy", 2);
    int64_t n = a.len(0, "x");
    const float* x = a.f32(0, "x", n);
    float* y = a.f32(1, "y", n);
    a.apart("y", y, 4 * n, "x", x, 4 * n, true);
    ops::copy(n, x, y);
    return Undefined(info);
  }
  // randUniform(y, seed, offset, lo, hi)
  Napi::Value RandUniform(Info info) {
    Args a(info, "randUniform", 5);
    int64_t n = a.len(0, "y");
    const float lo = (float)a.finite32(3, "lo"), hi = (float)a.finite32(4, "hi");
    if (lo > hi) a.fail("lo must be <= hi, got lo = " + Args::show(lo) + ", hi = " + Args::show(hi));
    // hi - lo may exceed FLT_MAX: the kernel works in double and y stays in [lo, hi].
    ops::rand_uniform(n, a.u64(1, "seed"), a.u64(2, "offset"), lo, hi, a.f32(0, "y", n));
    return Undefined(info);
  }
  // randNormal(y, seed, offset, mean, std)
  Napi::Value RandNormal(Info info) {
    Args a(info, "randNormal", 5);
    int64_t n = a.len(0, "y");
    const float mean = (float)a.finite32(3, "mean"), sd = (float)a.finite32(4, "std", 0.0);
    // |z| of Box-Muller on 24-bit uniforms stays below sqrt(-2 ln 2^-24) < 5.77.
    if (std::fabs((double)mean) + 5.77 * (double)sd > (double)FLT_MAX)
      a.fail("mean +- 5.77 std overflows float32 (mean = " + Args::show(mean) + ", std = " + Args::show(sd) + ")");
    ops::rand_normal(n, a.u64(1, "seed"), a.u64(2, "offset"), mean, sd, a.f32(0, "y", n));
    return Undefined(info);
  }

  // dropout(x, y, mask, seed, offset, p, scale)
  // ---- conv ------------------------------------------------------
  // geom: Int32Array(16) = n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, groups, oh, ow
  // (kernels/conv.h). Re-checked here: everything that sizes a buffer or an index.
  struct ConvSizes {
    ConvGeom g;
    int64_t x, w, y;
  };
  static ConvSizes conv_geom(const Args& a) {
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

  Napi::Value Dropout(Info info) {
    Args a(info, "dropout", 7);
    int64_t n = a.len(0, "x");
    const float* x = a.f32(0, "x", n);
    float* y = a.f32(1, "y", n);
    float* mask = a.f32(2, "mask", n);
    a.apart("y", y, 4 * n, "x", x, 4 * n, true);
    a.apart("mask", mask, 4 * n, "x", x, 4 * n);
    a.apart("mask", mask, 4 * n, "y", y, 4 * n);
    const uint64_t seed = a.u64(3, "seed"), offset = a.u64(4, "offset");
    const double p = a.num(5, "p");
    if (!(p >= 0.0 && p <= 1.0)) a.fail("p must be in [0, 1], got " + Args::show(p));
    const float scale = (float)a.finite32(6, "scale");
    ops::dropout(n, seed, offset, p, scale, x, y, mask);
    return Undefined(info);
  }

  static GemmBaton gemm_args(const Args& a, Napi::Float32Array* A, Napi::Float32Array* B, Napi::Float32Array* C) {
    GemmBaton g{};
    g.transA = a.flag(0, "transA");
    g.transB = a.flag(1, "transB");
    g.m = a.dim(2, "m");
    g.n = a.dim(3, "n");
    g.k = a.dim(4, "k");
    const int64_t lim = INT64_C(1) << 40;
    if (g.m > lim || g.n > lim || g.k > lim || (g.m && g.k > lim / g.m) || (g.k && g.n > lim / g.k) ||
        (g.m && g.n > lim / g.m))
      a.fail("matrix too large");
    g.alpha = (float)a.finite32(5, "alpha");
    g.beta = (float)a.finite32(8, "beta");
    g.a = a.f32(6, "a", g.m * g.k);
    g.b = a.f32(7, "b", g.k * g.n);
    g.c = a.f32(9, "c", g.m * g.n);
    a.apart("c", g.c, 4 * g.m * g.n, "a", g.a, 4 * g.m * g.k);
    a.apart("c", g.c, 4 * g.m * g.n, "b", g.b, 4 * g.k * g.n);
    *A = a.f32array(6, "a");
    *B = a.f32array(7, "b");
    *C = a.f32array(9, "c");
    return g;
  }

  // gemm(transA, transB, m, n, k, alpha, a, b, beta, c)
  Napi::Value Gemm(Info info) {
    Args a(info, "gemm", 10);
    Napi::Float32Array A, B, C;
    GemmBaton g = gemm_args(a, &A, &B, &C);
    if (g.m == 0 || g.n == 0) return Undefined(info);  // C is empty
    ops::gemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.transA ? g.m : g.k, g.b,
              g.transB ? g.k : g.n, g.beta, g.c, g.n);
    return Undefined(info);
  }
  // gemmAsync(...same...) -> Promise<void>: runs on a libuv thread on copies of the operands.
  Napi::Value GemmAsync(Info info) {
    Args a(info, "gemmAsync", 10);
    Napi::Float32Array A, B, C;
    GemmBaton g = gemm_args(a, &A, &B, &C);
    auto* w = new GemmWorker(info.Env(), g, C);
    Napi::Promise p = w->Promise();
    w->Queue();  // deletes itself after OnOK / OnError
    return p;
  }

  // biasAct(n, d, y, bias | null, act): y = act(y + bias) in place
  Napi::Value BiasAct(Info info) {
    Args a(info, "biasAct", 5);
    Rows r = rows(a, "biasAct");
    const int64_t nd = r.n * r.d;
    float* y = a.f32(2, "y", nd);
    const float* bias = a.f32_or_null(3, "bias", r.d);
    const Act act = (Act)a.enumv(4, "act", (int32_t)Act::Count);
    a.apart("y", y, 4 * nd, "bias", bias, 4 * r.d);
    if (nd == 0) return Undefined(info);
    ops::bias_act(r.n, r.d, y, bias, act);
    return Undefined(info);
  }
  // biasActBackward(n, d, y, dy, dz, dbias | null, act)
  Napi::Value BiasActBackward(Info info) {
    Args a(info, "biasActBackward", 7);
    Rows r = rows(a, "biasActBackward");
    int64_t nd = r.n * r.d;
    const float *y = a.f32(2, "y", nd), *dy = a.f32(3, "dy", nd);
    float* dz = a.f32(4, "dz", nd);
    float* dbias = a.f32_or_null(5, "dbias", r.d);
    const Act act = (Act)a.enumv(6, "act", (int32_t)Act::Count);
    a.apart("dz", dz, 4 * nd, "y", y, 4 * nd);
    a.apart("dz", dz, 4 * nd, "dy", dy, 4 * nd, true);
    a.apart("dbias", dbias, 4 * r.d, "y", y, 4 * nd);
    a.apart("dbias", dbias, 4 * r.d, "dy", dy, 4 * nd);
    a.apart("dbias", dbias, 4 * r.d, "dz", dz, 4 * nd);
    if (r.d == 0) return Undefined(info);  // nothing to write, no loop over n
    ops::bias_act_bwd(r.n, r.d, y, dy, dz, dbias, act);
    return Undefined(info);
  }

  // ---- normalisation ----
  // x viewed as [n, c, s]: sizes with n*c*s representable; `per_channel` (batch
  // statistics divide by n*s) refuses n*s = 0 when c > 0.
  struct Chan {
    int64_t n, c, s, ns, ncs;
  };
  static Chan chan(const Args& a, bool per_channel) {
    Chan r{a.dim(0, "n"), a.dim(1, "c"), a.dim(2, "s"), 0, 0};
    const int64_t kMax = INT64_C(9007199254740991);
    if (r.s != 0 && r.n > kMax / r.s) a.fail("n*s overflows");
    r.ns = r.n * r.s;
    if (r.c != 0 && r.ns > kMax / r.c) a.fail("n*c*s overflows");
    r.ncs = r.ns * r.c;
    if (per_channel && r.c > 0 && r.ns == 0) a.fail("the batch statistics need n*s >= 1 value per channel");
    return r;
  }
  static float pos_eps(const Args& a, size_t i) {
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
  static Rows norm_rows(const Args& a) {
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
  // ---- end normalisation ----

  // sgdStep(w, g, v, lr, momentum, dampening, weightDecay, nesterov, first)
  Napi::Value SgdStep(Info info) {
    Args a(info, "sgdStep", 9);
    int64_t n = a.len(0, "w");
    float* w = a.f32(0, "w", n);
    const float* g = a.f32(1, "g", n);
    float* v = a.f32(2, "v", n);
    a.apart("w", w, 4 * n, "g", g, 4 * n);
    a.apart("w", w, 4 * n, "v", v, 4 * n);
    a.apart("v", v, 4 * n, "g", g, 4 * n);
    const float lr = (float)a.finite32(3, "lr", 0.0), momentum = (float)a.finite32(4, "momentum", 0.0);
    const float dampening = (float)a.finite32(5, "dampening", 0.0, 1.0);
    const float wd = (float)a.finite32(6, "weightDecay", 0.0);
    const bool nesterov = a.flag(7, "nesterov");
    if (nesterov && (momentum <= 0 || dampening != 0)) a.fail("nesterov needs momentum > 0 and dampening = 0");
    ops::sgd_step(n, w, g, v, lr, momentum, dampening, wd, nesterov, a.flag(8, "first"));
    return Undefined(info);
  }
  // optimStep(kind, w, g, s0, s1, s2, step, lr, weightDecay, eps, beta1, beta2, alpha, rho,
  //           momentum, lrDecay, decoupled, amsgrad, centered)
  // kernels.h (Optim, OptimHyper): every number is checked whatever the kind (unused ones
  // come as 0); the state buffers the kind uses under these values must be given.
  Napi::Value OptimStep(Info info) {
    Args a(info, "optimStep", 19);
    const Optim kind = (Optim)a.enumv(0, "kind", (int32_t)Optim::Count);
    int64_t n = a.len(1, "w");
    float* w = a.f32(1, "w", n);
    const float* g = a.f32(2, "g", n);
    static const char* const names[kOptimStates] = {"s0", "s1", "s2"};
    float* s[kOptimStates];
    for (int j = 0; j < kOptimStates; ++j) s[j] = a.f32_or_null(3 + j, names[j], n);
    OptimHyper h;
    h.step = a.dim(6, "step");
    if (h.step < 1) a.fail("step (the step count) must be >= 1, got 0");
    h.lr = (float)a.finite32(7, "lr", 0.0);
    h.weight_decay = (float)a.finite32(8, "weightDecay", 0.0);
    h.eps = (float)a.finite32(9, "eps", 0.0);
    if (!(h.eps > 0)) a.fail("eps must be > 0 in float32, got " + Args::show(a.num(9, "eps")));
    h.beta1 = (float)a.finite32(10, "beta1", 0.0, 1.0, true);
    h.beta2 = (float)a.finite32(11, "beta2", 0.0, 1.0, true);
    h.alpha = (float)a.finite32(12, "alpha", 0.0, 1.0);
    h.rho = (float)a.finite32(13, "rho", 0.0, 1.0);
    h.momentum = (float)a.finite32(14, "momentum", 0.0);
    h.lr_decay = (float)a.finite32(15, "lrDecay", 0.0);
    h.decoupled = a.flag(16, "decoupled");
    h.amsgrad = a.flag(17, "amsgrad");
    h.centered = a.flag(18, "centered");
    for (int j = 0; j < kOptimStates; ++j) {
      if (optim_uses_state(kind, h, j) && info[3 + j].IsNull()) a.fail(std::string(names[j]) + " (a state buffer this optimizer uses) must be a Float32Array, got null");
      if (!s[j]) continue;
      a.apart(names[j], s[j], 4 * n, "w", w, 4 * n);
      a.apart(names[j], s[j], 4 * n, "g", g, 4 * n);
      for (int k = 0; k < j; ++k) a.apart(names[j], s[j], 4 * n, names[k], s[k], 4 * n);
    }
    a.apart("w", w, 4 * n, "g", g, 4 * n);
    ops::optim_step(kind, n, w, g, s, h);
    return Undefined(info);
  }
  // ---- pooling ----
  // Geometry from arguments 0..count-1: nc, h, w, oh, ow[, kh, kw, sh, sw, ph, pw[, dh, dw]].
  // Every value < 2^31 (so window arithmetic never overflows int64), kernel,
  // stride, dilation >= 1, and the plane products representable. The kernels
  // only read cells inside [0, h) x [0, w), so lengths are all memory needs.
  static Pool2d pool_geom(const Args& a, int count) {
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
  // ---- end pooling ----
};

}  // namespace
}  // namespace fathom::binding

using FathomAddon = fathom::binding::Addon;
NODE_API_ADDON(FathomAddon)
