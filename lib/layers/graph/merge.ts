/**
 * Merge layers (Keras's Concatenate, Add, Multiply, Average): each takes a
 * list of tensors, [N, …] each. `apply([a, b])` in a graph, `forward([a, b])`
 * on real tensors. They hold no parameters; gradients flow to every input.
 */
import { Tensor } from '../../tensor/tensor.js';
import { fmt, sameShape } from '../../tensor/shape.js';
import { describe } from '../../ops/record.js';
import { add, mul } from '../../ops/elementwise.js';
import { concat } from '../../ops/shape.js';
import { Module, fixedStructure, type ModuleConfig } from '../module.js';

/** The inputs of a merge layer: an array of at least `min` float32 Tensors. */
function inputsOf(layer: string, xs: unknown, min: number): Tensor[] {
  if (!Array.isArray(xs)) {
    throw new Error(`fathom.${layer}: expected an array of Tensors (a merge layer takes a list: forward([a, b]), or apply([a, b]) in a graph), got ${xs instanceof Tensor ? `one Tensor ${fmt(xs.shape)}` : describe(xs)}`);
  }
  if (xs.length < min) throw new Error(`fathom.${layer}: expected at least ${min} tensors, got ${xs.length}`);
  xs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new Error(`fathom.${layer}: inputs[${i}] must be a Tensor, got ${describe(t)}`);
    if (t.dtype !== 'float32') throw new Error(`fathom.${layer}: inputs[${i}] must be float32, got ${t.dtype} ${fmt(t.shape)}`);
  });
  return xs as Tensor[];
}

/** Element-wise merges need one shape (Keras 2's rule; no broadcasting, so a wrong branch is caught when the graph is built). */
function sameShapes(layer: string, xs: Tensor[]): void {
  xs.forEach((t, i) => {
    if (!sameShape(t.shape, xs[0].shape)) {
      throw new Error(`fathom.${layer}: every input must have the shape of inputs[0] ${fmt(xs[0].shape)}, inputs[${i}] has ${fmt(t.shape)}`);
    }
  });
}

/**
 * Joins its inputs along `axis` (Keras's Concatenate; torch.cat). The axis
 * counts the batch dimension: the default -1 is the last (features), 1 the
 * first after N. Every other dimension must agree.
 * @throws if axis is not an integer other than 0 (the batch dimension); in
 *   forward, for fewer than 2 inputs or shapes that differ off the axis.
 */
export class Concatenate extends Module {
  readonly axis: number;
  constructor(axis = -1) {
    super();
    if (typeof axis !== 'number' || !Number.isInteger(axis) || axis === 0) {
      throw new Error(`fathom.Concatenate: axis must be a non-zero integer (0 is the batch dimension N; -1 the last), got ${typeof axis === 'number' ? String(axis) : describe(axis)}`);
    }
    this.axis = axis;
  }
  forward(xs: Tensor | Tensor[]): Tensor {
    const list = inputsOf('Concatenate', xs, 2);
    const rank = list[0].rank;
    const a = this.axis < 0 ? this.axis + rank : this.axis;
    if (a < 1 || a >= rank) throw new Error(`fathom.Concatenate: axis ${this.axis} is outside the inputs' dimensions 1..${rank - 1} (inputs[0] is ${fmt(list[0].shape)}; 0 is the batch)`);
    try {
      return concat(list, a);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('fathom.concat:')) throw new Error(e.message.replace('fathom.concat:', 'fathom.Concatenate:'), { cause: e });
      throw e;
    }
  }
  override config(): ModuleConfig {
    return { type: 'Concatenate', axis: this.axis };
  }
}

/** The element-wise sum of its inputs (Keras's Add), all of one shape. */
export class Add extends Module {
  forward(xs: Tensor | Tensor[]): Tensor {
    const list = inputsOf('Add', xs, 2);
    sameShapes('Add', list);
    return list.slice(1).reduce((s, t) => add(s, t), list[0]);
  }
  override config(): ModuleConfig {
    return { type: 'Add' };
  }
}

/** The element-wise product of its inputs (Keras's Multiply), all of one shape. */
export class Multiply extends Module {
  forward(xs: Tensor | Tensor[]): Tensor {
    const list = inputsOf('Multiply', xs, 2);
    sameShapes('Multiply', list);
    return list.slice(1).reduce((s, t) => mul(s, t), list[0]);
  }
  override config(): ModuleConfig {
    return { type: 'Multiply' };
  }
}

/** The element-wise mean of its inputs (Keras's Average), all of one shape: (x₁ + … + x_k) / k. */
export class Average extends Module {
  forward(xs: Tensor | Tensor[]): Tensor {
    const list = inputsOf('Average', xs, 2);
    sameShapes('Average', list);
    return mul(list.slice(1).reduce((s, t) => add(s, t), list[0]), 1 / list.length);
  }
  override config(): ModuleConfig {
    return { type: 'Average' };
  }
}

for (const C of [Concatenate, Add, Multiply, Average]) fixedStructure.add(C);
