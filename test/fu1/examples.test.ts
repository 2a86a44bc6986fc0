// The examples' flags (issue #12, fu1): a bad flag is a one-line message and exit status 2, never a stack
// trace; tree-rnn.mjs no longer crashes on --test below 3 and accepts --seed 0. They import 'fathom'
// by name: dist/, built by `npm test`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const run = (file: string, args: string[]) => spawnSync(process.execPath, [join(root, 'examples', file), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

describe('example flags', () => {
  it('tree-rnn.mjs: bad flags exit 2 with one line; the smallest run works', () => {
    expect(existsSync(join(root, 'dist', 'index.js')), 'dist/ is missing: run npx tsc -p tsconfig.json (npm test builds it)').toBe(true);
    for (const [args, msg] of [
      [['--test', '1'], /^tree-rnn: --test must be an integer from 3 to 1000000, got 1\n$/],
      [['--dim', '100000000'], /^tree-rnn: --dim must be an integer from 1 to 4096, got 100000000\n$/],
      [['--epochs', '1.5'], /^tree-rnn: --epochs must be an integer from 1 to 10000, got 1\.5\n$/],
      [['--backend', 'gpu'], /^tree-rnn: --backend must be native or ts, got gpu\n$/],
      [['--epoch', '3'], /^tree-rnn: .*'--epoch'.*\(flags: --epochs --per-epoch --dim --seed --test --backend\)\n$/s],
    ] as const) {
      const r = run('tree-rnn.mjs', [...args]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    const ok = run('tree-rnn.mjs', ['--epochs', '1', '--per-epoch', '8', '--test', '3', '--dim', '2', '--seed', '0', '--backend', 'ts']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/\| 4 \(not trained on\) \|\s+1 \|/);
  });

  it('tree-rnn/profile.mjs: a bad backend is a usage line', () => {
    const r = spawnSync(process.execPath, [join(root, 'examples', 'tree-rnn', 'profile.mjs'), 'gpu'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('profile: usage: node examples/tree-rnn/profile.mjs [native|ts], got gpu\n');
  });

  it('autoencoders.mjs: a flag without its value is named', () => {
    const r = run('autoencoders.mjs', ['--epochs']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('autoencoders: --epochs needs a value\n');
  });
});
