// The AVX-512 table: the AVX2 element-wise kernels (AVX-512 CPUs run them;
// no AVX-512 element-wise variants yet) and the GEMM measured fastest.
// This TU is compiled with AVX-512 flags, so it stays free of inline/template
// code a baseline caller could end up linked against; FATHOM_BASELINE_FN
// (dispatch.h) keeps fill_avx512's own code baseline.
#include "../../cpu/cpu.h"
#include "../dispatch.h"
#include "../gemm/gemm.h"

namespace fathom {

// avx512/dropout.cc
void f32_dropout__avx512(int64_t n, uint64_t seed, uint64_t offset, double p, float scale,
                         const float* x, float* y, float* mask);

FATHOM_BASELINE_FN void fill_avx512(KernelTable& t) {
  fill_avx2(t);
  // GEMM per CPU, by measurement (bench/native/gemm_bench --compare avx2,avx512,
  // interleaved, 1 thread, AMD EPYC Zen 4 at ~3.6 GHz, medians of 9-11 rounds):
  // the AVX-512 14x32 driver (vectorised packing, gemv small-M path) reached
  // 0.94-0.98x of the AVX2 6x16 driver on 1024^3, the MLP forward shapes and
  // dW = dY^T X, 1.00x on 512^3 and 0.56x on the 10-column output layer.
  // Zen 4 splits every 512-bit FMA into two 256-bit halves (same FLOP/cycle
  // as AVX2) and the 14x32 tile's 32 KiB B micro-panel (KC 256 x 32 floats)
  // fills its 32 KiB L1d; smaller KC costs more C updates than it saves.
  // So on double-pumped AVX-512 the table keeps the AVX2 GEMM; CPUs with
  // full-width 512-bit FMA units (Intel, Zen 5 server) get the 14x32 one.
  if (cpu_features().avx512_double_pumped)
    gemm_fill_avx2(t);
  else
    gemm_fill_avx512(t);
  t.dropout = f32_dropout__avx512;
  t.isa = "avx512";
}

}  // namespace fathom
