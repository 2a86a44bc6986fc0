/** Helpers shared by the ops: allocation, validation, tape recording. */
import { Tensor } from '../tensor/tensor.js';
import { needsGrad } from '../autograd/tape.js';
import { sizeOf, type Shape } from '../tensor/shape.js';

export function empty(shape: Shape): Tensor {
  return new Tensor(new Float32Array(sizeOf(shape)), shape);
}

export function asTensor(op: string, x: Tensor | number): Tensor {
  if (x instanceof Tensor) return x;
  if (typeof x === 'number') return new Tensor(new Float32Array([x]), []);
  throw new Error(`fathom.${op}: expected a Tensor or a number, got ${describe(x)}`);
}

export function checkTensor(op: string, name: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`fathom.${op}: ${name} must be a Tensor, got ${describe(x)}`);
  return x;
}

export function checkFloat(op: string, name: string, x: unknown): Tensor {
  const t = checkTensor(op, name, x);
  if (t.dtype !== 'float32') throw new Error(`fathom.${op}: ${name} must be float32, got ${t.dtype}`);
  return t;
}

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
