// Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11; the
// Random123 reference), so any slice of a stream can be generated alone and
// the TypeScript twin produces the same bits.
//
// Shape contract
//   Element i of the stream (i in [0, n)) uses output word i % 4 of the block
//   philox(ctr, key) with
//     ctr = (lo32(offset + i/4), hi32(offset + i/4), 0, 0)   (offset counts blocks)
//     key = (lo32(seed), hi32(seed))
//   u(i) = (word >> 8) * 2^-24, in [0, 1) with 24 random bits.
//   uniform  y[i] = float(lo + (hi - lo) * u(i))                     (double)
//   normal   pairs (2k, 2k+1) of the stream, in double:
//            r = sqrt(-2 ln(1 - u(2k))), y[2k] = mean + std * r cos(2 pi u(2k+1)),
//            y[2k+1] = mean + std * r sin(2 pi u(2k+1)); an odd n keeps y[2k] only.
//   A pair never straddles two blocks (2k % 4 is 0 or 2), so a call that
//   starts at a block boundary (what ops:: splits on) reproduces the stream.
#include <cmath>

#include "ref.h"

namespace fathom {
namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // round multipliers
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Weyl key bumps
constexpr double kTwoPi = 6.283185307179586476925286766559;

inline void block(uint64_t c, uint64_t seed, uint32_t out[4]) {
  const uint32_t ctr[4] = {(uint32_t)c, (uint32_t)(c >> 32), 0, 0};
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  philox4x32_10(ctr, key, out);
}

inline double unit(uint32_t w) { return (double)(w >> 8) * (1.0 / 16777216.0); }

}  // namespace

void philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; ++r) {
    if (r > 0) k0 += kW0, k1 += kW1;
    const uint64_t p0 = (uint64_t)kM0 * c0, p1 = (uint64_t)kM1 * c2;
    const uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    const uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

void f32_rand_uniform__ref(int64_t n, uint64_t seed, uint64_t offset, float lo, float hi,
                           float* y) {
  const double a = lo, w = (double)hi - (double)lo;
  uint32_t words[4];
  for (int64_t i = 0; i < n; ++i) {
    if ((i & 3) == 0) block(offset + (uint64_t)(i >> 2), seed, words);
    y[i] = (float)(a + w * unit(words[i & 3]));
  }
}

void f32_rand_normal__ref(int64_t n, uint64_t seed, uint64_t offset, float mean, float std,
                          float* y) {
  const double mu = mean, sd = std;
  uint32_t words[4];
  for (int64_t i = 0; i < n; i += 2) {
    if ((i & 3) == 0) block(offset + (uint64_t)(i >> 2), seed, words);
    const double u0 = unit(words[i & 3]), u1 = unit(words[(i & 3) + 1]);
    const double r = std::sqrt(-2.0 * std::log(1.0 - u0));
    y[i] = (float)(mu + sd * (r * std::cos(kTwoPi * u1)));
    if (i + 1 < n) y[i + 1] = (float)(mu + sd * (r * std::sin(kTwoPi * u1)));
  }
}

}  // namespace fathom
