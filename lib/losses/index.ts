/**
 * Loss functions, with PyTorch's definitions and its `reduction` option
 * ('mean' by default, 'sum', 'none'; klDiv defaults to 'batchmean'). Each
 * checks the form of its target first and names itself in the error
 * (`fathom.crossEntropy: …`), so a target in the wrong form (float class
 * labels, int32 binary labels, a [n] target for [n, 1] predictions) is
 * refused with what was expected, not a shape mismatch deep in an op.
 *
 *   regression      mse, l1, huber                       pred and target of one shape
 *   probabilistic   crossEntropy (logits), nll (log-probabilities),
 *                   binaryCrossEntropy (logits, or probabilities with fromLogits: false), klDiv
 *   margin          hinge, squaredHinge, perceptron      scores and ±1 (or 0/1) labels
 *   activity        klSparsity, activityL1L2             a penalty on activations alone (sparse autoencoders)
 */
import type { Tensor } from '../tensor/tensor.js';
import { describe } from '../ops/record.js';
import { binaryCrossEntropy, crossEntropy, klDiv, nll } from './classification.js';
import { huber, l1, mse } from './regression.js';
import { hinge, perceptron, squaredHinge } from './margin.js';

export { binaryCrossEntropy, crossEntropy, klDiv, nll, type BceOptions, type KlDivOptions } from './classification.js';
export { huber, l1, mse, type HuberOptions } from './regression.js';
export { hinge, perceptron, squaredHinge } from './margin.js';
export { REDUCTIONS, type LossOptions, type Reduction } from './common.js';
// activity penalties of sparse autoencoders (issue #12); not losses of (pred, target), so not in LOSS_NAMES
export { klSparsity, activityL1L2, type KLSparsityOptions, type ActivityL1L2Options } from './sparsity.js';

export type LossName =
  | 'crossEntropy' | 'mse' | 'binaryCrossEntropy'
  | 'l1' | 'huber' | 'hinge' | 'squaredHinge' | 'perceptron' | 'nll' | 'klDiv';
export type LossFn = (pred: Tensor, target: Tensor) => Tensor;

const BY_NAME: Record<LossName, LossFn> = {
  crossEntropy, mse, binaryCrossEntropy, l1, huber, hinge, squaredHinge, perceptron, nll, klDiv,
};

/** Every loss name lossByName knows (what save() may store). */
export const LOSS_NAMES: readonly LossName[] = Object.keys(BY_NAME) as LossName[];

/** Keras's and PyTorch's names for fathom's losses, for the hint of an unknown name (lower-cased, without _ and -). */
const OTHER_NAMES: Record<string, LossName> = {
  categoricalcrossentropy: 'crossEntropy', sparsecategoricalcrossentropy: 'crossEntropy', crossentropyloss: 'crossEntropy',
  binarycrossentropy: 'binaryCrossEntropy', bce: 'binaryCrossEntropy', bcewithlogits: 'binaryCrossEntropy', bcewithlogitsloss: 'binaryCrossEntropy', bceloss: 'binaryCrossEntropy',
  meansquarederror: 'mse', mseloss: 'mse', meanabsoluteerror: 'l1', mae: 'l1', l1loss: 'l1',
  huberloss: 'huber', kld: 'klDiv', kldiv: 'klDiv', kldivergence: 'klDiv', kullbackleiblerdivergence: 'klDiv', kldivloss: 'klDiv',
  nllloss: 'nll', squaredhinge: 'squaredHinge', hingeloss: 'hinge',
};

/**
 * The loss function for a name (with its default options), or `name`
 * itself when it is a function.
 * @throws for any other value, listing the names (and naming fathom's loss
 *   for a Keras or PyTorch name: 'mae' → 'l1').
 */
export function lossByName(name: LossName | LossFn): LossFn {
  if (typeof name === 'function') return name;
  if (typeof name === 'string' && Object.hasOwn(BY_NAME, name)) return BY_NAME[name];
  const key = typeof name === 'string' ? name.toLowerCase().replace(/[_-]/g, '') : '';
  const known = Object.hasOwn(OTHER_NAMES, key) ? OTHER_NAMES[key] : LOSS_NAMES.find((n) => n.toLowerCase() === key);
  const hint = known ? `; fathom calls it '${known}'` : '';
  throw new Error(`fathom: unknown loss ${typeof name === 'string' ? `'${name}'` : describe(name)} (expected ${LOSS_NAMES.join(', ')} or a function${hint})`);
}
