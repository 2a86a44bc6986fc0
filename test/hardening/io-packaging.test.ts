/**
 * Installing fathom (issue #8, section 7): the install hook is quiet when all
 * is well, treats "no prebuilt binary, compiling" as the normal path it is
 * (no output at all when the build works), and prints one warning, with the
 * tail and the place of the full log, only when the build fails. Tested on
 * scripts/install.cjs in a scratch package whose node-gyp-build and cmake-js
 * are stand-ins (so no compiler runs). The real `npm install <fresh clone>`
 * takes a minute and the network: it runs with FATHOM_TEST_CLONE_INSTALL=1.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'fathom-install-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A package with scripts/install.cjs, a node-gyp-build that finds no binary, and a scripted cmake-js. */
function scratchPackage(name: string, withCmake = true): string {
  const pkg = join(work, name);
  mkdirSync(join(pkg, 'scripts'), { recursive: true });
  cpSync(join(root, 'scripts', 'install.cjs'), join(pkg, 'scripts', 'install.cjs'));
  writeFileSync(join(pkg, 'package.json'), '{"name":"fathom","version":"0.0.0"}');
  const ngb = join(pkg, 'node_modules', 'node-gyp-build');
  mkdirSync(ngb, { recursive: true });
  writeFileSync(join(ngb, 'package.json'), '{"name":"node-gyp-build","main":"index.js"}');
  writeFileSync(join(ngb, 'index.js'), `exports.resolve = () => { throw new Error('No native build was found for platform=test arch=test\\n    attempted: ...'); };`);
  if (withCmake) {
    const cm = join(pkg, 'node_modules', 'cmake-js');
    mkdirSync(join(cm, 'bin'), { recursive: true });
    writeFileSync(join(cm, 'package.json'), '{"name":"cmake-js"}');
    writeFileSync(join(cm, 'bin', 'cmake-js'), `
      for (let i = 1; i <= 40; i++) console.log('cmake line ' + i);
      console.error('error: no C++ compiler found');
      process.exit(Number(process.env.FAKE_CMAKE_EXIT || 0));
    `);
  }
  return pkg;
}

function install(pkg: string, env: Record<string, string> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_config_|FATHOM_)/i.test(k)));
  return spawnSync(process.execPath, [join(pkg, 'scripts', 'install.cjs')], { cwd: pkg, encoding: 'utf8', env: { ...clean, ...env } });
}

describe('scripts/install.cjs', () => {
  it('prints nothing when the binary in this repository loads', () => {
    const r = install(root);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('compiling because no prebuilt binary fits is silent when the build works', () => {
    const r = install(scratchPackage('ok'));
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('a failed build: one warning with the tail and the log file; the install still succeeds', () => {
    const pkg = scratchPackage('fails');
    const r = install(pkg, { FAKE_CMAKE_EXIT: '3' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    const log = join(pkg, 'build', 'fathom-install.log');
    expect(r.stderr).toMatch(new RegExp(`^fathom: warning: the native addon could not be compiled \\(cmake-js exited with 3\\) \\(full log: ${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\);\n`));
    expect(r.stderr).toContain('fathom:   fathom will run on its (slower) TypeScript backend.');
    expect(r.stderr).toContain('fathom:   | error: no C++ compiler found');
    expect(r.stderr).toContain('cmake line 40');
    expect(r.stderr).not.toContain('cmake line 1\n'); // only the tail
    expect(r.stderr).not.toMatch(/No native build was found/); // the normal fallback is not reported as a problem
    const full = readFileSync(log, 'utf8');
    expect(full).toContain('cmake line 1\n');
    expect(full).toContain('error: no C++ compiler found');
  });

  it('FATHOM_INSTALL_VERBOSE=1 shows the reason and the build output', () => {
    const r = install(scratchPackage('verbose'), { FATHOM_INSTALL_VERBOSE: '1' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^fathom: no prebuilt binary fits this platform \(No native build was found for platform=test arch=test\); compiling it with cmake-js\n/);
    expect(r.stdout).toContain('cmake line 40\n');
    expect(r.stdout).toMatch(/fathom: compiled the native addon\n$/);
  });

  it('without cmake-js (a folder installed without its dependencies): a warning that says what to run', () => {
    const pkg = scratchPackage('nocmake', false);
    const r = install(pkg);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe([
      'fathom: warning: cmake-js is not installed next to fathom, so the native addon was not compiled;',
      'fathom:   fathom will run on its (slower) TypeScript backend.',
      `fathom:   To build it: run \`npm install\` in ${pkg}, or \`npm rebuild fathom\` in your project.`,
      '',
    ].join('\n'));
  });
});

describe.skipIf(process.env.FATHOM_TEST_CLONE_INSTALL !== '1')('npm install <path to a fresh clone> (network, ~1 min)', () => {
  it('links the clone, builds dist/ and the addon in it, and runs', () => {
    const clone = join(work, 'clone');
    const branch = execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    execFileSync('git', ['clone', '-q', '-b', branch, root, clone]);
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{"name":"app","version":"1.0.0","type":"module","private":true}');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', clone], { cwd: app, stdio: 'pipe' });
    expect(existsSync(join(clone, 'dist', 'index.js'))).toBe(true);
    writeFileSync(join(app, 'check.mjs'), `
      import * as f from 'fathom';
      const m = new f.nn.Sequential(new f.nn.Linear(3, 2));
      await f.save(m, new URL('./m.safetensors', import.meta.url));
      console.log(JSON.stringify({ info: f.info(), n: (await f.load('./m.safetensors')).parameters().length }));
    `);
    const out = JSON.parse(execFileSync(process.execPath, ['check.mjs'], { cwd: app, encoding: 'utf8' }).trim().split('\n').at(-1)!);
    expect(out.n).toBe(2);
    expect(out.info.backend).toBe('native');
    expect(execFileSync('npx', ['fathom', '--version'], { cwd: app, encoding: 'utf8' }).trim()).toBe(out.info.version);
  }, 600_000);
});
