#!/usr/bin/env node
// Where the time of one tree-network training step goes (many tiny ops on the tape):
//   node examples/tree-rnn/profile.mjs [native|ts]
// Batches of 32 trees of depth 1–3, D = 64: forward (recursion on the tape), backward, step;
// tape nodes per batch; µs per tape node.
import * as fm from 'fathom';
import * as T from './lib.mjs';

const backend = process.argv[2] ?? 'native';
if ((backend !== 'native' && backend !== 'ts') || process.argv.length > 3) {
  console.error(`profile: usage: node examples/tree-rnn/profile.mjs [native|ts], got ${process.argv.slice(2).join(' ')}`);
  process.exit(2);
}
fm.setBackend(backend);
const model = T.createTreeRnn(fm, { dim: 64, seed: 1 });
const opt = new fm.optim.Adam(model.parameters(), { lr: 5e-3 });
const data = T.makeDataset(3, 32 * 200, [1, 2, 3]);
// Time spent inside each gradient rule (the rest of backward() is the walk: ordering, checks, accumulation).
const ruleTime = new Map();
for (const [op, rule] of Object.entries(fm.gradients)) {
  fm.gradients[op] = (...args) => {
    const t = performance.now();
    try { return rule(...args); } finally {
      const r = ruleTime.get(op) ?? { ms: 0, n: 0 };
      r.ms += performance.now() - t; r.n++;
      ruleTime.set(op, r);
    }
  };
}
const nodesOf = (t) => ('digit' in t ? 1 : 1 + nodesOf(t.left) + nodesOf(t.right));
const time = { forward: 0, loss: 0, backward: 0, step: 0 };
let treeNodes = 0, tapeNodes = 0, batches = 0;
const countTape = (root) => {
  const seen = new Set();
  const stack = [root];
  while (stack.length) {
    const t = stack.pop();
    if (!t.node || seen.has(t)) continue;
    seen.add(t);
    stack.push(...t.node.inputs);
  }
  return seen.size;
};
for (let rep = 0; rep < 2; rep++) {          // the first pass warms up, the second is measured
  for (const k of Object.keys(time)) time[k] = 0;
  treeNodes = tapeNodes = batches = 0;
  ruleTime.clear();
  for (let b = 0; b < data.trees.length; b += 32) {
    const trees = data.trees.slice(b, b + 32);
    const labels = fm.tensor(data.labels.slice(b, b + 32), { dtype: 'int32' });
    let t = performance.now();
    const logits = model.forward(trees);
    time.forward += performance.now() - t; t = performance.now();
    const loss = fm.losses.crossEntropy(logits, labels);
    time.loss += performance.now() - t;
    tapeNodes += countTape(loss);
    t = performance.now();
    opt.zeroGrad();
    loss.backward();
    time.backward += performance.now() - t; t = performance.now();
    opt.step();
    time.step += performance.now() - t;
    treeNodes += trees.reduce((s, tr) => s + nodesOf(tr), 0);
    batches++;
  }
}
const total = Object.values(time).reduce((a, b) => a + b, 0);
console.log(`${fm.info().backend}: ${batches} batches of 32 trees, ${(treeNodes / batches).toFixed(0)} tree nodes and ${(tapeNodes / batches).toFixed(0)} tape nodes per batch`);
for (const [k, v] of Object.entries(time)) console.log(`  ${k.padEnd(8)} ${(v / batches).toFixed(3)} ms/batch (${((100 * v) / total).toFixed(0)} %)`);
console.log(`  forward ${((1000 * time.forward) / tapeNodes).toFixed(1)} µs and backward ${((1000 * time.backward) / tapeNodes).toFixed(1)} µs per tape node; ${Math.round((32 * batches) / (total / 1000))} trees/s`);
const rules = [...ruleTime].sort((a, b) => b[1].ms - a[1].ms);
const inRules = rules.reduce((s, [, r]) => s + r.ms, 0);
console.log(`  backward: ${((100 * inRules) / time.backward).toFixed(0)} % inside the gradient rules: ${rules.map(([op, r]) => `${op} ${(r.n / batches).toFixed(1)}×${((1000 * r.ms) / r.n).toFixed(1)} µs`).join(', ')}`);
