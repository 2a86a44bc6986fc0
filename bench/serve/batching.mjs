/**
 * bench/serve/batching.mjs — 200 concurrent batch-1 callers of the MNIST MLP (784-256-256-10, ReLU,
 * untrained: the weights do not change the cost), answered three ways:
 *
 *   predict   one model.predict(x) per request on the JS thread (each request a macrotask, as an
 *             HTTP handler would run it): the baseline a new user writes
 *   pool      one InferencePool.predict(x) per request (worker thread, one hand-off per request)
 *   batching  serve.BatchingPredictor (maxBatchSize 64, maxDelayMs 2, nice 10; one worker per core, each
 *             computing on its own thread: `threads: 1`): requests merged
 *
 * Closed loop: each of the `--clients` callers sends a request, awaits its answer, sends the next, for
 * `--seconds` per variant (after a short warm-up). Reported per variant and round: requests/s, request
 * latency p50 / p99 (ms, from the call to the answer) and the JS thread's event-loop delay p99 / max
 * (perf_hooks.monitorEventLoopDelay, 1 ms resolution, over the measured window). For batching, the mean
 * batch size. Rounds interleave the variants (the order rotates each round) so load from other processes
 * hits them alike; the last table gives the medians over rounds. Needs dist/ (`npx tsc -p tsconfig.json`).
 * pool and batching use `--workers` worker threads (default: the core count), each with `--threads` kernel
 * threads for its own forward passes (InferencePool's `threads`, default 1: workers compute side by side
 * instead of queueing for the one kernel pool; 0: the process's setting, FATHOM_NUM_THREADS).
 *
 * Each variant also reports the JS thread's CPU time per request (Linux). The last line gives the bound on
 * batching / predict: t1 · P / (c + w), t1 one-by-one predict's time per request, c the JS thread's CPU per
 * batched request, w one core's time per row of a batch-maxBatchSize forward, P the core count
 * (os.availableParallelism(): the cores); and the looser R · t1 (R: rows/s of batch-maxBatchSize forwards on every core).
 * `--nice N` lowers the worker and kernel threads (InferencePool's `nice`); `--answers-per-turn` is the
 * predictor's option (Infinity: every answer of a batch in one turn).
 *
 *   node bench/serve/batching.mjs [--clients 200] [--seconds 3] [--rounds 3] [--workers cores] [--threads 1] [--max-batch 64]
 *     [--max-delay 2] [--nice 10] [--answers-per-turn 16]
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as fathom from '../../dist/index.js';

const { manualSeed, nn, randn, serve } = fathom;
const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    workers: { type: 'string', default: String(availableParallelism()) },
    threads: { type: 'string', default: '1' },
    'max-batch': { type: 'string', default: '64' },
    'max-delay': { type: 'string', default: '2' },
    nice: { type: 'string', default: '10' },
    'answers-per-turn': { type: 'string', default: '16' },
  },
});
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const workers = Number(values.workers);
const threads = Number(values.threads) || undefined; // 0: the process's setting
const maxBatchSize = Number(values['max-batch']);
const maxDelayMs = Number(values['max-delay']);
const nice = Number(values.nice);
const answersPerTurn = values['answers-per-turn'] === 'Infinity' ? Infinity : Number(values['answers-per-turn']);

manualSeed(1);
const model = new nn.Sequential(
  new nn.Linear(784, 256, { init: 'he' }), new nn.ReLU(),
  new nn.Linear(256, 256, { init: 'he' }), new nn.ReLU(),
  new nn.Linear(256, 10),
);
model.eval();
// 256 distinct inputs, one row each, reused round-robin (a real server would decode each request's image).
const inputs = Array.from({ length: 256 }, () => randn([1, 784]));

const info = fathom.info();
console.log(`backend ${info.backend} (${info.isa}, ${info.threads} threads) · MLP 784-256-256-10 · ${clients} concurrent batch-1 callers · ` +
  `${seconds} s per variant · ${rounds} rounds · pool/batching: ${workers} worker(s) × ${threads ?? info.threads} kernel thread(s), maxBatchSize ${maxBatchSize}, maxDelayMs ${maxDelayMs}, nice ${nice}, answersPerTurn ${answersPerTurn}`);

const variants = {
  predict: async () => ({
    call: (x) => new Promise((resolve, reject) => setImmediate(() => {
      try { resolve(model.predict(x)); } catch (e) { reject(e); }
    })),
    close: async () => {},
    extra: () => '',
  }),
  pool: async () => {
    const pool = new serve.InferencePool(model, { workers, nice, threads });
    await pool.predict(inputs[0]); // the workers are up
    return { call: (x) => pool.predict(x), close: () => pool.close(), extra: () => '' };
  },
  batching: async () => {
    const bp = new serve.BatchingPredictor(model, { maxBatchSize, maxDelayMs, workers, nice, answersPerTurn, threads });
    await bp.predict(inputs[0]);
    let base = bp.stats();
    return {
      call: (x) => bp.predict(x),
      close: () => bp.close(),
      reset: () => { base = bp.stats(); },
      extra: () => {
        const s = bp.stats();
        return `mean batch ${((s.meanBatchSize * s.batches - base.meanBatchSize * base.batches) / (s.batches - base.batches)).toFixed(1)}`;
      },
    };
  },
};

/** Runs `clients` closed-loop callers for `ms`; returns latencies (ms) of the requests answered in the window. */
async function drive(call, ms) {
  const lat = [];
  const end = performance.now() + ms;
  let next = 0;
  const client = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await call(inputs[next++ % inputs.length]);
      lat.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return lat;
}

