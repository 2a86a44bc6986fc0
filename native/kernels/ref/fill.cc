// The reference table: every entry set to the portable scalar kernel.
#include "../dispatch.h"
#include "../gemm/gemm.h"
#include "ref.h"

namespace fathom {

void fill_ref(KernelTable& t) {
  t.isa = "scalar";
  t.unary = f32_unary__ref;
  t.unary_bwd = f32_unary_bwd__ref;
  t.binary = f32_binary__ref;
  t.binary_bcast = f32_binary_bcast__ref;
  t.reduce = f32_reduce__ref;
  t.softmax = f32_softmax__ref;
  t.softmax_bwd = f32_softmax_bwd__ref;
  t.xent_labels = f32_xent_labels__ref;
  t.xent_labels_bwd = f32_xent_labels_bwd__ref;
  t.xent_probs = f32_xent_probs__ref;
  t.xent_probs_bwd = f32_xent_probs_bwd__ref;
  t.mse = f32_mse__ref;
  t.mse_bwd = f32_mse_bwd__ref;
  t.transpose2d = f32_transpose2d__ref;
  t.argmax = f32_argmax__ref;
  t.fill = f32_fill__ref;
  t.copy = f32_copy__ref;
  t.rand_uniform = f32_rand_uniform__ref;
  t.rand_normal = f32_rand_normal__ref;
  gemm_fill_ref(t);
  t.bias_act = f32_bias_act__ref;
  t.bias_act_bwd = f32_bias_act_bwd__ref;
  t.maxout = f32_maxout__ref;
  t.maxout_bwd = f32_maxout_bwd__ref;
  t.sgd_step = f32_sgd_step__ref;
  t.optim_step[(int)Optim::Adam] = f32_adam_step__ref;
  t.optim_step[(int)Optim::Adagrad] = f32_adagrad_step__ref;
  t.optim_step[(int)Optim::RMSprop] = f32_rmsprop_step__ref;
  t.optim_step[(int)Optim::Adadelta] = f32_adadelta_step__ref;
  t.optim_step[(int)Optim::Adamax] = f32_adamax_step__ref;
  t.dropout = f32_dropout__ref;
  // --- #11 cells ---
  t.rnn_row_fwd = f32_rnn_row_fwd__ref;
  t.rnn_row_bwd = f32_rnn_row_bwd__ref;
  // --- end #11 cells ---
  // normalisation
  t.bn_stats = f32_bn_stats__ref;
  t.bn_fwd = f32_bn_fwd__ref;
  t.bn_bwd = f32_bn_bwd__ref;
  t.ln_fwd = f32_ln_fwd__ref;
  t.ln_bwd_rows = f32_ln_bwd_rows__ref;
  t.ln_bwd_cols = f32_ln_bwd_cols__ref;
 
  t.max_pool2d = f32_max_pool2d__ref;
  t.max_pool2d_bwd = f32_max_pool2d_bwd__ref;
  t.avg_pool2d = f32_avg_pool2d__ref;
  t.avg_pool2d_bwd = f32_avg_pool2d_bwd__ref;
  t.adaptive_avg_pool2d = f32_adaptive_avg_pool2d__ref;
  t.adaptive_avg_pool2d_bwd = f32_adaptive_avg_pool2d_bwd__ref;
}

}  // namespace fathom
