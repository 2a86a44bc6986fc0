// Portable SGEMM driver: blocking loops, packing, threading, per-ISA entry
// points. Compiled for the baseline ISA; the micro-kernels (and the AVX2
// packing routines) live in their own per-ISA translation units.
#include <algorithm>
#include <cstring>
#include <new>

#include "../../runtime/pool.h"
#include "gemm.h"

namespace fathom {
namespace gemm_detail {
namespace {

// ---- per-thread scratch ----------------------------------------------------
// Packed panels live in 64-byte aligned buffers owned by the calling thread
// (pool threads and the JS thread are long-lived), grown on demand and
// reused by every later call; freed at thread exit.
struct Scratch {
  float* buf[2] = {nullptr, nullptr};
  size_t cap[2] = {0, 0};
  float* get(int which, size_t floats) {
    if (floats > cap[which]) {
      release(which);
      buf[which] = static_cast<float*>(::operator new(floats * sizeof(float), std::align_val_t{64}));
      cap[which] = floats;
    }
    return buf[which];
  }
  void release(int which) {
    if (buf[which]) ::operator delete(buf[which], std::align_val_t{64});
    buf[which] = nullptr;
    cap[which] = 0;
  }
  ~Scratch() {
    release(0);
    release(1);
  }
};
thread_local Scratch t_scratch;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Splits a length into ceil(len / max_blk) near-equal blocks, each a multiple
// of `align` (except the last): avoids a thin tail block.
inline int64_t even_block(int64_t len, int64_t max_blk, int64_t align) {
  const int64_t nblk = ceil_div(len, max_blk);
  return std::min(max_blk, round_up(ceil_div(len, nblk), align));
}

// ---- portable packing ------------------------------------------------------
template <int MR>
void pack_a_generic(int64_t mc, int64_t kc, const float* A, int64_t rs, int64_t cs, float* Ap) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR, Ap += MR * kc) {
    const int64_t m = std::min<int64_t>(MR, mc - i0);
    const float* a = A + i0 * rs;
    if (m == MR && rs == 1) {  // op(A) = A^T: rows of A are contiguous MR-runs
      for (int64_t k = 0; k < kc; ++k)
        for (int i = 0; i < MR; ++i) Ap[k * MR + i] = a[k * cs + i];
    } else if (m == MR) {
      for (int64_t k = 0; k < kc; ++k)
        for (int i = 0; i < MR; ++i) Ap[k * MR + i] = a[i * rs + k * cs];
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int i = 0; i < MR; ++i) Ap[k * MR + i] = i < m ? a[i * rs + k * cs] : 0.0f;
    }
  }
}

template <int NR>
void pack_b_generic(int64_t kc, int64_t nc, const float* B, int64_t rs, int64_t cs, float* Bp) {
  for (int64_t j0 = 0; j0 < nc; j0 += NR, Bp += NR * kc) {
    const int64_t n = std::min<int64_t>(NR, nc - j0);
    const float* b = B + j0 * cs;
    if (n == NR && cs == 1) {
      for (int64_t k = 0; k < kc; ++k) std::memcpy(Bp + k * NR, b + k * rs, NR * sizeof(float));
    } else if (n == NR) {
      for (int64_t k = 0; k < kc; ++k)
        for (int j = 0; j < NR; ++j) Bp[k * NR + j] = b[k * rs + j * cs];
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int j = 0; j < NR; ++j) Bp[k * NR + j] = j < n ? b[k * rs + j * cs] : 0.0f;
    }
  }
}

// ---- the blocked loops over one thread's share of C ------------------------
struct Args {
  int64_t K;
  float alpha, beta;
  const float* A;
  int64_t rsA, csA;  // op(A)(i, k) = A[i*rsA + k*csA]
  const float* B;
  int64_t rsB, csB;  // op(B)(k, j) = B[k*rsB + j*csB]
  float* C;
  int64_t ldc;
};

