/**
 * Tensor: a shape over contiguous, JS-owned storage (Float32Array for
 * float32, Int32Array for int32 labels and indices). Native kernels borrow
 * the storage for the length of a call; nothing needs to be disposed.
 */
import type { Node } from '../autograd/tape.js';
import { checkShape, describeValue, fmt, sameShape, sizeOf, type Shape } from './shape.js';
import { formatTensor } from './format.js';
import * as ops from '../ops/index.js';
import { backward as runBackward } from '../autograd/backward.js';
import { PUBLIC_UNARY_OPS, type PublicUnaryOp, type UNARY_OPS, type UnaryArgs } from '../backend/unary_table.js';

export type DType = 'float32' | 'int32';
export type TensorData = Float32Array | Int32Array;
/** A number (a 0-d tensor) or nested arrays of numbers (what toArray() returns). */
export type NestedArray = number | NestedArray[];

/**
 * Refuses a tensor whose storage no longer holds its values: its ArrayBuffer
 * was transferred (postMessage, structuredClone with `transfer`) or otherwise
 * detached, or shrunk (a resizable buffer). Reading it would give NaN or
 * zeros silently. Returns the tensor.
 */
export function checkStorage(op: string, name: string, t: Tensor): Tensor {
  if (t.data.length !== t.size) {
    throw new Error(
      `fathom.${op}: ${name} has lost its storage: the tensor of shape ${fmt(t.shape)} needs ${t.size} values but its ` +
        `${t.data.constructor.name} now holds ${t.data.length} (its ArrayBuffer was transferred or detached, e.g. by ` +
        'postMessage or structuredClone with transfer); clone() a tensor before transferring its buffer',
    );
  }
  return t;
}

/** The most JS arrays toArray() builds (the values themselves are bounded by the tensor size limit). */
const MAX_NESTED_ARRAYS = 2 ** 26;

/**
 * The element-wise unary ops as methods, one per public entry of THE op table
 * (lib/backend/unary_table.ts), typed from it: `x.leakyRelu(0.2)` is
 * `leakyRelu(x, 0.2)`, `x.softplus({ beta: 2 })` is `softplus(x, { beta: 2 })`.
 */
