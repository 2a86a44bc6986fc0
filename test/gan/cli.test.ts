// fathom train --task gan: the flags, and tiny runs (a few hundred MNIST digits, one epoch,
// the MLP GAN) that write the grid PNG and report the figures; seeded; both backends.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseCommand, TRAIN_HELP } from '../../lib/cli/args.js';
import { GAN_RECIPES, ganTable, histogramEntropy, trainGan, type GanOptions } from '../../lib/cli/gan.js';
import { imageGrid } from '../../lib/image/grid.js';
import { backend, setBackend } from '../../lib/index.js';
import { usageError } from '../helpers/cli.js';

const root = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'fathom-gan-cli-'));
const initial = backend().name;
let log: ReturnType<typeof vi.spyOn>;
const printed: string[] = [];
beforeAll(() => { log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { printed.push(a.join(' ')); }); });
afterAll(() => {
  log.mockRestore();
  setBackend(initial as 'native' | 'ts');
  rmSync(dir, { recursive: true, force: true });
});

function gan(...argv: string[]): GanOptions {
  const c = parseCommand(['train', ...argv]);
  if (c.kind !== 'gan') throw new Error(`expected a gan command, got ${c.kind}`);
  return c.options;
}

const usage = (...argv: string[]): string => usageError(['train', ...argv]).message;

