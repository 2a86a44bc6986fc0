/**
 * Activity-regularisation layers for sparse autoencoders: identity in the
 * forward pass, they add a penalty on the activations passing through them to
 * the training loss (Keras's `activity_regularizer` / ActivityRegularization).
 *
 *   ActivityRegularization({ l1, l2 })    (l1·Σ|a| + l2·Σa²) / N           Keras's layer and definition
 *   KLSparsity({ rho, beta, eps })        β·Σ_j KL(ρ ‖ ρ̂_j), ρ̂ = mean_n a  Ng, CS294A "Sparse autoencoder"
 *
 * How the penalty reaches the loss: forward(x) computes it from x, recorded
 * on the tape when recording, and keeps it; ownRegularizationLoss() returns
 * that tensor, the penalty of the LAST forward. So fit() adds the current
 * batch's penalty to the loss it minimises and reports (it reads the taped
 * penalties right after each batch's forward), evaluate() adds each batch's
 * after that batch's forward, and a hand-written loop does
 * `add(lossFn(model.forward(x), y), model.regularizationLoss() ?? 0)` — one
 * forward, one penalty: it is never added twice, and a layer reached twice in
 * a module tree counts once (as every module penalty).
 *
 * As Keras (its Layer.__call__ adds the activity loss on every call, and
 * test_step adds the layer losses to the evaluated loss), the penalty is
 * computed in eval() mode too: evaluate() reports it. predict() computes it
 * and nobody reads it (one pass over the activations).
 *
 * Not supported: one instance applied at two places of one forward pass (a
 * shared layer in the functional API) keeps only the last application's
 * penalty. These layers hold no weights: use one instance per place.
 */
import { Tensor } from '../tensor/tensor.js';
import { describe } from '../ops/record.js';
import { fmt } from '../tensor/shape.js';
import { Module, fixedStructure, type ModuleConfig } from './module.js';
import {
  activityL1L2Checked, activityL1L2Settings, klSparsityChecked, klSparsitySettings,
  type ActivityL1L2Options, type KLSparsityOptions,
} from '../losses/sparsity.js';

function checkInput(layer: string, x: unknown, minRank: number): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`fathom.${layer}: expected a Tensor input, got ${describe(x)}`);
  if (x.dtype !== 'float32') throw new Error(`fathom.${layer}: expected a float32 input, got ${x.dtype} ${fmt(x.shape)}`);
  if (x.rank < minRank) throw new Error(`fathom.${layer}: expected an input [N, ...] with a batch dimension, got shape ${fmt(x.shape)}`);
  return x;
}

/**
 * Keras's ActivityRegularization layer: y = x (any shape, the gradient passes
 * through), and the penalty (l1·Σ|x| + l2·Σx²) / N of its input x [N, ...]
 * joins the training loss, N the batch size. The division by N is Keras's
 * documented definition (tf.keras always divided; Keras 3 does since
 * keras-team/keras#22021): the strength does not depend on the batch size.
 * Defaults l1 = l2 = 0 (no penalty), as Keras. Put it after the layer whose
 * output is to be sparse: `Linear(784, 256), ReLU(), ActivityRegularization({ l1: 1e-4 })`.
 * See the file comment for how fit() and evaluate() add the penalty.
 * @throws if l1 or l2 is negative, not finite or above 3.4e38 (float32's largest), for an unknown option; in
 *   forward, for a non-float32 input.
 */
export class ActivityRegularization extends Module {
  readonly l1: number;
  readonly l2: number;
  #penalty: Tensor | null = null;
  constructor(options: ActivityL1L2Options = {}) {
    super();
    const { l1, l2 } = activityL1L2Settings('ActivityRegularization', options);
    this.l1 = l1;
    this.l2 = l2;
  }
  forward(x: Tensor): Tensor {
    checkInput('ActivityRegularization', x, 0);
    this.#penalty = this.l1 === 0 && this.l2 === 0 ? null : activityL1L2Checked(x, this.l1, this.l2);
    return x;
  }
  /** The penalty of the last forward pass (a scalar on the tape), or null before any or with l1 = l2 = 0. */
  override ownRegularizationLoss(): Tensor | null {
    return this.#penalty;
  }
  override config(): ModuleConfig {
    return { type: 'ActivityRegularization', l1: this.l1, l2: this.l2 };
  }
}

/**
 * The KL-divergence sparsity penalty of a sparse autoencoder as a layer
 * (Ng, CS294A Lecture notes "Sparse autoencoder", 2011, §2.3): y = x, and
 *   β · Σ_j [ρ log(ρ/ρ̂_j) + (1 − ρ) log((1 − ρ)/(1 − ρ̂_j))]
 * joins the training loss, ρ̂_j the mean over the batch of unit j's
 * activation, clamped into [eps, 1 − eps] (see losses.klSparsity). x is
 * [N, D] (D hidden units) or [N, ...] (every position a unit), with values in
 * [0, 1]: put it after a Sigmoid, `Linear(784, 196), Sigmoid(), KLSparsity()`.
 * Defaults rho = 0.05, beta = 3 (the notes' example values), eps = 1e-6.
 * The notes add the term to ½‖ĥ − x‖² summed over pixels and averaged over
 * samples; against a per-pixel mean loss (mse, binaryCrossEntropy) scale β
 * down accordingly. See the file comment for how fit() and evaluate() add it.
 * @throws if rho is outside (0, 1), beta < 0 or above 3.4e38, eps outside (0, 0.5), for an
 *   unknown option; in forward, for a non-float32 input or one without a batch dimension.
 */
export class KLSparsity extends Module {
  readonly rho: number;
  readonly beta: number;
  readonly eps: number;
  #penalty: Tensor | null = null;
  constructor(options: KLSparsityOptions = {}) {
    super();
    const { rho, beta, eps } = klSparsitySettings('KLSparsity', options);
    this.rho = rho;
    this.beta = beta;
    this.eps = eps;
  }
  forward(x: Tensor): Tensor {
    checkInput('KLSparsity', x, 1);
    this.#penalty = this.beta === 0 ? null : klSparsityChecked(x, this.rho, this.beta, this.eps);
    return x;
  }
  /** The penalty of the last forward pass (a scalar on the tape), or null before any or with beta = 0. */
  override ownRegularizationLoss(): Tensor | null {
    return this.#penalty;
  }
  override config(): ModuleConfig {
    return { type: 'KLSparsity', rho: this.rho, beta: this.beta, eps: this.eps };
  }
}

fixedStructure.add(ActivityRegularization);
fixedStructure.add(KLSparsity);
