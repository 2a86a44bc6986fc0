/**
 * `fathom train --task pretrain`: the flags and their refusals, the
 * class-balanced draw of the labelled digits, the spread figures, and a tiny
 * real run through the CLI's own code path (parseCommand → train) on 300
 * MNIST digits. The measured experiment (60,000 digits, three seeds) takes
 * minutes and runs outside CI (README).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseCommand, TRAIN_HELP, UsageError, type TrainOptions } from '../../lib/cli/args.js';
import { PRETRAIN_DEFAULTS, PRETRAIN_HELP, drawLabelled, pretrainTable, spread } from '../../lib/cli/pretrain.js';
import { train } from '../../lib/cli/train.js';
import { setBackend } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { trainOptions, usageError } from '../helpers/cli.js';

const options = (...argv: string[]): TrainOptions => trainOptions('--task', 'pretrain', ...argv);

const usage = (...argv: string[]): UsageError => usageError(['train', ...argv]);

let log: ReturnType<typeof vi.spyOn>;
const printed: string[] = [];
beforeAll(() => { log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { printed.push(a.join(' ')); }); });
afterAll(() => {
  log.mockRestore();
  setBackend(nativeBinding() ? 'native' : 'ts');
});

describe('fathom train --task pretrain: flags', () => {
  it('defaults: 1,000 labels, seeds 1,2,3, none/autoencoder/rbm, a 500-500-500 sigmoid net, early stopping on a 10 % split', () => {
    const D = PRETRAIN_DEFAULTS;
    expect(options()).toEqual({
      dataset: 'mnist', model: 'mlp', epochs: D.epochs, batchSize: D.batchSize, lr: D.lr, optimizer: D.optimizer, hidden: D.hidden,
      activation: 'sigmoid', schedule: 'none', dropout: 0, validationSplit: 0.1, earlyStopping: D.earlyStopping, seed: 1,
      pretrain: { labels: 1000, seeds: [1, 2, 3], methods: ['none', 'autoencoder', 'rbm'], pretrainEpochs: D.pretrainEpochs, corruption: D.corruption },
    });
    // --dataset pretrain is the same.
    expect(parseCommand(['train', '--dataset', 'pretrain'])).toEqual(parseCommand(['train', '--task', 'pretrain']));
  });

  it('each flag sets its part; ReLU and tanh default to none,autoencoder', () => {
    expect(options('--labels', '500', '--seeds', '4,7', '--pretrain', 'rbm,none,autoencoder', '--hidden', '64,32', '--pretrain-epochs', '3', '--corruption', '0',
      '--epochs', '20', '--early-stopping', '4', '--validation-split', '0.2', '--batch-size', '16', '--optimizer', 'sgd', '--lr', '0.01',
      '--train', '5000', '--test', '1000', '--backend', 'ts', '--threads', '1'))
      .toMatchObject({
        epochs: 20, earlyStopping: 4, validationSplit: 0.2, batchSize: 16, optimizer: 'sgd', lr: 0.01, hidden: [64, 32], train: 5000, test: 1000,
        backend: 'ts', threads: 1, seed: 4, pretrain: { labels: 500, seeds: [4, 7], methods: ['rbm', 'none', 'autoencoder'], pretrainEpochs: 3, corruption: 0 },
      });
    expect(options('--activation', 'relu').pretrain!.methods).toEqual(['none', 'autoencoder']);
    expect(options('--activation', 'tanh', '--pretrain', 'autoencoder').pretrain!.methods).toEqual(['autoencoder']);
    // Another optimizer takes its own default rate; no split means a fixed budget, no early stopping.
    expect(options('--optimizer', 'adadelta').lr).toBe(1);
    expect(options('--validation-split', '0')).not.toHaveProperty('earlyStopping');
  });

  it('refuses bad values and flags that do not apply, naming them', () => {
    const cases: [string[], RegExp][] = [
      [['--labels', '105'], /--labels must be a multiple of 10 .*got '105'/],
      [['--labels', '10'], /--labels must be an integer from 20 to 60000, got '10'/],
      [['--seeds', '1,1'], /--seeds must be comma-separated integers from 0 to 2\^53-1, none twice .*got '1,1'/],
      [['--seeds', 'a'], /--seeds must be .*got 'a'/],
      [['--pretrain', 'none,dbn'], /--pretrain must be comma-separated names from none, autoencoder, rbm, none twice, got 'none,dbn'/],
      [['--pretrain', 'rbm', '--activation', 'relu'], /--pretrain rbm needs --activation sigmoid .*got --activation relu/],
      [['--activation', 'gelu'], /--activation must be one of sigmoid, relu, tanh, got 'gelu'/],
      [['--optimizer', 'adam,sgd'], /--optimizer must be one of sgd, adam, .*got 'adam,sgd'/],
      [['--hidden', ''], /--hidden must be comma-separated integers from 1 to 65536 \(at least one hidden layer/],
      [['--validation-split', '0.001'], /--validation-split 0\.001 of 100 labelled digits per class holds out 0; it must hold out at least 1/],
      [['--validation-split', '0', '--early-stopping', '3'], /--early-stopping watches the validation loss: it needs --validation-split above 0/],
      [['--corruption', '0.3', '--pretrain', 'none,rbm'], /--corruption sets the autoencoder pre-training: --pretrain must include autoencoder/],
      [['--corruption', '1'], /--corruption must be a number from 0 to below 1/],
      [['--train', '500'], /--train 500 leaves fewer training digits than --labels 1000/],
      [['--seed', '3'], /--seed does not apply to --task pretrain \(it takes --seeds LIST\)/],
      [['--dropout', '0.2'], /--dropout does not apply to --task pretrain/],
      [['--model', 'cnn'], /--model does not apply to --task pretrain/],
      [['--lr', '-1'], /--lr must be a positive number/],
    ];
    for (const [argv, message] of cases) {
      const e = usage('--task', 'pretrain', ...argv);
      expect(e.message, argv.join(' ')).toMatch(message);
      expect(e.help).toBe(PRETRAIN_HELP);
    }
    // ... and its own flags elsewhere.
    for (const flag of ['--labels', '--seeds', '--pretrain', '--pretrain-epochs', '--corruption']) {
      expect(usage(flag, '1').message).toBe(`${flag} applies to --task pretrain only`);
    }
  });

  it('the binary exits 2 on a bad flag and points to the task\'s help (dist/cli/main.js, built by npm test)', () => {
    const bin = resolve(import.meta.dirname, '../../dist/cli/main.js');
    const r = spawnSync(process.execPath, [bin, 'train', '--task', 'pretrain', '--labels', '7'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("fathom: --labels must be an integer from 20 to 60000, got '7'\n(see fathom train --task pretrain --help)\n");
  });

  it('--help with the task prints its own help; the general help points to it', () => {
    expect(parseCommand(['train', '--task', 'pretrain', '--help'])).toEqual({ kind: 'help', text: PRETRAIN_HELP });
    expect(PRETRAIN_HELP).toMatch(/^Usage: fathom train --task pretrain/);
    expect(TRAIN_HELP).toContain('fathom train --task pretrain --help');
  });
});

describe('the labelled digits and the figures', () => {
  const y = Int32Array.from({ length: 1000 }, (_, i) => (i * 7) % 10);

  it('drawLabelled: perClass of each class, val of them held out, disjoint, reproducible per seed', () => {
    const a = drawLabelled(y, 20, 3, 1);
    expect(a.fit).toHaveLength(170);
    expect(a.val).toHaveLength(30);
    for (let c = 0; c < 10; c++) {
      expect(a.fit.filter((i) => y[i] === c)).toHaveLength(17);
      expect(a.val.filter((i) => y[i] === c)).toHaveLength(3);
    }
    expect(new Set([...a.fit, ...a.val]).size).toBe(200);
    expect(drawLabelled(y, 20, 3, 1)).toEqual(a);
    expect(drawLabelled(y, 20, 3, 2).fit).not.toEqual(a.fit);
    expect(() => drawLabelled(y.slice(0, 50), 6, 1, 1)).toThrow(/6 labelled digits of each class need 6 0s, but the 50 training digits hold 5/);
  });

  it('spread: mean, sample standard deviation (n − 1), min and max', () => {
    const s = spread([0.9, 0.92, 0.94]);
    expect(s.mean).toBeCloseTo(0.92, 12);
    expect(s.std).toBeCloseTo(0.02, 12); // √(((-0.02)² + 0 + 0.02²) / 2)
    expect([s.min, s.max]).toEqual([0.9, 0.94]);
    expect(spread([0.5]).std).toBeNaN();
  });

  it('pretrainTable: one markdown row per method', () => {
    expect(pretrainTable([
      { method: 'none', accuracies: [0.9, 0.92, 0.94], mean: 0.92, std: 0.02, min: 0.9, max: 0.94, pretrainSeconds: 0, epochs: 20 },
      { method: 'rbm', accuracies: [0.95], mean: 0.95, std: NaN, min: 0.95, max: 0.95, pretrainSeconds: 12.34, epochs: 7 },
    ])).toBe([
      '| pre-training | test accuracy, mean ± sample std | min – max | per seed | pre-training time per seed | fine-tuning epochs (mean) |',
      '|---|---:|---:|---:|---:|---:|',
      '| none | 92.00 ± 2.00 % | 90.00 – 94.00 % | 90.00, 92.00, 94.00 | — | 20.0 |',
      '| rbm | 95.00 % | 95.00 – 95.00 % | 95.00 | 12.3 s | 7.0 |',
    ].join('\n'));
  });
});

describe('fathom train --task pretrain: a tiny run', () => {
  it('pre-trains and fine-tunes every method for every seed, prints the table (300 digits)', async () => {
    printed.length = 0;
    const r = await train(options('--train', '300', '--test', '200', '--labels', '100', '--seeds', '1,2', '--hidden', '16,8',
      '--pretrain-epochs', '2', '--epochs', '4', '--early-stopping', '2', '--validation-split', '0.2'));
    const { rows, runs } = r.pretrain!;
    expect(rows.map((q) => q.method)).toEqual(['none', 'autoencoder', 'rbm']);
    expect(runs.map((q) => `${q.seed} ${q.method}`)).toEqual(['1 none', '1 autoencoder', '1 rbm', '2 none', '2 autoencoder', '2 rbm']);
    for (const run of runs) {
      expect(run.testAccuracy).toBeGreaterThanOrEqual(0);
      expect(run.testAccuracy).toBeLessThanOrEqual(1);
      expect(run.epochs).toBeGreaterThanOrEqual(1);
      expect(run.epochs).toBeLessThanOrEqual(4);
      expect(run.reconstruction).toHaveLength(run.method === 'none' ? 0 : 2);
      for (const q of run.reconstruction) expect(q.after).toBeLessThan(q.before);
    }
    for (const row of rows) expect(row.mean).toBeCloseTo(spread(row.accuracies).mean, 12);
    const out = printed.join('\n');
    expect(out).toContain(pretrainTable(rows));
    expect(out).toContain('labels: 100 per seed, drawn at random class-balanced (10 of each digit): 8 per class fine-tune, 2 per class validate');
    expect(out).toContain('MNIST: 300 training digits');
  });
});
