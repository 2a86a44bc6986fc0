#!/usr/bin/env node
// npm "install" hook: keep a build/ or prebuilds/<platform>-<arch> binary if
// it really loads (dlopen catches a wrong glibc/libstdc++ or a corrupt file);
// otherwise compile with cmake-js. FATHOM_BUILD_FROM_SOURCE=1 always compiles.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const root = path.resolve(__dirname, '..');
const force = process.env.npm_config_build_from_source === 'true' || process.env.FATHOM_BUILD_FROM_SOURCE === '1';
if (!force) {
  try {
    const file = require('node-gyp-build').resolve(root);
    require(file);
    process.exit(0);
  } catch (e) {
    console.error(`fathom: no usable native binary (${String(e.message).split('\n')[0]}); compiling with cmake-js`);
  }
}
const cli = require.resolve('cmake-js/bin/cmake-js');
const r = spawnSync(process.execPath, [cli, 'compile', '--parallel', '2'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('fathom: the native build failed; fathom will run on its (slower) TypeScript backend.');
  console.error('fathom: install cmake and a C++17 compiler, then run `npm rebuild fathom`.');
}
// A failed native build must not fail the install: the TS backend still works.
process.exit(0);
