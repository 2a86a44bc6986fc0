/**
 * bench/serve/predict-workers.mjs — what a model.predictAsync worker costs in memory (RSS), and what the
 * worker cap (serve.setMaxPredictWorkers) does to it and to latency (lib/serve/snapshot.ts).
 *
 *  1. RSS per worker: `--models` distinct models (a tiny MLP 6-16-3, and the MNIST MLP 784-256-256-10 of
 *     1.07 MB), no cap; after each model's first call (its worker starts) the process RSS is read (after a
 *     GC when run with --expose-gc). Per worker = the slope (RSS with n workers − RSS with 1) / (n − 1):
 *     the thread, its V8 heap, fathom's modules and the worker's copy of the model, plus this thread's
 *     snapshot copy of the weights (1.07 MB for the MNIST MLP).
 *  2. The cap: the same models used in turn with the cap at 2: RSS stays at the 2-worker level.
 *  3. Latency: a call to a model whose worker is warm vs a call that must first end another model's worker
 *     (cap 1, two models alternating, each call awaited): the price of a cap below the models in use.
 *  4. The hand-off budget (how many requests are handed to the worker before they are answered; the rest
 *     wait on this thread, cancellable): 64 concurrent batch-1 callers of the MNIST MLP for --seconds,
 *     requests/s with the default budget (~2 ms of the worker's time, 2..64 requests) vs 0 (two at most),
 *     rounds interleaved, medians.
 *
 *   node --expose-gc bench/serve/predict-workers.mjs [--models 8] [--switches 10] [--seconds 1.5] [--rounds 5]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as fathom from '../../dist/index.js';

const { manualSeed, nn, randn, serve } = fathom;
const { values } = parseArgs({
  options: { models: { type: 'string', default: '8' }, switches: { type: 'string', default: '10' }, seconds: { type: 'string', default: '1.5' }, rounds: { type: 'string', default: '5' } },
});
const nModels = Number(values.models);
const switches = Number(values.switches);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const { predictWorkerStats, predictAsyncTuning } = await import('../../dist/serve/snapshot.js');

const gc = globalThis.gc ?? (() => {});
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 50));
  }
};
const mb = (b) => b / 2 ** 20;
const tiny = (seed) => { manualSeed(seed); return new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 3)); };
const mnist = (seed) => {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 256), new nn.ReLU(), new nn.Linear(256, 10));
};

/** RSS (MB) after 1..n workers, one model each. */
async function rssCurve(make, width) {
  serve.setMaxPredictWorkers(Infinity);
  const models = Array.from({ length: nModels }, (_, i) => make(100 + i));
  const x = randn([1, width]);
  const rss = [];
  for (const m of models) {
    await m.predictAsync(x, { idleTimeoutMs: 600000 });
    await settle();
    rss.push(mb(process.memoryUsage().rss));
  }
  // The cap at 2: every model again, in turn.
  serve.setMaxPredictWorkers(2);
  let capped = 0;
  for (let round = 0; round < 2; round++) {
    for (const m of models) {
      await m.predictAsync(x, { idleTimeoutMs: 600000 });
      await settle();
      capped = Math.max(capped, mb(process.memoryUsage().rss));
    }
  }
  await serve.closeWorkers();
  await settle();
  return { rss, capped, after: mb(process.memoryUsage().rss) };
}

const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

await settle();
const base = mb(process.memoryUsage().rss);
const curves = { 'MLP 6-16-3': await rssCurve(tiny, 6), 'MLP 784-256-256-10 (1.07 MB)': await rssCurve(mnist, 784) };

// Latency: warm calls vs calls that end the other model's worker first (cap 1).
const a = mnist(1);
const b = mnist(2);
const x = randn([1, 784]);
serve.setMaxPredictWorkers(Infinity);
await a.predictAsync(x);
const warm = [];
for (let i = 0; i < 50; i++) {
  const t = performance.now();
  await a.predictAsync(x);
  warm.push(performance.now() - t);
}
serve.setMaxPredictWorkers(1);
const switched = [];
const before = { ...predictWorkerStats };
for (let i = 0; i < switches; i++) {
  const m = i % 2 ? a : b;
  const t = performance.now();
  await m.predictAsync(x);
  switched.push(performance.now() - t);
}
const after = predictWorkerStats;
await serve.closeWorkers();

// The hand-off budget: 64 concurrent callers, default budget vs two handed at most, interleaved.
serve.setMaxPredictWorkers(Infinity);
const budgets = { [`default (${predictAsyncTuning.handedMs} ms: 2..64 handed)`]: predictAsyncTuning.handedMs, '0 (two handed at most)': 0 };
const rps = Object.fromEntries(Object.keys(budgets).map((k) => [k, []]));
await a.predictAsync(x);
for (let r = 0; r < rounds; r++) {
  const names = Object.keys(budgets);
  for (const k of r % 2 ? names.reverse() : names) {
    predictAsyncTuning.handedMs = budgets[k];
    let n = 0;
    const end = performance.now() + seconds * 1000;
    const caller = async () => { while (performance.now() < end) { await a.predictAsync(x); n++; } };
    await Promise.all(Array.from({ length: 64 }, caller));
    rps[k].push(n / seconds);
  }
}
await serve.closeWorkers();

const info = fathom.info();
console.log(`backend ${info.backend} (${info.isa}) · node ${process.version} · ${nModels} models · gc ${globalThis.gc ? 'forced' : 'not exposed (run with --expose-gc)'} · load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
console.log(`RSS before any worker: ${base.toFixed(1)} MB`);
console.log('');
console.log('| model | RSS, 1 worker (MB) | RSS, ' + nModels + ' workers (MB) | per worker (MB, slope) | peak RSS, same models in turn, cap 2 (MB) |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [name, c] of Object.entries(curves)) {
  const per = (c.rss[c.rss.length - 1] - c.rss[0]) / (c.rss.length - 1);
  console.log(`| ${name} | ${c.rss[0].toFixed(1)} | ${c.rss[c.rss.length - 1].toFixed(1)} | ${per.toFixed(1)} | ${c.capped.toFixed(1)} |`);
}
console.log('');
console.log(`RSS after each worker (MB): ${Object.entries(curves).map(([n, c]) => `${n}: ${c.rss.map((v) => v.toFixed(1)).join(' ')}`).join(' · ')}`);
console.log('');
console.log('| MNIST MLP, batch 1, each call awaited | median ms | max ms |');
console.log('| --- | ---: | ---: |');
console.log(`| warm worker (no cap) | ${median(warm).toFixed(2)} | ${Math.max(...warm).toFixed(2)} |`);
console.log(`| cap 1, two models alternating (each call ends the other's worker and starts its own) | ${median(switched).toFixed(1)} | ${Math.max(...switched).toFixed(1)} |`);
console.log(`workers started during the alternation: ${after.started - before.started}, evicted: ${after.evicted - before.evicted}`);
console.log('');
console.log(`| 64 concurrent batch-1 callers, MNIST MLP, hand-off budget | requests/s (median of ${rounds}) | per round |`);
console.log('| --- | ---: | ---: |');
for (const [k, v] of Object.entries(rps)) console.log(`| ${k} | ${median(v).toFixed(0)} | ${v.map((r) => r.toFixed(0)).join(' / ')} |`);
