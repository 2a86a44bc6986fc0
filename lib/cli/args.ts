/**
 * The command line of `fathom`, parsed and validated without side effects
 * (so it is tested in-process). node:util parseArgs splits the tokens; every
 * value is then checked here, so each mistake gets one clear sentence:
 * `--epochs must be an integer from 1 to 1000000, got '-3'` (parseArgs'
 * strict mode would call `--epochs -3` "ambiguous" instead).
 */
import { parseArgs } from 'node:util';
import { closestName } from '../layers/options.js';

export const MAIN_HELP = `Usage: fathom <command> [options]

Commands:
  train        train a digit classifier (an MLP) on MNIST; see fathom train --help

Options:
  -h, --help     show this help
  -v, --version  print fathom's version
`;

export const TRAIN_HELP = `Usage: fathom train [options]

Trains a multi-layer perceptron on MNIST (60,000 training digits, tested on
10,000) and prints the test accuracy and the training throughput.

Options:
  --epochs N         training epochs, 1 to 1000000 (default 8)
  --batch-size N     samples per batch, 1 to 1000000 (default 128)
  --lr X             learning rate, a positive number (default 0.001 for adam, 0.05 for sgd)
  --optimizer NAME   adam | sgd (sgd uses momentum 0.9; default adam)
  --hidden LIST      hidden layer sizes, comma separated, each 1 to 65536 (default 256,256;
                     '' for none)
  --backend NAME     native | ts (default: native, falling back to ts)
  --threads N        native threads, 1 to 256 (default: all cores; at most the core count is used)
  --seed N           seed for initial weights and shuffling, 0 to 2^53-1 (default 1)
  --train N          use only the first N training digits, 1 to 60000
  --save PATH        save the trained model (safetensors); checked to be
                     writable before training starts
  -h, --help         show this help
`;

/** A mistake on the command line: main prints it with a pointer to --help and exits with 2. */
export class UsageError extends Error {
  constructor(message: string, readonly help: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Command =
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'train'; options: TrainOptions };

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'adam' | 'sgd';
  hidden: number[];
  backend?: 'native' | 'ts';
  threads?: number;
  seed: number;
  train?: number;
  save?: string;
}

const TRAIN_FLAGS = {
  epochs: 'string', 'batch-size': 'string', lr: 'string', optimizer: 'string', hidden: 'string',
  backend: 'string', threads: 'string', seed: 'string', train: 'string', save: 'string', help: 'boolean',
} as const;

/** What `fathom <argv...>` asks for; throws UsageError for anything malformed. */
export function parseCommand(argv: readonly string[]): Command {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) throw new UsageError('no command given', MAIN_HELP);
  if (cmd === '-h' || cmd === '--help' || cmd === 'help') {
    if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}' after ${cmd}`, MAIN_HELP);
    return { kind: 'help', text: MAIN_HELP };
  }
  if (cmd === '-v' || cmd === '--version') {
    if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}' after ${cmd}`, MAIN_HELP);
    return { kind: 'version' };
  }
  if (cmd.startsWith('-')) throw new UsageError(`unknown option '${cmd}' (options go after the command)`, MAIN_HELP);
  if (cmd !== 'train') throw new UsageError(`unknown command '${cmd}' (the commands are: train)`, MAIN_HELP);
  const values = parseFlags('train', rest, TRAIN_FLAGS);
  if (values.help !== undefined) return { kind: 'help', text: TRAIN_HELP };
  return { kind: 'train', options: trainOptions(values) };
}

type FlagSpec = Record<string, 'string' | 'boolean'>;

