/**
 * bench/runner.js — HOW things are measured and printed: benchmark.js suites (ops/s with their
 * relative margin of error), a plain timed loop for latency percentiles, markdown tables.
 * Progress goes to stderr; stdout carries only the report.
 */
import Benchmark from 'benchmark';

export function configure({ quick }) {
  Benchmark.options.maxTime = quick ? 0.25 : 1; // seconds of sampling per case (default 5)
  Benchmark.options.minSamples = quick ? 3 : 5;
  Benchmark.options.initCount = 1;
}

export const settings = () => ({ maxTime: Benchmark.options.maxTime, minSamples: Benchmark.options.minSamples });

/**
 * Runs one benchmark.js suite: cases is [{ key, fn }], fn does one operation. Returns a Map
 * key → { hz (ops/s), rme (± % at 95 %), samples }. Synchronous (async: false): the functions
 * are synchronous and the target was activated by the caller.
 */
export function suite(title, cases) {
  const s = new Benchmark.Suite(title);
  for (const { key, fn } of cases) s.add(key, fn);
  const out = new Map();
  s.on('cycle', (e) => {
    const b = e.target;
    if (b.error) {
      process.stderr.write(`  ${title} / ${b.name}: ERROR ${b.error.message}\n`);
      out.set(b.name, { error: b.error.message });
      return;
    }
    out.set(b.name, { hz: b.hz, rme: b.stats.rme, samples: b.stats.sample.length });
    process.stderr.write(`  ${title} / ${String(b)}\n`);
  });
  s.run({ async: false });
  return out;
}

/**
 * Latency of fn (one call each): warm-up, then timed calls until maxTime seconds or maxIters;
 * returns { median, p99, mean, n } in microseconds.
 */
export function latency(fn, { maxTime = Benchmark.options.maxTime, warmup = 20, maxIters = 20000 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const t = [];
  const end = process.hrtime.bigint() + BigInt(Math.round(maxTime * 1e9));
  let now = process.hrtime.bigint();
  while (t.length < maxIters && (now < end || t.length < 20)) {
    const t0 = now;
    fn();
    now = process.hrtime.bigint();
    t.push(Number(now - t0) / 1e3);
  }
  t.sort((a, b) => a - b);
  const q = (p) => t[Math.min(t.length - 1, Math.floor(p * (t.length - 1) + 0.5))];
  return { median: q(0.5), p99: q(0.99), mean: t.reduce((a, b) => a + b, 0) / t.length, n: t.length };
}

/** A markdown table. rows: arrays of cells (already strings). */
export function table(headers, rows, align) {
  const al = align ?? headers.map((_, i) => (i === 0 ? 'l' : 'r'));
  const sep = al.map((a) => (a === 'r' ? '---:' : a === 'c' ? ':---:' : '---'));
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(sep), ...rows.map(line)].join('\n');
}

export const DASH = '—';

/** Number formatting: 3 significant digits, thousands separated. */
export function num(x, digits = 3) {
  if (x == null || !Number.isFinite(x)) return DASH;
  if (Math.abs(x) >= 10 ** digits) return Math.round(x).toLocaleString('en-US');
  return Number(x.toPrecision(digits)).toLocaleString('en-US', { maximumSignificantDigits: digits });
}

export const pct = (x) => (x == null || !Number.isFinite(x) ? DASH : `${x >= 10 ? x.toFixed(0) : x.toFixed(1)} %`);
export const ratio = (x) => (x == null || !Number.isFinite(x) ? DASH : `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}×`);
/** "value ±rme%" for a suite result. */
export const withRme = (r, f = (h) => h) => (!r || r.error ? (r?.error ? 'error' : DASH) : `${num(f(r.hz))} ±${r.rme.toFixed(0)}%`);

/**
 * For calls that take seconds (the TS backend, TensorFlow.js cpu on the CNN): `warmup()` once
 * (untimed; e.g. the same call on a tiny batch, so the JIT has compiled the loops), then timed
 * calls of fn until `seconds` have passed, at least one and at most maxCalls. Returns
 * { ms (median per call), n (calls timed) }.
 */
export function slowCalls(fn, { warmup = null, seconds = 5, maxCalls = 5 } = {}) {
  if (warmup) warmup();
  const t = [];
  const start = performance.now();
  while (t.length < 1 || (t.length < maxCalls && performance.now() - start < seconds * 1e3)) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  const h = Math.floor(t.length / 2);
  return { ms: t.length % 2 ? t[h] : (t[h - 1] + t[h]) / 2, n: t.length };
}
