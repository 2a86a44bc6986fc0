/** A long training run must not grow in memory: the tape is released after every step, and the RSS stays flat. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { losses, manualSeed, nn, optim, rand, tensor } from '../../lib/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function usage(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

it('memory stays flat over many training steps', () => {
  manualSeed(1);
  const model = new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 10));
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = rand([64, 64], { seed: 2 });
  const y = tensor(Int32Array.from({ length: 64 }, (_, i) => i % 10));
  const step = () => {
    const loss = losses.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
  };
  for (let i = 0; i < 200; i++) step(); // warm up: optimizer state, JIT
  const before = usage();
  for (let i = 0; i < 1500; i++) step();
  const after = usage();
  // One step allocates ~0.2 MB of tensors; 1500 leaked steps would be ~300 MB.
  expect(after - before).toBeLessThan(4 * 1024 * 1024);
});

// Resident memory, in child processes (scripts/memcheck.mjs; `npm run test:memory`
// is the long version: 1 M steps per loop, young generation at V8's ceiling).
// Here, a few seconds: small semi-spaces (many GC cycles per second) and the
// RSS sampled right after a full GC, i.e. what stays: a leak, native memory
// that grows, or free memory malloc keeps. The child loads dist/, which
// `npm test` builds before the suites run.
const root = fileURLToPath(new URL('../..', import.meta.url));
const SHORT = ['--scale', '0.03', '--young', 'small', '--after-gc', '--warmup', '0.2'];
function memcheck(...args: string[]): { status: number | null; out: string } {
  if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('memory test: dist/index.js is missing; run `npm run build:ts` first');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'memcheck.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.skipIf(process.platform !== 'linux')('resident memory (RSS) after warm-up', () => {
  it('grows less than 5 % over 30 k training steps (native), 3 k TS-backend steps and 100 k predict calls', () => {
    const r = memcheck('--only', 'train,ts-train', ...SHORT);
    expect(r.status, r.out).toBe(0);
    expect(r.out.match(/^ok /gm)?.length, r.out).toBe(2);
    // predict is cheap (30 k calls take 1 s): with so few, V8's one-off code and old-space pages
    // (a ~3 MB step, 5 % of this small process) could land after the warm-up. 100 k calls, the
    // first 20 k as warm-up, measure the steady state.
    const p = memcheck('--only', 'predict', ...SHORT.map((a) => (a === '0.03' ? '0.1' : a)));
    expect(p.status, p.out).toBe(0);
    expect(p.out).toMatch(/^ok +predict/m);
  });

  it('the same check fails when the loop keeps 256 bytes per step alive', () => {
    const r = memcheck('--only', 'train', ...SHORT, '--leak', '256');
    expect(r.status, r.out).toBe(1);
    expect(r.out).toMatch(/^FAIL train/m);
  });
});
