// The NEON table: reference element-wise kernels (no NEON element-wise
// variants yet) and the NEON GEMM. Compiled only on arm64.
#if defined(__aarch64__) || defined(_M_ARM64)
#include "../dispatch.h"
#include "../gemm/gemm.h"

namespace fathom {

void fill_neon(KernelTable& t) {
  gemm_fill_neon(t);
  t.isa = "neon";
}

}  // namespace fathom
#endif
