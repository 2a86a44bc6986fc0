/**
 * The environment is validated, never silently ignored (fresh processes, on
 * the compiled package in dist/, built by `npm test`):
 *  - FATHOM_ISA naming an ISA this CPU or binary cannot run throws a clear
 *    Error on first use (README: "an ISA this CPU cannot run is an error"),
 *    instead of falling back to the TS backend; FATHOM_BACKEND=ts still works.
 *  - FATHOM_NUM_THREADS must be an integer in [1, 256]: 'abc', 0, -1, 1.5 throw.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeBinding } from '../../lib/backend/index.js';

const root = resolve(import.meta.dirname, '..', '..');
const script = `
  const f = await import(process.argv[1]);
  let out;
  try {
    const y = f.add(f.ones([2]), 1);
    out = { ok: true, y: y.toArray(), info: f.info() };
  } catch (e) {
    out = { ok: false, name: e.constructor.name, message: e.message };
  }
  console.log(JSON.stringify(out));
`;

function run(env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, join(root, 'dist', 'index.js')], {
    env: { ...process.env, FATHOM_BACKEND: '', FATHOM_ISA: '', FATHOM_NUM_THREADS: '', ...env },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
}

const info = nativeBinding()?.info();
const missing = ['avx2', 'avx512', 'neon'].find((isa) => info && !info.isas.includes(isa));

describe('environment variables are validated on first use', () => {
  it.skipIf(!missing)(`FATHOM_ISA=${missing} (not runnable here) throws instead of falling back to TS`, () => {
    const r = run({ FATHOM_ISA: missing! });
    expect(r.ok).toBe(false);
    expect(r.name).toBe('Error');
    expect(r.message).toMatch(new RegExp(`^fathom: FATHOM_ISA=${missing} is not available on this CPU/binary`));
    expect(r.message).toMatch(/Unset FATHOM_ISA \(or set it to auto\)/);
    // The TS backend runs no native kernel, so the ISA does not matter to it.
    const t = run({ FATHOM_ISA: missing!, FATHOM_BACKEND: 'ts' });
    expect(t.ok).toBe(true);
    expect(t.info.backend).toBe('ts');
  });

  it('FATHOM_ISA=bogus throws as an unknown name, even without the addon', () => {
    const r = run({ FATHOM_ISA: 'bogus' });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/^fathom: FATHOM_ISA must be one of auto, scalar, avx2, avx512, neon \(or unset\), got 'bogus'/);
  });

  it('FATHOM_ISA names are case-insensitive (AVX2 is avx2)', () => {
    const r = run({ FATHOM_ISA: 'SCALAR' });
    expect(r.ok).toBe(true);
    if (nativeBinding()) expect(r.info.isa).toBe('scalar');
  });

  for (const bad of ['abc', '0', '-1', '1.5', '1e3', '300', ' 2x']) {
    it(`FATHOM_NUM_THREADS='${bad}' throws a clear Error`, () => {
      const r = run({ FATHOM_NUM_THREADS: bad });
      expect(r.ok).toBe(false);
      expect(r.name).toBe('Error');
      expect(r.message).toBe(
        `fathom: FATHOM_NUM_THREADS must be an integer in [1, 256] (or unset for the core count), got '${bad}'`,
      );
      const t = run({ FATHOM_NUM_THREADS: bad, FATHOM_BACKEND: 'ts' });
      expect(t.ok).toBe(false);
    });
  }

  it.skipIf(!nativeBinding())('a valid FATHOM_NUM_THREADS is used; empty means the default', () => {
    const r = run({ FATHOM_NUM_THREADS: '2' });
    expect(r.ok).toBe(true);
    expect(r.info.threads).toBe(2);
    expect(r.y).toEqual([2, 2]);
    expect(run({ FATHOM_NUM_THREADS: '' }).ok).toBe(true);
  });
});
