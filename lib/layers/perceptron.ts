/**
 * Rosenblatt's perceptron: a linear threshold unit trained by the perceptron
 * rule (Rosenblatt 1958; Bishop, PRML §4.1.7; scikit-learn's Perceptron).
 */
import { Tensor } from '../tensor/tensor.js';
import { linear, mul, rand, relu, sign, sub, zeros } from '../ops/index.js';
import { describe } from '../ops/record.js';
import { fmt } from '../tensor/shape.js';
import { Module, fixedStructure, type ModuleConfig } from './module.js';
import { checkOptions, show } from './options.js';

export interface PerceptronTrainOptions {
  /** Learning rate η > 0 (default 1; with zero initial weights the rule's decisions do not depend on it). */
  lr?: number;
  /** Most passes over the data (default 100). */
  epochs?: number;
  /** Visit the samples in a new random order each epoch (default false: in order, the textbook rule). */
  shuffle?: boolean;
  /** Seed of the shuffling (default: drawn from the global stream, see manualSeed). */
  seed?: number;
}

export interface PerceptronTrainResult {
  /** Whether an epoch classified every sample correctly (y·(w·x + b) > 0 for all). */
  converged: boolean;
  /** Epochs run (when converged, the error-free epoch is the last one counted). */
  epochs: number;
  /** Samples misclassified (and so updated) in the last epoch run: 0 when converged. */
  errors: number;
  /** Misclassified samples per epoch, errors[0] of the first. */
  history: number[];
}

/** The most elements one Float32Array may hold. */
const MAX_PARAMS = 2 ** 31 - 1;

/**
 * A single perceptron: scores s = x·wᵀ + b with weight [1, inFeatures] and
 * bias [1] (PyTorch's Linear layout, both initialised to zero as in
 * scikit-learn), output sign(s) ∈ {−1, +1} of shape [N, 1]. At s = 0 the
 * output is −1 (the unit fires only for s > 0, Rosenblatt's step function;
 * scikit-learn's predict does the same), and the training rule counts
 * y·s ≤ 0 as an error, so a converged perceptron has no training sample on
 * its boundary.
 *
 * Train it with `.train(x, y, { lr, epochs })` (the perceptron rule), or use
 * `decisionFunction(x)` with `losses.perceptron` in a custom loop (forward's
 * sign has zero gradient). `.train(bool)` still switches training mode, as
 * on every Module.
 */
