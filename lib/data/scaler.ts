/**
 * StandardScaler: z = (x − mean) / scale per feature (column), scikit-learn's
 * `sklearn.preprocessing.StandardScaler`: mean and the population standard
 * deviation (ddof 0) are computed in float64 by fit(); a feature with zero
 * variance gets scale 1 (so it maps to 0, not to NaN). Fit it on the training
 * split only, then transform both splits with it.
 *
 *   fit(x: (N, D))            → this      (N >= 1)
 *   transform(x: (M, D))      → (M, D) float32, a new tensor
 *   fitTransform(x: (N, D))   → (N, D)
 *   inverseTransform(z: (M, D)) → (M, D): z · scale + mean
 */
import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { checkOptions, show } from '../layers/options.js';

export interface StandardScalerOptions {
  /** Subtract the mean (default true). */
  withMean?: boolean;
  /** Divide by the standard deviation (default true). */
  withStd?: boolean;
}

export class StandardScaler {
  readonly withMean: boolean;
  readonly withStd: boolean;
  /** Per-feature mean of the fitted data (0s when withMean is false); null before fit(). */
  mean: Float64Array | null = null;
  /** Per-feature divisor: the standard deviation, 1 where it is 0 or withStd is false; null before fit(). */
  scale: Float64Array | null = null;
  /** Per-feature population variance of the fitted data; null before fit(). */
  variance: Float64Array | null = null;
  /** Rows seen by fit(). */
  nSamplesSeen = 0;

  constructor(opts?: StandardScalerOptions) {
    const o = checkOptions('data.StandardScaler', opts, { withMean: 'boolean', withStd: 'boolean' });
    this.withMean = o.withMean ?? true;
    this.withStd = o.withStd ?? true;
  }

  /**
   * Learns mean and scale from x (N, D), N >= 1.
   * @throws if x is not a 2-D float32 tensor with a row, or holds NaN or ±Infinity.
   */
  fit(x: Tensor): this {
    const [n, d] = check('fit', x, null);
    if (n === 0) throw new Error(`fathom.data.StandardScaler.fit: x needs at least one row, got ${fmt(x.shape)}`);
    const data = x.data;
    const mean = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
    for (let j = 0; j < d; j++) mean[j] /= n;
    const variance = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const c = data[i * d + j] - mean[j];
        variance[j] += c * c;
      }
    }
    const scale = new Float64Array(d).fill(1);
    for (let j = 0; j < d; j++) {
      variance[j] /= n;
      // sklearn's _handle_zeros_in_scale: a (near-)constant feature keeps scale 1.
      const s = Math.sqrt(variance[j]);
      if (this.withStd && s > 10 * Number.EPSILON * Math.max(1, Math.abs(mean[j]))) scale[j] = s;
    }
    this.mean = this.withMean ? mean : new Float64Array(d);
    this.scale = scale;
    this.variance = variance;
    this.nSamplesSeen = n;
    return this;
  }

  /** (x − mean) / scale, a new float32 tensor. @throws before fit(), or when x has another number of features. */
  transform(x: Tensor): Tensor {
    const { mean, scale } = this.fitted('transform');
    const [n, d] = check('transform', x, mean.length);
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = (x.data[i * d + j] - mean[j]) / scale[j];
    return new Tensor(out, [n, d]);
  }

  /** fit(x) then transform(x). */
  fitTransform(x: Tensor): Tensor {
    return this.fit(x).transform(x);
  }

  /** z · scale + mean: back to the original units. */
  inverseTransform(z: Tensor): Tensor {
    const { mean, scale } = this.fitted('inverseTransform');
    const [n, d] = check('inverseTransform', z, mean.length);
    const out = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = z.data[i * d + j] * scale[j] + mean[j];
    return new Tensor(out, [n, d]);
  }

  private fitted(op: string): { mean: Float64Array; scale: Float64Array } {
    if (this.mean === null || this.scale === null) {
      throw new Error(`fathom.data.StandardScaler.${op}: the scaler is not fitted yet; call fit(xTrain) first`);
    }
    return { mean: this.mean, scale: this.scale };
  }
}

function check(op: string, x: unknown, features: number | null): [number, number] {
  const name = op === 'inverseTransform' ? 'z' : 'x';
  if (!(x instanceof Tensor)) throw new Error(`fathom.data.StandardScaler.${op}: ${name} must be a Tensor, got ${show(x)}`);
  if (x.dtype !== 'float32' || x.rank !== 2) {
    throw new Error(`fathom.data.StandardScaler.${op}: ${name} must be a 2-D float32 tensor [n, features], got ${x.dtype} ${fmt(x.shape)}`);
  }
  const [n, d] = x.shape as [number, number];
  if (features !== null && d !== features) {
    throw new Error(`fathom.data.StandardScaler.${op}: ${name} must have the ${features} features the scaler was fitted on, got ${fmt(x.shape)}`);
  }
  for (let i = 0; i < x.data.length; i++) {
    if (!Number.isFinite(x.data[i])) {
      throw new Error(`fathom.data.StandardScaler.${op}: ${name} must be finite, got ${x.data[i]} at row ${Math.floor(i / d)}, column ${i % d}`);
    }
  }
  return [n, d];
}
