// The recurrence's fused gate pass, one batch row (kernels.h RnnRowFwdFn /
// RnnRowBwdFn; kernels/rnn.h has the equations), 8 hidden units per vector:
// the projected input added, the gate non-linearities (vmath_avx2.h's v_sigmoid
// and v_tanh's methods with a reciprocal + Newton step for the division: g_sigmoid,
// g_tanh below; a few ulp from the scalar reference), the cell update and the new
// state in one pass over registers; the tail of h % 8 units masked.
#include <immintrin.h>

#include "../rnn.h"
#include "avx2.h"
#include "vmath_avx2.h"

namespace fathom {
namespace {
using namespace avx2;

struct Tail {
  __m256i m;
  bool full;
};
inline __m256 ld(const float* p, const Tail& t) { return t.full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, t.m); }
inline void st(float* p, __m256 v, const Tail& t) {
  if (t.full) _mm256_storeu_ps(p, v);
  else _mm256_maskstore_ps(p, t.m, v);
}
// fn(j, tail) over [0, h) in steps of 8.
template <class F>
inline void over(int64_t h, const F& fn) {
  int64_t j = 0;
  const Tail full{_mm256_setzero_si256(), true};
  for (; j + 8 <= h; j += 8) fn(j, full);
  if (j < h) fn(j, Tail{v_tail_mask(h - j), false});
}

// ---- #11 lstmperf: the gates' sigmoid / tanh with no division ----
// 1 / d by the approximate reciprocal and one Newton step (about 2 ulp); 1 <= d < 2^126 here.
inline __m256 rcp_nr(__m256 d) {
  const __m256 r = _mm256_rcp_ps(d);
  return _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(1.0f)), r);
}
// σ(x): vmath's v_sigmoid_parts, num / den with the reciprocal above.
inline __m256 g_sigmoid(__m256 x) {
  __m256 num, den;
  v_sigmoid_parts(x, &num, &den);
  return _mm256_mul_ps(num, rcp_nr(den));
}
// tanh: vmath's v_tanh_small for |x| < 0.625, else 1 − 2 / (exp(2|x|) + 1) with the reciprocal above,
// |x| clamped to 9 (tanh(9) rounds to 1 − 6e−8), the sign of x.
inline __m256 g_tanh(__m256 x) {
  const __m256 sgn = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
  const __m256 ax = _mm256_min_ps(v_abs(x), _mm256_set1_ps(9.0f));
  const __m256 ys = v_tanh_small(x);
  const __m256 e = v_exp(_mm256_add_ps(ax, ax));
  const __m256 yl = _mm256_fnmadd_ps(_mm256_set1_ps(2.0f), rcp_nr(_mm256_add_ps(e, _mm256_set1_ps(1.0f))),
                                     _mm256_set1_ps(1.0f));
  return _mm256_blendv_ps(_mm256_or_ps(yl, sgn), ys, _mm256_cmp_ps(v_abs(x), _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}
// ---- end #11 lstmperf ----

}  // namespace

void f32_rnn_row_fwd__avx2(int32_t mode, int64_t H, const float* x, float* a, float* hs, float* c, float* out,
                           float* ext) {
  const RnnMode m = (RnnMode)mode;
  if (m == RnnMode::Lstm) {
    over(H, [&](int64_t j, const Tail& t) {
      const __m256 ig = g_sigmoid(_mm256_add_ps(ld(a + j, t), ld(x + j, t)));
      const __m256 fg = g_sigmoid(_mm256_add_ps(ld(a + H + j, t), ld(x + H + j, t)));
      const __m256 gg = g_tanh(_mm256_add_ps(ld(a + 2 * H + j, t), ld(x + 2 * H + j, t)));
      const __m256 og = g_sigmoid(_mm256_add_ps(ld(a + 3 * H + j, t), ld(x + 3 * H + j, t)));
      st(a + j, ig, t);
      st(a + H + j, fg, t);
      st(a + 2 * H + j, gg, t);
      st(a + 3 * H + j, og, t);
      const __m256 cv = _mm256_fmadd_ps(fg, ld(c + j, t), _mm256_mul_ps(ig, gg));
      st(c + j, cv, t);
      if (ext) st(ext + j, cv, t);
      const __m256 hv = _mm256_mul_ps(og, g_tanh(cv));
      st(hs + j, hv, t);
      st(out + j, hv, t);
    });
  } else if (m == RnnMode::Gru) {
    over(H, [&](int64_t j, const Tail& t) {
      const __m256 ghn = ld(a + 2 * H + j, t);
      st(ext + j, ghn, t);
      const __m256 rg = g_sigmoid(_mm256_add_ps(ld(a + j, t), ld(x + j, t)));
      const __m256 zg = g_sigmoid(_mm256_add_ps(ld(a + H + j, t), ld(x + H + j, t)));
      const __m256 ng = g_tanh(_mm256_fmadd_ps(rg, ghn, ld(x + 2 * H + j, t)));
      st(a + j, rg, t);
      st(a + H + j, zg, t);
      st(a + 2 * H + j, ng, t);
      const __m256 hv = _mm256_fmadd_ps(zg, _mm256_sub_ps(ld(hs + j, t), ng), ng);
      st(hs + j, hv, t);
      st(out + j, hv, t);
    });
  } else {
    const bool th = m == RnnMode::RnnTanh;
    over(H, [&](int64_t j, const Tail& t) {
      const __m256 v = _mm256_add_ps(ld(a + j, t), ld(x + j, t));
      const __m256 y = th ? g_tanh(v) : _mm256_max_ps(v, _mm256_setzero_ps());
      st(a + j, y, t);
      st(hs + j, y, t);
      st(out + j, y, t);
    });
  }
}

void f32_rnn_row_bwd__avx2(int32_t mode, int64_t H, const float* gs, const float* dy, const float* c,
                           const float* cp, const float* hp, const float* ghn, float* dh, float* dc, float* dx,
                           float* dg) {
  const RnnMode m = (RnnMode)mode;
  const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  // s (1 − s) and 1 − y²
  auto dsig = [&](__m256 s) { return _mm256_fnmadd_ps(s, s, s); };
  auto dtanh = [&](__m256 y) { return _mm256_fnmadd_ps(y, y, one); };
  if (m == RnnMode::Lstm) {
    over(H, [&](int64_t j, const Tail& t) {
      const __m256 ig = ld(gs + j, t), fg = ld(gs + H + j, t), gg = ld(gs + 2 * H + j, t), og = ld(gs + 3 * H + j, t);
      const __m256 th = g_tanh(ld(c + j, t));
      const __m256 d = _mm256_add_ps(ld(dh + j, t), ld(dy + j, t));
      const __m256 dcc = _mm256_fmadd_ps(_mm256_mul_ps(d, og), dtanh(th), ld(dc + j, t));
      st(dx + j, _mm256_mul_ps(_mm256_mul_ps(dcc, gg), dsig(ig)), t);
      st(dx + H + j, _mm256_mul_ps(_mm256_mul_ps(dcc, ld(cp + j, t)), dsig(fg)), t);
      st(dx + 2 * H + j, _mm256_mul_ps(_mm256_mul_ps(dcc, ig), dtanh(gg)), t);
      st(dx + 3 * H + j, _mm256_mul_ps(_mm256_mul_ps(d, th), dsig(og)), t);
      st(dc + j, _mm256_mul_ps(dcc, fg), t);
      st(dh + j, zero, t);
    });
  } else if (m == RnnMode::Gru) {
    over(H, [&](int64_t j, const Tail& t) {
      const __m256 rg = ld(gs + j, t), zg = ld(gs + H + j, t), ng = ld(gs + 2 * H + j, t);
      const __m256 d = _mm256_add_ps(ld(dh + j, t), ld(dy + j, t));
      const __m256 dan = _mm256_mul_ps(_mm256_mul_ps(d, _mm256_sub_ps(one, zg)), dtanh(ng));
      const __m256 dar = _mm256_mul_ps(_mm256_mul_ps(dan, ld(ghn + j, t)), dsig(rg));
      const __m256 daz = _mm256_mul_ps(_mm256_mul_ps(d, _mm256_sub_ps(ld(hp + j, t), ng)), dsig(zg));
      st(dx + j, dar, t);
      st(dg + j, dar, t);
      st(dx + H + j, daz, t);
      st(dg + H + j, daz, t);
      st(dx + 2 * H + j, dan, t);
      st(dg + 2 * H + j, _mm256_mul_ps(dan, rg), t);
      st(dh + j, _mm256_mul_ps(d, zg), t);
    });
  } else {
    const bool th = m == RnnMode::RnnTanh;
    over(H, [&](int64_t j, const Tail& t) {
      const __m256 y = ld(gs + j, t);
      const __m256 d = _mm256_add_ps(ld(dh + j, t), ld(dy + j, t));
      const __m256 v = th ? _mm256_mul_ps(d, dtanh(y)) : _mm256_and_ps(d, _mm256_cmp_ps(y, zero, _CMP_GT_OQ));
      st(dx + j, v, t);
      st(dh + j, zero, t);
    });
  }
}

}  // namespace fathom
