/**
 * Synthetic 2-D classification sets for teaching: how a network bends the
 * plane. All are seeded (fathom's Philox stream: `seed`, else the global
 * stream after manualSeed) and return
 *
 *   x: (N, 2) float32 points,  y: (N) int32 class indices.
 *
 * moons and circles follow scikit-learn's make_moons / make_circles exactly
 * (point placement, class sizes, Gaussian noise of std `noise` on both
 * coordinates, rows shuffled); spirals is CS231n's K-arm spiral.
 */
import { Tensor } from '../tensor/tensor.js';
import { checkOptions, show } from '../layers/options.js';
import { Draws } from './random.js';

export interface Points2D {
  /** (N, 2) float32. */
  x: Tensor;
  /** (N) int32 class index. */
  y: Tensor;
}

export interface MoonsOptions {
  /** Number of points, >= 1 (default 100, as sklearn's n_samples); ⌊n/2⌋ on the outer moon (class 0). */
  n?: number;
  /** Std of the Gaussian noise added to each coordinate, >= 0 (default 0). */
  noise?: number;
  /** Seed (a non-negative integer); default: the global stream. */
  seed?: number;
}

export interface CirclesOptions extends MoonsOptions {
  /** Radius of the inner circle (class 1) relative to the outer one (class 0), in [0, 1) (default 0.8). */
  factor?: number;
}

export interface SpiralsOptions extends MoonsOptions {
  /** Number of arms (classes), 2 or 3 (default 2). n defaults to 100 per class. */
  classes?: number;
}

function count(op: string, n: unknown, dflt: number): number {
  if (n === undefined) return dflt;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1 || n > 10_000_000) {
    throw new Error(`fathom.data.${op}: options.n must be an integer from 1 to 10000000, got ${show(n)}`);
  }
  return n;
}

function nonNegative(op: string, name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
    throw new Error(`fathom.data.${op}: options.${name} must be a finite number >= 0, got ${show(v)}`);
  }
  return v;
}

export function seedOf(op: string, seed: unknown): number | undefined {
  if (seed === undefined) return undefined;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new Error(`fathom.data.${op}: options.seed must be a non-negative integer, got ${show(seed)}`);
  }
  return seed;
}

/** numpy's linspace(start, stop, num, endpoint). */
function linspace(start: number, stop: number, num: number, endpoint = true): Float64Array {
  const out = new Float64Array(num);
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  for (let i = 0; i < num; i++) out[i] = start + i * step;
  if (endpoint && num > 1) out[num - 1] = stop;
  return out;
}

/** Shuffles the rows of (xs, labels) and adds N(0, noise²) to every coordinate. */
function finish(draws: Draws, xs: Float64Array, labels: Int32Array, noise: number): Points2D {
  const n = labels.length;
  const perm = draws.permutation(n);
  const jitter = noise > 0 ? draws.normal(2 * n, 1) : null;
  const x = new Float32Array(2 * n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = perm[i];
    x[2 * i] = xs[2 * s] + (jitter ? noise * jitter[2 * i] : 0);
    x[2 * i + 1] = xs[2 * s + 1] + (jitter ? noise * jitter[2 * i + 1] : 0);
    y[i] = labels[s];
  }
  return { x: new Tensor(x, [n, 2]), y: new Tensor(y, [n]) };
}

/**
 * Two interleaving half circles (sklearn.datasets.make_moons): class 0 on
 * (cos t, sin t), class 1 on (1 − cos t, 0.5 − sin t), t in [0, π].
 * @throws for an unknown option, n not an integer in [1, 1e7], noise < 0, or a bad seed.
 */
export function moons(opts?: MoonsOptions): Points2D {
  const o = checkOptions('data.moons', opts, { n: 'number', noise: 'number', seed: 'number' });
  const n = count('moons', o.n, 100);
  const noise = nonNegative('moons', 'noise', o.noise, 0);
  const draws = new Draws(seedOf('moons', o.seed));
  const nOut = Math.floor(n / 2);
  const nIn = n - nOut;
  const xs = new Float64Array(2 * n);
  const labels = new Int32Array(n);
  const tOut = linspace(0, Math.PI, nOut);
  const tIn = linspace(0, Math.PI, nIn);
  for (let i = 0; i < nOut; i++) {
    xs[2 * i] = Math.cos(tOut[i]);
    xs[2 * i + 1] = Math.sin(tOut[i]);
  }
  for (let i = 0; i < nIn; i++) {
    const r = nOut + i;
    xs[2 * r] = 1 - Math.cos(tIn[i]);
    xs[2 * r + 1] = 1 - Math.sin(tIn[i]) - 0.5;
    labels[r] = 1;
  }
  return finish(draws, xs, labels, noise);
}

