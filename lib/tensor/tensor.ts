/**
 * Tensor: a shape over contiguous, JS-owned storage (Float32Array for
 * float32, Int32Array for int32 labels and indices). Native kernels borrow
 * the storage for the length of a call; nothing needs to be disposed.
 */
import type { Node } from '../autograd/tape.js';
import { checkShape, fmt, sizeOf, type Shape } from './shape.js';
import * as ops from '../ops/index.js';
import { backward as runBackward } from '../autograd/backward.js';

export type DType = 'float32' | 'int32';
export type TensorData = Float32Array | Int32Array;
export type NestedArray = number | NestedArray[];

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** The storage, row-major and contiguous. Writing to it changes the tensor. */
  readonly data: TensorData;
  /** Whether gradients flow to this tensor (set on parameters). */
  requiresGrad = false;
  private gradTensor: Tensor | null = null;
  /** @internal The gradient buffer holds stale values that read as zeros (see zeroGradLazily). */
  gradIsZero = false;

  /** The accumulated gradient of a leaf that requires grad, after backward(). */
  get grad(): Tensor | null {
    if (this.gradIsZero && this.gradTensor) {
      this.gradTensor.data.fill(0);
      this.gradIsZero = false;
    }
    return this.gradTensor;
  }
  set grad(g: Tensor | null) {
    this.gradTensor = g;
    this.gradIsZero = false;
  }

  /**
   * @internal Marks the gradient as zero without touching its buffer: the
   * next backward() overwrites it instead of adding, and reading `.grad`
   * before that fills it with zeros.
   */
  zeroGradLazily(): void {
    if (this.gradTensor) this.gradIsZero = true;
  }

  /** @internal The gradient buffer as it is (possibly stale: check gradIsZero). */
  gradBuffer(): Tensor | null {
    return this.gradTensor;
  }
  /** @internal The op that produced this tensor, when recorded on the tape. */
  node: Node | null = null;

  constructor(data: TensorData, shape: Shape) {
    checkShape('tensor', shape);
    if (data.length !== sizeOf(shape)) {
      throw new Error(`fathom.tensor: shape ${fmt(shape)} needs ${sizeOf(shape)} values, got ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = data instanceof Int32Array ? 'int32' : 'float32';
  }

  get size(): number {
    return this.data.length;
  }
  get rank(): number {
    return this.shape.length;
  }

  /** The Float32Array storage; throws for int32 tensors. */
  f32(op = 'op'): Float32Array {
    if (!(this.data instanceof Float32Array)) throw new Error(`fathom.${op}: expected a float32 tensor, got int32`);
    return this.data;
  }

  /** Nested JS arrays (a number for a 0-d tensor). */
  toArray(): NestedArray {
    const data = this.data;
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return data[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`fathom.item: expected a tensor with one element, got shape ${fmt(this.shape)}`);
    return this.data[0];
  }

  toString(): string {
    return `Tensor(${this.dtype}, ${fmt(this.shape)})`;
  }

  /** Marks this tensor as a leaf that collects gradients; returns this. */
  requireGrad(on = true): this {
    this.requiresGrad = on;
    return this;
  }

  /** A tensor sharing this storage, cut from the tape. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** A copy with its own storage, cut from the tape. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Back-propagates from this scalar (or with an explicit upstream gradient). */
  backward(grad?: Tensor): void {
    runBackward(this, grad);
  }

  // ---- ops as methods (same as the functions in ops/) ----
  add(b: Tensor | number): Tensor { return ops.add(this, b); }
  sub(b: Tensor | number): Tensor { return ops.sub(this, b); }
  mul(b: Tensor | number): Tensor { return ops.mul(this, b); }
  div(b: Tensor | number): Tensor { return ops.div(this, b); }
  maximum(b: Tensor | number): Tensor { return ops.maximum(this, b); }
  minimum(b: Tensor | number): Tensor { return ops.minimum(this, b); }
  matmul(b: Tensor, opts?: ops.MatmulOptions): Tensor { return ops.matmul(this, b, opts); }
  neg(): Tensor { return ops.neg(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  abs(): Tensor { return ops.abs(this); }
  square(): Tensor { return ops.square(this); }
  pow(p: number): Tensor { return ops.pow(this, p); }
  relu(): Tensor { return ops.relu(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  tanh(): Tensor { return ops.tanh(this); }
  sign(): Tensor { return ops.sign(this); }
  sum(axes?: number | number[], keepDims = false): Tensor { return ops.sum(this, axes, keepDims); }
  mean(axes?: number | number[], keepDims = false): Tensor { return ops.mean(this, axes, keepDims); }
  max(axes?: number | number[], keepDims = false): Tensor { return ops.max(this, axes, keepDims); }
  softmax(): Tensor { return ops.softmax(this); }
  logSoftmax(): Tensor { return ops.logSoftmax(this); }
  transpose(): Tensor { return ops.transpose(this); }
  reshape(shape: number[]): Tensor { return ops.reshape(this, shape); }
  slice(begin: number, end?: number): Tensor { return ops.slice(this, begin, end); }
  argmax(): Tensor { return ops.argmax(this); }
}
