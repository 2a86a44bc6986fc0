// Threaded convolution drivers (conv.h): im2col + the packed GEMM over a few
// images at a time and one group, the batch split over the pool.
#include "conv.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "dispatch.h"
#include "gemm/gemm.h"
#include "../cpu/cpu.h"
#include "ops.h"
#include "../runtime/pool.h"

namespace fathom {
namespace ops {
namespace {

// 1x1, stride 1, no padding, output as large as the input: col is x itself.
bool pointwise(const ConvGeom& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && g.oh == g.h &&
         g.ow == g.w;
}

// Threads for the batch: one image per share at least, and about 256K
// multiply-adds per thread so that small problems stay on the calling thread.
int batch_threads(const ConvGeom& g) {
  const int nt = num_threads();
  if (nt <= 1 || g.n < 2) return 1;
  const double work = (double)g.n * (double)g.o * (double)(g.oh * g.ow) * (double)(g.c / g.groups) *
                      (double)(g.kh * g.kw);
  const double want = work / 262144.0;
  int nth = (int)std::min<double>({(double)nt, (double)g.n, want});
  return nth < 1 ? 1 : nth;
}

// fn(b0, b1, ith) over the images of each thread's share.
template <class F>
void over_batch(int nth, int64_t n, const F& fn) {
  if (nth <= 1) {
    if (n > 0) fn((int64_t)0, n, 0);
    return;
  }
  parallel_run(nth, [&](int ith, int nt) {
    int64_t b, e;
    partition(n, ith, nt, 1, &b, &e);
    if (b < e) fn(b, e, ith);
  });
}

// Per-thread scratch (pool threads and the JS thread are long-lived): the
// col and staging buffers grow on demand and are reused by later calls, so a
// training step does not fault in fresh pages for them every time.
struct ConvScratch {
  std::vector<float> buf[2];
  float* get(int which, size_t floats) {
    if (buf[which].size() < floats) buf[which].resize(floats);
    return buf[which].data();
  }
};
thread_local ConvScratch t_conv_scratch;

// Images per GEMM: one image's GEMM has N = oh*ow columns (64 on LeNet's
// second layer), too few to amortise packing and the C updates, so each
// thread runs im2col on several images side by side (col [kk, nb*oh*ow]) and
// one GEMM over them. About kConvCols columns per GEMM, col at most
// kConvMaxCol floats; the thread's share split into near-equal chunks.
// Pointwise convolutions read x directly: one image per GEMM.
// Measured (1 thread, LeNet's second layer, 64 images): 128, 256 and 512
// columns within 3 % of each other; 1 image per GEMM 10-15 % slower.
constexpr int64_t kConvCols = 256;
constexpr int64_t kConvMaxCol = 512 * 1024;
// col is built (and consumed) in blocks of at most kConvRows rows, so that the
// block, its packed copy and the output stay in L2: the whole col of a chunk
// (800 KiB on LeNet's second layer at 256 columns) made im2col store-bound.
// kConvRows matches the GEMM's K block (even_block(K, 256)): the same sums.
constexpr int64_t kConvRows = 256;
int64_t row_block(int64_t kk) {
  const int64_t nblk = (kk + kConvRows - 1) / kConvRows;
  return nblk > 0 ? (kk + nblk - 1) / nblk : 1;
}
int64_t chunk_images(const ConvGeom& g, int64_t kk, int64_t share) {
  if (pointwise(g) || share <= 1) return 1;
  const int64_t ohw = g.oh * g.ow;
  int64_t nb = std::max<int64_t>(1, kConvCols / std::max<int64_t>(ohw, 1));
  nb = std::min(nb, std::max<int64_t>(1, kConvMaxCol / std::max<int64_t>(kk * ohw, 1)));
  nb = std::min(nb, share);
  const int64_t chunks = (share + nb - 1) / nb;
  return (share + chunks - 1) / chunks;
}


// y[b, gi*og + q, p] = act(src[q*ld + l] + bias) for the nc columns l of a
// [og, nc] block whose first column is global column j0 = b*ohw + p of the
// batch (images side by side). ReLU runs here (ref/bias_act.cc's z < 0 ? 0 :
// z); the caller runs the other activations over whole images.
void scatter_cols(const ConvGeom& g, int64_t og, int64_t gi, const float* bias, Act act, const float* src,
                  int64_t ld, int64_t j0, int64_t nc, float* y) {
  const int64_t ohw = g.oh * g.ow;
  for (int64_t l = 0; l < nc;) {
    const int64_t j = j0 + l, b = j / ohw, p0 = j % ohw, len = std::min(nc - l, ohw - p0);
    float* yb = y + (b * g.o + gi * og) * ohw + p0;
    for (int64_t q = 0; q < og; ++q) {
      const float* s = src + q * ld + l;
      float* d = yb + q * ohw;
      const float bq = bias ? bias[gi * og + q] : 0.0f;
      if (act == Act::Relu && bias) {
        for (int64_t t = 0; t < len; ++t) {
          const float z = s[t] + bq;
          d[t] = z < 0 ? 0.0f : z;
        }
      } else if (act == Act::Relu) {
        for (int64_t t = 0; t < len; ++t) d[t] = s[t] < 0 ? 0.0f : s[t];
      } else if (bias) {
        for (int64_t t = 0; t < len; ++t) d[t] = s[t] + bq;
      } else {
        for (int64_t t = 0; t < len; ++t) d[t] = s[t];
      }
    }
    l += len;
  }
}

// c[r*ldc + t] = act(c[r*ldc + t] + bias[r]) over an m x n tile (act: None or ReLU;
// the same arithmetic as scatter_cols).
void tile_epilogue(const float* bias, Act act, int64_t m, int64_t n, float* c, int64_t ldc) {
  const bool relu = act == Act::Relu;
  if (!bias && !relu) return;
  for (int64_t r = 0; r < m; ++r) {
    float* row = c + r * ldc;
    if (bias && relu) {
      const float bq = bias[r];
      for (int64_t t = 0; t < n; ++t) {
        const float z = row[t] + bq;
        row[t] = z < 0 ? 0.0f : z;
      }
    } else if (relu) {
      for (int64_t t = 0; t < n; ++t) row[t] = row[t] < 0 ? 0.0f : row[t];
    } else {
      const float bq = bias[r];
      for (int64_t t = 0; t < n; ++t) row[t] += bq;
    }
  }
}

// ---- forward with im2col packed straight into the GEMM's B panels ----------
// The batched im2col above writes col, then the GEMM copies it into NR-wide
// panels: two passes over the largest operand (im2col + pack_b were 16 % of
// batch-256 inference in perf). Here the forward runs the GEMM's own
// micro-kernel (gemm_detail::Config) over B panels built directly from x: A =
// w_g packed once per call (all K blocks, shared by the threads), then per
// thread and block of kDirectNC columns (images side by side) and K block:
// pack B from x, micro-kernels straight into y (a panel inside one image) with
// the bias and ReLU on the tile after the last K block, or into a [og, nc]
// block scattered afterwards (a panel across two images). Used when w_g
// packed fits L2 (og*kk <= kDirectMaxA floats). Measured (1 thread, Zen 4):
// LeNet conv2 forward 80 -> 96 GF/s, conv1 49 -> 61 GF/s at batch 64.
// Compiling this packing and the tile epilogue for AVX2 (32-byte moves) was
// tried and measured no faster (the copies are bound by L2, not by the
// number of store instructions), so they stay portable.

// The GEMM configuration behind the table's gemm: gemm/driver.cc's per-ISA
// configs; avx512/fill.cc keeps the AVX2 GEMM on double-pumped AVX-512 (Zen 4).
const gemm_detail::Config* table_gemm_config(const KernelTable& k) {
  const char* isa = k.isa;
  if (std::strcmp(isa, "avx512") == 0 && cpu_features().avx512_double_pumped) isa = "avx2";
  return gemm_detail::config_for(isa);
}

constexpr int64_t kDirectNC = 256;
constexpr int64_t kDirectMaxA = 128 * 1024;

// Bp: ceil(nc/NR) panels of kc x NR: element (k - k0, l) of the col block
// (rows [k0, k0+kc), columns [j0, j0+nc) of the batch's col) at
// Bp[(l/NR)*NR*kc + (k-k0)*NR + l%NR]; zeros where padded and past nc.
void pack_b_im2col(const ConvGeom& g, int64_t cg, int64_t gi, const float* x, int64_t k0, int64_t kc, int64_t j0,
                   int64_t nc, int64_t NR, float* Bp) {
  const int64_t ohw = g.oh * g.ow, hw = g.h * g.w, khw = g.kh * g.kw;
  const int64_t npan = (nc + NR - 1) / NR;
  if (nc % NR) {  // the last panel's padding columns
    float* last = Bp + (npan - 1) * NR * kc;
    for (int64_t k = 0; k < kc; ++k)
      for (int64_t t = nc % NR; t < NR; ++t) last[k * NR + t] = 0.0f;
  }
  // Every read inside the image (no padding reached): the source of row k is
  // the run's base + koff[k], one copy per (run, k).
  const bool interior = g.ph == 0 && g.pw == 0 && (g.oh - 1) * g.sh + (g.kh - 1) * g.dh < g.h &&
                        (g.ow - 1) * g.sw + (g.kw - 1) * g.dw < g.w;
  if (interior && g.sw == 1) {
    thread_local std::vector<int64_t> koff;
    if ((int64_t)koff.size() < kc) koff.resize((size_t)kc);
    {
      int64_t c = k0 / khw, u = k0 / g.kw % g.kh, v = k0 % g.kw;
      for (int64_t k = 0; k < kc; ++k) {
        koff[(size_t)k] = (c * g.h + u * g.dh) * g.w + v * g.dw;
        if (++v == g.kw) {
          v = 0;
          if (++u == g.kh) {
            u = 0;
            ++c;
          }
        }
      }
    }
    const int64_t* ko = koff.data();
    for (int64_t l = 0; l < nc;) {
      const int64_t j = j0 + l, b = j / ohw, p = j % ohw, i = p / g.ow, jx = p % g.ow;
      const int64_t len = std::min({nc - l, g.ow - jx, NR - l % NR});
      float* d = Bp + (l / NR) * NR * kc + l % NR;
      const float* sb = x + (b * g.c + gi * cg) * hw + i * g.sh * g.w + jx;
      if (len == 8) {
        for (int64_t k = 0; k < kc; ++k, d += NR) std::memcpy(d, sb + ko[k], 8 * sizeof(float));
      } else if (len == 16) {
        for (int64_t k = 0; k < kc; ++k, d += NR) std::memcpy(d, sb + ko[k], 16 * sizeof(float));
      } else {
        for (int64_t k = 0; k < kc; ++k, d += NR) {
          const float* src = sb + ko[k];
          for (int64_t t = 0; t < len; ++t) d[t] = src[t];
        }
      }
      l += len;
    }
    return;
  }
  // Segments: runs of columns in one output row of one image and one panel.
  for (int64_t l = 0; l < nc;) {
    const int64_t j = j0 + l, b = j / ohw, p = j % ohw, i = p / g.ow, jx = p % g.ow;
    const int64_t len = std::min({nc - l, g.ow - jx, NR - l % NR});
    float* dst0 = Bp + (l / NR) * NR * kc + l % NR;
    const float* xb = x + (b * g.c + gi * cg) * hw;
    int64_t c = k0 / khw, u = k0 / g.kw % g.kh, v = k0 % g.kw;
    for (int64_t k = 0; k < kc; ++k) {
      float* d = dst0 + k * NR;
      const int64_t yy = i * g.sh - g.ph + u * g.dh;
      const int64_t x0 = jx * g.sw - g.pw + v * g.dw;  // input column of the run's first output
      if (yy < 0 || yy >= g.h) {
        for (int64_t t = 0; t < len; ++t) d[t] = 0.0f;
      } else {
        const float* xr = xb + (c * g.h + yy) * g.w;
        if (g.sw == 1 && x0 >= 0 && x0 + len <= g.w) {
          const float* xs = xr + x0;
          if (len == 8) {
            std::memcpy(d, xs, 8 * sizeof(float));
          } else {
            for (int64_t t = 0; t < len; ++t) d[t] = xs[t];
          }
        } else {
          for (int64_t t = 0; t < len; ++t) {
            const int64_t xx = x0 + t * g.sw;
            d[t] = xx >= 0 && xx < g.w ? xr[xx] : 0.0f;
          }
        }
      }
      if (++v == g.kw) {
        v = 0;
        if (++u == g.kh) {
          u = 0;
          ++c;
        }
      }
    }
    l += len;
  }
}

bool conv2d_direct(const KernelTable& k, const ConvGeom& g, const float* x, const float* w, const float* bias,
                   Act act, float* y, int nth) {
  const int64_t G = g.groups, cg = g.c / G, og = g.o / G, kk = cg * g.kh * g.kw, ohw = g.oh * g.ow;
  const gemm_detail::Config* cfg = table_gemm_config(k);
  if (!cfg || og * kk > kDirectMaxA) return false;
  const int64_t MR = cfg->mr, NR = cfg->nr, kb = row_block(kk);
  const int64_t ogr = (og + MR - 1) / MR * MR;
  // Ap: per group, per K block [k0, k0+kc): ogr x kc packed (offset ogr*k0 in the group's ogr*kk).
  std::vector<float> Ap((size_t)(G * ogr * kk));
  for (int64_t gi = 0; gi < G; ++gi)
    for (int64_t k0 = 0; k0 < kk; k0 += kb)
      cfg->pack_a(og, std::min(kb, kk - k0), w + gi * og * kk + k0, kk, 1, Ap.data() + gi * ogr * kk + ogr * k0);
  over_batch(nth, g.n, [&](int64_t b0, int64_t b1, int) {
    const int64_t J0 = b0 * ohw, J1 = b1 * ohw;
    const int64_t ncmax = std::min(kDirectNC, (J1 - J0 + NR - 1) / NR * NR);
    float* Bp = t_conv_scratch.get(0, (size_t)(ncmax * kb) + 16);
    float* Cb = t_conv_scratch.get(1, (size_t)(og * ncmax));
    Bp = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(Bp) + 63) & ~uintptr_t(63));  // 64-byte aligned
    for (int64_t gi = 0; gi < G; ++gi) {
      const float* Ag = Ap.data() + gi * ogr * kk;
      for (int64_t jc = J0; jc < J1; jc += ncmax) {
        const int64_t nc = std::min(ncmax, J1 - jc);
        bool straddle = false;  // a panel across two images: computed in Cb, scattered after
        for (int64_t k0 = 0; k0 < kk; k0 += kb) {
          const int64_t kc = std::min(kb, kk - k0);
          const bool last = k0 + kc == kk;
          pack_b_im2col(g, cg, gi, x, k0, kc, jc, nc, NR, Bp);
          const float beta = k0 == 0 ? 0.0f : 1.0f;
          for (int64_t jr = 0; jr < nc; jr += NR) {
            const int64_t n = std::min(NR, nc - jr), j = jc + jr, b = j / ohw, p = j % ohw;
            if (p + n > ohw) {
              straddle = true;
              for (int64_t ir = 0; ir < og; ir += MR)
                cfg->ukernel(kc, Ag + ogr * k0 + ir * kc, Bp + jr * kc, Cb + ir * nc + jr, nc, 1.0f, beta,
                             std::min(MR, og - ir), n);
              continue;
            }
            // The panel's columns are one image's pixels [p, p + n): the tile goes to y itself,
            // and after the last K block gets its bias and ReLU while it is in L1.
            float* yc = y + (b * g.o + gi * og) * ohw + p;
            for (int64_t ir = 0; ir < og; ir += MR) {
              const int64_t m = std::min(MR, og - ir);
              float* c = yc + ir * ohw;
              cfg->ukernel(kc, Ag + ogr * k0 + ir * kc, Bp + jr * kc, c, ohw, 1.0f, beta, m, n);
              if (last) tile_epilogue(bias ? bias + gi * og + ir : nullptr, act, m, n, c, ohw);
            }
          }
        }
        if (straddle) {  // only the straddling panels' columns
          for (int64_t jr = 0; jr < nc; jr += NR) {
            const int64_t n = std::min(NR, nc - jr), j = jc + jr;
            if (j % ohw + n > ohw) scatter_cols(g, og, gi, bias, act, Cb + jr, nc, j, n, y);
          }
        }
      }
    }
    if (act != Act::None && act != Act::Relu) k.bias_act(1, (b1 - b0) * g.o * ohw, y + b0 * g.o * ohw, nullptr, act);
  });
  return true;
}
}  // namespace