const q = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];

/** CPU seconds of this process's main (JS) thread so far (Linux: /proc/self/task/<pid>/stat; NaN elsewhere). */
function jsThreadCpu() {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / 100; // utime + stime, clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

async function measure(name) {
  const v = await variants[name]();
  await drive(v.call, 300); // warm-up
  v.reset?.();
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  const cpu0 = jsThreadCpu();
  const lat = await drive(v.call, seconds * 1000);
  const jsUs = (jsThreadCpu() - cpu0) / lat.length * 1e6; // the JS thread's CPU per request
  const wall = performance.now() - t0;
  h.disable();
  await v.close();
  lat.sort((a, b) => a - b);
  return {
    name, rps: lat.length / (wall / 1000), p50: q(lat, 0.5), p99: q(lat, 0.99),
    loopP99: h.percentile(99) / 1e6, loopMax: h.max / 1e6, jsUs, extra: v.extra(),
  };
}

// The JS thread's event-loop delay with nothing to do, for scale (1 ms resolution: ~1 ms is the floor).
{
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await new Promise((r) => setTimeout(r, 1000));
  h.disable();
  console.log(`idle event-loop delay: p50 ${(h.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(2)} ms, max ${(h.max / 1e6).toFixed(1)} ms`);
}

const names = Object.keys(variants);
const results = Object.fromEntries(names.map((n) => [n, []]));
const row = (r) => `${r.name.padEnd(9)} ${r.rps.toFixed(0).padStart(8)} req/s   latency p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms   ` +
  `event-loop delay p99 ${r.loopP99.toFixed(2).padStart(6)} ms  max ${r.loopMax.toFixed(1).padStart(6)} ms   JS thread ${r.jsUs.toFixed(1).padStart(5)} µs/request   ${r.extra}`;
for (let round = 0; round < rounds; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]);
  console.log(`round ${round + 1}`);
  for (const name of order) {
    const r = await measure(name);
    results[name].push(r);
    console.log(`  ${row(r)}`);
  }
}
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };
console.log(`median of ${rounds} rounds`);
for (const name of names) {
  const rs = results[name];
  console.log(`  ${row({ name, rps: med(rs.map((r) => r.rps)), p50: med(rs.map((r) => r.p50)), p99: med(rs.map((r) => r.p99)), loopP99: med(rs.map((r) => r.loopP99)), loopMax: med(rs.map((r) => r.loopMax)), jsUs: med(rs.map((r) => r.jsUs)), extra: '' })}`);
}
const b = med(results.batching.map((r) => r.rps)) / med(results.predict.map((r) => r.rps));
console.log(`batching / predict: ${b.toFixed(1)}× the requests per second`);

// The bound on that ratio. One-by-one predict costs t1 per request (1 / its req/s: a batch-1 forward plus
// the per-request overhead, on one core). Batching costs, per request, c µs of the JS thread (measured
// above: the caller's side, the predictor, the hand-off) plus w µs of kernel time per row (a batch-B
// forward on ONE thread, the most CPU-efficient way to run it, divided by B). With P cores in all
// (os.availableParallelism()),
// batching answers at most P / (c + w) requests/s, so batching / predict ≤ t1 · P / (c + w). The
// looser R · t1 (R: rows/s of batch-B forwards on every core) ignores the JS thread's share.
{
  const P = availableParallelism(); // the cores
  const xb = randn([maxBatchSize, 784]);
  const forwardMs = () => {
    for (let i = 0; i < 20; i++) model.predict(xb);
    const reps = [];
    for (let k = 0; k < 5; k++) {
      const t = performance.now();
      for (let i = 0; i < 50; i++) model.predict(xb);
      reps.push((performance.now() - t) / 50);
    }
    return med(reps);
  };
  const tAll = forwardMs();
  fathom.setNumThreads(1);
  const tOne = forwardMs();
  fathom.setNumThreads(info.threads);
  const R = maxBatchSize / (tAll / 1000);
  const w = (tOne * 1000) / maxBatchSize; // µs of one core per row
  const t1 = 1e6 / med(results.predict.map((r) => r.rps)); // µs per one-by-one request
  const c = med(results.batching.map((r) => r.jsUs));
  console.log(`bound: one-by-one predict t1 = ${t1.toFixed(1)} µs per request; batch-${maxBatchSize} forward ${(tAll * 1000).toFixed(0)} µs on ${info.threads} kernel thread(s) ` +
    `(R = ${Math.round(R).toLocaleString('en-US')} rows/s: R · t1 = ${(R * t1 / 1e6).toFixed(1)}×), ${(tOne * 1000).toFixed(0)} µs on 1 thread (w = ${w.toFixed(2)} µs per row); ` +
    `the JS thread's c = ${c.toFixed(1)} µs per batched request → at most ${P} / (c + w) = ${Math.round(P / (c + w) * 1e6).toLocaleString('en-US')} req/s = ` +
    `${(t1 * P / (c + w)).toFixed(1)}× one-by-one predict on ${P} cores`);
}
