// #13 infer: inference through a chain of fully connected layers in one call
// (ops::linear_chain, ops.h). Portable: the packing and micro-kernels come
// from the table's GEMM configuration (gemm.h).
//
// Shape contract
//   x [N, in_0], layer l: w_l [out_l, in_l] (PyTorch's layout), bias_l [out_l]
//   or null, act_l; in_{l+1} == out_l; y [N, out_{L-1}].
//   y = act_{L-1}(... act_0(x w_0ᵀ + bias_0) ... w_{L-1}ᵀ + bias_{L-1})
//   Inference only (no backward): training goes through the linear op.
//
// Bitwise the same values as ops::linear_fwd layer after layer (the taped
// forward's gemm + bias_act):
//   - N <= kGemvMaxM (batch 1 and 2) runs gemm_run's gemv path on the calling
//     thread (it never wakes the pool for the MNIST MLP), its column blocks in
//     alternating order from call to call (gemv_layers);
//   - larger N packs every layer's weights once per call, the threads sharing
//     the packing (no thread packs what another packed), then each thread
//     claims chunks of rows (whole MR tiles, one per thread, the intermediate
//     activations in cache) until none is left and runs ALL layers on them (a
//     row of an MLP depends on that row only): one pool job per call, no
//     barrier between layers, intermediates in per-thread scratch instead of
//     JS arrays. Each element of C is the micro-kernel's sum
//     over the same K blocks as gemm_run (kc_block), so the values do not
//     depend on the thread count, the row chunks or the path.
// Weights are re-packed on every call on purpose: packing all three layers of
// the MNIST MLP costs ~2 % of a batch-256 forward on one core (measured), and a
// cache would need a check that the weights did not change (optimizers,
// loadStateDict and user writes to .data all write in place), which reads as
// many bytes as packing them.
#include <algorithm>
#include <atomic>
#include <new>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define FATHOM_CHAIN_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define FATHOM_CHAIN_RELAX() __asm__ __volatile__("yield")
#else
#define FATHOM_CHAIN_RELAX() ((void)0)
#endif

#include "../../runtime/pool.h"
#include "../ops.h"
#include "gemm.h"

