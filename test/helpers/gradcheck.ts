/**
 * Finite-difference gradient checking. The scalar probe loss is
 * L = sum_i w_i * f(x)_i with fixed random weights w, summed in float64.
 * Each input element is perturbed by ±h and the central difference
 * (L(x+h) - L(x-h)) / 2h is compared with the analytic gradient from
 * backward(). Storage is float32, so h is large-ish (default 1e-2, scaled by
 * |x|) and the tolerance is relative to the gradient's magnitude.
 */
import { expect } from 'vitest';
import { Tensor } from '../../lib/index.js';
import { noGrad } from '../../lib/index.js';
import { rng } from './random.js';

export interface GradcheckOptions {
  h?: number;
  atol?: number;
  rtol?: number;
  /** Indices of inputs that are not checked (e.g. integer labels). */
  skip?: number[];
}

function probe(out: Tensor, w: Float64Array): number {
  let s = 0;
  const d = out.data;
  for (let i = 0; i < d.length; i++) s += w[i] * d[i];
  return s;
}

export function gradcheck(label: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const { h = 1e-2, atol = 2e-3, rtol = 2e-2, skip = [] } = opts;
  for (const [i, x] of inputs.entries()) if (!skip.includes(i) && x.dtype === 'float32') x.requiresGrad = true;
  const out0 = f(...inputs);
  const r = rng(1234);
  const w = Float64Array.from({ length: out0.size }, () => r() * 2 - 1);
  // Analytic: backward of sum(w * out) is backward(out) with upstream gradient w.
  out0.backward(new Tensor(Float32Array.from(w), out0.shape));
  for (const [i, x] of inputs.entries()) {
    if (skip.includes(i) || x.dtype !== 'float32') continue;
    const analytic = x.grad;
    expect(analytic, `${label}: input ${i} got no gradient`).not.toBeNull();
    const data = x.data as Float32Array;
    for (let j = 0; j < data.length; j++) {
      const orig = data[j];
      const step = h * Math.max(1, Math.abs(orig));
      data[j] = orig + step;
      const plus = noGrad(() => probe(f(...inputs), w));
      data[j] = orig - step;
      const minus = noGrad(() => probe(f(...inputs), w));
      data[j] = orig;
      const numeric = (plus - minus) / (2 * step);
      const got = analytic!.data[j];
      if (!(Math.abs(got - numeric) <= atol + rtol * Math.abs(numeric))) {
        expect.fail(`${label}: d/d input${i}[${j}]: analytic ${got}, finite difference ${numeric}`);
      }
    }
    x.grad = null;
  }
}