/** Tokens → name → value, refusing unknown flags, positionals, repeats and missing values. */
function parseFlags(cmd: string, args: string[], spec: FlagSpec): Record<string, string | true> {
  const usage = (msg: string): never => {
    throw new UsageError(msg, TRAIN_HELP);
  };
  const options = Object.fromEntries(Object.entries(spec).map(([k, type]) => [k, { type }]));
  (options.help as { short?: string }).short = 'h';
  let tokens;
  try {
    // strict: false so that `--epochs -3` reaches the value check below.
    ({ tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true }));
  } catch (err) {
    return usage((err as Error).message);
  }
  const out: Record<string, string | true> = Object.create(null);
  for (const t of tokens) {
    if (t.kind === 'positional') usage(`unexpected argument '${t.value}' for fathom ${cmd}`);
    if (t.kind !== 'option') continue; // the '--' terminator
    const type = Object.hasOwn(spec, t.name) ? spec[t.name] : undefined;
    if (type === undefined) {
      const near = t.name.length >= 3 ? closestName(t.name, Object.keys(spec)) : undefined;
      usage(`unknown option '${t.rawName}' for fathom ${cmd}${near ? ` (did you mean '--${near}'?)` : ''}`);
    }
    if (Object.hasOwn(out, t.name)) usage(`option --${t.name} given more than once`);
    if (type === 'boolean') {
      if (t.value !== undefined) usage(`option ${t.rawName} takes no value, got '${t.value}'`);
      out[t.name] = true;
    } else {
      const v = t.value;
      if (v === undefined) usage(`option --${t.name} needs a value`);
      // `--epochs --lr 3`: a following flag is not a value (a negative number is, and is judged below).
      if (!t.inlineValue && /^-(-|[A-Za-z])/.test(v!)) usage(`option --${t.name} needs a value, got the option '${v}'`);
      out[t.name] = v!;
    }
  }
  return out;
}

const INT = /^[0-9]+$/;
const FLOAT = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

function int(name: string, v: string | true | undefined, dflt: number, min: number, max: number, maxText = String(max)): number {
  if (v === undefined) return dflt;
  const n = typeof v === 'string' && INT.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${maxText}, got '${String(v)}'`, TRAIN_HELP);
  }
  return n;
}

function choice<T extends string>(name: string, v: string | true | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly unknown[]).includes(v)) {
    throw new UsageError(`--${name} must be ${allowed.join(' or ')}, got '${String(v)}'`, TRAIN_HELP);
  }
  return v as T;
}

function trainOptions(v: Record<string, string | true>): TrainOptions {
  const optimizer = choice('optimizer', v.optimizer, ['adam', 'sgd'] as const) ?? 'adam';
  let lr = optimizer === 'adam' ? 1e-3 : 0.05;
  if (v.lr !== undefined) {
    lr = typeof v.lr === 'string' && FLOAT.test(v.lr) ? Number(v.lr) : NaN;
    if (!(lr > 0 && Number.isFinite(Math.fround(lr)))) {
      throw new UsageError(`--lr must be a positive number that float32 can hold (like 0.001 or 1e-3), got '${String(v.lr)}'`, TRAIN_HELP);
    }
  }
  const hiddenText = v.hidden ?? '256,256';
  const hidden = hiddenText === '' ? [] : String(hiddenText).split(',').map((s) => {
    const n = INT.test(s) ? Number(s) : NaN;
    if (!(n >= 1 && n <= 65536)) {
      throw new UsageError(`--hidden must be comma-separated integers from 1 to 65536 ('' for none), got '${String(hiddenText)}'`, TRAIN_HELP);
    }
    return n;
  });
  const save = v.save;
  if (save === '') throw new UsageError(`--save needs a file path, got ''`, TRAIN_HELP);
  return {
    epochs: int('epochs', v.epochs, 8, 1, 1_000_000),
    batchSize: int('batch-size', v['batch-size'], 128, 1, 1_000_000),
    lr,
    optimizer,
    hidden,
    ...(v.backend !== undefined ? { backend: choice('backend', v.backend, ['native', 'ts'] as const)! } : {}),
    ...(v.threads !== undefined ? { threads: int('threads', v.threads, 1, 1, 256) } : {}),
    seed: int('seed', v.seed, 1, 0, Number.MAX_SAFE_INTEGER, '2^53-1'),
    ...(v.train !== undefined ? { train: int('train', v.train, 1, 1, 60000) } : {}),
    ...(typeof save === 'string' ? { save } : {}),
  };
}
