#!/usr/bin/env node
// `npm test`: build what the tests need, then run every suite and print one
// closing line `N passed, N failed` (summed over the native C++ tests, the
// vitest run, and the parity + gradient suites again on the portable kernels).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
let passed = 0;
let failed = 0;

function step(title, cmd, args, env = {}) {
  console.log(`\n==> ${title}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  console.log(`<== ${title}: exit ${r.status} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return r.status ?? 1;
}

function mustPass(title, cmd, args, env) {
  if (step(title, cmd, args, env) !== 0) {
    console.log(`\n${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  }
}

function vitest(title, files, env, report) {
  const status = step(title, bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...files], env);
  if (!existsSync(report)) {
    failed++;
    return;
  }
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests + (status !== 0 && r.numFailedTests === 0 ? 1 : 0);
}

mkdirSync(join(root, 'build-test'), { recursive: true });
const prebuild = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'fathom.node');
if (!existsSync(prebuild)) mustPass('prebuilt binary (prebuildify + cmake-js)', 'npm', ['run', 'prebuilds']);
mustPass('native addon present and loadable', process.execPath, [join(root, 'scripts', 'install.cjs')]);
mustPass('TypeScript build (dist/)', bin('tsc'), ['-p', 'tsconfig.json']);
mustPass('type check of lib + tests', bin('tsc'), ['-p', 'tsconfig.check.json']);

// Native kernel tests: plain CMake + the C++ test program, no Node.
const nt = join(root, 'build-test', 'native');
mustPass('configure native tests', 'cmake', ['-S', root, '-B', nt, '-DCMAKE_BUILD_TYPE=Release', '-DFATHOM_BUILD_TESTS=ON']);
mustPass('build native tests', 'cmake', ['--build', nt, '--target', 'fathom_native_tests', '-j', '2']);
{
  console.log('\n==> native kernel tests');
  const r = spawnSync(join(nt, 'fathom_native_tests'), [], { cwd: root, encoding: 'utf8' });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  const m = /(\d+) passed, (\d+) failed/.exec(r.stdout);
  if (m) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
  if (r.status !== 0 && (!m || Number(m[2]) === 0)) failed++;
}

vitest('vitest: all suites', [], {}, join(root, 'build-test', 'vitest.json'));
vitest('vitest: parity and gradient checks on the portable kernels (FATHOM_ISA=scalar)',
  ['test/backend/parity.test.ts', 'test/backend/parity-training.test.ts', 'test/backend/parity-tensorops.test.ts', 'test/ops'], { FATHOM_ISA: 'scalar' }, join(root, 'build-test', 'vitest-scalar.json'));

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
