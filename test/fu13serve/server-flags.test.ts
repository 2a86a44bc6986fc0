// The example service (examples/server/server.mjs): a bad command-line value is a usage error — one line on
// stderr naming the flag, the range and what came (or the unknown flag), exit code 2 — not an uncaught
// exception with a stack.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SERVER = join(import.meta.dirname, '../../examples/server/server.mjs');

describe('examples/server: bad flags', () => {
  for (const [flag, value, range] of [['--nice', '20', '0 to 19'], ['--threads', '0', '1 to 256'], ['--answers-per-turn', 'x', '1 to 4096'], ['--max-queue', '0', '1 to 1048576']]) {
    it(`${flag} ${value}`, () => {
      const r = spawnSync(process.execPath, [SERVER, flag, value, '--port', '0', '--model', join(import.meta.dirname, 'no-such-model.safetensors')], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr.trim()).toBe(`server: ${flag} must be an integer from ${range}, got ${value}`);
    });
  }

  it('an unknown flag', () => {
    const r = spawnSync(process.execPath, [SERVER, '--max-batch-size', '8'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^server: Unknown option '--max-batch-size'/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