void run_block(const Config& cfg, const Args& g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  if (i0 >= i1 || j0 >= j1) return;
  const int64_t MR = cfg.mr, NR = cfg.nr, K = g.K;
  // K blocks depend on K only (never on the thread's share): the sum for an
  // element of C is split the same way whatever the thread count.
  const int64_t kc_max = even_block(K, cfg.kc, 1);
  const int64_t mc_max = even_block(i1 - i0, cfg.mc, MR);
  const int64_t nc_max = even_block(j1 - j0, cfg.nc, NR);
  float* Ap = t_scratch.get(0, (size_t)(round_up(mc_max, MR) * kc_max));
  float* Bp = t_scratch.get(1, (size_t)(round_up(nc_max, NR) * kc_max));

  for (int64_t jc = j0; jc < j1; jc += nc_max) {
    const int64_t nc = std::min(nc_max, j1 - jc);
    for (int64_t pc = 0; pc < K; pc += kc_max) {
      const int64_t kc = std::min(kc_max, K - pc);
      const float beta = pc == 0 ? g.beta : 1.0f;
      cfg.pack_b(kc, nc, g.B + pc * g.rsB + jc * g.csB, g.rsB, g.csB, Bp);
      for (int64_t ic = i0; ic < i1; ic += mc_max) {
        const int64_t mc = std::min(mc_max, i1 - ic);
        cfg.pack_a(mc, kc, g.A + ic * g.rsA + pc * g.csA, g.rsA, g.csA, Ap);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int64_t n = std::min(NR, nc - jr);
          const float* bp = Bp + jr * kc;
          float* c = g.C + ic * g.ldc + jc + jr;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            cfg.ukernel(kc, Ap + ir * kc, bp, c + ir * g.ldc, g.ldc, g.alpha, beta,
                        std::min(MR, mc - ir), n);
          }
        }
      }
    }
  }
}

// Thread grid pm x pn (pm * pn == nth) over the tiles of C. Each thread packs
// its own A rows (once per NC block) and its own B columns, so splitting M
// repacks B in every thread and splitting N repacks A: the cost model weighs
// the busiest thread's FMAs (about 16 per cycle) against the elements it
// packs per k (about 1 per cycle).
void choose_grid(int nth, int64_t M, int64_t N, int mr, int nr, int* pm_out, int* pn_out) {
  const int64_t tm = ceil_div(M, mr), tn = ceil_div(N, nr);
  double best = -1;
  for (int pm = 1; pm <= nth; ++pm) {
    if (nth % pm) continue;
    const int pn = nth / pm;
    const double rows = (double)(ceil_div(tm, pm) * mr), cols = (double)(ceil_div(tn, pn) * nr);
    const double cost = rows * cols / 16.0 + rows + cols;
    if (best < 0 || cost < best) {
      best = cost;
      *pm_out = pm;
      *pn_out = pn;
    }
  }
}

// Below this many multiply-adds a job stays on the calling thread: waking
// the pool costs a few microseconds. Measured on Zen3 (2 cores, warm pool):
// 2 threads break even at 48^3 and win by 40 % at 64^3.
constexpr double kMinParallelFma = 56.0 * 56.0 * 56.0;
// ... and every thread used must get at least this much work.
constexpr double kMinFmaPerThread = 40.0 * 40.0 * 40.0;

// gemv (M <= 2) splits N across threads only when op(B) is at least this
// large. A gemv does ~1 FMA per element of B, so below this it takes a few
// microseconds, about what waking a pool worker costs, and a worker that
// another process has descheduled stalls the call for a time slice: with the
// old 256 KiB threshold every layer of a batch-1 MLP 784-256-256-10 (800 KiB
// and 256 KiB weights) woke the pool, and its p99 latency on a busy 2-core
// Zen 4 was 4.3 ms against 0.37 ms on one thread. Measured here (AMD EPYC
// Zen 4, 2 cores shared with other jobs, bench/native/gemm_bench --compare
// avx2,avx2:t=2, interleaved): 2 threads ran 1x256x784 at 0.50x, 1x1024x1024
// at 0.53x and 1x2048x1024 (8 MiB) at 0.84x of one thread. Above one core's
// L2 (1 MiB on Zen 4, 2 MiB on Sapphire Rapids) each half streams from L3 or
// DRAM on its own core, which is where a second thread can pay on an idle
// machine, so the split starts there.
constexpr double kGemvMinSplitBytes = 2.0 * 1024 * 1024;

void scale_c(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  if (beta == 1.0f) return;
  for (int64_t i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    if (beta == 0.0f)
      for (int64_t j = 0; j < N; ++j) c[j] = 0.0f;
    else
      for (int64_t j = 0; j < N; ++j) c[j] *= beta;
  }
}

}  // namespace

