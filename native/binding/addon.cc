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
        InstanceMethod("biasAct", &Addon::BiasAct),
        InstanceMethod("biasActBackward", &Addon::BiasActBackward),
        InstanceMethod("sgdStep", &Addon::SgdStep),
        InstanceMethod("adamStep", &Addon::AdamStep),
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

  // unary(op, x, y, p)
  Napi::Value UnaryFn(Info info) {
    Args a(info, "unary", 4);
    auto op = (Unary)a.enumv(0, "op", (int32_t)Unary::Count);
    int64_t n = a.len(1, "x");
    ops::unary(op, n, a.f32(1, "x", n), a.f32(2, "y", n), (float)a.num(3, "p"));
    return Undefined(info);
  }

  // unaryBackward(op, x, y, dy, dx, p)
  Napi::Value UnaryBackward(Info info) {
    Args a(info, "unaryBackward", 6);
    auto op = (Unary)a.enumv(0, "op", (int32_t)Unary::Count);
    int64_t n = a.len(1, "x");
    ops::unary_bwd(op, n, a.f32(1, "x", n), a.f32(2, "y", n), a.f32(3, "dy", n), a.f32(4, "dx", n),
                   (float)a.num(5, "p"));
    return Undefined(info);
  }

  // binary(op, a, b, out)
  Napi::Value BinaryFn(Info info) {
    Args a(info, "binary", 4);
    auto op = (Binary)a.enumv(0, "op", (int32_t)Binary::Count);
    int64_t n = a.len(1, "a");
    ops::binary(op, n, a.f32(1, "a", n), a.f32(2, "b", n), a.f32(3, "out", n));
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
    ops::binary_bcast(op, (int)shape.size(), shape.data(), a.f32(2, "a", alen), as.data(),
                      a.f32(4, "b", blen), bs.data(), a.f32(6, "out", n));
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
    if (n > 0 && omax >= out_n)
      a.fail("outStrides reach index " + std::to_string(omax) + " but out holds " + std::to_string(out_n));
    ops::reduce(op, (int)shape.size(), shape.data(), a.f32(2, "x", n), os.data(), a.f32(4, "out", out_n), out_n);
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

  // softmax(n, d, x, y, log)
  Napi::Value Softmax(Info info) {
    Args a(info, "softmax", 5);
    Rows r = rows(a, "softmax");
    ops::softmax(r.n, r.d, a.f32(2, "x", r.n * r.d), a.f32(3, "y", r.n * r.d), a.flag(4, "log"));
    return Undefined(info);
  }
  // softmaxBackward(n, d, y, dy, dx, log)
  Napi::Value SoftmaxBackward(Info info) {
    Args a(info, "softmaxBackward", 6);
    Rows r = rows(a, "softmaxBackward");
    int64_t nd = r.n * r.d;
    ops::softmax_bwd(r.n, r.d, a.f32(2, "y", nd), a.f32(3, "dy", nd), a.f32(4, "dx", nd), a.flag(5, "log"));
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
    double loss = ops::xent_labels(r.n, r.d, a.f32(2, "logits", r.n * r.d), labels(a, 3, r),
                                   a.f32(4, "prob", r.n * r.d));
    return Napi::Number::New(info.Env(), loss);
  }
  // xentLabelsBackward(n, d, prob, labels, g, dlogits)
  Napi::Value XentLabelsBackward(Info info) {
    Args a(info, "xentLabelsBackward", 6);
    Rows r = rows(a, "xentLabelsBackward");
    ops::xent_labels_bwd(r.n, r.d, a.f32(2, "prob", r.n * r.d), labels(a, 3, r), (float)a.num(4, "g"),
                         a.f32(5, "dlogits", r.n * r.d));
    return Undefined(info);
  }
  // xentProbs(n, d, logits, target, prob) -> mean loss
  Napi::Value XentProbs(Info info) {
    Args a(info, "xentProbs", 5);
    Rows r = rows(a, "xentProbs");
    int64_t nd = r.n * r.d;
    double loss = ops::xent_probs(r.n, r.d, a.f32(2, "logits", nd), a.f32(3, "target", nd), a.f32(4, "prob", nd));
    return Napi::Number::New(info.Env(), loss);
  }
  // xentProbsBackward(n, d, prob, target, g, dlogits)
  Napi::Value XentProbsBackward(Info info) {
    Args a(info, "xentProbsBackward", 6);
    Rows r = rows(a, "xentProbsBackward");
    int64_t nd = r.n * r.d;
    ops::xent_probs_bwd(r.n, r.d, a.f32(2, "prob", nd), a.f32(3, "target", nd), (float)a.num(4, "g"),
                        a.f32(5, "dlogits", nd));
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
    ops::mse_bwd(n, a.f32(0, "a", n), a.f32(1, "b", n), (float)a.num(2, "g"), a.f32(3, "da", n));
    return Undefined(info);
  }

  // transpose2d(n, d, x, y)
  Napi::Value Transpose2d(Info info) {
    Args a(info, "transpose2d", 4);
    Rows r = rows(a, "transpose2d");
    ops::transpose2d(r.n, r.d, a.f32(2, "x", r.n * r.d), a.f32(3, "y", r.n * r.d));
    return Undefined(info);
  }
  // argmax(n, d, x, out)
  Napi::Value Argmax(Info info) {
    Args a(info, "argmax", 4);
    Rows r = rows(a, "argmax");
    ops::argmax(r.n, r.d, a.f32(2, "x", r.n * r.d), a.i32(3, "out", r.n));
    return Undefined(info);
  }
  // fill(y, value)
  Napi::Value Fill(Info info) {
    Args a(info, "fill", 2);
    int64_t n = a.len(0, "y");
    ops::fill(n, (float)a.num(1, "value"), a.f32(0, "y", n));
    return Undefined(info);
  }
  // copy(x, y)
  Napi::Value Copy(Info info) {
    Args a(info, "copy", 2);
    int64_t n = a.len(0, "x");
    ops::copy(n, a.f32(0, "x", n), a.f32(1, "y", n));
    return Undefined(info);
  }
  // randUniform(y, seed, offset, lo, hi)
  Napi::Value RandUniform(Info info) {
    Args a(info, "randUniform", 5);
    int64_t n = a.len(0, "y");
    ops::rand_uniform(n, a.u64(1, "seed"), a.u64(2, "offset"), (float)a.finite(3, "lo"),
                      (float)a.finite(4, "hi"), a.f32(0, "y", n));
    return Undefined(info);
  }
  // randNormal(y, seed, offset, mean, std)
  Napi::Value RandNormal(Info info) {
    Args a(info, "randNormal", 5);
    int64_t n = a.len(0, "y");
    ops::rand_normal(n, a.u64(1, "seed"), a.u64(2, "offset"), (float)a.finite(3, "mean"),
                     (float)a.finite(4, "std"), a.f32(0, "y", n));
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
    g.alpha = (float)a.num(5, "alpha");
    g.beta = (float)a.num(8, "beta");
    g.a = a.f32(6, "a", g.m * g.k);
    g.b = a.f32(7, "b", g.k * g.n);
    g.c = a.f32(9, "c", g.m * g.n);
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
    float* y = a.f32(2, "y", r.n * r.d);
    const float* bias = a.f32_or_null(3, "bias", r.d);
    ops::bias_act(r.n, r.d, y, bias, (Act)a.enumv(4, "act", (int32_t)Act::Count));
    return Undefined(info);
  }
  // biasActBackward(n, d, y, dy, dz, dbias | null, act)
  Napi::Value BiasActBackward(Info info) {
    Args a(info, "biasActBackward", 7);
    Rows r = rows(a, "biasActBackward");
    int64_t nd = r.n * r.d;
    ops::bias_act_bwd(r.n, r.d, a.f32(2, "y", nd), a.f32(3, "dy", nd), a.f32(4, "dz", nd),
                      a.f32_or_null(5, "dbias", r.d), (Act)a.enumv(6, "act", (int32_t)Act::Count));
    return Undefined(info);
  }

  // sgdStep(w, g, v, lr, momentum, dampening, weightDecay, nesterov, first)
  Napi::Value SgdStep(Info info) {
    Args a(info, "sgdStep", 9);
    int64_t n = a.len(0, "w");
    ops::sgd_step(n, a.f32(0, "w", n), a.f32(1, "g", n), a.f32(2, "v", n), (float)a.finite(3, "lr"),
                  (float)a.finite(4, "momentum"), (float)a.finite(5, "dampening"),
                  (float)a.finite(6, "weightDecay"), a.flag(7, "nesterov"), a.flag(8, "first"));
    return Undefined(info);
  }
  // adamStep(w, g, m, v, lr, beta1, beta2, eps, weightDecay, adamw, t)
  Napi::Value AdamStep(Info info) {
    Args a(info, "adamStep", 11);
    int64_t n = a.len(0, "w");
    int64_t t = a.dim(10, "t");
    if (t < 1) a.fail("t (the step count) must be >= 1, got 0");
    ops::adam_step(n, a.f32(0, "w", n), a.f32(1, "g", n), a.f32(2, "m", n), a.f32(3, "v", n),
                   (float)a.finite(4, "lr"), (float)a.finite(5, "beta1"), (float)a.finite(6, "beta2"),
                   (float)a.finite(7, "eps"), (float)a.finite(8, "weightDecay"), a.flag(9, "adamw"), t);
    return Undefined(info);
  }
};

}  // namespace
}  // namespace fathom::binding

using FathomAddon = fathom::binding::Addon;
NODE_API_ADDON(FathomAddon)