void conv2d(const KernelTable& k, const ConvGeom& g, const float* x, const float* w, const float* bias,
            Act act, float* y) {
  const int64_t G = g.groups, cg = g.c / G, og = g.o / G, kk = cg * g.kh * g.kw;
  const int64_t hw = g.h * g.w, ohw = g.oh * g.ow;
  if (g.n == 0 || g.o == 0 || ohw == 0) return;
  const bool pw1 = pointwise(g);
  // One image: the im2col path below, whose GEMM threads itself.
  if (!pw1 && g.n >= 2 && conv2d_direct(k, g, x, w, bias, act, y, batch_threads(g))) return;
  over_batch(batch_threads(g), g.n, [&](int64_t b0, int64_t b1, int) {
    const int64_t nb = chunk_images(g, kk, b1 - b0), kb = row_block(kk);
    float* col = pw1 ? nullptr : t_conv_scratch.get(0, (size_t)(kb * nb * ohw));
    float* tmp = t_conv_scratch.get(1, (size_t)(og * nb * ohw));
    for (int64_t bc = b0; bc < b1; bc += nb) {
      const int64_t nbc = std::min(nb, b1 - bc), ld = nbc * ohw;
      for (int64_t gi = 0; gi < G; ++gi) {
        if (pw1) {  // x is col (nbc == 1)
          gemm(k, false, false, og, ld, kk, 1.0f, w + gi * og * kk, kk, x + (bc * g.c + gi * cg) * hw, ld, 0.0f,
               tmp, ld);
        } else {
          // tmp [og, nbc*ohw] = w_g [og, kk] col [kk, nbc*ohw], col built one row block at a time
          for (int64_t k0 = 0; k0 < kk; k0 += kb) {
            const int64_t k1 = std::min(kk, k0 + kb);
            for (int64_t i = 0; i < nbc; ++i)
              f32_im2col_rows__ref(g, k0, k1, x + ((bc + i) * g.c + gi * cg) * hw, col + i * ohw, ld);
            gemm(k, false, false, og, ld, k1 - k0, 1.0f, w + gi * og * kk + k0, kk, col, ld, k0 == 0 ? 0.0f : 1.0f,
                 tmp, ld);
          }
        }
        // Scatter each image's columns to its NCHW block, adding the bias.
        scatter_cols(g, og, gi, bias, act, tmp, ld, bc * ohw, ld, y);
      }
      // ReLU ran in the scatter; the others on the chunk's blocks while they are in cache.
      if (act != Act::None && act != Act::Relu) k.bias_act(1, nbc * g.o * ohw, y + bc * g.o * ohw, nullptr, act);
    }
  });
}

