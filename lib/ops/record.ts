/** Helpers shared by the ops: allocation, validation, tape recording. */
import { Tensor, checkStorage } from '../tensor/tensor.js';
export { checkStorage };
import { needsGrad } from '../autograd/tape.js';
import { checkShape, describeValue, fmt, MAX_SIZE, sizeOf, type Shape } from '../tensor/shape.js';

/**
 * A zero-filled float32 tensor of `shape`, for the result of `op`. Refuses
 * (naming the op) a shape that is invalid or too large, and reports an
 * allocation failure as an Error of the op instead of a bare RangeError.
 */
export function empty(shape: Shape, op = 'op'): Tensor {
  const n = sizeOf(shape);
  // Result shapes come from checked inputs; only their product can be out of bounds
  // (the constructor re-checks everything else).
  if (!(n <= MAX_SIZE)) checkShape(op, shape, 'result shape');
  let data: Float32Array;
  try {
    data = new Float32Array(n);
  } catch (e) {
    throw new Error(`fathom.${op}: cannot allocate the result of shape ${fmt(shape)} (${sizeOf(shape)} float32 values): ${(e as Error).message}`);
  }
  return new Tensor(data, shape);
}

export function asTensor(op: string, x: Tensor | number, name = 'x'): Tensor {
  if (x instanceof Tensor) return checkStorage(op, name, x);
  if (typeof x === 'number') return new Tensor(new Float32Array([x]), []);
  throw new Error(`fathom.${op}: ${name} must be a Tensor or a number, got ${describeValue(x)}`);
}

export function checkTensor(op: string, name: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`fathom.${op}: ${name} must be a Tensor, got ${describeValue(x)}`);
  return checkStorage(op, name, x);
}

export function checkFloat(op: string, name: string, x: unknown): Tensor {
  const t = checkTensor(op, name, x);
  if (t.dtype !== 'float32') throw new Error(`fathom.${op}: ${name} must be float32, got ${t.dtype}`);
  return t;
}

/** The type of a value for an error message: 'null', 'Array', 'string', a class name. */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'Array';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}

/** Records `out` on the tape when any input requires gradients. */
export function record(out: Tensor, op: string, inputs: Tensor[], saved: Record<string, unknown> = {}): Tensor {
  if (needsGrad(...inputs)) {
    out.requiresGrad = true;
    out.node = { op, inputs, saved };
  }
  return out;
}
