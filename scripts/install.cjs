#!/usr/bin/env node
// npm "install" hook: keep a build/ or prebuilds/<platform>-<arch> binary if
// it really loads (dlopen catches a wrong glibc/libstdc++ or a corrupt file);
// otherwise compile with cmake-js. FATHOM_BUILD_FROM_SOURCE=1 always compiles.
//
// Quiet by design: compiling because no prebuilt binary fits is the normal
// path on such a platform, not an error, so a successful install prints
// nothing. Only a failed build prints, once, as a warning (the install still
// succeeds: the TypeScript backend works without the addon), with the last
// lines of the build output and where the full log is. FATHOM_INSTALL_VERBOSE=1
// (or npm's --foreground-scripts / --loglevel verbose) shows everything.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const env = process.env;
const force = env.npm_config_build_from_source === 'true' || env.FATHOM_BUILD_FROM_SOURCE === '1';
const verbose = env.FATHOM_INSTALL_VERBOSE === '1' || env.npm_config_foreground_scripts === 'true' ||
  ['verbose', 'silly'].includes(env.npm_config_loglevel);
const say = (line) => verbose && process.stdout.write(`fathom: ${line}\n`);

function warn(lines) {
  process.stderr.write(lines.map((l) => `fathom: ${l}\n`).join(''));
  process.exit(0); // a failed native build must not fail the install: the TS backend still works
}

/** null if a binary loads, else why not (one line). */
function whyNoBinary() {
  try {
    require(require('node-gyp-build').resolve(root));
    return null;
  } catch (e) {
    return String(e && e.message).split('\n')[0];
  }
}

if (!force) {
  const why = whyNoBinary();
  if (why === null) process.exit(0);
  say(`no prebuilt binary fits this platform (${why}); compiling it with cmake-js`);
}

let cli;
try {
  cli = require.resolve('cmake-js/bin/cmake-js', { paths: [root] });
} catch {
  warn([
    'warning: cmake-js is not installed next to fathom, so the native addon was not compiled;',
    '  fathom will run on its (slower) TypeScript backend.',
    `  To build it: run \`npm install\` in ${root}, or \`npm rebuild fathom\` in your project.`,
  ]);
}

const r = spawnSync(process.execPath, [cli, 'compile', '--parallel', '2'], {
  cwd: root,
  stdio: verbose ? 'inherit' : 'pipe',
  encoding: 'utf8',
  maxBuffer: 256 * 1024 * 1024,
});
if (r.status === 0) {
  say('compiled the native addon');
  process.exit(0);
}

const output = `${r.stdout || ''}${r.stderr || ''}${r.error ? `\n${r.error.message}\n` : ''}`;
let logNote = '';
if (!verbose) {
  const log = path.join(root, 'build', 'fathom-install.log');
  try {
    fs.mkdirSync(path.dirname(log), { recursive: true });
    fs.writeFileSync(log, output);
    logNote = ` (full log: ${log})`;
  } catch {
    // An unwritable build folder: the tail below is all there is.
  }
}
const tail = verbose ? [] : output.trimEnd().split('\n').slice(-15).map((l) => `  | ${l}`);
warn([
  `warning: the native addon could not be compiled (cmake-js exited with ${r.status ?? r.signal})${logNote};`,
  '  fathom will run on its (slower) TypeScript backend.',
  '  To build it: install CMake (3.15 or later) and a C++17 compiler, then run `npm rebuild fathom`.',
  ...(tail.length ? ['  last lines of the build output:', ...tail] : []),
]);
