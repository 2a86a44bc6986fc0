/**
 * The `fathom` command line (issue #8, sections 2 and 7): every flag value is
 * validated with one clear sentence before any work starts; `--save` into a
 * folder that cannot take the file fails at once, not after training;
 * `--version`; no command prints help and exits non-zero. Parsing is tested
 * in-process; the real binary (dist/cli/main.js, built by `npm test`) in
 * child processes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAIN_HELP, parseCommand, TRAIN_HELP, UsageError } from '../../lib/cli/args.js';
import { RECIPES } from '../../lib/cli/recipes.js';
import { load } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const root = resolve(import.meta.dirname, '..', '..');
const bin = join(root, 'dist', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'fathom-hardening-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function usage(argv: string[]): string {
  try {
    parseCommand(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(argv)}`);
}

function run(args: string[], env: Record<string, string> = {}) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

describe('fathom: flags are validated with clear messages', () => {
  const cases: [string[], string][] = [
    [['train', '--epochs', '-3'], "--epochs must be an integer from 1 to 1000000, got '-3'"],
    [['train', '--epochs=-3'], "--epochs must be an integer from 1 to 1000000, got '-3'"],
    [['train', '--epochs', '0'], "--epochs must be an integer from 1 to 1000000, got '0'"],
    [['train', '--epochs', '2.5'], "--epochs must be an integer from 1 to 1000000, got '2.5'"],
    [['train', '--epochs', '1e3'], "--epochs must be an integer from 1 to 1000000, got '1e3'"],
    [['train', '--epochs', '0x10'], "--epochs must be an integer from 1 to 1000000, got '0x10'"],
    [['train', '--epochs', ''], "--epochs must be an integer from 1 to 1000000, got ''"],
    [['train', '--epochs', 'ten'], "--epochs must be an integer from 1 to 1000000, got 'ten'"],
    [['train', '--epochs'], 'option --epochs needs a value'],
    [['train', '--epochs', '--lr', '3'], "option --epochs needs a value, got the option '--lr'"],
    [['train', '--batch-size', '0'], "--batch-size must be an integer from 1 to 1000000, got '0'"],
    [['train', '--batch-size', '9999999'], "--batch-size must be an integer from 1 to 1000000, got '9999999'"],
    [['train', '--lr', '-0.1'], "--lr must be a positive number that float32 can hold (like 0.001 or 1e-3), got '-0.1'"],
    [['train', '--lr', '0'], "--lr must be a positive number that float32 can hold (like 0.001 or 1e-3), got '0'"],
    [['train', '--lr', 'Infinity'], "--lr must be a positive number that float32 can hold (like 0.001 or 1e-3), got 'Infinity'"],
    [['train', '--lr', '1e400'], "--lr must be a positive number that float32 can hold (like 0.001 or 1e-3), got '1e400'"],
    [['train', '--lr', 'NaN'], "--lr must be a positive number that float32 can hold (like 0.001 or 1e-3), got 'NaN'"],
    [['train', '--lr', ''], "--lr must be a positive number that float32 can hold (like 0.001 or 1e-3), got ''"],
    [['train', '--hidden', '256,,3'], "--hidden must be comma-separated integers from 1 to 65536 ('' for none), got '256,,3'"],
    [['train', '--hidden', '0'], "--hidden must be comma-separated integers from 1 to 65536 ('' for none), got '0'"],
    [['train', '--hidden', '100000'], "--hidden must be comma-separated integers from 1 to 65536 ('' for none), got '100000'"],
    [['train', '--lr', '1e300'], "--lr must be a positive number that float32 can hold (like 0.001 or 1e-3), got '1e300'"],
    [['train', '--epoch', '2'], "unknown option '--epoch' for fathom train (did you mean '--epochs'?)"],
    [['train', '--threads', '0'], "--threads must be an integer from 1 to 256, got '0'"],
    [['train', '--threads', 'all'], "--threads must be an integer from 1 to 256, got 'all'"],
    [['train', '--seed', '-1'], "--seed must be an integer from 0 to 2^53-1, got '-1'"],
    [['train', '--seed', '9007199254740993'], "--seed must be an integer from 0 to 2^53-1, got '9007199254740993'"],
    [['train', '--train', '0'], "--train must be an integer from 1 to 60000, got '0'"],
    [['train', '--train', '70000'], "--train must be an integer from 1 to 60000, got '70000'"],
    [['train', '--optimizer', 'rmsp'], "--optimizer must be one of sgd, adam, adamw, rmsprop, adagrad, adadelta, adamax, got 'rmsp' (did you mean 'rmsprop'?)"],
    // issue #9: data sets, models, activations, schedules, regularisation, pictures
    [['train', '--dataset', 'cifar'], "--dataset must be one of mnist, iris, cars, moons, circles, spirals, names, spam, smnist, got 'cifar'"],
    [['train', '--model', 'cnm'], "--model must be one of mlp, perceptron, cnn, lstm, gru, rnn, got 'cnm' (did you mean 'cnn'?)"],
    [['train', '--model', 'rnn'], '--model rnn reads sequences: it applies to the sequence tasks names, spam, smnist only, not mnist (use --model mlp)'],
    [['train', '--activation', 'Relu'], "--activation must be one of relu, tanh, sigmoid, leakyRelu, elu, gelu, silu, softplus, got 'Relu' (did you mean 'relu'?)"],
    [['train', '--schedule', 'cos'], "--schedule must be one of none, step, cosine, onecycle, exponential, linear, got 'cos' (did you mean 'cosine'?)"],
    [['train', '--dropout', '1'], "--dropout must be a number from 0 to below 1 (like 0.2), got '1'"],
    [['train', '--dropout', '-0.1'], "--dropout must be a number from 0 to below 1 (like 0.2), got '-0.1'"],
    [['train', '--dropout', '0.2', '--hidden', ''], '--dropout needs hidden layers (it is applied after each hidden activation); --hidden is empty'],
    [['train', '--early-stopping', '0'], "--early-stopping must be an integer from 1 to 1000000, got '0'"],
    [['train', '--early-stopping', '3', '--validation-split', '0'], '--early-stopping watches the validation loss: it needs --validation-split above 0'],
    [['train', '--validation-split', '1'], "--validation-split must be a number from 0 to below 1 (like 0.1), got '1'"],
    [['train', '--plot', 'curves.jpg'], "--plot must name a .svg or .png file, got 'curves.jpg'"],
    [['train', '--plot', ''], "--plot needs a file path, got ''"],
    [['train', '--boundary', 'b.svg'], '--boundary draws 2-D sets (moons, circles, spirals) only, not mnist'],
    [['train', '--dataset', 'iris', '--train', '100'], '--train applies to --dataset mnist and the sequence tasks only, not iris'],
    [['train', '--samples', '100'], '--samples applies to the 2-D sets (moons, circles, spirals) only, not mnist'],
    [['train', '--dataset', 'moons', '--classes', '3'], '--classes applies to --dataset spirals only, not moons'],
    [['train', '--dataset', 'spirals', '--classes', '4'], "--classes must be an integer from 2 to 3, got '4'"],
    [['train', '--dataset', 'spirals', '--noise', '-1'], "--noise must be a number from 0 to 10, got '-1'"],
    [['train', '--dataset', 'moons', '--plot', 'a.svg', '--boundary', './a.svg'], "--plot and --boundary name the same file './a.svg'; the second would overwrite the first"],
    [['train', '--model', 'perceptron'], '--model perceptron separates two classes: use --dataset moons, circles or spirals (2 classes), not mnist'],
    [['train', '--dataset', 'moons', '--model', 'perceptron', '--hidden', '8'], '--hidden does not apply to --model perceptron (it learns by the perceptron rule, one sample at a time)'],
    [['train', '--backend', 'gpu'], "--backend must be native or ts, got 'gpu'"],
    [['train', '--save', ''], "--save needs a file path, got ''"],
    [['train', '--epochs', '2', '--epochs', '3'], 'option --epochs given more than once'],
    [['train', '--help=yes'], "option --help takes no value, got 'yes'"],
    [['train', '--frobnicate'], "unknown option '--frobnicate' for fathom train"],
    [['train', '-x'], "unknown option '-x' for fathom train"],
    [['train', 'extra'], "unexpected argument 'extra' for fathom train"],
    [['fit'], "unknown command 'fit' (the commands are: train, sample)"],
    [['--epochs', '3'], "unknown option '--epochs' (options go after the command)"],
    [['--version', 'x'], "unexpected argument 'x' after --version"],
    [[], 'no command given'],
  ];
  for (const [argv, msg] of cases) {
    it(`fathom ${argv.map((a) => JSON.stringify(a)).join(' ')}`, () => {
      expect(usage(argv)).toBe(msg);
    });
  }

  it('valid flags give the options the trainer uses', () => {
    expect(parseCommand(['train', '--epochs', '3', '--batch-size=64', '--lr', '.5e-2', '--optimizer', 'sgd', '--hidden', '32,16',
      '--backend', 'ts', '--threads', '2', '--seed', '0', '--train', '600', '--save', 'm.safetensors', '--activation', 'gelu',
      '--schedule', 'cosine', '--dropout', '0.25', '--early-stopping', '4', '--validation-split', '0.2', '--plot', 'c.png'])).toEqual({
      kind: 'train',
      options: {
        dataset: 'mnist', model: 'mlp', epochs: 3, batchSize: 64, lr: 0.005, optimizer: 'sgd', hidden: [32, 16], activation: 'gelu',
        schedule: 'cosine', dropout: 0.25, validationSplit: 0.2, earlyStopping: 4, backend: 'ts', threads: 2, seed: 0, train: 600,
        plot: 'c.png', save: 'm.safetensors',
      },
    });
    // The MNIST default: the recipe in lib/cli/recipes.ts.
    expect(parseCommand(['train'])).toEqual({ kind: 'train', options: { dataset: 'mnist', model: 'mlp', seed: 1, ...RECIPES.mnist, task: undefined } });
    expect(parseCommand(['train', '--optimizer', 'sgd', '--hidden', ''])).toMatchObject({ kind: 'train', options: { lr: 0.05, hidden: [] } });
    // Another optimizer than the recipe's takes its own default rate; the recipe's keeps the recipe's.
    expect(parseCommand(['train', '--optimizer', 'adadelta'])).toMatchObject({ kind: 'train', options: { lr: 1 } });
    expect(parseCommand(['train', '--dataset', 'iris'])).toMatchObject({ kind: 'train', options: { dataset: 'iris', lr: RECIPES.iris.lr, hidden: RECIPES.iris.hidden } });
    expect(parseCommand(['train', '--dataset', 'cars'])).toMatchObject({ kind: 'train', options: { earlyStopping: 30 } });
    expect(parseCommand(['train', '--dataset', 'cars', '--validation-split', '0'])).not.toHaveProperty('options.earlyStopping');
    expect(parseCommand(['train', '--dataset', 'spirals', '--classes', '3', '--samples', '90', '--noise', '0.1', '--boundary', 'b.svg']))
      .toMatchObject({ kind: 'train', options: { classes: 3, samples: 90, noise: 0.1, boundary: 'b.svg' } });
    expect(parseCommand(['train', '--dataset', 'moons', '--model', 'perceptron'])).toMatchObject({ kind: 'train', options: { model: 'perceptron', lr: 1, epochs: 100 } });
    expect(parseCommand(['train', '-h'])).toEqual({ kind: 'help', text: TRAIN_HELP });
    expect(parseCommand(['--help'])).toEqual({ kind: 'help', text: MAIN_HELP });
    expect(parseCommand(['-v'])).toEqual({ kind: 'version' });
  });
});

describe('fathom: the binary', () => {
  it('dist/cli/main.js exists (npm test compiles it)', () => {
    expect(existsSync(bin), 'run `npm run build:ts`').toBe(true);
  });

  it('--version prints the package version', () => {
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
    for (const flag of ['--version', '-v']) {
      const r = run([flag]);
      expect(r.stdout).toBe(`${version}\n`);
      expect(r.status).toBe(0);
    }
  });

  it('no command prints the help to stderr and exits 2; --help prints it to stdout and exits 0', () => {
    const none = run([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toBe(MAIN_HELP);
    expect(none.stdout).toBe('');
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(MAIN_HELP);
  });

  it('a bad flag exits 2 with one line and a pointer to the help', () => {
    const r = run(['train', '--epochs', '-3']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("fathom: --epochs must be an integer from 1 to 1000000, got '-3'\n(see fathom train --help)\n");
    expect(r.stdout).toBe('');
  });

  it('--save into a missing folder fails at once, before loading data or training', () => {
    const target = join(dir, 'no', 'such', 'folder', 'm.safetensors');
    const r = run(['train', '--save', target]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`fathom: --save: cannot write ${target}: the folder ${join(dir, 'no', 'such', 'folder')} does not exist (ENOENT); nothing was trained\n`);
    expect(r.ms).toBeLessThan(5000);
  });

  it('--save onto a folder fails at once too, and the writability probe leaves nothing behind', () => {
    const r = run(['train', '--save', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`fathom: --save: cannot write ${dir}: it is a folder, not a file (EISDIR); nothing was trained\n`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('--plot into a missing folder fails at once too, before any work', () => {
    const target = join(dir, 'nowhere', 'curves.svg');
    const r = run(['train', '--dataset', 'iris', '--plot', target]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`fathom: --plot: cannot write ${target}: the folder ${join(dir, 'nowhere')} does not exist (ENOENT); nothing was trained\n`);
  });

  it('trains on spirals and draws the learning curves (SVG) and the decision boundary (PNG)', () => {
    const curves = join(dir, 'spirals-curves.svg');
    const boundary = join(dir, 'spirals-boundary.png');
    const r = run(['train', '--dataset', 'spirals', '--epochs', '20', '--plot', curves, '--boundary', boundary]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/train accuracy [0-9.]+% · test accuracy [0-9.]+%/);
    expect(r.stdout).toContain(`learning curves drawn to ${curves}`);
    expect(r.stdout).toContain(`decision boundary drawn to ${boundary}`);
    expect(readFileSync(curves, 'utf8')).toMatch(/^<svg [^>]*width="\d+" height="\d+"/);
    expect([...readFileSync(boundary).subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
  });

  it('--schedule onecycle trains with every optimizer (momentum cycled only where there is one)', () => {
    for (const o of ['adagrad', 'adadelta', 'rmsprop', 'adam']) {
      const r = run(['train', '--dataset', 'moons', '--schedule', 'onecycle', '--optimizer', o, '--epochs', '2']);
      expect(r.status, `${o}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/test accuracy [0-9.]+%/);
    }
  });

  it('cars prints the regression metrics; iris the accuracy', () => {
    const cars = run(['train', '--dataset', 'cars', '--epochs', '20']);
    expect(cars.status).toBe(0);
    expect(cars.stdout).toContain('cars: 392 rows (14 with a missing value dropped) · 313 training, 79 test');
    expect(cars.stdout).toMatch(/test MAE [0-9.]+ · test RMSE [0-9.]+ · test R² -?[0-9.]+/);
    const iris = run(['train', '--dataset', 'iris', '--epochs', '5', '--activation', 'sigmoid', '--optimizer', 'rmsprop', '--schedule', 'cosine', '--dropout', '0.1']);
    expect(iris.status).toBe(0);
    expect(iris.stdout).toContain('model: MLP 4-16-3 sigmoid (131 parameters) · dropout 0.1 · rmsprop lr 0.001 cosine · batch 16 · 5 epochs');
    expect(iris.stdout).toMatch(/test accuracy [0-9.]+%/);
  });

  const backends = ['ts', ...(nativeBinding() ? ['native'] : [])];
  for (const b of backends) {
    it(`trains a small MLP and saves a model that loads (${b} backend)`, async () => {
      const target = join(dir, `cli-${b}.safetensors`);
      const r = run(['train', '--train', '300', '--epochs', '1', '--hidden', '8', '--batch-size', '100', '--backend', b, '--save', target]);
      expect(r.stderr.replace(/epoch 1\/1[^\n]*\n?/g, '')).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`backend ${b}`);
      expect(r.stdout).toContain(`saved to ${target}`);
      const m = await load(target);
      expect(m.parameters().map((t) => t.shape)).toEqual([[8, 784], [8], [10, 8], [10]]);
    }, 60_000);
  }
});