/**
 * A large circle (class 0, radius 1) around a small one (class 1, radius
 * `factor`) (sklearn.datasets.make_circles): ⌊n/2⌋ points on the outer one,
 * each circle sampled at equally spaced angles from 0 (2π excluded).
 * @throws for an unknown option, a bad n, noise < 0, factor outside [0, 1), or a bad seed.
 */
export function circles(opts?: CirclesOptions): Points2D {
  const o = checkOptions('data.circles', opts, { n: 'number', noise: 'number', factor: 'number', seed: 'number' });
  const n = count('circles', o.n, 100);
  const noise = nonNegative('circles', 'noise', o.noise, 0);
  const factor = o.factor ?? 0.8;
  if (!(factor >= 0 && factor < 1)) throw new Error(`fathom.data.circles: options.factor must be in [0, 1), got ${show(o.factor)}`);
  const draws = new Draws(seedOf('circles', o.seed));
  const nOut = Math.floor(n / 2);
  const nIn = n - nOut;
  const xs = new Float64Array(2 * n);
  const labels = new Int32Array(n);
  const tOut = linspace(0, 2 * Math.PI, nOut, false);
  const tIn = linspace(0, 2 * Math.PI, nIn, false);
  for (let i = 0; i < nOut; i++) {
    xs[2 * i] = Math.cos(tOut[i]);
    xs[2 * i + 1] = Math.sin(tOut[i]);
  }
  for (let i = 0; i < nIn; i++) {
    const r = nOut + i;
    xs[2 * r] = factor * Math.cos(tIn[i]);
    xs[2 * r + 1] = factor * Math.sin(tIn[i]);
    labels[r] = 1;
  }
  return finish(draws, xs, labels, noise);
}

/**
 * K interleaved spiral arms, one class each (after CS231n's "spiral" data):
 * for class k the i-th of its m points has radius r = i / (m − 1) and angle
 * θ = 2πk/K + 7r plus N(0, noise²) radians (a little over one turn; CS231n's
 * arms turn 4 radians), at (r sin θ, r cos θ). Classes get ⌈n/K⌉ or ⌊n/K⌋
 * points (the first ones the extra), rows shuffled.
 * Note that `noise` perturbs the angle here (default 0.2, as CS231n), not the coordinates.
 * @throws for an unknown option, classes not 2 or 3, a bad n, noise < 0, or a bad seed.
 */
/** Radians an arm turns from the centre to radius 1. */
const SPIRAL_TURN = 7;

export function spirals(opts?: SpiralsOptions): Points2D {
  const o = checkOptions('data.spirals', opts, { n: 'number', classes: 'number', noise: 'number', seed: 'number' });
  const classes = o.classes ?? 2;
  if (classes !== 2 && classes !== 3) throw new Error(`fathom.data.spirals: options.classes must be 2 or 3, got ${show(o.classes)}`);
  const n = count('spirals', o.n, 100 * classes);
  const noise = nonNegative('spirals', 'noise', o.noise, 0.2);
  const draws = new Draws(seedOf('spirals', o.seed));
  const angle = noise > 0 ? draws.normal(n, 1) : null;
  const xs = new Float64Array(2 * n);
  const labels = new Int32Array(n);
  let row = 0;
  for (let k = 0; k < classes; k++) {
    const m = Math.floor(n / classes) + (k < n % classes ? 1 : 0);
    const start = (2 * Math.PI * k) / classes;
    for (let i = 0; i < m; i++, row++) {
      const r = m > 1 ? i / (m - 1) : 0;
      const theta = start + SPIRAL_TURN * r + (angle ? noise * angle[row] : 0);
      xs[2 * row] = r * Math.sin(theta);
      xs[2 * row + 1] = r * Math.cos(theta);
      labels[row] = k;
    }
  }
  return finish(draws, xs, labels, 0);
}
