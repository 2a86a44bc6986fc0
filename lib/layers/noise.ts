/** Regularising noise layers, active in training mode only: Dropout, GaussianNoise and MaskingNoise. */
import { Tensor } from '../tensor/tensor.js';
import { add, dropout, ge, rand, randn, where } from '../ops/index.js';
import { checkDropP } from '../ops/dropout.js';
import { describe } from '../ops/record.js';
import { fmt } from '../tensor/shape.js';
import { Module, fixedStructure, type ModuleConfig } from './module.js';
import { show } from './options.js';

function checkInput(layer: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`fathom.${layer}: expected a Tensor input, got ${describe(x)}`);
  if (x.dtype !== 'float32') throw new Error(`fathom.${layer}: expected a float32 input, got ${x.dtype} ${fmt(x.shape)}`);
  return x;
}

/**
 * Inverted dropout (PyTorch's nn.Dropout): in training mode each element is
 * zeroed with probability p and the others scaled by 1/(1 − p); in eval()
 * mode (predict, evaluate) the input passes through unchanged. Any input
 * shape. The masks come from the global random stream, so
 * `manualSeed(s)` makes a training run reproducible (see ops `dropout`).
 * @throws if p is not a number in [0, 1]; in forward, for a non-float32 input.
 */
export class Dropout extends Module {
  readonly p: number;
  constructor(p = 0.5) {
    super();
    this.p = checkDropP('Dropout', p);
  }
  forward(x: Tensor): Tensor {
    return dropout(checkInput('Dropout', x), this.p, this.training);
  }
  override config(): ModuleConfig {
    return { type: 'Dropout', p: this.p };
  }
}

/**
 * Additive zero-mean Gaussian noise (Keras's GaussianNoise): in training
 * mode y = x + N(0, std²) drawn from the global random stream; in eval() mode
 * y = x. Any input shape; the gradient passes through unchanged.
 * @throws if std is not a number in [0, 1e37] (beyond, noise could overflow float32); in forward, for a non-float32 input.
 */
export class GaussianNoise extends Module {
  readonly std: number;
  constructor(std: number) {
    super();
    if (typeof std !== 'number' || !Number.isFinite(std) || std < 0 || std > 1e37) {
      throw new Error(`fathom.GaussianNoise: std must be a number in [0, 1e37], got ${show(std)}`);
    }
    this.std = std;
  }
  forward(x: Tensor): Tensor {
    checkInput('GaussianNoise', x);
    if (!this.training || this.std === 0) return x;
    return add(x, randn(x.shape, { std: this.std }));
  }
  override config(): ModuleConfig {
    return { type: 'GaussianNoise', std: this.std };
  }
}

/**
 * Masking noise, the corruption of denoising autoencoders (Vincent, Larochelle,
 * Bengio & Manzagol 2008, "Extracting and composing robust features with
 * denoising autoencoders", §2.3 and §4: a fixed fraction of the input's
 * components "is chosen at random, and their value forced to 0"): in training
 * mode each element becomes 0 with probability p, independently (the paper's
 * ν), and the others are kept AS THEY ARE; in eval() mode (predict, evaluate)
 * y = x. Any input shape; the gradient passes where an element was kept.
 *
 * Not Dropout: Dropout scales the kept values by 1/(1 − p) so the expected
 * activation stays the same for the next layer; masking noise corrupts an
 * input that the network must learn to restore (the target is the clean x),
 * so a kept pixel must keep its value. Put it first, on the input only:
 * `new nn.Sequential(new nn.MaskingNoise(0.3), encoder, decoder).fit(x, x, …)`.
 * The masks come from the global random stream (`manualSeed(s)` makes a run
 * reproducible; the same seed gives the same mask on both backends).
 * @throws if p is not a number in [0, 1]; in forward, for a non-float32 input.
 */
export class MaskingNoise extends Module {
  readonly p: number;
  constructor(p: number) {
    super();
    this.p = checkDropP('MaskingNoise', p);
  }
  forward(x: Tensor): Tensor {
    checkInput('MaskingNoise', x);
    if (!this.training || this.p === 0) return x;
    // u ~ U[0, 1): u >= p keeps the element (probability 1 − p). where() sets a masked element to
    // exactly 0 (x·0 would leave NaN for NaN or ±Inf inputs).
    return where(ge(rand(x.shape), this.p), x, 0);
  }
  override config(): ModuleConfig {
    return { type: 'MaskingNoise', p: this.p };
  }
}

fixedStructure.add(Dropout);
fixedStructure.add(GaussianNoise);
fixedStructure.add(MaskingNoise);