export class Perceptron extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly inFeatures: number) {
    super();
    if (typeof inFeatures !== 'number' || !Number.isSafeInteger(inFeatures) || inFeatures < 1 || inFeatures > MAX_PARAMS) {
      throw new Error(`fathom.Perceptron: inFeatures must be a positive integer, got ${show(inFeatures)}`);
    }
    this.weight = this.registerParameter('weight', zeros([1, inFeatures]));
    this.bias = this.registerParameter('bias', zeros([1]));
  }

  private checkX(op: string, x: unknown): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`fathom.${op}: expected a Tensor input [batch, ${this.inFeatures}], got ${describe(x)}`);
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures || x.dtype !== 'float32') {
      throw new Error(`fathom.${op}: expected a float32 input [batch, ${this.inFeatures}], got ${x.dtype} ${fmt(x.shape)}`);
    }
    return x;
  }

  /** The scores x·wᵀ + b, [N, 1] (differentiable). */
  decisionFunction(x: Tensor): Tensor {
    return linear(this.checkX('Perceptron.decisionFunction', x), this.weight, this.bias, 'none');
  }

  /** sign(x·wᵀ + b) as ±1 (−1 at 0), [N, 1]; the gradient is zero. */
  forward(x: Tensor): Tensor {
    const s = linear(this.checkX('Perceptron', x), this.weight, this.bias, 'none');
    // 2·relu(sign(s)) − 1: +1 where s > 0, −1 where s ≤ 0
    return sub(mul(relu(sign(s)), 2), 1);
  }

  /** Switches training mode (Module.train). */
  override train(on?: boolean): this;
  /**
   * The perceptron rule: for each sample in turn, if y·(w·x + b) ≤ 0 then
   * w += η·y·x and b += η·y. Passes over the data until an epoch has no
   * misclassified sample (converged) or `epochs` passes have run. Works in
   * place on weight and bias (float32), starting from their current values.
   * x is float32 [N, inFeatures]; y holds labels −1/+1, float32 or int32,
   * [N] or [N, 1] (0/1 labels are refused: map them with 2y − 1).
   * @throws for bad x or y (named), labels other than ±1, non-finite
   *   inputs, lr not > 0, epochs not an integer >= 1, unknown options.
   */
  override train(x: Tensor, y: Tensor, options?: PerceptronTrainOptions): PerceptronTrainResult;
  override train(a?: boolean | Tensor, y?: Tensor, options?: PerceptronTrainOptions): this | PerceptronTrainResult {
    if (!(a instanceof Tensor)) return super.train(a as boolean | undefined);
    return this.perceptronRule(a, y, options);
  }

  private perceptronRule(xIn: Tensor, yIn: unknown, options: PerceptronTrainOptions | undefined): PerceptronTrainResult {
    const op = 'Perceptron.train';
    const x = this.checkX(op, xIn);
    const o = checkOptions(op, options, { lr: 'number', epochs: 'number', shuffle: 'boolean', seed: 'number' });
    const lr = o.lr ?? 1;
    if (!(Number.isFinite(lr) && lr > 0)) throw new Error(`fathom.${op}: lr must be a finite number > 0, got ${show(lr)}`);
    const maxEpochs = o.epochs ?? 100;
    if (!Number.isSafeInteger(maxEpochs) || maxEpochs < 1) throw new Error(`fathom.${op}: epochs must be an integer >= 1, got ${show(maxEpochs)}`);
    if (o.seed !== undefined && !(Number.isSafeInteger(o.seed) && o.seed >= 0)) throw new Error(`fathom.${op}: seed must be a non-negative integer, got ${show(o.seed)}`);
    const [n, d] = x.shape;
    if (!(yIn instanceof Tensor)) throw new Error(`fathom.${op}: y must be a Tensor of labels -1/1, got ${describe(yIn)}`);
    if (!((yIn.rank === 1 && yIn.shape[0] === n) || (yIn.rank === 2 && yIn.shape[0] === n && yIn.shape[1] === 1))) {
      throw new Error(`fathom.${op}: y must have shape [${n}] or [${n}, 1] for x ${fmt(x.shape)}, got ${fmt(yIn.shape)}`);
    }
    const yv = yIn.data;
    for (let i = 0; i < n; i++) {
      if (yv[i] !== 1 && yv[i] !== -1) {
        const hint = yv[i] === 0 ? ' (the perceptron uses labels -1/1: map 0/1 labels with 2y - 1)' : '';
        throw new Error(`fathom.${op}: labels must be -1 or 1, got ${yv[i]} at index ${i}${hint}`);
      }
    }
    const xv = x.data as Float32Array;
    for (let i = 0; i < xv.length; i++) {
      if (!Number.isFinite(xv[i])) throw new Error(`fathom.${op}: x must be finite, got ${xv[i]} at row ${Math.floor(i / d)}, column ${i % d}`);
    }
    const w = this.weight.data as Float32Array;
    const b = this.bias.data as Float32Array;
    const order = Int32Array.from({ length: n }, (_, i) => i);
    const shuffle = o.shuffle ?? false;
    let seed = o.seed ?? (shuffle ? Math.floor(rand([1]).data[0] * 4294967296) : 0);
    const history: number[] = [];
    for (let epoch = 0; epoch < maxEpochs; epoch++) {
      if (shuffle) {
        // Fisher–Yates with a mulberry32 stream seeded by `seed` (one stream across epochs).
        for (let i = n - 1; i > 0; i--) {
          seed = (seed + 0x6d2b79f5) >>> 0;
          let r = seed;
          r = Math.imul(r ^ (r >>> 15), r | 1);
          r ^= r + Math.imul(r ^ (r >>> 7), r | 61);
          const j = Math.floor((((r ^ (r >>> 14)) >>> 0) / 4294967296) * (i + 1));
          const tmp = order[i]; order[i] = order[j]; order[j] = tmp;
        }
      }
      let errors = 0;
      for (let k = 0; k < n; k++) {
        const i = order[k];
        const row = i * d;
        let s = b[0];
        for (let j = 0; j < d; j++) s += w[j] * xv[row + j];
        const t = yv[i];
        if (t * s <= 0) {
          errors++;
          const step = lr * t;
          for (let j = 0; j < d; j++) w[j] += step * xv[row + j];
          b[0] += step;
        }
      }
      history.push(errors);
      if (errors === 0) return { converged: true, epochs: epoch + 1, errors, history };
      if (!Number.isFinite(b[0]) || !w.every(Number.isFinite)) {
        throw new Error(`fathom.${op}: the weights overflowed float32 at epoch ${epoch + 1} (lr ${lr}); lower lr or scale x`);
      }
    }
    return { converged: false, epochs: maxEpochs, errors: history[history.length - 1], history };
  }

  override config(): ModuleConfig {
    return { type: 'Perceptron', inFeatures: this.inFeatures };
  }
}
fixedStructure.add(Perceptron);
