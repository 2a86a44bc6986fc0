// SGEMM in the BLIS design: C = alpha * op(A) * op(B) + beta * C.
//
// Shapes (row-major, see GemmFn in kernels.h): op(A) is M x K, op(B) is K x N,
// C is M x N; op(X) = X^T when transX, read through the leading dimension.
// beta == 0 never reads C; K == 0 (or alpha == 0) gives C = beta * C.
//
// Layers (driver.cc is portable; only the micro-kernels are per ISA):
//   jc: N in NC blocks -> pc: K in KC blocks -> pack B (KC x NC, NR-wide panels)
//   ic: M in MC blocks -> pack A (MC x KC, MR-tall panels)
//   jr: NR columns -> ir: MR rows -> micro-kernel (MR x NR tile of C).
// Packed panels are zero padded at the M/N edges; the micro-kernel writes back
// only the valid m x n part. Threads split C into a (pm x pn) grid of tiles
// chosen from (M, N, K, nth) only, each thread packing its own panels, so a
// given element of C is always computed by the same arithmetic: results are
// bitwise identical for any thread count.
//
// This header is included by the ISA translation units: declarations only,
// no inline functions (an inline body instantiated under -mavx2 could be the
// copy the linker keeps for baseline callers).
#pragma once
#include <cstddef>
#include <cstdint>

#include "../kernels.h"

