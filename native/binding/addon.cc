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
#include "chain.h"  // #13 infer
#include "layers.h"
// --- #11 cells ---
#include "rnn.h"
// --- #11 natops ---
#include "tensorops.h"
// --- end #11 natops ---
// --- end #11 cells ---
#include "cpu/cpu.h"
#include "kernels/dispatch.h"
#include "kernels/gemm/gemm.h"  // #13 infer: driver_name
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
        InstanceMethod("poolJobsStarted", &Addon::PoolJobsStarted),  // #13 rawinfer
        // --- #13 server ---
        InstanceMethod("poolThreadIds", &Addon::PoolThreadIds),
        InstanceMethod("setThreadNumThreads", &Addon::SetThreadNumThreads),
        // --- end #13 server ---
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
        InstanceMethod("linearForward", &Addon::LinearForward),  // #13 rawinfer
        InstanceMethod("biasActBackward", &Addon::BiasActBackward),
        InstanceMethod("sgdStep", &Addon::SgdStep),
        InstanceMethod("optimStep", &Addon::OptimStep),
        InstanceMethod("dropout", &Addon::Dropout),
    });
    define_layer_entries(env, exports);
    // --- #11 cells ---
    define_rnn_entries(env, exports);
    // --- end #11 cells ---
    // --- #11 natops ---
    define_tensorop_entries(env, exports);
    // --- end #11 natops ---
    // --- #13 infer ---
    define_chain_entries(env, exports);
    // --- end #13 infer ---
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
    o.Set("gemm", gemm_detail::driver_name(active().gemm));  // #13 infer: which GEMM driver the table runs
    return o;
  }

  Napi::Value SetNumThreads(Info info) {
    Args a(info, "setNumThreads", 1);
    int64_t n = a.dim(0, "threads");
    if (n < 1) a.fail("threads must be >= 1, got 0");
    set_num_threads((int)std::min<int64_t>(n, 1 << 16));
    return Napi::Number::New(info.Env(), num_threads());
  }

  // #13 rawinfer: poolJobsStarted(): jobs handed to the pool's workers so far (runtime/pool.h),
  // for benchmarks and tests that check small problems stay on the calling thread.
  Napi::Value PoolJobsStarted(Info info) { return Napi::Number::New(info.Env(), (double)pool_jobs_started()); }

  // --- #13 server ---
  // poolThreadIds(): the OS thread ids of the kernel pool's worker threads (runtime/pool.h; 0 where
  // unknown), for lib/serve/priority.ts to lower their scheduling priority.
  Napi::Value PoolThreadIds(Info info) {
    std::vector<int> ids = pool_thread_ids();
    Napi::Array a = Napi::Array::New(info.Env(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) a.Set((uint32_t)i, Napi::Number::New(info.Env(), ids[i]));
    return a;
  }
  // setThreadNumThreads(n): caps the kernel threads of the CALLING thread's calls (0: the process's
  // setting); InferencePool's `threads` option, set in each worker (runtime/pool.h).
  Napi::Value SetThreadNumThreads(Info info) {
    Args a(info, "setThreadNumThreads", 1);
    int64_t n = a.dim(0, "threads");
    set_thread_num_threads((int)std::min<int64_t>(n, 1 << 16));
    return Napi::Number::New(info.Env(), num_threads());
  }
  // --- end #13 server ---

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
  // ---- #13 rawinfer ----
  // linearForward(n, out, in, x, w, bias | null, act, y): y = act(x wᵀ + bias), one call
  // (ops::linear_fwd); x [n, in], w [out, in], bias [out], y [n, out] overlapping none of them.
  Napi::Value LinearForward(Info info) {
    Args a(info, "linearForward", 8);
    const int64_t n = a.dim(0, "n"), d = a.dim(1, "out"), k = a.dim(2, "in");
    const int64_t lim = INT64_C(1) << 40;
    if (n > lim || d > lim || k > lim || (n && k > lim / n) || (k && d > lim / k) || (n && d > lim / n))
      a.fail("matrix too large");
    const float* x = a.f32(3, "x", n * k);
    const float* w = a.f32(4, "w", d * k);
    const float* bias = a.f32_or_null(5, "bias", d);
    const Act act = (Act)a.enumv(6, "act", (int32_t)Act::Count);
    float* y = a.f32(7, "y", n * d);
    a.apart("y", y, 4 * n * d, "x", x, 4 * n * k);
    a.apart("y", y, 4 * n * d, "w", w, 4 * d * k);
    a.apart("y", y, 4 * n * d, "bias", bias, 4 * d);
    ops::linear_fwd(n, d, k, x, w, bias, act, y);
    return Undefined(info);
  }
  // ---- end #13 rawinfer ----
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
};

}  // namespace
}  // namespace fathom::binding

using FathomAddon = fathom::binding::Addon;
NODE_API_ADDON(FathomAddon)