void conv2d_bwd_data(const KernelTable& k, const ConvGeom& g, const float* dy, const float* w, float* dx) {
  const int64_t G = g.groups, cg = g.c / G, og = g.o / G, kk = cg * g.kh * g.kw;
  const int64_t hw = g.h * g.w, ohw = g.oh * g.ow;
  if (g.n == 0 || g.c == 0 || hw == 0) return;
  if (ohw == 0 || g.o == 0) {
    std::fill(dx, dx + g.n * g.c * hw, 0.0f);
    return;
  }
  const bool pw1 = pointwise(g);
  over_batch(batch_threads(g), g.n, [&](int64_t b0, int64_t b1, int) {
    const int64_t nb = chunk_images(g, kk, b1 - b0), kb = row_block(kk);
    float* col = pw1 ? nullptr : t_conv_scratch.get(0, (size_t)(kb * nb * ohw));
    float* dyc = nb > 1 ? t_conv_scratch.get(1, (size_t)(og * nb * ohw)) : nullptr;
    for (int64_t bc = b0; bc < b1; bc += nb) {
      const int64_t nbc = std::min(nb, b1 - bc), ld = nbc * ohw;
      float* dxb = dx + bc * g.c * hw;
      if (!pw1) std::fill(dxb, dxb + nbc * g.c * hw, 0.0f);
      for (int64_t gi = 0; gi < G; ++gi) {
        const float* wg = w + gi * og * kk;
        const float* B = dy + (bc * g.o + gi * og) * ohw;
        if (nbc > 1) {  // dyc [og, nbc*ohw]: the chunk's images side by side
          for (int64_t q = 0; q < og; ++q)
            for (int64_t i = 0; i < nbc; ++i)
              std::memcpy(dyc + q * ld + i * ohw, dy + ((bc + i) * g.o + gi * og + q) * ohw,
                          (size_t)ohw * sizeof(float));
          B = dyc;
        }
        if (pw1) {  // dx_g [cg, hw] = w_g^T [cg, og] dy_g [og, hw]
          gemm(k, true, false, cg, ohw, og, 1.0f, wg, kk, B, ohw, 0.0f, dxb + gi * cg * hw, hw);
        } else {
          // col [kk, nbc*ohw] = w_g^T [kk, og] dy_g [og, nbc*ohw], one row block at a time
          for (int64_t k0 = 0; k0 < kk; k0 += kb) {
            const int64_t k1 = std::min(kk, k0 + kb);
            gemm(k, true, false, k1 - k0, ld, og, 1.0f, wg + k0, kk, B, ld, 0.0f, col, ld);
            for (int64_t i = 0; i < nbc; ++i)
              f32_col2im_rows__ref(g, k0, k1, col + i * ohw, ld, dx + ((bc + i) * g.c + gi * cg) * hw);
          }
        }
      }
    }
  });
}