namespace fathom {

// Fill t.gemm with the driver for one ISA.
void gemm_fill_ref(KernelTable& t);  // scalar reference micro-kernel, any CPU
#if defined(__x86_64__) || defined(_M_X64)
void gemm_fill_avx2(KernelTable& t);    // AVX2 + FMA 6x16
void gemm_fill_avx512(KernelTable& t);  // AVX-512F 14x32
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
void gemm_fill_neon(KernelTable& t);  // NEON 8x12
#endif

// The naive triple loop (double accumulation): the oracle for tests.
void gemm_naive(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                int64_t ldc);

namespace gemm_detail {

// Micro-kernel: acc[i][j] = sum_{k<kc} Ap[k*MR + i] * Bp[k*NR + j] over one
// packed MR x kc panel of A and kc x NR panel of B (Bp 64-byte aligned, kc >= 1),
// then C[i][j] = alpha * acc + beta * C for i < m, j < n (m <= MR, n <= NR).
// beta == 0 never reads C. Edge tiles (m < MR or n < NR) give bitwise the
// same values as full tiles.
using UkernelFn = void (*)(int64_t kc, const float* Ap, const float* Bp, float* C,
                           int64_t ldc, float alpha, float beta, int64_t m, int64_t n);
// Packs an mc x kc block of op(A), element (i, k) at A[i*rs + k*cs], into
// ceil(mc/MR) panels of MR x kc (panel p at Ap + p*MR*kc), zero padded rows.
using PackAFn = void (*)(int64_t mc, int64_t kc, const float* A, int64_t rs, int64_t cs,
                         float* Ap);
// Packs a kc x nc block of op(B), element (k, j) at B[k*rs + j*cs], into
// ceil(nc/NR) panels of kc x NR (panel p at Bp + p*NR*kc), zero padded columns.
using PackBFn = void (*)(int64_t kc, int64_t nc, const float* B, int64_t rs, int64_t cs,
                         float* Bp);

// Small-M path (one row of C, no packing): for j in [j0, j1)
//   c[j] = alpha * sum_k a[k*inca] * op(B)(k, j) + beta * c[j]   (beta == 0: c not read)
// with op(B)(k, j) = B[k*rs + j*cs] and either rs == 1 (dot products over
// contiguous rows of B) or cs == 1 (axpy over contiguous rows of B).
using GemvFn = void (*)(int64_t j0, int64_t j1, int64_t K, float alpha, const float* a, int64_t inca,
                        const float* B, int64_t rs, int64_t cs, float beta, float* c);

struct Config {
  int mr, nr;          // micro-tile
  int64_t mc, kc, nc;  // cache blocks; mc % mr == 0, nc % nr == 0
  UkernelFn ukernel;
  PackAFn pack_a;
  PackBFn pack_b;
  GemvFn gemv = nullptr;  // used for M <= kGemvMaxM when set
};

// Rows of C up to which gemv (streaming B once per row, unpacked) beats
// packing B: batch-1 and batch-2 inference.
constexpr int64_t kGemvMaxM = 2;

// The configuration behind an ISA's gemm ("scalar", "avx2", "avx512", "neon");
// nullptr when not compiled into this binary. For tests and benchmarks.
const Config* config_for(const char* isa);

// The blocked, threaded driver shared by every ISA.
void gemm_run(const Config& cfg, bool transA, bool transB, int64_t M, int64_t N, int64_t K,
              float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
              float* C, int64_t ldc);

// ---- #11 lstmperf: pre-packed op(B) ----
// For many products with one B (an RNN's recurrent weights, every time step):
// op(B) (K x N) packed once in cfg's layout, K in the same kc blocks as
// gemm_run (so results match it bitwise), block b of kc_b rows at
// Bp + b * kc_max * round_up(N, NR), each ceil(N/NR) panels of kc_b x NR.
// packed_b_floats: the floats Bp needs (allocate 64-byte aligned).
int64_t packed_b_floats(const Config& cfg, int64_t K, int64_t N);
void pack_b_whole(const Config& cfg, bool transB, int64_t K, int64_t N, const float* B, int64_t ldb,
                  float* Bp);
// C (M x N) = alpha op(A) Bp + beta C on the calling thread only (the caller
// splits M over its own threads; beta == 0 never reads C). A packed per call.
void gemm_prepacked_b(const Config& cfg, bool transA, int64_t M, int64_t N, int64_t K, float alpha,
                      const float* A, int64_t lda, const float* Bp, float beta, float* C, int64_t ldc);
// ---- end #11 lstmperf ----

// ---- #13 infer: what linear_chain (chain.cc) needs of the driver ----
// The configuration behind a table's gemm entry (the avx512 table may run the
// AVX2 driver: avx512/fill.cc); nullptr for a gemm this file did not make.
const Config* config_of(GemmFn gemm);
// The K block gemm_run uses for this K (the sum of an element of C is split
// the same way by every entry point: bitwise equal results).
int64_t kc_block(const Config& cfg, int64_t K);
// Threading thresholds of gemm_run: a job below min_parallel_fma() multiply-
// adds stays on the calling thread; each thread used gets >= min_fma_per_thread().
double min_parallel_fma();
double min_fma_per_thread();
// gemm_run's small-M path splits N across threads only when op(B) has at
// least this many bytes (below it the gemv runs on the calling thread).
double gemv_min_split_bytes();
// The driver behind a table's gemm entry, e.g. "avx2 6x16" (the avx512 table
// on AMD Zen 4 runs it); "unknown" for a gemm not made here.
const char* driver_name(GemmFn gemm);
// ---- end #13 infer ----

// Micro-kernels and ISA packing routines (one translation unit each).
void ukernel_ref_4x8(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                     float alpha, float beta, int64_t m, int64_t n);
#if defined(__x86_64__) || defined(_M_X64)
void ukernel_avx2_6x16(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                       float alpha, float beta, int64_t m, int64_t n);
void gemv_avx2(int64_t j0, int64_t j1, int64_t K, float alpha, const float* a, int64_t inca,
               const float* B, int64_t rs, int64_t cs, float beta, float* c);
void pack_a_avx2_6(int64_t mc, int64_t kc, const float* A, int64_t rs, int64_t cs, float* Ap);
void pack_b_avx2_16(int64_t kc, int64_t nc, const float* B, int64_t rs, int64_t cs, float* Bp);
void ukernel_avx512_14x32(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                          float alpha, float beta, int64_t m, int64_t n);
void pack_a_avx512_14(int64_t mc, int64_t kc, const float* A, int64_t rs, int64_t cs, float* Ap);
void pack_b_avx512_32(int64_t kc, int64_t nc, const float* B, int64_t rs, int64_t cs, float* Bp);
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
void ukernel_neon_8x12(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                       float alpha, float beta, int64_t m, int64_t n);
#endif

}  // namespace gemm_detail
}  // namespace fathom