describe('fathom train --task gan: flags', () => {
  it('defaults per model, and each flag overrides its part', () => {
    const r = GAN_RECIPES.mlp;
    expect(gan('--task', 'gan')).toEqual({ model: 'mlp', epochs: r.epochs, batchSize: r.batchSize, lr: r.lr, latent: r.latent, train: r.train, out: 'gan-mlp', seed: 1 });
    expect(gan('--dataset', 'gan', '--model', 'dcgan')).toMatchObject({ model: 'dcgan', epochs: GAN_RECIPES.dcgan.epochs, out: 'gan-dcgan' });
    expect(gan('--task', 'gan', '--model', 'dcgan', '--epochs', '2', '--out', 'x/y', '--seed', '7', '--train', '300', '--test', '200', '--batch-size', '32', '--lr', '1e-3', '--backend', 'ts', '--threads', '1'))
      .toEqual({ model: 'dcgan', epochs: 2, batchSize: 32, lr: 1e-3, latent: GAN_RECIPES.dcgan.latent, train: 300, test: 200, out: 'x/y', seed: 7, backend: 'ts', threads: 1 });
    expect(parseCommand(['train', '--task', 'gan', '--help'])).toEqual({ kind: 'help', text: TRAIN_HELP });
    expect(TRAIN_HELP).toContain('fathom train --task gan [--model mlp|dcgan]');
  });

  it('refuses bad values and flags that do not apply, by name', () => {
    expect(usage('--task', 'gan', '--model', 'cnn')).toBe("--model must be mlp or dcgan, got 'cnn'");
    expect(usage('--task', 'gan', '--model', 'dcgn')).toBe("--model must be mlp or dcgan, got 'dcgn' (did you mean 'dcgan'?)");
    expect(usage('--task', 'gan', '--epochs', '0')).toBe("--epochs must be an integer from 1 to 1000000, got '0'");
    expect(usage('--task', 'gan', '--lr', '-1')).toMatch(/^--lr must be a positive number .*got '-1'$/);
    expect(usage('--task', 'gan', '--batch-size', '1')).toBe("--batch-size must be an integer from 2 to 60000, got '1'");
    expect(usage('--task', 'gan', '--train', '60001')).toBe("--train must be an integer from 1 to 60000, got '60001'");
    expect(usage('--task', 'gan', '--train', '50')).toBe('--train 50 is fewer digits than one batch (--batch-size 64); the GAN trains on whole batches only');
    expect(usage('--task', 'gan', '--out', '')).toBe("--out needs a folder path, got ''");
    expect(usage('--task', 'gan', '--hidden', '10')).toMatch(/^--hidden does not apply to --task gan \(its flags: --model mlp\|dcgan, /);
    expect(usage('--task', 'gan', '--save', 'm.safetensors')).toMatch(/^--save does not apply to --task gan/);
    expect(usage('--out', 'dir')).toBe('--out applies to --task gan only (the folder of its sample grids)');
    expect(usage('--dataset', 'names', '--out', 'dir')).toBe('--out applies to --task gan only (the folder of its sample grids)');
    expect(usage('--task', 'gan', '--dataset', 'mnist')).toMatch(/^--task and --dataset name the same thing/);
    expect(usage('--task', 'gna')).toMatch(/^--task must be one of /);
  });
});

describe('fathom train --task gan: figures', () => {
  it('histogramEntropy: ln 10 for a uniform histogram, 0 for one class, 0 ln 0 = 0', () => {
    expect(histogramEntropy(new Array(10).fill(7))).toBeCloseTo(Math.log(10), 12);
    expect(histogramEntropy([0, 0, 5, 0])).toBe(0);
    expect(histogramEntropy([1, 1, 0, 0])).toBeCloseTo(Math.log(2), 12);
  });

  it('ganTable: one row per epoch and the real digits as the reference line', () => {
    const row = { epoch: 1, dLoss: 1.23456, gLoss: 0.5, dReal: 0.75, dFake: 0.25, confidence: 0.9, entropy: 2.2, seconds: 1, cpuSeconds: 1.96, samplesPerSecond: 1234.4, file: 'f' };
    expect(ganTable([row], { confidence: 0.95, entropy: 2.3, histogram: [] })).toBe(
      '| epoch | D loss | G loss | D(x) | D(G(z)) | confidence | class entropy (nats) | samples/s | CPU s |\n' +
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n' +
      '| 1 | 1.235 | 0.500 | 0.750 | 0.250 | 0.900 | 2.200 | 1234 | 2.0 |\n' +
      '| real test digits | | | | | 0.950 | 2.300 | | |',
    );
  });
});

describe('fathom train --task gan: a tiny run (native backend)', () => {
  const opts = (out: string, seed = 1): GanOptions => gan('--task', 'gan', '--train', '256', '--test', '200', '--epochs', '1', '--out', join(dir, 'native', out), '--seed', String(seed), '--backend', 'native');

  it('writes DIR/epoch-01.png (the 8x8 grid of the fixed noise) and reports the figures; the same seed gives the same samples', async () => {
    printed.length = 0;
    const a = await trainGan(opts('a'));
    const file = join(dir, 'native', 'a', 'epoch-01.png');
    expect(a.epochs.map((e) => e.file)).toEqual([file]);
    const png = PNG.sync.read(readFileSync(file));
    expect([png.width, png.height]).toEqual([8 * 28 + 9 * 2, 8 * 28 + 9 * 2]);
    // The file holds the returned samples' grid.
    const g = imageGrid(a.samples, { cols: 8, gutter: 2 });
    const grey = Uint8Array.from({ length: g.width * g.height }, (_, i) => png.data[4 * i]);
    expect(Buffer.from(grey).equals(Buffer.from(g.data))).toBe(true);
    const e = a.epochs[0];
    for (const v of [e.dLoss, e.gLoss, e.dReal, e.dFake, e.confidence, e.entropy]) expect(Number.isFinite(v)).toBe(true);
    expect(e.dReal).toBeGreaterThan(0);
    expect(e.dReal).toBeLessThan(1);
    expect(e.confidence).toBeGreaterThanOrEqual(0.1);
    expect(e.confidence).toBeLessThanOrEqual(1);
    expect(e.entropy).toBeGreaterThanOrEqual(0);
    expect(e.entropy).toBeLessThanOrEqual(Math.log(10) + 1e-12);
    expect(printed.join('\n')).toContain(ganTable(a.epochs, a.reference));
    const samples = (a.samples.data as Float32Array).slice();
    for (const v of samples) expect(Math.abs(v)).toBeLessThanOrEqual(1); // tanh
    const b = await trainGan(opts('b'));
    expect(b.samples.data as Float32Array).toEqual(samples);
    expect(readFileSync(join(dir, 'native', 'b', 'epoch-01.png')).equals(readFileSync(file))).toBe(true);
    const c = await trainGan(opts('c', 2));
    expect(c.samples.data as Float32Array).not.toEqual(samples);
  });
});

describe('fathom train --task gan: a tiny run (ts backend)', () => {
  it('runs the same on the reference backend (fewer digits scored: the TS kernels are slower)', async () => {
    const o = { ...gan('--task', 'gan', '--train', '128', '--test', '100', '--epochs', '1', '--out', join(dir, 'ts'), '--backend', 'ts'), scored: 100 };
    const r = await trainGan(o);
    expect(backend().name).toBe('ts');
    expect(PNG.sync.read(readFileSync(join(dir, 'ts', 'epoch-01.png'))).width).toBe(242);
    expect(r.epochs).toHaveLength(1);
    expect(Number.isFinite(r.epochs[0].gLoss)).toBe(true);
  });
});

describe('fathom train --task gan: the binary', () => {
  const bin = join(root, 'dist', 'cli', 'main.js');
  const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });

  it('a bad --out fails at once, before loading data or training; a good run exits 0 with the PNG', () => {
    expect(existsSync(bin), 'run `npm run build:ts`').toBe(true);
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'x');
    const bad = run(['train', '--task', 'gan', '--out', join(blocker, 'grids')]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^fathom: --out: .*; nothing was trained\n$/);
    const out = join(dir, 'bin');
    const ok = run(['train', '--task', 'gan', '--train', '128', '--test', '100', '--epochs', '1', '--out', out]);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/\| 1 \| [0-9.]+ \| [0-9.]+ \|/);
    expect(PNG.sync.read(readFileSync(join(out, 'epoch-01.png'))).width).toBe(242);
  });
});