void conv2d_bwd_weight(const KernelTable& k, const ConvGeom& g, const float* x, const float* dy, float* dw) {
  const int64_t G = g.groups, cg = g.c / G, og = g.o / G, kk = cg * g.kh * g.kw;
  const int64_t hw = g.h * g.w, ohw = g.oh * g.ow, wn = g.o * kk;
  if (wn == 0) return;
  if (g.n == 0 || ohw == 0) {
    std::fill(dw, dw + wn, 0.0f);
    return;
  }
  const bool pw1 = pointwise(g);
  const int nth = batch_threads(g);
  std::vector<float> part(nth > 1 ? (size_t)(nth - 1) * (size_t)wn : 0);
  over_batch(nth, g.n, [&](int64_t b0, int64_t b1, int ith) {
    float* acc = ith == 0 ? dw : part.data() + (size_t)(ith - 1) * (size_t)wn;
    const int64_t nb = chunk_images(g, kk, b1 - b0), kb = row_block(kk);
    float* col = pw1 ? nullptr : t_conv_scratch.get(0, (size_t)(kb * nb * ohw));
    float* dyc = nb > 1 ? t_conv_scratch.get(1, (size_t)(og * nb * ohw)) : nullptr;
    for (int64_t bc = b0; bc < b1; bc += nb) {
      const int64_t nbc = std::min(nb, b1 - bc), ld = nbc * ohw;
      for (int64_t gi = 0; gi < G; ++gi) {
        const float* A = dy + (bc * g.o + gi * og) * ohw;
        if (nbc > 1) {
          for (int64_t q = 0; q < og; ++q)
            for (int64_t i = 0; i < nbc; ++i)
              std::memcpy(dyc + q * ld + i * ohw, dy + ((bc + i) * g.o + gi * og + q) * ohw,
                          (size_t)ohw * sizeof(float));
          A = dyc;
        }
        // dw_g [og, kk] (+)= dy_g [og, nbc*ohw] col^T [nbc*ohw, kk], one block of kk at a time
        const float beta = bc == b0 ? 0.0f : 1.0f;
        if (pw1) {
          gemm(k, false, true, og, kk, ld, 1.0f, A, ld, x + (bc * g.c + gi * cg) * hw, ld, beta, acc + gi * og * kk,
               kk);
          continue;
        }
        for (int64_t k0 = 0; k0 < kk; k0 += kb) {
          const int64_t k1 = std::min(kk, k0 + kb);
          for (int64_t i = 0; i < nbc; ++i)
            f32_im2col_rows__ref(g, k0, k1, x + ((bc + i) * g.c + gi * cg) * hw, col + i * ohw, ld);
          gemm(k, false, true, og, k1 - k0, ld, 1.0f, A, ld, col, ld, beta, acc + gi * og * kk + k0, kk);
        }
      }
    }
  });
  // Shares are contiguous image ranges in thread order: add them in that order.
  for (int t = 1; t < nth; ++t) {
    int64_t b, e;
    partition(g.n, t, nth, 1, &b, &e);
    if (b >= e) continue;
    const float* p = part.data() + (size_t)(t - 1) * (size_t)wn;
    for (int64_t i = 0; i < wn; ++i) dw[i] += p[i];
  }
}

void conv2d(const ConvGeom& g, const float* x, const float* w, const float* bias, Act act, float* y) {
  conv2d(active(), g, x, w, bias, act, y);
}
void conv2d_bwd_data(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  conv2d_bwd_data(active(), g, dy, w, dx);
}
void conv2d_bwd_weight(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  conv2d_bwd_weight(active(), g, x, dy, dw);
}

}  // namespace ops
}  // namespace fathom
