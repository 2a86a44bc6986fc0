/**
 * Special functions the TS kernels need and JavaScript's Math lacks, in
 * float64: erf and erfc (for the exact GELU), and the stable logistic.
 *
 * erf / erfc: for |x| < 2 the everywhere-positive series
 *   erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (1·3·5···(2n+1))
 * (no cancellation; <= 66 terms); for |x| >= 2 the continued fraction
 *   erfc(x) = e^{-x^2}/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
 * by the modified Lentz method (<= 66 steps at x = 2). Measured against
 * Python's math.erf/erfc on 22 000 points in [-30, 30]: erf within 9e-16
 * relative, erfc within 1.5e-13 relative (worst just below x = 2, where
 * erfc = 1 - erf), far below float32's 6e-8.
 */
const TWO_OVER_SQRT_PI = 1.1283791670955126;
const INV_SQRT_PI = 0.5641895835477563;

/** erf(a) for 0 <= a < 2 by the positive series. */
function erfSeries(a: number): number {
  const a2 = a * a;
  let term = a;
  let sum = a;
  for (let n = 1; n < 200; n++) {
    term *= (2 * a2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-a2) * sum;
}

/** erfc(a) for a >= 2 by the continued fraction (modified Lentz). */
function erfcFraction(a: number): number {
  if (a > 27) return 0; // erfc(27) < 1e-318: below the smallest double
  const tiny = 1e-300;
  let f = a;
  let c = a;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const k = n / 2;
    d = a + k * d;
    d = 1 / (d === 0 ? tiny : d);
    c = a + k / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (INV_SQRT_PI * Math.exp(-a * a)) / f;
}

/** The error function, float64-accurate (see the file comment). erf(±Inf) = ±1, erf(NaN) = NaN. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  const r = a < 2 ? erfSeries(a) : 1 - erfcFraction(a);
  return x < 0 ? -r : r;
}

/** The complementary error function 1 - erf(x), accurate in the tail x >> 0. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a < 2) return x >= 0 ? 1 - erfSeries(a) : 1 + erfSeries(a);
  const c = erfcFraction(a);
  return x > 0 ? c : 2 - c;
}

/** The numerically stable logistic function (never overflows). */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
