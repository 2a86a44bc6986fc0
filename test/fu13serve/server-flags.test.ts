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

  it('a negative number given as --flag -5: one line', () => {
    const r = spawnSync(process.execPath, [SERVER, '--timeout-ms', '-5'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^server: Option '--timeout-ms' argument is ambiguous\. [^\n]*'--timeout-ms=-XYZ'\.$/);
  });

  it('--max-delay takes a fraction of a millisecond, as the predictor does; a negative one is refused', () => {
    const r = spawnSync(process.execPath, [SERVER, '--max-delay=-0.5'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('server: --max-delay must be a number from 0 to 1000, got -0.5');
  });

  it('--model in a folder that does not exist: refused before training, one line', () => {
    const r = spawnSync(process.execPath, [SERVER, '--model', join(import.meta.dirname, 'no-such-folder', 'm.safetensors')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^server: --model .*m\.safetensors: the folder .*no-such-folder does not exist/);
    expect(r.stdout).not.toMatch(/training/);
  });

  it('--model that is not a model file: one line naming it, exit 1', () => {
    const r = spawnSync(process.execPath, [SERVER, '--model', SERVER, '--port', '0'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^server: --model .*server\.mjs cannot be loaded: fathom\.load: .*not a safetensors file/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown flag', () => {
    const r = spawnSync(process.execPath, [SERVER, '--max-batch-size', '8'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^server: Unknown option '--max-batch-size'/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
