#!/usr/bin/env node
/**
 * A recursive neural network over generated arithmetic-expression trees: a
 * dynamic graph, built per sample by recursion on fathom's autograd tape.
 *
 *   npx tsc -p tsconfig.json && node examples/tree-rnn.mjs [--epochs 40] [--per-epoch 5000] [--dim 64] [--seed 1] [--backend native|ts]
 *
 * Trees of depth 1–3 (digits at the leaves, + − × inside), the label is the
 * value mod 10. Every epoch draws fresh training trees; the test trees come
 * from another seed. Prints held-out accuracy per depth for the tree network,
 * the majority class and a bag-of-symbols MLP that sees which digits and
 * operators occur but not the structure, then depth 4 (never trained on).
 * See examples/tree-rnn/lib.mjs for the generator and the model.
 */
import { parseArgs } from 'node:util';
import * as fm from 'fathom';
import * as T from './tree-rnn/lib.mjs';

const FLAGS = '--epochs --per-epoch --dim --seed --test --backend';
let a;
try {
  ({ values: a } = parseArgs({
    options: {
      epochs: { type: 'string', default: '40' },
      'per-epoch': { type: 'string', default: '5000' },
      dim: { type: 'string', default: '64' },
      seed: { type: 'string', default: '1' },
      backend: { type: 'string', default: 'native' },
      test: { type: 'string', default: '3000' },
    },
  }));
} catch (e) {
  console.error(`tree-rnn: ${e.message} (flags: ${FLAGS})`);
  process.exit(2);
}
// Bounds keep a typo from asking for gigabytes: D = 4096 is already 100 M weights in the three composition layers.
const int = (name, lo, hi) => {
  const v = Number(a[name]);
  if (!/^\d+$/.test(a[name]) || !Number.isSafeInteger(v) || v < lo || v > hi) {
    console.error(`tree-rnn: --${name} must be an integer from ${lo} to ${hi}, got ${a[name]}`);
    process.exit(2);
  }
  return v;
};
const epochs = int('epochs', 1, 10_000), perEpoch = int('per-epoch', 1, 1_000_000), dim = int('dim', 1, 4096);
const seed = int('seed', 0, 2 ** 31 - 1);
// 3 test trees at least: one per trained depth (and one of depth 4).
const nTest = int('test', 3, 1_000_000);
if (a.backend !== 'native' && a.backend !== 'ts') {
  console.error(`tree-rnn: --backend must be native or ts, got ${a.backend}`);
  process.exit(2);
}
fm.setBackend(a.backend);
const DEPTHS = [1, 2, 3];

const info = fm.info();
console.log(`fathom ${info.version}, backend ${info.backend} (${info.isa}), ${info.threads} thread(s)`);
const test = T.makeDataset(10_000 + seed, nTest, DEPTHS);
const deep = T.makeDataset(20_000 + seed, Math.ceil(nTest / 3), [4]);
console.log(`examples: ${T.treeString(test.trees[0])} = ${test.labels[0]} (mod 10), ${T.treeString(test.trees[2])} = ${test.labels[2]} (mod 10)`);

const model = T.createTreeRnn(fm, { dim, seed });
console.log(`tree network: D = ${dim}, ${model.parameters().reduce((s, p) => s + p.size, 0)} parameters; ${epochs} epochs × ${perEpoch} fresh trees, batch 32, Adam lr 5e-3`);
const trainSeed = (e) => seed * 1_000_003 + e;
const r = T.trainTreeRnn(fm, model, (e) => T.makeDataset(trainSeed(e), perEpoch, DEPTHS), {
  epochs, seed,
  onEpoch: (e, loss) => {
    if ((e + 1) % 10 === 0 || e === epochs - 1) console.log(`  epoch ${e + 1}: train loss ${loss.toFixed(3)}, test accuracy ${(100 * T.accuracy(fm, model, test.trees, test.labels)).toFixed(1)} %`);
  },
});
console.log(`trained on ${r.trees} trees in ${r.seconds.toFixed(1)} s: ${Math.round(r.treesPerSecond)} trees/s (forward + backward + step)`);

// The structure-blind baseline sees as many trees (their symbol counts), trained with fit.
const t0 = performance.now();
const bagTrain = T.makeDataset(trainSeed(0), Math.min(epochs * perEpoch, 100_000), DEPTHS);
const bag = await T.bagBaseline(fm, bagTrain, { trees: [...test.trees, ...deep.trees], labels: [...test.labels, ...deep.labels] }, { epochs: 10, seed });
console.log(`bag-of-symbols MLP: ${bagTrain.trees.length} trees × 10 epochs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const rows = [];
const pct = (v) => `${(100 * v).toFixed(1)} %`;
for (const d of [...DEPTHS, 4]) {
  const set = d === 4 ? deep : test;
  const off = d === 4 ? test.trees.length : 0;
  const ids = set.depths.map((x, i) => (x === d ? i : -1)).filter((i) => i >= 0);
  const trees = ids.map((i) => set.trees[i]), labels = ids.map((i) => set.labels[i]);
  rows.push([
    d === 4 ? '4 (not trained on)' : String(d), String(ids.length),
    pct(T.majorityBaseline(bagTrain.labels, labels).accuracy),
    pct(bag.accuracy(ids.map((i) => i + off))),
    pct(T.accuracy(fm, model, trees, labels)),
  ]);
}
const head = ['depth', 'test trees', 'majority class', 'bag of symbols', 'tree network'];
const w = head.map((h, j) => Math.max(h.length, ...rows.map((row) => row[j].length)));
console.log(`\n| ${head.map((h, j) => h.padEnd(w[j])).join(' | ')} |`);
console.log(`|${w.map((n, j) => (j === 0 ? '-'.repeat(n + 2) : `${'-'.repeat(n + 1)}:`)).join('|')}|`);
for (const row of rows) console.log(`| ${row.map((c, j) => (j === 0 ? c.padEnd(w[j]) : c.padStart(w[j]))).join(' | ')} |`);
