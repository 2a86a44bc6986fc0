#!/usr/bin/env node
/**
 * fathom's command line. `fathom train` trains a network (by default the
 * MNIST digit classifier) and prints its test metrics; see train.ts.
 *
 * Exit status: 0 on success, 1 when the work fails, 2 for a usage mistake
 * (no command, an unknown command or option, a bad value). Everything that
 * can be checked before the work starts is: the flags, that the --save,
 * --plot and --boundary paths can be written and the drawing packages are
 * installed (a missing folder must not cost minutes of training).
 */
import { createRequire } from 'node:module';
import { parseCommand, UsageError } from './args.js';

async function main(argv: string[]): Promise<number> {
  let cmd;
  try {
    cmd = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message === 'no command given') {
      process.stderr.write(err.help);
    // --- #12 pretrain ---
    } else if (err.help.startsWith('Usage: fathom train --task pretrain')) {
      process.stderr.write(`fathom: ${err.message}\n(see fathom train --task pretrain --help)\n`);
    // --- end #12 pretrain ---
    } else {
      const more = err.help.startsWith('Usage: fathom train') ? 'fathom train --help' : err.help.startsWith('Usage: fathom sample') ? 'fathom sample --help' : 'fathom --help';
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
      await (await import('./train.js')).train(cmd.options);
      return 0;
    case 'sample':
      for (const name of await (await import('./sample.js')).sample(cmd.options)) process.stdout.write(`${name}\n`);
      return 0;
    // --- #12 gan ---
    case 'gan':
      await (await import('./gan.js')).trainGan(cmd.options);
      return 0;
    // --- end #12 gan ---
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