export type UnaryMethods = { [K in PublicUnaryOp]: (...args: UnaryArgs<(typeof UNARY_OPS)[K]>) => Tensor };
// The class below implements these (installed on its prototype after it).
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Tensor extends UnaryMethods {}

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** The storage, row-major and contiguous. Writing to it changes the tensor. */
  readonly data: TensorData;
  /** Number of values (the product of the shape). */
  readonly size: number;
  private requiresGradFlag = false;
  private gradTensor: Tensor | null = null;
  /** @internal The gradient buffer holds stale values that read as zeros (see zeroGradLazily). */
  gradIsZero = false;
  /** @internal The op that produced this tensor, when recorded on the tape. */
  node: Node | null = null;

  /**
   * Wraps `data` (used as is, not copied) as a tensor of `shape`.
   * @throws when data is not a Float32Array or Int32Array, the shape is not an
   *   array of at most 8 non-negative integers, or the sizes differ.
   */
  constructor(data: TensorData, shape: Shape) {
    if (!(data instanceof Float32Array) && !(data instanceof Int32Array)) {
      throw new Error(
        `fathom.Tensor: data must be a Float32Array or an Int32Array, got ${describeValue(data)} ` +
          '(tensor() converts other arrays)',
      );
    }
    checkShape('Tensor', shape);
    const size = sizeOf(shape);
    if (data.length !== size) {
      throw new Error(`fathom.tensor: shape ${fmt(shape)} needs ${size} values, got ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.size = size;
    this.dtype = data instanceof Int32Array ? 'int32' : 'float32';
  }

  /**
   * Revives a tensor that crossed a thread: `postMessage` and `structuredClone`
   * turn a Tensor into a plain object `{ data, shape, dtype, … }` (the class and
   * its methods are lost; the typed array survives, and one over a
   * SharedArrayBuffer still shares its memory). Returns a Tensor over
   * `obj.data` itself — not a copy — so a tensor in a SharedArrayBuffer stays
   * shared; it is cut from the tape (requiresGrad false, no gradient), as
   * detach(). A real Tensor gives t.detach().
   *
   *   // sender:   port.postMessage(t.detach())        (detach: or the clone carries the tape)
   *   // receiver: port.on('message', (m) => use(Tensor.from(m)))
   *
   * @throws `fathom.Tensor.from: ...` when obj is not an object, its data is not
   *   a Float32Array or Int32Array, its dtype (when present) is not the data's,
   *   its shape is not at most 8 non-negative integers, or the data's length is
   *   not the shape's size (e.g. a buffer transferred away, which leaves it empty).
   */
  static from(obj: Tensor | { data: TensorData; shape: readonly number[]; dtype?: DType }): Tensor {
    if (obj instanceof Tensor) return obj.detach();
    if (obj === null || typeof obj !== 'object') {
      throw new Error(`fathom.Tensor.from: expected a Tensor or a structured clone of one ({ data, shape, dtype }), got ${describeValue(obj)}`);
    }
    const { data, shape, dtype } = obj as { data: unknown; shape: unknown; dtype?: unknown };
    if (!(data instanceof Float32Array) && !(data instanceof Int32Array)) {
      throw new Error(`fathom.Tensor.from: data must be a Float32Array or an Int32Array, got ${describeValue(data)} (tensor() converts other arrays)`);
    }
    const kind: DType = data instanceof Int32Array ? 'int32' : 'float32';
    if (dtype !== undefined && dtype !== kind) {
      throw new Error(`fathom.Tensor.from: dtype is ${describeValue(dtype)} but data is a ${data.constructor.name} (${kind})`);
    }
    checkShape('Tensor.from', shape);
    const size = sizeOf(shape);
    if (data.length !== size) {
      throw new Error(
        `fathom.Tensor.from: shape ${fmt(shape)} needs ${size} values, but data holds ${data.length}` +
          (data.length === 0 && size > 0 ? ' (its buffer was transferred or detached: post a copy, or a tensor over a SharedArrayBuffer)' : ''),
      );
    }
    return new Tensor(data, shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  /**
   * Whether gradients flow to this tensor (set on parameters). Only float32
   * tensors can require gradients.
   */
  get requiresGrad(): boolean {
    return this.requiresGradFlag;
  }
  set requiresGrad(on: boolean) {
    if (typeof on !== 'boolean') throw new Error(`fathom.requiresGrad: expected a boolean, got ${describeValue(on)}`);
    if (on && this.dtype !== 'float32') {
      throw new Error(`fathom.requiresGrad: only float32 tensors can require gradients, got ${this.dtype} of shape ${fmt(this.shape)}`);
    }
    this.requiresGradFlag = on;
  }

  /**
   * The accumulated gradient of a leaf that requires grad, after backward().
   * May be set to null, or to a float32 tensor of this tensor's shape.
   */
  get grad(): Tensor | null {
    if (this.gradIsZero && this.gradTensor) {
      this.gradTensor.data.fill(0);
      this.gradIsZero = false;
    }
    return this.gradTensor;
  }
  set grad(g: Tensor | null) {
    if (g !== null) {
      if (!(g instanceof Tensor)) throw new Error(`fathom.grad: a gradient must be a Tensor or null, got ${describeValue(g)}`);
      if (g.dtype !== 'float32') throw new Error(`fathom.grad: a gradient must be float32, got ${g.dtype}`);
      if (!sameShape(g.shape, this.shape)) {
        throw new Error(`fathom.grad: the gradient's shape ${fmt(g.shape)} differs from the tensor's shape ${fmt(this.shape)}`);
      }
      checkStorage('grad', 'the gradient', g);
    }
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

  /** The Float32Array storage; throws for int32 tensors. */
  f32(op = 'op'): Float32Array {
    if (!(this.data instanceof Float32Array)) throw new Error(`fathom.${op}: expected a float32 tensor, got int32`);
    return this.data;
  }

  /**
   * The values as nested JS arrays (a number for a 0-d tensor). The type
   * parameter names the nesting you expect, e.g. `t.toArray<number[][]>()`
   * for a 2-D tensor (it is not checked at run time: the nesting follows the
   * shape).
   * @throws when the storage was detached (see checkStorage).
   */
  toArray<T extends NestedArray = NestedArray>(): T {
    checkStorage('toArray', 'the tensor', this);
    const data = this.data;
    const shape = this.shape;
    // An empty tensor beside a huge dimension ([2**31, 0]) would need billions of JS arrays.
    let arrays = 0;
    for (let d = 0, outer = 1; d < shape.length; d++) {
      arrays += outer;
      outer *= shape[d];
    }
    if (arrays > MAX_NESTED_ARRAYS) {
      throw new Error(`fathom.toArray: a tensor of shape ${fmt(shape)} would need ${arrays} nested JS arrays (at most ${MAX_NESTED_ARRAYS}); read t.data instead`);
    }
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === shape.length) return data[offset];
      const stride = sizeOf(shape.slice(dim + 1));
      const out = new Array<NestedArray>(shape[dim]);
      for (let i = 0; i < out.length; i++) out[i] = build(dim + 1, offset + i * stride);
      return out;
    };
    return build(0, 0) as T;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`fathom.item: expected a tensor with one element, got shape ${fmt(this.shape)}`);
    checkStorage('item', 'the tensor', this);
    return this.data[0];
  }

  /** A one-line summary: `Tensor(float32, [2, 3])` (see inspect for the values). */
  toString(): string {
    return `Tensor(${this.dtype}, ${fmt(this.shape)})`;
  }

  /**
   * The values, shape and dtype as PyTorch prints them
   * (`tensor([[1, 2], [3, 4]], shape=[2, 2], dtype=float32)`, elided beyond
   * 1000 values); used by console.log and util.inspect.
   */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return formatTensor(this);
  }

  /** Marks this tensor as a leaf that collects gradients (float32 only); returns this. */
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
    checkStorage('clone', 'the tensor', this);
    return new Tensor(this.data.slice(), this.shape);
  }

  /** Back-propagates from this scalar (or with an explicit upstream gradient of this shape). */
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
  // neg, exp, log, sqrt, abs, square, pow, relu, sigmoid, tanh, sign, leakyRelu, elu, softplus,
  // silu: generated below from the unary op table (UnaryMethods).
  gelu(options?: ops.GeluOptions): Tensor { return ops.gelu(this, options); }
  maxout(pieces: number): Tensor { return ops.maxout(this, pieces); }
  sum(axes?: number | readonly number[], keepDims?: boolean): Tensor { return ops.sum(this, axes, keepDims); }
  mean(axes?: number | readonly number[], keepDims?: boolean): Tensor { return ops.mean(this, axes, keepDims); }
  max(axes?: number | readonly number[], keepDims?: boolean): Tensor { return ops.max(this, axes, keepDims); }
  softmax(axis?: number): Tensor { return ops.softmax(this, axis); }
  logSoftmax(axis?: number): Tensor { return ops.logSoftmax(this, axis); }
  /** transpose() of a 2-D tensor, or transpose(a, b): axes a and b swapped, any rank. */
  transpose(a?: number, b?: number): Tensor { return ops.transpose(this, a, b); }
  reshape(shape: readonly number[]): Tensor { return ops.reshape(this, shape); }
  /** torch.flatten: dims startDim..endDim merged into one. */
  flatten(startDim?: number, endDim?: number): Tensor { return ops.flatten(this, startDim, endDim); }
  slice(begin: number, end?: number, axis?: number): Tensor { return ops.slice(this, begin, end, axis); }
  argmax(axis?: number, keepDims?: boolean): Tensor { return ops.argmax(this, axis, keepDims); }
  // --- #11 tensor ops (lib/ops/shape.ts, index_ops.ts, compare.ts): as PyTorch's Tensor methods ---
  /** t.permute(2, 0, 1) or t.permute([2, 0, 1]). */
  permute(...dims: (number | readonly number[])[]): Tensor { return ops.permute(this, dims.flat()); }
  squeeze(axis?: number | readonly number[]): Tensor { return ops.squeeze(this, axis); }
  unsqueeze(axis: number): Tensor { return ops.unsqueeze(this, axis); }
  /** t.expand(3, -1, 4) or t.expand([3, -1, 4]). */
  expand(...shape: (number | readonly number[])[]): Tensor { return ops.expand(this, shape.flat()); }
  flip(dims: number | readonly number[]): Tensor { return ops.flip(this, dims); }
  narrow(axis: number, start: number, length: number): Tensor { return ops.narrow(this, axis, start, length); }
  split(splitSize: number | readonly number[], axis?: number): Tensor[] { return ops.split(this, splitSize, axis); }
  chunk(chunks: number, axis?: number): Tensor[] { return ops.chunk(this, chunks, axis); }
  /** index_select: this tensor's slices at int32 `indices` along `axis` (default 0). */
  index(indices: Tensor, axis?: number): Tensor { return ops.index(this, indices, axis); }
  /** torch.gather: y[i][j] = this[i][index[i][j]] for axis 1 (any axis, int32 index of this rank). */
  gather(axis: number, index: Tensor): Tensor { return ops.gather(this, axis, index); }
  /** PyTorch's t.where(cond, other): this where cond is non-zero, other elsewhere. */
  where(cond: Tensor, other: Tensor | number): Tensor { return ops.where(cond, this, other); }
  clamp(min?: number | null, max?: number | null): Tensor { return ops.clamp(this, min, max); }
  cumsum(axis: number): Tensor { return ops.cumsum(this, axis); }
  min(axes?: number | readonly number[], keepDims?: boolean): Tensor { return ops.min(this, axes, keepDims); }
  argmin(axis?: number, keepDims?: boolean): Tensor { return ops.argmin(this, axis, keepDims); }
  eq(b: Tensor | number): Tensor { return ops.eq(this, b); }
  ne(b: Tensor | number): Tensor { return ops.ne(this, b); }
  lt(b: Tensor | number): Tensor { return ops.lt(this, b); }
  le(b: Tensor | number): Tensor { return ops.le(this, b); }
  gt(b: Tensor | number): Tensor { return ops.gt(this, b); }
  ge(b: Tensor | number): Tensor { return ops.ge(this, b); }
  /** A float32 copy (this tensor itself when already float32). */
  float(): Tensor { return ops.toFloat(this); }
  /** An int32 copy, truncating toward zero (this tensor itself when already int32). */
  int(): Tensor { return ops.toInt(this); }
  // --- end #11 tensor ops ---
}

for (const op of PUBLIC_UNARY_OPS) {
  Object.defineProperty(Tensor.prototype, op, {
    value: function (this: Tensor, ...args: unknown[]): Tensor {
      return (ops[op] as (x: Tensor, ...a: unknown[]) => Tensor)(this, ...args);
    },
    writable: true,
    configurable: true,
  });
}
