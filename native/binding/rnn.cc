// The binding's entries for the whole-sequence recurrence (kernels/rnn.h). As
// addon.cc: each converts and re-checks its arguments (sizes, lengths, the
// lengths' values, outputs apart from inputs and from each other), then calls
// the threaded driver on the active table. JS owns every buffer.
#include "rnn.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "kernels/rnn.h"

namespace fathom::binding {
namespace {

using Info = const Napi::CallbackInfo&;

// mode, n, t, h, lengths | null, reverse at arguments 0..5.
RnnGeom rnn_geom(const Args& a, Info info) {
  RnnGeom g{};
  g.mode = (RnnMode)a.enumv(0, "mode", (int32_t)RnnMode::Count);
  g.n = a.dim(1, "n");
  g.t = a.dim(2, "t");
  g.h = a.dim(3, "h");
  const double lim = 9007199254740991.0;
  if ((double)g.n * (double)g.t * (double)g.h * 6.0 > lim || g.n > INT32_MAX || g.t > INT32_MAX || g.h > INT32_MAX)
    a.fail("sizes overflow");
  g.lengths = info[4].IsNull() ? nullptr : a.i32(4, "lengths", g.n);
  if (g.lengths)
    for (int64_t i = 0; i < g.n; ++i)
      if (g.lengths[i] < 0 || g.lengths[i] > g.t)
        a.fail("lengths[" + std::to_string(i) + "] must be in [0, " + std::to_string(g.t) + "], got " +
               std::to_string(g.lengths[i]));
  g.reverse = a.flag(5, "reverse");
  return g;
}

struct Buf {
  const char* name;
  const void* p;
  int64_t n;
};
// Every output apart from every input and from the other outputs.
void apart_all(const Args& a, const std::vector<Buf>& outs, const std::vector<Buf>& ins) {
  for (size_t i = 0; i < outs.size(); ++i) {
    for (const Buf& in : ins) a.apart(outs[i].name, outs[i].p, 4 * outs[i].n, in.name, in.p, 4 * in.n);
    for (size_t j = i + 1; j < outs.size(); ++j)
      a.apart(outs[i].name, outs[i].p, 4 * outs[i].n, outs[j].name, outs[j].p, 4 * outs[j].n);
  }
}

// rnnForward(mode, n, t, h, lengths, reverse, xProj, h0, c0 | null, wHh, bHh | null, output, hN, cN | null, ws | null)
Napi::Value RnnForward(Info info) {
  Args a(info, "rnnForward", 15);
  const RnnGeom g = rnn_geom(a, info);
  const bool lstm = g.mode == RnnMode::Lstm;
  const int64_t GH = rnn_gates(g.mode) * g.h, NH = g.n * g.h, NT = g.n * g.t;
  const float* xp = a.f32(6, "xProj", NT * GH);
  const float* h0 = a.f32(7, "h0", NH);
  const float* c0 = lstm ? a.f32(8, "c0", NH) : nullptr;
  if (!lstm && !info[8].IsNull()) a.fail("c0 must be null for a mode other than lstm");
  const float* whh = a.f32(9, "wHh", GH * g.h);
  const float* bhh = a.f32_or_null(10, "bHh", GH);
  float* out = a.f32(11, "output", NT * g.h);
  float* hn = a.f32(12, "hN", NH);
  float* cn = lstm ? a.f32(13, "cN", NH) : nullptr;
  if (!lstm && !info[13].IsNull()) a.fail("cN must be null for a mode other than lstm");
  float* ws = a.f32_or_null(14, "ws", rnn_ws_size(g));
  apart_all(a, {{"output", out, NT * g.h}, {"hN", hn, NH}, {"cN", cn, lstm ? NH : 0}, {"ws", ws, ws ? rnn_ws_size(g) : 0}},
            {{"xProj", xp, NT * GH}, {"h0", h0, NH}, {"c0", c0, lstm ? NH : 0}, {"wHh", whh, GH * g.h}, {"bHh", bhh, bhh ? GH : 0}});
  ops::rnn_fwd(g, xp, h0, c0, whh, bhh, out, hn, cn, ws);
  return info.Env().Undefined();
}

// rnnBackward(mode, n, t, h, lengths, reverse, wHh, ws, c0 | null, dOutput, dhN, dcN | null,
//             dxProj, dh0, dc0 | null, dwHh, dbHh | null)
Napi::Value RnnBackward(Info info) {
  Args a(info, "rnnBackward", 17);
  const RnnGeom g = rnn_geom(a, info);
  const bool lstm = g.mode == RnnMode::Lstm;
  const int64_t GH = rnn_gates(g.mode) * g.h, NH = g.n * g.h, NT = g.n * g.t, W = rnn_ws_size(g);
  const float* whh = a.f32(6, "wHh", GH * g.h);
  const float* ws = a.f32(7, "ws", W);
  const float* c0 = lstm ? a.f32(8, "c0", NH) : nullptr;
  if (!lstm && !info[8].IsNull()) a.fail("c0 must be null for a mode other than lstm");
  const float* dout = a.f32(9, "dOutput", NT * g.h);
  const float* dhn = a.f32(10, "dhN", NH);
  const float* dcn = lstm ? a.f32(11, "dcN", NH) : nullptr;
  if (!lstm && !info[11].IsNull()) a.fail("dcN must be null for a mode other than lstm");
  float* dxp = a.f32(12, "dxProj", NT * GH);
  float* dh0 = a.f32(13, "dh0", NH);
  float* dc0 = lstm ? a.f32(14, "dc0", NH) : nullptr;
  if (!lstm && !info[14].IsNull()) a.fail("dc0 must be null for a mode other than lstm");
  float* dwhh = a.f32(15, "dwHh", GH * g.h);
  float* dbhh = a.f32_or_null(16, "dbHh", GH);
  apart_all(a,
            {{"dxProj", dxp, NT * GH}, {"dh0", dh0, NH}, {"dc0", dc0, lstm ? NH : 0}, {"dwHh", dwhh, GH * g.h},
             {"dbHh", dbhh, dbhh ? GH : 0}},
            {{"wHh", whh, GH * g.h}, {"ws", ws, W}, {"c0", c0, lstm ? NH : 0}, {"dOutput", dout, NT * g.h},
             {"dhN", dhn, NH}, {"dcN", dcn, lstm ? NH : 0}});
  ops::rnn_bwd(g, whh, ws, c0, dout, dhn, dcn, dxp, dh0, dc0, dwhh, dbhh);
  return info.Env().Undefined();
}

}  // namespace

void define_rnn_entries(Napi::Env env, Napi::Object exports) {
  exports.Set("rnnForward", Napi::Function::New(env, RnnForward, "rnnForward"));
  exports.Set("rnnBackward", Napi::Function::New(env, RnnBackward, "rnnBackward"));
}

}  // namespace fathom::binding
