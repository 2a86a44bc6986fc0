// Recurrent layers over a whole sequence: the recurrence of torch.nn.LSTM / GRU /
// RNN (one layer, one direction), forward and backward each in one call.
//
// Shapes (N batch, T steps, H hidden, G gates: lstm 4, gru 3, rnn 1; rows of
// every [N, T, ·] array are (n, t) in that order):
//   xProj [N, T, G·H] = x W_ihᵀ + b_ih (the caller's GEMM), h0, c0 [N, H] (c0: lstm),
//   wHh [G·H, H], bHh [G·H] (null: none) -> output [N, T, H], hN, cN [N, H].
// Per step, a = xProj_t + h W_hhᵀ + b_hh, gates in PyTorch's order:
//   lstm  i, f, g, o = σ, σ, tanh, σ (a);  c' = f c + i g;  h' = o tanh(c')
//   gru   r, z = σ(a_r), σ(a_z);  n = tanh(x_n + r (W_hn h + b_hn));  h' = n + z (h − n)
//   rnn   h' = tanh(a) (RnnTanh) or relu(a) (RnnRelu)
// lengths [N] (null: T for all; each in [0, T]): at t >= lengths[n] the state of
// sequence n is unchanged and its output is 0. reverse: steps run t = T−1 … 0
// (each sequence from its last valid step back to 0; earlier, masked steps keep h0).
//
// Workspace ws (rnn_ws_size floats; what backward needs), three sections:
//   hprev [N, T, H]   the state h before step t
//   gates [N, T, G·H] the activated gates (lstm i f g o; gru r z n; rnn h')
//   extra [N, T, H]   lstm: c after step t (kept state at masked steps); gru: W_hn h + b_hn
//                     (rnn: none). At masked steps gates (and gru's extra) are 0.
// Backward (every output overwritten):
//   dxProj [N, T, G·H] = dL/da (gru: the n third is dL/d(x_n)), dh0, dc0 [N, H],
//   dwHh [G·H, H] = Σ dGᵀ hprev as one GEMM over all N·T rows, dbHh = Σ_rows dG
//   (dG = dxProj except gru's n third, r ⊙ dL/d(x_n)), from dOutput [N, T, H], dhN, dcN.
// Method (rnn.cc): W_hh (with b_hh as an extra column) packed once per sequence for the
// GEMM micro-kernels (gemm.h's pre-packed-B entry), the batch rows split over the pool
// for the whole sequence (each thread runs its rows' recurrence: no barrier per step),
// per step one small GEMM and one fused pass of the gate non-linearities per row (the
// table's rnn_row_fwd / rnn_row_bwd). ref/rnn.cc: the scalar reference.
#pragma once
#include <cstdint>

#include "kernels.h"

namespace fathom {

enum class RnnMode : int32_t { Lstm = 0, Gru = 1, RnnTanh = 2, RnnRelu = 3, Count };

struct RnnGeom {
  RnnMode mode;
  int64_t n, t, h;
  bool reverse;
  const int32_t* lengths;  // [n] or null
};

inline int64_t rnn_gates(RnnMode m) { return m == RnnMode::Lstm ? 4 : m == RnnMode::Gru ? 3 : 1; }
// Floats of the workspace: N·T·H·(1 + G + extra), extra 1 for lstm and gru.
inline int64_t rnn_ws_size(const RnnGeom& g) {
  const int64_t extra = g.mode == RnnMode::Lstm || g.mode == RnnMode::Gru ? 1 : 0;
  return g.n * g.t * g.h * (1 + rnn_gates(g.mode) + extra);
}

// The scalar reference (double arithmetic inside a step, naive products): the
// oracle of the tests. ws may be null in forward (inference).
void f32_rnn_fwd__ref(const RnnGeom& g, const float* xproj, const float* h0, const float* c0,
                      const float* whh, const float* bhh, float* out, float* hn, float* cn, float* ws);
void f32_rnn_bwd__ref(const RnnGeom& g, const float* whh, const float* ws, const float* c0,
                      const float* dout, const float* dhn, const float* dcn, float* dxproj, float* dh0,
                      float* dc0, float* dwhh, float* dbhh);

namespace ops {
// The fast drivers on table k (GEMM + the table's unary kernels, threaded).
void rnn_fwd(const KernelTable& k, const RnnGeom& g, const float* xproj, const float* h0, const float* c0,
             const float* whh, const float* bhh, float* out, float* hn, float* cn, float* ws);
void rnn_bwd(const KernelTable& k, const RnnGeom& g, const float* whh, const float* ws, const float* c0,
             const float* dout, const float* dhn, const float* dcn, float* dxproj, float* dh0, float* dc0,
             float* dwhh, float* dbhh);
// On the active table.
void rnn_fwd(const RnnGeom& g, const float* xproj, const float* h0, const float* c0, const float* whh,
             const float* bhh, float* out, float* hn, float* cn, float* ws);
void rnn_bwd(const RnnGeom& g, const float* whh, const float* ws, const float* c0, const float* dout,
             const float* dhn, const float* dcn, float* dxproj, float* dh0, float* dc0, float* dwhh,
             float* dbhh);
}  // namespace ops

}  // namespace fathom
