/**
 * Backend selection in a fresh process: FATHOM_BACKEND forces one; without a
 * loadable addon fathom warns once and falls back to the TS backend; forcing
 * native without one throws. Runs the compiled package (dist/, built by `npm test`).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeBinding } from '../../lib/backend/index.js';

const root = resolve(import.meta.dirname, '..', '..');
const script = `
  const f = await import(process.argv[1]);
  const c = f.matmul(f.tensor([[1, 2], [3, 4]]), f.tensor([[5, 6], [7, 8]]));
  f.add(f.ones([2]), 1); // a second op: the warning must not repeat
  console.log(JSON.stringify({ info: f.info(), c: c.toArray() }));
`;

function run(pkgRoot: string, env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, join(pkgRoot, 'dist', 'index.js')], {
    env: { ...process.env, FATHOM_BACKEND: '', FATHOM_ISA: '', ...env },
    encoding: 'utf8',
  });
  const out = r.stdout.trim().split('\n').at(-1) ?? '';
  return { status: r.status, stderr: r.stderr, result: r.status === 0 ? JSON.parse(out) : null };
}

// A copy of the package with no native binary at all.
const bare = mkdtempSync(join(tmpdir(), 'fathom-bare-'));
afterAll(() => rmSync(bare, { recursive: true, force: true }));

describe('backend selection', () => {
  it('dist/ exists (npm test compiles it)', () => {
    expect(existsSync(join(root, 'dist', 'index.js'))).toBe(true);
  });

  it.skipIf(!nativeBinding())('uses the native addon by default and the TS backend when FATHOM_BACKEND=ts', () => {
    const n = run(root, {});
    expect(n.result.info.backend).toBe('native');
    expect(n.result.c).toEqual([[19, 22], [43, 50]]);
    const t = run(root, { FATHOM_BACKEND: 'ts' });
    expect(t.result.info.backend).toBe('ts');
    expect(t.result.info.isa).toBe('ts');
    expect(t.result.c).toEqual([[19, 22], [43, 50]]);
    expect(t.stderr).not.toMatch(/FathomWarning/);
  });

  it('falls back to TS with one clear warning when the addon cannot load', () => {
    cpSync(join(root, 'dist'), join(bare, 'dist'), { recursive: true });
    cpSync(join(root, 'package.json'), join(bare, 'package.json'));
    symlinkSync(join(root, 'node_modules'), join(bare, 'node_modules'), 'dir');
    const r = run(bare, {});
    expect(r.status).toBe(0);
    expect(r.result.info.backend).toBe('ts');
    expect(r.result.info.nativeError).toMatch(/No native build was found/);
    expect(r.result.c).toEqual([[19, 22], [43, 50]]);
    const warnings = r.stderr.match(/FathomWarning/g) ?? [];
    expect(warnings.length).toBe(1);
    expect(r.stderr).toMatch(/using the slower TypeScript backend/);
    expect(r.stderr).toMatch(/npm rebuild fathom/);
  });

  it('throws when native is forced but cannot load', () => {
    const r = run(bare, { FATHOM_BACKEND: 'native' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/FATHOM_BACKEND=native but the native addon is unavailable/);
  });

  it('rejects an unknown FATHOM_BACKEND and an ISA this CPU cannot run', () => {
    const r = run(root, { FATHOM_BACKEND: 'gpu' });
    expect(r.stderr).toMatch(/FATHOM_BACKEND must be 'native', 'ts' or 'auto', got 'gpu'/);
    if (nativeBinding() && !nativeBinding()!.info().cpu.avx512) {
      const i = run(root, { FATHOM_ISA: 'avx512', FATHOM_BACKEND: 'native' });
      expect(i.stderr).toMatch(/FATHOM_ISA=avx512 is not available/);
    }
  });

  it.skipIf(!nativeBinding())('FATHOM_ISA=scalar forces the portable kernels', () => {
    const r = run(root, { FATHOM_ISA: 'scalar' });
    expect(r.result.info.isa).toBe('scalar');
    expect(r.result.c).toEqual([[19, 22], [43, 50]]);
  });
});