void gemm_run(const Config& cfg, bool transA, bool transB, int64_t M, int64_t N, int64_t K,
              float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
              float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {  // BLAS: A and B are not read
    scale_c(M, N, beta, C, ldc);
    return;
  }
  Args g;
  g.K = K;
  g.alpha = alpha;
  g.beta = beta;
  g.A = A;
  g.rsA = transA ? 1 : lda;
  g.csA = transA ? lda : 1;
  g.B = B;
  g.rsB = transB ? 1 : ldb;
  g.csB = transB ? ldb : 1;
  g.C = C;
  g.ldc = ldc;

  if (cfg.gemv && M <= kGemvMaxM) {
    // Batch-1 inference: stream B once per row of C, no packing; threads split
    // N (each c[j] computed by one thread: results independent of the count).
    const int64_t rsB = g.rsB, csB = g.csB;
    auto rows = [&](int64_t j0, int64_t j1) {
      for (int64_t i = 0; i < M; ++i)
        cfg.gemv(j0, j1, K, alpha, A + i * g.rsA, g.csA, B, rsB, csB, beta, C + i * ldc);
    };
    const double bytes = (double)N * (double)K * 4.0;
    int nth = bytes >= kGemvMinSplitBytes ? num_threads() : 1;  // split only when B is large
    if (nth <= 1) return rows(0, N);
    return parallel_run(nth, [&](int ith, int n) {
      int64_t j0, j1;
      partition(N, ith, n, 16, &j0, &j1);
      if (j0 < j1) rows(j0, j1);
    });
  }

  const double fma = (double)M * (double)N * (double)K;
  int nth = num_threads();
  if (fma < kMinParallelFma) nth = 1;
  nth = (int)std::min<double>(nth, std::max(1.0, fma / kMinFmaPerThread));
  if (nth <= 1) {
    run_block(cfg, g, 0, M, 0, N);
    return;
  }
  parallel_run(nth, [&](int ith, int n) {
    int pm = 1, pn = 1;
    choose_grid(n, M, N, cfg.mr, cfg.nr, &pm, &pn);
    int64_t i0, i1, j0, j1;
    partition(M, ith % pm, pm, cfg.mr, &i0, &i1);
    partition(N, ith / pm, pn, cfg.nr, &j0, &j1);
    run_block(cfg, g, i0, i1, j0, j1);
  });
}

// ---- #11 lstmperf: pre-packed op(B) (gemm.h) ----
int64_t packed_b_floats(const Config& cfg, int64_t K, int64_t N) {
  return round_up(std::max<int64_t>(N, 1), cfg.nr) * std::max<int64_t>(K, 1);
}

void pack_b_whole(const Config& cfg, bool transB, int64_t K, int64_t N, const float* B, int64_t ldb,
                  float* Bp) {
  if (K <= 0 || N <= 0) return;
  const int64_t rs = transB ? 1 : ldb, cs = transB ? ldb : 1;
  const int64_t kc_max = even_block(K, cfg.kc, 1), Np = round_up(N, cfg.nr);
  for (int64_t pc = 0; pc < K; pc += kc_max)
    cfg.pack_b(std::min(kc_max, K - pc), N, B + pc * rs, rs, cs, Bp + pc * Np);
}

void gemm_prepacked_b(const Config& cfg, bool transA, int64_t M, int64_t N, int64_t K, float alpha,
                      const float* A, int64_t lda, const float* Bp, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  const int64_t MR = cfg.mr, NR = cfg.nr, rsA = transA ? 1 : lda, csA = transA ? lda : 1;
  const int64_t kc_max = even_block(K, cfg.kc, 1), mc_max = even_block(M, cfg.mc, MR), Np = round_up(N, NR);
  float* Ap = t_scratch.get(0, (size_t)(round_up(mc_max, MR) * kc_max));
  for (int64_t pc = 0; pc < K; pc += kc_max) {
    const int64_t kc = std::min(kc_max, K - pc);
    const float b = pc == 0 ? beta : 1.0f;
    const float* Bb = Bp + pc * Np;
    for (int64_t ic = 0; ic < M; ic += mc_max) {
      const int64_t mc = std::min(mc_max, M - ic);
      cfg.pack_a(mc, kc, A + ic * rsA + pc * csA, rsA, csA, Ap);
      for (int64_t jr = 0; jr < N; jr += NR) {
        float* c = C + ic * ldc + jr;
        for (int64_t ir = 0; ir < mc; ir += MR)
          cfg.ukernel(kc, Ap + ir * kc, Bb + jr * kc, c + ir * ldc, ldc, alpha, b, std::min(MR, mc - ir),
                      std::min(NR, N - jr));
      }
    }
  }
}
// ---- end #11 lstmperf ----

// ---- #13 infer (gemm.h) ----
int64_t kc_block(const Config& cfg, int64_t K) { return even_block(std::max<int64_t>(K, 1), cfg.kc, 1); }
double min_parallel_fma() { return kMinParallelFma; }
double min_fma_per_thread() { return kMinFmaPerThread; }
double gemv_min_split_bytes() { return kGemvMinSplitBytes; }
// ---- end #13 infer ----

