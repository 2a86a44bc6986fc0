/**
 * Free heap memory goes back to the OS (native/runtime/malloc_trim.h).
 *
 * Tensor data is malloc'ed by Node and freed by V8's GC in bulk. glibc returns
 * memory to the OS only from the top of its heap: once later blocks sit above
 * the freed ones, a past high-water mark stays resident for good (issue 8: RSS
 * rose in steps of 13-21 MB during long training runs). The addon calls
 * malloc_trim(0) at most every 2 s from its calls; FATHOM_MALLOC_TRIM=0 turns
 * that off, which here reproduces the fault.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nativeBinding } from '../../lib/backend/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function run(env: Record<string, string>): { before: number; high: number; afterGc: number; afterCall: number } {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('malloc-trim test: dist/index.js is missing; run `npm run build:ts` first');
  const r = spawnSync(process.execPath, ['--expose-gc', join(root, 'test', 'memory', 'trim-child.mjs')], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`malloc-trim child failed (${r.status}): ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '');
}

const glibcLinux = process.platform === 'linux' && (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })?.header?.glibcVersionRuntime !== undefined;

describe.skipIf(!glibcLinux || nativeBinding() === null)('freed tensor memory is returned to the OS (glibc)', () => {
  it('a 40 MiB high-water mark is given back within a trim round after the next native call', () => {
    const m = run({});
    expect(m.high - m.before, JSON.stringify(m)).toBeGreaterThan(30); // the blocks were resident
    expect(m.afterCall - m.before, JSON.stringify(m)).toBeLessThan(5);
  });

  it('without the trim (FATHOM_MALLOC_TRIM=0) glibc keeps it: the fault of issue 8', () => {
    const m = run({ FATHOM_MALLOC_TRIM: '0' });
    expect(m.afterCall - m.before, JSON.stringify(m)).toBeGreaterThan(30);
  });
});
