/** Parsing `fathom` command lines in tests: the options of a train command, or the usage error of a bad one. */
import { expect } from 'vitest';
import { UsageError, parseCommand, type TrainOptions } from '../../lib/cli/args.js';

/** The options `fathom train ...argv` parses to (fails the test for another command). */
export function trainOptions(...argv: string[]): TrainOptions {
  const c = parseCommand(['train', ...argv]);
  if (c.kind !== 'train') throw new Error(`expected a train command, got ${c.kind}`);
  return c.options;
}

/** The UsageError `fathom ...argv` throws (fails the test if it parses, or throws something else). */
export function usageError(argv: string[]): UsageError {
  try {
    parseCommand(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error(`expected a usage error for ${JSON.stringify(argv)}`);
}
