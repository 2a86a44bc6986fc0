#!/usr/bin/env node
// npm "prepare" hook: compiles the TypeScript in lib/ to dist/ (what package.json's
// main, types and bin point at; dist/ is not in git).
//
//  - In a development checkout (`npm install` or `npm ci` in the repository) the dev
//    dependencies are there: run tsc, nothing more.
//  - `npm install /path/to/a/clone` in another project links the folder (or packs it,
//    with --install-links) and runs this hook IN the folder, but npm does not install
//    the folder's own dependencies. So this hook then bootstraps the folder itself:
//      1. `npm ci --omit=dev --ignore-scripts` in the folder: the runtime dependencies
//         (node-gyp-build, cmake-js, node-addon-api), which a linked package resolves
//         from its own node_modules;
//      2. TypeScript and @types/node (the devDependencies' versions) into a temporary
//         folder, removed afterwards, and tsc with them.
//    npm then runs the install hook (scripts/install.cjs), which compiles the addon.
//    This needs the npm registry (as installing any package does).
//
// Quiet when it works; on failure it says what to run by hand and exits 1.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

function resolveFrom(dir, id) {
  try {
    return require.resolve(id, { paths: [dir] });
  } catch {
    return null;
  }
}

function fail(why) {
  process.stderr.write([
    `fathom: cannot build dist/ in ${root}: ${why}`,
    '  By hand: in that folder run `npm install` (it installs the build tools, compiles dist/ and the addon);',
    '  or run `npm pack` there and install the .tgz it writes.',
    '',
  ].join('\n'));
  process.exit(1);
}

/** typescript's bin/tsc, found through its package.json (its exports hide bin/). */
function tscIn(dir) {
  const pj = resolveFrom(dir, 'typescript/package.json');
  return pj && path.join(path.dirname(pj), 'bin', 'tsc');
}

function tsc(tscJs, extra) {
  const r = spawnSync(process.execPath, [tscJs, '-p', path.join(root, 'tsconfig.json'), ...extra], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) fail(`tsc exited with ${r.status ?? r.signal}`);
}

const localTsc = tscIn(root);
if (localTsc && resolveFrom(root, '@types/node/package.json')) {
  tsc(localTsc, []);
  process.exit(0);
}

// ---- an installed folder without its dependencies: bootstrap (see the top comment)

/** The environment for a nested npm: the outer npm's project settings must not leak in. */
function npmEnv() {
  const keep = new Set(['registry', 'cache', 'userconfig', 'globalconfig', 'proxy', 'https_proxy', 'noproxy',
    'strict_ssl', 'cafile', 'ca', 'offline', 'prefer_offline', 'prefer_online', 'fetch_retries', 'fetch_timeout']);
  const out = {};
  for (const [k, v] of Object.entries(process.env)) {
    const m = /^npm_config_(.*)$/i.exec(k);
    if (m ? keep.has(m[1].toLowerCase()) : !/^(npm_(package|lifecycle)_|INIT_CWD$)/i.test(k)) out[k] = v;
  }
  return out;
}

function npm(args, cwd) {
  const execpath = process.env.npm_execpath;
  const [cmd, pre] = execpath && /\.c?js$/.test(execpath) ? [process.execPath, [execpath]] : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
  const r = spawnSync(cmd, [...pre, ...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd, env: npmEnv(), encoding: 'utf8', shell: cmd.endsWith('.cmd'),
  });
  if (r.status !== 0) fail(`\`npm ${args.join(' ')}\` failed (${r.status ?? r.error?.message}):\n${(r.stderr || '').trim()}`);
}

process.stdout.write(`fathom: building from a source folder (${root}): installing its dependencies and compiling dist/\n`);
if (!resolveFrom(root, 'node-gyp-build')) {
  const lock = fs.existsSync(path.join(root, 'package-lock.json'));
  npm(lock ? ['ci', '--omit=dev', '--ignore-scripts'] : ['install', '--omit=dev', '--ignore-scripts', '--no-save', '--no-package-lock'], root);
}
const tools = fs.mkdtempSync(path.join(os.tmpdir(), 'fathom-build-tools-'));
process.on('exit', () => fs.rmSync(tools, { recursive: true, force: true })); // also after fail()
{
  fs.writeFileSync(path.join(tools, 'package.json'), '{"private":true}\n');
  const dev = pkg.devDependencies || {};
  npm(['install', '--ignore-scripts', '--no-package-lock', `typescript@${dev.typescript || 'latest'}`, `@types/node@${dev['@types/node'] || 'latest'}`], tools);
  const toolTsc = tscIn(tools) || fail(`typescript did not install into ${tools}`);
  tsc(toolTsc, ['--typeRoots', path.join(tools, 'node_modules', '@types')]);
}
