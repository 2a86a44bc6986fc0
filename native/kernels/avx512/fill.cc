// The AVX-512 table: the AVX2 element-wise kernels (AVX-512 CPUs run them;
// no AVX-512 element-wise variants yet) and the AVX-512 GEMM.
// Note: this TU is compiled with AVX-512 flags, so it must stay free of
// inline/template code a baseline caller could end up linked against, and
// fill_avx512 itself may run on a CPU without AVX-512 (dispatch builds the
// table before checking the CPU): the target attribute keeps it baseline.
#include "../dispatch.h"
#include "../gemm/gemm.h"

#if defined(__GNUC__) || defined(__clang__)
#define FATHOM_BASELINE_FN __attribute__((target("arch=x86-64")))
#else
#define FATHOM_BASELINE_FN
#endif

namespace fathom {

FATHOM_BASELINE_FN void fill_avx512(KernelTable& t) {
  fill_avx2(t);
  gemm_fill_avx512(t);
  t.isa = "avx512";
}

}  // namespace fathom
