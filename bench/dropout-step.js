/**
 * bench/dropout-step.js — the cost of dropout in the MNIST MLP training step
 * (784-256-256-10, batch 128, Adam; the default `fathom train` model), measured, not assumed.
 *
 *   node bench/dropout-step.js [rounds]      (after `npx tsc -p tsconfig.json`)
 *   FATHOM_NUM_THREADS=1 FATHOM_BENCH_CPU=1 node bench/dropout-step.js   (CPU time: robust on a shared machine)
 *
 * Times, interleaved round by round so machine noise hits both alike:
 *   plain    Linear+ReLU, Linear+ReLU, Linear
 *   dropout  the same with nn.Dropout(p) after each ReLU (training mode)
 * and the dropout op alone on a [128, 256] activation (forward + backward).
 * Prints medians and minima (the least disturbed round) and the overhead in % of the plain step.
 */
import * as fathom from '../dist/index.js';

const { tensor, nn, optim, losses, manualSeed, dropout, sum } = fathom;
const rounds = Number(process.argv[2] ?? 15);
const STEPS = 20;
const P = Number(process.env.DROPOUT_P ?? 0.2);

function mlp(withDropout) {
  manualSeed(7);
  const layers = [new nn.Linear(784, 256, { init: 'he' }), new nn.ReLU()];
  if (withDropout) layers.push(new nn.Dropout(P));
  layers.push(new nn.Linear(256, 256, { init: 'he' }), new nn.ReLU());
  if (withDropout) layers.push(new nn.Dropout(P));
  layers.push(new nn.Linear(256, 10));
  const model = new nn.Sequential(...layers);
  return { model, opt: new optim.Adam(model.parameters(), { lr: 1e-3 }) };
}

let s = 1234;
const rnd = () => ((s = (Math.imul(s ^ (s >>> 15), 1 | s) + 0x6d2b79f5) >>> 0) / 4294967296);
const x = tensor(Float32Array.from({ length: 128 * 784 }, () => rnd() * 2 - 1), [128, 784]);
const y = tensor(Int32Array.from({ length: 128 }, () => Math.floor(rnd() * 10)), [128]);

// CPU time of this process (user + system) with FATHOM_BENCH_CPU=1: on a loaded machine it
// counts the work done, not the time spent waiting for a core (use it with FATHOM_NUM_THREADS=1).
const CPU = process.env.FATHOM_BENCH_CPU === '1';
const clock = () => (CPU ? (({ user, system }) => BigInt(user + system) * 1000n)(process.cpuUsage()) : process.hrtime.bigint());

function timeSteps({ model, opt }) {
  const t0 = clock();
  for (let i = 0; i < STEPS; i++) {
    const loss = losses.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
  }
  return Number(clock() - t0) / 1e6 / STEPS;
}

const h = tensor(Float32Array.from({ length: 128 * 256 }, () => rnd()), [128, 256]).requireGrad();
function timeOp() {
  const t0 = clock();
  for (let i = 0; i < STEPS; i++) {
    sum(dropout(h, P)).backward();
    h.grad = null;
  }
  return Number(clock() - t0) / 1e6 / STEPS;
}

const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const plain = mlp(false);
const drop = mlp(true);
const res = { plain: [], dropout: [], op: [] };
for (let r = 0; r < 3; r++) { timeSteps(plain); timeSteps(drop); timeOp(); } // warm-up
for (let r = 0; r < rounds; r++) {
  res.plain.push(timeSteps(plain));
  res.dropout.push(timeSteps(drop));
  res.op.push(timeOp());
}
const info = fathom.info();
console.log(`backend ${info.backend} (${info.isa}, ${info.threads} threads) · MLP 784-256-256-10 · batch 128 · Adam · p = ${P} · ${rounds} rounds × ${STEPS} steps · ${CPU ? 'CPU' : 'wall'} time`);
for (const [what, pick] of [['median', median], ['min', (v) => Math.min(...v)]]) {
  const [a, b, o] = [pick(res.plain), pick(res.dropout), pick(res.op)];
  console.log(`${what}: step ${a.toFixed(3)} ms without dropout, ${b.toFixed(3)} ms with 2 × Dropout(${P}): overhead ${((b / a - 1) * 100).toFixed(1)} %; ` +
    `dropout op [128, 256] forward + backward (+ sum): ${(o * 1000).toFixed(0)} µs`);
}