// ---- per-ISA configurations and entry points -------------------------------
namespace {

// Scalar reference: 4x8 tile, blocks sized for any 32 KiB L1 / 256 KiB L2.
const Config kRefConfig{4, 8, 128, 256, 2048, ukernel_ref_4x8, pack_a_generic<4>,
                        pack_b_generic<8>};
void gemm_ref(bool tA, bool tB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
              int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_run(kRefConfig, tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

#if defined(__x86_64__) || defined(_M_X64)
// AVX2 + FMA 6x16 (Zen3: 32 KiB L1d, 512 KiB L2). KC x NR B panel = 16 KiB
// stays in L1; MC x KC A block = 144 KiB in L2; KC x NC B block in L2/L3.
const Config kAvx2Config{6, 16, 144, 256, 4080, ukernel_avx2_6x16, pack_a_avx2_6,
                         pack_b_avx2_16, gemv_avx2};
void gemm_avx2(bool tA, bool tB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_run(kAvx2Config, tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// AVX-512 14x32 (Skylake-SP/Ice Lake: 32-48 KiB L1d, 1-2 MiB L2). Untuned:
// KC x NR B panel = 32 KiB, MC x KC A block = 224 KiB.
const Config kAvx512Config{14, 32, 224, 256, 4096, ukernel_avx512_14x32, pack_a_avx512_14,
                           pack_b_avx512_32, gemv_avx2};
void gemm_avx512(bool tA, bool tB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                 int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_run(kAvx512Config, tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
#endif

#if defined(__aarch64__) || defined(_M_ARM64)
// NEON 8x12 (Neoverse/Apple class: 64 KiB L1d, 1 MiB+ L2).
const Config kNeonConfig{8, 12, 128, 256, 3072, ukernel_neon_8x12, pack_a_generic<8>,
                         pack_b_generic<12>};
void gemm_neon(bool tA, bool tB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_run(kNeonConfig, tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
#endif

}  // namespace

// #13 infer: the configuration behind a table's gemm entry.
const Config* config_of(GemmFn gemm) {
  if (gemm == gemm_ref) return &kRefConfig;
#if defined(__x86_64__) || defined(_M_X64)
  if (gemm == gemm_avx2) return &kAvx2Config;
  if (gemm == gemm_avx512) return &kAvx512Config;
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
  if (gemm == gemm_neon) return &kNeonConfig;
#endif
  return nullptr;
}

const char* driver_name(GemmFn gemm) {
  const Config* c = config_of(gemm);
  if (c == &kRefConfig) return "scalar 4x8";
#if defined(__x86_64__) || defined(_M_X64)
  if (c == &kAvx2Config) return "avx2 6x16";
  if (c == &kAvx512Config) return "avx512 14x32";
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
  if (c == &kNeonConfig) return "neon 8x12";
#endif
  return "unknown";
}

const Config* config_for(const char* isa) {
  if (std::strcmp(isa, "scalar") == 0) return &kRefConfig;
#if defined(__x86_64__) || defined(_M_X64)
  if (std::strcmp(isa, "avx2") == 0) return &kAvx2Config;
  if (std::strcmp(isa, "avx512") == 0) return &kAvx512Config;
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
  if (std::strcmp(isa, "neon") == 0) return &kNeonConfig;
#endif
  return nullptr;
}

}  // namespace gemm_detail

void gemm_fill_ref(KernelTable& t) { t.gemm = gemm_detail::gemm_ref; }
#if defined(__x86_64__) || defined(_M_X64)
void gemm_fill_avx2(KernelTable& t) { t.gemm = gemm_detail::gemm_avx2; }
void gemm_fill_avx512(KernelTable& t) { t.gemm = gemm_detail::gemm_avx512; }
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
void gemm_fill_neon(KernelTable& t) { t.gemm = gemm_detail::gemm_neon; }
#endif

void gemm_naive(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) {
      double s = 0.0;
      if (alpha != 0.0f) {
        for (int64_t k = 0; k < K; ++k) {
          const double a = transA ? A[k * lda + i] : A[i * lda + k];
          const double b = transB ? B[j * ldb + k] : B[k * ldb + j];
          s += a * b;
        }
      }
      double r = (double)alpha * s;
      if (beta != 0.0f) r += (double)beta * (double)C[i * ldc + j];
      C[i * ldc + j] = (float)r;
    }
  }
}

}  // namespace fathom
