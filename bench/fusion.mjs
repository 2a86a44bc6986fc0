// Linear + activation fusion in Sequential: is it worth a fused kernel per activation?
// Times one training step (forward, cross-entropy, backward, SGD) of the MNIST MLP
// 784-512-512-10 at batch 128 on the native backend, with each hidden activation
//   fused    Linear + ReLU run as linear(x, W, b, 'relu') (Sequential's fusion today)
//   unfused  the same ReLU as a separate op after linear(x, W, b) (a ReLU subclass,
//            which Sequential does not fuse)
//   and the new activations (unfused): leakyRelu, gelu (tanh and exact), silu, elu.
// Steps are interleaved across variants (A B C … A B C …) and the median kept, so a
// busy machine slows every variant alike.
//   npx tsc -p tsconfig.json && node bench/fusion.mjs [--steps 40] [--threads N]
import { argv } from 'node:process';
import * as fa from '../dist/index.js';

const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const steps = arg('steps', 40);
if (argv.includes('--threads')) fa.setNumThreads?.(arg('threads', 1));
fa.setBackend('native');
const { nn } = fa;

class UnfusedReLU extends nn.ReLU {}
const variants = {
  'relu fused': () => new nn.ReLU(),
  'relu unfused': () => new UnfusedReLU(),
  'leakyRelu': () => new nn.LeakyReLU(0.01),
  'gelu tanh': () => new nn.GELU({ approximate: 'tanh' }),
  'gelu exact': () => new nn.GELU(),
  'silu': () => new nn.SiLU(),
  'elu': () => new nn.ELU(),
};

const batch = 128;
const x = fa.rand([batch, 784], { seed: 1 });
const labels = fa.tensor(Int32Array.from({ length: batch }, (_, i) => i % 10), [batch]);
const runs = Object.entries(variants).map(([name, act]) => {
  fa.manualSeed(7);
  const model = new nn.Sequential(new nn.Linear(784, 512), act(), new nn.Linear(512, 512), act(), new nn.Linear(512, 10));
  const opt = new fa.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const step = () => {
    opt.zeroGrad();
    const loss = fa.softmaxCrossEntropy(model.forward(x), labels);
    loss.backward();
    opt.step();
  };
  return { name, step, times: [] };
});
for (const r of runs) for (let i = 0; i < 5; i++) r.step(); // warm-up
for (let s = 0; s < steps; s++) {
  for (const r of runs) {
    const t0 = process.hrtime.bigint();
    r.step();
    r.times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
const base = median(runs[0].times);
console.log(`MLP 784-512-512-10, batch ${batch}, one SGD step, native (${fa.info().isa}, ${fa.info().threads} threads), median of ${steps}`);
for (const r of runs) {
  const m = median(r.times);
  console.log(`${r.name.padEnd(14)} ${m.toFixed(3).padStart(8)} ms  (${((m / base - 1) * 100).toFixed(1).padStart(5)} % vs relu fused)`);
}
