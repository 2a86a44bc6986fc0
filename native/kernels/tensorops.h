// #11 natops: the tensor-op kernels (index_select and its backward, gather and its backward, cumsum).
// Scalar only (ref/tensorops.cc): memory-bound single passes where a vector body
// does not pay over memcpy / a sequential prefix sum. The callers (the binding,
// lib/backend/checked.ts) check every size, length and index before calling.
#pragma once
#include <cstdint>

namespace fathom::ops {

// y[a, i, b] = x[a, idx[i], b] for a < outer, i < m, b < inner: x is (outer, n, inner), y is
// (outer, m, inner); every idx[i] in [0, n). Rows of `inner` floats are copied with memcpy.
void index_select(int64_t outer, int64_t n, int64_t inner, const float* x, const int32_t* idx, int64_t m, float* y);

// The backward of index_select (an index-add): dx = 0, then dx[a, idx[i], b] += dy[a, i, b] for
// a, then i ascending (a fixed order: repeats add up deterministically, as the TS twin does).
void index_select_backward(int64_t outer, int64_t n, int64_t inner, const float* dy, const int32_t* idx, int64_t m,
                           float* dx);

// torch.gather along the middle axis: y[a, j, b] = x[a, idx[a, j, b], b] for a < outer, j < m,
// b < inner: x is (outer, n, inner), idx and y are (outer, m, inner); every idx in [0, n).
void gather(int64_t outer, int64_t n, int64_t inner, const float* x, const int32_t* idx, int64_t m, float* y);

// The backward of gather (a scatter-add): dx = 0, then dx[a, idx[a, j, b], b] += dy[a, j, b] for
// a, then j, then b ascending (a fixed order: repeats add up deterministically, as the TS twin does).
void gather_backward(int64_t outer, int64_t n, int64_t inner, const float* dy, const int32_t* idx, int64_t m,
                     float* dx);

// Inclusive prefix sum along the middle axis of x (outer, n, inner), accumulated in double and
// rounded on store: y[a, j, b] = sum_{k <= j} x[a, k, b]; reverse: sum_{k >= j} (the backward).
void cumsum(int64_t outer, int64_t n, int64_t inner, const float* x, bool reverse, float* y);

// torch.where over broadcast strides: out (contiguous, `shape` of ndim dims) =
// cond[idx·cs] != 0 ? a[idx·as] : b[idx·bs] (a NaN cond counts as true, being non-zero).
// Strides are in elements; the caller checks that every read lies inside its operand.
void where(int ndim, const int64_t* shape, const float* cond, const int64_t* cs, const float* a, const int64_t* as,
           const float* b, const int64_t* bs, float* out);

}  // namespace fathom::ops
