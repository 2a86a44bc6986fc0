/**
 * The offline-install promise: the packed tarball carries a prebuilt binary,
 * installs into an empty project with install scripts disabled (nothing is
 * compiled or downloaded beyond the npm registry), loads the prebuild and
 * computes the same matmul as the TS backend.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'fathom-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' }, stdio: ['ignore', 'pipe', 'pipe'] });

it('packs a prebuild that installs and runs without compiling', () => {
  const prebuilds = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  expect(existsSync(prebuilds), `no ${prebuilds}: run \`npm run prebuilds\` first (npm test does)`).toBe(true);

  const packed = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], root));
  const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
  expect(files).toContain(`prebuilds/${process.platform}-${process.arch}/fathom.node`);
  expect(files).toContain('dist/index.js');
  expect(files).toContain('dist/index.d.ts');
  expect(files).toContain('CMakeLists.txt');
  expect(files.some((f) => f.startsWith('build/'))).toBe(false);
  expect(files.some((f) => f.startsWith('test/'))).toBe(false);

  const app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
  npm(['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed[0].filename)], app);
  const installed = join(app, 'node_modules', 'fathom');
  expect(existsSync(join(installed, 'build'))).toBe(false); // nothing compiled

  writeFileSync(join(app, 'check.mjs'), `
    import * as f from 'fathom';
    const a = f.rand([33, 29], { seed: 1 }), b = f.rand([29, 17], { seed: 2 });
    const native = f.matmul(a, b);
    const i = f.info();
    f.setBackend('ts');
    const ts = f.matmul(a, b);
    let worst = 0;
    for (let k = 0; k < ts.size; k++) worst = Math.max(worst, Math.abs(ts.data[k] - native.data[k]));
    console.log(JSON.stringify({ info: i, worst }));
  `);
  const out = execFileSync(process.execPath, ['check.mjs'], { cwd: app, encoding: 'utf8', env: { ...process.env, FATHOM_BACKEND: '' } });
  const r = JSON.parse(out.trim().split('\n').at(-1)!);
  expect(r.info.backend).toBe('native');
  expect(r.worst).toBeLessThan(1e-4);
  expect(readdirSync(join(installed, 'prebuilds'))).toEqual([`${process.platform}-${process.arch}`]);
}, 180_000);
