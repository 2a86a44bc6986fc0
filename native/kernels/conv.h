// Convolution: conv2d forward, backward-data and backward-weight
// over NCHW float32, PyTorch's semantics. conv1d is conv2d with H = 1, and the
// transposed convolution is conv2d's data gradient (forward) and vice versa.
//
// Geometry (ConvGeom): input x [n, c, h, w], weight [o, c/groups, kh, kw],
// output y [n, o, oh, ow] with
//   y[b, g*og + q, i, j] = sum_{ci < c/groups, u < kh, v < kw}
//       w[g*og + q, ci, u, v] * x[b, g*cg + ci, i*sh - ph + u*dh, j*sw - pw + v*dw]
// (cg = c/groups, og = o/groups; x outside [0, h) x [0, w) reads as 0). ph, pw
// are the top/left padding; the bottom/right padding is implicit in oh, ow
// (PyTorch's 'same' for even kernels pads one more on the bottom/right), so
// the kernels accept any oh, ow >= 0: every read is bounds-checked.
//
// Method: im2col (ref/conv.cc) + the packed GEMM, the batch split over the
// pool (a GEMM inside a pool task runs on that thread; one image alone lets
// the GEMM thread itself). Each thread puts several images side by side in
// one col [kk, nb*oh*ow] (about 256 columns) so that the GEMM's N (forward,
// backward-data) or K (backward-weight) is not one small image's oh*ow, and
// builds col in blocks of at most 256 rows (the GEMM's K block) that stay in
// L2. The forward (batch >= 2, w_g packed within 512 KiB) skips col: it
// packs x straight into the GEMM's B panels and runs the table GEMM's
// micro-kernel into y, bias + ReLU on each tile after its last K block
// (conv.cc, conv2d_direct); otherwise it scatters the [og, nb*oh*ow] GEMM
// result to NCHW adding the bias.
// 1x1 stride-1 unpadded convolutions skip im2col. backward_weight sums
// per-thread partials in thread order: deterministic for a given thread count.
#pragma once
#include <cstdint>

#include "kernels.h"

namespace fathom {

struct ConvGeom {
  int64_t n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, groups, oh, ow;
};
constexpr int kConvGeomLen = 16;  // the fields above, in order (the binding's Int32Array)

// x: one image's cg channels [cg, h, w] -> col [cg*kh*kw, oh*ow] (zeros where padded).
void f32_im2col__ref(const ConvGeom& g, int64_t cg, const float* x, float* col);
// The adjoint: dx [cg, h, w] += col scattered back (dx is accumulated into).
void f32_col2im__ref(const ConvGeom& g, int64_t cg, const float* col, float* dx);
// The same with col's rows ldcol floats apart (>= oh*ow): several images' columns
// side by side in one col [cg*kh*kw, nb*oh*ow], image i at col + i*oh*ow.
void f32_im2col_ld__ref(const ConvGeom& g, int64_t cg, const float* x, float* col, int64_t ldcol);
void f32_col2im_ld__ref(const ConvGeom& g, int64_t cg, const float* col, int64_t ldcol, float* dx);
// Rows [k0, k1) of one image's col only (row k = (ci*kh + u)*kw + v), col
// pointing at row k0: lets the drivers work on cache-sized row blocks.
void f32_im2col_rows__ref(const ConvGeom& g, int64_t k0, int64_t k1, const float* x, float* col,
                          int64_t ldcol);
void f32_col2im_rows__ref(const ConvGeom& g, int64_t k0, int64_t k1, const float* col, int64_t ldcol,
                          float* dx);

namespace ops {
// y [n, o, oh, ow] = act(conv(x [n, c, h, w], w [o, c/groups, kh, kw]) + bias[o]): the
// bias (null: none) and the activation (kernels.h Act) fused into the epilogue
// (y rows start as the bias, the GEMM adds onto them, the activation runs on
// each image's block while it is in cache).
void conv2d(const KernelTable& k, const ConvGeom& g, const float* x, const float* w, const float* bias,
            Act act, float* y);
// dx [n, c, h, w] = the data gradient of conv2d given dy [n, o, oh, ow] (dx overwritten).
void conv2d_bwd_data(const KernelTable& k, const ConvGeom& g, const float* dy, const float* w, float* dx);
// dw [o, c/groups, kh, kw] = the weight gradient given x and dy (dw overwritten).
void conv2d_bwd_weight(const KernelTable& k, const ConvGeom& g, const float* x, const float* dy, float* dw);
// On the active table.
void conv2d(const ConvGeom& g, const float* x, const float* w, const float* bias, Act act, float* y);
void conv2d_bwd_data(const ConvGeom& g, const float* dy, const float* w, float* dx);
void conv2d_bwd_weight(const ConvGeom& g, const float* x, const float* dy, float* dw);
}  // namespace ops

}  // namespace fathom
