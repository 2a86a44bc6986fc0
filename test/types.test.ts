/**
 * The published type declarations (dist/*.d.ts) compile for a strict
 * TypeScript user, with @types/node and without it (lib es2022 only, no DOM):
 * the public signatures must not need Node's or the DOM's types (section 7
 * of issue #8). Both variants also check that misuse is rejected.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

function tsc(project: string): { output: string; status: number | null } {
  const r = spawnSync(process.execPath, [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: root, encoding: 'utf8' });
  return { output: (r.stdout + r.stderr).trim(), status: r.status };
}


it('dist/index.d.ts type-checks a consumer with @types/node, and rejects misuse', () => {
  const r = tsc('test/types/tsconfig.json');
  expect(r.output).toBe('');
  expect(r.status).toBe(0);
}, 60_000);

it('dist/index.d.ts type-checks a consumer WITHOUT @types/node (lib es2022 only), and rejects misuse', () => {
  const r = tsc('test/types/tsconfig.no-node.json');
  expect(r.output).toBe('');
  expect(r.status).toBe(0);
}, 60_000);
