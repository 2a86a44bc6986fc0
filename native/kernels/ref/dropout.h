// Inverted dropout, fused: the Philox4x32-10 stream of rand_uniform, the keep
// test and the scale in one pass (kernels.h: DropoutFn holds the contract).
//
// The body is written 16 Philox blocks (64 elements) at a time with the lanes
// innermost, so a compiler can vectorise the 32x32->64-bit products
// (vpmuludq); the same source is compiled twice: ref/dropout.cc (baseline
// flags, the reference) and avx512/dropout.cc (AVX-512 flags, where GCC and
// Clang vectorise it: 3x the scalar speed measured; with AVX2 flags they do not,
// so AVX2 CPUs run the reference). Internal linkage (anonymous namespace):
// each translation unit keeps its own copy, so no baseline caller can be
// linked against the AVX-512 one.
#pragma once
#include <cmath>
#include <cstdint>

namespace fathom {
namespace {

// Elements 0..n-1 of the stream starting at block `offset`, one scalar block at a time.
inline void dropout_tail(int64_t n, uint32_t key0, uint32_t key1, uint64_t offset, uint32_t keep_from,
                         float scale, const float* x, float* y, float* mask) {
  for (int64_t i = 0; i < n; i += 4) {
    const uint64_t c = offset + (uint64_t)(i >> 2);
    uint32_t c0 = (uint32_t)c, c1 = (uint32_t)(c >> 32), c2 = 0, c3 = 0, k0 = key0, k1 = key1;
    for (int r = 0; r < 10; ++r) {
      if (r > 0) k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
      const uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
      const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
      c1 = (uint32_t)p1, c3 = (uint32_t)p0, c0 = n0, c2 = n2;
    }
    const uint32_t w[4] = {c0, c1, c2, c3};
    for (int q = 0; q < 4 && i + q < n; ++q) {
      const float m = (w[q] >> 8) >= keep_from ? scale : 0.0f;
      mask[i + q] = m;
      y[i + q] = x[i + q] * m;
    }
  }
}

inline void dropout_body(int64_t n, uint64_t seed, uint64_t offset, double p, float scale,
                         const float* x, float* y, float* mask) {
  // u = (word >> 8) 2^-24 >= p  <=>  (word >> 8) >= ceil(p 2^24): exact in double.
  const uint32_t keep_from = (uint32_t)std::ceil(p * 16777216.0);
  const uint32_t key0 = (uint32_t)seed, key1 = (uint32_t)(seed >> 32);
  constexpr int L = 16;  // blocks per group
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    uint32_t c0[L], c1[L], c2[L], c3[L];
    const uint64_t base = offset + (uint64_t)(i >> 2);
    for (int j = 0; j < L; ++j) {
      const uint64_t c = base + (uint64_t)j;
      c0[j] = (uint32_t)c, c1[j] = (uint32_t)(c >> 32), c2[j] = 0, c3[j] = 0;
    }
    uint32_t k0 = key0, k1 = key1;
    for (int r = 0; r < 10; ++r) {
      if (r > 0) k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
      for (int j = 0; j < L; ++j) {
        const uint64_t p0 = (uint64_t)0xD2511F53u * c0[j], p1 = (uint64_t)0xCD9E8D57u * c2[j];
        const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[j] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3[j] ^ k1;
        c1[j] = (uint32_t)p1, c3[j] = (uint32_t)p0, c0[j] = n0, c2[j] = n2;
      }
    }
    for (int j = 0; j < L; ++j) {
      const uint32_t w[4] = {c0[j], c1[j], c2[j], c3[j]};
      for (int q = 0; q < 4; ++q) {
        const int64_t e = i + 4 * j + q;
        const float m = (w[q] >> 8) >= keep_from ? scale : 0.0f;
        mask[e] = m;
        y[e] = x[e] * m;
      }
    }
  }
  if (i < n) dropout_tail(n - i, key0, key1, offset + (uint64_t)(i >> 2), keep_from, scale, x + i, y + i, mask + i);
}

}  // namespace
}  // namespace fathom
