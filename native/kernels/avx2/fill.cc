// The AVX2+FMA table: the reference entries (already filled by dispatch)
// overridden with the kernels of this folder and the AVX2 GEMM.
//
// This TU is compiled with -mavx2 -mfma; dispatch only builds the table after
// checking the CPU, and FATHOM_BASELINE_FN (dispatch.h) keeps this function's
// own code baseline as a second guard.
#include "../dispatch.h"
#include "../gemm/gemm.h"
#include "avx2.h"

namespace fathom {

FATHOM_BASELINE_FN void fill_avx2(KernelTable& t) {
  t.isa = "avx2";
  t.unary = f32_unary__avx2;
  t.unary_bwd = f32_unary_bwd__avx2;
  t.binary = f32_binary__avx2;
  t.binary_bcast = f32_binary_bcast__avx2;
  t.reduce = f32_reduce__avx2;
  t.softmax = f32_softmax__avx2;
  t.softmax_bwd = f32_softmax_bwd__avx2;
  t.xent_labels = f32_xent_labels__avx2;
  t.xent_probs = f32_xent_probs__avx2;
  t.fill = f32_fill__avx2;
  t.copy = f32_copy__avx2;
  t.bias_act = f32_bias_act__avx2;
  t.bias_act_bwd = f32_bias_act_bwd__avx2;
  t.maxout = f32_maxout__avx2;
 
  // --- #11 cells ---
  t.rnn_row_fwd = f32_rnn_row_fwd__avx2;
  t.rnn_row_bwd = f32_rnn_row_bwd__avx2;
  // --- end #11 cells ---
  t.max_pool2d = f32_max_pool2d__avx2;
  t.max_pool2d_bwd = f32_max_pool2d_bwd__avx2;
  t.avg_pool2d = f32_avg_pool2d__avx2;
  t.avg_pool2d_bwd = f32_avg_pool2d_bwd__avx2;
  t.adaptive_avg_pool2d = f32_adaptive_avg_pool2d__avx2;
  t.adaptive_avg_pool2d_bwd = f32_adaptive_avg_pool2d_bwd__avx2;
  t.maxout_bwd = f32_maxout_bwd__avx2;
  t.sgd_step = f32_sgd_step__avx2;
  t.optim_step[(int)Optim::Adam] = f32_adam_step__avx2;
  t.optim_step[(int)Optim::Adagrad] = f32_adagrad_step__avx2;
  t.optim_step[(int)Optim::RMSprop] = f32_rmsprop_step__avx2;
  t.optim_step[(int)Optim::Adadelta] = f32_adadelta_step__avx2;
  t.optim_step[(int)Optim::Adamax] = f32_adamax_step__avx2;
  gemm_fill_avx2(t);
  t.dropout = f32_dropout__avx2;
  t.bn_stats = f32_bn_stats__avx2;
  t.bn_fwd = f32_bn_fwd__avx2;
  t.bn_bwd = f32_bn_bwd__avx2;
  t.ln_fwd = f32_ln_fwd__avx2;
  t.ln_bwd_rows = f32_ln_bwd_rows__avx2;
  t.ln_bwd_cols = f32_ln_bwd_cols__avx2;
}

}  // namespace fathom
