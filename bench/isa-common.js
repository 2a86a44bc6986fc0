/**
 * Shared by isa.js (the parent) and isa-child.js (one child per ISA): what the ISA comparison
 * measures and the two timing loops it uses (plain loops, no benchmark.js: a child must finish in a
 * known time, and the parent takes medians over interleaved rounds itself).
 */

/** GEMM cases (ids from cases.js): square 512 and 1024, and the MLP shapes incl. both backward ones. */
export const ISA_GEMM_CASES = ['sq512', 'sq1024', 'fwd1', 'fwd3', 'dW1', 'dX2'];
/** Batch-1 inference calls per thread count (p99 needs many). */
export const ISA_LATENCY_CALLS = { quick: 3000, full: 20000 };

const now = () => Number(process.hrtime.bigint()) / 1e9;
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
export { median };

/**
 * Calls per second of fn: one warm-up call, then chunks of about seconds/8 each (at least 3
 * chunks, at least one call per chunk) until `seconds` have passed; the median chunk rate.
 */
export function rate(fn, seconds) {
  let t0 = now();
  fn();
  const one = Math.max(1e-7, now() - t0);
  const chunk = Math.max(1, Math.round(seconds / 8 / one));
  const rates = [];
  const end = now() + seconds;
  while (rates.length < 3 || (now() < end && rates.length < 64)) {
    t0 = now();
    for (let i = 0; i < chunk; i++) fn();
    rates.push(chunk / (now() - t0));
  }
  return median(rates);
}

/** p50 / p99 in µs of `calls` single calls of fn, after calls/10 (at least 20) warm-up calls. */
export function percentiles(fn, calls) {
  for (let i = 0; i < Math.max(20, calls / 10); i++) fn();
  const t = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    t[i] = Number(process.hrtime.bigint() - t0) / 1e3;
  }
  t.sort();
  const q = (p) => t[Math.min(calls - 1, Math.floor(p * (calls - 1) + 0.5))];
  return { p50: q(0.5), p99: q(0.99) };
}

/**
 * Calls per second of each fn in `fns`, measured in alternation (a chunk of fn 0, a chunk of fn 1,
 * …, then again) so that load from other processes hits them all alike: one warm-up call each,
 * chunks of about seconds / (8 · fns.length) (at least one call), rounds until `seconds` have
 * passed (at least 3, at most 64); the median chunk rate of each.
 */
export function pairedRates(fns, seconds) {
  const chunk = fns.map((fn) => {
    const t0 = now();
    fn();
    return Math.max(1, Math.round(seconds / (8 * fns.length) / Math.max(1e-7, now() - t0)));
  });
  const rates = fns.map(() => []);
  const end = now() + seconds;
  while (rates[0].length < 3 || (now() < end && rates[0].length < 64)) {
    fns.forEach((fn, i) => {
      const t0 = now();
      for (let j = 0; j < chunk[i]; j++) fn();
      rates[i].push(chunk[i] / (now() - t0));
    });
  }
  return rates.map(median);
}
