#!/usr/bin/env node
// prebuildify 6 can only drive node-gyp: it spawns `<node-gyp> rebuild
// --target=<ver> --devdir=<dir> --arch=<arch> --release|--debug`. Translate
// that to cmake-js (whose --target means a CMake build target).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const args = process.argv.slice(2);
const get = (k) => (args.find((a) => a.startsWith(`--${k}=`)) || '').split('=')[1];
const cmd = args[0] === 'build' ? 'compile' : 'rebuild';
const out = ['--arch', get('arch') || process.arch, '--parallel', process.env.CMAKE_JS_PARALLEL || '2'];
if (args.includes('--debug')) out.push('--debug');
const cli = require.resolve('cmake-js/bin/cmake-js');
const r = spawnSync(process.execPath, [cli, cmd, ...out], { stdio: 'inherit', cwd: path.resolve(__dirname, '..') });
process.exit(r.status ?? 1);
