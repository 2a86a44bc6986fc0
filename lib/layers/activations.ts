/** Activations as layers (the same functions are exported as ops). */
import { Tensor } from '../tensor/tensor.js';
import { logSoftmax, relu, sigmoid, sign, softmax, tanh } from '../ops/index.js';
import { Module, fixedStructure, type ModuleConfig } from './module.js';
import { describe } from '../ops/record.js';
import { fmt } from '../tensor/shape.js';

/** A parameter-free layer applying one element-wise (or row-wise) function. */
export abstract class Activation extends Module {
  protected abstract fn(x: Tensor): Tensor;
  /** Applies the function to x (any shape; float32). @throws naming the layer if x is not a float32 Tensor. */
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`fathom.${this.constructor.name}: expected a Tensor input, got ${describe(x)}`);
    if (x.dtype !== 'float32') throw new Error(`fathom.${this.constructor.name}: expected a float32 input, got ${x.dtype} ${fmt(x.shape)}`);
    return this.fn(x);
  }
  override config(): ModuleConfig {
    return { type: this.constructor.name };
  }
}

export class ReLU extends Activation {
  protected fn(x: Tensor): Tensor { return relu(x); }
}
export class Sigmoid extends Activation {
  protected fn(x: Tensor): Tensor { return sigmoid(x); }
}
export class Tanh extends Activation {
  protected fn(x: Tensor): Tensor { return tanh(x); }
}
/** sign(x): the perceptron's threshold unit; its gradient is zero. */
export class Sign extends Activation {
  protected fn(x: Tensor): Tensor { return sign(x); }
}
/** Softmax over the last axis. (With losses.crossEntropy, feed logits instead.) */
/** Softmax over the last axis; `new nn.Softmax(-1)` (PyTorch's dim) is accepted, another axis is refused. */
export class Softmax extends Activation {
  constructor(axis?: number) {
    super();
    lastAxisOnly('Softmax', axis);
  }
  protected fn(x: Tensor): Tensor { return softmax(needsAxis('Softmax', x)); }
}
/** log(softmax) over the last axis; the axis argument as for Softmax. */
export class LogSoftmax extends Activation {
  constructor(axis?: number) {
    super();
    lastAxisOnly('LogSoftmax', axis);
  }
  protected fn(x: Tensor): Tensor { return logSoftmax(needsAxis('LogSoftmax', x)); }
}

function lastAxisOnly(layer: string, axis: unknown): void {
  if (axis !== undefined && axis !== -1) {
    throw new Error(`fathom.${layer}: only the last axis (-1) is supported, got ${describe(axis)}${typeof axis === 'number' ? ` ${axis}` : ''}; transpose the input first`);
  }
}

/** The softmax layers work over the last axis: a scalar has none. */
function needsAxis(layer: string, x: Tensor): Tensor {
  if (x.rank < 1) throw new Error(`fathom.${layer}: expected input [..., classes] (rank >= 1), got a scalar ${fmt(x.shape)}`);
  return x;
}

for (const C of [ReLU, Sigmoid, Tanh, Sign, Softmax, LogSoftmax]) fixedStructure.add(C);
