/**
 * The sequence tasks of `fathom train` (issue #11) and `fathom sample`:
 * flag parsing and refusals in-process, tiny real runs of each task through
 * the CLI's own code path (parseCommand → train) on a few hundred rows — the
 * loss must fall below chance, no timed or exact-accuracy claims — and the
 * saved names model: it loads back to the same validation cross-entropy and
 * samples the same names for the same seed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseCommand, SAMPLE_HELP, type SampleOptions } from '../../lib/cli/args.js';
import { SEQUENCE_RECIPES } from '../../lib/cli/recipes.js';
import { train } from '../../lib/cli/train.js';
import { sample } from '../../lib/cli/sample.js';
import { maskedCrossEntropy, padLengths, RecurrentNet } from '../../lib/cli/seqmodels.js';
import { VOCABULARY_KEY } from '../../lib/cli/sequence.js';
import { Tensor, data, load, noGrad } from '../../lib/index.js';
import { loadSafetensors } from '../../lib/io/safetensors.js';
import { trainOptions, usageError } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'fathom-cli-sequence-'));
let log: ReturnType<typeof vi.spyOn>;
let err: ReturnType<typeof vi.spyOn>;
beforeAll(() => {
  log = vi.spyOn(console, 'log').mockImplementation(() => {});
  err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterAll(() => {
  log.mockRestore();
  err.mockRestore();
  rmSync(dir, { recursive: true, force: true });
});

const options = trainOptions;

function sampleOptions(...argv: string[]): SampleOptions {
  const c = parseCommand(['sample', ...argv]);
  if (c.kind !== 'sample') throw new Error('expected a sample command');
  return c.options;
}

const usage = (argv: string[]): string => usageError(argv).message;

describe('fathom train: the sequence tasks parse and refuse contradictions', () => {
  it('--dataset names (or --task names) takes the recipe, lstm by default', () => {
    const o = options('--dataset', 'names');
    expect(o).toMatchObject({ dataset: 'names', model: 'lstm', hidden: SEQUENCE_RECIPES.names.hidden, embedding: SEQUENCE_RECIPES.names.embedding, clip: SEQUENCE_RECIPES.names.clip });
    expect(options('--task', 'names')).toEqual(o);
    expect(options('--task', 'spam', '--model', 'gru', '--hidden', '32,32', '--embedding', '16', '--clip', '0.5', '--train', '300', '--test', '50'))
      .toMatchObject({ dataset: 'spam', model: 'gru', hidden: [32, 32], embedding: 16, clip: 0.5, train: 300, test: 50 });
    expect(options('--dataset', 'smnist')).not.toHaveProperty('embedding');
    // The other data sets are untouched: mlp by default, no clip unless asked.
    expect(options('--dataset', 'iris')).toMatchObject({ dataset: 'iris', model: 'mlp' });
    expect(options('--dataset', 'iris')).not.toHaveProperty('clip');
    expect(options('--dataset', 'iris', '--clip', '2')).toMatchObject({ clip: 2 });
  });

  const cases: [string[], string][] = [
    [['train', '--task', 'names', '--dataset', 'names'], '--task and --dataset name the same thing; give one (got --dataset names --task names)'],
    [['train', '--task', 'nams'], "--task must be one of mnist, iris, cars, moons, circles, spirals, names, spam, smnist, gan, pretrain, got 'nams' (did you mean 'names'?)"],
    [['train', '--dataset', 'names', '--model', 'mlp'], '--dataset names is a sequence task: use --model lstm, gru or rnn, not mlp'],
    [['train', '--dataset', 'smnist', '--model', 'cnn'], '--dataset smnist is a sequence task: use --model lstm, gru or rnn, not cnn'],
    [['train', '--dataset', 'iris', '--model', 'lstm'], '--model lstm reads sequences: it applies to the sequence tasks names, spam, smnist only, not iris (use --model mlp)'],
    [['train', '--model', 'gru'], '--model gru reads sequences: it applies to the sequence tasks names, spam, smnist only, not mnist (use --model mlp)'],
    [['train', '--dataset', 'smnist', '--embedding', '8'], '--embedding applies to the token sequence tasks (names, spam) only, not smnist (its steps are rows of pixels)'],
    [['train', '--dataset', 'iris', '--embedding', '8'], '--embedding applies to the token sequence tasks (names, spam) only, not iris'],
    [['train', '--dataset', 'names', '--activation', 'relu'], '--activation does not apply to the sequence task names (--model lstm)'],
    [['train', '--dataset', 'spam', '--channels', '8'], '--channels does not apply to the sequence task spam (--model lstm)'],
    [['train', '--dataset', 'names', '--hidden', '64,32'], "--hidden must be the recurrent layers' hidden size, 1 to 65536 (equal sizes, comma separated, stack layers: '128,128'), got '64,32'"],
    [['train', '--dataset', 'names', '--hidden', ''], "--hidden must be the recurrent layers' hidden size, 1 to 65536 (equal sizes, comma separated, stack layers: '128,128'), got ''"],
    [['train', '--dataset', 'names', '--validation-split', '0'], '--validation-split 0 leaves no validation names: the names task reports the validation cross-entropy (use a fraction like 0.1)'],
    [['train', '--dataset', 'spam', '--early-stopping', '2'], '--early-stopping watches the validation loss: it needs --validation-split above 0 (the spam recipe holds none out)'],
    [['train', '--dataset', 'names', '--clip', '0'], "--clip must be a positive number (like 1), got '0'"],
    [['train', '--dataset', 'smnist', '--train', '70000'], "--train must be an integer from 1 to 60000, got '70000'"],
    [['train', '--dataset', 'iris', '--test', '10'], '--test applies to --dataset mnist and the sequence tasks only, not iris'],
    [['sample'], '--model PATH is required: the file fathom train --dataset names --save PATH wrote'],
    [['sample', '--model', 'm', '--temperature', '0'], "--temperature must be a number from 0.01 to 100 (like 0.8), got '0'"],
    [['sample', '--model', 'm', '--temperature', '-1'], "--temperature must be a number from 0.01 to 100 (like 0.8), got '-1'"],
    [['sample', '--model', 'm', '--temperature', 'hot'], "--temperature must be a number from 0.01 to 100 (like 0.8), got 'hot'"],
    [['sample', '--model', 'm', '--n', '0'], "--n must be an integer from 1 to 100000, got '0'"],
    [['sample', '--model', 'm', '--epochs', '3'], "unknown option '--epochs' for fathom sample"],
  ];
  for (const [argv, msg] of cases) {
    it(`fathom ${argv.join(' ')}`, () => expect(usage(argv)).toBe(msg));
  }

  it('sample: defaults and help', () => {
    expect(sampleOptions('--model', 'm.safetensors')).toEqual({ model: 'm.safetensors', n: 10, temperature: 0.8, seed: 1 });
    expect(parseCommand(['sample', '--help'])).toEqual({ kind: 'help', text: SAMPLE_HELP });
  });
});

describe('the pieces', () => {
  it('padLengths: the first PAD ends a row (at least one step)', () => {
    expect(Array.from(padLengths(new Tensor(Int32Array.of(5, 6, 0, 0, 7, 8, 9, 1, 0, 0, 0, 0), [3, 4])))).toEqual([2, 4, 1]);
  });

  it('maskedCrossEntropy leaves the PAD targets out: the mean over the other steps', () => {
    // Logits 0 everywhere over K = 4 classes: ln 4 per counted step, whatever the padding.
    const logits = new Tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]);
    const y = new Tensor(Int32Array.of(1, 2, 0, 3, 0, 0), [2, 3]);
    expect(maskedCrossEntropy(logits, y).item()).toBeCloseTo(Math.log(4), 5);
    // A confident right answer on the counted steps and nonsense under the padding: close to 0.
    const l = new Float32Array(24);
    [[0, 1], [1, 2], [3, 3]].forEach(([step, cls]) => (l[step * 4 + cls] = 20));
    l[2 * 4 + 1] = 50; // a padded step: ignored
    expect(maskedCrossEntropy(new Tensor(l, [2, 3, 4]), y).item()).toBeLessThan(1e-6);
  });

  it('RecurrentNet: the final state at each length; padding after it changes nothing', () => {
    const net = new RecurrentNet({ cell: 'gru', vocabSize: 10, inputSize: 4, hiddenSize: 5, numLayers: 1, dropout: 0, outputs: 2, perStep: false });
    const a = net.forward(new Tensor(Int32Array.of(3, 4, 5, 0, 0), [1, 5]));
    const b = net.forward(new Tensor(Int32Array.of(3, 4, 5), [1, 3]));
    expect(Array.from(a.data)).toEqual(Array.from(b.data).map((v) => expect.closeTo(v, 5)));
  });
});

describe('fathom train: tiny real runs of each sequence task', () => {
  const path = join(dir, 'names.safetensors');
  let names: Awaited<ReturnType<typeof train>>;

  it('names: a char LSTM on 400 names beats the uniform guess; the model and its vocabulary are saved', async () => {
    names = await train(options('--dataset', 'names', '--train', '400', '--test', '100', '--epochs', '3', '--hidden', '32', '--embedding', '8', '--save', path));
    // Uniform over the 28 outcomes (27 characters and EOS) is ln 28 = 3.33 nats.
    expect(names.validationCrossEntropy!).toBeLessThan(Math.log(28) - 0.3);
    expect(names.trainCrossEntropy!).toBeLessThan(Math.log(28) - 0.3);
    expect(names.bigramBaseline!).toBeGreaterThan(2);
    const file = await loadSafetensors(path);
    expect(JSON.parse(file.metadata[VOCABULARY_KEY])).toEqual({ chars: '-abcdefghijklmnopqrstuvwxyz', maxLength: 16 });
  });

  it('names: the saved model loads back to the same validation cross-entropy', async () => {
    const model = await load(path);
    model.eval();
    const ds = await data.names({ seed: 1, validationSplit: 0.1 });
    const x = new Tensor(ds.validation.inputs.data.slice(0, 100 * 16), [100, 16]);
    const y = new Tensor(ds.validation.targets.data.slice(0, 100 * 16), [100, 16]);
    expect(noGrad(() => maskedCrossEntropy(model.forward(x), y)).item()).toBeCloseTo(names.validationCrossEntropy!, 5);
  });

  it('sample: the same seed gives the same names; another seed others; names of the vocabulary, at most 15 characters', async () => {
    const a = await sample(sampleOptions('--model', path, '--n', '20', '--seed', '7', '--temperature', '1'));
    expect(await sample(sampleOptions('--model', path, '--n', '20', '--seed', '7', '--temperature', '1'))).toEqual(a);
    expect(await sample(sampleOptions('--model', path, '--n', '20', '--seed', '8', '--temperature', '1'))).not.toEqual(a);
    expect(a).toHaveLength(20);
    // One stream per name: fewer names are the first ones.
    expect(await sample(sampleOptions('--model', path, '--n', '3', '--seed', '7', '--temperature', '1'))).toEqual(a.slice(0, 3));
    for (const s of a) expect(s).toMatch(/^[-a-z]{0,15}$/);
    // A low temperature concentrates the draws: fewer distinct first letters than a high one.
    const first = async (t: string) => new Set((await sample(sampleOptions('--model', path, '--n', '200', '--temperature', t))).map((s) => s[0])).size;
    expect(await first('0.05')).toBeLessThan(await first('3'));
  });

  it('sample refuses a model without a vocabulary', async () => {
    const other = join(dir, 'smnist.safetensors');
    await train(options('--dataset', 'smnist', '--train', '300', '--test', '100', '--epochs', '1', '--hidden', '8', '--save', other));
    await expect(sample(sampleOptions('--model', other))).rejects.toThrow(/holds no character vocabulary/);
  });

  it('smnist: an LSTM on 1000 digits is well above chance (10 %)', async () => {
    const r = await train(options('--dataset', 'smnist', '--train', '1000', '--test', '200', '--epochs', '3', '--batch-size', '32', '--hidden', '32', '--lr', '0.01'));
    expect(r.testAccuracy!).toBeGreaterThan(0.3);
  });

  it('spam: a GRU over 400 mails reports accuracy and F1', async () => {
    const r = await train(options('--dataset', 'spam', '--model', 'gru', '--train', '400', '--test', '200', '--epochs', '6', '--batch-size', '16',
      '--hidden', '16', '--embedding', '16', '--lr', '0.01'));
    // Above the majority class (ham, about 69 %) and with spam found.
    expect(r.testAccuracy!).toBeGreaterThan(0.72);
    expect(r.testF1!).toBeGreaterThan(0.3);
  });
});
