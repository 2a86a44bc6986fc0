/**
 * Resuming training from a checkpoint is bit-exact: train 2 epochs with fit
 * (fixed seed, shuffle on), save(model, path, { optimizer }), then in a FRESH
 * process loadCheckpoint(path) and fit epochs 2..3 (initialEpoch: 2, the same
 * seed, so the shuffles continue where they were); the weights equal those of
 * 4 uninterrupted epochs, bit for bit. For Adam and SGD with momentum, on each
 * backend. Two controls show the test can fail: without initialEpoch (other
 * shuffles), and with a fresh optimizer (state lost), the weights differ.
 *
 * Each phase runs `node` on a small script against the compiled package
 * (dist/, built by `npm test`), as a user's program would.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeBinding } from '../../lib/backend/index.js';

const root = resolve(import.meta.dirname, '..', '..');
const entry = join(root, 'dist', 'index.js');
const dir = mkdtempSync(join(tmpdir(), 'fathom-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// phase: full | first | resume | resume-no-initial | resume-fresh-optimizer
const script = `
import { writeFileSync } from 'node:fs';
const { nn, optim, tensor, manualSeed, save, loadCheckpoint } = await import(${JSON.stringify(pathToFileURL(entry).href)});
const [phase, kind, ckpt, out] = process.argv.slice(2);
// 120 rows of 4 features, 3 classes, deterministic.
const n = 120, x = new Float32Array(n * 4), y = new Int32Array(n);
for (let i = 0; i < n; i++) {
  for (let j = 0; j < 4; j++) x[i * 4 + j] = Math.sin(1.3 * i + 0.7 * j * j + j);
  y[i] = (x[i * 4] + 0.5 * x[i * 4 + 1] > 0.3 ? 1 : 0) + (x[i * 4 + 2] > 0.5 ? 1 : 0);
}
const X = tensor(x, [n, 4]), Y = tensor(y, [n]);
const opts = { loss: 'crossEntropy', batchSize: 16, seed: 7, verbose: 0 };
const build = () => {
  manualSeed(5);
  const model = new nn.Sequential(new nn.Linear(4, 16), new nn.Tanh(), new nn.Linear(16, 3));
  const optimizer = kind === 'adam'
    ? new optim.Adam(model.parameters(), { lr: 0.01 })
    : new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
  return { model, optimizer };
};
let model;
if (phase === 'full' || phase === 'first') {
  const b = build();
  model = b.model;
  await model.fit(X, Y, { ...opts, optimizer: b.optimizer, epochs: phase === 'full' ? 4 : 2 });
  if (phase === 'first') await save(model, ckpt, { optimizer: b.optimizer });
} else {
  const ck = await loadCheckpoint(ckpt);
  model = ck.model;
  const fresh = () => (kind === 'adam'
    ? new optim.Adam(model.parameters(), { lr: 0.01 })
    : new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }));
  const optimizer = phase === 'resume-fresh-optimizer' ? fresh() : ck.optimizer;
  const more = phase === 'resume-no-initial' ? { epochs: 2 } : { epochs: 4, initialEpoch: 2 };
  await model.fit(X, Y, { ...opts, optimizer, ...more });
}
writeFileSync(out, JSON.stringify(model.parameters().map((p) => Array.from(p.data))));
`;
const scriptPath = join(dir, 'resume.mjs');
writeFileSync(scriptPath, script);

function run(backend: string, phase: string, kind: string, ckpt: string): number[][] {
  const out = join(dir, `${backend}-${kind}-${phase}.json`);
  const r = spawnSync(process.execPath, [scriptPath, phase, kind, ckpt, out], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, FATHOM_BACKEND: backend },
  });
  if (r.status !== 0) throw new Error(`${phase} (${kind}, ${backend}) exited ${r.status}: ${r.stderr}`);
  return JSON.parse(readFileSync(out, 'utf8')) as number[][];
}

const backends = nativeBinding() ? ['ts', 'native'] : ['ts'];

describe('resuming from a checkpoint in a fresh process', () => {
  it('dist/index.js exists (npm test compiles it)', () => {
    expect(existsSync(entry)).toBe(true);
  });

  for (const backend of backends) {
    for (const kind of ['adam', 'sgd']) {
      it(`${kind} on the ${backend} backend: 2 epochs + save + load + 2 epochs equals 4 epochs, bit for bit`, () => {
        const ckpt = join(dir, `${backend}-${kind}.safetensors`);
        const full = run(backend, 'full', kind, ckpt);
        run(backend, 'first', kind, ckpt);
        const resumed = run(backend, 'resume', kind, ckpt);
        expect(resumed).toEqual(full);
        if (kind === 'adam' && backend === backends[backends.length - 1]) {
          // Controls: each missing piece changes the result.
          expect(run(backend, 'resume-no-initial', kind, ckpt)).not.toEqual(full);
          expect(run(backend, 'resume-fresh-optimizer', kind, ckpt)).not.toEqual(full);
        }
      }, 60_000);
    }
  }
});