namespace fathom {
namespace ops {
namespace {

using gemm_detail::Config;

// A 64-byte aligned float buffer owned by one thread, grown on demand; one
// larger than kKeepFloats is released after the call that needed it.
struct Buf {
  float* p = nullptr;
  size_t cap = 0;
  float* get(size_t n) {
    if (n > cap) {
      release();
      p = static_cast<float*>(::operator new(n * sizeof(float), std::align_val_t{64}));
      cap = n;
    }
    return p;
  }
  void release() {
    if (p) ::operator delete(p, std::align_val_t{64});
    p = nullptr;
    cap = 0;
  }
  ~Buf() { release(); }
};
constexpr size_t kKeepFloats = size_t(4) << 20;  // 16 MiB
thread_local Buf t_packed, t_mid[2];

// Packed weights above this many floats (all layers together): the per-layer
// path instead (its own blocked packing, bounded scratch).
constexpr int64_t kMaxPackedFloats = int64_t(8) << 20;  // 32 MiB
// Row chunks: at most this many floats of intermediate activations, and
// kClaimsPerThread chunks per thread. Smaller chunks would let a free thread
// take more of the work of one another process holds off its core, but each
// chunk streams every layer's packed weights again: measured on Zen 4 (batch
// 256, 2 threads, interleaved against the per-layer kernels): 4 chunks per
// thread 77.5 % of the peak vs 83.4 % for the control, 2 per thread 83.8 vs
// 83.7 % once and 65.8 vs 74.1 % once, 1 per thread 85.4 vs 86.7 %.
constexpr int64_t kChunkFloats = 65536;
constexpr int64_t kClaimsPerThread = 1;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// One unit of the shared packing: up to kGroup NR-wide panels of one K block
// of one layer.
struct Unit {
  int layer;
  int64_t pc, kc, j, nc;
};
constexpr int64_t kGroup = 4;

// The layers one after another through linear_fwd (threads per layer as it
// decides): batch 1 and 2, and what the packed path does not take.
void chain_layers(const KernelTable& k, int64_t N, int L, const LinearLayer* layers, const float* x,
                  float* y) {
  int64_t mid = 0;
  for (int l = 0; l + 1 < L; ++l) mid = std::max(mid, layers[l].out);
  std::vector<float> big;
  float* buf[2] = {nullptr, nullptr};
  if (L > 1) {
    if ((size_t)(2 * N * mid) <= kKeepFloats) {
      buf[0] = t_mid[0].get((size_t)(N * mid));
      buf[1] = t_mid[1].get((size_t)(N * mid));
    } else {
      big.resize((size_t)(2 * N * mid));
      buf[0] = big.data();
      buf[1] = big.data() + N * mid;
    }
  }
  const float* src = x;
  for (int l = 0; l < L; ++l) {
    const LinearLayer& c = layers[l];
    float* dst = l == L - 1 ? y : buf[l & 1];
    linear_fwd(k, N, c.out, c.in, src, c.w, c.bias, c.act, dst);
    src = dst;
  }
}

// Batch 1 and 2 when every layer's weights stay below gemm_run's gemv split
// size: gemm_run's gemv path (the table's gemv over blocks of 64 columns, each
// c[j] the same arithmetic whatever the block) layer after layer on the calling
// thread, then the epilogue. The blocks run in ascending order on one call and
// descending on the next: the MNIST MLP's weights (1.07 MB) overflow a 1 MiB
// L2, and streaming them cyclically in one order evicts each line just before
// it is needed again, while alternating the order finds the last call's most
// recent lines still cached (measured: 12.5 -> 11.5 us for the three layers on
// Zen 4, best of 41 rounds of 2,000 calls, interleaved).
thread_local unsigned t_calls = 0;
constexpr int64_t kGemvBlock = 64;  // a multiple of every gemv's column group (4) and of gemm_run's split (16)

bool gemv_layers(const KernelTable& k, const Config* cfg, int64_t N, int L, const LinearLayer* layers,
                 const float* x, float* y) {
  if (!cfg || !cfg->gemv || N > gemm_detail::kGemvMaxM) return false;
  int64_t mid = 0;
  for (int l = 0; l < L; ++l) {
    const LinearLayer& c = layers[l];
    if (c.out < 1 || c.in < 1 || (double)c.out * (double)c.in * 4.0 >= gemm_detail::gemv_min_split_bytes()) return false;
    if (l + 1 < L) mid = std::max(mid, c.out);
  }
  float* buf[2] = {nullptr, nullptr};
  if (L > 1) {
    buf[0] = t_mid[0].get((size_t)(N * mid));
    buf[1] = t_mid[1].get((size_t)(N * mid));
  }
  const bool down = (++t_calls & 1) == 0;
  const float* src = x;
  for (int l = 0; l < L; ++l) {
    const LinearLayer& c = layers[l];
    float* dst = l == L - 1 ? y : buf[l & 1];
    const int64_t nb = ceil_div(c.out, kGemvBlock);
    for (int64_t i = 0; i < N; ++i)
      for (int64_t q = 0; q < nb; ++q) {
        const int64_t b = down ? nb - 1 - q : q, j0 = b * kGemvBlock, j1 = std::min(c.out, j0 + kGemvBlock);
        // op(B)(k, j) = w[j * in + k]: rows of op(B) stride 1, columns stride in.
        cfg->gemv(j0, j1, c.in, 1.0f, src + i * c.in, 1, c.w, 1, c.in, 0.0f, dst + i * c.out);
      }
    if (c.bias || c.act != Act::None) k.bias_act(N, c.out, dst, c.bias, c.act);
    src = dst;
  }
  return true;
}

}  // namespace

void linear_chain(const KernelTable& k, int64_t N, int L, const LinearLayer* layers, const float* x,
                  float* y) {
  if (N <= 0 || L <= 0) return;
  const Config* cfg = gemm_detail::config_of(k.gemm);
  int64_t packed = 0, mid = 0;
  double fma = 0;
  bool dims_ok = true;
  for (int l = 0; l < L; ++l) {
    const LinearLayer& c = layers[l];
    if (c.out < 1 || c.in < 1) dims_ok = false;
    if (l + 1 < L) mid = std::max(mid, c.out);
    if (cfg) packed += gemm_detail::packed_b_floats(*cfg, c.in, c.out);
    fma += (double)N * (double)c.out * (double)c.in;
  }
  if (N <= gemm_detail::kGemvMaxM && gemv_layers(k, cfg, N, L, layers, x, y)) return;
  if (!cfg || !dims_ok || N <= gemm_detail::kGemvMaxM || packed > kMaxPackedFloats)
    return chain_layers(k, N, L, layers, x, y);

  // Threads: gemm_run's thresholds on the whole chain's work, and at least
  // one MR-row tile per thread.
  int nth = num_threads();
  if (fma < gemm_detail::min_parallel_fma()) nth = 1;
  nth = (int)std::min<double>(nth, std::max(1.0, fma / gemm_detail::min_fma_per_thread()));
  nth = (int)std::min<int64_t>(nth, ceil_div(N, cfg->mr));
  nth = std::max(nth, 1);

  // Packed weights: layer l at Bp + off[l], in pack_b_whole's layout.
  float* Bp = t_packed.get((size_t)packed);
  std::vector<int64_t> off((size_t)L + 1, 0);
  std::vector<Unit> units;
  for (int l = 0; l < L; ++l) {
    const LinearLayer& c = layers[l];
    off[(size_t)l + 1] = off[(size_t)l] + gemm_detail::packed_b_floats(*cfg, c.in, c.out);
    const int64_t kc_max = gemm_detail::kc_block(*cfg, c.in), span = kGroup * cfg->nr;
    for (int64_t pc = 0; pc < c.in; pc += kc_max)
      for (int64_t j = 0; j < c.out; j += span)
        units.push_back({l, pc, std::min(kc_max, c.in - pc), j, std::min(span, c.out - j)});
  }
  const int nu = (int)units.size();
  std::atomic<int> next{0}, done{0};
  // Rows are claimed in chunks of whole MR tiles (kClaimsPerThread per thread)
  // by whichever thread is free: a pool worker that starts late (another
  // process holds its core) leaves its chunk to the caller.
  const int64_t chunk_max = std::max<int64_t>(cfg->mr, kChunkFloats / std::max<int64_t>(mid, 1) / cfg->mr * cfg->mr);
  const int64_t per = ceil_div(ceil_div(N, (int64_t)nth * kClaimsPerThread), cfg->mr) * cfg->mr;
  const int64_t chunk = std::min(chunk_max, std::max<int64_t>(cfg->mr, per));
  std::atomic<int64_t> next_row{0};

  parallel_run(nth, [&](int, int) {
    // Share the packing: claim units until none is left, then wait for the
    // ones other threads claimed (they are being packed, never waiting: no
    // deadlock, also when the pool runs the shares one after another).
    for (int u; (u = next.fetch_add(1, std::memory_order_relaxed)) < nu;) {
      const Unit& t = units[(size_t)u];
      const LinearLayer& c = layers[t.layer];
      const int64_t Np = ceil_div(c.out, cfg->nr) * cfg->nr;
      // op(B)(k, j) = w[j * in + k]: rows of op(B) stride 1, columns stride in.
      cfg->pack_b(t.kc, t.nc, c.w + t.pc + t.j * c.in, 1, c.in, Bp + off[(size_t)t.layer] + t.pc * Np + t.j * t.kc);
      done.fetch_add(1, std::memory_order_release);
    }
    for (int spin = 0; done.load(std::memory_order_acquire) < nu; ++spin) {
      if (spin < 20000) FATHOM_CHAIN_RELAX();
      else std::this_thread::yield();
    }
    float* buf[2] = {nullptr, nullptr};
    for (int64_t r0; (r0 = next_row.fetch_add(chunk, std::memory_order_relaxed)) < N;) {
      const int64_t rows = std::min(chunk, N - r0);
      if (L > 1 && !buf[0]) {
        buf[0] = t_mid[0].get((size_t)(chunk * mid));
        buf[1] = t_mid[1].get((size_t)(chunk * mid));
      }
      const float* src = x + r0 * layers[0].in;
      for (int l = 0; l < L; ++l) {
        const LinearLayer& c = layers[l];
        float* dst = l == L - 1 ? y + r0 * c.out : buf[l & 1];
        gemm_detail::gemm_prepacked_b(*cfg, false, rows, c.out, c.in, 1.0f, src, c.in, Bp + off[(size_t)l], 0.0f,
                                      dst, c.out);
        if (c.bias || c.act != Act::None) k.bias_act(rows, c.out, dst, c.bias, c.act);
        src = dst;
      }
    }
  });
  if (t_packed.cap > kKeepFloats) t_packed.release();
}

void linear_chain(int64_t N, int L, const LinearLayer* layers, const float* x, float* y) {
  linear_chain(table(), N, L, layers, x, y);
}

}  // namespace ops
}  // namespace fathom
