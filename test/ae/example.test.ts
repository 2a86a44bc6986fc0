// examples/autoencoders.mjs as a user runs it (it imports 'fathom' by name: dist/, built by
// `npm test`), on a few hundred digits: every table row is printed and the error falls.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');

describe('examples/autoencoders.mjs', () => {
  it('trains each autoencoder on a subset and prints falling reconstruction errors', () => {
    expect(existsSync(join(root, 'dist', 'index.js')), 'dist/ is missing: run npx tsc -p tsconfig.json (npm test builds it)').toBe(true);
    const r = spawnSync(process.execPath, [
      join(root, 'examples', 'autoencoders.mjs'), '--train', '512', '--test', '128', '--epochs', '2', '--batch-size', '64',
      '--only', 'dense,masking,kl,conv',
    ], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const table = r.stdout.split('\n').filter((l) => /^\| (dense|denoising|sparse|convolutional)/.test(l));
    // main table: 4 rows; denoising table: 1; sparse table: 1 (+ its no-penalty twin, which starts with "the same")
    expect(table.filter((l) => l.split('|').length === 10)).toHaveLength(4);
    for (const row of table.filter((l) => l.split('|').length === 10)) {
      const [mseBefore, mseAfter] = row.split('|').slice(4, 6).map((c) => Number(c.replace(/\*/g, '')));
      expect(mseAfter, row).toBeLessThan(mseBefore);
    }
    expect(r.stdout).toMatch(/\| denoising, masking noise p = 0\.3 .*\| 30 % of pixels set to 0 \|/);
    expect(r.stdout).toMatch(/\| sparse, KL ρ = 0\.05, β = 3 .*\| 0\.05 \|/);
    expect(r.stdout).toMatch(/\| the same without the penalty \|/);
    const bad = spawnSync(process.execPath, [join(root, 'examples', 'autoencoders.mjs'), '--only', 'vae'], { cwd: root, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--only takes dense, masking, gaussian, kl, l1, conv; got vae/);
  });
});
