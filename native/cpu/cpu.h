// CPU feature detection: CPUID *and* XGETBV on x86 (the OS must save the
// wider registers), hwcaps on aarch64.
#pragma once

namespace fathom {

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 + FMA3, YMM state enabled by the OS
  bool avx512 = false;    // AVX-512 F/BW/DQ/VL, ZMM + opmask state enabled by the OS
  bool neon = false;      // Advanced SIMD (always present on aarch64)
  // AVX-512 executed as two 256-bit halves (AMD Zen 4: family 19h with
  // AVX-512): same FLOP/cycle as AVX2, so the wider tile gains nothing.
  bool avx512_double_pumped = false;
};

const CpuFeatures& cpu_features();

}  // namespace fathom
