/** Regularising noise layers, active in training mode only: Dropout and GaussianNoise. */
import { Tensor } from '../tensor/tensor.js';
import { add, dropout, randn } from '../ops/index.js';
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

fixedStructure.add(Dropout);
fixedStructure.add(GaussianNoise);
