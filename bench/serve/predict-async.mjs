/**
 * bench/serve/predict-async.mjs — what model.predictAsync costs (lib/serve/snapshot.ts), on the MNIST
 * MLP 784-256-256-10 (1.07 MB of weights): per call, the exact change check alone (the model walk,
 * config() as JSON, and a byte compare of every parameter and buffer with the snapshot), and whole calls
 * awaited one after another — weights unchanged, one element of the first layer written before each call
 * (that 784×256 weight, 0.8 MB, is copied and sent), pruning masks added or removed before each call (new
 * state keys: the whole model is serialized and rebuilt in the worker) — next to predict() on this
 * thread, at batch 1 and 256; and the first call (a worker starts). Rounds interleave the variants; the
 * table gives medians (µs per call). Needs dist/ (`npx tsc -p tsconfig.json`).
 *
 *   node bench/serve/predict-async.mjs [--calls 300] [--rounds 3]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as fathom from '../../dist/index.js';
import { Snapshot } from '../../dist/serve/snapshot.js';

const { manualSeed, nn, prune, randn, serve } = fathom;
const { values } = parseArgs({ options: { calls: { type: 'string', default: '300' }, rounds: { type: 'string', default: '3' } } });
const calls = Number(values.calls);
const rounds = Number(values.rounds);
const info = fathom.info();

manualSeed(1);
const model = new nn.Sequential(
  new nn.Linear(784, 256, { init: 'he' }), new nn.ReLU(),
  new nn.Linear(256, 256, { init: 'he' }), new nn.ReLU(),
  new nn.Linear(256, 10),
);
const first = model.layers[0];
const xs = { 1: randn([1, 784]), 256: randn([256, 784]) };
const snap = new Snapshot();
snap.diff(model);

let t = performance.now();
await model.predictAsync(xs[1]);
const firstCallMs = performance.now() - t;

const variants = {
  check: async () => { snap.diff(model); },
  'predict 1': async () => { model.predict(xs[1]); },
  'predictAsync 1, unchanged': () => model.predictAsync(xs[1]),
  'predictAsync 1, one weight written': () => { first.weight.data[7] += 1e-6; return model.predictAsync(xs[1]); },
  'predictAsync 1, masks added / removed': () => {
    if (prune.isPruned(model)) prune.remove(model);
    else prune.magnitude(model, { sparsity: 0 }); // masks of ones: new state keys, the same weights
    return model.predictAsync(xs[1]);
  },
  'masks added / removed alone': async () => {
    if (prune.isPruned(model)) prune.remove(model);
    else prune.magnitude(model, { sparsity: 0 });
  },
  'predict 256': async () => { model.predict(xs[256]); },
  'predictAsync 256, unchanged': () => model.predictAsync(xs[256]),
};
const results = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  const names = Object.keys(variants);
  for (const name of r % 2 ? names.reverse() : names) {
    const f = variants[name];
    for (let i = 0; i < 20; i++) await f(); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await f();
    results[name].push(((performance.now() - t0) / calls) * 1000);
  }
}
await serve.closeWorkers();
const med = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
console.log(`backend ${info.backend} (${info.isa}, ${info.threads} threads) · MLP 784-256-256-10 · ${calls} calls × ${rounds} rounds · load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
console.log('');
console.log('| per call, awaited one after another | µs (median of rounds) | per round |');
console.log('| --- | ---: | ---: |');
const label = {
  check: 'the change check alone (walk + config JSON + byte compare of 1.07 MB)',
  'predict 1': '`predict`, batch 1, on the JS thread',
  'predictAsync 1, unchanged': '`predictAsync`, batch 1, weights unchanged',
  'predictAsync 1, one weight written': '`predictAsync`, batch 1, one weight written before each call (0.8 MB resent)',
  'predictAsync 1, masks added / removed': '`predictAsync`, batch 1, pruning masks added or removed before each call (whole model resent)',
  'masks added / removed alone': '… of which adding or removing the masks (prune.magnitude / prune.remove, no call)',
  'predict 256': '`predict`, batch 256, on the JS thread',
  'predictAsync 256, unchanged': '`predictAsync`, batch 256, weights unchanged',
};
for (const [k, v] of Object.entries(results)) console.log(`| ${label[k]} | ${med(v).toFixed(1)} | ${v.map((x) => x.toFixed(0)).join(' / ')} |`);
console.log(`| the first call (starts the worker: a thread, fathom's imports, the model) | ${(firstCallMs * 1000).toFixed(0)} | |`);
