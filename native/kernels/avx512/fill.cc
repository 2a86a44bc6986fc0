// The AVX-512 table: the AVX2 element-wise kernels (AVX-512 CPUs run them;
// no AVX-512 element-wise variants yet) and the AVX-512 GEMM.
// This TU is compiled with AVX-512 flags, so it stays free of inline/template
// code a baseline caller could end up linked against; FATHOM_BASELINE_FN
// (dispatch.h) keeps fill_avx512's own code baseline.
#include "../dispatch.h"
#include "../gemm/gemm.h"

namespace fathom {

FATHOM_BASELINE_FN void fill_avx512(KernelTable& t) {
  fill_avx2(t);
  gemm_fill_avx512(t);
  t.isa = "avx512";
}

}  // namespace fathom
